"""Qdrant: the vector store, non-root, read-only, TLS on HTTP and gRPC, API keys only in a secret config file.

The runtime (version, config file, paths, both container specs) is components/qdrant_runtime.py.
Qdrant's TLS negotiates TLS 1.2 and has no minimum-version setting, so no client talks to Qdrant's own
TLS directly on the docker target: the store shares an internal network with its TLS 1.3 front only.

- docker: two HardenedContainers. The store (our image built from the pinned release's server binary, or
  the official image by digest), its storage, snapshots and temporary files on an EncryptedVolume, alone
  on its own internal network with its front; the front (our TLS proxy image) on the clients' network
  too, TLS 1.3 only, verifying the store's certificate by name. Neither is published on a host port.
- gcp: a Container-Optimized OS VM (Qdrant needs block storage), CMEK boot and data disks, no external
  IP, shielded VM; cloud-init runs the store's ContainerSpec (official image by digest only) with
  `docker run`, fetching the config (API keys), TLS key and CA from Secret Manager into tmpfs with the VM's
  own service account. The VM has no TLS 1.3 front yet: its firewall admits the API's tag only.
"""

import json
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

import posture.network as network_posture
import posture.vm as vm_posture
from baseline import COMPUTE, CONTAINER, TLS, require
from components.container import HardenedContainer, HardenedContainerArgs
from components.qdrant_runtime import (CONFIG_PATH, FRONT_NAME, GRPC_PORT, HTTP_PORT, STORE_NAME, FrontSecrets,
                                       QdrantSecrets, check_image, config_yaml, front_spec, qdrant_spec)
from components.spec import ContainerSpec, docker_run_args
from components.volume import EncryptedVolume, EncryptedVolumeArgs
from posture.model import require_holds

__all__ = ["CONFIG_PATH", "COS_IMAGE", "DockerQdrant", "DockerQdrantArgs", "GcpQdrant", "GcpQdrantArgs", "cloud_init",
           "config_yaml", "qdrant_spec"]

COS_IMAGE = "cos-cloud/cos-stable"
VM_DATA_PATH = "/mnt/disks/qdrant"
NETWORK_TAG = "rae-qdrant"
VM_SECRETS_PATH = "/run/qdrant"


