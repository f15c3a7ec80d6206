"""The structlog processor that keeps personal data out of the API's logs (seed 000 SEC-03, ISO 27001:2022 A.8.11).

An allow-list: only the fields named in `LOGGED_FIELDS` keep their value, and every string that is kept has
e-mail addresses replaced. Any other field (a memory's content, a query, a header, an exception's text) is
logged as "[masked]", so a new log call that passes personal data leaks nothing by default.
Standard library only: the unit tests import it without the image's packages.
"""

import re

LOGGED_FIELDS = frozenset({"event", "level", "timestamp", "logger", "tenant", "memory_id", "memory_ids", "method",
                           "route", "status", "duration_ms", "count", "collection", "port", "reason"})
MASK = "[masked]"
EMAIL_MASK = "[e-mail]"
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _scrub(value):
    if isinstance(value, str):
        return _EMAIL.sub(EMAIL_MASK, value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, (int, float)) for item in value):
        return list(value)
    return MASK


def mask_personal_data(_logger, _method_name, event_dict: dict) -> dict:
    """structlog processor: allow-listed fields with e-mail addresses removed; every other field masked."""
    return {key: _scrub(value) if key in LOGGED_FIELDS else MASK for key, value in event_dict.items()}
