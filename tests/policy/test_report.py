"""Waivers, exit codes and output formats on a gate result built in memory (no scanner runs)."""

import json
import xml.etree.ElementTree as ElementTree  # nosec B405 - parsing our own output
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest

from harden.gate_cli import exit_code
from policies.gate import GateError, GateResult, _finding
from policies.report import apply_waivers, load_waivers, render, sarif

REPO = Path(__file__).resolve().parents[2]


def result() -> GateResult:
    return GateResult(target="t", findings=[
        _finding("RAE-CTR-008", "app:docker:index/container:Container::web", "__main__.py", 0, "crossguard", "failed",
                 "privileged is True"),
        _finding("RAE-APP-004", "settings.py:SECURE_HSTS_SECONDS", "settings.py", 12, "app", "failed", "too short"),
        _finding("RAE-DEP-001", "requirements.txt", "requirements.txt", 0, "pip-audit", "unknown", "offline"),
        _finding("RAE-KMS-001", "app:gcp:kms/cryptoKey:CryptoKey::key", "__main__.py", 0, "crossguard", "passed", "holds"),
    ])


def waiver_file(tmp_path, entries) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": entries}))
    return path


WEB = "app:docker:index/container:Container::web"
SOON = str(date.today() + timedelta(days=7))


def waiver(**changes) -> dict:
    return {"rule": "RAE-CTR-008", "match": WEB, "reason": "debug session", "owner": "platform-security",
            "expires": SOON} | changes


def test_live_waiver_waives_and_is_reported(tmp_path):
    gate = result()
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [waiver()])))
    waived = [f for f in gate.findings if f.status == "waived"]
    assert [f.rule_id for f in waived] == ["RAE-CTR-008"] and "debug session" in waived[0].message
    assert "platform-security" in waived[0].message
    assert gate.waivers[0]["applied_to"] == 1
    assert "debug session" in render(gate, "table", "low")
    assert exit_code(gate, "low") == 1  # RAE-APP-004 still fails


def test_expired_waiver_waives_nothing_and_fails_the_gate(tmp_path):
    gate = result()
    gate.findings = [f for f in gate.findings if f.rule_id != "RAE-APP-004"]
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [waiver(reason="old", expires="2020-01-01")])))
    assert all(f.status != "waived" for f in gate.findings)
    assert "EXPIRED" in render(gate, "table", "low")
    gate.findings = [f for f in gate.findings if f.status != "failed"]
    assert exit_code(gate, "low") == 1


@pytest.mark.parametrize("changes, problem", [
    ({"expires": None}, "lacks ['expires']"),
    ({"owner": None}, "lacks ['owner']"),
    ({"reason": ""}, "lacks ['reason']"),
    ({"expires": "someday"}, "not YYYY-MM-DD"),
    ({"rule": "*", "match": "*", "expires": "9999-12-31"}, "not one exact catalog rule"),
    ({"rule": "RAE-IMG-00[123]"}, "not one exact catalog rule"),
    ({"rule": "RAE-NOPE-001"}, "not one exact catalog rule"),
    ({"match": "*"}, "no wildcards"),
    ({"match": "app:*"}, "no wildcards"),
    ({"match": "images/*/Dockerfile"}, "no wildcards"),
    ({"expires": str(date.today() + timedelta(days=181))}, "more than 180 days ahead"),
    ({"expires": "9999-12-31"}, "more than 180 days ahead"),
])
def test_a_waiver_a_reviewer_cannot_trust_is_refused_naming_the_control(tmp_path, changes, problem):
    entry = {key: value for key, value in waiver(**changes).items() if value is not None}
    with pytest.raises(GateError, match="YYYY-MM-DD" if "YYYY" in problem else "A.5.36") as error:
        load_waivers(waiver_file(tmp_path, [entry]))
    assert problem in str(error.value)


def test_a_waiver_180_days_ahead_is_accepted(tmp_path):
    assert load_waivers(waiver_file(tmp_path, [waiver(expires=str(date.today() + timedelta(days=180)))]))


def test_an_unknown_cannot_be_waived(tmp_path):
    gate = result()
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [waiver(rule="RAE-DEP-001", match="requirements.txt")])))
    unknown = next(f for f in gate.findings if f.rule_id == "RAE-DEP-001")
    assert unknown.status == "unknown" and "cannot be waived" in unknown.message


def test_a_waiver_reaching_more_than_one_resource_is_refused(tmp_path):
    gate = result()
    gate.findings += [_finding("RAE-APP-004", "settings.py:OTHER", "settings.py", 20, "app", "failed", "x")]
    with pytest.raises(GateError, match="reaches 2 resources"):
        apply_waivers(gate, load_waivers(waiver_file(tmp_path, [waiver(rule="RAE-APP-004", match="settings.py")])))


