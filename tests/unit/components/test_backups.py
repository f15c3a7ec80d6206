"""Backups: private, CMEK, versioned bucket under a locked retention; Docker: restic repositories and their config."""

import json
from pathlib import Path

import pytest

from baseline import BACKUP, BaselineViolation
from components.backups import (LOCAL_KEY, OBJECT_CREATOR, OFFSITE_KEY, BucketBackups, BucketBackupsArgs,
                                DockerBackups, DockerBackupsArgs)
from tests.unit.components.harness import declare, is_secret, of_type, one

KEY = "projects/p/locations/EU/keyRings/k/cryptoKeys/backups"
WRITER = "serviceAccount:rae-backup@p.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def bucket_resources() -> list[dict]:
    return declare(lambda: BucketBackups("backups", BucketBackupsArgs("EU", KEY, [WRITER])))


def test_bucket_is_cmek_versioned_retained_private(bucket_resources):
    bucket = one(bucket_resources, "gcp:storage/bucket:Bucket")
    assert bucket["encryption"] == {"defaultKmsKeyName": KEY}
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["retentionPolicy"] == {"retentionPeriod": BACKUP.bucket_retention_days * 86400, "isLocked": True}
    assert bucket["uniformBucketLevelAccess"] is True and bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False


def test_writers_may_create_objects_on_the_bucket_only(bucket_resources):
    member = one(bucket_resources, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert member == {"bucket": "backups", "role": OBJECT_CREATOR, "member": WRITER}


@pytest.mark.parametrize("overrides", [dict(kms_key=""), dict(retention_days=BACKUP.bucket_retention_days - 1)])
def test_weaker_buckets_are_refused(overrides):
    with pytest.raises(BaselineViolation, match="A.8.13|A.8.24"):
        declare(lambda: BucketBackups("b", BucketBackupsArgs(**(dict(location="EU", kms_key=KEY) | overrides))))


def _docker_backups(**overrides) -> tuple[DockerBackups, list[dict]]:
    created = []
    store = str(Path(__file__).resolve().parents[3] / ".state" / "unit-backups")
    args = dict(host_path=store, credentials_dir="/srv/backup-credentials", postgres_container="postgres",
                files=["/srv/data/secrets"], unencrypted_exemption="dev-only: unit test host without dm-crypt")
    resources = declare(lambda: created.append(DockerBackups("backups", DockerBackupsArgs(**(args | overrides)))))
    return created[0], resources


def _config(resources: list[dict]) -> dict:
    files = [r for r in of_type(resources, "pulumi-python:dynamic:Resource") if r["name"] == "backups-config"]
    assert len(files) == 1
    content = files[0]["inputs"]["content"]
    return json.loads(content["value"] if is_secret(content) else content)


def test_docker_backups_run_harden_backup_with_a_config_of_their_own():
    backups, resources = _docker_backups()
    assert backups.command == ".venv/bin/harden backup run --config /srv/backup-credentials/backup.json"
    assert backups.volume.encryption.startswith("EXEMPT")
    config = _config(resources)
    assert config["repositories"] == [{"name": "local", "location": f"{backups.volume_path}/restic",
                                       "password_file": f"/srv/backup-credentials/{LOCAL_KEY}"}]
    assert config["postgres"] == {"container": "postgres"} and config["files"] == ["/srv/data/secrets"]


def test_the_offsite_repository_is_append_only_with_its_own_password():
    _, resources = _docker_backups(offsite_repository_file="/srv/backup-credentials/offsite.repository",
                                   offsite_cacert="/srv/backup-credentials/offsite-ca.pem")
    offsite = _config(resources)["repositories"][1]
    assert offsite["append_only"] is True and offsite["password_file"].endswith(OFFSITE_KEY)
    assert offsite["repository_file"] == "/srv/backup-credentials/offsite.repository"


def test_repository_passwords_inside_the_backed_up_files_are_refused():
    with pytest.raises(BaselineViolation, match="apart from the backed-up"):
        _docker_backups(credentials_dir="/srv/data/secrets/backup")


def test_a_qdrant_entry_reaches_the_config_and_the_backup_tool_accepts_it():
    from components.qdrant_backup import QdrantSource

    entry = {"url": "https://qdrant:6333", "read_only_api_key_file": "/srv/data/secrets/qdrant-read-only-key",
             "snapshot_token_file": "/srv/data/backup-credentials/qdrant-snapshot-token",
             "cacert": "/srv/data/secrets/ca.crt", "container": "qdrant", "store_container": "qdrant-store"}
    _, resources = _docker_backups(qdrant=entry)
    config = _config(resources)
    assert config["qdrant"] == entry
    source = QdrantSource.from_config(config["qdrant"])
    assert (source.url, source.container, source.store_container) == ("https://qdrant:6333", "qdrant", "qdrant-store")


@pytest.mark.parametrize("url", ["http://qdrant:6333", "https://user:secret@qdrant:6333", "qdrant:6333"])  # checkov:skip=CKV_SECRET_4:a refused test input, no real credential [owner=platform-security expires=2027-05-29]
def test_a_qdrant_url_without_tls_or_with_credentials_is_refused(url):
    from components.qdrant_backup import QdrantSource

    with pytest.raises(BaselineViolation, match="A.8.24"):
        QdrantSource.from_config({"url": url, "api_key_file": "/k", "cacert": "/ca"})
    with pytest.raises(BaselineViolation, match="unknown keys"):
        QdrantSource.from_config({"url": "https://qdrant:6333", "api_key_file": "/k", "cacert": "/ca", "key": "x"})


def test_a_qdrant_entry_without_any_credential_is_refused():
    from components.qdrant_backup import QdrantSource

    with pytest.raises(BaselineViolation, match="needs a credential.*A.5.15"):
        QdrantSource.from_config({"url": "https://qdrant:6333", "cacert": "/ca"})


def test_the_snapshot_token_names_its_collections_rw_and_expires():
    import base64
    import hashlib
    import hmac

    from components.qdrant_backup import TOKEN_MAX_DAYS, check_token_covers, mint_snapshot_token, token_claims

    token = mint_snapshot_token("k" * 40, ["b", "a"], 2, now=1_000_000)
    claims = token_claims(token)
    assert claims == {"access": [{"collection": "a", "access": "rw"}, {"collection": "b", "access": "rw"}],
                      "exp": 1_000_000 + 2 * 86400, "sub": "rae-backup"}
    signing_input, signature = token.rsplit(".", 1)
    expected = base64.urlsafe_b64encode(hmac.digest(b"k" * 40, signing_input.encode(), hashlib.sha256)).rstrip(b"=")
    assert signature.encode() == expected
    check_token_covers(token, ["a", "b"], now=1_000_000)
    with pytest.raises(RuntimeError, match=r"does not name collections \['c'\]"):
        check_token_covers(token, ["a", "c"], now=1_000_000)
    with pytest.raises(RuntimeError, match="expired"):
        check_token_covers(token, ["a"], now=1_000_000 + 3 * 86400)
    with pytest.raises(BaselineViolation, match="validity"):
        mint_snapshot_token("k" * 40, ["a"], TOKEN_MAX_DAYS + 1)


def test_credentials_are_checked_private_and_a_token_not_minted_yet_is_not_an_input_error(tmp_path):
    from components.qdrant_backup import QdrantSource
    from components.restic import write_private_file

    ca = tmp_path / "ca.pem"
    ca.write_text("ca")
    source = QdrantSource("https://qdrant:6333", ca, read_only_api_key_file=write_private_file(tmp_path / "ro", "k"),
                          snapshot_token_file=tmp_path / "token")
    source.check_credentials()
    with pytest.raises(BaselineViolation, match="snapshot token file .* missing"):
        source.snapshotter()
    loose = tmp_path / "loose-token"
    loose.write_text("t")
    loose.chmod(0o644)
    with pytest.raises(BaselineViolation, match="readable by group or others"):
        QdrantSource("https://qdrant:6333", ca, snapshot_token_file=loose).check_credentials()
    with pytest.raises(BaselineViolation, match="needs `api_key_file`"):
        source.admin()
