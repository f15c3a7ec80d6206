"""Parity with checkov-on-Terraform: every check id checkov fails on a hand-written .tf twin is failed by the gate
on the Pulumi program (tests/fixtures/parity; figure in benchmarks/gate.md)."""

import pytest

from tests.policy.parity import parity

pytestmark = pytest.mark.integration


def test_the_gate_fails_what_checkov_fails_on_the_terraform_twin():
    terraform, gate = parity()
    assert len(terraform) >= 40, "the suite must keep its pairs (at least 40 with a checkov failure on the twin)"
    missed = {name: sorted(ids - gate.get(name, set())) for name, ids in terraform.items()}
    assert not {name: ids for name, ids in missed.items() if ids}
