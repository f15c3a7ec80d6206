"""Qdrant from our image behind its TLS 1.3 front, in real containers (A.8.2, A.8.5, A.8.9, A.8.24, A.5.17, A.8.13).

The store runs `qdrant_spec` (our image, built from the Qdrant 1.18.3 server binary) alone on an internal
network with its front, which runs `front_spec` (our TLS proxy image with `front_config`). Tests reach the
front on published loopback ports; the stack itself publishes neither.
"""

import dataclasses
import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from baseline import CONTAINER, TLS
from components import qdrant_runtime
from components.qdrant_runtime import (FrontSecrets, QdrantSecrets, config_yaml, front_config, front_spec,
                                       qdrant_spec)
from components.spec import Port, docker_api_kwargs
from tests.fixtures.docker_engine import free_port, remove_quietly, wait_healthy, write_secret

pytestmark = pytest.mark.integration

COLLECTION = "memories-probe"


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


def _create_on_networks(docker_client, spec, networks: list[str]):
    """Create a container from its spec, join every network before it starts (HAProxy resolves names once), start."""
    kwargs = docker_api_kwargs(spec)
    kwargs.pop("detach")
    container = docker_client.containers.create(**kwargs, network=networks[0])
    for network in networks[1:]:
        docker_client.networks.get(network).connect(container)
    container.start()
    return container


@pytest.fixture(scope="module")
def qdrant(docker_client, built_images, test_pki, secret_dir, tmp_path_factory):
    suffix = uuid.uuid4().hex[:8]
    store_name, front_name = f"rae-test-qdrant-store-{suffix}", f"rae-test-qdrant-{suffix}"
    api_key, read_only_key = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
    config = write_secret(secret_dir / f"qdrant-{suffix}.yaml", config_yaml(api_key, read_only_key).encode())
    store_cert, store_key = test_pki.issue_server(secret_dir, store_name)
    front_config_file = write_secret(secret_dir / f"qdrant-front-{suffix}.cfg", front_config(store_name).encode())
    storage = tmp_path_factory.mktemp("qdrant-storage")
    os.chown(storage, CONTAINER.uid, CONTAINER.gid)
    storage.chmod(0o700)
    store_network = docker_client.networks.create(f"rae-test-qdrant-net-{suffix}", internal=True)
    client_network = docker_client.networks.create(f"rae-test-qdrant-clients-{suffix}")
    rest_port, grpc_port = free_port(), free_port()
    store = front = None
    try:
        store = _create_on_networks(docker_client, qdrant_spec(
            built_images["qdrant"], str(storage),
            QdrantSecrets(str(config), str(store_cert), str(store_key), str(test_pki.ca_cert)), name=store_name),
            [store_network.name])
        wait_healthy(store)
        spec = dataclasses.replace(
            front_spec(built_images["tls-proxy"], FrontSecrets(str(front_config_file), str(test_pki.server_cert),
                                                               str(test_pki.server_key), str(test_pki.ca_cert)),
                       name=front_name),
            ports=(Port(qdrant_runtime.HTTP_PORT, rest_port), Port(qdrant_runtime.GRPC_PORT, grpc_port)))
        front = _create_on_networks(docker_client, spec, [client_network.name, store_network.name])
        wait_healthy(front)
        yield RunningQdrant(store, front, rest_port, grpc_port, storage, api_key, read_only_key, client_network.name)
    finally:
        remove_quietly(docker_client, front)
        remove_quietly(docker_client, store)
        store_network.remove()
        client_network.remove()


