"""Boot the Node1 test VM (built by hosts/vm/build-image.sh) under qemu and wait until its sshd answers.

Disks are attached with snapshot=on, so every boot starts from the freshly built, unhardened image. The machine
boots as a UEFI node does: OVMF firmware, then GRUB from the disk's EFI system partition, then the node's grub.cfg.
KVM is used when it works; where `-enable-kvm` hangs (nested or restricted hosts) the firmware never
writes to the console, so after a short wait the VM is restarted under software emulation (TCG).

    python -m hosts.vm.boot            # boots, prints host/port/key/known_hosts, waits for Ctrl-C
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO / ".tools" / "vm"
OVMF_DIR = Path("/usr/share/OVMF")  # Debian's ovmf package
ADMIN_USER = "admin"
GUEST_INTERFACE = "eth0"  # the build script pins classic names (net.ifnames=0 below)
GUEST_GATEWAY = "10.0.2.2"  # qemu's user network: connections forwarded to the guest come from here


def ssh_exception(interface: str = GUEST_INTERFACE, days: int = 30) -> dict:
    """Host data firewall_ssh_exception for the test VM: SSH arrives on its only NIC through qemu's user network, not
    over Tailscale, so the VM's inventory declares that deviation as an operator must (hosts.desired)."""
    return {"interfaces": [interface], "reason": "test VM: SSH arrives through qemu's user network, no Tailscale",
            "owner": "toolkit test suite", "expires": (date.today() + timedelta(days=days)).isoformat()}
KVM_PROBE_SECONDS = 15
SSH_WAIT_SECONDS = 600


