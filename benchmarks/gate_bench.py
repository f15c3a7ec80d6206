"""Benchmark of `harden policy`: its wall time against bare checkov on the same inputs, for synthetic
Pulumi programs of 10 to 1,000 raw resources. Prints a Markdown table (see benchmarks/gate.md).

  .venv/bin/python benchmarks/gate_bench.py [--repeat 3] [10 100 1000]

Each size is measured `repeat` times, gate and checkov alternating, and the medians are reported:
on a shared 2-core machine single timings swing by 2x.

Bare checkov gets what checkov alone can read of the same program: the gate's own Terraform-plan
translation (checkov cannot read Pulumi) plus the directory scan, with the same flags the gate uses.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from policies.gate import CHECKOV, CHECKOV_CHECKS  # noqa: E402

PROGRAM = '''import pulumi_docker as docker
import pulumi_gcp as gcp

for index in range({containers}):
    docker.Container(f"app-{{index}}", image="sha256:" + "a" * 64, user="10001:10001", read_only=True,
                     capabilities={{"drops": ["ALL"]}}, security_opts=["no-new-privileges:true"], memory=512,
                     healthcheck={{"tests": ["CMD", "true"]}}, log_opts={{"max-size": "10m", "max-file": "5"}})
for index in range({buckets}):
    gcp.storage.Bucket(f"bucket-{{index}}", location="EU", uniform_bucket_level_access=True,
                       public_access_prevention="enforced", versioning={{"enabled": True}},
                       encryption={{"default_kms_key_name": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}},
                       retention_policy={{"retention_period": "3024000"}})
'''


def synthetic_program(directory: Path, resources: int) -> None:
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text(f"name: bench-{resources}\nruntime: python\n")
    (directory / "Pulumi.bench.yaml").write_text("config:\n  gcp:project: bench\n")
    (directory / "__main__.py").write_text(PROGRAM.format(containers=resources // 2, buckets=resources - resources // 2))


def timed(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    return time.perf_counter() - start, completed


def _rendered_at(progress: str) -> float:
    """When the gate's progress lines say the (one) program was rendered, in seconds from the gate's start."""
    match = re.search(r"^\[gate\s+([0-9.]+)s\] rendered ", progress, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no 'rendered' progress line in:\n{progress[-2000:]}")
    return float(match.group(1))


def measure(program: Path, artifacts: Path, env: dict) -> tuple[float, float, int, float]:
    """One alternating pair: (harden policy seconds, bare checkov seconds, findings, seconds until rendered)."""
    gate_seconds, gate = timed([sys.executable, "-m", "harden", "policy", str(program), "--format", "json",
                                "--output", str(artifacts / "gate.json"), "--artifacts", str(artifacts)], cwd=REPO)
    if gate.returncode not in (0, 1):
        raise RuntimeError(gate.stderr[-3000:])
    findings = len(json.loads((artifacts / "gate.json").read_text())["findings"])
    plan = next(artifacts.glob("plans-*/*.plan.json"))
    plan_seconds, _ = timed([str(CHECKOV), "-f", str(plan), "--framework", "terraform_plan",
                             "--external-checks-dir", str(CHECKOV_CHECKS), "--skip-download", "-o", "json",
                             "--soft-fail"], env=env)
    dir_seconds, _ = timed([str(CHECKOV), "-d", str(program), "--framework", "dockerfile", "github_actions",
                            "secrets", "--enable-secret-scan-all-files", "--skip-download", "-o", "json",
                            "--soft-fail"], env=env)
    return gate_seconds, plan_seconds + dir_seconds, findings, _rendered_at(gate.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("sizes", type=int, nargs="*", default=[10, 100, 1000])
    args = parser.parse_args(argv)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "PYTHONPATH": str(REPO)}
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            program = Path(scratch) / f"program-{size}"
            synthetic_program(program, size)
            pairs = []
            for attempt in range(args.repeat):
                print(f"[bench] {size} resources, run {attempt + 1}/{args.repeat}: harden policy, then bare checkov",
                      file=sys.stderr)
                pairs.append(measure(program, Path(scratch) / f"artifacts-{size}-{attempt}", env))
            gate_seconds = statistics.median(p[0] for p in pairs)
            checkov_seconds = statistics.median(p[1] for p in pairs)
            rendered = statistics.median(p[3] for p in pairs)
            rows.append((size, pairs[0][2], gate_seconds, checkov_seconds, gate_seconds / checkov_seconds, rendered,
                         [f"{p[0] / p[1]:.2f}" for p in pairs]))
    print(f"| resources | findings | harden policy, median of {args.repeat} (s) | graph rendered at (s) "
          f"| bare checkov, median (s) | ratio | ratio of each run |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for size, findings, gate_seconds, checkov_seconds, ratio, rendered, each in rows:
        print(f"| {size} | {findings} | {gate_seconds:.1f} | {rendered:.1f} | {checkov_seconds:.1f} | {ratio:.2f} "
              f"| {', '.join(each)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
