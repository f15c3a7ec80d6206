"""Both stacks rendered through the program itself (Pulumi.yaml + __main__.py) with render_program.

The gcp stack is rendered under Pulumi mocks only: no machine of ours reaches GCP.
"""

import ast
import json
from pathlib import Path

import pulumi
import pytest

from baseline import CONTAINER, KMS, NETWORK, TLS, BaselineViolation
from components.connect_info import describe
from components.render import SECRET_MARKER, render_program
from components.stacks import local
from tests.unit.components.harness import declare
from posture.container import service_user
from components.container import LABEL_SERVICE

REPO = Path(__file__).resolve().parents[3]
GCP_CONFIG = {
    "rae:target": "gcp", "gcp:project": "rae-unit", "gcp:region": "europe-west4", "rae:repository": "rae-org/rae-core",
    "rae:apiImage": "europe-west4-docker.pkg.dev/rae-unit/rae/api@sha256:" + "e" * 64,
    "rae:qdrantImage": "europe-west4-docker.pkg.dev/rae-unit/dockerhub/qdrant/qdrant@sha256:" + "f" * 64, "rae:domains": json.dumps(["memory.example.org"]),
    "rae:tlsProxyImage": "europe-west4-docker.pkg.dev/rae-unit/rae/tls-proxy@sha256:" + "d" * 64,
}
IMAGE_IDS = {name: {"ref": f"rae/{name}:unit", "id": "sha256:" + digit * 64}
             for name, digit in (("base", "1"), ("postgres", "2"), ("tls-proxy", "3"), ("qdrant", "4"),
                                                ("api", "5"))}


def _by_type(resources: list[dict], type_token: str) -> list[dict]:
    return [resource["inputs"] for resource in resources if resource["type"] == type_token]


@pytest.fixture(scope="module")
def gcp_graph() -> list[dict]:
    return render_program(REPO, "gcp", GCP_CONFIG)


def test_gcp_has_a_key_ring_and_rotating_keys(gcp_graph):
    assert len(_by_type(gcp_graph, "gcp:kms/keyRing:KeyRing")) == 1
    keys = _by_type(gcp_graph, "gcp:kms/cryptoKey:CryptoKey")
    assert {key["name"] for key in keys} == {"rae-disk", "rae-sql", "rae-secrets", "rae-backups"}
    assert all(key["rotationPeriod"] == f"{KMS.rotation_period_seconds}s" for key in keys)


