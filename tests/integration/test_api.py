"""The API slot with the reference API (images/api) on real containers: Postgres, Qdrant's store and TLS 1.3 front,
the API and the TLS proxy, each on the network segments the local stack gives it (ISO 27001:2022 A.8.20, A.8.22,
A.8.24, A.5.14, A.5.15, A.8.11, A.8.15).

Segments: `edge` (the proxy's published port), `api` (proxy and API only), `stores` (API, Postgres, Qdrant's
front) and Qdrant's own (front and store). Every hop is TLS 1.3 and verified by name; the API requires the
proxy's client certificate; the API reaches Postgres only through the SECURITY DEFINER functions. A caller acts for
a tenant only with a bearer token of that tenant (`harden api-token`, baseline API.tenant_token_max_lifetime_s).
"""

import base64
import hmac
import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baseline import API, DATABASE
from components.engine_ids import host_ids
from components import api_runtime, postgres_runtime, proxy_runtime, qdrant_runtime
from components.api_runtime import ApiSecrets, api_spec
from components.postgres_runtime import PostgresSecrets, postgres_spec
from components.proxy_runtime import LISTEN_PORT, ProxySecrets, proxy_spec
from components.qdrant_runtime import FrontSecrets, QdrantSecrets, config_yaml, front_config, front_spec, qdrant_spec
from components.spec import Port
from tests.fixtures.docker_engine import free_port, new_password, remove_quietly, superuser_sql, wait_healthy, write_secret
from posture.container import service_user
from harden.api_token_cli import tenant_token
from tests.integration.conftest import create_on_networks

pytestmark = pytest.mark.integration

CONTENT = "Alice's new address: alice.liddell@example.org, flat 4B near the old mill (private)"
EMAIL = "alice.liddell@example.org"


@dataclass
class Service:
    proxy: object
    api: object
    postgres: object
    front: object
    store: object
    port: int
    networks: dict
    api_name: str
    ca_cert: str
    client_cert: str
    client_key: str
    signing_key: bytes  # the tenant tokens' Ed25519 private key (PEM): the stack's secret output in real use


