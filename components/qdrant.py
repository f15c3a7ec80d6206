"""Qdrant: the vector store, non-root, read-only, TLS on HTTP and gRPC, API keys only in a secret config file.

The runtime (version, config file, paths, both container specs) is components/qdrant_runtime.py.
Qdrant's TLS negotiates TLS 1.2 and has no minimum-version setting, so no client talks to Qdrant's own
TLS directly on either target: the store shares an internal network with its TLS 1.3 front only.

- docker: two HardenedContainers. The store (our image built from the pinned release's server binary, or
  the official image by digest), its storage, snapshots and temporary files on an EncryptedVolume, alone
  on its own internal network with its front; the front (our TLS proxy image) on the clients' network
  too, TLS 1.3 only, verifying the store's certificate by name. Neither is published on a host port.
- gcp: a Container-Optimized OS VM (Qdrant needs block storage), CMEK boot and data disks, no external
  IP, shielded VM. At every boot a systemd unit fetches each container's files (the store's config with the API keys,
  TLS key and CA; the front's config, TLS key, CA and client key) from Secret Manager into tmpfs with the VM's own
  service account, each file its reader's (0400), and a second unit, ordered after it and requiring it, pulls the
  images from Artifact Registry (docker-credential-gcr, the VM's identity: reader on those repositories only; Private
  Google Access is its only way out) and runs the same two ContainerSpecs with `docker run` arguments: the store
  (official image by digest only) on a VM-local internal docker network, never published; the front (our TLS proxy image by
  digest) on that network and one of its own, published on the VM's reserved VPC address only, on the REST and gRPC
  ports: TLS 1.3 only, a client certificate of the stack's CA required (the API's, CN `rae-api`), the store's
  certificate verified by name, its own client certificate presented to the store. The firewall admits the API's
  network tag only, on the front's two ports only. Rendered and judged under Pulumi mocks only: no machine of ours
  reaches GCP, so no VM has run this cloud-init.
"""

import ipaddress
import json
import shlex
from dataclasses import dataclass, field, fields, replace
from typing import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

import posture.network as network_posture
import posture.vm as vm_posture
from baseline import COMPUTE, CONTAINER, SECRETS, TLS, require
from components.container import HardenedContainer, HardenedContainerArgs
from components.qdrant_runtime import (CONFIG_PATH, FRONT_NAME, GRPC_PORT, HTTP_PORT, STORE_NAME, FrontSecrets,
                                       QdrantSecrets, check_image, config_yaml, front_config, front_spec, qdrant_spec)
from components.spec import ContainerSpec, docker_run_args
from components.volume import EncryptedVolume, EncryptedVolumeArgs
from posture.model import require_holds

__all__ = ["CONFIG_PATH", "COS_IMAGE", "DockerQdrant", "DockerQdrantArgs", "GcpQdrant", "GcpQdrantArgs", "cloud_init",
           "config_yaml", "front_config", "qdrant_spec"]

COS_IMAGE = "cos-cloud/cos-stable"
VM_DATA_PATH = "/mnt/disks/qdrant"
NETWORK_TAG = "rae-qdrant"
VM_SECRETS_PATH = "/run/qdrant"
# The VM's docker networks: the store's (internal: no route in or out but its front) and the front's own, where its
# ports are published on the VM's address.
VM_STORE_NETWORK = "rae-qdrant"
VM_FRONT_NETWORK = "rae-qdrant-front"
NO_OUTBOUND_NAT = "com.docker.network.bridge.enable_ip_masquerade=false"
# Where the secrets unit writes each secret file (tmpfs, SECRETS.file_mode, its reader's uid) and each container
# mounts it from.
VM_STORE_FILES = QdrantSecrets(config=f"{VM_SECRETS_PATH}/local.yaml", tls_cert=f"{VM_SECRETS_PATH}/cert.pem",
                               tls_key=f"{VM_SECRETS_PATH}/key.pem", ca_cert=f"{VM_SECRETS_PATH}/ca.pem")
