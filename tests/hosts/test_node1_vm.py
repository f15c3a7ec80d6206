"""Node1 hardening proven on a real Debian 12 VM (qemu), over real SSH, with the pyinfra CLI.

One VM boot for the session. The VM boots as a UEFI node: OVMF firmware, GRUB from its EFI system partition, the
node's own grub.cfg, Debian's generic kernel, a USB bus with a keyboard and a storage stick (hosts/vm/boot.py). It starts as a bare Debian install: the packages that change the node's
environment mid-run (libpam-tmpdir, libpam-pwquality, needrestart) and Debian's security suite are missing, so
the first deploy installs them from Debian's mirror through qemu's NAT. Every run uses an inventory file
written outside hosts/ (tests/hosts/pyinfra_run.py). Runs: a weak inventory (refused), the first apply (with
the same VM under a changed host key, refused in that run) and the node's own reboot right after it (firmware,
GRUB and the grub.cfg the deploy regenerated; every later test runs on the rebooted node), an idempotent re-run, a run stopped half-way and
its completing re-run, a dry run after tampering (a firewall verdict turned from drop to accept among it) and
its repair, and an unencrypted data disk (refused). Operators: AllowGroups refuses a user outside the groups, a certificate from the
configured user CA logs in, sudo logs to its file and a sudoers file visudo rejects never lands. Forwarding: a
published port, built as Docker builds one, answers from the declared interface only. Logs: a line logged on the node
arrives at the log collector on the control node (tests/fixtures/vm.py: log_collector) over mutual TLS, a client
without the nodes' CA's certificate is refused, and the audit reads the collector's retention. Backups: the first
apply schedules them for a config of files only (no Docker on the VM) and installs the toolkit the timers run; the
run, check and forget services, triggered, fill the local repository on the LUKS volume and the append-only off-site
server on the control node (tests/fixtures/vm.py: backup_offsite), the check fails on a corrupted pack, root on the
node cannot forget the off-site snapshots, the operator restores them on the control node with the operator's key,
and the run and drill timers, made to elapse now, start their services (the drill of the files matches).
Lynis runs once; several tests read its report. Tests run in file order and build on each other's state.
"""

import http.client
import json
import os
import re
import secrets
import shlex
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from baseline import AUDITD, DEPLOY, FILESYSTEM, FIREWALL, JOURNALD, LUKS, SSH, SUDO, TIME, USB, BaselineViolation
from components import restic
from components.restic import Repository
from harden.audit import backups as backup_evidence
from harden.audit.evidence import PASS
from hosts import backup_units, desired, network_unlock
from hosts.collector import RECEIVER_UNIT, TLS_FRONT_UNIT, VACUUM_UNIT, exec_start
from hosts.verify import BOOT_LOADER_CHECK, USB_POLICY_CHECK, USB_SERVICE_CHECK, collector_checks, verify_host
from hosts.vm import boot
from hosts.vm.boot import GUEST_GATEWAY, USB_STICK_SERIAL, free_loopback_port
from posture.container import mapped_ids, service_user
from tests.fixtures.vm import BACKUP_CREDENTIALS, BACKUP_FILES, BACKUP_ROOT, DATA_DEVICE, REPO, Node1VM
from tests.hosts.pyinfra_run import run_pyinfra

pytestmark = pytest.mark.integration

LYNIS_TARGET = 90  # issue 14; DESIGN.md: dev-sec reaches 77 on the same VM
SURVIVOR_TABLE = "ip docker_like"  # stands for Docker's own tables, which our firewall must leave alone
FETCHED_BY_DEPLOY = ("libpam-tmpdir", "libpam-pwquality", "needrestart")  # hosts/vm/build-image.sh leaves them out
# Time budgets (seconds): about 2.5x the step times measured under software emulation on a 2-core machine at load
# average 14-18 (another session's Go build and debootstrap beside it; benchmarks/hosts.md): first apply 917 s,
# refused run 10 s, so a busy machine is not a failure and a hang still is.
BUDGET = {"refused": 120, "first_apply": 2400, "re_run": 1200, "lynis": 2700, "reboot": 900, "journal": 300,
          "backup": 600, "unlock": 300}
DATA_MOUNT = os.path.commonpath(list(LUKS.data_paths.values()))  # where hosts/vm/build-image.sh mounts the LUKS disk
# The one check a VM without a route to a time server fails, truthfully: timesyncd never set its clock (this
# machine resolves no public name); where the VM reaches the baseline's servers it passes like the others
CLOCK_CHECK = f"clock synchronised by {TIME.service}"


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


def test_ssh_outside_tailscale_without_a_declared_exception_is_refused_before_anything(node1_vm, tmp_path):
    """The VM's SSH arrives on its NIC, not on tailscale0; without the firewall_ssh_exception its inventory declares
    (reason, owner, expiry), the deploy refuses the node before changing anything, naming the controls."""
    before = node1_vm.ssh("sudo sshd -T").stdout
    run = run_pyinfra({"node1_vms": [node1_vm.inventory_entry("node1-no-exception", firewall_ssh_exception=None)]},
                      tmp_path, timeout=BUDGET["refused"])
    assert run.returncode != 0
    refusal = re.search(r"node1-no-exception: refused, nothing changed: .*", run.log)
    assert refusal, run.log[-3000:]
    assert f"SSH accepted on {node1_vm.interface}, outside the baseline's tailscale0" in refusal.group(0)
    assert "A.8.20" in refusal.group(0) and "A.5.36" in refusal.group(0)
    assert node1_vm.ssh("sudo sshd -T").stdout == before
    assert not _installed(node1_vm, FETCHED_BY_DEPLOY), "nothing may be installed"


def _put_secret(node1_vm, path: str, content: str, mode: str = "0600") -> None:
    """Write a file on the VM, root's, through ssh's stdin (never on a command line)."""
    subprocess.run(node1_vm.ssh_command(f"sudo install -D -m {mode} /dev/stdin {path}"), input=content, text=True,
                   check=True, capture_output=True, timeout=120)


def _provision_backup(node1_vm, offsite) -> dict:
    """What the stack leaves on a node before the deploy schedules its backups, for the data sets that need no Docker:
    the secret files and the CA (root's, 0400), the repository passwords and the off-site location with Node1's own
    credentials (0600, in a directory apart from the backed-up files), the off-site CA, and the `harden backup`
    config. The off-site password is the operator's key. Returns {"config": path, "files": {path: content}}."""
    credentials = BACKUP_CREDENTIALS
    files = {f"{BACKUP_FILES[0]}/postgres-password": secrets.token_urlsafe(24),
             f"{BACKUP_FILES[0]}/qdrant-api-key": secrets.token_urlsafe(24),
             f"{BACKUP_FILES[1]}/ca.crt": offsite["tls"]["ca.crt"].read_text()}
    for path, content in files.items():
        _put_secret(node1_vm, path, content, "0400")
    _put_secret(node1_vm, f"{credentials}/restic-local-key", secrets.token_urlsafe(32) + "\n")
    _put_secret(node1_vm, f"{credentials}/restic-offsite-key", offsite["operator_key_file"].read_text())
    _put_secret(node1_vm, f"{credentials}/offsite-repository",
                f"rest:https://{offsite['user']}:{offsite['password']}@{offsite['url'].removeprefix('https://')}\n")
    _put_secret(node1_vm, f"{credentials}/offsite-ca.crt", offsite["tls"]["ca.crt"].read_text(), "0644")
    config = {"repositories": [
        {"name": "local", "location": f"{BACKUP_ROOT}/restic", "password_file": f"{credentials}/restic-local-key"},
        {"name": "offsite", "repository_file": f"{credentials}/offsite-repository", "append_only": True,
         "password_file": f"{credentials}/restic-offsite-key", "cacert": f"{credentials}/offsite-ca.crt",
         "cache_dir": f"{credentials}/cache"}],
        "files": list(BACKUP_FILES), "log": f"{BACKUP_ROOT}/backup.jsonl"}
    _put_secret(node1_vm, f"{credentials}/backup.json", json.dumps(config, indent=1))
    node1_vm.ssh(f"sudo chmod 0700 {credentials}")
    return {"config": f"{credentials}/backup.json", "files": files}


