"""Qdrant: official image by digest or our build, non-root, behind a TLS 1.3 front, API keys only in a secret config
file; on gcp a CMEK VM running the same store and front from cloud-init."""

import os
import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from baseline import CONTAINER, SECRETS, TLS, BaselineViolation
from components import proxy_runtime, qdrant_runtime
from components.qdrant import COS_IMAGE, DockerQdrant, DockerQdrantArgs, GcpQdrant, GcpQdrantArgs, cloud_init
from components.qdrant_runtime import (CONFIG_PATH, FrontSecrets, QdrantSecrets, config_yaml, front_config,
                                       qdrant_spec)
from components.spec import Port, SecretFile
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


@pytest.mark.parametrize("image", ["qdrant/qdrant:latest", "qdrant/qdrant:v1.18.3", "evil/qdrant@sha256:" + "c" * 64,
                                   "evil.example/mirror/qdrant/qdrant@sha256:" + "c" * 64,
                                   "europe-west4-docker.pkg.dev/p-unit/dockerhub/qdrant/qdrant:v1.18.3"])
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


PROXY_IMAGE = "europe-west4-docker.pkg.dev/p/rae/tls-proxy@sha256:" + "a" * 64
VM_ADDRESS = "10.20.0.10"
VM_STORE_IDS = QdrantSecrets(*(f"projects/p/secrets/rae-qdrant-{n}" for n in ("config", "tls-cert", "tls-key", "ca-cert")))
VM_FRONT_IDS = FrontSecrets(*(f"projects/p/secrets/rae-qdrant-{n}" for n in (
    "front-config", "front-tls-cert", "front-tls-key", "ca-cert", "front-client-cert", "front-client-key")))


def _gcp_args(**overrides) -> GcpQdrantArgs:
    args = dict(image=IMAGE, front_image=PROXY_IMAGE, zone="europe-west4-a", subnetwork="subnet", address=VM_ADDRESS,
                kms_key=KEY, service_account="rae-qdrant@p.iam.gserviceaccount.com", store_secrets=VM_STORE_IDS,
                front_secrets=VM_FRONT_IDS, network="projects/p/global/networks/rae-vpc") | overrides
    return GcpQdrantArgs(**args)


@pytest.fixture(scope="module")
def vm() -> list[dict]:
    return declare(lambda: GcpQdrant("qdrant", _gcp_args()))


def _cloud_config(vm) -> dict:
    return yaml.safe_load(one(vm, "gcp:compute/instance:Instance")["metadata"]["user-data"])


def _written(vm) -> dict[str, dict]:
    """The files cloud-init writes, by path."""
    return {entry["path"]: entry for entry in _cloud_config(vm)["write_files"]}


def _runcmd(vm) -> list[list[str]]:
    """The commands of the containers unit's script, split as the shell splits them (one per line)."""
    return [shlex.split(line) for line in _written(vm)["/etc/rae-qdrant/start.sh"]["content"].splitlines()
            if line and not line.startswith("#")]


def _started(vm, name: str) -> list[str]:
    """The `docker run`/`docker create` arguments of container `name` in the VM's cloud-init."""
    (command,) = [c for c in _runcmd(vm) if c[:2] in (["docker", "run"], ["docker", "create"])
                  and c[c.index("--name") + 1] == name]
    return command


