"""The TLS-terminating proxy runtime, stated once: HAProxy config, secret paths and the ContainerSpec.

HAProxy (Debian's package) terminates TLS 1.3 with the baseline suites on an unprivileged port,
answers /healthz itself and forwards everything else to the upstream named at run time in the
UPSTREAM environment variable (HAProxy expands it when it reads its config, so the read-only image
needs no templating step). The image build bakes `haproxy_config()` and `healthcheck_script()`.

    >>> spec = proxy_spec("sha256:...", ProxySecrets(cert, key), upstream="api:8000", port=Port(8443, 443))
"""

from dataclasses import dataclass

from baseline import CONTAINER, TLS
from components.spec import ContainerSpec, Healthcheck, Port, SecretFile

LISTEN_PORT = 8443
HEALTH_PORT = 8081
CONFIG_PATH = "/etc/haproxy/haproxy.cfg"
HEALTHCHECK_PATH = "/usr/local/bin/healthcheck"
TLS_CERT_PATH = "/run/secrets/proxy-server.crt"
TLS_KEY_PATH = TLS_CERT_PATH + ".key"  # HAProxy loads "<crt>.key" beside a certificate without a key
UPSTREAM_ENV = "UPSTREAM"


@dataclass(frozen=True)
class ProxySecrets:
    """Host paths (mode 0400, owned by the service uid) of the proxy's PEM certificate chain and key."""

    tls_cert: str
    tls_key: str


def haproxy_config() -> str:
    """haproxy.cfg: TLS 1.3 only with the baseline suites, /healthz served locally, the rest to ${UPSTREAM}."""
    return f"""# Generated from components/proxy_runtime.py (baseline.TLS); do not edit in the image.
global
    log stdout format raw local0
    maxconn 1024
    # No chroot and no user/group switch: the container already runs as an unprivileged uid.
    ssl-default-bind-options ssl-min-ver {TLS.min_version} no-tls-tickets
    ssl-default-bind-ciphersuites {":".join(TLS.cipher_suites)}

defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 60s
    default-server init-addr last,libc,none

frontend health
    bind 127.0.0.1:{HEALTH_PORT}
    monitor-uri /healthz

frontend https
    bind :{LISTEN_PORT} ssl crt {TLS_CERT_PATH} alpn h2,http/1.1
    http-response set-header Strict-Transport-Security "max-age=63072000"
    http-request return status 200 content-type text/plain string "ok" if {{ path /healthz }}
    default_backend upstream

backend upstream
    server app "${{{UPSTREAM_ENV}}}"
"""


def healthcheck_script() -> str:
    """The image's HEALTHCHECK: HAProxy answers 200 on its loopback monitor URI (bash /dev/tcp; no curl)."""
    return f"""#!/bin/bash
# Generated from components/proxy_runtime.py: Docker HEALTHCHECK of the TLS proxy.
exec 3<>/dev/tcp/127.0.0.1/{HEALTH_PORT} || exit 1
printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3
read -r -t 3 status <&3 || exit 1
[[ $status == *" 200 "* ]]
"""


def build_args() -> dict[str, str]:
    """`docker build --build-arg` values of images/tls-proxy/Dockerfile."""
    return {"SERVICE_UID": str(CONTAINER.uid), "SERVICE_GID": str(CONTAINER.gid),
            "LISTEN_PORT": str(LISTEN_PORT), "CONFIG_PATH": CONFIG_PATH, "HEALTHCHECK_PATH": HEALTHCHECK_PATH}


def proxy_spec(image: str, secrets: ProxySecrets, upstream: str, port: Port | None = None,
               name: str = "tls-proxy", networks: tuple[str, ...] = (),
               host_roots: tuple[str, ...] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened TLS proxy container.

    + image: image id `sha256:...` (build/images.json "tls-proxy")
    + secrets: host paths of the certificate chain and key
    + upstream: `host:port` the proxy forwards to (a container name on the internal network)
    + port: publish LISTEN_PORT on a declared host address
    + host_roots: the declared roots the secret files sit under
    """
    return ContainerSpec(
        name=name,
        image=image,
        healthcheck=Healthcheck(("CMD", HEALTHCHECK_PATH), interval_s=5, timeout_s=3, retries=3, start_period_s=10),
        secret_files=(SecretFile(secrets.tls_cert, TLS_CERT_PATH), SecretFile(secrets.tls_key, TLS_KEY_PATH)),
        env={UPSTREAM_ENV: upstream},
        ports=(port,) if port else (),
        networks=networks,
        host_roots=tuple(host_roots),
    )
