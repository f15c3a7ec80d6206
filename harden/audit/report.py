"""Rolls evidence up into the versioned report: per-control status, Statement of Applicability, risks, comparison.

Exit codes (documented in `harden audit --help`):
  0  clean: every check passed
  1  drift or violations: at least one check failed
  2  error, or evidence incomplete: a check is unknown (host down, probe timed out) and none failed.
     Unknown is never counted as pass.
"""

import baseline
from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, now, seal
from harden.audit.policies import covering
from harden.audit.risks import RISKS

SCHEMA_VERSION = "1.0.0"
EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2
AUTOMATED, PARTLY_AUTOMATED, MANUAL = "automated", "partly automated", "manual"


def baseline_references() -> dict[str, list[str]]:
    """control id -> ["TLS.min_version", ...]: every baseline setting that serves it."""
    refs: dict[str, list[str]] = {}
    for section in baseline.SECTIONS:
        for key, setting in section.items():
            for cid in setting.controls:
                refs.setdefault(cid, []).append(f"{section.name.upper()}.{key}")
    return refs


def catalog_references() -> dict[str, list[str]]:
    """control id -> [rule ids of the policy gate's catalog]."""
    from policies.catalog import RULES

    refs: dict[str, list[str]] = {}
    for rule in RULES.values():
        for cid in rule.controls:
            refs.setdefault(cid, []).append(rule.id)
    return refs


def roll_up(statuses) -> str:
    """fail beats unknown beats pass; nothing at all is unknown (absence of evidence is not a pass)."""
    statuses = set(statuses)
    for status in (FAIL, UNKNOWN, PASS):
        if status in statuses:
            return status
    return NOT_APPLICABLE if statuses == {NOT_APPLICABLE} else UNKNOWN


def statement_of_applicability(evidence: list[dict], not_applicable: dict[str, str]) -> list[dict]:
    """All 93 Annex A controls: applicability, how it is implemented, its status and where the evidence is."""
    settings, rules = baseline_references(), catalog_references()
    by_control: dict[str, list[dict]] = {}
    for item in evidence:
        for cid in item["controls"]:
            by_control.setdefault(cid, []).append(item)
    rows = []
    for cid, control in baseline.controls().items():
        items = by_control.get(cid, [])
        policies = [p.slug for p in covering(cid)]
        if cid in not_applicable:
            implementation, status = "excluded", NOT_APPLICABLE
        elif items:
            implementation, status = AUTOMATED, roll_up(i["status"] for i in items)
        elif settings.get(cid) or rules.get(cid):
            implementation, status = PARTLY_AUTOMATED, UNKNOWN
        else:
            implementation, status = MANUAL, UNKNOWN
        pointer = _pointer(implementation, items, settings.get(cid, []), rules.get(cid, []), policies,
                           not_applicable.get(cid))
        rows.append({
            "control": cid, "title": control.title, "theme": control.theme,
            "applicable": cid not in not_applicable, "implementation": implementation, "status": status,
            "counts": {s: sum(1 for i in items if i["status"] == s) for s in (PASS, FAIL, UNKNOWN)},
            "evidence": [i["key"] for i in items], "baseline_settings": settings.get(cid, []),
            "rules": rules.get(cid, []), "policies": policies, "justification": pointer,
        })
    return rows


def _pointer(implementation, items, settings, rules, policies, exclusion) -> str:
    if implementation == "excluded":
        return f"excluded: {exclusion}"
    parts = []
    if items:
        parts.append(f"{len(items)} checks in this report")
    if settings:
        parts.append(f"enforced by baseline {', '.join(settings[:4])}{' ...' if len(settings) > 4 else ''}")
    if rules:
        parts.append(f"policy gate rules {', '.join(rules[:4])}")
    if policies:
        parts.append(f"procedure in policies/{', policies/'.join(policies)}.md")
    if not parts:
        parts.append("organisational control: evidence kept in the ISMS records, outside the toolkit")
    if implementation == PARTLY_AUTOMATED:
        parts.append("no runtime evidence collected in this run")
    return "; ".join(parts)


def risk_treatment(soa: list[dict]) -> list[dict]:
    status = {row["control"]: row["status"] for row in soa}
    return [{"id": r.id, "risk": r.title, "impact": r.impact, "treatment": r.treatment,
             "controls": [{"control": c, "status": status[c]} for c in r.controls],
             "status": roll_up(status[c] for c in r.controls)} for r in RISKS]


def compare(current: list[dict], previous: dict | None) -> dict | None:
    """Newly failed, fixed and unchanged failures against a previous report (keys are evidence keys)."""
    if previous is None:
        return None
    before = {i["key"]: i["status"] for i in previous.get("evidence", [])}
    after = {i["key"]: i["status"] for i in current}
    return {
        "previous_run": previous.get("run", {}).get("id"),
        "previous_started_at": previous.get("run", {}).get("started_at"),
        "newly_failed": sorted(k for k, s in after.items() if s == FAIL and before.get(k) != FAIL),
        "fixed": sorted(k for k, s in before.items() if s == FAIL and after.get(k) == PASS),
        "still_failing": sorted(k for k, s in after.items() if s == FAIL and before.get(k) == FAIL),
        "gone": sorted(k for k in before if k not in after),
        "new_checks": sorted(k for k in after if k not in before),
    }


def exit_code(evidence: list[dict], errors: list[str]) -> tuple[int, str]:
    statuses = {i["status"] for i in evidence}
    if FAIL in statuses:
        return EXIT_DRIFT, "drift"
    if errors:
        return EXIT_ERROR, "error"
    if UNKNOWN in statuses or not evidence:
        return EXIT_ERROR, "incomplete"
    return EXIT_CLEAN, "clean"


def build(evidence, *, run_id, started_at, options, errors, assets, flows, not_applicable, previous, history,
          tool_version) -> dict:
    """The whole report as plain data (not yet redacted)."""
    items = [seal(e.as_dict()) for e in evidence]
    soa = statement_of_applicability(items, not_applicable)
    code, verdict = exit_code(items, errors)
    counts = {s: sum(1 for i in items if i["status"] == s) for s in (PASS, FAIL, UNKNOWN, NOT_APPLICABLE)}
    control_counts = {s: sum(1 for r in soa if r["status"] == s) for s in (PASS, FAIL, UNKNOWN, NOT_APPLICABLE)}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "harden audit", "version": tool_version},
        "run": {"id": run_id, "started_at": started_at, "finished_at": now(), "options": options},
        "summary": {"verdict": verdict, "exit_code": code, "evidence": counts, "controls": control_counts,
                    "drift": [i["key"] for i in items if i["status"] == FAIL],
                    "unknown": [i["key"] for i in items if i["status"] == UNKNOWN]},
        "errors": errors,
        "evidence": items,
        "controls": soa,
        "risks": risk_treatment(soa),
        "assets": assets,
        "flows": flows,
        "comparison": compare(items, previous),
        "history": history,
    }
