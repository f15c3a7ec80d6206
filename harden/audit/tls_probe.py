"""TLS probes of live endpoints: TLS 1.2 refused, TLS 1.3 accepted, chain valid against the stack's CA, days to expiry,
and the key and lifetime of the certificate the server presents and of the CA it is judged against (the baseline's
curve, at most the baseline's validity).

Postgres speaks TLS only after its SSLRequest preamble (an 8-byte message answered by 'S' or 'N'),
so an endpoint of kind "postgres" sends it before the handshake. A gRPC port (kind "grpc") is probed as a gRPC
client reaches it: TLS from the first byte offering ALPN `h2`, the negotiated protocol recorded with the version.
"""

import socket
import ssl
import struct
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from baseline import API, TLS
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence

_SSL_REQUEST = struct.pack("!II", 8, 80877103)
KINDS = ("tls", "https", "postgres", "grpc")
# The application protocols a kind's clients offer (ALPN): a gRPC server may refuse a handshake without h2.
_ALPN = {"grpc": ["h2"]}
_TLS_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class Endpoint:
    """An endpoint to probe.

    + host, port: where it listens
    + kind: "tls" (TLS from the first byte), "https" (TLS, then HTTP: the request body limit probed), "grpc" (TLS
      offering ALPN h2, as gRPC clients do) or "postgres" (SSLRequest preamble first)
    + server_name: the name its certificate must carry (defaults to host)
    + ca: path of the CA bundle the chain must verify against (the stack's CA)
    + mtls: the endpoint must refuse a client without a certificate (mutual TLS); probed, never assumed

    Example: Endpoint.parse("127.0.0.1:5432,postgres,name=postgres")
    """

    host: str
    port: int
    kind: str = "tls"
    server_name: str | None = None
    ca: str | None = None
    mtls: bool = False

    @classmethod
    def parse(cls, text: str, ca: str | None = None) -> "Endpoint":
        """`host:port[,postgres|,https|,grpc][,name=SERVER_NAME][,ca=PATH][,mtls]` as given on the command line."""
        address, *options = [part.strip() for part in text.split(",")]
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"endpoint {text!r}: expected host:port[,postgres|,https|,grpc][,name=...][,ca=...]")
        fields = {"kind": "tls", "server_name": None, "ca": ca, "mtls": False}
        for option in options:
            key, _, value = option.partition("=")
            if key in KINDS and not value:
                fields["kind"] = key
            elif key == "name" and value:
                fields["server_name"] = value
            elif key == "ca" and value:
                fields["ca"] = value
            elif key == "mtls" and not value:
                fields["mtls"] = True
            else:
                raise ValueError(f"endpoint {text!r}: unknown option {option!r} (allowed: {', '.join(KINDS)}, name=, ca=, mtls)")
        return cls(host.strip("[]"), int(port), **fields)

    @property
    def subject(self) -> str:
        return f"tls/{self.host}:{self.port}"


def _connect(endpoint: Endpoint, timeout: float) -> socket.socket:
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    if endpoint.kind == "postgres":
        sock.sendall(_SSL_REQUEST)
        answer = sock.recv(1)
        if answer != b"S":
            sock.close()
            raise ssl.SSLError(f"postgres answered {answer!r} to SSLRequest: TLS not offered")
    return sock


def _handshake(endpoint: Endpoint, context: ssl.SSLContext, timeout: float):
    """(version, cipher, peer certificate DER, negotiated ALPN protocol or None) of one handshake; raises on
    refusal."""
    sock = _connect(endpoint, timeout)
    with context.wrap_socket(sock, server_hostname=endpoint.server_name or endpoint.host) as tls:
        return tls.version(), tls.cipher()[0], tls.getpeercert(binary_form=True), tls.selected_alpn_protocol()


