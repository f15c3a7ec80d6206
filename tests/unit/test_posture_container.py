"""The container posture model: one requirement judged the same way from every source, allow-lists not deny-lists.

Each bypass the issue found (a deny-list that an other spelling walked past) is a case here, judged from
pulumi-docker properties, a Terraform plan's values and `docker inspect`, and where the spec can express it,
from a ContainerSpec.
"""

import dataclasses
import os

import pytest

import posture.container as posture
from posture import UNKNOWN_VALUE
from baseline import CONTAINER, DOCKER_DAEMON, SECRETS, BaselineViolation
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile
from policies.catalog import RULES
from policies.tfplan import terraform_values
from tests.policy.cases import CONTAINER_TYPE, HARDENED

IMAGE = "sha256:" + "b" * 64
# Assembled here so no credential-shaped literal sits in the repository (the gate's secret scan would rightly fail).
URL_WITH_PASSWORD = "postgres://app:" + "s3cret" + "@db:5432/app"
ROOT = "/srv/data"


def pulumi_props(**changes) -> dict:
    return {**HARDENED[CONTAINER_TYPE], **changes}


def inspect(**host) -> dict:
    """`docker inspect` of the hardened container, with HostConfig changes."""
    return {
        "Name": "/svc",
        "Config": {"User": "10001:10001", "Image": IMAGE, "Env": ["PGPASSWORD_FILE=/run/secrets/pg"],
                   "Healthcheck": {"Test": ["CMD", "true"]}},
        "HostConfig": {"ReadonlyRootfs": True, "CapDrop": ["ALL"], "SecurityOpt": ["no-new-privileges:true"],
                       "Memory": 512 * 1024 * 1024, "PidsLimit": CONTAINER.pids_limit, "Tmpfs": dict(CONTAINER.tmpfs),
                       "RestartPolicy": {"Name": CONTAINER.restart}, "CgroupnsMode": "private", "IpcMode": "private",
                       "LogConfig": {"Type": "json-file", "Config": dict(CONTAINER.log_opts)},
                       "PortBindings": {"8443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8443"}]}, **host},
        "Mounts": [{"Type": "volume", "Source": "/var/lib/docker/volumes/data/_data", "Destination": "/data"}],
    }


# A graph in which a pids-limit step targets "svc" (pulumi-docker and Terraform have no pids input).
STEPPED = posture.Context(pids_limited=("svc",))


