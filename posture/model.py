"""The shape every posture model shares: a requirement tagged with the baseline settings it enforces."""

import re
from dataclasses import dataclass
from typing import Callable, Iterator

from baseline import Section

# What the gate's renderer writes where a value could not be resolved (an output the mocks do not know).
UNKNOWN_VALUE = "[unknown]"


class Unknown(str):
    """A message saying why a requirement could not be decided; never a pass. Callers tell it from a failure
    with isinstance(message, Unknown)."""


def is_unknown(value) -> bool:
    """True where the value, or anything inside it, is the renderer's unknown marker."""
    if isinstance(value, str):
        return UNKNOWN_VALUE in value
    if isinstance(value, dict):
        return any(is_unknown(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_unknown(item) for item in value)
    return False


@dataclass(frozen=True)
class Requirement:
    """One requirement of a posture model.

    + rule_id: the catalog rule it is reported under
    + settings: (baseline section, setting name) pairs it enforces; its controls are theirs
    + reads: the view's fields it reads: an unknown field makes the requirement unknown, not passed
    + check: check(view, context) yields one message per violation
    """

    rule_id: str
    settings: tuple[tuple[Section, str], ...]
    reads: tuple[str, ...]
    check: Callable[..., Iterator[str]]

    @property
    def controls(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for section, key in self.settings for c in section.controls(key)))

    def judge(self, view, context) -> list[str]:
        """Violations (str) or the reason it cannot be decided (Unknown); [] when it holds."""
        unseen = [name for name in self.reads if name in view.unknown]
        if unseen:
            return [Unknown(f"{', '.join(unseen)} of {view.name} could not be resolved ({view.source}); "
                            f"not judged, so not passed")]
        return list(self.check(view, context))



def rule_ids(requirements: dict[str, Requirement]) -> tuple[str, ...]:
    """The catalog rules a model's requirements are reported under, in order, each once."""
    return tuple(dict.fromkeys(r.rule_id for r in requirements.values()))


def judge_requirements(requirements: dict[str, Requirement], view, context=None, rule_id: str | None = None
                       ) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) of a model as (name, requirement, message),
    of every requirement or of those reported under `rule_id`."""
    for name, requirement in requirements.items():
        if rule_id is None or requirement.rule_id == rule_id:
            for message in requirement.judge(view, context):
                yield name, requirement, message

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """A Pulumi property name as Terraform spells it: ipConfiguration -> ip_configuration."""
    return _CAMEL.sub(r"_\1", name).lower()


def one(value):
    """The value inside Terraform's one-element block lists (and checkov's wrapping of every value)."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def pick(props, path: tuple[str, ...], terraform: bool = False):
    """props[a][b]... along a Pulumi (camelCase) path, read from Pulumi inputs or, with terraform=True, from
    Terraform plan values or checkov's conf (snake_case, blocks and values wrapped in lists); None where a step is
    missing. A step that is the renderer's unknown marker answers that marker, so is_unknown sees it. The value is
    returned as stored: one() for a scalar, items() for a list."""
    value = props
    for step in path:
        value = one(value)
        if isinstance(value, str) and UNKNOWN_VALUE in value:
            return value
        if not isinstance(value, dict):
            return None
        value = value.get(snake(step) if terraform else step)
    return value


def items(value) -> list:
    """A list-valued property as a list of entries (absent -> []; checkov's [[a, b]] -> [a, b])."""
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if value is None:
        return []
    return [one(item) for item in value] if isinstance(value, (list, tuple)) else [value]


def require_holds(found, what: str) -> None:
    """A component's refusal: raise BaselineViolation naming every violated or undecided requirement of
    `found` (a model's judge(...)) and their controls; nothing is created."""
    from baseline import BaselineViolation
    problems = [(requirement, message) for _name, requirement, message in found]
    if problems:
        controls = tuple(dict.fromkeys(c for requirement, _ in problems for c in requirement.controls))
        raise BaselineViolation(f"{what}: " + "; ".join(message for _, message in problems), controls)
