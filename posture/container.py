"""The container posture model: one normalized view of a container, one small function per requirement.

Adapters build the view from a `ContainerSpec` (`from_spec`), pulumi-docker `Container` properties as the engine
and its mocks see them (`from_pulumi`), Terraform `docker_container` values as checkov sees them
(`from_terraform`) and `docker inspect` (`from_inspect`). Component validation, the CrossGuard rules, the
checkov custom checks and the audit all call `judge`; none restates a requirement.

Every requirement is an allow-list: host paths only under declared roots, capabilities only from an allowed set,
security options only from an allowed set (parsed last-wins, as the engine does), ports only on declared
addresses; no device, no kernel parameter, no runtime but runc; each namespace only in a mode from its allowed set.
An attribute whose absence hands the decision to the engine's configurable default is judged as that default's
worst case (an unset cgroup namespace is the host's on cgroup v1; an unset log driver is whatever the daemon says).

Example: judge(from_pulumi("web", {"image": "nginx:latest"}))  # -> [(requirement, message), ...]
"""

import json
import math
import os
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from baseline import CONTAINER, DOCKER_DAEMON, SECRETS, BaselineViolation
from posture.model import Requirement, Unknown, is_unknown, judge_requirements, rule_ids

_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
# name[:port]/path[:tag]@sha256:<digest>, anchored at both ends: one pattern for every caller.
_IMAGE_DIGEST = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$")
_NUMERIC_USER = re.compile(r"^(\d+):(\d+)$")
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
# A service address (`rae-production-eu-west-api:8443`): lowercase DNS labels joined by '-' or '.', and a port. Long
# names score like random values on entropy alone; a random credential has no such shape (token_hex has no '-').
_HEX_TOKEN = re.compile(r"^[0-9a-fA-F]{32,}$")
_SERVICE_ADDRESS = re.compile(r"^[a-z0-9]+(?:[-.][a-z0-9]+)+:\d{1,5}$")
_NAMESPACES = ("network", "pid", "ipc", "uts", "userns", "cgroupns")
# The modes each namespace may have; "" is unset (the engine's default). Unset is allowed only where that default is
# a namespace of the container's own on every engine: pid, uts and userns have no other default, a network means the
# default bridge, ipc is private unless a container opts in with "shareable". cgroupns is not: the default is the
# host's namespace on cgroup v1 hosts, so only an explicit "private" holds.
_NAMESPACE_MODES = {
    "network": ("", "bridge", "default", "none"), "pid": ("",), "ipc": ("", "private", "none"), "uts": ("",),
    "userns": ("",), "cgroupns": (CONTAINER.cgroupns_mode,),
}
# A user-defined network's name (the only other allowed network mode); "host" and "container:<id>" are not names.
_NETWORK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Mount types whose host side the model reads; any other type (npipe, cluster, image) is refused.
_MOUNT_TYPES = ("bind", "volume", "tmpfs")
# Bind propagation modes that do not carry mounts made in the container back to the host.
_PROPAGATION = ("", "private", "rprivate", "slave", "rslave")
# Docker treats both spellings the same: `key=value` and the older `key:value`.
_OPTION = re.compile(r"^([a-z-]+)(?:[=:](.*))?$")
_TRUE = ("", "true", "1")
_WILDCARDS = ("", "0.0.0.0", "::", "[::]")  # nosec B104 - the addresses we refuse
# The label by which a deployed container names its service (components.container sets it; the audit reads it).
SERVICE_LABEL = "org.rae.hardening.service"


_SUBORDINATE_FILES = ("/etc/subuid", "/etc/subgid")


def _subordinate_range(text: str, start: int) -> int | None:
    """The size of the subordinate range that begins at `start` in an /etc/subuid or /etc/subgid text (None: none)."""
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit() and int(fields[1]) == start:
            return int(fields[2])
    return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def remap_from_info(info: dict, subordinate: tuple[str, str] | None = None) -> tuple[int, int, int] | None:
    """(first host uid, first host gid, size) of the engine's user-namespace remap from `docker info`, None without one.

    dockerd under `userns-remap` (baseline.DOCKER_DAEMON.userns_remap) lists `name=userns` among its security
    options and keeps its images and containers under `<data-root>/<uid>.<gid>`, the host ids its containers' root has;
    the range's size is the remap user's line in /etc/subuid and /etc/subgid. A remap whose range cannot be read is
    refused: the ids a container's user has on the host would be a guess.

    + subordinate: the texts of the engine host's /etc/subuid and /etc/subgid (this host's files by default)
    """
    if not any(option.startswith("name=userns") for option in info.get("SecurityOptions") or []):
        return None
    controls = DOCKER_DAEMON.controls("userns_remap")
    suffix = os.path.basename(str(info.get("DockerRootDir") or "").rstrip("/"))
    uid, _, gid = suffix.partition(".")
    if not (uid.isdigit() and gid.isdigit()):
        raise BaselineViolation(f"the engine remaps user namespaces but its data root {info.get('DockerRootDir')!r} "
                                "does not name the host ids of its containers' root", controls)
    texts = subordinate or tuple(_read(path) for path in _SUBORDINATE_FILES)
    sizes = [_subordinate_range(text, int(start)) for text, start in zip(texts, (uid, gid))]
    if None in sizes:
        raise BaselineViolation(f"the engine remaps user namespaces to {uid}:{gid} but {' / '.join(_SUBORDINATE_FILES)} "
                                "hold no range starting there", controls)
    return int(uid), int(gid), min(sizes)


