"""Live container runtime checks (docker-bench-security section 5) read through the Docker API.

Each check compares one attribute of `docker inspect` with the baseline's CONTAINER section and yields
Evidence with expected and actual values. Environment values are never read into evidence: only the
names of variables that look like secrets.
"""

from baseline import CONTAINER, DOCKER_DAEMON, SECRETS
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence
from harden.audit.redact import names_secret

COMPONENT_LABEL = "org.rae.hardening.component"
STACK_LABEL = "org.rae.hardening.stack"
SERVICE_LABEL = "org.rae.hardening.service"
# What an empty HostIp means to Docker: the port listens on every interface. Reported, never bound.
ANY_ADDRESS = "0.0.0.0"  # nosec B104
_HOST_NAMESPACES = ("NetworkMode", "PidMode", "IpcMode", "UsernsMode", "UTSMode")
_MIB = 1024 * 1024


def hardened_containers(client, stack: str | None = None, names=()) -> list:
    """The containers named explicitly, or else those our components created (by label), optionally one stack's."""
    if names:
        return sorted((client.containers.get(name) for name in names), key=lambda c: c.name)
    label = f"{STACK_LABEL}={stack}" if stack else COMPONENT_LABEL
    return sorted(client.containers.list(all=True, filters={"label": label}), key=lambda c: c.name)


def check_container(attrs: dict, bind_addresses=CONTAINER.bind_addresses) -> list[Evidence]:
    """docker-bench section 5 checks of one container's inspect data.

    + attrs: `container.attrs` (docker inspect)
    + bind_addresses: host addresses published ports may bind to (baseline plus the stack's declared ones)
    """
    name = attrs["Name"].lstrip("/")
    subject = f"container/{name}"
    config, host = attrs.get("Config") or {}, attrs.get("HostConfig") or {}

    def ev(check, expected, actual, ok, controls, detail=""):
        return Evidence("container", subject, check, expected, actual, PASS if ok else FAIL, tuple(controls), detail)

    user = config.get("User") or ""
    uid = user.split(":")[0]
    expected_user = f"{CONTAINER.uid}:{CONTAINER.gid}"
    found = [
        ev("user", expected_user, user or "root (unset)", user == expected_user or (uid not in ("", "0", "root") and uid.isdigit()),
           CONTAINER.controls("uid"), "docker-bench 4.1: a non-root numeric user"),
        ev("read_only_rootfs", CONTAINER.read_only_rootfs, bool(host.get("ReadonlyRootfs")),
           bool(host.get("ReadonlyRootfs")) == CONTAINER.read_only_rootfs, CONTAINER.controls("read_only_rootfs"),
           "docker-bench 5.12"),
        ev("cap_drop", list(CONTAINER.cap_drop), host.get("CapDrop") or [],
           set(CONTAINER.cap_drop) <= set(host.get("CapDrop") or []), CONTAINER.controls("cap_drop"), "docker-bench 5.3"),
        ev("cap_add", list(CONTAINER.cap_add_allowed), host.get("CapAdd") or [],
           set(host.get("CapAdd") or []) <= set(CONTAINER.cap_add_allowed), CONTAINER.controls("cap_add_allowed"),
           "docker-bench 5.3"),
        ev("privileged", CONTAINER.privileged_allowed, bool(host.get("Privileged")),
           not host.get("Privileged") or CONTAINER.privileged_allowed, CONTAINER.controls("privileged_allowed"),
           "docker-bench 5.4"),
    ]
    security_opts = [opt.replace(" ", "") for opt in host.get("SecurityOpt") or []]
    found.append(ev("no_new_privileges", list(CONTAINER.security_opts), security_opts,
                     all(opt in security_opts for opt in CONTAINER.security_opts), CONTAINER.controls("security_opts"),
                     "docker-bench 5.25"))
    weakening = [opt for opt in security_opts if opt in CONTAINER.forbidden_security_opts]
    found.append(ev("seccomp_apparmor", "default profiles (none of " + ", ".join(CONTAINER.forbidden_security_opts) + ")",
                     weakening or "default profiles", not weakening, CONTAINER.controls("forbidden_security_opts"),
                     "docker-bench 5.1, 5.21"))
    pids = host.get("PidsLimit") or 0
    found.append(ev("pids_limit", f"1..{CONTAINER.pids_limit}", pids if pids > 0 else "unlimited",
                     0 < pids <= CONTAINER.pids_limit, CONTAINER.controls("pids_limit"), "docker-bench 5.28"))
    memory_mib = (host.get("Memory") or 0) // _MIB
    found.append(ev("memory_mb", f"1..{CONTAINER.memory_mb_max}", memory_mib if memory_mib > 0 else "unlimited",
                     0 < memory_mib <= CONTAINER.memory_mb_max, CONTAINER.controls("memory_mb_max"), "docker-bench 5.10"))
    found.extend(_health(subject, config, attrs.get("State") or {}))
    shared = {mode: host.get(mode) for mode in _HOST_NAMESPACES if host.get(mode) == "host"}
    found.append(ev("host_namespaces", "none shared with the host", shared or "none shared with the host",
                     not shared or CONTAINER.host_namespaces_allowed, CONTAINER.controls("host_namespaces_allowed"),
                     "docker-bench 5.9, 5.15, 5.16, 5.20, 5.30"))
    sources = [m.get("Source", "") for m in attrs.get("Mounts") or []]
    forbidden = [s for s in sources if s.rstrip("/") in CONTAINER.forbidden_mounts or s == "/"]
    found.append(ev("forbidden_mounts", f"none of {list(CONTAINER.forbidden_mounts)}", forbidden or "none",
                     not forbidden, CONTAINER.controls("forbidden_mounts"), "docker-bench 5.5, 5.31 (docker.sock)"))
    binds = _port_bindings(host)
    exposed = [b for b in binds if b.split("->")[0].rsplit(":", 1)[0] not in bind_addresses]
    found.append(ev("port_bind_addresses", f"only {list(bind_addresses)}", binds or "no published ports",
                     not exposed, CONTAINER.controls("bind_addresses"), "docker-bench 5.13"))
    secret_named = sorted(item.partition("=")[0] for item in config.get("Env") or [] if names_secret(item.partition("=")[0]))
    found.append(ev("secrets_in_environment", "no secret-named variables (secrets are files)",
                     secret_named or "none", not secret_named, SECRETS.controls("delivery"),
                     "variable names only; values are never read into evidence"))
    restart = (host.get("RestartPolicy") or {}).get("Name") or "no"
    found.append(ev("restart_policy", CONTAINER.restart, restart, restart in ("always", "unless-stopped", "on-failure"),
                     CONTAINER.controls("restart"), "docker-bench 5.14"))
    log = host.get("LogConfig") or {}
    rotation = {k: (log.get("Config") or {}).get(k) for k in CONTAINER.log_opts}
    found.append(ev("log_rotation", {"driver": CONTAINER.log_driver, **CONTAINER.log_opts},
                     {"driver": log.get("Type"), **rotation},
                     log.get("Type") == CONTAINER.log_driver and all(rotation.values()), CONTAINER.controls("log_opts")))
    return found


