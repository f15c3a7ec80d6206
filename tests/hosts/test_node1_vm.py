"""Node1 hardening proven on a real Debian 12 VM (qemu), over real SSH, with the pyinfra CLI.

One VM boot for the session; three full deploys: first apply, idempotent re-run (together with an
unreachable host and a host with a wrong host key), dry run after tampering (then one repair run).
Tests run in file order and build on each other's state.
"""

import json
import re
import subprocess
import sys

import pytest

from baseline import AUDITD, FIREWALL, LUKS, SSH
from hosts import desired
from hosts.operations.harden import nftables_expected, nftables_summary
from hosts.verify import verify_host
from hosts.vm.boot import free_loopback_port
from tests.hosts.pyinfra_run import run_pyinfra

pytestmark = pytest.mark.integration

LYNIS_TARGET = 87  # DESIGN.md: dev-sec reaches 77 on the same VM
SURVIVOR_TABLE = "ip docker_like"  # stands for Docker's own tables, which our firewall must leave alone


@pytest.fixture(scope="module")
def first_apply(node1_vm, tmp_path_factory):
    """The deploy's first run on the fresh VM (after planting a foreign nftables table)."""
    node1_vm.ssh(f"sudo nft add table {SURVIVOR_TABLE}")
    before = node1_vm.ssh("sudo sshd -T").stdout
    run = run_pyinfra({"node1_vms": [node1_vm.inventory_entry()]}, tmp_path_factory.mktemp("first-apply"))
    return {"run": run, "sshd_before": before}


def test_first_apply_succeeds_and_changes_the_node(first_apply):
    run = first_apply["run"]
    assert run.returncode == 0, f"deploy failed:\n{run.log[-4000:]}"
    assert run.succeeded("node1-vm"), f"errors in {run.payload.get('results')}"
    changed = run.changed("node1-vm")
    assert "sshd_config validated by sshd -t, then reloaded" in changed, changed
    assert "audit rules loaded" in changed and "sysctl values" in changed, changed


def test_encryption_check_passed_on_luks_data_disk(first_apply, node1_vm):
    checks = [check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])
              if check["check"].startswith("encryption of")]
    assert {check["check"].split()[2] for check in checks} == set(LUKS.data_paths)
    for check in checks:
        assert check["status"] == "pass", check
        assert check["actual"]["type"] == "LUKS2" and check["actual"]["cipher"] in LUKS.allowed_ciphers
        assert check["actual"]["key_bits"] >= LUKS.min_key_bits


@pytest.mark.parametrize("weak_option", ["Ciphers=aes128-cbc", "KexAlgorithms=diffie-hellman-group14-sha1",
                                         "HostKeyAlgorithms=ecdsa-sha2-nistp256"])
