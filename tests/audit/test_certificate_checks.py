"""The TLS probe's certificate checks: the presented certificate's and the CA's curve and lifetime, judged against
baseline.TLS; each passes on a certificate as the components issue it and fails on a weaker one. (The real stack's
certificates are probed in tests/audit/test_stack_audit.py, the test servers' in test_live_audit.py.)"""

from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from baseline import TLS
from harden.audit.tls_probe import Endpoint, _ca_checks, certificate_checks

CURVES = {"P256": ec.SECP256R1, "P384": ec.SECP384R1, "P521": ec.SECP521R1}


def _certificate(key, hours: float) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe test")])
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(hours=hours)).sign(key, hashes.SHA256()))


def _statuses(role: str, key, hours: float) -> dict:
    return {e.check: e.status for e in certificate_checks("tls/x:1", role, _certificate(key, hours))}


BASELINE_KEY = ec.generate_private_key(CURVES[TLS.ecdsa_curve]())
OTHER_CURVE = ec.generate_private_key(ec.SECP256R1() if TLS.ecdsa_curve != "P256" else ec.SECP384R1())


@pytest.mark.parametrize("role, key, hours, expected", [
    ("server", BASELINE_KEY, TLS.cert_validity_hours, {"key_curve": "pass", "validity_hours": "pass"}),
    ("server", BASELINE_KEY, TLS.cert_validity_hours + 1, {"key_curve": "pass", "validity_hours": "fail"}),
    ("server", OTHER_CURVE, 24, {"key_curve": "fail", "validity_hours": "pass"}),
    ("server", rsa.generate_private_key(65537, 2048), 24, {"key_curve": "fail", "validity_hours": "pass"}),
    ("ca", BASELINE_KEY, TLS.ca_validity_hours, {"ca_key_curve": "pass", "ca_validity_hours": "pass"}),
    ("ca", BASELINE_KEY, TLS.ca_validity_hours + 24, {"ca_key_curve": "pass", "ca_validity_hours": "fail"}),
    ("ca", OTHER_CURVE, TLS.cert_validity_hours, {"ca_key_curve": "fail", "ca_validity_hours": "pass"}),
])
def test_curve_and_lifetime_are_judged_against_the_baseline(role, key, hours, expected):
    assert _statuses(role, key, hours) == expected


def test_the_evidence_carries_the_settings_controls():
    found = {e.check: e for e in certificate_checks("tls/x:1", "ca", _certificate(BASELINE_KEY, 24))}
    assert found["ca_key_curve"].controls == TLS.controls("ecdsa_curve")
    assert found["ca_validity_hours"].controls == TLS.controls("ca_validity_hours")
    assert found["ca_validity_hours"].expected == f"<= {TLS.ca_validity_hours}"


def test_a_ca_bundle_that_cannot_be_read_is_unknown(tmp_path):
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    for ca in (garbage, tmp_path / "missing.pem"):
        found = _ca_checks(Endpoint("127.0.0.1", 1, ca=str(ca)))
        assert {e.check: e.status for e in found} == {"ca_key_curve": "unknown", "ca_validity_hours": "unknown"}


def test_the_ca_bundle_is_read(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(_certificate(OTHER_CURVE, 24).public_bytes(serialization.Encoding.PEM))
    found = {e.check: e.status for e in _ca_checks(Endpoint("127.0.0.1", 1, ca=str(bundle)))}
    assert found == {"ca_key_curve": "fail", "ca_validity_hours": "pass"}
