"""Rules on pulumi-docker containers and volumes: each catalog rule asks the container posture model."""

import posture.container as posture
from policies.rules import ResourceRule

CONTAINER_TYPE = "docker:index/container:Container"
VOLUME_TYPE = "docker:index/volume:Volume"


def _container_rule(rule_id: str):
    def check(props, context: posture.Context = posture.Context()):
        for _name, _requirement, message in posture.judge(posture.from_pulumi("container", props), context, rule_id):
            yield message
    check.__name__ = f"container_{rule_id.lower().replace('-', '_')}"
    return check


def volume_host_path(props, context: posture.Context = posture.Context()):
    for _name, _requirement, message in posture.judge(posture.from_volume("volume", props), context, "RAE-CTR-010"):
        yield message


RULES = tuple(ResourceRule(rule_id, (CONTAINER_TYPE,), _container_rule(rule_id), contextual=True)
              for rule_id in posture.RULE_IDS) + (
    ResourceRule("RAE-CTR-010", (VOLUME_TYPE,), volume_host_path, contextual=True),)
