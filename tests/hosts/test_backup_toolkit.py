"""What the node's backup timers run (hosts/backup_toolkit.py, hosts/deploys/backup.py): the toolkit's archive is
reproducible, the node's lock pins what the main lock pins, `harden backup` imports nothing of the gate or the audit,
the docker group only for container data sets, and the verifier's checks of both can fail. The install itself runs on
the Node1 VM (tests/hosts/test_node1_vm.py)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from baseline import BaselineViolation
from hosts import backup_toolkit, backup_units
from hosts.desired import backup_needs_docker
from hosts.verify import backup_checks

REPO = Path(__file__).resolve().parents[2]


def test_the_archive_is_reproducible_and_holds_the_packages():
    first = backup_toolkit.source_archive()
    backup_toolkit.source_archive.cache_clear()
    assert backup_toolkit.source_archive() == first  # same tree, same bytes: an unchanged node uploads nothing
    import io
    import tarfile
    names = tarfile.open(fileobj=io.BytesIO(first)).getnames()
    assert {"pyproject.toml", backup_toolkit.LOCK, "harden/backup_cli.py", "components/restic.py",
            "baseline/__init__.py"} <= set(names)
    assert not [name for name in names if "__pycache__" in name or name.startswith(".")]


def test_the_node_lock_pins_the_main_locks_versions_with_hashes():
    main = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+)", (REPO / "requirements.lock").read_text(), re.M))
    pins = backup_toolkit.pinned_wheels()
    assert pins and "cryptography" in pins
    assert {name: main.get(name) for name in pins} == pins
    lock = (REPO / backup_toolkit.LOCK).read_text()
    assert all(f"{name}=={version} \\\n    --hash=sha256:" in lock for name, version in pins.items())


def test_harden_backup_imports_neither_the_gate_nor_the_audit(tmp_path):
    """The node's venv holds only requirements-backup.lock: `harden backup` must not import what it lacks."""
    probe = ("import sys; from harden.cli import main; code = main(['backup', 'run', '--config', sys.argv[1]]); "
             "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('yaml', 'pulumi', 'pyinfra', 'checkov') "
             "or m in ('harden.gate_cli', 'harden.audit_cli')))")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "missing.json")], capture_output=True,
                          text=True, cwd=REPO)
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
    assert "A.8.13" in done.stderr


@pytest.mark.parametrize("datasets, docker", [(["files"], False), (["files", "postgres"], True), (["qdrant"], True),
                                              ([], False), (None, False)])
def test_docker_group_only_for_container_data_sets(datasets, docker):
    assert backup_needs_docker(datasets) is docker


def test_unreadable_config_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.13"):
        backup_needs_docker(["unreadable"])


def test_units_without_docker_neither_require_it_nor_join_its_group():
    service = backup_units.service_unit("run", "/opt/rae", "/srv/data/backup-credentials/backup.json",
                                        ("/srv/data/backup",), docker=False)
    assert "docker" not in service
    assert "CapabilityBoundingSet=CAP_DAC_READ_SEARCH\n" in service and "CAP_CHOWN" not in service
    with_docker = backup_units.service_unit("run", "/opt/rae", "/x/backup.json", ("/x",))
    assert "SupplementaryGroups=docker" in with_docker and "Requires=docker.service" in with_docker


def test_verifier_fails_a_stale_toolkit_and_a_needless_docker_group():
    current = {"stamp": backup_toolkit.stamp(), "runs": True}
    checks = backup_checks(["files"], current, [backup_units.SERVICE_USER])
    assert [check["status"] for check in checks] == ["pass", "pass"]
    stale = backup_checks(["files"], {"stamp": "0" * 64, "runs": True}, [backup_units.SERVICE_USER, "docker"])
    assert [check["status"] for check in stale] == ["fail", "fail"]
    assert backup_checks(["postgres"], current, [backup_units.SERVICE_USER])[1]["status"] == "fail"
    assert backup_checks(["files"], {"stamp": backup_toolkit.stamp(), "runs": False}, None)[0]["status"] == "fail"
    assert backup_checks(None, current, None)[0]["status"] == "fail"  # backup_config set, no config on the node
