"""The hardened runtime of one container, derived from the baseline and validated against it.

This is the single description that the Pulumi `HardenedContainer` turns into `docker.Container`
inputs and that the integration tests hand to the Docker API, so both run containers with exactly
the same settings. Pure Python: no Pulumi import.
"""

import re
import shlex
from dataclasses import dataclass, field

import posture.container as posture
from baseline import CONTAINER, BaselineViolation, require

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Port:
    """A published port: container port -> host address:port. The host address must be declared."""

    internal: int
    external: int
    host_ip: str = CONTAINER.bind_addresses[0]
    protocol: str = "tcp"


@dataclass(frozen=True)
class Mount:
    """A bind mount or named volume. Secrets use `SecretFile` instead."""

    source: str
    target: str
    type: str = "volume"
    read_only: bool = False


@dataclass(frozen=True)
class SecretFile:
    """A secret delivered as a file: host path (mode 0400, owned by the service uid) -> path in the container."""

    source: str
    target: str


@dataclass(frozen=True)
class Healthcheck:
    test: tuple[str, ...]
    interval_s: int = 10
    timeout_s: int = 5
    retries: int = 5
    start_period_s: int = 20


@dataclass(frozen=True)
class ContainerSpec:
    """Everything about a hardened container that the baseline constrains.

    + name: container name (also its hostname on the internal network)
    + image: `sha256:<id>` or `repo@sha256:<digest>`; mutable tags are refused
    + healthcheck: required
    + allowed_bind_addresses: the host addresses this stack declares (Node1's Tailscale address, loopback)
    + host_roots: the data and secret roots this stack declares; bind mounts and secret files sit under them
    + service: the service it runs (a key of baseline CONTAINER.service_users; the name by default); uid and gid
      default to that service's own, and the posture model refuses any other


    Example: ContainerSpec("postgres", image="sha256:...", healthcheck=Healthcheck(("CMD", "pg_isready")))
    """

    name: str
    image: str
    healthcheck: Healthcheck | None
    command: tuple[str, ...] = ()
    uid: int | None = None
    gid: int | None = None
    read_only: bool = CONTAINER.read_only_rootfs
    tmpfs: dict = field(default_factory=lambda: dict(CONTAINER.tmpfs))
    cap_add: tuple[str, ...] = ()
    security_opts: tuple[str, ...] = CONTAINER.security_opts
    memory_mb: int = CONTAINER.memory_mb_default
    pids_limit: int = CONTAINER.pids_limit
    ports: tuple[Port, ...] = ()
    mounts: tuple[Mount, ...] = ()
    secret_files: tuple[SecretFile, ...] = ()
    env: dict = field(default_factory=dict)
    networks: tuple[str, ...] = ()
    restart: str = CONTAINER.restart
    log_opts: dict = field(default_factory=lambda: dict(CONTAINER.log_opts))
    allowed_bind_addresses: tuple[str, ...] = CONTAINER.bind_addresses
    host_roots: tuple[str, ...] = CONTAINER.host_roots
    privileged: bool = False
    network_mode: str | None = None
    service: str = ""

    def __post_init__(self):
        # A frozen dataclass: the defaults that depend on other fields are set once, here, then judged.
        service = self.service or self.name
        object.__setattr__(self, "service", service)
        if self.uid is None or self.gid is None:
            uid, gid = posture.service_user(service)
            object.__setattr__(self, "uid", uid if self.uid is None else self.uid)
            object.__setattr__(self, "gid", gid if self.gid is None else self.gid)
        validate(self)

    @property
    def user(self) -> str:
        return f"{self.uid}:{self.gid}"

    @property
    def cap_drop(self) -> tuple[str, ...]:
        return CONTAINER.cap_drop


def validate(spec: ContainerSpec) -> None:
    """Refuse any spec weaker than the baseline, naming the controls at stake (the container posture model)."""
    require(bool(_NAME.match(spec.name)), f"container name {spec.name!r} is not a valid name", ("A.8.9",))
    require(spec.network_mode in (None, "bridge"),
            f"container {spec.name}: network mode {spec.network_mode!r} is not an isolated bridge network",
            CONTAINER.controls("host_namespaces_allowed"))
    context = posture.Context(bind_addresses=tuple(spec.allowed_bind_addresses), host_roots=tuple(spec.host_roots))
    for _name, requirement, message in posture.judge(posture.from_spec(spec), context):
        raise BaselineViolation(f"container {spec.name}: {message}", requirement.controls)


