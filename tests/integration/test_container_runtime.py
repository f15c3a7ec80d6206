"""The hardened runtime, observed on the running containers themselves (ISO 27001:2022 A.8.2, A.8.9, A.8.16)."""

from pathlib import Path

import pytest

from baseline import CONTAINER
from components.engine_ids import host_ids
from components import postgres_runtime, proxy_runtime, qdrant_runtime
from posture.container import service_user

pytestmark = pytest.mark.integration

SERVICES = ("postgres", "tls_proxy", "qdrant_store")
# The session fixture -> the service it runs (its key in baseline CONTAINER.service_users).
SERVICE_OF = {"postgres": postgres_runtime.SERVICE, "tls_proxy": proxy_runtime.SERVICE,
              "qdrant_store": qdrant_runtime.STORE_NAME}


@pytest.fixture(params=SERVICES)
def service(request):
    """Each session container in turn."""
    return request.getfixturevalue(request.param).container


def kernel_status(container) -> dict[str, str]:
    """/proc/<pid>/status of the container's first process, read on the host: what the kernel enforces."""
    container.reload()
    pid = container.attrs["State"]["Pid"]
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


@pytest.mark.parametrize("fixture", SERVICES)
def test_process_runs_as_its_services_own_uid_and_gid_not_root(request, fixture):
    status = kernel_status(request.getfixturevalue(fixture).container)
    uid, gid = service_user(SERVICE_OF[fixture])
    host_uid, host_gid = host_ids(uid, gid)  # the host kernel's view under the engine's user-namespace remap
    assert set(status["Uid"].split()) == {str(host_uid)} and set(status["Gid"].split()) == {str(host_gid)}
    assert uid != 0 and gid != 0 and host_uid != 0 and host_gid != 0


def test_no_effective_capabilities(service):
    assert int(kernel_status(service)["CapEff"], 16) == 0


def test_no_new_privileges(service):
    assert kernel_status(service)["NoNewPrivs"].strip() == "1"


def test_root_filesystem_is_read_only(service):
    result = service.exec_run(["/bin/sh", "-c", "echo persisted > /usr/local/bin/implant"])
    assert result.exit_code != 0
    assert b"Read-only file system" in result.output


def test_healthcheck_reports_healthy(service):
    service.reload()
    assert service.attrs["State"]["Health"]["Status"] == "healthy"
    assert service.attrs["Config"]["Healthcheck"]["Test"][0] == "CMD"


def test_memory_and_pids_are_bounded(service, request):
    host_config = service.attrs["HostConfig"]
    memory_mb = qdrant_runtime.MEMORY_MB if request.node.callspec.params["service"] == "qdrant_store" \
        else CONTAINER.memory_mb_default
    assert host_config["Memory"] == memory_mb * 1024 * 1024
    assert 0 < host_config["PidsLimit"] <= CONTAINER.pids_limit


def test_image_has_no_setuid_or_setgid_files(service, docker_client):
    # A throwaway root container of the same image: the hardened service itself cannot read root-only dirs.
    found = docker_client.containers.run(service.image.id, ["/", "-xdev", "-type", "f", "-perm", "/6000"],
                                         entrypoint="find", user="0", remove=True)
    assert found.decode().split() == []


def test_image_has_no_download_tools(service):
    result = service.exec_run(["/bin/sh", "-c", "for tool in curl wget nc ncat gcc; do command -v $tool; done; true"])
    assert result.output.decode().split() == []
