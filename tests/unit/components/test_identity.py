"""Identities: one account per service, resource-level grants only, no keys; CI federation pinned to one subject."""

import pytest

from baseline import IDENTITY, BaselineViolation
from components.identity import CiFederation, CiFederationArgs, ResourceGrant, ServiceIdentity, ServiceIdentityArgs
from tests.unit.components.harness import declare, of_type, one

SECRET = "projects/p/secrets/rae-qdrant-api-key"  # checkov:skip=CKV_SECRET_6:a Secret Manager resource path, not a secret [owner=platform-security expires=2027-05-29]


@pytest.fixture(scope="module")
def api_identity() -> list[dict]:
    return declare(lambda: ServiceIdentity("api", ServiceIdentityArgs(
        "api", [ResourceGrant("secret", SECRET, "roles/secretmanager.secretAccessor"),
                ResourceGrant("bucket", "rae-backups", "roles/storage.objectViewer")])))


def test_one_account_for_the_service(api_identity):
    assert one(api_identity, "gcp:serviceaccount/account:Account")["accountId"] == "rae-api"


def test_grants_are_bound_on_the_resources(api_identity):
    secret = one(api_identity, "gcp:secretmanager/secretIamMember:SecretIamMember")
    assert secret == {"secretId": SECRET, "role": "roles/secretmanager.secretAccessor",
                      "member": "serviceAccount:rae-api@unit-project.iam.gserviceaccount.com"}
    assert one(api_identity, "gcp:storage/bucketIAMMember:BucketIAMMember")["bucket"] == "rae-backups"


def test_nothing_project_wide_and_no_key_exists(api_identity):
    types = {resource["type"] for resource in api_identity}
    assert not any(t.startswith("gcp:projects/") or "organizations/iam" in t for t in types)
    assert not of_type(api_identity, "gcp:serviceaccount/key:Key")


@pytest.mark.parametrize("role", IDENTITY.forbidden_roles)
def test_basic_and_impersonation_roles_are_refused(role):
    with pytest.raises(BaselineViolation, match="A.5.15"):
        ResourceGrant("secret", SECRET, role)


@pytest.mark.parametrize("kind", ["project", "folder", "organization"])
def test_project_level_bindings_are_refused(kind):
    with pytest.raises(BaselineViolation, match="A.5.15") as refused:
        ResourceGrant(kind, "p", "roles/cloudsql.client")
    assert "not allowed" in str(refused.value)


def test_custom_project_roles_are_refused():
    with pytest.raises(BaselineViolation, match="A.5.15"):
        ResourceGrant("secret", SECRET, "projects/p/roles/everything")


def test_ci_federation_is_pinned_to_the_main_branch_subject():
    resources = declare(lambda: CiFederation("ci", CiFederationArgs("rae-org/rae-core", "projects/p/serviceAccounts/rae-ci")))
    provider = one(resources, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert provider["attributeCondition"] == "assertion.sub == 'repo:rae-org/rae-core:ref:refs/heads/main'"
    assert provider["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    binding = one(resources, "gcp:serviceaccount/iAMMember:IAMMember")
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"].endswith("/subject/repo:rae-org/rae-core:ref:refs/heads/main")
    assert binding["member"].startswith("principal://")


@pytest.mark.parametrize("repository, subject", [
    ("", None), ("rae-org/*", None), ("rae-org", None),
    ("rae-org/rae-core", "repo:rae-org/rae-core:*"), ("rae-org/rae-core", "repo:other/repo:ref:refs/heads/main"),
    ("rae-org/rae-core", "repo:rae-org/rae-core:ref:refs/heads/main' || true || '"),
])
def test_empty_wildcard_or_foreign_ci_subjects_are_refused(repository, subject):
    with pytest.raises(BaselineViolation, match="A.5.17"):
        declare(lambda: CiFederation("ci", CiFederationArgs(repository, "projects/p/serviceAccounts/rae-ci", subject)))
