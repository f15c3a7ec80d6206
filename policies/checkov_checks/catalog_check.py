"""The shape every custom check shares: id, name and controls from the catalog; a predicate on the resource."""

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.catalog import RULES
from posture import Unknown


def model_result(found) -> CheckResult:
    """A posture model's judge(...) as a check result: any violation fails; undecided only is never a pass
    (checkov's UNKNOWN where it has one, else a failure)."""
    messages = [message for _name, _requirement, message in found]
    if any(not isinstance(message, Unknown) for message in messages):
        return CheckResult.FAILED
    return getattr(CheckResult, "UNKNOWN", CheckResult.FAILED) if messages else CheckResult.PASSED


def attr(conf, *path):
    """conf["a"][0]["b"][0]...: checkov wraps every Terraform value in a list; None where a step is missing."""
    value = conf
    for step in path:
        while isinstance(value, list) and len(value) == 1 and not isinstance(value[0], str):
            value = value[0]
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
    return value


class CatalogCheck(BaseResourceCheck):
    """Subclasses set `rule_id`, `supported` (Terraform types) and implement `passes(conf) -> bool`."""

    rule_id: str
    supported: tuple[str, ...]
    category = CheckCategories.GENERAL_SECURITY

    def __init__(self):
        rule = RULES[self.rule_id]
        super().__init__(name=f"{rule.title} [ISO 27001:2022 {', '.join(rule.controls)}]", id=self.rule_id,
                         categories=[self.category], supported_resources=self.supported)

    def scan_resource_conf(self, conf):
        return CheckResult.PASSED if self.passes(conf) else CheckResult.FAILED

    def passes(self, conf) -> bool:
        raise NotImplementedError
