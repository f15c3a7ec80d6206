"""Network-bound unlock without a node or a real part: host data refused with the controls at stake, the deploy's
commands as rendered, the facts' parsers, the binding decisions the deploy's idempotence rests on, and the verdicts of
the verifier and of the deploy's LOCKED check. The unit file under systemd-analyze and the thumbprints against jose
are in tests/hosts/test_network_unlock.py (real tools)."""

import base64
import json

import pytest

from baseline import LUKS, BaselineViolation
from hosts import network_unlock
from hosts.facts.clevis import ClevisBindings, NetworkUnlockState
from hosts.operations.network_unlock import read_key_file
from hosts.verify import network_unlock_checks

URL = "http://100.64.0.10:7500"
THP = "O7AlNmvsEIpDhkEGo_4tDQllJDkZNVP9eIcZlAsO3q0"
DEVICE = "/dev/disk/by-uuid/8ffbe219-935b-4a20-bd4f-deb69d0308ec"
DATA = {"tang_url": URL, "tang_thp": THP, "tang_luks_device": DEVICE}


def test_no_tang_in_the_host_data_turns_the_part_off():
    assert network_unlock.from_host_data({}) is None
    assert network_unlock.from_host_data({"tang_url": None, "tang_thp": ""}) is None


def test_defaults_follow_the_baseline_data_paths():
    unlock = network_unlock.from_host_data(DATA)
    assert (unlock.name, unlock.mount, unlock.mapper) == ("srvdata", "/srv/data", "/dev/mapper/srvdata")
    assert network_unlock.from_host_data({**DATA, "luks_data_paths": {"pg": "/data/a/pg", "q": "/data/a/q"}}).mount \
        == "/data/a"


@pytest.mark.parametrize("override, problem, control", [
    ({"tang_thp": None}, "tang_url and tang_thp go together", "A.8.24"),
    ({"tang_url": None}, "tang_url and tang_thp go together", "A.7.10"),
    ({"tang_url": "ftp://control:7500"}, "is not an http(s) URL", "A.8.24"),
    ({"tang_url": "http://control:7500/adv; rm -rf /"}, "is not an http(s) URL", "A.8.24"),
    ({"tang_thp": "tooshort"}, "is not a S256 JWK thumbprint", "A.8.21"),
    ({"tang_luks_device": "/dev/vdb"}, "/dev/disk/by-uuid/<LUKS UUID>", "A.8.24"),
    ({"tang_luks_name": "data vol"}, "is not a device-mapper name", "A.8.24"),
    ({"tang_mount": "/"}, "is not an absolute path below /", "A.8.24"),
])
def test_bad_host_data_is_refused_naming_the_control(override, problem, control):
    with pytest.raises(BaselineViolation) as refused:
        network_unlock.from_host_data({**DATA, **override})
    assert problem in str(refused.value) and control in refused.value.controls


def test_the_bind_command_pins_the_thumbprint_and_removes_the_staged_key():
    command = network_unlock.bind_command(DEVICE, URL, THP, "/dev/shm/harden-clevis-ab.key")
    assert command.startswith("trap 'rm -f /dev/shm/harden-clevis-ab.key' EXIT; ")
    assert f"clevis luks bind -y -d {DEVICE} -k /dev/shm/harden-clevis-ab.key tang " in command
    assert command.endswith(f"""'{{"url":"{URL}","thp":"{THP}"}}'""")
    assert network_unlock.unbind_command(DEVICE, 3) == f"clevis luks unbind -f -d {DEVICE} -s 3"


def test_the_key_file_must_be_private(tmp_path, monkeypatch):
    key = tmp_path / "key"
    key.write_bytes(b"\x00secret")
    key.chmod(0o600)
    assert read_key_file(str(key), DEVICE) == b"\x00secret"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert read_key_file("~/key", DEVICE) == b"\x00secret"
    key.chmod(0o640)
    with pytest.raises(BaselineViolation) as refused:
        read_key_file(str(key), DEVICE)
    assert "mode 0640" in str(refused.value) and "secret" not in str(refused.value) and "A.5.17" in refused.value.controls
    with pytest.raises(BaselineViolation, match="names no file"):
        read_key_file(None, DEVICE)


def _jwk(x: str) -> dict:
    return {"alg": "ES512", "crv": "P-521", "key_ops": ["verify"], "kty": "EC", "x": x, "y": "AX_0"}


def _metadata(slot: str, keys: list) -> dict:
    header = {"alg": "ECDH-ES", "clevis": {"pin": "tang", "tang": {"adv": {"keys": keys}, "url": URL}}}
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    return {"tokens": {"0": {"type": "clevis", "keyslots": [slot], "jwe": {"protected": protected}}},
            "keyslots": {"0": {}, slot: {}}}


