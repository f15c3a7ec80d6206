"""The rule catalog: one source of truth for CrossGuard policies, checkov custom checks and reports.

Pure data; imports nothing from Pulumi or checkov.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One rule: stable id, what it asserts, how bad a failure is, the Annex A controls it serves, why, and how to fix."""

    id: str
    title: str
    severity: str  # one of SEVERITIES
    controls: tuple[str, ...]
    rationale: str
    remediation: str


SEVERITIES = ("low", "medium", "high", "critical")

RULES: dict[str, Rule] = {}