def _values(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_vm_is_shielded_cos_without_external_ip(vm):
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["bootDisk"]["initializeParams"]["image"] == COS_IMAGE
    assert instance["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableVtpm": True,
                                                  "enableIntegrityMonitoring": True}
    assert all("accessConfigs" not in nic for nic in instance["networkInterfaces"])
    assert instance["metadata"]["block-project-ssh-keys"] == "TRUE"


def test_only_the_api_reaches_the_vm_and_only_on_the_fronts_ports(vm):
    firewall = one(vm, "gcp:compute/firewall:Firewall")
    assert firewall["allows"] == [{"protocol": "tcp", "ports": ["6333", "6334"]}] and firewall["sourceTags"] == ["rae-api"]
    assert firewall["targetTags"] == one(vm, "gcp:compute/instance:Instance")["tags"]


def test_vm_disks_use_the_customer_managed_key(vm):
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["bootDisk"]["kmsKeySelfLink"] == KEY
    assert instance["attachedDisks"][0]["kmsKeySelfLink"] == KEY
    assert one(vm, "gcp:compute/disk:Disk")["diskEncryptionKey"] == {"kmsKeySelfLink": KEY}


@pytest.mark.parametrize("name, service", [("qdrant-store", "qdrant-store"), ("qdrant", "qdrant")])
def test_both_containers_run_hardened_from_their_specs(vm, name, service):
    run = _started(vm, name)
    assert run[run.index("--user") + 1] == "%d:%d" % service_user(service) != "0:0"
    assert "--read-only" in run and _values(run, "--cap-drop") == ["ALL"]
    assert "no-new-privileges:true" in _values(run, "--security-opt") and "--privileged" not in run
    assert not any("API_KEY" in env for env in _values(run, "--env"))


def test_the_store_runs_the_official_image_on_the_internal_network_only_never_published(vm):
    store = _started(vm, "qdrant-store")
    assert store[:3] == ["docker", "run", "-d"] and store[-1] == IMAGE
    assert _values(store, "--network") == ["rae-qdrant"] and "--publish" not in store
    assert not any(VM_ADDRESS in arg for arg in store)
    assert ["docker", "network", "inspect", "rae-qdrant", ">/dev/null", "2>&1", "||", "docker", "network", "create",
            "--internal", "rae-qdrant"] in _runcmd(vm)
    assert "type=bind,source=/mnt/disks/qdrant/storage,target=/qdrant/storage" in _values(store, "--mount")


def test_the_front_is_published_on_the_vms_address_only_on_both_ports_and_joins_the_store(vm):
    front, commands = _started(vm, "qdrant"), _runcmd(vm)
    assert front[:2] == ["docker", "create"] and front[-1] == PROXY_IMAGE
    assert sorted(_values(front, "--publish")) == [f"{VM_ADDRESS}:6333:6333/tcp", f"{VM_ADDRESS}:6334:6334/tcp"]
    assert _values(front, "--network") == ["rae-qdrant-front"]
    connect, start = ["docker", "network", "connect", "rae-qdrant", "qdrant"], ["docker", "start", "qdrant"]
    assert commands.index(front) < commands.index(connect) < commands.index(start)
    assert commands.index(_started(vm, "qdrant-store")) < commands.index(front)
    assert one(vm, "gcp:compute/instance:Instance")["networkInterfaces"][0]["networkIp"] == VM_ADDRESS
    reserved = one(vm, "gcp:compute/address:Address")
    assert reserved["addressType"] == "INTERNAL" and reserved["address"] == VM_ADDRESS


def test_the_front_mounts_a_tls13_config_that_requires_client_certificates(vm):
    front = _started(vm, "qdrant")
    mounts = _values(front, "--mount")
    for target in (qdrant_runtime.FRONT_CONFIG_PATH, qdrant_runtime.FRONT_CERT_PATH, qdrant_runtime.FRONT_KEY_PATH,
                   qdrant_runtime.FRONT_CA_PATH, qdrant_runtime.FRONT_CLIENT_CERT_PATH,
                   qdrant_runtime.FRONT_CLIENT_KEY_PATH):
        assert any(f"target={target},readonly" in mount for mount in mounts), target
    assert f"HAPROXY_CONFIG={qdrant_runtime.FRONT_CONFIG_PATH}" in _values(front, "--env")
    # What that config says on gcp (the stack renders it with the API as the one client identity):
    config = front_config(clients=("rae-api",))
    binds = [line.split() for line in config.splitlines() if line.strip().startswith("bind :")]
    assert [b[1] for b in binds] == [":6333", ":6334"]
    assert all(b[b.index("verify") + 1] == "required" for b in binds)
    assert config.count(f"ssl-min-ver {TLS.min_version}") == 2 and TLS.min_version == "TLSv1.3"
    assert config.count("reject unless { ssl_c_s_dn(cn) -m str rae-api }") == 2


def test_each_secret_file_is_fetched_into_tmpfs_for_its_own_reader(vm):
    fetch = _written(vm)["/etc/rae-qdrant/fetch-secrets.sh"]["content"]
    assert SECRETS.file_mode == 0o400
    owners = dict(re.findall(r"> (/run/qdrant/\S+)\nchmod 0400 \1\nchown (\d+:\d+) \1\n", fetch))
    store_uid, front_uid = "%d:%d" % service_user("qdrant-store"), "%d:%d" % service_user("qdrant")
    assert owners == {"/run/qdrant/local.yaml": store_uid, "/run/qdrant/cert.pem": store_uid,
                      "/run/qdrant/key.pem": store_uid, "/run/qdrant/ca.pem": store_uid,
                      "/run/qdrant/front.cfg": front_uid, "/run/qdrant/front-cert.pem": front_uid,
                      "/run/qdrant/front-key.pem": front_uid, "/run/qdrant/front-ca.pem": front_uid,
                      "/run/qdrant/front-client-cert.pem": front_uid, "/run/qdrant/front-client-key.pem": front_uid}
    assert "secretmanager.googleapis.com/v1/projects/p/secrets/rae-qdrant-front-client-key/versions/latest:access" in fetch
    user_data = one(vm, "gcp:compute/instance:Instance")["metadata"]["user-data"]
    config = yaml.safe_load(user_data)
    assert any(command.startswith("mkdir -p /run/qdrant && mount -t tmpfs") for command in config["bootcmd"])
    assert "api_key" not in user_data


def test_secrets_are_fetched_at_every_boot_before_the_containers_start(vm):
    """COS keeps /etc and /var/lib/cloud on tmpfs and applies the cloud-config at every boot (Google's COS docs; not
    observed here: no VM of ours runs on GCP): the units are written and started again on each boot. The secrets unit
    fails on any failed fetch and the containers unit requires it and starts after it."""
    config, written = _cloud_config(vm), _written(vm)
    secrets_unit = written["/etc/systemd/system/rae-qdrant-secrets.service"]["content"].splitlines()
    containers_unit = written["/etc/systemd/system/rae-qdrant.service"]["content"].splitlines()
    assert "ExecStart=/bin/bash /etc/rae-qdrant/fetch-secrets.sh" in secrets_unit
    assert "Before=rae-qdrant.service" in secrets_unit and "After=network-online.target" in secrets_unit
    assert "Requires=docker.service rae-qdrant-secrets.service" in containers_unit
    assert "After=docker.service rae-qdrant-secrets.service" in containers_unit
    assert "ExecStart=/bin/bash /etc/rae-qdrant/start.sh" in containers_unit
    fetch = written["/etc/rae-qdrant/fetch-secrets.sh"]["content"].splitlines()
    assert fetch[1:4] == ["set -euo pipefail", "umask 077", "grep -q ' /run/qdrant tmpfs ' /proc/mounts"]
    assert all(written[path]["permissions"] == "0700" for path in ("/etc/rae-qdrant/fetch-secrets.sh",
                                                                    "/etc/rae-qdrant/start.sh"))
    assert config["runcmd"] == [["systemctl", "daemon-reload"], ["systemctl", "start", "rae-qdrant.service"]]
    # The containers are made again from their specs at every boot (an old one is removed first).
    commands = _runcmd(vm)
    removed = ["docker", "rm", "-f", "qdrant", "qdrant-store", "||", "true"]
    assert commands.index(removed) < commands.index(_started(vm, "qdrant-store"))


def test_the_vm_pulls_from_artifact_registry_with_its_own_identity(vm):
    commands = _runcmd(vm)
    assert commands[0] == ["set", "-euo", "pipefail"] and ["export", "HOME=/var/lib/rae-qdrant"] in commands
    login = ["docker-credential-gcr", "configure-docker", "--registries=europe-west4-docker.pkg.dev"]
    assert commands.index(login) < commands.index(_started(vm, "qdrant-store"))
    instance = one(vm, "gcp:compute/instance:Instance")
    assert instance["serviceAccount"]["email"] == "rae-qdrant@p.iam.gserviceaccount.com"
    # bash parses both scripts as rendered (`bash -n`: syntax only; they run on the VM).
    import subprocess

    for path in ("/etc/rae-qdrant/start.sh", "/etc/rae-qdrant/fetch-secrets.sh"):
        parsed = subprocess.run(["bash", "-n"], input=_written(vm)[path]["content"], capture_output=True, text=True)
        assert parsed.returncode == 0, parsed.stderr


def test_the_data_disk_is_formatted_once_and_its_storage_owned_by_the_service(vm):
    config = yaml.safe_load(one(vm, "gcp:compute/instance:Instance")["metadata"]["user-data"])
    device = "/dev/disk/by-id/google-qdrant-data"
    assert config["bootcmd"][0] == f"blkid {device} || mkfs.ext4 -F {device}"
    assert "chown %d:%d /mnt/disks/qdrant/storage" % service_user("qdrant-store") in config["bootcmd"][2]


def test_cloud_init_refuses_a_published_store_a_front_without_its_own_network_and_unowned_secrets():
    roots = ("/srv/data",)
    store = qdrant_spec(IMAGE, "/srv/data/storage", STORE_SECRETS, networks=("rae-qdrant",), host_roots=roots)
    front_files = replace(FRONT_SECRETS, ca_cert="/srv/data/s/front-ca.crt")  # each reader its own copy
    front = qdrant_runtime.front_spec(PROXY_IMAGE, front_files, networks=("rae-qdrant-front", "rae-qdrant"),
                                      host_roots=roots, publish_on=VM_ADDRESS)
    files = {path: "projects/p/secrets/x" for path in (*vars(STORE_SECRETS).values(), *vars(front_files).values())}
    assert yaml.safe_load(cloud_init(store, front, files, "/dev/sdb"))["runcmd"]
    with pytest.raises(BaselineViolation, match="another container's"):
        cloud_init(store, replace(front, secret_files=(*front.secret_files[:3],
                                                       SecretFile(STORE_SECRETS.ca_cert, qdrant_runtime.FRONT_CA_PATH),
                                                       *front.secret_files[4:])), files, "/dev/sdb")
    published = replace(store, ports=(Port(6333, 6333, VM_ADDRESS),), allowed_bind_addresses=(VM_ADDRESS,))
    with pytest.raises(BaselineViolation, match="never published"):
        cloud_init(published, front, files, "/dev/sdb")
    with pytest.raises(BaselineViolation, match="a network of its own"):
        cloud_init(store, replace(front, networks=("rae-qdrant",)), files, "/dev/sdb")
    with pytest.raises(BaselineViolation, match="A.5.17"):
        cloud_init(store, front, files | {"/run/qdrant/stray.pem": "projects/p/secrets/y"}, "/dev/sdb")
    with pytest.raises(BaselineViolation, match="A.5.17"):
        cloud_init(store, front, {k: v for k, v in files.items() if k != FRONT_SECRETS.client_key}, "/dev/sdb")


def test_vm_without_a_customer_managed_key_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: GcpQdrant("qdrant", _gcp_args(kms_key="")))


