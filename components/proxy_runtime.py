"""The TLS-terminating proxy runtime, stated once: HAProxy config, secret paths and the ContainerSpec.

HAProxy (Debian's package) terminates TLS 1.3 with the baseline suites on an unprivileged port,
answers /healthz itself and forwards everything else to the API named at run time in the UPSTREAM
(address) and UPSTREAM_NAME (its certificate's DNS name) environment variables (HAProxy expands them when it
reads its config, so the read-only image needs no templating step). The image build bakes `haproxy_config()`
and `healthcheck_script()`.

The hop to the API is TLS 1.3 too: the API's certificate is verified against the stack's CA and UPSTREAM_NAME,
and the proxy presents its own client certificate, which the API requires. Towards the API the proxy drops
every forwarding header a client sent (X-Forwarded-*, Forwarded, X-Real-IP) and sets X-Forwarded-For and
X-Forwarded-Proto itself; it refuses bodies above the baseline's API.max_body_bytes, gives a client
API.request_header_timeout_s for its request headers, closes an idle keep-alive connection after API.keepalive_s,
gives the API API.server_timeout_s to answer, and sets HSTS (API.hsts) on every answer (components/api_runtime.py
reads these for the proxy and the API alike).

    >>> spec = proxy_spec("sha256:...", ProxySecrets(cert, key, client_cert, client_key, ca), upstream="rae-api:8443",
    ...                   port=Port(8443, 443))
"""

from dataclasses import dataclass

from baseline import API, CONTAINER, TLS, require
from components import api_runtime
from components.spec import ContainerSpec, Healthcheck, Port, SecretFile
from posture.container import service_user

SERVICE = "tls-proxy"  # its key in baseline CONTAINER.service_users (uid, gid)
LISTEN_PORT = 8443
HEALTH_PORT = 8081
CONFIG_PATH = "/etc/haproxy/haproxy.cfg"
HEALTHCHECK_PATH = "/usr/local/bin/healthcheck"
TLS_CERT_PATH = "/run/secrets/proxy-server.crt"
TLS_KEY_PATH = TLS_CERT_PATH + ".key"  # HAProxy loads "<crt>.key" beside a certificate without a key
CLIENT_CERT_PATH = "/run/secrets/proxy-client.crt"
CLIENT_KEY_PATH = CLIENT_CERT_PATH + ".key"
CA_PATH = "/run/secrets/ca.crt"
UPSTREAM_ENV = "UPSTREAM"
UPSTREAM_NAME_ENV = "UPSTREAM_NAME"
HTTP_LOG_FORMAT = ("%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq "
                   "%HM %HPO %HV")
# Forwarding headers only the proxy may set: a client's own are dropped before the proxy adds its.
CLIENT_FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port",
                             "Forwarded", "X-Real-IP")


@dataclass(frozen=True)
class ProxySecrets:
    """Host paths (mode 0400, owned by the service uid) mounted read-only into the proxy.

    + tls_cert, tls_key: the PEM server certificate chain clients see, and its key
    + client_cert, client_key: the proxy's client certificate towards the API (clientAuth only), and its key
    + ca_cert: the stack's CA, which verifies the API's server certificate
    """

    tls_cert: str
    tls_key: str
    client_cert: str
    client_key: str
    ca_cert: str


_TLS_ORDER = ("TLSv1.2", "TLSv1.3")


def tls_version_options() -> str:
    """haproxy's version bounds from baseline.TLS.allowed_versions: the lowest allowed is the minimum, the highest the
    maximum, so a version the baseline does not list is never negotiated, not even a newer one."""
    allowed = sorted(TLS.allowed_versions, key=lambda v: _TLS_ORDER.index(v) if v in _TLS_ORDER else -1)
    require(bool(allowed) and all(v in _TLS_ORDER for v in allowed) and allowed[0] == TLS.min_version,
            f"tls.allowed_versions {list(TLS.allowed_versions)} must be versions of {list(_TLS_ORDER)} starting at "
            f"tls.min_version {TLS.min_version}", TLS.controls("allowed_versions"))
    return f"ssl-min-ver {allowed[0]} ssl-max-ver {allowed[-1]}"


