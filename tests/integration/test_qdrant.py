"""Qdrant under the hardened runtime (A.8.2, A.8.9, A.5.17): runs where its image is present.

Deselected by tests/integration/conftest.py where the image is absent (here: no registry reachable);
the terminal summary says so. The API key reaches Qdrant as a read-only config file, never as an
environment variable; storage sits on a host directory owned by the service uid.
"""

import json
import os
import secrets
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from baseline import CONTAINER
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile, docker_api_kwargs
from tests.fixtures.docker_engine import free_port, remove_quietly, wait_healthy, write_secret
from tests.integration.qdrant_image import QDRANT_IMAGE

pytestmark = pytest.mark.integration

HTTP_PORT = 6333


@pytest.fixture(scope="module")
def qdrant(docker_client, secret_dir, tmp_path_factory):
    api_key = secrets.token_urlsafe(32)
    config = write_secret(secret_dir / f"qdrant-{uuid.uuid4().hex[:8]}.yaml",
                          json.dumps({"service": {"api_key": api_key}}).encode())
    storage = tmp_path_factory.mktemp("qdrant-storage")
    os.chown(storage, CONTAINER.uid, CONTAINER.gid)
    port = free_port()
    spec = ContainerSpec(
        name=f"rae-test-qdrant-{uuid.uuid4().hex[:8]}",
        image=docker_client.images.get(QDRANT_IMAGE).id,
        healthcheck=Healthcheck(("CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{HTTP_PORT}")),
        mounts=(Mount(str(storage), "/qdrant/storage", type="bind"),),
        secret_files=(SecretFile(str(config), "/qdrant/config/local.yaml"),),
        env={"QDRANT__STORAGE__SNAPSHOTS_PATH": "/qdrant/storage/snapshots",
             "QDRANT__STORAGE__TEMP_PATH": "/tmp", "QDRANT__TELEMETRY_DISABLED": "true"},
        ports=(Port(HTTP_PORT, port),),
        host_roots=(str(secret_dir.parent),),  # the session's temporary data root
    )
    container = docker_client.containers.run(**docker_api_kwargs(spec))
    try:
        wait_healthy(container)
        yield container, port, api_key
    finally:
        remove_quietly(docker_client, container)


def status_of(port: int, api_key: str | None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/collections",
                                     headers={"api-key": api_key} if api_key else {})
    for _ in range(30):
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except urllib.error.URLError:
            time.sleep(1)
    pytest.fail(f"Qdrant on 127.0.0.1:{port} never answered")


def test_qdrant_runs_as_non_root_with_read_only_rootfs(qdrant):
    container, _, _ = qdrant
    container.reload()
    status = dict(line.split(":\t", 1) for line in
                  Path(f"/proc/{container.attrs['State']['Pid']}/status").read_text().splitlines() if ":\t" in line)
    assert status["Uid"].split()[1] == str(CONTAINER.uid)
    assert int(status["CapEff"], 16) == 0
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True


def test_qdrant_refuses_requests_without_the_api_key(qdrant):
    _, port, api_key = qdrant
    assert status_of(port, None) == 401
    assert status_of(port, api_key) == 200
