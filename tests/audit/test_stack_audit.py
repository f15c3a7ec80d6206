"""The audit of the live local stack (the `e2e` stack, deployed through the real Pulumi engine)."""

import pytest

from baseline import API

from tests.audit.test_live_audit import audit, by_check
from tests.fixtures.stack import E2E_STACK

pytestmark = pytest.mark.integration
_MIB = 1024 * 1024


def _stack_container(docker_client, service: str):
    found = docker_client.containers.list(filters={"label": [f"org.rae.hardening.stack={E2E_STACK}",
                                                             f"org.rae.hardening.service={service}"]})
    assert found, f"no running {service} container labelled with stack {E2E_STACK}"
    return found[0]


@pytest.fixture(scope="module")
def clean_stack_audit(local_stack, out_dir):
    return audit(out_dir / "stack", "--stack", E2E_STACK, "--timeout", "30", env=local_stack.env)


def test_stack_audit_covers_engine_containers_and_exported_endpoints(clean_stack_audit, local_stack):
    code, report, stderr = clean_stack_audit
    sources = {e["source"] for e in report["evidence"]}
    assert {"stack", "container", "tls"} <= sources, sources
    assert "pulumi refresh --preview-only" in stderr
    outputs = local_stack.outputs()
    postgres = by_check(report, f"tls/{outputs['postgresEndpoint']}")
    assert postgres["tls1.2_refused"]["status"] == "pass" and postgres["tls1.3_accepted"]["status"] == "pass"
    assert postgres["chain_valid"]["status"] == "pass"  # against the CA certificate the stack exports
    runtime = [e for e in report["evidence"] if e["source"] == "container"]
    assert runtime and all(e["status"] == "pass" for e in runtime if e["check"] != "health"), \
        [e for e in runtime if e["status"] != "pass"]
    assert any(a["source"] == "pulumi" for a in report["assets"])
    assert "postgres" in (report["flows"] and " ".join(f["from"] + f["to"] for f in report["flows"]))


def test_stack_audit_reads_the_database_networks_and_inventory(clean_stack_audit, docker_client):
    """The live stack's own Postgres is queried (audit chain recomputed, roles, pg_hba); its networks join only its
    containers and give none a route out; every live container of the stack is declared."""
    code, report, _ = clean_stack_audit
    postgres = _stack_container(docker_client, "postgres")
    database = by_check(report, f"database/{postgres.name}")
    assert database["audit_chain_intact"]["status"] == "pass" and database["audit_chain_intact"]["actual"]["intact"]
    assert {e["status"] for e in database.values()} == {"pass"}, [e for e in database.values() if e["status"] != "pass"]
    inventory = by_check(report, f"stack/{E2E_STACK}")["undeclared_containers"]
    assert inventory["status"] == "pass" and inventory["actual"] == [], inventory
    networks = [e for e in report["evidence"] if e["subject"].startswith(f"network/rae-{E2E_STACK}-")]
    assert {e["check"] for e in networks} == {"members", "egress"} and len(networks) >= 4
    assert {e["status"] for e in networks} == {"pass"}, [e for e in networks if e["status"] != "pass"]
    observed = {row["control"] for row in report["controls"] if row["implementation"] == "observed"}
    assert {"A.5.9", "A.5.15", "A.5.28", "A.8.22", "A.8.31", "A.8.32", "A.8.26"} <= observed, observed
    # the published API endpoint (the TLS proxy) refuses a declared body above the baseline's limit
    body_limit = [e for e in report["evidence"] if e["check"] == "oversized_body_refused"]
    assert len(body_limit) == 1 and body_limit[0]["status"] == "pass", body_limit
    assert body_limit[0]["actual"].split()[1] == "413" and body_limit[0]["controls"] == list(API.controls("max_body_bytes"))


