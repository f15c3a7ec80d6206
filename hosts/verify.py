"""Evidence of a node's hardening: its effective state, read over SSH, compared with the baseline.

    from hosts.verify import verify_host
    checks = verify_host("node1", {"ssh_hostname": "node1", "ssh_user": "admin", "ssh_key": "~/.ssh/id_ed25519",
                                   "ssh_known_hosts_file": "~/.ssh/known_hosts", "_sudo": True,
                                   "harden_scope": "node", "firewall_ssh_interfaces": ["tailscale0"]})
    # [{"check": "sshd permitrootlogin", "expected": "no", "actual": "no", "controls": ["A.8.2", "A.8.5"],
    #   "status": "pass"}, ...]

status is "pass", "fail", "not applicable", "risk-accepted" (a deviation the host data declares as an exception with
reason, owner and expiry: SSH outside Tailscale, hosts.desired.ssh_interface_judgement), or "unknown" where the node's
systemd does not answer. For a node, the log
collector it ships to is read too, where the audit runs (the control node): its unit files in host data
journal_collector_units (default hosts.collector.UNIT_DIR), see collector_checks. "deploy completed" fails on a node
no deploy of this baseline ran to its end on (never deployed, or stopped half-way and not re-run). A host that cannot be reached (or
whose host key is not the known one) raises ConnectionError: no evidence is better than made-up evidence.
It reads the same facts (hosts.facts.node) the deploys use, so what is checked is what is applied.
"""

import re
from datetime import date
from pathlib import Path

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.facts.apt import AptSources
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import LinuxDistribution, Users

from baseline import (ACCOUNTS, AUDITD, BOOTLOADER, DEPLOY, DOCKER_DAEMON, FILESYSTEM, FIREWALL, JOURNALD, KERNEL_MODULES, LUKS, PACKAGES, SSH, SUDO,
                      SYSCTL, TIME, USB, BaselineViolation)
from hosts import backup_toolkit, backup_units, collector, connection, desired, network_unlock
from hosts.desired import backup_needs_docker
from hosts.facts.clevis import ClevisBindings, NetworkUnlockState
from hosts.facts.node import (AuditRules, AuditStatus, BackupConfigDatasets, BackupToolkit, DockerEngine, EncryptionBacking, FileLines, FileModes, FstabTypes, MountOptions,
                              NftablesRendered,
                              SshdEffective, SshHostKeyFiles, SshOfferedKex, SudoDefaults, SysctlValues, TimeServices,
                              UnitStates, WeakModuli)
from hosts.operations.harden import audit_rule_findings, config_in_force, luks_findings, nftables_text
from hosts.operations.packages import has_security_suite, node_codename, security_suite
from posture.container import remap_from_info, shown_remap

SSHD_LIST_CONTROLS = {"kexalgorithms": SSH.controls("kex_classical") + SSH.controls("kex_preferred"),
                      "ciphers": SSH.controls("ciphers"), "macs": SSH.controls("macs"),
                      "hostkeyalgorithms": SSH.controls("host_key_algorithms"),
                      "pubkeyacceptedalgorithms": SSH.controls("user_key_algorithms"),
                      "allowgroups": SSH.controls("allow_groups"),
                      "trustedusercakeys": SSH.controls("trusted_user_ca_path")}
# Debian's other time daemons: one of them running beside the baseline's service would fight it over the clock
OTHER_TIME_DAEMONS = ("chrony", "ntpsec", "ntp", "openntpd")
# The client address sshd -T -C evaluates Match blocks for when the host data names none (ssh_client_addr):
# an address of Tailscale's range, where operators' SSH arrives from
DEFAULT_CLIENT_ADDR = "100.64.0.1"


def _check(check: str, expected, actual, controls, status: str | None = None) -> dict:
    return {"check": check, "expected": expected, "actual": actual, "controls": sorted(set(controls)),
            "status": status or ("pass" if expected == actual else "fail")}


