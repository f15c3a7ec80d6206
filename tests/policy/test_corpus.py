"""The insecure corpus: every catalog rule is caught there, with its id and its ISO 27001:2022 controls.

A rule added to the catalog without a fixture here fails `test_rule_is_caught`.
"""

import json

import jsonschema
import pytest

from policies.catalog import RULES
from posture.container import RULE_IDS as CONTAINER_RULE_IDS
from policies.report import sarif
from tests.fixtures.gate import REPO

pytestmark = pytest.mark.integration

# Where each rule's violation sits in tests/fixtures/insecure (a substring of the finding's resource or file).
WHERE = {rule_id: rule_id.lower().removeprefix("rae-") for rule_id in RULES if rule_id.split("-")[1] in
         ("CTR", "SQL", "KMS", "DSK", "TLS", "RUN", "SEC", "GCS", "IAM", "VM", "STK", "NET", "GATE", "BIN")}
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
    elif rule_id == "RAE-GATE-001":
        assert finding.status == "unknown" and "no rule understands" in finding.message
    else:
        assert finding.status == "failed", finding


# Every bypass the issue found, as a raw resource in the corpus: (resource name, rule it must fail, status).
BYPASSES = {
    "ctr-010-run": "RAE-CTR-010", "ctr-010-var-run": "RAE-CTR-010", "ctr-010-double-slash": "RAE-CTR-010",
    "ctr-010-etc-dot": "RAE-CTR-010", "ctr-010-device": "RAE-CTR-010", "ctr-010-volume-device": "RAE-CTR-010",
    "ctr-001-group-root": "RAE-CTR-001", "ctr-001-group-add": "RAE-CTR-001", "ctr-009-cgroupns": "RAE-CTR-009",
    "ctr-009-pid-container": "RAE-CTR-009", "ctr-009-ipc-container": "RAE-CTR-009",
    "ctr-009-network-container": "RAE-CTR-009", "ctr-002-tmpfs-exec": "RAE-CTR-002", "ctr-004-apparmor": "RAE-CTR-004",
    "ctr-004-label": "RAE-CTR-004", "ctr-004-systempaths": "RAE-CTR-004", "ctr-004-later-false": "RAE-CTR-004",
    "ctr-012-url": "RAE-CTR-012", "ctr-012-token": "RAE-CTR-012", "ctr-006-none": "RAE-CTR-006",
    "ctr-013-none": "RAE-CTR-013", "ctr-011-suffix": "RAE-CTR-011", "ctr-014": "RAE-CTR-014", "ctr-015": "RAE-CTR-015",
    "ctr-016": "RAE-CTR-016", "ctr-017": "RAE-CTR-017", "ctr-009-secret": "RAE-CTR-009", "net-001": "RAE-NET-001",
    "iam-005": "RAE-IAM-005", "sql-007-pgaudit-all": "RAE-SQL-007",
    "ctr-009-cgroupns-unset": "RAE-CTR-009", "ctr-009-ipc-shareable": "RAE-CTR-009", "ctr-013-unset": "RAE-CTR-013",
    "ctr-007-publish-all": "RAE-CTR-007", "ctr-014-gpus": "RAE-CTR-014", "ctr-010-volumes-from": "RAE-CTR-010",
    "ctr-010-propagation": "RAE-CTR-010", "ctr-005-no-pids-step": "RAE-CTR-005",
    "sql-003-authorized-split": "RAE-SQL-003", "sql-008-unset": "RAE-SQL-008",
    "sql-008-no-pool": "RAE-SQL-008",
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_every_bypass_now_fails_the_gate(corpus_result, name):
    caught = [f for f in corpus_result.findings if f.rule_id == BYPASSES[name] and f.resource.endswith(f"::{name}")]
    assert caught and caught[0].status == "failed", f"{name} passed {BYPASSES[name]}"


def test_a_customer_managed_server_ca_without_its_pool_is_its_one_weakness(corpus_result):
    """sql-008-no-pool differs from sql-008-unset only in its (allowed) mode: the same rules are reported on both,
    and RAE-SQL-008 names the missing pool."""
    def reported(name):
        return [f for f in corpus_result.findings if f.status != "passed" and
                (f.resource.endswith(f"::{name}") or f.resource.endswith(f".{name}"))]
    no_pool = reported("sql-008-no-pool")
    assert {(f.rule_id, f.status) for f in no_pool} == {(f.rule_id, f.status) for f in reported("sql-008-unset")}
    assert any(f.rule_id == "RAE-SQL-008" and f.status == "failed" and "serverCaPool names no CA Service pool"
               in f.message for f in no_pool)


def test_a_secret_is_judged_and_never_shown(corpus_result):
    [finding] = [f for f in corpus_result.findings if f.rule_id == "RAE-CTR-009" and f.resource.endswith("::ctr-009-secret")]
    assert finding.status == "failed" and "'host'" not in finding.message and "[secret]" in finding.message
    plans = [path for path in corpus_result.artifacts if path.endswith(".plan.json")]
    written = [json.load(open(path)) for path in plans]
    secret = [r for plan in written for r in plan["planned_values"]["root_module"]["resources"]
              if r["name"] == "ctr-009-secret"]
    assert secret and secret[0]["values"]["network_mode"] == "[secret]"


def test_an_unresolved_value_is_unknown(corpus_result):
    found = [f for f in corpus_result.findings if f.rule_id == "RAE-CTR-001" and f.resource.endswith("::ctr-001-unresolved")]
    assert found and found[0].status == "unknown" and "could not be resolved" in found[0].message


def test_hardened_container_in_corpus_is_clean(corpus_result):
    assert not [f for f in corpus_result.findings if f.resource.endswith("::hardened") and f.status == "failed"]


def test_corpus_produces_an_sbom(corpus_result):
    sboms = [path for path in corpus_result.artifacts if "sbom-" in path]
    assert sboms and all(json.load(open(path))["bomFormat"] == "CycloneDX" for path in sboms)


# Our checkov custom checks, run by checkov itself on the corpus plans: each fails where its rule is broken.
CUSTOM_CHECKS = (*CONTAINER_RULE_IDS, "RAE-RUN-001", "RAE-SQL-001", "RAE-SEC-001", "RAE-GCS-001", "RAE-TLS-001")


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


def test_split_django_settings_and_f_strings_fail(corpus_result):
    inherited = [f for f in corpus_result.findings if f.rule_id == "RAE-APP-001" and
                 f.file == "django_split/settings/base.py" and "inherited by" in f.message]
    folded = [f for f in corpus_result.findings if f.rule_id == "RAE-APP-008" and
              f.file == "django_split/settings/production.py"]
    assert inherited and inherited[0].status == "failed"
    assert folded and folded[0].status == "failed" and "rediss://cache.internal" in folded[0].resource


def test_pgaudit_all_says_what_is_at_stake(corpus_result):
    [finding] = [f for f in corpus_result.findings if f.rule_id == "RAE-SQL-007" and
                 f.resource.endswith("::sql-007-pgaudit-all") and f.source == "crossguard"]
    assert "memory contents into Cloud Logging" in finding.message and "A.8.11" in finding.message


def test_programs_are_found_as_the_engine_finds_them(corpus_result):
    """Pulumi.yml with `main: src/` and its stack file in stackConfigDir: rendered with that stack's config."""
    found = [f for f in corpus_result.findings if f.rule_id == "RAE-CTR-008" and
             f.resource == "pulumi_main#prod:docker:index/container:Container::ctr-008-discovered"]
    assert found and found[0].status == "failed" and found[0].file == "pulumi_main/src/__main__.py"


def test_every_tagged_fixture_is_caught_with_its_rule(corpus_result):
    """At least 120 fixtures of one weakness each, each tagged with its rule and controls, each caught."""
    from tests.policy.corpus import fixtures
    tagged = fixtures(corpus_result)
    assert len(tagged) >= 120, f"the corpus holds {len(tagged)} tagged fixtures"
    assert all(fixture.controls for fixture in tagged)
    assert not [(f.where, f.rule_id, f.expected) for f in tagged if not f.caught]
