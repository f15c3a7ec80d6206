"""The secret posture model: a Secret Manager secret in one vocabulary, one small function per requirement.

Adapters build the view from pulumi-gcp `gcp.secretmanager.Secret` inputs (`from_pulumi`) and a Terraform plan's or
checkov's `google_secret_manager_secret` values (`from_terraform`). The component (components.secrets.Secrets), the
CrossGuard rule RAE-SEC-001 and the checkov custom check RAE-SEC-001 call `judge`; none restates the requirement.

Every replica must name a customer-managed key (automatic replication: its one key); a user-managed replication
with no replica, or one replica without a key, fails.

Example: judge(from_pulumi("s", {"replication": {"auto": {}}}))
"""

from dataclasses import dataclass
from typing import Iterator

from baseline import KMS
from posture.model import Requirement, is_unknown, items, judge_requirements, one, pick, rule_ids


@dataclass(frozen=True)
class SecretView:
    """A secret, whatever described it.

    + replica_keys: the customer-managed key of each replica ("" where a replica has none); automatic replication
      counts as one replica
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    replica_keys: tuple[str, ...] = ()
    unknown: frozenset = frozenset()


def _cmek(view, _context=None) -> Iterator[str]:
    if KMS.cmek_required and (not view.replica_keys or not all(view.replica_keys)):
        yield "replication has a replica without customerManagedEncryption.kmsKeyName: Google-managed keys"


REQUIREMENTS: dict[str, Requirement] = {
    "cmek": Requirement("RAE-SEC-001", ((KMS, "cmek_required"),), ("replica_keys",), _cmek),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: SecretView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


_KEY = ("customerManagedEncryption", "kmsKeyName")


def _view(name: str, props: dict, terraform: bool, source: str) -> SecretView:
    replication = pick(props, ("replication",), terraform)
    auto = pick(replication, ("auto",), terraform)
    replicas = items(pick(replication, ("userManaged", "replicas"), terraform))
    keys = [pick(replica, _KEY, terraform) for replica in replicas]
    if auto is not None:
        keys.append(pick(auto, _KEY, terraform))
    return SecretView(source=source, name=name, replica_keys=tuple(str(one(key) or "") for key in keys),
                      unknown=frozenset({"replica_keys"}) if is_unknown(replication) else frozenset())


def from_pulumi(name: str, props: dict) -> SecretView:
    """pulumi-gcp `gcp:secretmanager/secret:Secret` inputs (camelCase)."""
    return _view(name, props, False, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> SecretView:
    """A Terraform `google_secret_manager_secret`'s values (snake_case; blocks, and in checkov every value, in lists)."""
    return _view(name, values, True, "terraform plan")


__all__ = ["REQUIREMENTS", "RULE_IDS", "SecretView", "from_pulumi", "from_terraform", "judge"]
