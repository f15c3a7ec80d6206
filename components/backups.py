"""Backups: where encrypted copies of the data go, immutable for the retention window.

- gcp: a GCS bucket with CMEK, versioning, a retention policy (objects cannot be deleted early),
  uniform bucket-level access and public access prevention; writers get objectCreator on the bucket
  only. Cloud SQL's own automated backups + PITR are configured on the instance (components.postgres).
- docker: a local restic repository on an EncryptedVolume (second location), optionally an append-only
  off-site restic server (`rclone serve restic --append-only` on another machine, reached with its own
  credentials), each repository with its own password file in a directory apart from the data passwords,
  and the `harden backup` config that names them; the data sets are components.backup_runtime's
  (a consistent pg_dump with its manifest, the secret files and the CA) and components.qdrant_backup's
  (a snapshot per collection through Qdrant's API, reached at its TLS 1.3 front with the API key), run by
  the exported command from cron or the systemd timers of hosts/backup_units.py on the Docker host.
"""

import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

import posture.bucket as bucket_posture
from baseline import BACKUP, CONTAINER, STORAGE, require
from posture.container import service_user
from posture.model import require_holds
from components.host_files import HostSecretFile
from components.identity import ResourceGrant, grant
from components.secrets import Secrets, SecretsArgs
from components.volume import EncryptedVolume, EncryptedVolumeArgs


OBJECT_CREATOR = "roles/storage.objectCreator"
LOCAL_KEY = "restic-local-key"
OFFSITE_KEY = "restic-offsite-key"
CONFIG_FILE = "backup.json"
# The backup job runs on the host (`harden backup`, root or the rae-backup unit), not in a container; its repository,
# passwords and config still belong to a uid of their own (baseline CONTAINER.service_users), no service's.
BACKUP_OWNER = "backup"
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
        # The bucket's settings come from a view the bucket posture model judged: what the gate requires, by construction.
        view = bucket_posture.BucketView(
            source="BucketBackups", name=name, uniform_access=STORAGE.uniform_bucket_level_access,
            public_access_prevention=STORAGE.public_access_prevention[0], versioning=STORAGE.versioning,
            kms_key="customer-managed" if args.kms_key else "", retention_seconds=args.retention_days * _DAY_SECONDS,
            retention_locked=BACKUP.bucket_retention_locked)
        require_holds(bucket_posture.judge(view), f"backup bucket {name}")
        self.bucket = gcp.storage.Bucket(
            name, location=args.location, project=args.project, storage_class="STANDARD", force_destroy=False,
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key),
            versioning=gcp.storage.BucketVersioningArgs(enabled=view.versioning),
            # Locked: irreversible by design; the period can grow later, never shrink (A.8.13, A.5.33).
            retention_policy=gcp.storage.BucketRetentionPolicyArgs(retention_period=int(view.retention_seconds),
                                                                   is_locked=view.retention_locked),
            uniform_bucket_level_access=view.uniform_access, public_access_prevention=view.public_access_prevention,
            labels={"rae-purpose": "backups"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on), protect=True))
        for index, writer in enumerate(args.writers):
            grant(f"{name}-writer-{index}", ResourceGrant("bucket", self.bucket.name, OBJECT_CREATOR), writer, self)
        self.register_outputs({"bucket": self.bucket.url})


