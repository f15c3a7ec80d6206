"""The recovery objectives are enforced where the backups run: a drill slower than the RTO, or restoring a snapshot
older than the RPO, fails however well the data matched; the daily timer cannot be scheduled against an RPO it
cannot meet. (The audit's reading of the same records is tests/audit/test_backup_evidence.py.)"""

import pytest

from baseline import BACKUP, BaselineViolation, Setting
from harden.backup_cli import objectives_missed
from hosts import backup_units


def test_a_drill_within_the_objectives_misses_nothing():
    assert objectives_missed(BACKUP.rto_minutes * 60, BACKUP.rpo_hours * 3600) == []


@pytest.mark.parametrize("rto, rpo, missed", [
    (BACKUP.rto_minutes * 60 + 1, 60, "RTO"),
    (60, BACKUP.rpo_hours * 3600 + 1, "RPO"),
])
def test_a_drill_beyond_an_objective_fails(rto, rpo, missed):
    [problem] = objectives_missed(rto, rpo)
    assert missed in problem


def test_the_daily_timer_is_refused_for_an_rpo_it_cannot_meet(monkeypatch):
    assert backup_units.schedule()["run"].startswith("*-*-* ")
    monkeypatch.setitem(BACKUP._settings, "rpo_hours", Setting(24, BACKUP.controls("rpo_hours"), "too tight"))
    with pytest.raises(BaselineViolation, match="rpo_hours") as refused:
        backup_units.schedule()
    assert refused.value.controls == BACKUP.controls("rpo_hours")
