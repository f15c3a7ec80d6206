"""The state a node should be in, derived from the baseline: what the deploys write and hosts.verify expects.

Pure functions of baseline values (and of what the node's OpenSSH offers, and the boot loader's password hash read
from the control node's file), so hardening and verification cannot disagree about the target.
"""

import hashlib
import hmac
import json
import re
import stat
from datetime import date
from pathlib import Path

from baseline import ACCOUNTS, AUDITD, BACKUP, BOOTLOADER, DEPLOY, DOCKER_DAEMON, FILESYSTEM, FIREWALL, JOURNALD, KERNEL_MODULES, PACKAGES, SSH, SUDO, SYSCTL, TIME, USB, BaselineViolation, Section
from baseline import exceptions
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


def sshd_settings(offered_kex: list, user_ca: bool = False) -> dict:
    """sshd keyword (lower case, as `sshd -T` prints it) -> value, for every setting the baseline fixes.

    + user_ca: an OpenSSH user CA is configured (host data ssh_user_ca_keys), so TrustedUserCAKeys names its file
    """
    settings = {key.replace("_", ""): str(getattr(SSH, key)) for key in SSHD_KEYWORDS}
    settings["kexalgorithms"] = ",".join(kex_algorithms(offered_kex))
    settings["ciphers"] = ",".join(SSH.ciphers)
    settings["macs"] = ",".join(SSH.macs)
    settings["hostkeyalgorithms"] = ",".join(SSH.host_key_algorithms)
    settings["pubkeyacceptedalgorithms"] = ",".join(SSH.user_key_algorithms)
    settings["allowgroups"] = " ".join(SSH.allow_groups)
    settings["trustedusercakeys"] = SSH.trusted_user_ca_path if user_ca else "none"
    return settings


def sshd_config_text(offered_kex: list, user_ca: bool = False) -> str:
    """The complete sshd_config. No Include: a stray sshd_config.d drop-in cannot override the baseline."""
    lines = ["# Written by hosts/deploys/ssh.py from baseline.SSH; local edits are reverted on the next deploy.",
             *(f"HostKey /etc/ssh/ssh_host_{key_type}_key" for key_type in SSH.host_key_types)]
    lines += [f"{keyword} {value}" for keyword, value in sshd_settings(offered_kex, user_ca).items()]
    lines += ["UsePAM yes", "AcceptEnv LANG LC_*", "Subsystem sftp internal-sftp"]
    return "\n".join(lines) + "\n"


# Host data declaring SSH on interfaces outside FIREWALL.ssh_interfaces: {"interfaces": [...], "reason", "owner",
# "expires": YYYY-MM-DD}, under the terms of baseline.exceptions (no wildcard, at most MAX_DAYS ahead)
SSH_EXCEPTION_KEY = "firewall_ssh_exception"
SSH_INTERFACES_CHECK = "firewall ssh interfaces"  # the verifier's check the exception covers (hosts.verify)
ANY_INTERFACE = "any interface"


def ssh_interface_judgement(interfaces, exception, today: date) -> tuple[str, str]:
    """How SSH accepted on `interfaces` stands against FIREWALL.ssh_interfaces: ("pass", why), ("risk-accepted", why)
    when the interfaces outside the setting are all named by a live declared exception, else ("fail", why). The
    deploy refuses a node whose host data is not a pass or risk-accepted; hosts.verify judges the live table by it.

    + interfaces: names SSH is accepted on (ANY_INTERFACE for a rule or policy that accepts it everywhere)
    + exception: the host data under SSH_EXCEPTION_KEY, or None
    """
    allowed = set(FIREWALL.ssh_interfaces)
    outside = sorted(set(interfaces) - allowed)
    if not interfaces:
        return "fail", "SSH is accepted on no interface: the node would be unreachable"
    if not outside:
        return "pass", f"SSH only on {', '.join(sorted(interfaces))}"
    where = f"SSH accepted on {', '.join(outside)}, outside the baseline's {', '.join(FIREWALL.ssh_interfaces)}"
    if exception is None:
        return "fail", (f"{where}, and no exception declared (host data {SSH_EXCEPTION_KEY}: interfaces, reason, "
                        f"owner, expires at most {exceptions.MAX_DAYS} days ahead)")
    if not isinstance(exception, dict):
        return "fail", f"{where}; host data {SSH_EXCEPTION_KEY} is not a mapping"
    named = exception.get("interfaces") or []
    if isinstance(named, str) or any(exceptions.GLOB.search(str(name)) for name in named):
        return "fail", f"{where}; the exception must list interfaces by exact name, not {named!r}"
    try:
        expires = exceptions.expiry(exception.get("expires"))
    except ValueError:
        return "fail", f"{where}; the exception's expires {exception.get('expires')!r} is not a YYYY-MM-DD date"
    problem = exceptions.terms_problem(exception.get("reason"), exception.get("owner"), expires, today)
    uncovered = [name for name in outside if name not in named]
    if problem or uncovered or expires < today:
        why = problem or (f"it does not name {', '.join(uncovered)}" if uncovered else f"it expired {expires}")
        return "fail", f"{where}; the declared exception does not cover it: {why}"
    return "risk-accepted", (f"{where}: declared exception ({SSH_EXCEPTION_KEY}): {exception['reason']} (owner "
                             f"{exception['owner']}, expires {expires.isoformat()})")


