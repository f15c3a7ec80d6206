"""Stack configuration (`rae:*` keys in Pulumi.<stack>.yaml), read and checked in one place.

Relative paths are resolved against the project directory at run time, so no machine path is ever
written into the committed stack files.
"""

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi

from baseline import COMPUTE, CONTAINER, LUKS, require
from components.qdrant_runtime import check_front_image, check_image

PROJECT_DIR = Path(__file__).resolve().parents[2]
TARGETS = ("local", "gcp")
IMAGES = ("base", "postgres", "tls-proxy", "qdrant", "api")
# An Artifact Registry Docker image by digest: LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/PATH@sha256:<64 hex>.
_ARTIFACT_REGISTRY_IMAGE = re.compile(
    r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])/"
    r"(?P<repository>[a-z0-9][a-z0-9._-]*)/[a-z0-9][a-z0-9._/-]*@sha256:[0-9a-f]{64}$")


def artifact_repository(image: str) -> str | None:
    """The Artifact Registry repository (projects/P/locations/L/repositories/R) an image reference names, or None."""
    match = _ARTIFACT_REGISTRY_IMAGE.match(image or "")
    return (f"projects/{match['project']}/locations/{match['location']}/repositories/{match['repository']}"
            if match else None)


def project_path(value: str) -> Path:
    """An absolute path as is; a relative one under the project directory."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_DIR / path


def load_images(images_file: Path) -> dict[str, str]:
    """Image name -> sha256 id from build/images.json ({"postgres": {"ref", "id"}, ...}).

    + images_file: the file scripts/build-images.sh writes
    """
    if not images_file.is_file():
        raise FileNotFoundError(f"{images_file} is missing: run scripts/build-images.sh (or `make up`) to build "
                                f"the images; the stack pins them by the ids that script records")
    recorded = json.loads(images_file.read_text())
    missing = [name for name in IMAGES if not recorded.get(name, {}).get("id")]
    require(not missing, f"{images_file} has no image id for {missing}; rerun scripts/build-images.sh",
            CONTAINER.controls("image_pinning"))
    return {name: recorded[name]["id"] for name in IMAGES}


def target() -> str:
    chosen = pulumi.Config("rae").get("target") or "local"
    if chosen not in TARGETS:
        raise ValueError(f"rae:target is {chosen!r}; choose one of {list(TARGETS)}")
    return chosen


@dataclass(frozen=True)
class LocalConfig:
    """+ bind_address: where published ports listen (127.0.0.1; Node1's Tailscale address on Node1)
    + data_root: host directory of the data volumes and secrets (/srv/data on Node1, on LUKS)
    + unencrypted_exemption: `rae:allowUnencryptedVolumes`, "dev-only: <reason>" or None
    + qdrant_image: `qdrant/qdrant@sha256:...` where a registry serves it, or None (then our build from
      build/images.json runs)
    + api_upstream: host:port of the API behind the TLS proxy (mutual TLS 1.3; its certificate names `rae-api`)
    + api_image: `rae:apiImage`, the user's API image (repo@sha256:... or a local image id), or None (then the
      reference API from build/images.json runs)
    + keep_data: false only after `RELEASE_DATA=1 make down` set rae:releaseData
    + backup_root: `rae:backupRoot`, the local backup repository's directory (a second encrypted volume on Node1);
      default `<data_root>/backups`
    + backup_offsite_repository_file: `rae:backupOffsiteRepositoryFile`, a 0600 file with the append-only
      off-site restic server's location and credentials, or None
    + backup_offsite_cacert: `rae:backupOffsiteCaFile`, the CA of that server's certificate
    """

    bind_address: str
    data_root: Path
    images_file: Path
    unencrypted_exemption: str | None
    qdrant_image: str | None
    api_upstream: str
    postgres_port: int
    proxy_port: int
    keep_data: bool
    backup_root: Path | None = None
    backup_offsite_repository_file: str | None = None
    backup_offsite_cacert: str | None = None
    api_image: str | None = None

    @classmethod
    def from_stack(cls) -> "LocalConfig":
        docker_host = pulumi.Config("docker").get("host")
        if docker_host and not docker_host.startswith("unix://"):
            raise ValueError(f"docker:host is {docker_host}: the local stack writes secret files and checks LUKS where "
                             f"the program runs, so run it on the Docker host itself (e.g. on Node1)")
        config = pulumi.Config("rae")
        # One Docker backend remains (pulumi-docker): a stack that still asks for another is told, not ignored.
        backend = config.get("dockerProvider")
        require(backend is None, f"rae:dockerProvider is {backend!r}: the local stack deploys only through pulumi-docker "
                                 f"now (the toolkit's own dynamic provider is gone); remove the setting", ("A.8.9",))
        bind_address = config.get("bindAddress") or CONTAINER.bind_addresses[0]
        address = ipaddress.ip_address(bind_address)
        require(not address.is_unspecified, f"rae:bindAddress {bind_address} listens on every interface; name one address",
                CONTAINER.controls("bind_addresses"))
        exemption = config.get("allowUnencryptedVolumes")
        # A node that serves other machines holds real data: the development exemption stops at loopback.
        require(exemption is None or address.is_loopback,
                f"rae:allowUnencryptedVolumes is set on a stack served on {bind_address}; it is for loopback-only "
                f"development machines: put the data on LUKS and remove it", LUKS.controls("required_for"))
        return cls(
            bind_address=bind_address,
            data_root=project_path(config.get("dataRoot") or ".state/local-data"),
            images_file=project_path(config.get("imagesFile") or "build/images.json"),
            unencrypted_exemption=exemption,
            qdrant_image=config.get("qdrantImage"),
            api_upstream=config.get("apiUpstream") or "rae-api:8443",
            postgres_port=config.get_int("postgresPort") or 5432,
            proxy_port=config.get_int("proxyPort") or 8443,
            keep_data=not config.get_bool("releaseData"),
            backup_root=project_path(config.get("backupRoot")) if config.get("backupRoot") else None,
            backup_offsite_repository_file=config.get("backupOffsiteRepositoryFile"),
            backup_offsite_cacert=config.get("backupOffsiteCaFile"),
            api_image=config.get("apiImage"),
        )

    @property
    def host_roots(self) -> tuple[str, ...]:
        """The data and secret root this stack declares: its containers' host paths sit under it."""
        return (str(self.data_root),)

    @property
    def allowed_bind_addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*CONTAINER.bind_addresses, self.bind_address)))


