"""The network posture model: ingress sources are an allow-list, judged the same from Pulumi and from a plan."""

import pytest

import posture.network as network
from baseline import NETWORK
from policies.catalog import RULES
from policies.tfplan import terraform_values
from posture import UNKNOWN_VALUE, Unknown


def messages(props) -> list[str]:
    from_pulumi = [m for _n, _r, m in network.judge(network.from_pulumi("fw", props))]
    from_plan = [m for _n, _r, m in network.judge(network.from_terraform("fw", terraform_values(props)))]
    assert bool(from_pulumi) == bool(from_plan)
    return from_pulumi


TCP_22 = [{"protocol": "tcp", "ports": ["22"]}]


@pytest.mark.parametrize("what, props", [
    ("the whole internet", {"sourceRanges": ["0.0.0.0/0"], "allows": TCP_22}),
    ("the internet split in halves", {"sourceRanges": ["0.0.0.0/1", "128.0.0.0/1"], "allows": TCP_22}),
    ("IPv6 everywhere", {"sourceRanges": ["::/0"], "allows": TCP_22}),
    ("a public address", {"sourceRanges": ["203.0.113.7/32"], "allows": TCP_22}),
    ("a range that does not parse", {"sourceRanges": ["office"], "allows": TCP_22}),
    ("no source at all: GCP admits 0.0.0.0/0", {"allows": TCP_22}),
    ("a private range mixed with the internet", {"sourceRanges": ["10.0.0.0/8", "0.0.0.0/0"], "allows": TCP_22}),
    ("a range wider than the private one", {"sourceRanges": ["10.0.0.0/7"], "allows": TCP_22}),
])
def test_ingress_from_outside_the_allowed_ranges_fails(what, props):
    assert messages(props)


@pytest.mark.parametrize("what, props", [
    ("Google's load balancer ranges", {"sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"], "allows": TCP_22}),
    ("a private subnet", {"sourceRanges": ["10.10.0.0/24"], "allows": TCP_22}),
    ("source tags only", {"sourceTags": ["bastion"], "allows": TCP_22}),
    ("egress", {"direction": "EGRESS", "destinationRanges": ["0.0.0.0/0"], "allows": TCP_22}),
    ("disabled", {"sourceRanges": ["0.0.0.0/0"], "allows": TCP_22, "disabled": True}),
    ("deny only", {"sourceRanges": ["0.0.0.0/0"], "denies": [{"protocol": "all"}]}),
])
def test_ingress_the_allow_list_admits_holds(what, props):
    assert messages(props) == []


def test_an_unresolved_source_is_unknown():
    [(_name, _requirement, message)] = network.judge(network.from_pulumi("fw", {"sourceRanges": [UNKNOWN_VALUE],
                                                                               "allows": TCP_22}))
    assert isinstance(message, Unknown) and "source_ranges" in message


def test_the_rule_carries_the_requirements_controls():
    for requirement in network.REQUIREMENTS.values():
        assert set(requirement.controls) <= set(RULES[requirement.rule_id].controls)
    assert set(NETWORK.controls("ingress_sources_allowed")) <= set(RULES["RAE-NET-001"].controls)
