#!/usr/bin/env bash
# Create .venv from the hash-pinned lock and install this project into it (editable, no dependencies).
# Re-running is cheap: pip only installs what the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
    echo "[bootstrap] creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.lock-sha256
want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "[bootstrap] installing requirements.lock (hash-checked)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$want" > "$stamp"
fi
echo "[bootstrap] .venv ready: $(.venv/bin/python -c 'import pulumi, pyinfra; print("pulumi", pulumi.__version__ if hasattr(pulumi, "__version__") else "sdk", "pyinfra", pyinfra.__version__)' 2>/dev/null || echo 'import check failed')"
