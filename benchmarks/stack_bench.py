"""Times of the local stack through the real engine, as ratios of one run: up (create), preview, up (no change),
refreshing preview, refresh, destroy. Uses its own `bench` stack (Pulumi.bench.yaml, git-ignored) on its own ports
(RAE_BENCH_STACK, RAE_BENCH_POSTGRES_PORT and RAE_BENCH_PROXY_PORT name others, for a second clone on the same
Docker engine; a stack name starting with bench keeps its config git-ignored).

Reproduce: bash scripts/setup.sh && .venv/bin/python -m benchmarks.stack_bench
"""

import json
import os
import platform
import subprocess
import time

import yaml

from tests.fixtures.stack import ROOT, PulumiStack

PORTS = {"rae:postgresPort": os.environ.get("RAE_BENCH_POSTGRES_PORT", "25432"),
         "rae:proxyPort": os.environ.get("RAE_BENCH_PROXY_PORT", "28443")}
STACK = os.environ.get("RAE_BENCH_STACK", "bench")


def main() -> None:
    data_root = ROOT / ".state" / f"{STACK}-data"
    stack = PulumiStack(STACK, data_root)
    stack.release_everything()
    config = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    config.pop("encryptionsalt", None)
    config["config"] |= {"rae:dataRoot": str(data_root)} | PORTS
    (ROOT / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run(["pulumi", "stack", "init", STACK, "--non-interactive"], cwd=ROOT, env=stack.env, check=True,
                   capture_output=True)
    steps = {
        "up (create)": ("up", "--yes", "--skip-preview", "--suppress-progress"),
        "preview (no change)": ("preview", "--expect-no-changes"),
        "up (no change)": ("up", "--yes", "--skip-preview", "--suppress-progress"),
        "preview --refresh": ("preview", "--refresh", "--expect-no-changes"),
        "refresh": ("refresh", "--yes", "--expect-no-changes", "--suppress-progress"),
        "destroy": ("destroy", "--yes", "--skip-preview", "--suppress-progress"),
    }
    seconds = {}
    try:
        stack.run("state", "unprotect", "--all", "--yes", check=False)
        for label, args in steps.items():
            started = time.perf_counter()
            if label == "destroy":
                stack.run("state", "unprotect", "--all", "--yes", check=False)
            stack.run(*args)
            seconds[label] = time.perf_counter() - started
            print(f"[bench] {label}: {seconds[label]:.1f} s", flush=True)
    finally:
        stack.release_everything()
    create = seconds["up (create)"]
    print(json.dumps({"machine": f"{platform.machine()}, {subprocess.getoutput('nproc')} cores",
                      "seconds": {k: round(v, 1) for k, v in seconds.items()},
                      "ratio_to_create": {k: round(v / create, 2) for k, v in seconds.items()}}, indent=2))


if __name__ == "__main__":
    main()
