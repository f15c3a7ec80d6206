"""Evidence from inside a running Postgres of our image: the audit log's hash chain recomputed by the database's
own `audit_log_verify()`, who may log in and how, what the application role can reach, the server's live settings.

Every query runs as the superuser over the container's local socket (`docker exec ... psql`, peer authentication:
components/postgres_runtime.local_superuser_command), the only way that role logs in; no password is read and no
password hash leaves the database (only role names are reported). A query that cannot run makes its checks
`unknown`, never `pass`.

    >>> evidence = collect(docker_client.containers.get("postgres"))
"""

import csv

from baseline import DATABASE
from components import postgres_runtime as pg
from harden.audit.containers import SERVICE_LABEL
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence

SOURCE = "database"
_NETWORK_TYPES = ("host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc")
_TLS_ONLY_TYPES = ("hostssl",)
# pgaudit classes whose records copy memory contents into the log (baseline DATABASE.pgaudit_class_stakes).
_CONTENT_CLASSES = ("read", "all")
# A SECURITY DEFINER function that fixes its search_path is PostgreSQL's secure-coding rule for privileged code
# (CVE-2018-1058); the check reads it from the functions as deployed, so it speaks to secure coding too.
_SECURE_CODING = ("A.8.28",)
_ROLE_ATTRIBUTES = ("rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls")


def is_postgres(container) -> bool:
    """A Postgres container of our image: labelled as the postgres service, or started with our pg_hba.conf."""
    attrs = container.attrs
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    command = " ".join((attrs.get("Config") or {}).get("Cmd") or [])
    return labels.get(SERVICE_LABEL) == "postgres" or f"hba_file={pg.HBA_FILE}" in command


def query(container, statement: str) -> list[list[str]]:
    """CSV rows of one statement run as the superuser over the local socket; RuntimeError with psql's message."""
    argv = pg.local_superuser_command(container.name, statement)[3:]  # without `docker exec NAME`
    result = container.exec_run(argv, demux=True)
    stdout, stderr = (part.decode(errors="replace") if part else "" for part in result.output)
    if result.exit_code != 0:
        raise RuntimeError(f"psql exited {result.exit_code}: {stderr.strip()[-300:]}")
    return [row for row in csv.reader(stdout.splitlines()) if row]


def _item(subject, check, expected, actual, status, controls, detail=""):
    return Evidence(SOURCE, subject, check, expected, actual, status, tuple(dict.fromkeys(controls)), detail)


def _checked(subject: str, container, check: str, expected, controls, judge, statement: str) -> Evidence:
    """One check: the statement's rows judged into (actual, passed, detail); a failed query is unknown."""
    try:
        rows = query(container, statement)
    except Exception as error:  # the container stopped, psql is missing, the schema is not there: not a pass
        return _item(subject, check, expected, f"{type(error).__name__}: {error}", UNKNOWN, controls,
                     "query could not run over the local socket")
    actual, passed, detail = judge(rows)
    return _item(subject, check, expected, actual, PASS if passed else FAIL, controls, detail)


def _audit_chain(rows):
    intact, count, broken, head_seq, head_hash = (rows[0] + [""] * 5)[:5]
    actual = {"intact": intact == "t", "rows": int(count or 0), "first_broken_seq": int(broken) if broken else None,
              "head_seq": int(head_seq) if head_seq else None, "head_hash": head_hash or None}
    return actual, intact == "t", "audit_log_verify() recomputed every row's sha256 over the previous row's hash"


def _superuser_network(rows):
    """pg_hba rules in order: the first network rule that can match the superuser must reject it, and the first
    rule that can match a connection without TLS must reject it."""
    def first(applies):
        for line, kind, users, method in rows:
            if kind in _NETWORK_TYPES and applies(kind, users.strip("{}").split(",")):
                return f"line {line}: {kind} {users} {method}", method == "reject"
        return "no network rule", True

    superuser, superuser_refused = first(lambda kind, users: pg.SUPERUSER in users or "all" in users)
    plain, plain_refused = first(lambda kind, users: kind not in _TLS_ONLY_TYPES)
    actual = {"superuser_over_network": superuser, "without_tls": plain}
    return actual, superuser_refused and plain_refused, "pg_hba_file_rules as the server loaded them"


def _login_roles(rows):
    actual = {name: [a for a, value in zip(_ROLE_ATTRIBUTES, flags) if value == "t"] for name, *flags in rows}
    allowed = {pg.SUPERUSER: list(_ROLE_ATTRIBUTES), pg.APP_ROLE: []}
    extra = {name: flags for name, flags in actual.items() if name not in allowed}
    elevated = {name: flags for name, flags in actual.items() if name != pg.SUPERUSER and flags}
    problems = [f"login roles outside the allow-list: {sorted(extra)}"] if extra else []
    problems += [f"{name} holds {flags}" for name, flags in elevated.items()]
    return actual, not problems, "; ".join(problems) or "pg_roles where rolcanlogin"


