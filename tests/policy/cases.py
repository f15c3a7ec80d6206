"""Passing and failing properties for every CrossGuard rule: a hardened resource, and the one change that breaks it."""

from baseline import BACKUP, CONTAINER, DATABASE, KMS, NETWORK, SECRETS, TLS

KEY = "projects/p/locations/l/keyRings/r/cryptoKeys/k"
CONTAINER_TYPE = "docker:index/container:Container"

HARDENED = {
    CONTAINER_TYPE: {
        "image": "sha256:" + "a" * 64, "user": "10001:10001", "readOnly": True,
        "capabilities": {"drops": list(CONTAINER.cap_drop)}, "securityOpts": list(CONTAINER.security_opts),
        "memory": CONTAINER.memory_mb_default, "healthcheck": {"tests": ["CMD", "true"]},
        "logOpts": dict(CONTAINER.log_opts), "envs": ["PGPASSWORD_FILE=/run/secrets/pg"],
        "ports": [{"internal": 8443, "external": 8443, "ip": CONTAINER.bind_addresses[0]}],
        "mounts": [{"type": "volume", "source": "data", "target": "/data"}], "restart": CONTAINER.restart,
        "tmpfs": dict(CONTAINER.tmpfs), "cgroupnsMode": CONTAINER.cgroupns_mode, "logDriver": CONTAINER.log_driver,
    },
    "gcp:sql/databaseInstance:DatabaseInstance": {
        "encryptionKeyName": KEY, "deletionProtection": True,
        "settings": {
            "deletionProtectionEnabled": True,
            "ipConfiguration": {"ipv4Enabled": False, "sslMode": DATABASE.gcp_ssl_mode,
                                "serverCaMode": DATABASE.gcp_server_ca_mode[0]},
            "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True, "startTime": BACKUP.start_time,
                                    "transactionLogRetentionDays": BACKUP.transaction_log_retention_days,
                                    "backupRetentionSettings": {"retainedBackups": BACKUP.retained_backups}},
            "databaseFlags": [{"name": k, "value": v} for k, v in (DATABASE.log_flags | DATABASE.gcp_extra_flags).items()],
        },
    },
    "gcp:kms/cryptoKey:CryptoKey": {"rotationPeriod": f"{KMS.rotation_period_seconds}s",
                                    "destroyScheduledDuration": KMS.destroy_scheduled_duration,
                                    "versionTemplate": {"algorithm": KMS.algorithm,
                                                        "protectionLevel": KMS.protection_level}},
    "gcp:kms/keyRing:KeyRing": {"location": "europe-west4"},
    "gcp:compute/disk:Disk": {"diskEncryptionKey": {"kmsKeySelfLink": KEY}},
    "gcp:compute/sSLPolicy:SSLPolicy": {"profile": TLS.gcp_ssl_policy_profile, "minTlsVersion": TLS.gcp_min_tls_version},
    "gcp:binaryauthorization/policy:Policy": {
        "project": "p", "globalPolicyEvaluationMode": CONTAINER.binary_authorization_global_evaluation,
        "defaultAdmissionRule": {"evaluationMode": "ALWAYS_DENY",
                                 "enforcementMode": CONTAINER.binary_authorization_enforcement_mode},
        "admissionWhitelistPatterns": [{"namePattern": "europe-west4-docker.pkg.dev/p/images/*"}],
    },
    "gcp:cloudrunv2/service:Service": {
        "ingress": NETWORK.cloud_run_ingress, "binaryAuthorization": {"useDefault": True},
        "template": {"serviceAccount": "api@p.iam.gserviceaccount.com", "containers": [
            {"image": "api@sha256:" + "b" * 64, "envs": [{"name": "API_KEY_FILE", "value": "/run/secrets/api/value"}]}]},
    },
    "gcp:secretmanager/secret:Secret": {"replication": {"auto": {"customerManagedEncryption": {"kmsKeyName": KEY}}}},
    "random:index/randomPassword:RandomPassword": {"length": float(SECRETS.length), "special": False},
    "gcp:storage/bucket:Bucket": {
        "encryption": {"defaultKmsKeyName": KEY}, "versioning": {"enabled": True},
        "retentionPolicy": {"retentionPeriod": str(BACKUP.bucket_retention_days * 86400), "isLocked": True},
        "uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced",
    },
    "gcp:projects/iAMMember:IAMMember": {"role": "roles/cloudsql.client", "member": "user:ops@example.org"},
    "gcp:serviceaccount/key:Key": None,  # no passing form: keys are forbidden
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": {
        "attributeCondition": "assertion.sub == 'repo:org/repo:ref:refs/heads/main'"},
    "gcp:compute/firewall:Firewall": {"direction": "INGRESS", "sourceRanges": ["35.191.0.0/16", "130.211.0.0/22"],
                                      "allows": [{"protocol": "tcp", "ports": ["8443"]}]},
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": {
        "cryptoKeyId": KEY, "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": "serviceAccount:api@p.iam.gserviceaccount.com"},
    "gcp:compute/instance:Instance": {
        "bootDisk": {"kmsKeySelfLink": KEY}, "networkInterfaces": [{"network": "vpc"}],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableVtpm": True, "enableIntegrityMonitoring": True},
        "serviceAccount": {"email": "qdrant@p.iam.gserviceaccount.com", "scopes": ["cloud-platform"]},
        "metadata": {"enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE"},
    },
}

