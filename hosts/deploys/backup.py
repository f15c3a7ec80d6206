"""Backups scheduled on the node: restic, the backup service user, and the systemd units of hosts/backup_units.py.

Host data read here:
- backup_config: the `harden backup` config on the node (the stack's `backup.json`); without it the node holds
  no stack data to back up and the part is recorded as not applicable (the audit's backup evidence then stays
  unknown, never pass)
- backup_root: the local repository's volume (`rae:backupRoot`: the repository and the backup log); required
  with backup_config
- backup_project_dir: where the deploy installs the toolkit the timers run, with its .venv (default /opt/rae):
  this checkout's source and the wheels of requirements-backup.lock, both built on the control node and uploaded
  (hosts/backup_toolkit.py); the node installs the wheels with --require-hashes from no index, and only when what it
  holds differs from this checkout (the stamp file), so a re-run changes nothing

The `docker` group (root-equivalent) and docker.service only where the config backs up a container's data
(`postgres`, `qdrant`; hosts.desired.backup_needs_docker); a config of files only gets neither, and a user left
in the group by an earlier config is taken out of it.

Where the node runs Qdrant (a running `rae-<stack>-qdrant-store` container), the config must back it up: its `qdrant`
entry names the read-only API key and the snapshot token (never the full-access key), and both files become the
backup user's, 0600 (hosts.desired.backup_qdrant_credentials). A token not minted yet is reported, not created:
`harden backup qdrant-token` writes it (then a second deploy, or the operator, hands it over).

The service may write only to backup_root, the off-site cache beside the config (`<config dir>/cache`) and its
own state directory; the first two are made the backup user's (0700). The config and the repository passwords
stay read-only to it (read with CAP_DAC_READ_SEARCH).
"""

import io
import posixpath

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.facts.files import File
from pyinfra.operations import apt, files, server, systemd

from baseline import BaselineViolation
from pyinfra.facts.server import Users

from hosts import backup_toolkit, backup_units, desired
from hosts.facts.node import BackupConfigDatasets, BackupConfigQdrant, BackupToolkit, RunningContainerNames
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
    try:
        docker = desired.backup_needs_docker(host.get_fact(BackupConfigDatasets, config_path=config_path))
    except BaselineViolation as error:
        raise DeployError(f"{host.name}: backup config {config_path}: {error}") from None
    apt.packages(name=f"{' and '.join(backup_toolkit.NODE_PACKAGES)} present",
                 packages=list(backup_toolkit.NODE_PACKAGES))
    _install_toolkit(project_dir)
    user = backup_units.SERVICE_USER
    server.group(name=f"{user}: system group", group=user, system=True)
    server.user(name=f"{user}: system user, no login{', in the docker group' if docker else ''}", user=user,
                group=user, groups=["docker"] if docker else None, system=True, home=backup_units.STATE_DIR,
                ensure_home=False, shell="/usr/sbin/nologin")
    if not docker and "docker" in (host.get_fact(Users).get(user) or {}).get("groups", ()):
        server.shell(name=f"{user}: out of the docker group (the config backs up no container)",
                     commands=[f"gpasswd -d {user} docker"])
    for directory in (backup_units.STATE_DIR, backup_units.TMP_DIR, *write_paths):
        files.directory(name=f"{directory}: the backup user's, 0700", path=directory, user=user, group=user,
                        mode="0700", recursive=directory in write_paths)
    _own_qdrant_credentials(config_path, user)
    changed = [harden.text_file(name=f"{name} installed", path=f"{backup_units.UNIT_DIR}/{name}", text=text)
               for name, text in backup_units.units(project_dir, config_path, write_paths, docker).items()]
    systemd.daemon_reload(name="systemd reloaded (backup units changed)",
                          _if=lambda: any(operation.did_change() for operation in changed))
    for timer in backup_units.timers():
        systemd.service(name=f"{timer} enabled and started", service=timer, running=True, enabled=True)


def _install_toolkit(project_dir: str) -> None:
    """This checkout's toolkit and the lock's wheels at project_dir, its .venv (re)built when the node's stamp differs
    from this checkout's or its `harden backup` does not run."""
    try:
        wheels = backup_toolkit.wheelhouse()
    except RuntimeError as error:
        raise DeployError(f"{host.name}: {error}") from None
    install = posixpath.join(project_dir, backup_toolkit.INSTALL_DIR)
    for directory in (project_dir, install, posixpath.join(install, "wheels")):
        files.directory(name=f"{directory}: root's, 0755", path=directory, user="root", group="root", mode="0755")
    files.put(name="backup toolkit: source archive uploaded", src=io.BytesIO(backup_toolkit.source_archive()),
              dest=posixpath.join(install, "toolkit.tar.gz"), user="root", group="root", mode="0644")
    for wheel in sorted(wheels.glob("*.whl")):
        files.put(name=f"backup toolkit: {wheel.name} uploaded", src=str(wheel),
                  dest=posixpath.join(install, "wheels", wheel.name), user="root", group="root", mode="0644")
    present = host.get_fact(BackupToolkit, project_dir=project_dir, stamp_file=backup_toolkit.STAMP_FILE)
    if present != {"stamp": backup_toolkit.stamp(), "runs": True}:
        server.shell(name=f"backup toolkit installed at {project_dir} (venv from {backup_toolkit.LOCK}, hash-checked)",
                     commands=[backup_toolkit.install_command(project_dir)])


def _own_qdrant_credentials(config_path: str, user: str) -> None:
    """The Qdrant data set in the backup config where the node runs Qdrant; its two credential files the user's, 0600."""
    try:
        credentials = desired.backup_qdrant_credentials(
            host.get_fact(BackupConfigQdrant, config_path=config_path),
            desired.runs_qdrant(host.get_fact(RunningContainerNames)))
    except BaselineViolation as error:
        raise DeployError(f"{host.name}: backup config {config_path}: {error}") from None
    if not credentials:
        harden.not_applicable(name="qdrant backup credentials", part="qdrant backup",
                              reason="no Qdrant on this node and none in its backup config")
        return
    for key, path in credentials.items():
        if host.get_fact(File, path=path) is None:
            if key == "snapshot_token_file":
                harden.not_applicable(name=f"{path}: not minted yet", part="qdrant snapshot token",
                                      reason="mint it with `harden backup qdrant-token`; the audit stays unknown")
                continue
            raise DeployError(f"{host.name}: the backup config's Qdrant {key} {path} does not exist "
                              "[ISO 27001:2022 A.8.13 Information backup]")
        files.file(name=f"{path}: the backup user's, 0600", path=path, user=user, group=user, mode="0600",
                   touch=False)
