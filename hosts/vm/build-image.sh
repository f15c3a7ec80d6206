#!/usr/bin/env bash
# Build the Node1 test VM (a Debian 12 guest for qemu) into .tools/vm/ (git-ignored):
#   disk.img        the node's system disk as an installer leaves a UEFI machine: GPT, an EFI system partition
#                   (vfat, mounted at /boot/efi) holding GRUB's EFI binary at the removable-media path, and an ext4
#                   root with /boot/grub. hosts/vm/boot.py boots it with UEFI firmware (OVMF), so the node's own
#                   boot loader and its grub.cfg (which the deploy regenerates with update-grub) start the kernel.
#                   The root is a Debian install with the deploy's packages present EXCEPT those that
#                   change the node's environment mid-run (PAM, sudo's session, sshd restarts: fetched_by_deploy
#                   below); the suite's first deploy installs those itself from Debian's mirror through qemu's
#                   user-mode NAT, as on a freshly installed node. Its apt sources name the main and updates
#                   suites but not the security suite, which the deploy adds (Lynis PKGS-7388).
#   data-luks.img   LUKS2 (cipher and key size from baseline.LUKS), opened at the first boot with a key file baked
#                   into the image (the installer's stand-in: the suite binds the volume to tang with that key, then
#                   removes the file and its unit before the node's first reboot, so later boots open it through tang)
#                   and mounted above baseline.LUKS.data_paths; data-luks.uuid holds its LUKS UUID
#   data-plain.img  an unencrypted disk, mounted at /srv/plain, for the "data not encrypted" test
#   admin_ed25519   the test operator's key (user "admin", sudo); root login is what the deploy disables
#   host_ed25519    the guest's Ed25519 host key, generated here, so tests check it strictly
# Cached: nothing is rebuilt while disk.img exists and the inputs (this script, the package lists) are unchanged.
# Env: NODE1_MIRROR overrides the Debian mirror (default: the first Debian mirror of this host's apt sources).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.tools/vm
mkdir -p .tools
# Several test sessions may call this at once (the VM fixture does): one builds, the others wait.
exec 9>.tools/vm-image.lock
flock 9
say() { printf '[vm-image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

python=.venv/bin/python; [ -x "$python" ] || python=python3
read_baseline() { PYTHONPATH=. "$python" -c "import os; from baseline import JOURNALD, LUKS, PACKAGES; print($1)"; }
# Packages a bare node lacks and the first deploy installs mid-run, each changing what the rest of the run
# meets: libpam-tmpdir gives sudo sessions a private TMPDIR (uploads), libpam-pwquality rewrites the PAM password
# stack, needrestart restarts services (sshd among them) after package installs. The slow post-install scripts
# (aide, rkhunter) and the journal uploader (about 10 minutes of a loaded first apply) stay in the image:
# benchmarks/hosts.md measures the full bare-node apply instead. So do the backup timers' packages (restic,
# python3-venv: installed by the deploy, python3-venv took about 6 minutes under TCG, byte-compiling the upgraded
# standard library).
fetched_by_deploy="libpam-tmpdir libpam-pwquality needrestart"
backup_packages=$(PYTHONPATH=. "$python" -c "from hosts.backup_toolkit import NODE_PACKAGES; print(','.join(NODE_PACKAGES))")
# clevis for the network-bound unlock the deploy binds (hosts/network_unlock.py): installed like the backup packages
unlock_packages=$(PYTHONPATH=. "$python" -c "from hosts.network_unlock import PACKAGES; print(','.join(PACKAGES))")
deploy_packages=$(read_baseline "\",\".join(p for p in PACKAGES.required + PACKAGES.integrity_tools + (JOURNALD.upload_package,) if p not in '$fetched_by_deploy'.split())"),$backup_packages,$unlock_packages
luks_cipher=$(read_baseline 'LUKS.allowed_ciphers[0]')
luks_key_bits=$(read_baseline 'LUKS.min_key_bits')
luks_mount=$(read_baseline 'os.path.commonpath(list(LUKS.data_paths.values()))')
boot_packages=systemd-sysv,openssh-server,linux-image-amd64,grub-efi-amd64,dosfstools,cryptsetup,dmsetup,udev,iproute2,kmod,procps,dbus,e2fsprogs,less

mirror=${NODE1_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
          2>/dev/null | grep -v '^ *#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)}
[ -n "$mirror" ] || { echo "no Debian mirror in this host's apt sources; set NODE1_MIRROR" >&2; exit 1; }

inputs=$(printf '%s\n' "$(sha256sum < "$0")" "$deploy_packages" "$mirror" "$luks_cipher $luks_key_bits $luks_mount" "$boot_packages" \
         | sha256sum | cut -d' ' -f1)
if [ -f "$out/disk.img" ] && [ "$(cat "$out/inputs.sha256" 2>/dev/null)" = "$inputs" ]; then
    say "image up to date ($out/disk.img), nothing to do"; exit 0
fi

# a debootstrap that failed half-way leaves proc/sys mounted inside the tree
findmnt -rn -o TARGET | grep "^$PWD/$out/rootfs/" | sort -r | xargs -r -n1 umount -l || true
rm -rf "$out/rootfs" "$out/inputs.sha256"
mkdir -p "$out"
# The debootstrap tree is cached on its own (keyed by the package list), so changing the guest's
# configuration below rebuilds in seconds instead of minutes.
packages_key=$(printf '%s\n' "$boot_packages" "$deploy_packages" | sha256sum | cut -d' ' -f1)
if [ -f "$out/debootstrap.tar" ] && [ "$(cat "$out/debootstrap.key" 2>/dev/null)" = "$packages_key" ]; then
    say "unpacking the cached debootstrap tree"
    mkdir -p "$out/rootfs"; tar -C "$out/rootfs" -xf "$out/debootstrap.tar"
else
    say "debootstrap Debian 12 (minbase + boot + deploy packages), about 2-4 minutes"
    debootstrap --variant=minbase --include="$boot_packages,$deploy_packages" bookworm "$out/rootfs" "$mirror" \
        | while read -r line; do case $line in *Retrieving*|*Validating*|*Extracting*|*Unpacking*) ;; *) say "  $line";; esac; done
    tar -C "$out/rootfs" -cf "$out/debootstrap.tar" .
    echo "$packages_key" > "$out/debootstrap.key"
