"""Rules on raw pulumi-gcp resources (whether or not a component created them), read against the baseline."""

from baseline import BACKUP, DATABASE, IDENTITY, KMS, NETWORK, TLS
import posture.network as network
from policies.rules import ResourceRule, as_list, dig

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
DISK = "gcp:compute/disk:Disk"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
CLOUD_RUN = "gcp:cloudrunv2/service:Service"
SECRET = "gcp:secretmanager/secret:Secret"
BUCKET = "gcp:storage/bucket:Bucket"
ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
WIF_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
INSTANCE = "gcp:compute/instance:Instance"
PROJECT_IAM = ("gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding",
               "gcp:organizations/iAMMember:IAMMember", "gcp:organizations/iAMBinding:IAMBinding",
               "gcp:folder/iAMMember:IAMMember", "gcp:folder/iAMBinding:IAMBinding")
RESOURCE_IAM = ("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding",
                "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
                "gcp:kms/keyRingIAMMember:KeyRingIAMMember", "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding",
                "gcp:secretmanager/secretIamMember:SecretIamMember",
                "gcp:secretmanager/secretIamBinding:SecretIamBinding",
                "gcp:serviceaccount/iAMMember:IAMMember", "gcp:serviceaccount/iAMBinding:IAMBinding",
                "gcp:cloudrunv2/serviceIamMember:ServiceIamMember",
                "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding")
_DAY = 24 * 3600


def _seconds(duration) -> float | None:
    """'7776000s' or 7776000 -> seconds; None when absent or unreadable."""
    try:
        return float(str(duration).removesuffix("s"))
    except ValueError:
        return None


def sql_cmek(props):
    if not props.get("encryptionKeyName"):
        yield "encryptionKeyName is not set: Google-managed keys only"


def sql_ssl_mode(props):
    mode = dig(props, "settings", "ipConfiguration", "sslMode")
    if mode != DATABASE.gcp_ssl_mode:
        yield f"settings.ipConfiguration.sslMode is {mode!r}, the baseline requires {DATABASE.gcp_ssl_mode!r}"


def sql_private_only(props):
    if dig(props, "settings", "ipConfiguration", "ipv4Enabled") is not NETWORK.database_public_ip:
        yield "settings.ipConfiguration.ipv4Enabled is not False: the instance gets a public IP"


def sql_backups(props):
    backup = dig(props, "settings", "backupConfiguration") or {}
    retained = dig(backup, "backupRetentionSettings", "retainedBackups")
    if backup.get("enabled") is not True:
        yield "settings.backupConfiguration.enabled is not True"
    elif retained is not None and retained < BACKUP.retained_backups:
        yield f"retainedBackups is {retained}, the baseline keeps {BACKUP.retained_backups}"


def sql_pitr(props):
    if dig(props, "settings", "backupConfiguration", "pointInTimeRecoveryEnabled") is not BACKUP.point_in_time_recovery:
        yield "settings.backupConfiguration.pointInTimeRecoveryEnabled is not True"


def sql_deletion_protection(props):
    # The provider's deletionProtection defaults to true; only an explicit False weakens it.
    if props.get("deletionProtection") is False:
        yield "deletionProtection is False"
    if dig(props, "settings", "deletionProtectionEnabled") is not DATABASE.deletion_protection:
        yield "settings.deletionProtectionEnabled is not True"


def _classes(value: str) -> set[str]:
    return {part.strip().lower() for part in str(value).split(",") if part.strip()}


def pgaudit_stakes(value: str) -> list[str]:
    """What a pgaudit.log value other than the baseline's puts at stake, class by class."""
    wanted, got = _classes(DATABASE.gcp_extra_flags["pgaudit.log"]), _classes(value)
    if "all" in got:
        got = (got - {"all"}) | wanted | {"all"}
    stakes = DATABASE.pgaudit_class_stakes
    found = []
    for added in sorted(got - wanted):
        effect, controls = stakes.get(added.lstrip("-"), ("is not in the baseline and no review recorded what it "
                                                          "logs", ("A.8.15",)))
        found.append(f"pgaudit.log = {value!r} adds {added!r}: {effect} [{', '.join(controls)}]")
    for removed in sorted(wanted - got):
        effect, controls = stakes[removed]
        found.append(f"pgaudit.log = {value!r} drops {removed!r}: {effect} [{', '.join(controls)}]")
    return found


