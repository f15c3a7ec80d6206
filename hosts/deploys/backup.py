"""Backups scheduled on the node: restic, the backup service user, and the systemd units of hosts/backup_units.py.

Host data read here:
- backup_config: the `harden backup` config on the node (the stack's `backup.json`); without it the node holds
  no stack data to back up and the part is recorded as not applicable (the audit's backup evidence then stays
  unknown, never pass)
- backup_root: the local repository's volume (`rae:backupRoot`: the repository and the backup log); required
  with backup_config
- backup_project_dir: the toolkit's checkout with its .venv on the node (default /opt/rae)

The service may write only to backup_root, the off-site cache beside the config (`<config dir>/cache`) and its
own state directory; the first two are made the backup user's (0700). The config and the repository passwords
stay read-only to it (read with CAP_DAC_READ_SEARCH).
"""

import posixpath

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.operations import apt, files, server, systemd

from hosts import backup_units
from hosts.operations import harden


@deploy("Backups scheduled (baseline.BACKUP)")
def harden_backups():
    config_path = host.data.get("backup_config")
    if not config_path:
        harden.not_applicable(name="backup timers", part="backup timers",
                              reason="host data backup_config is not set: no stack data on this node to back up")
        return
    backup_root = host.data.get("backup_root")
    if not backup_root:
        raise DeployError(f"{host.name}: host data backup_config is set but backup_root is not: the backup service "
                          "would have nowhere it may write [ISO 27001:2022 A.8.13 Information backup]")
    project_dir = host.data.get("backup_project_dir", "/opt/rae")
    write_paths = (backup_root, posixpath.join(posixpath.dirname(config_path), "cache"))
    apt.packages(name="restic present", packages=["restic"])
    user = backup_units.SERVICE_USER
    server.group(name=f"{user}: system group", group=user, system=True)
    server.user(name=f"{user}: system user, no login, in the docker group", user=user, group=user, groups=["docker"],
                system=True, home=backup_units.STATE_DIR, ensure_home=False, shell="/usr/sbin/nologin")
    for directory in (backup_units.STATE_DIR, backup_units.TMP_DIR, *write_paths):
        files.directory(name=f"{directory}: the backup user's, 0700", path=directory, user=user, group=user,
                        mode="0700", recursive=directory in write_paths)
    changed = [harden.text_file(name=f"{name} installed", path=f"{backup_units.UNIT_DIR}/{name}", text=text)
               for name, text in backup_units.units(project_dir, config_path, write_paths).items()]
    systemd.daemon_reload(name="systemd reloaded (backup units changed)",
                          _if=lambda: any(operation.did_change() for operation in changed))
    for timer in backup_units.timers():
        systemd.service(name=f"{timer} enabled and started", service=timer, running=True, enabled=True)