def _ssh_checks(host, data: dict) -> list[dict]:
    # -C user=,host=,addr=: sshd's settings for this connection, Match blocks evaluated
    effective = host.get_fact(SshdEffective, connection={
        "user": data.get("ssh_user", "root"), "host": data.get("ssh_hostname", "localhost"),
        "addr": data.get("ssh_client_addr", DEFAULT_CLIENT_ADDR)})
    checks = []
    user_ca = bool(data.get("ssh_user_ca_keys"))
    for keyword, expected in desired.sshd_settings(host.get_fact(SshOfferedKex), user_ca).items():
        baseline_key = next((key for key in desired.SSHD_KEYWORDS if key.replace("_", "") == keyword), None)
        controls = SSH.controls(baseline_key) if baseline_key else SSHD_LIST_CONTROLS[keyword]
        checks.append(_check(f"sshd {keyword}", expected, effective.get(keyword), controls))
    keep = sorted(f"/etc/ssh/ssh_host_{key_type}_key" for key_type in SSH.host_key_types)
    checks.append(_check("ssh host keys", keep, sorted(host.get_fact(SshHostKeyFiles)), SSH.controls("host_key_types")))
    checks.append(_check(f"ssh moduli below {SSH.moduli_min_bits} bits", 0,
                         host.get_fact(WeakModuli, min_bits=SSH.moduli_min_bits), SSH.controls("moduli_min_bits")))
    return checks


def _kernel_checks(host) -> list[dict]:
    wanted = desired.sysctl_values()
    running = host.get_fact(SysctlValues, keys=tuple(sorted(wanted)))
    checks = [_check(f"sysctl {key}", str(value), running.get(key), SYSCTL.controls("values"),
                     None if key in running else "not applicable") for key, value in sorted(wanted.items())]
    return checks + audit_checks(host.get_fact(AuditRules), host.get_fact(AuditStatus),
                                 host.get_fact(FileLines, path="/proc/cmdline"))


def audit_checks(listed: list, status: dict, cmdline: list) -> list[dict]:
    """The kernel's audit state against the baseline: each rule loaded, no rule the baseline lacks (a changed rule
    is missing and extra), enabled as set (2: immutable; `auditctl -e 0` reads 0 and fails), the kernel's
    command line carrying the audit parameters."""
    findings = audit_rule_findings(desired.audit_rules(), listed, status, desired.audit_enabled())
    checks = [_check(f"audit rule {rule}", "loaded", "missing" if rule in findings["missing"] else "loaded",
                     AUDITD.controls("rules")) for rule in desired.audit_rules()]
    checks.append(_check("audit rules not in the baseline", [], findings["extra"], AUDITD.controls("rules")))
    checks.append(_check("audit enabled", findings["enabled_expected"], findings["enabled"],
                         AUDITD.controls("immutable")))
    parameters = " ".join(cmdline).split()
    checks += [_check(f"kernel command line {parameter}", parameter,
                      parameter if parameter in parameters else "missing", AUDITD.controls("kernel_cmdline"))
               for parameter in AUDITD.kernel_cmdline]
    return checks


BOOT_LOADER_CHECK = "boot loader password (GRUB)"


def boot_loader_check(config_lines: list, data: dict) -> dict:
    """GRUB's superuser and password against baseline.BOOTLOADER, read from the node's grub.cfg: the configured
    hash (host data grub_password_hash_file on the control node; never shown), and the default entry unrestricted
    (an unattended reboot boots). Host data without a usable hash: unknown, since there is nothing to compare with."""
    controls = BOOTLOADER.controls("superuser") + BOOTLOADER.controls("unrestricted_default")
    expected = f"superuser {BOOTLOADER.superuser} with the configured password; default entry unrestricted"
    try:
        password_hash = desired.grub_password_hash(data)
    except BaselineViolation as violation:
        return _check(BOOT_LOADER_CHECK, expected, violation.problem, controls, "unknown")
    problems = desired.grub_password_findings(config_lines, password_hash)
    return _check(BOOT_LOADER_CHECK, expected, "; ".join(problems) or expected, controls)


USB_SERVICE_CHECK = "USBGuard daemon usbguard"
USB_POLICY_CHECK = "USB devices by allow-list (USBGuard rules and daemon settings)"


