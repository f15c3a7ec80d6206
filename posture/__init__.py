"""Posture models: per resource kind, one normalized view and one small function per requirement.

Every caller that judges a resource of that kind (component validation, the CrossGuard rules, the checkov
custom checks, the audit of live systems) builds the view with a thin adapter and asks the model; none
restates a requirement. Pure Python on top of the baseline: nothing here imports Pulumi, pyinfra or checkov,
so checkov's own virtual environment and a pyinfra operator can import it.
"""

from posture.model import UNKNOWN_VALUE, Requirement, Unknown, is_unknown

__all__ = ["Requirement", "UNKNOWN_VALUE", "Unknown", "is_unknown"]
