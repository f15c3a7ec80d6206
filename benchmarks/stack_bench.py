"""Times of the local stack through the real engine, as ratios of one run: up (create), preview, up (no change),
refreshing preview, destroy. Uses its own `bench` stack (Pulumi.bench.yaml, git-ignored) on its own ports.

Reproduce: bash scripts/setup.sh && .venv/bin/python -m benchmarks.stack_bench
"""

import json
import platform
import subprocess
import time

import yaml

from tests.fixtures.stack import ROOT, PulumiStack

PORTS = {"rae:postgresPort": "25432", "rae:proxyPort": "28443"}


def main() -> None:
    data_root = ROOT / ".state" / "bench-data"
    stack = PulumiStack("bench", data_root)
    stack.release_everything()
    config = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    config.pop("encryptionsalt", None)
    config["config"] |= {"rae:dataRoot": str(data_root)} | PORTS
    (ROOT / "Pulumi.bench.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    subprocess.run(["pulumi", "stack", "init", "bench", "--non-interactive"], cwd=ROOT, env=stack.env, check=True,
                   capture_output=True)
    steps = {
        "up (create)": ("up", "--yes", "--skip-preview", "--suppress-progress"),
        "preview (no change)": ("preview", "--expect-no-changes"),
        "up (no change)": ("up", "--yes", "--skip-preview", "--suppress-progress"),
        "preview --refresh": ("preview", "--refresh", "--expect-no-changes"),
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