def _app_role_privileges(rows):
    actual = {name: value == "t" for name, value in rows}
    held = [name for name, value in actual.items() if value]
    return actual, not held, (f"{pg.APP_ROLE} holds {held}" if held else
                              f"{pg.APP_ROLE} reaches memories only through the SECURITY DEFINER functions")


def _row_security(rows):
    actual = {name: {"enabled": enabled == "t", "forced": forced == "t"} for name, enabled, forced in rows}
    expected = {"memories", DATABASE.audit_log_table}
    missing = expected - set(actual)
    weak = [name for name, flags in actual.items() if not (flags["enabled"] and flags["forced"])]
    ok = not missing and not weak
    return actual, ok, "; ".join(filter(None, [f"tables missing: {sorted(missing)}" if missing else "",
                                               f"row-level security not forced on {weak}" if weak else ""]))


def _definer_search_path(rows):
    loose = [name for name, config in rows if "search_path=" not in (config or "")]
    return {"security_definer_functions": len(rows), "without_fixed_search_path": loose}, bool(rows) and not loose, \
        "a SECURITY DEFINER function resolving names through the caller's search_path runs the caller's objects"


def _append_only(rows):
    state = {name: enabled for name, enabled in rows}
    ok = state.get("audit_log_append_only") in ("O", "A")
    return state or "no trigger", ok, "tgenabled O/A: the statement trigger refusing UPDATE, DELETE, TRUNCATE fires"


def _settings(expected: dict):
    def judge(rows):
        live = dict((name, value) for name, value in rows)
        differing = {name: live.get(name) for name, value in expected.items() if live.get(name) != value}
        return live, not differing, f"differs from the baseline: {differing}" if differing else "pg_settings"
    return judge


def _content_out_of_logs(rows):
    """Memory contents stay out of the server log: no pgaudit class that logs reads, no parameter values, no
    statement logging beyond DDL."""
    live = dict((name, value) for name, value in rows)
    classes = {c.strip().lstrip("-") for c in (live.get("pgaudit.log") or "").split(",") if not c.strip().startswith("-")}
    problems = [f"pgaudit.log logs {sorted(classes & set(_CONTENT_CLASSES))}"] if classes & set(_CONTENT_CLASSES) else []
    if live.get("pgaudit.log_parameter") != "off":
        problems.append(f"pgaudit.log_parameter is {live.get('pgaudit.log_parameter')!r}")
    if live.get("log_statement") not in ("none", "ddl"):
        problems.append(f"log_statement is {live.get('log_statement')!r}")
    return live, not problems, "; ".join(problems) or "statement text of writes and DDL only, never values or reads"


def _md5_roles(rows):
    names = [name for (name,) in rows]
    return names, not names, "role names only; no verifier is read into the report"


def _major_version(rows):
    number = int(rows[0][0]) if rows and rows[0][0].isdigit() else 0
    return number, number // 10000 == int(pg.MAJOR_VERSION), f"server_version_num; baseline {DATABASE.engine_version}"


def previous_heads(report: dict | None) -> dict[str, dict]:
    """subject -> the audit chain head ({"head_seq", "head_hash"}) a previous report recorded, where it read one."""
    return {item["subject"]: item["actual"] for item in (report or {}).get("evidence", [])
            if item.get("source") == SOURCE and item.get("check") == "audit_chain_intact"
            and isinstance(item.get("actual"), dict) and item["actual"].get("head_seq")}


def _head_kept(container, subject: str, head: dict) -> Evidence:
    """Rows cut from the end of the chain leave it intact; the head a previous report kept outside the database must
    still be in it, unchanged."""
    seq, recorded = int(head["head_seq"]), head.get("head_hash")
    expected = {"seq": seq, "row_hash": recorded}
    check = "audit_chain_keeps_previous_head"
    controls = DATABASE.controls("audit_chain")
    try:
        rows = query(container, f"SELECT encode(row_hash, 'hex') FROM {DATABASE.audit_log_table} WHERE seq = {seq}")
    except Exception as error:  # not a pass
        return _item(subject, check, expected, f"{type(error).__name__}: {error}", UNKNOWN, controls)
    actual = {"seq": seq, "row_hash": rows[0][0] if rows else None}
    detail = "the previous report's head row is gone: rows were cut from the chain" if not rows else (
        "the head row's hash differs from the one recorded" if actual["row_hash"] != recorded else
        "the head recorded by the previous report is still in the chain, unchanged")
    return _item(subject, check, expected, actual, PASS if actual == expected else FAIL, controls, detail)


