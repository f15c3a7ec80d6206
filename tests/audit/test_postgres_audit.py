"""The audit of a real hardened Postgres from our own image: runtime checks, the SSLRequest TLS probe, the checks run
inside the database (audit_log_verify(), roles, pg_hba, settings), no secret leaks; then the same database tampered
with by its superuser, which the audit must report."""

import pytest

from baseline import DATABASE
from harden.audit import database
from tests.audit.test_live_audit import audit, by_check
from tests.fixtures.docker_engine import remove_quietly, superuser_sql
from tests.integration.conftest import start_postgres

pytestmark = pytest.mark.integration
DATABASE_CHECKS = {"audit_chain_intact", "audit_log_append_only", "superuser_local_only", "login_roles",
                   "app_role_direct_access", "row_level_security", "security_definer_search_path",
                   "tls_and_passwords", "md5_password_roles", "audit_logging", "memory_contents_out_of_logs",
                   "engine_version"}


@pytest.fixture(scope="module")
def audited_postgres(docker_client, built_images, test_pki, secret_dir, out_dir):
    """(running, clean audit, tampered audit): two memories stored (two chained audit rows), audited; then the
    superuser disables the append-only trigger, rewrites the first audit row, deletes the last one, grants the
    app role SELECT on memories and adds a SECURITY DEFINER function without a fixed search_path, and the container
    is audited again against the first report."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "audit-pg")
    try:
        for content in ("first", "second"):
            superuser_sql(running.container, f"SELECT memory_store('tenant-a', '{content}')")
        clean = audit(out_dir / "postgres", "--container", running.container.name,
                      "--host-root", str(secret_dir.parent),  # the session's temporary data root
                      "--endpoint", f"127.0.0.1:{running.port},postgres,name=localhost", "--ca", str(test_pki.ca_cert))
        untouched = {e.check: e for e in database.collect(running.container, clean[1])}  # nothing changed since
        table = DATABASE.audit_log_table
        superuser_sql(running.container, f"ALTER TABLE {table} DISABLE TRIGGER audit_log_append_only")
        superuser_sql(running.container, f"UPDATE {table} SET actor = 'someone-else' WHERE seq = 1")
        superuser_sql(running.container, f"DELETE FROM {table} WHERE seq = 2")  # cut from the end: chain stays whole
        superuser_sql(running.container, "GRANT SELECT ON memories TO rae_app")
        superuser_sql(running.container, "CREATE FUNCTION public.loose() RETURNS int LANGUAGE sql SECURITY DEFINER "
                                         "AS 'SELECT 1'")  # privileged code resolving names by the caller's path
        tampered = audit(out_dir / "postgres-tampered", "--container", running.container.name,
                         "--host-root", str(secret_dir.parent), "--previous", str(out_dir / "postgres" / "report.json"))
    finally:
        remove_quietly(docker_client, running.container, running.volume)
    return running, clean, tampered, untouched


def test_postgres_passes_runtime_and_tls_checks(audited_postgres):
    running, (code, report, _), _, _ = audited_postgres
    runtime = by_check(report, f"container/{running.container.name}")
    assert {e["status"] for e in runtime.values()} == {"pass"}, [e for e in runtime.values() if e["status"] != "pass"]
    tls = by_check(report, f"tls/127.0.0.1:{running.port}")
    assert tls["tls1.2_refused"]["status"] == "pass", tls["tls1.2_refused"]
    assert tls["tls1.3_accepted"]["status"] == "pass" and tls["chain_valid"]["status"] == "pass"
    assert tls["days_to_expiry"]["status"] == "pass"
    assert code == 0, report["summary"]


def test_database_checks_run_inside_postgres_and_pass(audited_postgres):
    running, (code, report, stderr), _, _ = audited_postgres
    checks = by_check(report, f"database/{running.container.name}")
    assert set(checks) == DATABASE_CHECKS
    assert {e["status"] for e in checks.values()} == {"pass"}, [e for e in checks.values() if e["status"] != "pass"]
    chain = checks["audit_chain_intact"]["actual"]
    assert chain["intact"] is True and chain["rows"] == 2 and chain["head_seq"] == 2 and len(chain["head_hash"]) == 64
    assert checks["app_role_direct_access"]["actual"] == {"memories": False, "audit_log write": False}
    assert set(checks["login_roles"]["actual"]) == {"postgres", "rae_app"} and checks["login_roles"]["actual"]["rae_app"] == []
    soa = {row["control"]: row for row in report["controls"]}
    for control in ("A.5.15", "A.5.18", "A.5.28", "A.5.33", "A.5.34", "A.8.8", "A.8.11"):  # no other collector observes these
        assert soa[control]["implementation"] == "observed" and soa[control]["status"] == "pass", soa[control]
    assert "A.8.28" in checks["security_definer_search_path"]["controls"]
    assert "audit_log_verify()" in stderr


def test_tampered_chain_trigger_and_grant_fail_their_controls(audited_postgres):
    running, _, (code, report, _), _ = audited_postgres
    checks = by_check(report, f"database/{running.container.name}")
    chain = checks["audit_chain_intact"]
    assert chain["status"] == "fail" and chain["actual"]["intact"] is False and chain["actual"]["first_broken_seq"] == 1
    assert checks["audit_log_append_only"]["status"] == "fail" and checks["audit_log_append_only"]["actual"] == {
        "audit_log_append_only": "D"}
    assert checks["app_role_direct_access"]["status"] == "fail"
    head = checks["audit_chain_keeps_previous_head"]  # the head the clean report recorded is gone
    assert head["status"] == "fail" and head["expected"]["seq"] == 2 and head["actual"]["row_hash"] is None
    definer = checks["security_definer_search_path"]
    assert definer["status"] == "fail" and definer["actual"]["without_fixed_search_path"] == ["loose"]
    assert checks["superuser_local_only"]["status"] == "pass"  # untouched checks stay as they were
    soa = {row["control"]: row for row in report["controls"]}
    assert soa["A.8.15"]["status"] == "fail" and soa["A.5.28"]["status"] == "fail" and soa["A.5.15"]["status"] == "fail"
    assert code == 1 and report["summary"]["verdict"] == "drift"


def _measure(report: dict, risk: str, text: str) -> dict:
    [row] = [r for r in report["risks"] if r["id"] == risk]
    return next(m for m in row["measures"] if m["measure"].startswith(text))


def test_the_risk_treatment_plan_cites_the_database_evidence(audited_postgres):
    _, (_, clean, _), (_, tampered, _), _ = audited_postgres
    assert _measure(clean, "R2", "a tamper-evident audit log")["status"] == "pass"
    assert "audit_chain_intact" in _measure(clean, "R2", "a tamper-evident audit log")["claim"]
    assert _measure(tampered, "R2", "a tamper-evident audit log")["status"] == "fail"
    assert _measure(clean, "R1", "tenant isolation")["status"] == "pass"
    assert _measure(tampered, "R1", "tenant isolation")["status"] == "fail"  # the app role was granted SELECT


def test_postgres_secrets_never_reach_the_report(audited_postgres, out_dir):
    running, _, _, _ = audited_postgres
    for folder in ("postgres", "postgres-tampered"):
        files = [p for p in (out_dir / folder).rglob("*") if p.is_file()]
        for secret in running.secret_values:
            assert not [str(p) for p in files if secret.strip() in p.read_bytes()]


def test_the_previous_head_still_in_an_untouched_chain_passes(audited_postgres):
    _, (_, report, _), _, untouched = audited_postgres
    head = untouched["audit_chain_keeps_previous_head"]
    assert head.status == "pass" and head.actual == head.expected and head.expected["seq"] == 2
    assert head.actual["row_hash"] == by_check(report, head.subject)["audit_chain_intact"]["actual"]["head_hash"]
