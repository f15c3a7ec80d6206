"""The HTTPS probe's body-limit check over a real TLS 1.3 handshake: a 413 passes, any other answer fails, no HTTP
answer is unknown. (The real proxy answers it in tests/audit/test_stack_audit.py.)"""

import socket
import ssl
import threading

import pytest

from baseline import API
from harden.audit.tls_probe import Endpoint, _body_limit


def _serve(pki, answer: bytes):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(pki.server_cert, pki.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    seen = []

    def run():
        connection, _ = listener.accept()
        with context.wrap_socket(connection, server_side=True) as tls:
            seen.append(tls.recv(4096))
            if answer:
                tls.sendall(answer)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1], seen


@pytest.mark.parametrize("answer, status", [
    (b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n", "pass"),
    (b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", "fail"),
    (b"", "unknown"),
])
def test_only_a_413_passes(test_pki, answer, status):
    port, seen = _serve(test_pki, answer)
    evidence = _body_limit(Endpoint.parse(f"127.0.0.1:{port},https,name=localhost"), timeout=5)
    assert evidence.status == status, evidence
    assert evidence.controls == API.controls("max_body_bytes") and "A.8.26" in evidence.controls
    assert f"Content-Length: {API.max_body_bytes + 1}".encode() in seen[0] and seen[0].endswith(b"\r\n\r\n")
