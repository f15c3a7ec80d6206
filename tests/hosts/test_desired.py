"""The desired host state derived from the baseline, checked without a host: paramiko can still connect,
the firewall file keeps other tables, the encryption findings name the problem."""

import base64
import json
import subprocess

import paramiko
import pytest
from pyinfra.api import OperationError

from baseline import (ACCOUNTS, AUDITD, BOOTLOADER, FILESYSTEM, FIREWALL, JOURNALD, KERNEL_MODULES, LUKS, PACKAGES, SSH, TIME,
                      BaselineViolation, require)
from hosts import desired
from hosts.connection import node, problems
from hosts.operations.harden import _audit_canonical, luks_findings, nftables_text
from hosts.facts.node import TimeServices
from hosts.verify import account_checks, audit_checks, mount_checks, package_checks, time_checks
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


FORWARD = {"forward_policy": FIREWALL.forward_policy, "container_interfaces": FIREWALL.container_interfaces,
           "published_interfaces": FIREWALL.published_interfaces}


def test_nftables_file_never_flushes_the_ruleset():
    text = nftables_text("harden", "drop", ("tailscale0",), {"tailscale0": [5432]}, True, **FORWARD)
    assert "flush ruleset" not in text
    assert 'iifname "tailscale0" tcp dport 22 accept' in text and "policy drop;" in text
    assert 'iifname "tailscale0" tcp dport 5432 accept' in text


def test_forward_chain_drops_all_but_containers_and_published_ports_on_declared_interfaces():
    text = nftables_text("harden", "drop", ("eth0",), {}, True, **FORWARD)
    forward = text.split("chain forward {", 1)[1].split("}", 1)[0].strip().splitlines()
    assert [line.strip() for line in forward] == [
        "type filter hook forward priority filter; policy drop;",
        "ct state established,related accept", "ct state invalid drop",
        'iifname "docker0" accept', 'iifname "br-*" accept', 'iifname "tailscale0" ct status dnat accept']
    assert FIREWALL.forward_policy == "drop" and "eth0" not in FIREWALL.published_interfaces


@pytest.mark.parametrize("bad", ['eth0" accept; #', "a-name-longer-than-15", ""])
def test_an_interface_name_nft_cannot_quote_safely_is_refused(bad):
    with pytest.raises(OperationError, match="A.8.20"):
        nftables_text("harden", "drop", ("eth0",), {}, True, **{**FORWARD, "published_interfaces": (bad,)})


def test_journal_upload_names_the_collector_and_mutual_tls_files():
    text = desired.journal_upload_text("https://collector.example:19532")
    assert "URL=https://collector.example:19532\n" in text
    for key, path in (("ServerKeyFile", "key"), ("ServerCertificateFile", "certificate"),
                      ("TrustedCertificateFile", "trusted_ca")):
        assert f"{key}={JOURNALD.upload_tls_paths[path]}\n" in text
    assert "=all" not in text


@pytest.mark.parametrize("url", ["http://collector:19532", "https://collector:19532\nTrustedCertificateFile=all",
                                 "collector:19532", None, ""])
def test_journal_upload_refuses_a_collector_url_in_clear_or_with_more_than_host_and_port(url):
    with pytest.raises(BaselineViolation, match="A.8.15"):
        desired.journal_upload_text(url)


def test_auditctl_listing_form_of_a_syscall_rule():
    assert _audit_canonical("-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k modules") == \
        _audit_canonical("-a always,exit -F arch=b64 -S init_module,delete_module,finit_module -F key=modules")
    # as Debian 12's auditctl -l lists CIS rules: euid!=uid swapped, unset as -1, "-S all" on path rules
    assert _audit_canonical("-a always,exit -F arch=b32 -C euid!=uid -F auid!=unset -S execve -k user_emulation") == \
        _audit_canonical("-a always,exit -F arch=b32 -S execve -C uid!=euid -F auid!=-1 -F key=user_emulation")
    assert _audit_canonical("-a always,exit -F path=/usr/bin/kmod -F perm=x -F auid>=1000 -F auid!=unset -k m") == \
        _audit_canonical("-a always,exit -S all -F path=/usr/bin/kmod -F perm=x -F auid>=1000 -F auid!=-1 -F key=m")
    assert _audit_canonical("-a always,exit -F arch=b64 -S mount -k mounts") != \
        _audit_canonical("-a always,exit -F arch=b32 -S mount -k mounts")


