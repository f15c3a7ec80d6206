"""Light fleet hosts for tests and benchmarks: sshd containers on the project's base image.

Each gets its own Ed25519 host key (recorded in a known_hosts file, so pyinfra checks it strictly)
and an admin user with the fleet's key and sudo. No kernel or systemd of its own: its host data
says harden_scope=container.

    fleet = start_fleet(docker.from_env(), base_image_id, 3, work_dir)
    ...  # fleet.members: [(name, host data)] for a pyinfra inventory
    fleet.remove()
"""

import io
import secrets
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from hosts.connection import node

DOCKERFILE_DIR = Path(__file__).resolve().parent
IMAGE_TAG = "rae/fleet-sshd:test"
ADMIN_UID = 1000  # the first user the Dockerfile creates


@dataclass
class Fleet:
    members: list = field(default_factory=list)
    containers: list = field(default_factory=list)

    def remove(self) -> None:
        for container in self.containers:
            container.remove(force=True)


def _keypair(path: Path) -> tuple[bytes, bytes]:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.read_bytes(), Path(f"{path}.pub").read_bytes()


def _tar(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, (content, mode, uid) in files.items():
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.uid, info.gid = len(content), mode, uid, uid
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def start_fleet(docker_client, base_image: str, size: int, work_dir: Path) -> Fleet:
    """Build the sshd image on base_image and start size containers, sshd published on loopback ports.

    + docker_client: a docker-py client
    + base_image: id of the project's base image (build/images.json "base")
    + size: number of hosts
    + work_dir: where keys and known_hosts are written
    """
    image, _ = docker_client.images.build(path=str(DOCKERFILE_DIR), buildargs={"BASE_IMAGE": base_image},
                                          tag=IMAGE_TAG, rm=True)
    _, admin_public = _keypair(work_dir / "fleet_admin")
    known_hosts = work_dir / "fleet_known_hosts"
    fleet = Fleet()
    run = secrets.token_hex(4)  # the work folder's name repeats across concurrent sessions (pytest's fleet0)
    try:
        for index in range(size):
            host_private, host_public = _keypair(work_dir / f"fleet_host{index}")
            container = docker_client.containers.create(image.id, ports={"22/tcp": ("127.0.0.1", None)},
                                                        name=f"harden-fleet-{run}-{index}",
                                                        # the daemon default (baseline) sets no-new-privileges,
                                                        # which stops the admin's sudo; these hosts need it
                                                        security_opt=["no-new-privileges:false"])
            fleet.containers.append(container)
            container.put_archive("/", _tar({
                "/etc/ssh/ssh_host_ed25519_key": (host_private, 0o600, 0),
                "/etc/ssh/ssh_host_ed25519_key.pub": (host_public, 0o644, 0),
                "/home/admin/.ssh/authorized_keys": (admin_public, 0o600, ADMIN_UID),
            }))
            container.start()
            container.reload()
            port = int(container.ports["22/tcp"][0]["HostPort"])
            with known_hosts.open("a") as file:
                file.write(f"[127.0.0.1]:{port} {' '.join(host_public.decode().split()[:2])}\n")
            fleet.members.append(node(f"fleet-{index}", "127.0.0.1", port=port, key=str(work_dir / "fleet_admin"),
                                      known_hosts=str(known_hosts), harden_scope="container"))
    except Exception:
        fleet.remove()
        raise
    return fleet
