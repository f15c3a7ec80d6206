"""`harden backup ACTION --config FILE`: restic backups of the local stack, their retention, checks and drills.

  run      Postgres (one consistent dump + manifest), Qdrant (a snapshot per collection + manifest, through its
           snapshot API) and the secret files/CA into every repository
  forget   `restic forget --keep-within <baseline days> --prune` on every repository we may prune
           (an append-only off-site repository is pruned by its own operator, never from here)
  check    `restic check --read-data-subset <baseline share>` on every repository
  drill    restore the newest backups into a scratch Postgres and a scratch Qdrant container, compare with the
           figures recorded at backup time (rows and checksums; points and a sample search), record RTO and RPO
  restore  restore the newest verified backup into the live database (scratch database first), or with
           --dataset qdrant every collection into a scratch Qdrant, compared with its manifest, and only then into
           the config's running Qdrant (read with its `api_key_file`)
  qdrant-token  mint the Qdrant snapshot token (`rw` on the collections there now, --days valid) into the
           config's `snapshot_token_file`, signed with --api-key-file; the backup itself never reads that key.
           With --renew-if-within DAYS only when the token expires within DAYS, cannot be read or misses a
           collection (for the operator's timer); each run logs the token's expiry and days left

`run` logs the snapshot token's days left too; the audit fails A.8.13 within baseline.BACKUP's
snapshot_token_warn_days of its expiry.

Every action appends one JSON line per data set and repository to the config's `log` (read by
`harden audit --backup-log`). Exit codes: 0 every step ok, 1 a step failed (logged), 2 bad input.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

_EPILOG = """config (JSON):
  {"repositories": [{"name": "local", "location": "/srv/backup/rae/restic", "password_file": "..."},
                    {"name": "offsite", "repository_file": "...", "password_file": "...", "cacert": "...",
                     "append_only": true}],
   "postgres": {"container": "rae-local-postgres", "database": "rae"},
   "qdrant": {"url": "https://qdrant:6333", "read_only_api_key_file": "...", "snapshot_token_file": "...",
              "cacert": "...", "container": "qdrant", "store_container": "qdrant-store"},
   "files": ["/srv/rae/secrets"],
   "log": "/var/log/rae/backup.jsonl"}

