"""ContainerPidsLimit: the baseline's pids limit on a container that pulumi-docker created without one.

pulumi-docker's Container has no pids-limit input, and Docker before 23 refuses the daemon-wide
`default-pids-limit` (scripts/ensure-docker.sh records it as rejected on these hosts). So the limit is
applied with Docker's own CLI (`docker update --pids-limit`) by a small `pulumi.dynamic` resource that
is replaced with its container and reads the live value back on refresh, so drift is visible.
"""

import subprocess

import pulumi
import pulumi.dynamic as dynamic

from baseline import CONTAINER, require



def _run(*args: str) -> subprocess.CompletedProcess:
    """The docker CLI (fixed argv, no shell)."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=False)  # nosec B603 B607


def _docker(*args: str) -> str:
    """Run the docker CLI; fail naming the command and Docker's own message."""
    completed = _run(*args)
    if completed.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def live_pids_limit(container: str) -> int | None:
    """The container's (name or id) current pids limit; 0 when unlimited (Docker prints <nil>, 0 or -1 for that);
    None when no such container exists."""
    completed = _run("container", "inspect", "--format", "{{.HostConfig.PidsLimit}}", container)
    if completed.returncode != 0:
        if "no such" in completed.stderr.lower():
            return None
        raise RuntimeError(f"docker container inspect {container} failed: {completed.stderr.strip()}")
    shown = completed.stdout.strip()
    return max(int(shown), 0) if shown.lstrip("-").isdigit() else 0


def apply_pids_limit(container: str, limit: int) -> None:
    _docker("update", "--pids-limit", str(limit), container)


class PidsLimitProvider(dynamic.ResourceProvider):
    """Apply on create/update; refresh reports the live limit; nothing to undo on delete."""

    def create(self, props):
        apply_pids_limit(props["container"], int(props["limit"]))
        return dynamic.CreateResult(id_=props["container_id"], outs=props)

    def diff(self, _id, olds, news):
        replaced = olds.get("container_id") != news.get("container_id")
        changed = replaced or int(olds.get("limit", 0)) != int(news["limit"])
        return dynamic.DiffResult(changes=changed, replaces=["container_id"] if replaced else [])

    def update(self, _id, olds, news):
        apply_pids_limit(news["container"], int(news["limit"]))
        return dynamic.UpdateResult(outs=news)

    def read(self, id_, props):
        """The limit of the managed container, read by its id (the resource's id): a container of another id under
        the same name (re-created by hand) is not the one this limit was applied to. Gone with its container."""
        live = live_pids_limit(id_)
        if live is None:
            return dynamic.ReadResult(id_=None, outs={})
        return dynamic.ReadResult(id_=id_, outs={**props, "limit": live})

    def delete(self, _id, props):
        """The limit goes with its container."""


class ContainerPidsLimit(dynamic.Resource):
    """The baseline pids limit on one container, re-applied whenever the container is replaced.

    + container: the container's name
    + container_id: its id (a new id means a new container: the limit is applied again)
    + limit: at most baseline.CONTAINER.pids_limit

    Example: ContainerPidsLimit("postgres-pids", c.name, c.id, CONTAINER.pids_limit, opts)
    """

    def __init__(self, name: str, container: pulumi.Input[str], container_id: pulumi.Input[str], limit: int,
                 opts: pulumi.ResourceOptions | None = None):
        require(0 < limit <= CONTAINER.pids_limit, f"pids limit {limit} is outside 1..{CONTAINER.pids_limit}",
                CONTAINER.controls("pids_limit"))
        super().__init__(PidsLimitProvider(), name,
                         {"container": container, "container_id": container_id, "limit": limit}, opts)