@pytest.fixture(scope="module")
def service(docker_client, built_images, test_pki, secret_dir, tmp_path_factory):
    """The whole service on four segments; the proxy published on 127.0.0.1."""
    suffix = uuid.uuid4().hex[:8]
    names = {role: f"rae-test-{role}-{suffix}" for role in ("postgres", "qdrant-store", "qdrant", "api", "proxy")}
    roots = (str(secret_dir.parent),)  # the session's temporary data root
    networks = {"edge": docker_client.networks.create(f"rae-test-edge-{suffix}"),
                **{segment: docker_client.networks.create(f"rae-test-{segment}-{suffix}", internal=True)
                   for segment in ("api", "stores", "qdrant-net")}}
    ca = write_secret(secret_dir / f"ca-{suffix}.crt", test_pki.ca_cert.read_bytes())
    started, volume = [], f"rae-test-api-pg-{suffix}"
    try:
        superuser_file, _ = new_password(secret_dir, f"api-pg-superuser-{suffix}")
        app_file, _ = new_password(secret_dir, f"api-pg-app-{suffix}")
        pg_cert, pg_key = test_pki.issue_server(secret_dir, names["postgres"])
        postgres = create_on_networks(docker_client, postgres_spec(
            built_images["postgres"], volume, PostgresSecrets(str(superuser_file), str(app_file), str(pg_cert),
                                                              str(pg_key), str(ca)),
            name=names["postgres"], host_roots=roots), [networks["stores"].name], secret_dir)
        started.append(postgres)

        api_key, read_only_key = secrets.token_urlsafe(30), secrets.token_urlsafe(30)
        qdrant_config = write_secret(secret_dir / f"api-qdrant-{suffix}.yaml", config_yaml(
            api_key, read_only_key, require_client_certificate=True).encode())
        qdrant_key = write_secret(secret_dir / f"api-qdrant-key-{suffix}", api_key.encode() + b"\n")
        store_cert, store_key = test_pki.issue_server(secret_dir, names["qdrant-store"])
        front_cert, front_key = test_pki.issue_server(secret_dir, names["qdrant"])
        front_cfg = write_secret(secret_dir / f"api-front-{suffix}.cfg", front_config(names["qdrant-store"]).encode())
        storage = tmp_path_factory.mktemp("api-qdrant-storage")
        os.chown(storage, *host_ids(*service_user(qdrant_runtime.STORE_NAME)))
        storage.chmod(0o700)
        store = create_on_networks(docker_client, qdrant_spec(
            built_images["qdrant"], str(storage), QdrantSecrets(str(qdrant_config), str(store_cert), str(store_key),
                                                                str(ca)),
            name=names["qdrant-store"], host_roots=roots), [networks["qdrant-net"].name], secret_dir)
        started.append(store)
        wait_healthy(store)
        front = create_on_networks(docker_client, front_spec(
            built_images["tls-proxy"], FrontSecrets(str(front_cfg), str(front_cert), str(front_key), str(ca),
                                                   *map(str, test_pki.issue_client(
                                                       secret_dir, f"api-{suffix}-front",
                                                       common_name=qdrant_runtime.FRONT_NAME))),
            name=names["qdrant"], host_roots=roots), [networks["stores"].name, networks["qdrant-net"].name], secret_dir)
        started.append(front)
        wait_healthy(front)
        wait_healthy(postgres)

        signing_key = Ed25519PrivateKey.generate()
        signing_pem = signing_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
        token_public = write_secret(secret_dir / f"api-tenant-token-{suffix}.pem", signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        api_cert, api_key_file = test_pki.issue_server(secret_dir, names["api"])
        # The application role's client certificate: Postgres admits rae_app only with it (and its password).
        app_client_cert, app_client_key = test_pki.issue_client(secret_dir, f"api-{suffix}-{postgres_runtime.APP_ROLE}",
                                                                common_name=postgres_runtime.APP_ROLE)
        # The API's identity towards Qdrant's front (CN rae-api): the front refuses a client without one.
        qdrant_client_cert, qdrant_client_key = test_pki.issue_client(secret_dir, f"api-{suffix}-qdrant",
                                                                      common_name=api_runtime.QDRANT_CLIENT_NAME)
        api = create_on_networks(docker_client, api_spec(
            built_images["api"], ApiSecrets(str(api_cert), str(api_key_file), str(ca), str(app_file), str(qdrant_key),
                                            str(app_client_cert), str(app_client_key), str(qdrant_client_cert),
                                            str(qdrant_client_key), str(token_public)),
            networks=(networks["api"].name, networks["stores"].name), name=names["api"],
            postgres_host=names["postgres"], qdrant_host=names["qdrant"], host_roots=roots),
            [networks["api"].name, networks["stores"].name], secret_dir)
        started.append(api)
        wait_healthy(api)

        # Owned by the proxy's uid: the probes below play a client of the proxy's kind, as the proxy's user.
        client_cert, client_key = test_pki.issue_client(secret_dir, f"rae-test-proxy-client-{suffix}",
                                                        owner=host_ids(*service_user(proxy_runtime.SERVICE)))
        port = free_port()
        proxy = create_on_networks(docker_client, proxy_spec(
            built_images["tls-proxy"], ProxySecrets(str(test_pki.server_cert), str(test_pki.server_key),
                                                    str(client_cert), str(client_key), str(ca)),
            upstream=f"{names['api']}:{api_runtime.LISTEN_PORT}", upstream_name=names["api"],
            port=Port(LISTEN_PORT, port), name=names["proxy"], host_roots=roots),
            [networks["edge"].name, networks["api"].name], secret_dir)
        started.append(proxy)
        wait_healthy(proxy)
        yield Service(proxy, api, postgres, front, store, port, {k: v.name for k, v in networks.items()}, names["api"],
                      str(test_pki.ca_cert), str(client_cert), str(client_key), signing_pem)
    finally:
        for container in reversed(started):
            remove_quietly(docker_client, container)
        remove_quietly(docker_client, volume=volume)
        for network in networks.values():
            network.remove()


def call(service, method: str, path: str, body: dict | None = None, token: str | None = "for the path") -> tuple[int, dict]:
    """One request through the proxy; by default with a token of the path's tenant (token=None: no Authorization)."""
    if token == "for the path":
        tenant = path.split("/")[2] if path.startswith("/tenants/") else None
        token = tenant_token(service.signing_key, tenant) if tenant and "%" not in tenant else None
    context = ssl.create_default_context(cafile=service.ca_cert)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    connection = http.client.HTTPSConnection("localhost", service.port, context=context, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def stored(service) -> dict[str, int]:
    status, answer = call(service, "POST", "/tenants/alpha/memories", {"content": CONTENT})
    assert status == 201, answer
    other_status, other = call(service, "POST", "/tenants/beta/memories", {"content": "beta's own note about mills"})
    assert other_status == 201, other
    return {"alpha": answer["id"], "beta": other["id"]}


def test_api_runs_hardened_and_unpublished(service):
    service.api.reload()
    host = service.api.attrs["HostConfig"]
    assert service.api.attrs["Config"]["User"] == "%d:%d" % service_user(api_runtime.NAME)
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert not service.api.attrs["NetworkSettings"]["Ports"] or not any(service.api.attrs["NetworkSettings"]["Ports"].values())
    assert set(service.api.attrs["NetworkSettings"]["Networks"]) == {service.networks["api"], service.networks["stores"]}


def _process_ids(container) -> set[str]:
    """The real, effective, saved and filesystem uids and gids of the container's main process, read from /proc."""
    container.reload()
    status = dict(line.split(":\t", 1) for line in
                  Path(f"/proc/{container.attrs['State']['Pid']}/status").read_text().splitlines() if ":\t" in line)
    return set(status["Uid"].split()), set(status["Gid"].split())


def test_each_service_runs_as_a_uid_and_gid_of_its_own(service):
    """The five containers of the service, read from the host's kernel: each process's uid and gid are its service's
    own (baseline CONTAINER.service_users) as the engine's user-namespace remap maps them, none root, and no two
    containers share a uid or a gid."""
    containers = {api_runtime.NAME: service.api, "postgres": service.postgres, "qdrant-store": service.store,
                  "qdrant": service.front, proxy_runtime.SERVICE: service.proxy}
    seen = {}
    for name, container in containers.items():
        uids, gids = _process_ids(container)
        uid, gid = host_ids(*service_user(name))  # the host's view: the service's ids under the engine's remap
        assert (uids, gids) == ({str(uid)}, {str(gid)}), (name, uids, gids)
        seen[name] = (uid, gid)
    assert len({uid for uid, _ in seen.values()}) == len({gid for _, gid in seen.values()}) == len(containers), seen
    assert all(uid != 0 and gid != 0 for uid, gid in seen.values())


def test_health_through_the_proxy(service):
    # /healthz is the proxy's own answer; /health is the API's, reached over the mutual TLS hop.
    assert call(service, "GET", "/health") == (200, {"status": "ok"})


def test_a_stored_memory_is_recalled_by_a_query(service, stored):
    status, answer = call(service, "GET", f"/tenants/alpha/memories?query={EMAIL.replace('@', '%40')}+mill")
    assert status == 200
    assert [m["id"] for m in answer["memories"]] == [stored["alpha"]] and answer["memories"][0]["content"] == CONTENT


def test_a_tenant_recalls_none_of_another_tenants_memories(service, stored):
    for path in ("/tenants/beta/memories", "/tenants/beta/memories?query=alice+mill+address"):
        status, answer = call(service, "GET", path)
        assert status == 200 and stored["alpha"] not in [m["id"] for m in answer["memories"]]
        assert CONTENT not in json.dumps(answer)


def _unsigned(claims: dict, header: dict) -> str:
    encode = lambda part: base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(header)}.{encode(claims)}."


def _forged(service, forgery: str) -> str | None:
    """A token that must not let its bearer act for tenant alpha."""
    now = int(time.time())
    claims = {"sub": "alpha", "aud": api_runtime.TENANT_TOKEN_AUDIENCE, "iat": now, "exp": now + 300}
    key = serialization.load_pem_private_key(service.signing_key, password=None)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "none": lambda: None,
        "for another tenant": lambda: tenant_token(service.signing_key, "beta"),
        "signed with another key": lambda: jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA"),
        "expired": lambda: jwt.encode(claims | {"iat": now - 600, "exp": now - 60}, key, algorithm="EdDSA"),
        "living longer than the baseline allows": lambda: jwt.encode(
            claims | {"exp": now + API.tenant_token_max_lifetime_s + 1}, key, algorithm="EdDSA"),
        "without an expiry": lambda: jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, algorithm="EdDSA"),
        "for another audience": lambda: jwt.encode(claims | {"aud": "someone-else"}, key, algorithm="EdDSA"),
        "issued in the future": lambda: jwt.encode(claims | {"iat": now + 900, "exp": now + 1200}, key, algorithm="EdDSA"),
        # the public key as an HMAC secret (algorithm confusion) and an unsigned token
        "HS256 with the public key": lambda: _hs256(claims, public_pem),
        "alg none": lambda: _unsigned(claims, {"alg": "none", "typ": "JWT"}),
    }[forgery]()


