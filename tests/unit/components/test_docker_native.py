"""The native Docker provider: live state read back in the spec's own terms, and what a change costs."""

from dataclasses import asdict

from components.docker_native import ContainerProvider, _plain, live_properties, spec_from_props
from components.postgres_runtime import PostgresSecrets, postgres_spec
from components.spec import Port

SPEC = postgres_spec("sha256:" + "a" * 64, "rae-e2e-pgdata",
                     PostgresSecrets("/srv/data/s/su", "/srv/data/s/app", "/srv/data/s/crt", "/srv/data/s/key", "/srv/data/s/ca"), port=Port(5432, 15432, "127.0.0.1"),
                     networks=("rae-e2e-edge", "rae-e2e-backend"))
LABELS = {"org.rae.hardening.stack": "e2e"}
DESIRED = {**_plain(asdict(SPEC)), "container_name": "rae-e2e-postgres", "labels": LABELS, "running": True}


def inspect_of(spec) -> dict:
    """What `docker inspect` reports for a container started with docker_api_kwargs(spec)."""
    hc = spec.healthcheck
    return {
        "Name": "/rae-e2e-postgres",
        "Config": {"Image": spec.image, "Cmd": list(spec.command), "User": spec.user, "Labels": LABELS,
                   "Env": [f"{k}={v}" for k, v in spec.env.items()] + ["PATH=/usr/bin"],
                   "Healthcheck": {"Test": list(hc.test), "Interval": hc.interval_s * 10**9, "Timeout": hc.timeout_s * 10**9,
                                   "Retries": hc.retries, "StartPeriod": hc.start_period_s * 10**9}},
        "HostConfig": {"ReadonlyRootfs": True, "Tmpfs": dict(spec.tmpfs), "CapAdd": None, "CapDrop": ["ALL"],
                       "SecurityOpt": list(spec.security_opts), "Memory": spec.memory_mb * 2**20,
                       "PidsLimit": spec.pids_limit, "Privileged": False, "NetworkMode": spec.networks[0],
                       "RestartPolicy": {"Name": spec.restart}, "LogConfig": {"Type": "json-file", "Config": spec.log_opts},
                       "PortBindings": {f"{p.internal}/{p.protocol}": [{"HostIp": p.host_ip, "HostPort": str(p.external)}]
                                        for p in spec.ports},
                       "Binds": [f"{m.source}:{m.target}:rw" for m in spec.mounts]
                       + [f"{s.source}:{s.target}:ro" for s in spec.secret_files]},
        "NetworkSettings": {"Networks": {n: {} for n in spec.networks}},
        "State": {"Running": True},
    }


def test_a_container_started_from_the_spec_reads_back_as_the_spec():
    live = live_properties(inspect_of(SPEC), DESIRED)
    diff = ContainerProvider().diff("id", {**DESIRED, **live}, DESIRED)
    assert not diff.changes, [k for k in live if _plain(live[k]) != _plain(DESIRED.get(k))]


def test_memory_and_restart_drift_is_updated_in_place():
    attrs = inspect_of(SPEC)
    attrs["HostConfig"] |= {"Memory": 1024 * 2**20, "RestartPolicy": {"Name": "no"}}
    live = live_properties(attrs, DESIRED)
    assert (live["memory_mb"], live["restart"]) == (1024, "no")
    diff = ContainerProvider().diff("id", {**DESIRED, **live}, DESIRED)
    assert diff.changes and not diff.replaces


def test_a_container_recreated_as_root_and_writable_is_replaced():
    attrs = inspect_of(SPEC)
    attrs["Config"]["User"] = "0:0"
    attrs["HostConfig"] |= {"ReadonlyRootfs": False, "CapAdd": ["SYS_ADMIN"], "Binds": attrs["HostConfig"]["Binds"]
                            + ["/var/run/docker.sock:/var/run/docker.sock:rw"]}
    live = live_properties(attrs, DESIRED)
    assert (live["uid"], live["read_only"], live["cap_add"]) == (0, False, ["SYS_ADMIN"])
    assert {"source": "/var/run/docker.sock", "target": "/var/run/docker.sock", "type": "undeclared",
            "read_only": False} in live["mounts"]
    diff = ContainerProvider().diff("id", {**DESIRED, **live}, DESIRED)
    assert {"uid", "read_only", "cap_add", "mounts"} <= set(diff.replaces)


def test_stored_properties_rebuild_a_validated_spec():
    assert spec_from_props(DESIRED) == SPEC
