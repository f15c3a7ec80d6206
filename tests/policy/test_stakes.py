"""A value that differs from the baseline in a way that is not simply weaker is judged on its merits, naming what
is at stake, never just "differs from the baseline"."""

import pytest

from policies.rules.gcp import sql_flags
from tests.policy.cases import broken


def flags_with(name: str, value: str) -> list[str]:
    sql = "gcp:sql/databaseInstance:DatabaseInstance"
    props = broken(sql, {})
    props["settings"]["databaseFlags"] = [f if f["name"] != name else {"name": name, "value": value}
                                          for f in props["settings"]["databaseFlags"]]
    return list(sql_flags(props))


@pytest.mark.parametrize("value, stake, control", [
    ("all", "memory contents into Cloud Logging", "A.8.11"),
    ("ddl,role,write,read", "memory contents into Cloud Logging", "A.8.11"),
    ("ddl,role", "drops 'write'", "A.8.15"),
    ("ddl,role,write,misc", "buries the audit trail", "A.8.15"),
])
def test_pgaudit_log_says_what_is_at_stake(value, stake, control):
    [message] = flags_with("pgaudit.log", value)
    assert stake in message and control in message and "differ from the baseline" not in message


def test_the_baseline_value_holds():
    assert flags_with("pgaudit.log", "ddl,role,write") == []


def test_another_flag_names_why_it_is_set():
    [message] = flags_with("log_connections", "off")
    assert "log_connections = 'off' instead of 'on'" in message and "CIS" in message
