"""RAE-CTR-003: a docker_container drops every capability and adds none back."""

from baseline import CONTAINER
from policies.checkov_checks.catalog_check import CatalogCheck, attr


def _names(value) -> set[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return {str(item).upper() for item in items}


class DockerContainerCapabilities(CatalogCheck):
    rule_id = "RAE-CTR-003"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        drops, adds = _names(attr(conf, "capabilities", "drop")), _names(attr(conf, "capabilities", "add"))
        return set(CONTAINER.cap_drop) <= drops and adds <= set(CONTAINER.cap_add_allowed)


check = DockerContainerCapabilities()
