"""Coverage figure: how many of the 93 Annex A controls rest on runtime or host evidence, on static evidence only
(the policy gate on a rendered program), or on neither (manual), over one or more real audit reports.

A control counts as observed when any report holds runtime or host evidence for it (containers, TLS handshakes,
the stack's live state, hosts) that read a state, pass or fail alike: the figure measures what the audit can see,
not how well the system does. A host that did not answer (unknown) or a part a host lacks (not applicable) is no
observation; that is recomputed from each report's evidence. Excluded controls are counted apart.

    .venv/bin/python -m benchmarks.coverage_bench out/audit/report.json [out/node1/report.json ...]

Prints one Markdown table row; benchmarks/coverage.md keeps the rows measured so far.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from harden.audit.evidence import runtime_source
from harden.audit.report import SEEN

GOAL = 40  # issue 11: controls with runtime or host evidence from the local stack plus one Node1


def _seen(report: dict) -> set[str]:
    """Controls with a runtime or host check that read a state, recomputed from the report's evidence (so a report
    written before the audit stopped counting unknown and not-applicable checks is counted the same way)."""
    return {cid for item in report["evidence"] if runtime_source(item["source"]) and item["status"] in SEEN
            for cid in item["controls"]}


def union(reports: list[dict]) -> dict:
    """Per control the strongest basis over the reports: observed beats designed beats excluded beats not assessed."""
    rank = {"observed": 3, "designed, not observed": 2, "excluded": 1, "not assessed": 0}
    best: dict[str, str] = {}
    for report in reports:
        seen = _seen(report)
        for row in report["controls"]:
            basis = row["implementation"]
            if basis == "observed" and row["control"] not in seen:
                basis = "designed, not observed" if any(
                    not runtime_source(i["source"]) for i in report["evidence"]
                    if row["control"] in i["controls"]) else "not assessed"
            if rank[basis] > rank.get(best.get(row["control"], "not assessed"), 0):
                best[row["control"]] = basis
            best.setdefault(row["control"], basis)
    counts = {basis: sum(1 for b in best.values() if b == basis) for basis in rank}
    return {"observed": counts["observed"], "designed_only": counts["designed, not observed"],
            "manual": counts["not assessed"], "excluded": counts["excluded"], "total": len(best),
            "observed_controls": sorted((c for c, b in best.items() if b == "observed"),
                                        key=lambda cid: tuple(int(p) for p in cid[2:].split(".")))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="report.json files of real audit runs")
    parser.add_argument("--label", default="", help="what the reports audited (goes into the row)")
    args = parser.parse_args(argv)
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in args.reports]
    figure = union(reports)
    print(f"| {time.strftime('%Y-%m-%d')} | {args.label or ', '.join(str(p) for p in args.reports)} | "
          f"{figure['observed']} | {figure['designed_only']} | {figure['manual']} | {figure['excluded']} | "
          f"{'met' if figure['observed'] >= GOAL else 'not met'} ({GOAL}) | {', '.join(figure['observed_controls'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
