"""The hardened runtime of one container, derived from the baseline and validated against it.

This is the single description that the Pulumi `HardenedContainer` turns into `docker.Container`
inputs and that the integration tests hand to the Docker API, so both run containers with exactly
the same settings. Pure Python: no Pulumi import.
"""

import re
import shlex
from dataclasses import dataclass, field

from baseline import CONTAINER, SECRETS, require

_IMAGE_ID = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_DIGEST = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")
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

    Example: ContainerSpec("postgres", image="sha256:...", healthcheck=Healthcheck(("CMD", "pg_isready")))
    """

    name: str
    image: str
    healthcheck: Healthcheck | None
    command: tuple[str, ...] = ()
    uid: int = CONTAINER.uid
    gid: int = CONTAINER.gid
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
    privileged: bool = False
    network_mode: str | None = None

    def __post_init__(self):
        validate(self)

    @property
    def user(self) -> str:
        return f"{self.uid}:{self.gid}"

    @property
    def cap_drop(self) -> tuple[str, ...]:
        return CONTAINER.cap_drop


def validate(spec: ContainerSpec) -> None:
    """Refuse any spec weaker than the baseline, naming the controls at stake."""
    require(bool(_NAME.match(spec.name)), f"container name {spec.name!r} is not a valid name", ("A.8.9",))
    require(bool(_IMAGE_ID.match(spec.image) or _IMAGE_DIGEST.match(spec.image)),
            f"container {spec.name}: image {spec.image!r} is not pinned by sha256 id or digest",
            CONTAINER.controls("image_pinning"))
    require(spec.uid != 0 and spec.gid != 0,
            f"container {spec.name}: runs as uid {spec.uid} gid {spec.gid}; root is not allowed",
            CONTAINER.controls("uid"))
    require(spec.read_only is True, f"container {spec.name}: read-only root filesystem cannot be turned off",
            CONTAINER.controls("read_only_rootfs"))
    require(not spec.cap_add, f"container {spec.name}: capabilities {list(spec.cap_add)} cannot be added back",
            CONTAINER.controls("cap_add_allowed"))
    require(not spec.privileged, f"container {spec.name}: privileged mode is not allowed",
            CONTAINER.controls("privileged_allowed"))
    require(spec.network_mode in (None, "bridge"),
            f"container {spec.name}: network mode {spec.network_mode!r} shares a host namespace",
            CONTAINER.controls("host_namespaces_allowed"))
    missing = [opt for opt in CONTAINER.security_opts if opt not in spec.security_opts]
    require(not missing, f"container {spec.name}: security options {missing} are required",
            CONTAINER.controls("security_opts"))
    weakening = [opt for opt in spec.security_opts if opt.replace(" ", "") in CONTAINER.forbidden_security_opts]
    require(not weakening, f"container {spec.name}: security options {weakening} disable confinement",
            CONTAINER.controls("forbidden_security_opts"))
    require(0 < spec.memory_mb <= CONTAINER.memory_mb_max,
            f"container {spec.name}: memory limit {spec.memory_mb} MiB is outside 1..{CONTAINER.memory_mb_max} MiB",
            CONTAINER.controls("memory_mb_max"))
    require(0 < spec.pids_limit <= CONTAINER.pids_limit,
            f"container {spec.name}: pids limit {spec.pids_limit} is outside 1..{CONTAINER.pids_limit}",
            CONTAINER.controls("pids_limit"))
    require(spec.healthcheck is not None and len(spec.healthcheck.test) > 0,
            f"container {spec.name}: a healthcheck is required", CONTAINER.controls("healthcheck_required"))
    for port in spec.ports:
        require(port.host_ip in spec.allowed_bind_addresses,
                f"container {spec.name}: port {port.internal} binds to {port.host_ip!r}, "
                f"not one of the declared addresses {list(spec.allowed_bind_addresses)}",
                CONTAINER.controls("bind_addresses"))
    for mount in (*spec.mounts, *spec.secret_files):
        require(mount.source.rstrip("/") not in CONTAINER.forbidden_mounts and mount.source != "/",
                f"container {spec.name}: mounting host path {mount.source!r} is not allowed",
                CONTAINER.controls("forbidden_mounts"))
    for key in spec.env:
        upper = key.upper()
        require(upper.endswith("_FILE") or not any(marker in upper for marker in SECRETS.forbidden_env_markers),
                f"container {spec.name}: environment variable {key!r} looks like a secret; deliver it as a file",
                SECRETS.controls("delivery"))
    require(spec.restart in ("always", "unless-stopped", "on-failure"),
            f"container {spec.name}: restart policy {spec.restart!r} does not bring a crashed service back",
            CONTAINER.controls("restart"))
    require(bool(spec.log_opts.get("max-size")) and bool(spec.log_opts.get("max-file")),
            f"container {spec.name}: log rotation (max-size, max-file) is required", CONTAINER.controls("log_opts"))


def docker_api_kwargs(spec: ContainerSpec) -> dict:
    """The same runtime as keyword arguments of docker-py's `containers.run` / `create` (tests, audits)."""
    hc = spec.healthcheck
    return {
        "name": spec.name,
        "image": spec.image,
        "command": list(spec.command) or None,
        "user": spec.user,
        "read_only": spec.read_only,
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
    # The CLI takes the health command in shell form only.
    args += ["--health-cmd", hc.test[1] if hc.test[0] == "CMD-SHELL" else shlex.join(hc.test[1:]),
             "--health-interval", f"{hc.interval_s}s", "--health-timeout", f"{hc.timeout_s}s",
             "--health-retries", str(hc.retries), "--health-start-period", f"{hc.start_period_s}s"]
    return [*args, spec.image, *spec.command]