def shown_remap(remap: tuple[int, int, int] | None) -> str:
    """A remap as the audit and the node's verifier report it."""
    return f"container root is host {remap[0]}:{remap[1]} ({remap[2]} ids)" if remap else "no user namespace"


def mapped_ids(uid: int, gid: int, remap: tuple[int, int, int] | None) -> tuple[int, int]:
    """The host ids of a container's `uid:gid` under an engine's remap (remap_from_info); the same ids without one."""
    if not remap:
        return uid, gid
    first_uid, first_gid, size = remap
    if not (0 <= uid < size and 0 <= gid < size):
        raise BaselineViolation(f"container ids {uid}:{gid} lie outside the engine's subordinate range of {size} ids",
                                DOCKER_DAEMON.controls("userns_remap"))
    return first_uid + uid, first_gid + gid


def service_user(service: str) -> tuple[int, int]:
    """The baseline's uid and gid of a service (CONTAINER.service_users); a service not listed there is refused.

    Example: service_user("postgres")  # -> (10010, 10010)
    """
    users = CONTAINER.service_users
    if service not in users:
        raise BaselineViolation(f"service {service!r} has no user of its own in the baseline (CONTAINER.service_users: "
                                f"{sorted(users)})", CONTAINER.controls("service_users"))
    return users[service]


@dataclass(frozen=True)
class ContainerView:
    """A container in one vocabulary, whatever described it.

    + source: what the view was built from (ContainerSpec, pulumi-docker, terraform plan, docker inspect)
    + pids_limit, restart: None where the source cannot carry the attribute (pulumi-docker and Terraform's
      docker_container have no pids input: a separate pids-limit step in the program sets it, see Context)
    + host_paths: (host path as written, where it appears) for bind mounts and volume devices
    + ports: (container port, host address or "" for Docker's default, every interface)
    + publish_all_ports: every exposed port published on a random host port on every interface
    + mount_problems: mounts whose host side the model cannot read (another container's volumes, a mount type
      other than bind/volume/tmpfs, a bind propagated back to the host)
    + env: (name, value) pairs; values are judged, never reported
    + service: the service the container says it runs (ContainerSpec.service, or its SERVICE_LABEL); "" if none
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    image: str = ""
    user: str = ""
    service: str = ""
    group_adds: tuple[str, ...] = ()
    read_only: bool | None = None
    tmpfs: dict = field(default_factory=dict)
    cap_drop: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    security_opts: tuple[str, ...] = ()
    privileged: bool = False
    namespaces: dict = field(default_factory=dict)
    memory_mb: float | None = None
    pids_limit: int | None = None
    healthcheck: tuple[str, ...] = ()
    ports: tuple[tuple[int, str], ...] = ()
    publish_all_ports: bool = False
    host_paths: tuple[tuple[str, str], ...] = ()
    mount_problems: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    sysctls: dict = field(default_factory=dict)
    runtime: str = ""
    env: tuple[tuple[str, str], ...] = ()
    restart: str | None = None
    log_driver: str = ""
    log_opts: dict = field(default_factory=dict)
    unknown: frozenset = frozenset()


@dataclass(frozen=True)
class Context:
    """What a stack declares: the addresses ports may bind to, the roots host paths must sit under, the
    containers (by name) that a pids-limit step in the program targets, and the Google Cloud project its config names
    (gcp:project; "" where it names none); pids_limited is None where the caller sees one resource only, so a
    container whose source cannot carry a pids limit is undecided there, never passed."""

    bind_addresses: tuple[str, ...] = CONTAINER.bind_addresses
    host_roots: tuple[str, ...] = CONTAINER.host_roots
    pids_limited: tuple[str, ...] | None = None
    gcp_project: str = ""

    @classmethod
    def from_environment(cls, environ) -> "Context":
        """The context the gate hands to its checkov checks (JSON in DECLARED_CONTEXT_ENV), else the baseline's."""
        text = environ.get(DECLARED_CONTEXT_ENV)
        if not text:
            return cls()
        values = json.loads(text)
        limited = values.get("pids_limited")
        return cls(tuple(values["bind_addresses"]), tuple(values["host_roots"]),
                   tuple(limited) if limited is not None else None, str(values.get("gcp_project") or ""))


# How the gate tells its checkov custom checks (another process) what the judged stack declares.
DECLARED_CONTEXT_ENV = "RAE_DECLARED_CONTEXT"


# --- normalization -----------------------------------------------------------------------------------

def normalize_host_path(path: str) -> str:
    """The path the engine would mount: `//` and `..` collapsed, /var/run read as /run (a symlink on Debian)."""
    normalized = posixpath.normpath("/" + path.lstrip("/")) if path.startswith("/") else path
    if normalized == "/var/run" or normalized.startswith("/var/run/"):
        normalized = "/run" + normalized[len("/var/run"):]
    return normalized


def _under(path: str, root: str) -> bool:
    return root != "/" and (path == root or path.startswith(root.rstrip("/") + "/"))


def check_roots(roots) -> list[str]:
    """Problems with declared roots: each must be absolute, and neither a system tree nor above one."""
    problems = []
    for root in roots:
        normalized = normalize_host_path(str(root))
        if not normalized.startswith("/"):
            problems.append(f"root {root!r} is not an absolute path")
        elif normalized == "/" or any(_under(normalize_host_path(forbidden), normalized) or
                                      _under(normalized, forbidden) for forbidden in CONTAINER.forbidden_mounts):
            problems.append(f"root {root!r} is, holds or sits in a system tree ({list(CONTAINER.forbidden_mounts)})")
    return problems


