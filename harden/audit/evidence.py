"""One piece of evidence: what was checked, what the baseline expects, what was found, and the controls at stake."""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from baseline import controls as annex_a_controls

PASS, FAIL, UNKNOWN, NOT_APPLICABLE, RISK_ACCEPTED = "pass", "fail", "unknown", "not-applicable", "risk-accepted"
STATUSES = (PASS, FAIL, UNKNOWN, NOT_APPLICABLE, RISK_ACCEPTED)
SOURCES = ("container", "tls", "stack", "host", "gate", "backup", "database")
# The gate judges a program rendered under mocks: its findings show a design, not the running system.
STATIC_SOURCES = ("gate",)
CITATION_DIGITS = 16


def runtime_source(source: str) -> bool:
    """True for evidence read from the running system (containers, TLS handshakes, the stack's state, hosts, the
    backup log, queries inside the database)."""
    return source not in STATIC_SOURCES


def cite(item: dict) -> str:
    """How every generated document names one evidence item: `[key sha256:<first 16 hex digits>]`."""
    return f"[{item['key']} sha256:{item['sha256'][:CITATION_DIGITS]}]"


def now() -> str:
    """UTC timestamp with seconds, the one format every report field uses."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Evidence:
    """One check of one subject.

    + source: which collector produced it (one of SOURCES)
    + subject: what was checked, e.g. "container/postgres" or "tls/127.0.0.1:5432"
    + check: the attribute or property, e.g. "read_only_rootfs"
    + expected / actual: JSON-serialisable values (actual is redacted before any output)
    + status: one of STATUSES; "unknown" when the subject could not be reached or read; "risk-accepted" only
      through a waiver (owner, expiry) of a failing check
    + controls: ISO/IEC 27001:2022 Annex A ids at stake

    Example: Evidence("container", "container/api", "user", "10001:10001", "0", FAIL, ("A.8.2",))
    """

    source: str
    subject: str
    check: str
    expected: object
    actual: object
    status: str
    controls: tuple[str, ...]
    detail: str = ""
    collected_at: str = field(default_factory=now)

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"evidence source {self.source!r} is not one of {SOURCES}")
        if self.status not in STATUSES:
            raise ValueError(f"evidence status {self.status!r} is not one of {STATUSES}")
        unknown = [cid for cid in self.controls if cid not in annex_a_controls()]
        if unknown:
            raise ValueError(f"evidence {self.key}: {unknown} are not ISO/IEC 27001:2022 Annex A control ids")
        self.controls = tuple(self.controls)

    @property
    def key(self) -> str:
        """Stable identity across runs, used to compare with a previous report."""
        return f"{self.source}:{self.subject}:{self.check}"

    def as_dict(self) -> dict:
        return {"key": self.key, **asdict(self), "controls": list(self.controls)}


def seal(item: dict) -> dict:
    """The item with `sha256` over its canonical JSON (without the hash field), so an auditor can recompute it."""
    body = {k: v for k, v in item.items() if k != "sha256"}
    return {**body, "sha256": hashlib.sha256(canonical(body)).hexdigest()}


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
