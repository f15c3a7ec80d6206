"""Declare components under Pulumi mocks and get back what they registered (shared by these unit tests)."""

import pulumi
import pulumi.runtime

from components.render import GraphMocks, _record_classes

MOCKS = GraphMocks(project="unit-project")
_record_classes(MOCKS)  # as the gate's renderer does: each resource's class and options (protect) are recorded


def declare(build, config: dict | None = None) -> list[dict]:
    """Run `build()` under mocks (stack "unit") and return the resources it registered, components included.

    + build: a function that declares resources; an exception it raises propagates
    + config: flat "namespace:key" config for this run
    """
    pulumi.runtime.set_all_config(dict(config or {}))
    # Mocks are process-global and other suites set their own: take them back for every declaration.
    pulumi.runtime.set_mocks(MOCKS, project="rae-hardening", stack="unit", preview=False)
    start = len(MOCKS.resources)

    @pulumi.runtime.test
    def run():
        build()

    run()
    return MOCKS.resources[start:]


def of_type(resources: list[dict], type_token: str) -> list[dict]:
    return [resource for resource in resources if resource["type"] == type_token]


def one(resources: list[dict], type_token: str) -> dict:
    """The inputs of the single resource of this type."""
    found = of_type(resources, type_token)
    assert len(found) == 1, f"expected one {type_token}, found {len(found)}: {[r['name'] for r in found]}"
    return found[0]["inputs"]


def is_secret(value) -> bool:
    """A secret as the mock monitor sees it: the serialized secret envelope."""
    return isinstance(value, dict) and "4dabf18193072939515e22adb298388d" in value
