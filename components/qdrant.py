"""Qdrant: the vector store, from its official image pinned by digest, non-root, TLS on, API key from a file.

Qdrant reads its settings from YAML files; the API key therefore reaches it inside a config file that
is itself a secret file (0400, service uid), mounted as /qdrant/config/local.yaml, never as an
environment variable. Qdrant's TLS (rustls) has no minimum-version setting, so Qdrant is never
published on a host port: it is reached over the internal network only, and every published endpoint
of the stack stays TLS 1.3-only.

- docker: a HardenedContainer, storage on an EncryptedVolume. No registry is reachable on our dev
  machines, so the local stack includes Qdrant only when `rae:qdrantImage` names a present image.
- gcp: a Container-Optimized OS VM (Qdrant needs block storage), CMEK boot and data disks, no external
  IP, shielded VM; cloud-init runs the same ContainerSpec with `docker run`, fetching the config
  (API key) and TLS key from Secret Manager into tmpfs with the VM's own service account.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

from baseline import CONTAINER, KMS, NETWORK, SECRETS, TLS, require
from components.container import HardenedContainer, HardenedContainerArgs
from components.spec import ContainerSpec, Healthcheck, Mount, SecretFile, docker_run_args
from components.volume import EncryptedVolume, EncryptedVolumeArgs

SERVES = ((CONTAINER, "image_pinning"), (CONTAINER, "uid"), (SECRETS, "delivery"), (NETWORK, "docker_internal_network"))

_OFFICIAL_DIGEST = re.compile(r"^qdrant/qdrant@sha256:[0-9a-f]{64}$")
HTTP_PORT = 6333
GRPC_PORT = 6334
CONFIG_PATH = "/qdrant/config/local.yaml"
TLS_CERT_PATH = "/qdrant/tls/cert.pem"
TLS_KEY_PATH = "/qdrant/tls/key.pem"
STORAGE_PATH = "/qdrant/storage"
COS_IMAGE = "cos-cloud/cos-stable"
VM_DATA_PATH = "/mnt/disks/qdrant"
NETWORK_TAG = "rae-qdrant"
VM_SECRETS_PATH = "/run/qdrant"


def check_image(image: str) -> None:
    """Only the official image, pinned by digest."""
    require(bool(_OFFICIAL_DIGEST.match(image or "")),
            f"Qdrant image {image!r} must be the official image pinned by digest (qdrant/qdrant@sha256:<64 hex>)",
            CONTAINER.controls("image_pinning"))


def config_yaml(api_key: str) -> str:
    """Qdrant's local.yaml: API key, TLS on with our certificate, storage on the data volume, no telemetry."""
    return "\n".join([
        "service:",
        f"  api_key: {api_key}",
        "  enable_tls: true",
        "tls:",
        f"  cert: {TLS_CERT_PATH}",
        f"  key: {TLS_KEY_PATH}",
        "storage:",
        f"  storage_path: {STORAGE_PATH}",
        f"  snapshots_path: {STORAGE_PATH}/snapshots",
        "telemetry_disabled: true",
        "",
    ])


