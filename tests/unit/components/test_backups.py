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


def test_the_token_expiry_is_read_or_refused_as_unreadable(tmp_path):
    from components.qdrant_backup import mint_snapshot_token, token_expiry

    token = tmp_path / "token"
    token.write_text(mint_snapshot_token("k" * 40, ["a"], 2, now=1_000_000) + "\n")
    assert token_expiry(token) == 1_000_000 + 2 * 86400
    unreadable = {"absent": tmp_path / "absent", "not a JWT": tmp_path / "garbage", "empty": tmp_path / "empty",
                  "no expiry": tmp_path / "no-exp", "unconfigured": None}
    unreadable["not a JWT"].write_text("not-a-token")
    unreadable["empty"].write_text("")
    unreadable["no expiry"].write_text("e30." + base64url(b'{"sub":"rae-backup"}') + ".sig")
    for path in unreadable.values():
        with pytest.raises(RuntimeError, match="A.8.13"):
            token_expiry(path)


def base64url(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize("days_left, collections, due", [
    (40, ["a"], False),   # fine: beyond the window
    (10, ["a"], True),    # near expiry: within --renew-if-within 14
    (-1, ["a"], True),    # expired
    (40, ["a", "b"], True),  # a collection the token does not name
])
def test_renewal_is_due_only_near_expiry_or_when_the_token_is_short(tmp_path, days_left, collections, due):
    from components.qdrant_backup import mint_snapshot_token, renewal_reason

    now = 2_000_000_000
    token = tmp_path / "token"
    # Minted `90 - days_left` days ago for 90 days: `days_left` days left now.
    token.write_text(mint_snapshot_token("k" * 40, ["a"], 90, now=now - (90 - days_left) * 86400))
    reason = renewal_reason(token, collections, BACKUP.snapshot_token_warn_days, 30, now=now)
    assert (reason is not None) == due, reason


def test_an_unreadable_token_is_renewed_and_a_bad_window_refused(tmp_path):
    from components.qdrant_backup import renewal_reason

    assert "cannot be read" in renewal_reason(tmp_path / "absent", ["a"], BACKUP.snapshot_token_warn_days, 30)
    with pytest.raises(BaselineViolation, match="warning window.*A.8.13"):
        renewal_reason(tmp_path / "absent", ["a"], BACKUP.snapshot_token_warn_days - 1, 30)
    with pytest.raises(BaselineViolation, match="validity"):
        renewal_reason(tmp_path / "absent", ["a"], 30, 30)


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
