"""Secrets the gate judged and must never show: their values come from the render (Pulumi secrets, by path)
and are masked in every message and every artifact the gate writes."""

import copy

MASK = "[secret]"
# Values this short would mask ordinary words everywhere; they are masked only in their own resource's findings.
_GLOBAL_MIN_LENGTH = 8


def _walk(value, path):
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return None
    return value


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def secret_values(resource: dict) -> list[str]:
    """Every value under the resource's secret paths, longest first (so a value inside another is masked after it)."""
    found = {leaf for path in resource.get("secrets", ()) for leaf in _leaves(_walk(resource["props"], path)) if leaf}
    return sorted(found, key=len, reverse=True)


def redacted_props(resource: dict) -> dict:
    """The resource's properties with every secret replaced by MASK (for plans and reports)."""
    props = copy.deepcopy(resource["props"])
    for path in resource.get("secrets", ()):
        if not path:
            return MASK
        parent = _walk(props, path[:-1])
        if isinstance(parent, dict) and path[-1] in parent or isinstance(parent, list) and path[-1] < len(parent):
            parent[path[-1]] = MASK
    return props


def mask(text: str, values) -> str:
    for value in values:
        text = text.replace(value, MASK)
    return text


def redact_findings(findings, resources: list[dict], display_name) -> None:
    """Mask secrets in finding messages: a resource's own secrets in its findings, long secrets everywhere.

    + display_name: resource -> the name its findings carry
    """
    own = {display_name(resource): secret_values(resource) for resource in resources if resource.get("secrets")}
    everywhere = [value for values in own.values() for value in values if len(value) >= _GLOBAL_MIN_LENGTH]
    if not own:
        return
    for finding in findings:
        finding.message = mask(mask(finding.message, own.get(finding.resource, ())), everywhere)