def qdrant_spec(image: str, data_volume: str, config_file: str, tls_cert_file: str, tls_key_file: str,
                networks: Sequence[str], host_roots: Sequence[str] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened Qdrant runtime; host paths of the config (with the API key) and TLS files are secret files.

    + image: qdrant/qdrant@sha256:...
    + data_volume: docker volume (or host directory) for /qdrant/storage
    + config_file, tls_cert_file, tls_key_file: host paths, mode 0400, owned by the service uid
    + networks: internal networks only (no published port)
    + host_roots: the declared roots its host paths sit under
    """
    check_image(image)
    return ContainerSpec(
        name="qdrant",
        image=image,
        healthcheck=Healthcheck(("CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{HTTP_PORT}")),
        mounts=(Mount(data_volume, STORAGE_PATH, type="bind" if data_volume.startswith("/") else "volume"),),
        secret_files=(SecretFile(config_file, CONFIG_PATH), SecretFile(tls_cert_file, TLS_CERT_PATH),
                      SecretFile(tls_key_file, TLS_KEY_PATH)),
        # Qdrant writes its init marker in the working directory unless told otherwise; the rootfs is read-only.
        env={"QDRANT_INIT_FILE_PATH": f"{STORAGE_PATH}/.qdrant-initialized", "QDRANT__SERVICE__ENABLE_TLS": "true",
             "QDRANT__TELEMETRY_DISABLED": "true"},
        memory_mb=2048,
        networks=tuple(networks),
        host_roots=tuple(host_roots),
    )


@dataclass
class DockerQdrantArgs:
    """+ spec: from qdrant_spec(...)
    + depends_on: volume, secret files, networks
    """

    spec: ContainerSpec
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class DockerQdrant(pulumi.ComponentResource):
    """Qdrant as a HardenedContainer on the internal network.

    Example: DockerQdrant("qdrant", DockerQdrantArgs(qdrant_spec(image, volume, cfg, crt, key, ["rae-backend"])))
    """

    def __init__(self, name: str, args: DockerQdrantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Qdrant", name, None, opts)
        require(not args.spec.ports, f"Qdrant {name}: its TLS cannot be limited to TLS 1.3, so it is never published",
                TLS.controls("min_version"))
        self.container = HardenedContainer(name, HardenedContainerArgs(args.spec, "Qdrant", args.depends_on),
                                           opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = f"https://{args.spec.name}:{HTTP_PORT}"
        self.register_outputs({"endpoint": self.endpoint})


def cloud_init(spec: ContainerSpec, secrets: dict[str, str], data_device: str) -> str:
    """cloud-config for COS: mount the CMEK data disk, fetch secrets into tmpfs (0400), run the spec.

    + spec: the ContainerSpec (secret_files' sources are the tmpfs paths written here)
    + secrets: tmpfs path -> Secret Manager resource name (projects/.../secrets/NAME)
    + data_device: /dev/disk/by-id/google-<device name> of the data disk
    """
    # COS ships neither Python nor jq: the two JSON answers are cut with sed.
    fetch = " && ".join(
        f"curl -sf -H \"Authorization: Bearer $TOKEN\" "
        f"https://secretmanager.googleapis.com/v1/{name}/versions/latest:access "
        f"| tr -d ' \\n' | sed -E 's/.*\"data\":\"([^\"]+)\".*/\\1/' | base64 -d "
        f"> {path} && chmod 0400 {path} && chown {spec.uid}:{spec.gid} {path}"
        for path, name in sorted(secrets.items()))
    token = ("TOKEN=$(curl -sf -H 'Metadata-Flavor: Google' "
             "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token "
             "| sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')")
    storage = f"{VM_DATA_PATH}/storage"
    # JSON is YAML: every command stays one exact string whatever quotes or colons it holds.
    return "#cloud-config\n" + json.dumps({
        "bootcmd": [
            f"blkid {data_device} || mkfs.ext4 -F {data_device}",
            f"mkdir -p {VM_DATA_PATH} && mount -o nodev,nosuid,noexec {data_device} {VM_DATA_PATH}",
            f"mkdir -p {storage} && chown {spec.uid}:{spec.gid} {storage} && chmod 0700 {storage}",
            f"mkdir -p {VM_SECRETS_PATH} && mount -t tmpfs -o size=1m,mode=0700 tmpfs {VM_SECRETS_PATH}",
        ],
        "runcmd": [
            ["sh", "-c", f"{token} && {fetch}"],
            ["docker", "run", "-d", *docker_run_args(spec)],
        ],
    }, indent=1) + "\n"


@dataclass
class GcpQdrantArgs:
    """+ image: qdrant/qdrant@sha256:...
    + zone, subnetwork: where the VM runs (internal address only)
    + kms_key: customer-managed key for the boot and data disks
    + service_account: email of Qdrant's own ServiceIdentity (accessor on its secrets only)
    + config_secret, tls_cert_secret, tls_key_secret: Secret Manager ids (projects/.../secrets/NAME)
    + network, client_tags: the VPC and the network tags of the only clients allowed in
    + depends_on: what the disks wait for (the key grant of the compute service agent)
    """

    image: str
    zone: str
    subnetwork: pulumi.Input[str]
    kms_key: pulumi.Input[str]
    service_account: pulumi.Input[str]
    config_secret: pulumi.Input[str]
    tls_cert_secret: pulumi.Input[str]
    tls_key_secret: pulumi.Input[str]
    network: pulumi.Input[str]
    client_tags: Sequence[str] = ("rae-api",)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    machine_type: str = "e2-standard-2"
    data_size_gb: int = 50
    project: str | None = None


class GcpQdrant(pulumi.ComponentResource):
    """Qdrant on a shielded Container-Optimized OS VM with CMEK disks and no external IP.

    Example: GcpQdrant("qdrant", GcpQdrantArgs(image, "europe-west4-a", subnet.id, key.id, sa.email, cfg.id, crt.id, k.id))
    """

    def __init__(self, name: str, args: GcpQdrantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Qdrant", name, None, opts)
        check_image(args.image)
        require(bool(args.kms_key), f"Qdrant VM {name}: a customer-managed key is required for its disks",
                KMS.controls("algorithm"))
        data = EncryptedVolume(f"{name}-data", EncryptedVolumeArgs("gcp", "qdrant", kms_key=args.kms_key,
                                                                   zone=args.zone, size_gb=args.data_size_gb,
                                                                   project=args.project, depends_on=args.depends_on),
                               opts=pulumi.ResourceOptions(parent=self))
        spec = qdrant_spec(args.image, f"{VM_DATA_PATH}/storage", f"{VM_SECRETS_PATH}/local.yaml",
                           f"{VM_SECRETS_PATH}/cert.pem", f"{VM_SECRETS_PATH}/key.pem", networks=(),
                           host_roots=(VM_DATA_PATH, VM_SECRETS_PATH))
        user_data = pulumi.Output.all(args.config_secret, args.tls_cert_secret, args.tls_key_secret).apply(
            lambda ids: cloud_init(spec, {f"{VM_SECRETS_PATH}/local.yaml": ids[0], f"{VM_SECRETS_PATH}/cert.pem": ids[1],
                                          f"{VM_SECRETS_PATH}/key.pem": ids[2]},
                                   data_device="/dev/disk/by-id/google-qdrant-data"))
        self.instance = gcp.compute.Instance(
            name, zone=args.zone, machine_type=args.machine_type, project=args.project,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                kms_key_self_link=args.kms_key,
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(image=COS_IMAGE, size=20,
                                                                                  type="pd-balanced")),
            attached_disks=[gcp.compute.InstanceAttachedDiskArgs(source=data.disk.id, device_name="qdrant-data",
                                                                 kms_key_self_link=args.kms_key)],
            # No access_configs: the VM has no external IP.
            network_interfaces=[gcp.compute.InstanceNetworkInterfaceArgs(subnetwork=args.subnetwork)],
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True),
            service_account=gcp.compute.InstanceServiceAccountArgs(email=args.service_account,
                                                                   scopes=["cloud-platform"]),
            metadata={"user-data": user_data, "block-project-ssh-keys": "true", "enable-oslogin": "TRUE",
                      "google-logging-enabled": "true"},
            tags=[NETWORK_TAG], labels={"rae-service": "qdrant"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        # Only the API (its Cloud Run egress carries the client tag) reaches Qdrant, on its HTTP port only.
        gcp.compute.Firewall(
            f"{name}-from-clients", network=args.network, direction="INGRESS", project=args.project,
            allows=[gcp.compute.FirewallAllowArgs(protocol="tcp", ports=[str(HTTP_PORT)])],
            source_tags=list(args.client_tags), target_tags=[NETWORK_TAG],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = self.instance.network_interfaces.apply(
            lambda nics: f"https://{nics[0].network_ip}:{HTTP_PORT}" if nics and nics[0].network_ip else None)
        self.register_outputs({"endpoint": self.endpoint})
