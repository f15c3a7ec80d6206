"""What no rule understands is unknown, never passed (RAE-GATE-001)."""

import pytest

from policies.gate import crossguard_findings

IMAGE = "sha256:" + "a" * 64


def statuses(resources):
    return {(f.resource.rsplit("::", 1)[-1], f.status) for f in crossguard_findings(resources, "s", "f")
            if f.rule_id == "RAE-GATE-001"}


@pytest.mark.parametrize("resource, why", [
    ({"type": "pulumi-python:dynamic:Resource", "name": "x", "props": {}, "provider": "__main__.Shell"}, "dynamic"),
    ({"type": "command:local:Command", "name": "x", "props": {"create": "curl | sh"}}, "command"),
    ({"type": "pulumi:providers:docker", "name": "x", "props": {"host": "ssh://node"}}, "provider"),
    ({"type": "aws:s3/bucket:Bucket", "name": "x", "props": {}}, "package 'aws'"),
    ({"type": "docker:index/service:Service", "name": "x", "props": {}}, "pulumi-docker type"),
])
def test_a_resource_no_rule_understands_is_unknown(resource, why):
    [finding] = [f for f in crossguard_findings([resource], "s", "f") if f.rule_id == "RAE-GATE-001"]
    assert finding.status == "unknown" and why in finding.message


def test_what_the_gate_judges_is_not_unknown():
    resources = [
        {"type": "gcp:pubsub/topic:Topic", "name": "t", "props": {}},
        {"type": "docker:index/network:Network", "name": "n", "props": {}},
        {"type": "random:index/randomPassword:RandomPassword", "name": "p", "props": {"length": 40}},
        {"type": "pulumi-python:dynamic:Resource", "name": "d", "props": {"limit": 256},
         "provider": "components.pids_limit.PidsLimitProvider"},
    ]
    assert statuses(resources) == set()


def test_a_provider_that_only_calls_itself_ours_is_not_trusted():
    spoof = {"type": "pulumi-python:dynamic:Resource", "name": "d", "props": {"limit": 256},
             "provider": "components.pids_limit.PidsLimitProvider (not the class of that name)"}
    assert statuses([spoof]) == {("d", "unknown")}


def test_a_gcp_rule_that_reads_an_unresolved_value_is_unknown():
    resources = [{"type": "gcp:cloudrunv2/service:Service", "name": "api", "props": {"ingress": "[unknown]"}}]
    [finding] = [f for f in crossguard_findings(resources, "s", "f") if f.rule_id == "RAE-RUN-001"]
    assert finding.status == "unknown" and "ingress of api could not be resolved" in finding.message