def _context(version: str, verify_ca: str | None, kind: str = "tls") -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = _TLS_VERSIONS[version]
    if kind in _ALPN:
        context.set_alpn_protocols(_ALPN[kind])
    if version == "TLSv1.2":
        context.set_ciphers("ALL:@SECLEVEL=0")  # offer everything: the server alone must refuse
    if verify_ca:
        context.load_verify_locations(cafile=verify_ca)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def probe(endpoint: Endpoint, timeout: float = 5.0) -> list[Evidence]:
    """Evidence about one endpoint; an endpoint that cannot be reached is unknown, never pass."""
    subject = endpoint.subject
    try:
        socket.create_connection((endpoint.host, endpoint.port), timeout=timeout).close()
    except OSError as error:
        return [Evidence("tls", subject, "reachable", "accepts TCP connections", f"{type(error).__name__}: {error}",
                         UNKNOWN, TLS.controls("min_version"), f"kind {endpoint.kind}; host down or probe timed out")]
    found = []
    try:
        version, cipher, _, _ = _handshake(endpoint, _context("TLSv1.2", None, endpoint.kind), timeout)
        actual, refused = f"accepted ({version}, {cipher})", False
    except (ssl.SSLError, ConnectionError) as error:
        actual, refused = f"refused ({_reason(error)})", True
    except OSError as error:
        actual, refused = f"{type(error).__name__}: {error}", None
    found.append(Evidence("tls", subject, "tls1.2_refused", "refused", actual,
                          UNKNOWN if refused is None else PASS if refused else FAIL, TLS.controls("allowed_versions"),
                          f"baseline allows only {list(TLS.allowed_versions)}"))
    try:
        version, cipher, der, alpn = _handshake(endpoint, _context("TLSv1.3", None, endpoint.kind), timeout)
    except TimeoutError as error:  # no answer is not a refusal
        found.append(Evidence("tls", subject, "tls1.3_accepted", "accepted", f"no answer within {timeout:g} s ({error})",
                              UNKNOWN, TLS.controls("min_version"), "probe timed out"))
        return found
    except OSError as error:
        found.append(Evidence("tls", subject, "tls1.3_accepted", "accepted", f"refused ({_reason(error)})", FAIL,
                              TLS.controls("min_version")))
        return found
    found.append(Evidence("tls", subject, "tls1.3_accepted", "accepted", f"accepted ({version}, {cipher})",
                          PASS if version == "TLSv1.3" else FAIL, TLS.controls("min_version"),
                          f"server_name={endpoint.server_name or endpoint.host} kind={endpoint.kind}"
                          + (f" alpn={alpn or 'none'}" if endpoint.kind in _ALPN else "")))
    found.append(Evidence("tls", subject, "cipher_suite", list(TLS.cipher_suites), cipher,
                          PASS if cipher in TLS.cipher_suites else FAIL, TLS.controls("cipher_suites")))
    found.append(_chain(endpoint, timeout))
    found.append(_expiry(subject, der))
    found.extend(certificate_checks(subject, "server", x509.load_der_x509_certificate(der)))
    if endpoint.ca:
        found.extend(_ca_checks(endpoint))
    if endpoint.mtls:
        found.append(_client_certificate_required(endpoint, timeout))
    if endpoint.kind == "https":
        found.append(_body_limit(endpoint, timeout))
    return found


def _body_limit(endpoint: Endpoint, timeout: float) -> Evidence:
    """A request that declares a body one byte above API.max_body_bytes must be refused with 413 before the body is
    read; the probe sends no body, so nothing oversized ever travels."""
    check, expected = "oversized_body_refused", f"413 for a declared body of {API.max_body_bytes + 1} bytes"
    name = endpoint.server_name or endpoint.host
    request = (f"POST / HTTP/1.1\r\nHost: {name}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {API.max_body_bytes + 1}\r\nConnection: close\r\n\r\n").encode()
    try:
        sock = _connect(endpoint, timeout)
        with _context("TLSv1.3", None).wrap_socket(sock, server_hostname=name) as tls:
            tls.sendall(request)
            status_line = tls.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
    except OSError as error:
        return Evidence("tls", endpoint.subject, check, expected, f"{type(error).__name__}: {error}", UNKNOWN,
                        API.controls("max_body_bytes"), "no HTTP answer")
    parts = status_line.split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return Evidence("tls", endpoint.subject, check, expected, f"not an HTTP answer: {status_line[:80]!r}", UNKNOWN,
                        API.controls("max_body_bytes"))
    return Evidence("tls", endpoint.subject, check, expected, status_line, PASS if parts[1] == "413" else FAIL,
                    API.controls("max_body_bytes"))