VM_FRONT_FILES = FrontSecrets(config=f"{VM_SECRETS_PATH}/front.cfg", tls_cert=f"{VM_SECRETS_PATH}/front-cert.pem",
                              tls_key=f"{VM_SECRETS_PATH}/front-key.pem", ca_cert=f"{VM_SECRETS_PATH}/front-ca.pem",
                              client_cert=f"{VM_SECRETS_PATH}/front-client-cert.pem",
                              client_key=f"{VM_SECRETS_PATH}/front-client-key.pem")


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


def _start(spec: ContainerSpec) -> list[list[str]]:
    """The commands that start `spec` on all its networks. Older engines refuse a second `--network` at creation
    (Docker 20.10 here: "cannot be connected to network endpoints"), and a COS release may ship one: create on the
    first network (where its ports are published), connect the others, then start (HAProxy resolves names once)."""
    first, *others = spec.networks or (None,)
    if not others:
        return [["docker", "run", "-d", *docker_run_args(spec)]]
    return [["docker", "create", *docker_run_args(replace(spec, networks=(first,)))],
            *(["docker", "network", "connect", network, spec.name] for network in others),
            ["docker", "start", spec.name]]


# Units cloud-init writes and starts (COS keeps /etc and /var/lib/cloud on tmpfs: it applies the cloud-config at every
# boot). The secrets unit fetches every file again on each boot (the tmpfs is empty after a reboot); the containers
# unit requires it and starts after it, so no container starts on a boot whose secrets were not fetched.
SECRETS_UNIT = "rae-qdrant-secrets.service"
CONTAINERS_UNIT = "rae-qdrant.service"
VM_SCRIPTS_PATH = "/etc/rae-qdrant"
# docker-credential-gcr writes the registry credential helper's config under $HOME: root's home is read-only on COS.
VM_DOCKER_HOME = "/var/lib/rae-qdrant"


def _unit(description: str, script: str, after: tuple[str, ...], before: tuple[str, ...] = ()) -> str:
    lines = ["[Unit]", f"Description={description}", f"Wants={' '.join(after)}", f"After={' '.join(after)}"]
    lines += [f"Before={' '.join(before)}"] if before else []
    return "\n".join([*lines, "", "[Service]", "Type=oneshot", "RemainAfterExit=yes",
                      f"ExecStart=/bin/bash {script}", "", "[Install]", "WantedBy=multi-user.target", ""])


def _registries(*images: str) -> list[str]:
    """The registry hosts the images are pulled from (docker-credential-gcr answers for Artifact Registry's)."""
    hosts = {image.split("/", 1)[0] for image in images if "/" in image}
    return sorted(host for host in hosts if host.endswith(".pkg.dev"))


