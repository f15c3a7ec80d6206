"""Report logic without real parts: roll-up, exit codes, the Statement of Applicability, policy drafts, redaction."""

import json
import re
import string
from dataclasses import asdict
from datetime import date, timedelta

import jsonschema
import pytest

import baseline
from harden.audit import policies
from harden.audit.evidence import Evidence, cite, seal
from harden.audit.redact import MASK, Redactor
from harden.audit.report import build, exit_code, roll_up
from harden.audit.tls_probe import Endpoint
from tests.audit.conftest import REPO

SCHEMA = json.loads((REPO / "harden" / "audit" / "schema" / "report.schema.json").read_text())


def _report(evidence, not_applicable=None, previous=None, waivers=(), gate_waivers=()):
    return build(evidence, run_id="r1", started_at="2026-11-23T10:00:00Z", options={}, errors=[], assets=[], flows=[],
                 not_applicable=not_applicable or {}, previous=previous, waivers=waivers, gate_waivers=gate_waivers,
                 history=[{"run_id": "r0", "started_at": "2026-11-22T10:00:00Z",
                           "controls": {"pass": 0, "fail": 0, "unknown": 93, "not-applicable": 0},
                           "evidence": {"pass": 0, "fail": 0, "unknown": 0, "not-applicable": 0}}], tool_version="test")


def _ev(status, control="A.8.2", source="container", check="user"):
    return Evidence(source, f"{source}/a", check, "expected", "actual", status, (control,))


def test_soa_covers_all_93_controls_and_states_the_basis_of_each():
    evidence = [_ev("fail"), _ev("pass", "A.5.15", "gate", "RAE-IAM-001")]
    report = _report(evidence, not_applicable={"A.7.5": "no site under our control is exposed to floods"})
    rows = {row["control"]: row for row in report["controls"]}
    assert list(rows) == list(baseline.controls()) and len(rows) == 93
    assert rows["A.8.2"]["implementation"] == "observed" and rows["A.8.2"]["status"] == "fail"
    assert rows["A.8.2"]["justification"].startswith("not implemented: 1 of 1 checks fail")
    a515 = rows["A.5.15"]  # only the gate on a rendered program: a design, not an observation
    assert a515["implementation"] == "designed, not observed" and a515["status"] == "pass"
    assert a515["justification"].startswith("designed, not observed") and "implemented" not in a515["justification"]
    assert rows["A.8.24"]["implementation"] == "not assessed" and rows["A.8.24"]["status"] == "unknown"
    assert "TLS.min_version" in rows["A.8.24"]["baseline_settings"] and "implemented" not in rows["A.8.24"]["justification"]
    assert rows["A.6.3"]["implementation"] == "not assessed" and rows["A.6.3"]["status"] == "unknown"
    assert rows["A.7.5"]["status"] == "not-applicable" and "floods" in rows["A.7.5"]["justification"]
    assert report["summary"]["not_applicable"] == [{"control": "A.7.5",
                                                    "justification": "no site under our control is exposed to floods"}]
    assert "cryptography" in rows["A.8.24"]["policies"]
    assert report["summary"]["coverage"]["observed"] == 1 and report["summary"]["coverage"]["designed_only"] == 1
    jsonschema.validate(report, SCHEMA)


@pytest.mark.parametrize("statuses, code, verdict", [
    (["pass", "pass"], 0, "clean"),
    (["pass", "fail"], 1, "drift"),
    (["pass", "unknown"], 2, "incomplete"),
    (["fail", "unknown"], 1, "drift"),
    (["pass", "risk-accepted"], 3, "risk-accepted"),
    (["fail", "risk-accepted"], 1, "drift"),
    (["unknown", "risk-accepted"], 2, "incomplete"),
    ([], 2, "incomplete"),
])
def test_exit_codes_never_count_unknown_or_waived_as_pass(statuses, code, verdict):
    report = _report([_ev(s, check=f"c{i}") for i, s in enumerate(statuses)])
    assert (report["summary"]["exit_code"], report["summary"]["verdict"]) == (code, verdict)
    assert exit_code(report["controls"], ["a collector failed"])[0] == (1 if "fail" in statuses else 2)


