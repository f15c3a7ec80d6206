"""Rolls evidence up into the versioned report: per-control status, Statement of Applicability, risks, comparison.

The status algebra of a control:
  fail            at least one of its checks failed (a --not-applicable declaration cannot hide it)
  unknown         a check could not be collected, or nothing was collected at all (absence is never a pass)
  not-applicable  excluded with a written justification (--not-applicable A.x.y=WHY), shown in the report
  risk-accepted   every check passed but one or more failing checks are waived (owner, expiry: listed)
  pass            every one of its checks passed

Where the evidence comes from is shown beside the status: "observed" (containers, TLS, the stack's live state,
hosts: a check that read a state, passing or failing; unknown and not-applicable checks observe nothing), "designed,
not observed" (only the policy gate's findings on a rendered program), "not assessed" (no
evidence in this run: the control is outside what this run collected).

Exit codes (documented in `harden audit --help`); the scope is every applicable control this run assessed:
  0  clean: every control in scope passes or is justified not applicable
  1  drift or violations: a control in scope fails
  2  error, or evidence incomplete: a control in scope is unknown, an input or collector failed, or nothing was
     assessed at all. Unknown is never counted as pass.
  3  risk accepted: nothing fails or is unknown, but waivers turned failing checks into accepted risks; every one
     is listed with its owner and expiry. A waiver never produces exit 0.
"""

import fnmatch

import baseline
from harden.audit.evidence import (FAIL, NOT_APPLICABLE, PASS, RISK_ACCEPTED, STATUSES, UNKNOWN, cite, now,
                                   runtime_source, seal)
from harden.audit.policies import covering
from harden.audit.risks import RISKS

SCHEMA_VERSION = "2.1.0"
EXIT_CLEAN, EXIT_DRIFT, EXIT_ERROR, EXIT_RISK_ACCEPTED = 0, 1, 2, 3
OBSERVED, DESIGNED, NOT_ASSESSED, EXCLUDED = "observed", "designed, not observed", "not assessed", "excluded"
# A runtime or host check is an observation of its control only when it read a state (pass or fail, waived or
# not): a host that did not answer (unknown) or a part that does not exist there (not applicable, e.g. the kernel of
# an sshd container) observed nothing about it
SEEN = (PASS, FAIL, RISK_ACCEPTED)
CITED = 5  # evidence items cited inline per claim; the rest are named in report.json


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


def roll_up(statuses, justified_not_applicable: bool = False) -> str:
    """The status algebra (module docstring): fail, then unknown, then a justified exclusion, then risk accepted;
    pass only when every check passed; nothing at all is unknown."""
    statuses = set(statuses)
    if FAIL in statuses:
        return FAIL
    if UNKNOWN in statuses:
        return UNKNOWN
    if justified_not_applicable:
        return NOT_APPLICABLE
    if not statuses - {NOT_APPLICABLE}:
        return UNKNOWN
    return RISK_ACCEPTED if RISK_ACCEPTED in statuses else PASS