def security_options(options) -> dict[str, str]:
    """`securityOpts` as the engine applies them: key -> value, the last occurrence of a key wins."""
    parsed = {}
    for option in options:
        match = _OPTION.match(str(option).replace(" ", "").lower())
        if match is None:
            parsed[str(option)] = "?"
            continue
        parsed[match.group(1)] = match.group(2) or ""
    return parsed


def _capability(name) -> str:
    name = str(name).upper()
    return name[4:] if name.startswith("CAP_") else name


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def credential_reason(name: str, value: str | None) -> str | None:
    """Why an environment variable carries a credential (its name, a URL with a password, a random-looking
    value), or None. Variables ending in _FILE carry a path to a secret file, which is the allowed delivery."""
    upper = name.upper()
    if upper.endswith("_FILE"):
        return None
    if any(marker in upper for marker in SECRETS.forbidden_env_markers) or upper.endswith("_KEY"):
        return "its name says it holds a credential"
    if value and _URL_PASSWORD.search(value):
        return "its value is a URL with a password"
    if value and _HEX_TOKEN.match(value):  # hex (token_hex, sha256 keys) tops out at 4 bits per character
        return "its value looks like a random credential"
    if (value and len(value) >= 24 and not value.startswith("/") and " " not in value and not _SERVICE_ADDRESS.match(value)
            and _entropy(value) >= 4.0):
        return "its value looks like a random credential"
    return None


# --- requirements ------------------------------------------------------------------------------------

def _user(view, _context):
    match = _NUMERIC_USER.match(view.user)
    if not match:
        yield f"user {view.user or '(unset: the image default, often root)'} is not a numeric uid:gid"
    elif int(match.group(1)) == 0 or int(match.group(2)) == 0:
        yield f"user {view.user} is root or in the root group"
    extra = [group for group in view.group_adds if group not in CONTAINER.group_add_allowed]
    if extra:
        yield f"supplementary groups {extra} are added"


def _own_user(view, _context):
    """Allow-list: a named service runs as exactly its baseline uid:gid; no container runs as another service's."""
    match = _NUMERIC_USER.match(view.user)
    if not match:
        return  # the `user` requirement reports it
    user = (int(match.group(1)), int(match.group(2)))
    owners = sorted(name for name, ids in CONTAINER.service_users.items()
                    if user[0] in ids or user[1] in ids)
    if view.service:
        expected = CONTAINER.service_users.get(view.service)
        if expected is None:
            yield (f"service {view.service!r} has no user of its own in the baseline "
                   f"(CONTAINER.service_users: {sorted(CONTAINER.service_users)})")
        elif user != tuple(expected):
            yield f"service {view.service} runs as {view.user}, not its own {expected[0]}:{expected[1]}"
    elif owners:
        yield (f"user {view.user} is the baseline's user of {owners}: a container that names no service runs as "
               f"another service's uid or gid")


_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def tmpfs_size(options) -> int | None:
    """Bytes of a tmpfs `size=` option ("size=64m" -> 67108864); None where absent or unreadable."""
    for option in str(options or "").replace(" ", "").split(","):
        key, _, value = option.partition("=")
        match = re.fullmatch(r"(\d+)([kmg]?)", value.lower()) if key == "size" else None
        if match:
            return int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    return None


def _read_only(view, _context):
    if view.read_only is not CONTAINER.read_only_rootfs:
        yield f"read-only root filesystem is {view.read_only!r}, the baseline requires {CONTAINER.read_only_rootfs}"
    for path, options in sorted(view.tmpfs.items()):
        missing = [o for o in CONTAINER.tmpfs_options_required if o not in str(options or "").replace(" ", "").split(",")]
        if missing:
            yield f"tmpfs {path} lacks {missing}"
        if path not in CONTAINER.tmpfs:
            yield f"tmpfs {path} is not one of the baseline's scratch paths {sorted(CONTAINER.tmpfs)}"
            continue
        size, ceiling = tmpfs_size(options), tmpfs_size(CONTAINER.tmpfs[path])
        if size is None or size > ceiling:
            yield f"tmpfs {path} has size {size!r} bytes, the baseline allows at most {ceiling}"


def _cap_drop(view, _context):
    if not set(CONTAINER.cap_drop) <= set(view.cap_drop):
        yield f"capabilities dropped are {sorted(view.cap_drop)}, must include {list(CONTAINER.cap_drop)}"


def _cap_add(view, _context):
    added = [cap for cap in view.cap_add if cap not in CONTAINER.cap_add_allowed]
    if added:
        yield f"capabilities {added} are added back (allowed: {list(CONTAINER.cap_add_allowed)})"


def _no_new_privileges(view, _context):
    options = security_options(view.security_opts)
    if options.get("no-new-privileges") not in _TRUE or "no-new-privileges" not in options:
        state = options.get("no-new-privileges", "unset")
        yield f"no-new-privileges is {state or 'true'!r} after the engine applies securityOpts in order, must be true"


def _confinement(view, _context):
    options = security_options(view.security_opts)
    others = [f"{key}={value}" if value else key for key, value in options.items()
              if key not in CONTAINER.security_opt_keys_allowed]
    if others:
        yield (f"security options {others} replace or disable the default confinement "
               f"(allowed keys: {list(CONTAINER.security_opt_keys_allowed)})")


def _memory(view, _context):
    if not isinstance(view.memory_mb, (int, float)) or not 0 < view.memory_mb <= CONTAINER.memory_mb_max:
        yield f"memory limit is {view.memory_mb!r} MiB, must be 1..{CONTAINER.memory_mb_max}"