def test_a_firewall_without_client_tags_is_refused_before_anything_is_declared():
    """No source tag: GCP would admit the whole internet to Qdrant's port (RAE-NET-001, the network posture model)."""
    with pytest.raises(BaselineViolation, match="names no source") as error:
        declare(lambda: GcpQdrant("qdrant", _gcp_args(client_tags=())))
    assert "A.8.20" in str(error.value)


def test_vm_refuses_a_local_build():
    with pytest.raises(BaselineViolation, match="A.8.19"):
        declare(lambda: GcpQdrant("qdrant", _gcp_args(image=LOCAL_ID)))


@pytest.mark.parametrize("front_image", [PROXY_ID, "rae/tls-proxy:latest", "europe-west4-docker.pkg.dev/p/rae/tls-proxy:v1"])
def test_vm_refuses_a_front_image_not_pinned_by_digest(front_image):
    with pytest.raises(BaselineViolation, match="A.8.19") as error:
        declare(lambda: GcpQdrant("qdrant", _gcp_args(front_image=front_image)))
    assert "TLS proxy image" in str(error.value)


@pytest.mark.parametrize("address", ["0.0.0.0", "127.0.0.1", "34.90.1.2", "qdrant", ""])
def test_the_front_is_published_on_one_private_address_only(address):
    with pytest.raises(BaselineViolation, match="A.8.20"):
        declare(lambda: GcpQdrant("qdrant", _gcp_args(address=address)))


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
    """By the official digest, through an Artifact Registry remote repository of Docker Hub (the VM reaches Google's
    APIs only)."""
    config = yaml.safe_load((REPO / "Pulumi.gcp.yaml").read_text())["config"]
    assert config["rae:qdrantImage"].endswith("-docker.pkg.dev/rae-core-prod/dockerhub/" + qdrant_runtime.OFFICIAL_IMAGE)
    qdrant_runtime.check_image(config["rae:qdrantImage"], local_build_allowed=False)


