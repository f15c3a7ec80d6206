"""Each CrossGuard policy called directly (no engine, no CLI): a hardened resource passes, one change fails it."""

import pytest
from pulumi_policy import (PolicyProviderResource, PolicyResource, PolicyResourceOptions, ResourceValidationArgs,
                           StackValidationArgs, StackValidationPolicy)

from baseline import CONTAINER
from policies.catalog import RULES
from policies.crossguard.rules import POLICIES
from policies.rules import UNKNOWN_VALUE, evaluate, resource_rules, stack_rules
from policies.rules.toolkit import DYNAMIC
from tests.policy.cases import BREAKING, CONTAINER_TYPE, HARDENED, OPTIONS, broken, split_options

# The pids-limit step a program holds beside a pulumi-docker container named "r" (it has no pids input).
PIDS_STEP = (DYNAMIC, "r-pids", {"container": "r", "container_id": "r-id", "limit": CONTAINER.pids_limit})


def engine_options(options: dict | None) -> PolicyResourceOptions | None:
    """Resource options as the engine hands them to a policy (None: a policy called without them)."""
    return None if options is None else PolicyResourceOptions(options["protect"], [], False, [], None, [], None)


def violations(rule_id: str, resource_type: str, props: dict, options: dict | None = OPTIONS) -> list[str]:
    """A rule that reads the graph is a stack policy: the resource is judged in a program that holds its pids step."""
    if isinstance(POLICIES[rule_id], StackValidationPolicy):
        return stack_violations(rule_id, [(resource_type, "r", props), PIDS_STEP], options)
    reported = []
    POLICIES[rule_id].validate(ResourceValidationArgs(resource_type, props, f"urn:{rule_id}", "r",
                                                      engine_options(options), None),
                               lambda message, urn=None: reported.append(message))
    return reported


def stack_violations(rule_id: str, resources: list[tuple[str, str, dict]], options: dict | None = OPTIONS) -> list[str]:
    reported = []
    policy_resources = [PolicyResource(t, props, f"urn::{name}", name, engine_options(options), None, None, [], {})
                        for t, name, props in resources]
    POLICIES[rule_id].validate(StackValidationArgs(policy_resources), lambda message, urn=None: reported.append(message))
    return reported


def test_every_resource_rule_has_a_case():
    assert {rule.rule_id for rule in resource_rules()} == set(BREAKING)


@pytest.mark.parametrize("rule_id", sorted(BREAKING))
def test_hardened_resource_passes(rule_id):
    resource_type, _ = BREAKING[rule_id]
    if HARDENED[resource_type] is None:  # forbidden resource type: any instance of it fails
        assert violations(rule_id, resource_type, {}) != []
    else:
        assert violations(rule_id, resource_type, HARDENED[resource_type]) == []


@pytest.mark.parametrize("rule_id", sorted(BREAKING))
def test_breaking_change_fails_with_id_and_controls(rule_id):
    resource_type, changes = BREAKING[rule_id]
    changes, options = split_options(changes)
    messages = violations(rule_id, resource_type, broken(resource_type, changes), options)
    assert messages, f"{rule_id} did not report {changes}"
    assert all(m.startswith(rule_id) and ", ".join(RULES[rule_id].controls) in m for m in messages)


def test_key_rings_are_judged_on_protect_and_a_key_whose_options_are_not_shown_is_not_passed():
    ring, key = "gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"
    assert violations("RAE-KMS-003", ring, HARDENED[ring]) == []
    [deletable] = violations("RAE-KMS-003", ring, HARDENED[ring], {"protect": False})
    assert "not protected from deletion" in deletable
    [unseen] = violations("RAE-KMS-003", key, HARDENED[key], None)
    assert "not judged, so not passed" in unseen


def test_policy_ignores_other_resource_types():
    assert violations("RAE-CTR-008", "gcp:storage/bucket:Bucket", {"privileged": True}) == []