def _boot_id(node1_vm) -> str | None:
    try:
        result = node1_vm.ssh("cat /proc/sys/kernel/random/boot_id", check=False, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


UNLOCK_UNIT = network_unlock.UNIT_NAME


def _reboot(node1_vm) -> dict:
    """The guest reboots itself (systemctl reboot): qemu restarts the same machine, whose UEFI firmware loads GRUB
    from the EFI system partition and GRUB the grub.cfg the deploy regenerated. Returns when SSH answers with a new
    boot id, with the seconds it took."""
    before = _boot_id(node1_vm)
    node1_vm.ssh("sudo systemd-run --on-active=2 --quiet systemctl reboot")
    started = time.monotonic()
    after = None
    while after in (None, before):
        assert node1_vm.process.process.poll() is None, "qemu exited instead of rebooting"
        tail = node1_vm.console_log.read_text(errors="replace")[-3000:]
        assert time.monotonic() - started < BUDGET["reboot"], \
            f"no SSH after the reboot within {BUDGET['reboot']} s:\n{tail}"
        time.sleep(10)
        after = _boot_id(node1_vm)
    ssh_seconds = time.monotonic() - started
    print(f"reboot: SSH back after {ssh_seconds:.0f} s")
    return {"before": before, "after": after, "ssh_seconds": ssh_seconds}


def _reboot_without_key_then_unlock(node1_vm, tang) -> dict:
    """The node's first reboot after the deploy, with no key to its data volume left on it and tang unreachable:
    the image's key file and the unit that used it (the installer's stand-in) are removed, tang on the control node
    is stopped, and the node reboots. It must come back with SSH while the volume stays locked, and the verifier must
    say so; then tang starts again and the deploy's unlock unit, retrying, opens and mounts the volume through tang.
    Returns what was observed at each step."""
    node1_vm.ssh("sudo systemctl disable --quiet srv-data-open.service && sudo rm -f "
                 "/etc/systemd/system/srv-data-open.service /etc/cryptsetup-keys.d/srvdata.key && "
                 "sudo systemctl daemon-reload")
    tang["server"].stop()
    try:
        observed = _reboot(node1_vm)
        observed["locked"] = node1_vm.ssh(f"test -e {DATA_DEVICE} && echo open || echo locked; "
                                          f"findmnt -n -o SOURCE {DATA_MOUNT} || true").stdout.split()
        observed["unit_while_locked"] = node1_vm.ssh(f"systemctl is-active {UNLOCK_UNIT}", check=False).stdout.strip()
        observed["verifier_while_locked"] = {
            check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])
            if check["check"].startswith(("data volume", f"{UNLOCK_UNIT}", "clevis binding"))}
    finally:
        tang["server"].start()
    observed["data_seconds"] = node1_vm.wait_for_data_disk(budget=BUDGET["unlock"], unit=UNLOCK_UNIT)
    print(f"reboot: data volume opened through tang {observed['data_seconds']:.0f} s after tang started again")
    return observed


@pytest.fixture(scope="session")
def first_apply(node1_vm, tmp_path_factory, backup_offsite, tang_control_node):
    """The deploy's first run on the bare VM, from an inventory outside hosts/, with the same VM listed a second
    time under a changed host key, then the node's own reboot (issue 14: every later test runs on the rebooted node,
    so what they check is what survives a restart). The node holds a backup config of files only (no Docker on the
    VM) before it."""
    work = tmp_path_factory.mktemp("first-apply")
    backup = _provision_backup(node1_vm, backup_offsite)
    node1_vm.ssh(f"sudo nft add table {SURVIVOR_TABLE}")
    before = {"sshd": node1_vm.ssh("sudo sshd -T").stdout, "installed": _installed(node1_vm, FETCHED_BY_DEPLOY),
              "marker": node1_vm.ssh(f"cat {DEPLOY.completion_marker}", check=False).returncode,
              "cmdline": node1_vm.ssh("cat /proc/cmdline").stdout.split(),
              "usb_serials": node1_vm.ssh("lsblk -dn -o SERIAL").stdout.split()}
    run = run_pyinfra({"node1_vms": [
        node1_vm.inventory_entry(),
        node1_vm.inventory_entry("changed-host-key", ssh_known_hosts_file=str(_known_hosts_with_other_key(node1_vm, work))),
    ]}, work, timeout=BUDGET["first_apply"])
    # a table of another tool, added at runtime before the deploy: the deploy's firewall must leave it (a reboot
    # would drop it anyway, so it is read before the reboot)
    tables = node1_vm.ssh("sudo nft list tables").stdout
    reboot = _reboot_without_key_then_unlock(node1_vm, tang_control_node) if run.succeeded("node1-vm") else None
    return {"run": run, "before": before, "backup": backup, "reboot": reboot, "tables_after_apply": tables}


def test_node_came_back_from_its_own_reboot_through_uefi_and_grub(first_apply, node1_vm):
    """After the first apply the node rebooted through its own firmware and boot loader (first_apply), with no key
    to its data volume left on it and tang stopped: SSH answered with the same host key and a new boot id while the
    volume stayed locked (the verifier said "locked"), and once tang answered again the deploy's unlock unit opened
    it through tang. The kernel runs with the audit parameters that only the deploy's
    update-grub put on its command line, /boot/efi is mounted from the vfat EFI system partition (the blacklist spared
    vfat), the firewall is loaded, auditd runs with its rules immutable, the LUKS data volume is open and mounted,
    and the verifier finds nothing failed."""
    reboot = first_apply["reboot"]
    assert reboot and reboot["after"] != reboot["before"], "the first apply failed: no reboot was attempted"
    # no key on the node and tang stopped: SSH came back, the volume stayed locked, the verifier said so
    assert reboot["locked"] == ["locked"], reboot["locked"]
    assert reboot["unit_while_locked"] in ("activating", "failed"), reboot["unit_while_locked"]
    while_locked = reboot["verifier_while_locked"]
    assert while_locked[f"data volume srvdata unlocked at {DATA_MOUNT}"]["status"] == "fail", while_locked
    assert while_locked[f"data volume srvdata unlocked at {DATA_MOUNT}"]["actual"] == "locked", while_locked
    assert [check["status"] for name, check in while_locked.items() if name.startswith("clevis binding")] == ["pass"]
    # tang back: the deploy's unit opened the volume with no key file on the node
    assert node1_vm.ssh("sudo test -e /etc/cryptsetup-keys.d/srvdata.key", check=False).returncode != 0
    assert node1_vm.ssh("systemctl cat srv-data-open.service", check=False).returncode != 0
    assert node1_vm.ssh(f"systemctl is-active {UNLOCK_UNIT}").stdout.strip() == "active"
    assert node1_vm.ssh("test -d /sys/firmware/efi && echo uefi").stdout.strip() == "uefi"
    cmdline = node1_vm.ssh("cat /proc/cmdline").stdout.split()
    assert not set(AUDITD.kernel_cmdline) & set(first_apply["before"]["cmdline"]), first_apply["before"]["cmdline"]
    assert set(AUDITD.kernel_cmdline) <= set(cmdline), cmdline
    assert "BOOT_IMAGE=/boot/vmlinuz" in " ".join(cmdline), "GRUB started the kernel"
    # GRUB ran every command of its grub.cfg at both boots, the deploy's password_pbkdf2 among them (GRUB prints
    # "error: can't find command" for one it cannot load, and the superuser is then left without a password); the
    # VM has no display, so "no suitable video mode" is the one error GRUB may print
    boots = node1_vm.console_log.read_text(errors="replace").split("Welcome to GRUB!")[1:]
    assert len(boots) >= 2, f"{len(boots)} boots through GRUB on the console"
    grub_errors = [line for boot in boots for line in boot.split("Linux version", 1)[0].splitlines()
                   if "error:" in line and "no suitable video mode" not in line]
    assert not grub_errors, grub_errors
    efi = node1_vm.ssh("findmnt -n -o FSTYPE,TARGET /boot/efi").stdout.split()
    assert efi == ["vfat", "/boot/efi"], efi
    assert node1_vm.ssh("sudo test -f /boot/efi/EFI/BOOT/BOOTX64.EFI && echo present").stdout.strip() == "present"
    assert re.search(r"^enabled 2$", node1_vm.ssh("sudo auditctl -s").stdout, re.M)
    assert node1_vm.ssh("systemctl is-active auditd nftables").stdout.split() == ["active"] * 2
    mount = node1_vm.ssh(f"findmnt -n -o SOURCE {DATA_MOUNT}").stdout.strip()
    assert mount == "/dev/mapper/srvdata", mount
    checks = verify_host("node1-vm", node1_vm.inventory_entry()[1])
    failed = [check for check in checks if check["status"] == "fail" and check["check"] != CLOCK_CHECK]
    assert not failed, json.dumps(failed, indent=1)
    by_name = {check["check"]: check for check in checks}
    assert by_name[f"time service {TIME.service}"]["actual"] == "active, enabled", "timesyncd runs after the reboot"
    assert by_name[CLOCK_CHECK]["status"] == ("pass" if by_name[CLOCK_CHECK]["actual"] == "yes" else "fail")
    # GRUB asked for no password on the way (its default entry is unrestricted) while its superuser's password is set:
    # the verifier compared grub.cfg with the hash file; the hash never appeared in the deploy's output
    assert by_name[BOOT_LOADER_CHECK]["status"] == "pass", by_name[BOOT_LOADER_CHECK]
    # USBGuard came back with the node: the daemon runs the baseline's allow-list, as the daemon itself lists it
    assert by_name[USB_SERVICE_CHECK]["status"] == "pass" and by_name[USB_POLICY_CHECK]["status"] == "pass", \
        [by_name[USB_SERVICE_CHECK], by_name[USB_POLICY_CHECK]]
    # (usbguard prints a rule in its own normal form: compared by verdict and interface class)
    listed = [line.split(": ", 1)[1] for line in node1_vm.ssh("sudo usbguard list-rules").stdout.splitlines()]
    assert [(rule.split()[0], re.findall(r"\d\d:[\d*]+:[\d*]+", rule)) for rule in listed] == \
        [(rule.split()[0], re.findall(r"\d\d:[\d*]+:[\d*]+", rule)) for rule in USB.allow_rules], listed
    # the USB stick plugged in since boot: the kernel gave it a block device before the deploy; after the reboot
    # USBGuard blocked it (no block device), and the keyboard on the same bus is allowed
    assert USB_STICK_SERIAL in first_apply["before"]["usb_serials"], first_apply["before"]["usb_serials"]
    assert USB_STICK_SERIAL not in node1_vm.ssh("lsblk -dn -o SERIAL").stdout.split()
    devices = node1_vm.ssh("sudo usbguard list-devices").stdout.splitlines()
    verdicts = {("stick" if USB_STICK_SERIAL in line else "keyboard" if "Keyboard" in line else line):
                line.split(": ", 1)[1].split()[0] for line in devices}
    assert verdicts.get("stick") == "block" and verdicts.get("keyboard") == "allow", devices
    assert node1_vm.ssh(f"sudo stat -c %a {desired.GRUB_PASSWORD_SCRIPT} {desired.GRUB_CONFIG}").stdout.split() == \
        ["700", FILESYSTEM.permissions[desired.GRUB_CONFIG].lstrip("0")]
    password_hash = Path(node1_vm.grub_password_hash_file).read_text().strip()
    assert password_hash.startswith("grub.pbkdf2.sha512.") and password_hash not in first_apply["run"].log


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


