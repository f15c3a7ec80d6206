"""Restore drills: the newest backup restored into a scratch Postgres container and compared with its manifest.

A drill proves a backup can be brought back, not only that it was written. It starts a throwaway
container from the production Postgres image and the production runtime spec (components.postgres_runtime,
throwaway passwords and a throwaway self-signed certificate, no published port), reads the newest complete
backup from a repository (restic authenticates every blob), checks the dump's sha256, restores it into a
scratch database and compares every table's row count and checksum with the figures recorded at backup
time. RTO is the drill's wall time from the first read of the repository to a verified restore; RPO is the
age of the restored data (now minus the moment its database snapshot was taken).

    >>> result = drill(Repository(...), image="sha256:...")
    >>> result.matched, result.rto_seconds, result.rpo_seconds
"""

import datetime
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from baseline import SECRETS
from components import backup_runtime, postgres_runtime
from components.postgres_runtime import PostgresSecrets, postgres_spec
from components.restic import Repository
from components.spec import docker_run_args
from components.engine_ids import host_ids
from posture.container import service_user


@dataclass
class DrillResult:
    """What one drill found: whether the restore matched, and the RTO/RPO it measured."""

    repository: str
    matched: bool
    rto_seconds: float
    rpo_seconds: float
    dump_snapshot: str = ""
    taken_at: str = ""
    tables: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)


def throwaway_secret_file(path: Path, data: bytes, service: str = postgres_runtime.SERVICE) -> str:
    """A drill's secret file: baseline mode from the first byte, handed to its service's own uid and gid."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRETS.file_mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chown(path, *host_ids(*service_user(service)))
    return str(path)


def throwaway_secrets(directory: Path) -> PostgresSecrets:
    """Random passwords and a self-signed certificate that live as long as the drill (nothing reaches them)."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rae restore drill")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=12)).sign(key, hashes.SHA384()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return PostgresSecrets(
        superuser_password=throwaway_secret_file(directory / "superuser", os.urandom(24).hex().encode()),
        app_password=throwaway_secret_file(directory / "app", os.urandom(24).hex().encode()),
        tls_cert=throwaway_secret_file(directory / "server.crt", cert.public_bytes(serialization.Encoding.PEM)),
        tls_key=throwaway_secret_file(directory / "server.key", key_pem),
        # Nobody connects over the network during a drill: its own certificate stands in as the client CA.
        client_ca=throwaway_secret_file(directory / "client-ca.crt", cert.public_bytes(serialization.Encoding.PEM)))


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True)


def container_image(container: str) -> str:
    """The image id a running container was started from (the drill uses the production image)."""
    done = _docker("inspect", "--format", "{{.Image}}", container)
    if done.returncode != 0:
        raise RuntimeError(f"cannot read the image of {container}: {done.stderr.strip()!r} "
                           "[ISO 27001:2022 A.8.13 Information backup]")
    return done.stdout.strip()


def _age_seconds(taken_at: str) -> float:
    taken = datetime.datetime.strptime(taken_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return (datetime.datetime.now(datetime.timezone.utc) - taken).total_seconds()


def drill(repository: Repository, image: str) -> DrillResult:
    """Restore the newest complete backup of `repository` into a scratch container of `image` and compare.

    + repository: the repository to prove (local or off-site)
    + image: the Postgres image id (the production one: `container_image("rae-local-postgres")`)
    """
    suffix = uuid.uuid4().hex[:8]
    name, volume = f"rae-drill-{suffix}", f"rae-drill-{suffix}"
    scratch = Path(tempfile.mkdtemp(prefix="rae-drill-"))
    started = time.monotonic()
    try:
        secrets_dir = scratch / "secrets"
        secrets_dir.mkdir(mode=0o700)
        # The scratch directory is the drill's own data root: made here, private, removed afterwards.
        spec = postgres_spec(image, volume, throwaway_secrets(secrets_dir), name=name, host_roots=(str(scratch),))
        print(f"[drill] scratch container {name} from {image[:19]}", flush=True)
        started_container = _docker("run", "--detach", "--label", "rae.purpose=restore-drill",
                                    *docker_run_args(spec))
        if started_container.returncode != 0:
            raise RuntimeError(f"the drill's scratch container did not start: {started_container.stderr.strip()!r} "
                               "[ISO 27001:2022 A.8.13 Information backup]")
        _, manifest = backup_runtime.latest_manifest(repository)
        dump = backup_runtime.fetch_dump(repository, manifest, scratch)
        backup_runtime.wait_ready(name)
        problems = backup_runtime.restore_into_scratch(name, dump, manifest)
        rto = time.monotonic() - started
        result = DrillResult(repository.name, not problems, round(rto, 3), round(_age_seconds(manifest.taken_at), 3),
                             manifest.dump_snapshot, manifest.taken_at, len(manifest.tables),
                             sum(figures.rows for figures in manifest.tables.values()), problems)
    finally:
        _docker("rm", "--force", "--volumes", name)
        _docker("volume", "rm", "--force", volume)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"[drill] {repository.name}: {'matched' if result.matched else 'MISMATCH'}, RTO {result.rto_seconds:.1f} s, "
          f"RPO {result.rpo_seconds:.0f} s", flush=True)
    return result
