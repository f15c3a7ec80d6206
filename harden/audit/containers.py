"""Live container runtime checks (docker-bench-security section 5) read through the Docker API.

Each requirement of the container posture model (posture.container) is judged on `docker inspect` and yields
Evidence with expected and actual values. Environment values are never read into evidence: only the
names of variables that carry a credential. The secret files a container reads (its read-only bind mounts of single
files) are stat-ed on the Docker host, where the audit runs: mode and owner, never content.
"""

import os
import stat

import posture.container as posture
from baseline import CONTAINER, DOCKER_DAEMON, SECRETS, BaselineViolation
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence

COMPONENT_LABEL = "org.rae.hardening.component"
STACK_LABEL = "org.rae.hardening.stack"
SERVICE_LABEL = posture.SERVICE_LABEL
# What an empty HostIp means to Docker: the port listens on every interface. Reported, never bound.
ANY_ADDRESS = "0.0.0.0"  # nosec B104


def hardened_containers(client, stack: str | None = None, names=()) -> list:
    """The containers named explicitly, or else those our components created (by label), optionally one stack's."""
    if names:
        return sorted((client.containers.get(name) for name in names), key=lambda c: c.name)
    label = f"{STACK_LABEL}={stack}" if stack else COMPONENT_LABEL
    return sorted(client.containers.list(all=True, filters={"label": label}), key=lambda c: c.name)


def check_container(attrs: dict, bind_addresses=CONTAINER.bind_addresses,
                    host_roots=CONTAINER.host_roots, remap=None, remap_problem=None) -> list[Evidence]:
    """docker-bench section 5 checks of one container's inspect data, judged by the container posture model.

    + attrs: `container.attrs` (docker inspect)
    + bind_addresses: host addresses published ports may bind to (baseline plus the stack's declared ones)
    + host_roots: data and secret roots bind mounts may come from (baseline plus the stack's declared one)
    + remap: the engine's user-namespace remap (posture.container.remap_from_info), None without one
    + remap_problem: why the engine's remap could not be read (secret files' owners are then unknown)
    """
    view = posture.from_inspect(attrs)
    subject = f"container/{view.name}"
    context = posture.Context(bind_addresses=tuple(bind_addresses), host_roots=tuple(host_roots))
    found = []
    for name, requirement in posture.REQUIREMENTS.items():
        messages = requirement.judge(view, context)
        status = (FAIL if any(not isinstance(m, posture.Unknown) for m in messages)
                  else UNKNOWN if messages else PASS)
        found.append(Evidence("container", subject, name, posture.EXPECTED[name], posture.shown(name, view), status,
                              requirement.controls, "; ".join(messages) or f"{requirement.rule_id} holds"))
    found.extend(_health(subject, attrs.get("Config") or {}, attrs.get("State") or {}))
    found.extend(secret_file_modes(subject, attrs, remap=remap, remap_problem=remap_problem))
    return found


def secret_file_modes(subject: str, attrs: dict, stat_path=os.stat, remap=None, remap_problem=None) -> list[Evidence]:
    """The secret files of one container (read-only bind mounts of regular files) as the host holds them: each must
    have exactly baseline.SECRETS.file_mode and belong to the container's numeric user. A source that cannot be
    stat-ed (the audit is not on the Docker host, or may not look) is unknown, never passed; a container with no
    read-only file mount gives no evidence.

    + stat_path: os.stat (a test may pass another)
    + remap: the engine's user-namespace remap: the file belongs to the host ids the container's uid has under it
    + remap_problem: why the engine's remap could not be read: the host uid a file must belong to is then not known,
      and its owner is unknown, never judged against the bare container uid
    """
    expected = f"mode {SECRETS.file_mode:04o}, owner the container's uid"
    user = str((attrs.get("Config") or {}).get("User") or "")
    uid = user.split(":", 1)[0]
    binds = [m for m in attrs.get("Mounts") or [] if m.get("Type") == "bind" and m.get("RW") is False]
    found, problems, unseen = [], [], []
    host_uid = None
    if uid.isdigit() and not remap_problem:
        try:
            host_uid = posture.mapped_ids(int(uid), 0, remap)[0]
        except BaselineViolation as error:  # the uid has no host id under the remap: no file can be the service's
            problems.append(error.problem)
    for mount in sorted(binds, key=lambda m: str(m.get("Destination"))):
        try:
            info = stat_path(mount.get("Source") or "")
        except OSError as error:
            unseen.append(f"{mount.get('Destination')}: {type(error).__name__}")
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        mode = stat.S_IMODE(info.st_mode)
        found.append({"file": str(mount.get("Destination")), "mode": f"{mode:04o}", "owner": f"{info.st_uid}:{info.st_gid}"})
        if mode != SECRETS.file_mode:
            problems.append(f"{mount.get('Destination')} has mode {mode:04o}")
        if remap_problem or (uid.isdigit() and host_uid is None):  # unknown, or failed above for the range
            continue
        if info.st_uid != host_uid:
            problems.append(f"{mount.get('Destination')} belongs to uid {info.st_uid}, the container runs as {user!r}"
                            + (f" (host uid {host_uid} under the engine's user-namespace remap)"
                               if remap and host_uid is not None else ""))
    if not found and not unseen:
        return []
    if remap_problem and found:
        unseen.append(f"the owners, which must be the container user's host uid: {remap_problem}")
    status = FAIL if problems else UNKNOWN if unseen else PASS
    detail = "; ".join(problems + [f"not seen: {', '.join(unseen)}" if unseen else ""]).strip("; ")
    return [Evidence("container", subject, "secret_file_modes", expected, found, status, SECRETS.controls("file_mode"),
                     detail or f"{len(found)} secret files, each {SECRETS.file_mode:04o} and the service's")]


