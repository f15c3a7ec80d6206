"""Operations that bring one part of a node to the baseline, or say it is already there (host.noop).

Every operation reads the node's effective state through hosts.facts.node, compares it with the
desired state it is given, and yields only the commands that close the gap.
"""

import hashlib
import re
import secrets
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import OperationError, operation
from pyinfra.facts.files import Sha256File
from pyinfra.operations import files

from baseline import DEPLOY, LUKS, BaselineViolation, require
from hosts.facts.node import (AuditRules, AuditStatus, CommandPresent, EncryptionBacking, FileLines, FileModes,
                              MountOptions, NftablesRendered, SshHostKeyFiles, SysctlValues, WeakModuli)
from hosts.operations.private_upload import private_upload, sudo_upload_user

SCOPES = ("node", "container")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _put_text(text: str, path: str, mode: str):
    """Commands that upload text to path with mode, none when the node already has exactly that text."""
    yield from files.put._inner(src=StringIO(text), dest=path, mode=mode, user="root", group="root")


def _put_private_text(text: str, path: str, mode: str):
    """As _put_text for a file that holds a credential (a password hash): its text is never shown (pyinfra's --diff
    prints what files.put changes), and it is never readable by others on the node, not even while it is written:
    private_upload stages it, then the staged file replaces path."""
    if host.get_fact(Sha256File, path=path) == _sha256(text):
        return
    staged = f"{path}.harden-new"
    upload = f"{DEPLOY.upload_dir}/harden-{secrets.token_hex(8)}.upload"
    yield from private_upload(text.encode(), staged, upload, mode, sudo_upload_user())
    yield f"mv -f {shlex.quote(staged)} {shlex.quote(path)}"


@operation()
def not_applicable(part: str, reason: str):
    """Record, in the run's output, that a part of the baseline does not apply to this host.

    + part: the baseline part skipped, e.g. "auditd"
    + reason: why, e.g. "harden_scope=container: no kernel of its own"
    """
    host.noop(f"{part}: not applicable ({reason})")
    yield from ()  # an operation is a generator, even one that never changes anything


@operation()
def text_file(path: str, text: str, mode: str = "0644"):
    """Make path hold exactly text (uploaded only when its checksum differs).

    + path: file on the node
    + text: the whole content
    + mode: octal permissions
    """
    yield from _put_text(text, path, mode)


@operation()
def sshd_config(text: str, path: str = "/etc/ssh/sshd_config"):
    """Install an sshd configuration only after `sshd -t` accepted it, then reload sshd.

    A configuration sshd rejects is never installed, so a bad baseline cannot lock the operator out.
    + text: the complete sshd_config
    + path: where sshd reads it
    """
    if host.get_fact(Sha256File, path=path) == _sha256(text):
        host.noop(f"{path} already matches the baseline")
        return
    candidate = f"{path}.harden-new"
    yield from _put_text(text, candidate, "0600")
    # sshd runs under systemd on a node; in a container without systemd it is signalled directly.
    yield (f"sshd -t -f {candidate} && mv {candidate} {path} && "
           "{ systemctl reload ssh 2>/dev/null || kill -HUP \"$(cat /run/sshd.pid)\"; }")


@operation()
def ssh_host_keys(keep_types: tuple):
    """Remove every sshd host key whose type is not in keep_types (e.g. ("ed25519",)).

    + keep_types: host key types that stay
    """
    keep = {f"/etc/ssh/ssh_host_{key_type}_key" for key_type in keep_types}
    extra = [path for path in host.get_fact(SshHostKeyFiles) if path not in keep]
    if not extra:
        host.noop(f"only {', '.join(keep_types)} host keys present")
        return
    yield "rm -f " + " ".join(f"{shlex.quote(path)} {shlex.quote(path)}.pub" for path in extra)


@operation()
def ssh_moduli(min_bits: int):
    """Remove Diffie-Hellman groups smaller than min_bits from /etc/ssh/moduli.

    + min_bits: smallest modulus kept, e.g. 3072
    """
    weak = host.get_fact(WeakModuli, min_bits=min_bits)
    if not weak:
        host.noop(f"/etc/ssh/moduli has no group below {min_bits} bits")
        return
    yield (f"awk '$5 !~ /^[0-9]+$/ || $5 >= {min_bits - 1}' /etc/ssh/moduli > /etc/ssh/moduli.harden-new && "
           "mv /etc/ssh/moduli.harden-new /etc/ssh/moduli")