def _restic_on_vm(node1_vm, repository: str, arguments: str, check: bool = True) -> subprocess.CompletedProcess:
    """restic as root on the VM against its local or its off-site repository, with the node's own credentials."""
    where = {"local": f"-r {BACKUP_ROOT}/restic --password-file {BACKUP_CREDENTIALS}/restic-local-key",
             "offsite": f"--repository-file {BACKUP_CREDENTIALS}/offsite-repository --password-file "
                        f"{BACKUP_CREDENTIALS}/restic-offsite-key --cacert {BACKUP_CREDENTIALS}/offsite-ca.crt"}[repository]
    return node1_vm.ssh(f"sudo restic {where} --no-cache {arguments}", check=check, timeout=BUDGET["backup"])


def _start_backup_service(node1_vm, action: str, steps: dict) -> subprocess.CompletedProcess:
    """`systemctl start` the timer's service (a oneshot: returns when the run ended), timed into steps."""
    started = time.monotonic()
    result = node1_vm.ssh(f"sudo systemctl start rae-backup-{action}.service", check=False, timeout=BUDGET["backup"])
    steps.setdefault(action, []).append(round(time.monotonic() - started, 1))
    return result


def _backup_log(node1_vm) -> list[dict]:
    return [json.loads(line) for line in node1_vm.ssh(f"sudo cat {BACKUP_ROOT}/backup.jsonl").stdout.splitlines()]


def _operator_repository(backup_offsite, work) -> Repository:
    """The off-site repository as the operator reaches it from the control node: the same server (its loopback side),
    Node1's HTTP credentials, the operator's key."""
    location = work / "offsite-repository"
    location.write_text(f"rest:https://{backup_offsite['user']}:{backup_offsite['password']}@127.0.0.1:"
                        f"{backup_offsite['port']}/{backup_offsite['url'].rsplit('/', 1)[1]}\n")
    location.chmod(0o600)
    return Repository("offsite", password_file=backup_offsite["operator_key_file"], repository_file=location,
                      cacert=backup_offsite["tls"]["ca.crt"])


@pytest.fixture(scope="module")
def backup_steps():
    """Seconds per triggered service run, printed at the end for benchmarks/hosts.md."""
    steps: dict = {}
    yield steps
    print(f"backup services on the VM (seconds per run): {steps}")


