"""HttpsEndpoint: Cloud Run reachable only through a load balancer whose SSL policy is TLS 1.3 RESTRICTED."""

import pytest

import posture.serverless as run_posture
from baseline import CONTAINER, NETWORK, SECRETS, TLS, BaselineViolation
from components.binary_authorization import BinaryAuthorizationPolicy, BinaryAuthorizationPolicyArgs
from components.https_endpoint import HttpsEndpoint, HttpsEndpointArgs, mounted_path
from policies.rules import evaluate
from tests.unit.components.harness import declare, one

IMAGE = "europe-west4-docker.pkg.dev/p/r/api@sha256:" + "d" * 64


def _endpoint(**overrides) -> list[dict]:
    def program():
        admission = BinaryAuthorizationPolicy("images", BinaryAuthorizationPolicyArgs(
            "p", repositories=["europe-west4-docker.pkg.dev/p/r"]))
        args = dict(region="europe-west4", image=IMAGE, service_account="rae-api@p.iam.gserviceaccount.com",
                    domains=["memory.example.org"], admission=admission) | overrides
        HttpsEndpoint("api", HttpsEndpointArgs(**args))

    return declare(program)


@pytest.fixture(scope="module")
def endpoint() -> list[dict]:
    return _endpoint()


def test_ssl_policy_is_restricted_tls13_and_on_the_proxy(endpoint):
    policy = one(endpoint, "gcp:compute/sSLPolicy:SSLPolicy")
    assert policy["profile"] == TLS.gcp_ssl_policy_profile and policy["minTlsVersion"] == TLS.gcp_min_tls_version
    proxy = one(endpoint, "gcp:compute/targetHttpsProxy:TargetHttpsProxy")
    assert proxy["sslPolicy"] == "api-tls13-id"


def test_cloud_run_only_takes_traffic_from_the_load_balancer_as_its_own_identity(endpoint):
    service = one(endpoint, "gcp:cloudrunv2/service:Service")
    assert service["ingress"] == NETWORK.cloud_run_ingress
    assert service["template"]["serviceAccount"] == "rae-api@p.iam.gserviceaccount.com"
    neg = one(endpoint, "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup")
    assert neg["networkEndpointType"] == "SERVERLESS"
    assert one(endpoint, "gcp:compute/globalForwardingRule:GlobalForwardingRule")["portRange"] == "443"


def test_cloud_run_deploys_only_images_the_binary_authorization_policy_admits(endpoint):
    service = one(endpoint, "gcp:cloudrunv2/service:Service")
    assert service["binaryAuthorization"] == {"useDefault": CONTAINER.cloud_run_binary_authorization} == {
        "useDefault": True}
    assert not [m for _n, _r, m in run_posture.judge(run_posture.from_pulumi(run_posture.V2, "api", service))]


def test_the_service_deploys_in_the_admission_policys_project_and_passes_run_005(endpoint):
    """The service names the declared policy's project, so the stack rule ties the two: RAE-RUN-005 holds (under
    mocks: rendered inputs, no GCP project)."""
    service = one(endpoint, "gcp:cloudrunv2/service:Service")
    policy = one(endpoint, "gcp:binaryauthorization/policy:Policy")
    assert service["project"] == policy["project"] == "p"
    graph = [{"type": r["type"], "name": r["name"], "props": r["inputs"]} for r in endpoint if r.get("custom", True)]
    assert not [(rule, message) for rule, _, message in evaluate(graph) if rule == "RAE-RUN-005"]


def test_the_load_balancers_unauthenticated_requests_reach_the_service_behind_it_only(endpoint):
    """The invoker check is off (the load balancer carries no IAM identity; allUsers is never an invoker) and the
    ingress is the load balancer's, so RAE-RUN-006 holds and nothing grants run.invoker. Under Pulumi mocks only: that
    GCP then answers the load balancer's requests instead of 403 is Cloud Run's documented behaviour, not tested."""
    service = one(endpoint, "gcp:cloudrunv2/service:Service")
    assert service["invokerIamDisabled"] is True and service["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
    assert not [r for r in endpoint if "IamMember" in r["type"] or "IamBinding" in r["type"]]
    view = run_posture.from_pulumi(run_posture.V2, "api", service)
    assert view.invoker_iam_disabled and not list(run_posture.judge(view, "RAE-RUN-006"))


def test_an_endpoint_without_its_declared_admission_policy_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.19"):
        _endpoint(admission="projects/p/policy")
    with pytest.raises(BaselineViolation, match="not the declared policy of project 'p'"):
        _endpoint(project="q")


def test_secrets_reach_the_service_as_read_only_files_never_env():
    path = mounted_path("qdrant-api-key")
    service = one(_endpoint(secret_files={"qdrant-api-key": "projects/p/secrets/rae-qdrant-api-key"},  # checkov:skip=CKV_SECRET_6:a Secret Manager resource path, not a secret [owner=platform-security expires=2027-05-29]
                            env={"RAE_QDRANT_API_KEY_FILE": path}, port=8443),
                  "gcp:cloudrunv2/service:Service")
    (volume,) = service["template"]["volumes"]
    assert volume["secret"] == {"secret": "projects/p/secrets/rae-qdrant-api-key", "defaultMode": SECRETS.file_mode,
                                "items": [{"path": "value", "version": "latest"}]}
    (container,) = service["template"]["containers"]
    assert container["volumeMounts"] == [{"name": "qdrant-api-key", "mountPath": "/run/secrets/qdrant-api-key"}]
    assert path == "/run/secrets/qdrant-api-key/value"
    assert container["envs"] == [{"name": "RAE_QDRANT_API_KEY_FILE", "value": path}]
    assert container["ports"] == {"containerPort": 8443}


@pytest.mark.parametrize("overrides, control", [
    (dict(env={"DATABASE_PASSWORD": "x"}), "A.5.17"),
    (dict(min_tls_version="TLS_1_2"), "A.8.24"),
    (dict(ingress="INGRESS_TRAFFIC_ALL"), "A.8.22"),
    # Internal-only is no load balancer's ingress: the invoker check could not be off there (RAE-RUN-006).
    (dict(ingress="INGRESS_TRAFFIC_INTERNAL_ONLY"), "A.5.15"),
    (dict(image="europe-west4-docker.pkg.dev/p/r/api:latest"), "A.8.19"),
    # "@sha256:" somewhere is not a digest: the same rule as every container (posture.container.pinned_by_digest)
    (dict(image="europe-west4-docker.pkg.dev/p/r/api@sha256:latest"), "A.8.19"),
    (dict(image="sha256:" + "d" * 64), "A.8.19"),  # a local image id: Cloud Run cannot pull it
    (dict(domains=[]), "A.8.24"),
])
def test_weaker_endpoints_are_refused(overrides, control):
    with pytest.raises(BaselineViolation, match=control):
        _endpoint(**overrides)