def cloud_init(store: ContainerSpec, front: ContainerSpec, secrets: Mapping[str, str], data_device: str) -> str:
    """cloud-config for COS: mount the CMEK data disk and a tmpfs for the secrets (bootcmd: every boot), then two
    systemd units: one fetches the secrets into the tmpfs (each file its reader's, SECRETS.file_mode) and one, ordered
    after it and requiring it, creates the store's internal network and the front's own, runs the store on the first
    only, then its front on both. Both run at every boot.

    + store: the store's ContainerSpec: on internal networks only, nothing published (reached from its front only)
    + front: the front's ContainerSpec: a network of its own first (its ports are published there), then the store's
    + secrets: tmpfs path -> Secret Manager resource name (projects/.../secrets/NAME); each path is a secret file
      source of exactly one of the two specs, and every secret file source is one of these paths
    + data_device: /dev/disk/by-id/google-<device name> of the data disk
    """
    controls = TLS.controls("min_version")
    require(not store.ports and bool(store.networks),
            f"Qdrant VM: the store {store.name} is never published and runs on its internal network only: its own TLS "
            f"accepts TLS 1.2, so clients reach it through its TLS 1.3 front", controls)
    require(bool(front.networks) and front.networks[0] not in store.networks
            and set(store.networks) <= set(front.networks[1:]),
            f"Qdrant VM: the front {front.name} needs a network of its own first (its published ports) and the store's "
            f"networks {list(store.networks)} after it", controls)
    readers = {}
    for spec in (store, front):
        for secret in spec.secret_files:
            require(secret.source in secrets and secret.source not in readers,
                    f"Qdrant VM: secret file {secret.source} of {spec.name} is not fetched, or is another container's: "
                    f"each file belongs to one reader", SECRETS.controls("delivery"))
            readers[secret.source] = spec
    require(set(secrets) == set(readers), f"Qdrant VM: secrets {sorted(set(secrets) - set(readers))} have no reader",
            SECRETS.controls("delivery"))
    mode = f"{SECRETS.file_mode:04o}"
    # COS ships neither Python nor jq: the two JSON answers are cut with sed. A file is written under umask 077, then
    # given to its reader. One command per line: `set -e` stops at the first failed fetch (it would not inside an
    # `&&` list), which fails the unit, and the containers unit with it.
    fetch = [line for path, name in sorted(secrets.items()) for line in (
        f"curl -sf -H \"Authorization: Bearer $TOKEN\" "
        f"https://secretmanager.googleapis.com/v1/{name}/versions/latest:access "
        f"| tr -d ' \\n' | sed -E 's/.*\"data\":\"([^\"]+)\".*/\\1/' | base64 -d > {path}",
        f"chmod {mode} {path}", f"chown {readers[path].uid}:{readers[path].gid} {path}")]
    token = ("TOKEN=$(curl -sf -H 'Metadata-Flavor: Google' "
             "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token "
             "| sed -E 's/.*\"access_token\":\"([^\"]+)\".*/\\1/')")
    fetch_script = "\n".join(["#!/bin/bash", "set -euo pipefail", "umask 077",
                               f"grep -q ' {VM_SECRETS_PATH} tmpfs ' /proc/mounts", token, *fetch, ""])
    # The containers are made again from their specs at every boot: what runs is what was declared.
    networks = [["docker", "network", "create", "--internal", network] for network in store.networks]
    # Published ports answer without outbound NAT; the front gets no route out through its own network.
    networks += [["docker", "network", "create", "--opt", NO_OUTBOUND_NAT, network]
                 for network in front.networks if network not in store.networks]
    registries = _registries(store.image, front.image)
    storage = f"{VM_DATA_PATH}/storage"
    start_script = "\n".join([
        "#!/bin/bash", "set -euo pipefail", f"export HOME={VM_DOCKER_HOME}", f"mkdir -p {VM_DOCKER_HOME}",
        *([shlex.join(["docker-credential-gcr", "configure-docker", f"--registries={','.join(registries)}"])]
          if registries else []),
        shlex.join(["docker", "rm", "-f", front.name, store.name]) + " || true",
        *(f"docker network inspect {shlex.quote(command[-1])} >/dev/null 2>&1 || {shlex.join(command)}"
          for command in networks),
        *(shlex.join(command) for command in (*_start(store), *_start(front))), ""])
    # JSON is YAML: every command stays one exact string whatever quotes or colons it holds.
    return "#cloud-config\n" + json.dumps({
        "bootcmd": [
            f"blkid {data_device} || mkfs.ext4 -F {data_device}",
            f"mkdir -p {VM_DATA_PATH} && mount -o nodev,nosuid,noexec {data_device} {VM_DATA_PATH}",
            f"mkdir -p {storage} && chown {store.uid}:{store.gid} {storage} && chmod 0700 {storage}",
            f"mkdir -p {VM_SECRETS_PATH} && mount -t tmpfs -o size=1m,mode=0700 tmpfs {VM_SECRETS_PATH}",
        ],
        "write_files": [
            {"path": f"{VM_SCRIPTS_PATH}/fetch-secrets.sh", "permissions": "0700", "content": fetch_script},
            {"path": f"{VM_SCRIPTS_PATH}/start.sh", "permissions": "0700", "content": start_script},
            {"path": f"/etc/systemd/system/{SECRETS_UNIT}", "permissions": "0644",
             "content": _unit("RAE Qdrant: fetch the containers' files from Secret Manager into tmpfs",
                              f"{VM_SCRIPTS_PATH}/fetch-secrets.sh", ("network-online.target",), (CONTAINERS_UNIT,))},
            {"path": f"/etc/systemd/system/{CONTAINERS_UNIT}", "permissions": "0644",
             "content": _unit("RAE Qdrant: the store and its TLS 1.3 front", f"{VM_SCRIPTS_PATH}/start.sh",
                              ("docker.service", SECRETS_UNIT)).replace(
                 f"Wants=docker.service {SECRETS_UNIT}", f"Requires=docker.service {SECRETS_UNIT}")},
        ],
        "runcmd": [["systemctl", "daemon-reload"], ["systemctl", "start", CONTAINERS_UNIT]],
    }, indent=1) + "\n"


