"""The local stack through the real Pulumi engine: up, live checks, no-change preview/refresh, drift, destroy.

The tests run in file order against one `e2e` stack (tests/fixtures/stack.py). The container-runtime
assertions shared with the container suite run on the stack's containers in tests/integration.
"""

import http.client
import json
import socket
import ssl
import tempfile
import subprocess
import time
from pathlib import Path

import jwt
import psycopg
import pytest

from baseline import CONTAINER, TLS
from components import qdrant_backup, qdrant_runtime
from components.engine_ids import engine_remap, host_ids
from components.pids_limit import live_pids_limit
from components.postgres_runtime import APP_ROLE, DATABASE_NAME
from harden.audit.stack import CONTAINER_TYPE, declared_containers, graph_drift, rendered_graph
from harden.engine_drift import resource_name
from tests.integration.test_container_runtime import kernel_status

pytestmark = pytest.mark.integration

STACK_LABEL = "org.rae.hardening.stack"


def stack_containers(docker_client, stack: str):
    return docker_client.containers.list(all=True, filters={"label": f"{STACK_LABEL}={stack}"})


def stack_networks(docker_client, stack: str):
    return [n for n in docker_client.networks.list() if n.name.startswith(f"rae-{stack}-")]


def postgres_container(docker_client, stack: str):
    matches = [c for c in stack_containers(docker_client, stack)
               if c.labels.get("org.rae.hardening.service") == "postgres"]
    assert len(matches) == 1, f"expected one postgres container in stack {stack}, found {[c.name for c in matches]}"
    return matches[0]


def host_port(endpoint: str) -> tuple[str, int]:
    host, port = endpoint.rsplit(":", 1)
    return host, int(port)


def app_client_files(outputs: dict) -> dict[str, str]:
    """The application role's client certificate, its key copied 0600 for this process (libpq wants its own key)."""
    key = Path(tempfile.mkdtemp(prefix="rae-e2e-")) / "app.key"
    key.touch(mode=0o600)
    key.write_bytes(Path(outputs["postgresAppClientKeyFile"]).read_bytes())
    return {"sslcert": outputs["postgresAppClientCertFile"], "sslkey": str(key)}


def connect_postgres(outputs: dict, **overrides):
    host, port = host_port(outputs["postgresEndpoint"])
    password = Path(outputs["secretFiles"]["postgres-app-password"]).read_text().strip()
    settings = dict(host=host, port=port, dbname=DATABASE_NAME, user=APP_ROLE, password=password,
                    sslmode="verify-full", sslrootcert=outputs["caCertFile"], connect_timeout=10,
                    **app_client_files(outputs))
    return psycopg.connect(**(settings | overrides))


def call_api(outputs: dict, method: str, path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    host, port = host_port(outputs["apiEndpoint"])
    context = ssl.create_default_context(cafile=outputs["caCertFile"])
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def tls_handshake(endpoint: str, ca_file: str, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED):
    host, port = host_port(endpoint)
    context = ssl.create_default_context(cafile=ca_file)
    context.maximum_version = maximum
    with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw, server_hostname=host) as tls:
        return tls.version(), tls.cipher()[0]


def test_up_starts_every_service_healthy_and_hardened(local_stack, docker_client):
    containers = {c.labels.get("org.rae.hardening.service"): c for c in stack_containers(docker_client, local_stack.name)}
    expected = {"postgres", "tls-proxy", "qdrant-store", "qdrant", "rae-api"}
    assert expected <= set(containers), f"services running: {sorted(containers)}"
    users = {}
    for service, container in containers.items():
        container.reload()
        state, host_config = container.attrs["State"], container.attrs["HostConfig"]
        assert state["Health"]["Status"] == "healthy", container.name
        uid, gid = CONTAINER.service_users[service]  # each service its own uid and gid, none shared
        assert container.attrs["Config"]["User"] == f"{uid}:{gid}", container.name
        assert host_config["ReadonlyRootfs"] is True, container.name
        assert host_config["CapDrop"] == list(CONTAINER.cap_drop), container.name
        assert "no-new-privileges:true" in host_config["SecurityOpt"], container.name
        status = kernel_status(container)  # the host's kernel: the service's ids under the engine's remap
        host_uid, host_gid = host_ids(uid, gid)
        assert set(status["Uid"].split()) == {str(host_uid)} and set(status["Gid"].split()) == {str(host_gid)}, \
            container.name
        users[service] = (uid, gid)
        assert int(status["CapEff"], 16) == 0, container.name
        assert status["NoNewPrivs"].strip() == "1", container.name
        read_only = container.exec_run(["/bin/sh", "-c", "echo x > /usr/local/bin/implant"])
        assert read_only.exit_code != 0 and b"Read-only file system" in read_only.output, container.name
    assert len({uid for uid, _ in users.values()}) == len({gid for _, gid in users.values()}) == len(users)