@operation()
def sysctl(values: dict, path: str = "/etc/sysctl.d/zz-harden.conf"):
    """Persist sysctl values in path and load them when the running kernel differs.

    Keys the running kernel does not have are reported, not failed (e.g. IPv6 keys with IPv6 off).
    systemd-sysctl applies every sysctl.d file in file-name order across directories at boot: the file is named to
    sort last, or Debian's 99-protect-links.conf (procps: fs.protected_fifos = 1) wins after a reboot, as the VM
    suite's reboot showed with a 99- prefix.
    + values: sysctl key -> value
    + path: the sysctl.d file
    """
    text = "".join(f"{key} = {value}\n" for key, value in sorted(values.items()))
    yield from _put_text(text, path, "0644")
    running = host.get_fact(SysctlValues, keys=tuple(sorted(values)))
    missing = sorted(set(values) - set(running))
    if missing:
        host.noop(f"kernel lacks {', '.join(missing)}")
    drifted = sorted(key for key in running if running[key] != str(values[key]))
    if drifted:
        yield f"sysctl -q -e -p {path}"
    else:
        host.noop(f"{len(running)} sysctl values already as set")


def config_in_force(lines: list) -> dict:
    """`key value`, `key = value` or a bare `key` per line, comments skipped: what config_values sets, as read back."""
    active = {}
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            key, _, value = stripped.replace("=", " ", 1).partition(" ")
            active[key.strip()] = value.strip()
    return active


@operation()
def config_values(path: str, values: dict, separator: str = " "):
    """Set `key<separator>value` lines in a config file; an empty value writes the bare key (a flag).

    + path: the config file (login.defs, pwquality.conf, faillock.conf, auditd.conf)
    + values: key -> value
    + separator: between key and value as written, e.g. " = "
    """
    active = config_in_force(host.get_fact(FileLines, path=path))
    changed = [key for key, value in values.items() if active.get(key) != str(value)]
    if not changed:
        host.noop(f"{path}: {len(values)} settings already as set")
        return
    for key in changed:
        line = key if values[key] == "" else f"{key}{separator}{values[key]}"
        yield (f"sed -i -E '/^[[:space:]]*#?[[:space:]]*{key}([[:space:]=]|$)/d' {path} && "
               f"echo {shlex.quote(line)} >> {path}")


@operation()
def modes(wanted: dict):
    """chmod the paths whose mode differs; paths absent on the node are reported, not created.

    + wanted: path -> octal mode, e.g. {"/etc/shadow": "0640"}
    """
    actual = host.get_fact(FileModes, paths=tuple(sorted(wanted)))
    absent = sorted(set(wanted) - set(actual))
    if absent:
        host.noop(f"absent on this node: {', '.join(absent)}")
    wrong = sorted(path for path in actual if actual[path] != wanted[path])
    for path in wrong:
        yield f"chmod {wanted[path]} {shlex.quote(path)}"
    if not wrong:
        host.noop(f"{len(actual)} file modes already as set")


MOUNT_SOURCES = {"/tmp": "tmpfs /tmp tmpfs", "/dev/shm": "tmpfs /dev/shm tmpfs",
                 "/var/tmp": "/var/tmp /var/tmp none", "/proc": "proc /proc proc"}


@operation()
def mount_options(wanted: dict):
    """Mount each target with at least the wanted options, persisted in /etc/fstab.

    + wanted: mount point -> comma-separated options, e.g. {"/tmp": "nodev,nosuid,noexec"}
    """
    unknown = sorted(set(wanted) - set(MOUNT_SOURCES))
    if unknown:
        raise OperationError(f"mount_options knows {sorted(MOUNT_SOURCES)}, not {unknown}")
    mounted = host.get_fact(MountOptions, targets=tuple(sorted(wanted)))
    for target, options in sorted(wanted.items()):
        needed = set(options.split(","))
        if needed <= mounted.get(target, set()):
            host.noop(f"{target} already mounted {options}")
            continue
        source = MOUNT_SOURCES[target]
        extra = ",bind" if " none" in source else (",mode=1777" if "tmpfs" in source and target != "/dev/shm" else "")
        line = f"{source} {options}{extra} 0 0"
        yield from files.line._inner(path="/etc/fstab", line=rf"^\S+\s+{target}\s", replace=line)
        if target in mounted:
            yield f"mount -o remount,{options} {target}"
        else:
            yield f"mount {target}"


