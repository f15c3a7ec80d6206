"""The repository itself: our own stacks hold every CrossGuard rule, and `harden policy .` passes.

When another engineer's file breaks a rule, this fails naming the rule and file: fix the file or
add a reviewed, expiring waiver; never weaken the rule.
"""

import pytest

from policies.gate import GateResult, crossguard_findings, render_stack, stack_configs
from policies.report import apply_waivers, load_waivers
from posture.container import declared_context
from tests.fixtures.gate import REPO

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stack", ["local", "gcp"])
def test_our_stack_holds_every_crossguard_rule(stack):
    """Every rule holds, but for the repository's reviewed, expiring waivers (policies/waivers.yaml)."""
    config = stack_configs(REPO)[stack]
    resources = render_stack(REPO, stack, config)
    result = GateResult(target=stack, findings=crossguard_findings(resources, stack, "__main__.py",
                                                                   declared_context(config, str(REPO))))
    apply_waivers(result, load_waivers(REPO / "policies" / "waivers.yaml"))
    failed = [f"{f.rule_id} {f.resource}: {f.message}" for f in result.findings if f.status == "failed"]
    assert not failed, "\n".join(failed)


def test_gate_passes_on_the_repository(repository_gate):
    """No failure; an unknown exits 2. The only unknown allowed here is the dependency audit on a machine whose
    vulnerability service is unreachable (these machines have no route to it): CI, which reaches it, exits 0."""
    exit_code, report, stderr = repository_gate
    failed = [f"{f['rule_id']} ({f['source']}) {f['resource']} {f['file']}:{f['line']}: {f['message']}"
              for f in report["findings"] if f["status"] == "failed"]
    unknown = [f for f in report["findings"] if f["status"] == "unknown"]
    unreachable = [f for f in unknown if f["rule_id"] == "RAE-DEP-001" and "could not be audited" in f["message"]]
    assert not failed, "\n".join(failed) or stderr[-2000:]
    assert unknown == unreachable, [f"{f['rule_id']} {f['resource']}: {f['message']}" for f in unknown]
    assert exit_code == (2 if unknown else 0), stderr[-2000:]


def test_repository_scan_excludes_the_insecure_corpus(repository_gate):
    _, report, _ = repository_gate
    assert not [f for f in report["findings"] if any(corpus in f["file"] + f["resource"] for corpus in
                                                     ("fixtures/insecure", "fixtures/parity", "fixtures/clean"))]