def test_roll_up_is_the_status_algebra():
    assert roll_up(["pass", "unknown", "fail"]) == "fail"
    assert roll_up(["pass", "unknown"]) == "unknown"
    assert roll_up(["pass", "risk-accepted"]) == "risk-accepted"
    assert roll_up(["pass", "pass"]) == "pass"
    assert roll_up([]) == "unknown" and roll_up(["not-applicable"]) == "unknown"
    assert roll_up([], justified_not_applicable=True) == "not-applicable"
    assert roll_up(["pass"], justified_not_applicable=True) == "not-applicable"
    assert roll_up(["fail"], justified_not_applicable=True) == "fail"
    assert roll_up(["unknown"], justified_not_applicable=True) == "unknown"


def test_not_applicable_cannot_turn_a_failing_control_green():
    report = _report([_ev("fail", "A.8.2"), _ev("pass", "A.8.9", check="x")],
                     not_applicable={"A.8.2": "we say so", "A.7.5": "no flood risk"})
    rows = {row["control"]: row for row in report["controls"]}
    assert rows["A.8.2"]["status"] == "fail" and rows["A.8.2"]["applicable"]
    assert "which failing evidence overrides" in rows["A.8.2"]["justification"]
    assert report["summary"]["exit_code"] == 1


def test_waivers_accept_risk_with_owner_and_expiry_and_never_exit_0():
    waivers = [{"match": "container:container/a:user", "owner": "platform lead", "expires": "2027-01-31",
                "reason": "uid migration in progress"},
               {"match": "container:container/a:cap_drop", "owner": "ops", "expires": "2026-01-01", "reason": "old"}]
    report = _report([_ev("fail"), _ev("fail", check="cap_drop"), _ev("pass", "A.8.9", check="x")], waivers=waivers)
    items = {i["check"]: i for i in report["evidence"]}
    assert items["user"]["status"] == "risk-accepted" and "owner platform lead, expires 2027-01-31" in items["user"]["detail"]
    assert items["cap_drop"]["status"] == "fail"  # its waiver expired: the check stays failed
    listed = report["summary"]["waivers"]
    assert [w["applied_to"] for w in listed] == [["container:container/a:user"], []] and listed[1]["expired"]
    assert report["summary"]["exit_code"] == 1
    only_waived = _report([_ev("fail"), _ev("pass", "A.8.9", check="x")], waivers=waivers[:1])
    assert only_waived["summary"]["exit_code"] == 3 and only_waived["summary"]["verdict"] == "risk-accepted"
    assert {r["control"]: r["status"] for r in only_waived["controls"]}["A.8.2"] == "risk-accepted"
    jsonschema.validate(only_waived, SCHEMA)
    from harden.audit.text_outputs import summary_markdown

    summary = summary_markdown(only_waived)
    assert "owner platform lead, expires 2027-01-31" in summary and "## Risk accepted (1)" in summary


def test_a_waived_gate_finding_is_risk_accepted_not_applicable():
    from harden.audit import gate

    finding = {"rule_id": "RAE-STK-001", "resource": "local:pgdata", "status": "waived", "message": "m",
               "controls": ["A.8.24"]}
    waiver = {"rule": "RAE-STK-001", "match": "local:pgdata", "reason": "dev only", "owner": "platform-security",
              "expires": (date.today() + timedelta(days=60)).isoformat(), "expired": False, "applied_to": 1}
    result = {"findings": [finding], "waivers": [waiver]}
    [item] = gate.evidence(result)
    assert item.status == "risk-accepted" and "dev only" in item.detail and "owner platform-security" in item.detail
    [listed] = gate.waivers(result)
    assert listed["owner"] == "platform-security" and listed["expires"] == waiver["expires"]
    report = _report([item], gate_waivers=[listed])
    assert report["summary"]["exit_code"] == 3 and report["summary"]["waivers"] == [listed]


