"""The backup schedule of a node as systemd units, derived from baseline.BACKUP: what hosts/deploys/backup.py
installs, what README quotes and what the tests verify with `systemd-analyze verify`.

One oneshot service per `harden backup` action and one timer each: `run` daily at BACKUP.start_time,
`check` daily two hours later, `forget` (restic forget --keep-within BACKUP.retention_days --prune) weekly,
`drill` weekly (BACKUP.drill_interval_days is at most 7, or the drill would be too old by the audit's rule).
Each run appends JSON lines to the backup log the audit reads; its stdout goes to the journal under
SyslogIdentifier=rae-backup.

The services run as their own system user, not root. Where the config backs up a container's data (`postgres`,
`qdrant`: the dump runs `docker exec` in the Postgres container, the drill starts scratch containers) the user is in
the `docker` group and the units require docker.service: that group is root-equivalent on the host, so the unit's
sandbox limits mistakes and plain-file access, not a compromised backup tool. A config of files only (the secret
files and the CA) gets neither. Ambient capabilities: CAP_DAC_READ_SEARCH (read the secret files and the CA, owned
by the service uid 0400, as restic's own docs advise instead of root) and, with Docker only, CAP_CHOWN (the drill's
throwaway secret files are handed to the container's uid).

Pure: reads the baseline, imports nothing from pyinfra.

    >>> units("/opt/rae", "/srv/data/backup-credentials/backup.json", ("/srv/backup",))["rae-backup-run.timer"]
"""

import shlex

from baseline import BACKUP, require

SERVICE_USER = "rae-backup"
STATE_DIR = "/var/lib/rae-backup"
TMP_DIR = f"{STATE_DIR}/tmp"
UNIT_DIR = "/etc/systemd/system"
ACTIONS = ("run", "check", "forget", "drill")
_CONTROLS = ("A.8.13", "A.5.30")


# Action -> (weekly on Sunday?, hours and minutes after BACKUP.start_time).
_SLOTS = {"run": (False, 0, 0), "check": (False, 2, 0), "forget": (True, 1, 30), "drill": (True, 3, 0)}


def _clock(action: str) -> tuple[bool, int, int]:
    weekly, hours_later, minutes_later = _SLOTS[action]
    hours, minutes = (int(part) for part in BACKUP.start_time.split(":"))
    total = (hours * 60 + minutes + hours_later * 60 + minutes_later) % (24 * 60)
    return weekly, total // 60, total % 60


def schedule() -> dict[str, str]:
    """Action -> systemd OnCalendar expression (UTC)."""
    require(BACKUP.drill_interval_days >= 7, f"backup.drill_interval_days {BACKUP.drill_interval_days} is shorter "
                                             "than the weekly drill timer", _CONTROLS)
    require(BACKUP.rpo_hours > 24, f"backup.rpo_hours {BACKUP.rpo_hours} is not met by the daily backup timer "
                                   "(a backup is up to 24 h old when the next run starts)", BACKUP.controls("rpo_hours"))
    expressions = {}
    for action in ACTIONS:
        weekly, hours, minutes = _clock(action)
        expressions[action] = f"{'Sun ' if weekly else ''}*-*-* {hours:02d}:{minutes:02d}:00 UTC"
    return expressions


def cron_schedule() -> dict[str, str]:
    """The same schedule as cron's five fields (cron reads the system clock: run it in UTC)."""
    schedule()
    expressions = {}
    for action in ACTIONS:
        weekly, hours, minutes = _clock(action)
        expressions[action] = f"{minutes} {hours} * * {'0' if weekly else '*'}"
    return expressions


def service_name(action: str) -> str:
    require(action in ACTIONS, f"backup action {action!r} is not one of {ACTIONS}", _CONTROLS)
    return f"rae-backup-{action}"


