"""TlsProxy: our HAProxy image as a HardenedContainer, published on a declared address only."""

import pytest

from baseline import BaselineViolation
from components import proxy_runtime
from components.spec import Port
from components.tls_proxy import TlsProxy, TlsProxyArgs
from tests.unit.components.harness import declare, one

IMAGE = "sha256:" + "4" * 64


def _proxy(port: Port) -> list[dict]:
    return declare(lambda: TlsProxy("tls-proxy", TlsProxyArgs(
        IMAGE, "rae-api:8443", "/srv/data/s/p.crt", "/srv/data/s/p.key", "/srv/data/s/c.crt", "/srv/data/s/c.key",
        "/srv/data/s/ca.crt", port, ["rae-unit-edge", "rae-unit-api"], ["127.0.0.1"])))


def test_proxy_forwards_to_the_upstream_with_its_key_as_a_file():
    container = one(_proxy(Port(proxy_runtime.LISTEN_PORT, 8443)), "docker:index/container:Container")
    assert f"{proxy_runtime.UPSTREAM_ENV}=rae-api:8443" in container["envs"]
    assert f"{proxy_runtime.UPSTREAM_NAME_ENV}=rae-api" in container["envs"]
    mounts = {m["target"]: m for m in container["mounts"]}
    assert mounts[proxy_runtime.TLS_KEY_PATH] == {"target": proxy_runtime.TLS_KEY_PATH, "source": "/srv/data/s/p.key",
                                                  "type": "bind", "readOnly": True}
    assert mounts[proxy_runtime.CLIENT_KEY_PATH]["source"] == "/srv/data/s/c.key"
    assert mounts[proxy_runtime.CA_PATH]["source"] == "/srv/data/s/ca.crt"
    assert container["ports"][0]["ip"] == "127.0.0.1" and container["readOnly"] is True


def test_proxy_on_every_interface_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.20"):
        _proxy(Port(proxy_runtime.LISTEN_PORT, 8443, "0.0.0.0"))


def test_the_proxy_negotiates_only_the_baselines_allowed_versions(monkeypatch):
    from baseline import TLS, Setting
    config = proxy_runtime.haproxy_config()
    bounds = f"ssl-min-ver {TLS.min_version} ssl-max-ver {TLS.allowed_versions[-1]}"
    assert config.count(f"ssl-default-bind-options {bounds} ") == 1
    assert config.count(f"ssl-default-server-options {bounds} ") == 1
    monkeypatch.setitem(TLS._settings, "allowed_versions", Setting(("TLSv1.2", "TLSv1.3"), ("A.8.24",), "wider"))
    with pytest.raises(BaselineViolation, match="allowed_versions") as refused:
        proxy_runtime.haproxy_config()
    assert "A.8.24" in refused.value.controls
