"""Signatures a verifier can trust: a real audit run (no Docker needed: one unreachable endpoint, so its evidence is
unknown), sealed as an in-toto Statement in a DSSE envelope, then every way of tampering with it."""

import base64
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harden import audit_cli
from harden.audit import integrity
from harden.cli import main
from tests.fixtures.docker_engine import free_port


def _keypair(directory: Path, name: str) -> tuple[Path, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public = directory / f"{name}.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public, key


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    return {"trusted": _keypair(directory, "trusted"), "attacker": _keypair(directory, "attacker")}


def _audit(out: Path, *extra: str) -> int:
    return main(["audit", "--out", str(out), "--no-containers", "--endpoint", f"127.0.0.1:{free_port()}",
                 "--timeout", "1", *extra])


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys) -> Path:
    out = tmp_path_factory.mktemp("signed") / "report"
    assert _audit(out, "--sign-key", str(keys["trusted"][0])) == 2  # the endpoint is unknown: incomplete
    return out


@pytest.fixture
def copy(signed, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(signed, target)
    return target


def _verify(directory: Path, *public_keys: Path, capsys=None) -> tuple[int, str]:
    args = ["audit", "--verify", str(directory)]
    for key in public_keys:
        args += ["--public-key", str(key)]
    code = main(args)
    return code, capsys.readouterr().err if capsys else ""


def test_the_manifest_is_an_in_toto_statement_in_a_dsse_envelope(signed, keys):
    statement = json.loads((signed / integrity.MANIFEST).read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    names = {s["name"] for s in statement["subject"]}
    assert {"report.json", "report.html", "soa.md", "policies/cryptography.md"} <= names
    assert integrity.MANIFEST not in names and integrity.ENVELOPE not in names
    envelope = json.loads((signed / integrity.ENVELOPE).read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert base64.b64decode(envelope["payload"]) == (signed / integrity.MANIFEST).read_bytes()
    [signature] = envelope["signatures"]
    assert signature["keyid"] == integrity.key_id(keys["trusted"][1])
    report = json.loads((signed / "report.json").read_text())
    assert statement["predicate"]["run_id"] == report["run"]["id"]


def test_intact_report_verifies_against_the_trusted_key(signed, keys, capsys):
    code, err = _verify(signed, keys["trusted"][1], capsys=capsys)
    assert code == 0, err


def test_verify_without_a_trusted_key_is_an_error(signed, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(audit_cli, "TRUSTED_KEYS", tmp_path / "none")
    code, err = _verify(signed, capsys=capsys)
    assert code == 2 and "no trusted public key" in err and "A.5.33" in err


def test_a_key_committed_in_the_repository_is_trusted(signed, keys, tmp_path, monkeypatch, capsys):
    committed = tmp_path / "trusted-keys"
    committed.mkdir()
    shutil.copy(keys["trusted"][1], committed / "audit.pub")
    monkeypatch.setattr(audit_cli, "TRUSTED_KEYS", committed)
    assert _verify(signed, capsys=capsys)[0] == 0
    shutil.copy(keys["attacker"][1], committed / "audit.pub")
    assert _verify(signed, capsys=capsys)[0] == 1


def test_missing_signature_fails(tmp_path, keys, capsys):
    out = tmp_path / "unsigned"
    _audit(out)
    capsys.readouterr()
    assert not (out / integrity.ENVELOPE).exists()
    code, err = _verify(out, keys["trusted"][1], capsys=capsys)
    assert code == 1 and "not signed" in err


def test_stripped_signature_fails(copy, keys, capsys):
    envelope = json.loads((copy / integrity.ENVELOPE).read_text())
    envelope["signatures"] = []
    (copy / integrity.ENVELOPE).write_text(json.dumps(envelope))
    code, err = _verify(copy, keys["trusted"][1], capsys=capsys)
    assert code == 1 and "stripped" in err


def test_deleted_envelope_fails(copy, keys, capsys):
    (copy / integrity.ENVELOPE).unlink()
    assert _verify(copy, keys["trusted"][1], capsys=capsys)[0] == 1


def test_foreign_key_fails(copy, keys, capsys):
    code, err = _verify(copy, keys["attacker"][1], capsys=capsys)
    assert code == 1 and "no signature verifies" in err


def test_re_signed_report_fails(copy, keys, capsys):
    """Someone edits a verdict, recomputes the manifest and signs it with their own key (even claiming the trusted
    key's id): the verifier, trusting only its own key, refuses."""
    report = json.loads((copy / "report.json").read_text())
    report["summary"]["verdict"] = "clean"
    (copy / "report.json").write_text(json.dumps(report))
    statement = json.loads((copy / integrity.MANIFEST).read_text())
    integrity.write_manifest(copy, statement["predicate"])
    integrity.sign(copy, keys["attacker"][0])
    code, err = _verify(copy, keys["trusted"][1], capsys=capsys)
    assert code == 1 and "re-signed" in err
    envelope = json.loads((copy / integrity.ENVELOPE).read_text())
    envelope["signatures"][0]["keyid"] = integrity.key_id(keys["trusted"][1])
    (copy / integrity.ENVELOPE).write_text(json.dumps(envelope))
    assert _verify(copy, keys["trusted"][1], capsys=capsys)[0] == 1


def test_modified_file_or_manifest_fails(copy, keys, capsys):
    html = copy / "report.html"
    html.write_text(html.read_text().replace("unknown", "pass", 1))
    code, err = _verify(copy, keys["trusted"][1], capsys=capsys)
    assert code == 1 and "report.html: sha256 differs" in err
    statement = json.loads((copy / integrity.MANIFEST).read_text())
    integrity.write_manifest(copy, statement["predicate"])  # a manifest matching the edit, left unsigned
    code, err = _verify(copy, keys["trusted"][1], capsys=capsys)
    assert code == 1 and "differs from the signed payload" in err
    (copy / "extra.txt").write_text("added later")
    assert "extra.txt: not listed" in _verify(copy, keys["trusted"][1], capsys=capsys)[1]


def test_a_trusted_key_inside_the_report_is_refused(copy, keys, capsys):
    shutil.copy(keys["trusted"][1], copy / "trusted.pub")
    code, err = _verify(copy, copy / "trusted.pub", capsys=capsys)
    assert code == 2 and "inside the report" in err


def test_private_key_never_lands_in_the_output(signed, keys, tmp_path, capsys):
    secret = keys["trusted"][2].private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption())
    pem = keys["trusted"][0].read_bytes()
    for path in signed.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data and pem not in data, path
            assert secret not in data and base64.b64encode(secret) not in data, path
    out = tmp_path / "inside"
    out.mkdir()
    shutil.copy(keys["trusted"][0], out / "signing.pem")
    assert _audit(out, "--sign-key", str(out / "signing.pem")) == 2
    assert "never lands in the report" in capsys.readouterr().err