def test_backup_run_service_fills_the_local_and_the_off_site_repository(first_apply, node1_vm, backup_offsite,
                                                                        backup_steps, tmp_path):
    """The deploy installed the toolkit the timers run (this checkout, a venv from requirements-backup.lock) and left
    the backup user out of the docker group (the config backs up files only); the verifier reads both. The run
    timer's service, triggered, backs the secret files and the CA up into the local repository on the LUKS volume
    and into the append-only off-site server on the control node (over TLS at qemu's gateway); the audit reads the
    log lines it wrote, and the operator sees the off-site snapshot with the operator's key."""
    run = first_apply["run"]
    assert run.succeeded("node1-vm"), run.log[-3000:]
    assert any(name.startswith("backup toolkit installed at") for name in run.changed("node1-vm")), run.changed("node1-vm")
    checks = {check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])}
    toolkit = checks["backup toolkit installed (this checkout, hash-pinned venv)"]
    assert toolkit["status"] == "pass" and toolkit["actual"]["runs"] is True, toolkit
    assert checks[f"backup user {backup_units.SERVICE_USER} in the docker group"] | {"controls": None} == {
        "check": f"backup user {backup_units.SERVICE_USER} in the docker group", "expected": False, "actual": False,
        "controls": None, "status": "pass"}
    assert node1_vm.ssh("getent group docker", check=False).returncode != 0, "no Docker on the VM: no docker group"
    assert node1_vm.ssh(f"systemctl is-enabled {' '.join(backup_units.timers())}").stdout.split() == ["enabled"] * 4
    unit = node1_vm.ssh("systemctl cat rae-backup-run.service").stdout
    assert "docker" not in unit and "CapabilityBoundingSet=CAP_DAC_READ_SEARCH\n" in unit

    result = _start_backup_service(node1_vm, "run", backup_steps)
    assert result.returncode == 0, node1_vm.ssh("sudo journalctl -u rae-backup-run --no-pager -n 40").stdout
    lines = _backup_log(node1_vm)
    done = {(line["dataset"], line["repository"]): line for line in lines if line["action"] == "backup"}
    assert {key: line["result"] for key, line in done.items()} == {("files", "local"): "ok", ("files", "offsite"): "ok"}
    # what the audit reads of it: the files' last good backup is fresh in both copies
    work = tmp_path / "audit"
    work.mkdir()
    (work / "backup.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    evidence = {(e.subject, e.check): e for e in backup_evidence.collect(work / "backup.jsonl", datasets=("files",))}
    assert evidence[("backup/files/local", "last_success_age")].status == PASS
    assert evidence[("backup/files/offsite", "last_success_age")].status == PASS
    assert evidence[("backup/files", "fresh_copies")].status == PASS
    journal = node1_vm.ssh("sudo journalctl -t rae-backup --no-pager -o cat").stdout
    assert done[("files", "local")]["snapshot"] in journal  # the run's output reaches the journal (and the collector)
    local = json.loads(_restic_on_vm(node1_vm, "local", "snapshots --json").stdout)
    offsite = restic.snapshots(_operator_repository(backup_offsite, tmp_path))
    assert [snapshot["short_id"] for snapshot in local] == [done[("files", "local")]["snapshot"]]
    assert [snapshot["short_id"] for snapshot in offsite] == [done[("files", "offsite")]["snapshot"]]
    assert sorted(offsite[0]["paths"]) == sorted(BACKUP_FILES)


def _tree_pack(node1_vm) -> tuple[str, int]:
    """The local repository's pack holding tree blobs, and the offset of its first tree blob (restic's index)."""
    for index_id in _restic_on_vm(node1_vm, "local", "list index").stdout.split():
        index = json.loads(_restic_on_vm(node1_vm, "local", f"cat index {index_id}").stdout)
        for pack in index["packs"]:
            trees = [blob for blob in pack["blobs"] if blob["type"] == "tree"]
            if trees:
                return pack["id"], trees[0]["offset"]
    raise AssertionError("no tree blob in the local repository's index")


def test_backup_check_service_detects_a_corrupted_pack(first_apply, node1_vm, backup_steps):
    """The check timer's service passes on both repositories and probes the off-site server with Node1's credentials
    (a delete is refused). Then one byte of a pack in the local repository is changed: the next check fails, the
    unit fails and the log says which repository. The pack is the one holding the snapshot's trees, which `restic
    check` reads on every run; a corrupted data pack is found only when it falls in the run's read-data subset
    (baseline BACKUP.check_read_data_subset), so it is not what this test corrupts. The original pack is put back."""
    assert _start_backup_service(node1_vm, "check", backup_steps).returncode == 0, \
        node1_vm.ssh("sudo journalctl -u rae-backup-check --no-pager -n 40").stdout
    checks = {line["repository"]: line for line in _backup_log(node1_vm) if line["action"] == "check"}
    assert checks["local"]["result"] == "ok" and checks["offsite"]["result"] == "ok"
    assert checks["offsite"]["append_only"] is True and checks["offsite"]["delete_refused"] is True
    pack, offset = _tree_pack(node1_vm)
    path = f"{BACKUP_ROOT}/restic/data/{pack[:2]}/{pack}"
    node1_vm.ssh(f"sudo cp -p {path} /root/pack.orig && sudo chmod u+w {path} && "
                 f"printf '\\377\\000\\377' | sudo dd of={path} bs=1 seek={offset + 20} conv=notrunc status=none")
    assert node1_vm.ssh(f"sudo cmp -s {path} /root/pack.orig", check=False).returncode == 1, "the pack did not change"
    try:
        failed = _start_backup_service(node1_vm, "check", backup_steps)
        assert failed.returncode != 0
        assert node1_vm.ssh("systemctl show -p Result --value rae-backup-check").stdout.strip() == "exit-code"
        last = [line for line in _backup_log(node1_vm) if line["action"] == "check"][-2:]
        by_repository = {line["repository"]: line for line in last}
        assert by_repository["local"]["result"] == "fail", last
        assert by_repository["offsite"]["result"] == "ok", last
    finally:
        node1_vm.ssh(f"sudo cp -p /root/pack.orig {path} && sudo rm /root/pack.orig")
    assert _restic_on_vm(node1_vm, "local", "check").returncode == 0


def test_backup_off_site_history_survives_root_on_node1_and_restores_with_the_operators_key(first_apply, node1_vm,
                                                                                     backup_offsite, backup_steps,
                                                                                     tmp_path):
    """Root on Node1, with Node1's own off-site credentials and key, tries to erase the off-site history (`restic
    forget` of the snapshot, and with --prune): the append-only server refuses and every snapshot stays. The forget
    timer's service prunes the local repository and leaves the off-site one to its operator. Then the operator
    restores the files from the off-site repository with the operator's key on the control node, a machine other
    than Node1, and gets what Node1 held: the restore needs nothing of Node1's disks. (Not shown here: the same on a
    freshly booted VM.)"""
    operator = _operator_repository(backup_offsite, tmp_path)
    before = restic.snapshots(operator)
    assert before, "the run test left a snapshot off-site"
    victim = before[-1]["id"]
    forget = _restic_on_vm(node1_vm, "offsite", f"forget {victim}", check=False)
    assert forget.returncode != 0, forget.stdout
    wipe = _restic_on_vm(node1_vm, "offsite", f"forget {victim} --prune", check=False)
    assert wipe.returncode != 0, wipe.stdout
    assert [snapshot["id"] for snapshot in restic.snapshots(operator)] == [snapshot["id"] for snapshot in before]
    print(f"off-site deletion as root on Node1: forget exit {forget.returncode}, forget --prune exit "
          f"{wipe.returncode} ({restic.last_lines(wipe.stderr.encode())})")
    assert _start_backup_service(node1_vm, "forget", backup_steps).returncode == 0
    forgot = {line["repository"]: line for line in _backup_log(node1_vm) if line["action"] == "forget"}
    assert forgot["local"]["result"] == "ok" and "append-only" in forgot["offsite"]["skipped"]
    target = tmp_path / "restored"
    started = time.monotonic()
    restic.run(operator, "restore", "latest", "--target", str(target))
    backup_steps["operator restore off-site"] = [round(time.monotonic() - started, 1)]
    for path, content in first_apply["backup"]["files"].items():
        assert (target / path.lstrip("/")).read_text() == content, path


def _fire_timer(node1_vm, action: str) -> dict:
    """Make the action's timer elapse now instead of at its calendar time: a runtime drop-in (/run, gone at the next
    boot) adds OnActiveSec=3s with no randomised delay, the timer restarts, and its own service runs. Returns once the
    service's run ended (a new invocation, inactive or failed), with what systemd recorded; the drop-in is removed and
    the timer restarted on its calendar whatever happened."""
    timer, service = (f"{backup_units.service_name(action)}.{kind}" for kind in ("timer", "service"))
    dropin = f"/run/systemd/system/{timer}.d"
    invocation = node1_vm.ssh(f"systemctl show -p InvocationID --value {service}").stdout.strip()
    node1_vm.ssh(f"sudo mkdir -p {dropin} && printf '[Timer]\\nOnActiveSec=3s\\nRandomizedDelaySec=0\\n' | "
                 f"sudo tee {dropin}/fire-now.conf >/dev/null && sudo systemctl daemon-reload && "
                 f"sudo systemctl restart {timer}")
    started = time.monotonic()
    try:
        while True:
            shown = dict(line.split("=", 1) for line in node1_vm.ssh(
                f"systemctl show -p InvocationID,ActiveState,Result {service}").stdout.splitlines() if "=" in line)
            if shown["InvocationID"] not in ("", invocation) and shown["ActiveState"] in ("inactive", "failed"):
                break
            assert time.monotonic() - started < BUDGET["backup"], f"{timer} did not run {service}: {shown}"
            time.sleep(3)
        shown["seconds"] = round(time.monotonic() - started, 1)
        shown["triggered"] = node1_vm.ssh(f"systemctl show -p LastTriggerUSec --value {timer}").stdout.strip()
    finally:
        node1_vm.ssh(f"sudo rm -rf {dropin} && sudo systemctl daemon-reload && sudo systemctl restart {timer}")
    shown["calendar"] = node1_vm.ssh(f"systemctl show -p TimersCalendar --value {timer}").stdout.strip()
    shown["monotonic"] = node1_vm.ssh(f"systemctl show -p TimersMonotonic --value {timer}").stdout.strip()
    return shown


def test_backup_timers_fire_their_services_and_the_files_drill_matches(first_apply, node1_vm, backup_steps, tmp_path):
    """The run and drill timers, made to elapse now (not waiting a day or a week), start their own services: the run
    backs the files up into both repositories again, and the drill restores the newest files snapshot of each
    repository (restic restore --verify, as the unprivileged service user), compares every file unchanged since the
    snapshot with the live copy, records RTO and RPO, and leaves no scratch copy of the secrets. The audit reads the
    drill as passed; each timer is back on its calendar afterwards."""
    before = len(_backup_log(node1_vm))
    fired = {action: _fire_timer(node1_vm, action) for action in ("run", "drill")}
    for action, shown in fired.items():
        backup_steps.setdefault(f"{action} (timer)", []).append(shown["seconds"])
        journal = node1_vm.ssh(f"sudo journalctl -u {backup_units.service_name(action)} --no-pager -n 30").stdout
        assert shown["Result"] == "success", f"{action}: {shown}\n{journal}"
        assert shown["triggered"] not in ("", "n/a", "0"), shown
        assert backup_units.schedule()[action] in shown["calendar"] and not shown["monotonic"], shown
    lines = _backup_log(node1_vm)[before:]
    assert {(line["repository"], line["result"]) for line in lines if line["action"] == "backup"} == \
        {("local", "ok"), ("offsite", "ok")}, lines
    drills = {line["repository"]: line for line in lines if line["action"] == "drill"}
    assert set(drills) == {"local", "offsite"}, lines
    for line in drills.values():
        assert (line["dataset"], line["result"], line["matched"]) == ("files", "ok", True), line
        assert line["files"] >= len(first_apply["backup"]["files"]) and line["compared"] == line["files"], line
    assert node1_vm.ssh(f"sudo find {backup_units.TMP_DIR} -mindepth 1 -name 'rae-drill-files-*'").stdout == ""
    work = tmp_path / "audit"
    work.mkdir()
    (work / "backup.jsonl").write_text("".join(json.dumps(line) + "\n" for line in _backup_log(node1_vm)))
    evidence = {(e.subject, e.check): e for e in backup_evidence.collect(work / "backup.jsonl", datasets=("files",))}
    assert evidence[("backup/drill/files", "last_result")].status == PASS
    assert evidence[("backup/drill/files", "rto")].status == PASS and evidence[("backup/drill/files", "rpo")].status == PASS


def _post_journal_entry(log_collector, client: str | None, message: str) -> str:
    """POST one journal entry to the collector from the control node with the named client certificate (None: no
    certificate); returns the HTTP status or the error that ended the attempt."""
    tls = log_collector["tls"]
    context = ssl.create_default_context(cafile=str(tls["ca.crt"]))
    if client:
        context.load_cert_chain(str(tls[f"{client}.crt"]), str(tls[f"{client}.key"]))
    entry = f"__REALTIME_TIMESTAMP={int(time.time() * 1e6)}\nMESSAGE={message}\nSYSLOG_IDENTIFIER=suite-probe\n\n"
    try:
        connection = http.client.HTTPSConnection("127.0.0.1", log_collector["port"], context=context, timeout=30)
        connection.request("POST", "/upload", body=entry.encode(),
                           headers={"Content-Type": "application/vnd.fdo.journal"})
        return str(connection.getresponse().status)
    except (ssl.SSLError, OSError) as error:
        return type(error).__name__


def _collected(log_collector, identifier: str) -> str:
    return subprocess.run(["journalctl", f"--directory={log_collector['output']}", "-t", identifier, "-o", "cat",
                           "--no-pager"], capture_output=True, text=True, timeout=60).stdout


def test_journal_reaches_the_collector_on_the_control_node_over_mutual_tls(first_apply, node1_vm, log_collector):
    """A line logged on Node1 arrives at the collector on the control node (systemd-journal-upload on the node, socat's
    mutual TLS and systemd-journal-remote on the control node); a client whose certificate the nodes' CA did not
    sign, or without one, is refused in the handshake and nothing it sent is stored. The verifier reads the node's
    side, the audit the collector's units: mutual TLS, the receiver on the loopback, a retention of 365 days."""
    assert first_apply["run"].succeeded("node1-vm"), first_apply["run"].log[-3000:]
    marker = f"node1-suite-{uuid.uuid4()}"
    node1_vm.ssh(f"logger -t suite-journal-marker {marker}")
    started = time.monotonic()
    while marker not in _collected(log_collector, "suite-journal-marker"):
        assert time.monotonic() - started < BUDGET["journal"], (
            node1_vm.ssh("sudo journalctl -u systemd-journal-upload --no-pager -n 40", check=False).stdout
            + log_collector["log"].read_text()[-2000:])
        time.sleep(5)
    print(f"journal line at the collector {time.monotonic() - started:.0f} s after logger ran on the node")
    refused = {client: _post_journal_entry(log_collector, client, f"from-{client}-{marker}")
               for client in ("stranger", None)}
    assert all(outcome in ("SSLError", "SSLEOFError", "ConnectionResetError", "SSLZeroReturnError")
               for outcome in refused.values()), refused
    assert _post_journal_entry(log_collector, "client", f"from-client-{marker}") == "202"
    stored = _collected(log_collector, "suite-probe")
    assert f"from-client-{marker}" in stored and "from-stranger" not in stored and "from-None" not in stored, stored
    checks = {check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])}
    collector_side = [name for name in checks if name.startswith("log collector: ")]
    assert collector_side == [check["check"] for check in collector_checks(log_collector["unit_dir"])]
    for name in ("journal upload configuration", "journal upload running", "journal receiver not in use on the node",
                 f"mode of {JOURNALD.upload_tls_paths['key']}", f"package {JOURNALD.upload_package}", *collector_side):
        assert checks[name]["status"] == "pass", checks[name]
    assert checks["log collector: retention"]["actual"] == f"{JOURNALD.collector_min_retention_days} days"
    # what the audit read is what runs: the processes' command lines are the units' ExecStart lines
    units = {name: exec_start((log_collector["unit_dir"] / name).read_text()) for name in (RECEIVER_UNIT, TLS_FRONT_UNIT)}
    assert sorted(process.args for process in log_collector["processes"]) == sorted(units.values())
    # the collector's one deletion, run as its timer runs it, keeps the line (younger than the retention)
    vacuum = exec_start((log_collector["unit_dir"] / VACUUM_UNIT).read_text())
    subprocess.run(vacuum, check=True, capture_output=True, timeout=120)
    assert marker in _collected(log_collector, "suite-journal-marker")
    # a collector URL in clear is refused by the same function the deploy and the verifier read
    with pytest.raises(BaselineViolation, match="A.8.15"):
        desired.journal_upload_text(f"http://{GUEST_GATEWAY}:{log_collector['port']}")


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
    failed = [check for check in checks if check["status"] == "fail" and check["check"] != CLOCK_CHECK]
    assert not failed, json.dumps(failed, indent=1)
    names = {check["check"] for check in checks}
    assert {f"time service {TIME.service}", "other time daemons active", CLOCK_CHECK, "time servers",
            "baseline packages installed", "integrity and audit tools installed",
            "legacy clear-text packages absent"} <= names
    assert {"sshd permitrootlogin", "sshd kexalgorithms", "sshd allowgroups", "sshd trustedusercakeys",
            "sysctl kernel.kptr_restrict", f"nftables table inet {FIREWALL.table}", "audit enabled",
            "audit rules not in the baseline", "sudo defaults"} <= names
    assert sum(check["check"].startswith("audit rule -") for check in checks) == len(AUDITD.rules)
    by_name = {check["check"]: check for check in checks}
    assert by_name["audit enabled"]["actual"] == "2"
    assert by_name[f"nftables table inet {FIREWALL.table}"]["actual"][0] == f"table inet {FIREWALL.table} {{"
    # SSH on the VM's NIC, read from the live table, is a deviation its inventory declares: risk accepted, never pass
    ssh_interfaces = by_name["firewall ssh interfaces"]
    assert ssh_interfaces["status"] == "risk-accepted", ssh_interfaces
    assert ssh_interfaces["actual"] == [node1_vm.interface] and "owner toolkit test suite" in ssh_interfaces["detail"]


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
    # Match blocks evaluated for a connection (-C): the values hold for the operator's connection too
    matched = node1_vm.ssh("sudo sshd -T -C user=admin,host=node1,addr=10.0.2.2").stdout.splitlines()
    assert f"allowgroups {' '.join(SSH.allow_groups)}" in matched
    accepted = effective["pubkeyacceptedalgorithms"].split(",")
    assert {"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"} <= set(accepted)
    assert effective["trustedusercakeys"] == SSH.trusted_user_ca_path


