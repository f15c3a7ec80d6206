"""The Binary Authorization posture model: a project's admission policy for container images in one vocabulary, one
small function per requirement.

A Cloud Run workload's binary authorization setting (posture.serverless, RAE-RUN-004) only names a policy: what that
policy admits is judged here. Adapters build the view from pulumi-gcp `gcp.binaryauthorization.Policy` inputs
(`from_pulumi`) and from a Terraform plan's or checkov's `google_binary_authorization_policy` values
(`from_terraform`). The component (components.binary_authorization.BinaryAuthorizationPolicy) and the CrossGuard rules
RAE-BIN-00x call `judge`; none restates a requirement.

Allow-lists: the default admission rule and every per-cluster rule evaluate in
CONTAINER.binary_authorization_evaluation_modes (REQUIRE_ATTESTATION naming at least one attestor), enforced as
CONTAINER.binary_authorization_enforcement_mode; global policy evaluation is CONTAINER.
binary_authorization_global_evaluation (unset is disabled); every allowlist pattern names one repository of the
policy's own project's Artifact Registry. A value the source could not resolve is unknown, never passed.

Example: judge(from_pulumi("policy", {"defaultAdmissionRule": {"evaluationMode": "ALWAYS_ALLOW",
                                                               "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}}))
"""

import re
from dataclasses import dataclass
from typing import Iterator

from baseline import CONTAINER
from posture.model import Requirement, Unknown, is_unknown, items, judge_requirements, one, pick, rule_ids

POLICY = "gcp:binaryauthorization/policy:Policy"
TERRAFORM_TYPE = "google_binary_authorization_policy"
# <location>-docker.pkg.dev/<project>/<repository>/<image path>: no wildcard before the image path.
_ARTIFACT_REGISTRY = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z0-9.:-]+)/"
                                r"(?P<repository>[a-z0-9][a-z0-9._-]*)/(?P<image>[^/].*)$")


