"""The key posture model: a Cloud KMS crypto key (and its key ring) in one vocabulary, one small function per
requirement.

Adapters build the view from pulumi-gcp `gcp.kms.CryptoKey` inputs and resource options (`from_pulumi`) and a
Terraform plan's or checkov's `google_kms_crypto_key` values (`from_terraform`). The component
(components.kms.CustomerManagedKeys) and the CrossGuard rules RAE-KMS-001..003 call `judge`; none restates a
requirement.

Protection from deletion is a resource option (Pulumi's `protect`, Terraform's `lifecycle.prevent_destroy`), not an
input: a source that does not show the options (a Terraform plan, a graph without them) leaves it unknown, never
passed. RAE-KMS-003 also judges key rings, on that requirement alone.

A rotation period that is unset or does not parse never rotates, so it fails (a floor, not a default). The key
version template and the destruction delay are judged as written: unset fails too, since the program then states
neither the algorithm and protection level nor how long a destroyed version stays restorable.

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
    + algorithm, protection_level: versionTemplate's (None where unset)
    + destroy_seconds: destroyScheduledDuration in seconds (None where unset or unreadable); destroy_shown: as written
    + protected: the `protect` option (Terraform: lifecycle.prevent_destroy); None where the source does not show it
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    rotation_seconds: float | None = None
    rotation_shown: object = None
    algorithm: object = None
    protection_level: object = None
    destroy_seconds: float | None = None
    destroy_shown: object = None
    protected: bool | None = None
    unknown: frozenset = frozenset()


def _rotation(view, _context=None) -> Iterator[str]:
    if view.rotation_seconds is None or not 0 < view.rotation_seconds <= KMS.rotation_period_seconds:
        yield (f"rotationPeriod is {view.rotation_shown!r}: the key must rotate at least every "
               f"{KMS.rotation_period_seconds}s")


def _algorithm(view, _context=None) -> Iterator[str]:
    if view.algorithm != KMS.algorithm:
        yield f"versionTemplate.algorithm is {view.algorithm!r}, the baseline requires {KMS.algorithm!r}"


# Protection levels from weakest to strongest custody; the baseline names the floor. EXTERNAL keys live outside
# Google and are not in the list: they are a different custody decision, not a stronger one.
PROTECTION_LEVELS = ("SOFTWARE", "HSM")


def _protection_level(view, _context=None) -> Iterator[str]:
    floor = PROTECTION_LEVELS.index(KMS.protection_level)
    if view.protection_level not in PROTECTION_LEVELS[floor:]:
        yield (f"versionTemplate.protectionLevel is {view.protection_level!r}, the baseline requires one of "
               f"{list(PROTECTION_LEVELS[floor:])}")


def _destroy_delay(view, _context=None) -> Iterator[str]:
    floor = seconds(KMS.destroy_scheduled_duration)
    if view.destroy_seconds is None or view.destroy_seconds < floor:
        yield (f"destroyScheduledDuration is {view.destroy_shown!r}: a destroyed key version must stay restorable for "
               f"at least {KMS.destroy_scheduled_duration}")


def _prevent_destroy(view, _context=None) -> Iterator[str]:
    if KMS.prevent_destroy and view.protected is not True:
        yield ("the resource is not protected from deletion (Pulumi: opts=ResourceOptions(protect=True); Terraform: "
               "lifecycle.prevent_destroy): destroying a key ring or key loses every datum encrypted under it")


REQUIREMENTS: dict[str, Requirement] = {
    "rotation": Requirement("RAE-KMS-001", ((KMS, "rotation_period_seconds"),), ("rotation_seconds",), _rotation),
    "algorithm": Requirement("RAE-KMS-002", ((KMS, "algorithm"),), ("algorithm",), _algorithm),
    "protection_level": Requirement("RAE-KMS-002", ((KMS, "protection_level"),), ("protection_level",),
                                    _protection_level),
    "destroy_delay": Requirement("RAE-KMS-002", ((KMS, "destroy_scheduled_duration"),), ("destroy_seconds",),
                                 _destroy_delay),
    "prevent_destroy": Requirement("RAE-KMS-003", ((KMS, "prevent_destroy"),), ("protected",), _prevent_destroy),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: KeyView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


# view field -> Pulumi (camelCase) path; Terraform's is the same in snake_case.
_PATHS = {
    "rotation_seconds": ("rotationPeriod",), "algorithm": ("versionTemplate", "algorithm"),
    "protection_level": ("versionTemplate", "protectionLevel"), "destroy_seconds": ("destroyScheduledDuration",),
}


def _view(name: str, props: dict, terraform: bool, source: str, protected: bool | None) -> KeyView:
    raw = {field: pick(props, path, terraform) for field, path in _PATHS.items()}
    values = {field: one(value) for field, value in raw.items()}
    return KeyView(source=source, name=name,
                   rotation_seconds=seconds(values["rotation_seconds"]) if values["rotation_seconds"] is not None else None,
                   rotation_shown=values["rotation_seconds"], algorithm=values["algorithm"],
                   protection_level=values["protection_level"],
                   destroy_seconds=seconds(values["destroy_seconds"]) if values["destroy_seconds"] is not None else None,
                   destroy_shown=values["destroy_seconds"], protected=protected,
                   unknown=frozenset(field for field, value in raw.items() if is_unknown(value))
                   | ({"protected"} if protected is None else frozenset()))


def from_pulumi(name: str, props: dict, options: dict | None = None) -> KeyView:
    """pulumi-gcp `gcp:kms/cryptoKey:CryptoKey` (or `KeyRing`) inputs (camelCase) and its resource options
    ({"protect": bool}; None where the graph does not carry them: protection is then unknown)."""
    protected = None if options is None or "protect" not in options else bool(options["protect"])
    return _view(name, props, False, "pulumi-gcp", protected)


def from_terraform(name: str, values: dict) -> KeyView:
    """A Terraform `google_kms_crypto_key`'s values (snake_case; in checkov every value in a list). Its
    lifecycle.prevent_destroy is read where the values hold it (checkov's view of HCL); a plan never does, so there
    protection is unknown."""
    prevent = one(pick(values, ("lifecycle", "preventDestroy"), True))
    return _view(name, values, True, "terraform plan", None if prevent is None else prevent is True)


__all__ = ["KeyView", "REQUIREMENTS", "RULE_IDS", "from_pulumi", "from_terraform", "judge"]
