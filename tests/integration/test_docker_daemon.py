"""The running Docker engine carries baseline.DOCKER_DAEMON (scripts/ensure-docker.sh), seen from its behaviour."""

import json
import subprocess
from pathlib import Path

import pytest

from baseline import DOCKER_DAEMON
from hosts.desired import docker_daemon_config
from components.engine_ids import engine_remap

pytestmark = pytest.mark.integration

DAEMON_JSON = Path("/etc/docker/daemon.json")


@pytest.fixture(scope="module")
def daemon_config():
    if not DAEMON_JSON.exists():
        pytest.fail(f"{DAEMON_JSON} is missing: the engine was not started by scripts/ensure-docker.sh")
    return json.loads(DAEMON_JSON.read_text())


def test_daemon_json_is_the_baseline(daemon_config):
    """Every baseline key is written; a value differs only where ensure-docker.sh capped nofile to the host."""
    for key, value in docker_daemon_config().items():
        if key == "default-pids-limit" and key not in daemon_config:
            continue  # upstream dockerd has no such option; ensure-docker.sh reports it on every start
        if key == "default-ulimits":
            nofile = daemon_config[key]["nofile"]
            assert 0 < nofile["Hard"] <= value["nofile"]["Hard"]
            continue
        assert daemon_config[key] == value, key


def test_engine_reports_live_restore_and_log_driver(docker_client):
    info = docker_client.info()
    assert info["LiveRestoreEnabled"] is DOCKER_DAEMON.config["live-restore"]
    assert info["LoggingDriver"] == DOCKER_DAEMON.config["log-driver"]


def test_default_bridge_has_no_inter_container_traffic(docker_client):
    options = docker_client.networks.get("bridge").attrs["Options"]
    assert options["com.docker.network.bridge.enable_icc"] == str(DOCKER_DAEMON.config["icc"]).lower()


def test_containers_get_no_new_privileges_by_default(docker_client, built_images):
    status = docker_client.containers.run(built_images["base"], ["cat", "/proc/self/status"], remove=True).decode()
    assert "NoNewPrivs:\t1" in status


def test_containers_run_in_a_remapped_user_namespace(docker_client, built_images):
    """userns-remap (docker-bench 2.8): a container's root is the first id of dockremap's subordinate range, as the
    kernel's uid map inside the container says, and that is the remap every host file is handed out by."""
    remap = engine_remap()
    assert remap is not None, "the engine runs its containers in the host's user namespace"
    uid_map = docker_client.containers.run(built_images["base"], ["cat", "/proc/self/uid_map", "/proc/self/gid_map"],
                                           remove=True).decode().split()
    assert uid_map == ["0", str(remap[0]), str(remap[2]), "0", str(remap[1]), str(remap[2])]


def test_published_ports_have_no_userland_proxy(postgres):
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert f"-host-port {postgres.port}" not in processes


def test_ensure_docker_is_idempotent_on_a_running_engine(docker_client):
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(["bash", "scripts/ensure-docker.sh"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "engine already running" in result.stdout
    assert "differs from baseline" not in result.stderr
