"""Rules on the toolkit's own dynamic resources (secret files, data directories, pids limits) and on the secrets it
generates (pulumi-random passwords): a dynamic resource is judged only when the gate knows its provider; any other
dynamic resource is unknown (policies.rules.coverage)."""

import re

import posture.container as posture
from baseline import SECRETS
from policies.rules import ResourceRule, rule_key

DYNAMIC = "pulumi-python:dynamic:Resource"
SECRET_FILE = f"{DYNAMIC}#components.host_files.SecretFileProvider"
DIRECTORY = f"{DYNAMIC}#components.host_files.DirectoryProvider"
PIDS_LIMIT = f"{DYNAMIC}#components.pids_limit.PidsLimitProvider"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


def host_file_under_roots(props, context: posture.Context = posture.Context(), _name: str = ""):
    view = posture.ContainerView(source="pulumi dynamic resource", name=str(props.get("path")),
                                 host_paths=((str(props.get("path") or ""), "host file or directory"),),
                                 unknown=frozenset({"host_paths"}) if posture.is_unknown(props.get("path")) else frozenset())
    for _name, _requirement, message in posture.judge(view, context, "RAE-CTR-010"):
        yield message


def host_file_owner(props):
    uid, gid = props.get("uid"), props.get("gid")
    if not (isinstance(uid, (int, float)) and isinstance(gid, (int, float)) and uid > 0 and gid > 0):
        yield f"owner {uid}:{gid} is root or unset; the service's non-root user owns its files"


def password_length(props):
    length = props.get("length")
    if not isinstance(length, (int, float)) or isinstance(length, bool) or length < SECRETS.length:
        yield f"length is {length!r}: generated secrets have at least {SECRETS.length} characters"


def pids_limit(props):
    limit = props.get("limit")
    number = isinstance(limit, (int, float)) and not isinstance(limit, bool)
    view = posture.ContainerView(source="pids-limit step", name=str(props.get("container")),
                                 pids_limit=int(limit) if number and float(limit).is_integer() else 0)
    for _name, _requirement, message in posture.judge(view, posture.Context(), "RAE-CTR-005"):
        if _name == "pids_limit":
            yield message


def _is_pids_step(resource: dict) -> bool:
    """A pids-limit step: by its provider where the graph names it (the gate's renderer); by its type and inputs where
    it does not (CrossGuard and an engine's JSON hand over no provider class)."""
    if resource.get("provider"):
        return rule_key(resource) == PIDS_LIMIT
    props = resource.get("props") or {}
    return resource["type"] == DYNAMIC and {"container", "limit"} <= set(props)


def pids_targets(resources: list[dict]) -> tuple[str, ...]:
    """The names of the containers a pids-limit step targets, as the step names them and as a Terraform plan's
    address spells them (policies.tfplan)."""
    targets = [str(r["props"].get("container")) for r in resources if _is_pids_step(r)]
    return tuple(dict.fromkeys([*targets, *(re.sub(r"[^A-Za-z0-9_-]", "_", t) for t in targets)]))


RULES = (
    ResourceRule("RAE-CTR-010", (SECRET_FILE, DIRECTORY), host_file_under_roots, contextual=True, per_field=True),
    ResourceRule("RAE-CTR-001", (SECRET_FILE, DIRECTORY), host_file_owner),
    ResourceRule("RAE-CTR-005", (PIDS_LIMIT,), pids_limit),
    ResourceRule("RAE-SEC-002", (RANDOM_PASSWORD,), password_length),
)