def _db_container(name, mounts):
    return (CONTAINER_TYPE, name, {**HARDENED[CONTAINER_TYPE], "image": "sha256:" + "c" * 64, "mounts": mounts})


def _volume(name, encryption):
    return ("docker:index/volume:Volume", name,
            {"name": name, "labels": [{"label": "org.rae.hardening.encryption", "value": encryption}]})


def test_stack_encrypted_volumes():
    mount = [{"type": "volume", "source": "rae-pgdata", "target": "/var/lib/postgresql/data"}]
    assert stack_violations("RAE-STK-001", [_db_container("postgres", mount), _volume("rae-pgdata", "luks")]) == []
    failing = stack_violations("RAE-STK-001", [_db_container("postgres", mount), _volume("rae-pgdata", "exempt")])
    assert failing and "RAE-STK-001" in failing[0]
    bind = [{"type": "bind", "source": "/srv/plain", "target": "/qdrant/storage"}]
    assert stack_violations("RAE-STK-001", [_db_container("qdrant", bind)])
    secret_file = [{"type": "bind", "source": "/srv/secrets/pg", "target": "/run/secrets/pg", "readOnly": True}]
    assert stack_violations("RAE-STK-001", [_db_container("postgres", mount + secret_file), _volume("rae-pgdata", "luks")]) == []


def test_stack_one_account_per_service():
    run = "gcp:cloudrunv2/service:Service"
    own = [(run, "api", {"template": {"serviceAccount": "api-sa"}}), (run, "worker", {"template": {"serviceAccount": "w-sa"}})]
    shared = [(run, "api", {"template": {"serviceAccount": "sa"}}), (run, "worker", {"template": {"serviceAccount": "sa"}})]
    assert stack_violations("RAE-STK-002", own) == []
    assert len(stack_violations("RAE-STK-002", shared)) == 2
    # No account at all is the serverless model's RAE-RUN-002, judged per service; the stack rule does not restate it.
    assert stack_violations("RAE-STK-002", [(run, "api", {"template": {}})]) == []
    assert violations("RAE-RUN-002", run, {"template": {}})


def test_stack_private_databases():
    sql = "gcp:sql/databaseInstance:DatabaseInstance"
    assert stack_violations("RAE-STK-003", [(sql, "db", HARDENED[sql])]) == []
    assert stack_violations("RAE-STK-003", [(sql, "db", broken(sql, {"settings.ipConfiguration.ipv4Enabled": True}))])
    exposed = {**HARDENED[CONTAINER_TYPE], "ports": [{"internal": 5432, "external": 5432, "ip": "0.0.0.0"}]}
    assert stack_violations("RAE-STK-003", [(CONTAINER_TYPE, "postgres", exposed)])


def test_stack_tls13_endpoints():
    proxy, policy = "gcp:compute/targetHttpsProxy:TargetHttpsProxy", "gcp:compute/sSLPolicy:SSLPolicy"
    good = [(policy, "tls13", HARDENED[policy]), (proxy, "https", {"sslPolicy": "https://mock/p/tls13"})]
    weak = [(policy, "tls12", {**HARDENED[policy], "minTlsVersion": "TLS_1_2"}), (proxy, "https", {"sslPolicy": "tls12-id"})]
    assert stack_violations("RAE-STK-004", good) == []
    assert stack_violations("RAE-STK-004", weak)
    assert stack_violations("RAE-STK-004", [(proxy, "https", {})])
    assert stack_violations("RAE-STK-004", [("gcp:compute/targetHttpProxy:TargetHttpProxy", "http", {"urlMap": "m"})])


