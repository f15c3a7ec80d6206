"""The probe's client-certificate check over real TLS 1.3 handshakes: a server that refuses with the
certificate_required alert (OpenSSL's blocking server, HAProxy) and one that drops the connection without it
(asyncio's TLS, as uvicorn serves the API) both pass; a server that accepts a client without a certificate fails;
a close that cannot be told from an accepted connection stays unknown. (The live stack's hops: test_stack_audit.)"""

import asyncio
import socket
import ssl
import threading

import pytest

from baseline import TLS
from harden.audit.tls_probe import Endpoint, _client_certificate_required


def _context(pki, verify: ssl.VerifyMode, tickets: int = 2) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca_cert)
    context.verify_mode = verify
    context.num_tickets = tickets
    return context


def _blocking_server(context: ssl.SSLContext, after_handshake):
    """One connection served by OpenSSL's blocking socket: after_handshake(tls) runs once the handshake is done."""
    listener = socket.create_server(("127.0.0.1", 0))

    def run():
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                after_handshake(tls)
        except (ssl.SSLError, OSError):
            pass
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return listener.getsockname()[1]


def _asyncio_server(context: ssl.SSLContext):
    """An asyncio TLS server (uvicorn's transport), in a thread of its own; returns (port, stop)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def handle(reader, writer):
        await reader.read(100)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    async def main():
        holder["server"] = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
        ready.set()
        try:
            await holder["server"].serve_forever()
        except asyncio.CancelledError:  # stop() closed it
            pass

    def run():
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    def stop():
        loop.call_soon_threadsafe(holder["server"].close)
        thread.join(10)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    return holder["server"].sockets[0].getsockname()[1], stop


def _probe(port):
    return _client_certificate_required(Endpoint.parse(f"127.0.0.1:{port},name=localhost,mtls"), timeout=5)


def _probe_asyncio(context: ssl.SSLContext):
    """The probe's evidence against an asyncio TLS server with context, stopped afterwards."""
    port, stop = _asyncio_server(context)
    try:
        return _probe(port)
    finally:
        stop()


def test_a_refusal_without_an_alert_from_asyncios_tls_passes(test_pki):
    evidence = _probe_asyncio(_context(test_pki, ssl.CERT_REQUIRED))
    assert evidence.status == "pass", evidence
    assert "no session ticket" in evidence.actual and "no close_notify" in evidence.actual
    assert evidence.controls == TLS.controls("client_cert_required_for_nodes")


def test_the_certificate_required_alert_passes(test_pki):
    port = _blocking_server(_context(test_pki, ssl.CERT_REQUIRED), lambda tls: tls.recv(1))
    evidence = _probe(port)
    assert evidence.status == "pass" and "CERTIFICATE" in evidence.actual.upper(), evidence


def test_an_asyncio_server_that_accepts_without_a_certificate_fails(test_pki):
    evidence = _probe_asyncio(_context(test_pki, ssl.CERT_NONE))
    assert evidence.status == "fail" and "stayed open" in evidence.actual, evidence


@pytest.mark.parametrize("tickets, shown", [(2, "after a session ticket"), (0, "with close_notify")])
def test_a_close_after_an_accepted_handshake_stays_unknown(test_pki, tickets, shown):
    """Accepted, then closed at once (with close_notify): not a refusal the probe can tell, whatever the tickets."""
    port = _blocking_server(_context(test_pki, ssl.CERT_NONE, tickets), lambda tls: tls.unwrap())
    evidence = _probe(port)
    assert evidence.status == "unknown" and shown in evidence.actual, evidence
