"""docker_run_args: the ContainerSpec as `docker run` flags (used by cloud-init on the Qdrant VM)."""

from baseline import CONTAINER
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile, docker_run_args
from posture.container import service_user

IMAGE = "sha256:" + "5" * 64


def test_every_hardening_flag_is_rendered_and_the_image_comes_last():
    spec = ContainerSpec("svc", IMAGE, Healthcheck(("CMD", "pg_isready", "--host=/run/postgresql")), service="postgres",
                         command=("-c", "ssl=on"), ports=(Port(5432, 15432),), mounts=(Mount("/srv/data/d", "/data", "bind"),),
                         secret_files=(SecretFile("/srv/data/s/key", "/run/secrets/key"),), env={"A_FILE": "/run/secrets/key"})
    args = docker_run_args(spec)
    flags = " ".join(args)
    assert "--user %d:%d" % service_user("postgres") in flags and "--read-only" in args
    assert "--cap-drop ALL" in flags and "--security-opt no-new-privileges:true" in flags
    assert f"--pids-limit {CONTAINER.pids_limit}" in flags and f"--memory {CONTAINER.memory_mb_default}m" in flags
    assert f"--restart {CONTAINER.restart}" in flags and "--log-opt max-size=10m" in flags
    assert "--publish 127.0.0.1:15432:5432/tcp" in flags
    assert "--mount type=bind,source=/srv/data/s/key,target=/run/secrets/key,readonly" in flags
    assert all(f"--tmpfs {path}:{options}" in flags for path, options in CONTAINER.tmpfs.items())
    assert args[args.index("--health-cmd") + 1] == "pg_isready --host=/run/postgresql"
    assert args[-3:] == [IMAGE, "-c", "ssl=on"]


def test_shell_form_healthchecks_pass_through():
    spec = ContainerSpec("svc", IMAGE, Healthcheck(("CMD-SHELL", "test -S /run/x || exit 1")), service="postgres")
    args = docker_run_args(spec)
    assert args[args.index("--health-cmd") + 1] == "test -S /run/x || exit 1"