@pytest.mark.parametrize("change, why", [
    ({"match": "local:*"}, "no waiver the gate result lists names this rule and resource exactly"),
    ({"rule": "*"}, "no waiver the gate result lists names this rule and resource exactly"),
    ({"owner": ""}, "a reason and an owner are required"),
    ({"expires": "9999-12-31"}, "more than 180 days ahead"),
    ({"expires": "2026-01-01"}, "expired 2026-01-01"),
])
def test_a_saved_gate_result_cannot_waive_what_the_gate_would_not(change, why):
    """--gate-json reads a file: a finding it marks waived under a wildcard, ownerless, too long or expired waiver
    counts as failing, saying why."""
    from harden.audit import gate

    waiver = {"rule": "RAE-STK-001", "match": "local:pgdata", "reason": "dev only", "owner": "platform-security",
              "expires": (date.today() + timedelta(days=60)).isoformat(), **change}
    [item] = gate.evidence({"findings": [{"rule_id": "RAE-STK-001", "resource": "local:pgdata", "status": "waived",
                                          "message": "m", "controls": ["A.8.24"]}], "waivers": [waiver]})
    assert item.status == "fail" and "marked waived, counted failing" in item.detail and why in item.detail


@pytest.mark.parametrize("days, status", [(60, "risk-accepted"), (40, "fail")])
def test_a_checkov_inline_skip_the_gate_accepted_is_judged_by_the_same_terms(days, status):
    """The gate lists an inline skip it accepted among its waivers (policies.gate.checkov_findings); the audit judges
    that entry on its own day: one whose expiry has passed by then counts failing."""
    from harden.audit import gate
    from policies.gate import checkov_findings

    expires = (date.today() + timedelta(days=days)).isoformat()
    skips = []
    [finding] = checkov_findings([{"check_type": "secrets", "results": {"skipped_checks": [{
        "check_id": "CKV_SECRET_4", "check_name": "Basic Auth Credentials", "resource": "b5688dd3", "file_path": "/f.py",
        "file_line_range": [3, 3],
        "check_result": {"suppress_comment": f"a canary [owner=platform-security expires={expires}]"}}]}}],
        skips=skips)
    assert finding.status == "waived" and len(skips) == 1
    result = {"findings": [asdict(finding)], "waivers": skips}
    [listed] = gate.waivers(result)
    assert (listed["owner"], listed["expires"], listed["reason"]) == ("platform-security", expires, "a canary")
    audited_on = date.today() + timedelta(days=0 if status == "risk-accepted" else days + 10)
    [item] = gate.evidence(result, today=audited_on)
    assert item.status == status, item.detail
    if status == "fail":
        assert f"expired {expires}" in item.detail


def test_comparison_lists_newly_failed_fixed_and_still_failing():
    before = _report([Evidence("tls", "tls/a:1", "tls1.2_refused", "refused", "accepted", "fail", ("A.8.24",)),
                      Evidence("tls", "tls/a:1", "days_to_expiry", ">30", 80, "fail", ("A.8.24",))])
    after = _report([Evidence("tls", "tls/a:1", "tls1.2_refused", "refused", "refused", "pass", ("A.8.24",)),
                     Evidence("tls", "tls/a:1", "days_to_expiry", ">30", 10, "fail", ("A.8.24",)),
                     Evidence("container", "container/b", "user", "10001:10001", "0:0", "fail", ("A.8.2",))],
                    previous=before)
    assert after["comparison"]["fixed"] == ["tls:tls/a:1:tls1.2_refused"]
    assert after["comparison"]["still_failing"] == ["tls:tls/a:1:days_to_expiry"]
    assert after["comparison"]["newly_failed"] == ["container:container/b:user"]


def test_evidence_refuses_unknown_controls_and_statuses():
    with pytest.raises(ValueError, match="A.9.2"):
        Evidence("container", "c", "x", 1, 1, "pass", ("A.9.2",))
    with pytest.raises(ValueError, match="status"):
        Evidence("container", "c", "x", 1, 1, "ok", ("A.8.2",))


