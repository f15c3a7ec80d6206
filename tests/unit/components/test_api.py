"""ApiService: the API slot as a HardenedContainer, never published, on two segments, pinned image only."""

import dataclasses

import pytest

from baseline import API, BaselineViolation
from components import api_runtime
from components.api import ApiService, ApiServiceArgs
from tests.unit.components.harness import declare, one
from posture.container import service_user

IMAGE = "sha256:" + "5" * 64
SECRETS = api_runtime.ApiSecrets("/srv/data/s/api.crt", "/srv/data/s/api.key", "/srv/data/s/ca.crt",
                                 "/srv/data/s/pg-app", "/srv/data/s/qdrant-key",
                                 qdrant_client_cert="/srv/data/s/qdrant-client.crt",
                                 qdrant_client_key="/srv/data/s/qdrant-client.key",
                                 tenant_token_public_key="/srv/data/s/tenant-token-public.pem")


def _api(image=IMAGE, proxy_network="rae-unit-api", stores_network="rae-unit-backend", secrets=SECRETS) -> list[dict]:
    return declare(lambda: ApiService("api", ApiServiceArgs(image, secrets, proxy_network, stores_network)))


def test_the_api_is_unpublished_on_its_two_segments_with_its_secrets_as_files():
    container = one(_api(), "docker:index/container:Container")
    assert container["ports"] == [] and container["readOnly"] is True and container["user"] == "%d:%d" % service_user(api_runtime.NAME)
    assert [n["name"] for n in container["networksAdvanced"]] == ["rae-unit-api", "rae-unit-backend"]
    assert container["networksAdvanced"][0]["aliases"] == [api_runtime.NAME]
    mounts = {m["target"]: m["source"] for m in container["mounts"]}
    assert mounts[api_runtime.TLS_KEY_PATH] == "/srv/data/s/api.key"
    assert mounts[api_runtime.QDRANT_KEY_PATH] == "/srv/data/s/qdrant-key"
    assert not any("srv/data" in env for env in container["envs"] if "_FILE=" not in env)


def test_a_postgres_client_certificate_is_mounted_when_given():
    with_cert = dataclasses.replace(SECRETS, postgres_client_cert="/srv/data/s/pg-client.crt",
                                    postgres_client_key="/srv/data/s/pg-client.key")
    container = one(_api(secrets=with_cert), "docker:index/container:Container")
    assert f"RAE_PG_CLIENT_CERT_FILE={api_runtime.PG_CLIENT_CERT_PATH}" in container["envs"]


@pytest.mark.parametrize("image", ["rae/api:latest", "rae/api", "sha256:short"])
def test_an_unpinned_image_is_refused(image):
    with pytest.raises(BaselineViolation, match="A.8.19"):
        _api(image=image)


def test_one_segment_for_proxy_and_stores_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.22"):
        _api(stores_network="rae-unit-api")


def test_the_qdrant_client_certificate_is_mounted_and_required():
    """Qdrant's front requires a client certificate (baseline TLS.client_cert_required_hops: api->qdrant)."""
    container = one(_api(), "docker:index/container:Container")
    mounts = {m["target"]: m["source"] for m in container["mounts"]}
    assert mounts[api_runtime.QDRANT_CLIENT_CERT_PATH] == "/srv/data/s/qdrant-client.crt"
    assert f"RAE_QDRANT_CLIENT_KEY_FILE={api_runtime.QDRANT_CLIENT_KEY_PATH}" in container["envs"]
    with pytest.raises(BaselineViolation, match="A.5.14"):
        _api(secrets=dataclasses.replace(SECRETS, qdrant_client_key=None))


def test_the_request_limits_are_the_baseline_s_for_the_proxy_and_the_api_alike():
    """baseline.API states the limits once: the proxy's HAProxy config and the API's environment carry the same."""
    from baseline import API
    from components import proxy_runtime

    config = proxy_runtime.haproxy_config()
    assert f"timeout http-request {API.request_header_timeout_s}s" in config
    assert f"timeout http-keep-alive {API.keepalive_s}s" in config
    assert f"timeout client {API.client_idle_timeout_s}s" in config and f"timeout server {API.server_timeout_s}s" in config
    assert f"gt {API.max_body_bytes} }}" in config and f'Strict-Transport-Security "{API.hsts}"' in config
    envs = one(_api(), "docker:index/container:Container")["envs"]
    assert f"RAE_API_MAX_BODY_BYTES={API.max_body_bytes}" in envs and f"RAE_API_KEEPALIVE_S={API.keepalive_s}" in envs
    assert f"RAE_API_MAX_CONCURRENCY={API.max_concurrency}" in envs


def test_without_the_tenant_token_key_the_api_is_refused():
    """No public key, no caller bound to a tenant: the component refuses rather than run an API anyone can use."""
    with pytest.raises(BaselineViolation, match="A.5.15"):
        _api(secrets=dataclasses.replace(SECRETS, tenant_token_public_key=None))


def test_the_tenant_token_settings_reach_the_api_as_the_baseline_states_them():
    container = one(_api(), "docker:index/container:Container")
    assert f"RAE_API_BEARER_MAX_LIFETIME_S={API.tenant_token_max_lifetime_s}" in container["envs"]
    assert f"RAE_API_BEARER_PUBLIC_KEY_FILE={api_runtime.TENANT_TOKEN_PUBLIC_KEY_PATH}" in container["envs"]
    mounts = {m["target"]: m["source"] for m in container["mounts"]}
    assert mounts[api_runtime.TENANT_TOKEN_PUBLIC_KEY_PATH] == "/srv/data/s/tenant-token-public.pem"
