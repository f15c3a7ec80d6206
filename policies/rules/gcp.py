"""Rules on raw pulumi-gcp resources (whether or not a component created them), read against the baseline."""

from baseline import TLS
import posture.binary_authorization as binary_authorization
import posture.bucket as bucket
import posture.database as database
import posture.iam as iam
import posture.key as key
import posture.secret as secret
import posture.serverless as serverless
import posture.network as network
import posture.vm as vm
from policies.rules import ResourceRule, dig

SQL = "gcp:sql/databaseInstance:DatabaseInstance"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_RING = "gcp:kms/keyRing:KeyRing"
DISK = "gcp:compute/disk:Disk"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
CLOUD_RUN = serverless.V2
SECRET = "gcp:secretmanager/secret:Secret"
BUCKET = "gcp:storage/bucket:Bucket"
ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
WIF_PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
INSTANCE = vm.INSTANCE


def _model_rule(model, rule_id: str):
    """A rule that asks a posture model (bucket, database, key, secret, Binary Authorization policy): the model
    states the requirement and decides, field by field, what it could not see. A rule built with options=True also hands the model the
    resource options (posture.key's protection)."""
    def check(props, *options):
        for _name, _requirement, message in model.judge(model.from_pulumi(str(props.get("name") or ""), props,
                                                                           *options), rule_id):
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


def _typed_model_rule(model, rule_id: str):
    """A rule that asks a posture model whose adapter reads the type token (IAM, VM, serverless)."""
    def check(props, resource_type, name):
        for _name, _requirement, message in model.judge(model.from_pulumi(resource_type, name, props), rule_id):
            yield message
    check.__name__ = f"{model.__name__.rsplit('.', 1)[-1]}_{rule_id.lower().replace('-', '_')}"
    return check


FIREWALL = "gcp:compute/firewall:Firewall"


def no_internet_ingress(props):
    for _name, _requirement, message in network.judge(network.from_pulumi("firewall", props), "RAE-NET-001"):
        yield message


def _typed(model, rule_id: str, types: tuple[str, ...] = (), type_pattern: str | None = None) -> ResourceRule:
    return ResourceRule(rule_id, types, _typed_model_rule(model, rule_id), type_pattern=type_pattern, per_field=True,
                        typed=True)


RULES = tuple(ResourceRule(rule_id, types, check) for rule_id, types, check in (
    ("RAE-DSK-001", (DISK,), disk_cmek),
    ("RAE-TLS-001", (SSL_POLICY,), ssl_policy),
)) + (ResourceRule("RAE-NET-001", (FIREWALL,), no_internet_ingress, per_field=True),
      *(ResourceRule(rule_id, (SQL,), _model_rule(database, rule_id), per_field=True) for rule_id in database.RULE_IDS),
      *(ResourceRule(rule_id, (BUCKET,), _model_rule(bucket, rule_id), per_field=True) for rule_id in bucket.RULE_IDS),
      *(ResourceRule(rule_id, (CRYPTO_KEY,), _model_rule(key, rule_id), per_field=True) for rule_id in key.RULE_IDS
        if rule_id != "RAE-KMS-003"),
      ResourceRule("RAE-KMS-003", (CRYPTO_KEY, KEY_RING), _model_rule(key, "RAE-KMS-003"), per_field=True,
                   options=True),
      *(ResourceRule(rule_id, (SECRET,), _model_rule(secret, rule_id), per_field=True) for rule_id in secret.RULE_IDS),
      *(ResourceRule(rule_id, (binary_authorization.POLICY,), _model_rule(binary_authorization, rule_id), per_field=True)
        for rule_id in binary_authorization.RULE_IDS),
      *(_typed(iam, rule_id, type_pattern=iam.IAM_TYPE) for rule_id in iam.GRANT_RULE_IDS),
      _typed(iam, "RAE-IAM-003", (ACCOUNT_KEY,)), _typed(iam, "RAE-IAM-004", (WIF_PROVIDER,)),
      *(_typed(vm, rule_id, vm.TYPES) for rule_id in vm.RULE_IDS),
      *(_typed(serverless, rule_id, serverless.TYPES) for rule_id in serverless.RULE_IDS))
