"""Backups scheduled on the node: restic, the backup service user, and the systemd units of hosts/backup_units.py.

Host data read here:
- backup_config: the `harden backup` config on the node (the stack's `backup.json`); without it the node holds
  no stack data to back up and the part is recorded as not applicable (the audit's backup evidence then stays
  unknown, never pass)
- backup_project_dir: the toolkit's checkout with its .venv on the node (default /opt/rae)
- backup_write_paths: where a run writes: the local repository with its log, the off-site cache
  (default: the config's directory and /srv/backup)
"""

import posixpath

from pyinfra import host
from pyinfra.api import deploy
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
    project_dir = host.data.get("backup_project_dir", "/opt/rae")
    write_paths = tuple(host.data.get("backup_write_paths", (posixpath.dirname(config_path), "/srv/backup")))
    apt.packages(name="restic present", packages=["restic"])
    server.user(name=f"{backup_units.SERVICE_USER}: system user, no login, in the docker group",
                user=backup_units.SERVICE_USER, system=True, home=backup_units.STATE_DIR, create_home=False,
                shell="/usr/sbin/nologin", groups=["docker"])
    for directory in (backup_units.STATE_DIR, backup_units.TMP_DIR):
        files.directory(name=f"{directory}: private to the backup user", path=directory,
                        user=backup_units.SERVICE_USER, group=backup_units.SERVICE_USER, mode="0700")
    changed = [harden.text_file(name=f"{name} installed", path=f"{backup_units.UNIT_DIR}/{name}", text=text)
               for name, text in backup_units.units(project_dir, config_path, write_paths).items()]
    systemd.daemon_reload(name="systemd reloaded (backup units changed)",
                          _if=lambda: any(operation.did_change() for operation in changed))
    for timer in backup_units.timers():
        systemd.service(name=f"{timer} enabled and started", service=timer, running=True, enabled=True)
