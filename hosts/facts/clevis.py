"""Facts of a node's network-bound disk unlock: the clevis bindings in a LUKS header, and whether the boot opened it.

The deploy (to decide whether to bind) and hosts.verify (to report evidence) read the same facts.
"""

import json
import shlex

from pyinfra.api import FactBase

from hosts.network_unlock import parse_bindings


class ClevisBindings(FactBase):
    """A LUKS2 device's clevis bindings from its token metadata (pin, tang URL, the signing-key thumbprints of the
    stored advertisement), checked against `clevis luks list` where clevis is installed.

    Returns {"readable": True, "bindings": [{"slot", "pin", "url", "thumbprints"}]}, or {"readable": False,
    "error": why} when the header cannot be read (no such device, not LUKS, clevis and the header disagree): unknown,
    never "none".
    """

    def command(self, device):
        dev = shlex.quote(device)
        return (f"if [ ! -b {dev} ]; then echo '@@ unreadable no such block device'; "
                "elif ! command -v cryptsetup >/dev/null; then echo '@@ unreadable cryptsetup is not installed'; "
                f"elif ! cryptsetup isLuks {dev} 2>/dev/null; then echo '@@ unreadable not a LUKS device'; "
                # the JSON ends without a newline: echo ends its last line
                f"else echo '@@ metadata'; cryptsetup luksDump --dump-json-metadata {dev} 2>/dev/null && echo "
                "|| echo '@@ unreadable cryptsetup luksDump failed'; "
                f"if command -v clevis >/dev/null; then echo '@@ list'; clevis luks list -d {dev} 2>/dev/null "
                "|| echo '@@ unreadable clevis luks list failed'; fi; fi")

    def process(self, output):
        sections: dict = {"list": None, "metadata": []}
        current = None
        for line in output:
            if line.startswith("@@ unreadable "):
                return {"readable": False, "error": line[len("@@ unreadable "):]}
            if line in ("@@ list", "@@ metadata"):
                current = line[3:]
                sections[current] = []
            elif current and line.strip():
                sections[current].append(line)
        try:
            metadata = json.loads("\n".join(sections["metadata"]))
            return {"readable": True, "bindings": parse_bindings(metadata, sections["list"])}
        except ValueError as error:
            return {"readable": False, "error": f"unparsable clevis/cryptsetup output: {error}"}

    def default(self):
        return {"readable": False, "error": "no output"}


class NetworkUnlockState(FactBase):
    """Whether the boot's unlock unit ran and the volume is open and mounted.

    Returns {"active": ..., "enabled": ..., "open": bool, "mounted_from": source or None}; a unit systemd does not
    answer for reads active "unknown", one that is not installed enabled "".
    """

    def command(self, unit, mapper_name, mount):
        mapper = shlex.quote(f"/dev/mapper/{mapper_name}")
        return (f"echo \"active $(systemctl is-active {shlex.quote(unit)} 2>/dev/null)\"; "
                f"echo \"enabled $(systemctl is-enabled {shlex.quote(unit)} 2>/dev/null)\"; "
                f"test -e {mapper} && echo 'open yes' || echo 'open no'; "
                f"echo \"mounted $(findmnt -n -r -o SOURCE -M {shlex.quote(mount)} 2>/dev/null | head -1)\"")

    def process(self, output):
        values = {}
        for line in output:
            key, _, value = line.partition(" ")
            values[key] = value.strip()
        return {"active": values.get("active") or "unknown", "enabled": values.get("enabled", ""),
                "open": values.get("open") == "yes", "mounted_from": values.get("mounted") or None}
