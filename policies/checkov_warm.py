"""checkov started before its input exists: run in checkov's own virtual environment, this imports checkov and every
runner with its built-in checks (about half of a small scan's time), then waits for one request on stdin and runs
checkov's command line on it, exactly as the `checkov` entry point would. One process scans one request and exits:
the custom checks read the stack's declared context when they are loaded, so a process is never reused.

The gate starts one while the Pulumi program renders and hands it the plan when the graph is ready
(policies.gate.WarmCheckov). Request, one JSON line: {"argv": [...], "cwd": "...", "env": {...}}; stdout and the exit
code are checkov's. Stdin closed without a request: exit 0, nothing scanned.
"""

import gc
import json
import os
import sys
import warnings

from checkov.main import Checkov  # the slow part: every runner and its checks

# What is loaded now lives until the scan ends: the collector need not rescan it, and collects rarely (a scan keeps
# its graph alive to the end). A fifth of a 1,000-resource plan scan went to collections at CPython's defaults;
# the findings do not change (tests/policy/test_warm_checkov.py).
gc.freeze()
gc.set_threshold(50_000, 50, 100)


def main() -> int:
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    argv = list(request["argv"])
    sys.argv = [os.path.join(os.path.dirname(sys.executable), "checkov"), *argv]  # as the entry point sees it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        return Checkov(argv).run() or 0


if __name__ == "__main__":
    sys.exit(main())
