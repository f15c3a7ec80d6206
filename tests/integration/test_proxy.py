"""The TLS proxy from our image: TLS 1.3 only with the baseline suites, /healthz, forwarding (ISO 27001:2022 A.8.24)."""

import http.client
import json
import socket
import ssl

import pytest

from baseline import TLS

pytestmark = pytest.mark.integration


def client_context(test_pki, maximum=ssl.TLSVersion.MAXIMUM_SUPPORTED, minimum=ssl.TLSVersion.MINIMUM_SUPPORTED):
    context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
    context.minimum_version = minimum
    context.maximum_version = maximum
    return context


def get(tls_proxy, test_pki, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection("localhost", tls_proxy.port, context=client_context(test_pki), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_accepts_tls13_with_a_baseline_suite(tls_proxy, test_pki):
    context = client_context(test_pki, minimum=ssl.TLSVersion.TLSv1_3)
    with socket.create_connection(("127.0.0.1", tls_proxy.port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.version() == "TLSv1.3"
        assert tls.cipher()[0] in TLS.cipher_suites


def test_refuses_tls12(tls_proxy, test_pki):
    context = client_context(test_pki, maximum=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", tls_proxy.port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname="localhost")


def test_serves_healthz_itself(tls_proxy, test_pki):
    assert get(tls_proxy, test_pki, "/healthz") == (200, b"ok")


def test_forwards_other_paths_to_the_upstream(tls_proxy, test_pki):
    assert get(tls_proxy, test_pki, "/memories?q=1") == (200, b"upstream saw /memories?q=1")


def test_key_absent_from_docker_inspect_and_logs(tls_proxy, test_pki):
    tls_proxy.container.reload()
    key = test_pki.server_key.read_bytes().strip()
    assert key not in json.dumps(tls_proxy.container.attrs).encode()
    assert key not in tls_proxy.container.logs()