def test_memory_changed_behind_pulumis_back_is_drift(local_stack, docker_client, out_dir):
    container = _stack_container(docker_client, "postgres")
    host = container.attrs["HostConfig"]
    declared_mib, swap = host["Memory"] // _MIB, host["MemorySwap"]
    container.update(mem_limit=f"{declared_mib * 2}m", memswap_limit=f"{declared_mib * 4}m")
    try:
        code, report, _ = audit(out_dir / "stack-drift", "--stack", E2E_STACK, env=local_stack.env)
    finally:
        container.update(mem_limit=f"{declared_mib}m", memswap_limit=swap)
    drift = by_check(report, f"stack/{container.name}")["attribute:memory_mb"]
    assert drift["status"] == "fail" and drift["expected"] == declared_mib and drift["actual"] == declared_mib * 2
    assert "A.8.6" in drift["controls"] and code == 1


def test_stack_audit_probes_each_internal_hop_for_tls13_and_a_required_client_certificate(clean_stack_audit):
    """The servers of baseline TLS.client_cert_required_hops (the API behind the proxy, Qdrant's front), reached at
    their containers' addresses on the internal networks: TLS 1.2 refused, TLS 1.3 accepted with the chain verified
    by the service's name, and a client without a certificate refused, each observed by a real handshake."""
    from harden.audit.stack import internal_hop_servers

    _, report, _ = clean_stack_audit
    servers = [server for hop_servers in internal_hop_servers().values() for server in hop_servers]
    assert ("qdrant", 6334, "grpc") in servers  # Qdrant's gRPC port, probed as a gRPC client (ALPN h2)
    for name, port, kind in servers:  # the published proxy also answers for rae-api: not a hop
        subjects = {e["subject"] for e in report["evidence"] if e["source"] == "tls" and e["check"] == "tls1.3_accepted"
                    and f"server_name={name} " in e["detail"] and e["subject"].endswith(f":{port}")
                    and not e["subject"].startswith("tls/127.")}
        assert len(subjects) == 1, (name, subjects)
        checks = by_check(report, subjects.pop())
        assert {"tls1.2_refused", "tls1.3_accepted", "chain_valid", "client_without_certificate_refused"} <= set(checks)
        assert all(checks[c]["status"] == "pass" for c in ("tls1.2_refused", "tls1.3_accepted", "chain_valid")), \
            (name, checks)
        assert checks["tls1.3_accepted"]["actual"].startswith("accepted (TLSv1.3")
        if kind == "grpc":
            assert "alpn=h2" in checks["tls1.3_accepted"]["detail"], checks["tls1.3_accepted"]
        mutual = checks["client_without_certificate_refused"]
        assert mutual["status"] == "pass", mutual
        if name == "qdrant":  # HAProxy sends TLS 1.3's certificate_required alert
            assert "CERTIFICATE" in mutual["actual"].upper(), mutual
        else:  # uvicorn (asyncio's TLS) drops the connection without it, before any session ticket
            assert "no session ticket" in mutual["actual"], mutual


def test_stack_audit_reads_the_api_limits_the_proxy_and_the_api_run_with(clean_stack_audit):
    """baseline.API as the live stack runs it: the proxy's HAProxy config read inside its container, the API's
    environment; every limit found equal to the baseline's."""
    from baseline import API

    _, report, _ = clean_stack_audit
    limits = [e for e in report["evidence"] if e["check"].startswith("api_limit:")]
    assert {e["check"].split(":", 1)[1] for e in limits} == {name for name, _ in API.items()}
    assert all(e["status"] == "pass" and e["actual"] == e["expected"] for e in limits), limits


def test_stack_audit_asks_a_tenant_route_without_a_valid_token_and_is_refused(clean_stack_audit):
    """Observed, not read from config: the stack's API endpoint answers 401 to a tenant route without a token and with
    a token no key of the stack signed (harden/audit/api_limits.tenant_token_evidence)."""
    _, report, _ = clean_stack_audit
    probes = [e for e in report["evidence"] if e["check"].startswith("api_tenant_token_required:")]
    assert len(probes) == 2 and all(e["status"] == "pass" and e["actual"] == 401 for e in probes), probes
    assert all("A.5.15" in e["controls"] for e in probes)
