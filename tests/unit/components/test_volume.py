"""EncryptedVolume: CMEK disks on gcp; LUKS-checked bind volumes on Docker, or an exemption on record."""

from pathlib import Path

import pytest

from baseline import BaselineViolation
from components import block_device
from components.block_device import BlockDeviceStatus
from components.volume import LABEL_ENCRYPTION, EncryptedVolume, EncryptedVolumeArgs
from tests.unit.components.harness import declare, one
from posture.container import service_user

REPO = Path(__file__).resolve().parents[3]
DATA = str(REPO / ".state" / "unit-data" / "postgres")
EXEMPTION = "dev-only: unit test host without device-mapper"


def _volume(**overrides) -> EncryptedVolume:
    created = []
    args = dict(target="docker", service="postgres", host_path=DATA) | overrides
    resources = declare(lambda: created.append(EncryptedVolume("pgdata", EncryptedVolumeArgs(**args))))
    return created[0], resources


def test_unencrypted_host_path_is_refused_without_an_exemption():
    with pytest.raises(BaselineViolation) as refused:
        _volume()
    assert "A.8.24" in refused.value.controls and "rae:allowUnencryptedVolumes" in str(refused.value)


@pytest.mark.parametrize("exemption", ["yes", "dev-only:", "dev-only: short", "prod: we accept the risk here"])
def test_a_vague_exemption_is_refused(exemption):
    with pytest.raises(BaselineViolation, match="A.8.24"):
        _volume(unencrypted_exemption=exemption)


def test_an_exemption_is_recorded_loudly_on_the_volume():
    volume, resources = _volume(unencrypted_exemption=EXEMPTION)
    inputs = one(resources, "docker:index/volume:Volume")
    assert inputs["driver"] == "local"
    assert inputs["driverOpts"] == {"type": "none", "o": "bind", "device": DATA}
    labels = {label["label"]: label["value"] for label in inputs["labels"]}
    assert labels[LABEL_ENCRYPTION] == "exempt"
    assert volume.encryption.startswith(f"EXEMPT ({EXEMPTION})") and "NOT encrypted" in volume.encryption


def test_a_luks_backed_path_needs_no_exemption(monkeypatch):
    encrypted = BlockDeviceStatus(DATA, "/srv/data", "ext4", "/dev/mapper/data", ("dm-0", "sda"), ("dm-0",))
    monkeypatch.setattr(block_device, "block_device_status", lambda path: encrypted)
    volume, resources = _volume()
    labels = {label["label"]: label["value"] for label in one(resources, "docker:index/volume:Volume")["labels"]}
    assert labels[LABEL_ENCRYPTION] == "luks" and volume.encryption.startswith("luks")


def test_the_data_directory_is_created_for_the_service_uid_and_protected():
    _, resources = _volume(unencrypted_exemption=EXEMPTION)
    directory = one(resources, "pulumi-python:dynamic:Resource")
    assert directory["path"] == DATA and (directory["uid"], directory["gid"]) == service_user("postgres") and directory["remove_on_delete"] is False


@pytest.mark.parametrize("path", ["/etc", "/", "relative/data", "/var/run/docker.sock"])
def test_system_trees_and_relative_paths_are_refused(path):
    with pytest.raises(BaselineViolation, match="A.8.2"):
        _volume(host_path=path, unencrypted_exemption=EXEMPTION)


def test_gcp_disk_is_encrypted_with_the_customer_managed_key():
    _, resources = _volume(target="gcp", host_path=None, kms_key="projects/p/locations/r/keyRings/k/cryptoKeys/disk",
                           zone="europe-west4-a")
    disk = one(resources, "gcp:compute/disk:Disk")
    assert disk["diskEncryptionKey"] == {"kmsKeySelfLink": "projects/p/locations/r/keyRings/k/cryptoKeys/disk"}


def test_gcp_disk_without_a_key_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        _volume(target="gcp", host_path=None, kms_key=None, zone="europe-west4-a")
