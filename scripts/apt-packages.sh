#!/usr/bin/env bash
# Debian packages the toolkit needs, in one apt transaction, skipped when all are present.
#   apt-packages.sh up     what `make up` needs (Docker engine, image building, TLS tools, restic for backups)
#   apt-packages.sh test   that plus what the suites need (qemu VM, checkov's venv, Chromium, Graphviz,
#                          rclone as the append-only off-site restic server, clevis and tang for the network-bound
#                          disk unlock: the tang server of the control node and clevis binding a loop-device volume,
#                          systemd-journal-remote as the log collector the Node1 VM ships its journal to, ovmf as
#                          the VM's UEFI firmware and dosfstools/mtools/fdisk to build its GPT disk with an EFI
#                          system partition without mounting anything)
set -euo pipefail
group=${1:-test}
packages=(docker.io debootstrap openssl postgresql-client ca-certificates restic)
if [ "$group" = test ]; then
    packages+=(qemu-system-x86 qemu-utils cryptsetup-bin e2fsprogs openssh-client nftables iproute2
               graphviz chromium fonts-dejavu-core socat python3-venv rclone clevis clevis-luks tang systemd-journal-remote
               ovmf dosfstools mtools fdisk)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "[apt] all ${#packages[@]} packages present"; exit 0; fi
echo "[apt] installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[apt] done"
