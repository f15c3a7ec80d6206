"""Waivers and the gate's output formats: table (grouped by ISO control), json, sarif 2.1.0, junit."""

import json
import re
import xml.etree.ElementTree as ElementTree  # nosec B405 - we only write XML
from datetime import date
from pathlib import Path

import yaml

from baseline import control, controls as annex_a, exceptions
from policies.catalog import RULES
from policies.gate import VERSION, Finding, GateError, GateResult

WAIVER_FIELDS = ("rule", "match", "reason", "owner", "expires")
# Waivers are exceptions to policy: their review is A.5.36 (compliance with policies) evidence.
WAIVER_CONTROLS = exceptions.CONTROLS
# A waiver is re-reviewed at least twice a year: none may run longer than this from the day the gate judges it.
WAIVER_MAX_DAYS = exceptions.MAX_DAYS
FORMATS = ("table", "json", "sarif", "junit")
_GLOB = exceptions.GLOB
_CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
# The owner and expiry an inline checkov skip comment must carry after its reason to count as a waiver.
_INLINE = re.compile(r"\[owner=(?P<owner>[^\s\]]+)\s+expires=(?P<expires>\d{4}-\d{2}-\d{2})\]")


def _refuse(where: str, problem: str) -> GateError:
    return GateError(f"{where}: {problem} [ISO 27001:2022 {', '.join(WAIVER_CONTROLS)}]")


def waiver_problem(rule: str, match: str, reason: str, owner: str, expires: date, today: date) -> str | None:
    """Why a waiver cannot be trusted, or None. Expired waivers are valid entries that waive nothing."""
    if _GLOB.search(rule) or not (rule in RULES or _CHECKOV_ID.match(rule)):
        return f"rule {rule!r} is not one exact catalog rule or checkov check id (no wildcards)"
    if _GLOB.search(match) or not match.strip():
        return f"match {match!r} must name exactly one resource or file (no wildcards)"
    return exceptions.terms_problem(reason, owner, expires, today)


def load_waivers(path: Path, today: date | None = None) -> list[dict]:
    """Read waivers (YAML or JSON: a list, or {"waivers": [...]}); each needs rule, match, reason, owner, expires.

    + rule: one exact catalog rule id or checkov check id
    + match: one exact resource (as findings name it) or file; no wildcards
    + expires: YYYY-MM-DD, at most WAIVER_MAX_DAYS ahead
    A waiver that breaks any of these is refused and the gate cannot run (exit 2).

    Example entry: {rule: RAE-STK-001, match: "local:docker:index/container:Container::postgres",
                    reason: "dev machine without dm-crypt", owner: platform-security, expires: 2027-02-28}
    """
    today = today or date.today()
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise GateError(f"waiver file {path}: {error} [ISO 27001:2022 {', '.join(WAIVER_CONTROLS)}]") from error
    entries = document.get("waivers", []) if isinstance(document, dict) else document or []
    waivers = []
    for index, entry in enumerate(entries):
        where = f"waiver #{index + 1} in {path}"
        missing = [key for key in WAIVER_FIELDS if not isinstance(entry, dict) or not entry.get(key)]
        if missing:
            raise _refuse(where, f"lacks {missing}: every exception needs a rule, what it matches, a reason, an owner "
                                 f"and an expiry")
        try:
            expires = exceptions.expiry(entry["expires"])
        except ValueError as error:
            raise GateError(f"{where}: expires {entry['expires']!r} is not YYYY-MM-DD") from error
        rule, match, reason, owner = (str(entry[key]) for key in ("rule", "match", "reason", "owner"))
        problem = waiver_problem(rule, match, reason, owner, expires, today)
        if problem:
            raise _refuse(where, problem)
        waivers.append({"rule": rule, "match": match, "reason": reason, "owner": owner,
                        "expires": expires.isoformat(), "expired": expires < today, "applied_to": 0})
    return waivers


def _matches(waiver: dict, finding: Finding) -> bool:
    return finding.rule_id == waiver["rule"] and waiver["match"] in (finding.resource, finding.file)


def apply_waivers(result: GateResult, waivers: list[dict]) -> None:
    """Failed findings matched by a live waiver become 'waived' (reason and owner in the message); expired ones
    waive nothing; an unknown is never waived (nobody judged it); a waiver reaching more than one resource is
    refused (GateError). The result lists these waivers, then the inline skips run_gate accepted."""
    for waiver in waivers:
        reached = {finding.resource for finding in result.findings if _matches(waiver, finding)}
        if len(reached) > 1:
            raise _refuse(f"waiver {waiver['rule']} on {waiver['match']!r}",
                          f"reaches {len(reached)} resources ({sorted(reached)[:3]}...); a waiver covers one")
    for finding in result.findings:
        if finding.status not in ("failed", "unknown"):
            continue
        for waiver in waivers:
            if not _matches(waiver, finding):
                continue
            if finding.status == "unknown":
                finding.message += " (a waiver matches, but an unknown cannot be waived: nobody judged it)"
                break
            if waiver["expired"]:
                finding.message += f" (waiver expired {waiver['expires']}: {waiver['reason']})"
                continue
            finding.status = "waived"
            finding.message += f" (waived until {waiver['expires']} by {waiver['owner']}: {waiver['reason']})"
            waiver["applied_to"] += 1
            break
    result.waivers = [*waivers, *result.waivers]  # then the checkov inline skips the gate accepted


