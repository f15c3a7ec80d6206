"""RAE-TLS-001: a load balancer SSL policy is RESTRICTED with a TLS 1.3 minimum."""

from checkov.common.models.enums import CheckCategories

from baseline import TLS
from policies.checkov_checks.catalog_check import CatalogCheck, attr


class SslPolicyTls13(CatalogCheck):
    rule_id = "RAE-TLS-001"
    supported = ("google_compute_ssl_policy",)
    category = CheckCategories.NETWORKING

    def passes(self, conf) -> bool:
        return (attr(conf, "profile") == TLS.gcp_ssl_policy_profile
                and attr(conf, "min_tls_version") == TLS.gcp_min_tls_version)


check = SslPolicyTls13()