@dataclass
class GcpQdrantArgs:
    """+ image: qdrant/qdrant@sha256:...
    + front_image: the TLS proxy image by digest (REGISTRY/PATH@sha256:...): the store's TLS 1.3 front
    + zone, subnetwork: where the VM runs (internal address only)
    + address: the VM's internal address in the subnetwork, reserved: the front is published there and nowhere else,
      the clients' URL and the front's certificate name it
    + kms_key: customer-managed key for the boot and data disks
    + service_account: email of Qdrant's own ServiceIdentity (accessor on its secrets only)
    + store_secrets: Secret Manager ids (projects/.../secrets/NAME) of the store's files: its config (API keys,
      `config_yaml(..., require_client_certificate=True)`), certificate (name STORE_NAME), key and the CA
    + front_secrets: Secret Manager ids of the front's files: `front_config()`, its certificate (naming `address`),
      key, the CA, and its client certificate and key towards the store (CN FRONT_NAME, client use only)
    + network, client_tags: the VPC and the network tags of the only clients allowed in
    + depends_on: what the disks wait for (the key grant of the compute service agent)
    """

    image: str
    front_image: str
    zone: str
    subnetwork: pulumi.Input[str]
    address: str
    kms_key: pulumi.Input[str]
    service_account: pulumi.Input[str]
    store_secrets: QdrantSecrets
    front_secrets: FrontSecrets
    network: pulumi.Input[str]
    client_tags: Sequence[str] = ("rae-api",)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    machine_type: str = "e2-standard-2"
    data_size_gb: int = 50
    project: str | None = None


def _values(files: QdrantSecrets | FrontSecrets) -> tuple:
    """The fields in order, as they are (dataclasses.astuple would deep-copy the Outputs)."""
    return tuple(getattr(files, each.name) for each in fields(files))


def _private_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and ip.is_private and not (ip.is_loopback or ip.is_unspecified or ip.is_link_local)


