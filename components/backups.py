"""Backups: where encrypted copies of the data go, immutable for the retention window.

- gcp: a GCS bucket with CMEK, versioning, a retention policy (objects cannot be deleted early),
  uniform bucket-level access and public access prevention; writers get objectCreator on the bucket
  only. Cloud SQL's own automated backups + PITR are configured on the instance (components.postgres).
- docker: a backup directory on an EncryptedVolume (second location) and the backup encryption key as
  a host secret file; the dump itself is components.backup_runtime's encrypted pg_dump (openssl
  aes-256-cbc, PBKDF2 with the baseline iteration count), run by the command this component exports
  (from cron or a systemd timer on the Docker host).
"""

import shlex
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

from baseline import BACKUP, require
from components.identity import ResourceGrant, grant
from components.volume import EncryptedVolume, EncryptedVolumeArgs

SERVES = ((BACKUP, "retention_days"), (BACKUP, "bucket_retention_days"), (BACKUP, "encryption"),
          (BACKUP, "pbkdf2_iterations"), (BACKUP, "copies"))

OBJECT_CREATOR = "roles/storage.objectCreator"
BACKUP_RUNTIME = "components.backup_runtime"
_DAY_SECONDS = 86400


@dataclass
class BucketBackupsArgs:
    """+ location: bucket location (region or multi-region for the off-site copy)
    + kms_key: customer-managed key id (required)
    + writers: IAM members allowed to create objects (never delete)
    + retention_days: at least baseline.BACKUP.bucket_retention_days
    """

    location: str
    kms_key: pulumi.Input[str]
    writers: Sequence[pulumi.Input[str]] = field(default_factory=tuple)
    retention_days: int = BACKUP.bucket_retention_days
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    project: str | None = None


class BucketBackups(pulumi.ComponentResource):
    """A backup bucket that is private, CMEK-encrypted, versioned and under a retention policy.

    Example: BucketBackups("backups", BucketBackupsArgs("EU", keys.keys["backups"].id, [backup_sa.member]))
    """

    def __init__(self, name: str, args: BucketBackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Backups", name, None, opts)
        require(bool(args.kms_key), f"backup bucket {name}: a customer-managed key is required",
                BACKUP.controls("encryption"))
        require(args.retention_days >= BACKUP.bucket_retention_days,
                f"backup bucket {name}: retention {args.retention_days} d is shorter than the baseline's "
                f"{BACKUP.bucket_retention_days} d", BACKUP.controls("bucket_retention_days"))
        self.bucket = gcp.storage.Bucket(
            name, location=args.location, project=args.project, storage_class="STANDARD", force_destroy=False,
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key),
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            retention_policy=gcp.storage.BucketRetentionPolicyArgs(retention_period=args.retention_days * _DAY_SECONDS),
            uniform_bucket_level_access=True, public_access_prevention="enforced",
            labels={"rae-purpose": "backups"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), protect=True))
        for index, writer in enumerate(args.writers):
            grant(f"{name}-writer-{index}", ResourceGrant("bucket", self.bucket.name, OBJECT_CREATOR), writer, self)
        self.register_outputs({"bucket": self.bucket.url})


@dataclass
class DockerBackupsArgs:
    """+ host_path: the backup directory (a second device; must be encrypted like the data)
    + unencrypted_exemption: "dev-only: <reason>", as for EncryptedVolume
    + key_file: host path of the backup encryption key (a Secrets file)
    + postgres_container: the container the dump is taken from
    + keep_data: protect the backups from `pulumi destroy` (false only when an operator releases the data)
    """

    host_path: str
    key_file: str
    postgres_container: str
    unencrypted_exemption: str | None = None
    keep_data: bool = True


class DockerBackups(pulumi.ComponentResource):
    """The encrypted backup location of a Docker host and the command that fills it.

    Example: DockerBackups("backups", DockerBackupsArgs("/srv/backup/rae", secrets.files["backup-key"], "postgres"))
    """

    def __init__(self, name: str, args: DockerBackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Backups", name, None, opts)
        self.volume = EncryptedVolume(
            f"{name}-store", EncryptedVolumeArgs("docker", "backups", host_path=args.host_path,
                                                 unencrypted_exemption=args.unencrypted_exemption,
                                                 keep_data=args.keep_data),
            opts=pulumi.ResourceOptions(parent=self))
        self.command = backup_command(args.postgres_container, args.key_file, args.host_path)
        self.register_outputs({"command": self.command, "encryption": self.volume.encryption})


def backup_command(container: str, key_file: str, destination: str) -> str:
    """The command (run from the project with its .venv) that writes one encrypted dump into `destination`.

    The dump and its encryption are components.backup_runtime's: pg_dump over the container's socket,
    openssl with the baseline cipher and PBKDF2 iterations, written 0600 atomically.
    """
    return (f".venv/bin/python -m {BACKUP_RUNTIME} backup --container {shlex.quote(container)} "
            f"--key-file {shlex.quote(key_file)} "
            f"--output {shlex.quote(destination)}/rae-$(date -u +%Y%m%dT%H%M%SZ).dump.enc")