def usb_checks(units: dict, daemon_lines: list, rule_lines: list, modes: dict, data: dict) -> list[dict]:
    """USBGuard as the node runs it: the daemon active and enabled, its settings and rule file exactly what baseline.USB
    renders for this host (0600). A host whose declared rules are refused cannot be compared: unknown."""
    state = units.get("usbguard.service", {"active": "unknown", "enabled": "unknown"})
    checks = [_check(USB_SERVICE_CHECK, "active, enabled", f"{state['active']}, {state['enabled']}",
                     USB.controls("package"))]
    try:
        findings = desired.usbguard_findings(daemon_lines, rule_lines, modes, data)
    except BaselineViolation as violation:
        return checks + [_check(USB_POLICY_CHECK, [], violation.problem, USB.controls("allow_rules"), "unknown")]
    return checks + [_check(USB_POLICY_CHECK, [], findings, USB.controls("allow_rules") + USB.controls("daemon"))]


def _firewall_checks(host, data: dict) -> list[dict]:
    """The table the kernel holds, rendered by nft, against the baseline's text rendered by the same nft in an
    empty network namespace: every rule, verdict and policy of the input and forward chains compared, in order.
    Then the interfaces that table accepts SSH on, against FIREWALL.ssh_interfaces and the host's declared
    exception (ssh_interfaces_check)."""
    service_ports = data.get("firewall_service_ports", FIREWALL.service_ports)
    published = tuple(data.get("firewall_published_interfaces", FIREWALL.published_interfaces))
    text = nftables_text(FIREWALL.table, FIREWALL.input_policy, tuple(data["firewall_ssh_interfaces"]), service_ports,
                         FIREWALL.icmp_allowed, forward_policy=FIREWALL.forward_policy,
                         container_interfaces=FIREWALL.container_interfaces, published_interfaces=published)
    rendered = host.get_fact(NftablesRendered, family="inet", table=FIREWALL.table, text=text)
    return [_check(f"nftables table inet {FIREWALL.table}", rendered["expected"], rendered["actual"],
                   FIREWALL.controls("input_policy") + FIREWALL.controls("forward_policy")
                   + FIREWALL.controls("published_interfaces")),
            ssh_interfaces_check(rendered["actual"], data.get(desired.SSH_EXCEPTION_KEY), date.today())]


_CHAIN = re.compile(r"^chain (\S+) \{$")
_HOOK = re.compile(r"^type filter hook (\w+) .*policy (\w+);$")
_IIF = re.compile(r'\biif(?:name)? (?:"([^"]+)"|\{ ([^}]*) \})')
_DPORT = re.compile(r"\btcp dport (?:(\d+)(?:-(\d+))?|\{ ([^}]*) \})")


def ssh_accepting_interfaces(lines) -> list | None:
    """Interfaces the input chain of a rendered table (`nft list table`, lines stripped) accepts TCP port 22 on;
    desired.ANY_INTERFACE for an accepting policy or a rule with no interface match; None for no table. Read fail
    closed: an accept rule the reading does not understand counts as SSH from anywhere. Loopback, and rules only for
    established connections or for another protocol, are not SSH from the network."""
    if lines is None:
        return None
    hook, found = None, set()
    for line in lines:
        if _CHAIN.match(line):
            hook = None
            continue
        policy = _HOOK.match(line)
        if policy:
            hook = policy[1]
            if hook == "input" and policy[2] == "accept":
                found.add(desired.ANY_INTERFACE)
            continue
        if hook != "input" or not line.endswith(" accept") and line != "accept":
            continue
        states = re.match(r"^ct state ([a-z,]+) accept$", line)
        if states and "new" not in states[1].split(","):
            continue
        protocol = re.search(r"\bl4proto (\S+|\{ [^}]* \})", line)
        if protocol and not re.search(r"\b(6|tcp)\b", protocol[1]) or re.search(r"\b(udp|icmp|icmpv6) ", line):
            continue
        port = _DPORT.search(line)
        if port and port[1]:
            low, high = int(port[1]), int(port[2] or port[1])
            if not low <= 22 <= high:
                continue
        elif port and "22" not in [p.strip() for p in port[3].split(",")]:
            continue
        interface = _IIF.search(line)
        names = ([interface[1]] if interface[1] else [n.strip().strip('"') for n in interface[2].split(",")]) \
            if interface else [desired.ANY_INTERFACE]
        found |= {name for name in names if name != "lo"}
    return sorted(found)


