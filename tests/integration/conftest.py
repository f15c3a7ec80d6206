"""Containers of the integration suite (one Postgres and one TLS proxy per session) and the Qdrant gate.

The containers are started from `docker_api_kwargs(postgres_spec(...))` / `proxy_spec(...)`: the same
runtime the Pulumi components declare.
"""

import http.server
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from components.proxy_runtime import LISTEN_PORT, ProxySecrets, proxy_spec
from components.spec import Port, docker_api_kwargs
from tests.fixtures.docker_engine import free_port, remove_quietly, start_postgres, wait_healthy
from tests.integration.qdrant_image import QDRANT_IMAGE, qdrant_image_present

QDRANT_MODULE = Path(__file__).with_name("test_qdrant.py")


@pytest.fixture(scope="session")
def postgres(docker_client, built_images, test_pki, secret_dir):
    """The session's hardened Postgres container (schema applied, healthy)."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "postgres")
    yield running
    remove_quietly(docker_client, running.container, running.volume)


class _Upstream(http.server.BaseHTTPRequestHandler):
    """The stand-in application behind the proxy: answers every GET with a recognisable body."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = f"upstream saw {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def upstream_app(docker_client):
    """A plain HTTP server on the Docker bridge gateway address, which containers reach as the host."""
    gateway = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    server = http.server.ThreadingHTTPServer((gateway, 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{gateway}:{server.server_address[1]}"
    server.shutdown()


@dataclass
class RunningProxy:
    container: object
    port: int


@pytest.fixture(scope="session")
def tls_proxy(docker_client, built_images, test_pki, upstream_app):
    """The session's hardened TLS proxy, forwarding to `upstream_app`."""
    port = free_port()
    spec = proxy_spec(built_images["tls-proxy"], ProxySecrets(str(test_pki.server_cert), str(test_pki.server_key)),
                      upstream=upstream_app, port=Port(LISTEN_PORT, port), name=f"rae-test-proxy-{uuid.uuid4().hex[:8]}",
                      host_roots=(str(test_pki.server_cert.parent.parent),))  # the session's temporary data root
    print(f"[containers] starting {spec.name} on 127.0.0.1:{port} -> {upstream_app}", flush=True)
    container = docker_client.containers.run(**docker_api_kwargs(spec))
    try:
        wait_healthy(container)
    except BaseException:
        remove_quietly(docker_client, container)
        raise
    yield RunningProxy(container, port)
    remove_quietly(docker_client, container)


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) the Qdrant runtime test where its pinned image is absent: no registry is reachable."""
    qdrant_items = [item for item in items if item.path == QDRANT_MODULE]
    if not qdrant_items:
        return
    try:
        present = qdrant_image_present(docker.from_env())
    except docker.errors.DockerException:
        return  # the test then runs and fails with the engine's own message
    if present:
        return
    config.hook.pytest_deselected(items=qdrant_items)
    items[:] = [item for item in items if item.path != QDRANT_MODULE]
    config.stash[_QDRANT_NOTE] = (f"Qdrant runtime test not run: image {QDRANT_IMAGE} not present "
                                  "(no registry reachable)")


_QDRANT_NOTE = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    note = config.stash.get(_QDRANT_NOTE, None)
    if note:
        terminalreporter.write_sep("-", "containers")
        terminalreporter.write_line(note)
