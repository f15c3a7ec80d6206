"""Network-bound disk unlock on real parts, on this machine (no VM): a LUKS2 volume on a loop device, Debian's tangd
behind socat (hosts.tang_server), Debian's clevis binding and unlocking it, and the facts and verifier of the deploy
reading each case. Needs root (losetup, cryptsetup).

This machine's kernel has no device-mapper, so no LUKS volume can be *activated* here: the proof of the unlock is
`clevis luks unlock -t SLOT`, clevis' own unlock path (the key recovered through tang, then checked against the
volume's key slot by `cryptsetup open --test-passphrase`) without the final dm-crypt mapping. The boot-time unit on a
node is not run here (the Node1 VM suite does not wire tang in yet): systemd's `systemd-analyze verify` checks it, and
jose checks our RFC 7638 thumbprints.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from baseline import LUKS
from hosts import network_unlock, tang_server
from hosts.facts.clevis import ClevisBindings, NetworkUnlockState
from hosts.verify import network_unlock_checks
from tests.hosts.pyinfra_run import run_pyinfra

pytestmark = pytest.mark.integration

NAME = "raeclevistest"
NODE_DATA = {"tang_url": "http://100.64.0.10:7500", "tang_thp": "O7AlNmvsEIpDhkEGo_4tDQllJDkZNVP9eIcZlAsO3q0",
             "tang_luks_device": "/dev/disk/by-uuid/8ffbe219-935b-4a20-bd4f-deb69d0308ec"}


def _fact(fact_class, **arguments):
    """Run a fact's command here, as pyinfra runs it on a node (sh), and parse its output with the fact's own parser."""
    fact = fact_class()
    output = subprocess.run(["sh", "-c", fact.command(**arguments)], capture_output=True, text=True, timeout=60)
    return fact.process(output.stdout.splitlines())


def _sh(command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def tang():
    """Two tang key sets (the second only for its thumbprint) and a running server for the first."""
    assert os.geteuid() == 0, "the network unlock tests need root (losetup, cryptsetup)"
    with tempfile.TemporaryDirectory(prefix="rae-tang-") as top:
        os.chmod(top, 0o711)  # tangd runs as _tang and must reach its key directory
        db, other = Path(top) / "db", Path(top) / "other"
        thp, other_thp = tang_server.keygen(db), tang_server.keygen(other)
        server = tang_server.TangServer(db, "127.0.0.1", tang_server.free_port()).start()
        try:
            yield {"server": server, "db": db, "thp": thp, "other_thp": other_thp}
        finally:
            server.stop()


@pytest.fixture
def volume(tmp_path):
    """A fresh LUKS2 volume (baseline cipher and key size) on a loop device, with its key in a 0600 file; the loop
    device is detached (and any mapping closed) whatever the test did."""
    image, key = tmp_path / "data.img", tmp_path / "data.key"
    subprocess.run(["truncate", "-s", "32M", str(image)], check=True)
    key.write_bytes(os.urandom(64))
    key.chmod(0o600)
    device = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True,
                            check=True).stdout.strip()
    try:
        subprocess.run(["cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--cipher",
                        LUKS.allowed_ciphers[0], "--key-size", str(LUKS.min_key_bits), "--pbkdf", "pbkdf2",
                        "--pbkdf-force-iterations", "1000", "--key-file", str(key), device], check=True,
                       capture_output=True)
        yield {"device": device, "key": key, "staging": tmp_path}
    finally:
        if Path(f"/dev/mapper/{NAME}").exists():
            subprocess.run(["cryptsetup", "close", NAME], check=False)
        subprocess.run(["losetup", "--detach", device], check=False)


def _unlock(device: str, url: str, thp: str) -> network_unlock.NetworkUnlock:
    return network_unlock.NetworkUnlock(url=url, thp=thp, device=device, name=NAME, mount="/srv/data")


def _bind(volume: dict, url: str, thp: str) -> subprocess.CompletedProcess:
    """The deploy's bind command, with the key staged as the deploy stages it (0600, removed by the command)."""
    staged = volume["staging"] / "staged.key"
    shutil.copyfile(volume["key"], staged)
    staged.chmod(0o600)
    result = _sh(network_unlock.bind_command(volume["device"], url, thp, str(staged)))
    assert not staged.exists(), "the bind command must remove the staged key, whatever its outcome"
    return result


