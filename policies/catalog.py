"""The rule catalog: one source of truth for CrossGuard policies, checkov custom checks and reports.

Pure data; imports nothing from Pulumi or checkov (only the baseline and the posture models, pure too), so
checkov's own virtual environment can import it for the custom checks' ids and controls.
Controls are read from the baseline setting each rule enforces, never restated.
"""

from dataclasses import dataclass

from baseline import BACKUP, COMPUTE, CONTAINER, DATABASE, IDENTITY, KMS, LUKS, NETWORK, SECRETS, STORAGE, TLS
from posture.container import controls_of as _ctr


@dataclass(frozen=True)
class Rule:
    """One rule: stable id, what it asserts, how bad a failure is, the Annex A controls it serves, why, and how to fix.

    + engine: which scanner of the gate judges it ("crossguard", "checkov", "app", "bandit", "pip-audit")
    + checkov_ids: checkov built-in checks whose findings are reported under this rule ("CKV_SECRET_*": a prefix)
    """

    id: str
    title: str
    severity: str  # one of SEVERITIES
    controls: tuple[str, ...]
    rationale: str
    remediation: str
    engine: str = "crossguard"
    checkov_ids: tuple[str, ...] = ()


SEVERITIES = ("low", "medium", "high", "critical")
# HSTS max-age floor: one year, the preload list's minimum. It belongs in baseline.TLS (requested from its
# owner); until then it is stated here once and read by policies.app_checks.
HSTS_MIN_SECONDS = 365 * 24 * 3600
ENGINES = ("crossguard", "checkov", "app", "bandit", "pip-audit", "gate")


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


def _union(*control_lists: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(cid for controls in control_lists for cid in controls))


_C = CONTAINER.controls
_SECRET_DELIVERY = SECRETS.controls("delivery")

