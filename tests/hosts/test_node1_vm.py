"""Node1 hardening proven on a real Debian 12 VM (qemu), over real SSH, with the pyinfra CLI.

One VM boot for the session. The VM starts as a bare Debian install: the packages that change the node's
environment mid-run (libpam-tmpdir, libpam-pwquality, needrestart) and Debian's security suite are missing, so
the first deploy installs them from Debian's mirror through qemu's NAT. Every run uses an inventory file
written outside hosts/ (tests/hosts/pyinfra_run.py). Runs: a weak inventory (refused), the first apply (with
the same VM under a changed host key, refused in that run), an idempotent re-run, a run stopped half-way and
its completing re-run, a dry run after tampering and its repair, and an unencrypted data disk (refused).
Lynis runs once; several tests read its report. Tests run in file order and build on each other's state.
"""

import json
import re
import subprocess
import sys
import time

import pytest

from baseline import AUDITD, DEPLOY, FIREWALL, LUKS, SSH
from hosts import desired
from hosts.operations.harden import nftables_expected, nftables_summary
from hosts.verify import verify_host
from hosts.vm.boot import free_loopback_port
from tests.hosts.pyinfra_run import run_pyinfra

pytestmark = pytest.mark.integration

LYNIS_TARGET = 87  # DESIGN.md: dev-sec reaches 77 on the same VM
SURVIVOR_TABLE = "ip docker_like"  # stands for Docker's own tables, which our firewall must leave alone
FETCHED_BY_DEPLOY = ("libpam-tmpdir", "libpam-pwquality", "needrestart")  # hosts/vm/build-image.sh leaves them out
# Time budgets (seconds): about 2.5x the step times measured under software emulation on a 2-core machine at load
# average 14-18 (another session's Go build and debootstrap beside it; benchmarks/hosts.md): first apply 917 s,
# refused run 10 s, so a busy machine is not a failure and a hang still is.
BUDGET = {"refused": 120, "first_apply": 2400, "re_run": 1200, "lynis": 2700}


