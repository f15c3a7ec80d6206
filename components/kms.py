"""CustomerManagedKeys: one KMS key ring, one rotating key per data class, encrypter roles on each key only."""

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

import posture.key as key_posture
from baseline import KMS, require
from posture.bucket import seconds
from posture.model import require_holds
from components.identity import ResourceGrant, grant


ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

# Google's service agents that encrypt with a customer-managed key, by the service that uses the key.
_SERVICE_AGENT_DOMAINS = {
    "compute": "compute-system.iam.gserviceaccount.com",
    "sql": "gcp-sa-cloud-sql.iam.gserviceaccount.com",
    "secretmanager": "gcp-sa-secretmanager.iam.gserviceaccount.com",
    "storage": "gs-project-accounts.iam.gserviceaccount.com",
}


def service_agent(service: str, project_number: pulumi.Input[str]) -> pulumi.Output[str]:
    """The IAM member of a Google service agent (compute, sql, secretmanager, storage) of this project."""
    domain = _SERVICE_AGENT_DOMAINS[service]
    return pulumi.Output.from_input(project_number).apply(lambda number: f"serviceAccount:service-{number}@{domain}")


@dataclass
class CustomerManagedKeysArgs:
    """+ location: KMS location (the region of the data it protects)
    + purposes: one key per purpose, e.g. ("disk", "sql", "secrets", "backups")
    + users: purpose -> IAM members granted encrypt/decrypt on that key (service agents)
    + rotation_period_seconds: at most the baseline's 90 days
    """

    location: str
    purposes: Sequence[str]
    users: Mapping[str, Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    rotation_period_seconds: int = KMS.rotation_period_seconds
    project: str | None = None


class CustomerManagedKeys(pulumi.ComponentResource):
    """A key ring with one CMEK per purpose; keys rotate and cannot be destroyed by a stray `pulumi destroy`.

    Example: CustomerManagedKeys("data", CustomerManagedKeysArgs("europe-west4", ["sql"], {"sql": [agent]}))
    """

    keys: dict[str, gcp.kms.CryptoKey]

    def __init__(self, name: str, args: CustomerManagedKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:CustomerManagedKeys", name, None, opts)
        # Each key is built from a view the key posture model judged: what the gate requires.
        view = key_posture.KeyView(source="CustomerManagedKeys", name=name,
                                   rotation_seconds=args.rotation_period_seconds,
                                   rotation_shown=f"{args.rotation_period_seconds}s", algorithm=KMS.algorithm,
                                   protection_level=KMS.protection_level,
                                   destroy_seconds=seconds(KMS.destroy_scheduled_duration),
                                   destroy_shown=KMS.destroy_scheduled_duration, protected=KMS.prevent_destroy)
        require_holds(key_posture.judge(view), f"key ring {name}")
        unknown = sorted(set(args.users) - set(args.purposes))
        require(not unknown, f"grants on keys {unknown} that this key ring does not hold",
                KMS.controls("rotation_period_seconds"))
        protected = pulumi.ResourceOptions(parent=self, protect=KMS.prevent_destroy)
        self.key_ring = gcp.kms.KeyRing(name, name=f"rae-{name}", location=args.location, project=args.project,
                                        opts=protected)
        self.keys = {}
        for purpose in args.purposes:
            key = gcp.kms.CryptoKey(
                f"{name}-{purpose}", name=f"rae-{purpose}", key_ring=self.key_ring.id, purpose="ENCRYPT_DECRYPT",
                rotation_period=view.rotation_shown,
                destroy_scheduled_duration=view.destroy_shown,
                version_template=gcp.kms.CryptoKeyVersionTemplateArgs(algorithm=view.algorithm,
                                                                      protection_level=view.protection_level),
                labels={"rae-purpose": purpose}, opts=protected)
            self.keys[purpose] = key
            for index, member in enumerate(args.users.get(purpose, ())):
                grant(f"{name}-{purpose}-user-{index}", ResourceGrant("kms_key", key.id, ENCRYPTER_DECRYPTER),
                      member, self)
        self.register_outputs({"key_ring": self.key_ring.id, **{purpose: key.id for purpose, key in self.keys.items()}})