def test_gcp_every_service_agent_is_granted_on_its_own_key(gcp_graph):
    grants = {(g["cryptoKeyId"].rsplit("/", 1)[-1], g["member"].split("@")[1].split(".")[0])
              for g in _by_type(gcp_graph, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert grants == {("rae-disk", "compute-system"), ("rae-sql", "gcp-sa-cloud-sql"),
                      ("rae-secrets", "gcp-sa-secretmanager"), ("rae-backups", "gs-project-accounts")}


def test_gcp_has_a_cmek_disk(gcp_graph):
    disks = _by_type(gcp_graph, "gcp:compute/disk:Disk")
    assert disks and all(disk["diskEncryptionKey"]["kmsKeySelfLink"].endswith("/cryptoKeys/rae-disk") for disk in disks)


def test_gcp_has_a_private_cmek_cloud_sql_instance(gcp_graph):
    (instance,) = _by_type(gcp_graph, "gcp:sql/databaseInstance:DatabaseInstance")
    assert instance["encryptionKeyName"].endswith("/cryptoKeys/rae-sql")
    assert instance["settings"]["ipConfiguration"]["ipv4Enabled"] is False


def test_gcp_has_a_tls13_ssl_policy(gcp_graph):
    (policy,) = _by_type(gcp_graph, "gcp:compute/sSLPolicy:SSLPolicy")
    assert policy["minTlsVersion"] == TLS.gcp_min_tls_version == "TLS_1_3"
    (service,) = _by_type(gcp_graph, "gcp:cloudrunv2/service:Service")
    assert service["ingress"] == NETWORK.cloud_run_ingress
    assert service["binaryAuthorization"] == {"useDefault": True}


def test_gcp_declares_the_binary_authorization_policy_the_service_names(gcp_graph):
    import posture.binary_authorization as admission
    (policy,) = _by_type(gcp_graph, admission.POLICY)
    assert policy["defaultAdmissionRule"]["evaluationMode"] in CONTAINER.binary_authorization_evaluation_modes
    assert policy["admissionWhitelistPatterns"] == [{"namePattern": "europe-west4-docker.pkg.dev/rae-unit/rae/*"}]
    assert GCP_CONFIG["rae:apiImage"].startswith("europe-west4-docker.pkg.dev/rae-unit/rae/")
    assert not list(admission.judge(admission.from_pulumi("images", policy)))


@pytest.mark.parametrize("image", ["docker.io/rae/api@sha256:" + "e" * 64,
                                   "europe-west4-docker.pkg.dev/other-project/rae/api@sha256:" + "e" * 64])
def test_gcp_refuses_an_api_image_from_outside_the_projects_artifact_registry(image):
    from components.stacks import gcp
    from tests.unit.components.harness import MOCKS

    before = len(MOCKS.resources)
    with pytest.raises(BaselineViolation, match="allowlist pattern.*A.8.19"):
        declare(gcp.build, GCP_CONFIG | {"rae:apiImage": image})
    assert len(MOCKS.resources) == before  # refused before anything is declared


def test_gcp_has_one_service_account_per_service(gcp_graph):
    accounts = sorted(account["accountId"] for account in _by_type(gcp_graph, "gcp:serviceaccount/account:Account"))
    assert accounts == ["rae-api", "rae-backup", "rae-ci", "rae-qdrant"]
    assert not _by_type(gcp_graph, "gcp:serviceaccount/key:Key")
    assert not [r for r in gcp_graph if r["type"].startswith("gcp:projects/iAM")]


def test_gcp_has_cmek_secret_manager_secrets_without_clear_values(gcp_graph):
    secrets = _by_type(gcp_graph, "gcp:secretmanager/secret:Secret")
    assert secrets and all(s["replication"]["userManaged"]["replicas"][0]["customerManagedEncryption"]["kmsKeyName"]
                           .endswith("/cryptoKeys/rae-secrets") for s in secrets)
    assert all(v["secretData"] == SECRET_MARKER for v in _by_type(gcp_graph, "gcp:secretmanager/secretVersion:SecretVersion"))


def test_gcp_has_a_retained_cmek_backup_bucket(gcp_graph):
    (bucket,) = _by_type(gcp_graph, "gcp:storage/bucket:Bucket")
    assert bucket["encryption"]["defaultKmsKeyName"].endswith("/cryptoKeys/rae-backups")
    assert bucket["retentionPolicy"]["retentionPeriod"] > 0 and bucket["publicAccessPrevention"] == "enforced"


def test_gcp_ci_federation_is_pinned(gcp_graph):
    (provider,) = _by_type(gcp_graph, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert provider["attributeCondition"] == "assertion.sub == 'repo:rae-org/rae-core:ref:refs/heads/main'"


def _named(resources: list[dict], type_token: str) -> dict[str, dict]:
    return {resource["name"]: resource["inputs"] for resource in resources if resource["type"] == type_token}


def _readers(graph: list[dict]) -> dict[str, set[str]]:
    """Secret Manager secret (its resource id under the mocks) -> the members granted its accessor role."""
    readers: dict[str, set[str]] = {}
    for grant in _by_type(graph, "gcp:secretmanager/secretIamMember:SecretIamMember"):
        assert grant["role"] == "roles/secretmanager.secretAccessor"
        readers.setdefault(grant["secretId"], set()).add(grant["member"].split(":")[1].split("@")[0])
    return readers


def test_gcp_api_reaches_qdrant_through_its_front_with_a_client_certificate_of_its_own(gcp_graph):
    from components.stacks.gcp import QDRANT_ADDRESS

    (service,) = _by_type(gcp_graph, "gcp:cloudrunv2/service:Service")
    env = {e["name"]: e["value"] for e in service["template"]["containers"][0]["envs"]}
    assert (env["RAE_QDRANT_HOST"], env["RAE_QDRANT_PORT"]) == (QDRANT_ADDRESS, "6333")
    (nic,) = _by_type(gcp_graph, "gcp:compute/instance:Instance")[0]["networkInterfaces"]
    assert nic["networkIp"] == QDRANT_ADDRESS
    mounted = {volume["name"]: volume["secret"]["secret"] for volume in service["template"]["volumes"]}
    assert env["RAE_QDRANT_CLIENT_KEY_FILE"] == "/run/secrets/qdrant-client-key/value"
    assert env["RAE_QDRANT_CLIENT_CERT_FILE"] == "/run/secrets/qdrant-client-cert/value"
    assert env["RAE_CA_FILE"] == "/run/secrets/ca/value"
    readers = _readers(gcp_graph)
    # The client key (and the API's copies of its certificate and the CA) are the API's alone.
    assert all(readers[mounted[name]] == {"rae-api"} for name in ("qdrant-client-key", "qdrant-client-cert", "ca"))
    assert all("rae-api" in readers[secret] and "rae-qdrant" not in readers[secret] for secret in mounted.values())
    secret_ids = {name: inputs["secretId"] for name, inputs in _named(gcp_graph, "gcp:secretmanager/secret:Secret").items()}
    assert all(secret_ids[secret.removesuffix("-id")] == f"rae-{name}" for name, secret in mounted.items())


def test_gcp_qdrant_vm_secrets_are_the_vms_alone(gcp_graph):
    secrets = _named(gcp_graph, "gcp:secretmanager/secret:Secret")
    vm_secrets = {name for name in secrets if name.startswith("qdrant-")}
    assert {f"qdrant-qdrant-{n}" for n in ("config", "tls-cert", "tls-key", "ca-cert", "front-config", "front-tls-cert",
                                            "front-tls-key", "front-client-cert", "front-client-key")} == vm_secrets
    readers = _readers(gcp_graph)
    assert all(readers[f"{name}-id"] == {"rae-qdrant"} for name in vm_secrets)


def test_gcp_certificates_carry_one_use_each_and_the_api_is_a_client_only(gcp_graph):
    certificates = _named(gcp_graph, "tls:index/locallySignedCert:LocallySignedCert")
    for name, certificate in certificates.items():
        assert not {"server_auth", "client_auth"} <= set(certificate["allowedUses"]), name
    assert "client_auth" in certificates["qdrant-api-client-tls-cert"]["allowedUses"]
    assert "server_auth" not in certificates["qdrant-api-client-tls-cert"]["allowedUses"]
    requests = _named(gcp_graph, "tls:index/certRequest:CertRequest")
    assert requests["qdrant-api-client-tls-csr"]["subject"]["commonName"] == "rae-api"
    assert requests["qdrant-store-tls-csr"]["dnsNames"] == ["qdrant-store"]
    from components.stacks.gcp import QDRANT_ADDRESS
    assert requests["qdrant-front-tls-csr"]["ipAddresses"] == [QDRANT_ADDRESS]


def _reads(source: str) -> tuple[set[str], set[str]]:
    """The environment names the reference API reads: (required: `_env("X")`/`_read("X")`, optional:
    `os.environ.get("X")`), from its source."""
    required, optional = set(), set()
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in ("_env", "_read"):
            required.add(node.args[0].value)
        elif isinstance(function, ast.Attribute) and function.attr == "get" and ast.unparse(function.value) == "os.environ":
            optional.add(node.args[0].value)
    return required, optional


def _api_env(graph: list[dict]) -> dict[str, str]:
    (service,) = _by_type(graph, "gcp:cloudrunv2/service:Service")
    return {e["name"]: e["value"] for e in service["template"]["containers"][0]["envs"]}


def test_gcp_api_environment_is_what_the_reference_api_reads(gcp_graph):
    """Every name app.py requires is set on gcp except its own TLS listener's (Cloud Run's front end terminates TLS:
    api_runtime.LISTENER_ENV, the reference API refuses to start without them), and gcp sets no name app.py does not
    read (a stale RAE_DB_CONNECTION_NAME or RAE_QDRANT_URL fails here)."""
    from components import api_runtime

    required, optional = _reads((REPO / "images" / "api" / "rae_api" / "app.py").read_text())
    assert {"RAE_PG_HOST", "RAE_PG_PASSWORD_FILE", "RAE_QDRANT_HOST", "RAE_PG_CA_FILE"} <= required  # the parser sees
    assert "RAE_PG_CLIENT_CERT_FILE" in optional
    env = _api_env(gcp_graph)
    assert required - set(env) == set(api_runtime.LISTENER_ENV)
    assert set(env) <= required | optional
    # Cloud SQL asks for a client certificate (TRUSTED_CLIENT_CERTIFICATE_REQUIRED): the optional pair is set.
    assert {"RAE_PG_CLIENT_CERT_FILE", "RAE_PG_CLIENT_KEY_FILE"} <= set(env)


def test_gcp_api_reaches_cloud_sql_by_its_certificate_name_with_its_own_client_certificate(gcp_graph):
    from components.https_endpoint import mounted_path

    env = _api_env(gcp_graph)
    (instance,) = _by_type(gcp_graph, "gcp:sql/databaseInstance:DatabaseInstance")
    assert instance["settings"]["ipConfiguration"]["serverCaMode"] == "GOOGLE_MANAGED_CAS_CA"
    (zone,) = _by_type(gcp_graph, "gcp:dns/managedZone:ManagedZone")
    assert env["RAE_PG_HOST"] + "." == zone["dnsName"] and zone["visibility"] == "private"
    assert (env["RAE_PG_PORT"], env["RAE_PG_DATABASE"], env["RAE_PG_USER"]) == ("5432", "rae", "rae_app")
    (client,) = _by_type(gcp_graph, "gcp:sql/sslCert:SslCert")
    assert client["commonName"] == "rae-api"
    (service,) = _by_type(gcp_graph, "gcp:cloudrunv2/service:Service")
    mounted = {volume["name"]: volume["secret"]["secret"] for volume in service["template"]["volumes"]}
    readers = _readers(gcp_graph)
    for name, variable in (("postgres-client-cert", "RAE_PG_CLIENT_CERT_FILE"),
                           ("postgres-client-key", "RAE_PG_CLIENT_KEY_FILE"), ("postgres-ca", "RAE_PG_CA_FILE"),
                           ("postgres-app-password", "RAE_PG_PASSWORD_FILE")):
        assert env[variable] == mounted_path(name) and "rae-api" in readers[mounted[name]]
    assert readers[mounted["postgres-client-key"]] == {"rae-api"}
    # Every value is an address, a number or a path: no secret in the environment.
    assert all(value.startswith(("/run/secrets/", "10.", "qdrant")) or value.isdigit()
               or value in ("rae", "rae_app", "rae-api") or value.endswith(".sql.goog") for value in env.values())


def test_gcp_api_verifies_tenant_tokens_with_a_public_key_of_its_own_and_the_signing_key_is_only_an_output(gcp_graph):
    from components.https_endpoint import mounted_path

    env = _api_env(gcp_graph)
    (service,) = _by_type(gcp_graph, "gcp:cloudrunv2/service:Service")
    mounted = {volume["name"]: volume["secret"]["secret"] for volume in service["template"]["volumes"]}
    assert env["RAE_API_BEARER_PUBLIC_KEY_FILE"] == mounted_path("tenant-token-public-key")
    assert _readers(gcp_graph)[mounted["tenant-token-public-key"]] == {"rae-api"}
    (key,) = [r for r in _by_type(gcp_graph, "tls:index/privateKey:PrivateKey") if r["algorithm"] == "ED25519"]
    assert env["RAE_API_BEARER_AUDIENCE"] == "rae-api" and env["RAE_API_BEARER_MAX_LIFETIME_S"] == "3600"


def test_gcp_qdrant_vm_reads_its_image_repositories_only(gcp_graph):
    """roles/artifactregistry.reader on the repositories of the VM's two images, as a repository-level member, for
    Qdrant's identity only; no project-level grant anywhere (the IAM posture model fails one: RAE-IAM-002)."""
    import posture.iam as iam_posture

    grants = _named(gcp_graph, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert {(g["repository"], g["role"], g["member"].split("@")[0]) for g in grants.values()} == {
        ("projects/rae-unit/locations/europe-west4/repositories/dockerhub", "roles/artifactregistry.reader",
         "serviceAccount:rae-qdrant"),
        ("projects/rae-unit/locations/europe-west4/repositories/rae", "roles/artifactregistry.reader",
         "serviceAccount:rae-qdrant")}
    assert not [r for r in gcp_graph if r["type"].startswith(("gcp:projects/iAM", "gcp:projects/iam"))]
    for name, inputs in grants.items():
        view = iam_posture.from_pulumi("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", name, inputs)
        assert not list(iam_posture.judge(view))
        wide = iam_posture.from_pulumi("gcp:projects/iAMMember:IAMMember", name,
                                       {"project": "rae-unit", "role": inputs["role"], "member": inputs["member"]})
        assert [requirement.rule_id for _n, requirement, _m in iam_posture.judge(wide)] == ["RAE-IAM-002"]
    (subnet,) = _by_type(gcp_graph, "gcp:compute/subnetwork:Subnetwork")
    assert subnet["privateIpGoogleAccess"] is True  # the VM's path to Artifact Registry: no external IP, no NAT
    assert not _by_type(gcp_graph, "gcp:compute/routerNat:RouterNat")


def test_gcp_config_refuses_vm_images_outside_artifact_registry():
    from components.stacks import gcp

    with pytest.raises(BaselineViolation, match="no NAT") as refused:
        declare(gcp.build, GCP_CONFIG | {"rae:qdrantImage": "qdrant/qdrant@sha256:" + "f" * 64})
    assert "A.8.20" in refused.value.controls


@pytest.mark.parametrize("key, image", [
    ("rae:tlsProxyImage", "europe-west4-docker.pkg.dev/rae-unit/rae/tls-proxy:v1"),
    ("rae:tlsProxyImage", "sha256:" + "d" * 64),
    ("rae:qdrantImage", "qdrant/qdrant:v1.18.3"),
])
def test_gcp_config_refuses_an_image_the_vm_would_pull_by_a_mutable_reference(key, image):
    from components.stacks import gcp
    from tests.unit.components.harness import MOCKS

    before = len(MOCKS.resources)
    with pytest.raises(BaselineViolation, match="A.8.19") as refused:
        declare(gcp.build, GCP_CONFIG | {key: image})
    assert "image" in str(refused.value) and len(MOCKS.resources) == before  # refused before anything is declared


def test_gcp_config_requires_the_tls_proxy_image():
    from components.stacks import gcp

    with pytest.raises(Exception, match="tlsProxyImage"):
        declare(gcp.build, {k: v for k, v in GCP_CONFIG.items() if k != "rae:tlsProxyImage"})


@pytest.fixture(scope="module")
def images_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("build") / "images.json"
    path.write_text(json.dumps(IMAGE_IDS))
    return path


def _local_config(images_file: Path, **overrides) -> dict:
    return {"rae:target": "local", "rae:imagesFile": str(images_file),
            "rae:dataRoot": str(REPO / ".state" / "unit-render"),
            "rae:allowUnencryptedVolumes": "dev-only: unit test host without device-mapper"} | overrides


def test_local_stack_runs_our_images_hardened_on_separated_networks(images_file):
    graph = render_program(REPO, "local", _local_config(images_file))
    containers = {c["name"]: c for c in _by_type(graph, "docker:index/container:Container")}
    assert set(containers) == {"rae-local-postgres", "rae-local-tls-proxy", "rae-local-qdrant-store", "rae-local-qdrant",
                               "rae-local-rae-api"}
    assert containers["rae-local-rae-api"]["image"] == IMAGE_IDS["api"]["id"]
    assert containers["rae-local-postgres"]["image"] == IMAGE_IDS["postgres"]["id"]
    assert containers["rae-local-tls-proxy"]["image"] == IMAGE_IDS["tls-proxy"]["id"]
    assert containers["rae-local-qdrant-store"]["image"] == IMAGE_IDS["qdrant"]["id"]
    assert containers["rae-local-qdrant"]["image"] == IMAGE_IDS["tls-proxy"]["id"]
    users = set()
    for container in containers.values():
        service = {label["label"]: label["value"] for label in container["labels"]}[LABEL_SERVICE]
        assert container["readOnly"] is True and container["user"] == "%d:%d" % service_user(service)
        users.add(container["user"])
        assert all(port["ip"] == "127.0.0.1" for port in container.get("ports") or [])
    assert len(users) == len(containers)  # one uid:gid per service
    networks = {n["name"]: n for n in _by_type(graph, "docker:index/network:Network")}
    assert networks["rae-local-backend"]["internal"] is True and networks["rae-local-edge"]["internal"] is False
    assert networks["rae-local-qdrant"]["internal"] is True and networks["rae-local-api"]["internal"] is True
    # The proxy reaches the API only; the API reaches the stores; no store shares a segment with the proxy.
    segments = {name: {n["name"] for n in c["networksAdvanced"]} for name, c in containers.items()}
    assert segments["rae-local-tls-proxy"] == {"rae-local-edge", "rae-local-api"}
    assert segments["rae-local-rae-api"] == {"rae-local-api", "rae-local-backend"}
    for store in ("rae-local-postgres", "rae-local-qdrant", "rae-local-qdrant-store"):
        assert not segments[store] & segments["rae-local-tls-proxy"]
    assert all(n["options"] == {"com.docker.network.bridge.enable_ip_masquerade": "false"} for n in networks.values())
    secret_files = [r for r in _by_type(graph, "pulumi-python:dynamic:Resource") if "content" in r]
    assert secret_files and all(f["content"] == SECRET_MARKER for f in secret_files)


def test_local_stack_runs_the_users_api_image_where_one_is_named(images_file):
    image = "registry.example/acme/api@sha256:" + "9" * 64
    graph = render_program(REPO, "local", _local_config(images_file, **{"rae:apiImage": image}))
    containers = {c["name"]: c for c in _by_type(graph, "docker:index/container:Container")}
    assert containers["rae-local-rae-api"]["image"] == image and not containers["rae-local-rae-api"].get("ports")


def test_local_stack_keeps_qdrant_internal_behind_its_tls13_front(images_file):
    graph = render_program(REPO, "local", _local_config(images_file))
    containers = {c["hostname"]: c for c in _by_type(graph, "docker:index/container:Container")}
    store, front = containers["qdrant-store"], containers["qdrant"]
    assert not store.get("ports") and not front.get("ports")
    assert store["networksAdvanced"] == [{"name": "rae-local-qdrant", "aliases": ["qdrant-store"]}]
    assert front["networksAdvanced"] == [{"name": "rae-local-backend", "aliases": ["qdrant"]},
                                         {"name": "rae-local-qdrant", "aliases": ["qdrant"]}]
    assert not any(network["name"] == "rae-local-qdrant" for c in containers.values()
                   if c["hostname"] not in ("qdrant", "qdrant-store") for network in c.get("networksAdvanced", []))


def test_local_stack_runs_the_official_qdrant_image_where_one_is_named(images_file):
    official = "qdrant/qdrant@sha256:" + "9" * 64
    graph = render_program(REPO, "local", _local_config(images_file, **{"rae:qdrantImage": official}))
    (store,) = [c for c in _by_type(graph, "docker:index/container:Container") if c["hostname"] == "qdrant-store"]
    assert store["image"] == official


def test_local_stack_refuses_unencrypted_data_without_the_exemption(images_file):
    config = _local_config(images_file)
    del config["rae:allowUnencryptedVolumes"]
    with pytest.raises(BaselineViolation) as refused:
        declare(local.build, config)
    assert {"A.8.24", "A.7.10"} <= set(refused.value.controls)


def test_local_stack_names_the_missing_images_file():
    with pytest.raises(FileNotFoundError, match="run scripts/build-images.sh"):
        declare(local.build, _local_config(REPO / "build" / "no-such-images.json"))


def test_local_stack_refuses_binding_every_interface(images_file):
    with pytest.raises(BaselineViolation, match="A.8.20"):
        declare(local.build, _local_config(images_file, **{"rae:bindAddress": "0.0.0.0"}))


def test_the_development_exemption_is_refused_on_a_served_node(images_file):
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(local.build, _local_config(images_file, **{"rae:bindAddress": "100.64.0.7"}))


@pytest.mark.parametrize("backend", ["native", "auto", "pulumi-docker"])
def test_a_stack_still_choosing_a_docker_backend_is_told_there_is_one(images_file, backend):
    with pytest.raises(BaselineViolation, match="only through pulumi-docker") as refused:
        declare(local.build, _local_config(images_file, **{"rae:dockerProvider": backend}))
    assert refused.value.controls == ("A.8.9",)


def test_a_remote_docker_host_is_refused(images_file):
    with pytest.raises(ValueError, match="run it on the Docker host itself"):
        declare(local.build, _local_config(images_file, **{"docker:host": "ssh://root@node1"}))


def test_exemptions_are_exported_for_the_audit(images_file, monkeypatch):
    exported = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    declare(local.build, _local_config(images_file))
    assert set(exported["unencryptedVolumes"]) == {"pgdata", "backups", "secrets", "qdrant-data"}
    assert all(why.startswith("EXEMPT (dev-only:") for why in exported["unencryptedVolumes"].values())


def test_connect_info_reports_exemptions_as_failing():
    lines = describe({"postgresEndpoint": "127.0.0.1:5432", "unencryptedVolumes": {"pgdata": "EXEMPT (dev-only: x)"}})
    assert lines[0].endswith("127.0.0.1:5432") and lines[-1].startswith("A.8.24 NOT MET: volume pgdata")


def test_an_unknown_target_is_named():
    with pytest.raises(RuntimeError, match="rae:target is 'aws'; choose one of \\['local', 'gcp'\\]"):
        render_program(REPO, "aws", {"rae:target": "aws"})


def test_local_backups_keep_their_passwords_apart_and_follow_the_configured_root(images_file, monkeypatch):
    exported = {}
    monkeypatch.setattr(pulumi, "export", exported.__setitem__)
    backup_root = REPO / ".state" / "unit-render-backups"
    declare(local.build, _local_config(images_file, **{"rae:backupRoot": str(backup_root)}))
    data_root = REPO / ".state" / "unit-render"
    assert exported["backupConfig"] == str(data_root / "backup-credentials" / "backup.json")
    assert exported["backupCommand"].endswith(f"harden backup run --config {exported['backupConfig']}")
    assert exported["backupOffsite"].startswith("not configured")
    assert "backup-key" not in exported["secretFiles"]
    assert str(backup_root) in exported["unencryptedVolumes"]["backups"]
