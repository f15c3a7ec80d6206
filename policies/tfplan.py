"""Translate a rendered Pulumi resource graph into Terraform plan JSON, so checkov's built-in CKV_GCP_*
checks (and our custom ones) judge a Pulumi program as they judge Terraform.

pulumi-gcp and pulumi-docker are bridged from the Terraform providers, so every type token names its Terraform
resource (`terraform_type`: a generic rule plus a short exceptions table) and their properties are the
Terraform ones renamed: camelCase -> snake_case, list blocks pluralised (networkInterfaces ->
network_interface). Nested objects become one-element lists, as Terraform writes blocks.

Example: to_plan([{"type": "gcp:compute/sSLPolicy:SSLPolicy", "name": "tls", "props": {"minTlsVersion": "TLS_1_3"}}])
"""

import re

# pulumi-gcp module -> the Terraform google provider's resource prefix, where they are not the same word.
# (vertex is the same word: its types carry the `Ai` themselves, AiDataset -> google_vertex_ai_dataset.)
MODULE_PREFIXES: dict[str, str] = {
    "projects": "project", "organizations": "organization", "serviceaccount": "service_account",
    "secretmanager": "secret_manager", "cloudrunv2": "cloud_run_v2", "cloudrun": "cloud_run",
    "servicenetworking": "service_networking", "artifactregistry": "artifact_registry",
    "cloudfunctionsv2": "cloudfunctions2", "cloudscheduler": "cloud_scheduler", "cloudtasks": "cloud_tasks",
    "networksecurity": "network_security", "certificatemanager": "certificate_manager", "vpcaccess": "vpc_access",
    "accesscontextmanager": "access_context_manager", "binaryauthorization": "binary_authorization",
    "containeranalysis": "container_analysis", "datafusion": "data_fusion", "osconfig": "os_config",
    "oslogin": "os_login", "cloudidentity": "cloud_identity", "securitycenter": "scc", "orgpolicy": "org_policy",
    "essentialcontacts": "essential_contacts", "apigateway": "api_gateway", "gkehub": "gke_hub",
    "resourcemanager": "resource_manager", "datacatalog": "data_catalog",
    "cloudasset": "cloud_asset", "identityplatform": "identity_platform", "networkconnectivity": "network_connectivity",
    "networkservices": "network_services", "privateca": "privateca", "siteverification": "site_verification",
}
# Types whose Terraform name the generic rule does not give (the rule covers every other type).
TYPE_EXCEPTIONS: dict[str, str] = {
    "gcp:organizations/project:Project": "google_project",
    "gcp:serviceaccount/account:Account": "google_service_account",
    "gcp:folder/folder:Folder": "google_folder",
    "gcp:compute/instanceFromTemplate:InstanceFromTemplate": "google_compute_instance_from_template",
}
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD = re.compile(r"([a-z0-9])([A-Z])")


def _snake_type(name: str) -> str:
    """SSLPolicy -> ssl_policy, CryptoKeyIAMMember -> crypto_key_iam_member."""
    return _WORD.sub(r"\1_\2", _ACRONYM.sub(r"\1_\2", name)).lower()


def terraform_type(token: str) -> str | None:
    """The Terraform resource type a bridged Pulumi type token stands for, or None for other packages.

    `gcp:<module>/<name>:<Type>` -> `google_<module prefix>_<type in snake case>` (MODULE_PREFIXES and
    TYPE_EXCEPTIONS for the irregular ones); `docker:index/<name>:<Type>` -> `docker_<type in snake case>`.
    """
    if token in TYPE_EXCEPTIONS:
        return TYPE_EXCEPTIONS[token]
    package, _, rest = token.partition(":")
    module, _, type_name = rest.partition(":")
    module = module.split("/")[0]
    if not type_name:
        return None
    if package == "gcp":
        return f"google_{MODULE_PREFIXES.get(module, module)}_{_snake_type(type_name)}"
    if package == "docker" and module == "index":
        return f"docker_{_snake_type(type_name)}"
    return None


# Pulumi pluralises list blocks; Terraform names them in the singular.
BLOCK_NAMES: dict[str, str] = {
    "networkInterfaces": "network_interface", "accessConfigs": "access_config",
    "ipv6AccessConfigs": "ipv6_access_config", "disks": "disk", "attachedDisks": "attached_disk",
    "scratchDisks": "scratch_disk", "guestAccelerators": "guest_accelerator", "lifecycleRules": "lifecycle_rule",
    "allows": "allow", "denies": "deny", "drops": "drop", "adds": "add", "tests": "test", "envs": "env",
    "uploads": "upload", "hosts": "host", "conditions": "condition", "cors": "cors", "groupAdds": "group_add",
    "accesses": "access", "clusters": "cluster",
    "requireAttestationsBies": "require_attestations_by",
}
# Attributes that are Terraform maps, not blocks: their keys are data and stay as written.
MAP_ATTRIBUTES = frozenset({"labels", "userLabels", "resourceLabels", "logOpts", "driverOpts", "metadata",
                            "annotations", "attributeMapping", "sysctls", "storageOpts", "options", "tmpfs",
                            "driverOptions"})
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
        tf_type = terraform_type(resource["type"])
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