@dataclass
class DockerBackupsArgs:
    """+ host_path: the backup directory (a second device; must be encrypted like the data); the local restic
      repository is its `restic/` subdirectory
    + credentials_dir: where the repository passwords and the backup config live, apart from the data passwords
    + postgres_container: the container the dump is taken from
    + files: host paths backed up as the `files` data set (the secret files and the CA)
    + log_path: the JSON-lines backup log `harden audit --backup-log` reads
    + qdrant: the `qdrant` entry of the config (components.qdrant_backup.QdrantSource keys: url of the TLS 1.3
      front, read_only_api_key_file, snapshot_token_file, cacert, container, store_container), or None where no
      Qdrant runs
    + offsite_repository_file: a 0600 file holding `rest:https://{user}:{password}@{host}:{port}/{path}` of the append-only
      off-site server (its own credentials), or None (then only the local copy exists, and the audit says so)
    + offsite_cacert: the CA the off-site server's certificate chains to
    + unencrypted_exemption: "dev-only: <reason>", as for EncryptedVolume
    + keep_data: protect the backups from `pulumi destroy` (false only when an operator releases the data)
    """

    host_path: str
    credentials_dir: str
    postgres_container: pulumi.Input[str]
    files: Sequence[str] = field(default_factory=tuple)
    log_path: str | None = None
    qdrant: dict | None = None
    offsite_repository_file: str | None = None
    offsite_cacert: str | None = None
    unencrypted_exemption: str | None = None
    keep_data: bool = True
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class DockerBackups(pulumi.ComponentResource):
    """The restic repositories of a Docker host, their passwords, the backup config and the command that runs it.

    Example: DockerBackups("backups", DockerBackupsArgs("/srv/backup/rae", "/srv/backup-credentials", "postgres",
                                                         files=["/srv/data/secrets"]))
    """

    def __init__(self, name: str, args: DockerBackupsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Backups", name, None, opts)
        require(os.path.isabs(args.credentials_dir) and not any(
            os.path.commonpath([args.credentials_dir, path]) == path for path in args.files),
            f"backups {name}: the repository passwords ({args.credentials_dir}) must live apart from the backed-up "
            f"files {list(args.files)}", BACKUP.controls("encryption"))
        self.volume = EncryptedVolume(
            f"{name}-store", EncryptedVolumeArgs("docker", "backups", host_path=args.host_path, owner=BACKUP_OWNER,
                                                 unencrypted_exemption=args.unencrypted_exemption,
                                                 keep_data=args.keep_data),
            opts=pulumi.ResourceOptions(parent=self))
        names = (LOCAL_KEY,) + ((OFFSITE_KEY,) if args.offsite_repository_file else ())
        self.passwords = Secrets(f"{name}-passwords", SecretsArgs("docker", names, directory=args.credentials_dir,
                                                                            owner=BACKUP_OWNER),
                                 pulumi.ResourceOptions(parent=self, protect=args.keep_data))
        self.volume_path = args.host_path
        self.config_path = f"{args.credentials_dir}/{CONFIG_FILE}"
        config = pulumi.Output.from_input(args.postgres_container).apply(lambda container: json.dumps(backup_config(
            args, container, self.passwords.files), indent=1, sort_keys=True))
        self.config_file = HostSecretFile(f"{name}-config", self.config_path, config, *service_user(BACKUP_OWNER),
                                          pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
        self.command = backup_command(self.config_path)
        self.register_outputs({"command": self.command, "config": self.config_path,
                               "encryption": self.volume.encryption})


def backup_config(args: DockerBackupsArgs, container: str, passwords: dict[str, str]) -> dict:
    """The `harden backup --config` document: the local repository, the off-site one when given, what to back up."""
    repositories = [{"name": "local", "location": f"{args.host_path}/restic", "password_file": passwords[LOCAL_KEY]}]
    if args.offsite_repository_file:
        offsite = {"name": "offsite", "repository_file": args.offsite_repository_file,
                   "password_file": passwords[OFFSITE_KEY], "cache_dir": f"{args.credentials_dir}/cache",
                   "append_only": True}
        repositories.append(offsite | ({"cacert": args.offsite_cacert} if args.offsite_cacert else {}))
    return {"repositories": repositories, "postgres": {"container": container}, "files": list(args.files),
            "log": args.log_path or f"{args.host_path}/backup.jsonl"} | ({"qdrant": dict(args.qdrant)} if args.qdrant else {})


def backup_command(config_path: str) -> str:
    """The command (run from the project with its .venv) that backs every data set up into every repository.

    Schedule it with the sibling actions (`forget`, `check`, `drill`): see `harden backup --help` and README.
    """
    return f".venv/bin/harden backup run --config {shlex.quote(config_path)}"
