"""Evidence from the policy gate: `harden policy PATH --format json`, or a saved result (--gate-json)."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from baseline import controls as annex_a_controls, exceptions
from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, RISK_ACCEPTED, UNKNOWN, Evidence

# A waived finding is a failing check whose risk someone accepted: never not-applicable, never pass.
_STATUS = {"passed": PASS, "pass": PASS, "failed": FAIL, "fail": FAIL, "error": UNKNOWN, "unknown": UNKNOWN,
           "skipped": NOT_APPLICABLE, "waived": RISK_ACCEPTED, "not-applicable": NOT_APPLICABLE}


def run_gate(path: str) -> dict:
    """The gate's JSON result for a repository path, with that repository's reviewed waivers
    (policies/waivers.yaml) as `make policy` and CI apply them (the gate's own exit 1 means findings, not an error)."""
    waivers = Path(path) / "policies" / "waivers.yaml"
    done = subprocess.run([sys.executable, "-m", "harden", "policy", path, "--format", "json",
                           *(["--waivers", str(waivers)] if waivers.is_file() else [])],
                          capture_output=True, text=True, timeout=1800)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"harden policy {path} gave no JSON (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def evidence(result: dict, today: date | None = None) -> list[Evidence]:
    """One item per finding, keyed by rule and resource, with the catalog's title as the expectation. A finding the
    result marks waived is risk-accepted only under a waiver the result lists that meets the waiver terms today
    (policies.report.waiver_problem: exact rule and resource, reason, owner, expiry within 180 days, not expired);
    any other "waived" finding is counted failing, with why: a saved result is an input, not a verdict."""
    from policies.catalog import RULES

    today = today or date.today()
    found = []
    for finding in result.get("findings", []):
        rule = RULES.get(finding.get("rule_id"))
        controls = [c for c in finding.get("controls") or (rule.controls if rule else ()) if c in annex_a_controls()]
        status = _STATUS.get(str(finding.get("status", "")).lower(), UNKNOWN)
        detail = f"severity {rule.severity}; remediation: {rule.remediation}" if rule else str(finding.get("source", ""))
        if status == RISK_ACCEPTED:
            waiver, problem = _trusted_waiver(finding, result.get("waivers") or [], today)
            if waiver is None:
                status, detail = FAIL, f"{detail}; marked waived, counted failing: {problem}"
            else:
                detail = (f"{detail}; waived: {waiver.get('reason')} (owner {waiver.get('owner') or 'not named'}, "
                          f"expires {waiver.get('expires')})")
        found.append(Evidence(
            "gate", f"gate/{finding.get('resource', '?')}", str(finding.get("rule_id")),
            rule.title if rule else finding.get("title", "rule passes"),
            finding.get("message") or finding.get("status"), status, tuple(controls), detail))
    return found


def _trusted_waiver(finding: dict, waivers: list[dict], today: date) -> tuple[dict | None, str]:
    """The listed waiver that covers a waived finding and meets the terms today, or (None, why not)."""
    from policies.report import waiver_problem

    places = (finding.get("resource"), finding.get("file"))
    matching = [w for w in waivers if w.get("rule") == finding.get("rule_id") and w.get("match") in places]
    if not matching:
        return None, "no waiver the gate result lists names this rule and resource exactly"
    waiver = matching[0]
    try:
        expires = exceptions.expiry(waiver.get("expires"))
    except ValueError:
        return None, f"its waiver's expiry {waiver.get('expires')!r} is not a date"
    problem = waiver_problem(str(waiver.get("rule")), str(waiver.get("match")), str(waiver.get("reason") or ""),
                             str(waiver.get("owner") or ""), expires, today)
    if problem is None and expires < today:
        problem = f"expired {expires.isoformat()}"
    return (None, f"its waiver is not trusted: {problem}") if problem else (waiver, "")


def waivers(result: dict) -> list[dict]:
    """The gate's waivers as the report lists them (the checkov inline skips it accepted among them): every one, with
    its owner (or that none is named) and expiry."""
    listed = result.get("waivers") or []
    return [{"source": "gate", "match": f"{w.get('rule')} on {w.get('match')}", "owner": w.get("owner") or "not named",
             "expires": str(w.get("expires")), "reason": str(w.get("reason")), "expired": bool(w.get("expired")),
             "applied_to": [f"{w.get('applied_to', 0)} gate findings"]} for w in listed]
