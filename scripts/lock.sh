#!/usr/bin/env bash
# Re-resolve requirements.lock (main venv) from pyproject.toml with hashes, using uv in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/uv" && "$tmp/uv/bin/pip" install --quiet uv==0.13.8
"$tmp/uv/bin/uv" pip compile pyproject.toml --python-version 3.11 --generate-hashes --quiet -o requirements.lock
echo "requirements.lock updated"