def ssh_interface_controls() -> tuple:
    return tuple(dict.fromkeys(FIREWALL.controls("ssh_interfaces") + exceptions.CONTROLS))


def sysctl_values() -> dict:
    """Every sysctl key the baseline fixes, IPv4 forwarding included."""
    return {**SYSCTL.values, "net.ipv4.ip_forward": SYSCTL.ipv4_forwarding}


def user_ca_text(keys) -> str:
    """The TrustedUserCAKeys file: one OpenSSH public key per line; refuses anything else (a wrong line would
    trust nobody, or the wrong party)."""
    lines = [" ".join(str(key).split()) for key in keys]
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if len(fields) < 2 or not fields[0].startswith(("ssh-", "sk-", "ecdsa-", "rsa-")):
            # the entry is not echoed: it may be a private key pasted by mistake
            raise BaselineViolation(f"ssh_user_ca_keys entry {number} is not an OpenSSH public key (type, base64 key)",
                                    SSH.controls("trusted_user_ca_path"))
    return "".join(f"{line}\n" for line in lines)


def sudoers_text() -> str:
    """The sudoers.d drop-in (baseline.SUDO)."""
    lines = ["# Written by hosts/deploys/system.py from baseline.SUDO; validated with visudo -cf before install."]
    if SUDO.use_pty:
        lines.append("Defaults use_pty")
    lines.append(f'Defaults logfile="{SUDO.logfile}"')
    return "\n".join(lines) + "\n"


def sudo_defaults() -> list:
    """The Defaults entries `sudo -l -U USER` lists for the drop-in's settings."""
    return [*(["use_pty"] if SUDO.use_pty else []), f"logfile={SUDO.logfile}"]


def module_blacklist(fstab_types: dict) -> tuple:
    """The modules to blacklist on a node whose fstab mounts {path: fstype}: a module kept by
    KERNEL_MODULES.boot_exceptions (vfat for /boot/efi) stays loadable while the node mounts it there."""
    needed = {module for module, paths in KERNEL_MODULES.boot_exceptions.items()
              if any(fstab_types.get(path) == module for path in paths)}
    return tuple(module for module in KERNEL_MODULES.blacklist if module not in needed)


MODULE_BLACKLIST_PATH = "/etc/modprobe.d/harden-blacklist.conf"


def module_blacklist_text(fstab_types: dict) -> str:
    """The modprobe.d file: each module blacklisted and its install command refused."""
    return "".join(f"blacklist {module}\ninstall {module} /bin/false\n" for module in module_blacklist(fstab_types))


def audit_rules() -> tuple:
    """The auditd rules, as auditctl takes them (without the final -e 2, see audit_finalize_text)."""
    return tuple(AUDITD.rules)


AUDIT_RULES_PATH = "/etc/audit/rules.d/50-harden.rules"
AUDIT_FINALIZE_PATH = "/etc/audit/rules.d/99-finalize.rules"  # augenrules merges in name order: -e 2 comes last


def audit_finalize_text() -> str:
    """The last rules file: `-e 2` (immutable until reboot) when the baseline says so, else `-e 1`."""
    return "-e 2\n" if AUDITD.immutable else "-e 1\n"