def _health(subject: str, config: dict, state: dict) -> list[Evidence]:
    test = (config.get("Healthcheck") or {}).get("Test") or []
    declared = bool(test) and test[0] != "NONE"
    controls = CONTAINER.controls("healthcheck_required")
    found = [Evidence("container", subject, "healthcheck_declared", CONTAINER.healthcheck_required, declared,
                      PASS if declared else FAIL, controls, "docker-bench 5.27")]
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


def _port_bindings(host: dict) -> list[str]:
    binds = []
    for port, targets in sorted((host.get("PortBindings") or {}).items()):
        for target in targets or []:
            binds.append(f"{target.get('HostIp') or ANY_ADDRESS}:{target.get('HostPort')}->{port}")
    return binds


def check_engine(info: dict) -> list[Evidence]:
    """docker-bench section 2 items visible through the API (`docker info`) against baseline DOCKER_DAEMON."""
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
    ]


def collect(client, stack=None, names=(), bind_addresses=CONTAINER.bind_addresses, progress=print, redactor=None):
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
    evidence = check_engine(client.info())
    for container in containers:
        progress(f"container {container.name}: docker-bench section 5 checks")
        if redactor is not None:
            redactor.learn_env(container.attrs.get("Config", {}).get("Env") or [])
        evidence.extend(check_container(container.attrs, bind_addresses))
    return evidence
