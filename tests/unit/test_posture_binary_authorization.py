"""The Binary Authorization posture model: the project's admission policy judged the same way from pulumi-gcp inputs,
a Terraform plan and checkov's view of it; an unresolved value is unknown, never passed."""

import pytest

import posture.binary_authorization as admission
from baseline import CONTAINER
from posture import UNKNOWN_VALUE, Unknown
from policies.tfplan import terraform_values
from tests.policy.cases import BREAKING, HARDENED, with_changes
from tests.unit.test_posture_gcp import checkov_conf

HARDENED_POLICY = HARDENED[admission.POLICY]
ATTESTED_CLUSTER = {"cluster": "europe-west4.gke", "evaluationMode": "REQUIRE_ATTESTATION",
                    "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
                    "requireAttestationsBies": ["projects/p/attestors/build"]}


def views(props):
    yield admission.from_pulumi("policy", props)
    yield admission.from_terraform("policy", terraform_values(props))
    yield admission.from_terraform("policy", checkov_conf(terraform_values(props)))


def rules(view) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _name, requirement, message in admission.judge(view):
        found.setdefault(requirement.rule_id, []).append(message)
    return found


def test_the_hardened_policy_and_an_attested_cluster_rule_hold_from_every_source():
    for view in views(with_changes(HARDENED_POLICY, {"clusterAdmissionRules": [ATTESTED_CLUSTER]})):
        assert rules(view) == {} and len(view.rules) == 2 and view.rules[1].attestors == ("projects/p/attestors/build",)


WEAKER = [
    *((BREAKING[rule_id][1], rule_id) for rule_id in admission.RULE_IDS),
    ({"defaultAdmissionRule": None}, "RAE-BIN-001"),
    ({"defaultAdmissionRule.evaluationMode": "REQUIRE_ATTESTATION"}, "RAE-BIN-001"),
    ({"clusterAdmissionRules": [{**ATTESTED_CLUSTER, "evaluationMode": "ALWAYS_ALLOW"}]}, "RAE-BIN-001"),
    ({"clusterAdmissionRules": [{**ATTESTED_CLUSTER, "enforcementMode": "DRYRUN_AUDIT_LOG_ONLY"}]}, "RAE-BIN-002"),
    ({"globalPolicyEvaluationMode": None}, "RAE-BIN-003"),
    ({"project": None}, "RAE-BIN-004"),
    ({"admissionWhitelistPatterns": [{"namePattern": "europe-west4-docker.pkg.dev/other/images/*"}]}, "RAE-BIN-004"),
    ({"admissionWhitelistPatterns": [{"namePattern": "europe-west4-docker.pkg.dev/p/*"}]}, "RAE-BIN-004"),
    ({"admissionWhitelistPatterns": [{"namePattern": "*-docker.pkg.dev/p/images/*"}]}, "RAE-BIN-004"),
    ({"admissionWhitelistPatterns": [{"namePattern": "gcr.io/p/*"}]}, "RAE-BIN-004"),
]


@pytest.mark.parametrize("changes, rule_id", WEAKER)
def test_each_weakness_fails_its_rule_from_every_source(changes, rule_id):
    for view in views(with_changes(HARDENED_POLICY, changes)):
        found = rules(view)
        assert set(found) == {rule_id} and not any(isinstance(m, Unknown) for m in found[rule_id]), view


def test_always_allow_and_dry_run_name_the_baselines_controls():
    for rule_id in ("RAE-BIN-001", "RAE-BIN-002"):
        [requirement] = [r for r in admission.REQUIREMENTS.values() if r.rule_id == rule_id]
        assert {"A.8.19", "A.8.32"} <= set(requirement.controls)
    assert admission.REQUIREMENTS["enforced"].controls == CONTAINER.controls("binary_authorization_enforcement_mode")


@pytest.mark.parametrize("changes, rule_id", [
    ({"defaultAdmissionRule.evaluationMode": UNKNOWN_VALUE}, "RAE-BIN-001"),
    ({"globalPolicyEvaluationMode": UNKNOWN_VALUE}, "RAE-BIN-003"),
    ({"admissionWhitelistPatterns": [{"namePattern": UNKNOWN_VALUE}]}, "RAE-BIN-004"),
    ({"project": UNKNOWN_VALUE}, "RAE-BIN-004"),
])
def test_an_unresolved_value_is_unknown_never_passed(changes, rule_id):
    found = rules(admission.from_pulumi("policy", with_changes(HARDENED_POLICY, changes)))
    unknown = [m for messages in found.values() for m in messages if isinstance(m, Unknown)]
    assert rule_id in found and all(isinstance(m, Unknown) for m in found[rule_id]) and unknown
