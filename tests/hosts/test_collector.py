"""The log collector's units (hosts/collector.py) and the audit's reading of them (hosts.verify.collector_checks):
mutual TLS and a retention of at least the baseline's days pass; anything weaker fails; what is missing or not
understood is unknown. The collector really receiving over TLS is proven in tests/hosts/test_node1_vm.py."""

import pytest

from baseline import JOURNALD, BaselineViolation
from hosts import collector
from hosts.verify import collector_checks

TLS = {"key": "/etc/harden/collector.key", "certificate": "/etc/harden/collector.crt", "trusted_ca": "/etc/harden/nodes-ca.crt"}


def _write(directory, **replace):
    units = collector.collector_units(TLS, "/var/log/journal/remote")
    for name, text in units.items():
        for old, new in replace.get(name, ()):
            assert old in text, (name, old)
            text = text.replace(old, new)
        (directory / name).write_text(text)
    return directory


def _statuses(directory) -> dict:
    return {check["check"]: check["status"] for check in collector_checks(directory)}


def test_the_collector_as_rendered_passes_with_the_baseline_retention(tmp_path):
    checks = {check["check"]: check for check in collector_checks(_write(tmp_path))}
    assert {check["status"] for check in checks.values()} == {"pass"}, checks
    assert checks["log collector: retention"]["actual"] == f"{JOURNALD.collector_min_retention_days} days"
    assert "A.8.15" in checks["log collector: retention"]["controls"]
    assert checks["log collector: mutual TLS"]["actual"]["cafile"] == TLS["trusted_ca"]


@pytest.mark.parametrize(("unit", "old", "new", "check"), [
    (collector.TLS_FRONT_UNIT, "verify=1", "verify=0", "log collector: mutual TLS"),
    (collector.TLS_FRONT_UNIT, f"openssl-min-proto-version={collector.MIN_TLS}", "openssl-min-proto-version=TLS1.0",
     "log collector: mutual TLS"),
    (collector.RECEIVER_UNIT, "--listen-http=127.0.0.1:", "--listen-http=0.0.0.0:", "log collector: receiver on the loopback only"),
    (collector.VACUUM_UNIT, f"--vacuum-time={JOURNALD.collector_min_retention_days}d", "--vacuum-time=30d",
     "log collector: retention"),
    (collector.VACUUM_UNIT, f"--vacuum-time={JOURNALD.collector_min_retention_days}d", "--vacuum-time=51w",
     "log collector: retention"),
])
def test_a_weaker_collector_fails_the_check_at_stake(tmp_path, unit, old, new, check):
    statuses = _statuses(_write(tmp_path, **{unit: [(old, new)]}))
    assert statuses[check] == "fail", statuses
    assert list(statuses.values()).count("fail") == 1


def test_longer_retention_in_other_units_passes(tmp_path):
    old = f"--vacuum-time={JOURNALD.collector_min_retention_days}d"
    assert _statuses(_write(tmp_path, **{collector.VACUUM_UNIT: [(old, "--vacuum-time=2years")]}))[
        "log collector: retention"] == "pass"


@pytest.mark.parametrize("unit", [collector.RECEIVER_UNIT, collector.TLS_FRONT_UNIT, collector.VACUUM_UNIT])
def test_a_missing_unit_is_unknown_never_pass(tmp_path, unit):
    _write(tmp_path)
    (tmp_path / unit).unlink()
    statuses = _statuses(tmp_path)
    assert "unknown" in statuses.values() and "fail" not in statuses.values(), statuses


def test_a_retention_spelling_not_understood_is_unknown(tmp_path):
    old = f"--vacuum-time={JOURNALD.collector_min_retention_days}d"
    statuses = _statuses(_write(tmp_path, **{collector.VACUUM_UNIT: [(old, "--vacuum-time=1fortnight")]}))
    assert statuses["log collector: retention"] == "unknown"


def test_a_collector_without_the_nodes_ca_is_refused():
    with pytest.raises(BaselineViolation, match="trusted_ca") as refused:
        collector.tls_front_argv({**TLS, "trusted_ca": ""})
    assert "A.8.24" in str(refused.value)