def _audit_canonical(rule: str) -> str:
    """One form for a rule as written and as `auditctl -l` lists it: -k becomes key=, auid!=unset and its
    numeric spellings one value, syscalls and fields sorted, "-S all" dropped. Watches (-w) stay as written."""
    tokens = rule.split()
    if not tokens or tokens[0] != "-a":
        return " ".join(tokens)
    action, syscalls, fields, key = tokens[1], [], [], None
    pairs = iter(tokens[2:])
    for flag in pairs:
        value = next(pairs, "")
        if flag == "-S":
            syscalls += [name for name in value.split(",") if name != "all"]
        elif flag == "-k" or (flag == "-F" and value.startswith("key=")):
            key = value.removeprefix("key=")
        elif flag == "-C" and "!=" in value:
            fields.append(f"-C {'!='.join(sorted(value.split('!=')))}")  # auditctl lists euid!=uid as uid!=euid
        else:
            for unset in ("4294967295", "-1"):
                value = value.replace(f"!={unset}", "!=unset")
            fields.append(f"{flag} {value}")
    arch = [field for field in fields if field.startswith("-F arch=")]
    rest = sorted(field for field in fields if field not in arch)
    parts = ["-a", action, *arch] + (["-S", ",".join(sorted(syscalls))] if syscalls else []) + rest
    return " ".join(parts + (["-k", key] if key else []))


def loaded_audit_rules(listed: list) -> set:
    """The canonical forms of the rules `auditctl -l` listed."""
    return {_audit_canonical(rule) for rule in listed}


def audit_rule_findings(rules: tuple, listed: list, status: dict, enabled: str) -> dict:
    """How the kernel's audit state differs from the baseline: rules missing, rules loaded that the baseline does
    not have (a changed rule is both), and the enabled flag. {"missing": [...], "extra": [...], "enabled": "2"}."""
    wanted = {_audit_canonical(rule): rule for rule in rules}
    loaded = loaded_audit_rules(listed)
    return {"missing": [rule for canonical, rule in wanted.items() if canonical not in loaded],
            "extra": sorted(rule for rule in listed if _audit_canonical(rule) not in wanted),
            "enabled": status.get("enabled"), "enabled_expected": enabled}


@operation()
def audit_rules(rules: tuple, finalize: str, enabled: str, path: str, finalize_path: str):
    """Persist audit rules in rules.d (the final -e in a file of its own, merged last) and load them when the
    kernel's rule set differs. Rules made immutable (-e 2) cannot be changed before a reboot: the operation then
    fails, naming the reboot, after the files are written (the next boot loads them).

    + rules: auditctl rule lines
    + finalize: the last file's text ("-e 2")
    + enabled: what `auditctl -s` says once loaded ("2")
    + path: the rules.d file with the rules; finalize_path: the one merged last
    """
    yield from _put_text("".join(f"{rule}\n" for rule in rules), path, "0640")
    yield from _put_text(finalize, finalize_path, "0640")
    findings = audit_rule_findings(rules, host.get_fact(AuditRules), host.get_fact(AuditStatus), enabled)
    if not findings["missing"] and not findings["extra"] and findings["enabled"] == enabled:
        host.noop(f"{len(rules)} audit rules loaded, enabled {enabled}")
        return
    if findings["enabled"] == "2":
        raise OperationError(
            f"audit rules are immutable until the next boot (enabled 2) and differ from the baseline "
            f"({len(findings['missing'])} missing, {len(findings['extra'])} not in it); the rules files are "
            "written and load at the next boot: reboot the node, then re-run [ISO 27001:2022 A.8.15]")
    yield "augenrules --load"


_SED_SAFE = re.compile(r'^[A-Za-z0-9 ="-]+$')


