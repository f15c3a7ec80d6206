"""Rules on pulumi-docker containers (docker:index/container:Container), read against baseline.CONTAINER."""

import re

from baseline import CONTAINER, SECRETS
from policies.rules import ResourceRule, as_list, dig

CONTAINER_TYPE = "docker:index/container:Container"
_NUMERIC_USER = re.compile(r"^(\d+)(?::(\d+))?$")
_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
HOST_MODES = ("networkMode", "pidMode", "ipcMode", "usernsMode")


def non_root_user(props):
    user = str(props.get("user") or "")
    match = _NUMERIC_USER.match(user)
    if not match:
        yield f"user {user or '(unset: image default, often root)'} is not a numeric uid[:gid]"
    elif int(match.group(1)) == 0 or (match.group(2) is not None and int(match.group(2)) == 0):
        yield f"user {user} is root"


def read_only_rootfs(props):
    if props.get("readOnly") is not CONTAINER.read_only_rootfs:
        yield f"readOnly is {props.get('readOnly')!r}, the baseline requires {CONTAINER.read_only_rootfs}"


def capabilities(props):
    drops = {str(cap).upper() for cap in as_list(dig(props, "capabilities", "drops"))}
    adds = [cap for cap in as_list(dig(props, "capabilities", "adds")) if cap not in CONTAINER.cap_add_allowed]
    if not set(CONTAINER.cap_drop) <= drops:
        yield f"capabilities.drops is {sorted(drops)}, must include {list(CONTAINER.cap_drop)}"
    if adds:
        yield f"capabilities.adds {adds} adds capabilities back"


def security_options(props):
    options = [str(opt).replace(" ", "") for opt in as_list(props.get("securityOpts"))]
    missing = [opt for opt in CONTAINER.security_opts if opt not in options]
    weakening = [opt for opt in options if opt in CONTAINER.forbidden_security_opts]
    if missing:
        yield f"securityOpts lacks {missing}"
    if weakening:
        yield f"securityOpts {weakening} disable confinement"


def memory_limit(props):
    memory = props.get("memory")
    if not isinstance(memory, (int, float)) or not 0 < memory <= CONTAINER.memory_mb_max:
        yield f"memory is {memory!r}, must be 1..{CONTAINER.memory_mb_max} MiB"


def healthcheck(props):
    if not as_list(dig(props, "healthcheck", "tests")):
        yield "no healthcheck.tests"


def bound_ports(props):
    for port in as_list(props.get("ports")):
        address = port.get("ip") or "0.0.0.0"  # Docker's default when ip is unset
        if address not in CONTAINER.bind_addresses:
            yield (f"port {port.get('internal')} publishes on {address}, "
                   f"not one of the declared addresses {list(CONTAINER.bind_addresses)}")


def not_privileged(props):
    if props.get("privileged") and not CONTAINER.privileged_allowed:
        yield "privileged is True"


def no_host_namespaces(props):
    for mode in HOST_MODES:
        if str(props.get(mode) or "").lower() == "host" and not CONTAINER.host_namespaces_allowed:
            yield f"{mode} is 'host'"


def _host_sources(props):
    for mount in as_list(props.get("mounts")):
        if mount.get("type") == "bind":
            yield mount.get("source")
    for volume in as_list(props.get("volumes")):
        yield volume.get("hostPath")


def no_forbidden_mounts(props):
    for source in _host_sources(props):
        if source and (source.rstrip("/") or "/") in CONTAINER.forbidden_mounts:
            yield f"host path {source} is mounted"


def pinned_image(props):
    image = str(props.get("image") or "")
    if not (_IMAGE_ID.match(image) or _IMAGE_DIGEST.search(image)):
        yield f"image {image!r} is a mutable reference, not sha256 id or digest"


def secret_free_env(props):
    for entry in as_list(props.get("envs")):
        name = str(entry).split("=", 1)[0].upper()
        if not name.endswith("_FILE") and any(marker in name for marker in SECRETS.forbidden_env_markers):
            yield f"environment variable {name} looks like a secret"


def rotated_logs(props):
    options = props.get("logOpts") or {}
    missing = [key for key in CONTAINER.log_opts if not options.get(key)]
    if missing:
        yield f"logOpts lacks {missing}"


RULES = tuple(ResourceRule(rule_id, (CONTAINER_TYPE,), check) for rule_id, check in (
    ("RAE-CTR-001", non_root_user),
    ("RAE-CTR-002", read_only_rootfs),
    ("RAE-CTR-003", capabilities),
    ("RAE-CTR-004", security_options),
    ("RAE-CTR-005", memory_limit),
    ("RAE-CTR-006", healthcheck),
    ("RAE-CTR-007", bound_ports),
    ("RAE-CTR-008", not_privileged),
    ("RAE-CTR-009", no_host_namespaces),
    ("RAE-CTR-010", no_forbidden_mounts),
    ("RAE-CTR-011", pinned_image),
    ("RAE-CTR-012", secret_free_env),
    ("RAE-CTR-013", rotated_logs),
))