class GcpQdrant(pulumi.ComponentResource):
    """Qdrant on a shielded Container-Optimized OS VM with CMEK disks and no external IP: the store on a VM-local
    internal network, its TLS 1.3 front published on the VM's reserved internal address, reached by the API's tag only.

    Example: GcpQdrant("qdrant", GcpQdrantArgs(image, proxy_image, "europe-west4-a", subnet.id, "10.20.0.10", key.id,
                                               sa.email, QdrantSecrets(cfg.id, crt.id, k.id, ca.id),
                                               FrontSecrets(fcfg.id, fcrt.id, fk.id, ca.id, fccrt.id, fck.id), vpc.id))
    """

    def __init__(self, name: str, args: GcpQdrantArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Qdrant", name, None, opts)
        check_image(args.image, local_build_allowed=False)
        require(_private_address(args.address),
                f"Qdrant VM {name}: the front's address {args.address!r} must be one private IPv4 address of the "
                f"subnetwork (never a wildcard, loopback or public address)", CONTAINER.controls("bind_addresses"))
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
        # it would name no source, and GCP then admits the whole internet. It opens the front's ports only.
        firewall = {"direction": "INGRESS", "allows": [{"protocol": "tcp", "ports": [str(HTTP_PORT), str(GRPC_PORT)]}],
                    "sourceTags": list(args.client_tags)}
        require_holds(network_posture.judge(network_posture.from_pulumi(f"{name}-from-clients", firewall)),
                      f"Qdrant firewall {name}-from-clients")
        # The containers are ContainerSpecs: the container posture model judged both before anything is declared.
        roots = (VM_DATA_PATH, VM_SECRETS_PATH)
        store = qdrant_spec(args.image, f"{VM_DATA_PATH}/storage", VM_STORE_FILES, networks=(VM_STORE_NETWORK,),
                            name=STORE_NAME, local_build_allowed=False, host_roots=roots)
        front = front_spec(args.front_image, VM_FRONT_FILES, networks=(VM_FRONT_NETWORK, VM_STORE_NETWORK),
                           name=FRONT_NAME, host_roots=roots, publish_on=args.address, local_build_allowed=False)
        data = EncryptedVolume(f"{name}-data", EncryptedVolumeArgs("gcp", "qdrant", kms_key=args.kms_key,
                                                                   zone=args.zone, size_gb=args.data_size_gb,
                                                                   project=args.project, depends_on=args.depends_on),
                               opts=pulumi.ResourceOptions(parent=self))
        paths = (*_values(VM_STORE_FILES), *_values(VM_FRONT_FILES))
        ids = (*_values(args.store_secrets), *_values(args.front_secrets))
        user_data = pulumi.Output.all(*ids).apply(
            lambda resolved: cloud_init(store, front, dict(zip(paths, resolved)),
                                        data_device="/dev/disk/by-id/google-qdrant-data"))
        # Reserved, so the front's published address, its certificate and the clients' URL stay what they name.
        self.address = gcp.compute.Address(
            f"{name}-address", address_type="INTERNAL", address=args.address, subnetwork=args.subnetwork,
            region=args.zone.rsplit("-", 1)[0], project=args.project, opts=pulumi.ResourceOptions(parent=self))
        self.instance = gcp.compute.Instance(
            name, zone=args.zone, machine_type=args.machine_type, project=args.project,
            boot_disk=gcp.compute.InstanceBootDiskArgs(
                kms_key_self_link=args.kms_key,
                initialize_params=gcp.compute.InstanceBootDiskInitializeParamsArgs(image=COS_IMAGE, size=20,
                                                                                  type="pd-balanced")),
            attached_disks=[gcp.compute.InstanceAttachedDiskArgs(source=data.disk.id, device_name="qdrant-data",
                                                                 kms_key_self_link=args.kms_key)],
            # No access_configs: the VM has no external IP.
            network_interfaces=[gcp.compute.InstanceNetworkInterfaceArgs(subnetwork=args.subnetwork,
                                                                         network_ip=args.address)],
            shielded_instance_config=gcp.compute.InstanceShieldedInstanceConfigArgs(
                enable_secure_boot=view.shielded["enableSecureBoot"], enable_vtpm=view.shielded["enableVtpm"],
                enable_integrity_monitoring=view.shielded["enableIntegrityMonitoring"]),
            service_account=gcp.compute.InstanceServiceAccountArgs(email=args.service_account,
                                                                   scopes=["cloud-platform"]),
            can_ip_forward=view.can_ip_forward,
            metadata={"user-data": user_data, **view.metadata, "google-logging-enabled": "true"},
            tags=[NETWORK_TAG], labels={"rae-service": "qdrant"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, self.address]))
        # Only the API (its Cloud Run egress carries the client tag) reaches Qdrant, on its front's ports only.
        gcp.compute.Firewall(
            f"{name}-from-clients", network=args.network, direction=firewall["direction"], project=args.project,
            allows=[gcp.compute.FirewallAllowArgs(**allow) for allow in firewall["allows"]],
            source_tags=firewall["sourceTags"], target_tags=[NETWORK_TAG],
            log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"),
            opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = f"https://{args.address}:{HTTP_PORT}"
        self.grpc_endpoint = f"https://{args.address}:{GRPC_PORT}"
        self.register_outputs({"endpoint": self.endpoint, "grpc_endpoint": self.grpc_endpoint})