def test_stack_cloud_run_on_a_declared_default_policy():
    """RAE-RUN-005 in CrossGuard: the workload's project is its own or, without one, the project of the provider the
    engine resolved for it (the default provider's is the stack's gcp:project)."""
    run, policy = "gcp:cloudrunv2/service:Service", "gcp:binaryauthorization/policy:Policy"
    service = {**HARDENED[run], "project": "p"}
    assert stack_violations("RAE-RUN-005", [(run, "api", service), (policy, "images", HARDENED[policy])]) == []
    allow_all = broken(policy, {"defaultAdmissionRule.evaluationMode": "ALWAYS_ALLOW"})
    [message] = stack_violations("RAE-RUN-005", [(run, "api", service), (policy, "images", allow_all)])
    assert "ALWAYS_ALLOW" in message and "[ISO 27001:2022 A.8.19, A.8.32, A.5.21]" in message
    [message] = stack_violations("RAE-RUN-005", [(run, "api", service)])
    assert "the policy that admits this workload is not in this program" in message
    default_provider = PolicyProviderResource("pulumi:providers:gcp", {"project": "p"}, "urn::default", "default_8_0_0")
    resources = [PolicyResource(kind, props, f"urn::{name}", name, engine_options(OPTIONS), default_provider, None,
                                [], {}) for kind, name, props in [(run, "api", HARDENED[run]), (policy, "images", allow_all)]]
    reported = []
    POLICIES["RAE-RUN-005"].validate(StackValidationArgs(resources), lambda message, urn=None: reported.append(message))
    assert len(reported) == 1 and "project 'p'" in reported[0] and "ALWAYS_ALLOW" in reported[0]


def test_every_stack_rule_is_tested_here():
    assert {rule.rule_id for rule in stack_rules()} == {"RAE-STK-001", "RAE-STK-002", "RAE-STK-003", "RAE-STK-004",
                                                        "RAE-RUN-005"}


def test_a_container_with_no_pids_limit_step_fails_in_crossguard_and_the_gate():
    alone = stack_violations("RAE-CTR-005", [(CONTAINER_TYPE, "r", HARDENED[CONTAINER_TYPE])])
    assert alone and "no pids limit" in alone[0] and "RAE-CTR-005" in alone[0]
    other = (DYNAMIC, "x-pids", {"container": "x", "container_id": "x-id", "limit": CONTAINER.pids_limit})
    assert stack_violations("RAE-CTR-005", [(CONTAINER_TYPE, "r", HARDENED[CONTAINER_TYPE]), other])
    assert stack_violations("RAE-CTR-005", [(CONTAINER_TYPE, "r", HARDENED[CONTAINER_TYPE]), PIDS_STEP]) == []
    graph = [{"type": CONTAINER_TYPE, "name": "r", "props": HARDENED[CONTAINER_TYPE]}]
    assert [rule for rule, _, _ in evaluate(graph)] == ["RAE-CTR-005"]
    step = {"type": DYNAMIC, "name": "r-pids", "props": PIDS_STEP[2], "provider": "components.pids_limit.PidsLimitProvider"}
    assert list(evaluate([*graph, step])) == []
    impostor = {**step, "provider": "somewhere.Else"}  # a step the gate cannot tell is a pids limit does not count
    assert "RAE-CTR-005" in [rule for rule, _, _ in evaluate([*graph, impostor])]


def test_only_the_rules_that_read_an_unresolved_field_are_unknown():
    from posture import Unknown
    graph = [{"type": CONTAINER_TYPE, "name": "r", "props": {**HARDENED[CONTAINER_TYPE], "user": UNKNOWN_VALUE,
                                                          "privileged": True}},
             {"type": DYNAMIC, "name": "r-pids", "props": PIDS_STEP[2],
              "provider": "components.pids_limit.PidsLimitProvider"}]
    found = {(rule, isinstance(message, Unknown)) for rule, _, message in evaluate(graph)}
    assert found == {("RAE-CTR-001", True), ("RAE-CTR-008", False)}
    assert violations("RAE-CTR-001", CONTAINER_TYPE, graph[0]["props"])
    assert violations("RAE-CTR-009", CONTAINER_TYPE, graph[0]["props"]) == []
