"""RAE-CTR-*: every container rule on Terraform `docker_container` and `docker_volume` resources, judged by the
container posture model (one check per catalog rule; the model, not this file, states the requirement)."""

import os

import posture.container as posture
from policies.checkov_checks.catalog_check import CatalogCheck, model_result


# What the judged stack declares (its data root, its bind address), as the gate passes it; else the baseline's.
CONTEXT = posture.Context.from_environment(os.environ)


def _name(conf) -> str:
    """The container's name, else the plan address's (the gate writes a Pulumi resource's name there): what a
    pids-limit step targets (posture.container.Context.pids_limited)."""
    name = conf.get("name")
    while isinstance(name, list) and len(name) == 1:
        name = name[0]
    return str(name or str(conf.get("__address__") or "").rpartition(".")[2])


class DockerContainerPosture(CatalogCheck):
    supported = ("docker_container",)

    def __init__(self, rule_id: str):
        self.rule_id = rule_id
        super().__init__()

    def scan_resource_conf(self, conf):
        view = posture.from_terraform(_name(conf), conf)
        return model_result(posture.judge(view, CONTEXT, self.rule_id))


class DockerVolumeHostPath(CatalogCheck):
    rule_id = "RAE-CTR-010"
    supported = ("docker_volume",)

    def scan_resource_conf(self, conf):
        view = posture.from_volume("docker_volume", conf, terraform=True)
        return model_result(posture.judge(view, CONTEXT, self.rule_id))


checks = [DockerContainerPosture(rule_id) for rule_id in posture.RULE_IDS] + [DockerVolumeHostPath()]
