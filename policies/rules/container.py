"""Rules on pulumi-docker containers and volumes: each catalog rule asks the container posture model."""

import posture.container as posture
from policies.rules import ResourceRule

CONTAINER_TYPE = "docker:index/container:Container"
VOLUME_TYPE = "docker:index/volume:Volume"


def _container_rule(rule_id: str):
    def check(props, context: posture.Context = posture.Context(), name: str = ""):
        view = posture.from_pulumi(str(props.get("name") or name), props)
        for _name, _requirement, message in posture.judge(view, context, rule_id):
            yield message
    check.__name__ = f"container_{rule_id.lower().replace('-', '_')}"
    return check


def volume_host_path(props, context: posture.Context = posture.Context(), _name: str = ""):
    for _name, _requirement, message in posture.judge(posture.from_volume("volume", props), context, "RAE-CTR-010"):
        yield message


# RAE-CTR-005 reads the graph: pulumi-docker has no pids input, a pids-limit step elsewhere in the program sets it.
RULES = tuple(ResourceRule(rule_id, (CONTAINER_TYPE,), _container_rule(rule_id), contextual=True, per_field=True,
                           graph=rule_id == "RAE-CTR-005")
              for rule_id in posture.RULE_IDS) + (
    ResourceRule("RAE-CTR-010", (VOLUME_TYPE,), volume_host_path, contextual=True, per_field=True),)
