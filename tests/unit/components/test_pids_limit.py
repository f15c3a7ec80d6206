"""ContainerPidsLimit: its provider applies and reads the limit with the docker CLI, and re-applies on replace."""

import pytest

from baseline import CONTAINER, BaselineViolation
from components import pids_limit
from components.pids_limit import ContainerPidsLimit, PidsLimitProvider
from tests.unit.components.harness import declare


@pytest.fixture
def docker_calls(monkeypatch) -> list[tuple[str, ...]]:
    calls = []

    def fake_docker(*args: str) -> str:
        calls.append(args)
        return "256"
    monkeypatch.setattr(pids_limit, "_docker", fake_docker)
    return calls


def test_create_applies_the_limit_with_docker_update(docker_calls):
    result = PidsLimitProvider().create({"container": "rae-local-postgres", "container_id": "abc", "limit": 256})
    assert docker_calls == [("update", "--pids-limit", "256", "rae-local-postgres")] and result.id == "abc"


def test_refresh_reads_the_live_limit(docker_calls):
    read = PidsLimitProvider().read("abc", {"container": "rae-local-postgres", "container_id": "abc", "limit": 256})
    assert read.outs["limit"] == 256
    assert docker_calls == [("inspect", "--format", "{{.HostConfig.PidsLimit}}", "rae-local-postgres")]


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
    monkeypatch.setattr(pids_limit, "_docker", lambda *args: shown)
    assert pids_limit.live_pids_limit("c") == limit
