"""The key posture model: a Cloud KMS crypto key in one vocabulary, one small function per requirement.

Adapters build the view from pulumi-gcp `gcp.kms.CryptoKey` inputs (`from_pulumi`) and a Terraform plan's or
checkov's `google_kms_crypto_key` values (`from_terraform`). The component (components.kms.KeyRing) and the
CrossGuard rule RAE-KMS-001 call `judge`; none restates the requirement.

A rotation period that is unset or does not parse never rotates, so it fails (a floor, not a default).

Example: judge(from_pulumi("k", {"rotationPeriod": "31536000s"}))
"""

from dataclasses import dataclass
from typing import Iterator

from baseline import KMS
from posture.bucket import seconds
from posture.model import Requirement, is_unknown, judge_requirements, one, pick, rule_ids


@dataclass(frozen=True)
class KeyView:
    """A crypto key, whatever described it.

    + rotation_seconds: rotationPeriod in seconds (None where unset or unreadable); rotation_shown: as written
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    rotation_seconds: float | None = None
    rotation_shown: object = None
    unknown: frozenset = frozenset()


def _rotation(view, _context=None) -> Iterator[str]:
    if view.rotation_seconds is None or not 0 < view.rotation_seconds <= KMS.rotation_period_seconds:
        yield (f"rotationPeriod is {view.rotation_shown!r}: the key must rotate at least every "
               f"{KMS.rotation_period_seconds}s")


REQUIREMENTS: dict[str, Requirement] = {
    "rotation": Requirement("RAE-KMS-001", ((KMS, "rotation_period_seconds"),), ("rotation_seconds",), _rotation),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: KeyView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


def _view(name: str, props: dict, terraform: bool, source: str) -> KeyView:
    raw = pick(props, ("rotationPeriod",), terraform)
    return KeyView(source=source, name=name, rotation_seconds=seconds(raw) if raw is not None else None,
                   rotation_shown=one(raw), unknown=frozenset({"rotation_seconds"}) if is_unknown(raw) else frozenset())


def from_pulumi(name: str, props: dict) -> KeyView:
    """pulumi-gcp `gcp:kms/cryptoKey:CryptoKey` inputs (camelCase)."""
    return _view(name, props, False, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> KeyView:
    """A Terraform `google_kms_crypto_key`'s values (snake_case; in checkov every value in a list)."""
    return _view(name, values, True, "terraform plan")


__all__ = ["KeyView", "REQUIREMENTS", "RULE_IDS", "from_pulumi", "from_terraform", "judge"]
