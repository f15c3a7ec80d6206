"""Secrets: generated from a CSPRNG, kept as Pulumi secrets, delivered as files or Secret Manager versions.

- docker: `random.RandomPassword` -> `HostSecretFile` (mode 0400, owned by its service's own uid and gid, from
  baseline CONTAINER.service_users) that the container mounts read-only. Never an environment variable, command line or log line.
- gcp: `secretmanager.Secret` replicated with the customer-managed key, one version from the same
  generator, and `secretAccessor` granted per service account on that secret only.
"""

import os
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

import posture.secret as secret_posture
from baseline import CONTAINER, SECRETS, require
from posture.container import service_user
from posture.model import require_holds
from components.host_files import HostSecretFile
from components.identity import ResourceGrant, grant


ACCESSOR = "roles/secretmanager.secretAccessor"
_SECRET_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


@dataclass
class SecretsArgs:
    """+ target: "docker" or "gcp"
    + names: one generated secret per name (e.g. "postgres-app-password")
    + length: at least baseline.SECRETS.length
    docker:
    + directory: absolute host directory for the files (0700, root)
    + owner: the service that reads the files (a key of baseline CONTAINER.service_users); `owners` per secret name
      overrides it. A secret two services read is given to each as a copy of its own (components.stacks.local).
    gcp:
    + kms_key: customer-managed key id for replication; location: its region
    + accessors: secret name -> IAM members allowed to read that secret
    + provided: secret name -> value made elsewhere (a TLS key, a config file holding a generated key)
    + depends_on: what the secrets wait for (the key grants of the Secret Manager service agent)
    """

    target: str
    names: Sequence[str]
    length: int = SECRETS.length
    directory: str | None = None
    owner: str | None = None
    owners: Mapping[str, str] = field(default_factory=dict)
    kms_key: pulumi.Input[str] | None = None
    location: str | None = None
    accessors: Mapping[str, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    provided: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    project: str | None = None


class Secrets(pulumi.ComponentResource):
    """Generated secrets for the services of a stack.

    Example: Secrets("secrets", SecretsArgs("docker", ["postgres-app-password"], directory="/srv/secrets"))
    """

    values: dict[str, pulumi.Output[str]]
    files: dict[str, str]
    secrets: dict[str, gcp.secretmanager.Secret]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Secrets", name, None, opts)
        require(args.length >= SECRETS.length,
                f"secrets of {args.length} characters are shorter than the baseline's {SECRETS.length}",
                SECRETS.controls("length"))
        for secret_name in (*args.names, *args.provided):
            require(bool(_SECRET_NAME.match(secret_name)), f"secret name {secret_name!r} is not a plain lowercase name",
                    SECRETS.controls("delivery"))
        require(args.target in ("docker", "gcp"), f"secrets {name}: unknown target {args.target!r}",
                SECRETS.controls("delivery"))
        self.values, self.files, self.secrets = {}, {}, {}
        for secret_name, value in args.provided.items():
            self.values[secret_name] = pulumi.Output.secret(value)
        for secret_name in (wanted for wanted in args.names if wanted not in args.provided):
            # Alphanumeric only: the value lands in config files and connection strings without quoting.
            password = random.RandomPassword(f"{name}-{secret_name}", length=args.length, special=False,
                                             min_lower=4, min_upper=4, min_numeric=4,
                                             opts=pulumi.ResourceOptions(parent=self))
            self.values[secret_name] = pulumi.Output.secret(password.result)
        if args.target == "docker":
            self._files(name, args)
        else:
            self._secret_manager(name, args)
        self.register_outputs({"files": self.files, "secrets": {key: s.id for key, s in self.secrets.items()}})

    def _files(self, name: str, args: SecretsArgs) -> None:
        require(args.directory is not None and os.path.isabs(args.directory),
                f"secrets {name}: the host directory {args.directory!r} must be absolute", SECRETS.controls("file_mode"))
        for secret_name, value in self.values.items():
            path = os.path.join(args.directory, secret_name)
            owner = args.owners.get(secret_name, args.owner)
            require(owner is not None, f"secrets {name}: secret file {secret_name} names no owning service "
                    f"(SecretsArgs.owner or owners)", CONTAINER.controls("service_users"))
            HostSecretFile(f"{name}-{secret_name}-file", path, value, *service_user(owner),
                           opts=pulumi.ResourceOptions(parent=self))
            self.files[secret_name] = path

    def _secret_manager(self, name: str, args: SecretsArgs) -> None:
        # The replication comes from a view the secret posture model judged: what the gate requires.
        require_holds(secret_posture.judge(secret_posture.SecretView(
            source="Secrets", name=name, replica_keys=("customer-managed" if args.kms_key else "",))),
            f"secrets {name}")
        require(args.location is not None, f"secrets {name}: Secret Manager replication needs the key's location",
                SECRETS.controls("delivery"))
        unknown = sorted(set(args.accessors) - set(self.values))
        require(not unknown, f"secrets {name}: accessors for secrets {unknown} that are not declared",
                SECRETS.controls("delivery"))
        for secret_name, value in self.values.items():
            secret = gcp.secretmanager.Secret(
                f"{name}-{secret_name}", secret_id=f"rae-{secret_name}", project=args.project,
                replication=gcp.secretmanager.SecretReplicationArgs(
                    user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(replicas=[
                        gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(
                            location=args.location,
                            customer_managed_encryption=gcp.secretmanager
                            .SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(kms_key_name=args.kms_key),
                        )])),
                labels={"rae-secret": secret_name},
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)))
            gcp.secretmanager.SecretVersion(f"{name}-{secret_name}-v", secret=secret.id, secret_data=value,
                                            opts=pulumi.ResourceOptions(parent=self))
            for index, member in enumerate(args.accessors.get(secret_name, ())):
                grant(f"{name}-{secret_name}-accessor-{index}", ResourceGrant("secret", secret.id, ACCESSOR),
                      member, self)
            self.secrets[secret_name] = secret
