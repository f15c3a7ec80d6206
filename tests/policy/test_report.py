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


def test_live_waiver_waives_and_is_reported(tmp_path):
    gate = result()
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [{
        "rule": "RAE-CTR-008", "match": "*::web", "reason": "debug session", "expires": str(date.today() + timedelta(days=7))}])))
    waived = [f for f in gate.findings if f.status == "waived"]
    assert [f.rule_id for f in waived] == ["RAE-CTR-008"] and "debug session" in waived[0].message
    assert gate.waivers[0]["applied_to"] == 1
    assert "debug session" in render(gate, "table", "low")
    assert exit_code(gate, "low", False) == 1  # RAE-APP-004 still fails


def test_expired_waiver_waives_nothing_and_fails_the_gate(tmp_path):
    gate = result()
    gate.findings = [f for f in gate.findings if f.rule_id != "RAE-APP-004"]
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [{
        "rule": "RAE-CTR-008", "match": "*::web", "reason": "old", "expires": "2020-01-01"}])))
    assert all(f.status != "waived" for f in gate.findings)
    assert "EXPIRED" in render(gate, "table", "low")
    gate.findings = [f for f in gate.findings if f.status != "failed"]
    assert exit_code(gate, "low", False) == 1


@pytest.mark.parametrize("entry, problem", [
    ({"rule": "RAE-CTR-008", "match": "*", "reason": "x"}, "lacks ['expires']"),
    ({"rule": "RAE-CTR-008", "match": "*", "reason": "x", "expires": "someday"}, "not YYYY-MM-DD"),
])
def test_bad_waiver_is_refused_naming_the_control(tmp_path, entry, problem):
    with pytest.raises(GateError, match="A.5.36" if "lacks" in problem else "YYYY-MM-DD") as error:
        load_waivers(waiver_file(tmp_path, [entry]))
    assert problem in str(error.value)


def test_severity_threshold_and_unknown():
    gate = result()
    gate.findings = [f for f in gate.findings if f.rule_id != "RAE-CTR-008"]  # medium failure + unknown left
    assert exit_code(gate, "low", False) == 1
    assert exit_code(gate, "high", False) == 0
    assert exit_code(gate, "high", True) == 2


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
    apply_waivers(gate, load_waivers(waiver_file(tmp_path, [{
        "rule": "RAE-APP-004", "match": "settings.py", "reason": "migration", "expires": "2999-01-01"}])))
    document = sarif(gate)
    jsonschema.validate(document, json.loads((REPO / "tests" / "policy" / "sarif-schema-2.1.0.json").read_text()))
    suppressed = [r for r in document["runs"][0]["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["RAE-APP-004"]
    assert all(r["ruleId"] != "RAE-KMS-001" for r in document["runs"][0]["results"])  # passed are not results


def test_junit_counts():
    suites = ElementTree.fromstring(render(result(), "junit", "low"))
    by_name = {suite.get("name"): suite for suite in suites}
    assert by_name["crossguard"].get("failures") == "1" and by_name["pip-audit"].get("errors") == "1"
