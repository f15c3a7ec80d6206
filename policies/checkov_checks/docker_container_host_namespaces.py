"""RAE-CTR-009: a docker_container shares no host namespace."""

from policies.checkov_checks.catalog_check import CatalogCheck, attr


class DockerContainerHostNamespaces(CatalogCheck):
    rule_id = "RAE-CTR-009"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        modes = ("network_mode", "pid_mode", "ipc_mode", "userns_mode")
        return not any(str(attr(conf, mode) or "").lower() == "host" for mode in modes)


check = DockerContainerHostNamespaces()
