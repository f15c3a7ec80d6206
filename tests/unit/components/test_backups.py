"""Backups: private, CMEK, versioned bucket under retention; Docker dumps encrypted with the baseline PBKDF2."""

import importlib.util
from pathlib import Path

import pytest

from baseline import BACKUP, BaselineViolation
from components.backups import BACKUP_RUNTIME, OBJECT_CREATOR, BucketBackups, BucketBackupsArgs, DockerBackups, DockerBackupsArgs
from tests.unit.components.harness import declare, one

KEY = "projects/p/locations/EU/keyRings/k/cryptoKeys/backups"
WRITER = "serviceAccount:rae-backup@p.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def bucket_resources() -> list[dict]:
    return declare(lambda: BucketBackups("backups", BucketBackupsArgs("EU", KEY, [WRITER])))


def test_bucket_is_cmek_versioned_retained_private(bucket_resources):
    bucket = one(bucket_resources, "gcp:storage/bucket:Bucket")
    assert bucket["encryption"] == {"defaultKmsKeyName": KEY}
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["retentionPolicy"] == {"retentionPeriod": BACKUP.bucket_retention_days * 86400}
    assert bucket["uniformBucketLevelAccess"] is True and bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False


def test_writers_may_create_objects_on_the_bucket_only(bucket_resources):
    member = one(bucket_resources, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert member == {"bucket": "backups", "role": OBJECT_CREATOR, "member": WRITER}


@pytest.mark.parametrize("overrides", [dict(kms_key=""), dict(retention_days=BACKUP.bucket_retention_days - 1)])
def test_weaker_buckets_are_refused(overrides):
    with pytest.raises(BaselineViolation, match="A.8.13|A.8.24"):
        declare(lambda: BucketBackups("b", BucketBackupsArgs(**(dict(location="EU", kms_key=KEY) | overrides))))


def test_docker_backups_run_the_shared_encrypted_dump_into_an_encrypted_store():
    created = []
    store = str(Path(__file__).resolve().parents[3] / ".state" / "unit-backups")
    declare(lambda: created.append(DockerBackups("backups", DockerBackupsArgs(
        store, "/srv/data/s/backup-key", "postgres", unencrypted_exemption="dev-only: unit test host without dm-crypt"))))
    command = created[0].command
    assert importlib.util.find_spec(BACKUP_RUNTIME) is not None
    assert f"-m {BACKUP_RUNTIME} backup --container postgres --key-file /srv/data/s/backup-key --output {store}/" in command
    assert created[0].volume.encryption.startswith("EXEMPT")
