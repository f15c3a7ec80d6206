"""The audit of the Node1 test VM (the session's `node1_vm`) through pyinfra's verify_host, kernel parts included."""

import json

import pytest

from tests.audit.conftest import REPO
from tests.audit.test_live_audit import audit

pytestmark = pytest.mark.integration


def test_vm_checks_carry_expected_actual_and_controls(node1_vm, out_dir, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"node1": [list(node1_vm.inventory_entry("node1-vm"))]}))
    code, report, stderr = audit(out_dir / "vm", "--no-containers", "--inventory", str(REPO / "hosts" / "inventory_json.py"),
                                 env={"HARDEN_INVENTORY_JSON": str(inventory)})
    checks = {e["check"]: e for e in report["evidence"] if e["subject"] == "host/node1-vm"}
    assert "sshd permitrootlogin" in checks, list(checks)[:5]
    root_login = checks["sshd permitrootlogin"]
    assert root_login["expected"] == "no" and "A.8.2" in root_login["controls"]
    assert {e["status"] for e in checks.values()} <= {"pass", "fail", "not-applicable", "risk-accepted"}
    # SSH on the VM's NIC, outside Tailscale: the exception its inventory declares is listed with owner and expiry,
    # and covers the check once the deploy loaded the table (before it, nothing restricts SSH: a fail)
    ssh = checks["firewall ssh interfaces"]
    [listed] = [w for w in report["summary"]["waivers"] if w["source"] == "host"]
    assert listed["match"] == ssh["key"] and listed["owner"] == "toolkit test suite" and not listed["expired"]
    assert (ssh["status"], listed["applied_to"]) in (("risk-accepted", [ssh["key"]]), ("fail", [])), (ssh, listed)
    luks = [e for check, e in checks.items() if check.startswith("encryption of")]
    assert luks and all("A.8.24" in e["controls"] for e in luks)  # the LUKS verification reaches the report
    assert any(check.startswith("sysctl ") for check in checks) and any(c.startswith("audit rule") for c in checks)
    # Debian's security suite among the apt sources (Lynis PKGS-7388) and the deploy's completion record
    assert checks["apt security suite"]["expected"] == "bookworm-security" and "A.8.8" in checks["apt security suite"]["controls"]
    assert "A.8.9" in checks["deploy completed"]["controls"]
    soa = {row["control"]: row for row in report["controls"]}
    assert soa["A.8.24"]["implementation"] == "observed"
    assert code in (0, 1, 3) and "host node1-vm" in stderr
    assert str(node1_vm.key_path) not in (out_dir / "vm" / "report.json").read_text()  # host data stays out
