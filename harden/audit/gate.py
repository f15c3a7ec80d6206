"""Evidence from the policy gate: `harden policy PATH --format json`, or a saved result (--gate-json)."""

import json
import subprocess
import sys
from pathlib import Path

from baseline import controls as annex_a_controls
from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, Evidence

_STATUS = {"passed": PASS, "pass": PASS, "failed": FAIL, "fail": FAIL, "error": UNKNOWN, "unknown": UNKNOWN,
           "skipped": NOT_APPLICABLE, "waived": NOT_APPLICABLE, "not-applicable": NOT_APPLICABLE}


def run_gate(path: str) -> dict:
    """The gate's JSON result for a repository path (the gate's own exit 1 means findings, not an error)."""
    done = subprocess.run([sys.executable, "-m", "harden", "policy", path, "--format", "json"],
                          capture_output=True, text=True, timeout=1800)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"harden policy {path} gave no JSON (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def evidence(result: dict) -> list[Evidence]:
    """One item per finding, keyed by rule and resource, with the catalog's title as the expectation."""
    from policies.catalog import RULES

    found = []
    for finding in result.get("findings", []):
        rule = RULES.get(finding.get("rule_id"))
        controls = [c for c in finding.get("controls") or (rule.controls if rule else ()) if c in annex_a_controls()]
        status = _STATUS.get(str(finding.get("status", "")).lower(), UNKNOWN)
        found.append(Evidence(
            "gate", f"gate/{finding.get('resource', '?')}", str(finding.get("rule_id")),
            rule.title if rule else finding.get("title", "rule passes"),
            finding.get("message") or finding.get("status"), status, tuple(controls),
            f"severity {rule.severity}; remediation: {rule.remediation}" if rule else str(finding.get("tool", ""))))
    return found
