"""The bucket, database-instance, key and secret posture models: one requirement judged the same way from pulumi-gcp
inputs, a Terraform plan's values and checkov's conf; the components build what the model judged; an unresolved
field leaves only the requirements that read it undecided."""

import pytest

import posture.bucket as bucket
import posture.database as database
import posture.key as key
from baseline import BACKUP, KMS, BaselineViolation
from posture import UNKNOWN_VALUE, Unknown
from policies.tfplan import terraform_values
from tests.policy.cases import HARDENED, OPTIONS, broken

BUCKET = "gcp:storage/bucket:Bucket"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
KEY = "gcp:kms/cryptoKey:CryptoKey"


def found(model, view) -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for _name, requirement, message in model.judge(view):
        rules.setdefault(requirement.rule_id, []).append(message)
    return rules


def checkov_conf(values):
    """checkov wraps every Terraform value in a list (and blocks once more)."""
    if isinstance(values, dict):
        return {key: [checkov_conf(value)] for key, value in values.items()}
    if isinstance(values, list):
        return [checkov_conf(item) for item in values]
    return values


@pytest.mark.parametrize("model, resource_type", [(bucket, BUCKET), (database, SQL), (key, KEY)])
def test_the_hardened_resource_holds_from_every_source(model, resource_type):
    props = HARDENED[resource_type]
    # The key's protection is a resource option: the Pulumi adapter takes the options, Terraform's lifecycle block
    # (which checkov reads from HCL and no plan carries) travels with the values.
    options, lifecycle = ((OPTIONS,), {"lifecycle": {"prevent_destroy": True}}) if model is key else ((), {})
    assert found(model, model.from_pulumi("r", props, *options)) == {}
    assert found(model, model.from_terraform("r", terraform_values(props) | lifecycle)) == {}
    assert found(model, model.from_terraform("r", checkov_conf(terraform_values(props) | lifecycle))) == {}


def test_a_key_is_protected_only_where_its_options_say_so():
    props = HARDENED[KEY]
    assert set(found(key, key.from_pulumi("k", props, {"protect": False}))) == {"RAE-KMS-003"}
    [unseen] = found(key, key.from_pulumi("k", props))["RAE-KMS-003"]  # a graph without options
    assert isinstance(unseen, Unknown)
    [unseen] = found(key, key.from_terraform("k", terraform_values(props)))["RAE-KMS-003"]  # a plan: no lifecycle
    assert isinstance(unseen, Unknown)
    assert set(found(key, key.from_terraform("k", checkov_conf(terraform_values(props) | {
        "lifecycle": {"prevent_destroy": False}})))) == {"RAE-KMS-003"}