# Every container gets a cgroup namespace of its own: the engine's default on cgroup v1 hosts is the host's
# (RAE-CTR-009, A.8.22), which the posture model refuses where it reads the live container.
CGROUP_NAMESPACE = CONTAINER.cgroupns_mode


def docker_api_kwargs(spec: ContainerSpec) -> dict:
    """The same runtime as keyword arguments of docker-py's `containers.run` / `create` (tests, audits)."""
    hc = spec.healthcheck
    return {
        "name": spec.name,
        "image": spec.image,
        "command": list(spec.command) or None,
        "user": spec.user,
        "read_only": spec.read_only,
        "cgroupns": CGROUP_NAMESPACE,
        "tmpfs": dict(spec.tmpfs),
        "cap_drop": list(spec.cap_drop),
        "security_opt": list(spec.security_opts),
        "mem_limit": f"{spec.memory_mb}m",
        "pids_limit": spec.pids_limit,
        "ports": {f"{p.internal}/{p.protocol}": (p.host_ip, p.external) for p in spec.ports},
        "volumes": {m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts}
        | {s.source: {"bind": s.target, "mode": "ro"} for s in spec.secret_files},
        "environment": dict(spec.env),
        "restart_policy": {"Name": spec.restart},
        # The service it runs, as HardenedContainer labels it: the audit judges its user against that service's.
        "labels": {posture.SERVICE_LABEL: spec.service},
        "log_config": {"Type": CONTAINER.log_driver, "Config": dict(spec.log_opts)},
        "healthcheck": {
            "test": list(hc.test),
            "interval": hc.interval_s * 1_000_000_000,
            "timeout": hc.timeout_s * 1_000_000_000,
            "retries": hc.retries,
            "start_period": hc.start_period_s * 1_000_000_000,
        },
        "detach": True,
    }


def docker_run_args(spec: ContainerSpec) -> list[str]:
    """The same runtime as `docker run` arguments (cloud-init on a VM without the Docker API from Pulumi)."""
    hc = spec.healthcheck
    args = ["--name", spec.name, "--user", spec.user, "--cap-drop", "ALL", "--memory", f"{spec.memory_mb}m",
            "--pids-limit", str(spec.pids_limit), "--restart", spec.restart, "--log-driver", CONTAINER.log_driver]
    args += ["--read-only"] if spec.read_only else []
    args += ["--cgroupns", CGROUP_NAMESPACE]
    for option in spec.security_opts:
        args += ["--security-opt", option]
    for path, options in spec.tmpfs.items():
        args += ["--tmpfs", f"{path}:{options}"]
    for key, value in spec.log_opts.items():
        args += ["--log-opt", f"{key}={value}"]
    for port in spec.ports:
        args += ["--publish", f"{port.host_ip}:{port.external}:{port.internal}/{port.protocol}"]
    for mount in spec.mounts:
        args += ["--mount", f"type={mount.type},source={mount.source},target={mount.target}"
                            + (",readonly" if mount.read_only else "")]
    for secret in spec.secret_files:
        args += ["--mount", f"type=bind,source={secret.source},target={secret.target},readonly"]
    for key, value in sorted(spec.env.items()):
        args += ["--env", f"{key}={value}"]
    for network in spec.networks:
        args += ["--network", network]
    args += ["--label", f"{posture.SERVICE_LABEL}={spec.service}"]
    # The CLI takes the health command in shell form only.
    args += ["--health-cmd", hc.test[1] if hc.test[0] == "CMD-SHELL" else shlex.join(hc.test[1:]),
             "--health-interval", f"{hc.interval_s}s", "--health-timeout", f"{hc.timeout_s}s",
             "--health-retries", str(hc.retries), "--health-start-period", f"{hc.start_period_s}s"]
    return [*args, spec.image, *spec.command]
