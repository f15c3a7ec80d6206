"""Backup evidence for A.8.13 (and A.5.30): how old the last good backup of each data set is, per repository,
how many copies are fresh, what the last restore drill and repository check found, and how long the Qdrant snapshot
token stays valid, against baseline.BACKUP.

Reads the JSON-lines log that `harden backup` writes (harden/backup_log.py). What the log does not show is
`unknown`, never `pass`: a data set never backed up, a repository never checked, no drill on record.

    >>> evidence = collect(Path("/var/log/rae/backup.jsonl"), datasets=("postgres", "qdrant", "files"))
"""

from datetime import datetime, timezone
from pathlib import Path

from baseline import BACKUP
from harden import backup_log
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence

SOURCE = "backup"
# Both stores of the memory service and the secret files: a data set left out of the audit is never seen as missing.
DEFAULT_DATASETS = ("postgres", "qdrant", "files")
# Data sets a drill restores and compares (files: restic restore --verify, then compared with the live files).
DRILLED = ("postgres", "qdrant", "files")


def _age_seconds(stamp: str, now: datetime) -> float | None:
    try:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
    return (now - moment).total_seconds()


def _latest(lines: list[dict], **match) -> dict | None:
    chosen = [line for line in lines if all(line.get(key) == value for key, value in match.items())]
    return max(chosen, key=lambda line: line.get("time", ""), default=None)


def _evidence(subject: str, check: str, expected, actual, status: str, controls, detail: str = "") -> Evidence:
    return Evidence(SOURCE, f"backup/{subject}", check, expected, actual, status, tuple(controls), detail)


def collect(log_path: Path, datasets: tuple[str, ...] = DEFAULT_DATASETS, now: datetime | None = None) -> list[Evidence]:
    """Evidence from the backup log at `log_path` for every data set in `datasets` (by default Postgres, Qdrant and
    the secret files; a data set with nothing on record is unknown per repository and fails its copies)."""
    now = now or datetime.now(timezone.utc)
    rpo_s = BACKUP.rpo_hours * 3600
    if not log_path.is_file():
        return [_evidence("log", "readable", "a backup log written by `harden backup`", "missing", UNKNOWN,
                          BACKUP.controls("rpo_hours"), f"{log_path} does not exist: no backup has run")]
    lines, problems = backup_log.read(log_path)
    evidence = [_evidence("log", "well_formed", "every line a backup log record", f"{len(problems)} malformed",
                          FAIL, ("A.8.13", "A.5.33"), "; ".join(problems[:5]))] if problems else []
    repositories = sorted({line["repository"] for line in lines if line.get("repository")})
    for dataset in datasets:
        fresh = []
        for repository in repositories or ["(none)"]:
            good = _latest(lines, action="backup", result="ok", dataset=dataset, repository=repository)
            age = _age_seconds(good["time"], now) if good else None
            if age is None:
                status, actual = UNKNOWN, "no successful backup on record"
            else:
                status, actual = (PASS if age <= rpo_s else FAIL), f"{age / 3600:.1f} h ago"
                if status == PASS:
                    fresh.append(repository)
            evidence.append(_evidence(f"{dataset}/{repository}", "last_success_age", f"<= {BACKUP.rpo_hours} h",
                                      actual, status, BACKUP.controls("rpo_hours"),
                                      f"snapshot {good.get('snapshot', '?')}" if good else ""))
        # Two fresh repositories plus the live data are the three copies; fewer is a fail once anything is on record.
        needed = BACKUP.copies - 1
        status = PASS if len(fresh) >= needed else (UNKNOWN if not lines else FAIL)
        evidence.append(_evidence(dataset, "fresh_copies", f">= {needed} repositories within the RPO (+ live data)",
                                  fresh, status, BACKUP.controls("copies")))
    for dataset in (name for name in datasets if name in DRILLED):
        evidence += _drill_evidence(lines, dataset, now)
    if "qdrant" in datasets:
        evidence.append(_token_evidence(lines, now))
    # `restic check --read-data-subset` decrypts and authenticates the packs it reads: a pass observes the baseline's
    # encryption (restic: AES-256-CTR + Poly1305-AES) in force as much as the repository's integrity.
    integrity = f"{BACKUP.encryption} check ok (packs decrypt and authenticate)"
    controls = tuple(dict.fromkeys(BACKUP.controls("check_read_data_subset") + BACKUP.controls("encryption")))
    for repository in repositories:
        check = _latest(lines, action="check", repository=repository)
        if check is None:
            evidence.append(_evidence(f"repository/{repository}", "integrity_check", integrity,
                                      "no check on record", UNKNOWN, controls))
        else:
            evidence.append(_evidence(f"repository/{repository}", "integrity_check", integrity,
                                      f"{check['result']} at {check['time']}", PASS if check["result"] == "ok" else FAIL,
                                      controls, check.get("error", "")))
        evidence.append(_retention_evidence(lines, repository, now))
    if BACKUP.offsite_append_only and lines:
        evidence += _append_only_evidence(lines, repositories)
    return evidence


