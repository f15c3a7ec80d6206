"""A fleet of light hosts (sshd containers on the project's base image) hardened in parallel in one pyinfra run.

They have no kernel, systemd or disks of their own: their host data says harden_scope=container and
the run must say so for each of those parts ("not applicable"), never skip them silently.
"""

import pytest

from baseline import SSH
from hosts.fleet.containers import start_fleet
from hosts.verify import verify_host
from tests.hosts.pyinfra_run import run_pyinfra

pytestmark = pytest.mark.integration

FLEET_SIZE = 3


@pytest.fixture(scope="module")
def fleet(docker_client, built_images, tmp_path_factory):
    work = tmp_path_factory.mktemp("fleet")
    running = start_fleet(docker_client, built_images["base"], FLEET_SIZE, work)
    try:
        yield running.members, work
    finally:
        running.remove()


def test_fleet_hardened_in_parallel_with_not_applicable_parts_reported(fleet):
    members, work = fleet
    run = run_pyinfra({"fleet": members}, work, "--parallel", str(FLEET_SIZE))
    assert run.returncode == 0, run.log[-4000:]
    for name, data in members:
        assert run.succeeded(name), run.log[-3000:]
        assert "sshd_config validated by sshd -t, then reloaded" in run.changed(name)
        for part in ("auditd", "nftables", "LUKS data and swap", "sysctl, modules and mounts", "backup timers"):
            assert f"{name}] noop: {part}: not applicable (harden_scope=container" in run.log, part
        checks = {check["check"]: check for check in verify_host(name, data)}
        assert checks["sshd ciphers"]["actual"] == ",".join(SSH.ciphers)
        assert checks["sshd permitrootlogin"]["status"] == "pass"
        assert checks["kernel, auditd, nftables, LUKS"]["status"] == "not applicable"