def _pids(view, context):
    if view.pids_limit is None:
        yield from _pids_step(view, context)
    elif not 0 < view.pids_limit <= CONTAINER.pids_limit:
        shown = "unlimited" if view.pids_limit <= 0 else view.pids_limit
        yield f"pids limit is {shown}, must be 1..{CONTAINER.pids_limit}"


def _pids_step(view, context):
    """A source with no pids input (pulumi-docker, Terraform) holds only where a pids-limit step targets the
    container; that step's own limit is judged on the step (policies.rules.toolkit)."""
    if context.pids_limited is None:
        yield Unknown(f"{view.source} has no pids-limit input and this caller does not see the program's other "
                      f"resources, so whether a pids-limit step targets {view.name or 'the container'} is not known")
    elif is_unknown(view.name) or not view.name:
        yield Unknown(f"the container's name is not known, so no pids-limit step can be seen to target it")
    elif view.name not in context.pids_limited:
        if any(is_unknown(target) for target in context.pids_limited):
            yield Unknown(f"a pids-limit step targets a container whose name could not be resolved; "
                          f"{view.name} may or may not be limited")
        else:
            yield (f"no pids limit: {view.source} has no pids-limit input and no pids-limit step "
                   f"(components.pids_limit.ContainerPidsLimit) in the program targets {view.name}: "
                   f"it may fork without bound (1..{CONTAINER.pids_limit} required)")


def _healthcheck(view, _context):
    if not view.healthcheck or str(view.healthcheck[0]).upper() == "NONE":
        yield f"no healthcheck ({list(view.healthcheck) or 'unset'})"


def _ports(view, context):
    if view.publish_all_ports is not CONTAINER.publish_all_ports:
        yield "every exposed port is published (publishAllPorts): random host ports on every interface"
    for internal, address in view.ports:
        if address in _WILDCARDS:
            yield f"port {internal} publishes on every interface ({address or 'no address: Docker default'})"
        elif address not in context.bind_addresses:
            yield f"port {internal} publishes on {address}, not one of the declared addresses {list(context.bind_addresses)}"


def _privileged(view, _context):
    if view.privileged and not CONTAINER.privileged_allowed:
        yield "privileged mode is on"


def _namespace_allowed(namespace: str, mode: str) -> bool:
    if mode in _NAMESPACE_MODES[namespace]:
        return True
    return namespace == "network" and mode != "host" and bool(_NETWORK_NAME.match(mode))


def _namespaces(view, _context):
    for namespace in _NAMESPACES:
        mode = str(view.namespaces.get(namespace) or "").strip().lower()
        if _namespace_allowed(namespace, mode):
            continue
        if not mode:
            yield (f"{namespace} namespace mode is unset: the engine's default is the host's on cgroup v1 hosts, "
                   f"so it is judged as shared with the host; set it to {CONTAINER.cgroupns_mode!r}")
        else:
            allowed = [m or "(unset)" for m in _NAMESPACE_MODES[namespace]]
            yield (f"{namespace} namespace is {mode!r}: shared with the host or another container, or not a mode "
                   f"the model knows (allowed: {allowed}{' or a network name' if namespace == 'network' else ''})")


def _host_paths(view, context):
    roots = [normalize_host_path(root) for root in context.host_roots]
    for problem in check_roots(context.host_roots):
        yield f"declared {problem}"
    for problem in view.mount_problems:
        yield problem
    for path, where in view.host_paths:
        normalized = normalize_host_path(str(path))
        if not normalized.startswith("/"):
            yield f"host path {path!r} ({where}) is not absolute"
        elif not any(_under(normalized, root) for root in roots):
            shown = f"{path} (read as {normalized})" if normalized != path else path
            yield f"host path {shown} ({where}) is outside the declared roots {list(context.host_roots)}"


def pinned_by_digest(image: str) -> bool:
    """Whether `image` is a registry reference by digest (name@sha256:<64 hex>), the form RAE-CTR-011 accepts besides a
    local image id: what a host that pulls the image must be given."""
    return bool(_IMAGE_DIGEST.match(image or ""))


def local_image_id(image: str) -> bool:
    """Whether `image` is a local image id (sha256:<64 hex>): what a Docker target that built the image itself runs."""
    return bool(_IMAGE_ID.match(image or ""))


def image_pinned(image: str) -> bool:
    """RAE-CTR-011 (baseline CONTAINER.image_pinning): a local image id or a registry reference by digest, never a tag."""
    return local_image_id(image) or pinned_by_digest(image)


def _image(view, _context):
    if not image_pinned(view.image):
        yield f"image {view.image!r} is a mutable reference, not sha256:<id> or name@sha256:<digest>"


def _environment(view, _context):
    for name, value in view.env:
        reason = credential_reason(name, value)
        if reason:
            yield f"environment variable {name} carries a credential ({reason}); deliver it as a file"


def _logs(view, _context):
    if not view.log_driver:
        yield (f"log driver is unset: the daemon's default decides, which the program does not show; "
               f"set {CONTAINER.log_driver!r}")
    elif view.log_driver != CONTAINER.log_driver:
        yield f"log driver is {view.log_driver!r}, must be {CONTAINER.log_driver!r}"
    missing = [key for key in CONTAINER.log_opts if not view.log_opts.get(key)]
    if missing:
        yield f"log options lack {missing} (rotation)"


def _devices(view, _context):
    passed = [device for device in view.devices if device not in CONTAINER.devices_allowed]
    if passed:
        yield f"host devices {passed} are passed in"


def _runtime(view, _context):
    if view.runtime and view.runtime not in CONTAINER.runtimes_allowed:
        yield f"runtime is {view.runtime!r}, allowed: {list(CONTAINER.runtimes_allowed)}"


