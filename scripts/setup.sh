#!/usr/bin/env bash
# Install and start every real part the toolkit and its tests need, on a fresh Debian machine.
# Idempotent: each step skips what is already in place. Steps print their own progress.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

step "apt packages"
bash scripts/apt-packages.sh test
step "Python environment (.venv from requirements.lock)"
bash scripts/bootstrap.sh
step "Docker engine"
bash scripts/ensure-docker.sh
step "container images (base from Debian packages, then Postgres and TLS proxy)"
bash scripts/build-images.sh
step "Pulumi engine"
bash scripts/engine.sh
step "checkov (own virtual environment)"
bash scripts/ensure-checkov.sh
step "Node1 test VM image"
bash hosts/vm/build-image.sh
step "setup done"