@dataclass
class DockerQdrantArgs:
    """+ image: our build's image id (build/images.json "qdrant") or qdrant/qdrant@sha256:...
    + front_image: the TLS proxy image id (build/images.json "tls-proxy")
    + data_volume: the EncryptedVolume's docker volume name (or host directory)
    + store_secrets, front_secrets: host paths of the secret files (qdrant_runtime.QdrantSecrets, FrontSecrets)
    + store_network: internal network of the store and its front only
    + client_networks: networks of Qdrant's clients; the front joins them
    + depends_on: volume, secret files, networks
    + host_roots: the declared roots the data directory and secret files sit under
    """

    image: str
    front_image: str
    data_volume: str
    store_secrets: QdrantSecrets
    front_secrets: FrontSecrets
    store_network: str
    client_networks: Sequence[str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    host_roots: Sequence[str] = CONTAINER.host_roots


class DockerQdrant(pulumi.ComponentResource):
    """Qdrant's store and its TLS 1.3 front as HardenedContainers on internal networks, never published.

    Example: DockerQdrant("qdrant", DockerQdrantArgs(qdrant_id, proxy_id, volume, QdrantSecrets(...), FrontSecrets(...),
                                                     "rae-local-qdrant", ["rae-local-backend"]))
    """

    def __init__(self, name: str, args: DockerQdrantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Qdrant", name, None, opts)
        require(args.store_network not in args.client_networks,
                f"Qdrant {name}: the store's network {args.store_network} must not be a client network: Qdrant's "
                "own TLS accepts TLS 1.2, so clients reach it through its TLS 1.3 front only", TLS.controls("min_version"))
        store = qdrant_spec(args.image, args.data_volume, args.store_secrets, networks=(args.store_network,),
                            name=STORE_NAME, host_roots=tuple(args.host_roots))
        front = front_spec(args.front_image, args.front_secrets, networks=(*args.client_networks, args.store_network),
                           name=FRONT_NAME, host_roots=tuple(args.host_roots))
        for spec in (store, front):
            require(not spec.ports, f"Qdrant {name}: {spec.name} is reached on internal networks only, never published",
                    TLS.controls("min_version"))
        self.store = HardenedContainer(f"{name}-store", HardenedContainerArgs(store, "Qdrant", args.depends_on),
                                       opts=pulumi.ResourceOptions(parent=self))
        self.front = HardenedContainer(f"{name}-front", HardenedContainerArgs(front, "Qdrant", args.depends_on),
                                       opts=pulumi.ResourceOptions(parent=self, depends_on=[self.store]))
        self.endpoint = f"https://{FRONT_NAME}:{HTTP_PORT}"
        self.grpc_endpoint = f"https://{FRONT_NAME}:{GRPC_PORT}"
        self.register_outputs({"endpoint": self.endpoint, "grpc_endpoint": self.grpc_endpoint})


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
    + config_secret, tls_cert_secret, tls_key_secret, ca_cert_secret: Secret Manager ids (projects/.../secrets/NAME)
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
    ca_cert_secret: pulumi.Input[str]
    network: pulumi.Input[str]
    client_tags: Sequence[str] = ("rae-api",)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    machine_type: str = "e2-standard-2"
    data_size_gb: int = 50
    project: str | None = None


class GcpQdrant(pulumi.ComponentResource):
    """Qdrant on a shielded Container-Optimized OS VM with CMEK disks and no external IP.

    Example: GcpQdrant("qdrant", GcpQdrantArgs(image, "europe-west4-a", subnet.id, key.id, sa.email, cfg.id, crt.id, k.id,
                                               ca.id, vpc.id))
    """

    def __init__(self, name: str, args: GcpQdrantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Qdrant", name, None, opts)
        check_image(args.image, local_build_allowed=False)
        # The VM's settings come from a view the VM posture model judged: what the gate requires, by construction.
        view = vm_posture.VmView(
            source="GcpQdrant", name=name, shielded=dict.fromkeys(COMPUTE.shielded_vm, True),
            disks=(("bootDisk", "customer-managed" if args.kms_key else ""),),
            service_account=args.service_account if isinstance(args.service_account, str) else None,
            metadata={"enable-oslogin": str(COMPUTE.os_login).upper(),
                      "block-project-ssh-keys": str(COMPUTE.block_project_ssh_keys).upper()},
            can_ip_forward=COMPUTE.ip_forwarding_allowed)
        require_holds(vm_posture.judge(view), f"Qdrant VM {name}")
        # The firewall too is built from a view the network posture model judged (RAE-NET-001): with no client tag
        # it would name no source, and GCP then admits the whole internet.
        firewall = {"direction": "INGRESS", "allows": [{"protocol": "tcp", "ports": [str(HTTP_PORT)]}],
                    "sourceTags": list(args.client_tags)}
        require_holds(network_posture.judge(network_posture.from_pulumi(f"{name}-from-clients", firewall)),
                      f"Qdrant firewall {name}-from-clients")
        data = EncryptedVolume(f"{name}-data", EncryptedVolumeArgs("gcp", "qdrant", kms_key=args.kms_key,
                                                                   zone=args.zone, size_gb=args.data_size_gb,
                                                                   project=args.project, depends_on=args.depends_on),
                               opts=pulumi.ResourceOptions(parent=self))
        files = {"config": f"{VM_SECRETS_PATH}/local.yaml", "tls_cert": f"{VM_SECRETS_PATH}/cert.pem",
                 "tls_key": f"{VM_SECRETS_PATH}/key.pem", "ca_cert": f"{VM_SECRETS_PATH}/ca.pem"}
        spec = qdrant_spec(args.image, f"{VM_DATA_PATH}/storage", QdrantSecrets(**files), networks=(),
                           local_build_allowed=False, host_roots=(VM_DATA_PATH, VM_SECRETS_PATH))
        user_data = pulumi.Output.all(args.config_secret, args.tls_cert_secret, args.tls_key_secret,
                                      args.ca_cert_secret).apply(
            lambda ids: cloud_init(spec, dict(zip(files.values(), ids)), data_device="/dev/disk/by-id/google-qdrant-data"))
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
                enable_secure_boot=view.shielded["enableSecureBoot"], enable_vtpm=view.shielded["enableVtpm"],
                enable_integrity_monitoring=view.shielded["enableIntegrityMonitoring"]),
            service_account=gcp.compute.InstanceServiceAccountArgs(email=args.service_account,
                                                                   scopes=["cloud-platform"]),
            can_ip_forward=view.can_ip_forward,
            metadata={"user-data": user_data, **view.metadata, "google-logging-enabled": "true"},
            tags=[NETWORK_TAG], labels={"rae-service": "qdrant"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        # Only the API (its Cloud Run egress carries the client tag) reaches Qdrant, on its HTTP port only.
        gcp.compute.Firewall(
            f"{name}-from-clients", network=args.network, direction=firewall["direction"], project=args.project,
            allows=[gcp.compute.FirewallAllowArgs(**allow) for allow in firewall["allows"]],
            source_tags=firewall["sourceTags"], target_tags=[NETWORK_TAG],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = self.instance.network_interfaces.apply(
            lambda nics: f"https://{nics[0].network_ip}:{HTTP_PORT}" if nics and nics[0].network_ip else None)
        self.register_outputs({"endpoint": self.endpoint})
