"""Report logic without real parts: roll-up, exit codes, the Statement of Applicability, policy drafts, redaction."""

import json
import re
import string

import jsonschema
import pytest

import baseline
from harden.audit import policies
from harden.audit.evidence import Evidence
from harden.audit.redact import MASK, Redactor
from harden.audit.report import build, exit_code, roll_up
from harden.audit.tls_probe import Endpoint
from tests.audit.conftest import REPO

SCHEMA = json.loads((REPO / "harden" / "audit" / "schema" / "report.schema.json").read_text())


def _report(evidence, not_applicable=None, previous=None):
    return build(evidence, run_id="r1", started_at="2026-11-23T10:00:00Z", options={}, errors=[], assets=[], flows=[],
                 not_applicable=not_applicable or {}, previous=previous,
                 history=[{"run_id": "r0", "started_at": "2026-11-22T10:00:00Z",
                           "controls": {"pass": 0, "fail": 0, "unknown": 93, "not-applicable": 0},
                           "evidence": {"pass": 0, "fail": 0, "unknown": 0, "not-applicable": 0}}], tool_version="test")


def test_soa_covers_all_93_controls_and_derives_implementation():
    evidence = [Evidence("container", "container/a", "user", "10001:10001", "0:0", "fail", ("A.8.2",))]
    report = _report(evidence, not_applicable={"A.7.5": "no site under our control is exposed to floods"})
    rows = {row["control"]: row for row in report["controls"]}
    assert list(rows) == list(baseline.controls()) and len(rows) == 93
    assert rows["A.8.2"]["implementation"] == "automated" and rows["A.8.2"]["status"] == "fail"
    assert rows["A.8.24"]["implementation"] == "partly automated"  # in the baseline, no runtime evidence here
    assert "TLS.min_version" in rows["A.8.24"]["baseline_settings"]
    assert rows["A.6.3"]["implementation"] == "manual" and rows["A.6.3"]["status"] == "unknown"
    assert rows["A.7.5"]["status"] == "not-applicable" and "floods" in rows["A.7.5"]["justification"]
    assert "cryptography" in rows["A.8.24"]["policies"]
    jsonschema.validate(report, SCHEMA)


@pytest.mark.parametrize("statuses, code, verdict", [
    (["pass", "pass"], 0, "clean"),
    (["pass", "fail"], 1, "drift"),
    (["pass", "unknown"], 2, "incomplete"),
    (["fail", "unknown"], 1, "drift"),
    ([], 2, "incomplete"),
])
def test_exit_codes_never_count_unknown_as_pass(statuses, code, verdict):
    assert exit_code([{"status": s} for s in statuses], []) == (code, verdict)


def test_roll_up_prefers_fail_then_unknown():
    assert roll_up(["pass", "unknown", "fail"]) == "fail"
    assert roll_up(["pass", "unknown"]) == "unknown"
    assert roll_up([]) == "unknown"


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
    assert f"Retention: {baseline.BACKUP.retention_days} days" in backup
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
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_nightly_workflow_is_scheduled_and_publishes_the_report():
    import yaml

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "nightly-audit.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["schedule"][0]["cron"]
    steps = workflow["jobs"]["audit"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "${{ env.AUDIT_OUT }}"
    audit_step = next(s for s in steps if s.get("id") == "audit")
    assert "harden audit" in audit_step["run"] and '--out "$AUDIT_OUT"' in audit_step["run"]


def test_stack_outputs_give_endpoints_and_unencrypted_volumes():
    from harden.audit.stack import endpoints_from_outputs, unencrypted_volume_evidence

    outputs = {"postgresEndpoint": "127.0.0.1:15432", "apiEndpoint": "127.0.0.1:18443",
               "qdrantEndpoint": "not deployed: set rae:qdrantImage", "unencryptedVolumes": {"pgdata": "EXEMPT: no dm"}}
    assert endpoints_from_outputs(outputs, "/ca.pem") == ["127.0.0.1:15432,postgres,name=postgres,ca=/ca.pem",
                                                          "127.0.0.1:18443,tls,name=rae-api,ca=/ca.pem"]
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
    tls = [{"check": "tls1.3_accepted", "actual": "accepted (TLSv1.3, TLS_AES_256_GCM_SHA384)",
            "detail": "server_name=postgres kind=postgres"}]
    edges = {(e["from"], e["to"]): e["label"] for e in inventory.flows([], graph, [{"name": "node1"}], tls)}
    assert set(edges) == {(inventory.CLIENTS, "proxy"), ("proxy", "postgres"), ("proxy", "qdrant"), ("control-node", "node1")}
    assert "TLS observed: accepted (TLSv1.3" in edges[("proxy", "postgres")]
    assert "mTLS" in edges[("control-node", "node1")]
    svg = inventory.render_svg(inventory.dot_source([], inventory.flows([], graph, [], tls)))
    assert svg.startswith("<svg") and "proxy" in svg


def test_declared_graph_of_a_stack_renders_without_an_engine():
    """The fallback when the engine has no state: components.render under mocks, from Pulumi.local.yaml."""
    from baseline import CONTAINER
    from harden.audit.stack import declared_containers, rendered_graph

    declared = declared_containers(rendered_graph("local"))
    assert declared, "the local stack declares no container"
    for name, attributes in declared.items():
        assert attributes["user"] == f"{CONTAINER.uid}:{CONTAINER.gid}" and attributes["read_only"] is True, name
        assert attributes["port_bind_addresses"] in ([], ["127.0.0.1"]), name


def test_declared_containers_read_both_component_shapes():
    """pulumi-docker's Container inputs and the ContainerSpec fields a dynamic provider records (stack export)."""
    from harden.audit.stack import declared_containers

    dynamic = {"type": "pulumi-python:dynamic:Resource", "urn": "urn:pulumi:local::p::x$pulumi-python:dynamic:Resource::pg",
               "outputs": {"container_name": "rae-local-postgres", "image": "sha256:" + "a" * 64, "uid": 10001, "gid": 10001,
                           "read_only": True, "cap_add": [], "security_opts": ["no-new-privileges:true"], "memory_mb": 512,
                           "pids_limit": 256, "privileged": False, "restart": "unless-stopped",
                           "ports": [{"external": 5432, "host_ip": "127.0.0.1", "internal": 5432, "protocol": "tcp"}]}}
    native = {"type": "docker:index/container:Container", "urn": "urn:pulumi:local::p::c::proxy",
              "inputs": {"name": "rae-local-proxy", "image": "sha256:" + "b" * 64, "user": "10001:10001", "readOnly": True,
                         "capabilities": {"drops": ["ALL"]}, "memory": 512.0, "ports": [{"ip": "127.0.0.1"}]}}
    declared = declared_containers([dynamic, native])
    assert declared["rae-local-postgres"]["user"] == "10001:10001"
    assert declared["rae-local-postgres"]["pids_limit"] == 256
    assert declared["rae-local-postgres"]["port_bind_addresses"] == ["127.0.0.1"]
    assert declared["rae-local-proxy"]["memory_mb"] == 512 and declared["rae-local-proxy"]["pids_limit"] is None
