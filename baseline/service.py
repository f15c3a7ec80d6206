"""Baseline for the services: TLS, container runtime, keys, secrets, identity, database, backups.

Stated once here; the Pulumi components, the policies and the reports read these values.
"""

from baseline.model import Section, Setting as S

TLS = Section(
    "tls",
    min_version=S("TLSv1.3", ("A.8.24", "A.8.20", "A.8.21", "A.5.14"),
                  "TLS 1.2 and older allow downgrade and non-AEAD suites; seed 000 Phase 3 asks for TLS 1.3."),
    allowed_versions=S(("TLSv1.3",), ("A.8.24", "A.5.14"), "Only TLS 1.3 is accepted on any endpoint."),
    cipher_suites=S(("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"),
                    ("A.8.24",), "The TLS 1.3 AEAD suites; CCM variants are not offered."),
    gcp_ssl_policy_profile=S("RESTRICTED", ("A.8.24", "A.8.20"),
                             "The Google load balancer profile that removes legacy suites."),
    gcp_min_tls_version=S("TLS_1_3", ("A.8.24", "A.8.20"),
                          "Google's spelling of the minimum; only load balancers can enforce it."),
    key_algorithm=S("ECDSA", ("A.8.24",), "ECDSA keys: short, fast, and accepted by every TLS 1.3 client."),
    ecdsa_curve=S("P384", ("A.8.24",), "P-384 gives a security margin above 128 bits for the CA and servers."),
    ca_validity_hours=S(24 * 365 * 5, ("A.8.24",), "The private CA lives 5 years; its key never leaves the state."),
    cert_validity_hours=S(24 * 90, ("A.8.24",), "Server and client certificates are re-issued at least every 90 days."),
    cert_early_renewal_hours=S(24 * 30, ("A.8.24",), "A certificate is replaced when 30 days remain."),
    client_cert_required_hops=S(("proxy->api", "api->postgres", "api->qdrant", "qdrant-front->qdrant-store"),
                                ("A.5.14", "A.8.5", "A.8.24"),
                                "Every hop inside a stack is mutual TLS: the server side requires a client "
                                "certificate of the stack's CA and refuses a client without one (seed 000 Phase 2). "
                                "TLS 1.3 on every hop but the last: Qdrant's own TLS, behind its front, negotiates "
                                "TLS 1.2 and verifies client certificates on its REST port only."),
    client_cert_required_for_nodes=S(True, ("A.5.14", "A.8.5"),
                                     "Node-to-node traffic (control node <-> Node1) is mutually authenticated (seed 000 Phase 2).",
                                     planned="client certificates are issued, but Postgres and the TLS proxy do not "
                                             "require them yet (mTLS between nodes)"),
)

API = Section(
    "api",
    max_body_bytes=S(64 * 1024, ("A.8.6", "A.8.26"),
                     "Request bodies above 64 KiB are refused (413) by the TLS proxy and again by the API: a memory is "
                     "text, and a larger body only spends memory."),
    request_header_timeout_s=S(10, ("A.8.6", "A.8.20"),
                               "A client has 10 s to send its request headers (408 after): slow-header connections "
                               "cannot hold the proxy's connection slots."),
    client_idle_timeout_s=S(30, ("A.8.6", "A.8.20"), "A client connection idle mid-request is closed after 30 s."),
    server_timeout_s=S(30, ("A.8.6",), "The API has 30 s to answer before the proxy gives up on it (504)."),
    keepalive_s=S(5, ("A.8.6", "A.8.20"),
                  "An idle keep-alive connection is closed after 5 s, by the proxy towards clients and by the API "
                  "towards the proxy."),
    max_concurrency=S(64, ("A.8.6",), "The API serves at most 64 connections at once and answers 503 above."),
    hsts=S("max-age=63072000; includeSubDomains", ("A.8.24", "A.8.26"),
           "Browsers keep to HTTPS for two years, on every subdomain too."),
    tenant_token_max_lifetime_s=S(3600, ("A.5.15", "A.8.3", "A.8.5"),
                                  "Every tenant route needs a bearer token: a JWT signed with the stack's Ed25519 "
                                  "key (EdDSA only; the API holds the public key and cannot mint one), audience "
                                  "rae-api, naming the tenant of the path in `sub`, with `iat` and `exp` at most one "
                                  "hour apart. Without one the API answers 401; for another tenant, 403. A stolen "
                                  "token is good for one tenant and one hour."),
)

