"""HardenedContainer: a docker.Container that can only be the runtime a validated ContainerSpec describes."""

from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_docker as docker

from baseline import CONTAINER
from components.pids_limit import ContainerPidsLimit
from components.spec import CGROUP_NAMESPACE, ContainerSpec, validate
from posture.container import SERVICE_LABEL

LABEL_COMPONENT = "org.rae.hardening.component"
LABEL_STACK = "org.rae.hardening.stack"
LABEL_SERVICE = SERVICE_LABEL



def labels(component: str, service: str) -> dict[str, str]:
    """The labels by which the audit finds what this toolkit deployed."""
    return {LABEL_COMPONENT: component, LABEL_STACK: pulumi.get_stack(), LABEL_SERVICE: service}


@dataclass
class HardenedContainerArgs:
    """+ spec: the validated runtime (components.spec.ContainerSpec)
    + component: the toolkit component that owns this container (label org.rae.hardening.component)
    + depends_on: networks, volumes and secret files the container needs first
    """

    spec: ContainerSpec
    component: str = "HardenedContainer"
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def _seconds(value: int) -> str:
    """A duration as the provider reads it back from Docker (Go's time.Duration: 5s, 1m0s, 1h0m0s), so a refresh
    finds the declared text."""
    hours, rest = divmod(value, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def stack_container_name(service: str) -> str:
    """The Docker container name of a stack's service (`rae-<stack>-<service>`); the service name is its alias."""
    return f"rae-{pulumi.get_stack()}-{service}"


class HardenedContainer(pulumi.ComponentResource):
    """One hardened container; Pulumi waits until its healthcheck reports healthy.

    Example: HardenedContainer("postgres", HardenedContainerArgs(postgres_spec(...), component="Postgres"))
    """

    container: docker.Container

    def __init__(self, name: str, args: HardenedContainerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:HardenedContainer", name, None, opts)
        spec = args.spec
        # A spec is validated when built; validate again in case it was copied with dataclasses.replace tricks.
        validate(spec)
        # Container names are global on a Docker host: the stack prefix lets `local` and `e2e` run side by side.
        # Other containers reach this one by its service name, an alias on each network.
        self.container_name = stack_container_name(spec.name)
        opts = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.container = self._pulumi_docker_container(name, spec, args.component, opts)
        # pulumi-docker has no pids input and Debian 12's dockerd 20.10 has no daemon default: a runtime step.
        self.pids_limit = ContainerPidsLimit(f"{name}-pids", self.container.name, self.container.id,
                                             spec.pids_limit, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"name": self.container.name, "id": self.container.id})

    def _pulumi_docker_container(self, name: str, spec: ContainerSpec, component: str,
                                 opts: pulumi.ResourceOptions) -> docker.Container:
        health = spec.healthcheck
        ready_within = health.start_period_s + health.retries * (health.interval_s + health.timeout_s)
        return docker.Container(
            name,
            name=self.container_name,
            hostname=spec.name,
            image=spec.image,
            command=list(spec.command) or None,
            user=spec.user,
            read_only=spec.read_only,
            cgroupns_mode=CGROUP_NAMESPACE,
            tmpfs=dict(spec.tmpfs),
            capabilities=docker.ContainerCapabilitiesArgs(drops=list(spec.cap_drop)),
            security_opts=list(spec.security_opts),
            privileged=False,
            memory=spec.memory_mb,
            # memory + swap = memory: the ceiling holds and nothing (keys, passwords) is swapped out. Docker's default
            # (twice the memory) would otherwise come back from every refresh as an undeclared change.
            memory_swap=spec.memory_mb,
            envs=[f"{key}={value}" for key, value in sorted(spec.env.items())],
            ports=[docker.ContainerPortArgs(internal=port.internal, external=port.external, ip=port.host_ip,
                                            protocol=port.protocol) for port in spec.ports],
            mounts=[docker.ContainerMountArgs(target=mount.target, source=mount.source, type=mount.type,
                                              read_only=mount.read_only) for mount in spec.mounts]
            + [docker.ContainerMountArgs(target=secret.target, source=secret.source, type="bind", read_only=True)
               for secret in spec.secret_files],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network, aliases=[spec.name])
                               for network in spec.networks],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=list(health.test), interval=_seconds(health.interval_s), timeout=_seconds(health.timeout_s),
                retries=health.retries, start_period=_seconds(health.start_period_s)),
            restart=spec.restart,
            log_driver=CONTAINER.log_driver,
            log_opts=dict(spec.log_opts),
            labels=[docker.ContainerLabelArgs(label=key, value=value)
                    for key, value in labels(component, spec.service).items()],
            wait=True,
            wait_timeout=ready_within + 30,
            must_run=True,
            opts=opts,
        )
