"""Least-privilege identities on GCP: one service account per service, roles bound on resources only.

`grant` is the only way the components bind a role: it knows the resource-level IAM member types
(KMS key, secret, bucket, service account, Artifact Registry repository) and nothing project-wide, and refuses basic and
impersonation roles and public members. `CiFederation` lets GitHub Actions act as the CI identity
through Workload Identity Federation pinned to one repository and ref: no service account key exists.
"""

import re
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

import posture.iam as iam_posture
from baseline import IDENTITY, require
from posture.model import require_holds


_MEMBER_TYPES = {
    "kms_key": (gcp.kms.CryptoKeyIAMMember, "crypto_key_id"),
    "secret": (gcp.secretmanager.SecretIamMember, "secret_id"),
    "bucket": (gcp.storage.BucketIAMMember, "bucket"),
    "service_account": (gcp.serviceaccount.IAMMember, "service_account_id"),
    "artifact_repository": (gcp.artifactregistry.RepositoryIamMember, "repository"),
}
_SERVICE = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def check_grant(role: str, members: Sequence[str] = (), what: str = "grant") -> None:
    """Refuse a resource-level grant the IAM posture model fails or cannot decide: a basic, impersonation or
    custom role, or a member that is not a named identity (allUsers, allAuthenticatedUsers, domain:...)."""
    view = iam_posture.GrantView(source="components.identity", name=what, scope="resource",
                                 bindings=((role, tuple(members)),))
    require_holds(iam_posture.judge(view), what)


@dataclass(frozen=True)
class ResourceGrant:
    """A role on one resource. `kind` is one of kms_key, secret, bucket, service_account, artifact_repository
    (projects/P/locations/L/repositories/R); nothing project-wide.

    + kind: which IAM member type binds it
    + resource: the resource id (key id, secret id, bucket name, service account name)
    + role: a predefined role, not basic or impersonation
    """

    kind: str
    resource: pulumi.Input[str]
    role: str

    def __post_init__(self):
        require(self.kind in _MEMBER_TYPES,
                f"a {self.kind!r}-level binding is not allowed; bind on one of {sorted(_MEMBER_TYPES)}",
                IDENTITY.controls("grant_scope"))
        check_grant(self.role, (), f"{self.kind} grant")


def grant(name: str, what: ResourceGrant, member: pulumi.Input[str], parent: pulumi.Resource) -> pulumi.CustomResource:
    """Bind `what.role` on `what.resource` for `member` with the resource-level IAM member type."""
    member_type, resource_arg = _MEMBER_TYPES[what.kind]
    if isinstance(member, str):
        check_grant(what.role, (member,), name)
    # Members computed by other resources are checked when they resolve.
    checked_member = pulumi.Output.from_input(member).apply(
        lambda value: (check_grant(what.role, (value,), name), value)[1])
    return member_type(name, role=what.role, member=checked_member, **{resource_arg: what.resource},
                       opts=pulumi.ResourceOptions(parent=parent))


@dataclass
class ServiceIdentityArgs:
    """+ service: short service name (one account per service)
    + grants: roles on resources this service needs
    + project: the GCP project (provider default when None)
    """

    service: str
    grants: Sequence[ResourceGrant] = field(default_factory=tuple)
    project: str | None = None


class ServiceIdentity(pulumi.ComponentResource):
    """A service's own service account with resource-level grants; it never gets a key.

    Example: ServiceIdentity("api", ServiceIdentityArgs(
                 "api", [ResourceGrant("secret", secret.id, "roles/secretmanager.secretAccessor")]))
    """

    account: gcp.serviceaccount.Account
    email: pulumi.Output[str]
    member: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:ServiceIdentity", name, None, opts)
        require(bool(_SERVICE.match(args.service)),
                f"service name {args.service!r} must be 2-21 lowercase letters, digits or dashes",
                IDENTITY.controls("one_account_per_service"))
        self.account = gcp.serviceaccount.Account(
            name, account_id=f"rae-{args.service}", display_name=f"RAE {args.service} (one identity per service)",
            project=args.project, opts=pulumi.ResourceOptions(parent=self))
        self.email = self.account.email
        self.member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        for index, what in enumerate(args.grants):
            grant(f"{name}-{what.kind}-{index}", what, self.member, self)
        self.register_outputs({"email": self.email})


@dataclass
class CiFederationArgs:
    """+ repository: "ORG/REPO" on GitHub
    + ci_account: the `name` of the CI ServiceIdentity's account (projects/.../serviceAccounts/...)
    + subject: the exact OIDC `sub` allowed; default the repository's main branch
    """

    repository: str
    ci_account: pulumi.Input[str]
    subject: str | None = None
    project: str | None = None

    def allowed_subject(self) -> str:
        return self.subject or f"repo:{self.repository}:ref:refs/heads/main"


class CiFederation(pulumi.ComponentResource):
    """Workload Identity Federation for GitHub Actions, pinned to one repository's subject.

    Example: CiFederation("ci", CiFederationArgs("acme/rae", ci.account.name))
    """

    def __init__(self, name: str, args: CiFederationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:CiFederation", name, None, opts)
        controls = IDENTITY.controls("ci_federation")
        require(bool(_REPOSITORY.match(args.repository or "")),
                f"CI repository {args.repository!r} must be ORG/REPO without wildcards", controls)
        subject = args.allowed_subject()
        require(bool(subject.strip()) and not any(char in subject for char in "*?'\"\\"),
                f"CI subject {subject!r} must be one exact assertion.sub, without wildcards or quotes", controls)
        require(subject.startswith(f"repo:{args.repository}:"),
                f"CI subject {subject!r} does not belong to repository {args.repository}", controls)
        condition = f"assertion.sub == '{subject}'"
        require_holds(iam_posture.judge(iam_posture.FederationView(source="CiFederation", name=name,
                                                                   attribute_condition=condition)), f"CI federation {name}")
        child = pulumi.ResourceOptions(parent=self)
        self.pool = gcp.iam.WorkloadIdentityPool(
            name, workload_identity_pool_id=f"rae-{name}", display_name="RAE CI (GitHub Actions)",
            project=args.project, opts=child)
        self.provider = gcp.iam.WorkloadIdentityPoolProvider(
            name, workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=f"rae-{name}-github",
            attribute_mapping={"google.subject": "assertion.sub", "attribute.repository": "assertion.repository",
                               "attribute.ref": "assertion.ref"},
            attribute_condition=condition,
            oidc=gcp.iam.WorkloadIdentityPoolProviderOidcArgs(issuer_uri=GITHUB_ISSUER),
            project=args.project, opts=child)
        principal = self.pool.name.apply(lambda pool: f"principal://iam.googleapis.com/{pool}/subject/{subject}")
        grant(f"{name}-workload-identity-user",
              ResourceGrant("service_account", args.ci_account, "roles/iam.workloadIdentityUser"), principal, self)
        self.register_outputs({"pool": self.pool.name, "provider": self.provider.name, "subject": subject})
