"""RAE-RUN-001: a Cloud Run v2 service is reached only through the internal load balancer."""

from checkov.common.models.enums import CheckCategories

from baseline import NETWORK
from policies.checkov_checks.catalog_check import CatalogCheck, attr


class CloudRunIngress(CatalogCheck):
    rule_id = "RAE-RUN-001"
    supported = ("google_cloud_run_v2_service",)
    category = CheckCategories.NETWORKING

    def passes(self, conf) -> bool:
        return attr(conf, "ingress") == NETWORK.cloud_run_ingress


check = CloudRunIngress()