@dataclass(frozen=True)
class GcpConfig:
    """+ project, region, zone: where (gcp:project, gcp:region, rae:zone)
    + repository: GitHub ORG/REPO whose main branch may deploy (Workload Identity Federation)
    + ci_subject: exact OIDC subject, default repo:ORG/REPO:ref:refs/heads/main
    + api_image, qdrant_image: pinned by digest
    + tls_proxy_image: `rae:tlsProxyImage`, our TLS proxy image (images/tls-proxy) pushed to a registry the VM pulls
      from, pinned by digest: Qdrant's TLS 1.3 front on its VM
    + qdrant_image, tls_proxy_image are both in Artifact Registry: the VM has no external IP and no NAT, and reaches
      Google's APIs only (Private Google Access on its subnet); `vm_image_repositories` are their repositories
    + domains: hostnames of the API's certificate
    """

    project: str
    region: str
    zone: str
    repository: str
    ci_subject: str | None
    api_image: str
    qdrant_image: str
    tls_proxy_image: str
    domains: tuple[str, ...]
    backup_location: str

    @classmethod
    def from_stack(cls) -> "GcpConfig":
        gcp_config, config = pulumi.Config("gcp"), pulumi.Config("rae")
        region = gcp_config.require("region")
        # The VM pulls its images: a local image id means nothing there. Refused before anything is declared.
        check_image(config.require("qdrantImage"), local_build_allowed=False)
        check_front_image(config.require("tlsProxyImage"), local_build_allowed=False)
        for key in ("qdrantImage", "tlsProxyImage"):
            require(artifact_repository(config.require(key)) is not None,
                    f"rae:{key} {config.require(key)!r} is not an Artifact Registry image by digest "
                    f"(LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/PATH@sha256:...): the Qdrant VM has no external IP and "
                    f"no NAT, so it reaches Google's APIs only; copy the image there by digest (an Artifact Registry "
                    f"remote repository of Docker Hub keeps the official path qdrant/qdrant)",
                    COMPUTE.controls("external_ip_allowed"))
        return cls(
            project=gcp_config.require("project"),
            region=region,
            zone=config.get("zone") or f"{region}-a",
            repository=config.require("repository"),
            ci_subject=config.get("ciSubject"),
            api_image=config.require("apiImage"),
            qdrant_image=config.require("qdrantImage"),
            tls_proxy_image=config.require("tlsProxyImage"),
            domains=tuple(config.require_object("domains")),
            backup_location=config.get("backupLocation") or region,
        )

    @property
    def vm_image_repositories(self) -> tuple[str, ...]:
        """The Artifact Registry repositories the Qdrant VM pulls from (its identity reads these only)."""
        return tuple(sorted({artifact_repository(image) for image in (self.qdrant_image, self.tls_proxy_image)}))
