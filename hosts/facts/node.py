"""Facts about a node's effective hardening state: what the kernel, sshd, auditd and nftables actually run.

Each fact is a command and a parser into plain data, so a deploy (to decide what to change) and
hosts.verify (to report evidence) read the same thing.
"""

import base64
import json
import shlex

from pyinfra.api import FactBase


class SshdEffective(FactBase):
    """sshd's effective configuration (`sshd -T`): lower-case keyword -> value (a list for repeated keywords)."""

    requires_command = "sshd"

    def command(self, config_path="/etc/ssh/sshd_config", connection=None):
        # -C evaluates Match blocks for a connection (user, host, addr): without it they are never read
        spec = ",".join(f"{key}={value}" for key, value in sorted((connection or {}).items()))
        return f"sshd -T -f {shlex.quote(config_path)}" + (f" -C {shlex.quote(spec)}" if spec else "")

    def process(self, output):
        repeated = {"hostkey", "listenaddress", "port", "include", "acceptenv", "subsystem"}
        config: dict = {}
        for line in output:
            keyword, _, value = line.partition(" ")
            if keyword in repeated:
                config.setdefault(keyword, []).append(value)
            else:
                config[keyword] = value
        return config


class SshOfferedKex(FactBase):
    """Key exchange algorithms the node's OpenSSH implements (`ssh -Q kex`)."""

    requires_command = "ssh"

    def command(self):
        return "ssh -Q kex"

    def process(self, output):
        return [line.strip() for line in output if line.strip()]


class SshHostKeyFiles(FactBase):
    """Private host key files present in /etc/ssh."""

    def command(self):
        return "find /etc/ssh -maxdepth 1 -name 'ssh_host_*_key' -type f | sort"

    def process(self, output):
        return list(output)


class WeakModuli(FactBase):
    """Number of Diffie-Hellman groups in /etc/ssh/moduli smaller than min_bits."""

    def command(self, min_bits):
        # the fifth field is the modulus size minus one (a 3072-bit group reads 3071)
        return f"awk '$5 != \"\" && $5 ~ /^[0-9]+$/ && $5 < {int(min_bits) - 1}' /etc/ssh/moduli | wc -l"

    def process(self, output):
        return int(output[0])


class SysctlValues(FactBase):
    """Running kernel values of the given sysctl keys (keys the kernel lacks are absent)."""

    def command(self, keys):
        return "sysctl -e " + " ".join(shlex.quote(key) for key in keys)

    def process(self, output):
        values = {}
        for line in output:
            key, _, value = line.partition(" = ")
            values[key.strip()] = " ".join(value.split())
        return values


class AuditRules(FactBase):
    """Rules loaded in the kernel audit subsystem (`auditctl -l`), in auditctl's canonical form."""

    requires_command = "auditctl"

    def command(self):
        return "auditctl -l"

    def process(self, output):
        return [line for line in output if line and line != "No rules"]


class AuditStatus(FactBase):
    """The kernel audit subsystem's status (`auditctl -s`): key -> value, e.g. {"enabled": "2", "failure": "1"}."""

    requires_command = "auditctl"

    def command(self):
        return "auditctl -s"

    def process(self, output):
        return dict(line.split(" ", 1) for line in output if " " in line)


class NftablesRendered(FactBase):
    """One nftables table as the node's nft renders it (`nft list table`, lines stripped), next to the same table
    rendered from `text` by the same nft in an empty network namespace: {"actual": [...] or None, "expected": [...]}.
    Comparing the two compares every rule and verdict, in order, as the kernel holds them."""

    requires_command = "nft"

    def command(self, family, table, text):
        encoded = base64.b64encode(text.encode()).decode()
        listing = f"nft list table {shlex.quote(family)} {shlex.quote(table)}"
        return (f"echo '@@ actual'; {listing} 2>/dev/null || echo '@@ absent'; echo '@@ expected'; "
                f"echo {encoded} | base64 -d | unshare --net sh -c 'nft -f - && {listing}'")

    def process(self, output):
        rendered: dict = {"actual": [], "expected": []}
        current = None
        for line in output:
            if line in ("@@ actual", "@@ expected"):
                current = line[3:]
            elif line == "@@ absent":
                rendered["actual"] = None
            elif line.strip() and current and rendered[current] is not None:
                rendered[current].append(" ".join(line.split()))
        if not rendered["expected"]:
            raise ValueError("nft rendered no table from the expected text")
        return rendered


class FstabTypes(FactBase):
    """Filesystem type per mount point in /etc/fstab (what the next boot mounts): path -> fstype."""

    def command(self):
        return "findmnt --fstab -n -r -o TARGET,FSTYPE 2>/dev/null || true"

    def process(self, output):
        return dict(line.split(" ", 1) for line in output if " " in line)


class UserGroups(FactBase):
    """The groups a user belongs to (`id -nG`); empty when the user does not exist."""

    def command(self, user):
        return f"id -nG {shlex.quote(user)} 2>/dev/null || true"

    def process(self, output):
        return " ".join(output).split()

    def default(self):
        return []


