#!/usr/bin/env bash
# Install and start the real parts the toolkit needs, on a fresh Debian machine. Idempotent: each step
# skips what is already in place, and prints its own progress.
#   setup.sh up     what `make up` needs: Docker engine, images, Pulumi engine
#   setup.sh test   that plus what the suites need: checkov's own venv and the Node1 test VM image (default)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-test}
case "$profile" in up|test) ;; *) echo "setup.sh: profile '$profile' is not one of: up, test" >&2; exit 2 ;; esac
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

step "apt packages"
bash scripts/apt-packages.sh "$profile"
step "Python environment (.venv from requirements.lock)"
bash scripts/bootstrap.sh
step "Docker engine"
bash scripts/ensure-docker.sh
step "container images (base from Debian packages, then Postgres and TLS proxy)"
bash scripts/build-images.sh
step "Pulumi engine"
bash scripts/engine.sh
if [ "$profile" = test ]; then
    step "checkov (own virtual environment)"
    bash scripts/ensure-checkov.sh
    step "Node1 test VM image"
    bash hosts/vm/build-image.sh
fi
step "setup done ($profile)"
