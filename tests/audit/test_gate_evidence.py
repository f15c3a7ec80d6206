"""The policy gate's real result on this repository becomes audit evidence, control by control."""

import json

import pytest

from tests.audit.test_live_audit import audit

pytestmark = pytest.mark.integration


def test_gate_findings_are_evidence_with_their_controls(repository_gate, out_dir, tmp_path):
    _, gate_report, _ = repository_gate
    saved = tmp_path / "gate.json"
    saved.write_text(json.dumps(gate_report))
    code, report, stderr = audit(out_dir / "gate", "--no-containers", "--gate-json", str(saved))
    gate_items = [e for e in report["evidence"] if e["source"] == "gate"]
    assert len(gate_items) == len(gate_report["findings"]) > 0
    failed = {(f["resource"], f["rule_id"]) for f in gate_report["findings"] if f["status"] == "failed"}
    assert {(e["subject"].removeprefix("gate/"), e["check"]) for e in gate_items if e["status"] == "fail"} == failed
    finding = gate_report["findings"][0]
    item = next(e for e in gate_items if e["check"] == finding["rule_id"] and e["subject"] == f"gate/{finding['resource']}")
    assert item["controls"] == [c for c in finding["controls"]]
    soa = {row["control"]: row for row in report["controls"]}
    assert all(soa[c]["implementation"] in ("designed, not observed", "observed") for c in finding["controls"])
    assert all(soa[c]["implementation"] == "designed, not observed" for c in soa if soa[c]["evidence"])  # gate only
    waived = any(f["status"] == "waived" for f in gate_report["findings"])
    assert code == (1 if failed else 2 if any(f["status"] == "unknown" for f in gate_report["findings"])
                    else 3 if waived else 0)
    if waived:  # a waived finding is an accepted risk, listed with its expiry, never a pass
        assert report["summary"]["waivers"] and all(w["expires"] for w in report["summary"]["waivers"])
        assert any(e["status"] == "risk-accepted" for e in gate_items)
