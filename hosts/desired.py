"""The state a node should be in, derived from the baseline: what the deploys write and hosts.verify expects.

Pure functions of baseline values (and of what the node's OpenSSH offers), so hardening and
verification cannot disagree about the target.
"""

import hashlib
import json

from baseline import AUDITD, DEPLOY, DOCKER_DAEMON, JOURNALD, PACKAGES, SSH, SYSCTL, TIME, Section
from baseline import host as node_baseline

# baseline.SSH settings that map one-to-one onto an sshd keyword (sshd keywords are case-insensitive)
SSHD_KEYWORDS = (
    "permit_root_login", "password_authentication", "kbd_interactive_authentication", "permit_empty_passwords",
    "pubkey_authentication", "max_auth_tries", "max_sessions", "login_grace_time", "client_alive_interval",
    "client_alive_count_max", "tcp_keep_alive", "allow_tcp_forwarding", "allow_agent_forwarding", "allow_stream_local_forwarding",
    "x11_forwarding", "permit_tunnel", "gateway_ports", "permit_user_environment", "log_level", "strict_modes",
    "use_dns", "compression", "print_motd", "banner",
)
BANNER_TEXT = ("Authorized access only. Activity on this system is monitored and logged; unauthorized use "
               "is reported and may be prosecuted.\n")


def kex_algorithms(offered: list) -> list:
    """Post-quantum hybrids the node's OpenSSH offers, then the one classical KEX paramiko speaks."""
    return [name for name in SSH.kex_preferred if name in offered] + list(SSH.kex_classical)


def sshd_settings(offered_kex: list) -> dict:
    """sshd keyword (lower case, as `sshd -T` prints it) -> value, for every setting the baseline fixes."""
    settings = {key.replace("_", ""): str(getattr(SSH, key)) for key in SSHD_KEYWORDS}
    settings["kexalgorithms"] = ",".join(kex_algorithms(offered_kex))
    settings["ciphers"] = ",".join(SSH.ciphers)
    settings["macs"] = ",".join(SSH.macs)
    settings["hostkeyalgorithms"] = ",".join(SSH.host_key_algorithms)
    settings["pubkeyacceptedalgorithms"] = ",".join(SSH.host_key_algorithms)
    return settings


def sshd_config_text(offered_kex: list) -> str:
    """The complete sshd_config. No Include: a stray sshd_config.d drop-in cannot override the baseline."""
    lines = ["# Written by hosts/deploys/ssh.py from baseline.SSH; local edits are reverted on the next deploy.",
             *(f"HostKey /etc/ssh/ssh_host_{key_type}_key" for key_type in SSH.host_key_types)]
    lines += [f"{keyword} {value}" for keyword, value in sshd_settings(offered_kex).items()]
    lines += ["UsePAM yes", "AcceptEnv LANG LC_*", "Subsystem sftp internal-sftp"]
    return "\n".join(lines) + "\n"


def sysctl_values() -> dict:
    """Every sysctl key the baseline fixes, IPv4 forwarding included."""
    return {**SYSCTL.values, "net.ipv4.ip_forward": SYSCTL.ipv4_forwarding}


def audit_rules() -> tuple:
    """The auditd rules, as auditctl takes them."""
    return tuple(AUDITD.rules)


def auditd_conf() -> dict:
    """auditd.conf settings."""
    return {"max_log_file": str(AUDITD.max_log_file_mb), "num_logs": str(AUDITD.num_logs),
            "max_log_file_action": "ROTATE", "space_left_action": AUDITD.space_left_action.upper()}


def journald_conf_text() -> str:
    """The journald drop-in."""
    return ("[Journal]\n"
            f"Storage={JOURNALD.storage}\nSystemMaxUse={JOURNALD.system_max_use}\n"
            f"MaxRetentionSec={JOURNALD.max_retention_sec}\nCompress={JOURNALD.compress}\n"
            f"ForwardToSyslog={JOURNALD.forward_to_syslog}\n")


def timesyncd_conf_text() -> str:
    """The timesyncd drop-in."""
    return f"[Time]\nNTP={' '.join(TIME.ntp_servers)}\n"


def unattended_upgrades_text() -> str:
    """apt configuration that installs security updates daily."""
    origins = "".join(f'    "{origin}";\n' for origin in PACKAGES.unattended_origins)
    return ('APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
            f"Unattended-Upgrade::Origins-Pattern {{\n{origins}}};\n")


def docker_daemon_json() -> str:
    """/etc/docker/daemon.json."""
    return json.dumps(DOCKER_DAEMON.config, indent=2, sort_keys=True) + "\n"


def baseline_digest() -> str:
    """SHA-256 over every node setting of the baseline (the deploy's own access policy aside)."""
    sections = [section for section in vars(node_baseline).values()
                if isinstance(section, Section) and section is not DEPLOY]
    values = [(section.name, [(key, setting.value) for key, setting in section.items()]) for section in sections]
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=sorted).encode()).hexdigest()


def completion_text() -> str:
    """What the deploy's last operation writes: the baseline a run last brought the node to, completely."""
    return f"baseline {baseline_digest()}\n"