def _sysctls(view, _context):
    changed = sorted(key for key in view.sysctls if key not in CONTAINER.sysctls_allowed)
    if changed:
        yield f"kernel parameters {changed} are set (allowed: {list(CONTAINER.sysctls_allowed)})"


_RESTARTS = ("always", "unless-stopped", "on-failure")


def _restart(view, _context):
    if view.restart is not None and view.restart.split(":")[0] not in _RESTARTS:
        yield f"restart policy {view.restart or 'no'!r} does not bring a crashed service back (one of {list(_RESTARTS)})"


def _r(name, rule_id, settings, reads, check, expected):
    return name, Requirement(rule_id, settings, reads, check), expected


_C = CONTAINER
REQUIREMENTS: dict[str, Requirement] = {}
EXPECTED: dict[str, str] = {}
for _name, _requirement, _expected in (
    _r("user", "RAE-CTR-001", ((_C, "service_users"), (_C, "group_add_allowed")), ("user", "group_adds"), _user,
       "a numeric uid:gid, neither 0, no supplementary group"),
    _r("own_user", "RAE-CTR-001", ((_C, "service_users"),), ("user", "service"), _own_user,
       "its service's own uid:gid from CONTAINER.service_users; never another service's"),
    _r("read_only_rootfs", "RAE-CTR-002", ((_C, "read_only_rootfs"), (_C, "tmpfs_options_required"), (_C, "tmpfs")),
       ("read_only", "tmpfs"), _read_only, f"{CONTAINER.read_only_rootfs}; tmpfs {list(CONTAINER.tmpfs_options_required)} "
                                           f"on {sorted(CONTAINER.tmpfs)} only, sized as the baseline's"),
    _r("cap_drop", "RAE-CTR-003", ((_C, "cap_drop"),), ("cap_drop",), _cap_drop, str(list(CONTAINER.cap_drop))),
    _r("cap_add", "RAE-CTR-003", ((_C, "cap_add_allowed"),), ("cap_add",), _cap_add, str(list(CONTAINER.cap_add_allowed))),
    _r("no_new_privileges", "RAE-CTR-004", ((_C, "security_opts"),), ("security_opts",), _no_new_privileges,
       str(list(CONTAINER.security_opts))),
    _r("seccomp_apparmor", "RAE-CTR-004", ((_C, "forbidden_security_opts"), (_C, "security_opt_keys_allowed")),
       ("security_opts",), _confinement, f"default profiles: no option but {list(CONTAINER.security_opt_keys_allowed)}"),
    _r("memory_mb", "RAE-CTR-005", ((_C, "memory_mb_max"),), ("memory_mb",), _memory, f"1..{CONTAINER.memory_mb_max}"),
    _r("pids_limit", "RAE-CTR-005", ((_C, "pids_limit"),), ("pids_limit",), _pids, f"1..{CONTAINER.pids_limit}"),
    _r("healthcheck_declared", "RAE-CTR-006", ((_C, "healthcheck_required"),), ("healthcheck",), _healthcheck,
       "a healthcheck command (not NONE)"),
    _r("port_bind_addresses", "RAE-CTR-007", ((_C, "bind_addresses"), (_C, "publish_all_ports")),
       ("ports", "publish_all_ports"), _ports, "declared addresses only, not every exposed port"),
    _r("privileged", "RAE-CTR-008", ((_C, "privileged_allowed"),), ("privileged",), _privileged,
       str(CONTAINER.privileged_allowed)),
    _r("host_namespaces", "RAE-CTR-009", ((_C, "host_namespaces_allowed"), (_C, "cgroupns_mode")), ("namespaces",),
       _namespaces, f"none shared with the host or another container; cgroupns {CONTAINER.cgroupns_mode!r}"),
    _r("forbidden_mounts", "RAE-CTR-010", ((_C, "forbidden_mounts"), (_C, "host_roots")), ("host_paths", "mount_problems"),
       _host_paths,
       "host paths only under the declared roots"),
    _r("image_pinning", "RAE-CTR-011", ((_C, "image_pinning"),), ("image",), _image, "sha256:<id> or name@sha256:<digest>"),
    _r("secrets_in_environment", "RAE-CTR-012", ((SECRETS, "delivery"),), ("env",), _environment,
       "no credential in the environment (secrets are files)"),
    _r("log_rotation", "RAE-CTR-013", ((_C, "log_driver"), (_C, "log_opts")), ("log_driver", "log_opts"), _logs,
       f"{CONTAINER.log_driver} with {dict(CONTAINER.log_opts)}"),
    _r("devices", "RAE-CTR-014", ((_C, "devices_allowed"),), ("devices",), _devices, "no host device"),
    _r("runtime", "RAE-CTR-015", ((_C, "runtimes_allowed"),), ("runtime",), _runtime, str(list(CONTAINER.runtimes_allowed))),
    _r("sysctls", "RAE-CTR-016", ((_C, "sysctls_allowed"),), ("sysctls",), _sysctls, "engine defaults"),
    _r("restart_policy", "RAE-CTR-017", ((_C, "restart"),), ("restart",), _restart, CONTAINER.restart),
):
    REQUIREMENTS[_name], EXPECTED[_name] = _requirement, _expected


def controls_of(rule_id: str) -> tuple[str, ...]:
    """The controls a catalog rule serves: those of every requirement reported under it."""
    return tuple(dict.fromkeys(c for r in REQUIREMENTS.values() if r.rule_id == rule_id for c in r.controls))


RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: ContainerView, context: Context = Context(), rule_id: str | None = None
          ) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (message: str) or undecided requirement (message: Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, context, rule_id)


