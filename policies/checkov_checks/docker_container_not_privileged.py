"""RAE-CTR-008: a docker_container is not privileged."""

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class DockerContainerNotPrivileged(CatalogCheck):
    rule_id = "RAE-CTR-008"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        return attr(conf, "privileged") is not True


check = DockerContainerNotPrivileged()
