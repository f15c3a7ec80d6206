"""Network-bound disk unlock (clevis + tang) for a node's LUKS data volume: the settings, and what follows from them.

Pure functions of host data and of what the node's LUKS header holds, so the deploy (hosts/deploys/clevis.py), its
facts (hosts/facts/clevis.py) and the verifier (hosts.verify.network_unlock_checks) agree on the target.

Host data:
- tang_url, tang_thp: the tang server on the control node and its signing key's SHA-256 thumbprint
  (`python -m hosts.tang_server thumbprint DB`, or `tang-show-keys PORT` on the control node); neither set: the
  part is off (no operation, no check); one without the other is refused
- tang_luks_device: the data volume's LUKS device as /dev/disk/by-uuid/<LUKS UUID> (stable across boots)
- tang_luks_name: its device-mapper name (default "srvdata")
- tang_mount: where it is mounted (default: the common parent of luks_data_paths)
- tang_key_file: a 0600 file on the control node holding an existing passphrase or key of the volume; read only
  when a binding has to be made, sent to the node's tmpfs and removed there by the same command
"""

import base64
import hashlib
import json
import posixpath
import re
import shlex
from dataclasses import dataclass

from baseline import LUKS, BaselineViolation

HOST_DATA_KEYS = ("tang_url", "tang_thp", "tang_luks_device", "tang_luks_name", "tang_mount", "tang_key_file",
                  "luks_data_paths")
UNIT_NAME = "rae-data-unlock.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"
# Debian's packages: the clevis CLI and its tang pin, LUKS binding, and the boot-time askpass units
PACKAGES = ("clevis", "clevis-luks", "clevis-systemd")
# Each unlock attempt's limit, and the pause before the next one while tang is unreachable
ATTEMPT_TIMEOUT_S = 60
RETRY_S = 15
STAGING_DIR = "/dev/shm"  # tmpfs on Debian: the existing key never reaches a disk

