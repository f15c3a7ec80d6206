"""The two shapes every baseline setting takes: one setting, and a named group of them."""

from dataclasses import dataclass
from typing import Any, Iterator


@dataclass(frozen=True)
class Setting:
    """A hardening value, the ISO/IEC 27001:2022 Annex A controls it serves, and why it has that value.

    + planned: non-empty while nothing enforces or verifies the value yet (says what will); such a setting is a
      target, listed as planned in docs/controls.md, and no report may call it implemented
    """

    value: Any
    controls: tuple[str, ...]
    why: str
    planned: str = ""


class Section:
    """A named group of settings; attribute access gives the value, `setting(name)` the whole Setting.

    >>> CONTAINER.pids_limit       # 256
    >>> CONTAINER.setting("pids_limit").controls
    """

    def __init__(self, name: str, **settings: Setting):
        self._name = name
        self._settings = settings

    @property
    def name(self) -> str:
        return self._name

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_settings"][key].value
        except KeyError:
            raise AttributeError(f"baseline section {self._name!r} has no setting {key!r}") from None

    def setting(self, key: str) -> Setting:
        try:
            return self._settings[key]
        except KeyError:
            raise KeyError(f"baseline section {self._name!r} has no setting {key!r}") from None

    def controls(self, key: str) -> tuple[str, ...]:
        return self.setting(key).controls

    def items(self) -> Iterator[tuple[str, Setting]]:
        return iter(self._settings.items())

    def __repr__(self) -> str:
        return f"Section({self._name!r}, {sorted(self._settings)})"
