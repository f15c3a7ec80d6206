"""The stack checks read through the Docker API on real networks and containers: every live container of a stack is
in its declared graph (A.5.9), each of its networks joins only that stack's containers and gives none a route out
(A.8.22, A.8.31; A.8.20, A.8.23)."""

import uuid

import pytest

from harden.audit import stack
from harden.audit.containers import STACK_LABEL

pytestmark = pytest.mark.integration


@pytest.fixture
def two_networks(docker_client, audit_image):
    """A stack with an internal network and a NAT'ed one, a container of the stack on each, and a container of
    another stack attached to the internal one."""
    name = f"audit-sep-{uuid.uuid4().hex[:8]}"
    made = []

    def network(suffix, internal):
        created = docker_client.networks.create(f"{name}-{suffix}", driver="bridge", internal=internal,
                                                labels={STACK_LABEL: name})
        made.append(created)
        return created

    def container(suffix, stack_name, net):
        created = docker_client.containers.run(audit_image, ["/bin/sleep", "infinity"], name=f"{name}-{suffix}",
                                               detach=True, network=net.name, labels={STACK_LABEL: stack_name},
                                               user="10001:10001", read_only=True, cap_drop=["ALL"])
        made.append(created)
        return created

    internal, nat = network("backend", True), network("edge", False)
    parts = {"stack": name, "internal": internal, "nat": nat, "a": container("a", name, internal),
             "b": container("b", name, nat), "stranger": container("stranger", "another-stack", internal)}
    yield parts
    for thing in reversed(made):
        try:
            thing.remove(force=True) if hasattr(thing, "attach") else thing.remove()
        except Exception:  # already gone
            pass


def _declaring(*containers) -> list[dict]:
    return [{"type": stack.CONTAINER_TYPE, "urn": f"urn:pulumi:t::p::docker:index/container:Container::{c.name}",
             "inputs": {"name": c.name}} for c in containers]


def _by(evidence):
    return {(e.subject, e.check): e for e in evidence}


def test_a_foreign_container_on_a_stack_network_and_outbound_nat_fail(docker_client, two_networks):
    parts = two_networks
    declared = _declaring(parts["a"], parts["b"])
    found = _by(stack.network_separation(docker_client, parts["stack"], declared))
    members = found[(f"network/{parts['internal'].name}", "members")]
    assert members.status == "fail" and members.actual == [parts["stranger"].name]
    assert set(members.controls) == {"A.8.22", "A.8.31"}
    assert found[(f"network/{parts['nat'].name}", "members")].status == "pass"
    assert found[(f"network/{parts['internal'].name}", "egress")].status == "pass"
    nat = found[(f"network/{parts['nat'].name}", "egress")]
    assert nat.status == "fail" and nat.actual == "outbound NAT" and {"A.8.20", "A.8.22", "A.8.23"} == set(nat.controls)
    parts["internal"].disconnect(parts["stranger"], force=True)
    again = _by(stack.network_separation(docker_client, parts["stack"], declared))
    assert again[(f"network/{parts['internal'].name}", "members")].status == "pass"


def test_a_live_container_missing_from_the_declared_graph_fails(docker_client, two_networks):
    parts = two_networks
    [item] = stack.undeclared_containers(_declaring(parts["a"]), docker_client, parts["stack"])
    assert item.status == "fail" and item.actual == [parts["b"].name] and set(item.controls) == {"A.5.9", "A.8.9"}
    [item] = stack.undeclared_containers([], docker_client, parts["stack"])  # declares none, runs two
    assert item.status == "fail" and item.actual == sorted([parts["a"].name, parts["b"].name])
    [item] = stack.undeclared_containers(_declaring(parts["a"], parts["b"]), docker_client, parts["stack"])
    assert item.status == "pass" and item.actual == []


def test_declared_containers_without_a_stack_network_are_unknown_a_stack_of_no_containers_has_none(docker_client):
    name = f"no-such-stack-{uuid.uuid4().hex[:8]}"
    ghost = type("Declared", (), {"name": f"{name}-api"})()
    [networks] = stack.network_separation(docker_client, name, _declaring(ghost))
    assert networks.status == "unknown"  # nothing to check is not a pass
    assert stack.network_separation(docker_client, name, []) == []  # e.g. a stack of TLS material only
    assert stack.undeclared_containers([], docker_client, name) == []
