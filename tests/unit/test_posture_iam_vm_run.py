"""The IAM, VM and serverless posture models: one requirement judged the same way from pulumi-gcp inputs, a Terraform
plan's values and checkov's conf; allow-lists, not deny-lists; an unresolved field leaves only the requirements that
read it undecided; the components refuse what the model fails."""

import json
import string

import pytest

import posture.binary_authorization as binary_authorization
import posture.iam as iam
import posture.serverless as serverless
import posture.vm as vm
from baseline import NETWORK, BaselineViolation
from posture import UNKNOWN_VALUE, Unknown
from policies.rules import evaluate
from policies.tfplan import terraform_values
from posture.container import declared_context
from tests.policy.cases import HARDENED, with_changes
from tests.unit.test_posture_gcp import checkov_conf

TEMPLATE = "gcp:compute/instanceTemplate:InstanceTemplate"
HARDENED_TEMPLATE = {**{k: v for k, v in HARDENED[vm.INSTANCE].items() if k != "bootDisk"},
                     "disks": [{"boot": True, "sourceImage": "debian-12",
                                "diskEncryptionKey": {"kmsKeySelfLink": "projects/p/keys/k"}}]}
# 32 distinct characters (5 bits each), built here so that no secret scanner mistakes the test for a leak.
RANDOM_LOOKING = string.ascii_letters[:32]
V1_RUN = {"metadata": {"annotations": {"run.googleapis.com/ingress": "internal-and-cloud-load-balancing",
                                       "run.googleapis.com/binary-authorization": "default"}},
          "template": {"spec": {"serviceAccountName": "jobs@p.iam.gserviceaccount.com",
                                "containers": [{"image": "jobs@sha256:" + "f" * 64}]}}}
# A Cloud Run job and worker pool as a careful engineer writes them: no ingress (they take no requests).
JOB_RUN = {"binaryAuthorization": {"useDefault": True},
           "template": {"template": {"serviceAccount": "jobs@p.iam.gserviceaccount.com",
                                     "containers": [{"image": "jobs@sha256:" + "f" * 64}]}}}
POOL_RUN = {"binaryAuthorization": {"useDefault": True},
            "template": {"serviceAccount": "pool@p.iam.gserviceaccount.com",
                         "containers": [{"image": "pool@sha256:" + "f" * 64}]}}


def rules(model, view) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _name, requirement, message in model.judge(view):
        found.setdefault(requirement.rule_id, []).append(message)
    return found


def from_every_source(model, pulumi_type, terraform_type, props):
    yield model.from_pulumi(pulumi_type, "r", props)
    yield model.from_terraform(terraform_type, "r", terraform_values(props))
    yield model.from_terraform(terraform_type, "r", checkov_conf(terraform_values(props)))


HOLDS = [
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE]),
    (vm, TEMPLATE, "google_compute_instance_template", HARDENED_TEMPLATE),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2]),
    (serverless, serverless.V1, "google_cloud_run_service", V1_RUN),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN),
    (serverless, serverless.WORKER_POOL, "google_cloud_run_v2_worker_pool", POOL_RUN),
    (iam, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "google_kms_crypto_key_iam_member",
     HARDENED["gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"]),
]


@pytest.mark.parametrize("model, pulumi_type, terraform_type, props", HOLDS)
def test_the_hardened_resource_holds_from_every_source(model, pulumi_type, terraform_type, props):
    for view in from_every_source(model, pulumi_type, terraform_type, props):
        assert rules(model, view) == {}, view