RULES: dict[str, Rule] = _rules(
    # --- docker:index/container:Container (controls: those of the posture model's requirements) ----------
    Rule("RAE-CTR-001", "Container runs as its service's own numeric non-root uid:gid, no supplementary group",
         "high", _ctr("RAE-CTR-001"), CONTAINER.setting("service_users").why,
         "Set user to the service's own uid:gid from baseline CONTAINER.service_users (numeric, neither 0; e.g. "
         f"'{':'.join(map(str, CONTAINER.service_users['postgres']))}' for postgres), label the container with its "
         "service (org.rae.hardening.service), never run it as another service's uid, and add no group_adds."),
    Rule("RAE-CTR-002", "Container root filesystem is read-only; tmpfs is noexec,nosuid,nodev", "medium",
         _ctr("RAE-CTR-002"), CONTAINER.setting("read_only_rootfs").why,
         f"Set read_only=True; give writable paths as tmpfs with {list(CONTAINER.tmpfs_options_required)} or volumes."),
    Rule("RAE-CTR-003", "Container drops all capabilities and adds none", "high", _ctr("RAE-CTR-003"),
         CONTAINER.setting("cap_drop").why, f"Set capabilities={{'drops': {list(CONTAINER.cap_drop)}}} and no adds."),
    Rule("RAE-CTR-004", "Container forbids privilege escalation and keeps seccomp/AppArmor", "high",
         _ctr("RAE-CTR-004"), CONTAINER.setting("security_opts").why,
         f"Set security_opts={list(CONTAINER.security_opts)} and nothing else (a later no-new-privileges=false wins)."),
    Rule("RAE-CTR-005", "Container has bounded memory and process limits", "medium", _ctr("RAE-CTR-005"),
         CONTAINER.setting("memory_mb_default").why,
         f"Set memory between 1 and {CONTAINER.memory_mb_max} MiB and a pids limit up to {CONTAINER.pids_limit}."),
    Rule("RAE-CTR-006", "Container declares a healthcheck", "low", _ctr("RAE-CTR-006"),
         CONTAINER.setting("healthcheck_required").why, "Add healthcheck={'tests': ['CMD', ...]} (not NONE)."),
    Rule("RAE-CTR-007", "Published ports bind to declared addresses only", "high", _ctr("RAE-CTR-007"),
         CONTAINER.setting("bind_addresses").why,
         f"Set ports[].ip to one of {list(CONTAINER.bind_addresses)} or the stack's rae:bindAddress."),
    Rule("RAE-CTR-008", "Container is not privileged", "critical", _ctr("RAE-CTR-008"),
         CONTAINER.setting("privileged_allowed").why, "Remove privileged=True."),
    Rule("RAE-CTR-009", "Container shares no namespace with the host or another container", "high",
         _ctr("RAE-CTR-009"), CONTAINER.setting("host_namespaces_allowed").why,
         "Remove network/pid/ipc/uts/userns/cgroupns modes 'host' and 'container:...'; attach an internal network."),
    Rule("RAE-CTR-010", "Host paths are mounted only from the declared data and secret roots", "critical",
         _ctr("RAE-CTR-010"), CONTAINER.setting("host_roots").why,
         f"Mount a named volume or a path under {list(CONTAINER.host_roots)} (or the stack's rae:dataRoot)."),
    Rule("RAE-CTR-011", "Container image is pinned by sha256 id or digest", "medium", _ctr("RAE-CTR-011"),
         CONTAINER.setting("image_pinning").why, "Reference the image as sha256:<id> or repo@sha256:<digest>."),
    Rule("RAE-CTR-012", "Container environment carries no credentials", "high", _ctr("RAE-CTR-012"),
         SECRETS.setting("delivery").why, "Deliver the secret as a 0400 file and pass its path in NAME_FILE."),
    Rule("RAE-CTR-013", "Container logs go to the baseline driver and are rotated", "low", _ctr("RAE-CTR-013"),
         CONTAINER.setting("log_opts").why, f"Set log_driver='{CONTAINER.log_driver}', log_opts={dict(CONTAINER.log_opts)}."),
    Rule("RAE-CTR-014", "Container gets no host device", "critical", _ctr("RAE-CTR-014"),
         CONTAINER.setting("devices_allowed").why, "Remove devices."),
    Rule("RAE-CTR-015", "Container runs on the default runtime (runc)", "high", _ctr("RAE-CTR-015"),
         CONTAINER.setting("runtimes_allowed").why, "Remove runtime (or set it to runc)."),
    Rule("RAE-CTR-016", "Container changes no kernel parameter", "high", _ctr("RAE-CTR-016"),
         CONTAINER.setting("sysctls_allowed").why, "Remove sysctls."),
    Rule("RAE-CTR-017", "Container restart policy brings a crashed service back", "low", _ctr("RAE-CTR-017"),
         CONTAINER.setting("restart").why, f"Set restart='{CONTAINER.restart}'."),
    # --- Cloud SQL ---------------------------------------------------------------------------------
    Rule("RAE-SQL-001", "Cloud SQL is encrypted with a customer-managed key", "high", KMS.controls("cmek_required"),
         KMS.setting("cmek_required").why,
         "Set encryption_key_name to a KMS key id."),
    Rule("RAE-SQL-002", "Cloud SQL requires trusted client certificates", "high", DATABASE.controls("gcp_ssl_mode"),
         DATABASE.setting("gcp_ssl_mode").why, f"Set settings.ip_configuration.ssl_mode='{DATABASE.gcp_ssl_mode}'.",
         checkov_ids=("CKV_GCP_6",)),
    Rule("RAE-SQL-003", "Cloud SQL has no public IP", "critical", NETWORK.controls("database_public_ip"),
         NETWORK.setting("database_public_ip").why,
         "Set settings.ip_configuration.ipv4_enabled=False with a private_network.", checkov_ids=("CKV_GCP_60",)),
    Rule("RAE-SQL-004", "Cloud SQL automated backups are on and retained", "high", BACKUP.controls("retained_backups"),
         BACKUP.setting("retained_backups").why,
         f"Enable settings.backup_configuration with retained_backups >= {BACKUP.retained_backups}.",
         checkov_ids=("CKV_GCP_14",)),
    Rule("RAE-SQL-005", "Cloud SQL point-in-time recovery is on", "medium", BACKUP.controls("point_in_time_recovery"),
         BACKUP.setting("point_in_time_recovery").why, "Set backup_configuration.point_in_time_recovery_enabled=True."),
    Rule("RAE-SQL-006", "Cloud SQL deletion protection is on", "medium", DATABASE.controls("deletion_protection"),
         DATABASE.setting("deletion_protection").why, "Set deletion_protection=True and settings.deletion_protection_enabled=True."),
    Rule("RAE-SQL-007", "Cloud SQL logging and pgaudit flags are set", "medium",
         _union(DATABASE.controls("log_flags"), DATABASE.controls("gcp_extra_flags")), DATABASE.setting("log_flags").why,
         "Set settings.database_flags to the baseline's DATABASE.log_flags and gcp_extra_flags."),
    Rule("RAE-SQL-008", "Cloud SQL server certificates come from a Certificate Authority Service pool", "medium",
         DATABASE.controls("gcp_server_ca_mode"), DATABASE.setting("gcp_server_ca_mode").why,
         f"Set settings.ip_configuration.server_ca_mode to one of {list(DATABASE.gcp_server_ca_mode)} (with "
         "server_ca_pool for CUSTOMER_MANAGED_CAS_CA); never leave it unset or GOOGLE_MANAGED_INTERNAL_CA."),
    # --- KMS, disks, TLS, Cloud Run, Secret Manager ---------------------------------------------------
    Rule("RAE-KMS-001", "KMS keys rotate at least every 90 days", "high", KMS.controls("rotation_period_seconds"),
         KMS.setting("rotation_period_seconds").why,
         f"Set rotation_period to at most '{KMS.rotation_period_seconds}s'.", checkov_ids=("CKV_GCP_43",)),
    Rule("RAE-KMS-002", "KMS key versions use the baseline algorithm and protection level; destruction is delayed",
         "medium", _union(KMS.controls("algorithm"), KMS.controls("protection_level"),
                          KMS.controls("destroy_scheduled_duration")),
         KMS.setting("destroy_scheduled_duration").why,
         f"Set version_template.algorithm='{KMS.algorithm}', version_template.protection_level="
         f"'{KMS.protection_level}' (or stronger) and destroy_scheduled_duration to at least "
         f"'{KMS.destroy_scheduled_duration}'."),
    Rule("RAE-KMS-003", "KMS key rings and keys are protected from deletion", "high", KMS.controls("prevent_destroy"),
         KMS.setting("prevent_destroy").why,
         "Create key rings and keys with opts=pulumi.ResourceOptions(protect=True) (Terraform: lifecycle "
         "{ prevent_destroy = true }).", checkov_ids=("CKV_GCP_82",)),
    Rule("RAE-DSK-001", "Compute disks are encrypted with a customer-managed key", "high", LUKS.controls("required_for"),
         LUKS.setting("required_for").why, "Set disk_encryption_key.kms_key_self_link.", checkov_ids=("CKV_GCP_37",)),
    Rule("RAE-TLS-001", "Load balancer SSL policy is RESTRICTED with TLS 1.3 minimum", "high",
         _union(TLS.controls("gcp_ssl_policy_profile"), TLS.controls("gcp_min_tls_version")), TLS.setting("min_version").why,
         f"Set profile='{TLS.gcp_ssl_policy_profile}' and min_tls_version='{TLS.gcp_min_tls_version}'."),
    Rule("RAE-RUN-001", "Cloud Run is not reachable from the internet directly", "high",
         _union(NETWORK.controls("cloud_run_ingress"), NETWORK.controls("cloud_run_ingresses_allowed")),
         NETWORK.setting("cloud_run_ingresses_allowed").why,
         f"Set ingress='{NETWORK.cloud_run_ingress}' (v1: the annotation run.googleapis.com/ingress = "
         f"'internal-and-cloud-load-balancing') and serve it through the TLS 1.3 load balancer."),
    Rule("RAE-RUN-002", "Cloud Run runs as a service account of its own", "high",
         IDENTITY.controls("one_account_per_service"), IDENTITY.setting("one_account_per_service").why +
         " Unset, a service runs as the project's default compute account, usually an editor.",
         "Create one serviceaccount.Account per service and set template.service_account (a job: "
         "template.template.service_account; v1: service_account_name)."),
    Rule("RAE-RUN-003", "Cloud Run environment carries no credential", "high",
         _union(SECRETS.controls("delivery"), SECRETS.controls("forbidden_env_markers")), SECRETS.setting("delivery").why,
         "Mount the secret as a file (a secret volume) and pass its path in NAME_FILE; never a literal or a "
         "secret-backed environment variable."),
    Rule("RAE-RUN-004", "Cloud Run runs only images its Binary Authorization policy admits, with no breakglass",
         "high", CONTAINER.controls("cloud_run_binary_authorization"),
         CONTAINER.setting("cloud_run_binary_authorization").why,
         "Set binary_authorization=ServiceBinaryAuthorizationArgs(use_default=True) (a job or worker pool: "
         "JobBinaryAuthorizationArgs / WorkerPoolBinaryAuthorizationArgs; or policy= a named Cloud Run "
         "policy) and no breakglass_justification; v1: the annotation run.googleapis.com/binary-authorization = "
         "'default' and no run.googleapis.com/binary-authorization-breakglass."),
    Rule("RAE-RUN-006", "Cloud Run's IAM invoker check is off only behind the load balancer", "critical",
         NETWORK.controls("cloud_run_invoker_check_off_ingresses"),
         NETWORK.setting("cloud_run_invoker_check_off_ingresses").why,
         "Leave invoker_iam_disabled unset (grant roles/run.invoker to named identities), or set it only with "
         f"ingress={NETWORK.cloud_run_invoker_check_off_ingresses[0]!r} behind the HTTPS load balancer "
         "(components.https_endpoint.HttpsEndpoint) and authenticate callers in the service."),
    Rule("RAE-RUN-005", "Cloud Run on the project's default Binary Authorization policy: the program declares that "
         "policy, and it admits no image by default", "high",
         CONTAINER.controls("cloud_run_default_policy_declared"),
         CONTAINER.setting("cloud_run_default_policy_declared").why,
         "Declare the project's gcp.binaryauthorization.Policy in the same program as the workload (components."
         "binary_authorization.BinaryAuthorizationPolicy; HttpsEndpoint requires it), with default_admission_rule "
         f"evaluation_mode {' or '.join(CONTAINER.binary_authorization_evaluation_modes)}, enforced; name the "
         "workload's project (project= or the stack's gcp:project)."),
    # --- Binary Authorization (the project's admission policy the Cloud Run setting names) --------------
    Rule("RAE-BIN-001", "Binary Authorization admits no image by default (deny, or require an attestor's attestation)",
         "high", CONTAINER.controls("binary_authorization_evaluation_modes"),
         CONTAINER.setting("binary_authorization_evaluation_modes").why,
         "Set default_admission_rule.evaluation_mode (and every cluster_admission_rules[].evaluation_mode) to "
         f"{' or '.join(CONTAINER.binary_authorization_evaluation_modes)}; REQUIRE_ATTESTATION names its attestors in "
         "require_attestations_bies."),
    Rule("RAE-BIN-002", "Binary Authorization blocks what it refuses (not dry run)", "high",
         CONTAINER.controls("binary_authorization_enforcement_mode"),
         CONTAINER.setting("binary_authorization_enforcement_mode").why,
         f"Set enforcement_mode='{CONTAINER.binary_authorization_enforcement_mode}' on the default and every cluster "
         "admission rule."),
    Rule("RAE-BIN-003", "Binary Authorization evaluates Google's global policy for system images", "medium",
         CONTAINER.controls("binary_authorization_global_evaluation"),
         CONTAINER.setting("binary_authorization_global_evaluation").why,
         f"Set global_policy_evaluation_mode='{CONTAINER.binary_authorization_global_evaluation}'."),
    Rule("RAE-BIN-004", "Binary Authorization exempts only the project's own Artifact Registry repositories", "high",
         CONTAINER.controls("binary_authorization_allowlist"), CONTAINER.setting("binary_authorization_allowlist").why,
         "Set project on the policy and give each admission_whitelist_patterns[].name_pattern as "
         "<location>-docker.pkg.dev/<that project>/<repository>/<image or *>; remove patterns for other registries, "
         "projects or wildcard repositories."),
    Rule("RAE-SEC-001", "Secret Manager secrets are encrypted with a customer-managed key", "medium",
         _union(SECRETS.controls("delivery"), KMS.controls("cmek_required")),
         "CMEK on secrets puts their key under our rotation and audit.",
         "Set replication.user_managed.replicas[].customer_managed_encryption.kms_key_name "
         "(or replication.auto.customer_managed_encryption)."),
    Rule("RAE-SEC-002", "Generated passwords and keys have at least the baseline length", "high",
         SECRETS.controls("length"), SECRETS.setting("length").why,
         f"Set random.RandomPassword length to at least {SECRETS.length}."),
    # --- Cloud Storage -------------------------------------------------------------------------------
    Rule("RAE-GCS-001", "Bucket is encrypted with a customer-managed key", "medium", KMS.controls("cmek_required"),
         KMS.setting("cmek_required").why, "Set encryption.default_kms_key_name."),
    Rule("RAE-GCS-002", "Bucket versioning is on", "medium", STORAGE.controls("versioning"), STORAGE.setting("versioning").why,
         "Set versioning.enabled=True.", checkov_ids=("CKV_GCP_78",)),
    Rule("RAE-GCS-003", "Bucket retention policy holds objects for the backup window", "medium",
         BACKUP.controls("bucket_retention_days"), BACKUP.setting("bucket_retention_days").why,
         f"Set retention_policy.retention_period >= {BACKUP.bucket_retention_days} days in seconds."),
    Rule("RAE-GCS-006", "Bucket retention policy is locked", "high", BACKUP.controls("bucket_retention_locked"),
         BACKUP.setting("bucket_retention_locked").why, "Set retention_policy.is_locked=True (irreversible: "
         "the period can then only grow)."),
    Rule("RAE-GCS-004", "Bucket uses uniform bucket-level access", "medium",
         STORAGE.controls("uniform_bucket_level_access"), STORAGE.setting("uniform_bucket_level_access").why,
         "Set uniform_bucket_level_access=True.", checkov_ids=("CKV_GCP_29",)),
    Rule("RAE-GCS-005", "Bucket public access prevention is enforced", "critical",
         STORAGE.controls("public_access_prevention"), STORAGE.setting("public_access_prevention").why, "Set public_access_prevention='enforced'.",
         checkov_ids=("CKV_GCP_114",)),
    # --- IAM ------------------------------------------------------------------------------------------
    Rule("RAE-IAM-001", "No basic or impersonation role is granted", "critical", IDENTITY.controls("forbidden_roles"),
         IDENTITY.setting("forbidden_roles").why, "Grant a predefined role scoped to the resource instead.",
         checkov_ids=("CKV_GCP_117", "CKV_GCP_41", "CKV_GCP_49")),
    Rule("RAE-IAM-002", "No project-level role grant to a service account", "high", IDENTITY.controls("grant_scope"),
         IDENTITY.setting("grant_scope").why, "Bind the role on the key, secret or bucket (resource-level IAM member)."),
    Rule("RAE-IAM-003", "No service account keys", "critical", IDENTITY.controls("account_keys_allowed"),
         IDENTITY.setting("account_keys_allowed").why, "Remove serviceaccount.Key; use Workload Identity Federation."),
    Rule("RAE-IAM-004", "Workload Identity provider is pinned to one repository", "critical", IDENTITY.controls("ci_federation"),
         IDENTITY.setting("ci_federation").why,
         "Set attribute_condition to \"assertion.sub == 'repo:ORG/REPO:ref:refs/heads/main'\" (or assertion.repository ==)."),
    Rule("RAE-IAM-005", "Roles are granted only to named identities (never allUsers or allAuthenticatedUsers)",
         "critical", _union(IDENTITY.controls("public_members_allowed"), IDENTITY.controls("member_kinds_allowed")),
         IDENTITY.setting("public_members_allowed").why,
         f"Grant the role to the one service account or group that needs it (member kinds "
         f"{list(IDENTITY.member_kinds_allowed)})."),
    # --- network ----------------------------------------------------------------------------------------
    Rule("RAE-NET-001", "No firewall rule admits the whole internet", "critical",
         NETWORK.controls("internet_ingress_allowed"), NETWORK.setting("internet_ingress_allowed").why,
         "Restrict sourceRanges to the load balancer and health-check ranges, or reach VMs over IAP."),
    # --- Compute instances ----------------------------------------------------------------------------
    Rule("RAE-VM-001", "VM has no external IP", "high", COMPUTE.controls("external_ip_allowed"),
         COMPUTE.setting("external_ip_allowed").why,
         "Remove network_interfaces[].access_configs and ipv6_access_configs; reach it over IAP or VPN.",
         checkov_ids=("CKV_GCP_40",)),
    Rule("RAE-VM-002", "VM is a Shielded VM (secure boot, vTPM, integrity monitoring)", "medium",
         COMPUTE.controls("shielded_vm"), COMPUTE.setting("shielded_vm").why,
         "Set shielded_instance_config with enable_secure_boot, enable_vtpm, enable_integrity_monitoring True.",
         checkov_ids=("CKV_GCP_39",)),
    Rule("RAE-VM-003", "VM disks are encrypted with a customer-managed key", "high", LUKS.controls("required_for"),
         LUKS.setting("required_for").why,
         "Set boot_disk.kms_key_self_link (templates: disks[].disk_encryption_key.kms_key_self_link).",
         checkov_ids=("CKV_GCP_38",)),
    Rule("RAE-VM-004", "VM does not run as the default service account", "high",
         IDENTITY.controls("one_account_per_service"), IDENTITY.setting("one_account_per_service").why +
         " The default compute account is shared by every VM of the project and usually an editor.",
         "Set service_account.email to the VM's own account (or no service_account block: no identity).",
         checkov_ids=("CKV_GCP_30", "CKV_GCP_31")),
    Rule("RAE-VM-005", "VM uses OS Login", "high", COMPUTE.controls("os_login"), COMPUTE.setting("os_login").why,
         "Set metadata enable-oslogin = 'TRUE'.", checkov_ids=("CKV_GCP_34",)),
    Rule("RAE-VM-006", "VM blocks project-wide SSH keys", "medium", COMPUTE.controls("block_project_ssh_keys"),
         COMPUTE.setting("block_project_ssh_keys").why, "Set metadata block-project-ssh-keys = 'TRUE'.",
         checkov_ids=("CKV_GCP_32",)),
    Rule("RAE-VM-007", "VM serial port access is off", "high", COMPUTE.controls("serial_port_allowed"),
         COMPUTE.setting("serial_port_allowed").why, "Remove metadata serial-port-enable (or set it to 'FALSE').",
         checkov_ids=("CKV_GCP_35",)),
    Rule("RAE-VM-008", "VM does not forward IP traffic", "medium", COMPUTE.controls("ip_forwarding_allowed"),
         COMPUTE.setting("ip_forwarding_allowed").why, "Remove can_ip_forward (or set it to False).",
         checkov_ids=("CKV_GCP_36",)),
    # --- whole-stack rules ------------------------------------------------------------------------------
    Rule("RAE-STK-001", "Every Postgres and Qdrant volume is encrypted", "critical", LUKS.controls("required_for"),
         LUKS.setting("required_for").why,
         "Docker: mount data from a LUKS-backed volume (labelled encryption=luks). GCP: CMEK on the SQL instance and disks."),
    Rule("RAE-STK-002", "Each service runs under its own service account", "high", IDENTITY.controls("one_account_per_service"),
         IDENTITY.setting("one_account_per_service").why,
         "Create one serviceaccount.Account per Cloud Run service, job or worker pool / VM and set it explicitly."),
    Rule("RAE-STK-003", "No database is reachable on a public address", "critical", NETWORK.controls("database_public_ip"),
         NETWORK.setting("database_public_ip").why,
         "Private IP only for Cloud SQL and database VMs; database containers publish no port beyond declared addresses."),
    Rule("RAE-STK-004", "Every HTTPS endpoint enforces TLS 1.3", "high", TLS.controls("min_version"),
         TLS.setting("min_version").why,
         "Attach a RESTRICTED / TLS_1_3 SSL policy to every target HTTPS proxy; serve no plain-HTTP proxy."),
    # --- container images (checkov built-ins on Dockerfiles) ------------------------------------------
    Rule("RAE-IMG-001", "Image ends with a non-root USER", "high", _C("service_users"),
         CONTAINER.setting("service_users").why,
         "Add 'USER <uid>:<gid>' of the image's service (baseline CONTAINER.service_users) as the last USER "
         "instruction.", engine="checkov",
         checkov_ids=("CKV_DOCKER_3", "CKV_DOCKER_8")),
    Rule("RAE-IMG-002", "Image declares a HEALTHCHECK", "low", _C("healthcheck_required"),
         CONTAINER.setting("healthcheck_required").why, "Add a HEALTHCHECK instruction.", engine="checkov",
         checkov_ids=("CKV_DOCKER_2",)),
    Rule("RAE-IMG-003", "Image base is not a mutable 'latest' tag", "medium", _C("image_pinning"),
         CONTAINER.setting("image_pinning").why, "FROM image@sha256:<digest> (or a built base by id).", engine="checkov",
         checkov_ids=("CKV_DOCKER_7",)),
    Rule("RAE-SCR-001", "No secret is committed to the repository", "critical", _SECRET_DELIVERY,
         SECRETS.setting("delivery").why, "Remove the secret, rotate it, and load it from Secret Manager or a 0400 file.",
         engine="checkov", checkov_ids=("CKV_SECRET_*",)),
    # --- application settings (Django, from seed 002) --------------------------------------------------
    Rule("RAE-APP-001", "CORS does not allow every origin in production", "critical", ("A.8.20", "A.8.26"),
         "CORS_ORIGIN_ALLOW_ALL inherited by Production lets any site call the API with the user's session (seed 002).",
         "Set CORS_ALLOW_ALL_ORIGINS = False in production and list CORS_ALLOWED_ORIGINS.", engine="app"),
    Rule("RAE-APP-002", "DEBUG is off in production", "high", ("A.8.9", "A.8.12"),
         "Debug pages leak settings, queries and stack traces.", "Set DEBUG = False (read it from the environment).",
         engine="app"),
    Rule("RAE-APP-003", "HTTPS redirect is on", "high", TLS.controls("min_version"), TLS.setting("min_version").why,
         "Set SECURE_SSL_REDIRECT = True.", engine="app"),
    Rule("RAE-APP-004", "HSTS is set for at least a year", "medium", TLS.controls("min_version"),
         "Without HSTS a first request can be downgraded to plain HTTP.",
         f"Set SECURE_HSTS_SECONDS to {HSTS_MIN_SECONDS} or more.", engine="app"),
    Rule("RAE-APP-005", "Session and CSRF cookies are Secure", "high", ("A.8.24", "A.5.17"),
         "Cookies sent over plain HTTP expose sessions.", "Set SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True.",
         engine="app"),
    Rule("RAE-APP-006", "Email verification is mandatory", "medium", ("A.5.16", "A.8.5"),
         "Unverified email addresses allow account takeover and impersonation (seed 002 A.9.2.1).",
         "Set ACCOUNT_EMAIL_VERIFICATION = 'mandatory'.", engine="app"),
    Rule("RAE-APP-007", "JWT cookies are HttpOnly", "high", ("A.8.5", "A.5.17"),
         "JWTs readable by JavaScript are stolen by any XSS (seed 002 A.9.2.4).",
         "Set REST_AUTH['JWT_AUTH_HTTPONLY'] = True.", engine="app"),
    Rule("RAE-APP-008", "Redis TLS verifies the server certificate", "high", TLS.controls("min_version"),
         "rediss:// with ssl_cert_reqs=none accepts any certificate: a man in the middle reads the broker (seed 002).",
         "Use ssl_cert_reqs=required with the CA bundle.", engine="app"),
    Rule("RAE-APP-009", "Internal service URLs use HTTPS", "high", TLS.controls("min_version"),
         "Plain http:// between services exposes data inside the network (seed 002 A.13.2.1).",
         "Use https:// URLs (TLS 1.3) for every internal service.", engine="app"),
    Rule("RAE-APP-010", "No default or hard-coded API keys and secrets", "critical", _SECRET_DELIVERY,
         SECRETS.setting("delivery").why + " (seed 000 SEC-04)",
         "Read the key from Secret Manager or a 0400 file; fail when it is missing instead of using a default.",
         engine="app"),
    Rule("RAE-APP-011", "No hard-coded IP addresses", "medium", ("A.8.9", "A.8.20"),
         "Hard-coded addresses bypass configuration management and name-based TLS (seed 000 Phase 2).",
         "Read addresses from configuration or use service names.", engine="app"),
    # --- the gate itself ---------------------------------------------------------------------------------
    Rule("RAE-GATE-001", "Every resource is judged by a rule the gate understands", "high", ("A.8.9", "A.8.32"),
         "A dynamic, command or provider resource, or a package without rules, deploys something no rule looked at: "
         "unknown, never a pass (an unknown cannot be waived).",
         "Use resources the gate judges (pulumi-gcp, pulumi-docker, the toolkit's components), or add a posture "
         "model and rules for the new kind first.", engine="gate"),
    # --- software supply chain -------------------------------------------------------------------------
    Rule("RAE-SAST-001", "No high-severity, high-confidence bandit finding", "high", ("A.8.28", "A.8.25"),
         "Secure coding is enforced in CI, not only run (seed 000 Phase 1, SEC-01).",
         "Fix the finding; a reviewed false positive gets '# nosec BXXX' with its reason.", engine="bandit"),
    Rule("RAE-DEP-001", "No dependency with a known vulnerability", "high", ("A.8.8", "A.8.28", "A.5.21"),
         "Supply chain attacks and known CVEs in dependencies (seed 000 risk 4).",
         "Upgrade to a fixed version and re-lock.", engine="pip-audit"),
)

# Controls of checkov built-in findings that no rule above claims, by checkov framework.
CHECKOV_FRAMEWORK_CONTROLS: dict[str, tuple[str, ...]] = {
    "terraform_plan": ("A.8.9",),
    "dockerfile": ("A.8.9", "A.8.19"),
    "github_actions": ("A.8.25", "A.8.32"),
    "secrets": _SECRET_DELIVERY,
}


def rule_for_checkov(check_id: str) -> Rule | None:
    """The catalog rule a checkov built-in check reports under, or None."""
    return next((rule for rule in RULES.values()
                 if any(check_id == pattern or (pattern.endswith("*") and check_id.startswith(pattern[:-1]))
                        for pattern in rule.checkov_ids)), None)