def test_policy_drafts_read_their_parameters_from_the_baseline():
    crypto = next(p for p in policies.POLICIES if p.slug == "cryptography")
    text = policies.render(crypto, "2026-11-23T10:00:00Z", "abc1234")
    assert baseline.TLS.min_version in text and f"{baseline.KMS.rotation_period_seconds // 86400} days" in text
    backup = policies.render(next(p for p in policies.POLICIES if p.slug == "backup"), "t", "c")
    assert f"Retention: {baseline.BACKUP.retained_backups} automated Cloud SQL backups" in backup
    for policy in policies.POLICIES:
        template = (policies.TEMPLATES / f"{policy.slug}.md").read_text()
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        assert fields, f"{policy.slug} reads nothing from the baseline"
        assert not re.search(r"\{[A-Z_]+\.", policies.render(policy, "t", "c")), f"{policy.slug}: unresolved placeholder"
    assert {p.title for p in policies.POLICIES} >= {"Information Security Policy", "Access Control Policy",
                                                    "Cryptography Policy", "Information Backup Policy",
                                                    "Incident Response Plan", "Supplier Relationship Policy"}


def test_redactor_masks_keys_known_values_and_patterns():
    redactor = Redactor(["s3cr3t-value-42"]).learn_env(["API_TOKEN=tok-998877", "HOME=/root"])
    scrubbed = redactor.scrub({"DB_PASSWORD": "x", "note": "uses s3cr3t-value-42 and tok-998877",
                               "url": "postgres://app:pw123@db/x", "kex": "curve25519-sha256@libssh.org",  # checkov:skip=CKV_SECRET_4:a redaction canary [owner=platform-security expires=2027-05-29]
                               "password_file": "/run/secrets/db", "password_authentication": False})
    assert scrubbed["DB_PASSWORD"] == MASK and "s3cr3t" not in scrubbed["note"] and "tok-998877" not in scrubbed["note"]
    assert "pw123" not in scrubbed["url"] and scrubbed["kex"] == "curve25519-sha256@libssh.org"
    assert scrubbed["password_file"] == "/run/secrets/db" and scrubbed["password_authentication"] is False


def test_endpoint_parsing_rejects_bad_input():
    assert Endpoint.parse("127.0.0.1:5432,postgres,name=db") == Endpoint("127.0.0.1", 5432, "postgres", "db", None)
    for bad in ("nohost", "h:port", "h:1,mysql"):
        with pytest.raises(ValueError, match="endpoint"):
            Endpoint.parse(bad)


