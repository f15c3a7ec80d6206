"""The 93 controls of ISO/IEC 27001:2022 Annex A, read from the CSV shipped beside this module."""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_CSV = Path(__file__).with_name("annex_a.csv")


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    theme: str


@lru_cache(maxsize=1)
def controls() -> dict[str, Control]:
    """All Annex A controls keyed by id ("A.8.24"), in the standard's order."""
    with _CSV.open(newline="", encoding="utf-8") as handle:
        return {row["control"]: Control(row["control"], row["title"], row["theme"]) for row in csv.DictReader(handle)}


def control(control_id: str) -> Control:
    """One control by id; an unknown id is a programming error and raises KeyError naming it."""
    try:
        return controls()[control_id]
    except KeyError:
        raise KeyError(f"{control_id!r} is not an ISO/IEC 27001:2022 Annex A control id") from None


def describe(control_ids) -> str:
    """'A.8.24 Use of cryptography, A.8.20 Networks security' for error messages and reports."""
    return ", ".join(f"{cid} {control(cid).title}" for cid in control_ids)
