#!/usr/bin/env bash
# Every benchmark, one after another; each prints its ratios. The cold engine build (20+ minutes on a loaded
# 2-core machine) runs only with ENGINE=1. Figures and how to read them: benchmarks/*.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m benchmarks.stack_bench
.venv/bin/python benchmarks/gate_bench.py --repeat 3 10 100 1000
.venv/bin/python benchmarks/hosts_bench.py --fleet-size 4
.venv/bin/python -m benchmarks.audit_bench --hosts 8 --repeat 3 -- --no-containers
.venv/bin/python -m benchmarks.backup_bench --gib 1
if [ "${ENGINE:-0}" = 1 ]; then bash benchmarks/engine_build.sh; fi