def sql_flags(props):
    flags = {flag.get("name"): str(flag.get("value")) for flag in as_list(dig(props, "settings", "databaseFlags"))}
    wanted = DATABASE.log_flags | DATABASE.gcp_extra_flags
    missing = sorted(name for name in wanted if name not in flags)
    if missing:
        yield f"database flags {missing} are missing: {DATABASE.setting('log_flags').why}"
    for name, value in sorted(wanted.items()):
        if name in flags and flags[name] != value:
            if name == "pgaudit.log":
                yield from pgaudit_stakes(flags[name])
            else:
                yield (f"{name} = {flags[name]!r} instead of {value!r}: "
                       f"{(DATABASE.setting('log_flags') if name in DATABASE.log_flags else DATABASE.setting('gcp_extra_flags')).why}")


def key_rotation(props):
    period = _seconds(props.get("rotationPeriod"))
    if period is None or period > KMS.rotation_period_seconds:
        yield f"rotationPeriod is {props.get('rotationPeriod')!r}, at most {KMS.rotation_period_seconds}s is allowed"


def disk_cmek(props):
    if not dig(props, "diskEncryptionKey", "kmsKeySelfLink"):
        yield "diskEncryptionKey.kmsKeySelfLink is not set"


def ssl_policy(props):
    if props.get("profile") != TLS.gcp_ssl_policy_profile:
        yield f"profile is {props.get('profile')!r}, not {TLS.gcp_ssl_policy_profile!r}"
    if props.get("minTlsVersion") != TLS.gcp_min_tls_version:
        yield f"minTlsVersion is {props.get('minTlsVersion')!r}, not {TLS.gcp_min_tls_version!r}"


def cloud_run_ingress(props):
    if props.get("ingress") != NETWORK.cloud_run_ingress:
        yield f"ingress is {props.get('ingress')!r}, not {NETWORK.cloud_run_ingress!r}"


def secret_cmek(props):
    replication = props.get("replication") or {}
    auto_key = dig(replication, "auto", "customerManagedEncryption", "kmsKeyName")
    replicas = as_list(dig(replication, "userManaged", "replicas"))
    replica_keys = [dig(replica, "customerManagedEncryption", "kmsKeyName") for replica in replicas]
    if not (auto_key or (replica_keys and all(replica_keys))):
        yield "replication has no customerManagedEncryption.kmsKeyName"


def bucket_cmek(props):
    if not dig(props, "encryption", "defaultKmsKeyName"):
        yield "encryption.defaultKmsKeyName is not set"


def bucket_versioning(props):
    if dig(props, "versioning", "enabled") is not True:
        yield "versioning.enabled is not True"


def bucket_retention(props):
    period = _seconds(dig(props, "retentionPolicy", "retentionPeriod"))
    if period is None or period < BACKUP.bucket_retention_days * _DAY:
        yield f"retentionPolicy.retentionPeriod is shorter than {BACKUP.bucket_retention_days} days"


def bucket_retention_locked(props):
    if dig(props, "retentionPolicy", "isLocked") is not BACKUP.bucket_retention_locked:
        yield "retentionPolicy.isLocked is not True: the retention can be shortened or removed"


def bucket_uniform_access(props):
    if props.get("uniformBucketLevelAccess") is not True:
        yield "uniformBucketLevelAccess is not True"


def bucket_public_prevention(props):
    if props.get("publicAccessPrevention") != "enforced":
        yield f"publicAccessPrevention is {props.get('publicAccessPrevention')!r}, not 'enforced'"


def _members(props) -> list[str]:
    return [str(member) for member in as_list(props.get("member")) + as_list(props.get("members"))]


def no_forbidden_roles(props):
    if props.get("role") in IDENTITY.forbidden_roles:
        yield f"role {props.get('role')} is a basic or impersonation role"


def no_project_grant_to_service_account(props):
    accounts = [member for member in _members(props) if member.startswith("serviceAccount:")]
    if accounts and IDENTITY.grant_scope == "resource":
        yield f"role {props.get('role')} is granted to {accounts} on the whole project/folder/organization"


def no_account_keys(props):
    if not IDENTITY.account_keys_allowed:
        yield "a service account key is a long-lived credential"


