"""The report in OSCAL, built with compliance-trestle's models (so what is written is what trestle validates):

- `oscal/assessment-results.json`: OSCAL Assessment Results. One observation per evidence item (how it was
  made, when, its id and SHA-256 as relevant evidence), one finding per assessed or excluded Annex A control with
  its objective status (satisfied only when the control passes) and its implementation status;
- `oscal/component-definition.json`: the Statement of Applicability as an OSCAL component definition: the toolkit's
  implemented requirement for each of the 93 controls, "implemented" only where the run passed with evidence.

UUIDs are derived from the run id (uuid5), so one report gives the same OSCAL every time it is rendered.
"""

import uuid
from datetime import datetime

from trestle.oscal import OSCAL_VERSION
from trestle.oscal import assessment_results as ar
from trestle.oscal import common
from trestle.oscal import component as cd

from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, RISK_ACCEPTED, UNKNOWN, cite, runtime_source

CATALOG = "https://www.iso.org/standard/27001"  # ISO/IEC 27001:2022 Annex A; no public OSCAL catalog exists
FILES = ("oscal/assessment-results.json", "oscal/component-definition.json")
_NAMESPACE = uuid.UUID("9f1b8e52-4c1d-5a7e-9a51-6b3f0f1d2e11")
_IMPLEMENTATION = {PASS: "implemented", FAIL: "planned", UNKNOWN: "planned", RISK_ACCEPTED: "partial",
                   NOT_APPLICABLE: "not-applicable"}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _control_id(cid: str) -> str:
    """OSCAL control ids are tokens in lower case: A.8.24 -> a.8.24."""
    return cid.lower()


def _metadata(report: dict, title: str) -> common.Metadata:
    return common.Metadata(title=title, last_modified=_time(report["run"]["finished_at"]),
                           version=report["tool"]["version"] or "unknown", oscal_version=OSCAL_VERSION,
                           props=[common.Property(name="run-id", value=report["run"]["id"])])


def _observation(run_id: str, item: dict) -> common.Observation:
    return common.Observation(
        uuid=_uuid(run_id, "observation", item["key"]), title=f"{item['subject']} {item['check']}"[:200],
        description=f"expected {item['expected']!r}, found {item['actual']!r}: {item['status']}",
        methods=[common.Methods.TEST if runtime_source(item["source"]) else common.Methods.EXAMINE],
        collected=_time(item["collected_at"]),
        props=[common.Property(name="evidence-status", value=item["status"]),
               common.Property(name="evidence-source", value=item["source"])],
        relevant_evidence=[common.RelevantEvidence(href=f"report.json#{item['sha256']}",
                                                   description=f"evidence {cite(item)} in report.json")])


def _finding(run_id: str, row: dict, observations: dict[str, str]) -> common.Finding:
    status = common.ObjectiveStatus(
        state=common.ObjectiveStatusStateValidValues.satisfied if row["status"] in (PASS, NOT_APPLICABLE)
        else common.ObjectiveStatusStateValidValues.not_satisfied,
        reason=row["status"], remarks=row["implementation"])
    return common.Finding(
        uuid=_uuid(run_id, "finding", row["control"]), title=f"{row['control']} {row['title']}",
        description=row["justification"],
        target=common.FindingTarget(type=common.FindingTargetTypeValidValues.objective_id,
                                    target_id=_control_id(row["control"]), status=status,
                                    implementation_status=common.ImplementationStatus(
                                        state=_IMPLEMENTATION[row["status"]])),
        related_observations=[common.RelatedObservation(observation_uuid=observations[key]) for key in row["evidence"]]
        or None)


def assessment_results(report: dict) -> ar.AssessmentResults:
    run_id = report["run"]["id"]
    observations = {item["key"]: _observation(run_id, item) for item in report["evidence"]}
    uuids = {key: o.uuid for key, o in observations.items()}
    rows = [row for row in report["controls"] if row["evidence"] or row["status"] == NOT_APPLICABLE]
    excluded = [row["control"] for row in report["controls"] if row["status"] == NOT_APPLICABLE]
    selection = common.ControlSelectionsAll(
        include_all=common.IncludeAll(),
        exclude_controls=[common.SelectControlById(control_id=_control_id(c)) for c in excluded] or None,
        description="All 93 Annex A controls; the findings cover those this run assessed or that are excluded")
    result = ar.Result(
        uuid=_uuid(run_id, "result"), title=f"harden audit run {run_id}",
        description=f"verdict {report['summary']['verdict']} (exit {report['summary']['exit_code']})",
        start=_time(report["run"]["started_at"]), end=_time(report["run"]["finished_at"]),
        reviewed_controls=common.ReviewedControls(control_selections=[selection]),
        observations=list(observations.values()) or None,
        findings=[_finding(run_id, row, uuids) for row in rows] or None)
    return ar.AssessmentResults(
        uuid=_uuid(run_id, "assessment-results"),
        metadata=_metadata(report, "ISO/IEC 27001:2022 Annex A assessment results (harden audit)"),
        import_ap=ar.ImportAp(href="report.json", remarks="no separate OSCAL assessment plan: the run's options in "
                                                           "report.json are the plan"),
        results=[result])


def component_definition(report: dict) -> cd.ComponentDefinition:
    run_id = report["run"]["id"]
    requirements = [cd.ImplementedRequirement(
        uuid=_uuid(run_id, "requirement", row["control"]), control_id=_control_id(row["control"]),
        description=row["justification"],
        props=[common.Property(name="implementation-status", value=_IMPLEMENTATION[row["status"]]),
               common.Property(name="evidence-basis", value=row["implementation"]),
               common.Property(name="audit-status", value=row["status"])]) for row in report["controls"]]
    component = cd.DefinedComponent(
        uuid=_uuid(run_id, "component"), type="software", title="RAE hardening toolkit",
        description="Pulumi components, pyinfra host deploys, the policy gate and the audit of this repository",
        control_implementations=[cd.ControlImplementation(
            uuid=_uuid(run_id, "control-implementation"), source=CATALOG,
            description=f"Statement of Applicability of audit run {run_id}", implemented_requirements=requirements)])
    return cd.ComponentDefinition(
        uuid=_uuid(run_id, "component-definition"),
        metadata=_metadata(report, "Statement of Applicability, ISO/IEC 27001:2022 Annex A (harden audit)"),
        components=[component])


def render(report: dict) -> dict[str, str]:
    """Output file name -> OSCAL JSON text."""
    return {FILES[0]: assessment_results(report).oscal_serialize_json(pretty=True) + "\n",
            FILES[1]: component_definition(report).oscal_serialize_json(pretty=True) + "\n"}