WEAKER = [
    (bucket, BUCKET, {"encryption": None}, "RAE-GCS-001"),
    (bucket, BUCKET, {"versioning": {"enabled": False}}, "RAE-GCS-002"),
    (bucket, BUCKET, {"retentionPolicy": {"retentionPeriod": "86400", "isLocked": True}}, "RAE-GCS-003"),
    (bucket, BUCKET, {"uniformBucketLevelAccess": False}, "RAE-GCS-004"),
    (bucket, BUCKET, {"publicAccessPrevention": "inherited"}, "RAE-GCS-005"),
    (bucket, BUCKET, {"publicAccessPrevention": None}, "RAE-GCS-005"),
    (bucket, BUCKET, {"retentionPolicy": {"retentionPeriod": str(BACKUP.bucket_retention_days * 86400),
                                          "isLocked": False}}, "RAE-GCS-006"),
    (database, SQL, {"encryptionKeyName": None}, "RAE-SQL-001"),
    (database, SQL, {"settings.ipConfiguration.sslMode": "ENCRYPTED_ONLY"}, "RAE-SQL-002"),
    (database, SQL, {"settings.ipConfiguration.ipv4Enabled": True}, "RAE-SQL-003"),
    (database, SQL, {"settings.ipConfiguration.authorizedNetworks": [{"value": "0.0.0.0/1"},
                                                                     {"value": "128.0.0.0/1"}]}, "RAE-SQL-003"),
    (database, SQL, {"settings.backupConfiguration.enabled": False}, "RAE-SQL-004"),
    (database, SQL, {"settings.backupConfiguration.pointInTimeRecoveryEnabled": False}, "RAE-SQL-005"),
    (database, SQL, {"deletionProtection": False}, "RAE-SQL-006"),
    (database, SQL, {"settings.databaseFlags": []}, "RAE-SQL-007"),
    (database, SQL, {"settings.backupConfiguration.startTime": "14:00"}, "RAE-SQL-004"),
    (database, SQL, {"settings.backupConfiguration.startTime": None}, "RAE-SQL-004"),
    (database, SQL, {"settings.backupConfiguration.transactionLogRetentionDays": 1}, "RAE-SQL-005"),
    (database, SQL, {"settings.backupConfiguration.transactionLogRetentionDays": None}, "RAE-SQL-005"),
    (database, SQL, {"settings.ipConfiguration.serverCaMode": "GOOGLE_MANAGED_INTERNAL_CA"}, "RAE-SQL-008"),
    (database, SQL, {"settings.ipConfiguration.serverCaMode": None}, "RAE-SQL-008"),
    (database, SQL, {"settings.ipConfiguration.serverCaMode": ""}, "RAE-SQL-008"),
    (database, SQL, {"settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA"}, "RAE-SQL-008"),
    (database, SQL, {"settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA",
                     "settings.ipConfiguration.serverCaPool": ""}, "RAE-SQL-008"),
    (key, KEY, {"rotationPeriod": "31536000s"}, "RAE-KMS-001"),
    (key, KEY, {"rotationPeriod": None}, "RAE-KMS-001"),
    (key, KEY, {"versionTemplate.algorithm": "EC_SIGN_P256_SHA256"}, "RAE-KMS-002"),
    (key, KEY, {"versionTemplate": None}, "RAE-KMS-002"),
    (key, KEY, {"versionTemplate.protectionLevel": "EXTERNAL"}, "RAE-KMS-002"),
    (key, KEY, {"destroyScheduledDuration": "86400s"}, "RAE-KMS-002"),
    (key, KEY, {"destroyScheduledDuration": None}, "RAE-KMS-002"),
]


@pytest.mark.parametrize("model, resource_type, changes, rule_id", WEAKER,
                         ids=[f"{w[3]}-{'-'.join(w[2])}" for w in WEAKER])
def test_each_weakening_fails_its_rule_only_from_pulumi_terraform_and_checkov(model, resource_type, changes, rule_id):
    props = broken(resource_type, changes)
    options, lifecycle = ((OPTIONS,), {"lifecycle": {"prevent_destroy": True}}) if model is key else ((), {})
    assert set(found(model, model.from_pulumi("r", props, *options))) == {rule_id}
    assert set(found(model, model.from_terraform("r", terraform_values(props) | lifecycle))) == {rule_id}
    assert set(found(model, model.from_terraform("r", checkov_conf(terraform_values(props) | lifecycle)))) == {rule_id}


POOL = "projects/p/locations/europe-west4/caPools/sql"


@pytest.mark.parametrize("changes", [{"settings.ipConfiguration.serverCaMode": "GOOGLE_MANAGED_CAS_CA"},
                                     {"settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA",
                                      "settings.ipConfiguration.serverCaPool": POOL}],
                         ids=["google-managed", "customer-managed-with-its-pool"])
def test_either_certificate_authority_service_mode_holds(changes):
    props = broken(SQL, changes)
    assert found(database, database.from_pulumi("r", props)) == {}
    assert found(database, database.from_terraform("r", checkov_conf(terraform_values(props)))) == {}


@pytest.mark.parametrize("mode, said", [
    ("GOOGLE_MANAGED_INTERNAL_CA", "serverCaMode is 'GOOGLE_MANAGED_INTERNAL_CA'"),
    (None, "serverCaMode is not set: the provider's default is the per-instance GOOGLE_MANAGED_INTERNAL_CA"),
])
def test_a_server_ca_outside_the_allow_list_fails_naming_the_value_and_the_controls(mode, said):
    props = broken(SQL, {"settings.ipConfiguration.serverCaMode": mode})
    [message] = found(database, database.from_pulumi("r", props))["RAE-SQL-008"]
    assert not isinstance(message, Unknown)
    assert said in message and "['GOOGLE_MANAGED_CAS_CA', 'CUSTOMER_MANAGED_CAS_CA']" in message
    assert "[A.8.24, A.8.20, A.8.21]" in message
    assert database.REQUIREMENTS["server_ca"].controls == ("A.8.24", "A.8.20", "A.8.21")