def test_bindings_parse_slot_pin_url_and_trusted_keys():
    metadata = _metadata("1", [_jwk("AeX1"), {**_jwk("ASw5"), "key_ops": ["deriveKey"], "alg": "ECMR"}])
    fact = ClevisBindings()
    output = ["@@ list", f"""1: tang '{{"url":"{URL}"}}'""", "@@ metadata", *json.dumps(metadata, indent=1).splitlines()]
    parsed = fact.process(output)
    assert parsed == {"readable": True, "bindings": [
        {"slot": 1, "pin": "tang", "url": URL, "thumbprints": [network_unlock.jwk_thumbprint(_jwk("AeX1"))]}]}
    # no clevis on the node yet (a first deploy's dry run): the header alone is read
    assert fact.process(["@@ metadata", json.dumps(metadata)]) == parsed
    # clevis would try something else than the header says: not understood, so unreadable (unknown), never a pass
    other = fact.process(["@@ metadata", json.dumps(metadata), "@@ list", """1: tang '{"url":"http://other"}'"""])
    assert other["readable"] is False and "clevis luks list reads" in other["error"]
    assert fact.process(["@@ unreadable not a LUKS device"]) == {"readable": False, "error": "not a LUKS device"}
    garbled = fact.process(["@@ list", "1: tang", "@@ metadata", "{}"])
    assert garbled["readable"] is False and "unparsable" in garbled["error"]


def test_binding_decisions_are_idempotent():
    good = {"slot": 1, "pin": "tang", "url": URL, "thumbprints": [THP]}
    assert network_unlock.binding_actions([], URL, THP) == (True, [])
    assert network_unlock.binding_actions([good], URL, THP) == (False, [])
    other_url = {**good, "slot": 2, "url": "http://other:7500"}
    other_key = {**good, "slot": 3, "thumbprints": ["x" * 43]}
    other_pin = {"slot": 4, "pin": "tpm2", "url": None, "thumbprints": []}
    assert network_unlock.binding_actions([other_url], URL, THP) == (True, [2])
    assert network_unlock.binding_actions([good, other_url, other_key, other_pin], URL, THP) == (False, [2, 3, 4])
    assert network_unlock.binding_findings([good, other_pin], URL, THP) == ["key slot 4 is bound with the tpm2 pin, not tang"]


def test_the_verifier_judges_the_unlock_state():
    unlock = network_unlock.from_host_data(DATA)
    bound = {"readable": True, "bindings": [{"slot": 1, "pin": "tang", "url": URL, "thumbprints": [THP]}]}
    state = NetworkUnlockState().process(["active active", "enabled enabled", "open yes", "mounted /dev/mapper/srvdata"])
    assert [check["status"] for check in network_unlock_checks(unlock, bound, state)] == ["pass", "pass", "pass"]
    locked = NetworkUnlockState().process(["active activating", "enabled enabled", "open no", "mounted "])
    checks = network_unlock_checks(unlock, bound, locked)
    assert (checks[2]["actual"], checks[2]["status"]) == ("locked", "fail")
    assert set(LUKS.controls("required_for")) <= set(checks[2]["controls"])
    no_systemd = NetworkUnlockState().process(["active ", "enabled ", "open no", "mounted "])
    assert network_unlock_checks(unlock, bound, no_systemd)[1]["status"] == "unknown"
    unread = network_unlock_checks(unlock, {"readable": False, "error": "clevis is not installed"}, state)[0]
    assert (unread["status"], unread["actual"]) == ("unknown", "clevis is not installed")


def test_the_deploy_stops_on_a_volume_the_boot_left_locked():
    unlock = network_unlock.from_host_data(DATA)
    locked = NetworkUnlockState().process(["active activating", "enabled enabled", "open no", "mounted "])
    problem = network_unlock.locked_problem(locked, unlock)
    assert problem.startswith("LOCKED: the data volume") and f"tang at {URL}" in problem
    assert f"cryptsetup open {DEVICE} srvdata" in problem  # the break-glass way, with the offline passphrase
    first_deploy = NetworkUnlockState().process(["active inactive", "enabled ", "open no", "mounted "])
    opened = NetworkUnlockState().process(["active active", "enabled enabled", "open yes", "mounted /dev/mapper/srvdata"])
    assert network_unlock.locked_problem(first_deploy, unlock) is None
    assert network_unlock.locked_problem(opened, unlock) is None
