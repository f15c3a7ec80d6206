"""Qdrant: official image by digest or our build, non-root, behind a TLS 1.3 front, API keys only in a secret config
file; CMEK VM on gcp."""

from pathlib import Path

import pytest
import yaml

from baseline import CONTAINER, TLS, BaselineViolation
from components import proxy_runtime, qdrant_runtime
from components.qdrant import COS_IMAGE, DockerQdrant, DockerQdrantArgs, GcpQdrant, GcpQdrantArgs, cloud_init
from components.qdrant_runtime import (CONFIG_PATH, FrontSecrets, QdrantSecrets, config_yaml, front_config,
                                       qdrant_spec)
from tests.unit.components.harness import declare, of_type, one
from posture.container import service_user

IMAGE = "qdrant/qdrant@sha256:" + "c" * 64
LOCAL_ID = "sha256:" + "d" * 64
PROXY_ID = "sha256:" + "e" * 64
KEY = "projects/p/locations/r/keyRings/k/cryptoKeys/disk"
STORE_SECRETS = QdrantSecrets("/srv/data/s/qdrant.yaml", "/srv/data/s/q.crt", "/srv/data/s/q.key", "/srv/data/s/ca.crt")
FRONT_SECRETS = FrontSecrets("/srv/data/s/front.cfg", "/srv/data/s/f.crt", "/srv/data/s/f.key", "/srv/data/s/ca.crt",
                             "/srv/data/s/fc.crt", "/srv/data/s/fc.key")
REPO = Path(__file__).resolve().parents[3]


def _docker(**overrides):
    args = dict(image=LOCAL_ID, front_image=PROXY_ID, data_volume="rae-unit-qdrant", store_secrets=STORE_SECRETS,
                front_secrets=FRONT_SECRETS, store_network="rae-unit-qdrant",
                client_networks=["rae-unit-backend"]) | overrides
    return declare(lambda: DockerQdrant("qdrant", DockerQdrantArgs(**args)))


def test_config_file_carries_both_keys_and_turns_tls_on_with_everything_on_the_volume():
    config = yaml.safe_load(config_yaml("k" * 40, "r" * 40))
    assert config["service"]["api_key"] == "k" * 40 and config["service"]["read_only_api_key"] == "r" * 40
    assert config["service"]["enable_tls"] is True and config["telemetry_disabled"] is True
    assert all(path == qdrant_runtime.STORAGE_PATH or path.startswith(qdrant_runtime.STORAGE_PATH + "/")
               for path in config["storage"].values())


@pytest.mark.parametrize("keys", [("", "r" * 40), ("k" * 40, ""), ("k" * 40, "k" * 40)])
def test_config_needs_two_distinct_keys(keys):
    with pytest.raises(BaselineViolation, match="A.5.17"):
        config_yaml(*keys)


def test_store_and_front_are_hardened_unpublished_and_keyless_in_env():
    containers = {r["inputs"]["hostname"]: r["inputs"] for r in of_type(_docker(), "docker:index/container:Container")}
    store, front = containers["qdrant-store"], containers["qdrant"]
    for container in (store, front):
        service = {label["label"]: label["value"] for label in container["labels"]}["org.rae.hardening.service"]
        assert container["user"] == "%d:%d" % service_user(service) and container["readOnly"] is True
        assert not container.get("ports")
        assert not any("API_KEY" in env for env in container.get("envs", []))
    assert store["image"] == LOCAL_ID and front["image"] == PROXY_ID
    assert any(m["target"] == CONFIG_PATH and m["readOnly"] for m in store["mounts"])
    assert f"QDRANT_INIT_FILE_PATH={qdrant_runtime.INIT_FILE_PATH}" in store["envs"]
    assert f"SSL_CERT_FILE={qdrant_runtime.CA_CERT_PATH}" in store["envs"]


def test_the_stores_network_cannot_be_a_client_network():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        _docker(client_networks=["rae-unit-backend", "rae-unit-qdrant"])


@pytest.mark.parametrize("image", ["qdrant/qdrant:latest", "qdrant/qdrant:v1.18.3", "evil/qdrant@sha256:" + "c" * 64])
def test_unpinned_or_unofficial_images_are_refused(image):
    with pytest.raises(BaselineViolation, match="A.8.19"):
        qdrant_spec(image, "rae-unit-qdrant", STORE_SECRETS)


def test_a_local_build_is_refused_where_only_the_official_image_may_run():
    qdrant_spec(LOCAL_ID, "rae-unit-qdrant", STORE_SECRETS)
    with pytest.raises(BaselineViolation, match="A.8.19"):
        qdrant_spec(LOCAL_ID, "rae-unit-qdrant", STORE_SECRETS, local_build_allowed=False)


def test_front_accepts_tls13_only_on_both_sides_and_verifies_the_store_by_name():
    config = front_config("qdrant-store")
    assert config.count(f"ssl-min-ver {TLS.min_version} ssl-max-ver {TLS.allowed_versions[-1]}") == 2
    assert f"bind :{qdrant_runtime.HTTP_PORT} ssl" in config and f"bind :{qdrant_runtime.GRPC_PORT} ssl" in config
    servers = [line.split() for line in config.splitlines() if line.strip().startswith("server ")]
    assert len(servers) == 2 and all(s[s.index("verify") + 1] == "required" and "verifyhost" in s for s in servers)
    assert all(s[s.index("verifyhost") + 1] == "qdrant-store" for s in servers)
    assert f"bind 127.0.0.1:{proxy_runtime.HEALTH_PORT}" in config


