"""The CrossGuard policy pack: `pulumi preview --policy-pack policies/crossguard` runs every rule as mandatory."""

import sys
from pathlib import Path

# The engine starts the pack with this directory as the working directory; the rules live in the repository.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.crossguard.rules import POLICIES  # noqa: E402

PolicyPack(name="rae-iso27001", enforcement_level=EnforcementLevel.MANDATORY, policies=list(POLICIES.values()))