def ssh_interfaces_check(rendered, exception, today) -> dict:
    """Where the live table accepts SSH, against FIREWALL.ssh_interfaces: pass, risk-accepted under the host's live
    declared exception (its terms in the detail), fail otherwise, and fail when our table is not loaded (then
    nothing of ours restricts SSH at all)."""
    live = ssh_accepting_interfaces(rendered)
    name, expected = desired.SSH_INTERFACES_CHECK, list(FIREWALL.ssh_interfaces)
    if live is None:
        return {**_check(name, expected, f"table inet {FIREWALL.table} not loaded", desired.ssh_interface_controls(),
                         "fail"), "detail": "nothing of the baseline's keeps SSH to these interfaces"}
    status, why = desired.ssh_interface_judgement(live, exception, today)
    return {**_check(name, expected, live, desired.ssh_interface_controls(), status), "detail": why}


def _sudo_check(host, data: dict) -> dict:
    """sudo's Defaults as they apply to the deploy's user (`sudo -l -U`): use_pty and the log file in force."""
    in_force = host.get_fact(SudoDefaults, user=data.get("ssh_user", "root"))
    wanted = desired.sudo_defaults()
    return _check("sudo defaults", wanted, [entry for entry in wanted if entry in in_force],
                  SUDO.controls("use_pty") + SUDO.controls("logfile") + SUDO.controls("dropin"))


def _journal_upload_checks(host, data: dict) -> list[dict]:
    """The journal shipped off the node: the uploader configured for the inventory's collector with mutual TLS and
    running, its key readable by no one else, the receiver not in use on the node."""
    controls = JOURNALD.controls("upload_required") + JOURNALD.controls("upload_tls_paths")
    try:
        expected = desired.journal_upload_text(data.get("journal_upload_url")).splitlines()
    except BaselineViolation as error:
        expected = f"a declared collector ({error})"
    installed = host.get_fact(DebPackages) or {}
    checks = [_check(f"package {JOURNALD.upload_package}", JOURNALD.upload_package,
                     JOURNALD.upload_package if JOURNALD.upload_package in installed else "missing",
                     JOURNALD.controls("upload_package")),
              _check("journal upload configuration", expected,
                     host.get_fact(FileLines, path=JOURNALD.upload_dropin), controls)]
    units = host.get_fact(UnitStates, units=("systemd-journal-upload.service", *JOURNALD.receiver_units))
    upload = units.get("systemd-journal-upload.service", {})
    checks.append(_check("journal upload running", {"active": "active", "enabled": "enabled"},
                         upload, JOURNALD.controls("upload_required")))
    key = JOURNALD.upload_tls_paths["key"]
    checks.append(_check(f"mode of {key}", "0640", host.get_fact(FileModes, paths=(key,)).get(key),
                         JOURNALD.controls("upload_tls_paths")))
    receiving = {unit: state for unit, state in units.items() if unit in JOURNALD.receiver_units
                 and (state["active"] == "active" or state["enabled"].startswith("enabled"))}
    checks.append(_check("journal receiver not in use on the node", {}, receiving, JOURNALD.controls("receiver_units")))
    return checks


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def collector_checks(unit_dir: Path) -> list[dict]:
    """The log collector as its unit files in `unit_dir` state it (hosts.collector): the receiver on the loopback
    only, behind a TLS front that requires a client certificate from the nodes' CA, and a retention of at least the
    baseline's days. What cannot be read or is not understood is unknown, never pass."""
    receiver, front, vacuum = (_read(unit_dir / name) for name in
                               (collector.RECEIVER_UNIT, collector.TLS_FRONT_UNIT, collector.VACUUM_UNIT))
    tls_controls = JOURNALD.controls("upload_tls_paths")
    retention_controls = JOURNALD.controls("collector_min_retention_days")
    argv = collector.exec_start(receiver) if receiver is not None else None
    listens = sorted(arg for arg in argv or [] if arg.startswith("--listen-"))
    loopback_only = len(listens) == 1 and listens[0].startswith("--listen-http=127.0.0.1:")
    checks = [_check("log collector: receiver on the loopback only", "--listen-http=127.0.0.1:<port>",
                     listens if argv else None, tls_controls,
                     "unknown" if not argv else "pass" if loopback_only else "fail")]
    settings = collector.tls_front_settings(front) if front is not None else None
    expected = {"verify": True, "cafile": "<the nodes' CA>", "min_tls": collector.MIN_TLS}
    if settings is None:
        checks.append(_check("log collector: mutual TLS", expected, None, tls_controls, "unknown"))
    else:
        good = settings["verify"] and settings["cafile"] and settings["min_tls"] == collector.MIN_TLS
        checks.append(_check("log collector: mutual TLS", expected, settings, tls_controls, "pass" if good else "fail"))
    wanted = f">= {JOURNALD.collector_min_retention_days} days"
    days = collector.retention_days(vacuum) if vacuum is not None else None
    if days is None:
        checks.append(_check("log collector: retention", wanted, None if vacuum is None else "not understood",
                             retention_controls, "unknown"))
    else:
        checks.append(_check("log collector: retention", wanted, f"{days:g} days", retention_controls,
                             "pass" if days >= JOURNALD.collector_min_retention_days else "fail"))
    return checks