WEAKER = [
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE],
     {"networkInterfaces": [{"network": "vpc", "ipv6AccessConfigs": [{"networkTier": "PREMIUM"}]}]}, "RAE-VM-001"),
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE], {"shieldedInstanceConfig": None}, "RAE-VM-002"),
    (vm, TEMPLATE, "google_compute_instance_template", HARDENED_TEMPLATE,
     {"disks": [{"boot": True, "sourceImage": "debian-12"}]}, "RAE-VM-003"),
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE], {"serviceAccount": {"scopes": ["cloud-platform"]}},
     "RAE-VM-004"),
    (vm, TEMPLATE, "google_compute_instance_template", HARDENED_TEMPLATE,
     {"metadata": {"block-project-ssh-keys": "TRUE"}}, "RAE-VM-005"),
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE],
     {"metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "no"}}, "RAE-VM-006"),
    (vm, vm.INSTANCE, "google_compute_instance", HARDENED[vm.INSTANCE], {"metadata.serial-port-enable": "1"},
     "RAE-VM-007"),
    (vm, TEMPLATE, "google_compute_instance_template", HARDENED_TEMPLATE, {"canIpForward": True}, "RAE-VM-008"),
    (serverless, serverless.V1, "google_cloud_run_service", V1_RUN,
     {"metadata.annotations": {"run.googleapis.com/binary-authorization": "default"}}, "RAE-RUN-001"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2],
     {"template.serviceAccount": "123-compute@developer.gserviceaccount.com"}, "RAE-RUN-002"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2], {"template.containers": [
        {"image": "a@sha256:" + "b" * 64, "envs": [{"name": "SESSION", "value": RANDOM_LOOKING}]}]},
     "RAE-RUN-003"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2], {"template.containers": [
        {"image": "a@sha256:" + "b" * 64, "envs": [{"name": "DB", "valueSource": {"secretKeyRef": {"secret": "db"}}}]}]},
     "RAE-RUN-003"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2], {"binaryAuthorization": None},
     "RAE-RUN-004"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2],
     {"binaryAuthorization": {"useDefault": False}}, "RAE-RUN-004"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2],
     {"binaryAuthorization": {"policy": ""}}, "RAE-RUN-004"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2],
     {"binaryAuthorization.breakglassJustification": "hotfix, attestor down"}, "RAE-RUN-004"),
    (serverless, serverless.V1, "google_cloud_run_service", V1_RUN,
     {"metadata.annotations": {"run.googleapis.com/ingress": "internal"}}, "RAE-RUN-004"),
    (serverless, serverless.V1, "google_cloud_run_service", V1_RUN,
     {"metadata.annotations": {"run.googleapis.com/ingress": "internal", "run.googleapis.com/binary-authorization": ""}},
     "RAE-RUN-004"),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN, {"binaryAuthorization": None}, "RAE-RUN-004"),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN, {"binaryAuthorization.useDefault": False},
     "RAE-RUN-004"),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN,
     {"binaryAuthorization.breakglassJustification": "hotfix, attestor down"}, "RAE-RUN-004"),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN, {"template.template.serviceAccount": None},
     "RAE-RUN-002"),
    (serverless, serverless.JOB, "google_cloud_run_v2_job", JOB_RUN, {"template.template.containers": [
        {"image": "a@sha256:" + "b" * 64, "envs": [{"name": "DATABASE_PASSWORD", "value": "cases-fake"}]}]},
     "RAE-RUN-003"),
    (serverless, serverless.WORKER_POOL, "google_cloud_run_v2_worker_pool", POOL_RUN, {"binaryAuthorization": None},
     "RAE-RUN-004"),
    (serverless, serverless.V2, "google_cloud_run_v2_service", HARDENED[serverless.V2],
     {"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY", "invokerIamDisabled": True}, "RAE-RUN-006"),
    (serverless, serverless.V1, "google_cloud_run_service", V1_RUN, {"metadata.annotations": {
        "run.googleapis.com/ingress": "internal", "run.googleapis.com/binary-authorization": "default",
        "run.googleapis.com/invoker-iam-disabled": "true"}}, "RAE-RUN-006"),
]


@pytest.mark.parametrize("model, pulumi_type, terraform_type, hardened, changes, rule_id", WEAKER)
def test_each_weakness_fails_its_rule_from_every_source(model, pulumi_type, terraform_type, hardened, changes, rule_id):
    props = with_changes(hardened, changes)
    for view in from_every_source(model, pulumi_type, terraform_type, props):
        assert set(rules(model, view)) == {rule_id}, view



@pytest.mark.parametrize("pulumi_type, terraform_type, props", [
    (serverless.V2, "google_cloud_run_v2_service", with_changes(HARDENED[serverless.V2], {"invokerIamDisabled": True})),
    (serverless.V1, "google_cloud_run_service", with_changes(V1_RUN, {"metadata.annotations": {
        **V1_RUN["metadata"]["annotations"], "run.googleapis.com/invoker-iam-disabled": "true"}})),
])
def test_the_invoker_check_off_behind_the_load_balancer_holds_and_open_to_the_internet_fails(pulumi_type,
                                                                                           terraform_type, props):
    for view in from_every_source(serverless, pulumi_type, terraform_type, props):
        assert view.invoker_iam_disabled and rules(serverless, view) == {}, view
    if pulumi_type == serverless.V2:
        open_props = with_changes(props, {"ingress": "INGRESS_TRAFFIC_ALL"})
    else:
        open_props = with_changes(props, {"metadata.annotations": {**props["metadata"]["annotations"],
                                                                   "run.googleapis.com/ingress": "all"}})
    for view in from_every_source(serverless, pulumi_type, terraform_type, open_props):
        found = rules(serverless, view)
        assert set(found) == {"RAE-RUN-001", "RAE-RUN-006"}, view
        [message] = found["RAE-RUN-006"]
        assert "'INGRESS_TRAFFIC_ALL'" in message and "without an identity" in message
    assert serverless.REQUIREMENTS["invoker_check"].controls == ("A.5.15", "A.8.20", "A.8.22")


