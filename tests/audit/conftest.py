"""Real parts for the audit suite: a minimal image of our own, hardened and tampered containers, TLS servers.

The image is built here from the host's own binaries (no registry is reachable): /bin/sleep and /bin/true
with their loader and libc, `docker import`ed. The real Postgres comes from the images engineer's fixtures
(tests/fixtures/docker_engine.py, tests/integration/conftest.py) in test_postgres_audit.py.
"""

import io
import socket
import ssl
import subprocess
import tarfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import docker
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.spec import ContainerSpec, Healthcheck, Port, docker_api_kwargs
from tests.fixtures.docker_engine import free_port

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "out" / "test" / "audit"
PREFIX = "audit-test-"
# The audit's test containers play the API: its service label and its own uid:gid (baseline CONTAINER.service_users).
TEST_SERVICE = "rae-api"
LABELS = {"org.rae.hardening.component": "AuditTest", "org.rae.hardening.stack": "audit-test",
          "org.rae.hardening.service": TEST_SERVICE}
_BINARIES = ("/bin/sleep", "/bin/true")


@pytest.fixture(scope="session")
def out_dir() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT


def _shared_objects(binary: str) -> list[str]:
    listing = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = []
    for line in listing.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            paths.append(path)
    return paths


@pytest.fixture(scope="session")
def audit_image(docker_client) -> str:
    """Image id of a minimal image: sleep and true with their shared objects, owned by root, nothing else."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted({p for b in _BINARIES for p in (b, *_shared_objects(b))}):
            tar.add(str(Path(path).resolve()), arcname=path.lstrip("/"))
        for directory in ("tmp", "run"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777
            tar.addfile(info)
    docker_client.api.import_image_from_data(buffer.getvalue(), repository="rae-audit-test/minimal", tag="1")
    return docker_client.images.get("rae-audit-test/minimal:1").id


def hardened_spec(name: str, image: str, port: int) -> ContainerSpec:
    return ContainerSpec(name=PREFIX + name, service=TEST_SERVICE, image=image, command=("/bin/sleep", "infinity"),
                         healthcheck=Healthcheck(("CMD", "/bin/true"), interval_s=1, timeout_s=2, retries=2, start_period_s=0),
                         ports=(Port(internal=8080, external=port),), memory_mb=64, pids_limit=32)


def run_container(client, kwargs: dict):
    """Start a container (replacing one of the same name) and wait until its healthcheck says healthy."""
    try:
        client.containers.get(kwargs["name"]).remove(force=True)
    except docker.errors.NotFound:
        pass
    container = client.containers.run(**(kwargs | {"labels": {**kwargs.get("labels", {}), **LABELS}}))
    for _ in range(60):
        container.reload()
        if (container.attrs["State"].get("Health") or {}).get("Status") == "healthy":
            return container
        time.sleep(0.5)
    pytest.fail(f"{kwargs['name']} did not become healthy: {container.attrs['State']}")


@pytest.fixture(scope="session")
def hardened_container(docker_client, audit_image):
    """A container started exactly as the baseline says (components.spec.docker_api_kwargs)."""
    spec = hardened_spec("hardened", audit_image, free_port())
    container = run_container(docker_client, docker_api_kwargs(spec))
    yield container, spec
    container.remove(force=True)


# --- TLS: a private CA like the stack's, and TLS servers speaking TLS 1.3 only or also 1.2 -----------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, days, ca=False, san=None):
    now = datetime.now(timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    return builder.sign(signing_key, hashes.SHA384())


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """CA and server certificates on disk: paths by role (ca, other_ca, server cert/key, short-lived cert/key)."""
    directory = tmp_path_factory.mktemp("pki")
    paths = {}

    def write(name, data, mode=0o644):
        path = directory / name
        path.write_bytes(data)
        path.chmod(mode)
        paths[name] = str(path)

    pem = serialization.Encoding.PEM
    for ca_name in ("ca", "other_ca"):
        key = ec.generate_private_key(ec.SECP384R1())
        cert = _certificate(_name(f"audit test {ca_name}"), _name(f"audit test {ca_name}"), key.public_key(), key, 365, ca=True)
        paths[f"{ca_name}_key_obj"], paths[f"{ca_name}_cert_obj"] = key, cert
        write(f"{ca_name}.pem", cert.public_bytes(pem))
    for server, days in (("server", 80), ("short", 10)):
        key = ec.generate_private_key(ec.SECP384R1())
        cert = _certificate(_name("localhost"), paths["ca_cert_obj"].subject, key.public_key(), paths["ca_key_obj"], days,
                            san=["localhost"])
        write(f"{server}.pem", cert.public_bytes(pem))
        write(f"{server}.key", key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)
    return paths


class TlsServer:
    """A TLS server on 127.0.0.1 in a thread; `postgres=True` answers the SSLRequest preamble with 'S' first;
    `http_answer` is sent once a request's headers have arrived (a stand-in for an HTTPS service); a callable gets the
    request's bytes and returns the answer."""

    def __init__(self, cert: str, key: str, minimum=ssl.TLSVersion.TLSv1_3, postgres=False, port: int = 0,
                 http_answer: bytes | None = None):
        self.http_answer = http_answer
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = minimum
        self.context.load_cert_chain(cert, key)
        self.postgres = postgres
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(5)
        try:
            if self.postgres:
                if len(conn.recv(8)) != 8:
                    return
                conn.sendall(b"S")
            with self.context.wrap_socket(conn, server_side=True) as tls:
                received = tls.recv(4096)
                while self.http_answer is not None and received and b"\r\n\r\n" not in received:
                    received += tls.recv(4096)
                if self.http_answer is not None and received:
                    answer = self.http_answer
                    tls.sendall(answer(received) if callable(answer) else answer)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture(scope="session")
def tls_servers(pki):
    """name -> TlsServer: 'good' (TLS 1.3 only), 'legacy' (accepts TLS 1.2), 'postgres' (SSLRequest + 1.3),
    'expiring' (certificate inside the renewal window)."""
    servers = {
        "good": TlsServer(pki["server.pem"], pki["server.key"]),
        "legacy": TlsServer(pki["server.pem"], pki["server.key"], minimum=ssl.TLSVersion.TLSv1_2),
        "postgres": TlsServer(pki["server.pem"], pki["server.key"], postgres=True),
        "expiring": TlsServer(pki["short.pem"], pki["short.key"]),
    }
    yield servers
    for server in servers.values():
        server.close()
