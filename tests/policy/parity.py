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


def parity() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(failed on the Terraform twins, failed on the gate's plan of the Pulumi programs), by resource name."""
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