def collect(container, previous: dict | None = None) -> list[Evidence]:
    """Evidence of one running Postgres container of our image.

    + previous: a previous report (report.json); the chain head it recorded must still be in the chain
    """
    subject = f"database/{container.name}"
    log_table = DATABASE.audit_log_table
    checks = [
        ("audit_chain_intact", "intact: every row's hash recomputes", DATABASE.controls("audit_chain"), _audit_chain,
         "SELECT intact, rows, first_broken_seq, head_seq, head_hash FROM audit_log_verify()"),
        ("audit_log_append_only", "trigger audit_log_append_only enabled", DATABASE.controls("audit_log_table"),
         _append_only, f"SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = '{log_table}'::regclass "
                       "AND tgname = 'audit_log_append_only'"),
        ("superuser_local_only", "network rules reject the superuser and every connection without TLS",
         DATABASE.controls("superuser_local_only") + DATABASE.controls("reject_non_tls"), _superuser_network,
         "SELECT line_number, type, user_name, auth_method FROM pg_hba_file_rules WHERE error IS NULL "
         "ORDER BY line_number"),
        ("login_roles", {pg.SUPERUSER: "superuser, local socket only", pg.APP_ROLE: "no elevated attribute"},
         DATABASE.controls("superuser_local_only") + DATABASE.controls("app_access"), _login_roles,
         f"SELECT rolname, {', '.join(_ROLE_ATTRIBUTES)} FROM pg_roles WHERE rolcanlogin ORDER BY rolname"),
        ("app_role_direct_access", "no table privilege on memories; SELECT only on the audit log",
         DATABASE.controls("app_access"), _app_role_privileges,
         f"SELECT 'memories', has_table_privilege('{pg.APP_ROLE}', 'memories', "
         "'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') UNION ALL "
         f"SELECT '{log_table} write', has_table_privilege('{pg.APP_ROLE}', '{log_table}', "
         "'INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')"),
        ("row_level_security", "enabled and forced on memories and the audit log", DATABASE.controls("tenant_column"),
         _row_security, "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                        f"WHERE relname IN ('memories', '{log_table}') AND relkind = 'r'"),
        ("security_definer_search_path", "every SECURITY DEFINER function fixes its search_path",
         DATABASE.controls("app_access") + _SECURE_CODING, _definer_search_path,
         "SELECT proname, array_to_string(proconfig, ',') FROM pg_proc p JOIN pg_namespace n ON n.oid = pronamespace "
         "WHERE prosecdef AND nspname = 'public'"),
        ("tls_and_passwords", {"ssl": "on", "ssl_min_protocol_version": DATABASE.ssl_min_protocol_version,
                               "password_encryption": DATABASE.password_encryption},
         DATABASE.controls("ssl_min_protocol_version") + DATABASE.controls("password_encryption"),
         _settings({"ssl": "on", "ssl_min_protocol_version": DATABASE.ssl_min_protocol_version,
                    "password_encryption": DATABASE.password_encryption}),
         "SELECT name, setting FROM pg_settings WHERE name IN ('ssl', 'ssl_min_protocol_version', "
         "'password_encryption')"),
        ("md5_password_roles", "none", DATABASE.controls("password_encryption"), _md5_roles,
         "SELECT rolname FROM pg_authid WHERE rolpassword LIKE 'md5%' ORDER BY rolname"),
        ("audit_logging", {"pgaudit.log": DATABASE.pgaudit_log, **DATABASE.log_flags},
         DATABASE.controls("pgaudit_log") + DATABASE.controls("log_flags"),
         _settings({"pgaudit.log": DATABASE.pgaudit_log, **DATABASE.log_flags}),
         "SELECT name, setting FROM pg_settings WHERE name IN ("
         + ", ".join(f"'{name}'" for name in ("pgaudit.log", *DATABASE.log_flags)) + ")"),
        ("memory_contents_out_of_logs", {"pgaudit.log": f"no class of {list(_CONTENT_CLASSES)}",
                                         "pgaudit.log_parameter": "off", "log_statement": "none or ddl"},
         tuple(cid for name in _CONTENT_CLASSES for cid in DATABASE.pgaudit_class_stakes[name][1]), _content_out_of_logs,
         "SELECT name, setting FROM pg_settings WHERE name IN ('pgaudit.log', 'pgaudit.log_parameter', 'log_statement')"),
        ("engine_version", f"major {pg.MAJOR_VERSION}", DATABASE.controls("engine_version"), _major_version,
         "SHOW server_version_num"),
    ]
    evidence = [_checked(subject, container, check, expected, controls, judge, statement)
                for check, expected, controls, judge, statement in checks]
    head = previous_heads(previous).get(subject)
    if head:
        evidence.append(_head_kept(container, subject, head))
    return evidence
