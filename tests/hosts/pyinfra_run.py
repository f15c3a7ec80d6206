"""Run the pyinfra CLI (its native interface) on an inventory file outside hosts/ and read its JSON report.

The inventory is a plain Python file written into the test's own directory, as an operator keeps a fleet
inventory of their own: pyinfra finds no group_data beside it, so whatever policy the run has comes from the
host data in the file and from the deploy itself.
"""

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYINFRA = Path(sys.executable).parent / "pyinfra"
NODE1_DEPLOY = "hosts/deploys/node1.py"


def _own_name(operation: dict) -> str:
    # pyinfra names an operation inside a deploy "Deploy name | operation name"
    return operation["name"].split(" | ")[-1]


@dataclass
class PyinfraRun:
    """Exit code, the --json payload (plan, results) and the log pyinfra printed."""

    returncode: int
    payload: dict
    log: str
    seconds: float = 0.0

    def changed(self, host: str) -> list[str]:
        """Names of the operations that changed (or, in a dry run, would change) host."""
        if self.payload.get("results"):
            return [_own_name(op) for op in self.payload["results"]["operations"] if host in op["success"]]
        return [_own_name(op) for op in self.payload.get("plan", []) if host in op["hosts_with_change"]]

    def failed_hosts(self) -> list[str]:
        results = self.payload.get("results") or {}
        return results.get("failed_hosts", [])

    def succeeded(self, host: str) -> bool:
        """host ran every operation without error."""
        results = self.payload.get("results") or {}
        return bool(results) and host not in results.get("failed_hosts", []) and not any(
            host in op["error"] for op in results["operations"])


def run_pyinfra(groups: dict, work_dir: Path, *options: str, deploy: str = NODE1_DEPLOY,
                timeout: float = 1800) -> PyinfraRun:
    """Run `pyinfra WORK_DIR/inventory.py DEPLOY [-y] -v --json OPTIONS`, echoing pyinfra's progress to stderr.

    + groups: {"group": [(host name, host data), ...]} written as the inventory file
    + work_dir: where the inventory file is written (outside hosts/)
    + options: extra CLI options, e.g. "--dry", "--parallel", "5"
    + timeout: seconds before the run is killed (an AssertionError says which budget was exceeded)
    """
    inventory = work_dir / "inventory.py"
    inventory.write_text("".join(f"{group} = {[tuple(member) for member in members]!r}\n"
                                 for group, members in groups.items()))
    inventory.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # -y skips pyinfra's change detection, which is what a dry run reports: only real runs get it
    confirm = [] if "--dry" in options else ["-y"]
    command = [str(PYINFRA), str(inventory), deploy, *confirm, "-v", "--json", *options]
    report = work_dir / "pyinfra-report.json"
    started = time.monotonic()
    with report.open("w") as stdout_file:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=stdout_file, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        log_lines = []
        try:
            for line in process.stderr:
                log_lines.append(line)
                print(f"[pyinfra] {line}", end="", file=sys.stderr, flush=True)
            process.wait()
        finally:
            watchdog.cancel()
    elapsed = time.monotonic() - started
    print(f"[pyinfra] run took {elapsed:.0f} s (budget {timeout:.0f} s)", file=sys.stderr, flush=True)
    if elapsed >= timeout:
        raise AssertionError(f"pyinfra exceeded its {timeout:.0f} s budget and was killed:\n{''.join(log_lines)[-3000:]}")
    stdout = report.read_text()
    try:
        payload = json.loads(stdout) if stdout.strip() else {}
    except json.JSONDecodeError:
        payload = {"unparsed_stdout": stdout}
    return PyinfraRun(process.returncode, payload, "".join(log_lines), elapsed)