def test_bad_input_exits_2_naming_the_control(tmp_path, capsys):
    from harden.cli import main

    assert main(["audit", "--out", str(tmp_path / "o"), "--no-containers", "--endpoint", "h:x"]) == 2
    assert "A.8.24" in capsys.readouterr().err
    assert main(["audit", "--out", str(tmp_path / "o"), "--no-containers", "--not-applicable", "A.9.9=why"]) == 2
    assert "Annex A" in capsys.readouterr().err
    config = tmp_path / "audit.json"
    later = (date.today() + timedelta(days=181)).isoformat()
    for waiver, problem in (({"match": "x", "expires": "2027-01-01", "reason": "r"}, "['owner'] missing"),
                            ({"match": "x", "owner": "o", "expires": "soon", "reason": "r"}, "not a YYYY-MM-DD date"),
                            ({"match": "tls:*:tls1.2_refused", "owner": "o", "expires": "2026-12-31", "reason": "r"},
                             "must be one evidence key exactly"),
                            ({"match": "x", "owner": "o", "expires": later, "reason": "r"}, "more than 180 days ahead")):
        config.write_text(json.dumps({"waivers": [waiver]}))
        assert main(["audit", "--out", str(tmp_path / "o"), "--no-containers", "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert problem in err and "A.5.36" in err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_nightly_workflow_means_something():
    """Scheduled; audits the stack, Node1 and the gate with the reviewed waivers; verifies the previous report against
    a trusted key without continue-on-error; signs; archives beyond artifact retention; fails on fail or unknown."""
    import yaml

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "nightly-audit.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["audit"]["steps"]
    audit_step = next(s for s in steps if s.get("id") == "audit")
    for argument in ('--out "$AUDIT_OUT"', "--stack local", "--inventory hosts/inventory.py", "--gate .", "--sign-key"):
        assert argument in audit_step["run"], argument
    previous = next(s for s in steps if "previous" in s.get("name", ""))
    assert "harden audit --verify" in previous["run"] and "--public-key" in previous["run"]
    assert not previous.get("continue-on-error")
    assert [s["name"] for s in steps if s.get("continue-on-error")] == ["bring the local stack up"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ env.AUDIT_OUT }}"
    archive = next(s for s in steps if "archive" in s.get("name", "") and "run" in s)
    assert archive["if"] == "always()" and "scripts/archive-audit.sh" in archive["run"]
    verdict = steps[-1]["run"]
    assert "0|3) exit 0" in verdict and "exit 1" in verdict
    gate_source = (REPO / "harden" / "audit" / "gate.py").read_text()
    assert '"policies" / "waivers.yaml"' in gate_source  # the audit's gate run uses the reviewed waivers


def test_archive_keeps_a_verified_report_and_never_overwrites(tmp_path):
    import shutil
    import subprocess

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from harden.cli import main

    key = Ed25519PrivateKey.generate()
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (tmp_path / "k.pub").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    main(["audit", "--out", str(tmp_path / "r"), "--no-containers", "--endpoint", "127.0.0.1:1", "--timeout", "1",
          "--sign-key", str(tmp_path / "k.pem")])
    script = [str(REPO / "scripts" / "archive-audit.sh"), str(tmp_path / "r"), str(tmp_path / "archive")]
    env = {"PATH": "/usr/bin:/bin", "AUDIT_PUBLIC_KEY": str(tmp_path / "k.pub")}
    done = subprocess.run(script, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    [archived] = list((tmp_path / "archive").iterdir())
    assert (archived / "manifest.dsse.json").exists() and not (archived / "report.json").stat().st_mode & 0o222
    assert subprocess.run(script, capture_output=True, text=True, env=env).returncode == 1  # never overwritten
    shutil.copytree(tmp_path / "r", tmp_path / "t")
    (tmp_path / "t" / "soa.md").write_text("tampered")
    done = subprocess.run([script[0], str(tmp_path / "t"), str(tmp_path / "archive2")], capture_output=True, text=True,
                          env=env)
    assert done.returncode != 0 and not (tmp_path / "archive2").exists()


def test_stack_outputs_give_endpoints_and_unencrypted_volumes():
    from harden.audit.stack import endpoints_from_outputs, unencrypted_volume_evidence

    outputs = {"postgresEndpoint": "127.0.0.1:15432", "apiEndpoint": "127.0.0.1:18443",
               "qdrantEndpoint": "not deployed: set rae:qdrantImage", "unencryptedVolumes": {"pgdata": "EXEMPT: no dm"}}
    assert endpoints_from_outputs(outputs, "/ca.pem") == ["127.0.0.1:15432,postgres,name=postgres,ca=/ca.pem",
                                                          "127.0.0.1:18443,https,name=rae-api,ca=/ca.pem"]
    [volume] = unencrypted_volume_evidence(outputs, "local")
    assert volume.status == "fail" and "A.8.24" in volume.controls and volume.detail == "EXEMPT: no dm"


def test_refreshing_preview_drift_names_each_changed_attribute():
    """The shape `pulumi preview --refresh --json` prints (engine 3.259): live outputs in oldState, declared inputs
    in newState; a resource deleted out of band is a step that would create it again."""
    from harden.audit.stack import drift_evidence

    def step(op, name, live=None, declared=None):
        urn = f"urn:pulumi:e2e::rae::pulumi-python:dynamic:Resource::{name}"
        return {"op": op, "urn": urn, "oldState": None if live is None else {"urn": urn, "outputs": live},
                "newState": {"urn": urn, "inputs": declared or {}}, "detailedDiff": None}

    preview = {"steps": [
        {"op": "same", "urn": "urn:pulumi:e2e::rae::pulumi:pulumi:Stack::rae-e2e", "oldState": {}, "newState": {}},
        step("update", "postgres", {"memory_mb": 1024, "read_only": True}, {"memory_mb": 512, "read_only": True}),
        step("refresh", "postgres", {"memory_mb": 1024, "read_only": True}, {}),
        step("refresh", "proxy", {"memory_mb": 64}, {"memory_mb": 64}),
        step("create", "qdrant", None, {"memory_mb": 64})], "changeSummary": {"update": 1, "create": 1}}
    found = {(e.subject, e.check): e for e in drift_evidence(preview)}
    dynamic = "stack/pulumi-python:dynamic:Resource"
    memory = found[(f"{dynamic}/postgres", "refresh:memory_mb")]
    assert (memory.expected, memory.actual, memory.status) == (512, 1024, "fail")
    assert found[(f"{dynamic}/proxy", "refresh:in_sync")].status == "pass"
    assert found[(f"{dynamic}/qdrant", "refresh:exists")].status == "fail"
    assert len(found) == 3


def test_data_flows_follow_published_ports_and_shared_networks():
    from harden.audit import inventory

    def container(name, networks, ports=()):
        return {"type": "docker:index/container:Container", "urn": f"urn:pulumi:s::p::c::{name}",
                "inputs": {"name": name, "networksAdvanced": [{"name": n} for n in networks],
                           "ports": [{"ip": "127.0.0.1", "external": float(p)} for p in ports]}}

    graph = [container("proxy", ["edge", "backend"], [18443]), container("postgres", ["backend"]),
             container("qdrant", ["backend"])]

    def sealed(subject, check, status, detail, source="tls"):
        return seal(Evidence(source, subject, check, "x", "y", status, ("A.8.24",), detail).as_dict())

    tls = [sealed("tls/127.0.0.1:5432", "tls1.3_accepted", "pass", "server_name=postgres kind=postgres"),
           sealed("tls/127.0.0.1:5432", "client_without_certificate_refused", "fail", "server_name=postgres kind=postgres"),
           sealed("tls/127.0.0.1:6333", "tls1.3_accepted", "pass", "server_name=qdrant kind=tls"),
           sealed("tls/127.0.0.1:6333", "client_without_certificate_refused", "pass", "server_name=qdrant kind=tls"),
           sealed("host/node1", "reachable", "unknown", "host down", source="host")]
    hosts = [{"name": "node1"}, {"name": "node2"}]
    edges = {(e["from"], e["to"]): e["label"] for e in inventory.flows([], graph, hosts, tls)}
    assert set(edges) == {(inventory.CLIENTS, "proxy"), ("proxy", "postgres"), ("proxy", "qdrant"),
                          ("control-node", "node1"), ("control-node", "node2")}
    assert f"TLS 1.3 observed {cite(tls[0])}" in edges[("proxy", "postgres")]
    assert "mTLS" not in edges[("proxy", "postgres")] and "client certificates not required" in edges[("proxy", "postgres")]
    assert f"mTLS observed (a client without a certificate was refused) {cite(tls[3])}" in edges[("proxy", "qdrant")]
    assert "not observed" in edges[(inventory.CLIENTS, "proxy")]  # no probe of the proxy in this run
    proxy_probe = sealed("tls/127.0.0.1:18443", "tls1.3_accepted", "pass", "server_name=rae-api kind=tls")
    [edge] = [e for e in inventory.flows([], graph, [], [proxy_probe]) if e["to"] == "proxy" and e["from"] == inventory.CLIENTS]
    assert f"TLS 1.3 observed {cite(proxy_probe)}" in edge["label"]  # matched by its published address
    for host in ("node1", "node2"):  # a host that never answered, and one never probed: no protection claimed
        assert "TLS" not in edges[("control-node", host)] and "observed" not in edges[("control-node", host)].replace(
            "not observed", "").replace("not confirmed", "")
    svg = inventory.render_svg(inventory.dot_source([], inventory.flows([], graph, [], tls)))
    assert svg.startswith("<svg") and "proxy" in svg


def test_declared_graph_of_a_stack_renders_without_an_engine():
    """The fallback when the engine has no state: components.render under mocks, from Pulumi.local.yaml."""
    from baseline import CONTAINER
    from harden.audit.stack import declared_containers, rendered_graph

    declared = declared_containers(rendered_graph("local"))
    assert declared, "the local stack declares no container"
    users = {"%d:%d" % ids for ids in CONTAINER.service_users.values()}
    for name, attributes in declared.items():
        assert attributes["user"] in users and attributes["read_only"] is True, name
        assert attributes["port_bind_addresses"] in ([], ["127.0.0.1"]), name
        assert attributes["pids_limit"] == CONTAINER.pids_limit, name
        assert attributes["cgroupns_mode"] == "private", name


def test_declared_containers_read_pulumi_docker_and_its_pids_limit():
    """pulumi-docker's Container inputs (declared, even where a refresh put live values in the outputs) and the pids
    limit its ContainerPidsLimit applies."""
    from harden.audit.stack import declared_containers

    postgres = {"type": "docker:index/container:Container", "urn": "urn:pulumi:local::p::c::postgres",
                "inputs": {"name": "rae-local-postgres", "image": "sha256:" + "a" * 64, "user": "10001:10001",
                           "readOnly": True, "capabilities": {"drops": ["ALL"]}, "memory": 512.0,
                           "securityOpts": ["no-new-privileges:true"], "restart": "unless-stopped",
                           "cgroupnsMode": "private",
                           "ports": [{"internal": 5432.0, "external": 5432.0, "ip": "127.0.0.1"}]},
                "outputs": {"name": "rae-local-postgres", "memory": 1024.0, "restart": "no"}}
    pids = {"type": "pulumi-python:dynamic:Resource", "urn": "urn:pulumi:local::p::x$pulumi-python:dynamic:Resource::pg-pids",
            "inputs": {"container": "rae-local-postgres", "container_id": "abc", "limit": 256.0},
            "outputs": {"container": "rae-local-postgres", "container_id": "abc", "limit": 0}}
    proxy = {"type": "docker:index/container:Container", "urn": "urn:pulumi:local::p::c::proxy",
             "inputs": {"image": "sha256:" + "b" * 64, "user": "10001:10001", "readOnly": True,
                        "capabilities": {"drops": ["ALL"]}, "memory": 512.0, "ports": [{"ip": "127.0.0.1"}]},
             "outputs": {"name": "rae-local-proxy"}}
    declared = declared_containers([postgres, pids, proxy])
    assert declared["rae-local-postgres"]["user"] == "10001:10001"
    assert declared["rae-local-postgres"]["memory_mb"] == 512 and declared["rae-local-postgres"]["restart"] == "unless-stopped"
    assert declared["rae-local-postgres"]["pids_limit"] == 256
    assert declared["rae-local-postgres"]["cgroupns_mode"] == "private" and declared["rae-local-proxy"]["cgroupns_mode"] is None
    assert declared["rae-local-postgres"]["port_bind_addresses"] == ["127.0.0.1"]
    assert declared["rae-local-proxy"]["memory_mb"] == 512 and declared["rae-local-proxy"]["pids_limit"] is None


def test_a_host_that_did_not_answer_or_a_part_it_lacks_is_no_observation():
    """Coverage counts what the audit saw: an unknown host check or a not-applicable one (the kernel of an sshd
    container) leaves its control not assessed, while a failing check is an observation like a passing one."""
    evidence = [_ev("unknown", "A.8.2", "host"), _ev("not-applicable", "A.8.24", "host"), _ev("fail", "A.8.5", "host"),
                _ev("not-applicable", "A.5.15", "host"), _ev("pass", "A.5.15", "gate", "RAE-IAM-001")]
    rows = {row["control"]: row for row in _report(evidence)["controls"]}
    assert rows["A.8.2"]["implementation"] == "not assessed" and rows["A.8.2"]["status"] == "unknown"
    assert rows["A.8.24"]["implementation"] == "not assessed"
    assert rows["A.8.5"]["implementation"] == "observed" and rows["A.8.5"]["status"] == "fail"
    assert rows["A.5.15"]["implementation"] == "designed, not observed"


def test_internal_hop_servers_are_probed_at_their_container_address_with_mtls():
    """Each server of baseline TLS.client_cert_required_hops that the graph declares is probed with `mtls` at its
    container's address (Qdrant's front on REST and, as a gRPC client, on gRPC); one not declared, or not running, is
    not probed (graph_drift names it absent)."""
    from harden.audit.stack import CONTAINER_TYPE, internal_endpoints

    def client_where(address: str, missing: tuple[str, ...] = ()):
        class Containers:
            def get(self, name):
                assert name.startswith("rae-t-")  # the declared container's name, not its service alias
                if name in missing:
                    raise LookupError("NotFound")
                return type("C", (), {"attrs": {"NetworkSettings": {"Networks": {"n": {"IPAddress": address}}}}})
        return type("Client", (), {"containers": Containers()})()

    declared = [{"type": CONTAINER_TYPE, "urn": f"urn:x::{name}", "inputs": {"name": f"rae-t-{name}", "hostname": name}}
                for name in ("rae-api", "qdrant", "postgres")]
    assert internal_endpoints(declared, client_where("172.30.0.5", ("rae-t-qdrant",)), "/ca.pem") == [
        "172.30.0.5:8443,tls,name=rae-api,mtls,ca=/ca.pem"]
    assert internal_endpoints(declared[1:], client_where("172.30.0.6"), None) == [
        "172.30.0.6:6333,tls,name=qdrant,mtls", "172.30.0.6:6334,grpc,name=qdrant,mtls"]
    assert internal_endpoints(declared[2:], client_where("172.30.0.5"), None) == []
    assert internal_endpoints(declared, None, None) == []
    assert Endpoint.parse("172.30.0.5:8443,tls,name=rae-api,mtls,ca=/ca.pem").mtls
    assert Endpoint.parse("172.30.0.6:6334,grpc,name=qdrant,mtls").kind == "grpc"


def test_api_limits_fail_where_the_live_config_differs_from_the_baseline():
    """The proxy's config as read inside its container and the API's environment, compared with baseline.API."""
    from baseline import API
    from components import proxy_runtime
    from harden.audit import api_limits

    class Container:
        def __init__(self, name, env, config=""):
            self.name, self.attrs, self._config = name, {"Config": {"Env": env}}, config

        def exec_run(self, command):
            return 0, self._config.encode()

    tampered = proxy_runtime.haproxy_config().replace(f"timeout http-request {API.request_header_timeout_s}s",
                                                       "timeout http-request 300s")
    found = {e.check: e for e in api_limits.proxy_evidence(Container("tls-proxy", [], tampered))}
    assert found["api_limit:request_header_timeout_s"].status == "fail"
    assert found["api_limit:request_header_timeout_s"].actual == 300
    assert {e.status for c, e in found.items() if c != "api_limit:request_header_timeout_s"} == {"pass"}
    env = [f"RAE_API_MAX_BODY_BYTES={API.max_body_bytes}", f"RAE_API_KEEPALIVE_S={API.keepalive_s}"]
    found = {e.check: e for e in api_limits.api_evidence(Container("rae-api", env))}
    assert found["api_limit:max_body_bytes"].status == "pass" and found["api_limit:max_concurrency"].status == "fail"
    assert found["api_limit:max_concurrency"].actual == "absent"


def test_a_tenant_route_answered_without_a_token_fails_and_no_answer_is_unknown(test_pki):
    """The audit's tenant-token probe against an API that answers anyone (fail) and an address nobody serves (unknown)."""
    import http.server
    import ssl
    import threading

    from harden.audit import api_limits
    from tests.fixtures.docker_engine import free_port

    class Open(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"memories": []}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Open)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(test_pki.server_cert, test_pki.server_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = api_limits.tenant_token_evidence(f"127.0.0.1:{server.server_address[1]}", str(test_pki.ca_cert))
    finally:
        server.shutdown()
    assert [e.status for e in found] == ["fail", "fail"] and {e.actual for e in found} == {200}
    assert "without a valid token" in found[0].detail
    nobody = api_limits.tenant_token_evidence(f"127.0.0.1:{free_port()}", str(test_pki.ca_cert), timeout=3)
    assert [e.status for e in nobody] == ["unknown", "unknown"]
