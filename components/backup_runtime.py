"""Encrypted logical backups of the Docker-target Postgres, and their restore (baseline.BACKUP).

`pg_dump` runs inside the database container over its unix socket (peer authentication: no password
leaves the container), its output is encrypted on the host with `openssl enc -aes-256-cbc -pbkdf2`
at the baseline iteration count with a key read from a file, and written 0600 to a second location.
`restore` reverses it into another container. Pure Python around the tools' own CLIs; no Pulumi.

    python -m components.backup_runtime backup  --container postgres --key-file K --output /mnt/offsite/rae.dump.enc
    python -m components.backup_runtime restore --container postgres-restore --key-file K --input /mnt/offsite/rae.dump.enc
"""

import argparse
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from baseline import BACKUP, require
from components.postgres_runtime import DATABASE_NAME, SUPERUSER

CIPHER = "-aes-256-cbc"
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class BackupResult:
    """Where the encrypted dump went, its size and its sha256 (evidence for the backup log)."""

    path: Path
    size_bytes: int
    sha256: str


def _openssl(key_file: Path, *direction: str) -> list[str]:
    require(BACKUP.encryption == "aes-256-cbc-pbkdf2",
            f"backup encryption {BACKUP.encryption!r} is not the one this module implements",
            BACKUP.controls("encryption"))
    return ["openssl", "enc", *direction, CIPHER, "-pbkdf2", "-iter", str(BACKUP.pbkdf2_iterations), "-salt",
            "-pass", f"file:{key_file}"]


def _check_key_file(key_file: Path) -> None:
    require(key_file.is_file() and key_file.stat().st_size > 0,
            f"backup key file {key_file} is missing or empty", BACKUP.controls("encryption"))
    require(key_file.stat().st_mode & 0o077 == 0,
            f"backup key file {key_file} is readable by group or others (mode {key_file.stat().st_mode & 0o777:o})",
            ("A.5.17", "A.8.24"))


def _run_pipeline(producer: list[str], consumer: list[str], what: str) -> None:
    """Run `producer | consumer`; raise naming the failed side and its stderr (which never holds the key)."""
    with subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as first:
        second = subprocess.run(consumer, stdin=first.stdout, capture_output=True)
        first.stdout.close()
        first_err = first.stderr.read().decode(errors="replace")
        first.wait()
    if first.returncode != 0 or second.returncode != 0:
        raise RuntimeError(f"{what} failed: {producer[0]} exit {first.returncode} {first_err.strip()!r}; "
                           f"{consumer[0]} exit {second.returncode} {second.stderr.decode(errors='replace').strip()!r} "
                           f"[ISO 27001:2022 A.8.13 Information backup]")


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


def backup(container: str, key_file: Path, output: Path, database: str = DATABASE_NAME) -> BackupResult:
    """Dump `database` from `container`, encrypt it, write it (mode 0600) to `output` atomically.

    + container: name or id of the running Postgres container
    + key_file: file holding the encryption passphrase (mode 0600 or stricter)
    + output: destination on the second location; a partial file never appears under this name
    """
    _check_key_file(key_file)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    wait_ready(container)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    print(f"[backup] pg_dump {database} in {container} -> {output} (openssl {CIPHER} pbkdf2 "
          f"{BACKUP.pbkdf2_iterations} iterations)", flush=True)
    try:
        _run_pipeline(["docker", "exec", container, "pg_dump", f"--username={SUPERUSER}", "--format=custom",
                       f"--dbname={database}"],
                      _openssl(key_file, "-e") + ["-out", str(partial)], "backup")
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"[backup] done: {output.stat().st_size} bytes, sha256 {digest}", flush=True)
    return BackupResult(output, output.stat().st_size, digest)


def restore(container: str, key_file: Path, source: Path, database: str = DATABASE_NAME) -> None:
    """Decrypt `source` and restore it into `container`'s `database` in one transaction (all or nothing).

    + container: name or id of a running Postgres container from the same image (its schema is replaced)
    + key_file: the passphrase file used for the backup
    + source: an encrypted dump written by `backup`
    """
    _check_key_file(key_file)
    require(source.is_file(), f"backup {source} does not exist", BACKUP.controls("restore_verified"))
    wait_ready(container)
    print(f"[restore] {source} -> {database} in {container}", flush=True)
    _run_pipeline(_openssl(key_file, "-d") + ["-in", str(source)],
                  ["docker", "exec", "-i", container, "pg_restore", f"--username={SUPERUSER}", f"--dbname={database}",
                   "--clean", "--if-exists", "--single-transaction", "--exit-on-error"],
                  "restore")
    print("[restore] done", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("backup", "restore"))
    parser.add_argument("--container", required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--output", type=Path, help="encrypted dump to write (backup)")
    parser.add_argument("--input", type=Path, help="encrypted dump to read (restore)")
    parser.add_argument("--database", default=DATABASE_NAME)
    args = parser.parse_args(argv)
    try:
        if args.action == "backup":
            require(args.output is not None, "backup needs --output", BACKUP.controls("copies"))
            backup(args.container, args.key_file, args.output, args.database)
        else:
            require(args.input is not None, "restore needs --input", BACKUP.controls("restore_verified"))
            restore(args.container, args.key_file, args.input, args.database)
    except (ValueError, RuntimeError) as error:
        print(f"[{args.action}] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