def citations(items: list[dict], limit: int = CITED) -> str:
    """`[key sha256:...]` for up to `limit` items, and how many more the report holds."""
    shown = " ".join(cite(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more (report.json)" if len(items) > limit else "")


def claim(status: str, basis: str, items: list[dict], settings: list[str], rules: list[str], policies: list[str],
          exclusion: str | None) -> str:
    """The SoA sentence for one control: "implemented" only with the evidence observed in this run."""
    failing = [i for i in items if i["status"] == FAIL]
    unknown = [i for i in items if i["status"] == UNKNOWN]
    waived = [i for i in items if i["status"] == RISK_ACCEPTED]
    if status == FAIL:
        text = f"not implemented: {len(failing)} of {len(items)} checks fail, evidence {citations(failing)}"
        if exclusion:
            text += f"; declared not applicable ({exclusion}), which failing evidence overrides"
        return text
    if status == UNKNOWN and items:
        return f"unknown: {len(unknown)} of {len(items)} checks could not be collected, evidence {citations(unknown)}"
    if status == NOT_APPLICABLE:
        return f"not applicable: {exclusion}" + (f"; evidence {citations(items)}" if items else "")
    if status == RISK_ACCEPTED:
        return (f"not implemented, risk accepted: {len(waived)} failing checks are waived (owner and expiry under "
                f"Waivers), evidence {citations(waived)}")
    if status == PASS and basis == OBSERVED:
        return f"implemented: {len(items)} checks passed in this run, evidence {citations(items)}"
    if status == PASS:
        return (f"designed, not observed: {len(items)} policy gate checks passed on the rendered program, evidence "
                f"{citations(items)}; no runtime or host evidence in this run")
    parts = ["not assessed in this run"]
    if settings:
        parts.append(f"planned in baseline {', '.join(settings[:4])}{' ...' if len(settings) > 4 else ''}")
    if rules:
        parts.append(f"gate rules {', '.join(rules[:4])} did not report on it in this run")
    if policies:
        parts.append(f"procedure drafted in policies/{', policies/'.join(policies)}.md")
    if not settings and not rules:
        parts.append("organisational control: evidence kept in the ISMS records, outside the toolkit")
    return "; ".join(parts)


def statement_of_applicability(evidence: list[dict], not_applicable: dict[str, str]) -> list[dict]:
    """All 93 Annex A controls: applicability, the basis of the evidence, the status and the claim citing it."""
    settings, rules = baseline_references(), catalog_references()
    by_control: dict[str, list[dict]] = {}
    for item in evidence:
        for cid in item["controls"]:
            by_control.setdefault(cid, []).append(item)
    rows = []
    for cid, control in baseline.controls().items():
        items = by_control.get(cid, [])
        exclusion = not_applicable.get(cid)
        status = roll_up((i["status"] for i in items), justified_not_applicable=bool(exclusion))
        basis = (OBSERVED if any(runtime_source(i["source"]) and i["status"] in SEEN for i in items) else
                 DESIGNED if any(not runtime_source(i["source"]) for i in items) else
                 EXCLUDED if status == NOT_APPLICABLE else NOT_ASSESSED)
        policies = [p.slug for p in covering(cid)]
        rows.append({
            "control": cid, "title": control.title, "theme": control.theme,
            "applicable": status != NOT_APPLICABLE, "implementation": basis, "status": status,
            "counts": {s: sum(1 for i in items if i["status"] == s) for s in STATUSES},
            "evidence": [i["key"] for i in items], "baseline_settings": settings.get(cid, []),
            "rules": rules.get(cid, []), "policies": policies,
            "justification": claim(status, basis, items, settings.get(cid, []), rules.get(cid, []), policies, exclusion),
        })
    return rows


def risk_treatment(soa: list[dict], evidence: list[dict]) -> list[dict]:
    """Each risk's measures, each "implemented" only with matching evidence observed in this run, else "planned"."""
    status = {row["control"]: row["status"] for row in soa}
    rows = []
    for risk in RISKS:
        measures = []
        for measure in risk.measures:
            items = [i for i in evidence if any(fnmatch.fnmatchcase(i["key"], p) for p in measure.evidence)]
            measure_status = roll_up(i["status"] for i in items) if items else "planned"
            measures.append({"measure": measure.text, "status": measure_status, "evidence": [i["key"] for i in items],
                             "claim": _measure_claim(measure_status, items)})
        rows.append({"id": risk.id, "risk": risk.title, "impact": risk.impact, "measures": measures,
                     "treatment": "; ".join(f"{m['measure']}: {m['claim']}" for m in measures),
                     "controls": [{"control": c, "status": status[c]} for c in risk.controls],
                     "status": roll_up(UNKNOWN if m["status"] == "planned" else m["status"] for m in measures)})
    return rows


def _measure_claim(status: str, items: list[dict]) -> str:
    if status == "planned":
        return "planned: no evidence of it in this run"
    if status == PASS:
        return f"implemented, evidence {citations(items)}"
    if status == FAIL:
        return f"not implemented, evidence {citations([i for i in items if i['status'] == FAIL])}"
    if status == RISK_ACCEPTED:
        return f"not implemented, risk accepted, evidence {citations(items)}"
    return f"unknown, evidence {citations([i for i in items if i['status'] == UNKNOWN] or items)}"


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


def exit_code(soa: list[dict], errors: list[str]) -> tuple[int, str]:
    """(code, verdict) over the controls in scope: those this run assessed (module docstring)."""
    in_scope = [row for row in soa if row["evidence"]]
    statuses = {row["status"] for row in in_scope}
    if FAIL in statuses:
        return EXIT_DRIFT, "drift"
    if errors:
        return EXIT_ERROR, "error"
    if UNKNOWN in statuses or not in_scope:
        return EXIT_ERROR, "incomplete"
    if RISK_ACCEPTED in statuses:
        return EXIT_RISK_ACCEPTED, "risk-accepted"
    return EXIT_CLEAN, "clean"


def coverage(soa: list[dict]) -> dict:
    """How many controls rest on runtime or host evidence, on static evidence only, or on neither (manual)."""
    observed = [r["control"] for r in soa if r["implementation"] == OBSERVED]
    designed = [r["control"] for r in soa if r["implementation"] == DESIGNED]
    excluded = [r["control"] for r in soa if r["implementation"] == EXCLUDED]
    manual = [r["control"] for r in soa if r["implementation"] == NOT_ASSESSED]
    return {"observed": len(observed), "designed_only": len(designed), "manual": len(manual),
            "excluded": len(excluded), "total": len(soa),
            "controls": {"observed": observed, "designed_only": designed, "manual": manual, "excluded": excluded}}


def apply_waivers(items: list[dict], waivers: list[dict], today: str) -> list[dict]:
    """Failing items matched by a live waiver become risk-accepted; returns every waiver with what it covered.

    + waivers: [{"match": "<one evidence key>", "owner", "expires" (YYYY-MM-DD), "reason"}], validated by run.py
    An expired waiver is listed and applies to nothing: the check stays failed.
    """
    listed = []
    for waiver in waivers:
        expired = str(waiver["expires"]) < today
        covered = []
        for item in items:
            if not expired and item["status"] == FAIL and item["key"] == waiver["match"]:
                item["status"] = RISK_ACCEPTED
                item["detail"] = (f"{item['detail']}; " if item["detail"] else "") + (
                    f"waived: {waiver['reason']} (owner {waiver['owner']}, expires {waiver['expires']})")
                covered.append(item["key"])
        listed.append({"source": "audit", **{k: waiver[k] for k in ("match", "owner", "expires", "reason")},
                       "expired": expired, "applied_to": covered})
    return listed


def build(evidence, *, run_id, started_at, options, errors, assets, flows, not_applicable, previous, history,
          tool_version, waivers=(), gate_waivers=()) -> dict:
    """The whole report as plain data (not yet redacted)."""
    items = [e.as_dict() for e in evidence]
    listed = apply_waivers(items, list(waivers), started_at[:10]) + list(gate_waivers)
    items = [seal(i) for i in items]
    soa = statement_of_applicability(items, not_applicable)
    code, verdict = exit_code(soa, errors)
    counts = {s: sum(1 for i in items if i["status"] == s) for s in STATUSES}
    control_counts = {s: sum(1 for r in soa if r["status"] == s) for s in STATUSES}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "harden audit", "version": tool_version},
        "run": {"id": run_id, "started_at": started_at, "finished_at": now(), "options": options},
        "summary": {"verdict": verdict, "exit_code": code, "evidence": counts, "controls": control_counts,
                    "coverage": coverage(soa),
                    "drift": [i["key"] for i in items if i["status"] == FAIL],
                    "unknown": [i["key"] for i in items if i["status"] == UNKNOWN],
                    "risk_accepted": [i["key"] for i in items if i["status"] == RISK_ACCEPTED],
                    "not_applicable": [{"control": c, "justification": j} for c, j in sorted(not_applicable.items())],
                    "waivers": listed},
        "errors": errors,
        "evidence": items,
        "controls": soa,
        "risks": risk_treatment(soa, items),
        "assets": assets,
        "flows": flows,
        "comparison": compare(items, previous),
        "history": history,
    }
