#!/usr/bin/env bash
# The README's test command: install what the suites need, then run every suite. Nothing is skipped:
# a missing real part is installed by scripts/setup.sh, and a test that still cannot reach it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out/test
exec .venv/bin/python -m pytest -ra --durations=20 --timeout=1800 --junitxml=out/test/junit.xml "$@"
