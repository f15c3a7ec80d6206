"""Benchmark: `harden audit` of the stack plus N hosts against the same audit with one host, in one run.

The hosts are the Node1 test VM (hosts/vm, booted once) listed N times under different names, so the
figure is the audit's cost per extra host against a real sshd and real pyinfra fact gathering, on the
same machine and in the same minute as the one-host baseline. Hosts are verified in parallel
(harden.audit.hosts.MAX_PARALLEL_HOSTS), so the ratio shows how far below N it stays.

    .venv/bin/python -m benchmarks.audit_bench --hosts 4 -- --stack local      # arguments after -- go to the audit

Prints one Markdown table row per run; paste it into benchmarks/audit.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hosts.vm import boot

REPO = Path(__file__).resolve().parents[1]


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _audit(out: Path, inventory_json: Path, stack_args: list[str]) -> tuple[float, dict]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "harden", "audit", "--out", str(out),
                           "--inventory", str(REPO / "hosts" / "inventory_json.py"), *stack_args], cwd=REPO,
                          env={**os.environ, "HARDEN_INVENTORY_JSON": str(inventory_json)}, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    report = json.loads((out / "report.json").read_text())
    if done.returncode == 2 and report["summary"]["unknown"]:
        raise SystemExit(f"audit incomplete, the figure would be meaningless: {report['summary']['unknown'][:5]}")
    return elapsed, report


def _inventory(vm, names: list[str], path: Path) -> Path:
    entry = {"ssh_hostname": vm.host, "ssh_port": vm.port, "ssh_user": vm.user, "ssh_key": str(vm.key_path),
             "ssh_known_hosts_file": str(vm.known_hosts_path), "_sudo": True, "harden_scope": "node",
             "firewall_ssh_interfaces": [boot.GUEST_INTERFACE]}
    path.write_text(json.dumps({"node1": [[name, entry] for name in names]}))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4, help="N: hosts in the larger audit")
    parser.add_argument("audit_args", nargs=argparse.REMAINDER,
                        help="after --: the stack part of the audit, e.g. --stack local (same in both runs)")
    args = parser.parse_args(argv)
    stack_args = [a for a in args.audit_args if a != "--"]
    with tempfile.TemporaryDirectory(prefix="audit-bench-") as scratch:
        scratch = Path(scratch)
        _say("booting the Node1 test VM")
        vm = boot.boot(scratch / "vm")
        try:
            _say("warm-up audit (first SSH connection, page cache)")
            _audit(scratch / "warm", _inventory(vm, ["warm"], scratch / "warm.json"), stack_args)
            _say("audit: stack + 1 host")
            one, report_one = _audit(scratch / "one", _inventory(vm, ["node1"], scratch / "one.json"), stack_args)
            _say(f"audit: stack + {args.hosts} hosts")
            many, report_many = _audit(scratch / "many",
                                       _inventory(vm, [f"node{i}" for i in range(1, args.hosts + 1)], scratch / "many.json"),
                                       stack_args)
        finally:
            vm.stop()
    checks_one, checks_many = len(report_one["evidence"]), len(report_many["evidence"])
    print("| date | accelerator | N | checks (1 host / N hosts) | time N hosts / time 1 host |")
    print(f"| {time.strftime('%Y-%m-%d')} | {vm.accelerator.split(',')[0]} | {args.hosts} | {checks_one} / {checks_many} "
          f"| {many / one:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
