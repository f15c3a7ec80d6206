"""TLS material from a private CA (pulumi-tls): server certificates with SANs, client certificates for mTLS.

Key type, curve, lifetimes and early renewal come from baseline.TLS; a caller can shorten a lifetime,
never lengthen it. Private keys are Pulumi secrets (pulumi-tls marks them so) and reach containers only
as host secret files.
"""

import ipaddress
from dataclasses import dataclass, field
from typing import Sequence

import pulumi
import pulumi_tls as tls

from baseline import TLS, require


_USES = {
    "server": ["digital_signature", "key_encipherment", "server_auth"],
    "client": ["digital_signature", "key_encipherment", "client_auth"],
}


def _private_key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    return tls.PrivateKey(name, algorithm=TLS.key_algorithm, ecdsa_curve=TLS.ecdsa_curve,
                          opts=pulumi.ResourceOptions(parent=parent))


@dataclass
class PrivateCaArgs:
    """+ organization: subject O of the CA
    + validity_hours: at most baseline.TLS.ca_validity_hours
    """

    organization: str = "RAE"
    validity_hours: int = TLS.ca_validity_hours


class PrivateCa(pulumi.ComponentResource):
    """A private certificate authority whose key lives only in the (encrypted) stack state.

    Example: ca = PrivateCa("ca", PrivateCaArgs()); ca.cert_pem
    """

    cert_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]

    def __init__(self, name: str, args: PrivateCaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:PrivateCa", name, None, opts)
        require(0 < args.validity_hours <= TLS.ca_validity_hours,
                f"CA validity {args.validity_hours} h exceeds the baseline's {TLS.ca_validity_hours} h",
                TLS.controls("ca_validity_hours"))
        self.key = _private_key(f"{name}-key", self)
        self.cert = tls.SelfSignedCert(
            f"{name}-cert", private_key_pem=self.key.private_key_pem, is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.organization} private CA",
                                                  organization=args.organization),
            validity_period_hours=args.validity_hours, early_renewal_hours=TLS.cert_early_renewal_hours,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=pulumi.ResourceOptions(parent=self))
        self.cert_pem = self.cert.cert_pem
        self.private_key_pem = self.key.private_key_pem
        self.register_outputs({"cert_pem": self.cert_pem})


@dataclass
class CertificateArgs:
    """+ ca: the issuing PrivateCa
    + common_name: subject CN
    + usage: "server" (needs SANs) or "client" (mTLS between nodes)
    + dns_names, ip_addresses: subject alternative names
    + validity_hours: at most baseline.TLS.cert_validity_hours
    """

    ca: PrivateCa
    common_name: str
    usage: str = "server"
    dns_names: Sequence[str] = field(default_factory=tuple)
    ip_addresses: Sequence[str] = field(default_factory=tuple)
    validity_hours: int = TLS.cert_validity_hours


class Certificate(pulumi.ComponentResource):
    """A server or client certificate signed by the private CA, renewed early per the baseline.

    Example: Certificate("postgres-tls", CertificateArgs(ca, "postgres", dns_names=["postgres", "localhost"]))
    """

    cert_pem: pulumi.Output[str]
    private_key_pem: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Certificate", name, None, opts)
        controls = TLS.controls("cert_validity_hours")
        require(args.usage in _USES, f"certificate {name}: usage {args.usage!r} is not one of {sorted(_USES)}",
                controls)
        require(0 < args.validity_hours <= TLS.cert_validity_hours,
                f"certificate {name}: validity {args.validity_hours} h exceeds the baseline's "
                f"{TLS.cert_validity_hours} h", controls)
        require(args.usage == "client" or bool(args.dns_names) or bool(args.ip_addresses),
                f"certificate {name}: a server certificate needs subject alternative names (clients verify them)",
                TLS.controls("key_algorithm"))
        for address in args.ip_addresses:
            ipaddress.ip_address(address)
        require(not any("*" in dns for dns in args.dns_names),
                f"certificate {name}: wildcard names {list(args.dns_names)} widen what a stolen key can impersonate",
                TLS.controls("key_algorithm"))
        self.key = _private_key(f"{name}-key", self)
        request = tls.CertRequest(
            f"{name}-csr", private_key_pem=self.key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=args.common_name, organization="RAE"),
            dns_names=list(args.dns_names), ip_addresses=list(args.ip_addresses),
            opts=pulumi.ResourceOptions(parent=self))
        self.cert = tls.LocallySignedCert(
            f"{name}-cert", cert_request_pem=request.cert_request_pem, ca_cert_pem=args.ca.cert_pem,
            ca_private_key_pem=args.ca.private_key_pem, validity_period_hours=args.validity_hours,
            early_renewal_hours=TLS.cert_early_renewal_hours, allowed_uses=_USES[args.usage],
            opts=pulumi.ResourceOptions(parent=self))
        self.cert_pem = self.cert.cert_pem
        self.private_key_pem = self.key.private_key_pem
        self.register_outputs({"cert_pem": self.cert_pem})
