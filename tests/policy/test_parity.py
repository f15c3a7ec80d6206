"""Parity with checkov-on-Terraform: every check id checkov fails on a hand-written .tf twin is failed by the gate
on the Pulumi program (tests/fixtures/parity; figure in benchmarks/gate.md)."""

import pytest

from tests.policy.parity import parity

pytestmark = pytest.mark.integration

# Checks no plan can show, with why. CKV_GCP_82 reads Terraform's lifecycle.prevent_destroy, a meta-argument that
# is in no plan JSON (Pulumi's equivalent is the `protect` resource option, not an input either).
NOT_IN_ANY_PLAN = {"CKV_GCP_82"}


def test_the_gate_fails_what_checkov_fails_on_the_terraform_twin():
    terraform, gate = parity()
    assert len(terraform) >= 40, "the suite must keep its pairs (at least 40 with a checkov failure on the twin)"
    missed = {name: sorted(ids - gate.get(name, set()) - NOT_IN_ANY_PLAN) for name, ids in terraform.items()}
    assert not {name: ids for name, ids in missed.items() if ids}