def _context(test_pki, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    context.maximum_version = maximum
    return context


def request(qdrant, test_pki, method: str, path: str, key: str | None = None, body=None) -> tuple[int, dict]:
    """One REST call through the front, certificate verified by name; returns (status, JSON body or {})."""
    connection = http.client.HTTPSConnection("localhost", qdrant.rest_port, context=_context(test_pki), timeout=30)
    headers = {"content-type": "application/json"} | ({"api-key": key} if key else {})
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload.startswith(b"{") else {}
    finally:
        connection.close()


def test_store_runs_as_non_root_with_read_only_rootfs_and_no_capabilities(qdrant):
    qdrant.store.reload()
    status = dict(line.split(":\t", 1) for line in
                  Path(f"/proc/{qdrant.store.attrs['State']['Pid']}/status").read_text().splitlines() if ":\t" in line)
    assert status["Uid"].split()[1] == str(CONTAINER.uid)
    assert int(status["CapEff"], 16) == 0
    assert qdrant.store.attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert qdrant.store.attrs["Config"]["Image"] != qdrant_runtime.OFFICIAL_IMAGE  # our build, by local image id


@pytest.mark.parametrize("port_name", ["rest_port", "grpc_port"])
def test_front_speaks_tls13_with_a_baseline_suite_and_verified_name(qdrant, test_pki, port_name):
    context = _context(test_pki)
    context.set_alpn_protocols(["h2"] if port_name == "grpc_port" else ["http/1.1"])
    with socket.create_connection(("127.0.0.1", getattr(qdrant, port_name)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() == "TLSv1.3"
        assert tls.cipher()[0] in TLS.cipher_suites


@pytest.mark.parametrize("port_name", ["rest_port", "grpc_port"])
def test_front_refuses_tls12(qdrant, test_pki, port_name):
    with socket.create_connection(("127.0.0.1", getattr(qdrant, port_name)), timeout=10) as raw, \
            pytest.raises(ssl.SSLError):
        _context(test_pki, maximum=ssl.TLSVersion.TLSv1_2).wrap_socket(raw, server_hostname="localhost")


def _probe_from(docker_client, built_images, network: str, script: str) -> subprocess.CompletedProcess:
    """Run bash in a throwaway base-image container on `network` (hardened flags; no tools beyond bash)."""
    name = f"rae-test-probe-{uuid.uuid4().hex[:8]}"
    return subprocess.run(["docker", "run", "--rm", "--name", name, "--network", network, "--read-only",
                           "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user",
                           f"{CONTAINER.uid}:{CONTAINER.gid}", built_images["base"], "bash", "-c", script],
                          capture_output=True, text=True, timeout=60)


def test_the_store_itself_accepts_tls12_so_only_its_front_reaches_it(qdrant, docker_client, built_images):
    # The fact that makes the front necessary: Qdrant's own TLS negotiates 1.2 (no setting raises its minimum).
    store_ip = next(iter(qdrant.store.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    hello = subprocess.run(["openssl", "s_client", "-tls1_2", "-connect", f"{store_ip}:{qdrant_runtime.HTTP_PORT}"],
                           input="", capture_output=True, text=True, timeout=30)
    assert "Protocol  : TLSv1.2" in hello.stdout
    # ...and a client on the clients' network cannot open a connection to it, by name or by address.
    probe = _probe_from(docker_client, built_images, qdrant.client_network,
                        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{store_ip}/{qdrant_runtime.HTTP_PORT}' && echo OPEN; "
                        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{qdrant.store.name}/{qdrant_runtime.HTTP_PORT}' "
                        f"&& echo OPEN; echo done")
    assert probe.stdout.split() == ["done"], probe.stdout + probe.stderr


def test_api_key_is_required(qdrant, test_pki):
    assert request(qdrant, test_pki, "GET", "/collections")[0] == 401
    assert request(qdrant, test_pki, "GET", "/collections", key="not-the-key")[0] == 401
    assert request(qdrant, test_pki, "GET", "/collections", key=qdrant.api_key)[0] == 200


@pytest.fixture(scope="module")
def collection(qdrant, test_pki):
    status, _ = request(qdrant, test_pki, "PUT", f"/collections/{COLLECTION}", key=qdrant.api_key,
                        body={"vectors": {"size": 4, "distance": "Cosine"}})
    assert status == 200
    status, _ = request(qdrant, test_pki, "PUT", f"/collections/{COLLECTION}/points?wait=true", key=qdrant.api_key,
                        body={"points": [{"id": 1, "vector": [0.1, 0.9, 0.1, 0.1], "payload": {"tenant_id": "a"}},
                                         {"id": 2, "vector": [0.9, 0.1, 0.1, 0.1], "payload": {"tenant_id": "b"}}]})
    assert status == 200
    return COLLECTION


def test_read_only_key_reads_but_cannot_write(qdrant, test_pki, collection):
    status, body = request(qdrant, test_pki, "POST", f"/collections/{collection}/points/search", key=qdrant.read_only_key,
                           body={"vector": [0.1, 0.9, 0.1, 0.1], "limit": 1})
    assert status == 200 and body["result"][0]["id"] == 1
    status, _ = request(qdrant, test_pki, "PUT", f"/collections/{collection}/points?wait=true",
                        key=qdrant.read_only_key, body={"points": [{"id": 3, "vector": [0.5, 0.5, 0.5, 0.5]}]})
    assert status == 403
    assert request(qdrant, test_pki, "DELETE", f"/collections/{collection}", key=qdrant.read_only_key)[0] == 403
    assert request(qdrant, test_pki, "POST", f"/collections/{collection}/snapshots", key=qdrant.read_only_key)[0] == 403
    status, body = request(qdrant, test_pki, "POST", f"/collections/{collection}/points/count", key=qdrant.api_key,
                           body={"exact": True})
    assert status == 200 and body["result"]["count"] == 2


def test_snapshots_are_written_on_the_data_volume(qdrant, test_pki, collection):
    status, body = request(qdrant, test_pki, "POST", f"/collections/{collection}/snapshots?wait=true",
                           key=qdrant.api_key)
    assert status == 200
    snapshot = qdrant.storage / "snapshots" / collection / body["result"]["name"]
    assert snapshot.is_file() and snapshot.stat().st_size > 0
    assert snapshot.stat().st_uid == CONTAINER.uid
    assert (qdrant.storage / ".qdrant-initialized").is_file()
    # Nothing was written to the container's own filesystem but the mount points Docker made for its files.
    mount_points = {mount["Destination"] for mount in qdrant.store.attrs["Mounts"]}
    mount_parents = {str(Path(point).parent) for point in mount_points}
    changed = {change["Path"] for change in qdrant.store.diff() or []}
    assert changed <= mount_points | mount_parents | {"/tmp", "/run"}, changed


def test_secrets_absent_from_docker_inspect_and_logs(qdrant, test_pki):
    for container in (qdrant.store, qdrant.front):
        container.reload()
        inspected, logs = json.dumps(container.attrs).encode(), container.logs()
        for secret in (qdrant.api_key.encode(), qdrant.read_only_key.encode(),
                       test_pki.server_key.read_bytes().strip()):
            assert secret not in inspected and secret not in logs


def test_front_refuses_a_store_its_ca_did_not_sign(qdrant, test_pki, docker_client, built_images, secret_dir):
    """The front verifies the store: given another trust anchor (here a leaf certificate), it gets no answer."""
    suffix = uuid.uuid4().hex[:8]
    store_name = qdrant.store.name
    config = write_secret(secret_dir / f"qdrant-front-wrong-{suffix}.cfg", front_config(store_name).encode())
    leaf = test_pki.server_cert.read_bytes().split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"
    wrong_anchor = write_secret(secret_dir / f"not-the-ca-{suffix}.crt", leaf)
    port = free_port()
    spec = dataclasses.replace(
        front_spec(built_images["tls-proxy"], FrontSecrets(str(config), str(test_pki.server_cert),
                                                           str(test_pki.server_key), str(wrong_anchor)),
                   name=f"rae-test-qdrant-wrong-{suffix}"),
        ports=(Port(qdrant_runtime.HTTP_PORT, port),))
    store_network = next(iter(qdrant.store.attrs["NetworkSettings"]["Networks"]))
    front = _create_on_networks(docker_client, spec, [qdrant.client_network, store_network])
    try:
        wait_healthy(front)
        wrong = dataclasses.replace(qdrant, front=front, rest_port=port)
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected, ssl.SSLError)):
            request(wrong, test_pki, "GET", "/collections", key=qdrant.api_key)
        assert request(qdrant, test_pki, "GET", "/collections", key=qdrant.api_key)[0] == 200
    finally:
        remove_quietly(docker_client, front)


def test_the_stores_network_is_internal_and_holds_only_store_and_fronts(qdrant, docker_client):
    qdrant.store.reload()
    assert all(binding is None for binding in (qdrant.store.attrs["NetworkSettings"]["Ports"] or {}).values())
    (network_name,) = qdrant.store.attrs["NetworkSettings"]["Networks"]
    network = docker_client.networks.get(network_name)
    assert network.attrs["Internal"] is True
    members = {container.name for container in network.containers}
    assert qdrant.store.name in members and qdrant.front.name in members
    assert all(name.startswith(("rae-test-qdrant-", "rae-test-probe-")) for name in members)
