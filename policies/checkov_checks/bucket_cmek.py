"""RAE-GCS-001: a Cloud Storage bucket is encrypted with a customer-managed key (posture.bucket states it)."""

from checkov.common.models.enums import CheckCategories

import posture.bucket as bucket
from policies.checkov_checks.catalog_check import CatalogCheck, model_result


class BucketCustomerManagedKey(CatalogCheck):
    rule_id = "RAE-GCS-001"
    supported = ("google_storage_bucket",)
    category = CheckCategories.ENCRYPTION

    def scan_resource_conf(self, conf):
        return model_result(bucket.judge(bucket.from_terraform("google_storage_bucket", conf), self.rule_id))


check = BucketCustomerManagedKey()
