"""The API's request limits (baseline API) as the live stack runs them: read from the TLS proxy's own HAProxy config
(inside its container) and from the API container's environment, through the Docker API; and the tenant-token
requirement as a caller meets it (a tenant route asked through the stack's endpoint without a valid token).

One evidence item per setting and container: the value found against the baseline's. A container that is not running,
a config that cannot be read or a line that is not there is unknown or fail, never pass.
"""

import http.client
import re
import ssl

from baseline import API
from components import api_runtime, proxy_runtime
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence

# HAProxy config lines of the proxy -> the setting each must carry (components/proxy_runtime.haproxy_config).
_PROXY_LINES = {
    "request_header_timeout_s": (r"^\s*timeout http-request (\d+)s\s*$", int),
    "keepalive_s": (r"^\s*timeout http-keep-alive (\d+)s\s*$", int),
    "client_idle_timeout_s": (r"^\s*timeout client (\d+)s\s*$", int),
    "server_timeout_s": (r"^\s*timeout server (\d+)s\s*$", int),
    "max_body_bytes": (r"^\s*http-request deny deny_status 413 if \{ req\.hdr_val\(content-length\) gt (\d+) \}\s*$", int),
    "hsts": (r'^\s*http-after-response set-header Strict-Transport-Security "([^"]*)"\s*$', str),
}
# The API container's environment (components/api_runtime.api_spec) -> the setting each must carry.
_API_ENV = {"max_body_bytes": "RAE_API_MAX_BODY_BYTES", "keepalive_s": "RAE_API_KEEPALIVE_S",
            "max_concurrency": "RAE_API_MAX_CONCURRENCY",
            "tenant_token_max_lifetime_s": "RAE_API_BEARER_MAX_LIFETIME_S"}


def _item(container: str, setting: str, actual, status: str, detail: str) -> Evidence:
    return Evidence("stack", f"stack/{container}", f"api_limit:{setting}", getattr(API, setting), actual, status,
                    API.controls(setting), detail)


def proxy_evidence(container) -> list[Evidence]:
    """The proxy's limits as its HAProxy reads them: the config file named by its HAPROXY_CONFIG, read in the container."""
    env = dict(e.split("=", 1) for e in (container.attrs.get("Config") or {}).get("Env") or [] if "=" in e)
    path = env.get("HAPROXY_CONFIG", proxy_runtime.CONFIG_PATH)
    try:
        code, output = container.exec_run(["cat", path])
    except Exception as error:  # not running, engine gone
        return [_item(container.name, s, f"{type(error).__name__}: {error}", UNKNOWN, f"cannot read {path}")
                for s in _PROXY_LINES]
    if code != 0:
        return [_item(container.name, s, f"cat {path}: exit {code}", UNKNOWN, "config not readable") for s in _PROXY_LINES]
    text = output.decode(errors="replace")
    evidence = []
    for setting, (pattern, kind) in _PROXY_LINES.items():
        found = [kind(m.group(1)) for m in re.finditer(pattern, text, re.MULTILINE)]
        actual = found[0] if len(found) == 1 else (found or "absent")
        evidence.append(_item(container.name, setting, actual, PASS if found == [getattr(API, setting)] else FAIL,
                              f"{path} in the running proxy"))
    return evidence


def api_evidence(container) -> list[Evidence]:
    """The limits the API container was started with (its environment, read through the Docker API)."""
    env = dict(e.split("=", 1) for e in (container.attrs.get("Config") or {}).get("Env") or [] if "=" in e)
    evidence = []
    for setting, name in _API_ENV.items():
        actual = env.get(name, "absent")
        status = PASS if actual == str(getattr(API, setting)) else FAIL
        evidence.append(_item(container.name, setting, actual if actual == "absent" else int(actual) if actual.isdigit()
                              else actual, status, f"environment {name} of the running API"))
    return evidence


def collect(client, declared: dict[str, str], proxy_name: str = "tls-proxy",
            api_name: str = api_runtime.NAME) -> list[Evidence]:
    """Evidence for the proxy and the API the graph declares (none when it declares neither).

    + declared: service name -> container name (harden.audit.stack.service_containers)
    """
    evidence = []
    for service, read in ((proxy_name, proxy_evidence), (api_name, api_evidence)):
        if service not in declared:
            continue
        name = declared[service]
        try:
            container = client.containers.get(name)
        except Exception as error:  # absent: graph_drift fails it; here the limits are unknown
            evidence.append(Evidence("stack", f"stack/{name}", "api_limits", "running", f"{type(error).__name__}",
                                     UNKNOWN, API.controls("max_body_bytes"), "container not readable"))
            continue
        evidence += read(container)
    return evidence


# The tenant the probe names: no tenant of the service is asked for its data (and with the requirement met, none is).
PROBE_TENANT = "audit-probe"
_PROBES = {"no_token": ("no Authorization header", None),
           "unsigned_token": ("a token no key of the stack signed", "e30.e30.AAAA")}


def tenant_token_evidence(endpoint: str, ca_file: str | None, timeout: float = 10) -> list[Evidence]:
    """`GET /tenants/audit-probe/memories` through the stack's API endpoint (host:port), its chain verified against
    the stack's CA (its name is tls_probe's evidence): without a token, and with a token no key signed. Each must answer 401; any other answer fails, a
    connection that cannot be made is unknown."""
    host, _, port = endpoint.rpartition(":")
    evidence = []
    for name, (probe, token) in _PROBES.items():
        check = f"api_tenant_token_required:{name}"
        try:
            context = ssl.create_default_context(cafile=ca_file)
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            # the chain is verified; the name the endpoint's certificate carries is the TLS probe's evidence
            context.check_hostname = False
            connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=timeout)
            try:
                connection.request("GET", f"/tenants/{PROBE_TENANT}/memories",
                                   headers={"Authorization": f"Bearer {token}"} if token else {})
                response = connection.getresponse()
                body = response.read(2048)
            finally:
                connection.close()
        except (OSError, ValueError, http.client.HTTPException) as error:
            evidence.append(Evidence("stack", f"api/{endpoint}", check, 401, f"{type(error).__name__}: {error}",
                                     UNKNOWN, API.controls("tenant_token_max_lifetime_s"), "no answer to read"))
            continue
        status = PASS if response.status == 401 else FAIL
        detail = (f"GET /tenants/{PROBE_TENANT}/memories with {probe}: HTTP {response.status}"
                  + ("" if status == PASS else f"; the API answered without a valid token ({body[:120]!r})"))
        evidence.append(Evidence("stack", f"api/{endpoint}", check, 401, response.status, status,
                                 API.controls("tenant_token_max_lifetime_s"), detail))
    return evidence
