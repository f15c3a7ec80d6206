"""Backups of the Docker-target data sets into restic repositories, and their verified restore (baseline.BACKUP).

Data sets:
- `postgres`: one consistent `pg_dump` taken inside the database container over its unix socket (peer
  authentication: no password leaves the container). A read-only repeatable-read transaction exports its
  snapshot; pg_dump dumps exactly that snapshot and the same transaction counts and checksums every table,
  so the figures recorded beside the dump describe the dump, whatever writes happen meanwhile. The dump is
  streamed into `restic backup --stdin` (never a plaintext file on the host); its sha256 is taken on the way.
  A second snapshot, the *manifest* (JSON: tables, row counts, checksums, the dump's snapshot id and sha256),
  is written only after pg_dump and restic both succeeded: a dump counts as a backup only with its manifest.
- `files`: host files and directories (the secret files and the CA) as one snapshot.
- `qdrant`: through Qdrant's snapshot API, in components/qdrant_backup.py (a snapshot per collection and a
  manifest of point counts and sample searches).

Restore never pipes decrypted data straight into the live database: restic authenticates every blob it
reads (a tampered pack is refused), the dump goes to a 0600 scratch file whose sha256 must equal the
manifest's, it is restored into a scratch database whose row counts and checksums must equal the
manifest's, and only then into the target database in one transaction.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from baseline import BACKUP, require
from components import restic
from components.postgres_runtime import DATABASE_NAME, SUPERUSER
from components.restic import Repository

DATASETS = ("postgres", "files", "qdrant")
DUMP_FILE = "rae/{database}.pgdump"
MANIFEST_FILE = "rae/{database}.manifest.json"
READY_TIMEOUT_S = 60
_CHUNK = 1 << 20
_ERROR = "[ISO 27001:2022 A.8.13 Information backup]"


def tag(key: str, value: str) -> str:
    """restic tags carry the data set and links between snapshots, e.g. `rae-dataset=postgres`."""
    return f"rae-{key}={value}"


@dataclass(frozen=True)
class TableFigures:
    rows: int
    checksum: str


@dataclass
class Manifest:
    """What a Postgres backup holds, recorded from the same database snapshot as the dump."""

    database: str
    dump_snapshot: str
    dump_sha256: str
    dump_bytes: int
    taken_at: str
    tables: dict[str, TableFigures] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        data = json.loads(text)
        data["tables"] = {name: TableFigures(**figures) for name, figures in data["tables"].items()}
        return cls(**data)


@dataclass(frozen=True)
class BackupResult:
    """One data set written to one repository: the evidence a log line carries."""

    dataset: str
    repository: str
    snapshot: str
    bytes_processed: int
    bytes_added: int
    seconds: float
    manifest_snapshot: str | None = None
    tables: int | None = None
    rows: int | None = None


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def wait_ready(container: str, timeout_s: float = READY_TIMEOUT_S) -> float:
    """Wait until the server in `container` accepts connections on its own socket; return the seconds waited.

    A container reported healthy may still be starting or stopping; a dump or restore begun then fails
    half-way, so both first ask `pg_isready` (the server's own readiness answer) and say how long it took.
    """
    started = time.monotonic()
    last = ""
    while True:
        probe = subprocess.run(["docker", "exec", container, "pg_isready"], capture_output=True, text=True)
        waited = time.monotonic() - started
        if probe.returncode == 0:
            print(f"[backup] {container}: server ready after {waited:.1f} s", flush=True)
            return waited
        answer = (probe.stdout + probe.stderr).strip()
        if answer != last:
            print(f"[backup] {container}: waiting for the server ({answer})", flush=True)
            last = answer
        if waited >= timeout_s:
            raise RuntimeError(f"the server in {container} did not accept connections within {timeout_s:.0f} s "
                               f"({answer}) [ISO 27001:2022 A.8.13 Information backup]")
        time.sleep(1)


class _Session:
    """A psql session inside the container (socket, peer auth) that we feed statements and read answers from."""

    END = "__rae_end__"

    def __init__(self, container: str, database: str):
        self.process = subprocess.Popen(
            ["docker", "exec", "-i", container, "psql", "--no-psqlrc", "--quiet", "--no-align", "--tuples-only",
             "--set=ON_ERROR_STOP=1", f"--username={SUPERUSER}", f"--dbname={database}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def query(self, statement: str) -> list[str]:
        self.process.stdin.write(f"{statement}\n\\echo {self.END}\n")
        self.process.stdin.flush()
        lines = []
        for line in self.process.stdout:
            if line.rstrip("\n") == self.END:
                return lines
            lines.append(line.rstrip("\n"))
        raise RuntimeError(f"psql ended while answering {statement.split()[0]}: "
                           f"{self.process.stderr.read().strip()!r} {_ERROR}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def _checksum_statement(tables: list[str]) -> str:
    """One query: per table, its row count and an order-independent checksum (sum of 64-bit md5 prefixes).

    Summing row hashes needs no sort and no aggregate string, so it works on tables of any size.
    """
    parts = [f"SELECT {_literal(name)}, count(*), coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0) "
             f"FROM {name} t" for name in tables]
    return " UNION ALL ".join(parts) + ";"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_TABLES = ("SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1;")


def table_figures(session: _Session) -> dict[str, TableFigures]:
    tables = session.query(_TABLES)
    if not tables:
        return {}
    figures = {}
    for line in session.query(_checksum_statement(tables)):
        name, rows, checksum = line.split("|")
        figures[name] = TableFigures(int(rows), checksum)
    return figures


def database_figures(container: str, database: str) -> dict[str, TableFigures]:
    """Row counts and checksums of every user table of `database` now (read over the container's socket)."""
    session = _Session(container, database)
    try:
        return table_figures(session)
    finally:
        session.close()


class _HashingRelay(threading.Thread):
    """Copies pg_dump's output into restic's input, counting bytes and hashing them on the way."""

    def __init__(self, source, sink):
        super().__init__(daemon=True)
        self.source, self.sink = source, sink
        self.digest, self.size, self.error = hashlib.sha256(), 0, None

    def run(self):
        try:
            while chunk := self.source.read(_CHUNK):
                self.digest.update(chunk)
                self.size += len(chunk)
                self.sink.write(chunk)
        except (OSError, ValueError) as error:  # restic went away: its own exit status says why
            self.error = error
        finally:
            try:
                self.sink.close()
            except OSError:
                pass


def backup_postgres(container: str, repositories: list[Repository], database: str = DATABASE_NAME,
                    ) -> list[BackupResult]:
    """Dump `database` from one consistent database snapshot into each repository, each with its manifest.

    + container: the running Postgres container (name or id)
    + repositories: initialised restic repositories; one pg_dump of the same exported snapshot per repository
      (the first failing repository stops the run: `harden backup` calls this per repository)
    """
    require(bool(repositories), "a backup needs at least one repository", BACKUP.controls("copies"))
    wait_ready(container)
    session = _Session(container, database)
    try:
        session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;")
        snapshot_id, = session.query("SELECT pg_export_snapshot();")
        taken_at = _utc_now()
        figures = table_figures(session)
        return [_dump_into(container, database, snapshot_id, taken_at, figures, repository)
                for repository in repositories]
    finally:
        session.close()


def _dump_into(container, database, snapshot_id, taken_at, figures, repository) -> BackupResult:
    started = time.monotonic()
    print(f"[backup] postgres {database} in {container} -> restic repository {repository.name}", flush=True)
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as store_out, \
            tempfile.TemporaryFile() as store_err:
        dump = subprocess.Popen(["docker", "exec", container, "pg_dump", f"--username={SUPERUSER}", "--format=custom",
                                 # Uncompressed: restic deduplicates against the last run, then compresses (zstd).
                                 "--compress=0", f"--snapshot={snapshot_id}", f"--dbname={database}"],
                                stdout=subprocess.PIPE, stderr=dump_err)
        store = restic.popen(repository, "backup", "--stdin", "--stdin-filename", DUMP_FILE.format(database=database),
                             "--json", "--tag", tag("dataset", "postgres"), "--tag", tag("part", "dump"),
                             stdin=subprocess.PIPE, stdout=store_out, stderr=store_err)
        relay = _HashingRelay(dump.stdout, store.stdin)
        relay.start()
        relay.join()
        dump.stdout.close()
        dump.wait()
        store.wait()
        dump_err.seek(0), store_out.seek(0), store_err.seek(0)
        dump_message, out, err = dump_err.read().decode(errors="replace").strip(), store_out.read(), store_err.read()
    if dump.returncode != 0 or store.returncode != 0 or relay.error:
        # A snapshot of a broken stream may exist; without a manifest it is never restored (see module doc).
        raise RuntimeError(f"postgres backup to repository {repository.name!r} failed: pg_dump exit "
                           f"{dump.returncode} {dump_message!r}; restic exit {store.returncode} "
                           f"{restic.last_lines(err)!r} {_ERROR}")
    summary = restic.summary(out)
    manifest = Manifest(database, summary["snapshot_id"], relay.digest.hexdigest(), relay.size, taken_at, figures)
    manifest_summary = restic.backup_stdin(
        repository, manifest.to_json().encode(), MANIFEST_FILE.format(database=database),
        (tag("dataset", "postgres"), tag("part", "manifest"), tag("dump", summary["snapshot_id"])))
    seconds = time.monotonic() - started
    print(f"[backup] postgres -> {repository.name}: snapshot {summary['snapshot_id']}, {relay.size} bytes dumped, "
          f"{summary.get('data_added', 0)} bytes added, {seconds:.1f} s", flush=True)
    return BackupResult("postgres", repository.name, summary["snapshot_id"], relay.size, summary.get("data_added", 0),
                        round(seconds, 3), manifest_summary["snapshot_id"], len(figures),
                        sum(f.rows for f in figures.values()))


def backup_files(paths: list[str], repositories: list[Repository]) -> list[BackupResult]:
    """The secret files and the CA (or any host paths) as one snapshot in every repository."""
    missing = [path for path in paths if not Path(path).exists()]
    require(not missing, f"backup of files: {missing} do not exist", BACKUP.controls("copies"))
    results = []
    for repository in repositories:
        started = time.monotonic()
        summary = restic.backup_paths(repository, list(paths), (tag("dataset", "files"),))
        results.append(BackupResult("files", repository.name, summary["snapshot_id"],
                                    summary.get("total_bytes_processed", 0), summary.get("data_added", 0),
                                    round(time.monotonic() - started, 3)))
    return results


def latest_manifest(repository: Repository, database: str = DATABASE_NAME) -> tuple[dict, Manifest]:
    """The newest complete Postgres backup (a manifest and its dump) in `repository`."""
    manifests = restic.snapshots(repository, tag("dataset", "postgres"), tag("part", "manifest"))
    require(bool(manifests), f"repository {repository.name!r} holds no complete postgres backup",
            BACKUP.controls("restore_verified"))
    newest = max(manifests, key=lambda snapshot: snapshot["time"])
    text = restic.run(repository, "dump", newest["id"], "/" + MANIFEST_FILE.format(database=database)).stdout
    return newest, Manifest.from_json(text.decode())


def fetch_verified(repository: Repository, snapshot: str, inner: str, path: Path, sha256: str, what: str) -> Path:
    """Write file `inner` of a restic snapshot to a new 0600 file `path`, its sha256 checked against `sha256` (the
    manifest's); `what` names the data in the errors."""
    digest = hashlib.sha256()
    done = restic.popen(repository, "dump", snapshot, inner, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        while chunk := done.stdout.read(_CHUNK):
            digest.update(chunk)
            handle.write(chunk)
    err = done.stderr.read()
    done.wait()
    if done.returncode != 0:
        raise restic.ResticError(f"restic dump of {snapshot} from {repository.name!r} failed: "
                                 f"{restic.last_lines(err)} {_ERROR}")
    require(digest.hexdigest() == sha256,
            f"{what} from {repository.name!r}: sha256 {digest.hexdigest()} differs from the manifest's {sha256}",
            BACKUP.controls("restore_verified"))
    return path


def fetch_dump(repository: Repository, manifest: Manifest, directory: Path) -> Path:
    """Write the manifest's dump to a 0600 file in `directory`, checking its sha256 against the manifest."""
    return fetch_verified(repository, manifest.dump_snapshot, "/" + DUMP_FILE.format(database=manifest.database),
                          directory / f"{manifest.database}.pgdump", manifest.dump_sha256,
                          f"dump {manifest.dump_snapshot}")


def _psql(container: str, database: str, statement: str) -> None:
    done = subprocess.run(["docker", "exec", container, "psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
                           f"--username={SUPERUSER}", f"--dbname={database}", "--command", statement],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql in {container} failed: {done.stderr.strip()!r} {_ERROR}")


def pg_restore(container: str, dump: Path, database: str, replace: bool) -> None:
    """Feed a verified dump file to pg_restore in `container` as one transaction (all or nothing)."""
    options = ["--clean", "--if-exists"] if replace else []
    with open(dump, "rb") as handle:
        done = subprocess.run(["docker", "exec", "-i", container, "pg_restore", f"--username={SUPERUSER}",
                               f"--dbname={database}", *options, "--single-transaction", "--exit-on-error"],
                              stdin=handle, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"pg_restore into {database} in {container} failed: "
                           f"{done.stderr.decode(errors='replace').strip()[-400:]!r} {_ERROR}")


def compare(expected: dict[str, TableFigures], found: dict[str, TableFigures]) -> list[str]:
    """Differences between the manifest's figures and a restored database's, one sentence each."""
    problems = [f"table {name} missing" for name in expected if name not in found]
    problems += [f"table {name} not in the backup" for name in found if name not in expected]
    problems += [f"table {name}: {found[name].rows} rows, checksum {found[name].checksum}; backup had "
                 f"{figures.rows} rows, checksum {figures.checksum}"
                 for name, figures in expected.items() if name in found and found[name] != figures]
    return problems


def restore_into_scratch(container: str, dump: Path, manifest: Manifest) -> list[str]:
    """Restore `dump` into a fresh scratch database in `container`, compare it with the manifest, drop it."""
    scratch = f"rae_verify_{uuid.uuid4().hex[:10]}"
    _psql(container, "postgres", f'CREATE DATABASE "{scratch}" TEMPLATE template0')
    try:
        pg_restore(container, dump, scratch, replace=False)
        return compare(manifest.tables, database_figures(container, scratch))
    finally:
        _psql(container, "postgres", f'DROP DATABASE IF EXISTS "{scratch}"')


def restore_postgres(repository: Repository, container: str, database: str = DATABASE_NAME) -> Manifest:
    """Restore the newest complete backup into `database` of `container`, verified first (see module doc).

    + repository: where to read the backup (restic authenticates every blob)
    + container: a running Postgres container from the same image; `database` is replaced only after the
      backup restored into a scratch database matched its manifest
    """
    wait_ready(container)
    snapshot, manifest = latest_manifest(repository, database)
    print(f"[restore] {repository.name}: manifest {snapshot['short_id']} of {manifest.taken_at}, dump "
          f"{manifest.dump_snapshot[:8]} -> {database} in {container}", flush=True)
    scratch_dir = Path(tempfile.mkdtemp(prefix="rae-restore-"))
    try:
        dump = fetch_dump(repository, manifest, scratch_dir)
        problems = restore_into_scratch(container, dump, manifest)
        require(not problems, f"backup {manifest.dump_snapshot[:8]} does not match its manifest: "
                              f"{'; '.join(problems)}; {database} left untouched", BACKUP.controls("restore_verified"))
        pg_restore(container, dump, database, replace=True)
    finally:
        shutil.rmtree(scratch_dir, ignore_errors=True)
    print("[restore] done: verified in a scratch database, then restored", flush=True)
    return manifest


@dataclass
class FilesDrill:
    """What a drill of the files data set found (restic restore --verify of the newest snapshot, then a comparison
    with the live files the snapshot's metadata says are unchanged)."""

    repository: str
    matched: bool
    rto_seconds: float
    rpo_seconds: float
    snapshot: str
    taken_at: str
    files: int
    compared: int
    problems: list[str] = field(default_factory=list)


def _restic_time(stamp: str) -> datetime.datetime:
    """restic's RFC 3339 time with nanoseconds, as an aware datetime (microseconds kept)."""
    return datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", stamp.replace("Z", "+00:00")))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def drill_files(repository: Repository, work: Path) -> FilesDrill:
    """Restore the newest files snapshot of `repository` into the empty private directory `work` with `restic restore
    --verify` (every restored file's content checked against the snapshot's blob hashes; restic fails the restore
    otherwise), then check that every file the snapshot lists was restored with its recorded size, and compare each
    one whose live copy is unchanged since the snapshot (same size and modification time as restic recorded) by
    sha256 with the live file. A live file changed since the snapshot is counted, not compared. RTO: the restore's
    seconds; RPO: the snapshot's age."""
    snapshots = restic.snapshots(repository, tag("dataset", "files"))
    require(bool(snapshots), f"repository {repository.name!r} holds no files backup", BACKUP.controls("restore_verified"))
    newest = max(snapshots, key=lambda snapshot: _restic_time(snapshot["time"]))
    started = time.monotonic()
    restic.run(repository, "restore", newest["id"], "--target", str(work), "--verify")
    rto = time.monotonic() - started
    listing = [json.loads(line) for line in restic.run(repository, "ls", "--json", newest["id"]).stdout.splitlines()
               if line.strip()]
    files = [node for node in listing if node.get("struct_type") == "node" and node.get("type") == "file"]
    problems, compared = [], 0
    for node in files:
        restored = work / node["path"].lstrip("/")
        if not restored.is_file() or restored.stat().st_size != node.get("size", 0):
            problems.append(f"{node['path']}: not restored with its recorded size")
            continue
        live = Path(node["path"])
        try:
            stat = live.stat()
        except OSError:
            continue  # gone from the node since the snapshot: nothing to compare with
        unchanged = stat.st_size == node.get("size", 0) and \
            abs(stat.st_mtime - _restic_time(node["mtime"]).timestamp()) < 1e-3
        if unchanged:
            compared += 1
            if _sha256(restored) != _sha256(live):
                problems.append(f"{node['path']}: restored content differs from the live file unchanged since the "
                                "snapshot")
    if not files:
        problems.append(f"snapshot {newest['short_id']} lists no file")
    taken = _restic_time(newest["time"]).astimezone(datetime.timezone.utc)
    rpo = (datetime.datetime.now(datetime.timezone.utc) - taken).total_seconds()
    return FilesDrill(repository.name, not problems, round(rto, 3), round(rpo, 3), newest["short_id"],
                      taken.strftime("%Y-%m-%dT%H:%M:%SZ"), len(files), compared, problems)