def test_an_unresolved_invoker_check_is_unknown_and_a_job_has_none():
    found = rules(serverless, serverless.from_pulumi(serverless.V2, "r", with_changes(
        HARDENED[serverless.V2], {"invokerIamDisabled": UNKNOWN_VALUE})))
    [message] = found.pop("RAE-RUN-006")
    assert found == {} and isinstance(message, Unknown)
    assert not serverless.from_pulumi(serverless.JOB, "r", with_changes(JOB_RUN, {"invokerIamDisabled": True})
                                      ).invoker_iam_disabled


def test_a_named_binary_authorization_policy_holds_and_a_breakglass_fails_beside_it():
    named = with_changes(HARDENED[serverless.V2], {"binaryAuthorization": {
        "policy": "projects/p/platforms/cloudRun/policies/attested"}})
    for view in from_every_source(serverless, serverless.V2, "google_cloud_run_v2_service", named):
        assert view.binary_authorization.endswith("/attested") and rules(serverless, view) == {}, view
    v1 = {**V1_RUN, "metadata": {"annotations": {**V1_RUN["metadata"]["annotations"],
                                                 "run.googleapis.com/binary-authorization-breakglass": "hotfix"}}}
    for view in from_every_source(serverless, serverless.V1, "google_cloud_run_service", v1):
        [message] = rules(serverless, view)["RAE-RUN-004"]
        assert "breakglass" in message and view.binary_authorization == "default"


@pytest.mark.parametrize("changes, unseen", [
    ({"binaryAuthorization": UNKNOWN_VALUE}, "binary_authorization, breakglass"),
    ({"binaryAuthorization.useDefault": UNKNOWN_VALUE}, "binary_authorization"),
    ({"binaryAuthorization.breakglassJustification": UNKNOWN_VALUE}, "breakglass"),
])
def test_an_unresolved_binary_authorization_is_unknown_never_passed(changes, unseen):
    props = with_changes(HARDENED[serverless.V2], changes)
    found = rules(serverless, serverless.from_pulumi(serverless.V2, "r", props))
    [message] = found.pop("RAE-RUN-004")
    assert found == {} and isinstance(message, Unknown) and message.startswith(f"{unseen} of r could not be resolved")
    v1 = with_changes(V1_RUN, {"metadata.annotations": UNKNOWN_VALUE})
    [message] = rules(serverless, serverless.from_pulumi(serverless.V1, "r", v1))["RAE-RUN-004"]
    assert isinstance(message, Unknown)


@pytest.mark.parametrize("pulumi_type, props", [(serverless.JOB, JOB_RUN), (serverless.WORKER_POOL, POOL_RUN)])
def test_a_job_or_worker_pool_has_no_ingress_and_an_unresolved_binary_authorization_is_unknown(pulumi_type, props):
    for view in from_every_source(serverless, pulumi_type, serverless.TERRAFORM_TYPES[pulumi_type], props):
        assert view.ingress is None and view.binary_authorization == "default", view
    found = rules(serverless, serverless.from_pulumi(pulumi_type, "r", with_changes(props, {
        "binaryAuthorization": UNKNOWN_VALUE})))
    [message] = found.pop("RAE-RUN-004")
    assert found == {} and isinstance(message, Unknown) and "could not be resolved" in message


# RAE-RUN-005: a workload on its project's default Binary Authorization policy, judged with what the program declares
# (policies.rules.stack.default_policy_declared builds the Admission from the graph).
POLICY = HARDENED[binary_authorization.POLICY]


def program_rules(resources, context=None) -> list[str]:
    graph = [{"type": kind, "name": name, "props": props} for kind, name, props in resources]
    return [message for rule, _, message in evaluate(graph, context) if rule == "RAE-RUN-005"]


def policy(evaluation_mode, project="p", **changes):
    return with_changes(POLICY, {"project": project, "defaultAdmissionRule.evaluationMode": evaluation_mode, **changes})