def test_client_offering_only_weak_algorithms_is_refused(first_apply, node1_vm, weak_option):
    result = subprocess.run(node1_vm.ssh_command("true", "-o", weak_option), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert re.search(r"no matching|Unable to negotiate", result.stderr), result.stderr


def test_server_proposes_only_etm_macs(first_apply, node1_vm):
    """With AEAD-only ciphers no MAC is ever negotiated, so a hmac-sha1 client still connects (the cipher
    carries integrity); what the server proposes is what matters: read it from its KEXINIT."""
    result = subprocess.run(node1_vm.ssh_command("true", "-vv", "-o", "MACs=hmac-sha1"), capture_output=True,
                            text=True, timeout=120)
    proposal = result.stderr.split("peer server KEXINIT proposal", 1)[1]
    server_macs = re.search(r"MACs ctos: (\S+)", proposal).group(1).split(",")
    assert server_macs == list(SSH.macs)
    assert "hmac-sha1" not in server_macs


def test_pyinfra_still_connects_and_effective_state_matches_baseline(first_apply, node1_vm):
    """verify_host connects through pyinfra's paramiko transport and reads sshd -T, sysctl, auditctl, nft, LUKS."""
    checks = verify_host("node1-vm", node1_vm.inventory_entry()[1])
    failed = [check for check in checks if check["status"] == "fail"]
    assert not failed, json.dumps(failed, indent=1)
    names = {check["check"] for check in checks}
    assert {"sshd permitrootlogin", "sshd kexalgorithms", "sysctl kernel.kptr_restrict",
            f"nftables table inet {FIREWALL.table}"} <= names
    assert sum(check["check"].startswith("audit rule") for check in checks) == len(AUDITD.rules)


def test_sshd_effective_config_from_the_outside(first_apply, node1_vm):
    effective = dict(line.split(" ", 1) for line in node1_vm.ssh("sudo sshd -T").stdout.splitlines())
    offered = node1_vm.ssh("ssh -Q kex").stdout.split()
    assert effective["kexalgorithms"] == ",".join(desired.kex_algorithms(offered))
    # OpenSSH 9.2 offers sntrup761 (post-quantum hybrid) but not mlkem768, so mlkem is left out
    assert effective["kexalgorithms"].startswith("sntrup761x25519-sha512")
    assert "mlkem768x25519-sha256" not in effective["kexalgorithms"]
    assert effective["permitrootlogin"] == SSH.permit_root_login
    assert effective["ciphers"] == ",".join(SSH.ciphers)
    assert first_apply["sshd_before"] != node1_vm.ssh("sudo sshd -T").stdout
    host_keys = node1_vm.ssh("ls /etc/ssh/").stdout.split()
    assert "ssh_host_ed25519_key" in host_keys and "ssh_host_rsa_key" not in host_keys
    assert "ssh_host_ecdsa_key" not in host_keys


def test_nftables_own_table_as_set_and_foreign_table_kept(first_apply, node1_vm):
    table = json.loads(node1_vm.ssh(f"sudo nft -j list table inet {FIREWALL.table}").stdout)["nftables"]
    assert nftables_summary(table) == nftables_expected((node1_vm.interface,), {}, FIREWALL.icmp_allowed,
                                                        FIREWALL.input_policy)
    assert SURVIVOR_TABLE.split()[1] in node1_vm.ssh("sudo nft list tables").stdout


def test_sysctl_and_auditctl_from_the_outside(first_apply, node1_vm):
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"
    loaded = node1_vm.ssh("sudo auditctl -l").stdout
    assert "-w /etc/shadow -p wa -k identity" in loaded
    assert "-S adjtimex,settimeofday,clock_settime -F key=time-change" in loaded


def test_second_run_changes_nothing_while_bad_hosts_fail_alone(first_apply, node1_vm, tmp_path):
    wrong_known_hosts = tmp_path / "wrong_known_hosts"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other_key = (tmp_path / "other.pub").read_text().split()[:2]
    wrong_known_hosts.write_text(f"[{node1_vm.host}]:{node1_vm.port} {' '.join(other_key)}\n")
    run = run_pyinfra({"node1_vms": [
        node1_vm.inventory_entry("node1-vm"),
        node1_vm.inventory_entry("unreachable", ssh_port=free_loopback_port()),
        node1_vm.inventory_entry("wrong-host-key", ssh_known_hosts_file=str(wrong_known_hosts)),
    ]}, tmp_path)
    assert run.succeeded("node1-vm"), run.log[-4000:]
    assert run.changed("node1-vm") == []
    assert run.returncode != 0
    assert set(run.failed_hosts()) >= {"unreachable", "wrong-host-key"}, run.payload
    assert re.search(r"unreachable.*(Connection refused|Could not connect)", run.log), run.log[-3000:]
    assert re.search(r"wrong-host-key.*(host key|Host key)", run.log), run.log[-3000:]


def test_ssh_audit_reports_no_failure(first_apply, node1_vm):
    """ssh-audit (PyPI) from outside: no fail; warnings only for the classical KEX kept for paramiko."""
    result = subprocess.run([sys.executable, "-m", "ssh_audit", "-j", "-p", str(node1_vm.port), node1_vm.host],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    fails = report["recommendations"].get("critical", {}) if "recommendations" in report else {}
    warnings = report["recommendations"].get("warning", {}) if "recommendations" in report else {}
    print(f"ssh-audit recommendations: {json.dumps(report.get('recommendations'), indent=1)}")
    assert not fails, fails
    flagged = {entry["name"] for kind in warnings.values() for entries in kind.values() for entry in entries} \
        if warnings else set()
    assert flagged <= set(SSH.kex_classical), flagged


def test_lynis_hardening_index(first_apply, node1_vm, record_property):
    """Lynis (Debian package, run inside the VM): the hardening index the baseline reaches."""
    node1_vm.ssh("sudo lynis audit system --quick --no-colors >/dev/null 2>&1 || true", timeout=1500)
    report = node1_vm.ssh("sudo cat /var/log/lynis-report.dat").stdout
    index = int(re.search(r"^hardening_index=(\d+)$", report, re.M).group(1))
    suggestions = re.findall(r"^suggestion\[\]=([^|]+)", report, re.M)
    record_property("lynis_hardening_index", index)
    print(f"Lynis hardening index {index}; open suggestions: {', '.join(suggestions)}")
    assert index >= LYNIS_TARGET, f"Lynis hardening index {index} < {LYNIS_TARGET}; suggestions: {suggestions}"


def test_dry_run_after_tampering_lists_exactly_the_drift(first_apply, node1_vm, tmp_path):
    node1_vm.ssh("sudo sysctl -q -w kernel.kptr_restrict=0")
    node1_vm.ssh("echo 'X11Forwarding yes' | sudo tee -a /etc/ssh/sshd_config >/dev/null")
    node1_vm.ssh("sudo auditctl -W /etc/shadow -p wa -k identity")
    inventory = {"node1_vms": [node1_vm.inventory_entry()]}
    dry = run_pyinfra(inventory, tmp_path, "--dry")
    assert dry.returncode == 0, dry.log[-3000:]
    assert sorted(dry.changed("node1-vm")) == sorted(
        ["sysctl values", "sshd_config validated by sshd -t, then reloaded", "audit rules loaded"])
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "0", "a dry run must change nothing"
    repair = run_pyinfra(inventory, tmp_path)
    assert repair.succeeded("node1-vm"), repair.log[-3000:]
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"


def test_unencrypted_data_disk_fails_naming_the_control(first_apply, node1_vm_plain_data, tmp_path):
    run = run_pyinfra({"node1_vms": [node1_vm_plain_data.inventory_entry("node1-plain-data")]}, tmp_path)
    assert run.returncode != 0
    error = re.search(r"Operation error in .*: (data at rest not encrypted: .*)", run.log)
    assert error, run.log[-3000:]
    assert "/srv/plain/postgres on /dev/vdc) is not on dm-crypt" in error.group(1)
    assert "A.8.24" in error.group(1) and "A.7.10" in error.group(1)
    assert "[node1-plain-data] Success" not in run.log, "the encryption check runs first: nothing may change"