def service_unit(action: str, project_dir: str, config_path: str, write_paths: tuple[str, ...],
                 docker: bool = True) -> str:
    """A hardened oneshot service running `harden backup ACTION --config CONFIG` from the project's .venv.

    + project_dir: the toolkit's checkout on the node (with its .venv)
    + config_path: the `harden backup` config (the stack's backup.json)
    + write_paths: where the run writes: the local repository and its log, the off-site cache
    + docker: the config backs up a container's data (desired.backup_needs_docker): the docker group and
      docker.service, CAP_CHOWN for the drill
    """
    require(all(path.startswith("/") for path in (project_dir, config_path, *write_paths)),
            f"backup units: paths must be absolute ({project_dir}, {config_path}, {list(write_paths)})", _CONTROLS)
    command = shlex.join([f"{project_dir}/.venv/bin/harden", "backup", action, "--config", config_path])
    writable = " ".join(sorted({*write_paths, STATE_DIR}))
    capabilities = "CAP_DAC_READ_SEARCH CAP_CHOWN" if docker else "CAP_DAC_READ_SEARCH"
    requires = "Requires=docker.service\nAfter=docker.service network-online.target" if docker else \
        "After=network-online.target"
    groups = "SupplementaryGroups=docker\n" if docker else ""
    tmp_comment = ("# The drill's throwaway secrets are bind-mounted by dockerd: they must sit on a path the host sees "
                   "(no PrivateTmp).\n") if docker else ""
    return f"""# Written by hosts/deploys/backup.py from hosts/backup_units.py (baseline.BACKUP); edits are reverted.
[Unit]
Description=RAE backup: harden backup {action}
Documentation=file://{project_dir}/README.md
{requires}
Wants=network-online.target

[Service]
Type=oneshot
User={SERVICE_USER}
Group={SERVICE_USER}
{groups}WorkingDirectory={project_dir}
ExecStart={command}
SyslogIdentifier=rae-backup
StateDirectory=rae-backup
StateDirectoryMode=0700
UMask=0077
{tmp_comment}Environment=TMPDIR={TMP_DIR}
AmbientCapabilities={capabilities}
CapabilityBoundingSet={capabilities}
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={writable}
ProtectHome=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
# AF_NETLINK: glibc's getaddrinfo reads the interfaces (AI_ADDRCONFIG) when resolving the off-site server.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
"""


def timer_unit(action: str) -> str:
    """The timer of one action: its OnCalendar, Persistent (a run missed while the node was off runs at boot)."""
    return f"""# Written by hosts/deploys/backup.py from hosts/backup_units.py (baseline.BACKUP); edits are reverted.
[Unit]
Description=RAE backup: harden backup {action} on schedule

[Timer]
OnCalendar={schedule()[action]}
Persistent=true
RandomizedDelaySec=300
Unit={service_name(action)}.service

[Install]
WantedBy=timers.target
"""


def units(project_dir: str, config_path: str, write_paths: tuple[str, ...], docker: bool = True) -> dict[str, str]:
    """File name -> content of every unit (services and timers), in install order (docker: as in service_unit)."""
    rendered = {}
    for action in ACTIONS:
        rendered[f"{service_name(action)}.service"] = service_unit(action, project_dir, config_path, write_paths,
                                                                   docker)
        rendered[f"{service_name(action)}.timer"] = timer_unit(action)
    return rendered


def timers() -> tuple[str, ...]:
    return tuple(f"{service_name(action)}.timer" for action in ACTIONS)


def cron_lines(project_dir: str, config_path: str) -> str:
    """/etc/cron.d lines running the same actions on the same schedule (hosts without these timers)."""
    return "".join(f"{when}  root  cd {shlex.quote(project_dir)} && .venv/bin/harden backup {action} --config "
                   f"{shlex.quote(config_path)}\n" for action, when in cron_schedule().items())


def main(argv: list[str] | None = None) -> int:
    """Write the units for a host without pyinfra (the local stack): `python -m hosts.backup_units --help`."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m hosts.backup_units", description=main.__doc__)
    parser.add_argument("--project-dir", required=True, help="the toolkit's checkout (with its .venv)")
    parser.add_argument("--config", required=True, help="the `harden backup` config (backup.json)")
    parser.add_argument("--write-path", action="append", default=[], help="where a run writes (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="directory to write the unit files into")
    parser.add_argument("--without-docker", action="store_true",
                        help="the config backs up files only (no `postgres`, no `qdrant`): no docker group")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in units(args.project_dir, args.config, tuple(args.write_path), not args.without_docker).items():
        (args.out / name).write_text(text)
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