def test_user_outside_the_allowed_groups_is_refused_with_a_valid_key(first_apply, node1_vm):
    """AllowGroups: a user whose key is authorized but who is in no allowed group cannot log in."""
    node1_vm.ssh("id outsider >/dev/null 2>&1 || sudo useradd --create-home outsider; "
                 "sudo install -d -m 0700 -o outsider -g outsider /home/outsider/.ssh; "
                 "sudo install -m 0600 -o outsider -g outsider /home/admin/.ssh/authorized_keys "
                 "/home/outsider/.ssh/authorized_keys")
    refused = subprocess.run(node1_vm.ssh_command("true", user="outsider"), capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 255 and "Permission denied" in refused.stderr, refused.stderr
    log = node1_vm.ssh("sudo journalctl -u ssh --no-pager --since -15min").stdout
    assert re.search(r"User outsider from \S+ not allowed because none of user's groups are listed in AllowGroups",
                     log), log[-2000:]


def test_certificate_from_the_trusted_user_ca_logs_in_and_an_unsigned_key_does_not(first_apply, node1_vm, tmp_path):
    """A key found in no authorized_keys file logs in as admin with a certificate from the configured user CA."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "operator")], check=True)
    unsigned = subprocess.run(node1_vm.ssh_command("true", key=tmp_path / "operator"), capture_output=True,
                              text=True, timeout=120)
    assert unsigned.returncode == 255 and "Permission denied" in unsigned.stderr, unsigned.stderr
    subprocess.run(["ssh-keygen", "-q", "-s", str(node1_vm.user_ca_path), "-I", "operator-test", "-n",
                    node1_vm.user, "-V", "+10m", str(tmp_path / "operator.pub")], check=True)
    signed = subprocess.run(node1_vm.ssh_command("id -un", key=tmp_path / "operator"), capture_output=True,
                            text=True, timeout=120)
    assert signed.returncode == 0 and signed.stdout.strip() == node1_vm.user, signed.stderr


def test_sudo_runs_in_a_pty_and_logs_to_its_own_file(first_apply, node1_vm):
    node1_vm.ssh("sudo true")
    log = node1_vm.ssh(f"sudo cat {SUDO.logfile}").stdout
    assert re.search(r"admin : .*COMMAND=/usr/bin/true", log), log[-1000:]
    defaults = node1_vm.ssh("sudo sudo -l -U admin").stdout
    assert "use_pty" in defaults and f"logfile={SUDO.logfile}" in defaults.replace('"', "")


def test_a_sudoers_file_visudo_rejects_never_lands(first_apply, node1_vm, tmp_path):
    """The drop-in operation with a broken file: the run fails, nothing lands in sudoers.d, sudo keeps working."""
    deploy = tmp_path / "bad_sudoers.py"
    deploy.write_text("from hosts.operations import harden\n"
                      "harden.sudoers_dropin(name='broken drop-in', text='Defaults this_is_no_option\\n',\n"
                      "                      path='/etc/sudoers.d/60-broken')\n")
    run = run_pyinfra({"node1_vms": [node1_vm.inventory_entry()]}, tmp_path, deploy=str(deploy),
                      timeout=BUDGET["refused"])
    assert run.returncode != 0 and not run.succeeded("node1-vm")
    assert "visudo refused the sudoers drop-in; nothing installed" in run.log, run.log[-3000:]
    assert node1_vm.ssh("sudo test -e /etc/sudoers.d/60-broken", check=False).returncode == 1
    assert node1_vm.ssh("sudo -n true").returncode == 0


def test_nftables_own_table_as_rendered_and_foreign_table_kept(first_apply, node1_vm):
    checks = {check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])}
    table = checks[f"nftables table inet {FIREWALL.table}"]
    assert table["status"] == "pass" and table["actual"] == table["expected"]
    assert f"policy {FIREWALL.input_policy};" in " ".join(table["actual"])
    assert f'iifname "{node1_vm.interface}" tcp dport 22 accept' in table["actual"]
    assert SURVIVOR_TABLE.split()[1] in first_apply["tables_after_apply"], first_apply["tables_after_apply"]


def test_vfat_stays_loadable_for_the_efi_partition_and_the_rest_is_blacklisted(first_apply, node1_vm):
    blacklist = node1_vm.ssh("cat /etc/modprobe.d/harden-blacklist.conf").stdout
    assert "vfat" not in blacklist and "install cramfs /bin/false" in blacklist
    # the node booted with /boot/efi mounted (vfat loaded then), or vfat loads on demand; cramfs never loads
    loaded = node1_vm.ssh("grep -qw '^vfat' /proc/modules && echo loaded || sudo modprobe -n -v vfat").stdout.strip()
    assert loaded == "loaded" or loaded.startswith("insmod"), loaded
    assert node1_vm.ssh("sudo modprobe -n -v cramfs", check=False).stdout.strip() == "install /bin/false"


def test_sysctl_and_auditctl_from_the_outside(first_apply, node1_vm):
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"
    loaded = node1_vm.ssh("sudo auditctl -l").stdout
    assert "-w /etc/shadow -p wa -k identity" in loaded
    assert "-w /usr/sbin/dockerd -p x -k docker" in loaded
    for arch in ("b64", "b32"):
        assert f"-a always,exit -F arch={arch} -S init_module," in loaded
    assert "-F path=/usr/bin/kmod -F perm=x" in loaded
    assert re.search(r"^enabled 2$", node1_vm.ssh("sudo auditctl -s").stdout, re.M)
    # immutable: neither root's -e 0 nor a removed rule takes effect before the next boot
    assert node1_vm.ssh("sudo auditctl -e 0", check=False).returncode != 0
    # auditctl exits 0 here and only says so; what counts is that the rule stays loaded
    removal = node1_vm.ssh("sudo auditctl -W /etc/shadow -p wa -k identity 2>&1", check=False).stdout
    assert "immutable" in removal, removal
    assert "-w /etc/shadow -p wa -k identity" in node1_vm.ssh("sudo auditctl -l").stdout
    assert re.search(r"^enabled 2$", node1_vm.ssh("sudo auditctl -s").stdout, re.M)
    assert node1_vm.ssh(f"sudo tail -n 1 {desired.AUDIT_FINALIZE_PATH}").stdout.strip() == "-e 2"
    conf = node1_vm.ssh("sudo cat /etc/audit/auditd.conf").stdout
    assert re.search(r"^max_log_file_action = KEEP_LOGS$", conf, re.M), conf
    grub = node1_vm.ssh(f"cat {desired.GRUB_DROPIN}").stdout
    assert all(parameter in grub for parameter in AUDITD.kernel_cmdline)


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


def lynis_points_lost(log: str) -> dict:
    """Hardening points Lynis withheld per test id (max minus assigned, summed), from lynis.log's "assigned partial
    number of hardening points (A of M)" lines under each "Performing test ID": where the index loses, by test."""
    lost: dict = {}
    test = None
    for line in log.splitlines():
        started = re.search(r"Performing test ID (\S+)", line)
        if started:
            test = started.group(1)
            continue
        partial = re.search(r"assigned partial number of hardening points \((\d+) of (\d+)\)", line)
        if partial and test:
            lost[test] = lost.get(test, 0) + int(partial.group(2)) - int(partial.group(1))
    return lost


@pytest.fixture(scope="session")
def lynis_started(first_apply, node1_vm):
    """Lynis (Debian's package) started once for the suite, in the background inside the VM, right after the
    first apply: the read-only tests that follow run while it works; lynis_report waits for it."""
    profile = "".join(f"{line}\\n" for line in LYNIS_PROFILE)  # printf's format expands \n
    node1_vm.ssh(f"printf '{profile}' | sudo tee /etc/lynis/custom.prf >/dev/null")
    node1_vm.ssh("sudo systemd-run --unit=suite-lynis --collect --quiet sh -c 'date +%s > /run/lynis.start; "
                 "lynis audit system --quick --no-colors >/dev/null 2>&1; date +%s > /run/lynis.end'")
    return time.monotonic()


@pytest.fixture(scope="session")
def lynis_report(lynis_started, node1_vm):
    """The one Lynis run's report and log, and how long it took inside the VM."""
    while node1_vm.ssh("test -e /run/lynis.end", check=False).returncode != 0:
        assert time.monotonic() - lynis_started < BUDGET["lynis"], f"Lynis exceeded its {BUDGET['lynis']} s budget"
        time.sleep(10)
    started, ended = (int(node1_vm.ssh(f"cat /run/lynis.{mark}").stdout) for mark in ("start", "end"))
    log = node1_vm.ssh("sudo cat /var/log/lynis.log").stdout
    slowest = sorted(lynis_test_seconds(log).items(), key=lambda item: -item[1])[:15]
    print(f"Lynis: {ended - started} s; slowest tests: {', '.join(f'{test} {spent:.0f} s' for test, spent in slowest)}")
    report = node1_vm.ssh("sudo cat /var/log/lynis-report.dat").stdout
    # kept beside the suite's junit.xml for benchmarks/hosts.md (what Lynis suggested, and where it withheld points)
    kept = REPO / "out" / "test"
    kept.mkdir(parents=True, exist_ok=True)
    (kept / "lynis-report.dat").write_text(report)
    (kept / "lynis.log").write_text(log)
    return {"report": report, "log": log, "seconds": ended - started}


def test_lynis_hardening_index(lynis_report, record_property):
    report = lynis_report["report"]
    index = int(re.search(r"^hardening_index=(\d+)$", report, re.M).group(1))
    suggestions = re.findall(r"^suggestion\[\]=([^|]+)", report, re.M)
    record_property("lynis_hardening_index", index)
    record_property("lynis_seconds", round(lynis_report["seconds"]))
    print(f"Lynis hardening index {index}; open suggestions: {', '.join(suggestions)}; points withheld per test: "
          f"{lynis_points_lost(lynis_report['log'])}")
    assert index >= LYNIS_TARGET, f"Lynis hardening index {index} < {LYNIS_TARGET}; suggestions: {suggestions}"
    # USB-3000: Lynis found USBGuard with every setting it weighs (8 points withheld without it)
    assert "USB-3000" not in lynis_points_lost(lynis_report["log"]), lynis_points_lost(lynis_report["log"])
    # BOOT-5122: Lynis found GRUB's superuser and password in the grub.cfg the node booted from
    assert re.search(r"^tests_executed=.*BOOT-5122", report, re.M) and "BOOT-5122" not in suggestions, suggestions


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


# A published port as Docker makes one, built inside the VM: a "container" namespace behind a link named docker0,
# Docker's DNAT of a node port to it and Docker's FORWARD accept for it (a table of their own, as iptables-nft makes
# them), and two neighbours: one on an interface named like the declared one (tailscale0), one on a LAN interface.
PUBLISHED_NET = """
set -e
for spec in "ctr docker0 172.17.0" "ts tailscale0 100.100.1" "lan lan0 192.168.77"; do
    set -- $spec
    ip netns add $1
    ip link add $2 type veth peer name eth0 netns $1
    ip addr add $3.1/24 dev $2 && ip link set $2 up
    ip -n $1 addr add $3.2/24 dev eth0 && ip -n $1 link set eth0 up && ip -n $1 link set lo up
    ip -n $1 route add default via $3.1
done
nft -f - <<RULES
table ip published_like_docker {
    chain prerouting { type nat hook prerouting priority dstnat; fib daddr type local tcp dport 15432 dnat to 172.17.0.2:5432; }
    chain forward { type filter hook forward priority filter; ip daddr 172.17.0.2 tcp dport 5432 accept; }
}
RULES
"""
LISTEN = ("import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
          "s.bind(('0.0.0.0', {port})); s.listen()\nwhile True: c, _ = s.accept(); c.sendall(b'ok'); c.close()")
CONNECT = ("import socket\ntry: print('reached', socket.create_connection(('{host}', {port}), timeout=8).recv(2).decode())"
           "\nexcept OSError as error: print(type(error).__name__)")


def _connect(node1_vm, namespace: str, host: str, port: int) -> str:
    script = CONNECT.format(host=host, port=port)
    return node1_vm.ssh(f'sudo ip netns exec {namespace} python3 -c "{script}"', timeout=120).stdout.strip()


def test_published_port_is_reachable_only_from_the_declared_interface(first_apply, node1_vm):
    """Docker publishes a port on every address and accepts it in its own FORWARD chain; our forward chain (a base
    chain of its own, policy drop) forwards it only from the declared interface. A LAN neighbour reaching the node's
    address, or routing to the container's address through the node, is dropped; the container's own outbound
    connection goes out. With our forward policy turned to accept, the LAN neighbour gets through (so the drop was
    ours) and the verifier fails on the rendered table; loading the deploy's file restores it."""
    assert FIREWALL.published_interfaces == ("tailscale0",) and node1_vm.interface not in FIREWALL.published_interfaces
    node1_vm.ssh(f"sudo sh -c '{PUBLISHED_NET}'")
    table = node1_vm.ssh(f"sudo nft list table inet {FIREWALL.table}").stdout
    try:
        for unit, namespace, port in (("suite-container", "ctr", 5432), ("suite-lan-listener", "lan", 8080)):
            listen = LISTEN.format(port=port)
            node1_vm.ssh(f'sudo systemd-run --unit={unit} --collect --quiet timeout 600 ip netns exec {namespace} '
                         f'python3 -c "{listen}"')
        time.sleep(5)
        assert _connect(node1_vm, "ts", "100.100.1.1", 15432) == "reached ok"
        assert _connect(node1_vm, "lan", "192.168.77.1", 15432) == "TimeoutError"
        assert _connect(node1_vm, "lan", "172.17.0.2", 5432) == "TimeoutError"
        assert _connect(node1_vm, "ctr", "192.168.77.2", 8080) == "reached ok"
        node1_vm.ssh(f"sudo nft add chain inet {FIREWALL.table} forward '{{ policy accept; }}'")
        assert _connect(node1_vm, "lan", "192.168.77.1", 15432) == "reached ok"
        check = {check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])}[
            f"nftables table inet {FIREWALL.table}"]
        assert check["status"] == "fail" and "type filter hook forward priority filter; policy accept;" in \
            check["actual"], check
    finally:
        node1_vm.ssh("sudo nft -f /etc/nftables.conf; sudo systemctl stop suite-container suite-lan-listener; "
                     "sudo nft delete table ip published_like_docker; for ns in ctr ts lan; do sudo ip netns del $ns; "
                     "done", check=False)
    assert node1_vm.ssh(f"sudo nft list table inet {FIREWALL.table}").stdout == table