@operation()
def grub_boot_config(files: tuple, linux_script: str, class_line: str, unrestricted_line: str, config: str,
                     config_mode: str):
    """The node's GRUB configuration: each file (the kernel-parameter drop-in under /etc/default/grub.d, the
    superuser-password script under /etc/grub.d), the OS's own entries made unrestricted (linux_script's CLASS line),
    then grub.cfg regenerated once where anything changed. grub-mkconfig leaves a new grub.cfg world-readable (0444),
    so its mode is set again in the same command. Without update-grub (a node booted another way) the files are
    written and the run says so. A linux_script without the expected CLASS line stops the run: the default entry
    would ask for a password at the next unattended boot.

    + files: ((path, text, mode, private), ...): private files hold a credential (_put_private_text)
    + linux_script: Debian's /etc/grub.d/10_linux
    + class_line, unrestricted_line: its CLASS line as shipped, and with --unrestricted
    + config: the grub.cfg update-grub writes
    + config_mode: its mode (baseline.FILESYSTEM.permissions)
    """
    changed = False
    for path, text, mode, private in files:
        changed |= host.get_fact(Sha256File, path=path) != _sha256(text)
        yield from (_put_private_text if private else _put_text)(text, path, mode)
    if not host.get_fact(CommandPresent, program="update-grub"):
        host.noop("update-grub not installed: the boot loader's own command line must carry the parameters "
                  "(checked in /proc/cmdline) and its own configuration the password")
        return
    script = host.get_fact(FileLines, path=linux_script) or []
    if unrestricted_line not in script:
        if class_line not in script:
            raise OperationError(f"{linux_script} has no line {class_line} to add --unrestricted to: the default boot "
                                 "entry would ask for GRUB's password at the next unattended boot; nothing regenerated "
                                 "(baseline.BOOTLOADER.unrestricted_default) [ISO 27001:2022 A.5.30, A.8.9]")
        assert _SED_SAFE.match(class_line) and _SED_SAFE.match(unrestricted_line)
        yield f"sed -i {shlex.quote(f's/^{class_line}$/{unrestricted_line}/')} {shlex.quote(linux_script)}"
        changed = True
    if changed:
        yield f"update-grub && chmod {config_mode} {shlex.quote(config)}"


@operation()
def sudoers_dropin(text: str, path: str, staging: str = "/etc/harden-sudoers.new"):
    """Install a sudoers.d drop-in only after `visudo -cf` accepted it: a file sudo rejects never lands (a broken
    sudoers file locks every administrator out of sudo).

    + text: the drop-in's content
    + path: its place under /etc/sudoers.d (no dot in the name: sudo skips such files)
    + staging: where it is checked first (outside sudoers.d)
    """
    if host.get_fact(Sha256File, path=path) == _sha256(text):
        host.noop(f"{path} already matches the baseline")
        return
    yield from _put_text(text, staging, "0440")
    yield (f"visudo -cqf {shlex.quote(staging)} && install -o root -g root -m 0440 {shlex.quote(staging)} "
           f"{shlex.quote(path)}; status=$?; rm -f {shlex.quote(staging)}; "
           f"[ $status -eq 0 ] || echo 'visudo refused the sudoers drop-in; nothing installed' >&2; exit $status")


# An interface name as nft takes it in a quoted iifname (Linux allows 15 characters; `*` ends a wildcard, as in br-*)
_INTERFACE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}\*?$")


def _interfaces(kind: str, names) -> list[str]:
    bad = [name for name in names if not _INTERFACE_NAME.match(str(name))]
    if bad:
        raise OperationError(f"{kind}: {bad!r} is not an interface name (letters, digits, _ . -, at most 15, an "
                             "optional trailing *) [ISO 27001:2022 A.8.20]")
    return [str(name) for name in names]


def nftables_text(table: str, policy: str, ssh_interfaces: tuple, service_ports: dict, icmp: bool, *,
                  forward_policy: str, container_interfaces: tuple, published_interfaces: tuple) -> str:
    """The nftables file of our own table: replaced atomically, other tables (Docker's) untouched.

    The forward chain is a base chain of its own on the forward hook: its drop is final whatever Docker's chains
    (FORWARD, DOCKER-USER) accept, so a published port Docker opened to every address is forwarded only when the
    connection arrived on a published interface (Docker's DNAT rewrote it: `ct status dnat`)."""
    accepts = [(interface, 22) for interface in _interfaces("firewall_ssh_interfaces", ssh_interfaces)]
    _interfaces("firewall_service_ports", list(service_ports))
    accepts += [(interface, int(port)) for interface, ports in sorted(service_ports.items()) for port in ports]
    stateful = ["ct state established,related accept", "ct state invalid drop"]
    rules = ['iif "lo" accept', *stateful]
    if icmp:
        # protocol numbers (1 icmp, 58 ipv6-icmp): a minimal node may lack /etc/protocols to resolve names
        rules.append("meta l4proto { 1, 58 } limit rate 20/second accept")
    rules += [f'iifname "{interface}" tcp dport {port} accept' for interface, port in accepts]
    forward = [*stateful,
               *(f'iifname "{name}" accept' for name in _interfaces("container interfaces", container_interfaces)),
               *(f'iifname "{name}" ct status dnat accept'
                 for name in _interfaces("firewall_published_interfaces", published_interfaces))]

    def chain(name: str, chain_policy: str, chain_rules: list) -> str:
        body = "".join(f"        {rule}\n" for rule in chain_rules)
        return (f"    chain {name} {{\n        type filter hook {name} priority filter; policy {chain_policy};\n"
                f"{body}    }}\n")

    # "table" then "delete table" makes the load idempotent; no "flush ruleset", which would drop Docker's tables.
    return (f"#!/usr/sbin/nft -f\ntable inet {table}\ndelete table inet {table}\n"
            f"table inet {table} {{\n{chain('input', policy, rules)}{chain('forward', forward_policy, forward)}}}\n")