def test_every_syscall_rule_covers_both_abis_and_immutability_comes_last():
    syscall_rules = [rule for rule in AUDITD.rules if " -S " in rule]
    for rule in syscall_rules:
        other = rule.replace("arch=b64", "arch=b32") if "arch=b64" in rule else rule.replace("arch=b32", "arch=b64")
        assert other in AUDITD.rules, rule
    assert desired.audit_finalize_text() == "-e 2\n"
    assert desired.AUDIT_FINALIZE_PATH > desired.AUDIT_RULES_PATH  # augenrules merges in name order
    assert not any(" -e " in f" {rule} " for rule in AUDITD.rules)
    assert desired.auditd_conf()["max_log_file_action"] == "KEEP_LOGS"
    assert all(parameter in desired.grub_dropin_text() for parameter in ("audit=1", "audit_backlog_limit=8192"))


def _loaded() -> list:
    """The baseline's rules as a locked kernel lists them."""
    return [_audit_canonical(rule) for rule in AUDITD.rules]


def _failed(checks) -> list:
    return [check["check"] for check in checks if check["status"] == "fail"]


CMDLINE = ["root=/dev/vda ro audit=1 audit_backlog_limit=8192"]


def test_audit_verifier_passes_a_locked_kernel_with_every_rule():
    assert _failed(audit_checks(_loaded(), {"enabled": "2"}, CMDLINE)) == []


def test_audit_verifier_fails_on_auditing_turned_off_or_left_changeable():
    assert _failed(audit_checks(_loaded(), {"enabled": "0"}, CMDLINE)) == ["audit enabled"]  # auditctl -e 0
    assert _failed(audit_checks(_loaded(), {"enabled": "1"}, CMDLINE)) == ["audit enabled"]
    assert _failed(audit_checks(_loaded(), {}, CMDLINE)) == ["audit enabled"]  # unreadable status never passes


def test_audit_verifier_fails_on_a_missing_and_on_a_changed_rule():
    loaded = _loaded()
    missing = [rule for rule in loaded if rule != "-w /etc/shadow -p wa -k identity"]
    assert _failed(audit_checks(missing, {"enabled": "2"}, CMDLINE)) == ["audit rule -w /etc/shadow -p wa -k identity"]
    changed = [rule.replace("-p wa -k identity", "-p r -k identity") if "/etc/shadow" in rule else rule
               for rule in loaded]
    assert _failed(audit_checks(changed, {"enabled": "2"}, CMDLINE)) == [
        "audit rule -w /etc/shadow -p wa -k identity", "audit rules not in the baseline"]


def test_audit_verifier_fails_without_the_kernel_parameters():
    assert _failed(audit_checks(_loaded(), {"enabled": "2"}, ["root=/dev/vda ro audit=1"])) == [
        "kernel command line audit_backlog_limit=8192"]


def test_vfat_is_blacklisted_unless_fstab_mounts_the_efi_partition():
    assert "vfat" in KERNEL_MODULES.blacklist
    assert "vfat" in desired.module_blacklist({"/": "ext4"})
    assert "vfat" in desired.module_blacklist({"/srv/usb": "vfat"})  # only the declared boot paths count
    kept = desired.module_blacklist({"/": "ext4", "/boot/efi": "vfat"})
    assert "vfat" not in kept and set(KERNEL_MODULES.blacklist) - set(kept) == {"vfat"}


def test_sshd_accepts_fido_keys_certificates_and_only_the_allowed_groups():
    settings = desired.sshd_settings(OPENSSH_9_2_KEX)
    accepted = settings["pubkeyacceptedalgorithms"].split(",")
    assert {"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-ed25519"} <= set(accepted)
    assert "ssh-rsa" not in accepted and settings["allowgroups"] == "sudo"
    assert settings["trustedusercakeys"] == "none"
    assert desired.sshd_settings(OPENSSH_9_2_KEX, user_ca=True)["trustedusercakeys"] == SSH.trusted_user_ca_path
    assert f"trustedusercakeys {SSH.trusted_user_ca_path}\n" in desired.sshd_config_text(OPENSSH_9_2_KEX, user_ca=True)