fi
rootfs=$out/rootfs
in_guest() { chroot "$rootfs" "$@"; }

say "guest system: hostname, network (eth0 DHCP via systemd-networkd, qemu's DNS), apt sources without security"
echo node1 > "$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 node1\n' > "$rootfs/etc/hosts"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" > "$rootfs/etc/apt/sources.list"
# qemu's user-mode network answers DNS at 10.0.2.3 (forwarded to this host's resolver)
echo 'nameserver 10.0.2.3' > "$rootfs/etc/resolv.conf"
# No translated package descriptions: they double what apt-get update downloads through qemu's slow NAT
echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/99no-translations"
printf '[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n' > "$rootfs/etc/systemd/network/10-eth0.network"
in_guest systemctl enable systemd-networkd >/dev/null 2>&1
in_guest systemctl disable apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true

say "admin user with the test key and sudo; root password locked"
# Keys survive rebuilds: a VM another test session booted from the previous image stays reachable.
[ -f "$out/admin_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C node1-test-admin -f "$out/admin_ed25519"
in_guest useradd --create-home --shell /bin/bash --groups sudo admin
in_guest passwd --lock root >/dev/null
install -d -m 0700 "$rootfs/home/admin/.ssh"
install -m 0600 "$out/admin_ed25519.pub" "$rootfs/home/admin/.ssh/authorized_keys"
in_guest chown -R admin:admin /home/admin/.ssh
echo 'admin ALL=(ALL) NOPASSWD:ALL' > "$rootfs/etc/sudoers.d/admin"; chmod 0440 "$rootfs/etc/sudoers.d/admin"

say "guest ed25519 host key generated here (the package's RSA/ECDSA keys stay: the deploy removes them)"
[ -f "$out/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C node1 -f "$out/host_ed25519"
install -m 0600 "$out/host_ed25519" "$rootfs/etc/ssh/ssh_host_ed25519_key"
install -m 0644 "$out/host_ed25519.pub" "$rootfs/etc/ssh/ssh_host_ed25519_key.pub"

say "data disk: LUKS2 $luks_cipher, $luks_key_bits-bit key, opened at boot, mounted at $luks_mount"
rm -f "$out/data-luks.img" "$out/data-plain.img" "$out/data.key"
truncate -s 96M "$out/data-luks.img"
(umask 077; head -c 64 /dev/urandom > "$out/data.key")
# A small argon2id memory cost so the 1 GiB guest opens the volume quickly under software emulation.
cryptsetup luksFormat --batch-mode --type luks2 --cipher "$luks_cipher" --key-size "$luks_key_bits" \
    --pbkdf argon2id --pbkdf-memory 65536 --pbkdf-force-iterations 4 --key-file "$out/data.key" "$out/data-luks.img"
luks_uuid=$(cryptsetup luksUUID "$out/data-luks.img")
echo "$luks_uuid" > "$out/data-luks.uuid"
install -d -m 0700 "$rootfs/etc/cryptsetup-keys.d"
install -m 0400 "$out/data.key" "$rootfs/etc/cryptsetup-keys.d/srvdata.key"
# Opened by a oneshot unit rather than crypttab: in this minimal guest the dm device never becomes a
# systemd .device unit under software emulation, so a crypttab/fstab mount would block the boot forever.
# The unit runs after udevd and its coldplug (earlier consoles show it starting before udevd, where cryptsetup's
# device node and the mkfs/mount after it can race udevd coming up on a loaded host), each step is idempotent, udev is settled before
# the mapping is used, and a hung step fails the unit after TimeoutStartSec. It is not ordered before sshd: SSH
# answers while the disk opens, and the VM fixture (tests/fixtures/vm.py) waits for the mount within a budget and
# reports the unit's state and journal when it is not reached.
cat > "$rootfs/etc/systemd/system/srv-data-open.service" <<UNIT
[Unit]
Description=Open the LUKS data disk and mount it at $luks_mount
DefaultDependencies=no
Wants=systemd-udevd.service
After=local-fs.target systemd-udevd.service systemd-udev-trigger.service

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=600
ExecStart=/bin/sh -c 'cryptsetup status srvdata >/dev/null || cryptsetup open --key-file /etc/cryptsetup-keys.d/srvdata.key /dev/vdb srvdata'
ExecStart=/bin/udevadm settle --timeout=300
ExecStart=/bin/sh -c 'test -b /dev/mapper/srvdata || { echo "/dev/mapper/srvdata missing after udev settled" >&2; exit 1; }'
ExecStart=/bin/sh -c 'blkid /dev/mapper/srvdata || mkfs.ext4 -q /dev/mapper/srvdata'
ExecStart=/bin/sh -c 'mountpoint -q $luks_mount || mount -o nodev,nosuid /dev/mapper/srvdata $luks_mount'

[Install]
WantedBy=multi-user.target
UNIT
in_guest systemctl enable srv-data-open.service >/dev/null 2>&1
truncate -s 64M "$out/data-plain.img"
mkfs.ext4 -q -L plaindata "$out/data-plain.img"
mkdir -p "$rootfs$luks_mount" "$rootfs/srv/plain"
# The system disk's file systems get their identities here, so fstab and GRUB can name them as an installer's do.
root_uuid=$(cat /proc/sys/kernel/random/uuid)
esp_id=$(head -c 4 /dev/urandom | od -An -tx4 | tr -d ' ' | tr a-f A-F)
esp_uuid="${esp_id:0:4}-${esp_id:4:4}"
cat > "$rootfs/etc/fstab" <<FSTAB
UUID=$root_uuid / ext4 defaults,errors=remount-ro 0 1
UUID=$esp_uuid /boot/efi vfat umask=0077 0 1
LABEL=plaindata /srv/plain ext4 defaults,nodev,nosuid,nofail 0 2
FSTAB
mkdir -p "$rootfs/boot/efi"

say "boot loader: GRUB for x86_64-efi, its modules in /boot/grub, grub.cfg as a first install leaves it"
# Debian's own defaults plus what a serial-console node needs (kernel messages on the console the tests read, not
# "quiet"); the deploy adds its parameters through grub.d.
install -d "$rootfs/etc/default/grub.d"
cat > "$rootfs/etc/default/grub.d/10-node1-console.cfg" <<GRUB
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX="console=ttyS0 net.ifnames=0"
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"
GRUB
# What grub-install does, without probing this host's devices from inside a chroot: the modules and their lists
# under /boot/grub, and an EFI image whose embedded configuration finds the root by UUID and sets the prefix there.
# As in grub-install's image, the embedded configuration ends there and GRUB's normal mode then reads
# $prefix/grub.cfg: normal mode reads the module lists of that prefix first (command.lst: the commands it loads on
# first use). A `configfile` in the embedded configuration would read grub.cfg nested, without those lists, and
# every command not built into the image would be missing: the deploy's `password_pbkdf2` (baseline.BOOTLOADER)
# failed with "can't find command" at every boot, leaving the superuser without a password.
install -d "$rootfs/boot/grub/x86_64-efi"
cp "$rootfs"/usr/lib/grub/x86_64-efi/*.mod "$rootfs"/usr/lib/grub/x86_64-efi/*.lst "$rootfs/boot/grub/x86_64-efi/"
cat > "$rootfs/tmp/early.cfg" <<EARLY
search --no-floppy --fs-uuid --set=root $root_uuid
set prefix=(\$root)/boot/grub
EARLY
in_guest grub-mkimage -O x86_64-efi -c /tmp/early.cfg -p /boot/grub -o /tmp/BOOTX64.EFI \
    part_gpt part_msdos ext2 fat search search_fs_uuid configfile normal linux echo test gzio serial terminal
mv "$rootfs/tmp/BOOTX64.EFI" "$out/BOOTX64.EFI"; rm -f "$rootfs/tmp/early.cfg"
kernel=$(basename "$rootfs"/boot/vmlinuz-*); kernel_version=${kernel#vmlinuz-}
# grub-mkconfig cannot run in a chroot (it probes the device of /); the node's first `update-grub` (the deploy's,
# when it adds the audit parameters) replaces this file with the generated one.
cat > "$rootfs/boot/grub/grub.cfg" <<CFG
set timeout=1
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry 'Debian GNU/Linux' {
    insmod part_gpt
    insmod ext2
    search --no-floppy --fs-uuid --set=root $root_uuid
    linux /boot/vmlinuz-$kernel_version root=UUID=$root_uuid ro console=ttyS0 net.ifnames=0
    initrd /boot/initrd.img-$kernel_version
}
CFG

say "system disk: GPT, EFI system partition (FAT32) and the ext4 root from the tree"
rm -f "$out/disk.img" "$out/root.img" "$out/vmlinuz" "$out/initrd.img" "$out/esp.part" "$out/root.part"
esp_mb=100
root_mb=$(( $(du -sm "$rootfs" | cut -f1) + 1024 ))
mkfs.vfat -C -F 32 -n EFI -i "$esp_id" "$out/esp.part" $(( esp_mb * 1024 ))
mmd -i "$out/esp.part" ::/EFI ::/EFI/BOOT
mcopy -i "$out/esp.part" "$out/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
rm -f "$out/BOOTX64.EFI"
mkfs.ext4 -q -L node1root -U "$root_uuid" -d "$rootfs" "$out/root.part" "${root_mb}M"
truncate -s $(( 1 + esp_mb + root_mb + 1 ))M "$out/disk.img"
sfdisk --quiet "$out/disk.img" <<PARTITIONS
label: gpt
start=1MiB, size=${esp_mb}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=EFI
start=$(( 1 + esp_mb ))MiB, size=${root_mb}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
PARTITIONS
dd if="$out/esp.part" of="$out/disk.img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$out/root.part" of="$out/disk.img" bs=1M seek=$(( 1 + esp_mb )) conv=notrunc,sparse status=none
rm -f "$out/esp.part" "$out/root.part"
echo "$inputs" > "$out/inputs.sha256"
say "done: $out/disk.img ($(( 2 + esp_mb + root_mb )) MiB), kernel $kernel_version, boots through UEFI and GRUB"
