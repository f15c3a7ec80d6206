"""Qdrant: official image by digest, non-root, TLS on, API key only in a secret config file; CMEK VM on gcp."""

import dataclasses

import pytest
import yaml

from baseline import CONTAINER, BaselineViolation
from components.qdrant import (CONFIG_PATH, COS_IMAGE, DockerQdrant, DockerQdrantArgs, GcpQdrant, GcpQdrantArgs,
                               cloud_init, config_yaml, qdrant_spec)
from components.spec import Port
from tests.unit.components.harness import declare, one

IMAGE = "qdrant/qdrant@sha256:" + "c" * 64
KEY = "projects/p/locations/r/keyRings/k/cryptoKeys/disk"


def _spec(**overrides):
    args = dict(image=IMAGE, data_volume="rae-unit-qdrant", config_file="/srv/data/s/qdrant.yaml",
                tls_cert_file="/srv/data/s/q.crt", tls_key_file="/srv/data/s/q.key", networks=["rae-unit-backend"]) | overrides
    return qdrant_spec(**args)


def test_config_file_carries_the_key_and_turns_tls_on():
    text = config_yaml("k" * 40)
    assert f"api_key: {'k' * 40}" in text and "enable_tls: true" in text and "telemetry_disabled: true" in text


def test_docker_qdrant_is_hardened_internal_and_keyless_in_env():
    container = one(declare(lambda: DockerQdrant("qdrant", DockerQdrantArgs(_spec()))), "docker:index/container:Container")
    assert container["user"] == f"{CONTAINER.uid}:{CONTAINER.gid}" and container["readOnly"] is True
    assert container["image"] == IMAGE and not container.get("ports")
    assert any(m["target"] == CONFIG_PATH and m["readOnly"] for m in container["mounts"])
    assert "QDRANT__SERVICE__ENABLE_TLS=true" in container["envs"]
    assert not any("API_KEY" in env for env in container["envs"])


@pytest.mark.parametrize("image", ["qdrant/qdrant:latest", "qdrant/qdrant:v1.12.0", "evil/qdrant@sha256:" + "c" * 64])
def test_unpinned_or_unofficial_images_are_refused(image):
    with pytest.raises(BaselineViolation, match="A.8.19"):
        _spec(image=image)


def test_publishing_qdrant_is_refused():
    published = dataclasses.replace(_spec(), ports=(Port(6333, 6333),))
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: DockerQdrant("qdrant", DockerQdrantArgs(published)))


@pytest.fixture(scope="module")
def vm() -> list[dict]:
    return declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
        IMAGE, "europe-west4-a", "subnet", KEY, "rae-qdrant@p.iam.gserviceaccount.com",
        "projects/p/secrets/rae-qdrant-config", "projects/p/secrets/rae-qdrant-tls-cert",
        "projects/p/secrets/rae-qdrant-tls-key", "projects/p/global/networks/rae-vpc")))


def test_vm_is_shielded_cos_without_external_ip(vm):
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["bootDisk"]["initializeParams"]["image"] == COS_IMAGE
    assert instance["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True,
                                                  "enableIntegrityMonitoring": True}
    assert all("accessConfigs" not in nic for nic in instance["networkInterfaces"])
    assert instance["metadata"]["block-project-ssh-keys"] == "true"


def test_only_the_api_reaches_qdrant_on_its_port(vm):
    firewall = one(vm, "gcp:compute/firewall:Firewall")
    assert firewall["allows"] == [{"protocol": "tcp", "ports": ["6333"]}] and firewall["sourceTags"] == ["rae-api"]
    assert firewall["targetTags"] == one(vm, "gcp:compute/instance:Instance")["tags"]


def test_vm_disks_use_the_customer_managed_key(vm):
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["bootDisk"]["kmsKeySelfLink"] == KEY
    assert instance["attachedDisks"][0]["kmsKeySelfLink"] == KEY
    assert one(vm, "gcp:compute/disk:Disk")["diskEncryptionKey"] == {"kmsKeySelfLink": KEY}


def test_vm_runs_the_same_hardened_spec_with_secrets_fetched_into_tmpfs(vm):
    user_data = one(vm, "gcp:compute/instance:Instance")["metadata"]["user-data"]
    assert user_data.startswith("#cloud-config\n")
    config = yaml.safe_load(user_data)
    fetch, run = config["runcmd"]
    assert run[:3] == ["docker", "run", "-d"] and run[-1] == IMAGE
    assert "--read-only" in run and run[run.index("--user") + 1] == f"{CONTAINER.uid}:{CONTAINER.gid}"
    assert any(command.startswith("mkdir -p /run/qdrant && mount -t tmpfs") for command in config["bootcmd"])
    assert "secretmanager.googleapis.com/v1/projects/p/secrets/rae-qdrant-config/versions/latest:access" in fetch[2]
    assert "api_key" not in user_data


def test_the_data_disk_is_formatted_once_and_its_storage_owned_by_the_service():
    spec = _spec(data_volume="/mnt/disks/qdrant/storage", networks=(), host_roots=("/mnt/disks/qdrant", "/srv/data"))
    config = yaml.safe_load(cloud_init(spec, {"/run/qdrant/a": "projects/p/secrets/a"}, "/dev/sdb"))
    assert config["bootcmd"][0] == "blkid /dev/sdb || mkfs.ext4 -F /dev/sdb"
    assert f"chown {CONTAINER.uid}:{CONTAINER.gid} /mnt/disks/qdrant/storage" in config["bootcmd"][2]
    assert "type=bind,source=/mnt/disks/qdrant/storage,target=/qdrant/storage" in config["runcmd"][1]


def test_vm_without_a_customer_managed_key_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
            IMAGE, "europe-west4-a", "subnet", "", "rae-qdrant@p.iam.gserviceaccount.com", "c", "t", "k", "net")))
