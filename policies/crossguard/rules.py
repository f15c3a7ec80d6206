"""The CrossGuard policies: each catalog rule's function wrapped as a ResourceValidationPolicy or
StackValidationPolicy. This module does not construct the PolicyPack (that starts a gRPC server and
blocks), so tests call `POLICIES[rule_id].validate(args, report_violation)` directly.
"""

from collections.abc import Mapping, Sequence

from pulumi_policy import (EnforcementLevel, PolicyComplianceFramework, ResourceValidationPolicy, Severity,
                           StackValidationPolicy)
from pulumi_policy.proxy import UnknownValueError

from policies.catalog import RULES
from policies.rules import (UNKNOWN_VALUE, ResourceRule, StackRule, graph_context, judged, resource_rules,
                            stack_rules)

ISO_27001 = PolicyComplianceFramework(name="ISO/IEC 27001", version="2022", reference="Annex A")


def _metadata(rule_id: str) -> dict:
    rule = RULES[rule_id]
    return {
        "name": rule_id.lower(),
        "description": f"{rule.title} [ISO 27001:2022 {', '.join(rule.controls)}]",
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": Severity(rule.severity),
        "framework": ISO_27001,
        "tags": list(rule.controls),
        "remediation_steps": rule.remediation,
    }


def _message(rule_id: str, detail: str) -> str:
    rule = RULES[rule_id]
    return f"{rule_id} {rule.title}: {detail} [ISO 27001:2022 {', '.join(rule.controls)}]"


def _plain(value):
    """The engine's properties as plain dicts and lists, the way the rules read them everywhere else.

    CrossGuard hands a rule proxies (not dict/list) that raise on a value the preview cannot know yet; such a
    value becomes UNKNOWN_VALUE, so the rule reports it undecided instead of judging an absent value.
    """
    if isinstance(value, Mapping):
        plain = {}
        for key in value:
            try:
                plain[key] = _plain(value[key])
            except UnknownValueError:
                plain[key] = UNKNOWN_VALUE
        return plain
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = []
        for index in range(len(value)):
            try:
                items.append(_plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN_VALUE)
        return items
    return value


def _options(opts) -> dict | None:
    """The resource options the rules read that are not inputs (posture.key's protection), as the engine states them."""
    return None if opts is None else {"protect": bool(opts.protect)}


def resource_policy(rules: list[ResourceRule]) -> ResourceValidationPolicy:
    """One policy per rule id, over every resource type its rules judge (an undecided rule is a violation too)."""
    def validate(args, report_violation):
        props = None
        for rule in rules:
            if rule.applies_to(args.resource_type):
                props = _plain(args.props) if props is None else props
                for detail in judged(rule, props, None, args.name, args.resource_type, _options(args.opts)):
                    report_violation(_message(rule.rule_id, detail))

    return ResourceValidationPolicy(validate=validate, **_metadata(rules[0].rule_id))


def graph_policy(rules: list[ResourceRule]) -> StackValidationPolicy:
    """A rule id one of whose rules reads the whole graph (a resource policy sees one resource): judged per resource
    with the graph's context, each violation reported against the resource's URN."""
    def validate(args, report_violation):
        resources = [{"type": r.resource_type, "name": r.name, "urn": r.urn, "props": _plain(r.props),
                      "options": _options(r.opts)} for r in args.resources]
        context = graph_context(resources)
        for resource in resources:
            for rule in rules:
                if rule.applies_to(resource["type"]):
                    for detail in judged(rule, resource["props"], context, resource["name"], resource["type"],
                                         resource["options"]):
                        report_violation(_message(rule.rule_id, detail), resource["urn"])

    return StackValidationPolicy(validate=validate, **_metadata(rules[0].rule_id))


def _by_id(rules) -> dict[str, list[ResourceRule]]:
    grouped: dict[str, list[ResourceRule]] = {}
    for rule in rules:
        grouped.setdefault(rule.rule_id, []).append(rule)
    return grouped


def _provider_project(resource):
    """The project of the provider the engine resolved for the resource (the default provider's is the stack's
    gcp:project), where it is a Google Cloud provider that names one."""
    provider = getattr(resource, "provider", None)
    if provider is None or not str(provider.resource_type).startswith("pulumi:providers:gcp"):
        return None
    try:
        return provider.props.get("project")
    except UnknownValueError:
        return UNKNOWN_VALUE


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args, report_violation):
        resources = [{"type": r.resource_type, "name": r.name, "urn": r.urn, "props": _plain(r.props),
                      **({"provider_project": _provider_project(r)} if _provider_project(r) else {})}
                     for r in args.resources]
        urns = {resource["name"]: resource["urn"] for resource in resources}
        for name, detail in rule.violations(resources):
            report_violation(_message(rule.rule_id, f"{name}: {detail}"), urns.get(name))

    return StackValidationPolicy(validate=validate, **_metadata(rule.rule_id))


POLICIES: dict[str, ResourceValidationPolicy | StackValidationPolicy] = {
    **{rule_id: graph_policy(rules) if any(rule.graph for rule in rules) else resource_policy(rules)
       for rule_id, rules in _by_id(resource_rules()).items()},
    **{rule.rule_id: stack_policy(rule) for rule in stack_rules()},
}