@dataclass
class RunningVM:
    """A booted VM: where its sshd listens and how a client trusts it."""

    host: str
    port: int
    user: str
    key_path: Path
    known_hosts_path: Path
    console_log: Path
    accelerator: str
    process: subprocess.Popen

    def stop(self) -> None:
        """Power the VM off (its disks are snapshots: nothing is kept)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _say(message: str) -> None:
    print(f"[vm {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_loopback_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _kvm_usable() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR))
        return True
    except OSError:
        return False


def _firmware(run_dir: Path) -> list[str]:
    """UEFI firmware as two flash chips, like a physical board's: Debian's OVMF code (read-only) and a copy of its
    empty variable store for this boot. The firmware finds GRUB at the removable-media path of the disk's EFI system
    partition, as it does on a node whose boot entries were never written."""
    code, variables = OVMF_DIR / "OVMF_CODE_4M.fd", OVMF_DIR / "OVMF_VARS_4M.fd"
    for needed in (code, variables):
        if not needed.exists():
            raise RuntimeError(f"UEFI firmware missing ({needed}): install Debian's ovmf package (scripts/apt-packages.sh)")
    store = run_dir / "OVMF_VARS.fd"
    if not store.exists():  # kept across a reboot of the same VM, as NVRAM is
        shutil.copyfile(variables, store)
    return ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={store}"]


USB_STICK_SERIAL = "RAESTICK0001"


def _usb_stick(run_dir: Path) -> Path:
    stick = run_dir / "usb-stick.img"
    if not stick.exists():
        with open(stick, "wb") as blank:
            blank.truncate(8 << 20)
    return stick


def _qemu_command(accelerator: str, port: int, console_log: Path, memory_mb: int, run_dir: Path) -> list[str]:
    disks = ["disk.img", "data-luks.img", "data-plain.img"]
    command = [
        "qemu-system-x86_64", "-accel", accelerator, "-m", str(memory_mb), "-smp", "2",
        "-display", "none", "-monitor", "none", "-serial", f"file:{console_log}",
        # No -kernel: the firmware boots the disk's own GRUB, which reads the node's grub.cfg (the deploy's
        # update-grub writes the kernel parameters there, baseline.AUDITD), so a reboot tests what a node boots.
        *_firmware(run_dir),
        # no network boot ROM: the firmware boots the system disk (bootindex 0) and never tries PXE first
        "-netdev", f"user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:22", "-device", "virtio-net-pci,netdev=net0,romfile=",
        "-device", "virtio-rng-pci",
        # a USB bus as a physical node has one: a keyboard (HID, for the console) and a storage stick plugged in
        # before boot, which USBGuard (baseline.USB) must block once the deploy ran; the stick is a blank raw file of
        # this boot's own
        "-device", "qemu-xhci,id=usb", "-device", "usb-kbd,bus=usb.0",
        "-drive", f"file={_usb_stick(run_dir)},format=raw,if=none,id=usbstick",
        "-device", f"usb-storage,bus=usb.0,drive=usbstick,serial={USB_STICK_SERIAL}",
    ]
    for index, disk in enumerate(disks):
        boot_index = ",bootindex=0" if index == 0 else ""
        command += ["-drive", f"file={IMAGE_DIR / disk},format=raw,if=none,id=disk{index},snapshot=on",
                    "-device", f"virtio-blk-pci,drive=disk{index}{boot_index}"]
    return command


def _console_text(console_log: Path) -> str:
    return console_log.read_text(errors="replace") if console_log.exists() else ""


def _sshd_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.settimeout(10)
            return connection.recv(64).startswith(b"SSH-2.0")
    except OSError:
        return False


def _start(accelerator: str, run_dir: Path, memory_mb: int) -> tuple[subprocess.Popen, int, Path]:
    port = free_loopback_port()
    console_log = run_dir / "console.log"
    console_log.unlink(missing_ok=True)
    process = subprocess.Popen(_qemu_command(accelerator, port, console_log, memory_mb, run_dir),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return process, port, console_log


def boot(run_dir: Path, memory_mb: int = 2048) -> RunningVM:
    """Boot the VM and return once sshd sends its banner; raises RuntimeError with the console tail otherwise.

    + run_dir: where the console log and the known_hosts file (with this boot's port) are written
    + memory_mb: guest memory
    """
    for needed in ("disk.img", "admin_ed25519", "host_ed25519.pub"):
        if not (IMAGE_DIR / needed).exists():
            raise RuntimeError(f"VM image incomplete ({IMAGE_DIR / needed} missing): run bash hosts/vm/build-image.sh")
    run_dir.mkdir(parents=True, exist_ok=True)
    accelerator = "tcg,thread=multi"
    if _kvm_usable():
        process, port, console_log = _start("kvm", run_dir, memory_mb)
        deadline = time.monotonic() + KVM_PROBE_SECONDS
        while time.monotonic() < deadline and not _console_text(console_log).strip():
            time.sleep(0.5)
        if _console_text(console_log).strip():
            accelerator = "kvm"
        else:
            _say(f"KVM gave no console output within {KVM_PROBE_SECONDS} s: falling back to software emulation (TCG)")
            process.kill()
            process.wait()
    if accelerator != "kvm":
        process, port, console_log = _start(accelerator, run_dir, memory_mb)
    _say(f"booting under {accelerator.split(',')[0]}, sshd forwarded to 127.0.0.1:{port}, console {console_log}")
    started = time.monotonic()
    last_report = started
    while not _sshd_banner(port):
        if process.poll() is not None:
            raise RuntimeError(f"qemu exited ({process.returncode}): {process.stderr.read().decode(errors='replace')}")
        if time.monotonic() - started > SSH_WAIT_SECONDS:
            process.kill()
            tail = _console_text(console_log)[-2000:]
            raise RuntimeError(f"VM sshd did not answer within {SSH_WAIT_SECONDS} s; console tail:\n{tail}")
        if time.monotonic() - last_report > 10:
            lines = _console_text(console_log).strip().splitlines()
            _say(f"waiting for sshd ({time.monotonic() - started:.0f} s): {lines[-1][:100] if lines else 'no console yet'}")
            last_report = time.monotonic()
        time.sleep(1)
    _say(f"sshd answered after {time.monotonic() - started:.0f} s")
    known_hosts = run_dir / "known_hosts"
    host_key = (IMAGE_DIR / "host_ed25519.pub").read_text().split()[:2]
    known_hosts.write_text(f"[127.0.0.1]:{port} {' '.join(host_key)}\n")
    return RunningVM(host="127.0.0.1", port=port, user=ADMIN_USER, key_path=IMAGE_DIR / "admin_ed25519",
                     known_hosts_path=known_hosts, console_log=console_log, accelerator=accelerator,
                     process=process)


if __name__ == "__main__":
    vm = boot(REPO / ".tools" / "vm" / "run")
    print(f"host={vm.host} port={vm.port} user={vm.user} key={vm.key_path} known_hosts={vm.known_hosts_path}")
    try:
        vm.process.wait()
    except KeyboardInterrupt:
        vm.stop()