def _append_only_evidence(lines: list[dict], repositories: list[str]) -> list[Evidence]:
    """The last check of each repository declared append-only probed its server with a delete made with the backed-up
    host's credentials: refused (403) passes, accepted fails, no probe is unknown; no repository declared append-only
    on record is unknown too (the off-site copy's protection was never observed)."""
    expected, controls = "a delete with this host's credentials refused (403)", BACKUP.controls("offsite_append_only")
    checks = {repository: _latest(lines, action="check", result="ok", repository=repository)
              for repository in repositories}
    declared = {name: check for name, check in checks.items() if check and check.get("append_only")}
    if not declared:
        return [_evidence("offsite", "append_only", expected, "no check on record probes an append-only repository",
                          UNKNOWN, controls, "declare the off-site repository `append_only` in the backup config")]
    found = []
    for name, check in sorted(declared.items()):
        refused = check.get("delete_refused")
        actual = {True: "refused", False: "accepted: the server would delete"}.get(refused, "not probed")
        found.append(_evidence(f"repository/{name}", "append_only", expected, f"{actual} at {check['time']}",
                               PASS if refused is True else FAIL if refused is False else UNKNOWN, controls,
                               "; ".join(check.get("problems") or [])))
    return found


def _retention_evidence(lines: list[dict], repository: str, now: datetime) -> Evidence:
    """The last `forget` pruned to the baseline's days within the last week (the weekly timer's period + a day)."""
    expected = f"forget --keep-within {BACKUP.retention_days}d within 8 d"
    forget = _latest(lines, action="forget", repository=repository)
    subject, controls = f"repository/{repository}", BACKUP.controls("retention_days")
    if forget is None:
        return _evidence(subject, "retention", expected, "no forget on record", UNKNOWN, controls)
    if forget.get("skipped"):
        # An append-only copy is pruned by its own operator: nothing here shows that it was.
        return _evidence(subject, "retention", expected, "pruned by the off-site operator (not observed)", UNKNOWN,
                         controls, forget["skipped"])
    age = _age_seconds(forget["time"], now)
    if forget["result"] != "ok":
        return _evidence(subject, "retention", expected, f"failed at {forget['time']}", FAIL, controls,
                         forget.get("error", ""))
    days = forget.get("keep_within_days")
    status = PASS if days == BACKUP.retention_days and age is not None and age <= 8 * 86400 else FAIL
    actual = f"--keep-within {days}d, {'unreadable time' if age is None else f'{age / 86400:.1f} d ago'}"
    return _evidence(subject, "retention", expected, actual, status, controls)


def _token_evidence(lines: list[dict], now: datetime) -> Evidence:
    """The Qdrant snapshot token's expiry as the last run or renewal read it: failing within the warning window."""
    window = BACKUP.snapshot_token_warn_days
    subject, expected = "qdrant/snapshot_token", f"expires in more than {window} d"
    controls = BACKUP.controls("snapshot_token_warn_days")
    token = _latest(lines, action="token", dataset="qdrant")
    if token is None:
        return _evidence(subject, "expiry", expected, "no token expiry on record", UNKNOWN, controls)
    since_expiry = _age_seconds(token.get("token_expires"), now)
    if since_expiry is None:
        return _evidence(subject, "expiry", expected, "unreadable", UNKNOWN, controls,
                         f"{token['time']}: {token.get('error', 'no expiry recorded')}")
    left_days = -since_expiry / 86400
    actual = (f"expired {-left_days:.1f} d ago" if left_days <= 0 else f"{left_days:.1f} d left") + \
        f" (until {token['token_expires']})"
    return _evidence(subject, "expiry", expected, actual, PASS if left_days > window else FAIL, controls,
                     f"read at {token['time']}; renew with `harden backup qdrant-token --renew-if-within {window}`")


def _drill_evidence(lines: list[dict], dataset: str, now: datetime) -> list[Evidence]:
    drill = _latest(lines, action="drill", dataset=dataset)
    subject = f"drill/{dataset}"
    controls = BACKUP.controls("restore_verified")
    if drill is None:
        return [_evidence(subject, name, expected, "no drill on record", UNKNOWN, controls)
                for name, expected in (("last_result", "matched"), ("rto", f"<= {BACKUP.rto_minutes} min"),
                                       ("rpo", f"<= {BACKUP.rpo_hours} h"),
                                       ("last_drill_age", f"<= {BACKUP.drill_interval_days} d"))]
    where = f"repository {drill.get('repository', '?')}, snapshot {drill.get('snapshot', '?')}"
    age = _age_seconds(drill["time"], now)
    rto, rpo = drill.get("rto_seconds"), drill.get("rpo_seconds")
    evidence = [
        _evidence(subject, "last_result", "matched", "matched" if drill["result"] == "ok" else drill.get("error") or
                  "; ".join(drill.get("problems", [])) or "failed", PASS if drill["result"] == "ok" else FAIL,
                  controls, where),
        _evidence(subject, "rto", f"<= {BACKUP.rto_minutes} min",
                  "not measured" if rto is None else f"{rto:.1f} s",
                  UNKNOWN if rto is None else (PASS if rto <= BACKUP.rto_minutes * 60 else FAIL),
                  BACKUP.controls("rto_minutes"), where),
        _evidence(subject, "rpo", f"<= {BACKUP.rpo_hours} h",
                  "not measured" if rpo is None else f"{rpo / 3600:.2f} h",
                  UNKNOWN if rpo is None else (PASS if rpo <= BACKUP.rpo_hours * 3600 else FAIL),
                  BACKUP.controls("rpo_hours"), where),
        _evidence(subject, "last_drill_age", f"<= {BACKUP.drill_interval_days} d",
                  "unreadable time" if age is None else f"{age / 86400:.1f} d",
                  UNKNOWN if age is None else (PASS if age <= BACKUP.drill_interval_days * 86400 else FAIL),
                  BACKUP.controls("drill_interval_days"), where),
    ]
    return evidence