def test_dry_run_after_tampering_lists_exactly_the_drift(first_apply, node1_vm, tmp_path):
    """A verdict turned from drop to accept keeps the rule count: the verifier and the deploy see it all the same."""
    node1_vm.ssh("sudo sysctl -q -w kernel.kptr_restrict=0")
    node1_vm.ssh("echo 'X11Forwarding yes' | sudo tee -a /etc/ssh/sshd_config >/dev/null")
    handle = re.search(r"ct state invalid drop # handle (\d+)",
                       node1_vm.ssh(f"sudo nft -a list chain inet {FIREWALL.table} input").stdout).group(1)
    node1_vm.ssh(f"sudo nft replace rule inet {FIREWALL.table} input handle {handle} ct state invalid accept")
    inventory = {"node1_vms": [node1_vm.inventory_entry()]}
    checks = {check["check"]: check for check in verify_host("node1-vm", inventory["node1_vms"][0][1])}
    assert checks[f"nftables table inet {FIREWALL.table}"]["status"] == "fail"
    assert "ct state invalid accept" in checks[f"nftables table inet {FIREWALL.table}"]["actual"]
    dry = run_pyinfra(inventory, tmp_path, "--dry", timeout=BUDGET["re_run"])
    assert dry.returncode == 0, dry.log[-3000:]
    assert sorted(dry.changed("node1-vm")) == sorted(
        ["sysctl values", "sshd_config validated by sshd -t, then reloaded", f"table inet {FIREWALL.table}"])
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "0", "a dry run must change nothing"
    repair = run_pyinfra(inventory, tmp_path, timeout=BUDGET["re_run"])
    assert repair.succeeded("node1-vm"), repair.log[-3000:]
    assert node1_vm.ssh("sudo sysctl -n kernel.kptr_restrict").stdout.strip() == "2"
    assert "ct state invalid drop" in node1_vm.ssh(f"sudo nft list table inet {FIREWALL.table}").stdout