def audit_enabled() -> str:
    """What `auditctl -s` reports as "enabled" once the rules are loaded."""
    return "2" if AUDITD.immutable else "1"


def auditd_conf() -> dict:
    """auditd.conf settings."""
    return {"max_log_file": str(AUDITD.max_log_file_mb), "max_log_file_action": AUDITD.max_log_file_action.upper(),
            "space_left_action": AUDITD.space_left_action.upper(),
            "admin_space_left_action": AUDITD.admin_space_left_action.upper(),
            "disk_full_action": AUDITD.disk_full_action.upper(), "disk_error_action": AUDITD.disk_error_action.upper()}


GRUB_DROPIN = "/etc/default/grub.d/50-harden-audit.cfg"
GRUB_CONFIG = "/boot/grub/grub.cfg"  # what update-grub writes from the drop-ins


def grub_dropin_text() -> str:
    """The GRUB drop-in that puts the audit parameters on the kernel command line (update-grub reads grub.d)."""
    params = " ".join(AUDITD.kernel_cmdline)
    return ("# Written by hosts/deploys/audit.py from baseline.AUDITD.kernel_cmdline\n"
            f'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX {params}"\n')


GRUB_PASSWORD_HOST_DATA = "grub_password_hash_file"
GRUB_PASSWORD_SCRIPT = "/etc/grub.d/01_harden_password"  # grub-mkconfig runs /etc/grub.d/* in name order
GRUB_LINUX_SCRIPT = "/etc/grub.d/10_linux"  # Debian's; its CLASS line is added to each of the OS's own entries
GRUB_LINUX_CLASS = 'CLASS="--class gnu-linux --class gnu --class os"'
GRUB_LINUX_CLASS_UNRESTRICTED = 'CLASS="--class gnu-linux --class gnu --class os --unrestricted"'
_GRUB_PBKDF2 = re.compile(r"^grub\.pbkdf2\.sha512\.(\d+)\.([0-9A-Fa-f]{32,})\.([0-9A-Fa-f]{128})$")


def grub_password_hash(data: dict) -> str:
    """The GRUB superuser's PBKDF2 hash (baseline.BOOTLOADER), read from the control-node file host data
    grub_password_hash_file names (`grub-mkpasswd-pbkdf2`'s last word, mode 0600). Raises BaselineViolation naming the
    problem; the hash itself is never put in a message."""
    controls = tuple(dict.fromkeys(BOOTLOADER.controls("superuser") + BOOTLOADER.controls("password_min_iterations")))
    named = data.get(GRUB_PASSWORD_HOST_DATA)
    if not named:
        raise BaselineViolation(
            f"host data {GRUB_PASSWORD_HOST_DATA} is not set: a node's boot loader needs a superuser password "
            f"(baseline.BOOTLOADER.superuser {BOOTLOADER.superuser!r}); write `grub-mkpasswd-pbkdf2`'s hash to a "
            "0600 file on the control node and name it there", controls)
    path = Path(str(named)).expanduser()
    try:
        info = path.stat()
        text = path.read_text().strip()
    except OSError as error:
        raise BaselineViolation(f"{GRUB_PASSWORD_HOST_DATA} cannot be read: {error.strerror}", controls) from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise BaselineViolation(f"{GRUB_PASSWORD_HOST_DATA} has mode {stat.S_IMODE(info.st_mode):04o}: the boot "
                                "loader's password hash must be readable by its owner only (0600)", controls)
    match = _GRUB_PBKDF2.match(text)
    if not match:
        raise BaselineViolation(f"{GRUB_PASSWORD_HOST_DATA} does not hold one grub.pbkdf2.sha512.<iterations>.<salt>."
                                "<hash> line (the output of grub-mkpasswd-pbkdf2)", controls)
    if int(match.group(1)) < BOOTLOADER.password_min_iterations:
        raise BaselineViolation(f"{GRUB_PASSWORD_HOST_DATA}: {match.group(1)} PBKDF2 iterations, fewer than "
                                f"baseline.BOOTLOADER.password_min_iterations ({BOOTLOADER.password_min_iterations})",
                                controls)
    return text


