"""ApiService: the API slot on the docker target. `rae:apiImage` names the user's API image; without it the
reference API (images/api, build/images.json "api") runs. Either runs components/api_runtime.api_spec: the
hardened container posture, never published, on the proxy's segment and the stores' segment only, TLS 1.3 with
the proxy's client certificate required.
"""

from dataclasses import dataclass, field
from typing import Sequence

import pulumi

from baseline import CONTAINER, NETWORK, require
from components import api_runtime
from components.container import HardenedContainer, HardenedContainerArgs
from posture.container import image_pinned



@dataclass
class ApiServiceArgs:
    """+ image: `rae:apiImage` (repo@sha256:... or a local image id), or the reference API's image id
    + secrets: host paths of the API's secret files (components.api_runtime.ApiSecrets)
    + proxy_network: the segment the TLS proxy shares with the API (internal)
    + stores_network: the segment of Postgres and Qdrant's front (internal)
    + postgres_host, qdrant_host: the stores' names there (their certificates' names)
    + depends_on: networks, stores and secret files the API needs first
    """

    image: str
    secrets: api_runtime.ApiSecrets
    proxy_network: str
    stores_network: str
    postgres_host: str = "postgres"
    qdrant_host: str | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    host_roots: Sequence[str] = CONTAINER.host_roots


class ApiService(pulumi.ComponentResource):
    """The API container in the hardened form, reached only by the TLS proxy.

    Example: ApiService("api", ApiServiceArgs("sha256:...", ApiSecrets(crt, key, ca, pg_pw, qdrant_key), "rae-local-api",
                                              "rae-local-backend"))
    """

    def __init__(self, name: str, args: ApiServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:ApiService", name, None, opts)
        require(image_pinned(args.image),
                f"API image {args.image!r} must be pinned: repo@sha256:<64 hex> or a local image id sha256:<64 hex>",
                CONTAINER.controls("image_pinning"))
        require(args.proxy_network != args.stores_network,
                "the API's proxy segment and stores segment must differ: the proxy must not reach the stores",
                NETWORK.controls("docker_internal_network"))
        spec = api_runtime.api_spec(args.image, args.secrets, networks=(args.proxy_network, args.stores_network),
                                    postgres_host=args.postgres_host, qdrant_host=args.qdrant_host,
                                    host_roots=tuple(args.host_roots))
        self.container = HardenedContainer(name, HardenedContainerArgs(spec, "ApiService", args.depends_on),
                                           opts=pulumi.ResourceOptions(parent=self))
        self.upstream = f"{api_runtime.NAME}:{api_runtime.LISTEN_PORT}"
        self.register_outputs({"upstream": self.upstream})
