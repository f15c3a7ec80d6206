"""The backup log: one JSON object per line, one line per run of one action on one data set and repository.

`harden backup` writes it; `harden audit --backup-log` reads it (harden/audit/backups.py). A line:

    {"time": "2026-11-30T02:00:07Z", "action": "backup", "dataset": "postgres", "repository": "offsite",
     "result": "ok", "snapshot": "4f1c...", "taken_at": "2026-11-30T02:00:01Z", "seconds": 5.2, ...}

`action` is one of ACTIONS, `result` "ok" or "fail" (a failure carries `error`). Drill lines carry
`rto_seconds`, `rpo_seconds` and `matched`; token lines (the Qdrant snapshot token, read by each run and
written by `harden backup qdrant-token`) carry `token_expires` and `token_days_left`, never the token; a check
of an append-only repository carries `append_only` and `delete_refused` (the server's answer to a delete made
with this host's credentials). No line ever holds a secret: the fields are named here and nothing else is
written.
"""

import json
import os
import time
from pathlib import Path

ACTIONS = ("backup", "forget", "check", "drill", "restore", "token")
RESULTS = ("ok", "fail")
FIELDS = ("time", "action", "dataset", "repository", "result", "error", "snapshot", "manifest_snapshot", "taken_at",
          "seconds", "bytes_processed", "bytes_added", "tables", "rows", "matched", "rto_seconds", "rpo_seconds",
          "problems", "read_data_subset", "keep_within_days", "skipped", "token_expires", "token_days_left",
          "append_only", "delete_refused", "files", "compared")


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record(action: str, result: str, **fields) -> dict:
    """A log line as a dict; refuses unknown actions, results and fields (the audit reads exactly these)."""
    if action not in ACTIONS or result not in RESULTS:
        raise ValueError(f"backup log: action {action!r} / result {result!r} not in {ACTIONS} / {RESULTS}")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ValueError(f"backup log: unknown fields {unknown}")
    return {"time": utc_now(), "action": action, "result": result,
            **{key: value for key, value in fields.items() if value is not None}}


def append(path: Path, line: dict) -> None:
    """Append one line (file created 0600; one write() per line, so concurrent runs do not interleave).

    A log created by root (an operator's `harden backup qdrant-token`) is handed to the owner of its directory,
    so the backup service user can still append to it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        if os.geteuid() == 0:
            owner = path.parent.stat()
            os.fchown(fd, owner.st_uid, owner.st_gid)
    except FileExistsError:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, (json.dumps(line, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)
    print(json.dumps(line, sort_keys=True), flush=True)


def read(path: Path) -> tuple[list[dict], list[str]]:
    """Every well-formed line, and one problem per malformed line (never silently skipped)."""
    lines, problems = [], []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError as error:
            problems.append(f"{path.name}:{number}: not JSON ({error.msg})")
            continue
        if not isinstance(line, dict) or line.get("action") not in ACTIONS or line.get("result") not in RESULTS:
            problems.append(f"{path.name}:{number}: not a backup log line")
            continue
        lines.append(line)
    return lines, problems
