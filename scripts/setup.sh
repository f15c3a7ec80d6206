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

# The Pulumi engine is a CPU-bound Go build, most of a cold setup (about 25 minutes on 2 cores); the image, checkov
# and VM-image steps mostly wait on the package mirrors, so they run beside it. Its progress lines keep their
# [engine] prefix; its whole output is also in build/logs/engine-setup.log. A failed step stops the build beside it.
step "Pulumi engine (built in the background while the next steps run)"
mkdir -p build/logs
bash scripts/engine.sh > >(tee build/logs/engine-setup.log) 2>&1 &
engine_pid=$!
stop_tree() {  # a process and everything it started (the engine's go builds)
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do stop_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
trap 'stop_tree "$engine_pid"' EXIT

step "container images (base from Debian packages, then Postgres and TLS proxy)"
bash scripts/build-images.sh
if [ "$profile" = test ]; then
    step "checkov (own virtual environment)"
    bash scripts/ensure-checkov.sh
    step "Node1 test VM image"
    bash hosts/vm/build-image.sh
fi
step "waiting for the Pulumi engine"
status=0
wait "$engine_pid" || status=$?
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "[setup] the Pulumi engine build failed (exit $status); last lines of build/logs/engine-setup.log:" >&2
    tail -30 build/logs/engine-setup.log >&2
    exit 1
fi
step "setup done ($profile)"
