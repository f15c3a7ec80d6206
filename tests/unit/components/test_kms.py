"""Customer-managed keys: rotation within 90 days, protected from destroy, encrypter role on each key only."""

import pytest

from baseline import KMS, BaselineViolation
from components.kms import ENCRYPTER_DECRYPTER, CustomerManagedKeys, CustomerManagedKeysArgs, service_agent
from tests.unit.components.harness import declare, of_type, one

AGENT = "serviceAccount:service-1@compute-system.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def keys() -> list[dict]:
    return declare(lambda: CustomerManagedKeys("data", CustomerManagedKeysArgs(
        "europe-west4", ["disk", "sql"], {"disk": [AGENT]})))


def test_one_ring_and_one_rotating_key_per_purpose(keys):
    assert one(keys, "gcp:kms/keyRing:KeyRing")["location"] == "europe-west4"
    crypto_keys = of_type(keys, "gcp:kms/cryptoKey:CryptoKey")
    assert sorted(k["inputs"]["name"] for k in crypto_keys) == ["rae-disk", "rae-sql"]
    for key in crypto_keys:
        assert key["inputs"]["rotationPeriod"] == f"{KMS.rotation_period_seconds}s"
        assert key["inputs"]["destroyScheduledDuration"] == KMS.destroy_scheduled_duration
        assert key["inputs"]["versionTemplate"]["algorithm"] == KMS.algorithm
        assert key["inputs"]["versionTemplate"]["protectionLevel"] == KMS.protection_level


def test_each_key_holds_under_the_key_model_the_gate_asks(keys):
    import posture.key as key_posture
    for key in of_type(keys, "gcp:kms/cryptoKey:CryptoKey"):
        assert list(key_posture.judge(key_posture.from_pulumi(key["name"], key["inputs"], key["options"]))) == []
    [ring] = of_type(keys, "gcp:kms/keyRing:KeyRing")
    assert ring["options"] == {"protect": KMS.prevent_destroy} and KMS.prevent_destroy
    assert list(key_posture.judge(key_posture.from_pulumi(ring["name"], ring["inputs"], ring["options"]),
                                  "RAE-KMS-003")) == []


def test_the_service_agent_is_granted_on_its_key_only(keys):
    member = one(keys, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert member["role"] == ENCRYPTER_DECRYPTER and member["member"] == AGENT
    assert member["cryptoKeyId"].endswith("/cryptoKeys/rae-disk")


def test_keys_are_protected_from_destroy():
    created = []
    declare(lambda: created.append(CustomerManagedKeys("p", CustomerManagedKeysArgs("r", ["disk"]))))
    assert created[0].keys["disk"]._protect is True and created[0].key_ring._protect is True


def test_rotation_longer_than_90_days_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: CustomerManagedKeys("slow", CustomerManagedKeysArgs(
            "r", ["disk"], rotation_period_seconds=KMS.rotation_period_seconds + 1)))


def test_grants_on_keys_the_ring_does_not_hold_are_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: CustomerManagedKeys("odd", CustomerManagedKeysArgs("r", ["disk"], {"sql": [AGENT]})))


def test_service_agent_names():
    results = []
    declare(lambda: service_agent("sql", "42").apply(results.append))
    assert results == ["serviceAccount:service-42@gcp-sa-cloud-sql.iam.gserviceaccount.com"]