def test_a_server_ca_mode_that_cannot_be_resolved_is_unknown_not_passed():
    props = broken(SQL, {"settings.ipConfiguration.serverCaMode": UNKNOWN_VALUE})
    rules = found(database, database.from_pulumi("r", props))
    assert set(rules) == {"RAE-SQL-008"} and all(isinstance(m, Unknown) for m in rules["RAE-SQL-008"])
    # A whole ipConfiguration the renderer could not resolve leaves every requirement that reads it undecided.
    rules = found(database, database.from_terraform("r", terraform_values(broken(SQL, {
        "settings.ipConfiguration": UNKNOWN_VALUE}))))
    assert {"RAE-SQL-002", "RAE-SQL-003", "RAE-SQL-008"} <= set(rules)
    assert all(isinstance(m, Unknown) for m in rules["RAE-SQL-008"])


@pytest.mark.parametrize("pool", [None, "", "  "])
def test_a_customer_managed_server_ca_without_its_pool_fails_naming_the_setting_and_the_controls(pool):
    props = broken(SQL, {"settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA",
                         "settings.ipConfiguration.serverCaPool": pool})
    for view in (database.from_pulumi("r", props), database.from_terraform("r", terraform_values(props)),
                 database.from_terraform("r", checkov_conf(terraform_values(props)))):
        rules = found(database, view)
        assert set(rules) == {"RAE-SQL-008"}, view
        [message] = rules["RAE-SQL-008"]
        assert not isinstance(message, Unknown)
        assert "serverCaMode is 'CUSTOMER_MANAGED_CAS_CA'" in message
        assert "serverCaPool names no CA Service pool" in message
        assert "[A.8.24, A.8.20, A.8.21]" in message


def test_a_customer_managed_server_ca_pool_that_cannot_be_resolved_is_unknown_not_passed():
    props = broken(SQL, {"settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA",
                         "settings.ipConfiguration.serverCaPool": UNKNOWN_VALUE})
    for view in (database.from_pulumi("r", props), database.from_terraform("r", terraform_values(props))):
        rules = found(database, view)
        assert set(rules) == {"RAE-SQL-008"}
        [message] = rules["RAE-SQL-008"]
        assert isinstance(message, Unknown) and "serverCaPool" in message and "not passed" in message
    # Under Google's pool the pool is not read: an unresolved one leaves nothing undecided.
    assert found(database, database.from_pulumi("r", broken(SQL, {
        "settings.ipConfiguration.serverCaPool": UNKNOWN_VALUE}))) == {}


def test_the_gate_and_the_component_refuse_a_customer_managed_server_ca_without_its_pool_alike():
    from components.postgres import CloudSqlArgs, CloudSqlPostgres
    from policies.rules import evaluate
    graph = [{"type": SQL, "name": "db", "props": broken(SQL, {
        "settings.ipConfiguration.serverCaMode": "CUSTOMER_MANAGED_CAS_CA"})}]
    [(rule, _, message)] = list(evaluate(graph))
    assert rule == "RAE-SQL-008" and not isinstance(message, Unknown)
    with pytest.raises(BaselineViolation) as refused:
        CloudSqlPostgres("db", CloudSqlArgs("europe-west4", "vpc", "key", "pw",
                                            server_ca_mode="CUSTOMER_MANAGED_CAS_CA"))
    assert message in str(refused.value)
    assert refused.value.controls == database.REQUIREMENTS["server_ca"].controls


def test_an_authorized_network_inside_the_allowed_ranges_holds():
    props = broken(SQL, {"settings.ipConfiguration.authorizedNetworks": [{"value": "10.20.0.0/16"}]})
    assert found(database, database.from_pulumi("r", props)) == {}