CURL_SHIM = r"""#!/bin/bash
# Answers as the metadata server and Secret Manager do; refuses a request without the token, and the secret FAILING.
url="${@: -1}"
case "$url" in
  *metadata.google.internal*) echo '{"access_token":"tok-1","expires_in":3599,"token_type":"Bearer"}' ;;
  *secrets/FAILING/*) exit 22 ;;
  https://secretmanager.googleapis.com/v1/*)
    [ "$3" = "Authorization: Bearer tok-1" ] || exit 22
    name=${url#*secrets/}; name=${name%%/*}
    printf '{\n  "name": "%s",\n  "payload": {\n    "data": "%s"\n  }\n}\n' "$name" \
      "$(printf 'content of %s' "$name" | base64 -w0)" ;;
  *) exit 22 ;;
esac
"""


def _fetch_for_real(tmp_path, monkeypatch, failing: str | None = None):
    """Render the secrets unit's script and run it with bash, its curl answering as GCP would (the only stand-in):
    tr, sed, base64, chmod and chown really run. /dev/shm stands in for the VM's tmpfs."""
    import subprocess

    import components.qdrant as qdrant_module

    monkeypatch.setattr(qdrant_module, "VM_SECRETS_PATH", "/dev/shm")
    root = tmp_path / "secrets"
    root.mkdir()
    store_files = QdrantSecrets(*(str(root / n) for n in ("local.yaml", "cert.pem", "key.pem", "ca.pem")))
    front_files = FrontSecrets(*(str(root / n) for n in ("front.cfg", "front-cert.pem", "front-key.pem",
                                                         "front-ca.pem", "front-client-cert.pem", "front-client-key.pem")))
    roots = (str(tmp_path),)
    store = qdrant_spec(IMAGE, str(tmp_path / "storage"), store_files, networks=("rae-qdrant",), host_roots=roots)
    front = qdrant_runtime.front_spec(PROXY_IMAGE, front_files, networks=("rae-qdrant-front", "rae-qdrant"),
                                      host_roots=roots, publish_on=VM_ADDRESS)
    names = {path: f"projects/p/secrets/{'FAILING' if path.endswith(failing or '//') else path.rsplit('/', 1)[1]}"
             for path in (*vars(store_files).values(), *vars(front_files).values())}
    config = yaml.safe_load(cloud_init(store, front, names, "/dev/sdb"))
    (script,) = [f["content"] for f in config["write_files"] if f["path"].endswith("/fetch-secrets.sh")]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(CURL_SHIM)
    (bin_dir / "curl").chmod(0o755)
    (tmp_path / "fetch-secrets.sh").write_text(script)
    run = subprocess.run(["bash", str(tmp_path / "fetch-secrets.sh")], capture_output=True, text=True, timeout=60,
                         env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    return run, store, front, store_files, front_files


def test_the_secrets_script_writes_each_file_for_its_reader_only(tmp_path, monkeypatch):
    run, store, front, store_files, front_files = _fetch_for_real(tmp_path, monkeypatch)
    assert run.returncode == 0, run.stderr
    for spec, files in ((store, store_files), (front, front_files)):
        for path in vars(files).values():
            stat = os.stat(path)
            assert (stat.st_mode & 0o777, stat.st_uid, stat.st_gid) == (SECRETS.file_mode, spec.uid, spec.gid), path
            assert open(path).read() == f"content of {path.rsplit('/', 1)[1]}"


def test_a_failed_fetch_fails_the_secrets_unit_and_writes_nothing_after_it(tmp_path, monkeypatch):
    run, _store, _front, store_files, front_files = _fetch_for_real(tmp_path, monkeypatch, failing="front-ca.pem")
    assert run.returncode != 0
    written = sorted(path for path in (*vars(store_files).values(), *vars(front_files).values())
                     if os.path.exists(path) and os.path.getsize(path))
    # Files are fetched in path order: those before the failing one were written, none after it.
    assert written == sorted(p for p in (*vars(store_files).values(), *vars(front_files).values())
                             if p.rsplit("/", 1)[1] < "front-ca.pem")
