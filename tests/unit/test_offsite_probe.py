"""The append-only probe of an off-site repository against a real `rclone serve restic`: with --append-only the
delete is refused (403), without it the server would delete (404 for the random name the probe asks for), a server
that does not answer decides nothing; and the scheduled check fails on anything but a refusal."""

import json
import secrets
import socket
import subprocess
import time

import pytest

from components.restic import Repository, ResticError, delete_refused, write_private_file
from harden import backup_cli


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=[True, False], ids=["append-only", "plain"])
def server(request, tmp_path):
    """`rclone serve restic` over plain HTTP on 127.0.0.1, append-only or not, with one snapshot file in its store."""
    port = _free_port()
    (tmp_path / "store" / "rae" / "snapshots").mkdir(parents=True)
    kept = tmp_path / "store" / "rae" / "snapshots" / secrets.token_hex(32)
    kept.write_text("{}")
    process = subprocess.Popen(["rclone", "serve", "restic", *(["--append-only"] if request.param else []),
                                "--addr", f"127.0.0.1:{port}", str(tmp_path / "store")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("rclone serve restic did not start")
            time.sleep(0.2)
    location = write_private_file(tmp_path / "offsite.repository", f"rest:http://127.0.0.1:{port}/rae\n")
    password = write_private_file(tmp_path / "offsite.password", "unused\n")
    yield request.param, Repository("offsite", password, repository_file=location), kept
    process.terminate()
    process.wait(timeout=10)


def test_only_an_append_only_server_refuses_the_delete(server):
    append_only, repository, kept = server
    assert delete_refused(repository) is append_only
    assert kept.exists()  # the probe names a snapshot that does not exist: nothing is ever deleted


def test_a_server_that_does_not_answer_decides_nothing(tmp_path):
    location = write_private_file(tmp_path / "r", f"rest:http://127.0.0.1:{_free_port()}/rae\n")
    repository = Repository("offsite", write_private_file(tmp_path / "p", "x\n"), repository_file=location)
    with pytest.raises(ResticError, match="no answer"):
        delete_refused(repository, timeout=2)


def test_a_local_repository_is_not_probed(tmp_path):
    with pytest.raises(ResticError, match="not an append-only REST server"):
        delete_refused(Repository("local", tmp_path / "p", location=str(tmp_path / "repo")))


def test_the_check_logs_the_probe_and_fails_unless_refused(server, tmp_path, monkeypatch, capsys):
    append_only, repository, _ = server
    log = tmp_path / "backup.jsonl"
    config = backup_cli.BackupConfig([repository], {"offsite"}, log)
    monkeypatch.setattr("components.restic.run", lambda *args, **kwargs: None)  # `restic check` itself: not probed here
    status = backup_cli._check(config, [repository], None)
    [line] = [json.loads(text) for text in log.read_text().splitlines()]
    assert line["action"] == "check" and line["append_only"] is True and line["delete_refused"] is append_only
    assert status == (0 if append_only else 1)
    assert append_only or "accepted" in capsys.readouterr().err
