"""RAE-RUN-001: a Cloud Run service (v1 or v2) is not reachable from the internet directly (posture.serverless
states it)."""

from checkov.common.models.enums import CheckCategories

import posture.serverless as serverless
from policies.checkov_checks.catalog_check import CatalogCheck, model_result


class CloudRunIngress(CatalogCheck):
    rule_id = "RAE-RUN-001"
    supported = ("google_cloud_run_v2_service", "google_cloud_run_service")
    category = CheckCategories.NETWORKING

    def scan_resource_conf(self, conf):
        # checkov sets entity_type before it calls this; else a v1 service is the one with template.spec.
        resource_type = getattr(self, "entity_type", None) or (
            "google_cloud_run_service" if _has_spec(conf) else "google_cloud_run_v2_service")
        return model_result(serverless.judge(serverless.from_terraform(resource_type, resource_type, conf), self.rule_id))


def _has_spec(conf) -> bool:
    template = conf.get("template")
    while isinstance(template, list) and template:
        template = template[0]
    return isinstance(template, dict) and "spec" in template


check = CloudRunIngress()
