"""Private CA and certificates: baseline key type, lifetimes and renewal; weaker requests are refused."""

import pytest

from baseline import TLS, BaselineViolation
from components.tls import Certificate, CertificateArgs, PrivateCa, PrivateCaArgs
from tests.unit.components.harness import declare, of_type, one


def _issue(**overrides) -> list[dict]:
    def build():
        ca = PrivateCa("ca", PrivateCaArgs())
        Certificate("leaf", CertificateArgs(**(dict(ca=ca, common_name="postgres", dns_names=["postgres"]) | overrides)))
    return declare(build)


@pytest.fixture(scope="module")
def issued() -> list[dict]:
    return _issue(ip_addresses=["127.0.0.1"])


def test_every_key_uses_the_baseline_algorithm_and_curve(issued):
    keys = of_type(issued, "tls:index/privateKey:PrivateKey")
    assert len(keys) == 2
    assert all(k["inputs"]["algorithm"] == TLS.key_algorithm and k["inputs"]["ecdsaCurve"] == TLS.ecdsa_curve
               for k in keys)


def test_the_ca_is_a_ca_with_the_baseline_lifetime(issued):
    ca = one(issued, "tls:index/selfSignedCert:SelfSignedCert")
    assert ca["isCaCertificate"] is True and ca["validityPeriodHours"] == TLS.ca_validity_hours
    assert "cert_signing" in ca["allowedUses"]


def test_server_certificate_lifetime_renewal_usage_and_sans(issued):
    cert = one(issued, "tls:index/locallySignedCert:LocallySignedCert")
    assert cert["validityPeriodHours"] == TLS.cert_validity_hours
    assert cert["earlyRenewalHours"] == TLS.cert_early_renewal_hours
    assert "server_auth" in cert["allowedUses"] and "client_auth" not in cert["allowedUses"]
    request = one(issued, "tls:index/certRequest:CertRequest")
    assert request["dnsNames"] == ["postgres"] and request["ipAddresses"] == ["127.0.0.1"]


def test_client_certificate_for_node_mtls_needs_no_sans():
    cert = one(_issue(usage="client", dns_names=[]), "tls:index/locallySignedCert:LocallySignedCert")
    assert "client_auth" in cert["allowedUses"] and "server_auth" not in cert["allowedUses"]


WEAKENINGS = [
    ("longer certificate", dict(validity_hours=TLS.cert_validity_hours + 1)),
    ("server without SANs", dict(dns_names=[])),
    ("wildcard name", dict(dns_names=["*.rae.internal"])),
    ("unknown usage", dict(usage="code_signing")),
]


@pytest.mark.parametrize("what, overrides", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_weaker_certificates_are_refused(what, overrides):
    with pytest.raises(BaselineViolation, match="A.8.24"):
        _issue(**overrides)


def test_a_longer_lived_ca_is_refused():
    with pytest.raises(BaselineViolation, match="A.8.24"):
        declare(lambda: PrivateCa("ca", PrivateCaArgs(validity_hours=TLS.ca_validity_hours * 2)))