def pinned_federation(props):
    condition = str(props.get("attributeCondition") or "")
    if not any(f"assertion.{claim} ==" in condition.replace("  ", " ") for claim in ("sub", "repository")):
        yield f"attributeCondition {condition!r} does not pin assertion.sub or assertion.repository"


def vm_no_external_ip(props):
    if any(as_list(interface.get("accessConfigs")) for interface in as_list(props.get("networkInterfaces"))):
        yield "networkInterfaces[].accessConfigs gives the VM an external IP"


def vm_shielded(props):
    shielded = props.get("shieldedInstanceConfig") or {}
    if shielded.get("enableSecureBoot") is not True:
        yield "shieldedInstanceConfig.enableSecureBoot is not True"
    weakened = [key for key in ("enableVtpm", "enableIntegrityMonitoring") if shielded.get(key) is False]
    if weakened:
        yield f"shieldedInstanceConfig {weakened} turned off"


def vm_boot_disk_cmek(props):
    if not dig(props, "bootDisk", "kmsKeySelfLink"):
        yield "bootDisk.kmsKeySelfLink is not set"


FIREWALL = "gcp:compute/firewall:Firewall"
# Every pulumi-gcp IAM member/binding type, whatever its module (storage, kms, secretmanager, run, ...).
IAM_FAMILY = r"gcp:[A-Za-z0-9]+/[A-Za-z0-9]*(IAM|Iam)(Member|Binding):[A-Za-z0-9]*(IAM|Iam)(Member|Binding)"


def no_internet_ingress(props):
    for _name, _requirement, message in network.judge(network.from_pulumi("firewall", props), "RAE-NET-001"):
        yield message


def no_public_members(props):
    public = [m for m in _members(props) if m in ("allUsers", "allAuthenticatedUsers")]
    if public and not IDENTITY.public_members_allowed:
        yield f"role {props.get('role')} is granted to {public}: anyone with (or without) a Google account"


RULES = tuple(ResourceRule(rule_id, types, check) for rule_id, types, check in (
    ("RAE-SQL-001", (SQL,), sql_cmek),
    ("RAE-SQL-002", (SQL,), sql_ssl_mode),
    ("RAE-SQL-003", (SQL,), sql_private_only),
    ("RAE-SQL-004", (SQL,), sql_backups),
    ("RAE-SQL-005", (SQL,), sql_pitr),
    ("RAE-SQL-006", (SQL,), sql_deletion_protection),
    ("RAE-SQL-007", (SQL,), sql_flags),
    ("RAE-KMS-001", (CRYPTO_KEY,), key_rotation),
    ("RAE-DSK-001", (DISK,), disk_cmek),
    ("RAE-TLS-001", (SSL_POLICY,), ssl_policy),
    ("RAE-RUN-001", (CLOUD_RUN,), cloud_run_ingress),
    ("RAE-SEC-001", (SECRET,), secret_cmek),
    ("RAE-GCS-001", (BUCKET,), bucket_cmek),
    ("RAE-GCS-002", (BUCKET,), bucket_versioning),
    ("RAE-GCS-003", (BUCKET,), bucket_retention),
    ("RAE-GCS-004", (BUCKET,), bucket_uniform_access),
    ("RAE-GCS-006", (BUCKET,), bucket_retention_locked),
    ("RAE-GCS-005", (BUCKET,), bucket_public_prevention),
    ("RAE-IAM-001", PROJECT_IAM + RESOURCE_IAM, no_forbidden_roles),
    ("RAE-IAM-002", PROJECT_IAM, no_project_grant_to_service_account),
    ("RAE-IAM-003", (ACCOUNT_KEY,), no_account_keys),
    ("RAE-IAM-004", (WIF_PROVIDER,), pinned_federation),
    ("RAE-VM-001", (INSTANCE,), vm_no_external_ip),
    ("RAE-VM-002", (INSTANCE,), vm_shielded),
    ("RAE-VM-003", (INSTANCE,), vm_boot_disk_cmek),
)) + (ResourceRule("RAE-NET-001", (FIREWALL,), no_internet_ingress, per_field=True),
      ResourceRule("RAE-IAM-005", PROJECT_IAM + RESOURCE_IAM, no_public_members, type_pattern=IAM_FAMILY),)