def _module_blacklist_check(host) -> dict:
    """The modprobe.d blacklist as the baseline wants it for this node's fstab (vfat kept for /boot/efi)."""
    expected = desired.module_blacklist_text(host.get_fact(FstabTypes)).splitlines()
    return _check("kernel module blacklist", expected, host.get_fact(FileLines, path=desired.MODULE_BLACKLIST_PATH),
                  KERNEL_MODULES.controls("blacklist") + KERNEL_MODULES.controls("boot_exceptions"))


def _luks_checks(host, data: dict) -> list[dict]:
    backing = host.get_fact(EncryptionBacking, named_paths=data.get("luks_data_paths", LUKS.data_paths))
    checks = []
    for name, state in sorted(backing.items()):
        problems = luks_findings({name: state})
        actual = {key: state[key] for key in ("source", "type", "cipher", "key_bits")}
        expected = {"type": f"LUKS{LUKS.luks_version}", "cipher": LUKS.allowed_ciphers,
                    "min_key_bits": LUKS.min_key_bits}
        checks.append(_check(f"encryption of {name} ({state['path']})", expected, actual,
                             LUKS.controls("required_for"), "fail" if problems else "pass"))
    return checks


def _file_mode_checks(host) -> list[dict]:
    actual = host.get_fact(FileModes, paths=tuple(sorted(FILESYSTEM.permissions)))
    return [_check(f"mode of {path}", mode, actual.get(path), FILESYSTEM.controls("permissions"),
                   None if path in actual else "not applicable")
            for path, mode in sorted(FILESYSTEM.permissions.items())]


def _apt_security_check(host) -> dict:
    codename = node_codename(host.get_fact(LinuxDistribution))
    present = has_security_suite(host.get_fact(AptSources), codename)
    suite = security_suite(codename)
    # an unknown release codename expects None and reads "missing": a fail, never a pass
    return _check("apt security suite", suite, suite if present else "missing", PACKAGES.controls("security_suite"))


def time_checks(services: dict, dropin: list) -> list[dict]:
    """Time synchronisation as the node runs it: the baseline's service active and enabled, no other time daemon
    active, the clock synchronised from a server (timesyncd's own record; a clock it never set fails, whatever the
    reason), and the servers it is told to ask.

    + services: the TimeServices fact (units by name, synchronised)
    + dropin: lines of the timesyncd drop-in the deploy writes
    """
    units = services["units"]
    own = units.get(TIME.service, {"active": "unknown", "enabled": ""})
    others = sorted(unit for unit in OTHER_TIME_DAEMONS if units.get(unit, {}).get("active") == "active")
    # systemd that does not answer (not PID 1, or a unit it cannot read) is unknown, never a pass or a fail
    unread = "unknown" if own["active"] == "unknown" else None
    return [
        _check(f"time service {TIME.service}", "active, enabled", f"{own['active']}, {own['enabled'] or 'not installed'}",
               TIME.controls("service"), unread),
        _check("other time daemons active", [], others, TIME.controls("service"), unread),
        _check(f"clock synchronised by {TIME.service}", "yes", "yes" if services["synchronised"] else "no",
               TIME.controls("service")),
        _check("time servers", desired.timesyncd_conf_text().splitlines(), dropin, TIME.controls("ntp_servers")),
    ]