def test_unencrypted_data_disk_fails_naming_the_control(first_apply, node1_vm_plain_data, tmp_path):
    run = run_pyinfra({"node1_vms": [node1_vm_plain_data.inventory_entry("node1-plain-data")]}, tmp_path,
                      timeout=BUDGET["refused"])
    assert run.returncode != 0
    error = re.search(r"Operation error in .*: (data at rest not encrypted: .*)", run.log)
    assert error, run.log[-3000:]
    assert "/srv/plain/postgres on /dev/vdc) is not on dm-crypt" in error.group(1)
    assert "A.8.24" in error.group(1) and "A.7.10" in error.group(1)
    assert "[node1-plain-data] Success" not in run.log, "the encryption check runs first: nothing may change"


def test_restore_onto_a_fresh_node_after_node1s_disks_are_gone(first_apply, node1_vm, backup_offsite, backup_steps,
                                                             tmp_path):
    """Node1's disks are gone: a second VM boots from the bare image with disks of its own (none of Node1's backups,
    repository keys or secret files are on it). The operator hands it the off-site location, the off-site CA and the
    operator's key (0600, through ssh's stdin, never on a command line), and `restic restore latest --tag
    rae-dataset=files --target /` from the append-only off-site repository Node1 wrote brings back the secret files
    and the CA onto its encrypted data volume, with their owner and mode, equal to what Node1 held. README's
    "Restore when Node1's disks are gone", steps 1 to 3, on a node. The fresh node powers off afterwards."""
    files = first_apply["backup"]["files"]
    fresh = boot.boot(tmp_path / "fresh-node")
    try:
        vm = Node1VM(**{**node1_vm.__dict__, "host": fresh.host, "port": fresh.port, "process": fresh,
                        "known_hosts_path": fresh.known_hosts_path, "console_log": fresh.console_log})
        vm.wait_for_data_disk()
        assert node1_vm.ssh("cat /proc/sys/kernel/random/boot_id").stdout != vm.ssh(
            "cat /proc/sys/kernel/random/boot_id").stdout, "the fresh node is another machine"
        absent = [path for path in (*files, BACKUP_ROOT, BACKUP_CREDENTIALS)
                  if vm.ssh(f"sudo test -e {path}", check=False).returncode == 0]
        assert not absent, f"the fresh node already holds {absent}"
        keys = "/root/restore"
        _put_secret(vm, f"{keys}/operator-key", backup_offsite["operator_key_file"].read_text())
        _put_secret(vm, f"{keys}/location", f"rest:https://{backup_offsite['user']}:{backup_offsite['password']}@"
                                            f"{backup_offsite['url'].removeprefix('https://')}\n")
        _put_secret(vm, f"{keys}/offsite-ca.crt", backup_offsite["tls"]["ca.crt"].read_text(), "0644")
        started = time.monotonic()
        restore = vm.ssh(f"sudo restic --repository-file {keys}/location --password-file {keys}/operator-key "
                         f"--cacert {keys}/offsite-ca.crt --no-cache restore latest --tag rae-dataset=files --target /",
                         check=False, timeout=BUDGET["backup"])
        backup_steps["restore on a fresh node"] = [round(time.monotonic() - started, 1)]
        assert restore.returncode == 0, restore.stderr[-2000:]
        for path, content in files.items():
            assert vm.ssh(f"sudo cat {path}").stdout == content, path
            assert vm.ssh(f"sudo stat -c '%a %U' {path}").stdout.split() == ["400", "root"], path
        mount = vm.ssh(f"findmnt -n -o SOURCE --target {BACKUP_FILES[0]}").stdout.strip()
        assert mount == "/dev/mapper/srvdata", mount
    finally:
        fresh.stop()


