"""The LUKS check reads the kernel's view: fixture /sys trees for encrypted layouts, the real host for refusal."""

import os
from pathlib import Path

import pytest

from baseline import BaselineViolation
from components.block_device import block_device_status, require_encrypted

REPO = Path(__file__).resolve().parents[3]


def _device(sys_root: Path, major_minor: str, device_path: str, dm_uuid: str | None = None,
            slaves: tuple[str, ...] = (), partition: bool = False) -> Path:
    device = sys_root / "devices" / device_path
    device.mkdir(parents=True)
    if dm_uuid is not None:
        (device / "dm").mkdir()
        (device / "dm" / "uuid").write_text(dm_uuid + "\n")
    (device / "slaves").mkdir()
    for slave in slaves:
        (device / "slaves" / Path(slave).name).symlink_to(sys_root / "devices" / slave)
    if partition:
        (device / "partition").write_text("1\n")
    link = sys_root / "dev" / "block" / major_minor
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(device)
    return device


def _mountinfo(*mounts: tuple[str, str, str, str]) -> str:
    return "".join(f"{index} 1 {mm} / {point} rw,relatime - {fstype} {source} rw\n"
                   for index, (mm, point, fstype, source) in enumerate(mounts, start=20))


@pytest.fixture
def sys_tree(tmp_path: Path) -> Path:
    sys_root = tmp_path / "sys"
    _device(sys_root, "8:0", "pci/block/sda")
    _device(sys_root, "8:1", "pci/block/sda/sda1", partition=True)
    _device(sys_root, "253:0", "virtual/block/dm-0", dm_uuid="CRYPT-LUKS2-0123456789abcdef-data", slaves=("pci/block/sda",))
    _device(sys_root, "253:1", "virtual/block/dm-1", dm_uuid="LVM-abcdef", slaves=("virtual/block/dm-0",))
    _device(sys_root, "253:2", "virtual/block/dm-2", dm_uuid="LVM-plain", slaves=("pci/block/sda/sda1",))
    return sys_root


MOUNTS = _mountinfo(("8:1", "/", "ext4", "/dev/sda1"),
                    ("253:0", "/srv/data", "ext4", "/dev/mapper/data"),
                    ("253:1", "/srv/data/qdrant", "xfs", "/dev/mapper/vg-qdrant"),
                    ("253:2", "/srv/plain", "ext4", "/dev/mapper/vg-plain"),
                    ("0:44", "/srv/data/tmp", "tmpfs", "tmpfs"))


def test_a_path_on_luks_is_encrypted(sys_tree):
    status = block_device_status("/srv/data/postgres", MOUNTS, sys_tree)
    assert status.encrypted and status.luks_devices == ("dm-0",) and status.mount_point == "/srv/data"


def test_lvm_on_luks_counts_as_encrypted(sys_tree):
    status = block_device_status("/srv/data/qdrant/collections", MOUNTS, sys_tree)
    assert status.encrypted and status.devices[:2] == ("dm-1", "dm-0")


def test_lvm_on_a_plain_partition_is_not_encrypted(sys_tree):
    with pytest.raises(BaselineViolation) as refused:
        require_encrypted("/srv/plain/postgres", MOUNTS, sys_tree)
    assert {"A.8.24", "A.7.10"} <= set(refused.value.controls)
    assert "NOT encrypted" in str(refused.value)


def test_tmpfs_and_the_plain_root_are_not_encrypted(sys_tree):
    assert not block_device_status("/srv/data/tmp/x", MOUNTS, sys_tree).encrypted
    assert not block_device_status("/var/lib/docker", MOUNTS, sys_tree).encrypted


def test_this_hosts_repository_is_not_on_luks_and_is_refused():
    # The dev machines have no device-mapper at all (DESIGN): the real kernel must say "not encrypted".
    with pytest.raises(BaselineViolation, match="A.8.24"):
        require_encrypted(REPO / ".state" / "not-yet-created" / "postgres")


def test_a_path_that_does_not_exist_yet_is_judged_by_its_filesystem():
    status = block_device_status(REPO / "no" / "such" / "dir")
    assert status.mount_point == block_device_status(REPO).mount_point
    assert os.path.isabs(status.mount_point)