def rules(view, context=STEPPED, rule_id=None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _name, requirement, message in posture.judge(view, context, rule_id):
        found.setdefault(requirement.rule_id, []).append(message)
    return found


def test_the_hardened_container_holds_every_requirement_from_every_source():
    assert rules(posture.from_pulumi("svc", pulumi_props())) == {}
    assert rules(posture.from_terraform("svc", terraform_values(pulumi_props()))) == {}
    assert rules(posture.from_inspect(inspect())) == {}


# (what, pulumi-docker changes, rule it breaks)
BYPASSES = [
    ("bind mount of /run", {"mounts": [{"type": "bind", "source": "/run", "target": "/r"}]}, "RAE-CTR-010"),
    ("bind mount of /var/run", {"mounts": [{"type": "bind", "source": "/var/run", "target": "/r"}]}, "RAE-CTR-010"),
    ("double slash docker.sock", {"mounts": [{"type": "bind", "source": "//var/run/docker.sock", "target": "/s"}]},
     "RAE-CTR-010"),
    ("/etc/.", {"mounts": [{"type": "bind", "source": "/etc/.", "target": "/e"}]}, "RAE-CTR-010"),
    ("dot-dot out of the root", {"mounts": [{"type": "bind", "source": f"{ROOT}/../../etc", "target": "/e"}]},
     "RAE-CTR-010"),
    ("volume with device=/", {"mounts": [{"type": "volume", "source": "v", "target": "/v", "volumeOptions": {
        "driverOptions": {"type": "none", "o": "bind", "device": "/"}}}]}, "RAE-CTR-010"),
    ("legacy volumes hostPath", {"volumes": [{"hostPath": "/home", "containerPath": "/h"}]}, "RAE-CTR-010"),
    ("devices", {"devices": [{"hostPath": "/dev/mem"}]}, "RAE-CTR-014"),
    ("groupAdds", {"groupAdds": ["docker"]}, "RAE-CTR-001"),
    ("user without group", {"user": "10001"}, "RAE-CTR-001"),
    ("uid in the root group", {"user": "10001:0"}, "RAE-CTR-001"),
    ("cgroupnsMode host", {"cgroupnsMode": "host"}, "RAE-CTR-009"),
    ("pidMode container:", {"pidMode": "container:postgres"}, "RAE-CTR-009"),
    ("ipcMode container:", {"ipcMode": "container:postgres"}, "RAE-CTR-009"),
    ("networkMode container:", {"networkMode": "container:postgres"}, "RAE-CTR-009"),
    ("utsMode host", {"utsMode": "host"}, "RAE-CTR-009"),
    ("runtime", {"runtime": "runsc-debug"}, "RAE-CTR-015"),
    ("sysctls", {"sysctls": {"kernel.shm_rmid_forced": "0"}}, "RAE-CTR-016"),
    ("tmpfs executable", {"tmpfs": {"/tmp": "rw,size=64m"}}, "RAE-CTR-002"),
    ("tmpfs on a path the baseline does not list", {"tmpfs": {**CONTAINER.tmpfs, "/var/lib/app": "rw,noexec,nosuid,nodev,size=1m"}},
     "RAE-CTR-002"),
    ("tmpfs larger than the baseline's", {"tmpfs": {**CONTAINER.tmpfs, "/tmp": "rw,noexec,nosuid,nodev,size=1g"}},
     "RAE-CTR-002"),
    ("tmpfs without a size", {"tmpfs": {**CONTAINER.tmpfs, "/tmp": "rw,noexec,nosuid,nodev"}}, "RAE-CTR-002"),
    ("seccomp=unconfined", {"securityOpts": ["no-new-privileges:true", "seccomp=unconfined"]}, "RAE-CTR-004"),
    ("seccomp:unconfined with spaces", {"securityOpts": ["no-new-privileges:true", "seccomp : unconfined"]},
     "RAE-CTR-004"),
    ("apparmor=unconfined", {"securityOpts": ["no-new-privileges:true", "apparmor=unconfined"]}, "RAE-CTR-004"),
    ("label=disable", {"securityOpts": ["no-new-privileges:true", "label=disable"]}, "RAE-CTR-004"),
    ("systempaths=unconfined", {"securityOpts": ["no-new-privileges:true", "systempaths=unconfined"]}, "RAE-CTR-004"),
    ("custom seccomp profile", {"securityOpts": ["no-new-privileges:true", "seccomp=/tmp/allow-all.json"]},
     "RAE-CTR-004"),
    ("later no-new-privileges=false", {"securityOpts": ["no-new-privileges:true", "no-new-privileges=false"]},
     "RAE-CTR-004"),
    ("capability spelled CAP_", {"capabilities": {"drops": ["ALL"], "adds": ["cap_sys_admin"]}}, "RAE-CTR-003"),
    ("port on ::", {"ports": [{"internal": 8443, "external": 8443, "ip": "::"}]}, "RAE-CTR-007"),
    ("password in envs", {"envs": ["DB_PASSWORD=hunter2-but-longer"]}, "RAE-CTR-012"),
    ("key in envs", {"envs": ["STRIPE_KEY=abc"]}, "RAE-CTR-012"),
    ("token in envs", {"envs": ["GITHUB_TOKEN=abc"]}, "RAE-CTR-012"),
    ("URL with a password", {"envs": [f"DATABASE_URL={URL_WITH_PASSWORD}"]}, "RAE-CTR-012"),
    ("high-entropy value", {"envs": ["UPSTREAM_AUTH=Zx81qPw7Lk3mNv9Rt2Yb6Hc4Jd0Fg5Sa"]}, "RAE-CTR-012"),
    ("healthcheck NONE", {"healthcheck": {"tests": ["NONE"]}}, "RAE-CTR-006"),
    ("log driver none", {"logDriver": "none"}, "RAE-CTR-013"),
    ("digest only as a suffix", {"image": "evil image@sha256:" + "a" * 64}, "RAE-CTR-011"),
    ("restart no", {"restart": "no"}, "RAE-CTR-017"),
    # Attributes whose absence handed the decision to the engine's default, and others no requirement read.
    ("cgroupnsMode unset", {"cgroupnsMode": None}, "RAE-CTR-009"),
    ("cgroupnsMode unknown spelling", {"cgroupnsMode": "hostish"}, "RAE-CTR-009"),
    ("ipcMode shareable", {"ipcMode": "shareable"}, "RAE-CTR-009"),
    ("networkMode ns path", {"networkMode": "ns:/proc/1/ns/net"}, "RAE-CTR-009"),
    ("logDriver unset", {"logDriver": None}, "RAE-CTR-013"),
    ("publishAllPorts", {"publishAllPorts": True}, "RAE-CTR-007"),
    ("gpus", {"gpus": "all"}, "RAE-CTR-014"),
    ("volumes from another container", {"volumes": [{"fromContainer": "postgres"}]}, "RAE-CTR-010"),
    ("mount type npipe", {"mounts": [{"type": "npipe", "source": "x", "target": "/x"}]}, "RAE-CTR-010"),
    ("mount without a type", {"mounts": [{"source": "/srv/data/x", "target": "/x"}]}, "RAE-CTR-010"),
    ("bind propagated to the host", {"mounts": [{"type": "bind", "source": "/srv/data/x", "target": "/x",
                                                 "bindOptions": {"propagation": "rshared"}}]}, "RAE-CTR-010"),
]


ALLOWED = [
    ("user-defined network", {"networkMode": "rae-internal"}),
    ("no network", {"networkMode": "none"}),
    ("private ipc", {"ipcMode": "private"}),
    ("bind under the root, rprivate", {"mounts": [{"type": "bind", "source": "/srv/data/x", "target": "/x",
                                                   "bindOptions": {"propagation": "rprivate"}}]}),
    ("tmpfs mount", {"mounts": [{"type": "tmpfs", "target": "/cache"}]}),
    ("smaller tmpfs, one path only", {"tmpfs": {"/tmp": "rw,noexec,nosuid,nodev,size=8192k"}}),
]


@pytest.mark.parametrize("what, changes", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_modes_in_the_allow_lists_hold(what, changes):
    props = pulumi_props(**changes)
    assert rules(posture.from_pulumi("svc", props)) == {}
    assert rules(posture.from_terraform("svc", terraform_values(props))) == {}


@pytest.mark.parametrize("what, changes, rule_id", BYPASSES, ids=[b[0] for b in BYPASSES])
def test_every_bypass_fails_its_rule_from_pulumi_and_from_terraform(what, changes, rule_id):
    props = pulumi_props(**changes)
    assert set(rules(posture.from_pulumi("svc", props))) == {rule_id}
    assert set(rules(posture.from_terraform("svc", terraform_values(props)))) == {rule_id}


INSPECT_BYPASSES = [
    ("bind of /var/run", {}, [{"Type": "bind", "Source": "/var/run", "Destination": "/r"}], "RAE-CTR-010"),
    ("devices", {"Devices": [{"PathOnHost": "/dev/sda", "PathInContainer": "/dev/sda"}]}, None, "RAE-CTR-014"),
    ("cgroupns host", {"CgroupnsMode": "host"}, None, "RAE-CTR-009"),
    ("pid container:", {"PidMode": "container:abc"}, None, "RAE-CTR-009"),
    ("runtime", {"Runtime": "io.containerd.runsc.v1"}, None, "RAE-CTR-015"),
    ("sysctls", {"Sysctls": {"net.core.somaxconn": "4096"}}, None, "RAE-CTR-016"),
    ("later nnp false", {"SecurityOpt": ["no-new-privileges:true", "no-new-privileges:false"]}, None, "RAE-CTR-004"),
    ("group add", {"GroupAdd": ["0"]}, None, "RAE-CTR-001"),
    ("no pids limit", {"PidsLimit": 0}, None, "RAE-CTR-005"),
    ("log driver none", {"LogConfig": {"Type": "none", "Config": {}}}, None, "RAE-CTR-013"),
    ("cgroupns unset", {"CgroupnsMode": ""}, None, "RAE-CTR-009"),
    ("ipc shareable", {"IpcMode": "shareable"}, None, "RAE-CTR-009"),
    ("publish all ports", {"PublishAllPorts": True}, None, "RAE-CTR-007"),
    ("device cgroup rule", {"DeviceCgroupRules": ["c *:* rwm"]}, None, "RAE-CTR-014"),
    ("GPU request", {"DeviceRequests": [{"Driver": "nvidia", "Count": -1, "Capabilities": [["gpu"]]}]}, None,
     "RAE-CTR-014"),
    ("volumes from", {"VolumesFrom": ["postgres"]}, None, "RAE-CTR-010"),
    ("bind rshared", {}, [{"Type": "bind", "Source": "/srv/data/x", "Destination": "/x", "Propagation": "rshared"}],
     "RAE-CTR-010"),
    ("tmpfs beyond the baseline", {"Tmpfs": {**CONTAINER.tmpfs, "/home": "rw,noexec,nosuid,nodev,size=1m"}}, None,
     "RAE-CTR-002"),
]


@pytest.mark.parametrize("what, host, mounts, rule_id", INSPECT_BYPASSES, ids=[b[0] for b in INSPECT_BYPASSES])
def test_every_bypass_fails_its_rule_from_docker_inspect(what, host, mounts, rule_id):
    attrs = inspect(**host)
    if mounts is not None:
        attrs["Mounts"] = mounts
    assert set(rules(posture.from_inspect(attrs))) == {rule_id}


def test_uid_in_the_root_group_is_judged_one_way_everywhere():
    assert "RAE-CTR-001" in rules(posture.from_pulumi("svc", pulumi_props(user="10001:0")))
    attrs = inspect()
    attrs["Config"]["User"] = "10001:0"
    assert "RAE-CTR-001" in rules(posture.from_inspect(attrs))
    with pytest.raises(BaselineViolation, match="root group"):
        ContainerSpec("svc", IMAGE, Healthcheck(("CMD", "true")), service="postgres", gid=0)


@pytest.mark.parametrize("image, pinned", [
    ("sha256:" + "a" * 64, True), ("qdrant/qdrant@sha256:" + "a" * 64, True),
    ("registry.example.org:5000/team/app:1.2@sha256:" + "a" * 64, True),
    ("qdrant/qdrant:latest", False), ("evil image@sha256:" + "a" * 64, False), ("sha256:" + "a" * 63, False)])
def test_the_digest_pattern_is_one_anchored_pattern(image, pinned):
    assert ("RAE-CTR-011" not in rules(posture.from_pulumi("svc", pulumi_props(image=image)))) is pinned
    attrs = inspect()
    attrs["Config"]["Image"] = image
    assert ("RAE-CTR-011" not in rules(posture.from_inspect(attrs))) is pinned


def test_host_paths_under_a_declared_root_pass_and_normalization_cannot_escape_it():
    context = posture.Context(host_roots=("/srv/data", "/opt/app/.state/data"), pids_limited=("svc",))
    inside = pulumi_props(mounts=[{"type": "bind", "source": "/opt/app/.state/data/secrets/pg", "target": "/s"},
                                  {"type": "bind", "source": "//srv//data/./pg", "target": "/d"}])
    assert rules(posture.from_pulumi("svc", inside), context) == {}
    escaping = pulumi_props(mounts=[{"type": "bind", "source": "/srv/data/../../var/run/docker.sock", "target": "/s"}])
    assert set(rules(posture.from_pulumi("svc", escaping), context)) == {"RAE-CTR-010"}
    sibling = pulumi_props(mounts=[{"type": "bind", "source": "/srv/database", "target": "/s"}])
    assert set(rules(posture.from_pulumi("svc", sibling), context)) == {"RAE-CTR-010"}


@pytest.mark.parametrize("root", ["/", "/var/run", "/run", "/etc/app", "relative/data", "//"])
def test_a_root_that_is_or_holds_a_system_tree_is_refused(root):
    messages = rules(posture.from_pulumi("svc", pulumi_props()), posture.Context(host_roots=(root,), pids_limited=("svc",)))
    assert "RAE-CTR-010" in messages


def test_docker_volume_device_is_judged_as_a_host_path():
    outside = posture.from_volume("v", {"driver": "local", "driverOpts": {"type": "none", "o": "bind", "device": "/"}})
    inside = posture.from_volume("v", {"driver": "local", "driverOpts": {"device": "/srv/data/pg"}})
    assert set(rules(outside, rule_id="RAE-CTR-010")) == {"RAE-CTR-010"}
    assert rules(inside, rule_id="RAE-CTR-010") == {}
    plan = posture.from_volume("v", {"driver_opts": [{"device": "/var/run"}]}, terraform=True)
    assert set(rules(plan, rule_id="RAE-CTR-010")) == {"RAE-CTR-010"}


def test_a_value_the_renderer_could_not_resolve_is_unknown_not_passed():
    view = posture.from_pulumi("svc", pulumi_props(user=UNKNOWN_VALUE))
    found = rules(view)
    assert set(found) == {"RAE-CTR-001"} and all(isinstance(m, posture.Unknown) for m in found["RAE-CTR-001"])


def test_secret_values_are_judged_but_never_shown():
    view = posture.from_pulumi("svc", pulumi_props(envs=[f"DATABASE_URL={URL_WITH_PASSWORD}"]))
    messages = rules(view)["RAE-CTR-012"]
    assert messages and not any("s3cret" in m for m in messages)
    assert posture.shown("secrets_in_environment", view) == ["DATABASE_URL"]


def test_catalog_rules_carry_the_controls_of_their_requirements():
    for requirement in posture.REQUIREMENTS.values():
        assert set(requirement.controls) <= set(RULES[requirement.rule_id].controls)
    assert RULES["RAE-CTR-012"].controls == SECRETS.controls("delivery")


def test_the_spec_is_validated_by_the_model_with_its_declared_roots():
    spec = ContainerSpec("svc", IMAGE, Healthcheck(("CMD", "true")), service="postgres", ports=(Port(8443, 8443),),
                         mounts=(Mount("/opt/app/data", "/data", "bind"),),
                         secret_files=(SecretFile("/opt/app/secrets/key", "/run/secrets/key"),),
                         host_roots=("/opt/app",))
    assert rules(posture.from_spec(spec), posture.Context(host_roots=spec.host_roots)) == {}
    with pytest.raises(BaselineViolation, match="outside the declared roots") as refused:
        dataclasses.replace(spec, host_roots=("/srv/data",))
    assert "A.8.2" in refused.value.controls
    with pytest.raises(BaselineViolation, match="A.8.22"):
        dataclasses.replace(spec, network_mode="container:other")


def test_checkov_shaped_values_are_read_like_the_plan():
    """checkov wraps every value in a list and adds its own keys to maps (where it read them): not data."""
    where = {"__file__": ["plan.json"], "__startline__": [1], "__endline__": [1], "start_line": [0], "end_line": [0]}
    conf = {"image": [IMAGE], "user": ["10001:10001"], "read_only": [True],
            "capabilities": [{"drop": [["ALL"]]}], "security_opts": [["no-new-privileges:true"]], "memory": [512],
            "healthcheck": [{"test": [["CMD", "true"]]}], "restart": [CONTAINER.restart],
            "log_opts": [{**{k: [v] for k, v in CONTAINER.log_opts.items()}, **where}],
            "tmpfs": [{**{k: [v] for k, v in CONTAINER.tmpfs.items()}, **where}],
            "ports": [{"internal": [8443], "ip": ["127.0.0.1"]}], "cgroupns_mode": ["private"],
            "log_driver": ["json-file"]}
    assert rules(posture.from_terraform("svc", conf)) == {}
    volume = {"driver_opts": [{"device": ["/srv/data/pg"], **where}]}
    assert rules(posture.from_volume("v", volume, terraform=True), rule_id="RAE-CTR-010") == {}


def test_the_audit_judges_docker_inspect_with_the_model():
    from harden.audit.containers import check_container
    attrs = inspect(CapAdd=["NET_ADMIN"])
    attrs["Config"]["User"] = "10001:0"
    attrs["Mounts"] = [{"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"}]
    evidence = {e.check: e for e in check_container(attrs)}
    assert set(posture.REQUIREMENTS) <= set(evidence)
    failed = {name for name, e in evidence.items() if e.status == "fail"}
    assert failed == {"user", "cap_add", "forbidden_mounts", "health"}  # health: the inspect data is not running
    assert evidence["user"].actual == "10001:0" and evidence["user"].controls == CONTAINER.controls("service_users")
    assert evidence["forbidden_mounts"].actual == ["/var/run/docker.sock"]
    assert evidence["forbidden_mounts"].controls == CONTAINER.controls("forbidden_mounts")
    clean = {e.check: e.status for e in check_container(inspect(), host_roots=(ROOT,))}
    assert {status for check, status in clean.items() if check != "health"} == {"pass"}


def test_a_container_without_a_pids_input_holds_only_where_a_pids_limit_step_targets_it():
    for view in (posture.from_pulumi("svc", pulumi_props()),
                 posture.from_terraform("svc", terraform_values(pulumi_props()))):
        assert rules(view, posture.Context(pids_limited=("svc",))) == {}
        [missing] = rules(view, posture.Context(pids_limited=("other",)))["RAE-CTR-005"]
        assert "no pids limit" in missing and not isinstance(missing, posture.Unknown)
        [unseen] = rules(view, posture.Context())["RAE-CTR-005"]  # a caller that sees one resource only
        assert isinstance(unseen, posture.Unknown)
        [unresolved] = rules(view, posture.Context(pids_limited=(UNKNOWN_VALUE,)))["RAE-CTR-005"]
        assert isinstance(unresolved, posture.Unknown)


def test_an_unresolved_field_leaves_only_the_requirements_that_read_it_undecided():
    found = rules(posture.from_pulumi("svc", pulumi_props(user=UNKNOWN_VALUE, privileged=True, memory=0)))
    assert set(found) == {"RAE-CTR-001", "RAE-CTR-005", "RAE-CTR-008"}
    assert all(isinstance(m, posture.Unknown) for m in found["RAE-CTR-001"])
    assert not any(isinstance(m, posture.Unknown) for m in found["RAE-CTR-005"] + found["RAE-CTR-008"])


@pytest.mark.parametrize("value", ["rae-test-api-fdc936d5:8443", "rae-production-eu-west-api:8443",
                                   "qdrant-store.internal.example:6333"])
def test_a_long_service_address_is_not_taken_for_a_credential(value):
    """CI refused the test API's proxy: UPSTREAM=rae-test-api-<random suffix>:8443 scored 4.06 bits of entropy."""
    assert posture.credential_reason("UPSTREAM", value) is None


@pytest.mark.parametrize("value", ["Zx8kP2qLm9TnV4rB7wY1cD6f", "Zx8kP2qLm9TnV4rB7wY1cD6f:8443",
                                   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
def test_random_values_are_still_credentials_with_or_without_a_port(value):
    assert posture.credential_reason("UPSTREAM", value) == "its value looks like a random credential"


def test_a_service_runs_as_its_own_user_and_no_other_services():
    """CONTAINER.service_users is an allow-list: a labelled service runs as exactly its uid:gid; a service the
    baseline does not list is refused; an unlabelled container may not borrow a service's uid or gid."""
    label = lambda service: [{"label": posture.SERVICE_LABEL, "value": service}]  # noqa: E731
    postgres, api = ("%d:%d" % CONTAINER.service_users[name] for name in ("postgres", "rae-api"))
    assert rules(posture.from_pulumi("svc", pulumi_props(user=postgres, labels=label("postgres")))) == {}
    wrong = rules(posture.from_pulumi("svc", pulumi_props(user=api, labels=label("postgres"))))
    assert list(wrong) == ["RAE-CTR-001"] and "not its own" in wrong["RAE-CTR-001"][0]
    assert "no user of its own" in rules(posture.from_pulumi("svc", pulumi_props(labels=label("redis"))))["RAE-CTR-001"][0]
    borrowed = inspect()
    borrowed["Config"]["User"] = postgres
    assert "another service's" in rules(posture.from_inspect(borrowed))["RAE-CTR-001"][0]
    borrowed["Config"]["Labels"] = {posture.SERVICE_LABEL: "postgres"}
    assert rules(posture.from_inspect(borrowed)) == {}
    assert len({uid for uid, _ in CONTAINER.service_users.values()}) == len(CONTAINER.service_users)
    assert all(uid > 0 and gid > 0 for uid, gid in CONTAINER.service_users.values())


def test_a_spec_is_refused_with_another_services_user_or_an_unlisted_service():
    from components.spec import ContainerSpec, Healthcheck
    health = Healthcheck(("CMD", "true"))
    spec = ContainerSpec("db", IMAGE, health, service="postgres")
    assert (spec.uid, spec.gid) == CONTAINER.service_users["postgres"]
    with pytest.raises(BaselineViolation, match="not its own") as refused:
        ContainerSpec("db", IMAGE, health, service="postgres", uid=CONTAINER.service_users["rae-api"][0])
    assert "A.8.2" in refused.value.controls
    with pytest.raises(BaselineViolation, match="no user of its own"):
        ContainerSpec("cache", IMAGE, health)


def test_remap_read_from_docker_info_and_ids_shifted_into_the_range():
    from posture.container import mapped_ids, remap_from_info

    info = {"SecurityOptions": ["name=seccomp,profile=default", "name=userns"],
            "DockerRootDir": "/var/lib/docker/100000.100000"}
    ranges = ("dockremap:100000:65536\n", "other:1:2\ndockremap:100000:65536\n")
    remap = remap_from_info(info, ranges)
    assert remap == (100000, 100000, 65536)
    assert mapped_ids(10010, 10010, remap) == (110010, 110010)
    assert mapped_ids(10010, 10010, None) == (10010, 10010)
    assert remap_from_info({"SecurityOptions": ["name=seccomp,profile=default"],
                            "DockerRootDir": "/var/lib/docker"}, ranges) is None
    with pytest.raises(BaselineViolation, match="A.8.2"):
        mapped_ids(70000, 10, remap)  # outside the subordinate range: no host id to give
    with pytest.raises(BaselineViolation, match="no range starting there"):
        remap_from_info(info, ("dockremap:200000:65536\n", ranges[1]))
    with pytest.raises(BaselineViolation, match="does not name"):
        remap_from_info({**info, "DockerRootDir": "/var/lib/docker"}, ranges)


def test_audit_judges_the_engines_user_namespace_remap():
    from harden.audit.containers import check_engine, secret_file_modes

    base = {"LiveRestoreEnabled": True, "LoggingDriver": "json-file",
            "SecurityOptions": ["name=seccomp,profile=default"], "DockerRootDir": "/var/lib/docker"}
    plain = {e.check: e for e in check_engine(base)}["userns_remap"]
    assert plain.status == "fail" and plain.actual == "no user namespace"
    assert tuple(plain.controls) == DOCKER_DAEMON.controls("userns_remap")
    unnamed = {**base, "SecurityOptions": ["name=userns"]}  # remapped, but the data root names no ids: unknown
    assert {e.check: e for e in check_engine(unnamed)}["userns_remap"].status == "unknown"

    # a secret file is the container user's when it belongs to the host uid that user has under the remap
    attrs = {"Config": {"User": "10010:10010"},
             "Mounts": [{"Type": "bind", "RW": False, "Source": "/s", "Destination": "/run/secrets/x"}]}
    stat = lambda owner: (lambda _path: os.stat_result((0o100400, 0, 0, 1, owner, owner, 1, 0, 0, 0)))
    remap = (100000, 100000, 65536)
    assert secret_file_modes("c", attrs, stat(110010), remap=remap)[0].status == "pass"
    assert secret_file_modes("c", attrs, stat(10010), remap=remap)[0].status == "fail"
    assert secret_file_modes("c", attrs, stat(10010))[0].status == "pass"
    # the engine remaps but its range could not be read: the owner is unknown, not judged against the bare uid
    unread = secret_file_modes("c", attrs, stat(10010), remap_problem="no range starting there")[0]
    assert unread.status == "unknown" and "no range starting there" in unread.detail
    assert secret_file_modes("c", attrs, lambda _p: os.stat_result((0o100644, 0, 0, 1, 1, 1, 1, 0, 0, 0)),
                             remap_problem="unread")[0].status == "fail"  # the mode is still judged
    # a container uid beyond the subordinate range has no host id: no file can be the service's
    outside = secret_file_modes("c", {**attrs, "Config": {"User": "70000:70000"}}, stat(170000), remap=remap)[0]
    assert outside.status == "fail" and "outside the engine's subordinate range" in outside.detail


def test_audit_reads_the_remap_once_and_reports_an_unreadable_one_as_unknown(monkeypatch, tmp_path):
    from harden.audit import containers

    secret = tmp_path / "token"
    secret.write_text("x")
    secret.chmod(0o400)
    attrs = {"Name": "/c", "Config": {"User": "10010:10010", "Env": []}, "HostConfig": {}, "State": {},
             "Mounts": [{"Type": "bind", "RW": False, "Source": str(secret), "Destination": "/run/secrets/x"}]}
    container = type("Container", (), {"name": "c", "attrs": attrs})()
    client = type("Client", (), {"info": lambda self: {"SecurityOptions": ["name=userns"],
                                                         "DockerRootDir": "/var/lib/docker/100000.100000"}})()
    calls = []

    def unreadable(info, subordinate=None):
        calls.append(info)
        raise containers.BaselineViolation("no range starting there", DOCKER_DAEMON.controls("userns_remap"))

    monkeypatch.setattr(containers.posture, "remap_from_info", unreadable)
    monkeypatch.setattr(containers, "hardened_containers", lambda *_args: [container])
    found = {e.check: e for e in containers.collect(client, names=("c",), progress=lambda _m: None)}
    assert len(calls) == 1
    assert found["userns_remap"].status == "unknown"
    assert found["secret_file_modes"].status == "unknown"  # owned by this test's uid, but the host uid is not known
    assert "no range starting there" in found["secret_file_modes"].detail
