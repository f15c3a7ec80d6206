"""restic repository settings: credentials only in 0600 files, never in arguments, never both locations."""

import os

import pytest

from baseline import BaselineViolation
from components.restic import Repository, command, environment, write_private_file


@pytest.fixture
def password(tmp_path):
    return write_private_file(tmp_path / "password", "secret-password\n")


def test_arguments_name_files_never_secrets(password, tmp_path):
    user, secret = "node1", "pass"
    location = write_private_file(tmp_path / "location", f"rest:https://{user}:{secret}@host:8000/rae\n")
    arguments = command(Repository("offsite", password, repository_file=location, cacert=tmp_path / "ca.pem"), "snapshots")
    assert arguments[:3] == ["restic", "--repository-file", str(location)]
    assert "--password-file" in arguments and "--no-cache" in arguments
    assert not any("pass@" in argument or "secret-password" in argument for argument in arguments)


def test_the_private_file_is_0600_from_the_start(tmp_path):
    path = write_private_file(tmp_path / "p", "x")
    assert os.stat(path).st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_private_file(path, "y")


@pytest.mark.parametrize("kwargs, match", [
    (dict(location="rest:https://{}:{}@host/rae".format("user", "pass")), "A.5.17"),
    (dict(), "exactly one"),
    (dict(location="/srv/r", repository_file="/srv/f"), "exactly one"),
])
def test_unsafe_or_ambiguous_repositories_are_refused(password, kwargs, match):
    with pytest.raises(BaselineViolation, match=match):
        Repository("r", password, **kwargs)


def test_a_password_file_others_can_read_is_refused(tmp_path):
    loose = tmp_path / "loose"
    loose.write_text("password\n")
    loose.chmod(0o640)
    with pytest.raises(BaselineViolation, match="A.8.24"):
        Repository("r", loose, location=str(tmp_path / "repo")).arguments()


def test_restic_secrets_in_the_environment_are_not_passed_on(monkeypatch):
    monkeypatch.setenv("RESTIC_PASSWORD", "leaked")
    monkeypatch.setenv("RESTIC_REPOSITORY", "/elsewhere")
    assert not any(key.startswith("RESTIC_") for key in environment())


def test_config_entries_with_unknown_keys_are_refused():
    with pytest.raises(BaselineViolation, match="unknown keys"):
        Repository.from_config({"name": "r", "password_file": "/p", "location": "/r", "pasword": "x"})
