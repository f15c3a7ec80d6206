"""The terms every exception to the baseline meets, whoever declares it: a gate waiver (policies/waivers.yaml), an
audit waiver (the audit's config) or an exception declared in a host's inventory data (hosts/desired.py).

An exception names one thing exactly (no wildcard), gives a reason and an owner, and expires at most MAX_DAYS after
the day it is judged, so it is reviewed again at least twice a year. Reviewing exceptions is A.5.36 (compliance
with policies, rules and standards) evidence.

    terms_problem("no Tailscale on the test VM", "platform-security", date(2027, 1, 31), date(2026, 12, 1))  # None
"""

import re
from datetime import date, timedelta

MAX_DAYS = 180
CONTROLS = ("A.5.36",)
GLOB = re.compile(r"[*?\[\]]")


def expiry(value) -> date:
    """A YYYY-MM-DD expiry (a date as YAML reads it, or its text); ValueError otherwise."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def terms_problem(reason: str, owner: str, expires: date, today: date) -> str | None:
    """Why an exception's terms cannot be trusted, or None. An expired one is well formed; it covers nothing."""
    if not str(reason or "").strip() or not str(owner or "").strip():
        return "a reason and an owner are required"
    latest = today + timedelta(days=MAX_DAYS)
    if expires > latest:
        return (f"expires {expires.isoformat()} is more than {MAX_DAYS} days ahead (latest {latest.isoformat()}): "
                "review it again before then")
    return None
