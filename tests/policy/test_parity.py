"""Parity with checkov-on-Terraform: every check id checkov fails on a hand-written .tf twin is failed by the gate
on the Pulumi program (tests/fixtures/parity; figure in benchmarks/gate.md)."""

import os
import subprocess

import pytest

from policies.catalog import RULES
from policies.gate import CHECKOV
from tests.policy.parity import parity

pytestmark = pytest.mark.integration


def test_the_gate_fails_what_checkov_fails_on_the_terraform_twin():
    terraform, gate = parity()
    assert len(terraform) >= 40, "the suite must keep its pairs (at least 40 with a checkov failure on the twin)"
    missed = {name: sorted(ids - gate.get(name, set())) for name, ids in terraform.items()}
    assert not {name: ids for name, ids in missed.items() if ids}


CLOUD_RUN = ("google_cloud_run_service", "google_cloud_run_v2_service", "google_cloud_run_v2_job",
             "google_cloud_run_v2_worker_pool")
POLICY = "google_binary_authorization_policy"
BINARY_AUTHORIZATION_RULES = ("RAE-BIN-001", "RAE-BIN-002", "RAE-BIN-003", "RAE-BIN-004")


def test_checkov_has_no_binary_authorization_check_the_catalog_does_not_report():
    """RAE-RUN-004 (Cloud Run binary authorization, services, jobs and worker pools) and RAE-BIN-00x (the project's
    Binary Authorization policy) stand on their own ids because checkov's check list, read from checkov itself, has
    none for them (its one Binary Authorization check, CKV_GCP_66, reads GKE clusters; none reads
    google_binary_authorization_policy at all). When an update adds one, this fails: report it under the rule
    (checkov_ids) and give the parity suite a pair for it."""
    listing = subprocess.run([str(CHECKOV), "--list", "--framework", "terraform", "--skip-download"],  # nosec B603
                             env={**os.environ, "BC_SKIP_MAPPING": "TRUE"}, capture_output=True, text=True,
                             check=True, timeout=600).stdout
    # | # | Id | Type | Entity | Policy | IaC | Resource Link |
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in listing.splitlines() if line.startswith("| ")]
    binary_authorization = {(row[1], row[3]) for row in rows if "binary authorization" in row[4].lower()}
    assert ("CKV_GCP_66", "google_container_cluster") in binary_authorization, "checkov's list was not read"
    on_cloud_run = {check_id for check_id, entity in binary_authorization if entity in CLOUD_RUN}
    assert on_cloud_run <= set(RULES["RAE-RUN-004"].checkov_ids)
    on_policy = {row[1] for row in rows if POLICY in row[3]}
    assert on_policy <= {i for rule_id in BINARY_AUTHORIZATION_RULES for i in RULES[rule_id].checkov_ids}