# --- adapters ----------------------------------------------------------------------------------------

def from_spec(spec) -> ContainerView:
    """A components.spec.ContainerSpec (read by duck typing: the model does not import the components)."""
    hc = spec.healthcheck
    return ContainerView(
        source="ContainerSpec", name=spec.name, image=spec.image, user=f"{spec.uid}:{spec.gid}", service=spec.service,
        read_only=spec.read_only, tmpfs=dict(spec.tmpfs), cap_drop=tuple(_capability(c) for c in spec.cap_drop),
        cap_add=tuple(_capability(c) for c in spec.cap_add), security_opts=tuple(spec.security_opts),
        privileged=bool(spec.privileged),
        # Every runtime built from a spec (component, docker_api_kwargs, docker_run_args) sets the baseline's cgroupns.
        namespaces={"network": spec.network_mode or "", "cgroupns": CONTAINER.cgroupns_mode},
        memory_mb=spec.memory_mb, pids_limit=spec.pids_limit, healthcheck=tuple(hc.test) if hc else (),
        ports=tuple((p.internal, p.host_ip) for p in spec.ports),
        host_paths=tuple((m.source, f"bind mount at {m.target}") for m in spec.mounts if m.type == "bind")
        + tuple((s.source, f"secret file at {s.target}") for s in spec.secret_files),
        env=tuple((str(k), str(v)) for k, v in spec.env.items()), restart=spec.restart,
        log_driver=CONTAINER.log_driver, log_opts=dict(spec.log_opts))


