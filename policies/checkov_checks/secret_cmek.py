"""RAE-SEC-001: a Secret Manager secret is encrypted with a customer-managed key."""

from checkov.common.models.enums import CheckCategories

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class SecretCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-SEC-001"
    supported = ("google_secret_manager_secret",)
    category = CheckCategories.ENCRYPTION

    def passes(self, conf) -> bool:
        replicas = attr(conf, "replication", "user_managed", "replicas") or []
        replicas = replicas if isinstance(replicas, list) else [replicas]
        return bool(attr(conf, "replication", "auto", "customer_managed_encryption", "kms_key_name")
                    or (replicas and all(attr(r, "customer_managed_encryption", "kms_key_name") for r in replicas)))


check = SecretCustomerManagedKey()
