"""Backup evidence read from the `harden backup` log: unknown when unseen, fail when older or slower than the baseline."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from baseline import BACKUP
from harden import backup_log
from harden.audit import backups
from harden.audit.evidence import FAIL, PASS, UNKNOWN
from harden.audit.run import AuditOptions, collect
from harden.audit.redact import Redactor

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def stamp(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_log(path, *lines: dict):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def backup_line(dataset: str, repository: str, hours_ago: float, result: str = "ok") -> dict:
    return {"time": stamp(hours_ago), "action": "backup", "result": result, "dataset": dataset,
            "repository": repository, "snapshot": "abcd1234"}


def drill_line(hours_ago: float, rto_s: float, rpo_s: float, result: str = "ok", dataset: str = "postgres") -> dict:
    return {"time": stamp(hours_ago), "action": "drill", "result": result, "dataset": dataset,
            "repository": "offsite", "matched": result == "ok", "rto_seconds": rto_s, "rpo_seconds": rpo_s}


def by_key(evidence) -> dict:
    return {(item.subject, item.check): item.status for item in evidence}


def token_line(days_left: float | None, hours_ago: float = 2, result: str = "ok") -> dict:
    """A `token` line as a backup run writes it; days_left None: the token could not be read."""
    line = {"time": stamp(hours_ago), "action": "token", "result": result, "dataset": "qdrant"}
    if days_left is None:
        return line | {"result": "fail", "error": "the Qdrant snapshot token cannot be read"}
    return line | {"token_expires": stamp(hours_ago - days_left * 24), "token_days_left": days_left}


def fresh_lines(hours_ago: float = 2, datasets: tuple[str, ...] = ("postgres", "qdrant", "files")) -> list[dict]:
    return ([token_line(BACKUP.snapshot_token_warn_days + 10, hours_ago)] if "qdrant" in datasets else []) + [
        backup_line(dataset, repository, hours_ago) for dataset in datasets
            for repository in ("local", "offsite")] + [
        {"time": stamp(hours_ago), "action": "check", "result": "ok", "repository": "local"},
        {"time": stamp(hours_ago), "action": "check", "result": "ok", "repository": "offsite", "append_only": True,
         "delete_refused": True}] + [
        {"time": stamp(hours_ago), "action": "forget", "result": "ok", "repository": "local",
         "keep_within_days": BACKUP.retention_days},
        {"time": stamp(hours_ago), "action": "forget", "result": "ok", "repository": "offsite",
         "skipped": "append-only repository: pruned by its own operator"}]

# The off-site copy's pruning is its operator's: the audit cannot observe it, so it stays unknown.
OFFSITE_RETENTION = ("backup/repository/offsite", "retention")


def test_no_log_is_unknown_never_pass(tmp_path):
    evidence = backups.collect(tmp_path / "absent.jsonl", now=NOW)
    assert [item.status for item in evidence] == [UNKNOWN]
    assert "A.8.13" in evidence[0].controls


def test_fresh_backups_checks_and_a_good_drill_pass(tmp_path):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(), drill_line(20, rto_s=90, rpo_s=3600),
                    drill_line(20, rto_s=60, rpo_s=3600, dataset="qdrant"),
                    drill_line(20, rto_s=2, rpo_s=3600, dataset="files"))
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/drill/files", "last_result")] == PASS
    assert statuses[("backup/postgres/offsite", "last_success_age")] == PASS
    assert statuses[("backup/qdrant/offsite", "last_success_age")] == PASS
    assert statuses[("backup/drill/qdrant", "last_result")] == PASS
    assert statuses[("backup/files", "fresh_copies")] == PASS
    assert statuses[("backup/drill/postgres", "rto")] == PASS and statuses[("backup/drill/postgres", "rpo")] == PASS
    assert statuses[("backup/repository/offsite", "integrity_check")] == PASS
    assert statuses[("backup/repository/local", "retention")] == PASS and statuses.pop(OFFSITE_RETENTION) == UNKNOWN
    assert set(statuses.values()) == {PASS}


def test_backups_older_than_the_rpo_fail(tmp_path):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(BACKUP.rpo_hours + 1), drill_line(1, 90, 3600))
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/postgres/local", "last_success_age")] == FAIL
    assert statuses[("backup/postgres", "fresh_copies")] == FAIL


def test_only_a_local_copy_fails_3_2_1(tmp_path):
    log = write_log(tmp_path / "log.jsonl", backup_line("postgres", "local", 1), backup_line("files", "local", 1))
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/postgres/local", "last_success_age")] == PASS
    assert statuses[("backup/postgres", "fresh_copies")] == FAIL


def test_a_failed_backup_is_not_a_success(tmp_path):
    log = write_log(tmp_path / "log.jsonl", backup_line("postgres", "local", 1, result="fail"))
    assert by_key(backups.collect(log, now=NOW))[("backup/postgres/local", "last_success_age")] == UNKNOWN


@pytest.mark.parametrize("drill, failing", [
    (drill_line(1, rto_s=BACKUP.rto_minutes * 60 + 1, rpo_s=60), "rto"),
    (drill_line(1, rto_s=60, rpo_s=BACKUP.rpo_hours * 3600 + 1), "rpo"),
    (drill_line(BACKUP.drill_interval_days * 24 + 1, rto_s=60, rpo_s=60), "last_drill_age"),
    (drill_line(1, rto_s=60, rpo_s=60, result="fail"), "last_result"),
])
def test_a_drill_beyond_the_baseline_fails(tmp_path, drill, failing):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(), drill)
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/drill/postgres", failing)] == FAIL
    assert [key for key, status in statuses.items() if status == FAIL] == [("backup/drill/postgres", failing)]


def test_no_drill_on_record_is_unknown(tmp_path):
    statuses = by_key(backups.collect(write_log(tmp_path / "log.jsonl", *fresh_lines()), now=NOW))
    assert statuses[("backup/drill/postgres", "last_result")] == UNKNOWN and statuses[("backup/drill/postgres", "rto")] == UNKNOWN


def test_malformed_lines_are_reported_not_skipped(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("not json\n" + json.dumps(backup_line("postgres", "local", 1)) + "\n")
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/log", "well_formed")] == FAIL


def test_the_log_refuses_unknown_fields_and_actions():
    with pytest.raises(ValueError, match="unknown fields"):
        backup_log.record("backup", "ok", password="x")
    with pytest.raises(ValueError, match="action"):
        backup_log.record("delete", "ok")


def test_the_audit_collects_backup_evidence_when_given_the_log(tmp_path):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(0))
    options = AuditOptions(out=tmp_path / "out", containers=False, backup_log=str(log))
    evidence, errors, *_ = collect(options, [], Redactor(), tmp_path)
    assert not errors
    assert {item.source for item in evidence} == {"backup"}
    assert ("backup/postgres/local", "last_success_age") in by_key(evidence)


def test_a_deployed_data_set_without_backups_is_unknown(tmp_path):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(datasets=("postgres", "files")))
    statuses = by_key(backups.collect(log, now=NOW))
    assert statuses[("backup/qdrant/local", "last_success_age")] == UNKNOWN
    assert statuses[("backup/qdrant", "fresh_copies")] == FAIL
    assert statuses[("backup/drill/qdrant", "last_result")] == UNKNOWN


def test_the_audit_reads_postgres_qdrant_and_files_by_default(tmp_path):
    """Without --backup-dataset the audit asks for every store: a log with no Qdrant line shows Qdrant unknown."""
    assert backups.DEFAULT_DATASETS == ("postgres", "qdrant", "files")
    assert AuditOptions(out=tmp_path / "out").backup_datasets == list(backups.DEFAULT_DATASETS)
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(0, datasets=("postgres", "files")))
    options = AuditOptions(out=tmp_path / "out", containers=False, backup_log=str(log))
    evidence, errors, *_ = collect(options, [], Redactor(), tmp_path)
    qdrant = {(item.subject, item.check): item.status for item in evidence if "qdrant" in item.subject}
    assert qdrant[("backup/qdrant/local", "last_success_age")] == UNKNOWN
    assert PASS not in qdrant.values() and qdrant


def test_an_unknown_data_set_name_is_refused(tmp_path):
    from harden.audit.run import AuditInputError, validate

    with pytest.raises(AuditInputError, match="A.8.13"):
        validate(AuditOptions(out=tmp_path / "out", backup_datasets=["qdrnt"]))


def test_each_drilled_data_set_needs_its_own_drill(tmp_path):
    """A Postgres drill says nothing about Qdrant: with Qdrant deployed, its drill is judged on its own lines."""
    qdrant_backups = [backup_line("qdrant", repository, 2) for repository in ("local", "offsite")]
    fresh = fresh_lines(datasets=("postgres", "files"))
    log = write_log(tmp_path / "log.jsonl", *fresh, *qdrant_backups, drill_line(20, rto_s=90, rpo_s=3600))
    statuses = by_key(backups.collect(log, ("postgres", "files", "qdrant"), now=NOW))
    assert statuses[("backup/qdrant", "fresh_copies")] == PASS
    assert statuses[("backup/drill/postgres", "last_result")] == PASS
    assert statuses[("backup/drill/qdrant", "last_result")] == UNKNOWN
    qdrant_drill = dict(drill_line(1, rto_s=BACKUP.rto_minutes * 60 + 1, rpo_s=60), dataset="qdrant")
    statuses = by_key(backups.collect(write_log(tmp_path / "log2.jsonl", *fresh, *qdrant_backups,
                                                drill_line(20, 90, 3600), qdrant_drill),
                                      ("postgres", "files", "qdrant"), now=NOW))
    assert statuses[("backup/drill/qdrant", "last_result")] == PASS
    assert [key for key, status in statuses.items() if status == FAIL] == [("backup/drill/qdrant", "rto")]
    assert statuses[("backup/drill/files", "last_result")] == UNKNOWN  # no files drill on record


@pytest.mark.parametrize("forget, status", [
    ({"keep_within_days": BACKUP.retention_days}, PASS),
    ({"keep_within_days": BACKUP.retention_days + 30}, FAIL),
    ({"keep_within_days": BACKUP.retention_days, "hours_ago": 9 * 24}, FAIL),
    ({"result": "fail", "error": "restic forget failed"}, FAIL),
])
def test_retention_is_read_from_the_last_forget(tmp_path, forget, status):
    line = {"time": stamp(forget.pop("hours_ago", 1)), "action": "forget", "result": forget.pop("result", "ok"),
            "repository": "local", **forget}
    statuses = by_key(backups.collect(write_log(tmp_path / "log.jsonl", backup_line("postgres", "local", 1), line),
                                      now=NOW))
    assert statuses[("backup/repository/local", "retention")] == status


TOKEN = ("backup/qdrant/snapshot_token", "expiry")


@pytest.mark.parametrize("lines, status", [
    ([token_line(BACKUP.snapshot_token_warn_days + 1)], PASS),                   # fine
    ([token_line(BACKUP.snapshot_token_warn_days - 1)], FAIL),                   # within the warning window
    ([token_line(-2, result="fail")], FAIL),                                     # expired
    # Logged 30 d left 20 days ago: 10 d left now, judged at the audit's time, not the run's.
    ([token_line(30, hours_ago=20 * 24)], FAIL),
    ([token_line(None)], UNKNOWN),                                               # unreadable
    ([token_line(40, hours_ago=5), token_line(None, hours_ago=1)], UNKNOWN),     # unreadable since: not the old pass
    ([token_line(5, hours_ago=5), token_line(40, hours_ago=1)], PASS),           # renewed
    ([], UNKNOWN),                                                               # never read
])
def test_the_snapshot_token_fails_within_the_warning_window(tmp_path, lines, status):
    fresh = [line for line in fresh_lines() if line["action"] != "token"]
    evidence = backups.collect(write_log(tmp_path / "log.jsonl", *fresh, *lines), now=NOW)
    token = next(item for item in evidence if (item.subject, item.check) == TOKEN)
    assert token.status == status, token
    assert "A.8.13" in token.controls and "A.5.17" in token.controls


def test_no_token_evidence_without_qdrant(tmp_path):
    log = write_log(tmp_path / "log.jsonl", *fresh_lines(datasets=("postgres", "files")))
    assert TOKEN not in by_key(backups.collect(log, ("postgres", "files"), now=NOW))


def test_a_log_created_by_root_belongs_to_its_directory_s_owner(tmp_path):
    """An operator's `harden backup qdrant-token` (root) may write the first line: the backup user must still append."""
    import os

    assert os.geteuid() == 0, "the suites run as root (README: make test on a fresh machine, as root)"
    directory = tmp_path / "backups"
    directory.mkdir()
    os.chown(directory, 4242, 4243)
    backup_log.append(directory / "backup.jsonl", backup_log.record("token", "ok", dataset="qdrant"))
    info = (directory / "backup.jsonl").stat()
    assert (info.st_uid, info.st_gid, oct(info.st_mode & 0o777)) == (4242, 4243, "0o600")
    backup_log.append(directory / "backup.jsonl", backup_log.record("token", "ok", dataset="qdrant"))
    assert len((directory / "backup.jsonl").read_text().splitlines()) == 2


