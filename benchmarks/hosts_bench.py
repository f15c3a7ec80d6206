"""Benchmark of the host deploys: first apply vs idempotent re-run on the Node1 VM, and N hosts in parallel vs one.

Figures are ratios of wall-clock times measured in one run on one machine, written to benchmarks/hosts.md.

    .venv/bin/python benchmarks/hosts_bench.py [--fleet-size 4]

Needs what the test suite needs (scripts/setup.sh): the VM image, a Docker engine and the base image.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hosts import connection  # noqa: E402
from hosts.fleet.containers import start_fleet  # noqa: E402
from hosts.vm import boot  # noqa: E402
from hosts.vm.collector import collector_tls, collector_url  # noqa: E402
from tests.hosts.pyinfra_run import run_pyinfra  # noqa: E402

OUTPUT = REPO / "benchmarks" / "hosts.md"
KEPT_SECTIONS = "## Node1 VM suite"  # sections from here on are measured otherwise; a re-run keeps them


def _timed(label: str, groups: dict, work: Path, *options: str) -> tuple[float, object]:
    print(f"[bench {time.strftime('%H:%M:%S')}] {label} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    run = run_pyinfra(groups, work, *options)
    elapsed = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"{label} failed (exit {run.returncode}); see the pyinfra log above")
    print(f"[bench] {label}: {elapsed:.1f} s", file=sys.stderr, flush=True)
    return elapsed, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet-size", type=int, default=4)
    size = parser.parse_args().fleet_size
    work = Path(tempfile.mkdtemp(prefix="hosts-bench-"))
    (work / "collector-tls").mkdir(mode=0o700)
    tls = collector_tls(work / "collector-tls")  # no collector answers: the uploader keeps retrying, as on a real node
    vm = boot.boot(work / "vm")
    try:
        node = connection.node("node1-vm", vm.host, port=vm.port, user=vm.user, key=str(vm.key_path),
                               known_hosts=str(vm.known_hosts_path), harden_scope="node",
                               firewall_ssh_interfaces=[boot.GUEST_INTERFACE],
                               firewall_ssh_exception=boot.ssh_exception(),
                               journal_upload_url=collector_url(boot.free_loopback_port()),
                               journal_upload_tls={role: str(tls[name]) for role, name in (
                                   ("key", "client.key"), ("certificate", "client.crt"), ("trusted_ca", "ca.crt"))})
        first, first_run = _timed("VM first apply", {"node1_vms": [node]}, work)
        rerun, rerun_run = _timed("VM idempotent re-run", {"node1_vms": [node]}, work)
    finally:
        vm.stop()
    client = docker.from_env()
    base_image = json.loads((REPO / "build" / "images.json").read_text())["base"]["id"]
    timings = {}
    for hosts in (1, size):
        fleet_dir = work / f"fleet-{hosts}"
        fleet_dir.mkdir()
        fleet = start_fleet(client, base_image, hosts, fleet_dir)
        try:
            timings[hosts], _ = _timed(f"{hosts} container host(s) in parallel", {"fleet": fleet.members}, fleet_dir,
                                       "--parallel", str(hosts))
        finally:
            fleet.remove()
    one, many = timings[1], timings[size]
    changed_first = len(first_run.changed("node1-vm"))
    changed_rerun = len(rerun_run.changed("node1-vm"))
    previous = OUTPUT.read_text() if OUTPUT.exists() else ""
    kept = previous[previous.index(KEPT_SECTIONS):] if KEPT_SECTIONS in previous else ""
    OUTPUT.write_text(f"""# Host deploy benchmarks

Measured by `benchmarks/hosts_bench.py` in one run on {platform.machine()}, {platform.system()} with
{os.cpu_count()} cores; the Node1 VM ran under {vm.accelerator.split(',')[0].upper()} (software emulation
when KVM is unusable). Ratios only: absolute times depend on the machine and its load.

| comparison | ratio | detail |
|---|---|---|
| idempotent re-run / first apply (VM) | {rerun / first:.2f} | first apply changed {changed_first} operations, re-run {changed_rerun} |
| {size} hosts in parallel / 1 host (sshd containers) | {many / one:.2f} | one `pyinfra --parallel {size}` run against {size} hosts vs the same deploy on 1 |

A ratio near 1 for N hosts means the fleet costs about as much wall-clock time as one host (pyinfra
runs each operation on all hosts concurrently); the re-run ratio shows what reading facts costs
when nothing needs to change.

Reproduce: `bash scripts/setup.sh && .venv/bin/python benchmarks/hosts_bench.py --fleet-size {size}`

""" + kept)
    print(OUTPUT.read_text())


if __name__ == "__main__":
    main()