WORKLOADS = [(serverless.V2, with_changes(HARDENED[serverless.V2], {"project": "p"})),
             (serverless.V1, {**V1_RUN, "project": "p"}), (serverless.JOB, {**JOB_RUN, "project": "p"}),
             (serverless.WORKER_POOL, {**POOL_RUN, "project": "p"})]


@pytest.mark.parametrize("pulumi_type, props", WORKLOADS)
def test_the_default_policy_that_admits_every_image_fails(pulumi_type, props):
    [message] = program_rules([(pulumi_type, "run", props), (binary_authorization.POLICY, "pol", policy("ALWAYS_ALLOW"))])
    assert not isinstance(message, Unknown)
    assert "default policy of project 'p'" in message and "'ALWAYS_ALLOW'" in message
    requirement = serverless.PROGRAM_REQUIREMENTS["default_policy_declared"]
    assert requirement.rule_id == "RAE-RUN-005" and requirement.controls == ("A.8.19", "A.8.32", "A.5.21")


@pytest.mark.parametrize("pulumi_type, props", WORKLOADS)
@pytest.mark.parametrize("mode", ["ALWAYS_DENY", "REQUIRE_ATTESTATION"])
def test_a_declared_policy_that_denies_or_requires_attestation_holds(pulumi_type, props, mode):
    attested = policy(mode, **({"defaultAdmissionRule.requireAttestationsBies": ["attestors/built"]}
                               if mode == "REQUIRE_ATTESTATION" else {}))
    assert program_rules([(pulumi_type, "run", props), (binary_authorization.POLICY, "pol", attested)]) == []


def test_a_dry_run_default_rule_admits_too():
    dry = policy("ALWAYS_DENY", **{"defaultAdmissionRule.enforcementMode": "DRYRUN_AUDIT_LOG_ONLY"})
    [message] = program_rules([(serverless.JOB, "run", {**JOB_RUN, "project": "p"}),
                               (binary_authorization.POLICY, "pol", dry)])
    assert not isinstance(message, Unknown) and "DRYRUN_AUDIT_LOG_ONLY" in message


@pytest.mark.parametrize("resources, said", [
    # No policy declared for the workload's project (one for another project does not count).
    ([(serverless.JOB, "run", {**JOB_RUN, "project": "p"}), (binary_authorization.POLICY, "pol", policy("ALWAYS_DENY", "q"))],
     "declares no Binary Authorization policy for project 'p'"),
    # No project input and no config: nothing ties a policy to it.
    ([(serverless.JOB, "run", JOB_RUN), (binary_authorization.POLICY, "pol", policy("ALWAYS_DENY"))],
     "its project cannot be resolved"),
    ([(serverless.JOB, "run", {**JOB_RUN, "project": UNKNOWN_VALUE}), (binary_authorization.POLICY, "pol", policy("ALWAYS_DENY"))],
     "its project cannot be resolved"),
    # The only policy's project is a value the mocks could not resolve.
    ([(serverless.JOB, "run", {**JOB_RUN, "project": "p"}),
      (binary_authorization.POLICY, "pol", policy("ALWAYS_DENY", UNKNOWN_VALUE))], "could not be resolved"),
    ([(serverless.JOB, "run", {**JOB_RUN, "project": "p"}),
      (binary_authorization.POLICY, "pol", with_changes(policy("ALWAYS_DENY"), {"defaultAdmissionRule": UNKNOWN_VALUE}))],
     "admission rules of policy pol could not be resolved"),
])
def test_a_policy_the_program_does_not_show_is_unknown_never_passed(resources, said):
    [message] = program_rules(resources)
    assert isinstance(message, Unknown) and said in message
    assert "not passed" in message


def test_the_stacks_gcp_project_resolves_a_workload_without_one_unless_the_program_brings_a_provider():
    resources = [(serverless.JOB, "run", JOB_RUN), (binary_authorization.POLICY, "pol", policy("ALWAYS_ALLOW", None))]
    [message] = program_rules(resources, declared_context({"gcp:project": "p"}))
    assert not isinstance(message, Unknown) and "project 'p'" in message
    provider = [("pulumi:providers:gcp", "elsewhere", {"project": "q"})]
    [message] = program_rules(resources + provider, declared_context({"gcp:project": "p"}))
    assert isinstance(message, Unknown)