CONTAINER = Section(
    "container",
    service_users=S({"postgres": (10010, 10010), "qdrant-store": (10020, 10020), "qdrant": (10021, 10021),
                     "rae-api": (10030, 10030), "tls-proxy": (10040, 10040), "backup": (10050, 10050)},
                    ("A.8.2", "A.8.18", "A.8.22"),
                    "Each service runs as a numeric non-root uid and gid of its own (an allow-list: service -> "
                    "uid, gid), and its data directory and secret files belong to it alone: a breakout does not start "
                    "as root on the host, and a compromised service cannot read another's keys or files. The images' "
                    "USER is their service's; `backup` owns the backup job's files (the job runs on the host, not in "
                    "a container)."),
    read_only_rootfs=S(True, ("A.8.9", "A.8.19"), "An attacker cannot persist or install tools in the image filesystem."),
    tmpfs=S({"/tmp": "rw,noexec,nosuid,nodev,size=64m", "/run": "rw,noexec,nosuid,nodev,size=16m"},
            ("A.8.9",), "The only writable paths besides declared volumes, small and not executable."),
    cap_drop=S(("ALL",), ("A.8.2", "A.8.18"), "Every Linux capability is dropped; none is added back."),
    cap_add_allowed=S((), ("A.8.2",), "No capability may be added back to a hardened container."),
    security_opts=S(("no-new-privileges:true",), ("A.8.2",), "setuid binaries cannot raise privileges."),
    forbidden_security_opts=S(("seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined", "apparmor:unconfined",
                               "label=disable", "label:disable"),
                              ("A.8.9", "A.8.2"), "The default seccomp/AppArmor profiles stay on."),
    memory_mb_default=S(512, ("A.8.6",), "A memory ceiling keeps one service from starving the host."),
    memory_mb_max=S(8192, ("A.8.6",), "No container may claim more than this without a baseline change."),
    pids_limit=S(256, ("A.8.6",), "Fork bombs stop at the per-container pids limit (components.pids_limit: "
                                  "pulumi-docker has no input, dockerd 20.10 no daemon default)."),
    healthcheck_required=S(True, ("A.8.16",), "Every container reports health; an unhealthy service is visible."),
    bind_addresses=S(("127.0.0.1",), ("A.8.20", "A.8.22"),
                     "Published ports bind to declared addresses only, never 0.0.0.0 (Tailscale address on Node1)."),
    restart=S("unless-stopped", ("A.8.14",), "A crashed service comes back; an operator's stop is respected."),
    log_driver=S("json-file", ("A.8.15",), "Logs stay on the host where the journal/agent ships them."),
    log_opts=S({"max-size": "10m", "max-file": "5"}, ("A.8.15", "A.8.6"), "Rotated logs: no disk exhaustion."),
    image_pinning=S("digest-or-id", ("A.8.19", "A.8.32", "A.5.21"),
                    "An image is referenced by sha256 id or digest, never by a mutable tag."),
    cloud_run_binary_authorization=S(True, ("A.8.19", "A.8.32", "A.5.21"),
                                     "A Cloud Run service, job or worker pool deploys only images that a Binary "
                                     "Authorization policy admits (v2: binaryAuthorization.useDefault = true or a "
                                     "named policy; v1: the "
                                     "run.googleapis.com/binary-authorization annotation, 'default' or a policy "
                                     "name): an image that did not come through the attested build and review is "
                                     "refused at deploy, not found afterwards. Unset, any image runs. A breakglass "
                                     "justification (v2 binaryAuthorization.breakglassJustification, v1 the "
                                     "run.googleapis.com/binary-authorization-breakglass annotation) deploys around "
                                     "the policy and is never set. What the policy admits is the project's Binary "
                                     "Authorization policy, judged by the binary_authorization_* settings below."),
    cloud_run_default_policy_declared=S(
        True, ("A.8.19", "A.8.32", "A.5.21"),
        "A Cloud Run workload that names the project's default Binary Authorization policy (v2 "
        "binaryAuthorization.useDefault, v1 the annotation 'default') is admitted by whatever that policy is, and a "
        "project whose policy nobody declared has Google's default, which admits every image. So the program that "
        "declares the workload declares its project's policy too (gcp.binaryauthorization.Policy, judged by the "
        "binary_authorization_* settings below): a default rule that admits every image fails, one that denies or "
        "requires attestation holds, and a policy the program does not declare, or a project it does not name, "
        "is unknown, never passed."),
    binary_authorization_evaluation_modes=S(
        ("REQUIRE_ATTESTATION", "ALWAYS_DENY"), ("A.8.19", "A.8.32", "A.5.21"),
        "The project's Binary Authorization policy admits no image by default: its default admission rule (and any "
        "per-cluster rule) requires attestation by at least one attestor or denies; ALWAYS_ALLOW makes every "
        "service's binary authorization setting admit any image."),
    binary_authorization_enforcement_mode=S(
        "ENFORCED_BLOCK_AND_AUDIT_LOG", ("A.8.19", "A.8.32", "A.5.21"),
        "An image the policy refuses is blocked and the refusal logged; DRYRUN_AUDIT_LOG_ONLY only logs it and lets "
        "it run."),
    binary_authorization_global_evaluation=S(
        "ENABLE", ("A.8.19", "A.5.21"),
        "Google's system images are admitted by Google's maintained global policy, so the project's allowlist needs "
        "no broad pattern for them (unset is disabled)."),
    binary_authorization_allowlist=S(
        "project-artifact-registry", ("A.8.19", "A.8.32", "A.5.21"),
        "An allowlist pattern exempts the images it matches from every admission rule, so a pattern names one "
        "repository of the project's own Artifact Registry (<location>-docker.pkg.dev/<the policy's project>/"
        "<repository>/..., no wildcard before the image name), where only the project's build pipeline pushes; "
        "never another registry, project or a wildcard repository."),
    forbidden_mounts=S(("/var/run/docker.sock", "/run/docker.sock", "/", "/etc", "/proc", "/sys", "/dev"),
                       ("A.8.2", "A.8.18"), "Host control sockets and system trees are never mounted."),
    host_namespaces_allowed=S(False, ("A.8.22", "A.8.2"),
                              "No host or `container:` network, pid, ipc, uts, userns or cgroup namespace."),
    cgroupns_mode=S("private", ("A.8.22", "A.8.2"),
                    "Every container has a cgroup namespace of its own, set explicitly: the engine's default on "
                    "cgroup v1 hosts is the host's, so an unset mode is judged as the host's."),
    publish_all_ports=S(False, ("A.8.20", "A.8.22"),
                        "Never publish every exposed port (random host ports on every interface)."),
    privileged_allowed=S(False, ("A.8.2", "A.8.18"), "Privileged mode is never allowed."),
    host_roots=S(("/srv/data",), ("A.8.2", "A.8.18"),
                 "Host paths (bind mounts, volume devices) only under the declared data and secret roots; Node1's "
                 "is the LUKS mount /srv/data, a stack declares its own with rae:dataRoot."),
    tmpfs_options_required=S(("noexec", "nosuid", "nodev"), ("A.8.9",),
                             "Writable scratch space cannot hold executables, setuid files or device nodes."),
    group_add_allowed=S((), ("A.8.2",), "No supplementary group: a group like docker or disk is host access."),
    devices_allowed=S((), ("A.8.2", "A.8.18"), "No host device is passed into a hardened container."),
    runtimes_allowed=S(("runc",), ("A.8.9", "A.8.19"),
                       "The engine's default runtime, the one the seccomp/AppArmor defaults were proven with."),
    sysctls_allowed=S((), ("A.8.9", "A.8.22"), "No namespaced kernel parameter is changed from the engine default."),
    security_opt_keys_allowed=S(("no-new-privileges",), ("A.8.2", "A.8.9"),
                                "Security options are an allow-list: any other key (seccomp, apparmor, label, "
                                "systempaths) can only replace or disable the default confinement."),
)

