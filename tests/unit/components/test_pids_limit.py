"""ContainerPidsLimit: its provider applies and reads the limit with the docker CLI, and re-applies on replace."""

import subprocess

import pytest

from baseline import CONTAINER, BaselineViolation
from components import pids_limit
from components.pids_limit import ContainerPidsLimit, PidsLimitProvider
from tests.unit.components.harness import declare


def _answers(monkeypatch, returncode: int = 0, stdout: str = "256", stderr: str = "") -> list[tuple[str, ...]]:
    calls = []

    def fake_run(*args: str) -> subprocess.CompletedProcess:
        calls.append(args)
        return subprocess.CompletedProcess(["docker", *args], returncode, stdout, stderr)
    monkeypatch.setattr(pids_limit, "_run", fake_run)
    return calls


@pytest.fixture
def docker_calls(monkeypatch) -> list[tuple[str, ...]]:
    return _answers(monkeypatch)


def test_create_applies_the_limit_with_docker_update(docker_calls):
    result = PidsLimitProvider().create({"container": "rae-local-postgres", "container_id": "abc", "limit": 256})
    assert docker_calls == [("update", "--pids-limit", "256", "rae-local-postgres")] and result.id == "abc"


def test_refresh_reads_the_live_limit_of_the_managed_container_by_id(docker_calls):
    read = PidsLimitProvider().read("abc", {"container": "rae-local-postgres", "container_id": "abc", "limit": 256})
    assert read.outs["limit"] == 256 and read.id == "abc"
    assert docker_calls == [("container", "inspect", "--format", "{{.HostConfig.PidsLimit}}", "abc")]


def test_the_limit_is_gone_with_its_container(monkeypatch):
    _answers(monkeypatch, returncode=1, stdout="", stderr="Error: No such container: abc")
    read = PidsLimitProvider().read("abc", {"container": "rae-local-postgres", "container_id": "abc", "limit": 256})
    assert read.id is None


def test_a_docker_failure_is_not_read_as_a_missing_container(monkeypatch):
    _answers(monkeypatch, returncode=1, stdout="", stderr="Cannot connect to the Docker daemon")
    with pytest.raises(RuntimeError, match="Cannot connect"):
        PidsLimitProvider().read("abc", {"container": "c", "container_id": "abc", "limit": 256})


def test_a_replaced_container_gets_the_limit_again_and_drift_is_repaired():
    provider = PidsLimitProvider()
    old = {"container": "c", "container_id": "abc", "limit": 256}
    assert provider.diff("abc", old, old).changes is False
    assert provider.diff("abc", old, old | {"container_id": "def"}).replaces == ["container_id"]
    assert provider.diff("abc", old | {"limit": 0}, old).changes is True


def test_a_limit_above_the_baseline_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.6"):
        declare(lambda: ContainerPidsLimit("p", "c", "id", CONTAINER.pids_limit + 1))


@pytest.mark.parametrize("shown, limit", [("<nil>", 0), ("0", 0), ("-1", 0), ("256", 256)])
def test_dockers_spellings_of_unlimited_read_as_zero(monkeypatch, shown, limit):
    _answers(monkeypatch, stdout=shown + "\n")
    assert pids_limit.live_pids_limit("c") == limit
