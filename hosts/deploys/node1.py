"""Bring a node to the host baseline: `pyinfra hosts/inventory.py hosts/deploys/node1.py` (add --dry for drift).

Order matters: the encryption check comes first, so a node whose data is not on LUKS fails before
anything is changed; SSH comes before the firewall, which is loaded last.
Before anything, the connection pyinfra made is checked against baseline.DEPLOY (strict host keys,
one named key, no agent): a host whose inventory data is weaker is refused, wherever that inventory lives.
The deploy sets its own upload directory, so uploads keep working once libpam-tmpdir (installed by this very
run) gives root a private TMPDIR. Its last operation records the completed baseline on the node
(hosts.verify reports a node without it as not completely hardened); a run that stops half-way says so.
Host data read here: harden_scope ("node": a machine with its own kernel and systemd; "container":
sshd in a container, where kernel, systemd and disk parts are reported not applicable),
firewall_ssh_interfaces (with firewall_ssh_exception for one outside Tailscale), firewall_service_ports,
firewall_published_interfaces, luks_data_paths, apt_security_mirror, journal_upload_url and journal_upload_tls (the
log collector), the backup_* keys of hosts/deploys/backup.py, the tang_* keys of hosts/network_unlock.py
(network-bound unlock of the data volume; without tang_url and tang_thp that part adds no operation), and
grub_password_hash_file (a node: the boot loader's superuser password hash, a 0600 file on the control node;
hosts.desired.grub_password_hash); optional usbguard_allow_rules (a node: USB devices allowed beyond hubs and
all-HID devices, one USBGuard `allow` rule each; hosts.desired.usbguard_rules_text).
"""

from pyinfra import config, host, state
from pyinfra.api import DeployError

from baseline import DEPLOY, LUKS, BaselineViolation
from hosts import connection, desired
from hosts.deploys import report
from hosts.deploys.audit import harden_audit
from hosts.deploys.backup import harden_backups
from hosts.deploys.clevis import check_network_unlock, harden_network_unlock
from hosts.deploys.firewall import check_ssh_interfaces, harden_firewall
from hosts.deploys.services import (harden_docker_daemon, harden_journal_upload, harden_time_and_logs, harden_updates,
                                    harden_usb)
from hosts.deploys.ssh import harden_ssh
from hosts.deploys.system import harden_accounts, harden_files, harden_kernel, harden_packages
from hosts.operations import harden

weaker = connection.problems(host.connector.data, host.data)
if weaker:
    raise DeployError(
        f"{host.name}: refused, nothing read or changed: its connection data is weaker than baseline.DEPLOY: "
        + "; ".join(str(BaselineViolation(problem, controls)) for problem, controls in weaker)
        + ". Build the inventory entry with hosts.connection.node() or set these keys in the host's data; "
          "pyinfra had already connected with this data, so check any key it added to the known_hosts file.")
config.TEMP_DIR = DEPLOY.upload_dir
report.register(state)

scope = host.data.get("harden_scope")
if scope not in harden.SCOPES:
    raise DeployError(f"{host.name}: host data harden_scope must be one of {harden.SCOPES}, not {scope!r}")

if scope == "node":
    try:  # the boot loader's password hash, from the control node, before anything on the node is read or changed
        desired.grub_password_hash(host.data)
    except BaselineViolation as violation:
        raise DeployError(f"{host.name}: refused, nothing changed: {violation}") from None
    check_ssh_interfaces()
    check_network_unlock()
    harden.require_encrypted(name="data and swap on LUKS (SEC-06)",
                             data_paths=host.data.get("luks_data_paths", LUKS.data_paths))
    harden_packages()
    harden_network_unlock()
else:
    reason = "harden_scope=container: no own kernel, systemd or disks; the image brings its packages"
    for part in ("LUKS data and swap", "packages", "sysctl, modules and mounts", "auditd", "nftables",
                 "time sync and journald", "journal upload", "USB devices", "docker daemon", "backup timers"):
        harden.not_applicable(name=f"{part}: not applicable", part=part, reason=reason)

harden_ssh()
harden_accounts()
harden_files()
if scope == "node":
    harden_kernel()
    harden_audit()
    harden_updates()
    harden_time_and_logs()
    harden_journal_upload()
    harden_usb()
    harden_docker_daemon()
    harden_backups()
    harden_firewall()
harden.text_file(name="deploy completed: baseline recorded", path=DEPLOY.completion_marker,
                 text=desired.completion_text())
