"""Docker containers, networks and volumes served by the toolkit's own dynamic provider.

Why: pulumi-docker is bridged from kreuzwerker's Terraform provider, and the Go module proxy our machines
reach refuses that upstream (scripts/engine/README.md), so the pulumi-docker plugin cannot be built offline.
Where the plugin is installed (a user's machine), the components use pulumi-docker; where it is not, they use
these resources. Both go through the real Pulumi engine (dynamic resources are served by its
`pulumi-resource-pulumi-python`) and start exactly the runtime a validated ContainerSpec describes
(`components.spec.docker_api_kwargs`, the same call the container suite makes). `read` reports the live
container in the ContainerSpec's own terms, so `pulumi refresh` names each drifted attribute and
`pulumi up --refresh` puts it back.
"""

import importlib.metadata
import os
import time
from dataclasses import asdict
from pathlib import Path

import pulumi
import pulumi.dynamic as dynamic

from baseline import require
from components.pids_limit import apply_pids_limit
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile, docker_api_kwargs

PROVIDER_CHOICES = ("auto", "pulumi-docker", "native")
_MIB = 1024 * 1024
_NS = 1_000_000_000
# Attributes Docker can change on a running container; anything else means a new container.
_UPDATABLE = ("memory_mb", "pids_limit", "restart", "running")
_SPEC_KEYS = tuple(field for field in ContainerSpec.__dataclass_fields__)
_COMPARED = tuple(key for key in _SPEC_KEYS if key not in ("allowed_bind_addresses", "host_roots")) + ("container_name", "labels",
                                                                                   "running")


def _client():
    import docker  # imported where the provider runs, so a program on pulumi-docker never needs docker-py

    return docker.from_env()


def _existing(collection: str, id_: str):
    """The container, network or volume with this id, or None when it is gone."""
    import docker

    try:
        return getattr(_client(), collection).get(id_)
    except docker.errors.NotFound:
        return None


def _plain(value):
    """Engine round trips turn ints into floats and tuples into lists; compare in one canonical form."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def use_native_provider() -> bool:
    """`rae:dockerProvider`: native | pulumi-docker | auto (pulumi-docker where its plugin is installed, and always
    under mocks, whose graph the policy gate judges with the pulumi-docker rules)."""
    choice = pulumi.Config("rae").get("dockerProvider") or "auto"
    require(choice in PROVIDER_CHOICES, f"rae:dockerProvider is {choice!r}; choose one of {list(PROVIDER_CHOICES)}",
            ("A.8.9",))
    if choice != "auto":
        return choice == "native"
    if type(pulumi.runtime.settings.get_monitor()).__name__ == "MockMonitor":
        return False
    return not _pulumi_docker_plugin_installed()


def _pulumi_docker_plugin_installed() -> bool:
    version = importlib.metadata.version("pulumi-docker")
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return (home / "plugins" / f"resource-docker-v{version}").is_dir()


def spec_from_props(props: dict) -> ContainerSpec:
    """Rebuild (and so re-validate) the ContainerSpec stored in a resource's properties."""
    values = {key: _plain(props[key]) for key in _SPEC_KEYS if key in props}
    values["healthcheck"] = Healthcheck(**{**values["healthcheck"], "test": tuple(values["healthcheck"]["test"])})
    values["ports"] = tuple(Port(**port) for port in values.get("ports", ()))
    values["mounts"] = tuple(Mount(**mount) for mount in values.get("mounts", ()))
    values["secret_files"] = tuple(SecretFile(**secret) for secret in values.get("secret_files", ()))
    for key in ("command", "cap_add", "security_opts", "networks", "allowed_bind_addresses", "host_roots"):
        values[key] = tuple(values.get(key, ()))
    return ContainerSpec(**values)