# A container image made on the node from its own binaries (no registry, no network): a shell, cat, sleep, id.
PROBE_IMAGE = "rae-probe:node"
PROBE_IMAGE_SCRIPT = """set -eu
root=$(mktemp -d)
for binary in /bin/sh /bin/cat /bin/sleep /usr/bin/id; do
    cp -L --parents "$binary" "$root"
    for library in $(ldd "$binary" | grep -o '/[^ ]*'); do cp -L --parents "$library" "$root"; done
done
tar -C "$root" -c . | docker import - {image} >/dev/null
rm -rf "$root"
"""


def test_docker_on_node1_runs_its_containers_in_a_remapped_user_namespace(first_apply, node1_vm, tmp_path):
    """Node1 with Docker (Debian's docker.io, installed as an operator would, after Lynis has read the node): the
    deploy's Docker part writes /etc/docker/daemon.json from baseline.DOCKER_DAEMON, userns-remap included, and
    restarts the engine; the verifier reads the running engine (issue 12 item 6). Then, from the node's own kernel: a container's
    root is the first uid of dockremap's subordinate range, a root-only host file mounted into it stays unreadable,
    and a secret file handed to a service's uid is readable by that service only when it is owned by the mapped ids
    (posture.container.mapped_ids, what components.host_files writes), not by the bare container uid."""
    # apparmor: the generic kernel runs AppArmor, and dockerd refuses to start a container whose docker-default
    # profile it cannot load (apparmor_parser is a recommendation of docker.io, not a dependency)
    install = node1_vm.ssh("sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
                           "docker.io apparmor", check=False, timeout=BUDGET["re_run"])
    assert install.returncode == 0, install.stderr[-2000:]
    # The deploy's Docker part (hosts/deploys/node1.py calls it with every other part; a whole re-run costs minutes
    # under software emulation and changes nothing else: test_second_run_changes_nothing_while_bad_hosts_fail_alone)
    deploy = tmp_path / "docker_daemon.py"
    deploy.write_text("from hosts.deploys.services import harden_docker_daemon\n\nharden_docker_daemon()\n")
    run = run_pyinfra({"node1_vms": [node1_vm.inventory_entry()]}, tmp_path, deploy=str(deploy),
                      timeout=BUDGET["re_run"])
    print(f"Docker daemon part of the deploy: {run.seconds:.0f} s, changed {run.changed('node1-vm')}")
    assert run.succeeded("node1-vm"), run.log[-4000:]
    assert run.changed("node1-vm") == ["daemon.json", "docker restarted on change"]
    assert json.loads(node1_vm.ssh("sudo cat /etc/docker/daemon.json").stdout)["userns-remap"] == "default"

    checks = {check["check"]: check for check in verify_host("node1-vm", node1_vm.inventory_entry()[1])
              if check["check"].startswith("docker")}
    assert {"docker daemon.json", "docker engine user-namespace remap", "docker engine live restore",
            "docker engine log driver"} <= set(checks), checks
    assert {check["status"] for check in checks.values()} == {"pass"}, json.dumps(checks, indent=1)
    first_uid, first_gid, size = map(int, re.fullmatch(r"container root is host (\d+):(\d+) \((\d+) ids\)", checks[
        "docker engine user-namespace remap"]["actual"]).groups())
    assert first_uid > 0 and first_gid > 0 and size >= 65536

    node1_vm.ssh(f"sudo sh -c {shlex.quote(PROBE_IMAGE_SCRIPT.format(image=PROBE_IMAGE))}")
    docker = f"sudo docker run --rm --network none --read-only --cap-drop ALL --security-opt no-new-privileges"
    assert node1_vm.ssh(f"{docker} {PROBE_IMAGE} /usr/bin/id -u").stdout.strip() == "0"
    node1_vm.ssh(f"sudo docker run -d --name rae-probe --network none {PROBE_IMAGE} /bin/sleep 600")
    try:
        pid = node1_vm.ssh("sudo docker inspect -f '{{.State.Pid}}' rae-probe").stdout.strip()
        host_view = node1_vm.ssh(f"sudo awk '/^Uid:/ {{print $2}}' /proc/{pid}/status").stdout.strip()
        assert host_view == str(first_uid), f"the container's root is host uid {host_view}"
    finally:
        node1_vm.ssh("sudo docker rm -f rae-probe", check=False)

    shadow = node1_vm.ssh(f"{docker} -v /etc/shadow:/probe/shadow:ro {PROBE_IMAGE} /bin/cat /probe/shadow",
                          check=False)
    assert shadow.returncode != 0 and "Permission denied" in shadow.stderr, (shadow.returncode, shadow.stderr)

    uid, gid = service_user("postgres")
    mapped = mapped_ids(uid, gid, (first_uid, first_gid, size))
    for owner, readable in ((mapped, True), ((uid, gid), False)):
        path = f"/srv/rae-probe-secret-{owner[0]}"
        node1_vm.ssh(f"echo probe | sudo tee {path} >/dev/null && sudo chown {owner[0]}:{owner[1]} {path} && "
                     f"sudo chmod 0400 {path}")
        read = node1_vm.ssh(f"{docker} --user {uid}:{gid} -v {path}:/probe/secret:ro {PROBE_IMAGE} "
                            "/bin/cat /probe/secret", check=False)
        node1_vm.ssh(f"sudo rm -f {path}")
        assert (read.returncode == 0 and read.stdout == "probe\n") is readable, (owner, read.returncode, read.stderr)