def _health(subject: str, config: dict, state: dict) -> list[Evidence]:
    test = (config.get("Healthcheck") or {}).get("Test") or []
    declared = bool(test) and test[0] != "NONE"
    controls = CONTAINER.controls("healthcheck_required")
    found = []
    health = (state.get("Health") or {}).get("Status")
    running = state.get("Status")
    if running != "running":
        found.append(Evidence("container", subject, "health", "healthy", running or "absent", FAIL, controls,
                              "the container is not running"))
    elif declared:
        status = {"healthy": PASS, "unhealthy": FAIL}.get(health, UNKNOWN)
        found.append(Evidence("container", subject, "health", "healthy", health or "no status", status, controls,
                              "'starting' is unknown, never pass"))
    return found


def read_remap(info: dict) -> tuple[tuple[int, int, int] | None, str | None]:
    """The engine's user-namespace remap from `docker info` (posture.container.remap_from_info) and, when it cannot be
    read, why (the remap is then None and the problem is not)."""
    try:
        return posture.remap_from_info(info), None
    except BaselineViolation as error:
        return None, error.problem


def check_engine(info: dict, remap_read=None) -> list[Evidence]:
    """docker-bench section 2 items visible through the API (`docker info`) against baseline DOCKER_DAEMON.

    + remap_read: read_remap(info) when the caller has it already
    """
    config, controls = DOCKER_DAEMON.config, DOCKER_DAEMON.controls("config")
    seccomp = any(opt.startswith("name=seccomp") and "profile=unconfined" not in opt
                  for opt in info.get("SecurityOptions") or [])
    return [
        Evidence("container", "docker-engine", "live_restore", config["live-restore"], info.get("LiveRestoreEnabled"),
                 PASS if info.get("LiveRestoreEnabled") == config["live-restore"] else FAIL, controls, "docker-bench 2.13"),
        Evidence("container", "docker-engine", "log_driver", config["log-driver"], info.get("LoggingDriver"),
                 PASS if info.get("LoggingDriver") == config["log-driver"] else FAIL, controls, "docker-bench 2.12"),
        Evidence("container", "docker-engine", "seccomp_default_profile", "enabled",
                 "enabled" if seccomp else info.get("SecurityOptions"), PASS if seccomp else FAIL,
                 CONTAINER.controls("forbidden_security_opts"), "docker-bench 2.16"),
        _userns_remap(info, remap_read or read_remap(info)),
    ]


def _userns_remap(info: dict, remap_read: tuple) -> Evidence:
    """docker-bench 2.8: the engine runs its containers in a user namespace of their own (DOCKER_DAEMON.userns_remap)."""
    expected = f"userns-remap {DOCKER_DAEMON.userns_remap}: container ids mapped to a subordinate range"
    remap, problem = remap_read
    if problem:
        return Evidence("container", "docker-engine", "userns_remap", expected, info.get("DockerRootDir"), UNKNOWN,
                        DOCKER_DAEMON.controls("userns_remap"), problem)
    return Evidence("container", "docker-engine", "userns_remap", expected, posture.shown_remap(remap),
                    PASS if remap else FAIL,
                    DOCKER_DAEMON.controls("userns_remap"), "docker-bench 2.8")


def collect(client, stack=None, names=(), bind_addresses=CONTAINER.bind_addresses, progress=print, redactor=None,
            host_roots=CONTAINER.host_roots):
    """Evidence for every hardened container; an unreachable engine gives one unknown item, never a pass."""
    try:
        containers = hardened_containers(client, stack, names)
    except Exception as error:  # the engine is down or a named container is gone: evidence is unknown
        return [Evidence("container", "docker-engine", "reachable", "engine answers", f"{type(error).__name__}: {error}",
                         UNKNOWN, CONTAINER.controls("healthcheck_required"))]
    if not containers:
        scope = f"stack {stack}" if stack else f"label {COMPONENT_LABEL}"
        return [Evidence("container", "docker-engine", "hardened_containers", f"at least one container ({scope})", 0,
                         UNKNOWN, CONTAINER.controls("healthcheck_required"), "nothing to check is not a pass")]
    info = client.info()
    remap, remap_problem = remap_read = read_remap(info)
    evidence = check_engine(info, remap_read)
    for container in containers:
        progress(f"container {container.name}: docker-bench section 5 checks")
        if redactor is not None:
            redactor.learn_env(container.attrs.get("Config", {}).get("Env") or [])
        evidence.extend(check_container(container.attrs, bind_addresses, host_roots, remap, remap_problem))
    return evidence
