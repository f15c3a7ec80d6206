"""The rules' logic on raw resource properties (camelCase, as the Pulumi engine and its mocks see them).

Pure Python: no Pulumi, CrossGuard or checkov import, so the gate evaluates a mock-rendered graph
with exactly the functions the CrossGuard pack wraps. One small function per rule id.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator


@dataclass(frozen=True)
class ResourceRule:
    """A rule judged on one resource: `check(props)` yields one message per violation.

    + rule_id: catalog id
    + resource_types: Pulumi type tokens it applies to
    """

    rule_id: str
    resource_types: tuple[str, ...]
    check: Callable[[dict], Iterator[str]]


@dataclass(frozen=True)
class StackRule:
    """A rule judged on the whole graph: `check(resources)` yields (resource name, message) per violation.

    + resources: [{"type", "name", "props"}]
    """

    rule_id: str
    check: Callable[[list[dict]], Iterator[tuple[str, str]]]


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


def resource_rules() -> tuple[ResourceRule, ...]:
    from policies.rules import container, gcp
    return container.RULES + gcp.RULES


def stack_rules() -> tuple[StackRule, ...]:
    from policies.rules import stack
    return stack.RULES


def evaluate(resources: Iterable[dict]) -> Iterator[tuple[str, dict, str]]:
    """Every violation in a rendered graph as (rule id, resource, message); resources: {"type", "name", "props"}."""
    resources = list(resources)
    by_type: dict[str, list[ResourceRule]] = {}
    for rule in resource_rules():
        for resource_type in rule.resource_types:
            by_type.setdefault(resource_type, []).append(rule)
    for resource in resources:
        for rule in by_type.get(resource["type"], ()):
            for message in rule.check(resource["props"]):
                yield rule.rule_id, resource, message
    named = {resource["name"]: resource for resource in resources}
    for rule in stack_rules():
        for name, message in rule.check(resources):
            yield rule.rule_id, named.get(name, {"type": "pulumi:pulumi:Stack", "name": name, "props": {}}), message

