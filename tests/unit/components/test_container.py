"""HardenedContainer: every hardening property reaches docker.Container; every weakening is refused by control."""

import dataclasses

import pytest

from baseline import CONTAINER, BaselineViolation
from components.container import LABEL_COMPONENT, LABEL_SERVICE, LABEL_STACK, HardenedContainer, HardenedContainerArgs
from components.spec import ContainerSpec, Healthcheck, Mount, Port
from tests.unit.components.harness import declare, one
from posture.container import service_user

IMAGE = "sha256:" + "a" * 64
CONTAINER_TYPE = "docker:index/container:Container"


def hardened_spec(**overrides) -> ContainerSpec:
    settings = dict(name="svc", service="postgres", image=IMAGE, healthcheck=Healthcheck(("CMD", "true")),
                    ports=(Port(8443, 18443),), mounts=(Mount("rae-unit-data", "/data"),), networks=("rae-unit-backend",))
    return ContainerSpec(**(settings | overrides))


@pytest.fixture(scope="module")
def declared() -> list[dict]:
    return declare(lambda: HardenedContainer("svc", HardenedContainerArgs(hardened_spec(), component="Unit")))


@pytest.fixture(scope="module")
def container_inputs(declared) -> dict:
    return one(declared, CONTAINER_TYPE)


def test_runs_as_its_services_own_non_root_user(container_inputs):
    assert container_inputs["user"] == "%d:%d" % service_user("postgres") and not container_inputs["user"].startswith("0:")


def test_root_filesystem_is_read_only_with_only_baseline_tmpfs(container_inputs):
    assert container_inputs["readOnly"] is True
    assert container_inputs["tmpfs"] == CONTAINER.tmpfs


def test_drops_all_capabilities_and_adds_none(container_inputs):
    assert container_inputs["capabilities"] == {"drops": list(CONTAINER.cap_drop)}


def test_no_new_privileges_and_not_privileged(container_inputs):
    assert container_inputs["securityOpts"] == list(CONTAINER.security_opts)
    assert container_inputs["privileged"] is False
    assert "networkMode" not in container_inputs and "pidMode" not in container_inputs


def test_memory_limit_is_the_baseline_default(container_inputs):
    assert container_inputs["memory"] == CONTAINER.memory_mb_default
    # No swap beyond the ceiling (and no undeclared value for refresh to find: Docker's default is twice the memory).
    assert container_inputs["memorySwap"] == container_inputs["memory"]


def test_a_private_cgroup_namespace_is_declared(container_inputs):
    assert container_inputs["cgroupnsMode"] == "private"


def test_healthcheck_durations_are_written_as_docker_reads_them_back():
    from components.container import _seconds

    assert [_seconds(v) for v in (5, 60, 90, 3725)] == ["5s", "1m0s", "1m30s", "1h2m5s"]


def test_the_baseline_pids_limit_follows_the_container(declared):
    # pulumi-docker has no pids input and Docker 20.10 refuses default-pids-limit: a child applies it.
    limit = one(declared, "pulumi-python:dynamic:Resource")
    assert limit["limit"] == CONTAINER.pids_limit
    assert limit["container"] == "rae-unit-svc" and limit["container_id"] == "svc-id"


def test_healthcheck_is_declared_and_pulumi_waits_for_healthy(container_inputs):
    assert container_inputs["healthcheck"]["tests"] == ["CMD", "true"]
    assert container_inputs["wait"] is True and container_inputs["waitTimeout"] > 0


def test_ports_bind_to_the_declared_address_only(container_inputs):
    assert [(p["ip"], p["internal"], p["external"]) for p in container_inputs["ports"]] == [
        (CONTAINER.bind_addresses[0], 8443, 18443)]


def test_restart_policy_and_rotated_json_logs(container_inputs):
    assert container_inputs["restart"] == CONTAINER.restart
    assert container_inputs["logDriver"] == CONTAINER.log_driver
    assert container_inputs["logOpts"] == CONTAINER.log_opts


def test_image_is_pinned_by_id(container_inputs):
    assert container_inputs["image"] == IMAGE


def test_labels_name_component_stack_and_service(container_inputs):
    labels = {label["label"]: label["value"] for label in container_inputs["labels"]}
    assert labels == {LABEL_COMPONENT: "Unit", LABEL_STACK: "unit", LABEL_SERVICE: "postgres"}  # its service, which its user follows


def test_mounts_and_networks_are_the_declared_ones(container_inputs):
    assert [(m["source"], m["target"], m["type"]) for m in container_inputs["mounts"]] == [
        ("rae-unit-data", "/data", "volume")]
    assert container_inputs["networksAdvanced"] == [{"name": "rae-unit-backend", "aliases": ["svc"]}]


def test_container_name_is_stack_scoped_and_the_service_name_is_its_alias(container_inputs):
    assert container_inputs["name"] == "rae-unit-svc" and container_inputs["hostname"] == "svc"


WEAKENINGS = [
    ("mutable tag", dict(image="postgres:15"), "A.8.19"),
    ("root user", dict(uid=0), "A.8.2"),
    ("writable rootfs", dict(read_only=False), "A.8.9"),
    ("capability added", dict(cap_add=("NET_ADMIN",)), "A.8.2"),
    ("privileged", dict(privileged=True), "A.8.18"),
    ("host network", dict(network_mode="host"), "A.8.22"),
    ("no no-new-privileges", dict(security_opts=()), "A.8.2"),
    ("seccomp off", dict(security_opts=("no-new-privileges:true", "seccomp=unconfined")), "A.8.9"),
    ("memory above ceiling", dict(memory_mb=CONTAINER.memory_mb_max + 1), "A.8.6"),
    ("pids above limit", dict(pids_limit=CONTAINER.pids_limit + 1), "A.8.6"),
    ("no healthcheck", dict(healthcheck=None), "A.8.16"),
    ("all interfaces", dict(ports=(Port(8443, 8443, "0.0.0.0"),)), "A.8.20"),
    ("docker socket", dict(mounts=(Mount("/var/run/docker.sock", "/s", type="bind"),)), "A.8.2"),
    ("secret in env", dict(env={"DB_PASSWORD": "x"}), "A.5.17"),
    ("no restart", dict(restart="no"), "A.8.14"),
    ("no log rotation", dict(log_opts={}), "A.8.15"),
]


@pytest.mark.parametrize("what, overrides, control", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_weakening_is_refused_naming_the_control(what, overrides, control):
    with pytest.raises(BaselineViolation) as refused:
        declare(lambda: HardenedContainer("weak", HardenedContainerArgs(hardened_spec(**overrides))))
    assert control in refused.value.controls and control in str(refused.value)


def test_a_spec_tampered_after_validation_is_refused_again():
    spec = hardened_spec()
    object.__setattr__(spec, "read_only", False)
    with pytest.raises(BaselineViolation, match="A.8.9"):
        declare(lambda: HardenedContainer("tampered", HardenedContainerArgs(spec)))


def test_a_declared_tailscale_address_may_be_bound():
    spec = dataclasses.replace(hardened_spec(ports=()), allowed_bind_addresses=("127.0.0.1", "100.64.0.7"),
                               ports=(Port(5432, 5432, "100.64.0.7"),))
    resources = declare(lambda: HardenedContainer("node1", HardenedContainerArgs(spec)))
    assert one(resources, CONTAINER_TYPE)["ports"][0]["ip"] == "100.64.0.7"