def live_properties(attrs: dict, desired: dict) -> dict:
    """A container's `docker inspect` in the terms of the desired properties, for `read` and drift."""
    config, host = attrs["Config"], attrs["HostConfig"]
    uid, _, gid = (config.get("User") or "0:0").partition(":")
    binds = {}
    for bind in host.get("Binds") or []:
        source, target, *mode = bind.split(":")
        binds[target] = {"source": source, "read_only": (mode or ["rw"])[0].split(",")[0] == "ro"}
    mounts = []
    for mount in desired.get("mounts", []):
        live = binds.pop(mount["target"], None)
        if live:
            mounts.append({**mount, "source": live["source"], "read_only": live["read_only"]})
    secret_files = []
    for secret in desired.get("secret_files", []):
        live = binds.pop(secret["target"], None)
        if live and live["read_only"]:
            secret_files.append({"source": live["source"], "target": secret["target"]})
    mounts += [{"source": b["source"], "target": t, "type": "undeclared", "read_only": b["read_only"]}
               for t, b in binds.items()]
    ports = []
    for key, bindings in sorted((host.get("PortBindings") or {}).items()):
        internal, _, protocol = key.partition("/")
        ports += [{"internal": int(internal), "external": int(b["HostPort"]), "host_ip": b.get("HostIp") or "0.0.0.0",
                   "protocol": protocol} for b in bindings or []]
    health = config.get("Healthcheck") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    networks = list((attrs.get("NetworkSettings") or {}).get("Networks") or {})
    network_mode = host.get("NetworkMode")
    return {
        "name": desired["name"],
        "container_name": attrs["Name"].lstrip("/"),
        "image": config.get("Image"),
        "command": config.get("Cmd") or [] if desired.get("command") else [],
        "uid": int(uid) if uid.isdigit() else 0,
        "gid": int(gid) if gid.isdigit() else 0,
        "read_only": bool(host.get("ReadonlyRootfs")),
        "tmpfs": host.get("Tmpfs") or {},
        "cap_add": host.get("CapAdd") or [],
        "security_opts": host.get("SecurityOpt") or [],
        "memory_mb": (host.get("Memory") or 0) // _MIB,
        "pids_limit": max(host.get("PidsLimit") or 0, 0),
        "ports": ports,
        "mounts": mounts,
        "secret_files": secret_files,
        "env": {key: env.get(key) for key in desired.get("env", {})},
        "networks": [n for n in desired.get("networks", []) if n in networks] + sorted(
            n for n in networks if n not in desired.get("networks", [])),
        "restart": (host.get("RestartPolicy") or {}).get("Name", ""),
        "log_opts": (host.get("LogConfig") or {}).get("Config") or {},
        "healthcheck": {"test": health.get("Test") or [], "interval_s": (health.get("Interval") or 0) // _NS,
                        "timeout_s": (health.get("Timeout") or 0) // _NS, "retries": health.get("Retries") or 0,
                        "start_period_s": (health.get("StartPeriod") or 0) // _NS},
        "privileged": bool(host.get("Privileged")),
        "network_mode": None if network_mode in (None, "default", "bridge", *networks) else network_mode,
        "labels": {key: (config.get("Labels") or {}).get(key) for key in desired.get("labels", {})},
        "running": bool((attrs.get("State") or {}).get("Running")),
        "allowed_bind_addresses": desired.get("allowed_bind_addresses", []),
        "host_roots": desired.get("host_roots", []),
    }


def _wait_healthy(container, timeout_s: int) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        status = (state.get("Health") or {}).get("Status")
        if status == "healthy":
            return
        if not state.get("Running") and state.get("Status") == "exited":
            break
        time.sleep(1)
    health = (container.attrs["State"].get("Health") or {}).get("Log") or [{}]
    raise RuntimeError(f"container {container.name} did not become healthy within {timeout_s}s "
                       f"(state {container.attrs['State'].get('Status')}, last check exit "
                       f"{health[-1].get('ExitCode')}) [ISO 27001:2022 A.8.16 Monitoring activities]")


class ContainerProvider(dynamic.ResourceProvider):
    """Create from the spec and wait for healthy; read live; update what Docker can change in place; else replace."""

    def create(self, props):
        spec = spec_from_props(props)
        kwargs = docker_api_kwargs(spec) | {"name": props["container_name"], "labels": dict(props["labels"]),
                                            "hostname": spec.name}
        client = _client()
        networks = list(spec.networks)
        if networks:
            kwargs["network"] = networks[0]
            kwargs["networking_config"] = {networks[0]: client.api.create_endpoint_config(aliases=[spec.name])}
        container = client.containers.create(**{k: v for k, v in kwargs.items() if k != "detach"})
        try:
            for network in networks[1:]:
                client.api.connect_container_to_network(container.id, network, aliases=[spec.name])
            container.start()
            hc = spec.healthcheck
            _wait_healthy(container, hc.start_period_s + hc.retries * (hc.interval_s + hc.timeout_s) + 30)
        except Exception:
            container.remove(force=True)  # nothing half-applied: no unhealthy container is left behind
            raise
        container.reload()
        return dynamic.CreateResult(id_=container.id, outs={**props, **live_properties(container.attrs, props)})

    def read(self, id_, props):
        container = _existing("containers", id_)
        if container is None:
            return dynamic.ReadResult(id_=None, outs={})
        return dynamic.ReadResult(id_=id_, outs={**props, **live_properties(container.attrs, props)})

    def diff(self, _id, olds, news):
        desired = {**news, "running": True}
        changed = [key for key in _COMPARED if _plain(olds.get(key)) != _plain(desired.get(key))]
        replaces = [key for key in changed if key not in _UPDATABLE]
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, id_, olds, news):
        spec = spec_from_props(news)
        container = _client().containers.get(id_)
        container.update(mem_limit=f"{spec.memory_mb}m", restart_policy={"Name": spec.restart})
        apply_pids_limit(container.id, spec.pids_limit)  # docker-py's update has no pids limit; the CLI does
        container.reload()
        if not container.attrs["State"].get("Running"):
            container.start()
            _wait_healthy(container, spec.healthcheck.start_period_s + 60)
        container.reload()
        return dynamic.UpdateResult(outs={**news, **live_properties(container.attrs, news)})

    def delete(self, id_, _props):
        container = _existing("containers", id_)
        if container is not None:
            container.remove(force=True)


