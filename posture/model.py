"""The shape every posture model shares: a requirement tagged with the baseline settings it enforces."""

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
