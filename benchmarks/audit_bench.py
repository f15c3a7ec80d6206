"""Benchmark: `harden audit` of the stack plus N hosts against the same audit with one host, in one run.

The hosts are real sshd hosts (hosts/fleet: sshd containers on our base image, verified by pyinfra
through hosts.verify.verify_host); the stack part is whatever follows `--` (the same in every run).
Both audits run on the same machine in the same minutes, after a warm-up audit, alternating
(1, N, 1, N, ...) --repeat times; the ratio is of the medians, so a burst of load elsewhere on the
machine moves both sides alike. Hosts are verified in parallel (harden.audit.hosts.MAX_PARALLEL_HOSTS): the ratio shows
how far below N it stays.

    .venv/bin/python -m benchmarks.audit_bench --hosts 8 -- --stack local

Prints one Markdown table row; benchmarks/audit.md keeps the rows measured so far.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from harden.audit.hosts import MAX_PARALLEL_HOSTS
from hosts.fleet.containers import start_fleet

REPO = Path(__file__).resolve().parents[1]


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _audit(out: Path, members: list, scratch: Path, audit_args: list[str]) -> tuple[float, dict]:
    inventory = scratch / f"{out.name}.json"
    inventory.write_text(json.dumps({"fleet": [list(member) for member in members]}))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harden", "audit", "--out", str(out),
                           "--inventory", str(REPO / "hosts" / "inventory_json.py"), *audit_args], cwd=REPO,
                          env={**os.environ, "HARDEN_INVENTORY_JSON": str(inventory)}, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if not (out / "report.json").exists():
        raise SystemExit(f"the audit wrote no report (exit {done.returncode}): {done.stderr[-2000:]}")
    report = json.loads((out / "report.json").read_text())
    hosts_unknown = [k for k in report["summary"]["unknown"] if k.startswith("host:")]
    if hosts_unknown:
        raise SystemExit(f"host evidence incomplete, the figure would be meaningless: {hosts_unknown[:5]}")
    return elapsed, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=8, help="N: hosts in the larger audit")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each audit (median taken)")
    parser.add_argument("audit_args", nargs=argparse.REMAINDER,
                        help="after --: the stack part of the audit, e.g. --stack local (the same in both runs)")
    args = parser.parse_args(argv)
    audit_args = [a for a in args.audit_args if a != "--"]
    images = json.loads((REPO / "build" / "images.json").read_text())
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as scratch:
        scratch = Path(scratch)
        _say(f"starting {args.hosts} sshd hosts (hosts/fleet)")
        fleet = start_fleet(client, images["base"]["id"], args.hosts, scratch)
        try:
            _say("warm-up audit: stack + 1 host")
            _audit(scratch / "warm", fleet.members[:1], scratch, audit_args)
            one, many = [], []
            for round_ in range(1, args.repeat + 1):
                _say(f"round {round_}/{args.repeat}: stack + 1 host, then stack + {args.hosts} hosts")
                elapsed, report_one = _audit(scratch / "one", fleet.members[:1], scratch, audit_args)
                one.append(elapsed)
                elapsed, report_many = _audit(scratch / "many", fleet.members, scratch, audit_args)
                many.append(elapsed)
        finally:
            fleet.remove()
    print(f"| {time.strftime('%Y-%m-%d')} | {os.cpu_count()} | {' '.join(audit_args) or '(no stack)'} | {args.hosts} "
          f"| {MAX_PARALLEL_HOSTS} | {len(report_one['evidence'])} / {len(report_many['evidence'])} | {args.repeat} "
          f"| {statistics.median(many) / statistics.median(one):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
