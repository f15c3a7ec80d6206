"""Qdrant from our image behind its TLS 1.3 front, in real containers (A.8.2, A.8.5, A.8.9, A.8.24, A.5.17, A.8.13).

The session's store (tests/integration/conftest.py) runs `qdrant_spec` (our image, built from the Qdrant
1.18.3 server binary) alone on an internal network with its front, which runs `front_spec` (our TLS proxy
image with `front_config`). Tests reach the front on published loopback ports; the stack publishes neither.
"""

import base64
import dataclasses
import hmac
import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from baseline import TLS
from components.engine_ids import host_ids
from components import qdrant_runtime
from components.qdrant_runtime import FrontSecrets, front_config, front_spec, tenant_claims, tenant_collection
from components.spec import Port
from posture.container import service_user
from tests.fixtures.docker_engine import free_port, remove_quietly, wait_healthy, write_secret
from tests.integration.conftest import create_on_networks

pytestmark = pytest.mark.integration

COLLECTION = "memories-probe"


def _context(test_pki, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED, client: tuple | None = None) -> ssl.SSLContext:
    """The stack CA's trust, up to `maximum`, presenting the client certificate (cert, key) `client` if given."""
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    context.maximum_version = maximum
    if client:
        context.load_cert_chain(*map(str, client))
    return context


def request(qdrant, test_pki, method: str, path: str, key: str | None = None, body=None) -> tuple[int, dict]:
    """One REST call through the front, certificate verified by name, presenting the API's client certificate;
    returns (status, JSON body or {})."""
    context = _context(test_pki, client=(qdrant.client_cert, qdrant.client_key))
    connection = http.client.HTTPSConnection("localhost", qdrant.rest_port, context=context, timeout=30)
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
    assert status["Uid"].split()[1] == str(host_ids(*service_user(qdrant_runtime.STORE_NAME))[0])
    assert int(status["CapEff"], 16) == 0
    assert qdrant.store.attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert qdrant.store.attrs["Config"]["Image"] != qdrant_runtime.OFFICIAL_IMAGE  # our build, by local image id


@pytest.mark.parametrize("port_name", ["rest_port", "grpc_port"])
def test_front_speaks_tls13_with_a_baseline_suite_and_verified_name(qdrant, test_pki, port_name):
    context = _context(test_pki, client=(qdrant.client_cert, qdrant.client_key))
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


def _after_handshake(qdrant, test_pki, port_name: str, client: tuple | None) -> str:
    """One TLS 1.3 handshake with the front and a read: "answered" (the connection stays open or data arrives) or
    the refusal. In TLS 1.3 the server's certificate_required alert arrives after the client's Finished."""
    return _read_after_handshake(_context(test_pki, client=client), "127.0.0.1", getattr(qdrant, port_name),
                                 "localhost", grpc=port_name == "grpc_port", tls13=True)