def _hs256(claims: dict, secret: bytes) -> str:
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")  # noqa: E731
    signing_input = encode(b'{"alg":"HS256","typ":"JWT"}') + b"." + encode(json.dumps(claims).encode())
    return (signing_input + b"." + encode(hmac.digest(secret, signing_input, "sha256"))).decode()


FORGERIES = ("none", "for another tenant", "signed with another key", "expired", "living longer than the baseline allows",
             "without an expiry", "for another audience", "issued in the future", "HS256 with the public key", "alg none")


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("method, path", [("GET", "/tenants/alpha/memories"),
                                          ("GET", "/tenants/alpha/memories?query=alice+mill"),
                                          ("POST", "/tenants/alpha/memories")])
def test_without_a_token_of_the_paths_tenant_nothing_is_read_or_written(service, stored, forgery, method, path):
    """Seed 000 SEC-02 negative testing through the whole service: a caller that cannot prove it acts for alpha reads
    nothing of alpha's and writes nothing for alpha (401 without a valid token, 403 with another tenant's)."""
    count = f"SELECT count(*) FROM memories WHERE {DATABASE.tenant_column} = 'alpha'"
    before = superuser_sql(service.postgres, count)
    status, answer = call(service, method, path, {"content": "planted by a stranger"} if method == "POST" else None,
                          token=_forged(service, forgery))
    assert status == (403 if forgery == "for another tenant" else 401), (status, answer)
    assert CONTENT not in json.dumps(answer) and "memories" not in answer
    assert superuser_sql(service.postgres, count) == before