def test_user_ca_must_be_public_keys():
    assert desired.user_ca_text(["ssh-ed25519  AAAAC3Nza ops-ca"]) == "ssh-ed25519 AAAAC3Nza ops-ca\n"
    with pytest.raises(BaselineViolation, match=r"not an OpenSSH public key.*A\.8\.5"):
        desired.user_ca_text(["-----BEGIN OPENSSH PRIVATE KEY-----"])


def test_sudoers_dropin_sets_use_pty_and_the_log_file():
    text = desired.sudoers_text()
    assert "Defaults use_pty\n" in text and 'Defaults logfile="/var/log/sudo.log"\n' in text
    assert desired.sudo_defaults() == ["use_pty", "logfile=/var/log/sudo.log"]


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


# TimeServices' output as the fact's command prints it: on a hardened node, beside chrony installed and running,
# and where systemd is not PID 1 (this development container: systemctl prints nothing for is-active)
TIMESYNCD_RUNNING = ["systemd-timesyncd active enabled", "chrony inactive", "ntpsec inactive", "ntp inactive",
                     "openntpd inactive", "synchronised yes"]


def _time(lines, dropin=None):
    checks = time_checks(TimeServices().process(lines),
                         desired.timesyncd_conf_text().splitlines() if dropin is None else dropin)
    return {check["check"]: check for check in checks}


def test_time_verifier_passes_timesyncd_running_synchronised_with_the_baseline_servers():
    checks = _time(TIMESYNCD_RUNNING)
    assert {name: check["status"] for name, check in checks.items()} == {
        f"time service {TIME.service}": "pass", "other time daemons active": "pass",
        f"clock synchronised by {TIME.service}": "pass", "time servers": "pass"}
    assert all("A.8.17" in check["controls"] for check in checks.values())


def test_time_verifier_fails_an_unsynchronised_clock_a_rival_daemon_and_other_servers():
    unsynchronised = _time(TIMESYNCD_RUNNING[:-1] + ["synchronised no"])
    assert unsynchronised[f"clock synchronised by {TIME.service}"]["status"] == "fail"
    rival = _time(["systemd-timesyncd inactive disabled", "chrony active enabled", "synchronised no"])
    assert rival[f"time service {TIME.service}"]["actual"] == "inactive, disabled"
    assert rival["other time daemons active"] == {**rival["other time daemons active"], "actual": ["chrony"],
                                                  "status": "fail"}
    assert _time(TIMESYNCD_RUNNING, ["[Time]", "NTP=pool.example"])["time servers"]["status"] == "fail"
    assert _time(TIMESYNCD_RUNNING, [])["time servers"]["status"] == "fail"  # no drop-in: Debian's default pool


def test_time_verifier_says_unknown_where_systemd_does_not_answer():
    checks = _time(["systemd-timesyncd  enabled", "chrony", "synchronised no"])
    assert checks[f"time service {TIME.service}"]["status"] == "unknown"
    assert checks["other time daemons active"]["status"] == "unknown"


def test_package_verifier_names_missing_tools_and_present_clear_text_services():
    installed = {package: {"1"} for package in PACKAGES.required + PACKAGES.integrity_tools}
    assert _failed(package_checks(installed)) == []
    del installed["aide"]
    installed["telnetd"] = {"0.17"}
    checks = {check["check"]: check for check in package_checks(installed)}
    assert _failed(checks.values()) == ["integrity and audit tools installed", "legacy clear-text packages absent"]
    assert "aide" not in checks["integrity and audit tools installed"]["actual"]
    assert checks["legacy clear-text packages absent"]["actual"] == ["telnetd"]
    assert "A.8.34" in checks["integrity and audit tools installed"]["controls"]


def _hardened_account_files() -> dict:
    files = {path: [f"{key}{separator}{value}" if value != "" else key for key, value in getattr(ACCOUNTS, name).items()]
             for name, (path, separator) in desired.ACCOUNT_CONFIG_FILES.items()}
    files[desired.ACCOUNT_CONFIG_FILES["login_defs"][0]].insert(0, "# UMASK 022")  # a comment is not in force
    files[desired.UMASK_PROFILE_PATH] = desired.umask_profile_text().splitlines()
    files[desired.SESSION_PROFILE_PATH] = desired.session_profile_text().splitlines()
    files.update({path: text.splitlines() for path, text in desired.core_dump_files().items()})
    files[desired.SU_PAM_PATH] = ["auth       sufficient pam_rootok.so", desired.su_restriction_line()]
    return files