def _read_after_handshake(context, address: str, port: int, server_name: str, grpc: bool, tls13: bool = False) -> str:
    """Handshake (ALPN h2 for gRPC, else http/1.1), send one request, read: "answered", or how it was refused."""
    context.set_alpn_protocols(["h2"] if grpc else ["http/1.1"])
    with socket.create_connection((address, port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        if tls13:
            assert tls.version() == "TLSv1.3"
        try:
            tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00" if grpc
                        else f"GET /readyz HTTP/1.1\r\nHost: {server_name}\r\n\r\n".encode())
            return "answered" if tls.recv(64) else "closed without an alert"
        except ssl.SSLError as error:
            return f"refused: {error.reason}"
        except ConnectionError as error:
            return f"reset: {error}"


@pytest.mark.parametrize("port_name", ["rest_port", "grpc_port"])
def test_front_requires_a_client_certificate_of_an_allowed_identity(qdrant, test_pki, secret_dir, port_name):
    """Real handshakes on both ports (baseline TLS.client_cert_required_hops: api->qdrant): the API's certificate
    is let through; no certificate gets TLS 1.3's certificate_required alert; a certificate of the same CA for
    another identity (the proxy's CN) is cut off; TLS 1.2 with the API's certificate is refused outright."""
    assert "api->qdrant" in TLS.client_cert_required_hops
    allowed = (qdrant.client_cert, qdrant.client_key)
    assert _after_handshake(qdrant, test_pki, port_name, allowed) == "answered"
    assert _after_handshake(qdrant, test_pki, port_name, None) == "refused: TLSV13_ALERT_CERTIFICATE_REQUIRED"
    other = test_pki.issue_client(secret_dir, f"qdrant-other-{port_name}-{uuid.uuid4().hex[:6]}",
                                  common_name="rae-proxy", owner=(os.getuid(), os.getgid()))
    assert _after_handshake(qdrant, test_pki, port_name, other).startswith(("closed", "reset"))
    with socket.create_connection(("127.0.0.1", getattr(qdrant, port_name)), timeout=10) as raw, \
            pytest.raises(ssl.SSLError, match="(?i)protocol version|alert"):
        _context(test_pki, maximum=ssl.TLSVersion.TLSv1_2, client=allowed).wrap_socket(raw, server_hostname="localhost")


def _probe_from(docker_client, built_images, network: str, script: str) -> subprocess.CompletedProcess:
    """Run bash in a throwaway base-image container on `network` (hardened flags; no tools beyond bash)."""
    name = f"rae-test-probe-{uuid.uuid4().hex[:8]}"
    return subprocess.run(["docker", "run", "--rm", "--name", name, "--network", network, "--read-only",
                           "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true", "--user",
                           "65534:65534", built_images["base"], "bash", "-c", script],  # nobody: no service's uid
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


def _store_handshake(qdrant, test_pki, port: int, client: tuple | None) -> str:
    """A TLS handshake with the store itself at its address on its own network (the host sits on every bridge),
    the store's certificate verified by name, then one read: "answered" or the refusal."""
    qdrant.store.reload()
    address = next(iter(qdrant.store.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    return _read_after_handshake(_context(test_pki, client=client), address, port, qdrant.store.name,
                                 grpc=port == qdrant_runtime.GRPC_PORT)


def test_the_store_requires_the_fronts_client_certificate_on_rest(qdrant, test_pki, secret_dir):
    """The front -> store hop (baseline TLS.client_cert_required_hops: qdrant-front->qdrant-store): Qdrant's REST
    port completes no request without a client certificate of the CA, and the front's answers. Every call through
    the front in this module passes that hop, so the front presents its certificate."""
    assert "qdrant-front->qdrant-store" in TLS.client_cert_required_hops
    refused = _store_handshake(qdrant, test_pki, qdrant_runtime.HTTP_PORT, None)
    assert refused.startswith(("refused", "reset", "closed")), refused
    front_identity = test_pki.issue_client(secret_dir, f"qdrant-front-probe-{uuid.uuid4().hex[:6]}",
                                           common_name=qdrant_runtime.FRONT_NAME)
    assert _store_handshake(qdrant, test_pki, qdrant_runtime.HTTP_PORT, front_identity) == "answered"
    assert request(qdrant, test_pki, "GET", "/collections", key=qdrant.api_key)[0] == 200


def test_the_stores_grpc_port_asks_no_client_certificate(qdrant, test_pki):
    """What Qdrant 1.18.3 does not do, observed: its gRPC port (load_tls_external_server_config) completes TLS for a
    client without a certificate. Only the front shares the store's network; the API key still applies there."""
    assert _store_handshake(qdrant, test_pki, qdrant_runtime.GRPC_PORT, None) == "answered"


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
    assert snapshot.stat().st_uid == host_ids(*service_user(qdrant_runtime.STORE_NAME))[0]
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
                                                           str(test_pki.server_key), str(wrong_anchor),
                                                           *map(str, test_pki.issue_client(
                                                               secret_dir, f"qdrant-front-wrong-{suffix}",
                                                               common_name=qdrant_runtime.FRONT_NAME))),
                   name=f"rae-test-qdrant-wrong-{suffix}", host_roots=(str(secret_dir.parent),)),
        ports=(Port(qdrant_runtime.HTTP_PORT, port),))
    store_network = next(iter(qdrant.store.attrs["NetworkSettings"]["Networks"]))
    front = create_on_networks(docker_client, spec, [qdrant.client_network, store_network], secret_dir)
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


def _jwt(claims: dict, key: str) -> str:
    """HS256 JWT (what the API mints with its JWT library; the tests carry no such dependency)."""
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")  # noqa: E731
    signing_input = encode(b'{"alg":"HS256","typ":"JWT"}') + b"." + encode(json.dumps(claims).encode())
    return (signing_input + b"." + encode(hmac.digest(key.encode(), signing_input, "sha256"))).decode()


TENANTS = ("tenant-a", "tenant-b")


@pytest.fixture(scope="module")
def tenant_collections(qdrant, test_pki) -> dict[str, str]:
    """One collection per tenant, one point each, written with the full key."""
    for number, tenant in enumerate(TENANTS, start=1):
        collection = tenant_collection(tenant)
        assert request(qdrant, test_pki, "PUT", f"/collections/{collection}", key=qdrant.api_key,
                       body={"vectors": {"size": 4, "distance": "Cosine"}})[0] == 200
        assert request(qdrant, test_pki, "PUT", f"/collections/{collection}/points?wait=true", key=qdrant.api_key,
                       body={"points": [{"id": number, "vector": [0.1 * number, 0.9, 0.1, 0.1],
                                         "payload": {"memory": f"secret of {tenant}"}}]})[0] == 200
    return {tenant: tenant_collection(tenant) for tenant in TENANTS}


def tenant_token(qdrant, tenant: str, access: str = "rw", expires_in: int = 300, key: str | None = None) -> str:
    return _jwt(tenant_claims(tenant, access, int(time.time()) + expires_in), key or qdrant.api_key)


def _calls_on(collection: str, point_id: int) -> dict[str, tuple[str, str, dict | None]]:
    """Every read and write path of a collection: search, query, scroll, retrieve, count, upsert, delete, snapshots."""
    base = f"/collections/{collection}"
    return {
        "info": ("GET", base, None),
        "search": ("POST", f"{base}/points/search", {"vector": [0.1, 0.9, 0.1, 0.1], "limit": 5, "with_payload": True}),
        "query": ("POST", f"{base}/points/query", {"query": [0.1, 0.9, 0.1, 0.1], "with_payload": True}),
        "scroll": ("POST", f"{base}/points/scroll", {"limit": 10, "with_payload": True}),
        "retrieve": ("POST", f"{base}/points", {"ids": [point_id], "with_payload": True}),
        "retrieve one": ("GET", f"{base}/points/{point_id}", None),
        "count": ("POST", f"{base}/points/count", {"exact": True}),
        "upsert": ("PUT", f"{base}/points?wait=true", {"points": [{"id": 99, "vector": [0.5, 0.5, 0.5, 0.5]}]}),
        "delete points": ("POST", f"{base}/points/delete?wait=true", {"points": [point_id]}),
        "create snapshot": ("POST", f"{base}/snapshots", None),
        "list snapshots": ("GET", f"{base}/snapshots", None),
        "delete collection": ("DELETE", base, None),
    }


@pytest.mark.parametrize("path", list(_calls_on("c", 1)))
def test_a_tenants_token_reaches_no_path_of_another_tenants_collection(qdrant, test_pki, tenant_collections, path):
    method, url, body = _calls_on(tenant_collections["tenant-b"], 2)[path]
    status, answer = request(qdrant, test_pki, method, url, key=tenant_token(qdrant, "tenant-a"), body=body)
    assert status == 403, (status, answer)
    assert "secret of tenant-b" not in json.dumps(answer)


def test_the_other_tenants_memory_is_untouched(qdrant, test_pki, tenant_collections):
    status, body = request(qdrant, test_pki, "POST", f"/collections/{tenant_collections['tenant-b']}/points/scroll",
                           key=tenant_token(qdrant, "tenant-b", "r"), body={"limit": 10, "with_payload": True})
    assert status == 200 and [point["payload"]["memory"] for point in body["result"]["points"]] == ["secret of tenant-b"]


def test_a_tenants_token_reads_and_writes_its_own_collection(qdrant, test_pki, tenant_collections):
    token = tenant_token(qdrant, "tenant-a")
    status, body = request(qdrant, test_pki, "POST", f"/collections/{tenant_collections['tenant-a']}/points/search",
                           key=token, body={"vector": [0.1, 0.9, 0.1, 0.1], "limit": 5, "with_payload": True})
    assert status == 200 and [hit["payload"]["memory"] for hit in body["result"]] == ["secret of tenant-a"]
    assert request(qdrant, test_pki, "PUT", f"/collections/{tenant_collections['tenant-a']}/points?wait=true",
                   key=token, body={"points": [{"id": 7, "vector": [0.3, 0.3, 0.3, 0.3]}]})[0] == 200


def test_a_tenants_token_lists_only_its_own_collection(qdrant, test_pki, tenant_collections):
    status, body = request(qdrant, test_pki, "GET", "/collections", key=tenant_token(qdrant, "tenant-a"))
    names = {collection["name"] for collection in body.get("result", {}).get("collections", [])}
    assert status == 200 and names == {tenant_collections["tenant-a"]}, (status, body)


def test_a_read_token_cannot_write_its_own_collection(qdrant, test_pki, tenant_collections):
    status, _ = request(qdrant, test_pki, "PUT", f"/collections/{tenant_collections['tenant-a']}/points?wait=true",
                        key=tenant_token(qdrant, "tenant-a", "r"),
                        body={"points": [{"id": 8, "vector": [0.3, 0.3, 0.3, 0.3]}]})
    assert status == 403


@pytest.mark.parametrize("forgery", ["expired", "signed with another key", "signed with the read-only key"])
def test_forged_or_expired_tokens_are_refused(qdrant, test_pki, tenant_collections, forgery):
    token = {"expired": lambda: tenant_token(qdrant, "tenant-a", expires_in=-60),
             "signed with another key": lambda: tenant_token(qdrant, "tenant-a", key="not-the-key"),
             "signed with the read-only key": lambda: tenant_token(qdrant, "tenant-a", key=qdrant.read_only_key)}[forgery]()
    status, _ = request(qdrant, test_pki, "POST", f"/collections/{tenant_collections['tenant-a']}/points/scroll",
                        key=token, body={"limit": 1})
    assert status in (401, 403)


@pytest.mark.parametrize("port_name,kind", [("rest_port", "tls"), ("grpc_port", "grpc")])
def test_the_audits_probe_sees_the_fronts_tls13_and_its_client_certificate_requirement(qdrant, test_pki, port_name,
                                                                                      kind):
    """The audit's TLS probe (harden/audit/tls_probe.py) against the front's REST and gRPC ports, as `harden audit
    --stack` runs it on the internal hops: TLS 1.2 refused, TLS 1.3 accepted (ALPN h2 on gRPC), the chain verified by
    name, a client without a certificate refused; every check observed, none assumed."""
    from harden.audit.tls_probe import Endpoint, probe

    endpoint = Endpoint("127.0.0.1", getattr(qdrant, port_name), kind, server_name="localhost",
                        ca=str(test_pki.ca_cert), mtls=True)
    checks = {e.check: e for e in probe(endpoint)}
    assert {name: checks[name].status for name in ("tls1.2_refused", "tls1.3_accepted", "chain_valid",
                                                   "client_without_certificate_refused")} == dict.fromkeys(
        ("tls1.2_refused", "tls1.3_accepted", "chain_valid", "client_without_certificate_refused"), "pass"), checks
    assert checks["tls1.3_accepted"].actual.startswith("accepted (TLSv1.3")
    assert ("alpn=h2" in checks["tls1.3_accepted"].detail) == (kind == "grpc")
