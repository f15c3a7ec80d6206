#!/usr/bin/env bash
# `make down`: destroy the local stack. Data volumes are protected and kept unless RELEASE_DATA=1.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK=${STACK:-local}
bash scripts/engine.sh >/dev/null
# shellcheck source=scripts/pulumi-env.sh
source scripts/pulumi-env.sh
export PATH="$PWD/.venv/bin:$PATH"
if ! pulumi stack select "$STACK" --non-interactive 2>/dev/null; then
    echo "no stack $STACK: nothing to destroy"; exit 0
fi
if [ "${RELEASE_DATA:-0}" = 1 ]; then
    echo "RELEASE_DATA=1: data volumes are released and will be deleted"
    pulumi config set --stack "$STACK" rae:releaseData true
    pulumi up --yes --non-interactive --stack "$STACK" --skip-preview --suppress-progress
fi
pulumi destroy --yes --non-interactive --stack "$STACK" --skip-preview --suppress-progress --exclude-protected
if [ "${RELEASE_DATA:-0}" = 1 ]; then
    # The release was for this destroy only: the next `make up` protects its data again.
    pulumi config rm --stack "$STACK" rae:releaseData
else
    echo "kept: protected data volumes (run RELEASE_DATA=1 make down to delete them)"
fi