def package_checks(installed: dict) -> list[dict]:
    """The baseline's packages installed and the clear-text ones absent, as dpkg lists them (installed or held)."""
    return [
        _check("baseline packages installed", sorted(PACKAGES.required),
               sorted(package for package in PACKAGES.required if package in installed), PACKAGES.controls("required")),
        _check("integrity and audit tools installed", sorted(PACKAGES.integrity_tools),
               sorted(package for package in PACKAGES.integrity_tools if package in installed),
               PACKAGES.controls("integrity_tools")),
        _check("legacy clear-text packages absent", [],
               sorted(package for package in FILESYSTEM.legacy_packages if package in installed),
               FILESYSTEM.controls("legacy_packages")),
    ]


def account_checks(files: dict) -> list[dict]:
    """Accounts and PAM as the files in force say, parsed as the deploy parses them: login.defs, password quality,
    lockout, the login shells' umask, su kept to the baseline's group.

    + files: path -> its lines (empty for a file that does not exist), for the paths in desired
    """
    checks = []
    for key, values in (("login_defs", ACCOUNTS.login_defs), ("pwquality", ACCOUNTS.pwquality),
                        ("faillock", ACCOUNTS.faillock)):
        path = desired.ACCOUNT_CONFIG_FILES[key][0]
        wanted = {name: str(value) for name, value in values.items()}
        in_force = config_in_force(files.get(path, []))
        checks.append(_check(f"{path} settings", wanted, {name: in_force.get(name) for name in wanted},
                             ACCOUNTS.controls(key)))
    checks.append(_check("login shells' umask", desired.umask_profile_text().splitlines(),
                         files.get(desired.UMASK_PROFILE_PATH, []), ACCOUNTS.controls("umask")))
    checks.append(_check("login shells' idle timeout and core limit", desired.session_profile_text().splitlines(),
                         files.get(desired.SESSION_PROFILE_PATH, []),
                         ACCOUNTS.controls("shell_timeout_seconds") + ACCOUNTS.controls("core_dumps")))
    core_files = desired.core_dump_files()
    checks.append(_check("core dumps off", {path: text.splitlines() for path, text in core_files.items()},
                         {path: files.get(path, []) for path in core_files}, ACCOUNTS.controls("core_dumps")))
    su_line = desired.su_restriction_line().split()
    restricted = any(line.split() == su_line for line in files.get(desired.SU_PAM_PATH, []))
    checks.append(_check("su restricted to a group", ACCOUNTS.su_restricted_group,
                         ACCOUNTS.su_restricted_group if restricted else "anyone", ACCOUNTS.controls("su_restricted_group")))
    return checks


def mount_checks(mounted: dict) -> list[dict]:
    """Temporary trees and /proc mounted with at least the baseline's options (MountOptions, as the deploy reads)."""
    return [_check(f"mount options of {target}", sorted(options.split(",")),
                   sorted(set(options.split(",")) & mounted.get(target, set())),
                   FILESYSTEM.controls("proc_hidepid" if target == "/proc" else "mount_options"))
            for target, options in sorted(desired.mount_options().items())]


def _account_checks(host) -> list[dict]:
    paths = [path for path, _ in desired.ACCOUNT_CONFIG_FILES.values()] + [
        desired.UMASK_PROFILE_PATH, desired.SESSION_PROFILE_PATH, desired.SU_PAM_PATH, *desired.core_dump_files()]
    return account_checks({path: host.get_fact(FileLines, path=path) for path in paths})


def _completion_check(host) -> dict:
    """Whether a deploy of this baseline ran to its end on the node (a run that stopped half-way never writes it)."""
    recorded = "".join(f"{line}\n" for line in host.get_fact(FileLines, path=DEPLOY.completion_marker)) or "missing"
    return _check("deploy completed", desired.completion_text().strip(), recorded.strip(),
                  DEPLOY.controls("completion_marker"))