def test_account_verifier_reads_the_files_as_the_deploy_writes_them():
    assert _failed(account_checks(_hardened_account_files())) == []


def test_account_verifier_fails_a_weakened_setting_a_commented_su_rule_and_a_missing_file():
    files = _hardened_account_files()
    login_defs = desired.ACCOUNT_CONFIG_FILES["login_defs"][0]
    files[login_defs] = [line.replace("PASS_MAX_DAYS 60", "PASS_MAX_DAYS 99999") for line in files[login_defs]]
    files[desired.SU_PAM_PATH] = ["# " + desired.su_restriction_line()]
    del files[desired.ACCOUNT_CONFIG_FILES["faillock"][0]]
    checks = {check["check"]: check for check in account_checks(files)}
    assert _failed(checks.values()) == [f"{login_defs} settings", "/etc/security/faillock.conf settings",
                                        "su restricted to a group"]
    assert checks[f"{login_defs} settings"]["actual"]["PASS_MAX_DAYS"] == "99999"
    assert checks["su restricted to a group"]["actual"] == "anyone"
    assert "A.8.5" in checks["/etc/security/faillock.conf settings"]["controls"]


def test_mount_verifier_wants_every_option_on_every_tree():
    mounted = {target: set(options.split(",")) | {"rw", "relatime"} for target, options in desired.mount_options().items()}
    assert _failed(mount_checks(mounted)) == []
    mounted["/tmp"].discard("noexec")
    del mounted["/var/tmp"]  # not a mount of its own: nothing keeps executables out
    checks = {check["check"]: check for check in mount_checks(mounted)}
    assert _failed(checks.values()) == ["mount options of /tmp", "mount options of /var/tmp"]
    assert checks["mount options of /proc"]["expected"] == [f"hidepid={FILESYSTEM.proc_hidepid}"]


def _grub_hash(iterations: int = 10000) -> str:
    """A hash in grub-mkpasswd-pbkdf2's format (PBKDF2-HMAC-SHA512, 64-byte salt and key, upper-case hex)."""
    import hashlib
    import secrets

    salt = secrets.token_bytes(64)
    key = hashlib.pbkdf2_hmac("sha512", b"correct horse", salt, iterations, 64)
    return f"grub.pbkdf2.sha512.{iterations}.{salt.hex().upper()}.{key.hex().upper()}"


