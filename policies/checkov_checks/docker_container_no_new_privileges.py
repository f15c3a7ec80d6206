"""RAE-CTR-004: a docker_container sets no-new-privileges and keeps seccomp/AppArmor confinement."""

from baseline import CONTAINER
from policies.checkov_checks.catalog_check import CatalogCheck, attr


class DockerContainerNoNewPrivileges(CatalogCheck):
    rule_id = "RAE-CTR-004"
    supported = ("docker_container",)

    def passes(self, conf) -> bool:
        options = attr(conf, "security_opts") or []
        options = [str(option).replace(" ", "") for option in (options if isinstance(options, list) else [options])]
        return (all(required in options for required in CONTAINER.security_opts)
                and not any(option in CONTAINER.forbidden_security_opts for option in options))


check = DockerContainerNoNewPrivileges()
