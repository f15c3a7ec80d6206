"""Translate a rendered Pulumi resource graph into Terraform plan JSON, so checkov's built-in CKV_GCP_*
checks (and our custom ones) judge a Pulumi program as they judge Terraform.

pulumi-gcp and pulumi-docker are bridged from the Terraform providers, so their properties are the
Terraform ones renamed: camelCase -> snake_case, list blocks pluralised (networkInterfaces ->
network_interface). Nested objects become one-element lists, as Terraform writes blocks.

Example: to_plan([{"type": "gcp:compute/sSLPolicy:SSLPolicy", "name": "tls", "props": {"minTlsVersion": "TLS_1_3"}}])
"""

import re

TYPE_MAP: dict[str, str] = {
    "gcp:sql/databaseInstance:DatabaseInstance": "google_sql_database_instance",
    "gcp:sql/database:Database": "google_sql_database",
    "gcp:sql/user:User": "google_sql_user",
    "gcp:kms/keyRing:KeyRing": "google_kms_key_ring",
    "gcp:kms/cryptoKey:CryptoKey": "google_kms_crypto_key",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": "google_kms_crypto_key_iam_member",
    "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding": "google_kms_crypto_key_iam_binding",
    "gcp:compute/disk:Disk": "google_compute_disk",
    "gcp:compute/instance:Instance": "google_compute_instance",
    "gcp:compute/network:Network": "google_compute_network",
    "gcp:compute/subnetwork:Subnetwork": "google_compute_subnetwork",
    "gcp:compute/firewall:Firewall": "google_compute_firewall",
    "gcp:compute/sSLPolicy:SSLPolicy": "google_compute_ssl_policy",
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy": "google_compute_target_https_proxy",
    "gcp:compute/targetHttpProxy:TargetHttpProxy": "google_compute_target_http_proxy",
    "gcp:compute/uRLMap:URLMap": "google_compute_url_map",
    "gcp:compute/backendService:BackendService": "google_compute_backend_service",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule": "google_compute_global_forwarding_rule",
    "gcp:compute/globalAddress:GlobalAddress": "google_compute_global_address",
    "gcp:compute/managedSslCertificate:ManagedSslCertificate": "google_compute_managed_ssl_certificate",
    "gcp:cloudrunv2/service:Service": "google_cloud_run_v2_service",
    "gcp:secretmanager/secret:Secret": "google_secret_manager_secret",
    "gcp:secretmanager/secretIamMember:SecretIamMember": "google_secret_manager_secret_iam_member",
    "gcp:storage/bucket:Bucket": "google_storage_bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "google_storage_bucket_iam_member",
    "gcp:storage/bucketIAMBinding:BucketIAMBinding": "google_storage_bucket_iam_binding",
    "gcp:projects/iAMMember:IAMMember": "google_project_iam_member",
    "gcp:projects/iAMBinding:IAMBinding": "google_project_iam_binding",
    "gcp:projects/service:Service": "google_project_service",
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:serviceaccount/key:Key": "google_service_account_key",
    "gcp:serviceaccount/iAMMember:IAMMember": "google_service_account_iam_member",
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": "google_iam_workload_identity_pool",
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": "google_iam_workload_identity_pool_provider",
    "gcp:logging/projectSink:ProjectSink": "google_logging_project_sink",
    "docker:index/container:Container": "docker_container",
    "docker:index/volume:Volume": "docker_volume",
    "docker:index/network:Network": "docker_network",
}

# Pulumi pluralises list blocks; Terraform names them in the singular.
BLOCK_NAMES: dict[str, str] = {
    "networkInterfaces": "network_interface", "accessConfigs": "access_config", "attachedDisks": "attached_disk",
    "scratchDisks": "scratch_disk", "guestAccelerators": "guest_accelerator", "lifecycleRules": "lifecycle_rule",
    "allows": "allow", "denies": "deny", "drops": "drop", "adds": "add", "tests": "test", "envs": "env",
    "uploads": "upload", "hosts": "host", "conditions": "condition", "cors": "cors",
}
# Attributes that are Terraform maps, not blocks: their keys are data and stay as written.
MAP_ATTRIBUTES = frozenset({"labels", "userLabels", "resourceLabels", "logOpts", "driverOpts", "metadata",
                            "annotations", "attributeMapping", "sysctls", "storageOpts", "options"})
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """camelCase -> snake_case, with the Terraform block name where Pulumi pluralised it."""
    return BLOCK_NAMES.get(name) or _CAMEL.sub(r"_\1", name).lower()


def _attributes(props: dict) -> dict:
    return {snake(key): _convert(key, value) for key, value in props.items()}


def _convert(key: str, value):
    if isinstance(value, dict):
        return dict(value) if key in MAP_ATTRIBUTES else [_attributes(value)]
    if isinstance(value, list):
        return [_attributes(item) if isinstance(item, dict) else item for item in value]
    return value


def terraform_values(props: dict) -> dict:
    """Pulumi inputs (camelCase) -> Terraform plan `values` (snake_case, blocks as lists)."""
    return _attributes(props)


def to_plan(resources: list[dict]) -> tuple[dict, list[str]]:
    """Plan JSON for checkov (`--framework terraform_plan`) and the Pulumi types that have no Terraform twin.

    + resources: [{"type", "name", "props"}] (custom resources; components are skipped by the caller)
    Returns (plan, unmapped types).
    """
    planned, unmapped, used = [], [], set()
    for resource in resources:
        tf_type = TYPE_MAP.get(resource["type"])
        if tf_type is None:
            unmapped.append(resource["type"])
            continue
        name = re.sub(r"[^A-Za-z0-9_-]", "_", resource["name"])
        while f"{tf_type}.{name}" in used:
            name += "_"
        used.add(f"{tf_type}.{name}")
        planned.append({"address": f"{tf_type}.{name}", "mode": "managed", "type": tf_type, "name": name,
                        "values": terraform_values(resource["props"])})
    plan = {"format_version": "1.2", "terraform_version": "1.9.8",
            "planned_values": {"root_module": {"resources": planned}}}
    return plan, sorted(set(unmapped))