def haproxy_config() -> str:
    """haproxy.cfg: TLS 1.3 only with the baseline suites on both hops, /healthz served locally, the rest to
    ${UPSTREAM} over mutual TLS, with the forwarding headers, limits and HSTS of the module docstring."""
    suites, versions = ":".join(TLS.cipher_suites), tls_version_options()
    dropped = "\n".join(f"    http-request del-header {header}" for header in CLIENT_FORWARDING_HEADERS)
    upstream = (f'ssl verify required ca-file {CA_PATH} crt {CLIENT_CERT_PATH} '
                f'verifyhost "${{{UPSTREAM_NAME_ENV}}}" sni "str(${{{UPSTREAM_NAME_ENV}}})" alpn http/1.1')
    return f"""# Generated from components/proxy_runtime.py (baseline.TLS, baseline.API limits); do not edit in the image.
global
    log stdout format raw local0
    maxconn 1024
    # No chroot and no user/group switch: the container already runs as an unprivileged uid.
    ssl-default-bind-options {versions} no-tls-tickets
    ssl-default-bind-ciphersuites {suites}
    ssl-default-server-options {versions} no-tls-tickets
    ssl-default-server-ciphersuites {suites}

defaults
    mode http
    log global
    # httplog's fields, but the request as method, path and version: a query string may carry personal data.
    log-format "{HTTP_LOG_FORMAT}"
    timeout connect 5s
    timeout http-request {api_runtime.REQUEST_TIMEOUT_S}s
    timeout http-keep-alive {api_runtime.KEEPALIVE_S}s
    timeout client {api_runtime.CLIENT_TIMEOUT_S}s
    timeout server {api_runtime.SERVER_TIMEOUT_S}s
    default-server init-addr last,libc,none

frontend health
    bind 127.0.0.1:{HEALTH_PORT}
    monitor-uri /healthz

frontend https
    bind :{LISTEN_PORT} ssl crt {TLS_CERT_PATH} alpn h2,http/1.1
    http-after-response set-header Strict-Transport-Security "{api_runtime.HSTS}"
    http-request return status 200 content-type text/plain string "ok" if {{ path /healthz }}
    http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {API.max_body_bytes} }}
{dropped}
    option forwardfor
    http-request set-header X-Forwarded-Proto https
    default_backend upstream

backend upstream
    server app "${{{UPSTREAM_ENV}}}" {upstream}
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
    uid, gid = service_user(SERVICE)
    return {"SERVICE_UID": str(uid), "SERVICE_GID": str(gid),
            "LISTEN_PORT": str(LISTEN_PORT), "CONFIG_PATH": CONFIG_PATH, "HEALTHCHECK_PATH": HEALTHCHECK_PATH}


def proxy_spec(image: str, secrets: ProxySecrets, upstream: str, upstream_name: str | None = None,
               port: Port | None = None,
               name: str = "tls-proxy", networks: tuple[str, ...] = (),
               host_roots: tuple[str, ...] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened TLS proxy container.

    + image: image id `sha256:...` (build/images.json "tls-proxy")
    + secrets: host paths of the certificate chain and key
    + upstream: `host:port` the proxy forwards to (a container name on the API's network)
    + upstream_name: the DNS name the API's certificate must carry (api_runtime.NAME by default)
    + port: publish LISTEN_PORT on a declared host address
    + host_roots: the declared roots the secret files sit under
    """
    return ContainerSpec(
        name=name,
        service=SERVICE,
        image=image,
        healthcheck=Healthcheck(("CMD", HEALTHCHECK_PATH), interval_s=5, timeout_s=3, retries=3, start_period_s=10),
        secret_files=(SecretFile(secrets.tls_cert, TLS_CERT_PATH), SecretFile(secrets.tls_key, TLS_KEY_PATH),
                      SecretFile(secrets.client_cert, CLIENT_CERT_PATH), SecretFile(secrets.client_key, CLIENT_KEY_PATH),
                      SecretFile(secrets.ca_cert, CA_PATH)),
        env={UPSTREAM_ENV: upstream, UPSTREAM_NAME_ENV: upstream_name or api_runtime.NAME},
        ports=(port,) if port else (),
        networks=networks,
        host_roots=tuple(host_roots),
    )