def test_a_refused_token_is_logged_without_the_token(service, stored):
    token = _forged(service, "signed with another key")
    call(service, "GET", "/tenants/alpha/memories", token=token)
    logs = service.api.logs().decode()
    refusals = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and "request.refused" in line]
    assert any(event["status"] == 401 for event in refusals), logs[-2000:]
    assert token.split(".")[2] not in logs and token.split(".")[1] not in logs


def test_every_recall_through_the_api_leaves_an_audit_row_of_the_app_role(service, stored):
    call(service, "GET", "/tenants/alpha/memories")
    rows = superuser_sql(service.postgres, "SELECT actor, action, memory_ids::text FROM audit_log "
                                           "WHERE tenant_id = 'alpha' ORDER BY seq")
    assert ["rae_app", "memory.store", f"{{{stored['alpha']}}}"] in rows
    assert ["rae_app", "memory.read", f"{{{stored['alpha']}}}"] in rows
    assert superuser_sql(service.postgres, "SELECT intact FROM audit_log_verify()") == [["t"]]


def test_bad_input_is_refused_without_echoing_it(service):
    status, answer = call(service, "POST", "/tenants/bad tenant!/memories".replace(" ", "%20"), {"content": "x"})
    assert status == 400 and "bad" not in json.dumps(answer)
    status, answer = call(service, "POST", "/tenants/alpha/memories", {"content": ""})
    assert status == 400