class NativeContainer(dynamic.Resource):
    """A hardened container created by the toolkit's dynamic provider from a validated ContainerSpec.

    + spec: the runtime (validated again by the provider before anything is created)
    + container_name: the Docker name (`rae-<stack>-<service>`)
    + labels: the audit labels

    Example: NativeContainer("postgres", spec, "rae-local-postgres", labels, opts)
    """

    container_name: pulumi.Output[str]
    memory_mb: pulumi.Output[int]
    restart: pulumi.Output[str]

    def __init__(self, name: str, spec: ContainerSpec, container_name: str, labels: dict,
                 opts: pulumi.ResourceOptions | None = None):
        props = {**_plain(asdict(spec)), "container_name": container_name, "labels": dict(labels), "running": True}
        super().__init__(ContainerProvider(), name, props, opts)


class NetworkProvider(dynamic.ResourceProvider):
    def create(self, props):
        network = _client().networks.create(props["name"], driver=props["driver"], internal=bool(props["internal"]),
                                            options=dict(props["options"]), labels=dict(props["labels"]))
        return dynamic.CreateResult(id_=network.id, outs=props)

    def read(self, id_, props):
        network = _existing("networks", id_)
        if network is None:
            return dynamic.ReadResult(id_=None, outs={})
        attrs = network.attrs
        live = {"name": attrs["Name"], "driver": attrs["Driver"], "internal": bool(attrs.get("Internal")),
                "options": {key: (attrs.get("Options") or {}).get(key) for key in props.get("options", {})},
                "labels": {key: (attrs.get("Labels") or {}).get(key) for key in props.get("labels", {})}}
        return dynamic.ReadResult(id_=id_, outs={**props, **live})

    def diff(self, _id, olds, news):
        changed = [key for key in ("name", "driver", "internal", "options", "labels")
                   if _plain(olds.get(key)) != _plain(news.get(key))]
        return dynamic.DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def delete(self, id_, _props):
        network = _existing("networks", id_)
        if network is not None:
            network.remove()


class NativeNetwork(dynamic.Resource):
    """A Docker network (bridge), created by the toolkit's dynamic provider.

    Example: NativeNetwork("backend", "rae-local-backend", internal=True, options={}, labels={...})
    """

    def __init__(self, name: str, network_name: str, internal: bool, options: dict, labels: dict,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(NetworkProvider(), name, {"name": network_name, "driver": "bridge", "internal": internal,
                                                   "options": dict(options), "labels": dict(labels)}, opts)


class VolumeProvider(dynamic.ResourceProvider):
    def create(self, props):
        volume = _client().volumes.create(props["name"], driver="local", driver_opts=dict(props["driver_opts"]),
                                          labels=dict(props["labels"]))
        return dynamic.CreateResult(id_=volume.name, outs=props)

    def read(self, id_, props):
        volume = _existing("volumes", id_)
        if volume is None:
            return dynamic.ReadResult(id_=None, outs={})
        attrs = volume.attrs
        live = {"driver_opts": attrs.get("Options") or {},
                "labels": {key: (attrs.get("Labels") or {}).get(key) for key in props.get("labels", {})}}
        return dynamic.ReadResult(id_=id_, outs={**props, **live})

    def diff(self, _id, olds, news):
        changed = [key for key in ("name", "driver_opts", "labels") if _plain(olds.get(key)) != _plain(news.get(key))]
        return dynamic.DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def delete(self, id_, _props):
        volume = _existing("volumes", id_)
        if volume is not None:
            volume.remove()


class NativeVolume(dynamic.Resource):
    """A Docker volume binding a host directory (its data stays in that directory when the volume goes).

    Example: NativeVolume("pgdata", "rae-local-pgdata", {"type": "none", "o": "bind", "device": path}, labels)
    """

    name: pulumi.Output[str]

    def __init__(self, name: str, volume_name: str, driver_opts: dict, labels: dict,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(VolumeProvider(), name, {"name": volume_name, "driver_opts": dict(driver_opts),
                                                  "labels": dict(labels)}, opts)
