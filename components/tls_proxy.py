"""TlsProxy: the TLS 1.3-only reverse proxy in front of the API (our tls-proxy image, components.proxy_runtime)."""

import dataclasses
from dataclasses import dataclass, field
from typing import Sequence

import pulumi

from baseline import CONTAINER
from components import proxy_runtime
from components.container import HardenedContainer, HardenedContainerArgs
from components.spec import Port



@dataclass
class TlsProxyArgs:
    """+ image: our tls-proxy image by sha256 id
    + upstream: host:port of the API on the API's network
    + cert_file, key_file: host secret files of the server certificate
    + client_cert_file, client_key_file: host secret files of the proxy's client certificate towards the API
    + ca_file: host file of the CA that signed the API's certificate
    + port: published port on a declared bind address
    + networks: edge network (published) and the API's network, never the stores'
    + upstream_name: the DNS name the API's certificate carries (api_runtime.NAME by default)
    """

    image: str
    upstream: str
    cert_file: str
    key_file: str
    client_cert_file: str
    client_key_file: str
    ca_file: str
    port: Port
    networks: Sequence[str]
    allowed_bind_addresses: Sequence[str]
    upstream_name: str | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    host_roots: Sequence[str] = CONTAINER.host_roots


class TlsProxy(pulumi.ComponentResource):
    """The API's only published endpoint: TLS 1.3 with the baseline's suites, mutual TLS 1.3 to the API.

    Example: TlsProxy("proxy", TlsProxyArgs(image_id, "rae-api:8443", crt, key, client_crt, client_key, ca,
                                            Port(8443, 8443), ["edge", "api"], ["127.0.0.1"]))
    """

    def __init__(self, name: str, args: TlsProxyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:TlsProxy", name, None, opts)
        # The port joins with the stack's declared addresses: a Tailscale address is not in the runtime's default.
        spec = dataclasses.replace(
            proxy_runtime.proxy_spec(args.image, proxy_runtime.ProxySecrets(
                args.cert_file, args.key_file, args.client_cert_file, args.client_key_file, args.ca_file),
                args.upstream, args.upstream_name, name=name, networks=tuple(args.networks), host_roots=tuple(args.host_roots)),
            ports=(args.port,), allowed_bind_addresses=tuple(args.allowed_bind_addresses))
        self.container = HardenedContainer(name, HardenedContainerArgs(spec, "TlsProxy", args.depends_on),
                                           opts=pulumi.ResourceOptions(parent=self))
        self.endpoint = f"{args.port.host_ip}:{args.port.external}"
        self.register_outputs({"endpoint": self.endpoint})