def _probe(docker_client, built_images, service, script: str) -> subprocess.CompletedProcess:
    """Python in a throwaway container of the API image on the API's segment, the test CA and a client
    certificate of that CA (the proxy's kind) mounted."""
    name = f"rae-test-probe-{uuid.uuid4().hex[:8]}"
    mounts = {service.ca_cert: "/probe/ca.crt", service.client_cert: "/probe/client.crt",
              service.client_key: "/probe/client.key"}
    return subprocess.run(["docker", "run", "--rm", "--name", name, "--network", service.networks["api"],
                           "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true",
                           "--user", "%d:%d" % service_user(proxy_runtime.SERVICE),
                           *[arg for source, target in mounts.items()
                             for arg in ("--mount", f"type=bind,source={source},target={target},readonly")],
                           "--entrypoint", "python3", built_images["api"], "-c", script],
                          capture_output=True, text=True, timeout=60)


def test_the_api_requires_a_client_certificate_and_tls13(docker_client, built_images, service):
    script = f"""
import socket, ssl
for certificate in (False, True):
    for maximum in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        context = ssl.create_default_context(cafile="/probe/ca.crt")
        context.maximum_version = maximum
        if certificate:
            context.load_cert_chain("/probe/client.crt", "/probe/client.key")
        answer = b""
        try:
            with socket.create_connection(("{service.api_name}", {api_runtime.LISTEN_PORT}), timeout=10) as raw, \\
                    context.wrap_socket(raw, server_hostname="{service.api_name}") as tls:
                tls.sendall(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                answer = tls.recv(100)
        except (ssl.SSLError, ConnectionError):
            pass
        print("cert" if certificate else "nocert", maximum.name, "ANSWERED" if answer.startswith(b"HTTP/1.1 200") else "REFUSED")
"""
    probe = _probe(docker_client, built_images, service, script)
    assert probe.stdout.split("\n")[:4] == ["nocert TLSv1_3 REFUSED", "nocert TLSv1_2 REFUSED",
                                            "cert TLSv1_3 ANSWERED", "cert TLSv1_2 REFUSED"], probe.stdout + probe.stderr


def test_the_proxy_cannot_open_a_connection_to_postgres_and_the_api_can(service):
    service.postgres.reload()
    pg_address = service.postgres.attrs["NetworkSettings"]["Networks"][service.networks["stores"]]["IPAddress"]
    assert pg_address
    for target in (service.postgres.name, pg_address):
        script = f"timeout 5 bash -c 'exec 3<>/dev/tcp/{target}/{postgres_runtime.PORT}' 2>/dev/null && echo OPEN || echo CLOSED"
        assert service.proxy.exec_run(["bash", "-c", script]).output.decode().split()[-1] == "CLOSED"
        assert service.api.exec_run(["bash", "-c", script]).output.decode().split()[-1] == "OPEN"
    front = f"timeout 5 bash -c 'exec 3<>/dev/tcp/{service.front.name}/{qdrant_runtime.HTTP_PORT}' 2>/dev/null && echo OPEN || echo CLOSED"
    assert service.proxy.exec_run(["bash", "-c", front]).output.decode().split()[-1] == "CLOSED"


def test_logs_at_info_hold_neither_a_memorys_content_nor_an_email_address(service, stored):
    call(service, "GET", f"/tenants/alpha/memories?query={EMAIL.replace('@', '%40')}")
    call(service, "POST", f"/tenants/alpha/memories?note={EMAIL.replace('@', '%40')}", {"content": f"mail {EMAIL}"})
    assert "liddell" not in service.proxy.logs().decode().lower()  # the proxy logs paths without query strings
    logs = service.api.logs().decode()
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {"memory.stored", "memory.recalled", "request"} <= {event["event"] for event in events}
    assert all(event["level"] in ("info", "warning", "error") for event in events)
    for secret_text in (CONTENT, EMAIL, "alice", "old mill", "liddell"):
        assert secret_text not in logs.lower()