def inline_skip(comment: str, today: date | None = None) -> tuple[bool, str, dict | None]:
    """Whether a checkov inline skip's comment makes it a waiver: a reason plus `[owner=NAME expires=YYYY-MM-DD]`,
    within WAIVER_MAX_DAYS and not expired; returns (accepted, why, its terms {reason, owner, expires} or None)."""
    today = today or date.today()
    found = _INLINE.search(comment or "")
    reason = _INLINE.sub("", comment or "").strip()
    if found is None or not reason:
        return False, ("a checkov skip is a waiver only with a reason and [owner=NAME expires=YYYY-MM-DD]; "
                       f"this one says {comment!r}"), None
    try:
        expires = date.fromisoformat(found["expires"])
    except ValueError:
        return False, f"expires {found['expires']!r} is not a date", None
    if expires < today:
        return False, f"the skip expired {expires.isoformat()}: review it again or fix the finding", None
    problem = exceptions.terms_problem(reason, found["owner"], expires, today)
    if problem:
        return False, problem, None
    return (True, f"waived until {expires.isoformat()} by {found['owner']}: {reason}",
            {"reason": reason, "owner": found["owner"], "expires": expires.isoformat()})


def _control_order(control_id: str) -> int:
    order = list(annex_a())
    return order.index(control_id) if control_id in order else len(order)


def table(result: GateResult, threshold: str) -> str:
    """Console report: failures, unknowns and waivers grouped by ISO 27001:2022 control, then a summary."""
    lines = [f"harden policy {result.target}"]
    shown = [f for f in result.findings if f.status != "passed"]
    by_control: dict[str, list[Finding]] = {}
    for finding in shown:
        for control_id in finding.controls or ["(no control)"]:
            by_control.setdefault(control_id, []).append(finding)
    for control_id in sorted(by_control, key=_control_order):
        title = control(control_id).title if control_id in annex_a() else ""
        lines.append(f"\n{control_id} {title}")
        for f in by_control[control_id]:
            where = f"{f.file}:{f.line}" if f.line else f.file
            lines.append(f"  {f.status.upper():7} {f.severity:8} {f.rule_id:13} {f.resource}  {where}\n"
                         f"          {f.message}")
    summary = result.as_json()["summary"]
    lines.append("\nwaivers:" if result.waivers else "\nwaivers: none")
    for w in result.waivers:
        lines.append(f"  {'EXPIRED' if w['expired'] else 'active '} {w['rule']} {w['match']} until {w['expires']} "
                     f"by {w['owner']} ({w['applied_to']} findings): {w['reason']}")
    lines.append(f"\n{summary['failed']} failed, {summary['unknown']} unknown, {summary['waived']} waived, "
                 f"{summary['passed']} passed; gate threshold: {threshold}")
    if summary["unknown"]:
        lines.append("UNKNOWN is not a pass: those checks could not run (see messages).")
    for note in result.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def sarif(result: GateResult) -> dict:
    """SARIF 2.1.0: one rule per id seen, results for failed/unknown/waived findings (waived as suppressed)."""
    reported = [f for f in result.findings if f.status != "passed"]
    rule_ids = sorted({f.rule_id for f in reported})
    first = {f.rule_id: f for f in reported}
    rules = []
    for rule_id in rule_ids:
        rule = RULES.get(rule_id)
        finding = first[rule_id]
        rules.append({
            "id": rule_id,
            "name": rule_id.replace("-", ""),
            "shortDescription": {"text": finding.title},
            "fullDescription": {"text": rule.rationale if rule else finding.title},
            "help": {"text": rule.remediation if rule else finding.title},
            "properties": {"tags": [f"ISO27001:2022/{c}" for c in finding.controls], "severity": finding.severity},
        })
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    results = []
    for f in reported:
        entry = {
            "ruleId": f.rule_id,
            "ruleIndex": rule_ids.index(f.rule_id),
            "level": level[f.severity] if f.status == "failed" else "note",
            "kind": "fail" if f.status in ("failed", "waived") else "open",
            "message": {"text": f"{f.resource}: {f.message} [ISO 27001:2022 {', '.join(f.controls)}]"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.file or "."},
                                                **({"region": {"startLine": f.line}} if f.line else {})}}],
            "properties": {"controls": f.controls, "status": f.status, "source": f.source, "resource": f.resource},
        }
        if f.status == "waived":
            entry["suppressions"] = [{"kind": "external", "state": "accepted", "justification": f.message}]
        results.append(entry)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "harden-policy", "version": VERSION, "rules": rules}},
            "results": results,
            "properties": {"waivers": result.waivers, "notes": result.notes},
        }],
    }


def junit(result: GateResult) -> str:
    """JUnit XML: one test suite per scanner, one test case per finding (waived findings are skipped)."""
    suites = ElementTree.Element("testsuites", name="harden policy")
    for source in sorted({f.source for f in result.findings}):
        findings = [f for f in result.findings if f.source == source]
        suite = ElementTree.SubElement(suites, "testsuite", name=source, tests=str(len(findings)),
                                       failures=str(sum(f.status == "failed" for f in findings)),
                                       errors=str(sum(f.status == "unknown" for f in findings)),
                                       skipped=str(sum(f.status == "waived" for f in findings)))
        for f in findings:
            case = ElementTree.SubElement(suite, "testcase", classname=f"{source}.{f.rule_id}", name=f.resource,
                                          file=f.file, line=str(f.line))
            text = f"{f.message} [ISO 27001:2022 {', '.join(f.controls)}]"
            if f.status == "failed":
                ElementTree.SubElement(case, "failure", message=text, type=f.severity)
            elif f.status == "unknown":
                ElementTree.SubElement(case, "error", message=text)
            elif f.status == "waived":
                ElementTree.SubElement(case, "skipped", message=text)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True)


def render(result: GateResult, output_format: str, threshold: str) -> str:
    if output_format == "json":
        return json.dumps(result.as_json(), indent=1)
    if output_format == "sarif":
        return json.dumps(sarif(result), indent=1)
    if output_format == "junit":
        return junit(result)
    return table(result, threshold)