KMS = Section(
    "kms",
    rotation_period_seconds=S(7776000, ("A.8.24",), "Customer-managed keys rotate at least every 90 days."),
    algorithm=S("GOOGLE_SYMMETRIC_ENCRYPTION", ("A.8.24",), "AES-256-GCM envelope keys."),
    protection_level=S("SOFTWARE", ("A.8.24",), "Raise to HSM where the risk treatment plan asks."),
    destroy_scheduled_duration=S("2592000s", ("A.8.10", "A.8.13"), "A destroyed key version can be restored for 30 days."),
    prevent_destroy=S(True, ("A.8.13",), "Key rings and keys are protected from accidental deletion."),
    cmek_required=S(True, ("A.8.24",), "Data at rest in Cloud SQL, Cloud Storage and Secret Manager is encrypted with a "
                                       "customer-managed key: its custody, rotation and destruction stay ours "
                                       "(seed 000 Phase 3)."),
)

SECRETS = Section(
    "secrets",
    length=S(40, ("A.5.17", "A.8.24"), "Generated passwords and API keys: 40 characters from a CSPRNG."),
    file_mode=S(0o400, ("A.5.17", "A.8.3"), "Secrets reach containers as read-only files owned by the service uid."),
    delivery=S("file", ("A.5.17", "A.8.12"), "Never environment variables, command lines or logs."),
    forbidden_env_markers=S(("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"),
                            ("A.5.17", "A.8.12"),
                            "Environment variables with these names are rejected unless they end in _FILE."),
)