def _hash_file(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / f"grub-{len(list(tmp_path.iterdir()))}.pbkdf2"
    path.write_text(text + "\n")
    path.chmod(mode)
    return {desired.GRUB_PASSWORD_HOST_DATA: str(path)}


def test_grub_password_hash_is_read_only_from_a_private_file_in_grub_format(tmp_path):
    good = _grub_hash()
    assert desired.grub_password_hash(_hash_file(tmp_path, good)) == good
    cases = {"is not set": {}, "cannot be read": {desired.GRUB_PASSWORD_HOST_DATA: str(tmp_path / "missing")},
             "mode 0644": _hash_file(tmp_path, good, 0o644),
             "does not hold one grub.pbkdf2.sha512": _hash_file(tmp_path, "hunter2"),
             "fewer than": _hash_file(tmp_path, _grub_hash(1000))}
    for problem, data in cases.items():
        with pytest.raises(BaselineViolation) as raised:
            desired.grub_password_hash(data)
        assert problem in str(raised.value) and "A.8.5" in str(raised.value), raised.value
        assert good not in str(raised.value)


def _grub_cfg(password_hash: str, users: str = '"grubadmin"', entry_class: str = desired.GRUB_LINUX_CLASS_UNRESTRICTED):
    classes = entry_class.split('"')[1]
    return ["### BEGIN /etc/grub.d/01_harden_password ###", f"set superusers={users}",
            f"password_pbkdf2 grubadmin {password_hash}",
            f"menuentry 'Debian GNU/Linux' {classes} $menuentry_id_option 'gnulinux-simple-x' {{",
            "submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-x' {",
            f"\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0 (recovery mode)' --class gnu-linux {{"]


def test_grub_password_findings_compare_the_configured_hash_without_showing_it():
    configured, other = _grub_hash(), _grub_hash()
    script = desired.grub_password_script(configured)
    assert script.startswith("#!/bin/sh\n") and f"password_pbkdf2 {BOOTLOADER.superuser} {configured}" in script
    assert desired.grub_password_findings(_grub_cfg(configured), configured) == []
    findings = {
        "other hash": desired.grub_password_findings(_grub_cfg(other), configured),
        "no superusers": desired.grub_password_findings([line for line in _grub_cfg(configured)
                                                        if not line.startswith("set superusers")], configured),
        "other superuser": desired.grub_password_findings(_grub_cfg(configured, '"root"'), configured),
        "restricted default": desired.grub_password_findings(_grub_cfg(configured, entry_class=desired.GRUB_LINUX_CLASS),
                                                             configured),
        "no grub.cfg": desired.grub_password_findings([], configured),
    }
    assert findings["other hash"] == ["grubadmin's password is not the configured one"]
    assert findings["no superusers"] == ["superusers: none set"]
    assert findings["other superuser"] == ['superusers: set superusers="root"']
    assert len(findings["restricted default"]) == 1 and "unattended reboot" in findings["restricted default"][0]
    assert findings["no grub.cfg"] == ["grub.cfg missing, empty or unreadable"]
    assert not any(configured in problem or other in problem for problems in findings.values() for problem in problems)


def test_boot_loader_check_is_unknown_without_a_hash_and_fails_on_another(tmp_path):
    from hosts.verify import BOOT_LOADER_CHECK, boot_loader_check

    configured = _grub_hash()
    data = _hash_file(tmp_path, configured)
    assert boot_loader_check(_grub_cfg(configured), data)["status"] == "pass"
    other = boot_loader_check(_grub_cfg(_grub_hash()), data)
    assert other["status"] == "fail" and other["check"] == BOOT_LOADER_CHECK and configured not in str(other)
    assert set(other["controls"]) >= {"A.8.5", "A.5.30"}
    assert boot_loader_check(_grub_cfg(configured), {})["status"] == "unknown"


def test_usbguard_rules_are_the_baseline_allow_list_and_declared_rules_must_name_a_device():
    from baseline import USB

    text = desired.usbguard_rules_text({"usbguard_allow_rules": ["allow id 0781:5581 serial \"4C530001\""]})
    rules = [line for line in text.splitlines() if not line.startswith("#")]
    assert rules == [*USB.allow_rules, 'allow id 0781:5581 serial "4C530001"']
    assert not any(rule.startswith(("block", "reject")) for rule in rules)  # blocking is the daemon's implicit target
    for bad in ("allow", "allow  ", 'allow via-port "1-1"', "block id 1:2", "allow id 1:2\nallow",
                'allow id 1:2 if !rule-applied'):
        with pytest.raises(BaselineViolation, match="usbguard_allow_rules.*A.7.10"):
            desired.usbguard_rules_text({"usbguard_allow_rules": [bad]})


def test_usbguard_checks_fail_on_a_weakened_daemon_a_loose_mode_or_a_stopped_service():
    from hosts.verify import USB_POLICY_CHECK, USB_SERVICE_CHECK, usb_checks

    daemon, rules = desired.usbguard_daemon_text().splitlines(), desired.usbguard_rules_text({}).splitlines()
    modes = {desired.USBGUARD_CONF: "0600", desired.USBGUARD_RULES: "0600"}
    running = {"usbguard.service": {"active": "active", "enabled": "enabled"}}

    def statuses(units=running, daemon=daemon, rules=rules, modes=modes, data=None):
        return {check["check"]: check["status"] for check in usb_checks(units, daemon, rules, modes, data or {})}

    assert statuses() == {USB_SERVICE_CHECK: "pass", USB_POLICY_CHECK: "pass"}
    weakened = [line.replace("ImplicitPolicyTarget=block", "ImplicitPolicyTarget=allow") for line in daemon]
    assert statuses(daemon=weakened)[USB_POLICY_CHECK] == "fail"
    assert statuses(rules=rules + ["allow"])[USB_POLICY_CHECK] == "fail"
    assert statuses(rules=[])[USB_POLICY_CHECK] == "fail"
    assert statuses(modes={**modes, desired.USBGUARD_RULES: "0644"})[USB_POLICY_CHECK] == "fail"
    assert statuses(units={"usbguard.service": {"active": "inactive", "enabled": "enabled"}})[USB_SERVICE_CHECK] == "fail"
    assert statuses(data={"usbguard_allow_rules": ["allow"]})[USB_POLICY_CHECK] == "unknown"


def test_session_profile_and_core_dump_files_are_verified():
    profile = desired.session_profile_text()
    assert "    TMOUT=900\n    readonly TMOUT\n" in profile and profile.endswith("fi\nulimit -c 0\n")
    # a login shell, and a nested one reading the profile again: TMOUT is 900 and read-only, no error
    nested = subprocess.run(["bash", "-c", f"{profile}\n{profile}\n(TMOUT=0) 2>/dev/null && echo lifted; echo $TMOUT"],
                            capture_output=True, text=True)
    assert (nested.stdout.strip(), nested.stderr) == ("900", ""), nested
    files = _hardened_account_files()
    files[desired.SESSION_PROFILE_PATH] = ["TMOUT=900", "export TMOUT"]  # a user could lift it
    files[desired.COREDUMP_DROPIN_PATH] = ["[Coredump]", "Storage=external"]
    checks = {check["check"]: check for check in account_checks(files)}
    assert _failed(checks.values()) == ["login shells' idle timeout and core limit", "core dumps off"]
    assert "A.7.7" in checks["login shells' idle timeout and core limit"]["controls"]
    assert "A.8.12" in checks["core dumps off"]["controls"]


REMAPPED_INFO = {"SecurityOptions": ["name=seccomp,profile=default", "name=userns"],
                 "DockerRootDir": "/var/lib/docker/231072.231072", "LiveRestoreEnabled": True,
                 "LoggingDriver": "json-file"}
SUBORDINATE = ("dockremap:231072:65536\n", "dockremap:231072:65536\n")


def test_daemon_json_states_the_user_namespace_remap():
    from baseline import DOCKER_DAEMON

    written = json.loads(desired.docker_daemon_json())
    assert written["userns-remap"] == DOCKER_DAEMON.userns_remap == "default"
    assert {key: written[key] for key in DOCKER_DAEMON.config} == DOCKER_DAEMON.config


def test_docker_daemon_checks_read_the_running_engine_and_fail_closed():
    from hosts.facts.node import DockerEngine
    from hosts.verify import docker_daemon_checks

    engine = {"installed": True, "config": json.loads(desired.docker_daemon_json()), "info": REMAPPED_INFO,
              "subuid": SUBORDINATE[0], "subgid": SUBORDINATE[1]}

    def statuses(**changes):
        return {check["check"]: check["status"] for check in docker_daemon_checks({**engine, **changes})}

    assert set(statuses().values()) == {"pass"} and len(statuses()) == 4
    remap = {check["check"]: check for check in docker_daemon_checks(engine)}["docker engine user-namespace remap"]
    assert remap["actual"] == "container root is host 231072:231072 (65536 ids)"
    plain = {**REMAPPED_INFO, "SecurityOptions": ["name=seccomp,profile=default"], "DockerRootDir": "/var/lib/docker"}
    assert statuses(info=plain)["docker engine user-namespace remap"] == "fail"
    assert statuses(subuid="")["docker engine user-namespace remap"] == "fail"  # a remap whose range is not there
    assert statuses(info=None)["docker engine user-namespace remap"] == "unknown"
    config = {key: value for key, value in engine["config"].items() if key != "userns-remap"}
    assert statuses(config=config)["docker daemon.json"] == "fail"
    assert statuses(config=None)["docker daemon.json"] == "fail"
    assert [check["status"] for check in docker_daemon_checks({"installed": False})] == ["not applicable"]

    fact = DockerEngine()
    assert fact.process(["absent"]) == {"installed": False}
    encoded = base64.b64encode(json.dumps(REMAPPED_INFO).encode()).decode()
    parsed = fact.process(["present", "/etc/docker/daemon.json ", "/etc/subuid " + base64.b64encode(
        SUBORDINATE[0].encode()).decode(), "/etc/subgid ", "info " + encoded])
    assert parsed == {"installed": True, "config": None, "info": REMAPPED_INFO, "subuid": SUBORDINATE[0],
                      "subgid": ""}
