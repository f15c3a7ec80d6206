"""The rules' logic on raw resource properties (camelCase, as the Pulumi engine and its mocks see them).

Pure Python: no Pulumi, CrossGuard or checkov import, so the gate evaluates a mock-rendered graph
with exactly the functions the CrossGuard pack wraps. One small function per rule id.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from posture import UNKNOWN_VALUE, Unknown


@dataclass(frozen=True)
class ResourceRule:
    """A rule judged on one resource: `check(props)` yields one message per violation.

    + rule_id: catalog id
    + resource_types: Pulumi type tokens it applies to
    + contextual: check(props, context, name) also takes what the stack declares (posture.container.Context) and
      the resource's name
    + typed: check(props, resource_type, name) also takes the type token and the name (a posture model whose
      adapter reads the type: IAM scope, Cloud Run v1 or v2, instance or template)
    + options: check(props, options) also takes the resource options that are not inputs ({"protect": bool}), or None
      where the source of the graph does not show them (the model then reports the requirement unknown)
    + per_field: the check asks a posture model, which judges each requirement on the fields it reads and reports
      only those whose fields are unresolved as unknown; any other rule is unknown as a whole when it reads one

    A message that is a posture.Unknown says why the rule could not decide: reported unknown, never passed.
    """

    rule_id: str
    resource_types: tuple[str, ...]
    check: Callable[..., Iterator[str]]
    contextual: bool = False
    type_pattern: str | None = None  # a regex on the type token, for families (every pulumi-gcp IAM member type)
    per_field: bool = False
    graph: bool = False  # reads what only the whole graph shows (graph_context): CrossGuard judges it per stack
    typed: bool = False
    options: bool = False

    def applies_to(self, key: str) -> bool:
        return key in self.resource_types or bool(self.type_pattern and re.fullmatch(self.type_pattern, key))

    def violations(self, props: dict, context=None, name: str = "", resource_type: str = "",
                   options: dict | None = None) -> Iterator[str]:
        if self.options:
            return self.check(props, options)
        if self.typed:
            return self.check(props, resource_type, name)
        if self.contextual:
            from posture.container import Context
            return self.check(props, context if context is not None else Context(), name)
        return self.check(props)


@dataclass(frozen=True)
class StackRule:
    """A rule judged on the whole graph: `check(resources)` yields (resource name, message) per violation.

    + resources: [{"type", "name", "props", "provider_project"?}] ("provider_project": the project of the provider
      the engine resolved for the resource, where the source of the graph shows it)
    + contextual: check(resources, context) also takes what the stack declares (posture.container.Context: its
      gcp:project), None where the caller has no stack config
    """

    rule_id: str
    check: Callable[..., Iterator[tuple[str, str]]]
    contextual: bool = False

    def violations(self, resources: list[dict], context=None) -> Iterator[tuple[str, str]]:
        return self.check(resources, context) if self.contextual else self.check(resources)


def _is_list(value) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def dig(value, *path):
    """props["a"]["b"]... answering None where a step is missing (a list step takes its first element).

    Works on plain dicts and on CrossGuard's read-only proxies, touching only the path it reads
    (so an unknown value elsewhere in a preview does not stop the rule).
    """
    for step in path:
        if _is_list(value):
            value = value[0] if len(value) else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def as_list(value) -> list:
    """A list-valued property as a list (absent -> [])."""
    if value is None:
        return []
    return list(value) if _is_list(value) else [value]


class _Reading(dict):
    """Resource properties that note every value a rule reads which the renderer could not resolve."""

    def __init__(self, data: dict, unresolved: list, path: str = ""):
        super().__init__(data)
        self._unresolved, self._path = unresolved, path

    def _wrap(self, key, value):
        where = f"{self._path}.{key}" if self._path else str(key)
        if isinstance(value, dict):
            return _Reading(value, self._unresolved, where)
        if isinstance(value, list):
            return [self._wrap(index, item) for index, item in enumerate(value)]
        if isinstance(value, str) and UNKNOWN_VALUE in value:
            self._unresolved.append(where)
        return value

    def get(self, key, default=None):
        return self._wrap(key, super().get(key, default))

    def __getitem__(self, key):
        return self._wrap(key, super().__getitem__(key))


def judged(rule: "ResourceRule", props: dict, context=None, name: str = "", resource_type: str = "",
           options: dict | None = None) -> list[str]:
    """The rule's messages, or one Unknown naming the unresolved values it read (its verdict on them means nothing).

    A per-field rule's posture model already decides unknowns requirement by requirement: its messages stand.
    + options: the resource options that are not inputs ({"protect": bool}); None where the graph does not show them
    """
    if rule.per_field:
        return list(rule.violations(props, context, name, resource_type, options))
    unresolved: list[str] = []
    messages = list(rule.violations(_Reading(props, unresolved), context, name, resource_type, options))
    if unresolved:
        return [Unknown(f"{', '.join(sorted(set(unresolved)))} could not be resolved under mocks; "
                        f"{rule.rule_id} not judged, so not passed")]
    return messages


def resource_rules() -> tuple[ResourceRule, ...]:
    from policies.rules import container, gcp, toolkit
    return container.RULES + gcp.RULES + toolkit.RULES


def rule_key(resource: dict) -> str:
    """What rules are keyed by: the type token, and for a dynamic resource also its provider class."""
    provider = resource.get("provider")
    return f"{resource['type']}#{provider}" if provider else resource["type"]


def stack_rules() -> tuple[StackRule, ...]:
    from policies.rules import stack
    return stack.RULES


def graph_context(resources: list[dict], context=None):
    """`context` (else the baseline's) with what only the whole graph shows: the containers a pids-limit step
    targets (policies.rules.toolkit.pids_targets)."""
    import dataclasses

    from policies.rules.toolkit import pids_targets
    from posture.container import Context
    return dataclasses.replace(context if context is not None else Context(), pids_limited=pids_targets(resources))


def evaluate(resources: Iterable[dict], context=None) -> Iterator[tuple[str, dict, str]]:
    """Every violation in a rendered graph as (rule id, resource, message); resources: {"type", "name", "props",
    "options"?} ("options": the resource options that are not inputs, absent where the graph does not show them).

    + context: what the stack declares (posture.container.Context: bind addresses, host roots), else the baseline's;
      the graph's own facts (pids-limit steps) are added to it
    """
    resources = list(resources)
    context = graph_context(resources, context)
    rules = resource_rules()
    applicable: dict[str, list[ResourceRule]] = {}
    for resource in resources:
        key = rule_key(resource)
        if key not in applicable:
            applicable[key] = [rule for rule in rules if rule.applies_to(key)]
        for rule in applicable[key]:
            for message in judged(rule, resource["props"], context, resource["name"], resource["type"],
                                  resource.get("options")):
                yield rule.rule_id, resource, message
    named = {resource["name"]: resource for resource in resources}
    for rule in stack_rules():
        for name, message in rule.violations(resources, context):
            yield rule.rule_id, named.get(name, {"type": "pulumi:pulumi:Stack", "name": name, "props": {}}), message