IDENTITY = Section(
    "identity",
    one_account_per_service=S(True, ("A.5.15", "A.5.18", "A.8.2"), "Each service has its own identity."),
    forbidden_roles=S(("roles/owner", "roles/editor", "roles/viewer", "roles/iam.serviceAccountTokenCreator",
                       "roles/iam.serviceAccountKeyAdmin", "roles/iam.serviceAccountUser"),
                      ("A.5.15", "A.8.2"), "Basic roles and impersonation roles are never granted."),
    grant_scope=S("resource", ("A.5.15", "A.5.18"), "Roles are bound on the key, secret or bucket, not the project."),
    account_keys_allowed=S(False, ("A.5.17", "A.8.5"), "No long-lived service account keys (seed 002 A.10.1.2)."),
    public_members_allowed=S(False, ("A.5.15", "A.8.3"),
                             "allUsers and allAuthenticatedUsers are never granted a role on any resource (a key "
                             "anyone may use to decrypt is no key)."),
    ci_federation=S("workload-identity", ("A.5.17", "A.8.5"),
                    "CI authenticates by Workload Identity Federation pinned to its repository's assertion.sub."),
    member_kinds_allowed=S(("serviceAccount:", "user:", "group:", "principal://", "principalSet://"),
                           ("A.5.15", "A.5.16", "A.8.2"),
                           "A role is granted only to a named identity (an allow-list of member kinds): allUsers, "
                           "allAuthenticatedUsers, a whole domain and the project-role convenience members "
                           "(projectOwner:, projectEditor:, projectViewer:) are never members of a grant."),
)

