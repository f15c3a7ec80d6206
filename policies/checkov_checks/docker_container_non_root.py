"""RAE-CTR-001: a docker_container runs as a numeric, non-root uid:gid."""

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class DockerContainerNonRoot(CatalogCheck):
    rule_id = "RAE-CTR-001"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        ids = str(attr(conf, "user") or "").split(":")
        return all(part.isdigit() and int(part) != 0 for part in ids)


check = DockerContainerNonRoot()
