"""The rule catalog: stable ids, valid ISO 27001:2022 controls, every rule implemented by exactly one scanner."""

import re
import subprocess
import sys

import pytest

import baseline
from policies.catalog import ENGINES, RULES, SEVERITIES, rule_for_checkov
from policies.rules import resource_rules, stack_rules


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_is_well_formed(rule_id):
    rule = RULES[rule_id]
    assert re.fullmatch(r"RAE-[A-Z]{2,4}-\d{3}", rule.id) and rule.id == rule_id
    assert rule.severity in SEVERITIES and rule.engine in ENGINES
    assert rule.controls, f"{rule_id} names no control"
    unknown = [c for c in rule.controls if c not in baseline.controls()]
    assert not unknown, f"{rule_id}: {unknown} are not ISO/IEC 27001:2022 Annex A controls"
    assert rule.title and rule.rationale and rule.remediation


def test_crossguard_rules_are_exactly_the_crossguard_engine_rules():
    implemented = {rule.rule_id for rule in (*resource_rules(), *stack_rules())}
    assert implemented == {rule.id for rule in RULES.values() if rule.engine == "crossguard"}


def test_checkov_built_ins_map_to_one_rule():
    claimed = [pattern for rule in RULES.values() for pattern in rule.checkov_ids]
    assert len(claimed) == len(set(claimed))
    assert rule_for_checkov("CKV_GCP_6").id == "RAE-SQL-002"
    assert rule_for_checkov("CKV_SECRET_13").id == "RAE-SCR-001"
    assert rule_for_checkov("CKV_AWS_1") is None


def test_catalog_imports_nothing_from_pulumi_or_checkov():
    probe = ("import sys, policies.catalog, policies.rules.container, policies.rules.gcp, policies.rules.stack, "
             "policies.rules.toolkit, policies.rules.coverage, posture.container, policies.app_checks, policies.tfplan; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_policy', 'checkov', 'pulumi_gcp')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
