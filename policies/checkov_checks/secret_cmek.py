"""RAE-SEC-001: a Secret Manager secret is encrypted with a customer-managed key (posture.secret states it)."""

from checkov.common.models.enums import CheckCategories

import posture.secret as secret
from policies.checkov_checks.catalog_check import CatalogCheck, model_result


class SecretCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-SEC-001"
    supported = ("google_secret_manager_secret",)
    category = CheckCategories.ENCRYPTION

    def scan_resource_conf(self, conf):
        return model_result(secret.judge(secret.from_terraform("google_secret_manager_secret", conf), self.rule_id))


check = SecretCustomerManagedKey()
