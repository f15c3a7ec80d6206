"""Containers of the integration suite (one Postgres, one TLS proxy and one Qdrant store with its front per session).

The containers are started from `docker_api_kwargs(postgres_spec(...))` / `proxy_spec(...)`: the same
runtime the Pulumi components declare.
"""

import dataclasses
import http.server
import ipaddress
import json
import os
import secrets
import ssl
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from posture.container import service_user
from components.engine_ids import host_ids
from components import qdrant_runtime
from components.proxy_runtime import LISTEN_PORT, ProxySecrets, proxy_spec
from components.qdrant_runtime import FrontSecrets, QdrantSecrets, config_yaml, front_config, front_spec, qdrant_spec
from components.spec import Port, docker_api_kwargs
from tests.fixtures.docker_engine import (free_port, network_gateway, own_copies, remove_quietly, start_postgres,
                                          wait_healthy, write_secret)


@pytest.fixture(scope="session")
def postgres(docker_client, built_images, test_pki, secret_dir):
    """The session's hardened Postgres container (schema applied, healthy)."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "postgres")
    yield running
    remove_quietly(docker_client, running.container, running.volume)


class _Upstream(http.server.BaseHTTPRequestHandler):
    """The stand-in API behind the proxy: answers GET and POST with the path, the TLS version of the hop, the
    client certificate's subject and the forwarding headers it received, as JSON."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        subject = dict(item[0] for item in self.connection.getpeercert()["subject"])
        body = json.dumps({"path": self.path, "tls": self.connection.version(), "client": subject.get("commonName"),
                           "forwarded": {name: self.headers.get_all(name) for name in
                                         ("X-Forwarded-For", "X-Forwarded-Proto", "Forwarded", "X-Real-IP")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 (http.server's naming)

    def log_message(self, *args):
        pass


@dataclass
class UpstreamApp:
    address: str
    server_name: str


@pytest.fixture(scope="session")
def upstream_app(docker_client, test_pki, secret_dir):
    """An HTTPS server on the Docker bridge gateway address (which containers reach as the host): TLS 1.3 only,
    a certificate for the API's name, and a client certificate of the test CA required, as the API requires."""
    gateway = network_gateway(docker_client)
    cert, key = test_pki.issue_server(secret_dir, f"upstream-{uuid.uuid4().hex[:8]}")
    server_name = cert.stem
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=str(test_pki.ca_cert))
    context.load_cert_chain(str(cert), str(key))
    server = http.server.ThreadingHTTPServer((gateway, 0), _Upstream)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield UpstreamApp(f"{gateway}:{server.server_address[1]}", server_name)
    server.shutdown()


@dataclass
class RunningProxy:
    container: object
    port: int
    client_name: str


@pytest.fixture(scope="session")
def tls_proxy(docker_client, built_images, test_pki, secret_dir, upstream_app):
    """The session's hardened TLS proxy, forwarding to `upstream_app` over mutual TLS 1.3."""
    port = free_port()
    client_name = f"rae-test-proxy-client-{uuid.uuid4().hex[:8]}"
    client_cert, client_key = test_pki.issue_client(secret_dir, client_name)
    ca_copy = write_secret(secret_dir / f"{client_name}-ca.crt", test_pki.ca_cert.read_bytes())
    spec = proxy_spec(built_images["tls-proxy"],
                      ProxySecrets(str(test_pki.server_cert), str(test_pki.server_key), str(client_cert),
                                   str(client_key), str(ca_copy)),
                      upstream=upstream_app.address, upstream_name=upstream_app.server_name,
                      port=Port(LISTEN_PORT, port), name=f"rae-test-proxy-{uuid.uuid4().hex[:8]}",
                      host_roots=(str(test_pki.server_cert.parent.parent),))  # the session's temporary data root
    print(f"[containers] starting {spec.name} on 127.0.0.1:{port} -> {upstream_app.address}", flush=True)
    container = docker_client.containers.run(**docker_api_kwargs(own_copies(spec, secret_dir)))
    try:
        wait_healthy(container)
    except BaseException:
        remove_quietly(docker_client, container)
        raise
    yield RunningProxy(container, port, client_name)
    remove_quietly(docker_client, container)


@dataclass
class RunningQdrant:
    store: object
    front: object
    rest_port: int
    grpc_port: int
    storage: Path
    api_key: str
    read_only_key: str
    client_network: str
    client_cert: Path  # CN rae-api: a client identity the front lets through (qdrant_runtime.FRONT_CLIENTS)
    client_key: Path


def create_on_networks(docker_client, spec, networks: list[str], secret_dir: Path):
    """Create a container from its spec with secret files of its own (own_copies under `secret_dir`), join every
    network before it starts (HAProxy resolves names once), start."""
    kwargs = docker_api_kwargs(own_copies(spec, secret_dir))
    kwargs.pop("detach")
    container = docker_client.containers.create(**kwargs, network=networks[0])
    for network in networks[1:]:
        docker_client.networks.get(network).connect(container)
    container.start()
    return container


@pytest.fixture(scope="session")
def qdrant(docker_client, built_images, test_pki, secret_dir, tmp_path_factory):
    """The session's Qdrant store, alone on an internal network with its TLS 1.3 front (published for the tests)."""
    suffix = uuid.uuid4().hex[:8]
    store_name, front_name = f"rae-test-qdrant-store-{suffix}", f"rae-test-qdrant-{suffix}"
    api_key, read_only_key = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
    config = write_secret(secret_dir / f"qdrant-{suffix}.yaml",
                          config_yaml(api_key, read_only_key, require_client_certificate=True).encode())
    store_cert, store_key = test_pki.issue_server(secret_dir, store_name)
    client_cert, client_key = test_pki.issue_client(secret_dir, f"qdrant-api-{suffix}", common_name="rae-api",
                                                    owner=(os.getuid(), os.getgid()))
    # The front's identity towards the store (CN the front's service name): the store requires it on REST.
    front_client = test_pki.issue_client(secret_dir, f"qdrant-front-{suffix}", common_name=qdrant_runtime.FRONT_NAME)
    front_config_file = write_secret(secret_dir / f"qdrant-front-{suffix}.cfg", front_config(store_name).encode())
    storage = tmp_path_factory.mktemp("qdrant-storage")
    os.chown(storage, *host_ids(*service_user(qdrant_runtime.STORE_NAME)))
    storage.chmod(0o700)
    store_network = docker_client.networks.create(f"rae-test-qdrant-net-{suffix}", internal=True)
    client_network = docker_client.networks.create(f"rae-test-qdrant-clients-{suffix}")
    rest_port, grpc_port = free_port(), free_port()
    store = front = None
    try:
        store = create_on_networks(docker_client, qdrant_spec(
            built_images["qdrant"], str(storage),
            QdrantSecrets(str(config), str(store_cert), str(store_key), str(test_pki.ca_cert)), name=store_name,
            host_roots=(str(secret_dir.parent),)),  # the session's temporary data root
            [store_network.name], secret_dir)
        wait_healthy(store)
        spec = dataclasses.replace(
            front_spec(built_images["tls-proxy"], FrontSecrets(str(front_config_file), str(test_pki.server_cert),
                                                               str(test_pki.server_key), str(test_pki.ca_cert),
                                                               *map(str, front_client)),
                       name=front_name, host_roots=(str(secret_dir.parent),)),
            ports=(Port(qdrant_runtime.HTTP_PORT, rest_port), Port(qdrant_runtime.GRPC_PORT, grpc_port)))
        front = create_on_networks(docker_client, spec, [client_network.name, store_network.name], secret_dir)
        wait_healthy(front)
        yield RunningQdrant(store, front, rest_port, grpc_port, storage, api_key, read_only_key, client_network.name,
                            client_cert, client_key)
    finally:
        remove_quietly(docker_client, front)
        remove_quietly(docker_client, store)
        store_network.remove()
        client_network.remove()




@pytest.fixture(scope="session")
def qdrant_store(qdrant):
    """The Qdrant store as a session container (for the runtime checks every service passes)."""
    return RunningContainer(qdrant.store)


@dataclass
class RunningContainer:
    container: object