OFFSITE_APPEND_ONLY = ("backup/repository/offsite", "append_only")


def _offsite_check(**fields) -> dict:
    return {"time": stamp(1), "action": "check", "result": "ok", "repository": "offsite", **fields}


@pytest.mark.parametrize("check, status", [
    (_offsite_check(append_only=True, delete_refused=True), PASS),
    (_offsite_check(append_only=True, delete_refused=False), FAIL),
    (_offsite_check(append_only=True, problems=["append-only probe: no answer"]), UNKNOWN),
])
def test_the_offsite_delete_probe_is_judged(tmp_path, check, status):
    evidence = {(e.subject, e.check): e for e in backups.collect(write_log(tmp_path / "log.jsonl", *fresh_lines(), check),
                                                                   now=NOW)}
    assert evidence[OFFSITE_APPEND_ONLY].status == status
    assert evidence[OFFSITE_APPEND_ONLY].controls == BACKUP.controls("offsite_append_only")


def test_no_append_only_repository_on_record_is_unknown(tmp_path):
    lines = [line for line in fresh_lines() if line["action"] != "check"] + [_offsite_check()]
    statuses = by_key(backups.collect(write_log(tmp_path / "log.jsonl", *lines), now=NOW))
    assert statuses[("backup/offsite", "append_only")] == UNKNOWN and OFFSITE_APPEND_ONLY not in statuses


def test_the_integrity_check_carries_the_encryption_controls(tmp_path):
    evidence = {(e.subject, e.check): e for e in backups.collect(write_log(tmp_path / "log.jsonl", *fresh_lines()),
                                                                   now=NOW)}
    check = evidence[("backup/repository/local", "integrity_check")]
    assert set(BACKUP.controls("encryption")) <= set(check.controls) and BACKUP.encryption in check.expected
