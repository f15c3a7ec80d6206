"""The gate's plan scans run in a checkov process started before the plan exists (policies/checkov_warm.py, through
policies.gate.WarmCheckov): it must report exactly what the `checkov` command reports on the same plan, with the
stack's declared context reaching our custom checks, and leave no process behind."""

import dataclasses
import json

import pytest

from policies.gate import CHECKOV_CHECKS, REPO, WarmCheckov, _checkov, render_stack
from policies.rules import graph_context
from policies.tfplan import to_plan
from posture.container import Context

PROGRAM = REPO / "tests" / "fixtures" / "insecure" / "pulumi_docker"
# A context that differs from the baseline's where the fixture can tell: a stack that declares 192.0.2.10 may publish
# a port there, which the baseline's addresses do not allow (fixture ctr-007-other-address).
DECLARED = Context(bind_addresses=(*Context().bind_addresses, "192.0.2.10"))


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    resources = render_stack(PROGRAM, "ci", {})
    path = tmp_path_factory.mktemp("warm") / "ci.plan.json"
    path.write_text(json.dumps(to_plan(resources)[0]))
    return path, graph_context(resources, DECLARED)


def _results(reports: list[dict]) -> list[tuple[str, list[str]]]:
    return [(report["check_type"], sorted(json.dumps(check, sort_keys=True) for key in
                                          ("failed_checks", "passed_checks", "skipped_checks")
                                          for check in report["results"][key])) for report in reports]


def _status(reports: list[dict], check_id: str, resource: str) -> str:
    return next(status for report in reports for status in ("failed_checks", "passed_checks")
                for check in report["results"][status]
                if check["check_id"] == check_id and check["resource"] == resource)


def test_a_warm_checkov_reports_what_the_checkov_command_reports(plan):
    path, context = plan
    arguments = ["-f", str(path), "--framework", "terraform_plan", "--external-checks-dir", str(CHECKOV_CHECKS)]
    warm = WarmCheckov(expected=1)
    try:
        started = warm._waiting[0][0]
        scanned = warm.scan(arguments, REPO, context)
    finally:
        warm.close()
    assert started.returncode == 0
    command = _checkov(arguments, REPO, context)
    assert _results(scanned) == _results(command)
    assert sum(len(checks) for _, checks in _results(scanned)) > 100
    # The declared context reached the custom checks of the warm process, not only the command's.
    assert dataclasses.asdict(context)["bind_addresses"][-1] == "192.0.2.10"
    assert _status(scanned, "RAE-CTR-007", "docker_container.ctr-007-other-address") == "passed_checks"
    assert _status(scanned, "RAE-CTR-007", "docker_container.ctr-007") == "failed_checks"


def test_processes_no_plan_reached_are_stopped():
    warm = WarmCheckov(expected=3, ahead=2)
    processes = [process for process, _ in warm._waiting]
    assert len(processes) == 2
    warm.close()
    assert all(process.poll() is not None for process in processes)
    assert not warm._waiting


def test_no_plan_starts_no_process():
    assert not WarmCheckov(expected=0)._waiting