def test_front_requires_a_client_certificate_of_the_ca_and_an_allowed_identity_on_both_ports():
    binds = [line.split() for line in front_config("qdrant-store").splitlines() if line.strip().startswith("bind :")]
    assert len(binds) == 2 and all(b[b.index("verify") + 1] == "required" and "ca-file" in b for b in binds)
    rejects = [line.strip() for line in front_config("qdrant-store").splitlines() if "tcp-request session" in line]
    assert rejects == ["tcp-request session reject unless { ssl_c_s_dn(cn) -m str rae-api rae-backup }"] * 2
    with pytest.raises(BaselineViolation, match="A.5.14"):
        front_config("qdrant-store", clients=("rae api; bind :1",))
    with pytest.raises(BaselineViolation, match="A.5.14"):
        front_config("qdrant-store", clients=())


def test_our_image_runs_the_runtime_s_paths_and_port():
    dockerfile = (REPO / "images" / "qdrant" / "Dockerfile").read_text()
    assert f'ENTRYPOINT ["{qdrant_runtime.BINARY_PATH}"]' in dockerfile
    assert f"/dev/tcp/127.0.0.1/{qdrant_runtime.HTTP_PORT}" in dockerfile
    assert qdrant_runtime.WORK_DIR == qdrant_runtime.build_args()["WORK_DIR"]


@pytest.fixture(scope="module")
def vm() -> list[dict]:
    return declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
        IMAGE, "europe-west4-a", "subnet", KEY, "rae-qdrant@p.iam.gserviceaccount.com",
        "projects/p/secrets/rae-qdrant-config", "projects/p/secrets/rae-qdrant-tls-cert",
        "projects/p/secrets/rae-qdrant-tls-key", "projects/p/secrets/rae-qdrant-ca-cert",
        "projects/p/global/networks/rae-vpc")))


def test_vm_is_shielded_cos_without_external_ip(vm):
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["bootDisk"]["initializeParams"]["image"] == COS_IMAGE
    assert instance["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True,
                                                  "enableIntegrityMonitoring": True}
    assert all("accessConfigs" not in nic for nic in instance["networkInterfaces"])
    assert instance["metadata"]["block-project-ssh-keys"] == "TRUE"


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
    assert "--read-only" in run and run[run.index("--user") + 1] == "%d:%d" % service_user("qdrant-store")
    assert any(command.startswith("mkdir -p /run/qdrant && mount -t tmpfs") for command in config["bootcmd"])
    assert "secretmanager.googleapis.com/v1/projects/p/secrets/rae-qdrant-config/versions/latest:access" in fetch[2]
    assert "api_key" not in user_data


def test_the_data_disk_is_formatted_once_and_its_storage_owned_by_the_service():
    spec = qdrant_spec(IMAGE, "/mnt/disks/qdrant/storage", STORE_SECRETS, host_roots=("/mnt/disks/qdrant", "/srv/data"))
    config = yaml.safe_load(cloud_init(spec, {"/run/qdrant/a": "projects/p/secrets/a"}, "/dev/sdb"))
    assert config["bootcmd"][0] == "blkid /dev/sdb || mkfs.ext4 -F /dev/sdb"
    assert "chown %d:%d /mnt/disks/qdrant/storage" % service_user("qdrant-store") in config["bootcmd"][2]
    assert "type=bind,source=/mnt/disks/qdrant/storage,target=/qdrant/storage" in config["runcmd"][1]


def test_vm_without_a_customer_managed_key_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
            IMAGE, "europe-west4-a", "subnet", "", "rae-qdrant@p.iam.gserviceaccount.com", "c", "t", "k", "ca", "net")))


def test_a_firewall_without_client_tags_is_refused_before_anything_is_declared():
    """No source tag: GCP would admit the whole internet to Qdrant's port (RAE-NET-001, the network posture model)."""
    with pytest.raises(BaselineViolation, match="names no source") as error:
        declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
            IMAGE, "europe-west4-a", "subnet", KEY, "rae-qdrant@p.iam.gserviceaccount.com", "c", "t", "k", "ca", "net",
            client_tags=())))
    assert "A.8.20" in str(error.value)


def test_vm_refuses_a_local_build():
    with pytest.raises(BaselineViolation, match="A.8.19"):
        declare(lambda: GcpQdrant("qdrant", GcpQdrantArgs(
            LOCAL_ID, "europe-west4-a", "subnet", KEY, "rae-qdrant@p.iam.gserviceaccount.com", "c", "t", "k", "ca",
            "net")))


def test_config_turns_on_qdrants_jwt_rbac():
    assert yaml.safe_load(config_yaml("k" * 40, "r" * 40))["service"]["jwt_rbac"] is True


def test_tenant_tokens_always_name_exactly_one_collection():
    claims = qdrant_runtime.tenant_claims("tenant-a", "r", 1_900_000_000)
    assert claims == {"access": [{"collection": "memories-tenant-a", "access": "r"}], "exp": 1_900_000_000,
                      "sub": "tenant-a"}


@pytest.mark.parametrize("tenant, access", [("", "r"), ("a/b", "r"), ("tenant-a", "m"), ("tenant-a", "")])
def test_tenant_tokens_refuse_bad_tenants_and_global_access(tenant, access):
    with pytest.raises(BaselineViolation, match="A.5.15"):
        qdrant_runtime.tenant_claims(tenant, access, 1_900_000_000)


def test_the_gcp_stack_pins_the_official_image_of_the_same_release():
    config = yaml.safe_load((REPO / "Pulumi.gcp.yaml").read_text())["config"]
    assert config["rae:qdrantImage"] == qdrant_runtime.OFFICIAL_IMAGE
