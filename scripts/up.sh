#!/usr/bin/env bash
# `make up`: the local stack on this host, from nothing. Installs and starts the Docker engine, builds the
# base and service images, provides the Pulumi engine, then `pulumi up` of the `local` stack.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-local}
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

bash scripts/setup.sh up
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
export PATH="$PWD/.venv/bin:$PATH"

step "pulumi up (stack $STACK)"
pulumi stack select "$STACK" --create --non-interactive >/dev/null
pulumi up --yes --non-interactive --stack "$STACK" --skip-preview --suppress-progress
step "endpoints"
.venv/bin/python -m components.connect_info --stack "$STACK"