NETWORK = Section(
    "network",
    database_public_ip=S(False, ("A.8.20", "A.8.22"), "Databases have private addresses only."),
    cloud_run_ingress=S("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", ("A.8.20", "A.8.22"),
                        "Cloud Run is reached only through the TLS 1.3 load balancer."),
    cloud_run_ingresses_allowed=S(("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY"),
                                  ("A.8.20", "A.8.22"),
                                  "A Cloud Run service (v2 ingress, or v1's run.googleapis.com/ingress annotation "
                                  "'internal-and-cloud-load-balancing' / 'internal') is never reachable from the "
                                  "internet directly; unset means INGRESS_TRAFFIC_ALL."),
    cloud_run_invoker_check_off_ingresses=S(
        ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",), ("A.5.15", "A.8.20", "A.8.22"),
        "A Cloud Run service answers only callers IAM lets invoke it (run.routes.invoke) unless its invoker check is "
        "off (v2 invokerIamDisabled, v1 the annotation run.googleapis.com/invoker-iam-disabled). An external "
        "HTTPS load balancer forwards its clients' requests without an IAM identity, so a service behind it must "
        "either grant allUsers the invoker role (never: IDENTITY.member_kinds_allowed) or turn the check off; it is "
        "off only where the service's ingress is in this allow-list, so the load balancer (its TLS 1.3 policy and "
        "logs) is the only way in from outside, and the service authenticates its callers itself (the API: mTLS "
        "and tenant tokens). With ingress INGRESS_TRAFFIC_ALL anyone on the internet invokes it; with "
        "INGRESS_TRAFFIC_INTERNAL_ONLY no load balancer needs it off. Unset is on."),
    docker_internal_network=S(True, ("A.8.22",), "Backends sit on an internal Docker network without egress."),
    internet_ingress_allowed=S(False, ("A.8.20", "A.8.22"),
                               "No firewall rule admits the whole internet: clients reach the load balancer, whose "
                               "front end is Google's, never a VM port (SSH and databases least of all)."),
    ingress_sources_allowed=S(("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "35.191.0.0/16", "130.211.0.0/22"),
                              ("A.8.20", "A.8.22"),
                              "An ingress rule admits only private ranges and Google's load balancer and health "
                              "check ranges (an allow-list: any other range is the internet, however it is split)."),
)

COMPUTE = Section(
    "compute",
    shielded_vm=S(("enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring"), ("A.8.9", "A.8.7"),
                  "Shielded VM: secure boot refuses unsigned boot code, the vTPM measures the boot and integrity "
                  "monitoring reports a changed measurement (secure boot must be set; vTPM and integrity monitoring "
                  "default on and must not be turned off)."),
    external_ip_allowed=S(False, ("A.8.20", "A.8.22"),
                          "VMs and instance templates have no external address (no accessConfigs or "
                          "ipv6AccessConfigs): they are reached over IAP or the VPC only."),
    os_login=S(True, ("A.8.5", "A.5.16", "A.8.2"),
               "metadata enable-oslogin = TRUE: SSH access is an IAM grant to a named identity, revoked with it."),
    block_project_ssh_keys=S(True, ("A.8.5", "A.5.15"),
                             "metadata block-project-ssh-keys = TRUE: a key added to project metadata does not open "
                             "every VM of the project."),
    serial_port_allowed=S(False, ("A.8.5", "A.8.20"),
                          "metadata serial-port-enable is never true: the interactive serial console is a way in that "
                          "bypasses the VPC's firewall."),
    ip_forwarding_allowed=S(False, ("A.8.20", "A.8.22"),
                            "canIpForward is never true: a VM does not route traffic for other addresses (it would "
                            "bypass the firewall rules that name it)."),
)

STORAGE = Section(
    "storage",
    uniform_bucket_level_access=S(True, ("A.5.15", "A.5.18"),
                                  "Object ACLs bypass IAM review; uniform bucket-level access keeps one place to "
                                  "grant and audit."),
    public_access_prevention=S(("enforced",), ("A.8.20", "A.8.22"),
                               "Buckets are never reachable from the internet: public access prevention is enforced "
                               "(an allow-list of one: 'inherited' and unset defer to an organization policy the "
                               "program does not show)."),
    versioning=S(True, ("A.8.13", "A.8.14"), "An overwritten or deleted object stays recoverable as a noncurrent "
                                             "version."),
)

_PGAUDIT_LOG = "ddl,role,write"

DATABASE = Section(
    "database",
    engine_version=S("POSTGRES_15", ("A.8.8",), "A supported major version."),
    password_encryption=S("scram-sha-256", ("A.8.5", "A.8.24"), "MD5 password hashes are refused."),
    ssl_min_protocol_version=S("TLSv1.3", ("A.8.24", "A.5.14"), "Postgres speaks TLS 1.3 only."),
    reject_non_tls=S(True, ("A.8.24", "A.5.14"), "pg_hba: hostnossl ... reject before any host rule."),
    gcp_ssl_mode=S("TRUSTED_CLIENT_CERTIFICATE_REQUIRED", ("A.8.24", "A.8.5"),
                   "Cloud SQL has no TLS-version knob: client certificates are required instead."),
    gcp_server_ca_mode=S(("GOOGLE_MANAGED_CAS_CA", "CUSTOMER_MANAGED_CAS_CA"), ("A.8.24", "A.8.20", "A.8.21"),
                         "Cloud SQL's server certificate is issued from a Certificate Authority Service pool (an "
                         "allow-list: Google's regional pool, or our own named in serverCaPool): the CA is rotated "
                         "and pinned per pool, CAS keeps its own audit logs, and the certificate names the instance's "
                         "DNS name, so clients verify the server by name (sslmode=verify-full). The per-instance "
                         "GOOGLE_MANAGED_INTERNAL_CA, which an unset mode means, is none of that. The components "
                         "set the first unless given a pool of our own."),
    log_flags=S({
        "log_checkpoints": "on",
        "log_connections": "on",
        "log_disconnections": "on",
        "log_lock_waits": "on",
        "log_min_messages": "warning",
        "log_min_error_statement": "error",
        "log_min_duration_statement": "-1",
        "log_statement": "ddl",
        "log_temp_files": "0",
        # Reverse DNS on every connection stalls logins where resolvers are unreachable (the local edge network
        # has no egress); client addresses are logged either way. Cloud SQL resolves inside Google: on there.
        "log_hostname": "off",
    }, ("A.8.15", "A.8.16"), "The CIS PostgreSQL/Cloud SQL logging flags."),
    pgaudit_log=S(_PGAUDIT_LOG, ("A.8.15", "A.8.16"),
                  "pgaudit records DDL, role changes and writes (statement text, never parameter values) on every "
                  "target: the local image preloads Debian's postgresql-15-pgaudit, Cloud SQL has its flag."),
    gcp_extra_flags=S({"cloudsql.enable_pgaudit": "on", "pgaudit.log": _PGAUDIT_LOG, "log_duration": "on",
                       "log_hostname": "on"},
                      ("A.8.15",), "pgaudit records DDL, role changes and writes on Cloud SQL."),
    superuser_local_only=S(True, ("A.8.2", "A.8.5", "A.5.15"),
                           "The superuser logs in over the local socket only (peer), never over the network."),
    audit_chain=S("sha256", ("A.8.15", "A.5.28", "A.5.33"),
                  "Each audit row carries sha256(previous row's hash || its fields): a deleted or altered row breaks "
                  "the chain that audit_log_verify() recomputes, even when a superuser removed it."),
    app_access=S("security-definer-functions", ("A.5.15", "A.5.18", "A.8.3", "A.8.15"),
                 "The application role reads and writes memories only through functions that take the tenant, "
                 "enforce it and append the audit row (seed 000 Phase 4)."),
    pgaudit_class_stakes=S({
        "read": ("logs every SELECT and COPY with its statement text, which copies memory contents into Cloud Logging",
                 ("A.8.11", "A.8.12", "A.5.34")),
        "all": ("logs every class, reads included: statement text copies memory contents into Cloud Logging",
                ("A.8.11", "A.8.12", "A.5.34")),
        "misc": ("logs DISCARD, FETCH, CHECKPOINT and VACUUM: volume that buries the audit trail", ("A.8.15",)),
        "ddl": ("schema changes would go unrecorded", ("A.8.15", "A.8.32")),
        "role": ("grants and role changes would go unrecorded", ("A.8.15", "A.5.18")),
        "write": ("INSERT, UPDATE and DELETE of memories would go unrecorded", ("A.8.15",)),
    }, ("A.8.15", "A.8.11"), "What adding or removing a pgaudit.log class puts at stake, so a finding names it."),
    audit_log_table=S("audit_log", ("A.8.15", "A.5.28", "A.5.33"),
                      "Append-only: no UPDATE, DELETE or TRUNCATE for any application role (seed 000 Phase 4)."),
    tenant_column=S("tenant_id", ("A.5.15", "A.8.3"), "Row-level security isolates tenants (seed 000 Phase 2, SEC-02)."),
    deletion_protection=S(True, ("A.8.13",), "A database cannot be destroyed by a stray `pulumi destroy`."),
)

BACKUP = Section(
    "backup",
    retention_days=S(35, ("A.8.13", "A.8.10"), "Daily backups kept 35 days (`harden backup forget` weekly; the append-only "
                                                "off-site copy is pruned by its own operator)."),
    retained_backups=S(35, ("A.8.13",), "Cloud SQL keeps this many automated backups."),
    point_in_time_recovery=S(True, ("A.8.13",), "Transaction logs allow recovery to any point in the window."),
    transaction_log_retention_days=S(7, ("A.8.13",), "Cloud SQL's maximum PITR window."),
    start_time=S("02:00", ("A.8.13",), "Backups run in the quiet hours (UTC)."),
    bucket_retention_days=S(35, ("A.8.13", "A.5.33"), "Objects in the backup bucket cannot be deleted for 35 days."),
    encryption=S("restic", ("A.8.24", "A.8.13"),
                 "Backups are written by restic: AES-256-CTR with Poly1305-AES authentication, keys derived with "
                 "scrypt; a tampered or truncated pack is refused on read, never restored."),
    copies=S(3, ("A.8.13", "A.8.14"), "3-2-1: three copies, two media, one off-site (seed 000 Phase 4)."),
    offsite_append_only=S(True, ("A.8.13", "A.5.33"),
                          "The off-site repository is served append-only: the backed-up host's credentials can add "
                          "snapshots but cannot delete or rewrite them (a root compromise cannot erase the history)."),
    bucket_retention_locked=S(True, ("A.8.13", "A.5.33"),
                              "The gcp backup bucket's retention policy is locked: nobody, not even the project "
                              "owner, can shorten it or delete objects before it ends."),
    rpo_hours=S(26, ("A.8.13", "A.5.30"),
                "Recovery point objective: the newest good backup of each data set is at most 26 h old (daily runs "
                "plus slack for one late run)."),
    rto_minutes=S(60, ("A.8.13", "A.5.30"),
                  "Recovery time objective: a restore drill brings the latest snapshot back and verifies it within "
                  "60 min."),
    drill_interval_days=S(7, ("A.8.13", "A.5.30"), "A restore drill runs at least weekly; an older last drill fails."),
    check_read_data_subset=S("5%", ("A.8.13",),
                             "`restic check --read-data-subset` reads this share of the packs on each check run, so "
                             "silent corruption of stored data is found without reading the whole repository daily."),
    restore_verified=S(True, ("A.8.13", "A.5.30"), "Every backup is restored once and compared."),
    snapshot_token_warn_days=S(14, ("A.8.13", "A.5.17"),
                               "The Qdrant snapshot token (a JWT that expires) is renewed before its last 14 days: a "
                               "token expiring within them fails the backup evidence, one that cannot be read is "
                               "unknown (`harden backup qdrant-token --renew-if-within 14` renews it on a timer)."),
)