USBGUARD_CONF = "/etc/usbguard/usbguard-daemon.conf"
USBGUARD_RULES = dict(USB.daemon)["RuleFile"]
USBGUARD_ALLOW_HOST_DATA = "usbguard_allow_rules"
# one USBGuard rule that allows: a device id, a hash, a serial or interfaces, never a rule that matches every device
_USB_ALLOW_RULE = re.compile(r"allow (?=.*\S)(?!.*\b(?:via-port|if)\b)[ -~]+")


def usbguard_rules_text(data) -> str:
    """The USBGuard rule file: the baseline's allow rules (hubs, all-HID devices), then the host's declared ones
    (host data usbguard_allow_rules, each one `allow` rule on one line). A declared rule that is not a plain allow
    rule, or `allow` alone (every device), is refused: BaselineViolation naming the control."""
    declared = list(data.get(USBGUARD_ALLOW_HOST_DATA) or [])
    for rule in declared:
        if not isinstance(rule, str) or not _USB_ALLOW_RULE.fullmatch(rule.strip()):
            raise BaselineViolation(f"host data {USBGUARD_ALLOW_HOST_DATA}: {rule!r} is not one USBGuard allow rule "
                                    "naming the device (id, hash, serial or with-interface; no via-port, no if, not "
                                    "`allow` alone)", USB.controls("allow_rules"))
    lines = ["# Written by the Node1 deploy from baseline.USB (hosts/desired.py); edits are reverted.",
             *USB.allow_rules, *(rule.strip() for rule in declared)]
    return "\n".join(lines) + "\n"


def usbguard_daemon_text() -> str:
    """usbguard-daemon.conf as the baseline states it (every key the daemon reads from it, in order)."""
    return "# Written by the Node1 deploy from baseline.USB (hosts/desired.py); edits are reverted.\n" + \
        "".join(f"{key}={value}\n" for key, value in USB.daemon)


def usbguard_findings(daemon_lines: list[str], rule_lines: list[str], modes: dict, data) -> list[str]:
    """What differs on the node from the USBGuard files the baseline renders (their text and their 0600 modes)."""
    findings = []
    for path, wanted, lines in ((USBGUARD_CONF, usbguard_daemon_text(), daemon_lines),
                                (USBGUARD_RULES, usbguard_rules_text(data), rule_lines)):
        if [line.rstrip("\n") for line in lines] != wanted.splitlines():
            findings.append(f"{path} differs from the baseline" if lines else f"{path} missing")
        elif modes.get(path) != "0600":
            findings.append(f"{path} mode {modes.get(path)}, not 0600")
    return findings


def grub_password_script(password_hash: str) -> str:
    """The /etc/grub.d script whose output makes BOOTLOADER.superuser GRUB's only superuser, with the hash."""
    return ("#!/bin/sh\n# Written by hosts/deploys/audit.py from baseline.BOOTLOADER; local edits are reverted.\n"
            "cat <<'EOF'\n"
            f'set superusers="{BOOTLOADER.superuser}"\n'
            f"password_pbkdf2 {BOOTLOADER.superuser} {password_hash}\n"
            "EOF\n")


def grub_password_findings(config_lines: list | None, password_hash: str) -> list[str]:
    """What a node's grub.cfg lacks against baseline.BOOTLOADER: the superuser and its password (the configured hash,
    compared here and never returned), and the default entry (GRUB's first menuentry) unrestricted."""
    if not config_lines:
        return ["grub.cfg missing, empty or unreadable"]
    lines = [line.strip() for line in config_lines]
    problems = []
    superusers = [line for line in lines if line.startswith("set superusers=")]
    if superusers != [f'set superusers="{BOOTLOADER.superuser}"']:
        problems.append(f"superusers: {', '.join(superusers) or 'none set'}")
    passwords = [line.split()[1:3] for line in lines if line.startswith("password")]
    users = sorted({parts[0] for parts in passwords if parts})
    if users != [BOOTLOADER.superuser]:
        problems.append(f"password lines for: {', '.join(users) or 'nobody'}")
    elif not all(len(parts) == 2 and hmac.compare_digest(parts[1], password_hash) for parts in passwords):
        problems.append(f"{BOOTLOADER.superuser}'s password is not the configured one")
    entries = [line for line in lines if line.startswith("menuentry ")]
    if BOOTLOADER.unrestricted_default and not (entries and " --unrestricted " in f" {entries[0]} "):
        problems.append("the default boot entry asks for a password (no --unrestricted): an unattended reboot stops")
    return problems