def test_a_named_policy_or_no_binary_authorization_is_not_run_005s():
    named = with_changes(JOB_RUN, {"binaryAuthorization": {"policy": "projects/p/platforms/cloudrun/policies/x"},
                                   "project": "p"})
    assert program_rules([(serverless.JOB, "run", named)]) == []
    assert program_rules([(serverless.JOB, "run", with_changes(JOB_RUN, {"binaryAuthorization": None}))]) == []


def test_the_model_refuses_a_type_it_does_not_read():
    with pytest.raises(ValueError, match="not a Cloud Run workload"):
        serverless.from_pulumi("gcp:cloudfunctionsv2/function:Function", "f", {})
    with pytest.raises(ValueError, match="not a Cloud Run workload"):
        serverless.from_terraform("google_cloudfunctions2_function", "f", {})


@pytest.mark.parametrize("member", ["allUsers", "allAuthenticatedUsers", "domain:example.org",
                                    "projectViewer:p", "deleted:user:x@example.org?uid=1"])
def test_only_named_identities_are_members(member):
    view = iam.from_pulumi("gcp:cloudrun/iamMember:IamMember", "r", {"role": "roles/run.invoker", "member": member})
    assert set(rules(iam, view)) == {"RAE-IAM-005"}


@pytest.mark.parametrize("role, expected", [("roles/owner", "RAE-IAM-001"), ("roles/browser", "RAE-IAM-001"),
                                            ("roles/iam.serviceAccountTokenCreator", "RAE-IAM-001"),
                                            ("roles/cloudsql.client", None)])
def test_roles_are_an_allow_list_of_predefined_service_roles(role, expected):
    view = iam.from_pulumi("gcp:storage/bucketIAMMember:BucketIAMMember", "r", {"role": role, "member": "group:g@x.org"})
    assert set(rules(iam, view)) == ({expected} if expected else set())


def test_a_policy_is_judged_binding_by_binding_and_a_custom_role_is_unknown():
    policy = json.dumps({"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]},
                                      {"role": "projects/p/roles/mine", "members": ["user:a@example.org"]}]})
    found = rules(iam, iam.from_pulumi("gcp:projects/iAMPolicy:IAMPolicy", "r", {"policyData": policy}))
    assert set(found) == {"RAE-IAM-005", "RAE-IAM-001"}
    assert all(isinstance(message, Unknown) for message in found["RAE-IAM-001"])
    unreadable = rules(iam, iam.from_pulumi("gcp:projects/iAMPolicy:IAMPolicy", "r", {"policyData": UNKNOWN_VALUE}))
    assert set(unreadable) == {"RAE-IAM-001", "RAE-IAM-002", "RAE-IAM-005"}
    assert all(isinstance(m, Unknown) for messages in unreadable.values() for m in messages)


def test_project_grants_to_service_accounts_are_refused_on_any_wide_scope():
    for resource_type in ("gcp:projects/iAMMember:IAMMember", "gcp:folder/iAMBinding:IAMBinding",
                          "gcp:organizations/iAMMember:IAMMember"):
        view = iam.from_pulumi(resource_type, "r", {"role": "roles/cloudsql.client", "members": ["serviceAccount:a@p"]})
        assert set(rules(iam, view)) == {"RAE-IAM-002"}
    resource = iam.from_pulumi("gcp:secretmanager/secretIamMember:SecretIamMember", "r",
                               {"role": "roles/secretmanager.secretAccessor", "member": "serviceAccount:a@p"})
    assert rules(iam, resource) == {}


def test_an_unresolved_metadata_value_leaves_only_the_metadata_rules_undecided():
    props = with_changes(HARDENED[vm.INSTANCE], {"metadata.enable-oslogin": UNKNOWN_VALUE})
    found = rules(vm, vm.from_pulumi(vm.INSTANCE, "r", props))
    assert set(found) == {"RAE-VM-005", "RAE-VM-006", "RAE-VM-007"}
    assert all(isinstance(m, Unknown) for messages in found.values() for m in messages)


def test_the_components_refuse_what_the_models_fail():
    from components.identity import ResourceGrant, check_grant
    from posture.model import require_holds
    with pytest.raises(BaselineViolation, match="A.8.19"):
        require_holds(serverless.judge(serverless.ServiceView(source="t", name="api", ingress=NETWORK.cloud_run_ingress,
                                                              service_account="api@p.iam.gserviceaccount.com")),
                      "endpoint api")
    with pytest.raises(BaselineViolation, match="A.5.16"):
        check_grant("roles/secretmanager.secretAccessor", ("domain:example.org",))
    with pytest.raises(BaselineViolation, match="A.5.15"):
        ResourceGrant("bucket", "b", "roles/browser")
