"""Backup and restore of a generated Postgres database of at least --gib GiB with restic, as ratios of one run.

Steps, on one hardened Postgres container (the production image and runtime spec) and one local restic repository:
first backup; second backup with nothing changed; third after --change-percent more rows were appended; fourth after
--change-percent of the rows were updated, spread over the table; a restore drill (scratch container, sha256 and per-table checksums compared). Prints a Markdown table for benchmarks/backup.md.

Each step also records the one-minute load average when it ends: the machine may be shared, and the ratios are only
comparable within one run.

Reproduce: bash scripts/setup.sh && nice -n 10 .venv/bin/python -m benchmarks.backup_bench --gib 1
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from baseline import DATABASE
from components import backup_drill, backup_runtime, restic
from components.postgres_runtime import DATABASE_NAME, SUPERUSER, postgres_spec
from components.restic import Repository, write_private_file
from components.spec import docker_run_args

REPO = Path(__file__).resolve().parents[1]
BATCH_ROWS = 500_000
# 12 md5 hex strings per row (384 characters): text that compresses like real prose-ish content, not like zeros.
CONTENT = " || ".join(f"md5((n * {prime})::text)" for prime in (1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37))


def psql(container: str, statement: str) -> str:
    done = subprocess.run(["docker", "exec", container, "psql", "--no-psqlrc", "--quiet", "--tuples-only",
                           "--no-align", "--set=ON_ERROR_STOP=1", f"--username={SUPERUSER}", f"--dbname={DATABASE_NAME}",
                           "--command", statement], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql {statement.split()[0]} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def database_bytes(container: str) -> int:
    return int(psql(container, f"SELECT pg_database_size('{DATABASE_NAME}')"))


def fill(container: str, target_bytes: int) -> int:
    """Insert batches of rows into `memories` until the database reaches `target_bytes`; returns the row count."""
    start = 0
    while database_bytes(container) < target_bytes:
        psql(container, f"INSERT INTO memories ({DATABASE.tenant_column}, content) SELECT 'bench-' || (n % 97), "
                        f"{CONTENT} FROM generate_series({start + 1}, {start + BATCH_ROWS}) n")
        start += BATCH_ROWS
        print(f"[bench] {start} rows, {database_bytes(container) / 2**30:.2f} GiB", flush=True)
    return int(psql(container, "SELECT count(*) FROM memories"))


def directory_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def postgres_image(explicit: str | None) -> str:
    """The image to benchmark: --image, else this checkout's build/images.json, else the shared `rae/postgres:15`."""
    if explicit:
        return explicit
    images = REPO / "build" / "images.json"
    if images.exists():
        return json.loads(images.read_text())["postgres"]["id"]
    done = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", "rae/postgres:15"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("no Postgres image: run scripts/build-images.sh or pass --image")
    return done.stdout.strip()


def load() -> float:
    return os.getloadavg()[0]


def timed(step):
    started = time.monotonic()
    result = step()
    return result, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="database size to generate (default 1 GiB)")
    parser.add_argument("--change-percent", type=float, default=1.0,
                        help="rows appended before the third backup and updated before the fourth")
    parser.add_argument("--image", help="Postgres image id (default: build/images.json, else rae/postgres:15)")
    args = parser.parse_args()
    image = postgres_image(args.image)
    load_at_start = load()
    work = Path(tempfile.mkdtemp(prefix="rae-backup-bench-"))
    suffix = uuid.uuid4().hex[:8]
    name = volume = f"rae-bench-backup-{suffix}"
    try:
        secrets_dir = work / "secrets"
        secrets_dir.mkdir(mode=0o700)
        # The benchmark's temp directory is its own data root (as the drill's scratch directory is the drill's).
        spec = postgres_spec(image, volume, backup_drill.throwaway_secrets(secrets_dir), name=name, memory_mb=1024,
                             host_roots=(str(work),))
        subprocess.run(["docker", "run", "--detach", *docker_run_args(spec)], check=True, capture_output=True)
        backup_runtime.wait_ready(name, timeout_s=180)  # the real server: the first-start one has its own port
        rows, fill_s = timed(lambda: fill(name, int(args.gib * 2**30)))
        size = database_bytes(name)
        load_at_fill = load()
        repository = Repository("bench", password_file=write_private_file(work / "password", secrets.token_urlsafe(32)),
                                location=str(work / "repo"))
        restic.ensure_initialised(repository)
        runs = {}
        for label in ("first backup", "second backup (no change)"):
            result, = backup_runtime.backup_postgres(name, [repository])
            runs[label] = (result.seconds, result.bytes_processed, result.bytes_added, directory_bytes(work / "repo"),
                           load())
        changed = int(rows * args.change_percent / 100)
        # The memory service mostly appends: new rows land at the end of the dump, the rest deduplicates.
        psql(name, f"INSERT INTO memories ({DATABASE.tenant_column}, content) SELECT 'bench-' || (n % 97), {CONTENT} "
                   f"FROM generate_series({rows + 1}, {rows + changed}) n")
        result, = backup_runtime.backup_postgres(name, [repository])
        runs[f"third backup ({args.change_percent:g}% rows appended)"] = (
            result.seconds, result.bytes_processed, result.bytes_added, directory_bytes(work / "repo"), load())
        # Updates scattered over the whole table touch nearly every chunk of the dump: the worst case.
        psql(name, f"UPDATE memories SET content = md5(content) || content "
                   f"WHERE id % {round(100 / args.change_percent)} = 0")
        result, = backup_runtime.backup_postgres(name, [repository])
        runs[f"fourth backup ({args.change_percent:g}% rows updated, spread over the table)"] = (
            result.seconds, result.bytes_processed, result.bytes_added, directory_bytes(work / "repo"), load())
        drill = backup_drill.drill(repository, image)
        load_at_drill = load()
        assert drill.matched, drill.problems
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "--force", volume], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    first_s, first_dump, first_added, _, _ = runs["first backup"]
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores; restic {restic_version()}; database "
          f"{size / 2**30:.2f} GiB ({rows} rows, generated in {fill_s:.0f} s); dump {first_dump / 2**30:.2f} GiB "
          f"(custom format, uncompressed); {changed} rows appended, then about as many updated; one-minute load average "
          f"{load_at_start:.1f} at the start, {load_at_fill:.1f} after generating the data\n")
    print("| step | seconds | ratio to first backup | new data (restic `data_added`, before compression) | ratio | "
          "repository size on disk | load (1 min) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, (seconds, _, added, repo_size, load_after) in runs.items():
        print(f"| {label} | {seconds:.1f} | {seconds / first_s:.2f} | {added / 2**20:.1f} MiB | "
              f"{added / first_added:.3f} | {repo_size / 2**20:.0f} MiB | {load_after:.1f} |")
    print(f"| restore drill (RTO: scratch container, fetch, sha256, pg_restore, checksums) | {drill.rto_seconds:.1f} | "
          f"{drill.rto_seconds / first_s:.2f} | | | | {load_at_drill:.1f} |")


def restic_version() -> str:
    return subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.split()[1]


if __name__ == "__main__":
    main()
