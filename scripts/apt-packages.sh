#!/usr/bin/env bash
# Debian packages the toolkit's scripts and tests use. One apt transaction, skipped when all are present.
set -euo pipefail
packages=(
    docker.io debootstrap qemu-system-x86 qemu-utils cryptsetup-bin e2fsprogs openssh-client
    nftables iproute2 openssl postgresql-client graphviz chromium socat
)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "[apt] all ${#packages[@]} packages present"; exit 0; fi
echo "[apt] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[apt] done"