def _known_hosts_with_other_key(node1_vm, directory):
    """A known_hosts file that pins a different Ed25519 key for the VM's address: the VM's key has 'changed'."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "other")], check=True)
    other_key = (directory / "other.pub").read_text().split()[:2]
    path = directory / "changed_known_hosts"
    path.write_text(f"[{node1_vm.host}]:{node1_vm.port} {' '.join(other_key)}\n")
    return path


def _installed(node1_vm, packages) -> set:
    listing = node1_vm.ssh(f"dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {' '.join(packages)}",
                           check=False).stdout
    return {line.split()[0] for line in listing.splitlines() if line.endswith(" installed")}


def test_inventory_without_the_connection_policy_is_refused_before_anything(node1_vm, tmp_path):
    """An inventory as an operator might write it, modelled on the old hosts/inventory.py: port, key, known_hosts,
    interfaces, but no strict host-key policy. pyinfra connects (the key is the known one), then the deploy
    refuses the host before reading or changing anything, naming the controls at stake."""
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(node1_vm.known_hosts_path.read_text())
    weak = {"ssh_hostname": node1_vm.host, "ssh_port": node1_vm.port, "ssh_user": node1_vm.user,
            "ssh_key": str(node1_vm.key_path), "ssh_known_hosts_file": str(known_hosts), "_sudo": True,
            "harden_scope": "node", "firewall_ssh_interfaces": [node1_vm.interface],
            "luks_data_paths": node1_vm.data_paths}
    before = node1_vm.ssh("sudo sshd -T").stdout
    run = run_pyinfra({"operators_own": [("node1-weak", weak)]}, tmp_path, timeout=BUDGET["refused"])
    assert run.returncode != 0
    refusal = re.search(r"node1-weak: refused, nothing read or changed: .*", run.log)
    assert refusal, run.log[-3000:]
    assert "ssh_strict_host_key_checking is 'accept-new', not 'yes'" in refusal.group(0)
    assert "A.8.20" in refusal.group(0) and "A.8.5" in refusal.group(0)
    assert node1_vm.ssh("sudo sshd -T").stdout == before
    assert not _installed(node1_vm, FETCHED_BY_DEPLOY), "the bare image must lack them; nothing may be installed"


@pytest.fixture(scope="module")
def first_apply(node1_vm, tmp_path_factory):
    """The deploy's first run on the bare VM, from an inventory outside hosts/, with the same VM listed a second
    time under a changed host key."""
    work = tmp_path_factory.mktemp("first-apply")
    node1_vm.ssh(f"sudo nft add table {SURVIVOR_TABLE}")
    before = {"sshd": node1_vm.ssh("sudo sshd -T").stdout, "installed": _installed(node1_vm, FETCHED_BY_DEPLOY),
              "marker": node1_vm.ssh(f"cat {DEPLOY.completion_marker}", check=False).returncode}
    run = run_pyinfra({"node1_vms": [
        node1_vm.inventory_entry(),
        node1_vm.inventory_entry("changed-host-key", ssh_known_hosts_file=str(_known_hosts_with_other_key(node1_vm, work))),
    ]}, work, timeout=BUDGET["first_apply"])
    return {"run": run, "before": before}


def test_changed_host_key_is_refused_in_the_same_run(first_apply):
    run = first_apply["run"]
    assert "changed-host-key" in run.failed_hosts(), run.payload
    assert re.search(r"changed-host-key.*(host key|Host key)", run.log), run.log[-3000:]
    assert not [op for op in run.payload["results"]["operations"] if "changed-host-key" in op["success"]]


def test_first_apply_installs_what_changes_the_environment_and_completes(first_apply, node1_vm, lynis_started):
    run = first_apply["run"]
    print(f"first apply (bare packages from the mirror): {run.seconds:.0f} s")
    assert run.succeeded("node1-vm"), f"deploy failed:\n{run.log[-4000:]}"
    assert first_apply["before"]["installed"] == set() and first_apply["before"]["marker"] != 0
    assert _installed(node1_vm, FETCHED_BY_DEPLOY) == set(FETCHED_BY_DEPLOY)
    # libpam-tmpdir is live for root's sudo sessions, and the uploads after it (banners, sshd_config) worked
    assert node1_vm.ssh("sudo sh -c 'echo $TMPDIR'").stdout.strip() == "/tmp/user/0"
    changed = run.changed("node1-vm")
    for operation in ("apt sources include the security suite", "baseline packages present", "login banner",
                      "sshd_config validated by sshd -t, then reloaded", "pam_faillock enabled", "audit rules loaded",
                      "sysctl values", "deploy completed: baseline recorded"):
        assert operation in changed, (operation, changed)
    assert node1_vm.ssh(f"cat {DEPLOY.completion_marker}").stdout == desired.completion_text()


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
    assert first_apply["before"]["sshd"] != node1_vm.ssh("sudo sshd -T").stdout
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
    run = run_pyinfra({"node1_vms": [
        node1_vm.inventory_entry("node1-vm"),
        node1_vm.inventory_entry("unreachable", ssh_port=free_loopback_port()),
        node1_vm.inventory_entry("wrong-host-key", ssh_known_hosts_file=str(_known_hosts_with_other_key(node1_vm, tmp_path))),
    ]}, tmp_path, timeout=BUDGET["re_run"])
    print(f"idempotent re-run: {run.seconds:.0f} s")
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


# Lynis tests whose run time under software emulation buys nothing here (measured per test from lynis.log, see
# benchmarks/hosts.md), each with why. The hardening index counts only the tests performed.
LYNIS_SKIPPED: dict = {}
LYNIS_PROFILE = (
    # PKGS-7392 still runs, against the package lists the first deploy refreshed minutes earlier; Lynis' own
    # apt-get update would fetch them again through qemu's NAT (minutes under software emulation)
    "refresh-repositories=no",
    *(f"skip-test={test}" for test in sorted(LYNIS_SKIPPED)),
)


def lynis_test_seconds(log: str) -> dict:
    """Seconds per Lynis test id, from the timestamps lynis.log writes at each "Performing test ID"."""
    starts = [(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")), test) for stamp, test in
              re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) Performing test ID (\S+)", log, re.M)]
    ends = [stamp for stamp, _ in starts[1:]]
    last = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) ", log, re.M)
    if last:
        ends.append(time.mktime(time.strptime(last[-1], "%Y-%m-%d %H:%M:%S")))
    seconds: dict = {}
    for (start, test), end in zip(starts, ends):
        seconds[test] = seconds.get(test, 0) + end - start
    return seconds


@pytest.fixture(scope="module")
def lynis_started(first_apply, node1_vm):
    """Lynis (Debian's package) started once for the suite, in the background inside the VM, right after the
    first apply: the read-only tests that follow run while it works; lynis_report waits for it."""
    profile = "".join(f"{line}\\n" for line in LYNIS_PROFILE)  # printf's format expands \n
    node1_vm.ssh(f"printf '{profile}' | sudo tee /etc/lynis/custom.prf >/dev/null")
    node1_vm.ssh("sudo systemd-run --unit=suite-lynis --collect --quiet sh -c 'date +%s > /run/lynis.start; "
                 "lynis audit system --quick --no-colors >/dev/null 2>&1; date +%s > /run/lynis.end'")
    return time.monotonic()


@pytest.fixture(scope="module")
def lynis_report(lynis_started, node1_vm):
    """The one Lynis run's report and log, and how long it took inside the VM."""
    while node1_vm.ssh("test -e /run/lynis.end", check=False).returncode != 0:
        assert time.monotonic() - lynis_started < BUDGET["lynis"], f"Lynis exceeded its {BUDGET['lynis']} s budget"
        time.sleep(10)
    started, ended = (int(node1_vm.ssh(f"cat /run/lynis.{mark}").stdout) for mark in ("start", "end"))
    log = node1_vm.ssh("sudo cat /var/log/lynis.log").stdout
    slowest = sorted(lynis_test_seconds(log).items(), key=lambda item: -item[1])[:15]
    print(f"Lynis: {ended - started} s; slowest tests: {', '.join(f'{test} {spent:.0f} s' for test, spent in slowest)}")
    return {"report": node1_vm.ssh("sudo cat /var/log/lynis-report.dat").stdout, "log": log,
            "seconds": ended - started}


def test_lynis_hardening_index(lynis_report, record_property):
    report = lynis_report["report"]
    index = int(re.search(r"^hardening_index=(\d+)$", report, re.M).group(1))
    suggestions = re.findall(r"^suggestion\[\]=([^|]+)", report, re.M)
    record_property("lynis_hardening_index", index)
    record_property("lynis_seconds", round(lynis_report["seconds"]))
    print(f"Lynis hardening index {index}; open suggestions: {', '.join(suggestions)}")
    assert index >= LYNIS_TARGET, f"Lynis hardening index {index} < {LYNIS_TARGET}; suggestions: {suggestions}"


def test_lynis_finds_the_security_repository(lynis_report):
    """PKGS-7388: the image's apt sources lack Debian's security suite; the deploy added it."""
    report = lynis_report["report"]
    assert re.search(r"^tests_executed=.*PKGS-7388", report, re.M), "Lynis did not run PKGS-7388"
    assert not re.search(r"^(warning|suggestion)\[\]=PKGS-7388", report, re.M), report


def test_run_stopped_half_way_is_reported_and_a_re_run_completes_it(first_apply, node1_vm, tmp_path):
    """An early operation (the console banner) fails on an immutable, altered /etc/issue; a later setting
    (kernel.kptr_restrict) drifted too. The run says it stopped half-way and leaves the later drift; once
    the cause is gone, a re-run applies the rest."""
    node1_vm.ssh("echo altered | sudo tee /etc/issue >/dev/null && sudo chattr +i /etc/issue")
    node1_vm.ssh("sudo sysctl -q -w kernel.kptr_restrict=0")
    inventory = {"node1_vms": [node1_vm.inventory_entry()]}
    try:
        stopped = run_pyinfra(inventory, tmp_path, timeout=BUDGET["re_run"])
    finally:
        node1_vm.ssh("sudo chattr -i /etc/issue")
    assert stopped.returncode != 0 and not stopped.succeeded("node1-vm")
    report = re.search(r"HALF-APPLIED: the deploy stopped at operation (\d+) of (\d+), \"([^\"]*)\"", stopped.log)
    assert report, stopped.log[-3000:]
    assert "console banner" in report.group(3) and int(report.group(1)) < int(report.group(2))
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "0", "nothing after the stop runs"
    checks = {check["check"]: check for check in verify_host("node1-vm", inventory["node1_vms"][0][1])}
    assert checks["sysctl kernel.kptr_restrict"]["status"] == "fail"
    completed = run_pyinfra(inventory, tmp_path, timeout=BUDGET["re_run"])
    assert completed.succeeded("node1-vm"), completed.log[-3000:]
    assert {"console banner", "sysctl values"} <= set(completed.changed("node1-vm"))
    assert node1_vm.ssh("cat /etc/issue").stdout == desired.BANNER_TEXT
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"


def test_dry_run_after_tampering_lists_exactly_the_drift(first_apply, node1_vm, tmp_path):
    node1_vm.ssh("sudo sysctl -q -w kernel.kptr_restrict=0")
    node1_vm.ssh("echo 'X11Forwarding yes' | sudo tee -a /etc/ssh/sshd_config >/dev/null")
    node1_vm.ssh("sudo auditctl -W /etc/shadow -p wa -k identity")
    inventory = {"node1_vms": [node1_vm.inventory_entry()]}
    dry = run_pyinfra(inventory, tmp_path, "--dry", timeout=BUDGET["re_run"])
    assert dry.returncode == 0, dry.log[-3000:]
    assert sorted(dry.changed("node1-vm")) == sorted(
        ["sysctl values", "sshd_config validated by sshd -t, then reloaded", "audit rules loaded"])
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "0", "a dry run must change nothing"
    repair = run_pyinfra(inventory, tmp_path, timeout=BUDGET["re_run"])
    assert repair.succeeded("node1-vm"), repair.log[-3000:]
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"


def test_unencrypted_data_disk_fails_naming_the_control(first_apply, node1_vm_plain_data, tmp_path):
    run = run_pyinfra({"node1_vms": [node1_vm_plain_data.inventory_entry("node1-plain-data")]}, tmp_path,
                      timeout=BUDGET["refused"])
    assert run.returncode != 0
    error = re.search(r"Operation error in .*: (data at rest not encrypted: .*)", run.log)
    assert error, run.log[-3000:]
    assert "/srv/plain/postgres on /dev/vdc) is not on dm-crypt" in error.group(1)
    assert "A.8.24" in error.group(1) and "A.7.10" in error.group(1)
    assert "[node1-plain-data] Success" not in run.log, "the encryption check runs first: nothing may change"