class SudoDefaults(FactBase):
    """The sudoers Defaults in force for a user (`sudo -l -U USER`, "Matching Defaults entries" section)."""

    requires_command = "sudo"

    def command(self, user):
        return f"sudo -n -l -U {shlex.quote(user)} 2>/dev/null | sed -n '/^Matching Defaults/,/^$/p'"

    def process(self, output):
        entries = []
        for line in output[1:]:
            entries += [entry.strip().replace('"', "") for entry in line.split(", ") if entry.strip()]
        return entries

    def default(self):
        return []


class EncryptionBacking(FactBase):
    """For named paths and every active swap device: the block device below it and its dm-crypt mapping.

    Returns {name: {"path", "source", "crypt_name", "type", "cipher", "key_bits", "device"}}; crypt_name
    is None when the device does not sit on dm-crypt. Swap entries are named "swap:<device>".
    """

    def command(self, named_paths):
        probe = (
            'q="$2"; while [ ! -e "$q" ]; do q=$(dirname "$q"); done; '
            'src=$(findmnt -n -o SOURCE --target "$q" | head -1); '
            'echo "@@ $1 $2 $src"; '
            'crypt=$(lsblk -n -s -r -o NAME,TYPE "$src" 2>/dev/null | awk \'$2=="crypt"{print $1; exit}\'); '
            '[ -n "$crypt" ] && { echo "crypt_name: $crypt"; cryptsetup status "$crypt"; }; true'
        )
        lines = [f"probe() {{ {probe}; }}"]
        lines += [f"probe {shlex.quote(name)} {shlex.quote(path)}" for name, path in sorted(named_paths.items())]
        lines.append('for s in $(swapon --show=NAME --noheadings 2>/dev/null); do probe "swap:$s" "$s"; done')
        return "; ".join(lines)

    def process(self, output):
        backing: dict = {}
        current = None
        for line in output:
            if line.startswith("@@ "):
                _, name, path, *source = line.split(" ")
                current = backing[name] = {"path": path, "source": " ".join(source), "crypt_name": None,
                                           "type": None, "cipher": None, "key_bits": None, "device": None}
                continue
            key, _, value = line.strip().partition(":")
            value = value.strip()
            if current is None:
                continue
            if key == "crypt_name":
                current["crypt_name"] = value
            elif key in ("type", "cipher", "device"):
                current[key] = value
            elif key == "keysize":
                current["key_bits"] = int(value.split()[0])
        return backing


class FileModes(FactBase):
    """Octal modes of the given paths that exist: path -> "0644"."""

    def command(self, paths):
        return "stat -c '%a %n' " + " ".join(shlex.quote(path) for path in paths) + " 2>/dev/null || true"

    def process(self, output):
        modes = {}
        for line in output:
            mode, _, path = line.partition(" ")
            modes[path] = mode.zfill(4)
        return modes

    def default(self):
        return {}  # none of the paths exists: stat printed nothing


class MountOptions(FactBase):
    """Mount options of those given mount points that are mounted: target -> set of options."""

    def command(self, targets):
        quoted = " ".join(shlex.quote(target) for target in targets)
        return f"for t in {quoted}; do findmnt -n -r -o TARGET,OPTIONS -M \"$t\"; done; true"

    def process(self, output):
        mounts = {}
        for line in output:
            target, _, options = line.partition(" ")
            mounts[target] = set(options.split(","))
        return mounts


class FileLines(FactBase):
    """Lines of a text file (empty when it does not exist)."""

    def command(self, path):
        return f"cat {shlex.quote(path)} 2>/dev/null || true"

    def process(self, output):
        return list(output)

    def default(self):
        return []


class UnitStates(FactBase):
    """systemd units' states: unit -> {"active": `systemctl is-active`, "enabled": `systemctl is-enabled`}
    ("unknown" where systemctl printed nothing, e.g. for a unit that does not exist)."""

    requires_command = "systemctl"

    def command(self, units):
        names = " ".join(shlex.quote(unit) for unit in units)
        return (f"for unit in {names}; do echo \"$unit $(systemctl is-active \"$unit\" 2>/dev/null) "
                f"$(systemctl is-enabled \"$unit\" 2>/dev/null)\"; done")

    def process(self, output):
        states = {}
        for line in output:
            unit, *values = line.split()
            values += ["unknown"] * (2 - len(values))
            states[unit] = {"active": values[0], "enabled": values[1]}
        return states


class CommandPresent(FactBase):
    """Whether a command is on the node's PATH."""

    def command(self, program):
        return f"command -v {shlex.quote(program)} >/dev/null && echo yes || echo no"

    def process(self, output):
        return output[0] == "yes"


