"""Rules on the toolkit's own dynamic resources (secret files, data directories, pids limits): a dynamic resource
is judged only when the gate knows its provider; any other dynamic resource is unknown (policies.rules.coverage)."""

import posture.container as posture
from baseline import CONTAINER
from policies.rules import ResourceRule

DYNAMIC = "pulumi-python:dynamic:Resource"
SECRET_FILE = f"{DYNAMIC}#components.host_files.SecretFileProvider"
DIRECTORY = f"{DYNAMIC}#components.host_files.DirectoryProvider"
PIDS_LIMIT = f"{DYNAMIC}#components.pids_limit.PidsLimitProvider"


def host_file_under_roots(props, context: posture.Context = posture.Context()):
    view = posture.ContainerView(source="pulumi dynamic resource", name=str(props.get("path")),
                                 host_paths=((str(props.get("path") or ""), "host file or directory"),),
                                 unknown=frozenset({"host_paths"}) if posture.is_unknown(props.get("path")) else frozenset())
    for _name, _requirement, message in posture.judge(view, context, "RAE-CTR-010"):
        yield message


def host_file_owner(props):
    uid, gid = props.get("uid"), props.get("gid")
    if not (isinstance(uid, (int, float)) and isinstance(gid, (int, float)) and uid > 0 and gid > 0):
        yield f"owner {uid}:{gid} is root or unset; the service's non-root user owns its files"


def pids_limit(props):
    limit = props.get("limit")
    if not isinstance(limit, (int, float)) or not 0 < limit <= CONTAINER.pids_limit:
        yield f"pids limit {limit!r} is outside 1..{CONTAINER.pids_limit}"


RULES = (
    ResourceRule("RAE-CTR-010", (SECRET_FILE, DIRECTORY), host_file_under_roots, contextual=True),
    ResourceRule("RAE-CTR-001", (SECRET_FILE, DIRECTORY), host_file_owner),
    ResourceRule("RAE-CTR-005", (PIDS_LIMIT,), pids_limit),
)
