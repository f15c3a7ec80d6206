"""The pull-request workflow cannot be weakened by the pull request it judges, and one gate run writes every format."""

import argparse
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "pull-request.yml").read_text())


def _steps(job: str) -> list[dict]:
    return WORKFLOW["jobs"][job]["steps"]


def test_the_gate_job_holds_no_id_token():
    assert "id-token" not in WORKFLOW["jobs"]["policy-gate"]["permissions"]
    assert "id-token" not in WORKFLOW.get("permissions", {})


def test_the_gate_comes_from_the_base_branch_and_judges_the_pull_request():
    checkouts = {step["with"]["path"]: step["with"] for step in _steps("policy-gate")
                 if step.get("uses", "").startswith("actions/checkout")}
    assert "pull_request.base.sha" in checkouts["gate"]["ref"] and "pull_request.head.sha" in checkouts["pr"]["ref"]
    assert all(c["persist-credentials"] is False for c in checkouts.values())
    runs = [step for step in _steps("policy-gate") if "harden policy" in step.get("run", "")]
    assert len(runs) == 1, "one gate run writes every format"
    assert runs[0]["working-directory"] == "gate" and ".venv/bin/harden policy ../pr" in runs[0]["run"]
    assert "--output-dir" in runs[0]["run"] and "--allow-unknown" not in runs[0]["run"]


def test_credentials_never_meet_pull_request_code():
    preview = WORKFLOW["jobs"]["preview"]
    assert preview["if"] == "github.event_name == 'push'" and "id-token" in preview["permissions"]


def test_codeowners_guard_waivers_and_exclusions():
    owners = (REPO / ".github" / "CODEOWNERS").read_text()
    for path in ("/policies/waivers.yaml", "/.checkov.yaml", "/.github/", "/policies/", "/posture/"):
        assert any(line.split()[0] == path for line in owners.splitlines() if line and not line.startswith("#"))


def test_one_run_writes_every_format(tmp_path, monkeypatch, capsys):
    import policies.gate
    from harden import gate_cli
    from tests.policy.test_report import result
    monkeypatch.setattr(policies.gate, "run_gate", lambda *args, **kwargs: result())
    args = argparse.Namespace(path=tmp_path, format="table", output=None, output_dir=tmp_path / "out", severity="low",
                              waivers=None, artifacts=tmp_path / "a", engine_json=None, allow_unknown=False)
    assert gate_cli.run(args) == 1
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == sorted(gate_cli.OUTPUT_FILES.values())
    assert "RAE-CTR-008" in (tmp_path / "out" / "gate.sarif").read_text() and "RAE-CTR-008" in capsys.readouterr().out
