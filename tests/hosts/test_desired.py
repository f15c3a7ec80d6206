"""The desired host state derived from the baseline, checked without a host: paramiko can still connect,
the firewall file keeps other tables, the encryption findings name the problem."""

import paramiko
import pytest

from baseline import LUKS, SSH, BaselineViolation, require
from hosts import desired
from hosts.connection import node, problems
from hosts.operations.harden import _audit_canonical, luks_findings, nftables_expected, nftables_text
from hosts.operations.packages import derived_security_mirror, has_security_suite

OPENSSH_9_2_KEX = ["sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
                   "curve25519-sha256@libssh.org", "diffie-hellman-group14-sha256"]


@pytest.mark.parametrize("keyword, paramiko_offers", [
    ("kexalgorithms", paramiko.Transport._preferred_kex),
    ("ciphers", paramiko.Transport._preferred_ciphers),
    ("macs", paramiko.Transport._preferred_macs),
    ("hostkeyalgorithms", paramiko.Transport._preferred_keys),
])
def test_every_sshd_list_keeps_a_choice_paramiko_speaks(keyword, paramiko_offers):
    settings = desired.sshd_settings(OPENSSH_9_2_KEX)
    assert set(settings[keyword].split(",")) & set(paramiko_offers), (keyword, settings[keyword])


def test_post_quantum_kex_only_where_openssh_offers_it():
    assert desired.kex_algorithms(OPENSSH_9_2_KEX)[0].startswith("sntrup761")
    assert "mlkem768x25519-sha256" not in desired.kex_algorithms(OPENSSH_9_2_KEX)
    assert desired.kex_algorithms(["curve25519-sha256@libssh.org"]) == list(SSH.kex_classical)


def test_sshd_config_has_no_include_and_only_ed25519_host_key():
    text = desired.sshd_config_text(OPENSSH_9_2_KEX)
    assert "Include" not in text
    assert [line for line in text.splitlines() if line.startswith("HostKey")] == ["HostKey /etc/ssh/ssh_host_ed25519_key"]


def test_nftables_file_never_flushes_the_ruleset():
    text = nftables_text("harden", "drop", ("tailscale0",), {"tailscale0": [5432]}, True)
    assert "flush ruleset" not in text
    assert 'iifname "tailscale0" tcp dport 22 accept' in text and "policy drop;" in text
    assert nftables_expected(("tailscale0",), {"tailscale0": [5432]}, True, "drop")["accepts"] == [
        "tailscale0:22", "tailscale0:5432"]


def test_auditctl_listing_form_of_a_syscall_rule():
    assert _audit_canonical("-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules") == \
        _audit_canonical("-a always,exit -F arch=b64 -S init_module,delete_module,finit_module -F key=modules")


def test_unencrypted_data_path_is_a_violation_naming_the_controls():
    plain = {"postgres": {"path": "/srv/plain/postgres", "source": "/dev/vdc", "crypt_name": None, "type": None,
                          "cipher": None, "key_bits": None, "device": None}}
    problems = luks_findings(plain)
    assert problems == ["postgres (/srv/plain/postgres on /dev/vdc) is not on dm-crypt"]
    with pytest.raises(BaselineViolation, match=r"A\.8\.24.*A\.7\.10"):
        require(not problems, "; ".join(problems), LUKS.controls("required_for"))
    weak = {"swap:/dev/vda2": {**plain["postgres"], "crypt_name": "swap", "type": "LUKS2", "cipher": "aes-cbc-essiv",
                               "key_bits": 256}}
    assert "aes-cbc-essiv" in luks_findings(weak)[0]


def _connected_with(data: dict) -> dict:
    """The SSH connector's data as pyinfra derives it from host data (its defaults for keys not given)."""
    from pyinfra.connectors.ssh import connector_data_meta

    return {key: data.get(key, meta.default) for key, meta in connector_data_meta.items()}


def test_the_inventory_builder_carries_the_connection_policy():
    name, data = node("node1", "node1.tailnet", key="~/.ssh/id_ed25519", known_hosts="~/.ssh/known_hosts_node1",
                      harden_scope="node")
    assert name == "node1" and data["harden_scope"] == "node"
    assert problems(_connected_with(data), data) == []


@pytest.mark.parametrize("weakening, expected_problem, control", [
    ({"ssh_strict_host_key_checking": None}, "ssh_strict_host_key_checking is 'accept-new'", "A.8.20"),
    ({"ssh_strict_host_key_checking": "no"}, "ssh_strict_host_key_checking is 'no'", "A.8.20"),
    ({"ssh_known_hosts_file": None}, "ssh_known_hosts_file is not set", "A.8.20"),
    ({"ssh_key": None}, "ssh_key is not set", "A.8.5"),
    ({"ssh_password": "hunter2"}, "ssh_password is set", "A.5.17"),
    ({"ssh_forward_agent": True}, "ssh_forward_agent is on", "A.8.20"),
    ({"ssh_paramiko_connect_kwargs": {"allow_agent": True}}, "overrides allow_agent", "A.8.5"),
    ({"_temp_dir": "/tmp/user/0"}, "_temp_dir is '/tmp/user/0'", "A.8.9"),
])
def test_connection_weaker_than_the_policy_is_named_with_its_control(weakening, expected_problem, control):
    _, data = node("node1", "node1.tailnet", key="~/.ssh/id_ed25519", known_hosts="~/.ssh/known_hosts_node1")
    data = {key: value for key, value in {**data, **weakening}.items() if value is not None}
    found = problems(_connected_with(data), data)
    assert len(found) == 1, found
    problem, controls = found[0]
    assert expected_problem in problem and control in controls
    assert "hunter2" not in problem  # a secret is never echoed


def test_security_suite_found_or_derived_from_the_debian_source():
    main = {"type": "deb", "url": "http://mirror.example/debian", "distribution": "bookworm", "components": ["main"]}
    security = {**main, "url": "http://mirror.example/debian-security", "distribution": "bookworm-security"}
    assert not has_security_suite([main], "bookworm")
    assert has_security_suite([main, security], "bookworm")
    assert not has_security_suite([main, {**security, "type": "deb-src"}], "bookworm")
    assert derived_security_mirror([main]) == "http://mirror.example/debian-security"
    assert derived_security_mirror([{**main, "url": "http://mirror.example/ubuntu"}]) is None
