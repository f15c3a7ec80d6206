"""Bring a node to the host baseline: `pyinfra hosts/inventory.py hosts/deploys/node1.py` (add --dry for drift).

Order matters: the encryption check comes first, so a node whose data is not on LUKS fails before
anything is changed; SSH comes before the firewall, which is loaded last.
Host data read here: harden_scope ("node": a machine with its own kernel and systemd; "container":
sshd in a container, where kernel, systemd and disk parts are reported not applicable),
firewall_ssh_interfaces, firewall_service_ports, luks_data_paths.
"""

from pyinfra import host
from pyinfra.api import DeployError

from baseline import LUKS
from hosts.deploys.audit import harden_audit
from hosts.deploys.firewall import harden_firewall
from hosts.deploys.services import harden_docker_daemon, harden_time_and_logs, harden_updates
from hosts.deploys.ssh import harden_ssh
from hosts.deploys.system import harden_accounts, harden_files, harden_kernel, harden_packages
from hosts.operations import harden

scope = host.data.get("harden_scope")
if scope not in harden.SCOPES:
    raise DeployError(f"{host.name}: host data harden_scope must be one of {harden.SCOPES}, not {scope!r}")

if scope == "node":
    harden.require_encrypted(name="data and swap on LUKS (SEC-06)",
                             data_paths=host.data.get("luks_data_paths", LUKS.data_paths))
    harden_packages()
else:
    reason = "harden_scope=container: no own kernel, systemd or disks; the image brings its packages"
    for part in ("LUKS data and swap", "packages", "sysctl, modules and mounts", "auditd", "nftables",
                 "time sync and journald", "docker daemon"):
        harden.not_applicable(name=f"{part}: not applicable", part=part, reason=reason)

harden_ssh()
harden_accounts()
harden_files()
if scope == "node":
    harden_kernel()
    harden_audit()
    harden_updates()
    harden_time_and_logs()
    harden_docker_daemon()
    harden_firewall()