def _binding_check(unlock, device):
    return network_unlock_checks(unlock, _fact(ClevisBindings, device=device),
                                 _fact(NetworkUnlockState, unit=network_unlock.UNIT_NAME, mapper_name=NAME, mount="/srv/data"))[0]


def test_the_pinned_thumbprint_is_what_tang_advertises(tang):
    """The thumbprint the node pins, computed from the key directory, equals Debian's tang-show-keys (from the
    served advertisement) and our RFC 7638 computation of the advertised signing key."""
    shown = subprocess.run(["tang-show-keys", str(tang["server"].port)], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == tang["thp"] != tang["other_thp"]
    payload = network_unlock._b64url(tang["server"].advertisement()["payload"])
    keys = json.loads(payload)["keys"]
    assert [network_unlock.jwk_thumbprint(key) for key in keys if "verify" in key["key_ops"]] == [tang["thp"]]
    assert oct(tang["db"].stat().st_mode & 0o777) == "0o700" and tang["db"].owner() == tang_server.USER
    # the operator's command prints the same
    cli = subprocess.run([sys.executable, "-m", "hosts.tang_server", "thumbprint", str(tang["db"])],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    assert cli.stdout.strip() == tang["thp"]


def test_bound_volume_unlocks_through_tang_and_stays_locked_without_it(tang, volume):
    url, device = tang["server"].url, volume["device"]
    bound = _bind(volume, url, tang["thp"])
    assert bound.returncode == 0, bound.stderr
    checks = network_unlock_checks(_unlock(device, url, tang["thp"]), _fact(ClevisBindings, device=device),
                                   _fact(NetworkUnlockState, unit=network_unlock.UNIT_NAME, mapper_name=NAME, mount="/srv/data"))
    assert checks[0]["status"] == "pass", checks[0]
    assert set(checks[0]["controls"]) >= {"A.8.24", "A.7.10"}
    # the volume is not open on this machine: the verifier says locked, never pass
    assert checks[2]["actual"] == "locked" and checks[2]["status"] == "fail"
    slot = str(_fact(ClevisBindings, device=device)["bindings"][0]["slot"])
    assert _sh(f"clevis luks unlock -d {device} -t {slot}").returncode == 0
    tang["server"].stop()
    try:
        assert _sh(f"clevis luks unlock -d {device} -t {slot}").returncode != 0
        opened = _sh(f"clevis luks unlock -d {device} -n {NAME}")
        # clevis gives up before cryptsetup is asked: no key came back from tang
        assert opened.returncode != 0 and f"{device} could not be opened" in opened.stderr
        assert not Path(f"/dev/mapper/{NAME}").exists()
        # the binding itself is still read (the header is local): the verifier judges it, not tang's reachability
        assert _binding_check(_unlock(device, url, tang["thp"]), device)["status"] == "pass"
    finally:
        tang["server"].start()
    assert _sh(f"clevis luks unlock -d {device} -t {slot}").returncode == 0


def test_a_wrong_thumbprint_is_refused_at_bind_time(tang, volume):
    refused = _bind(volume, tang["server"].url, tang["other_thp"])
    assert refused.returncode != 0
    assert _fact(ClevisBindings, device=volume["device"]) == {"readable": True, "bindings": []}


def test_the_verifier_reads_missing_other_url_other_key_and_unreadable(tang, volume):
    url, device, thp = tang["server"].url, volume["device"], tang["thp"]
    missing = _binding_check(_unlock(device, url, thp), device)
    assert missing["status"] == "fail" and "no clevis binding" in missing["actual"][0]
    # the same server under another name is another URL: bound there, the pinned URL is not what the node asks
    other_url = url.replace("127.0.0.1", "localhost")
    assert _bind(volume, other_url, thp).returncode == 0
    elsewhere = _binding_check(_unlock(device, url, thp), device)
    assert elsewhere["status"] == "fail" and f"bound to tang at {other_url}, not {url}" in elsewhere["actual"][0]
    other_key = _binding_check(_unlock(device, other_url, tang["other_thp"]), device)
    assert other_key["status"] == "fail" and f"not the pinned {tang['other_thp']}" in other_key["actual"][0]
    assert _binding_check(_unlock(device, other_url, thp), device)["status"] == "pass"
    plain = _unlock("/dev/rae-no-such-device", url, thp)
    unreadable = _binding_check(plain, plain.device)
    assert unreadable["status"] == "unknown" and unreadable["actual"] == "no such block device"


# The deploy's binding operation alone, on this machine through pyinfra's @local connector: the node's device name is
# a loop device here (no udev, so no /dev/disk/by-uuid link), so the NetworkUnlock is built from the host data as is.
BIND_DEPLOY = """
from pyinfra import host
from hosts.network_unlock import NetworkUnlock
from hosts.operations.network_unlock import tang_binding
tang_binding(name="volume bound to tang", unlock=NetworkUnlock(
    url=host.data.tang_url, thp=host.data.tang_thp, device=host.data.tang_luks_device, name="raeclevistest",
    mount="/srv/data", key_file=host.data.tang_key_file))
"""


def test_the_deploy_converges_a_stale_binding_then_changes_nothing(tang, volume, tmp_path):
    """pyinfra runs the binding operation: from a binding to another URL it binds the pinned one and removes the
    stale slot, staging the key on tmpfs and leaving none there; a second run reads the fact and changes nothing."""
    url, device, thp = tang["server"].url, volume["device"], tang["thp"]
    assert _bind(volume, url.replace("127.0.0.1", "localhost"), thp).returncode == 0
    deploy = tmp_path / "bind.py"
    deploy.write_text(BIND_DEPLOY)
    data = {"tang_url": url, "tang_thp": thp, "tang_luks_device": device, "tang_key_file": str(volume["key"])}
    staged_before = set(Path(network_unlock.STAGING_DIR).glob("harden-clevis-*"))
    first = run_pyinfra({"local": [("@local", data)]}, tmp_path, deploy=str(deploy), timeout=120)
    assert first.succeeded("@local") and first.changed("@local") == ["volume bound to tang"], first.log[-3000:]
    assert set(Path(network_unlock.STAGING_DIR).glob("harden-clevis-*")) == staged_before
    assert volume["key"].read_bytes().hex() not in first.log
    after = _fact(ClevisBindings, device=device)["bindings"]
    assert [binding["url"] for binding in after] == [url]
    assert _binding_check(_unlock(device, url, thp), device)["status"] == "pass"
    assert _sh(f"clevis luks unlock -d {device} -t {after[0]['slot']}").returncode == 0
    second = run_pyinfra({"local": [("@local", data)]}, tmp_path, deploy=str(deploy), timeout=120)
    assert second.succeeded("@local") and second.changed("@local") == [], second.log[-3000:]


def test_systemd_accepts_the_unlock_unit(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is part of the test environment (systemd package)"
    unit = tmp_path / network_unlock.UNIT_NAME
    unit.write_text(network_unlock.unit_text(network_unlock.from_host_data(NODE_DATA)))
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr
    text = unit.read_text()
    assert "Restart=on-failure" in text and "WantedBy=multi-user.target" in text
    assert f"clevis luks unlock -d {NODE_DATA['tang_luks_device']} -n srvdata" in text
    # nothing orders sshd (or the boot) after it: a node whose tang is down still boots and answers SSH
    assert "Before=" not in text and "RequiredBy=" not in text


def test_thumbprints_are_rfc7638_as_jose_computes_them():
    jwk = {"alg": "ES512", "crv": "P-521", "key_ops": ["verify"], "kty": "EC", "x": "AeX1t4T2", "y": "AX_0"}
    jose = subprocess.run(["jose", "jwk", "thp", "-i-", "-a", "S256"], input=json.dumps(jwk), capture_output=True,
                          text=True, check=True)
    assert network_unlock.jwk_thumbprint(jwk) == jose.stdout.strip()