def _client_certificate_required(endpoint: Endpoint, timeout: float) -> Evidence:
    """A TLS 1.3 client without a certificate must be refused. In TLS 1.3 the server's refusal (the
    certificate_required alert) arrives after the client's Finished, so the probe reads once after the handshake.

    Some servers refuse without an alert the client can read: asyncio's TLS (uvicorn's) drops the connection when
    the handshake fails, without the alert it wrote and without TLS's close_notify. Such a refusal is told from an
    accepted connection by what the server sent before the connection ended: a server that completed its side of
    the handshake sends its session tickets at once (OpenSSL does by default) and ends a connection it closes with
    close_notify. An abrupt end (no close_notify) before the client spoke, with no ticket issued, is a refusal; any
    other close without an alert stays unknown."""
    check, expected = "client_without_certificate_refused", "refused (certificate required)"
    detail = f"server_name={endpoint.server_name or endpoint.host} kind={endpoint.kind}"
    controls = TLS.controls("client_cert_required_for_nodes")
    abrupt = False
    try:
        sock = _connect(endpoint, timeout)
        with _context("TLSv1.3", None, endpoint.kind).wrap_socket(
                sock, server_hostname=endpoint.server_name or endpoint.host, suppress_ragged_eofs=False) as tls:
            tls.settimeout(min(timeout, 2.0))
            try:
                data = tls.recv(1)
            except TimeoutError:
                return Evidence("tls", endpoint.subject, check, expected, "accepted: no alert, the connection stayed open",
                                FAIL, controls, detail)
            except (ssl.SSLEOFError, ConnectionResetError):
                data, abrupt = b"", True
            ticket = tls.session is not None and tls.session.has_ticket
    except ssl.SSLError as error:
        refused = "CERTIFICATE" in str(error).upper()
        return Evidence("tls", endpoint.subject, check, expected, f"refused ({_reason(error)})",
                        PASS if refused else UNKNOWN, controls, detail)
    except OSError as error:
        return Evidence("tls", endpoint.subject, check, expected, f"{type(error).__name__}: {error}", UNKNOWN,
                        controls, detail)
    if data:
        return Evidence("tls", endpoint.subject, check, expected, "accepted: the server sent data", FAIL, controls,
                        detail)
    if abrupt and not ticket:
        return Evidence("tls", endpoint.subject, check, expected,
                        "refused (no alert: the connection dropped before the client spoke, no session ticket issued, "
                        "no close_notify)", PASS, controls, detail)
    return Evidence("tls", endpoint.subject, check, expected,
                    "connection closed without an alert " + ("after a session ticket" if ticket else "with close_notify"),
                    UNKNOWN, controls, detail)


def _chain(endpoint: Endpoint, timeout: float) -> Evidence:
    expected = f"verifies against the stack CA for name {endpoint.server_name or endpoint.host}"
    if not endpoint.ca:
        return Evidence("tls", endpoint.subject, "chain_valid", expected, "no CA given (--ca)", UNKNOWN,
                        TLS.controls("key_algorithm"), "without the stack's CA the chain cannot be judged")
    try:
        _handshake(endpoint, _context("TLSv1.3", endpoint.ca, endpoint.kind), timeout)
        return Evidence("tls", endpoint.subject, "chain_valid", expected, "verified", PASS, TLS.controls("key_algorithm"))
    except ssl.SSLCertVerificationError as error:
        return Evidence("tls", endpoint.subject, "chain_valid", expected, f"invalid: {error.verify_message}", FAIL,
                        TLS.controls("key_algorithm"))
    except OSError as error:
        return Evidence("tls", endpoint.subject, "chain_valid", expected, f"{type(error).__name__}: {error}", UNKNOWN,
                        TLS.controls("key_algorithm"))