schedule: daily run and check, weekly forget and drill, from baseline.BACKUP (hosts/backup_units.py). Node1's
  pyinfra deploy installs them as systemd timers; elsewhere `python -m hosts.backup_units --help` writes the same
  units, and README.md ("Backups") lists the equivalent cron lines."""

ACTIONS = ("run", "forget", "check", "drill", "restore", "qdrant-token")
_CONFIG_KEYS = ("repositories", "postgres", "qdrant", "files", "log", "drill_image")


class BackupInputError(ValueError):
    """Bad backup configuration: the message names the problem and the control at stake."""


@dataclass
class BackupConfig:
    repositories: list
    append_only: set[str]
    log: Path
    postgres: dict | None = None
    files: list[str] = field(default_factory=list)
    drill_image: str | None = None
    qdrant: object = None  # components.qdrant_backup.QdrantSource

    @classmethod
    def load(cls, path: Path) -> "BackupConfig":
        from components.qdrant_backup import QdrantSource
        from components.restic import Repository

        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise BackupInputError(f"--config {path}: {error} [ISO 27001:2022 A.8.13 Information backup]") from None
        unknown = sorted(set(data) - set(_CONFIG_KEYS)) if isinstance(data, dict) else ["(not an object)"]
        if unknown:
            raise BackupInputError(f"--config {path}: unknown keys {unknown}; allowed: {list(_CONFIG_KEYS)}")
        entries = data.get("repositories") or []
        if not entries or not data.get("log"):
            raise BackupInputError(f"--config {path}: needs `repositories` (at least one) and `log` "
                                   "[ISO 27001:2022 A.8.13 Information backup]")
        repositories = [Repository.from_config({k: v for k, v in entry.items() if k != "append_only"})
                        for entry in entries]
        for repository in repositories:
            repository.arguments()  # credential files present and private before anything runs
        names = [repository.name for repository in repositories]
        if len(set(names)) != len(names):
            raise BackupInputError(f"--config {path}: repository names {names} repeat")
        postgres = data.get("postgres")
        if postgres is not None and not postgres.get("container"):
            raise BackupInputError(f"--config {path}: `postgres` needs a `container`")
        qdrant = QdrantSource.from_config(data["qdrant"]) if data.get("qdrant") is not None else None
        if qdrant is not None:
            qdrant.check_credentials()
        return cls(repositories, {entry["name"] for entry in entries if entry.get("append_only")}, Path(data["log"]),
                   postgres, list(data.get("files") or []), data.get("drill_image"), qdrant)


def register(commands) -> None:
    parser = commands.add_parser("backup", help="restic backups, retention, checks and restore drills (A.8.13)",
                                 description=__doc__, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("--config", type=Path, required=True, metavar="FILE", help="backup configuration (JSON)")
    parser.add_argument("--repository", metavar="NAME", help="only this repository (drill, restore, check)")
    parser.add_argument("--container", metavar="NAME", help="restore: the Postgres container to restore into")
    parser.add_argument("--dataset", choices=("postgres", "qdrant"), default="postgres",
                        help="restore: which data set (default postgres; qdrant restores into the config's `qdrant`)")
    parser.add_argument("--api-key-file", type=Path, metavar="FILE",
                        help="qdrant-token: the full-access Qdrant API key that signs the token (0600)")
    parser.add_argument("--days", type=int, default=30, help="qdrant-token: validity in days (default 30, at most 90)")
    parser.add_argument("--renew-if-within", type=int, metavar="DAYS",
                        help="qdrant-token: mint only when the token expires within DAYS (at least the baseline's "
                             "backup.snapshot_token_warn_days), cannot be read or misses a collection")
    parser.set_defaults(run=run)


def run(args) -> int:
    from baseline import BaselineViolation

    try:
        config = BackupConfig.load(args.config)
        repositories = _selected(config, args.repository)
        return _ACTIONS[args.action](config, repositories, args)
    except (BackupInputError, BaselineViolation) as error:
        print(f"harden backup: error: {error}", file=sys.stderr)
        return 2


def _selected(config: BackupConfig, name: str | None) -> list:
    if name is None:
        return config.repositories
    chosen = [repository for repository in config.repositories if repository.name == name]
    if not chosen:
        raise BackupInputError(f"--repository {name}: not in the config's repositories "
                               f"{[r.name for r in config.repositories]}")
    return chosen


def _failed(config: BackupConfig, action: str, error: Exception, **fields) -> int:
    from harden import backup_log

    backup_log.append(config.log, backup_log.record(action, "fail", error=str(error), **fields))
    return 1


def _run(config: BackupConfig, repositories: list, args) -> int:
    from components import backup_runtime, qdrant_backup, restic
    from harden import backup_log

    status = 0
    for repository in repositories:
        try:
            restic.ensure_initialised(repository)
        except (RuntimeError, ValueError) as error:
            status = _failed(config, "backup", error, dataset="repository", repository=repository.name)
    work = []
    if config.postgres:
        work.append(("postgres", lambda repo: backup_runtime.backup_postgres(
            config.postgres["container"], [repo], config.postgres.get("database", backup_runtime.DATABASE_NAME))))
    if config.qdrant:
        _log_token(config)
        work.append(("qdrant", lambda repo: qdrant_backup.backup_qdrant(config.qdrant, [repo])))
    if config.files:
        work.append(("files", lambda repo: backup_runtime.backup_files(config.files, [repo])))
    for dataset, backup in work:
        for repository in repositories:
            try:
                for result in backup(repository):
                    backup_log.append(config.log, backup_log.record(
                        "backup", "ok", dataset=dataset, repository=result.repository, snapshot=result.snapshot,
                        manifest_snapshot=result.manifest_snapshot, seconds=result.seconds,
                        bytes_processed=result.bytes_processed, bytes_added=result.bytes_added,
                        tables=result.tables, rows=result.rows))
            except (RuntimeError, ValueError) as error:
                status = _failed(config, "backup", error, dataset=dataset, repository=repository.name)
    return status


def _forget(config: BackupConfig, repositories: list, args) -> int:
    from baseline import BACKUP
    from components import restic
    from harden import backup_log

    status = 0
    for repository in repositories:
        if repository.name in config.append_only:
            backup_log.append(config.log, backup_log.record(
                "forget", "ok", repository=repository.name,
                skipped="append-only repository: pruned by its own operator, not with this host's credentials"))
            continue
        try:
            restic.run(repository, "forget", "--keep-within", f"{BACKUP.retention_days}d", "--prune")
            backup_log.append(config.log, backup_log.record("forget", "ok", repository=repository.name,
                                                            keep_within_days=BACKUP.retention_days))
        except (RuntimeError, ValueError) as error:
            status = _failed(config, "forget", error, repository=repository.name)
    return status


def _check(config: BackupConfig, repositories: list, args) -> int:
    from baseline import BACKUP
    from components import restic
    from harden import backup_log

    status = 0
    for repository in repositories:
        try:
            restic.run(repository, "check", f"--read-data-subset={BACKUP.check_read_data_subset}")
        except (RuntimeError, ValueError) as error:
            status = _failed(config, "check", error, repository=repository.name,
                             read_data_subset=BACKUP.check_read_data_subset)
            continue
        # An append-only repository is probed on each check: a delete with this host's credentials must be refused.
        append_only, refused, problems = repository.name in config.append_only or None, None, None
        if append_only:
            try:
                refused = restic.delete_refused(repository)
            except (RuntimeError, ValueError) as error:
                problems = [f"append-only probe: {error}"]
        backup_log.append(config.log, backup_log.record("check", "ok", repository=repository.name,
                                                        read_data_subset=BACKUP.check_read_data_subset,
                                                        append_only=append_only, delete_refused=refused,
                                                        problems=problems))
        if append_only and BACKUP.offsite_append_only and refused is not True:
            print(f"harden backup check: repository {repository.name!r} is declared append-only, but a delete with "
                  f"this host's credentials was {'accepted' if refused is False else 'not decided (' + problems[0] + ')'} "
                  "[ISO 27001:2022 A.8.13 Information backup]", file=sys.stderr)
            status = 1
    return status


def _drill(config: BackupConfig, repositories: list, args) -> int:
    if not config.postgres and not config.qdrant and not config.files:
        raise BackupInputError("drill: the config names no `postgres`, `qdrant` or `files` data set to restore "
                               "[ISO 27001:2022 A.8.13 Information backup]")
    if config.postgres is None and config.drill_image is not None:
        raise BackupInputError("drill: `drill_image` is the Postgres drill's image, but the config has no `postgres`")
    status = 0
    for repository in repositories:
        if config.files:
            status = _drill_files(config, repository) or status
        if config.postgres:
            status = _drill_postgres(config, repository) or status
        if config.qdrant:
            status = _drill_qdrant(config, repository) or status
    return status


def objectives_missed(rto_seconds: float, rpo_seconds: float) -> list[str]:
    """What a drill missed of the recovery objectives: a restore slower than BACKUP.rto_minutes, or a newest snapshot
    older than BACKUP.rpo_hours, fails the drill (its record and its exit status: the timer's unit fails and the
    journal says why), however well the data matched."""
    from baseline import BACKUP

    missed = []
    if rto_seconds > BACKUP.rto_minutes * 60:
        missed.append(f"the restore took {rto_seconds:.0f} s, above the RTO of {BACKUP.rto_minutes} min")
    if rpo_seconds > BACKUP.rpo_hours * 3600:
        missed.append(f"the restored snapshot was {rpo_seconds / 3600:.1f} h old, above the RPO of {BACKUP.rpo_hours} h")
    return missed


def _record_drill(config: BackupConfig, repository, dataset: str, result, **figures) -> int:
    """Log one drill's result (the recovery objectives judged here, components measured them) and return the exit
    status: 1 unless the restore matched and met RTO and RPO."""
    from harden import backup_log

    missed = objectives_missed(result.rto_seconds, result.rpo_seconds)
    backup_log.append(config.log, backup_log.record(
        "drill", "ok" if result.matched and not missed else "fail", dataset=dataset, repository=repository.name,
        matched=result.matched, rto_seconds=result.rto_seconds, rpo_seconds=result.rpo_seconds,
        taken_at=result.taken_at, problems=[*result.problems, *missed] or None, **figures))
    return 0 if result.matched and not missed else 1


def _drill_files(config: BackupConfig, repository) -> int:
    """The files data set (secret files, the CA): restored into a private scratch directory, verified, compared with
    the live files unchanged since the snapshot, then removed (components.backup_runtime.drill_files)."""
    import shutil
    import tempfile

    from components import backup_runtime

    work = Path(tempfile.mkdtemp(prefix="rae-drill-files-"))  # 0700, under the unit's TMPDIR
    try:
        result = backup_runtime.drill_files(repository, work)
    except (RuntimeError, ValueError) as error:
        return _failed(config, "drill", error, dataset="files", repository=repository.name, matched=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"drill files from {repository.name}: snapshot {result.snapshot}, {result.files} files restored and "
          f"verified, {result.compared} compared with the live copy, RTO {result.rto_seconds:.1f} s, "
          f"RPO {result.rpo_seconds:.0f} s", flush=True)
    return _record_drill(config, repository, "files", result, snapshot=result.snapshot, files=result.files,
                         compared=result.compared)


def _drill_postgres(config: BackupConfig, repository) -> int:
    from components import backup_drill

    try:
        image = config.drill_image or backup_drill.container_image(config.postgres["container"])
        result = backup_drill.drill(repository, image)
    except (RuntimeError, ValueError) as error:
        return _failed(config, "drill", error, dataset="postgres", repository=repository.name, matched=False)
    return _record_drill(config, repository, "postgres", result, snapshot=result.dump_snapshot, tables=result.tables,
                         rows=result.rows)


def _drill_qdrant(config: BackupConfig, repository) -> int:
    from components import qdrant_backup

    try:
        result = qdrant_backup.drill_qdrant(repository, config.qdrant.image())
    except (RuntimeError, ValueError) as error:
        return _failed(config, "drill", error, dataset="qdrant", repository=repository.name, matched=False)
    return _record_drill(config, repository, "qdrant", result, snapshot=result.snapshot, tables=result.collections,
                         rows=result.points)


def _restore(config: BackupConfig, repositories: list, args) -> int:
    from components import backup_runtime
    from harden import backup_log

    if args.dataset == "qdrant":
        return _restore_qdrant(config, repositories, args)
    if args.repository is None or args.container is None:
        raise BackupInputError("restore needs --repository NAME and --container NAME (which copy, into which "
                               "database container) [ISO 27001:2022 A.8.13 Information backup]")
    try:
        manifest = backup_runtime.restore_postgres(repositories[0], args.container)
    except (RuntimeError, ValueError) as error:
        return _failed(config, "restore", error, dataset="postgres", repository=repositories[0].name)
    backup_log.append(config.log, backup_log.record(
        "restore", "ok", dataset="postgres", repository=repositories[0].name, snapshot=manifest.dump_snapshot,
        taken_at=manifest.taken_at, tables=len(manifest.tables)))
    return 0


def _restore_qdrant(config: BackupConfig, repositories: list, args) -> int:
    import shutil
    import tempfile

    from components import qdrant_backup
    from harden import backup_log

    if args.repository is None or config.qdrant is None:
        raise BackupInputError("restore --dataset qdrant needs --repository NAME and a `qdrant` entry in the config "
                               "(the Qdrant to restore into) [ISO 27001:2022 A.8.13 Information backup]")
    repository = repositories[0]
    scratch = Path(tempfile.mkdtemp(prefix="rae-restore-qdrant-"))
    try:
        client = config.qdrant.admin()
        snapshot, manifest = qdrant_backup.latest_manifest(repository)
        problems = qdrant_backup.restore_verified(client, repository, manifest, config.qdrant.image(), scratch)
    except (RuntimeError, ValueError) as error:
        return _failed(config, "restore", error, dataset="qdrant", repository=repository.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    backup_log.append(config.log, backup_log.record(
        "restore", "fail" if problems else "ok", dataset="qdrant", repository=repository.name, snapshot=snapshot["id"],
        taken_at=manifest.taken_at, tables=len(manifest.collections), matched=not problems,
        problems=problems or None))
    return 1 if problems else 0


def _log_token(config: BackupConfig, skipped: str | None = None) -> float | None:
    """Log the snapshot token's expiry and days left (a `token` line the audit reads); None when unreadable."""
    import time

    from components import qdrant_backup
    from harden import backup_log

    try:
        expires = qdrant_backup.token_expiry(config.qdrant.snapshot_token_file)
    except RuntimeError as error:
        print(f"[backup] qdrant snapshot token: {error}", flush=True)
        _failed(config, "token", error, dataset="qdrant")
        return None
    days_left = (expires - time.time()) / 86400
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    print(f"[backup] qdrant snapshot token: {days_left:.1f} d left (valid until {expiry})", flush=True)
    backup_log.append(config.log, backup_log.record(
        "token", "ok" if days_left > 0 else "fail", dataset="qdrant", token_expires=expiry,
        token_days_left=round(days_left, 2), skipped=skipped,
        error=None if days_left > 0 else "the Qdrant snapshot token has expired; mint a new one with "
                                         "`harden backup qdrant-token`"))
    return days_left