@operation()
def nftables_table(table: str, policy: str, ssh_interfaces: tuple, service_ports: dict, icmp: bool,
                   forward_policy: str, container_interfaces: tuple, published_interfaces: tuple,
                   path: str = "/etc/nftables.conf"):
    """Load our own nftables table: input and forward default drop; SSH and service ports only on declared
    interfaces; forwarded only what containers start and their published ports reached on declared interfaces.

    Loaded when the table the kernel holds, as nft renders it, differs from the same text rendered by the node's
    nft in an empty network namespace: a changed verdict, a rule added or removed, or a changed policy.
    + table: the inet table's name
    + policy: input chain policy ("drop")
    + ssh_interfaces: interfaces SSH is accepted on, e.g. ("tailscale0",)
    + service_ports: interface -> ports accepted on it
    + icmp: accept rate-limited ICMP
    + forward_policy: forward chain policy ("drop")
    + container_interfaces: bridges whose traffic containers start, forwarded, e.g. ("docker0", "br-*")
    + published_interfaces: interfaces on which containers' published ports are reachable, e.g. ("tailscale0",)
    + path: the file nftables.service loads at boot
    """
    if not ssh_interfaces:
        raise OperationError("firewall_ssh_interfaces is empty: the node would be unreachable over SSH "
                             "[ISO 27001:2022 A.8.20]")
    text = nftables_text(table, policy, ssh_interfaces, service_ports, icmp, forward_policy=forward_policy,
                         container_interfaces=container_interfaces, published_interfaces=published_interfaces)
    yield from _put_text(text, path, "0600")
    rendered = host.get_fact(NftablesRendered, family="inet", table=table, text=text)
    if rendered["actual"] != rendered["expected"]:
        yield f"nft -f {path}"
    else:
        host.noop(f"table inet {table} already loaded as set")


def luks_findings(backing: dict) -> list[str]:
    """Problems of the devices under data paths and swap: not dm-crypt, not LUKS2, weak cipher or key."""
    problems = []
    for name, state in sorted(backing.items()):
        where = f"{name} ({state['path']} on {state['source']})"
        if not state["crypt_name"]:
            problems.append(f"{where} is not on dm-crypt")
        elif state["type"] != f"LUKS{LUKS.luks_version}":
            problems.append(f"{where} is {state['type']}, not LUKS{LUKS.luks_version}")
        elif state["cipher"] not in LUKS.allowed_ciphers or (state["key_bits"] or 0) < LUKS.min_key_bits:
            problems.append(f"{where} uses {state['cipher']} with a {state['key_bits']}-bit key "
                            f"(allowed: {', '.join(LUKS.allowed_ciphers)}, >= {LUKS.min_key_bits} bits)")
    return problems


@operation()
def require_encrypted(data_paths: dict):
    """Fail this host, changing nothing, unless every data path and every swap device sits on LUKS as the baseline says.

    + data_paths: name -> path, e.g. {"postgres": "/srv/data/postgres"}
    """
    backing = host.get_fact(EncryptionBacking, named_paths=data_paths)
    try:
        problems = luks_findings(backing)
        require(not problems, "data at rest not encrypted: " + "; ".join(problems), LUKS.controls("required_for"))
    except BaselineViolation as violation:
        raise OperationError(str(violation)) from None
    host.noop("encrypted: " + "; ".join(f"{name} on {state['device']} ({state['type']} {state['cipher']} "
                                           f"{state['key_bits']}-bit)" for name, state in sorted(backing.items())))
    yield from ()  # verification only: nothing to change


@operation()
def pam_profiles(profiles: tuple, module: str):
    """Enable pam-auth-update profiles unless common-auth already uses their module.

    + profiles: profile names under /usr/share/pam-configs
    + module: the PAM module they add, e.g. "pam_faillock.so"
    """
    if any(module in line for line in host.get_fact(FileLines, path="/etc/pam.d/common-auth")):
        host.noop(f"{module} already in the PAM stack")
        return
    yield f"DEBIAN_FRONTEND=noninteractive pam-auth-update --enable {' '.join(profiles)}"
