"""The coverage figure counts a control as observed only where a runtime or host check read a state."""

from benchmarks.coverage_bench import union


def _row(control, implementation):
    return {"control": control, "implementation": implementation}


def _item(source, status, *controls):
    return {"source": source, "status": status, "controls": list(controls)}


def test_unknown_and_not_applicable_host_checks_are_recounted_as_no_observation():
    # a report written before the audit stopped counting them marks all three "observed"
    old = {"controls": [_row("A.8.2", "observed"), _row("A.8.24", "observed"), _row("A.5.15", "observed"),
                        _row("A.6.3", "not assessed")],
           "evidence": [_item("host", "fail", "A.8.2"), _item("host", "not-applicable", "A.8.24"),
                        _item("host", "unknown", "A.5.15"), _item("gate", "pass", "A.5.15")]}
    gate = {"controls": [_row("A.8.24", "designed, not observed")], "evidence": [_item("gate", "pass", "A.8.24")]}
    figure = union([old, gate])
    assert figure["observed_controls"] == ["A.8.2"]
    assert figure["designed_only"] == 2 and figure["manual"] == 1  # A.5.15 and A.8.24 designed; A.6.3 manual
