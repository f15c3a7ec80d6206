"""The host ids of a container's user on this host's Docker engine, under its user-namespace remap
(baseline.DOCKER_DAEMON.userns_remap). Pure: no Pulumi import, so the node's backup toolkit (requirements-backup.lock)
can hand a drill's files to a service as components.host_files hands a stack's.
"""

import functools
import json
import subprocess

from baseline import DOCKER_DAEMON, BaselineViolation
from posture.container import mapped_ids, remap_from_info


@functools.cache
def engine_remap() -> tuple[int, int, int] | None:
    """The user-namespace remap of the Docker engine on this host (remap_from_info of its `docker info`), read once."""
    try:
        done = subprocess.run(["docker", "info", "--format", "{{json .}}"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        done = subprocess.CompletedProcess([], 1, "", str(error))
    if done.returncode != 0:
        raise BaselineViolation("the Docker engine on this host does not answer `docker info`, so the host ids of a "
                                f"container's user cannot be told: {done.stderr.strip()[-300:]}",
                                DOCKER_DAEMON.controls("userns_remap"))
    return remap_from_info(json.loads(done.stdout))


def host_ids(uid: int, gid: int) -> tuple[int, int]:
    """The host uid and gid that are a container's `uid:gid` on this host's engine (posture.container.mapped_ids of
    engine_remap): the same ids without a user-namespace remap, shifted into its subordinate range with one
    (baseline.DOCKER_DAEMON.userns_remap). Files the host hands a container (secrets, data directories) have them.

    Example: host_ids(*service_user("postgres"))  # -> (10010, 10010), or (241082, 241082) under a remap at 231072
    """
    return mapped_ids(uid, gid, engine_remap())
