"""The files data set's drill with the real restic (A.8.13, A.5.30): the newest files snapshot is restored with
`restic restore --verify` into a private scratch directory, every listed file is checked, the ones unchanged since
the snapshot are compared with the live copy, and the scratch copy of the secrets is removed. No Docker: a node
that backs up files only (Node1 without containers) drills them too, and its weekly drill timer has work to do."""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from components import backup_runtime
from components.restic import Repository, write_private_file
from harden.cli import main as harden

pytestmark = pytest.mark.integration


@pytest.fixture
def node(tmp_path) -> dict:
    """A repository on disk, two secret files and a `harden backup` config naming them."""
    if shutil.which("restic") is None:
        pytest.fail("restic is not installed: scripts/apt-packages.sh installs it")
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    files = {secrets / "db-password": "s3cret-one\n", secrets / "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIB\n"}
    for path, content in files.items():
        write_private_file(path, content)
    key = write_private_file(tmp_path / "restic-key", "correct horse battery staple\n")
    repository = tmp_path / "repository"
    log = tmp_path / "backup.jsonl"
    config = tmp_path / "backup.json"
    config.write_text(json.dumps({"repositories": [{"name": "local", "location": str(repository),
                                                    "password_file": str(key)}],
                                  "files": [str(secrets)], "log": str(log)}))
    return {"files": files, "config": config, "log": log,
            "repository": Repository("local", key, location=str(repository)), "secrets": secrets}


def _drills(log: Path) -> list[dict]:
    return [line for line in map(json.loads, log.read_text().splitlines()) if line["action"] == "drill"]


def test_files_drill_restores_verifies_and_compares_with_the_live_files(node, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert harden(["backup", "run", "--config", str(node["config"])]) == 0
    assert harden(["backup", "drill", "--config", str(node["config"])]) == 0
    drill = _drills(node["log"])[-1]
    assert (drill["dataset"], drill["result"], drill["matched"]) == ("files", "ok", True), drill
    assert (drill["files"], drill["compared"]) == (2, 2), drill
    assert drill["rpo_seconds"] < 600 and drill["rto_seconds"] >= 0
    assert not list(tmp_path.glob("rae-drill-files-*")), "the scratch copy of the secrets was left behind"

    # a live file changed since the snapshot is counted, not compared: the drill still matches
    changed = node["secrets"] / "db-password"
    changed.write_text("rotated\n")
    os.utime(changed, (time.time() + 5, time.time() + 5))
    result = backup_runtime.drill_files(node["repository"], _scratch(tmp_path, "second"))
    assert result.matched and (result.files, result.compared) == (2, 1), result


def test_files_drill_fails_on_a_restore_that_does_not_match(node, tmp_path, monkeypatch):
    """The live file was changed after the snapshot but kept the size and modification time restic recorded: the
    restored copy is compared with it and the difference fails the drill."""
    assert harden(["backup", "run", "--config", str(node["config"])]) == 0
    target = node["secrets"] / "ca.crt"
    stat = target.stat()
    target.write_text("-----BEGIN CERTIFICATE-----\nMIIX\n")  # same length, other content
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = backup_runtime.drill_files(node["repository"], _scratch(tmp_path, "mismatch"))
    assert not result.matched and result.compared == 2
    assert [problem.split(":")[0] for problem in result.problems] == [str(target)], result.problems
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert harden(["backup", "drill", "--config", str(node["config"])]) == 1
    assert _drills(node["log"])[-1]["result"] == "fail"


def test_files_drill_without_a_files_snapshot_fails_naming_the_control(node, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert harden(["backup", "drill", "--config", str(node["config"])]) == 1  # nothing backed up yet
    drill = _drills(node["log"])[-1]
    assert drill["result"] == "fail" and "A.8.13" in drill["error"], drill


def _scratch(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"scratch-{name}"
    path.mkdir(mode=0o700)
    return path
