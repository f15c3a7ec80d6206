"""The audit of a real hardened Postgres from our own image: runtime checks, the SSLRequest TLS probe, no secret leaks."""

import pytest

from tests.audit.test_live_audit import audit, by_check
from tests.fixtures.docker_engine import remove_quietly
from tests.integration.conftest import start_postgres

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def audited_postgres(docker_client, built_images, test_pki, secret_dir, out_dir):
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "audit-pg")
    try:
        result = audit(out_dir / "postgres", "--container", running.container.name,
                       "--host-root", str(secret_dir.parent),  # the session's temporary data root
                       "--endpoint", f"127.0.0.1:{running.port},postgres,name=localhost", "--ca", str(test_pki.ca_cert))
    finally:
        remove_quietly(docker_client, running.container, running.volume)
    return running, result


def test_postgres_passes_runtime_and_tls_checks(audited_postgres):
    running, (code, report, _) = audited_postgres
    runtime = by_check(report, f"container/{running.container.name}")
    assert {e["status"] for e in runtime.values()} == {"pass"}, [e for e in runtime.values() if e["status"] != "pass"]
    tls = by_check(report, f"tls/127.0.0.1:{running.port}")
    assert tls["tls1.2_refused"]["status"] == "pass", tls["tls1.2_refused"]
    assert tls["tls1.3_accepted"]["status"] == "pass" and tls["chain_valid"]["status"] == "pass"
    assert tls["days_to_expiry"]["status"] == "pass"
    assert code == 0, report["summary"]


def test_postgres_secrets_never_reach_the_report(audited_postgres, out_dir):
    running, _ = audited_postgres
    files = [p for p in (out_dir / "postgres").rglob("*") if p.is_file()]
    for secret in running.secret_values:
        assert not [str(p) for p in files if secret.strip() in p.read_bytes()]
