#!/usr/bin/env bash
# Re-resolve requirements.lock (main venv) from pyproject.toml with hashes, using uv in a throwaway venv; and
# requirements-backup.lock (the node's backup venv: what `harden backup` imports) from requirements-backup.in.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/uv" && "$tmp/uv/bin/pip" install --quiet uv==0.13.8
"$tmp/uv/bin/uv" pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet -o requirements.lock
echo "requirements.lock updated"
# The node's lock: the main lock's versions (a constraint), for Debian 12's CPython 3.11 on x86_64
"$tmp/uv/bin/uv" pip compile requirements-backup.in --python-version 3.11 --python-platform x86_64-manylinux_2_36 \
    --generate-hashes --quiet --constraint requirements.lock --custom-compile-command "bash scripts/lock.sh" \
    -o requirements-backup.lock
echo "requirements-backup.lock updated"
