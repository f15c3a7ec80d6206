"""BinaryAuthorizationPolicy: the project's admission policy denies by default (or requires attestors), is enforced,
evaluates Google's global policy and exempts only the project's own Artifact Registry repositories (under mocks)."""

import pytest

import posture.binary_authorization as admission
from baseline import CONTAINER, BaselineViolation
from components.binary_authorization import BinaryAuthorizationPolicy, BinaryAuthorizationPolicyArgs, repository_of
from tests.unit.components.harness import declare, of_type, one

REPOSITORY = "europe-west4-docker.pkg.dev/rae-unit/rae"
POLICY = admission.POLICY


def _policy(**args) -> list[dict]:
    return declare(lambda: BinaryAuthorizationPolicy("images", BinaryAuthorizationPolicyArgs(
        **({"project": "rae-unit"} | args))))


def test_the_default_rule_denies_and_only_the_projects_repository_is_admitted():
    resources = _policy(repositories=[REPOSITORY])
    policy = one(resources, POLICY)
    assert policy["defaultAdmissionRule"] == {"evaluationMode": "ALWAYS_DENY",
                                              "enforcementMode": CONTAINER.binary_authorization_enforcement_mode}
    assert policy["globalPolicyEvaluationMode"] == CONTAINER.binary_authorization_global_evaluation == "ENABLE"
    assert policy["admissionWhitelistPatterns"] == [{"namePattern": f"{REPOSITORY}/*"}]
    assert policy["project"] == "rae-unit"
    [declared] = of_type(resources, POLICY)
    assert declared["options"] == {"protect": True}
    assert not list(admission.judge(admission.from_pulumi("images", policy)))


def test_attestors_make_the_default_rule_require_their_attestation_and_exempt_nothing():
    policy = one(_policy(attestors=["projects/rae-unit/attestors/build"]), POLICY)
    assert policy["defaultAdmissionRule"]["evaluationMode"] == "REQUIRE_ATTESTATION"
    assert policy["defaultAdmissionRule"]["requireAttestationsBies"] == ["projects/rae-unit/attestors/build"]
    assert "admissionWhitelistPatterns" not in policy
    with pytest.raises(BaselineViolation, match="skip the 1 attestor.*A.8.19"):
        _policy(attestors=["projects/rae-unit/attestors/build"], repositories=[REPOSITORY])


@pytest.mark.parametrize("repository, problem", [
    ("europe-west4-docker.pkg.dev/other-project/rae", "not the policy's own 'rae-unit'"),
    ("docker.io/library", "outside one Artifact Registry repository"),
    ("europe-west4-docker.pkg.dev/rae-unit/*", "outside one Artifact Registry repository"),
])
def test_a_repository_outside_the_projects_artifact_registry_is_refused(repository, problem):
    with pytest.raises(BaselineViolation, match=problem) as refused:
        _policy(repositories=[repository])
    assert set(refused.value.controls) == set(CONTAINER.controls("binary_authorization_allowlist"))


def test_the_repository_of_an_image_is_its_artifact_registry_path():
    assert repository_of(f"{REPOSITORY}/api@sha256:" + "e" * 64) == REPOSITORY
    assert repository_of(f"{REPOSITORY}/team/api@sha256:" + "e" * 64) == REPOSITORY