def _as_list(value) -> list:
    """A list-valued attribute as a list (checkov wraps a list once more: [[a, b]] -> [a, b])."""
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first(value):
    """Terraform wraps blocks (and checkov every value) in lists; Pulumi does not."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


# Keys checkov adds to every map it parses from a plan: where it read it, not data.
_CHECKOV_METADATA = ("start_line", "end_line")


def _map(value) -> dict:
    value = _first(value)
    if not isinstance(value, dict):
        return {}
    return {key: _first(item) for key, item in value.items()
            if not str(key).startswith("__") and key not in _CHECKOV_METADATA}


# view field -> (pulumi-docker property, terraform attribute)
_KEYS = {
    "image": ("image", "image"), "user": ("user", "user"), "group_adds": ("groupAdds", "group_add"),
    "read_only": ("readOnly", "read_only"), "tmpfs": ("tmpfs", "tmpfs"), "capabilities": ("capabilities", "capabilities"),
    "drop": ("drops", "drop"), "add": ("adds", "add"), "security_opts": ("securityOpts", "security_opts"),
    "privileged": ("privileged", "privileged"), "memory": ("memory", "memory"), "healthcheck": ("healthcheck", "healthcheck"),
    "test": ("tests", "test"), "ports": ("ports", "ports"), "ip": ("ip", "ip"), "internal": ("internal", "internal"),
    "mounts": ("mounts", "mounts"), "volumes": ("volumes", "volumes"), "host_path": ("hostPath", "host_path"),
    "volume_options": ("volumeOptions", "volume_options"), "driver_options": ("driverOptions", "driver_options"),
    "devices": ("devices", "devices"), "sysctls": ("sysctls", "sysctls"), "runtime": ("runtime", "runtime"),
    "env": ("envs", "env"), "restart": ("restart", "restart"), "log_driver": ("logDriver", "log_driver"),
    "log_opts": ("logOpts", "log_opts"), "container_path": ("containerPath", "container_path"),
    "network_mode": ("networkMode", "network_mode"), "pid_mode": ("pidMode", "pid_mode"), "ipc_mode": ("ipcMode", "ipc_mode"),
    "userns_mode": ("usernsMode", "userns_mode"), "uts_mode": ("utsMode", "uts_mode"),
    "cgroupns_mode": ("cgroupnsMode", "cgroupns_mode"), "publish_all_ports": ("publishAllPorts", "publish_all_ports"),
    "gpus": ("gpus", "gpus"), "from_container": ("fromContainer", "from_container"),
    "bind_options": ("bindOptions", "bind_options"), "propagation": ("propagation", "propagation"),
    "labels": ("labels", "labels"), "label": ("label", "label"), "value": ("value", "value"),
}
# Fields of the view and the provider properties they are read from (for unknown values).
_READS = {"image": ("image",), "user": ("user",), "service": ("labels",), "group_adds": ("group_adds",),
          "read_only": ("read_only",),
          "tmpfs": ("tmpfs",), "cap_drop": ("capabilities",), "cap_add": ("capabilities",),
          "security_opts": ("security_opts",), "privileged": ("privileged",), "memory_mb": ("memory",),
          "healthcheck": ("healthcheck",), "ports": ("ports",), "host_paths": ("mounts", "volumes"),
          "mount_problems": ("mounts", "volumes"), "publish_all_ports": ("publish_all_ports",),
          "devices": ("devices", "gpus"), "sysctls": ("sysctls",), "runtime": ("runtime",), "env": ("env",),
          "restart": ("restart",), "log_driver": ("log_driver",), "log_opts": ("log_opts",),
          "namespaces": ("network_mode", "pid_mode", "ipc_mode", "userns_mode", "uts_mode", "cgroupns_mode")}


def _provider_view(name: str, props: dict, style: int, source: str) -> ContainerView:
    def get(value, key):
        value = _first(value)
        return value.get(_KEYS[key][style]) if isinstance(value, dict) else None

    def scalar(value, key):
        return _first(get(value, key))

    def entries(key):
        return [_first(entry) for entry in _as_list(get(props, key))]

    capabilities = get(props, "capabilities")
    health = get(props, "healthcheck")
    host_paths, mount_problems = [], []
    for mount in entries("mounts"):
        if not isinstance(mount, dict):
            continue
        target = _first(mount.get("target", "?"))
        kind = str(_first(mount.get("type")) or "")
        if kind not in _MOUNT_TYPES:
            mount_problems.append(f"mount at {target} has type {kind or '(unset)'!r}, not one of {list(_MOUNT_TYPES)}")
        if kind == "bind":
            host_paths.append((str(_first(mount.get("source")) or ""), f"bind mount at {target}"))
            propagation = str(scalar(get(mount, "bind_options"), "propagation") or "")
            if propagation not in _PROPAGATION:
                mount_problems.append(f"bind mount at {target} has propagation {propagation!r}: mounts made in the "
                                      f"container reach the host (allowed: {[p for p in _PROPAGATION if p]})")
        device = _map(get(get(mount, "volume_options"), "driver_options")).get("device")
        if device:
            host_paths.append((str(device), f"volume device option at {target}"))
    for volume in entries("volumes"):
        if isinstance(volume, dict) and scalar(volume, "host_path"):
            host_paths.append((str(scalar(volume, "host_path")), f"volume at {scalar(volume, 'container_path')}"))
        if isinstance(volume, dict) and scalar(volume, "from_container"):
            mount_problems.append(f"every volume of container {scalar(volume, 'from_container')!r} is mounted: "
                                  f"its host paths are not seen here")
    env = [str(_first(item)).partition("=") for item in _as_list(get(props, "env"))]
    service = next((str(scalar(label, "value") or "") for label in entries("labels")
                    if isinstance(label, dict) and scalar(label, "label") == SERVICE_LABEL), "")
    modes = {namespace: str(_first(get(props, f"{namespace}_mode")) or "") for namespace in _NAMESPACES}
    memory = _first(get(props, "memory"))
    unknown = frozenset(name_ for name_, keys in _READS.items() if any(is_unknown(get(props, key)) for key in keys))
    return ContainerView(
        source=source, name=name, image=str(_first(get(props, "image")) or ""), user=str(_first(get(props, "user")) or ""),
        service=service,
        group_adds=tuple(str(_first(g)) for g in _as_list(get(props, "group_adds"))),
        read_only=_first(get(props, "read_only")), tmpfs=_map(get(props, "tmpfs")),
        cap_drop=tuple(_capability(_first(c)) for c in _as_list(get(capabilities, "drop"))),
        cap_add=tuple(_capability(_first(c)) for c in _as_list(get(capabilities, "add"))),
        security_opts=tuple(str(_first(o)) for o in _as_list(get(props, "security_opts"))),
        privileged=bool(_first(get(props, "privileged"))), namespaces=modes,
        memory_mb=memory if isinstance(memory, (int, float)) and not isinstance(memory, bool) else None,
        healthcheck=tuple(str(_first(t)) for t in _as_list(get(health, "test"))),
        ports=tuple((scalar(port, "internal"), str(scalar(port, "ip") or "")) for port in entries("ports")
                    if isinstance(port, dict)),
        publish_all_ports=bool(_first(get(props, "publish_all_ports"))),
        host_paths=tuple(host_paths), mount_problems=tuple(mount_problems),
        devices=tuple(str(scalar(d, "host_path") or d) for d in entries("devices"))
        + ((f"GPUs {_first(get(props, 'gpus'))}",) if _first(get(props, "gpus")) else ()),
        sysctls=_map(get(props, "sysctls")), runtime=str(_first(get(props, "runtime")) or ""),
        env=tuple((n, v) for n, _, v in env), restart=str(_first(get(props, "restart")) or "no"),
        log_driver=str(_first(get(props, "log_driver")) or ""), log_opts=_map(get(props, "log_opts")),
        unknown=unknown)


def from_pulumi(name: str, props: dict) -> ContainerView:
    """pulumi-docker `docker:index/container:Container` inputs (camelCase, as the engine and mocks see them).

    pulumi-docker has no pids input (ContainerPidsLimit sets it at run time): pids_limit stays None and the
    requirement asks Context.pids_limited whether a pids-limit step targets this container (by `name`).
    """
    return _provider_view(name, props, 0, "pulumi-docker")


def from_terraform(name: str, values: dict) -> ContainerView:
    """A Terraform `docker_container`'s values (snake_case; blocks, and in checkov every value, wrapped in lists)."""
    return _provider_view(name, values, 1, "terraform plan")