def network_unlock_checks(unlock: network_unlock.NetworkUnlock, bindings: dict, state: dict) -> list[dict]:
    """The data volume's network-bound unlock: bound to the pinned tang server and nothing else (pass), bound to
    nothing, another URL, another signing key or another pin (fail), header unreadable (unknown); the boot's unlock
    unit enabled; the volume open and mounted (locked, e.g. tang unreachable at boot: fail).

    + unlock: the node's NetworkUnlock (hosts.network_unlock.from_host_data)
    + bindings: the ClevisBindings fact of unlock.device
    + state: the NetworkUnlockState fact
    """
    controls = LUKS.controls("network_unlock") + LUKS.controls("tang_thumbprint_hash")
    expected = {"url": unlock.url, "thp": unlock.thp}
    if not bindings["readable"]:
        binding = _check(f"clevis binding of {unlock.device}", expected, bindings["error"], controls, "unknown")
    else:
        problems = network_unlock.binding_findings(bindings["bindings"], unlock.url, unlock.thp)
        binding = _check(f"clevis binding of {unlock.device}", expected, problems or expected, controls,
                         "fail" if problems else "pass")
    unit_read = None if state["active"] != "unknown" else "unknown"
    opened = "open, mounted" if state["open"] and state["mounted_from"] == unlock.mapper else (
        f"open, {unlock.mount} not mounted from it" if state["open"] else "locked")
    return [
        binding,
        _check(f"{network_unlock.UNIT_NAME} enabled", "enabled", state["enabled"] or "not installed",
               LUKS.controls("network_unlock"), unit_read),
        _check(f"data volume {unlock.name} unlocked at {unlock.mount}", "open, mounted", opened,
               LUKS.controls("network_unlock") + LUKS.controls("required_for")),
    ]


def _network_unlock_checks(host, data: dict) -> list[dict]:
    """Only for a host whose data names a tang server (hosts.network_unlock); others get no check from here."""
    unlock = network_unlock.from_host_data(data)
    if not unlock:
        return []
    return network_unlock_checks(unlock, host.get_fact(ClevisBindings, device=unlock.device),
                                 host.get_fact(NetworkUnlockState, unit=network_unlock.UNIT_NAME, mapper_name=unlock.name,
                                               mount=unlock.mount))


def backup_checks(config_datasets, toolkit: dict, user_groups) -> list[dict]:
    """The backup timers' prerequisites on a node with a backup config (hosts/deploys/backup.py): the toolkit they run is
    this checkout's, installed from requirements-backup.lock, and `harden backup` starts (hosts.backup_toolkit); the
    backup user is in the root-equivalent `docker` group exactly when the config backs up a container's data.

    + config_datasets: hosts.facts.node.BackupConfigDatasets (None: no config at the path)
    + toolkit: hosts.facts.node.BackupToolkit
    + user_groups: the backup user's groups (None: no such user)
    """
    controls = ("A.8.13", "A.8.19")
    if config_datasets is None:
        return [_check("backup config present", True, False, controls)]
    try:
        docker = backup_needs_docker(config_datasets)
    except BaselineViolation as error:
        return [_check("backup config readable", True, str(error), controls)]
    in_docker = None if user_groups is None else "docker" in user_groups  # None: no backup user, a fail
    return [_check("backup toolkit installed (this checkout, hash-pinned venv)",
                   {"stamp": backup_toolkit.stamp(), "runs": True}, toolkit, controls),
            _check(f"backup user {backup_units.SERVICE_USER} in the docker group", docker, in_docker,
                   ("A.8.2", "A.8.18"))]