# rule id -> (resource type, changes that break only this rule)
BREAKING = {
    "RAE-CTR-001": (CONTAINER_TYPE, {"user": "0:0"}),
    "RAE-CTR-002": (CONTAINER_TYPE, {"readOnly": False}),
    "RAE-CTR-003": (CONTAINER_TYPE, {"capabilities": {"drops": ["ALL"], "adds": ["NET_ADMIN"]}}),
    "RAE-CTR-004": (CONTAINER_TYPE, {"securityOpts": [*CONTAINER.security_opts, "apparmor=unconfined"]}),
    "RAE-CTR-005": (CONTAINER_TYPE, {"memory": CONTAINER.memory_mb_max + 1}),
    "RAE-CTR-006": (CONTAINER_TYPE, {"healthcheck": None}),
    "RAE-CTR-007": (CONTAINER_TYPE, {"ports": [{"internal": 8443, "external": 8443}]}),
    "RAE-CTR-008": (CONTAINER_TYPE, {"privileged": True}),
    "RAE-CTR-009": (CONTAINER_TYPE, {"pidMode": "host"}),
    "RAE-CTR-010": (CONTAINER_TYPE, {"mounts": [{"type": "bind", "source": "/run/docker.sock", "target": "/s"}]}),
    "RAE-CTR-011": (CONTAINER_TYPE, {"image": "postgres:15"}),
    "RAE-CTR-012": (CONTAINER_TYPE, {"envs": ["API_KEY=abc"]}),
    "RAE-CTR-013": (CONTAINER_TYPE, {"logOpts": {"max-size": "10m"}}),
    "RAE-CTR-014": (CONTAINER_TYPE, {"devices": [{"hostPath": "/dev/sda"}]}),
    "RAE-CTR-015": (CONTAINER_TYPE, {"runtime": "sysbox-runc"}),
    "RAE-CTR-016": (CONTAINER_TYPE, {"sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"}}),
    "RAE-CTR-017": (CONTAINER_TYPE, {"restart": "no"}),
    "RAE-SQL-001": ("gcp:sql/databaseInstance:DatabaseInstance", {"encryptionKeyName": None}),
    "RAE-SQL-002": ("gcp:sql/databaseInstance:DatabaseInstance", {"settings.ipConfiguration.sslMode": "ENCRYPTED_ONLY"}),
    "RAE-SQL-003": ("gcp:sql/databaseInstance:DatabaseInstance", {"settings.ipConfiguration.ipv4Enabled": True}),
    "RAE-SQL-004": ("gcp:sql/databaseInstance:DatabaseInstance", {"settings.backupConfiguration.enabled": False}),
    "RAE-SQL-005": ("gcp:sql/databaseInstance:DatabaseInstance",
                    {"settings.backupConfiguration.pointInTimeRecoveryEnabled": False}),
    "RAE-SQL-006": ("gcp:sql/databaseInstance:DatabaseInstance", {"deletionProtection": False}),
    "RAE-SQL-007": ("gcp:sql/databaseInstance:DatabaseInstance", {"settings.databaseFlags": []}),
    "RAE-SQL-008": ("gcp:sql/databaseInstance:DatabaseInstance",
                    {"settings.ipConfiguration.serverCaMode": "GOOGLE_MANAGED_INTERNAL_CA"}),
    "RAE-KMS-001": ("gcp:kms/cryptoKey:CryptoKey", {"rotationPeriod": f"{KMS.rotation_period_seconds + 1}s"}),
    "RAE-KMS-002": ("gcp:kms/cryptoKey:CryptoKey", {"destroyScheduledDuration": "86400s"}),
    "RAE-KMS-003": ("gcp:kms/cryptoKey:CryptoKey", {"opts.protect": False}),
    "RAE-DSK-001": ("gcp:compute/disk:Disk", {"diskEncryptionKey": None}),
    "RAE-TLS-001": ("gcp:compute/sSLPolicy:SSLPolicy", {"minTlsVersion": "TLS_1_2"}),
    "RAE-RUN-001": ("gcp:cloudrunv2/service:Service", {"ingress": "INGRESS_TRAFFIC_ALL"}),
    "RAE-SEC-001": ("gcp:secretmanager/secret:Secret", {"replication": {"auto": {}}}),
    "RAE-SEC-002": ("random:index/randomPassword:RandomPassword", {"length": float(SECRETS.length - 1)}),
    "RAE-GCS-001": ("gcp:storage/bucket:Bucket", {"encryption": None}),
    "RAE-GCS-002": ("gcp:storage/bucket:Bucket", {"versioning": {"enabled": False}}),
    "RAE-GCS-003": ("gcp:storage/bucket:Bucket", {"retentionPolicy": {"retentionPeriod": "86400"}}),
    "RAE-GCS-004": ("gcp:storage/bucket:Bucket", {"uniformBucketLevelAccess": False}),
    "RAE-GCS-006": ("gcp:storage/bucket:Bucket", {"retentionPolicy": {
        "retentionPeriod": str(BACKUP.bucket_retention_days * 86400), "isLocked": False}}),
    "RAE-GCS-005": ("gcp:storage/bucket:Bucket", {"publicAccessPrevention": "inherited"}),
    "RAE-IAM-001": ("gcp:projects/iAMMember:IAMMember", {"role": "roles/owner"}),
    "RAE-IAM-002": ("gcp:projects/iAMMember:IAMMember", {"member": "serviceAccount:api@p.iam.gserviceaccount.com"}),
    "RAE-IAM-003": ("gcp:serviceaccount/key:Key", {"serviceAccountId": "api"}),
    "RAE-IAM-004": ("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", {"attributeCondition": "true"}),
    "RAE-NET-001": ("gcp:compute/firewall:Firewall", {"sourceRanges": ["0.0.0.0/0"],
                                                      "allows": [{"protocol": "tcp", "ports": ["22", "5432"]}]}),
    "RAE-IAM-005": ("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", {"member": "allAuthenticatedUsers"}),
    "RAE-VM-001": ("gcp:compute/instance:Instance", {"networkInterfaces": [{"network": "vpc", "accessConfigs": [{}]}]}),
    "RAE-VM-002": ("gcp:compute/instance:Instance", {"shieldedInstanceConfig": {"enableSecureBoot": False}}),
    "RAE-VM-003": ("gcp:compute/instance:Instance", {"bootDisk": {}}),
    "RAE-VM-004": ("gcp:compute/instance:Instance",
                   {"serviceAccount": {"email": "1234-compute@developer.gserviceaccount.com", "scopes": ["cloud-platform"]}}),
    "RAE-VM-005": ("gcp:compute/instance:Instance", {"metadata.enable-oslogin": "FALSE"}),
    "RAE-VM-006": ("gcp:compute/instance:Instance", {"metadata": {"enable-oslogin": "TRUE"}}),
    "RAE-VM-007": ("gcp:compute/instance:Instance", {"metadata.serial-port-enable": "true"}),
    "RAE-VM-008": ("gcp:compute/instance:Instance", {"canIpForward": True}),
    "RAE-RUN-002": ("gcp:cloudrunv2/service:Service", {"template.serviceAccount": None}),
    "RAE-RUN-003": ("gcp:cloudrunv2/service:Service", {"template.containers": [
        {"image": "api@sha256:" + "b" * 64, "envs": [{"name": "DATABASE_PASSWORD", "value": "cases-fake"}]}]}),
    "RAE-RUN-004": ("gcp:cloudrunv2/service:Service", {"binaryAuthorization": None}),
    # Internal-only ingress passes RAE-RUN-001, but no load balancer needs the invoker check off there.
    "RAE-RUN-006": ("gcp:cloudrunv2/service:Service", {"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY",
                                                       "invokerIamDisabled": True}),
    "RAE-BIN-001": ("gcp:binaryauthorization/policy:Policy", {"defaultAdmissionRule.evaluationMode": "ALWAYS_ALLOW"}),
    "RAE-BIN-002": ("gcp:binaryauthorization/policy:Policy",
                    {"defaultAdmissionRule.enforcementMode": "DRYRUN_AUDIT_LOG_ONLY"}),
    "RAE-BIN-003": ("gcp:binaryauthorization/policy:Policy", {"globalPolicyEvaluationMode": "DISABLE"}),
    "RAE-BIN-004": ("gcp:binaryauthorization/policy:Policy",
                    {"admissionWhitelistPatterns": [{"namePattern": "docker.io/*"}]}),
}


# The resource options (not inputs) every hardened resource is declared with; a change keyed "opts.<name>" in
# BREAKING reaches these instead of the inputs (split_options).
OPTIONS = {"protect": True}


def split_options(changes: dict) -> tuple[dict, dict]:
    """(changes to the inputs, OPTIONS with the "opts." changes applied)."""
    options = {**OPTIONS, **{key[len("opts."):]: value for key, value in changes.items() if key.startswith("opts.")}}
    return {key: value for key, value in changes.items() if not key.startswith("opts.")}, options


def broken(resource_type: str, changes: dict) -> dict:
    """HARDENED[resource_type] with `changes` applied (dotted keys reach into nested objects)."""
    return with_changes(HARDENED[resource_type] or {}, changes)


def with_changes(hardened: dict, changes: dict) -> dict:
    """A deep copy of `hardened` with `changes` applied (dotted keys reach into nested objects)."""
    import copy
    props = copy.deepcopy(hardened)
    for dotted, value in changes.items():
        *path, last = dotted.split(".")
        target = props
        for step in path:
            target = target[step]
        target[last] = value
    return props