def _expiry(subject: str, der: bytes) -> Evidence:
    certificate = x509.load_der_x509_certificate(der)
    days_left = (certificate.not_valid_after_utc - datetime.now(timezone.utc)).days
    renew_days = TLS.cert_early_renewal_hours // 24
    return Evidence("tls", subject, "days_to_expiry", f"more than {renew_days} (re-issued {renew_days} days early)",
                    days_left, PASS if days_left > renew_days else FAIL, TLS.controls("cert_early_renewal_hours"),
                    f"not after {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")


# The baseline's curve names (pulumi-tls's ecdsa_curve) as the certificate's key names them.
_CURVES = {"P224": "secp224r1", "P256": "secp256r1", "P384": "secp384r1", "P521": "secp521r1"}
_LIFETIME = {"server": "cert_validity_hours", "ca": "ca_validity_hours"}


def certificate_checks(subject: str, role: str, certificate: x509.Certificate) -> list[Evidence]:
    """The key curve and the lifetime of one certificate, judged against the baseline: `role` "server" (the
    certificate an endpoint presents) or "ca" (the CA its chain is judged against)."""
    prefix = "" if role == "server" else "ca_"
    key = certificate.public_key()
    curve = key.curve.name if isinstance(key, ec.EllipticCurvePublicKey) else f"not ECDSA ({type(key).__name__})"
    wanted = _CURVES[TLS.ecdsa_curve]
    setting = _LIFETIME[role]
    limit = getattr(TLS, setting)
    hours = (certificate.not_valid_after_utc - certificate.not_valid_before_utc).total_seconds() / 3600
    return [
        Evidence("tls", subject, f"{prefix}key_curve", f"{TLS.key_algorithm} {TLS.ecdsa_curve} ({wanted})", curve,
                 PASS if curve == wanted else FAIL, TLS.controls("ecdsa_curve"),
                 f"{role} certificate {certificate.subject.rfc4514_string()}"),
        Evidence("tls", subject, f"{prefix}validity_hours", f"<= {limit}", round(hours, 2),
                 PASS if 0 < hours <= limit else FAIL, TLS.controls(setting),
                 f"{role} certificate valid {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ} to "
                 f"{certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"),
    ]


def _ca_checks(endpoint: Endpoint) -> list[Evidence]:
    """certificate_checks of the CA the chain is judged against (--ca): the first certificate of the bundle; a bundle
    that cannot be read is unknown, never passed."""
    try:
        with open(endpoint.ca, "rb") as handle:
            ca = x509.load_pem_x509_certificates(handle.read())[0]
    except (OSError, ValueError, IndexError) as error:
        return [Evidence("tls", endpoint.subject, check, "the CA bundle read", f"{type(error).__name__}: {error}",
                         UNKNOWN, TLS.controls(setting), "the CA bundle given with --ca")
                for check, setting in (("ca_key_curve", "ecdsa_curve"), ("ca_validity_hours", "ca_validity_hours"))]
    return certificate_checks(endpoint.subject, "ca", ca)


def _reason(error: Exception) -> str:
    return getattr(error, "reason", None) or str(error) or type(error).__name__


def collect(endpoints, timeout: float = 5.0, progress=print) -> list[Evidence]:
    evidence = []
    for endpoint in endpoints:
        progress(f"tls {endpoint.host}:{endpoint.port} ({endpoint.kind}): handshakes")
        evidence.extend(probe(endpoint, timeout))
    return evidence