def journald_conf_text() -> str:
    """The journald drop-in."""
    return ("[Journal]\n"
            f"Storage={JOURNALD.storage}\nSystemMaxUse={JOURNALD.system_max_use}\n"
            f"MaxRetentionSec={JOURNALD.max_retention_sec}\nCompress={JOURNALD.compress}\n"
            f"ForwardToSyslog={JOURNALD.forward_to_syslog}\n")


# Where each ACCOUNTS setting is written, and how (key<separator>value lines)
ACCOUNT_CONFIG_FILES = {"login_defs": ("/etc/login.defs", " "), "pwquality": ("/etc/security/pwquality.conf", " = "),
                        "faillock": ("/etc/security/faillock.conf", " = ")}
UMASK_PROFILE_PATH = "/etc/profile.d/harden-umask.sh"
SU_PAM_PATH = "/etc/pam.d/su"


def mount_options() -> dict:
    """Mount point -> the options it needs at least: the temporary trees, and /proc hiding other users' processes."""
    return {**FILESYSTEM.mount_options, "/proc": f"hidepid={FILESYSTEM.proc_hidepid}"}


def su_restriction_line() -> str:
    """The pam_wheel line that keeps su to the baseline's group."""
    return f"auth       required   pam_wheel.so group={ACCOUNTS.su_restricted_group}"


def umask_profile_text() -> str:
    """The login shells' umask."""
    return f"umask {ACCOUNTS.umask}\n"


SESSION_PROFILE_PATH = "/etc/profile.d/harden-session.sh"
CORE_LIMITS_PATH = "/etc/security/limits.d/harden-core.conf"
COREDUMP_DROPIN_PATH = "/etc/systemd/coredump.conf.d/harden.conf"


def session_profile_text() -> str:
    """Login shells: the idle timeout (read-only, so a user cannot lift it; set once, so a nested login shell that
    reads the profile again does not fail on the read-only variable) and no core dumps."""
    timeout = ACCOUNTS.shell_timeout_seconds
    lines = [f'if [ "${{TMOUT:-}}" != {timeout} ]; then', f"    TMOUT={timeout}", "    readonly TMOUT", "    export TMOUT",
             "fi"]
    if not ACCOUNTS.core_dumps:
        lines.append("ulimit -c 0")
    return "\n".join(lines) + "\n"


def core_dump_files() -> dict:
    """Path -> text of the files that turn core dumps off (ACCOUNTS.core_dumps False), else nothing."""
    if ACCOUNTS.core_dumps:
        return {}
    return {CORE_LIMITS_PATH: "* hard core 0\n* soft core 0\n",
            COREDUMP_DROPIN_PATH: "[Coredump]\nStorage=none\nProcessSizeMax=0\n"}


TIMESYNCD_DROPIN_PATH = "/etc/systemd/timesyncd.conf.d/harden.conf"


# https://host[:port][/], nothing else: the value lands in a systemd config line
_COLLECTOR_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$")


def journal_upload_text(url) -> str:
    """The journal-upload.conf drop-in: the collector's https URL and the TLS files (baseline.JOURNALD); refuses a URL
    that is not https (logs would leave in clear) or carries more than a host and port."""
    if not isinstance(url, str) or not _COLLECTOR_URL.match(url):
        raise BaselineViolation(f"journal_upload_url {url!r} is not https://HOST[:PORT]: the journal would not leave "
                                "the node, or would leave it in clear",
                                JOURNALD.controls("upload_required") + JOURNALD.controls("upload_tls_paths"))
    tls = JOURNALD.upload_tls_paths
    return ("# Written by hosts/deploys/services.py from baseline.JOURNALD and the host's journal_upload_url\n"
            f"[Upload]\nURL={url}\nServerKeyFile={tls['key']}\nServerCertificateFile={tls['certificate']}\n"
            f"TrustedCertificateFile={tls['trusted_ca']}\n")


UPLOAD_SERVICE_DROPIN = "/etc/systemd/system/systemd-journal-upload.service.d/50-harden.conf"