_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
# base64url without padding of a SHA-256 digest: 43 characters
_THUMBPRINTS = {"S256": (re.compile(r"^[A-Za-z0-9_-]{43}$"), hashlib.sha256)}
_BY_UUID = re.compile(r"^/dev/disk/by-uuid/[0-9a-fA-F-]{36}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MOUNT = re.compile(r"^/[A-Za-z0-9._/-]*$")


@dataclass(frozen=True)
class NetworkUnlock:
    """One node's network-bound unlock: the pinned tang server and the volume it opens at boot."""

    url: str
    thp: str
    device: str
    name: str
    mount: str
    key_file: str | None = None

    @property
    def mapper(self) -> str:
        return f"/dev/mapper/{self.name}"


def from_host_data(data: dict) -> NetworkUnlock | None:
    """The node's NetworkUnlock, or None when the host data names no tang server; bad values raise BaselineViolation.

    + data: host data (only HOST_DATA_KEYS are read)
    """
    controls = LUKS.controls("network_unlock")
    url, thp = data.get("tang_url"), data.get("tang_thp")
    if not url and not thp:
        return None
    if not (url and thp):
        raise BaselineViolation("host data tang_url and tang_thp go together: a tang URL without the pinned thumbprint "
                                "would trust any server's advertisement, a thumbprint without a URL names no server",
                                controls)
    if not _URL.match(str(url)):
        raise BaselineViolation(f"tang_url {url!r} is not an http(s) URL of a host (optionally :port and /path)",
                                controls)
    pattern, _ = _THUMBPRINTS[LUKS.tang_thumbprint_hash]
    if not pattern.match(str(thp)):
        raise BaselineViolation(f"tang_thp is not a {LUKS.tang_thumbprint_hash} JWK thumbprint (43 base64url "
                                "characters, as tang-show-keys prints it)", LUKS.controls("tang_thumbprint_hash"))
    device = data.get("tang_luks_device")
    if not device or not _BY_UUID.match(str(device)):
        raise BaselineViolation(f"tang_luks_device must be the data volume as /dev/disk/by-uuid/<LUKS UUID> (a name "
                                f"like /dev/vdb can change between boots), not {device!r}", controls)
    name = data.get("tang_luks_name") or "srvdata"
    if not _NAME.match(str(name)):
        raise BaselineViolation(f"tang_luks_name {name!r} is not a device-mapper name (letters, digits, _ and -)",
                                controls)
    data_paths = data.get("luks_data_paths") or LUKS.data_paths
    mount = data.get("tang_mount") or posixpath.commonpath(list(data_paths.values()))
    if not _MOUNT.match(str(mount)) or mount == "/":
        raise BaselineViolation(f"tang_mount {mount!r} is not an absolute path below / without spaces", controls)
    return NetworkUnlock(url=str(url), thp=str(thp), device=str(device), name=str(name), mount=str(mount),
                         key_file=data.get("tang_key_file"))


def tang_config(url: str, thp: str) -> str:
    """clevis' tang pin configuration: the server and the thumbprint of the key that must sign its advertisement."""
    return json.dumps({"url": url, "thp": thp}, separators=(",", ":"))


def bind_command(device: str, url: str, thp: str, key_path: str) -> str:
    """The shell command that binds device to tang with the existing key read from key_path, and removes that file
    whatever the outcome (trap on exit). -y answers clevis' questions; with thp set, clevis still refuses an
    advertisement the pinned key did not sign."""
    return (f"trap 'rm -f {shlex.quote(key_path)}' EXIT; "
            f"clevis luks bind -y -d {shlex.quote(device)} -k {shlex.quote(key_path)} tang "
            f"{shlex.quote(tang_config(url, thp))}")


def unbind_command(device: str, slot: int) -> str:
    """The shell command that removes clevis' binding (token and key slot) from one LUKS key slot."""
    return f"clevis luks unbind -f -d {shlex.quote(device)} -s {int(slot)}"


def unit_text(unlock: NetworkUnlock) -> str:
    """The oneshot unit that opens the data volume through tang after the network is up, and mounts it.

    Not crypttab: a `_netdev` crypttab entry waits on a password prompt (and without nofail stops the boot in
    emergency mode) while tang is unreachable. This unit fails on its own, is retried until tang answers, and
    leaves the boot, sshd and the console alone. Already open (break-glass with the offline passphrase) or
    already mounted: that step is skipped.
    """
    device, name, mount = shlex.quote(unlock.device), shlex.quote(unlock.name), shlex.quote(unlock.mount)
    return (
        "# Written by hosts/deploys/clevis.py (baseline.LUKS.network_unlock); local edits are reverted.\n"
        "[Unit]\n"
        f"Description=Unlock the LUKS data volume through tang ({unlock.url}) and mount it at {unlock.mount}\n"
        "Documentation=man:clevis-luks-unlock(1)\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "StartLimitIntervalSec=0\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        f"TimeoutStartSec={ATTEMPT_TIMEOUT_S}\n"
        "Restart=on-failure\n"
        f"RestartSec={RETRY_S}\n"
        f"ExecStart=/bin/sh -c 'test -e /dev/mapper/{name} || exec /usr/bin/clevis luks unlock -d {device} -n {name}'\n"
        f"ExecStart=/bin/sh -c 'mountpoint -q {mount} || exec /bin/mount -o nodev,nosuid /dev/mapper/{name} {mount}'\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def locked_problem(state: dict, unlock: NetworkUnlock) -> str | None:
    """What the deploy says when the boot's unlock unit is installed and the volume is still not open (tang was not
    reached), with the way out; None when the volume is open or no unit is installed yet (a first deploy).

    + state: the NetworkUnlockState fact
    """
    if state["open"] or not state["enabled"]:
        return None
    return (f"LOCKED: the data volume {unlock.device} is not open: {UNIT_NAME} is {state['active']}, so the node could "
            f"not open it through tang at {unlock.url} (is tang running on the control node and reachable from the "
            f"node?). The unit retries until tang answers. Break-glass: `cryptsetup open {unlock.device} {unlock.name}`"
            f" with the offline passphrase, then `systemctl restart {UNIT_NAME}`")


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# RFC 7638 section 3.2: the members a thumbprint covers, per key type
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x"),
                       "oct": ("k", "kty")}


def jwk_thumbprint(jwk: dict, hash_name: str = "S256") -> str:
    """The RFC 7638 thumbprint of a public JWK, base64url without padding (what `jose jwk thp -a S256` prints)."""
    members = {key: jwk[key] for key in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    digest = _THUMBPRINTS[hash_name][1](canonical).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _signing_thumbprints(header: dict) -> list[str]:
    keys = header.get("clevis", {}).get("tang", {}).get("adv", {}).get("keys", [])
    return sorted(jwk_thumbprint(key, LUKS.tang_thumbprint_hash) for key in keys if "verify" in key.get("key_ops", []))


def parse_bindings(metadata: dict, listed: list[str] | None = None) -> list[dict]:
    """Each clevis binding of a LUKS2 volume: {"slot", "pin", "url", "thumbprints"}, in key-slot order.

    + metadata: `cryptsetup luksDump --dump-json-metadata DEV`: each clevis token's protected header names its pin, its
      tang URL and the advertisement it trusted (whose signing keys give the thumbprints); read with cryptsetup alone,
      so a node without clevis yet (a first deploy's dry run) is read too
    + listed: lines of `clevis luks list -d DEV` ("1: tang '{"url":"..."}'") where clevis is installed: what clevis
      itself will try at boot must be the same slots, pins and URLs, or ValueError
    """
    bindings = []
    for token in metadata.get("tokens", {}).values():
        if token.get("type") != "clevis":
            continue
        header = json.loads(_b64url(token["jwe"]["protected"]))
        pin = header.get("clevis", {}).get("pin", "unknown")
        url = header["clevis"].get("tang", {}).get("url") if pin == "tang" else None
        bindings += [{"slot": int(slot), "pin": pin, "url": url, "thumbprints": _signing_thumbprints(header)}
                     for slot in token.get("keyslots", [])]
    bindings.sort(key=lambda binding: binding["slot"])
    if listed is not None:
        seen = []
        for line in listed:
            match = re.match(r"^(\d+): (\S+) '(.*)'$", line.strip())
            if not match:
                raise ValueError(f"unexpected line from clevis luks list: {line!r}")
            config = json.loads(match[3])
            seen.append((int(match[1]), match[2], config.get("url") if match[2] == "tang" else None))
        header_view = [(binding["slot"], binding["pin"], binding["url"]) for binding in bindings]
        if sorted(seen) != header_view:
            raise ValueError(f"clevis luks list reads {sorted(seen)}, the LUKS header {header_view}")
    return bindings


def binding_problem(binding: dict, url: str, thp: str) -> str | None:
    """Why one binding is not the pinned one, or None when it is."""
    where = f"key slot {binding['slot']}"
    if binding["pin"] != "tang":
        return f"{where} is bound with the {binding['pin']} pin, not tang"
    if binding["url"] != url:
        return f"{where} is bound to tang at {binding['url']}, not {url}"
    if thp not in binding["thumbprints"]:
        return (f"{where} trusts tang signing key(s) {', '.join(binding['thumbprints']) or 'none'}, not the pinned "
                f"{thp}")
    return None


def binding_findings(bindings: list[dict], url: str, thp: str) -> list[str]:
    """Problems of a volume's clevis bindings against the pinned server: none bound, or any binding that unlocks
    through something else (another pin, URL or key: another way in)."""
    if not bindings:
        return [f"no clevis binding: the volume cannot open through tang at {url}"]
    return [problem for problem in (binding_problem(binding, url, thp) for binding in bindings) if problem]


def binding_actions(bindings: list[dict], url: str, thp: str) -> tuple[bool, list[int]]:
    """What brings the bindings to exactly the pinned one: (bind a new one?, key slots to unbind). The new binding is
    made before any stale one is removed, so the volume never loses its way in through clevis half-way."""
    stale = [binding["slot"] for binding in bindings if binding_problem(binding, url, thp)]
    return len(stale) == len(bindings), stale