def test_host_directories_are_private_and_each_belongs_to_its_service(local_stack):
    """The data root and every directory the stack created under it are 0700; the data directories and secret files
    belong to their own service's uid and gid (baseline CONTAINER.service_users) as the engine's user-namespace remap
    maps them on the host (baseline DOCKER_DAEMON.userns_remap), no two services sharing one."""
    remap = engine_remap()
    assert remap is not None, "the stack's engine runs its containers in the host's user namespace"
    owner = {service: host_ids(*ids) for service, ids in CONTAINER.service_users.items()}
    assert all(uid >= remap[0] > 0 for uid, _ in owner.values())
    root = local_stack.data_root
    for directory in [root, *sorted(path for path in root.rglob("*") if path.is_dir()
                                    and path.relative_to(root).parts[0] in ("secrets", "backup-credentials"))]:
        assert directory.stat().st_mode & 0o777 == 0o700, directory
    for directory, service in (("postgres", "postgres"), ("qdrant", "qdrant-store")):
        info = (root / directory).stat()
        assert (info.st_mode & 0o777, info.st_uid, info.st_gid) == (0o700, *owner[service]), directory
    owners = {path.name: (path.stat().st_uid, path.stat().st_gid) for path in (root / "secrets").iterdir()}
    assert owners["postgres-tls.key"] == owner["postgres"]
    assert owners["api-tls.key"] == owner["rae-api"]
    assert owners["qdrant-store-tls.key"] == owner["qdrant-store"]
    assert owners["qdrant-front-client-tls.key"] == owner["qdrant"]
    assert owners["proxy-tls.key"] == owner["tls-proxy"]
    assert all((path.stat().st_mode & 0o777) == 0o400 for path in (root / "secrets").iterdir() if path.is_file())


