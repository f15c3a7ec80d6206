"""OSCAL out: the assessment as OSCAL Assessment Results and the SoA as an OSCAL component definition, read back and
validated by compliance-trestle's models, and consistent with report.json."""

import json
import re

from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.component import ComponentDefinition

from tests.audit.test_claims import CITATION, claims_run  # noqa: F401  (the same real run as the claims test)


def test_assessment_results_validate_and_match_the_report(claims_run, out_dir):
    (_, report, _), _ = claims_run
    path = out_dir / "claims" / "oscal" / "assessment-results.json"
    results = AssessmentResults.oscal_read(path)  # trestle's pydantic models validate every field
    assert results is not None
    [result] = results.results
    assert len(result.observations) == len(report["evidence"])
    assessed = {row["control"]: row for row in report["controls"] if row["evidence"] or row["status"] == "not-applicable"}
    findings = {f.target.target_id: f for f in result.findings}
    assert set(findings) == {c.lower() for c in assessed}
    for cid, row in assessed.items():
        finding = findings[cid.lower()]
        satisfied = finding.target.status.state.value == "satisfied"
        assert satisfied == (row["status"] in ("pass", "not-applicable")), cid
        assert finding.target.status.reason == row["status"]
        assert len(finding.related_observations or []) == len(row["evidence"])
    assert [c.control_id for c in result.reviewed_controls.control_selections[0].exclude_controls] == ["a.7.5"]
    digests = {i["sha256"] for i in report["evidence"]}
    assert all(o.relevant_evidence[0].href.split("#")[1] in digests for o in result.observations)


def test_component_definition_validates_and_claims_only_what_was_observed(claims_run, out_dir):
    (_, report, _), _ = claims_run
    path = out_dir / "claims" / "oscal" / "component-definition.json"
    definition = ComponentDefinition.oscal_read(path)
    [component] = definition.components
    [implementation] = component.control_implementations
    requirements = {r.control_id: r for r in implementation.implemented_requirements}
    assert len(requirements) == 93
    evidence = {i["key"]: i for i in report["evidence"]}
    implemented = 0
    for row in report["controls"]:
        requirement = requirements[row["control"].lower()]
        status = {p.name: p.value for p in requirement.props}["implementation-status"]
        if status == "implemented":
            implemented += 1
            cited = [m["key"] for m in CITATION.finditer(requirement.description)]
            assert cited and all(evidence[k]["status"] == "pass" for k in cited), row["control"]
        assert (status == "implemented") == (row["status"] == "pass")
    assert implemented >= 1
    raw = json.loads(path.read_text())
    assert raw["component-definition"]["metadata"]["oscal-version"] and not re.search(r"PRIVATE KEY", path.read_text())
