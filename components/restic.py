"""restic repositories as the backup tools see them: where, with which password, and the restic CLI around them.

restic does the cryptography (AES-256-CTR + Poly1305-AES per blob, scrypt for the key), the deduplication and
the integrity checks; this module only builds its command lines and reads its `--json` output. The repository
password is a file of its own (never an argument, never an environment variable, never printed), kept apart
from the data passwords it protects. A repository whose location holds credentials (an off-site REST server:
`rest:https://{user}:{password}@{host}:{port}/{path}`) is named by a 0600 file too (`--repository-file`).

    >>> local = Repository("local", password_file=Path("/srv/backup-credentials/restic-password"),
    ...                    location="/srv/backup/rae/restic")
    >>> restic_json(local, "snapshots")
"""

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from baseline import BACKUP, require

RESTIC = "restic"
_CONTROLS_SECRET = ("A.5.17", "A.8.24")


def check_private_file(path: Path, what: str) -> None:
    """A credential file must exist, be non-empty and be readable by its owner only (0600 or stricter)."""
    require(path.is_file() and path.stat().st_size > 0, f"{what} {path} is missing or empty", _CONTROLS_SECRET)
    mode = stat.S_IMODE(path.stat().st_mode)
    require(mode & 0o077 == 0, f"{what} {path} is readable by group or others (mode {mode:o}); it must be 0600 or "
                               "stricter", _CONTROLS_SECRET)


def write_private_file(path: Path, content: str) -> Path:
    """Create `path` with mode 0600 from the first byte (never wider, not even for an instant); refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    return path


@dataclass(frozen=True)
class Repository:
    """One restic repository.

    + name: how logs and the audit call it ("local", "offsite")
    + password_file: the repository password (0600, apart from the data passwords)
    + location: a local directory (the copy on the second volume); or
    + repository_file: a 0600 file holding the location with its credentials (an off-site REST server)
    + cacert: PEM CA bundle the off-site server's TLS certificate must chain to
    + cache_dir: restic's local metadata cache (None: no cache, right for a local directory)
    """

    name: str
    password_file: Path
    location: str | None = None
    repository_file: Path | None = None
    cacert: Path | None = None
    cache_dir: Path | None = None

    def __post_init__(self):
        require((self.location is None) != (self.repository_file is None),
                f"backup repository {self.name!r}: give exactly one of location and repository_file",
                BACKUP.controls("copies"))
        require(self.location is None or "@" not in self.location,
                f"backup repository {self.name!r}: credentials in a location would show in process lists; "
                "put the location in a 0600 repository_file", _CONTROLS_SECRET)

    def arguments(self) -> list[str]:
        """restic's global options for this repository (no secret among them)."""
        check_private_file(Path(self.password_file), f"backup repository {self.name!r}: password file")
        if self.repository_file is not None:
            check_private_file(Path(self.repository_file), f"backup repository {self.name!r}: repository file")
            where = ["--repository-file", str(self.repository_file)]
        else:
            where = ["--repo", str(self.location)]
        options = where + ["--password-file", str(self.password_file)]
        if self.cacert is not None:
            options += ["--cacert", str(self.cacert)]
        options += ["--cache-dir", str(self.cache_dir)] if self.cache_dir else ["--no-cache"]
        return options

    @classmethod
    def from_config(cls, entry: dict) -> "Repository":
        allowed = {"name", "password_file", "location", "repository_file", "cacert", "cache_dir"}
        unknown = sorted(set(entry) - allowed)
        require(not unknown, f"backup repository {entry.get('name')!r}: unknown keys {unknown}; allowed: "
                             f"{sorted(allowed)}", BACKUP.controls("copies"))
        require(bool(entry.get("name")) and bool(entry.get("password_file")),
                "a backup repository needs a name and a password_file", BACKUP.controls("copies"))
        paths = {key: Path(entry[key]) for key in ("password_file", "repository_file", "cacert", "cache_dir")
                 if entry.get(key)}
        return cls(name=entry["name"], location=entry.get("location"), **paths)


class ResticError(RuntimeError):
    """restic exited non-zero: the message names the repository, the command and restic's own error."""


def environment() -> dict[str, str]:
    """The caller's environment without restic's secret-bearing variables: only our files name the secrets."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("RESTIC_") and key not in ("AWS_SECRET_ACCESS_KEY", "B2_ACCOUNT_KEY")}


def command(repository: Repository, *args: str) -> list[str]:
    return [RESTIC, *repository.arguments(), *args]


def popen(repository: Repository, *args: str, **kwargs) -> subprocess.Popen:
    """restic as a streaming process (stdin/stdout pipes as given), with the cleaned environment."""
    return subprocess.Popen(command(repository, *args), env=environment(), **kwargs)


def run(repository: Repository, *args: str, stdin=None, check: bool = True) -> subprocess.CompletedProcess:
    """Run restic against `repository` (stdin: bytes or a file); raise ResticError naming A.8.13 when it fails."""
    feed = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    done = subprocess.run(command(repository, *args), capture_output=True, env=environment(), **feed)
    if check and done.returncode != 0:
        raise ResticError(f"restic {args[0]} on repository {repository.name!r} failed (exit {done.returncode}): "
                          f"{last_lines(done.stderr)} [ISO 27001:2022 A.8.13 Information backup]")
    return done


def restic_json(repository: Repository, *args: str):
    """restic's `--json` output of a command that prints one JSON document."""
    return json.loads(run(repository, *args, "--json").stdout)


