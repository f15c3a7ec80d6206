"""SSH outside Tailscale (FIREWALL.ssh_interfaces): the judgement the deploy and the verifier share, the reading of
the live nftables table, and the audit's listing of the exception a host declares."""

from datetime import date, timedelta

import jsonschema
import pytest

from harden.audit import hosts as audit_hosts
from harden.audit.evidence import Evidence
from hosts import desired
from hosts.verify import ssh_accepting_interfaces, ssh_interfaces_check
from tests.audit.test_report_unit import SCHEMA, _report

TODAY = date(2026, 12, 1)
EXCEPTION = {"interfaces": ["eth0"], "reason": "no Tailscale on the lab node", "owner": "platform-security",
             "expires": "2027-01-31"}
# `nft list table inet harden` as nft prints it, lines stripped: SSH on eth0 only
TABLE = ["table inet harden {", "chain input {", "type filter hook input priority filter; policy drop;",
         'iif "lo" accept', "ct state established,related accept", "ct state invalid drop",
         "meta l4proto { 1, 58 } limit rate 20/second accept", 'iifname "eth0" tcp dport 22 accept',
         'iifname "tailscale0" tcp dport 5432 accept', "}", "chain forward {",
         "type filter hook forward priority filter; policy drop;", 'iifname "docker0" accept', "}", "}"]


def _with(*rules, policy="drop"):
    table = [line.replace("policy drop", f"policy {policy}") if "hook input" in line else line for line in TABLE]
    return table[:8] + list(rules) + table[8:]


def test_tailscale_only_passes_and_nothing_else_does_without_an_exception():
    assert desired.ssh_interface_judgement(("tailscale0",), None, TODAY)[0] == "pass"
    status, why = desired.ssh_interface_judgement(("tailscale0", "eth0"), None, TODAY)
    assert status == "fail" and "SSH accepted on eth0, outside the baseline's tailscale0" in why
    assert "firewall_ssh_exception" in why
    assert desired.ssh_interface_judgement((), EXCEPTION, TODAY)[0] == "fail"  # unreachable node


def test_a_declared_exception_is_risk_accepted_with_its_terms():
    status, why = desired.ssh_interface_judgement(("eth0",), EXCEPTION, TODAY)
    assert status == "risk-accepted"
    assert "no Tailscale on the lab node (owner platform-security, expires 2027-01-31)" in why


@pytest.mark.parametrize("change, problem", [
    ({"interfaces": ["eth*"]}, "by exact name"),
    ({"interfaces": "eth0"}, "by exact name"),
    ({"interfaces": ["wlan0"]}, "it does not name eth0"),
    ({"owner": " "}, "a reason and an owner are required"),
    ({"reason": None}, "a reason and an owner are required"),
    ({"expires": "2026-11-30"}, "it expired 2026-11-30"),
    ({"expires": (TODAY + timedelta(days=181)).isoformat()}, "more than 180 days ahead"),
    ({"expires": "next year"}, "not a YYYY-MM-DD date"),
])
def test_an_exception_that_breaks_the_terms_covers_nothing(change, problem):
    status, why = desired.ssh_interface_judgement(("eth0",), {**EXCEPTION, **change}, TODAY)
    assert status == "fail" and problem in why


def test_the_live_table_is_read_fail_closed():
    assert ssh_accepting_interfaces(TABLE) == ["eth0"]
    assert ssh_accepting_interfaces(None) is None
    anywhere = desired.ANY_INTERFACE
    assert ssh_accepting_interfaces(_with("tcp dport 22 accept")) == [anywhere, "eth0"]
    assert ssh_accepting_interfaces(_with("ip saddr 10.0.0.0/8 accept")) == [anywhere, "eth0"]
    assert ssh_accepting_interfaces(_with(policy="accept")) == [anywhere, "eth0"]
    assert ssh_accepting_interfaces(_with('iifname { "a", "b" } tcp dport { 80, 22 } accept')) == ["a", "b", "eth0"]
    assert ssh_accepting_interfaces(_with('iifname "wlan0" tcp dport 1-1024 accept')) == ["eth0", "wlan0"]
    assert ssh_accepting_interfaces(_with("ct state new accept")) == [anywhere, "eth0"]
    # not SSH from the network: another port, another protocol, loopback, dropped
    assert ssh_accepting_interfaces(_with('iifname "wlan0" tcp dport 443 accept', 'iifname "wlan0" udp dport 22 accept',
                                          'iif "lo" tcp dport 22 accept', 'iifname "wlan0" tcp dport 22 drop')) == ["eth0"]


def test_the_verifier_check_names_what_it_read():
    accepted = ssh_interfaces_check(TABLE, EXCEPTION, TODAY)
    assert accepted["status"] == "risk-accepted" and accepted["actual"] == ["eth0"]
    assert accepted["expected"] == ["tailscale0"] and {"A.8.20", "A.5.36"} <= set(accepted["controls"])
    # an accept rule for SSH from anywhere: the exception names eth0 only
    assert ssh_interfaces_check(_with("tcp dport 22 accept"), EXCEPTION, TODAY)["status"] == "fail"
    missing = ssh_interfaces_check(None, EXCEPTION, TODAY)
    assert missing["status"] == "fail" and missing["actual"] == "table inet harden not loaded"


def test_the_audit_lists_the_hosts_exception_and_never_exits_0():
    check = ssh_interfaces_check(TABLE, EXCEPTION, TODAY)
    item = Evidence("host", "host/lab", check["check"], check["expected"], check["actual"],
                    audit_hosts._STATUS[check["status"]], tuple(check["controls"]), check["detail"])
    listed = audit_hosts.declared_exceptions([{"name": "lab", "data": {desired.SSH_EXCEPTION_KEY: EXCEPTION}},
                                              {"name": "plain", "data": {}}], [item], TODAY.isoformat())
    assert listed == [{"source": "host", "match": "host:host/lab:firewall ssh interfaces", "owner": "platform-security",
                       "expires": "2027-01-31", "reason": "no Tailscale on the lab node", "expired": False,
                       "applied_to": ["host:host/lab:firewall ssh interfaces"]}]
    report = _report([item], gate_waivers=listed)
    assert report["summary"]["exit_code"] == 3 and report["summary"]["waivers"] == listed
    assert {r["control"]: r["status"] for r in report["controls"]}["A.8.20"] == "risk-accepted"
    jsonschema.validate(report, SCHEMA)
