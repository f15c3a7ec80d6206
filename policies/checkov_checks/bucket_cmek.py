"""RAE-GCS-001: a Cloud Storage bucket is encrypted with a customer-managed key."""

from checkov.common.models.enums import CheckCategories

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class BucketCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-GCS-001"
    supported = ("google_storage_bucket",)
    category = CheckCategories.ENCRYPTION

    def passes(self, conf) -> bool:
        return bool(attr(conf, "encryption", "default_kms_key_name"))


check = BucketCustomerManagedKey()
