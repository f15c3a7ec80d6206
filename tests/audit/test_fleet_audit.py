"""The audit of real sshd hosts (hosts/fleet: sshd containers on our base image) through pyinfra's verify_host."""

import json

import pytest

from hosts.fleet.containers import start_fleet
from tests.audit.conftest import REPO
from tests.audit.test_live_audit import audit

pytestmark = pytest.mark.integration
INVENTORY = str(REPO / "hosts" / "inventory_json.py")


@pytest.fixture(scope="module")
def fleet(docker_client, built_images, tmp_path_factory):
    work = tmp_path_factory.mktemp("audit-fleet")
    running = start_fleet(docker_client, built_images["base"], 2, work)
    try:
        yield running, work
    finally:
        running.remove()


def _inventory_env(work, members) -> dict:
    path = work / "inventory.json"
    path.write_text(json.dumps({"fleet": [list(member) for member in members]}))
    return {"HARDEN_INVENTORY_JSON": str(path)}


def test_host_checks_come_from_pyinfra_with_controls(fleet, out_dir):
    running, work = fleet
    code, report, stderr = audit(out_dir / "fleet", "--no-containers", "--inventory", INVENTORY,
                                 env=_inventory_env(work, running.members))
    for name, data in running.members:
        checks = {e["check"]: e for e in report["evidence"] if e["subject"] == f"host/{name}"}
        root_login = checks["sshd permitrootlogin"]
        assert root_login["expected"] == "no" and "A.8.2" in root_login["controls"]
        assert checks["kernel, auditd, nftables, LUKS"]["status"] == "not-applicable"
        assert {e["status"] for e in checks.values()} <= {"pass", "fail", "not-applicable"}
        assert f"host {name}" in stderr
    assert code in (0, 1)
    report_text = (out_dir / "fleet" / "report.json").read_text()
    assert running.members[0][1]["ssh_key"] not in report_text  # host data stays with the verifier


def test_a_stopped_host_is_unknown_and_the_audit_never_exits_0(fleet, out_dir):
    running, work = fleet
    stopped_name = running.members[1][0]
    running.containers[1].stop(timeout=2)
    try:
        code, report, _ = audit(out_dir / "fleet-stopped", "--no-containers", "--timeout", "3", "--inventory", INVENTORY,
                                env=_inventory_env(work, running.members))
    finally:
        running.containers[1].start()
    stopped = [e for e in report["evidence"] if e["subject"] == f"host/{stopped_name}"]
    assert [e["status"] for e in stopped] == ["unknown"], stopped
    assert f"host:host/{stopped_name}:reachable" in report["summary"]["unknown"]
    assert any(e["status"] != "unknown" for e in report["evidence"] if e["subject"] == f"host/{running.members[0][0]}")
    assert code in (1, 2)
