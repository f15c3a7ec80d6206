"""RAE-CTR-002: a docker_container has a read-only root filesystem."""

from baseline import CONTAINER
from policies.checkov_checks.catalog_check import CatalogCheck, attr


class DockerContainerReadOnly(CatalogCheck):
    rule_id = "RAE-CTR-002"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        return attr(conf, "read_only") is CONTAINER.read_only_rootfs


check = DockerContainerReadOnly()