@pytest.mark.parametrize("comment, accepted", [
    ("a mock id [owner=platform-security expires=" + SOON + "]", True),
    ("a mock id", False),
    ("[owner=platform-security expires=" + SOON + "]", False),
    ("a mock id [owner=platform-security expires=2020-01-01]", False),
    ("a mock id [owner=platform-security expires=9999-12-31]", False),
])
def test_a_checkov_inline_skip_obeys_the_waiver_rules(comment, accepted):
    from policies.report import inline_skip
    assert inline_skip(comment)[0] is accepted


def test_an_accepted_inline_skip_is_listed_among_the_waivers():
    from policies.gate import GateResult, checkov_findings
    from policies.report import apply_waivers
    result = GateResult(target=".")
    report = {"check_type": "secrets", "results": {"skipped_checks": [{
        "check_id": "CKV_SECRET_6", "check_name": "Base64 High Entropy String", "resource": "f.py", "file_path": "/f.py",
        "file_line_range": [3, 3], "check_result": {"suppress_comment": f"a mock id [owner=platform-security expires={SOON}]"}}]}}
    result.findings = checkov_findings([report], skips=result.waivers)
    assert result.findings[0].status == "waived"
    apply_waivers(result, [])
    [listed] = result.waivers
    assert (listed["match"], listed["owner"], listed["expires"], listed["reason"]) == (
        "f.py", "platform-security", SOON, "a mock id") and listed["applied_to"] == 1 and not listed["expired"]
    jsonschema.validate(result.as_json(), json.loads((REPO / "policies" / "gate-result.schema.json").read_text()))


def test_an_inline_skip_without_owner_and_expiry_is_a_failure():
    from policies.gate import checkov_findings
    report = {"check_type": "secrets", "results": {"skipped_checks": [{
        "check_id": "CKV_SECRET_6", "check_name": "Base64 High Entropy String", "resource": "f.py", "file_path": "/f.py",
        "file_line_range": [3, 3], "check_result": {"suppress_comment": "trust me"}}]}}
    [finding] = checkov_findings([report])
    assert finding.status == "failed" and "owner" in finding.message


def test_a_checkov_skip_list_stops_the_gate(tmp_path):
    from policies.gate import refuse_checkov_skip_lists
    (tmp_path / ".checkov.yaml").write_text("skip-check:\n  - CKV_GCP_6\n")
    with pytest.raises(GateError, match="A.5.36"):
        refuse_checkov_skip_lists(tmp_path)
    (tmp_path / ".checkov.yaml").write_text("skip-path:\n  - tests/fixtures/insecure\n")
    refuse_checkov_skip_lists(tmp_path)


def test_severity_threshold_and_unknown():
    gate = result()
    gate.findings = [f for f in gate.findings if f.rule_id != "RAE-CTR-008"]  # medium failure + unknown left
    assert exit_code(gate, "low") == 1
    assert exit_code(gate, "high") == 2  # unknown is never a pass
    assert exit_code(gate, "high", allow_unknown=True) == 0


def test_table_groups_by_control():
    table = render(result(), "table", "low")
    assert "A.8.2 Privileged access rights" in table and "A.8.18" in table
    assert table.index("A.8.2 ") < table.index("A.8.18 ")
    assert "UNKNOWN is not a pass" in table


def test_json_matches_the_gate_schema():
    document = json.loads(render(result(), "json", "low"))
    jsonschema.validate(document, json.loads((REPO / "policies" / "gate-result.schema.json").read_text()))
    assert document["summary"]["failed"] == 2 and document["summary"]["unknown"] == 1


def test_sarif_is_valid_and_suppresses_waived(tmp_path):
    gate = result()
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [waiver(rule="RAE-APP-004", match="settings.py",
                                                                   reason="migration")])))
    document = sarif(gate)
    jsonschema.validate(document, json.loads((REPO / "tests" / "policy" / "sarif-schema-2.1.0.json").read_text()))
    suppressed = [r for r in document["runs"][0]["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["RAE-APP-004"]
    assert all(r["ruleId"] != "RAE-KMS-001" for r in document["runs"][0]["results"])  # passed are not results


def test_junit_counts():
    suites = ElementTree.fromstring(render(result(), "junit", "low"))
    by_name = {suite.get("name"): suite for suite in suites}
    assert by_name["crossguard"].get("failures") == "1" and by_name["pip-audit"].get("errors") == "1"
