"""`harden policy PATH`: the pull-request gate (CrossGuard rules + checkov + application checks + SAST + dependencies).

Exit codes: 0 clean, 1 violations at or above --severity (or an expired waiver), 2 the gate could not run
or a check could not decide (unknown is never a pass; --allow-unknown relaxes that for local use only).
"""

import argparse
import sys
from pathlib import Path

from policies.catalog import SEVERITIES
from policies.report import FORMATS

# --output-dir: one file per format, all from the same run.
OUTPUT_FILES = {"table": "gate.txt", "json": "gate.json", "sarif": "gate.sarif", "junit": "gate.junit.xml"}


def register(commands) -> None:
    parser = commands.add_parser("policy", help="the pull-request policy gate, findings keyed by ISO 27001:2022",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path, help="a Pulumi project or any directory")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    parser.add_argument("--output", type=Path, help="write the report here instead of standard output")
    parser.add_argument("--output-dir", type=Path,
                        help="write every format from this one run (gate.txt, gate.json, gate.sarif, gate.junit.xml) "
                             "and print the table")
    parser.add_argument("--severity", choices=SEVERITIES, default="low",
                        help="lowest severity that fails the gate (default: low, every failure)")
    parser.add_argument("--waivers", type=Path, help="YAML or JSON waivers: rule, match, reason, expires")
    parser.add_argument("--artifacts", type=Path, default=Path("out/gate"),
                        help="directory for SBOMs and translated plans (default: out/gate)")
    parser.add_argument("--engine-json", type=Path,
                        help="judge this `pulumi preview --json` / `pulumi stack export` output instead of mock rendering")
    parser.add_argument("--allow-unknown", action="store_true",
                        help="LOCAL USE ONLY: exit 0 although some checks could not decide (they stay reported as "
                             "unknown); without it an unknown exits 2")
    parser.set_defaults(run=run)


def run(args) -> int:
    from policies.gate import GateError, run_gate
    from policies.report import apply_waivers, load_waivers, render

    try:
        waivers = load_waivers(args.waivers) if args.waivers else []
        result = run_gate(args.path, artifacts=args.artifacts, engine_json=args.engine_json)
    except GateError as error:
        print(f"harden policy: error: {error}", file=sys.stderr)
        return 2
    try:
        apply_waivers(result, waivers)
    except GateError as error:
        print(f"harden policy: error: {error}", file=sys.stderr)
        return 2
    report = render(result, args.format, args.severity)
    if args.output_dir:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        for output_format, name in OUTPUT_FILES.items():
            (args.output_dir / name).write_text(render(result, output_format, args.severity))
        print(f"harden policy: {', '.join(OUTPUT_FILES.values())} written to {args.output_dir}", file=sys.stderr)
        sys.stdout.write(render(result, "table", args.severity))
    elif args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(f"harden policy: {args.format} report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return exit_code(result, args.severity, allow_unknown=args.allow_unknown)


def exit_code(result, threshold: str, allow_unknown: bool = False) -> int:
    """1 for failures at or above the threshold or an expired waiver; 2 for undecided checks (unless allowed); else 0."""
    from policies.gate import at_or_above

    blocking = [f for f in result.findings if f.status == "failed" and at_or_above(f.severity, threshold)]
    expired = [w for w in result.waivers if w["expired"]]
    unknown = [f for f in result.findings if f.status == "unknown"]
    for waiver in expired:
        print(f"harden policy: waiver for {waiver['rule']} on {waiver['match']} expired {waiver['expires']}: "
              f"renew it after a new review or fix the finding", file=sys.stderr)
    print(f"harden policy: {len(blocking)} blocking failures, {len(expired)} expired waivers, "
          f"{len(unknown)} unknown", file=sys.stderr)
    if blocking or expired:
        return 1
    if unknown and allow_unknown:
        print("harden policy: --allow-unknown: the unknown checks above were NOT judged; do not use this in CI",
              file=sys.stderr)
    return 2 if unknown and not allow_unknown else 0