def journal_upload_service_text() -> str:
    """The uploader's unit drop-in: restarted until the collector answers (baseline.JOURNALD.upload_restart_sec)."""
    return f"[Service]\nRestart=always\nRestartSec={JOURNALD.upload_restart_sec}\n"


def timesyncd_conf_text() -> str:
    """The timesyncd drop-in."""
    return f"[Time]\nNTP={' '.join(TIME.ntp_servers)}\n"


def unattended_upgrades_text() -> str:
    """apt configuration that installs security updates daily."""
    origins = "".join(f'    "{origin}";\n' for origin in PACKAGES.unattended_origins)
    return ('APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
            f"Unattended-Upgrade::Origins-Pattern {{\n{origins}}};\n")


def docker_daemon_config() -> dict:
    """/etc/docker/daemon.json as the baseline states it: DOCKER_DAEMON.config and the user-namespace remap (this
    host's engine through scripts/ensure-docker.sh, a node's through the deploy)."""
    return {**DOCKER_DAEMON.config, "userns-remap": DOCKER_DAEMON.userns_remap}


def docker_daemon_json() -> str:
    """/etc/docker/daemon.json."""
    return json.dumps(docker_daemon_config(), indent=2, sort_keys=True) + "\n"


def baseline_digest() -> str:
    """SHA-256 over every node setting of the baseline (the deploy's own access policy aside)."""
    sections = [section for section in vars(node_baseline).values()
                if isinstance(section, Section) and section is not DEPLOY]
    values = [(section.name, [(key, setting.value) for key, setting in section.items()]) for section in sections]
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=sorted).encode()).hexdigest()


def completion_text() -> str:
    """What the deploy's last operation writes: the baseline a run last brought the node to, completely."""
    return f"baseline {baseline_digest()}\n"


# The Qdrant store's container on a node running the local stack (`rae-<stack>-qdrant-store`, components.container).
QDRANT_STORE_SUFFIX = "-qdrant-store"
# The Qdrant credentials a node's backup reads: the read-only API key and the snapshot token, nothing with more power.
QDRANT_BACKUP_CREDENTIALS = ("read_only_api_key_file", "snapshot_token_file")


def runs_qdrant(container_names: list | None) -> bool:
    """Whether the node runs a Qdrant store (a running `rae-<stack>-qdrant-store` container)."""
    return any(name.startswith("rae-") and name.endswith(QDRANT_STORE_SUFFIX) for name in container_names or ())


def backup_needs_docker(datasets: list | None) -> bool:
    """Whether a node's backup user needs the `docker` group (root-equivalent): only where its config backs up a
    container's data (`postgres` is dumped with `docker exec`, `qdrant` and the drills use containers); a config of
    files only (the secret files and the CA) never gets it. An unreadable config is refused, never guessed."""
    if datasets and "unreadable" in datasets:
        raise BaselineViolation("the backup config cannot be read: not a JSON object", BACKUP.controls("copies"))
    return bool({"postgres", "qdrant"} & set(datasets or ()))


def backup_qdrant_credentials(entry: dict | None, qdrant_running: bool) -> dict[str, str]:
    """The Qdrant credential files a node's backup must own (key -> path), or a BaselineViolation naming the gap.

    + entry: the `qdrant` entry of the node's `harden backup` config ({} none, None no config)
    + qdrant_running: the node runs a Qdrant store (runs_qdrant); then its data set must be in the backup config
    """
    controls = BACKUP.controls("copies")
    if entry and "unreadable" in entry:
        raise BaselineViolation(f"the backup config cannot be read: {entry['unreadable']}", controls)
    if not entry:
        if qdrant_running:
            raise BaselineViolation("the node runs Qdrant but its backup config has no `qdrant` data set: its "
                                    "collections would never be backed up", controls)
        return {}
    if entry.get("api_key_file"):
        raise BaselineViolation("the backup config's `qdrant` entry names the full-access `api_key_file`: the "
                                "scheduled backup reads with the read-only key and the snapshot token only",
                                ("A.5.15", "A.8.2", "A.8.13"))
    missing = [key for key in QDRANT_BACKUP_CREDENTIALS if not entry.get(key)]
    if missing:
        raise BaselineViolation(f"the backup config's `qdrant` entry lacks {missing}", controls)
    return {key: entry[key] for key in QDRANT_BACKUP_CREDENTIALS}