class DockerEngine(FactBase):
    """The node's Docker engine as it runs: `{"installed": bool, "config": /etc/docker/daemon.json parsed (None when
    absent or not JSON), "info": `docker info` (None when the engine does not answer), "subuid"/"subgid": the texts of
    /etc/subuid and /etc/subgid}`; nothing but "installed" where dockerd is not on the PATH."""

    def command(self):
        return ("command -v dockerd >/dev/null || { echo absent; exit 0; }; echo present; "
                "for file in /etc/docker/daemon.json /etc/subuid /etc/subgid; do "
                "printf '%s ' \"$file\"; base64 -w0 \"$file\" 2>/dev/null; echo; done; "
                "printf 'info '; docker info --format '{{json .}}' 2>/dev/null | base64 -w0; echo")

    def process(self, output):
        lines = list(output)
        if not lines or lines[0] != "present":
            return {"installed": False}
        fields = {}
        for line in lines[1:]:
            name, _, encoded = line.partition(" ")
            fields[name] = base64.b64decode(encoded.strip()).decode(errors="replace") if encoded.strip() else ""

        def parsed(text):
            try:
                return json.loads(text) if text else None
            except ValueError:
                return None
        return {"installed": True, "config": parsed(fields.get("/etc/docker/daemon.json")),
                "info": parsed(fields.get("info")), "subuid": fields.get("/etc/subuid", ""),
                "subgid": fields.get("/etc/subgid", "")}


class TimeServices(FactBase):
    """The node's time daemons as systemd runs them, and whether systemd-timesyncd has synchronised the clock.

    `{"units": {unit: {"active": state, "enabled": state}}, "synchronised": bool}`; a unit that is not installed
    reads active "inactive" and enabled "" (systemctl prints nothing). timesyncd creates
    /run/systemd/timesync/synchronized once it has set the clock from a server (systemd-time-wait-sync waits on it);
    systemctl reaches systemd without D-Bus, so a minimal node answers too.
    """

    requires_command = "systemctl"

    def command(self, units):
        probes = "".join(f"printf '%s %s %s\\n' {shlex.quote(unit)} "
                         f"\"$(systemctl is-active {shlex.quote(unit + '.service')} 2>/dev/null)\" "
                         f"\"$(systemctl is-enabled {shlex.quote(unit + '.service')} 2>/dev/null)\"; "
                         for unit in units)
        return probes + "test -e /run/systemd/timesync/synchronized && echo 'synchronised yes' || echo 'synchronised no'"

    def process(self, output):
        units, synchronised = {}, False
        for line in output:
            name, _, rest = line.partition(" ")
            if name == "synchronised":
                synchronised = rest.strip() == "yes"
                continue
            active, _, enabled = rest.partition(" ")
            units[name] = {"active": active.strip() or "unknown", "enabled": enabled.strip()}
        return {"units": units, "synchronised": synchronised}


class BackupConfigQdrant(FactBase):
    """The `qdrant` entry of a `harden backup` config on the node: {} when the config names none, None when the
    config is absent; a config that is not a JSON object reads as {"unreadable": reason} (paths only, no secret)."""

    def command(self, config_path):
        return f"cat {shlex.quote(config_path)} 2>/dev/null || true"

    def process(self, output):
        config = _backup_config(output)
        if config is None or isinstance(config, str):
            return config and {"unreadable": config}
        entry = config.get("qdrant")
        return dict(entry) if isinstance(entry, dict) else {}


def _backup_config(output) -> dict | str | None:
    """A `harden backup` config as `cat` printed it: the JSON object, None when absent, or why it is unreadable."""
    text = "\n".join(output).strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not JSON ({error.msg})"
    return config if isinstance(config, dict) else "not a JSON object"


class BackupConfigDatasets(FactBase):
    """The data sets a `harden backup` config on the node names, sorted (of `postgres`, `qdrant`, `files`); None when
    the config is absent; ["unreadable"] when it is not a JSON object (paths only, no secret is returned)."""

    def command(self, config_path):
        return f"cat {shlex.quote(config_path)} 2>/dev/null || true"

    def process(self, output):
        config = _backup_config(output)
        if config is None or isinstance(config, str):
            return config and ["unreadable"]
        return sorted(key for key in ("postgres", "qdrant", "files") if config.get(key))


class BackupToolkit(FactBase):
    """The backup toolkit at a project dir: {"stamp": the stamp file's content or None, "runs": whether its
    `.venv/bin/harden backup --help` exits 0} (hosts.backup_toolkit)."""

    def command(self, project_dir, stamp_file):
        project = shlex.quote(project_dir)
        return (f"echo \"stamp=$(cat {project}/{shlex.quote(stamp_file)} 2>/dev/null)\"; "
                f"if {project}/.venv/bin/harden backup --help >/dev/null 2>&1; then echo runs=yes; else echo runs=no; fi")

    def process(self, output):
        values = dict(line.split("=", 1) for line in output if "=" in line)
        return {"stamp": values.get("stamp") or None, "runs": values.get("runs") == "yes"}


class RunningContainerNames(FactBase):
    """Names of the containers Docker runs on the node (None when Docker cannot be asked)."""

    requires_command = "docker"

    def command(self):
        return "docker ps --format '{{.Names}}' 2>/dev/null || echo '!unreachable'"

    def process(self, output):
        names = [line.strip() for line in output if line.strip()]
        return None if "!unreachable" in names else names
