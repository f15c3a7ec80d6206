"""Parity of the gate with checkov-on-Terraform: checkov on hand-written .tf twins (tests/fixtures/parity/terraform)
against checkov on the gate's translation of the Pulumi programs (tests/fixtures/parity/pulumi).

Example: .venv/bin/python -m tests.policy.parity   # prints the figure benchmarks/gate.md reports
"""

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PARITY = REPO / "tests" / "fixtures" / "parity"


def failed_by_resource(reports: list[dict]) -> dict[str, set[str]]:
    """resource name (the part after the type) -> checkov check ids that failed on it."""
    failed: dict[str, set[str]] = {}
    for report in reports:
        for check in report["results"].get("failed_checks", []):
            failed.setdefault(check["resource"].split(".")[-1], set()).add(check["check_id"])
    return failed


def crossguard_by_resource(resources: list[dict]) -> dict[str, set[str]]:
    """resource name -> the checkov ids of the CrossGuard rules that failed on it (a rule reports the checkov checks
    it states under its own id: RAE-KMS-003 is CKV_GCP_82, read from the `protect` option no plan carries)."""
    from policies.catalog import RULES
    from policies.rules import Unknown, evaluate
    failed: dict[str, set[str]] = {}
    for rule_id, resource, message in evaluate(resources):
        if not isinstance(message, Unknown):
            failed.setdefault(resource["name"], set()).update(i for i in RULES[rule_id].checkov_ids if "*" not in i)
    return failed


def parity() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(failed on the Terraform twins, failed by the gate on the Pulumi programs), by resource name. The gate's
    failures are checkov's on its plan of the program and, under their checkov ids, its CrossGuard rules'."""
    from policies.gate import _checkov, render_stack
    from policies.tfplan import to_plan
    # checkov runs from the fixtures' own folder: the repository's .checkov.yaml skips them on purpose.
    terraform = failed_by_resource(_checkov(["-d", str(PARITY / "terraform"), "--framework", "terraform"], PARITY))
    resources = render_stack(PARITY / "pulumi", "parity", {})
    plan, _ = to_plan(resources)
    with tempfile.TemporaryDirectory() as scratch:
        plan_file = Path(scratch) / "parity.plan.json"
        plan_file.write_text(json.dumps(plan))
        gate = failed_by_resource(_checkov(["-f", str(plan_file), "--framework", "terraform_plan"], PARITY))
    for name, ids in crossguard_by_resource(resources).items():
        gate.setdefault(name, set()).update(ids)
    return terraform, gate


def main() -> int:
    terraform, gate = parity()
    expected = sum(len(ids) for ids in terraform.values())
    caught = sum(len(ids & gate.get(name, set())) for name, ids in terraform.items())
    pairs = sum(text.count('resource "') for text in (f.read_text() for f in (PARITY / "terraform").glob("*.tf")))
    print(f"{pairs} pairs, {len(terraform)} with a checkov failure on the twin; check ids failed on the twins: "
          f"{expected}; also failed by the gate: {caught} ({100 * caught / max(expected, 1):.1f}%)")
    for name, ids in sorted(terraform.items()):
        missing = ids - gate.get(name, set())
        if missing:
            print(f"  {name}: missed {sorted(missing)}")
    return 0 if caught == expected else 1


if __name__ == "__main__":
    sys.exit(main())