def from_inspect(attrs: dict) -> ContainerView:
    """`docker inspect` of a container (docker-py's `container.attrs`)."""
    config, host = attrs.get("Config") or {}, attrs.get("HostConfig") or {}
    mounts = attrs.get("Mounts") or []
    binds = [(m.get("Source", ""), f"bind mount at {m.get('Destination')}") for m in mounts if m.get("Type") == "bind"]
    mount_problems = [f"mount at {m.get('Destination')} has type {m.get('Type')!r}, not one of {list(_MOUNT_TYPES)}"
                      for m in mounts if m.get("Type") not in _MOUNT_TYPES]
    mount_problems += [f"bind mount at {m.get('Destination')} has propagation {m.get('Propagation')!r}: mounts made "
                       f"in the container reach the host" for m in mounts
                       if m.get("Type") == "bind" and str(m.get("Propagation") or "") not in _PROPAGATION]
    mount_problems += [f"every volume of container {source!r} is mounted: its host paths are not seen here"
                       for source in host.get("VolumesFrom") or ()]
    ports = [(port, target.get("HostIp") or "") for port, targets in sorted((host.get("PortBindings") or {}).items())
             for target in targets or []]
    env = [str(item).partition("=") for item in config.get("Env") or []]
    pids = host.get("PidsLimit")
    return ContainerView(
        source="docker inspect", name=str(attrs.get("Name", "")).lstrip("/"), image=str(config.get("Image") or ""),
        user=str(config.get("User") or ""), service=str((config.get("Labels") or {}).get(SERVICE_LABEL) or ""),
        group_adds=tuple(host.get("GroupAdd") or ()),
        read_only=bool(host.get("ReadonlyRootfs")), tmpfs=dict(host.get("Tmpfs") or {}),
        cap_drop=tuple(_capability(c) for c in host.get("CapDrop") or ()),
        cap_add=tuple(_capability(c) for c in host.get("CapAdd") or ()),
        security_opts=tuple(host.get("SecurityOpt") or ()), privileged=bool(host.get("Privileged")),
        namespaces={"network": host.get("NetworkMode") or "", "pid": host.get("PidMode") or "",
                    "ipc": host.get("IpcMode") or "", "uts": host.get("UTSMode") or "",
                    "userns": host.get("UsernsMode") or "", "cgroupns": host.get("CgroupnsMode") or ""},
        memory_mb=(host.get("Memory") or 0) / (1024 * 1024), pids_limit=pids if pids else 0,
        healthcheck=tuple((config.get("Healthcheck") or {}).get("Test") or ()),
        ports=tuple(ports), publish_all_ports=bool(host.get("PublishAllPorts")), host_paths=tuple(binds),
        mount_problems=tuple(mount_problems),
        devices=tuple(d.get("PathOnHost", "?") for d in host.get("Devices") or ())
        + tuple(f"device cgroup rule {rule}" for rule in host.get("DeviceCgroupRules") or ())
        + tuple(f"device request {r.get('Driver') or ''} {r.get('Capabilities')}".strip()
                for r in host.get("DeviceRequests") or ()),
        sysctls=dict(host.get("Sysctls") or {}), runtime=str(host.get("Runtime") or ""),
        env=tuple((n, v) for n, _, v in env), restart=(host.get("RestartPolicy") or {}).get("Name") or "no",
        log_driver=(host.get("LogConfig") or {}).get("Type") or "",
        log_opts=dict((host.get("LogConfig") or {}).get("Config") or {}))


def shown(name: str, view: ContainerView):
    """The view's value a requirement reads, for evidence (environment: variable names only, never values)."""
    if name == "secrets_in_environment":
        return sorted(n for n, v in view.env if credential_reason(n, v)) or "none"
    if name == "forbidden_mounts":
        return [path for path, _ in view.host_paths] or "none"
    value = {"user": view.user or "root (unset)", "own_user": f"{view.service or '(no service)'} as {view.user}",
             "read_only_rootfs": view.read_only, "cap_drop": list(view.cap_drop),
             "cap_add": list(view.cap_add), "no_new_privileges": list(view.security_opts),
             "seccomp_apparmor": list(view.security_opts), "memory_mb": view.memory_mb,
             "pids_limit": view.pids_limit, "healthcheck_declared": list(view.healthcheck),
             "port_bind_addresses": ([f"{a or '0.0.0.0'}->{p}" for p, a in view.ports] or "no published ports")
             if not view.publish_all_ports else "every exposed port",
             "privileged": view.privileged, "host_namespaces": {k: v for k, v in view.namespaces.items() if v},
             "image_pinning": view.image, "log_rotation": {"driver": view.log_driver, **view.log_opts},
             "devices": list(view.devices), "runtime": view.runtime or "runc (default)",
             "sysctls": sorted(view.sysctls), "restart_policy": view.restart}[name]
    return value


__all__ = ["Context", "ContainerView", "is_unknown", "EXPECTED", "REQUIREMENTS", "RULE_IDS", "SERVICE_LABEL", "Unknown",
           "check_roots", "service_user",
           "controls_of", "credential_reason", "from_inspect", "from_pulumi", "from_spec", "from_terraform", "judge",
           "normalize_host_path", "security_options", "shown"]


def from_volume(name: str, props: dict, terraform: bool = False) -> ContainerView:
    """A Docker volume's host path (`driverOpts.device` / `driver_opts.device`), for the host-path requirement only."""
    options = _map(props.get("driver_opts" if terraform else "driverOpts"))
    device = options.get("device")
    unknown = frozenset({"host_paths"}) if is_unknown(options) else frozenset()
    return ContainerView(source="terraform plan" if terraform else "pulumi-docker", name=name,
                         host_paths=((str(device), "volume device option"),) if device else (), unknown=unknown)


def declared_context(config: dict, project_dir: str = ".") -> Context:
    """What a stack declares, from its flat config ("rae:bindAddress", "rae:dataRoot"; a relative data root is
    resolved against the project directory, as the program does), on top of the baseline's addresses and roots, and
    the project its Google Cloud provider is configured with (gcp:project)."""
    address, root = config.get("rae:bindAddress"), config.get("rae:dataRoot")
    addresses = (*CONTAINER.bind_addresses, *([str(address)] if address and str(address) not in _WILDCARDS else []))
    roots = (*CONTAINER.host_roots, *([posixpath.join(str(project_dir), str(root))] if root else []))
    return Context(bind_addresses=tuple(dict.fromkeys(addresses)),
                   host_roots=tuple(dict.fromkeys(normalize_host_path(r) for r in roots)),
                   gcp_project=str(config.get("gcp:project") or ""))