@dataclass(frozen=True)
class AdmissionRule:
    """One admission rule: where it applies ("default" or a cluster spec), its evaluation and enforcement modes and
    the attestors it requires."""

    where: str
    evaluation_mode: str
    enforcement_mode: str
    attestors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyView:
    """A project's Binary Authorization policy, whatever described it.

    + project: the project it belongs to ("" where unset: the provider's, which the resource does not show)
    + rules: the default admission rule (absent where unset) and every per-cluster rule
    + global_evaluation: globalPolicyEvaluationMode ("" where unset: disabled)
    + allowlist: the admission allowlist's name patterns
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    project: str = ""
    rules: tuple[AdmissionRule, ...] = ()
    global_evaluation: str = ""
    allowlist: tuple[str, ...] = ()
    unknown: frozenset = frozenset()


def _admits_nothing_by_default(view, _context=None) -> Iterator[str]:
    allowed = CONTAINER.binary_authorization_evaluation_modes
    if not any(rule.where == "default" for rule in view.rules):
        yield f"no default admission rule: set defaultAdmissionRule.evaluationMode to one of {list(allowed)}"
    for rule in view.rules:
        if rule.evaluation_mode not in allowed:
            yield (f"{rule.where} admission rule evaluates {rule.evaluation_mode or 'unset'!r}: it admits images "
                   f"nobody attested; allowed: {list(allowed)}")
        elif rule.evaluation_mode == "REQUIRE_ATTESTATION" and not rule.attestors:
            yield (f"{rule.where} admission rule requires attestation but names no attestor "
                   f"(requireAttestationsBies)")


def _enforced(view, _context=None) -> Iterator[str]:
    wanted = CONTAINER.binary_authorization_enforcement_mode
    for rule in view.rules:
        if rule.enforcement_mode != wanted:
            yield (f"{rule.where} admission rule enforcement is {rule.enforcement_mode or 'unset'!r}: a refused image "
                   f"still runs; set {wanted!r}")


def _global_evaluation(view, _context=None) -> Iterator[str]:
    wanted = CONTAINER.binary_authorization_global_evaluation
    if view.global_evaluation != wanted:
        yield (f"globalPolicyEvaluationMode is {view.global_evaluation or 'unset'!r}: Google's system images need "
               f"allowlist patterns of their own; set {wanted!r}")


def _allowlist(view, _context=None) -> Iterator[str]:
    if view.allowlist and not view.project:
        yield ("project is unset: the allowlist cannot be tied to the policy's own project's Artifact Registry; set "
               "project")
    for pattern in view.allowlist:
        match = _ARTIFACT_REGISTRY.match(pattern)
        if not match or "*" in f"{match['location']}{match['project']}{match['repository']}":
            yield (f"allowlist pattern {pattern!r} exempts images outside one Artifact Registry repository; allowed: "
                   f"<location>-docker.pkg.dev/{view.project or '<project>'}/<repository>/<image or *>")
        elif view.project and match["project"] != view.project:
            yield (f"allowlist pattern {pattern!r} exempts images of project {match['project']!r}, not the policy's "
                   f"own {view.project!r}")


def default_rule_admits(view: PolicyView) -> Iterator[str]:
    """Why the policy's default admission rule lets an image nobody attested run (a Cloud Run workload on the
    project's default policy is admitted by that rule alone: posture.serverless, RAE-RUN-005); a posture.Unknown where
    the rules could not be resolved; nothing where it denies or requires attestation, enforced."""
    if "rules" in view.unknown:
        yield Unknown(f"the admission rules of policy {view.name} could not be resolved ({view.source}); not judged, "
                      f"so not passed")
        return
    default = next((rule for rule in view.rules if rule.where == "default"), None)
    allowed, enforced = CONTAINER.binary_authorization_evaluation_modes, CONTAINER.binary_authorization_enforcement_mode
    if default is None:
        yield f"policy {view.name} has no default admission rule"
    elif default.evaluation_mode not in allowed:
        yield (f"policy {view.name}'s default admission rule evaluates {default.evaluation_mode or 'unset'!r}: it "
               f"admits every image; allowed: {list(allowed)}")
    elif default.enforcement_mode != enforced:
        yield (f"policy {view.name}'s default admission rule is enforced as {default.enforcement_mode or 'unset'!r}: "
               f"an image it refuses still runs; set {enforced!r}")


REQUIREMENTS: dict[str, Requirement] = {
    "admits_nothing_by_default": Requirement(
        "RAE-BIN-001", ((CONTAINER, "binary_authorization_evaluation_modes"),), ("rules",), _admits_nothing_by_default),
    "enforced": Requirement("RAE-BIN-002", ((CONTAINER, "binary_authorization_enforcement_mode"),), ("rules",),
                            _enforced),
    "global_evaluation": Requirement("RAE-BIN-003", ((CONTAINER, "binary_authorization_global_evaluation"),),
                                     ("global_evaluation",), _global_evaluation),
    "allowlist": Requirement("RAE-BIN-004", ((CONTAINER, "binary_authorization_allowlist"),),
                             ("allowlist", "project"), _allowlist),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: PolicyView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


def _view(name: str, props: dict, terraform: bool, source: str) -> PolicyView:
    def get(value, *path):
        return pick(value, path, terraform)

    # Terraform names the attestor list require_attestations_by (Pulumi: requireAttestationsBies); its blocks
    # admission_whitelist_patterns and cluster_admission_rules are plural in both.
    attestors_key = "requireAttestationsBy" if terraform else "requireAttestationsBies"
    patterns_key, clusters_key = "admissionWhitelistPatterns", "clusterAdmissionRules"
    unknown = set()
    default = one(get(props, "defaultAdmissionRule"))
    raw_rules = [("default", default)] if default else []
    raw_rules += [(None, rule) for rule in items(get(props, clusters_key))]
    rules = []
    for where, rule in raw_rules:
        if is_unknown(rule):
            unknown.add("rules")
        attestors = items(get(rule, attestors_key))
        rules.append(AdmissionRule(where=where or f"cluster {one(get(rule, 'cluster'))}",
                                   evaluation_mode=str(one(get(rule, "evaluationMode")) or ""),
                                   enforcement_mode=str(one(get(rule, "enforcementMode")) or ""),
                                   attestors=tuple(str(a) for a in attestors if a)))
    raw_patterns = items(get(props, patterns_key))
    patterns = [one(get(pattern, "namePattern")) for pattern in raw_patterns]
    raw_global, raw_project = get(props, "globalPolicyEvaluationMode"), get(props, "project")
    for field, value in (("rules", get(props, "defaultAdmissionRule")), ("rules", get(props, clusters_key)),
                         ("allowlist", get(props, patterns_key)), ("global_evaluation", raw_global),
                         ("project", raw_project if patterns else None)):
        if is_unknown(value):
            unknown.add(field)
    return PolicyView(source=source, name=name, project=str(one(raw_project) or ""), rules=tuple(rules),
                      global_evaluation=str(one(raw_global) or ""),
                      allowlist=tuple(str(p or "") for p in patterns), unknown=frozenset(unknown))


def from_pulumi(name: str, props: dict) -> PolicyView:
    """pulumi-gcp `gcp:binaryauthorization/policy:Policy` inputs (camelCase)."""
    return _view(name, props, False, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> PolicyView:
    """A Terraform `google_binary_authorization_policy`'s values (snake_case; blocks, and in checkov every value, in
    lists)."""
    return _view(name, values, True, "terraform plan")


__all__ = ["AdmissionRule", "POLICY", "PolicyView", "REQUIREMENTS", "RULE_IDS", "TERRAFORM_TYPE",
           "default_rule_admits", "from_pulumi", "from_terraform", "judge"]
