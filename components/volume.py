"""EncryptedVolume: data storage that is encrypted at rest, or an exemption that is loud and on record.

- gcp: a `compute.Disk` encrypted with a customer-managed KMS key (the key is required).
- docker: a local-driver volume bound to a host directory that must sit on a LUKS (dm-crypt) block
  device, checked against the kernel when the program runs (components.block_device). A host without
  dm-crypt (a dev machine) needs the explicit exemption `dev-only: <reason>`; it is exported as a
  stack output and labelled on the volume, and the compliance report marks A.8.24 failing for it.
"""

import os
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_docker as docker
import pulumi_gcp as gcp

from baseline import CONTAINER, LUKS, require
from components import block_device
from components.container import labels
from components.host_files import HostDirectory
from posture.container import service_user


EXEMPTION_PREFIX = "dev-only:"
LABEL_ENCRYPTION = "org.rae.hardening.encryption"


def check_exemption(exemption: str | None) -> None:
    """An exemption must say it is for development and why; an empty or vague one is refused."""
    if exemption is None:
        return
    reason = exemption[len(EXEMPTION_PREFIX):].strip() if exemption.startswith(EXEMPTION_PREFIX) else ""
    require(len(reason) >= 10,
            f"unencrypted-volume exemption {exemption!r} must read '{EXEMPTION_PREFIX} <reason of 10+ characters>'",
            LUKS.controls("required_for"))


def host_path_encryption(what: str, path: str, exemption: str | None, resource: pulumi.Resource | None = None) -> str:
    """How a host path is encrypted: "luks: ..." or "EXEMPT (<reason>): ..." (warned); refused otherwise.

    + what: the thing stored there, for messages ("volume pgdata", "secret files")
    + path: absolute host path (need not exist yet)
    + exemption: "dev-only: <reason>" or None
    """
    check_exemption(exemption)
    status = block_device.block_device_status(path)
    if status.encrypted:
        return f"luks: {status.describe()}"
    require(exemption is not None,
            f"{what}: data path {status.describe()}; put it on a LUKS2 device, or set "
            f"rae:allowUnencryptedVolumes to '{EXEMPTION_PREFIX} <reason>' on a development machine",
            LUKS.controls("required_for"))
    encryption = f"EXEMPT ({exemption}): {status.describe()}"
    pulumi.log.warn(f"{', '.join(LUKS.controls('required_for'))} NOT MET for {what}: {encryption}", resource=resource)
    return encryption


@dataclass
class EncryptedVolumeArgs:
    """+ target: "docker" or "gcp"
    + service: the service whose data it holds (labels; the owner unless `owner` says otherwise)
    + owner: the service (a key of baseline CONTAINER.service_users) whose uid and gid own the directory
    docker:
    + host_path: absolute directory on the Docker host, on a LUKS device
    + unencrypted_exemption: "dev-only: <reason>" to accept an unencrypted host path, on record
    gcp:
    + kms_key: id of the customer-managed key (required)
    + zone, size_gb, project
    + keep_data: protect the data from `pulumi destroy` (false only when an operator releases it)
    + depends_on: what the disk waits for (the key grant of the compute service agent)
    """

    target: str
    service: str
    host_path: str | None = None
    owner: str | None = None
    unencrypted_exemption: str | None = None
    kms_key: pulumi.Input[str] | None = None
    zone: str | None = None
    size_gb: int = 20
    project: str | None = None
    keep_data: bool = True
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class EncryptedVolume(pulumi.ComponentResource):
    """Encrypted data storage for one service.

    Example: EncryptedVolume("pgdata", EncryptedVolumeArgs("docker", "postgres", host_path="/srv/data/postgres"))
    """

    volume_name: pulumi.Output[str]
    encryption: str

    def __init__(self, name: str, args: EncryptedVolumeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:EncryptedVolume", name, None, opts)
        require(args.target in ("docker", "gcp"), f"volume {name}: unknown target {args.target!r}",
                LUKS.controls("required_for"))
        if args.target == "gcp":
            self._disk(name, args)
        else:
            self._docker_volume(name, args)
        self.register_outputs({"volume": self.volume_name, "encryption": self.encryption})

    def _disk(self, name: str, args: EncryptedVolumeArgs) -> None:
        require(args.kms_key is not None and args.kms_key != "",
                f"disk {name}: a customer-managed KMS key is required", LUKS.controls("required_for"))
        self.disk = gcp.compute.Disk(
            name, zone=args.zone, size=args.size_gb, type="pd-ssd", project=args.project,
            disk_encryption_key=gcp.compute.DiskDiskEncryptionKeyArgs(kms_key_self_link=args.kms_key),
            labels={"rae-service": args.service},
            opts=pulumi.ResourceOptions(parent=self, protect=args.keep_data, depends_on=list(args.depends_on)))
        self.volume_name = self.disk.name
        self.encryption = "cmek"

    def _docker_volume(self, name: str, args: EncryptedVolumeArgs) -> None:
        path = args.host_path or ""
        require(os.path.isabs(path), f"volume {name}: host path {path!r} must be absolute",
                CONTAINER.controls("forbidden_mounts"))
        require(os.path.normpath(path) not in CONTAINER.forbidden_mounts,
                f"volume {name}: host path {path} is a system tree", CONTAINER.controls("forbidden_mounts"))
        self.encryption = host_path_encryption(f"volume {name}", path, args.unencrypted_exemption, self)
        encrypted = not self.encryption.startswith("EXEMPT")
        directory = HostDirectory(f"{name}-dir", path, *service_user(args.owner or args.service),
                                  remove_on_delete=not args.keep_data,
                                  opts=pulumi.ResourceOptions(parent=self, protect=args.keep_data))
        self.docker_volume_name = f"rae-{pulumi.get_stack()}-{name}"
        volume_labels = labels("EncryptedVolume", args.service) | {LABEL_ENCRYPTION: "luks" if encrypted else "exempt"}
        driver_opts = {"type": "none", "o": "bind", "device": path}
        volume_opts = pulumi.ResourceOptions(parent=self, depends_on=[directory])
        self.volume = docker.Volume(
            name, name=self.docker_volume_name, driver="local", driver_opts=driver_opts,
            labels=[docker.VolumeLabelArgs(label=key, value=value) for key, value in volume_labels.items()],
            opts=volume_opts)
        self.volume_name = self.volume.name