def _qdrant_token(config: BackupConfig, repositories: list, args) -> int:
    import time

    from components import qdrant_backup

    if config.qdrant is None or args.api_key_file is None:
        raise BackupInputError("qdrant-token needs a `qdrant` entry in the config and --api-key-file FILE (the key "
                               "that signs the token) [ISO 27001:2022 A.5.17 Authentication information]")
    try:
        if args.renew_if_within is not None:
            qdrant_backup.check_renewal_window(args.renew_if_within, args.days)
            collections = config.qdrant.reader().collections()
            reason = qdrant_backup.renewal_reason(config.qdrant.snapshot_token_file, collections,
                                                  args.renew_if_within, args.days)
            if reason is None:
                _log_token(config, skipped=f"not renewed: valid beyond {args.renew_if_within} d")
                return 0
            print(f"[backup] qdrant snapshot token renewed: {reason}", flush=True)
        collections, expires = qdrant_backup.write_snapshot_token(config.qdrant, args.api_key_file, args.days)
    except (RuntimeError, OSError) as error:
        print(f"harden backup qdrant-token: {error}", file=sys.stderr)
        return 1
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    print(f"[backup] qdrant snapshot token for {collections}, valid until {expiry} (the token is not shown)", flush=True)
    _log_token(config)
    return 0


_ACTIONS = {"run": _run, "forget": _forget, "check": _check, "drill": _drill, "restore": _restore,
            "qdrant-token": _qdrant_token}
