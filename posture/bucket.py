"""The bucket posture model: a Cloud Storage bucket in one vocabulary, one small function per requirement.

Adapters build the view from pulumi-gcp `gcp.storage.Bucket` inputs (`from_pulumi`) and a Terraform plan's or
checkov's `google_storage_bucket` values (`from_terraform`). The component (components.backups.BucketBackups), the
CrossGuard rules RAE-GCS-00x and the checkov custom check RAE-GCS-001 call `judge`; none restates a requirement.

Allow-lists: public access prevention only from STORAGE.public_access_prevention ('inherited' and unset defer to an
organization policy the program does not show); uniform access, versioning and a locked retention are required
to be exactly True; a retention period that does not parse is shorter than any floor.

Example: judge(from_pulumi("media", {"uniformBucketLevelAccess": False}))
"""

from dataclasses import dataclass
from typing import Iterator

from baseline import BACKUP, KMS, STORAGE
from posture.model import Requirement, is_unknown, judge_requirements, one, pick, rule_ids

_DAY = 24 * 3600


@dataclass(frozen=True)
class BucketView:
    """A bucket, whatever described it.

    + kms_key: encryption.defaultKmsKeyName ("" where unset)
    + retention_seconds: retentionPolicy.retentionPeriod in seconds (None where unset or unreadable)
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    uniform_access: object = None
    public_access_prevention: object = None
    versioning: object = None
    kms_key: str = ""
    retention_seconds: float | None = None
    retention_locked: object = None
    unknown: frozenset = frozenset()


def seconds(duration) -> float | None:
    """'7776000s', '7776000' or 7776000 -> seconds; None when absent or unreadable."""
    try:
        return float(str(one(duration)).removesuffix("s"))
    except ValueError:
        return None


def _cmek(view, _context=None) -> Iterator[str]:
    if KMS.cmek_required and not view.kms_key:
        yield "encryption.defaultKmsKeyName is not set: Google-managed keys only"


def _versioning(view, _context=None) -> Iterator[str]:
    if view.versioning is not STORAGE.versioning:
        yield f"versioning.enabled is {view.versioning!r}, must be {STORAGE.versioning}"


def _retention(view, _context=None) -> Iterator[str]:
    floor = BACKUP.bucket_retention_days * _DAY
    if view.retention_seconds is None or view.retention_seconds < floor:
        shown = "unset" if view.retention_seconds is None else f"{view.retention_seconds:.0f}s"
        yield f"retentionPolicy.retentionPeriod is {shown}, shorter than {BACKUP.bucket_retention_days} days ({floor}s)"


def _retention_locked(view, _context=None) -> Iterator[str]:
    if view.retention_locked is not BACKUP.bucket_retention_locked:
        yield "retentionPolicy.isLocked is not True: the retention can be shortened or removed"


def _uniform_access(view, _context=None) -> Iterator[str]:
    if view.uniform_access is not STORAGE.uniform_bucket_level_access:
        yield f"uniformBucketLevelAccess is {view.uniform_access!r}: object ACLs can grant access IAM does not show"


def _public_access_prevention(view, _context=None) -> Iterator[str]:
    if view.public_access_prevention not in STORAGE.public_access_prevention:
        yield (f"publicAccessPrevention is {view.public_access_prevention!r}, "
               f"allowed: {list(STORAGE.public_access_prevention)}")


REQUIREMENTS: dict[str, Requirement] = {
    "cmek": Requirement("RAE-GCS-001", ((KMS, "cmek_required"),), ("kms_key",), _cmek),
    "versioning": Requirement("RAE-GCS-002", ((STORAGE, "versioning"),), ("versioning",), _versioning),
    "retention": Requirement("RAE-GCS-003", ((BACKUP, "bucket_retention_days"),), ("retention_seconds",), _retention),
    "uniform_access": Requirement("RAE-GCS-004", ((STORAGE, "uniform_bucket_level_access"),), ("uniform_access",),
                                  _uniform_access),
    "public_access_prevention": Requirement("RAE-GCS-005", ((STORAGE, "public_access_prevention"),),
                                            ("public_access_prevention",), _public_access_prevention),
    "retention_locked": Requirement("RAE-GCS-006", ((BACKUP, "bucket_retention_locked"),), ("retention_locked",),
                                    _retention_locked),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: BucketView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


# view field -> Pulumi (camelCase) path; Terraform's is the same in snake_case.
_PATHS = {
    "uniform_access": ("uniformBucketLevelAccess",), "public_access_prevention": ("publicAccessPrevention",),
    "versioning": ("versioning", "enabled"), "kms_key": ("encryption", "defaultKmsKeyName"),
    "retention_seconds": ("retentionPolicy", "retentionPeriod"), "retention_locked": ("retentionPolicy", "isLocked"),
}


def _view(name: str, props: dict, terraform: bool, source: str) -> BucketView:
    raw = {field: pick(props, path, terraform) for field, path in _PATHS.items()}
    values = {field: one(value) for field, value in raw.items()}
    return BucketView(source=source, name=name, uniform_access=values["uniform_access"],
                      public_access_prevention=values["public_access_prevention"], versioning=values["versioning"],
                      kms_key=str(values["kms_key"] or ""), retention_seconds=seconds(values["retention_seconds"]),
                      retention_locked=values["retention_locked"],
                      unknown=frozenset(field for field, value in raw.items() if is_unknown(value)))


def from_pulumi(name: str, props: dict) -> BucketView:
    """pulumi-gcp `gcp:storage/bucket:Bucket` inputs (camelCase)."""
    return _view(name, props, False, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> BucketView:
    """A Terraform `google_storage_bucket`'s values (snake_case; blocks, and in checkov every value, in lists)."""
    return _view(name, values, True, "terraform plan")


__all__ = ["BucketView", "REQUIREMENTS", "RULE_IDS", "from_pulumi", "from_terraform", "judge", "seconds"]
