"""The network posture model: a firewall rule in one vocabulary, one small function per requirement.

Adapters build the view from pulumi-gcp `Firewall` inputs (`from_pulumi`) and a Terraform plan's
`google_compute_firewall` values (`from_terraform`). The gate's rule RAE-NET-001 calls `judge`; none restates it.

The requirement is an allow-list: every source range of an enabled ingress rule that allows traffic must sit inside
NETWORK.ingress_sources_allowed. A range split to look narrow (`0.0.0.0/1` and `128.0.0.0/1`), a public address,
or a range that does not parse fails; an ingress rule with neither source ranges nor source tags nor source service
accounts fails too, because GCP then admits 0.0.0.0/0.

Example: judge(from_pulumi("ssh", {"sourceRanges": ["0.0.0.0/0"], "allows": [{"protocol": "tcp"}]}))
"""

import ipaddress
from dataclasses import dataclass
from typing import Iterator

from baseline import NETWORK
from posture.model import Requirement, is_unknown, judge_requirements


@dataclass(frozen=True)
class FirewallView:
    """A firewall rule, whatever described it.

    + source_ranges: as written; source_tags / source_accounts: the other ways a rule names its sources
    + allows: (protocol, ports) per allow block
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    direction: str = "INGRESS"
    disabled: bool = False
    source_ranges: tuple[str, ...] = ()
    source_tags: tuple[str, ...] = ()
    source_accounts: tuple[str, ...] = ()
    allows: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unknown: frozenset = frozenset()


def _allowed_networks():
    return [ipaddress.ip_network(r) for r in NETWORK.ingress_sources_allowed]


def outside_allowed(source_range: str) -> bool:
    """True where a source range is not inside one of the allowed ranges (or does not parse)."""
    try:
        network = ipaddress.ip_network(str(source_range).strip(), strict=False)
    except ValueError:
        return True
    return not any(network.version == allowed.version and network.subnet_of(allowed) for allowed in _allowed_networks())


def _internet_ingress(view, _context=None) -> Iterator[str]:
    if view.direction.upper() != "INGRESS" or view.disabled or not view.allows:
        return
    opened = [f"{protocol}:{','.join(ports) or 'all ports'}" for protocol, ports in view.allows]
    if not (view.source_ranges or view.source_tags or view.source_accounts):
        yield f"admits {opened} and names no source: GCP then admits 0.0.0.0/0, the whole internet"
        return
    outside = [r for r in view.source_ranges if outside_allowed(r)]
    if outside and not NETWORK.internet_ingress_allowed:
        yield (f"admits {opened} from {outside}: outside the allowed source ranges "
               f"{list(NETWORK.ingress_sources_allowed)}, i.e. from the internet (SSH and databases included)")


REQUIREMENTS: dict[str, Requirement] = {
    "internet_ingress": Requirement("RAE-NET-001", ((NETWORK, "internet_ingress_allowed"),
                                                    (NETWORK, "ingress_sources_allowed")),
                                    ("source_ranges", "allows"), _internet_ingress),
}


def judge(view: FirewallView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]))


def _view(name: str, props: dict, keys: dict, source: str) -> FirewallView:
    allows = []
    for allow in props.get(keys["allows"]) or []:
        if isinstance(allow, dict):
            allows.append((str(allow.get("protocol") or "all"), _strings(allow.get("ports"))))
    unknown = frozenset(field for field, key in (("source_ranges", keys["ranges"]), ("allows", keys["allows"]))
                        if is_unknown(props.get(key)))
    return FirewallView(source=source, name=name, direction=str(props.get("direction") or "INGRESS"),
                        disabled=props.get("disabled") is True, source_ranges=_strings(props.get(keys["ranges"])),
                        source_tags=_strings(props.get(keys["tags"])),
                        source_accounts=_strings(props.get(keys["accounts"])), allows=tuple(allows), unknown=unknown)


def from_pulumi(name: str, props: dict) -> FirewallView:
    """pulumi-gcp `gcp:compute/firewall:Firewall` inputs (camelCase)."""
    return _view(name, props, {"allows": "allows", "ranges": "sourceRanges", "tags": "sourceTags",
                               "accounts": "sourceServiceAccounts"}, "pulumi-gcp")


def from_terraform(name: str, values: dict) -> FirewallView:
    """A Terraform `google_compute_firewall`'s values (snake_case, `allow` blocks)."""
    return _view(name, values, {"allows": "allow", "ranges": "source_ranges", "tags": "source_tags",
                                "accounts": "source_service_accounts"}, "terraform plan")


__all__ = ["FirewallView", "REQUIREMENTS", "from_pulumi", "from_terraform", "judge", "outside_allowed"]
