"""Rules on raw pulumi-gcp resources (whether or not a component created them), read against the baseline."""

from baseline import IDENTITY, NETWORK, TLS
import posture.bucket as bucket
import posture.database as database
import posture.key as key
import posture.secret as secret
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


def _model_rule(model, rule_id: str):
    """A rule that asks a posture model (bucket, database, key, secret): the model states the requirement and
    decides, field by field, what it could not see."""
    def check(props):
        for _name, _requirement, message in model.judge(model.from_pulumi(str(props.get("name") or ""), props),
                                                        rule_id):
            yield message
    check.__name__ = f"{model.__name__.rsplit('.', 1)[-1]}_{rule_id.lower().replace('-', '_')}"
    return check


def sql_flags(props):
    """RAE-SQL-007 on raw properties (posture.database states it)."""
    return _model_rule(database, "RAE-SQL-007")(props)


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
    ("RAE-DSK-001", (DISK,), disk_cmek),
    ("RAE-TLS-001", (SSL_POLICY,), ssl_policy),
    ("RAE-RUN-001", (CLOUD_RUN,), cloud_run_ingress),
    ("RAE-IAM-001", PROJECT_IAM + RESOURCE_IAM, no_forbidden_roles),
    ("RAE-IAM-002", PROJECT_IAM, no_project_grant_to_service_account),
    ("RAE-IAM-003", (ACCOUNT_KEY,), no_account_keys),
    ("RAE-IAM-004", (WIF_PROVIDER,), pinned_federation),
    ("RAE-VM-001", (INSTANCE,), vm_no_external_ip),
    ("RAE-VM-002", (INSTANCE,), vm_shielded),
    ("RAE-VM-003", (INSTANCE,), vm_boot_disk_cmek),
)) + (ResourceRule("RAE-NET-001", (FIREWALL,), no_internet_ingress, per_field=True),
      *(ResourceRule(rule_id, (SQL,), _model_rule(database, rule_id), per_field=True) for rule_id in database.RULE_IDS),
      *(ResourceRule(rule_id, (BUCKET,), _model_rule(bucket, rule_id), per_field=True) for rule_id in bucket.RULE_IDS),
      *(ResourceRule(rule_id, (CRYPTO_KEY,), _model_rule(key, rule_id), per_field=True) for rule_id in key.RULE_IDS),
      *(ResourceRule(rule_id, (SECRET,), _model_rule(secret, rule_id), per_field=True) for rule_id in secret.RULE_IDS),
      ResourceRule("RAE-IAM-005", PROJECT_IAM + RESOURCE_IAM, no_public_members, type_pattern=IAM_FAMILY),)
