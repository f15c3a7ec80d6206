"""Secrets: CSPRNG values of baseline length, never in clear; files 0400 on Docker, CMEK Secret Manager on gcp."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi.dynamic.dynamic import serialize_provider

from baseline import SECRETS, BaselineViolation
from components import engine_ids
from components.engine_ids import host_ids
from components.host_files import (DirectoryProvider, SecretFileProvider, directory_matches, file_matches,
                                  write_secret_file)
from components.secrets import ACCESSOR, Secrets, SecretsArgs
from tests.unit.components.harness import declare, is_secret, of_type, one
from posture.container import service_user

UID, GID = service_user("postgres")  # the owner of the files these tests write
# An engine's user-namespace remap (baseline.DOCKER_DAEMON.userns_remap) at 100000: the providers hand each file and
# directory to the host ids the container's user has under it.
REMAP = (100000, 100000, 65536)
HOST_UID, HOST_GID = UID + 100000, GID + 100000


@pytest.fixture
def remapped(monkeypatch):
    monkeypatch.setattr(engine_ids, "engine_remap", lambda: REMAP)

KEY = "projects/p/locations/europe-west4/keyRings/k/cryptoKeys/secrets"
REPO = Path(__file__).resolve().parents[3]


def _secrets(args: SecretsArgs) -> list[dict]:
    return declare(lambda: Secrets("s", args))


@pytest.fixture(scope="module")
def docker_secrets() -> list[dict]:
    return _secrets(SecretsArgs("docker", ["postgres-app-password"], directory="/srv/data/secrets", owner="postgres"))


def test_generated_with_baseline_length(docker_secrets):
    password = one(docker_secrets, "random:index/randomPassword:RandomPassword")
    assert password["length"] == SECRETS.length


def test_docker_secret_is_a_file_for_the_service_uid_and_never_in_clear(docker_secrets):
    secret_file = one(docker_secrets, "pulumi-python:dynamic:Resource")
    assert secret_file["path"] == "/srv/data/secrets/postgres-app-password"
    assert (secret_file["uid"], secret_file["gid"]) == (UID, GID)
    assert is_secret(secret_file["content"])


def test_gcp_secret_is_replicated_with_cmek_and_readable_by_its_accessor_only():
    resources = _secrets(SecretsArgs("gcp", ["qdrant-api-key"], kms_key=KEY, location="europe-west4",
                                     accessors={"qdrant-api-key": ["serviceAccount:rae-api@p.iam.gserviceaccount.com"]}))
    secret = one(resources, "gcp:secretmanager/secret:Secret")
    replica = secret["replication"]["userManaged"]["replicas"][0]
    assert replica == {"location": "europe-west4", "customerManagedEncryption": {"kmsKeyName": KEY}}
    version = one(resources, "gcp:secretmanager/secretVersion:SecretVersion")
    assert is_secret(version["secretData"])
    member = one(resources, "gcp:secretmanager/secretIamMember:SecretIamMember")
    assert member["role"] == ACCESSOR and member["member"] == "serviceAccount:rae-api@p.iam.gserviceaccount.com"
    assert member["secretId"] == "s-qdrant-api-key-id"  # checkov:skip=CKV_SECRET_6:a mock resource id [owner=platform-security expires=2027-05-29]
    assert not of_type(resources, "gcp:projects/iAMMember:IAMMember")


WEAKENINGS = [
    ("short secret", SecretsArgs("docker", ["a-secret"], length=SECRETS.length - 1, directory="/srv/s"), "A.5.17"),
    ("relative directory", SecretsArgs("docker", ["a-secret"], directory="secrets"), "A.5.17"),
    ("no cmek", SecretsArgs("gcp", ["a-secret"], location="europe-west4"), "A.8.24"),
    ("no location", SecretsArgs("gcp", ["a-secret"], kms_key=KEY), "A.5.17"),
    ("accessor of an undeclared secret", SecretsArgs("gcp", ["a-secret"], kms_key=KEY, location="r",
                                                      accessors={"other": ["serviceAccount:x@p"]}), "A.5.17"),
    ("public accessor", SecretsArgs("gcp", ["a-secret"], kms_key=KEY, location="r",
                                    accessors={"a-secret": ["allUsers"]}), "A.5.15"),
]


@pytest.mark.parametrize("what, args, control", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_weaker_secrets_are_refused(what, args, control):
    with pytest.raises(BaselineViolation, match=control):
        _secrets(args)


def test_secret_file_is_written_0400_for_the_owner_and_atomically(tmp_path: Path):
    path = tmp_path / "deep" / "secret"
    write_secret_file(str(path), "s3cret", UID, GID)
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == SECRETS.file_mode and (info.st_uid, info.st_gid) == (UID, GID)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["secret"]


def test_secret_file_provider_is_idempotent_and_sees_drift(tmp_path: Path, remapped):
    provider = SecretFileProvider()
    props = {"path": str(tmp_path / "key"), "content": "v1", "uid": UID, "gid": GID}
    created = provider.create(props)
    assert "v1" not in created.outs["fingerprint"]
    assert provider.diff(created.id, created.outs, props).changes is False
    os.chmod(props["path"], 0o644)
    assert provider.diff(created.id, created.outs, props).changes is True
    provider.update(created.id, created.outs, props)
    assert file_matches(props["path"], "v1", HOST_UID, HOST_GID)
    os.chown(props["path"], UID, GID)  # the container's bare uid is another host user: drift
    assert provider.diff(created.id, created.outs, props).changes is True
    assert provider.diff(created.id, created.outs, props | {"content": "v2"}).changes is True
    provider.delete(created.id, props)
    assert not Path(props["path"]).exists()


def test_data_directory_provider_keeps_data_unless_released(tmp_path: Path, remapped):
    provider = DirectoryProvider()
    kept = {"path": str(tmp_path / "pgdata"), "uid": UID, "gid": GID, "remove_on_delete": False}
    created = provider.create(kept)
    assert directory_matches(kept["path"], HOST_UID, HOST_GID)
    (tmp_path / "pgdata" / "PG_VERSION").write_text("15\n")
    assert provider.diff(created.id, created.outs, kept).changes is False
    provider.delete(created.id, kept)
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()
    released = kept | {"remove_on_delete": True}
    assert provider.diff(created.id, created.outs, released).changes is True
    provider.delete(created.id, provider.update(created.id, created.outs, released).outs)
    assert not (tmp_path / "pgdata").exists()


def test_providers_survive_the_engines_pickling_into_a_fresh_process(tmp_path: Path):
    # The engine's dynamic-provider host unpickles the provider in a new Python started in the project directory.
    serialized = serialize_provider(SecretFileProvider())
    path = tmp_path / "roundtrip"
    program = ("import base64, sys, dill; provider = dill.loads(base64.b64decode(sys.argv[1])); "
               f"provider.create({{'path': {str(path)!r}, 'content': 'x', 'uid': {UID}, 'gid': {GID}}})")
    completed = subprocess.run([sys.executable, "-c", program, serialized], cwd=REPO, capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert file_matches(str(path), "x", *host_ids(UID, GID))  # this host's engine, as the fresh process read it


def test_a_data_directory_and_its_missing_parents_are_0700_and_its_data_follows_a_new_owner(tmp_path: Path,
                                                                                          remapped):
    """Parents the provider creates are 0700 (mkdir -p would leave them 0755); a stack from before each service had
    its own uid hands the whole tree to the service's new uid and gid on update."""
    provider = DirectoryProvider()
    old = {"path": str(tmp_path / "root" / "data" / "pgdata"), "uid": 10001, "gid": 10001, "remove_on_delete": False}
    created = provider.create(old)
    assert all((tmp_path / part).stat().st_mode & 0o777 == 0o700 for part in ("root", "root/data", "root/data/pgdata"))
    nested = tmp_path / "root" / "data" / "pgdata" / "base" / "1"
    nested.parent.mkdir()
    nested.write_text("data\n")
    os.chown(nested.parent, 10001, 10001)
    os.chown(nested, 10001, 10001)
    new = old | {"uid": UID, "gid": GID}
    assert provider.diff(created.id, created.outs, new).changes is True
    provider.update(created.id, created.outs, new)
    assert {(p.stat().st_uid, p.stat().st_gid) for p in (nested, nested.parent, nested.parent.parent)} == {
        (HOST_UID, HOST_GID)}


def test_a_data_directory_follows_the_engines_remap_when_it_is_turned_on(tmp_path: Path, monkeypatch):
    """A stack's data written under an engine without a remap: once the engine remaps user namespaces, the next
    update hands the whole tree to the mapped ids, or the service could not read its own data."""
    provider = DirectoryProvider()
    props = {"path": str(tmp_path / "pgdata"), "uid": UID, "gid": GID, "remove_on_delete": False}
    monkeypatch.setattr(engine_ids, "engine_remap", lambda: None)
    created = provider.create(props)
    (tmp_path / "pgdata" / "base").mkdir()
    (tmp_path / "pgdata" / "base" / "1").write_text("data\n")
    for path in (tmp_path / "pgdata" / "base", tmp_path / "pgdata" / "base" / "1"):
        os.chown(path, UID, GID)
    monkeypatch.setattr(engine_ids, "engine_remap", lambda: REMAP)
    assert provider.diff(created.id, created.outs, props).changes is True
    provider.update(created.id, created.outs, props)
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in (tmp_path / "pgdata").rglob("*")}
    assert owners == {(HOST_UID, HOST_GID)} and directory_matches(props["path"], HOST_UID, HOST_GID)
