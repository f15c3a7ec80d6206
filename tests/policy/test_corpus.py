"""The insecure corpus: every catalog rule is caught there, with its id and its ISO 27001:2022 controls.

A rule added to the catalog without a fixture here fails `test_rule_is_caught`.
"""

import json

import jsonschema
import pytest

from policies.catalog import RULES
from policies.report import sarif
from tests.fixtures.gate import REPO

pytestmark = pytest.mark.integration

# Where each rule's violation sits in tests/fixtures/insecure (a substring of the finding's resource or file).
WHERE = {rule_id: rule_id.lower().removeprefix("rae-") for rule_id in RULES if rule_id.split("-")[1] in
         ("CTR", "SQL", "KMS", "DSK", "TLS", "RUN", "SEC", "GCS", "IAM", "VM", "STK")}
WHERE |= {"RAE-IMG-001": "images/Dockerfile", "RAE-IMG-002": "images/Dockerfile", "RAE-IMG-003": "images/Dockerfile",
          "RAE-SCR-001": "secrets/", "RAE-SAST-001": "app/unsafe.py", "RAE-DEP-001": "app/requirements.txt",
          "RAE-APP-002": "django/production.py"}
WHERE |= {f"RAE-APP-{n:03d}": "django/settings.py" for n in range(1, 12) if f"RAE-APP-{n:03d}" not in WHERE}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_is_caught(corpus_result, rule_id):
    assert rule_id in WHERE, f"{rule_id} has no fixture in tests/fixtures/insecure"
    caught = [f for f in corpus_result.findings if f.rule_id == rule_id and
              (WHERE[rule_id] in f.resource or WHERE[rule_id] in f.file)]
    assert caught, f"{rule_id} was not reported on {WHERE[rule_id]}"
    finding = caught[0]
    assert finding.controls == list(RULES[rule_id].controls)
    if rule_id == "RAE-DEP-001" and finding.status == "unknown":
        # Offline the vulnerability service cannot answer: the gate must say so, never pass it.
        assert "could not be audited" in finding.message or "did not run" in finding.message
    else:
        assert finding.status == "failed", finding


def test_hardened_container_in_corpus_is_clean(corpus_result):
    assert not [f for f in corpus_result.findings if f.resource.endswith("::hardened") and f.status == "failed"]


def test_corpus_produces_an_sbom(corpus_result):
    sboms = [path for path in corpus_result.artifacts if "sbom-" in path]
    assert sboms and all(json.load(open(path))["bomFormat"] == "CycloneDX" for path in sboms)


# Our checkov custom checks, run by checkov itself on the corpus plans: each fails where its rule is broken.
CUSTOM_CHECKS = ("RAE-CTR-001", "RAE-CTR-002", "RAE-CTR-003", "RAE-CTR-004", "RAE-CTR-008", "RAE-CTR-009",
                 "RAE-RUN-001", "RAE-SQL-001", "RAE-SEC-001", "RAE-GCS-001", "RAE-TLS-001")


def test_checkov_custom_checks_fail_where_the_rule_is_broken(corpus_result):
    from policies.gate import CHECKOV_CHECKS, REPO as GATE_REPO, _checkov
    results = {}
    for plan in (path for path in corpus_result.artifacts if path.endswith(".plan.json")):
        for report in _checkov(["-f", plan, "--framework", "terraform_plan", "--external-checks-dir",
                                str(CHECKOV_CHECKS)], GATE_REPO):
            for status in ("failed_checks", "passed_checks"):
                for check in report["results"][status]:
                    results.setdefault(check["check_id"], {}).setdefault(status, set()).add(check["resource"])
    for rule_id in CUSTOM_CHECKS:
        expected = rule_id.lower().removeprefix("rae-")
        failed = results.get(rule_id, {}).get("failed_checks", set())
        assert any(resource.endswith(f".{expected}") for resource in failed), f"{rule_id} did not fail on {expected}"
    assert "docker_container.hardened" in results["RAE-CTR-001"]["passed_checks"]


def test_sarif_validates_against_the_official_schema(corpus_result):
    # sarif-schema-2.1.0.json: the OASIS SARIF TC's schema, verbatim from oasis-tcs/sarif-spec
    # Documents/CommitteeSpecifications/2.1.0/ (commit 3682e9ee648f2f3e11ba1fcd47fc390a0b8f9dab).
    schema = json.loads((REPO / "tests" / "policy" / "sarif-schema-2.1.0.json").read_text())
    document = sarif(corpus_result)
    jsonschema.validate(document, schema)
    assert {r["ruleId"] for r in document["runs"][0]["results"]} >= {"RAE-CTR-001", "RAE-APP-001"}


def test_json_report_validates_against_the_gate_schema(corpus_result):
    schema = json.loads((REPO / "policies" / "gate-result.schema.json").read_text())
    jsonschema.validate(corpus_result.as_json(), schema)