def last_lines(stderr: bytes, count: int = 3) -> str:
    lines = [line for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no message"


def is_initialised(repository: Repository) -> bool:
    """True when the repository exists and our password opens it (`restic cat config`)."""
    return run(repository, "cat", "config", check=False).returncode == 0


def ensure_initialised(repository: Repository) -> bool:
    """Create the repository unless it already opens with our password; True when it was created now."""
    if is_initialised(repository):
        return False
    run(repository, "init")
    return True


def snapshots(repository: Repository, *tags: str) -> list[dict]:
    """The repository's snapshots (oldest first), optionally only those carrying every tag in `tags`."""
    selection = ["--tag", ",".join(tags)] if tags else []
    return restic_json(repository, "snapshots", *selection) or []


def backup_stdin(repository: Repository, stdin: bytes, filename: str, tags: tuple[str, ...]) -> dict:
    """Store `stdin` as one file of a new snapshot; returns restic's summary (snapshot_id, sizes)."""
    arguments = ["backup", "--stdin", "--stdin-filename", filename, "--json"]
    for tag in tags:
        arguments += ["--tag", tag]
    return summary(run(repository, *arguments, stdin=stdin).stdout)


def backup_paths(repository: Repository, paths: list[str], tags: tuple[str, ...]) -> dict:
    """Store `paths` (files or directories) as a new snapshot; returns restic's summary."""
    arguments = ["backup", "--json"]
    for tag in tags:
        arguments += ["--tag", tag]
    return summary(run(repository, *arguments, *paths).stdout)


def summary(stdout: bytes) -> dict:
    """The summary line of `restic backup --json` (snapshot_id, data_added, total_bytes_processed, ...)."""
    for line in reversed(stdout.decode(errors="replace").splitlines()):
        if line.startswith("{") and '"summary"' in line:
            return json.loads(line)
    raise ResticError("restic backup printed no summary [ISO 27001:2022 A.8.13 Information backup]")


def delete_refused(repository: Repository, timeout: float = 10.0) -> bool:
    """Whether the repository's REST server refuses a delete made with this host's own credentials (an append-only
    server answers 403 Forbidden to every DELETE but a lock's). The probe deletes a snapshot name that does not
    exist (32 random bytes), so a server that is not append-only answers 404 and nothing is lost; a server that
    would delete is False. Anything else (no answer, 401, 5xx) raises ResticError: the probe decided nothing.

    + repository: a REST repository named by its repository_file (`rest:https://{user}:{password}@{host}:{port}/{path}`)
    """
    import base64
    import secrets
    import ssl
    import urllib.error
    import urllib.parse
    import urllib.request

    if repository.repository_file is None:
        raise ResticError(f"repository {repository.name!r} is a local directory, not an append-only REST server "
                          "[ISO 27001:2022 A.8.13 Information backup]")
    check_private_file(Path(repository.repository_file), f"backup repository {repository.name!r}: repository file")
    location = Path(repository.repository_file).read_text(encoding="utf-8").strip()
    parts = urllib.parse.urlsplit(location.removeprefix("rest:"))
    if not location.startswith("rest:") or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ResticError(f"repository {repository.name!r}: its repository file does not name a rest: server "
                          "[ISO 27001:2022 A.8.13 Information backup]")
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + ("" if parts.port is None else f":{parts.port}")
    target = urllib.parse.urlunsplit((parts.scheme, netloc, f"{parts.path.rstrip('/')}/snapshots/"
                                      f"{secrets.token_hex(32)}", "", ""))
    headers = {}
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    context = ssl.create_default_context(cafile=str(repository.cacert) if repository.cacert else None)
    request = urllib.request.Request(target, method="DELETE", headers=headers)
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as answer:  # nosec B310: rest: http(s) only
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, urllib.error.URLError) as error:
        raise ResticError(f"repository {repository.name!r}: the delete probe got no answer ({type(error).__name__}) "
                          "[ISO 27001:2022 A.8.13 Information backup]") from None
    if status == 403:
        return True
    if status in (200, 204, 404):
        return False
    raise ResticError(f"repository {repository.name!r}: the delete probe was answered {status}, which says nothing "
                      "about append-only [ISO 27001:2022 A.8.13 Information backup]")
