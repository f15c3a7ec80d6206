"""The IAM posture model: a role grant, a service account key and a CI federation in one vocabulary, one small
function per requirement.

Adapters build the grant view from any pulumi-gcp IAM member, binding or policy type, project, folder, organization
or resource level (`from_pulumi`; an `*IAMPolicy`'s policyData is read binding by binding), and from a Terraform
plan's or checkov's `google_*_iam_member|binding|policy` values (`from_terraform`). The components
(components.identity), the CrossGuard rules RAE-IAM-00x and the stack rules call `judge`; none restates a requirement.

Allow-lists: a member is one of IDENTITY.member_kinds_allowed (allUsers, allAuthenticatedUsers, domain: and the
project-role members fail); a role is a predefined `roles/<service>.<role>` outside IDENTITY.forbidden_roles (the
basic roles roles/owner, roles/editor, roles/viewer have no service part and fail); a custom role's permissions are
declared elsewhere, so it is undecided, never passed.

Example: judge(from_pulumi("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "k", {"role": "roles/x.y",
                                                                                 "member": "allUsers"}))
"""

import json
import re
from dataclasses import dataclass
from typing import Iterator

from baseline import IDENTITY
from posture.model import Requirement, Unknown, is_unknown, items, judge_requirements, one, pick, rule_ids

# Every pulumi-gcp IAM member, binding or policy type, whatever its module (storage, kms, secretmanager, cloudrun,
# cloudrunv2, serviceaccount, projects, ...) and however it spells IAM (iAMMember, IamMember, iamMember).
IAM_TYPE = r"gcp:([A-Za-z0-9]+)/[A-Za-z0-9]*(?i:iam)(Member|Binding|Policy):[A-Za-z0-9]*(?i:iam)(Member|Binding|Policy)"
# Terraform's spelling: google_<resource>_iam_member|binding|policy.
IAM_TERRAFORM_TYPE = r"google_([a-z0-9_]*?)_?iam_(member|binding|policy)"
# Module (Pulumi) or resource prefix (Terraform) of the grants that reach a whole project, folder or organization.
_WIDE_SCOPES = {"projects": "project", "project": "project", "folder": "folder", "organizations": "organization",
                "organization": "organization"}
_PREDEFINED_ROLE = re.compile(r"^roles/[a-z][A-Za-z0-9]*\.[A-Za-z0-9.]+$")
_CUSTOM_ROLE = re.compile(r"^(projects|organizations)/[^/]+/roles/[A-Za-z0-9_.]+$")
_PUBLIC = ("allUsers", "allAuthenticatedUsers")
# Google's default identities: the Compute Engine and App Engine default service accounts ("default": a block that
# names no account).
_DEFAULT_ACCOUNT = re.compile(r"^(default|\d+-compute@developer\.gserviceaccount\.com|[^@]+@appspot\.gserviceaccount\.com)$")
_PINNED_CLAIMS = ("sub", "repository")


@dataclass(frozen=True)
class GrantView:
    """A role grant, whatever described it.

    + scope: "project", "folder", "organization" or "resource" (what the role reaches)
    + bindings: (role, members) per binding (a member type: one binding of one member)
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    scope: str = "resource"
    bindings: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unknown: frozenset = frozenset()


@dataclass(frozen=True)
class AccountKeyView:
    """A service account key (`gcp.serviceaccount.Key`): its existence is the finding."""

    source: str
    name: str
    unknown: frozenset = frozenset()


@dataclass(frozen=True)
class FederationView:
    """A Workload Identity pool provider: + attribute_condition: the CEL condition every token must meet."""

    source: str
    name: str
    attribute_condition: str = ""
    unknown: frozenset = frozenset()


def _roles(view, _context=None) -> Iterator[str]:
    for role, _members in view.bindings:
        if role in IDENTITY.forbidden_roles:
            yield f"role {role} is a basic or impersonation role: never granted"
        elif _CUSTOM_ROLE.match(role):
            yield Unknown(f"role {role} of {view.name} is a custom role: its permissions are declared elsewhere; "
                          f"not judged, so not passed")
        elif not _PREDEFINED_ROLE.match(role):
            yield f"role {role!r} is not a predefined service role (roles/<service>.<role>): basic roles grant everything"


def _resource_scope(view, _context=None) -> Iterator[str]:
    if IDENTITY.grant_scope != "resource" or view.scope == "resource":
        return
    for role, members in view.bindings:
        accounts = [member for member in members if member.startswith("serviceAccount:")]
        if accounts:
            yield f"role {role} is granted to {accounts} on the whole {view.scope}, not on the resource it needs"


def _named_members(view, _context=None) -> Iterator[str]:
    for role, members in view.bindings:
        public = [member for member in members if member in _PUBLIC]
        if public and not IDENTITY.public_members_allowed:
            yield f"role {role} is granted to {public}: anyone with (or without) a Google account"
        others = [member for member in members
                  if member not in _PUBLIC and not member.startswith(IDENTITY.member_kinds_allowed)]
        if others:
            yield (f"role {role} is granted to {others}: not a named identity "
                   f"(allowed member kinds: {list(IDENTITY.member_kinds_allowed)})")


def _no_account_keys(view, _context=None) -> Iterator[str]:
    if not IDENTITY.account_keys_allowed:
        yield "a service account key is a long-lived credential; use Workload Identity Federation"


def is_default_account(email: str) -> bool:
    """Whether a workload's service account is one of Google's defaults, shared by every workload of the project and
    usually an editor."""
    return bool(_DEFAULT_ACCOUNT.match(str(email)))


def pinned(condition: str) -> bool:
    """Whether a federation's attribute condition pins one exact subject or repository."""
    condition = " ".join(str(condition).split())
    return any(f"assertion.{claim} ==" in condition for claim in _PINNED_CLAIMS)


