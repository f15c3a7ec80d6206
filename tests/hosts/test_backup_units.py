"""The node's backup units (hosts/backup_units.py), checked by systemd's own `systemd-analyze verify` and against
the baseline: hardened services, timers on the baseline's schedule, README lines equal to what runs (A.8.13)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from baseline import BACKUP, BaselineViolation
from hosts import backup_units

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def rendered(tmp_path) -> dict[str, Path]:
    """The units for this checkout (its .venv/bin/harden exists), written where systemd-analyze reads them."""
    config = tmp_path / "backup.json"
    config.write_text("{}")
    paths = {}
    for name, text in backup_units.units(str(REPO), str(config), (str(tmp_path),)).items():
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def _settings(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))


def test_systemd_accepts_every_unit_without_a_warning(rendered):
    assert shutil.which("systemd-analyze"), "systemd-analyze is part of the test environment (systemd package)"
    verified = subprocess.run(["systemd-analyze", "verify", *map(str, rendered.values())], capture_output=True,
                              text=True)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr


def test_systemd_flags_a_unit_that_is_wrong(rendered, tmp_path):
    """The check above can fail: a service whose command does not exist is reported."""
    broken = tmp_path / "rae-backup-broken.service"
    broken.write_text(rendered["rae-backup-run.service"].read_text().replace(".venv/bin/harden", ".venv/bin/nothing"))
    verified = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True)
    assert verified.returncode != 0 and "is not executable" in verified.stderr


@pytest.mark.parametrize("action", backup_units.ACTIONS)
def test_each_service_runs_hardened_as_its_own_user(rendered, action, tmp_path):
    settings = _settings(rendered[f"rae-backup-{action}.service"])
    assert settings["User"] == backup_units.SERVICE_USER != "root"
    assert (settings["NoNewPrivileges"], settings["ProtectSystem"], settings["ProtectHome"]) == ("yes", "strict", "yes")
    assert set(settings["CapabilityBoundingSet"].split()) == {"CAP_DAC_READ_SEARCH", "CAP_CHOWN"}
    assert settings["AmbientCapabilities"] == settings["CapabilityBoundingSet"]
    assert set(settings["ReadWritePaths"].split()) == {str(tmp_path), backup_units.STATE_DIR}
    assert settings["ExecStart"].endswith(f"harden backup {action} --config {tmp_path / 'backup.json'}")
    assert settings["SyslogIdentifier"] == "rae-backup" and "PrivateTmp" not in settings


def test_timers_follow_the_baseline(rendered):
    calendars = {action: _settings(rendered[f"rae-backup-{action}.timer"])["OnCalendar"]
                 for action in backup_units.ACTIONS}
    assert calendars["run"] == f"*-*-* {BACKUP.start_time}:00 UTC"
    assert calendars["forget"].startswith("Sun ") and calendars["drill"].startswith("Sun ")  # weekly
    assert BACKUP.drill_interval_days >= 7 and BACKUP.rpo_hours >= 24  # a daily run and a weekly drill keep both
    for action, expression in calendars.items():
        parsed = subprocess.run(["systemd-analyze", "calendar", expression], capture_output=True, text=True)
        assert parsed.returncode == 0, parsed.stderr
        assert _settings(rendered[f"rae-backup-{action}.timer"])["Unit"] == f"rae-backup-{action}.service"
        assert _settings(rendered[f"rae-backup-{action}.timer"])["Persistent"] == "true"


def test_relative_paths_are_refused():
    with pytest.raises(BaselineViolation, match="absolute"):
        backup_units.service_unit("run", "opt/rae", "/srv/backup.json", ())
    with pytest.raises(BaselineViolation, match="not one of"):
        backup_units.service_name("delete")


def test_readme_documents_the_schedule_that_runs():
    readme = (REPO / "README.md").read_text()
    for line in backup_units.cron_lines("/path/to/repo", "CONFIG").splitlines():
        assert re.sub(r"\s+", " ", line) in re.sub(r"[ \t]+", " ", readme), line
    for expression in backup_units.schedule().values():
        assert f"OnCalendar={expression}" in readme, expression


# The Qdrant data set on a node: what hosts/deploys/backup.py reads (facts) and requires (hosts.desired).
QDRANT_ENTRY = {"url": "https://qdrant:6333", "read_only_api_key_file": "/srv/data/secrets/qdrant-read-only-key",
                "snapshot_token_file": "/srv/data/backup-credentials/qdrant-snapshot-token", "cacert": "/srv/ca.pem"}


def test_a_node_running_qdrant_backs_it_up_with_the_read_only_key_and_the_token():
    from hosts import desired

    running = desired.runs_qdrant(["rae-local-postgres", "rae-local-qdrant-store", "rae-local-qdrant"])
    assert running and not desired.runs_qdrant(["rae-local-postgres"]) and not desired.runs_qdrant(None)
    assert desired.backup_qdrant_credentials(QDRANT_ENTRY, running) == {
        "read_only_api_key_file": QDRANT_ENTRY["read_only_api_key_file"],
        "snapshot_token_file": QDRANT_ENTRY["snapshot_token_file"]}
    assert desired.backup_qdrant_credentials({}, qdrant_running=False) == {}
    assert desired.backup_qdrant_credentials(None, qdrant_running=False) == {}


@pytest.mark.parametrize("entry, running, message", [
    ({}, True, "runs Qdrant but its backup config has no `qdrant`.*A.8.13"),
    (None, True, "runs Qdrant but its backup config has no `qdrant`"),
    (dict(QDRANT_ENTRY, api_key_file="/srv/data/secrets/qdrant-api-key"), True, "full-access.*A.5.15"),
    ({k: v for k, v in QDRANT_ENTRY.items() if k != "snapshot_token_file"}, True, r"lacks \['snapshot_token_file'\]"),
    ({"unreadable": "not JSON (Expecting value)"}, False, "cannot be read: not JSON"),
])
def test_a_node_whose_backup_misses_or_overreaches_qdrant_is_refused(entry, running, message):
    from hosts import desired

    with pytest.raises(BaselineViolation, match=message):
        desired.backup_qdrant_credentials(entry, running)


def test_the_facts_read_the_config_entry_and_the_running_containers():
    import json

    from hosts.facts.node import BackupConfigQdrant, RunningContainerNames

    config = BackupConfigQdrant()
    assert config.process(json.dumps({"repositories": [], "qdrant": QDRANT_ENTRY}, indent=1).splitlines()) == QDRANT_ENTRY
    assert config.process(['{"repositories": []}']) == {}
    assert config.process([]) is None
    assert config.process(["{not json"]) == {"unreadable": "not JSON (Expecting property name enclosed in double quotes)"}
    assert config.process(["[]"]) == {"unreadable": "not a JSON object"}
    names = RunningContainerNames()
    assert names.process(["rae-local-qdrant-store", ""]) == ["rae-local-qdrant-store"]
    assert names.process(["!unreachable"]) is None