@pytest.mark.parametrize("model, resource_type, changes, unknown_rule, failed_rule", [
    (bucket, BUCKET, {"encryption": {"defaultKmsKeyName": UNKNOWN_VALUE}, "uniformBucketLevelAccess": False},
     "RAE-GCS-001", "RAE-GCS-004"),
    (database, SQL, {"settings.ipConfiguration.sslMode": UNKNOWN_VALUE, "deletionProtection": False},
     "RAE-SQL-002", "RAE-SQL-006"),
])
def test_an_unresolved_field_leaves_only_the_requirement_that_reads_it_undecided(model, resource_type, changes,
                                                                                  unknown_rule, failed_rule):
    rules = found(model, model.from_pulumi("r", broken(resource_type, changes)))
    assert set(rules) == {unknown_rule, failed_rule}
    assert all(isinstance(m, Unknown) for m in rules[unknown_rule])
    assert not any(isinstance(m, Unknown) for m in rules[failed_rule])


def test_the_gate_rules_ask_the_models_per_field():
    from policies.rules import evaluate
    graph = [{"type": SQL, "name": "db", "props": broken(SQL, {"settings.ipConfiguration.sslMode": UNKNOWN_VALUE,
                                                                "deletionProtection": False})}]
    verdicts = {(rule, isinstance(message, Unknown)) for rule, _, message in evaluate(graph)}
    assert verdicts == {("RAE-SQL-002", True), ("RAE-SQL-006", False)}


def test_the_components_refuse_what_the_models_refuse():
    from components.backups import BucketBackups, BucketBackupsArgs
    from components.postgres import CloudSqlArgs, CloudSqlPostgres
    with pytest.raises(BaselineViolation, match="RAE|retentionPeriod") as refused:
        BucketBackups("b", BucketBackupsArgs("EU", "key", retention_days=1))
    assert "A.8.13" in refused.value.controls
    with pytest.raises(BaselineViolation, match="encryptionKeyName") as refused:
        CloudSqlPostgres("db", CloudSqlArgs("europe-west4", "vpc", "", "pw"))
    assert "A.8.24" in refused.value.controls


def test_a_stronger_protection_level_holds_and_the_messages_name_the_baseline():
    assert found(key, key.from_pulumi("k", broken(KEY, {"versionTemplate.protectionLevel": "HSM"}), OPTIONS)) == {}
    [message] = found(key, key.from_pulumi("k", broken(KEY, {"destroyScheduledDuration": "86400s"})))["RAE-KMS-002"]
    assert KMS.destroy_scheduled_duration in message
    assert set(found(key, key.from_pulumi("k", {}, OPTIONS))) == {"RAE-KMS-001", "RAE-KMS-002"}


def test_key_rotation_and_secret_replication_are_judged_by_their_models_from_every_source():
    import posture.secret as secret
    for props, rule in ((HARDENED[KEY], None), (broken(KEY, {"rotationPeriod": "31536000s"}), "RAE-KMS-001"),
                        (broken(KEY, {"rotationPeriod": None}), "RAE-KMS-001"),
                        (broken(KEY, {"rotationPeriod": "never"}), "RAE-KMS-001")):
        for view in (key.from_pulumi("k", props, OPTIONS),
                     key.from_terraform("k", checkov_conf(terraform_values(props) | {"lifecycle": {"prevent_destroy": True}}))):
            assert set(found(key, view)) == ({rule} if rule else set()), (props, view)
    keyed = {"customerManagedEncryption": {"kmsKeyName": "k"}}
    for replication, rule in (({"auto": keyed}, None), ({"userManaged": {"replicas": [keyed, keyed]}}, None),
                              ({"auto": {}}, "RAE-SEC-001"), ({"userManaged": {"replicas": [keyed, {}]}}, "RAE-SEC-001"),
                              ({"userManaged": {"replicas": []}}, "RAE-SEC-001")):
        props = {"replication": replication}
        for view in (secret.from_pulumi("s", props), secret.from_terraform("s", checkov_conf(terraform_values(props)))):
            assert set(found(secret, view)) == ({rule} if rule else set()), (replication, view)
    undecided = found(secret, secret.from_pulumi("s", {"replication": UNKNOWN_VALUE}))
    assert all(isinstance(m, Unknown) for m in undecided["RAE-SEC-001"])
