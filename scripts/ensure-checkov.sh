#!/usr/bin/env bash
# Provide checkov in its own virtual environment (.tools/checkov-venv) from the hash-pinned
# requirements-checkov.lock. It cannot share .venv: checkov 3.3.30 pins packaging<24, pulumi needs >=26.
# The gate calls it as a subprocess, offline (--skip-download, BC_SKIP_MAPPING=TRUE).
#   bash scripts/ensure-checkov.sh          install or refresh when the lock changed
#   bash scripts/ensure-checkov.sh --lock   re-resolve the lock from requirements-checkov.in (needs uv)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
venv=.tools/checkov-venv

if [ "${1:-}" = "--lock" ]; then
    lockenv=$(mktemp -d)
    "$PYTHON" -m venv "$lockenv"
    "$lockenv/bin/pip" install --quiet uv==0.13.8
    "$lockenv/bin/uv" pip compile --generate-hashes --python-version 3.11 \
        -o requirements-checkov.lock requirements-checkov.in
    rm -rf "$lockenv"
fi

stamp=$venv/.lock-sha256
want=$(sha256sum requirements-checkov.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$venv/bin/checkov" ]; then
    echo "[checkov] ready: $("$venv/bin/checkov" --version)"
    exit 0
fi
echo "[checkov] creating $venv from requirements-checkov.lock (hash-checked; takes about a minute)"
mkdir -p .tools
"$PYTHON" -m venv --clear "$venv"
"$venv/bin/python" -m pip install --progress-bar off --disable-pip-version-check --require-hashes --no-deps \
    -r requirements-checkov.lock | grep -E '^(Collecting|Successfully)' | sed 's/^/[checkov] /' | tail -3
echo "$want" > "$stamp"
echo "[checkov] ready: $("$venv/bin/checkov" --version)"
