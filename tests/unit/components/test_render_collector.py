"""The renderer's collector tuning (components/render.py `_tune_collector`) changes how fast a graph renders, never
which graph: each program below is rendered by render_program and by the same recorder at CPython's default collector
settings, and both graphs must be equal resource by resource (inputs, secrets and their paths, unknown outputs,
`protect`, dynamic providers). The SDK registers resources from a thread pool; the renderer sorts them by URN, so
two renderings of one program list them alike (the plans the gate keeps as artifacts compare line by line)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from components.render import SECRET_MARKER, UNKNOWN_MARKER, render_program
from tests.unit.components.test_stacks import GCP_CONFIG

REPO = Path(__file__).resolve().parents[3]
INSECURE = REPO / "tests" / "fixtures" / "insecure"

# What the renderer's own process does, minus the collector tuning.
_DEFAULT_COLLECTOR = """
import gc, json, sys
from pathlib import Path
from components.render import run_under_mocks
assert gc.get_threshold() == (700, 10, 10), gc.get_threshold()
program, stack, project, reveal = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "reveal"
config = json.loads(sys.stdin.read())
graph_out, sys.stdout = sys.stdout, sys.stderr
resources = run_under_mocks(Path(program), stack, config, project, reveal)
json.dump(resources, graph_out)
"""

PROGRAMS = {
    "the gcp stack (components, secrets, protect)": (REPO, "gcp", GCP_CONFIG),
    "raw pulumi-docker (a secret, a dynamic provider, unknown outputs)":
        (INSECURE / "pulumi_docker", "ci", {}),
    "raw pulumi-gcp (protect unset and set to False)":
        (INSECURE / "pulumi_gcp", "ci", {"gcp:project": "insecure-corpus", "gcp:region": "europe-west4"}),
}


def _project_name(project: Path) -> str:
    return next(line.split(":", 1)[1].strip() for line in (project / "Pulumi.yaml").read_text().splitlines()
                if line.startswith("name:"))


def _at_default_collector(project: Path, stack: str, config: dict, reveal: bool) -> list[dict]:
    completed = subprocess.run(
        [sys.executable, "-c", _DEFAULT_COLLECTOR, str(project / "__main__.py"), stack, _project_name(project),
         "reveal" if reveal else "mask"],
        input=json.dumps(config), capture_output=True, text=True, cwd=project, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(REPO)])})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def _by_urn(graph: list[dict]) -> dict[str, dict]:
    keyed = {resource["urn"]: resource for resource in graph}
    assert len(keyed) == len(graph), "two resources share a URN: the comparison would hide one"
    return keyed


@pytest.mark.parametrize("reveal", [True, False], ids=["secrets revealed (the gate)", "secrets masked"])
@pytest.mark.parametrize("program", PROGRAMS, ids=list(PROGRAMS))
def test_tuned_collector_renders_the_same_graph(program, reveal):
    project, stack, config = PROGRAMS[program]
    tuned = _by_urn(render_program(project, stack, config, reveal_secrets=reveal))
    default = _by_urn(_at_default_collector(project, stack, config, reveal))
    assert tuned.keys() == default.keys()
    differing = [urn for urn in tuned if tuned[urn] != default[urn]]
    assert not differing, f"{len(differing)} resources differ, e.g. {differing[0]}"


def test_the_compared_graphs_hold_what_could_differ():
    """The programs above exercise every part of a record the tuning could disturb, so the equality means something."""
    docker = render_program(INSECURE / "pulumi_docker", "ci", {}, reveal_secrets=False)
    gcp = render_program(*PROGRAMS["the gcp stack (components, secrets, protect)"])
    text = json.dumps(docker)
    assert any(resource["secrets"] for resource in docker) and SECRET_MARKER in text
    assert UNKNOWN_MARKER in text
    assert any(resource.get("provider") for resource in docker)
    assert {resource["options"]["protect"] for resource in gcp if "options" in resource} == {True, False}
    assert any(not resource["custom"] for resource in gcp)


def test_two_renderings_of_a_program_list_its_resources_in_one_order():
    first, second = (render_program(*PROGRAMS["the gcp stack (components, secrets, protect)"]) for _ in range(2))
    urns = [resource["urn"] for resource in first]
    assert urns == sorted(urns) and len(urns) > 20
    assert [resource["urn"] for resource in second] == urns