def test_postgres_endpoint_accepts_tls13_with_scram(local_stack_outputs):
    with connect_postgres(local_stack_outputs) as connection:
        version = connection.execute("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]
    assert version == TLS.min_version


def test_postgres_endpoint_refuses_tls12_and_plain_connections(local_stack_outputs):
    with pytest.raises(psycopg.OperationalError):
        connect_postgres(local_stack_outputs, ssl_max_protocol_version="TLSv1.2")
    with pytest.raises(psycopg.OperationalError, match="no encryption|reject"):
        connect_postgres(local_stack_outputs, sslmode="disable")


def test_api_endpoint_accepts_only_tls13(local_stack_outputs):
    version, cipher = tls_handshake(local_stack_outputs["apiEndpoint"], local_stack_outputs["caCertFile"])
    assert (version, cipher in TLS.cipher_suites) == ("TLSv1.3", True)
    with pytest.raises(ssl.SSLError):
        tls_handshake(local_stack_outputs["apiEndpoint"], local_stack_outputs["caCertFile"], ssl.TLSVersion.TLSv1_2)


def test_postgres_refuses_the_app_role_without_its_client_certificate(local_stack_outputs):
    with pytest.raises(psycopg.OperationalError, match="client certificate"):
        connect_postgres(local_stack_outputs, sslcert="", sslkey="")


def token_for(local_stack, tenant: str) -> str:
    """A tenant's bearer token as an operator mints one: the stack's secret output piped into `harden api-token`."""
    key = local_stack.run("stack", "output", "apiTokenSigningKeyPem", "--show-secrets").stdout
    minted = subprocess.run([str(Path(local_stack.env["PATH"].split(":")[0]) / "harden"), "api-token", "--tenant", tenant],
                            input=key, capture_output=True, text=True, check=False)
    assert minted.returncode == 0, minted.stderr
    return minted.stdout.strip()


@pytest.fixture(scope="module")
def e2e_memory(local_stack, local_stack_outputs) -> int:
    status, stored = call_api(local_stack_outputs, "POST", "/tenants/e2e-alpha/memories",
                              {"content": "the e2e lighthouse keeper's note"}, token_for(local_stack, "e2e-alpha"))
    assert status == 201, stored
    return stored["id"]


def test_a_memory_stored_through_the_proxy_is_recalled_by_its_tenant_only(local_stack, local_stack_outputs, e2e_memory):
    alpha, beta = token_for(local_stack, "e2e-alpha"), token_for(local_stack, "e2e-beta")
    status, found = call_api(local_stack_outputs, "GET", "/tenants/e2e-alpha/memories?query=lighthouse+keeper", token=alpha)
    assert status == 200 and e2e_memory in [m["id"] for m in found["memories"]]
    status, other = call_api(local_stack_outputs, "GET", "/tenants/e2e-beta/memories?query=lighthouse+keeper", token=beta)
    assert status == 200 and e2e_memory not in [m["id"] for m in other["memories"]]


@pytest.mark.parametrize("token", [None, "e2e-beta"], ids=["no token", "another tenant's token"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_api_refuses_a_caller_without_a_token_of_the_paths_tenant(local_stack, local_stack_outputs, e2e_memory,
                                                                       token, method):
    """Cross-tenant negative test through the whole stack (seed 000 SEC-02): the proxy forwards anyone; the API binds
    a caller to a tenant only by a token the stack's key signed."""
    status, answer = call_api(local_stack_outputs, method, "/tenants/e2e-alpha/memories?query=lighthouse+keeper",
                              {"content": "planted"} if method == "POST" else None,
                              token_for(local_stack, token) if token else None)
    assert status == (403 if token else 401), (status, answer)
    assert "lighthouse" not in json.dumps(answer)


def test_the_stores_refuse_one_tenant_everything_of_anothers_on_the_stack(local_stack, local_stack_outputs, e2e_memory):
    """Below the API: the application role cannot read the memories table, nor recall another tenant's memory through
    the functions; Qdrant's front with a token of e2e-beta (signed with the stack's own key) reaches no path of
    e2e-alpha's collection."""
    with connect_postgres(local_stack_outputs) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("SELECT content FROM memories")
    with connect_postgres(local_stack_outputs) as connection:
        rows = connection.execute("SELECT memory_id FROM memory_recall(%s, %s::bigint[])",
                                  ("e2e-beta", [e2e_memory])).fetchall()
    assert rows == []
    entry = json.loads(Path(local_stack_outputs["backupConfig"]).read_text())["qdrant"]
    key = Path(local_stack_outputs["secretFiles"]["qdrant-api-key"]).read_text().strip()
    claims = qdrant_runtime.tenant_claims("e2e-beta", "rw", int(time.time()) + 300)
    beta = qdrant_backup.QdrantClient(
        qdrant_runtime.FRONT_NAME, qdrant_runtime.HTTP_PORT, jwt.encode(claims, key, algorithm="HS256"),
        Path(entry["cacert"]), qdrant_backup.container_address(entry["container"]),
        client_cert=(Path(entry["client_cert"]), Path(entry["client_key"])))
    alpha = f"/collections/{qdrant_runtime.tenant_collection('e2e-alpha')}"
    size = qdrant_backup.QdrantSource.from_config(entry).reader().call("GET", alpha)["config"]["params"]["vectors"]["size"]
    paths = {"info": ("GET", alpha, None),
             "search": ("POST", f"{alpha}/points/search", {"vector": [0.1] * size, "limit": 5, "with_payload": True}),
             "scroll": ("POST", f"{alpha}/points/scroll", {"limit": 10, "with_payload": True}),
             "retrieve": ("POST", f"{alpha}/points", {"ids": [e2e_memory], "with_payload": True}),
             "upsert": ("PUT", f"{alpha}/points?wait=true", {"points": [{"id": 99, "vector": [0.5] * size}]}),
             "create snapshot": ("POST", f"{alpha}/snapshots", None),
             "list snapshots": ("GET", f"{alpha}/snapshots", None),
             "delete collection": ("DELETE", alpha, None)}
    answers = {}
    for name, (method, path, body) in paths.items():
        connection, response = beta.open(method, path, None if body is None else json.dumps(body).encode(),
                                         {"content-type": "application/json"})
        answers[name] = response.status
        response.read()
        connection.close()
    assert set(answers.values()) == {403}, answers
    own = beta.open("GET", "/collections", None)
    listed = json.loads(own[1].read())
    own[0].close()
    assert qdrant_runtime.tenant_collection("e2e-alpha") not in json.dumps(listed)


def test_qdrant_s_front_lets_the_backup_in_with_its_client_certificate_only(local_stack_outputs):
    """The backup config the stack writes names the backup's client certificate (CN rae-backup): with it the
    backup lists the collections through the front at its container address; without it the front refuses the
    TLS 1.3 handshake (certificate_required), and with TLS 1.2 it refuses outright."""
    entry = json.loads(Path(local_stack_outputs["backupConfig"]).read_text())["qdrant"]
    source = qdrant_backup.QdrantSource.from_config(entry)
    assert source.client_cert and "memories-e2e-alpha" in source.reader().collections()
    bare = qdrant_backup.QdrantSource.from_config({k: v for k, v in entry.items() if k not in ("client_cert", "client_key")})
    with pytest.raises(RuntimeError, match="CERTIFICATE_REQUIRED"):
        bare.reader().collections()
    old = ssl.create_default_context(cafile=entry["cacert"])
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    old.load_cert_chain(entry["client_cert"], entry["client_key"])
    with socket.create_connection((source.reader().address, 6333), timeout=10) as raw, pytest.raises(ssl.SSLError):
        old.wrap_socket(raw, server_hostname="qdrant")


def test_the_proxy_reaches_the_api_but_not_the_stores(local_stack, docker_client):
    containers = {c.labels.get("org.rae.hardening.service"): c for c in stack_containers(docker_client, local_stack.name)}
    for target, reachable in (("rae-api:8443", True), ("postgres:5432", False), ("qdrant:6333", False)):
        host, port = target.split(":")
        probe = containers["tls-proxy"].exec_run(
            ["bash", "-c", f"timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>/dev/null && echo OPEN || echo CLOSED"])
        assert probe.output.decode().split()[-1] == ("OPEN" if reachable else "CLOSED"), target


def test_preview_and_refresh_report_no_changes(local_stack):
    preview = local_stack.run("preview", "--expect-no-changes", check=False)
    assert preview.returncode == 0, preview.stdout[-3000:] + preview.stderr[-3000:]
    refresh = local_stack.run("refresh", "--yes", "--expect-no-changes", "--suppress-progress", check=False)
    assert refresh.returncode == 0, refresh.stdout[-3000:] + refresh.stderr[-3000:]
    # After a real refresh (outputs now hold what pulumi-docker read back), the program still proposes nothing.
    again = local_stack.run("preview", "--expect-no-changes", check=False)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]


def _plain(value):
    """Numbers as the engine's JSON and the mocks give them (512 vs 512.0) compare equal; the values the bridge filled
    in from the schema's defaults (it names them in `__defaults`, e.g. a healthcheck's startInterval 0s) were not
    declared by the program, so they are left out with that bookkeeping."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        defaulted = set(value.get("__defaults") or ())
        return {key: _plain(item) for key, item in value.items() if key != "__defaults" and key not in defaulted}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def test_the_gate_judges_the_graph_that_is_deployed(local_stack):
    """The graph the policy gate renders under mocks has the deployed stack's resources (type and name), and every
    input it declares on a container equals that container's input in `pulumi stack export`."""
    rendered = rendered_graph(local_stack.name)
    deployed = local_stack.state_resources()
    skipped = ("pulumi:providers:", "pulumi:pulumi:Stack")
    deployed_by_name = {(r["type"], r["urn"].rsplit("::", 1)[-1]): r for r in deployed
                        if not r["type"].startswith(skipped)}
    assert {(r["type"], r["name"]) for r in rendered if not r["type"].startswith(skipped)} == set(deployed_by_name)
    containers = [r for r in rendered if r["type"] == CONTAINER_TYPE]
    assert len(containers) >= 2, [r["name"] for r in containers]
    for container in containers:
        live_inputs = _plain(deployed_by_name[(CONTAINER_TYPE, container["name"])]["inputs"])
        for key, declared in _plain(container["inputs"]).items():
            assert live_inputs.get(key) == declared, (container["name"], key, declared, live_inputs.get(key))
    assert declared_containers(rendered) == declared_containers(deployed)
    assert all(c["pids_limit"] == CONTAINER.pids_limit for c in declared_containers(deployed).values())


def test_pids_limit_is_on_every_live_container(local_stack, docker_client):
    for container in stack_containers(docker_client, local_stack.name):
        assert container.attrs["HostConfig"]["PidsLimit"] == CONTAINER.pids_limit, container.name
        assert live_pids_limit(container.name) == CONTAINER.pids_limit, container.name


def test_out_of_band_change_is_named_by_refresh_and_the_audit_and_reverted_by_up(local_stack, docker_client):
    container = postgres_container(docker_client, local_stack.name)
    declared_memory = container.attrs["HostConfig"]["Memory"]
    container.update(mem_limit="1g", memswap_limit="1g", restart_policy={"Name": "no"})
    # docker-py's update has no pids limit; the CLI has.
    subprocess.run(["docker", "update", "--pids-limit", "4096", container.name], check=True, capture_output=True)

    drift = {resource_name(urn): attributes for urn, attributes in local_stack.drift().items()}
    assert "postgres" in drift, f"the engine did not see the change: {sorted(drift)}"
    assert drift["postgres"]["memory"] == (declared_memory // 2**20, 1024)
    assert drift["postgres"]["restart"] == (CONTAINER.restart, "no")
    assert drift["postgres-pids"]["limit"] == (CONTAINER.pids_limit, 4096)

    audit = {(e.subject, e.check): e for e in graph_drift(local_stack.state_resources(), docker_client)}
    memory = audit[(f"stack/{container.name}", "attribute:memory_mb")]
    assert (memory.status, memory.expected, memory.actual) == ("fail", declared_memory // 2**20, 1024)
    pids = audit[(f"stack/{container.name}", "attribute:pids_limit")]
    assert (pids.status, pids.expected, pids.actual) == ("fail", CONTAINER.pids_limit, 4096)

    local_stack.run("up", "--yes", "--refresh", "--skip-preview", "--suppress-progress")
    restored = postgres_container(docker_client, local_stack.name)
    assert restored.attrs["HostConfig"]["Memory"] == declared_memory
    assert restored.attrs["HostConfig"]["RestartPolicy"]["Name"] == CONTAINER.restart
    assert restored.attrs["HostConfig"]["PidsLimit"] == CONTAINER.pids_limit
    assert local_stack.drift() == {}


def _recreate_by_hand(docker_client, container, **host_config):
    """What an operator does with `docker rm -f` + `docker run`: the same container under the same name, with some
    HostConfig changed (e.g. Privileged, CapAdd)."""
    attrs, api = container.attrs, docker_client.api
    config, networks = attrs["Config"], attrs["NetworkSettings"]["Networks"]
    aliases = {name: [a for a in (settings.get("Aliases") or []) if a != container.id[:12]]
               for name, settings in networks.items()}
    container.remove(force=True)
    first, *others = list(networks)
    created = api.create_container(
        image=config["Image"], command=config["Cmd"], user=config["User"], environment=config["Env"],
        labels=config["Labels"], healthcheck=config["Healthcheck"], hostname=config["Hostname"],
        ports=list(config.get("ExposedPorts") or {}), name=container.name,
        host_config={**attrs["HostConfig"], **host_config},
        networking_config=api.create_networking_config({first: api.create_endpoint_config(aliases=aliases[first])}))
    for network in others:
        api.connect_container_to_network(created["Id"], network, aliases=aliases[network])
    api.start(created["Id"])
    return docker_client.containers.get(created["Id"])


def test_a_container_recreated_privileged_by_hand_is_named_and_replaced(local_stack, docker_client):
    """pulumi-docker reads a container by id: a hand-made container under the managed name is a different container.
    The engine names the managed one as gone, the audit names the hand-made one's privileges, and `up --refresh`
    cannot create the declared container while the name is taken (Docker refuses: nothing half-applied). With the
    intruder removed, `up --refresh` brings the declared container back."""
    proxy = [c for c in stack_containers(docker_client, local_stack.name)
             if c.labels.get("org.rae.hardening.service") == "tls-proxy"][0]
    # the engine's user-namespace remap refuses a privileged container in a namespace of its own: the intruder
    # asks for the host's (docker run --privileged --userns=host)
    intruder = _recreate_by_hand(docker_client, proxy, Privileged=True, CapAdd=["NET_ADMIN"], UsernsMode="host")
    assert intruder.attrs["HostConfig"]["Privileged"] is True and intruder.attrs["HostConfig"]["UsernsMode"] == "host"

    drift = {resource_name(urn): attributes for urn, attributes in local_stack.drift().items()}
    assert drift.get("tls-proxy") == {"exists": (True, False)}, drift
    audit = {(e.subject, e.check): e for e in graph_drift(local_stack.state_resources(), docker_client)}
    privileged = audit[(f"stack/{proxy.name}", "attribute:privileged")]
    assert (privileged.status, privileged.expected, privileged.actual) == ("fail", False, True)
    cap_add = audit[(f"stack/{proxy.name}", "attribute:cap_add")]
    assert (cap_add.status, cap_add.expected, cap_add.actual) == ("fail", [], ["NET_ADMIN"])

    refused = local_stack.run("up", "--yes", "--refresh", "--skip-preview", "--suppress-progress", check=False)
    assert refused.returncode != 0 and "is already in use" in refused.stdout + refused.stderr
    assert docker_client.containers.get(proxy.name).id == intruder.id

    intruder.remove(force=True)
    local_stack.run("up", "--yes", "--refresh", "--skip-preview", "--suppress-progress")
    restored = docker_client.containers.get(proxy.name)
    assert restored.attrs["HostConfig"]["Privileged"] is False and not restored.attrs["HostConfig"]["CapAdd"]
    assert restored.attrs["HostConfig"]["PidsLimit"] == CONTAINER.pids_limit
    assert local_stack.drift() == {}


# Postgres' run-time files: present while it runs, gone after a clean shutdown, left after a kill; not data.
POSTGRES_RUNTIME_FILES = {"postmaster.pid", "postmaster.opts"}


def _postgres_data_files(local_stack) -> list[str]:
    return sorted(p.name for p in (local_stack.data_root / "postgres").iterdir() if p.name not in POSTGRES_RUNTIME_FILES)


def test_destroy_leaves_no_container_or_network_and_keeps_data(local_stack, docker_client):
    data_files_before = _postgres_data_files(local_stack)
    local_stack.run("destroy", "--yes", "--skip-preview", "--suppress-progress", "--exclude-protected")
    assert stack_containers(docker_client, local_stack.name) == []
    assert stack_networks(docker_client, local_stack.name) == []
    assert data_files_before, "the Postgres data directory was empty before destroy"
    assert _postgres_data_files(local_stack) == data_files_before
    kept = [r["urn"] for r in local_stack.state_resources() if r.get("protect")]
    assert kept, "no protected data resource is left in the state after destroy"


def test_up_after_destroy_serves_the_kept_data_with_its_kept_passwords(local_stack, local_stack_outputs):
    local_stack.up()
    with connect_postgres(local_stack.outputs()) as connection:
        assert connection.execute("SELECT count(*) FROM pg_stat_ssl WHERE ssl").fetchone()[0] >= 1
    assert local_stack.outputs()["secretFiles"] == local_stack_outputs["secretFiles"]
