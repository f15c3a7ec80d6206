"""Is a host path stored on an encrypted (dm-crypt/LUKS) block device? Read from the kernel, not assumed.

Pure Python, no Pulumi import: the Pulumi `EncryptedVolume` refuses an unencrypted host path with it at
deploy time, and the host deploys and the audit can read the same fact on Node1.

The path's filesystem is found in /proc/self/mountinfo (longest mount point containing the path), its
block device in /sys/dev/block/MAJOR:MINOR, and the device counts as encrypted when it, or a device it
is stacked on (LVM on LUKS), is a device-mapper target whose dm/uuid starts with CRYPT-LUKS.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from baseline import LUKS, require

_LUKS_UUID_PREFIX = "CRYPT-LUKS"


@dataclass(frozen=True)
class BlockDeviceStatus:
    """What backs a host path: its mount point, filesystem, device chain and whether any layer is LUKS."""

    path: str
    mount_point: str
    fstype: str
    source: str
    devices: tuple[str, ...]
    luks_devices: tuple[str, ...]

    @property
    def encrypted(self) -> bool:
        return bool(self.luks_devices)

    def describe(self) -> str:
        chain = " -> ".join(self.devices) or "no block device"
        verdict = f"LUKS on {', '.join(self.luks_devices)}" if self.encrypted else "NOT encrypted"
        return f"{self.path}: {self.fstype} {self.source} mounted on {self.mount_point} ({chain}): {verdict}"


@dataclass(frozen=True)
class _Mount:
    mount_point: str
    major_minor: str
    fstype: str
    source: str


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    return field.encode().decode("unicode_escape") if "\\" in field else field


def _mounts(mountinfo: str) -> list[_Mount]:
    mounts = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        separator = fields.index("-")
        mounts.append(_Mount(_unescape(fields[4]), fields[2], fields[separator + 1], _unescape(fields[separator + 2])))
    return mounts


def _resolved(path: Path) -> Path:
    """Symlinks of the existing part resolved; a volume directory that does not exist yet keeps its tail."""
    path = Path(os.path.abspath(path))
    existing, missing = path, []
    while not existing.exists() and existing != existing.parent:
        missing.insert(0, existing.name)
        existing = existing.parent
    return existing.resolve().joinpath(*missing)


def _containing_mount(path: Path, mounts: list[_Mount]) -> _Mount:
    def contains(mount: _Mount) -> bool:
        return path == Path(mount.mount_point) or Path(mount.mount_point) in path.parents

    candidates = [mount for mount in mounts if contains(mount)]
    if not candidates:
        raise FileNotFoundError(f"no mount in mountinfo contains {path}")
    # The last of the longest mount points wins: later mounts shadow earlier ones on the same point.
    longest = max(len(Path(mount.mount_point).parts) for mount in candidates)
    return [mount for mount in candidates if len(Path(mount.mount_point).parts) == longest][-1]


def _device_chain(sys_device: Path) -> list[Path]:
    """The device and every device under it (dm slaves, recursively); a partition adds its parent disk."""
    chain, pending = [], [sys_device.resolve()]
    while pending:
        device = pending.pop(0)
        if device in chain:
            continue
        chain.append(device)
        slaves = device / "slaves"
        if slaves.is_dir():
            pending.extend(sorted(slave.resolve() for slave in slaves.iterdir()))
        if (device / "partition").exists():
            pending.append(device.parent)
    return chain


def _is_luks(sys_device: Path) -> bool:
    uuid_file = sys_device / "dm" / "uuid"
    return uuid_file.is_file() and uuid_file.read_text().strip().startswith(_LUKS_UUID_PREFIX)


def block_device_status(path, mountinfo: str | None = None, sys_root: Path = Path("/sys")) -> BlockDeviceStatus:
    """Resolve what stores `path` and whether it is encrypted.

    + path: a host path (need not exist yet: the mount that would hold it decides)
    + mountinfo: text of /proc/self/mountinfo (read from the kernel when None)
    + sys_root: where sysfs is mounted (a fixture tree in tests)

    Example: block_device_status("/srv/data/postgres").encrypted
    """
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    resolved = _resolved(Path(path))
    mount = _containing_mount(resolved, _mounts(mountinfo))
    sys_device = sys_root / "dev" / "block" / mount.major_minor
    chain = _device_chain(sys_device) if sys_device.exists() else []
    return BlockDeviceStatus(
        path=str(path),
        mount_point=mount.mount_point,
        fstype=mount.fstype,
        source=mount.source,
        devices=tuple(device.name for device in chain),
        luks_devices=tuple(device.name for device in chain if _is_luks(device)),
    )


def require_encrypted(path, mountinfo: str | None = None, sys_root: Path = Path("/sys")) -> BlockDeviceStatus:
    """Return the status of `path`, or raise BaselineViolation (A.8.24, A.7.10) when it is not on LUKS.

    + path, mountinfo, sys_root: as for block_device_status
    """
    status = block_device_status(path, mountinfo, sys_root)
    require(status.encrypted,
            f"data path {status.describe()}; put it on a LUKS2 (dm-crypt) device first",
            LUKS.controls("required_for"))
    return status