def _pinned_federation(view, _context=None) -> Iterator[str]:
    if not pinned(view.attribute_condition):
        yield f"attributeCondition {view.attribute_condition!r} does not pin assertion.sub or assertion.repository"


_GRANT_READS = ("bindings",)
REQUIREMENTS: dict[str, Requirement] = {
    "roles": Requirement("RAE-IAM-001", ((IDENTITY, "forbidden_roles"),), _GRANT_READS, _roles),
    "resource_scope": Requirement("RAE-IAM-002", ((IDENTITY, "grant_scope"),), _GRANT_READS, _resource_scope),
    "named_members": Requirement("RAE-IAM-005", ((IDENTITY, "public_members_allowed"),
                                                 (IDENTITY, "member_kinds_allowed")), _GRANT_READS, _named_members),
}
ACCOUNT_KEY_REQUIREMENTS: dict[str, Requirement] = {
    "no_account_keys": Requirement("RAE-IAM-003", ((IDENTITY, "account_keys_allowed"),), (), _no_account_keys),
}
FEDERATION_REQUIREMENTS: dict[str, Requirement] = {
    "pinned_federation": Requirement("RAE-IAM-004", ((IDENTITY, "ci_federation"),), ("attribute_condition",),
                                     _pinned_federation),
}
_BY_VIEW = {GrantView: REQUIREMENTS, AccountKeyView: ACCOUNT_KEY_REQUIREMENTS, FederationView: FEDERATION_REQUIREMENTS}
GRANT_RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS | ACCOUNT_KEY_REQUIREMENTS | FEDERATION_REQUIREMENTS)


def judge(view, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) of a grant, key or federation view as
    (name, requirement, message)."""
    return judge_requirements(_BY_VIEW[type(view)], view, None, rule_id)


def _members(value) -> tuple[str, ...]:
    return tuple(str(one(member)) for member in items(value))


def _policy_bindings(policy_data) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """The bindings of an IAM policy document (policyData, a JSON string), or None where it does not parse."""
    try:
        policy = json.loads(policy_data) if isinstance(policy_data, str) else policy_data
        return tuple((str(binding["role"]), tuple(str(m) for m in binding.get("members") or ()))
                     for binding in (policy or {}).get("bindings") or ())
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _grant(name: str, scope: str, props: dict, terraform: bool, source: str) -> GrantView:
    policy_data = pick(props, ("policyData",), terraform)
    if policy_data is not None:
        raw = one(policy_data)
        bindings = None if is_unknown(raw) else _policy_bindings(raw)
        if bindings is None:
            return GrantView(source=source, name=name, scope=scope, unknown=frozenset({"bindings"}))
        return GrantView(source=source, name=name, scope=scope, bindings=bindings)
    role, members = pick(props, ("role",), terraform), pick(props, ("members",), terraform)
    member = pick(props, ("member",), terraform)
    everyone = _members(members) + _members(member)
    unknown = is_unknown(role) or is_unknown(members) or is_unknown(member)
    return GrantView(source=source, name=name, scope=scope, bindings=((str(one(role) or ""), everyone),),
                     unknown=frozenset({"bindings"}) if unknown else frozenset())


def from_pulumi(resource_type: str, name: str, props: dict):
    """A pulumi-gcp IAM member/binding/policy (a GrantView), `gcp:serviceaccount/key:Key` (an AccountKeyView) or a
    Workload Identity pool provider (a FederationView), from its inputs (camelCase)."""
    if resource_type == "gcp:serviceaccount/key:Key":
        return AccountKeyView(source="pulumi-gcp", name=name)
    if resource_type == "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
        condition = props.get("attributeCondition")
        return FederationView(source="pulumi-gcp", name=name, attribute_condition=str(condition or ""),
                              unknown=frozenset({"attribute_condition"}) if is_unknown(condition) else frozenset())
    match = re.fullmatch(IAM_TYPE, resource_type)
    if not match:
        raise ValueError(f"{resource_type} is not a pulumi-gcp IAM grant, key or federation type")
    return _grant(name, _WIDE_SCOPES.get(match.group(1), "resource"), props, False, "pulumi-gcp")


def from_terraform(resource_type: str, name: str, values: dict) -> GrantView:
    """A Terraform `google_*_iam_member|binding|policy`'s values (snake_case; in checkov every value in a list)."""
    match = re.fullmatch(IAM_TERRAFORM_TYPE, resource_type)
    if not match:
        raise ValueError(f"{resource_type} is not a Terraform IAM grant type")
    return _grant(name, _WIDE_SCOPES.get(match.group(1), "resource"), values, True, "terraform plan")


__all__ = ["ACCOUNT_KEY_REQUIREMENTS", "AccountKeyView", "FEDERATION_REQUIREMENTS", "FederationView", "GRANT_RULE_IDS",
           "GrantView", "IAM_TYPE", "REQUIREMENTS", "RULE_IDS", "from_pulumi", "from_terraform", "is_default_account", "judge",
           "pinned"]