def docker_daemon_checks(engine: dict) -> list[dict]:
    """The node's Docker engine against baseline.DOCKER_DAEMON: daemon.json as the deploy writes it, and what the
    running engine reports (`docker info`): its containers in a user namespace of their own (userns-remap, with the
    remap user's subordinate range), live restore and the log driver. An engine that does not answer is unknown.

    + engine: the DockerEngine fact
    """
    config_controls, remap_controls = DOCKER_DAEMON.controls("config"), DOCKER_DAEMON.controls("userns_remap")
    if not engine.get("installed"):
        return [_check("docker daemon", None, "dockerd not installed", config_controls + remap_controls,
                       "not applicable")]
    expected = desired.docker_daemon_config()
    config = engine.get("config")
    checks = [_check("docker daemon.json", expected, config if config is not None else "absent or not JSON",
                     config_controls + remap_controls)]
    info = engine.get("info")
    remap_expected = f"userns-remap {DOCKER_DAEMON.userns_remap}: container ids in a subordinate range"
    if info is None:
        return checks + [_check("docker engine user-namespace remap", remap_expected, "engine does not answer",
                                remap_controls, "unknown")]
    try:
        remap = remap_from_info(info, (engine.get("subuid", ""), engine.get("subgid", "")))
    except BaselineViolation as error:
        checks.append(_check("docker engine user-namespace remap", remap_expected, error.problem, remap_controls,
                             "fail"))
    else:
        checks.append(_check("docker engine user-namespace remap", remap_expected, shown_remap(remap), remap_controls,
                             "pass" if remap else "fail"))
    checks.append(_check("docker engine live restore", expected["live-restore"], info.get("LiveRestoreEnabled"),
                         config_controls))
    checks.append(_check("docker engine log driver", expected["log-driver"], info.get("LoggingDriver"),
                         config_controls))
    return checks


def _backup_checks(host, data: dict) -> list[dict]:
    config = data.get("backup_config")
    if not config:
        return [_check("backup timers", None, None, ("A.8.13",), "not applicable")]
    return backup_checks(host.get_fact(BackupConfigDatasets, config_path=config),
                         host.get_fact(BackupToolkit, project_dir=data.get("backup_project_dir", "/opt/rae"),
                                       stamp_file=backup_toolkit.STAMP_FILE),
                         (host.get_fact(Users).get(backup_units.SERVICE_USER) or {}).get("groups"))


def verify_host(name: str, host_data: dict) -> list[dict]:
    """Connect to one host (pyinfra over paramiko, strict host keys) and check it against the baseline.

    + name: the host's inventory name
    + host_data: pyinfra host data as in hosts/inventory.py (ssh_*, _sudo, harden_scope, firewall_ssh_interfaces)
    """
    data = {**host_data, **connection.policy_data()}
    inventory = Inventory(([(name, data)], {}))
    state = State(inventory, Config())
    connect_all(state)
    host = inventory.get_host(name)
    if not host.connected:
        raise ConnectionError(f"{name}: no SSH connection (unreachable, or its host key is not the known one)")
    try:
        checks = _ssh_checks(host, data) + _file_mode_checks(host) + _account_checks(host) + [
            _sudo_check(host, data), _completion_check(host)]
        if data.get("harden_scope") == "node":
            checks += _kernel_checks(host) + _firewall_checks(host, data) + [_apt_security_check(host),
                                                                             _module_blacklist_check(host)]
            checks.append(boot_loader_check(host.get_fact(FileLines, path=desired.GRUB_CONFIG), data))
            checks += usb_checks(host.get_fact(UnitStates, units=("usbguard.service",)),
                                 host.get_fact(FileLines, path=desired.USBGUARD_CONF),
                                 host.get_fact(FileLines, path=desired.USBGUARD_RULES),
                                 host.get_fact(FileModes, paths=(desired.USBGUARD_CONF, desired.USBGUARD_RULES)), data)
            checks += _luks_checks(host, data) + _journal_upload_checks(host, data)
            checks += _network_unlock_checks(host, data) + _backup_checks(host, data)
            checks += docker_daemon_checks(host.get_fact(DockerEngine))
            # the collector's side, read where the audit runs: the control node's unit files
            checks += collector_checks(Path(data.get("journal_collector_units") or collector.UNIT_DIR))
            checks += time_checks(host.get_fact(TimeServices, units=(TIME.service, *OTHER_TIME_DAEMONS)),
                                  host.get_fact(FileLines, path=desired.TIMESYNCD_DROPIN_PATH))
            checks += package_checks(host.get_fact(DebPackages))
            checks += mount_checks(host.get_fact(MountOptions, targets=tuple(sorted(desired.mount_options()))))
        else:
            checks.append(_check("kernel, auditd, nftables, LUKS", None, None, LUKS.controls("required_for"),
                                 "not applicable"))
            # a container reads the clock of its host's kernel: the host's own audit observes it
            checks.append(_check("time synchronisation", None, None, TIME.controls("service"), "not applicable"))
        return checks
    finally:
        disconnect_all(state)
