"""Files and directories on the Docker host: secret files (0400, service uid) and data directories.

HostSecretFile is a small `pulumi.dynamic` provider: Docker has no secret store outside swarm, and secrets must reach
containers as read-only files, never environment variables, command lines or logs (baseline SECRETS).
The file is written where the Pulumi program runs, which is the Docker host (this host or Node1).

The content is a Pulumi secret: it is kept encrypted in the state (`additional_secret_outputs`) and
never appears in diffs, logs or errors. Writing is idempotent (same content, mode and owner: no change)
and atomic (temporary file in the same directory, then rename).
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import pulumi
import pulumi.dynamic as dynamic

from baseline import CONTAINER, SECRETS, require
from components.engine_ids import host_ids


_DIRECTORY_MODE = 0o700


def _fingerprint(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def write_secret_file(path: str, content: str, uid: int, gid: int, mode: int = SECRETS.file_mode) -> None:
    """Atomically write `content` to `path` with `mode`, owned by uid:gid; parent directories are 0700 root.

    + path: absolute host path
    + content: the secret (never logged)
    + uid, gid: the owner's host ids (host_ids of the service's container user)
    """
    target = Path(path)
    make_private_parents(target)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        os.fchmod(descriptor, mode)
        os.fchown(descriptor, uid, gid)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def file_matches(path: str, content: str, uid: int, gid: int, mode: int = SECRETS.file_mode) -> bool:
    """True when the file exists with exactly this content, owner and mode."""
    try:
        info = os.stat(path)
        current = Path(path).read_text(encoding="utf-8")
    except OSError:
        return False
    return (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (mode, uid, gid) and current == content


def _owner(props) -> tuple[int, int]:
    """The host ids of a resource's owner: its props hold the container's user (uid, gid), the host file its mapping."""
    return host_ids(int(props["uid"]), int(props["gid"]))


class SecretFileProvider(dynamic.ResourceProvider):
    """Create/update/delete the file; `read` (refresh) reports drift of content, owner or mode."""

    def create(self, props):
        write_secret_file(props["path"], props["content"], *_owner(props))
        return dynamic.CreateResult(id_=props["path"], outs={**props, "fingerprint": _fingerprint(props["content"])})

    def diff(self, _id, olds, news):
        changed = [key for key in ("path", "content", "uid", "gid") if olds.get(key) != news.get(key)]
        drifted = not file_matches(news["path"], news["content"], *_owner(news))
        return dynamic.DiffResult(changes=bool(changed) or drifted, replaces=["path"] if "path" in changed else [],
                                  delete_before_replace=False)

    def update(self, _id, olds, news):
        write_secret_file(news["path"], news["content"], *_owner(news))
        return dynamic.UpdateResult(outs={**news, "fingerprint": _fingerprint(news["content"])})

    def read(self, id_, props):
        if not file_matches(props["path"], props["content"], *_owner(props)):
            return dynamic.ReadResult(id_=id_, outs={**props, "fingerprint": "drifted"})
        return dynamic.ReadResult(id_=id_, outs=props)

    def delete(self, _id, props):
        Path(props["path"]).unlink(missing_ok=True)


class HostSecretFile(dynamic.Resource):
    """A secret file on the Docker host (mode from baseline.SECRETS, owned by uid:gid).

    + path: absolute host path of the file
    + content: the secret (made a Pulumi secret if it was not one)
    + uid, gid: owner (the container's numeric user)

    Example: HostSecretFile("pg-password", path, password.result, *service_user("postgres"), opts)
    """

    path: pulumi.Output[str]
    fingerprint: pulumi.Output[str]

    def __init__(self, name: str, path: str, content: pulumi.Input[str], uid: int, gid: int,
                 opts: pulumi.ResourceOptions | None = None):
        require(os.path.isabs(path), f"secret file {name}: host path {path!r} must be absolute",
                SECRETS.controls("file_mode"))
        require(uid != 0 and gid != 0,
                f"secret file {name}: owner {uid}:{gid}; secrets belong to the non-root service user",
                CONTAINER.controls("service_users"))
        secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["content", "fingerprint"])
        super().__init__(
            SecretFileProvider(), name,
            {"path": path, "content": pulumi.Output.secret(content), "uid": uid, "gid": gid, "fingerprint": None},
            pulumi.ResourceOptions.merge(secret_opts, opts),
        )


class DirectoryProvider(dynamic.ResourceProvider):
    """Create the directory (0700, owner uid:gid) if absent and fix its mode and owner; delete only released data."""

    def create(self, props):
        ensure_directory(props["path"], *_owner(props))
        return dynamic.CreateResult(id_=props["path"], outs=props)

    def diff(self, _id, olds, news):
        # remove_on_delete must reach the state too: delete only sees the stored properties.
        changed = [key for key in ("path", "uid", "gid", "remove_on_delete") if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(changed) or not directory_matches(
            news["path"], *_owner(news)), replaces=["path"] if "path" in changed else [])

    def update(self, _id, olds, news):
        owner = _owner(news)
        try:
            before = os.stat(news["path"])
            moved = (before.st_uid, before.st_gid) != owner
        except OSError:
            moved = False
        ensure_directory(news["path"], *owner)
        if moved or (olds.get("uid"), olds.get("gid")) != (news["uid"], news["gid"]):
            # The service's user changed (a stack from before each service had its own uid), or its host ids did
            # (the engine's user-namespace remap was turned on or moved): its data follows.
            hand_over_tree(news["path"], *owner)
        return dynamic.UpdateResult(outs=news)

    def delete(self, _id, props):
        # Data outlives the stack unless an operator released it (scripts/down.sh RELEASE_DATA=1).
        if props.get("remove_on_delete"):
            shutil.rmtree(props["path"], ignore_errors=True)


def make_private_parents(path: Path) -> None:
    """Create every missing directory above `path` 0700 (root's): `mkdir -p` would leave them 0755 whatever mode it
    is given, so a service's data and secrets would sit under directories every host user may list. Directories
    that exist already are left as they are (they are the operator's, /srv for one)."""
    missing = [parent for parent in reversed(path.parents) if not parent.exists()]
    for directory in missing:
        directory.mkdir(mode=_DIRECTORY_MODE, exist_ok=True)
        os.chmod(directory, _DIRECTORY_MODE)  # mkdir's mode passes through the umask


def ensure_directory(path: str, uid: int, gid: int) -> None:
    """mkdir -p with 0700 parents, then chmod 0700 and chown uid:gid on the directory itself."""
    make_private_parents(Path(path))
    Path(path).mkdir(mode=_DIRECTORY_MODE, exist_ok=True)
    os.chmod(path, _DIRECTORY_MODE)
    os.chown(path, uid, gid)


def hand_over_tree(path: str, uid: int, gid: int) -> None:
    """chown -R uid:gid without following symbolic links: a data directory belongs to its one service entirely."""
    for directory, subdirectories, files in os.walk(path):
        for name in (*subdirectories, *files):
            os.lchown(os.path.join(directory, name), uid, gid)
    os.lchown(path, uid, gid)


def directory_matches(path: str, uid: int, gid: int) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_mode & 0o7777, info.st_uid, info.st_gid) == (_DIRECTORY_MODE, uid, gid)


class HostDirectory(dynamic.Resource):
    """A service's data directory on the Docker host: 0700, owned by the service uid.

    + remove_on_delete: delete the tree with the resource (only when an operator released the data)

    Example: HostDirectory("pgdata", "/srv/data/postgres", *service_user("postgres"))
    """

    path: pulumi.Output[str]

    def __init__(self, name: str, path: str, uid: int, gid: int, remove_on_delete: bool = False,
                 opts: pulumi.ResourceOptions | None = None):
        require(os.path.isabs(path), f"data directory {name}: host path {path!r} must be absolute",
                CONTAINER.controls("forbidden_mounts"))
        super().__init__(DirectoryProvider(), name,
                         {"path": path, "uid": uid, "gid": gid, "remove_on_delete": remove_on_delete}, opts)
