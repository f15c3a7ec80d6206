"""Integrity of a report directory: an in-toto Statement (v1) over every output file, in a DSSE envelope signed
with Ed25519 (securesystemslib), and a verifier that trusts only keys it is given, never one shipped in the report.

- `manifest.json`: the Statement; one subject per output file with its SHA-256, the run as its predicate.
- `manifest.dsse.json`: the DSSE envelope (payload type `application/vnd.in-toto+json`) whose payload is exactly
  the bytes of `manifest.json`, with one signature per signing key (key id = securesystemslib's default key id).
"""

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

MANIFEST, ENVELOPE = "manifest.json", "manifest.dsse.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "urn:rae-hardening:harden-audit:report:v1"
SEALS = (MANIFEST, ENVELOPE)
_ANNEX = "[ISO 27001:2022 A.5.33 Protection of records]"


class IntegrityError(ValueError):
    """A key or directory the verifier cannot work with (an error, exit 2), not a tampered report (exit 1)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def statement(out: Path, predicate: dict) -> dict:
    """The in-toto Statement v1 over every file of `out` but the seals themselves."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and str(p.relative_to(out)) not in SEALS)
    return {"_type": STATEMENT_TYPE,
            "subject": [{"name": str(p.relative_to(out)), "digest": {"sha256": sha256_file(p)}} for p in files],
            "predicateType": PREDICATE_TYPE, "predicate": predicate}


def write_manifest(out: Path, predicate: dict) -> Path:
    path = out / MANIFEST
    path.write_text(json.dumps(statement(out, predicate), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key in PEM (PKCS#8, unencrypted) or OpenSSH format."""
    data = path.read_bytes()
    key = (serialization.load_ssh_private_key(data, password=None) if b"OPENSSH PRIVATE KEY" in data
           else serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: signing key is {type(key).__name__}, an Ed25519 key is required (A.8.24)")
    return key


def load_public_key(path: Path) -> SSlibKey:
    """A trusted Ed25519 public key (PEM SubjectPublicKeyInfo or OpenSSH `ssh-ed25519 ...`) as a securesystemslib key."""
    try:
        data = path.read_bytes()
        key = (serialization.load_ssh_public_key(data) if data.startswith(b"ssh-ed25519")
               else serialization.load_pem_public_key(data))
    except (OSError, ValueError) as error:
        raise IntegrityError(f"trusted key {path}: {error} {_ANNEX}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise IntegrityError(f"trusted key {path}: {type(key).__name__}, an Ed25519 public key is required {_ANNEX}")
    return SSlibKey.from_crypto(key)


def key_id(public_key_path: Path) -> str:
    return load_public_key(public_key_path).keyid


def sign(out: Path, key_path: Path) -> str:
    """Write manifest.dsse.json: the DSSE envelope of manifest.json signed with the key; returns the key id.

    Only the signature and the key id land in `out`: neither the private key nor a public key to trust.
    """
    signer = CryptoSigner(load_private_key(key_path))
    envelope = Envelope(payload=(out / MANIFEST).read_bytes(), payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(signer)
    (out / ENVELOPE).write_text(json.dumps(envelope.to_dict(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return signer.public_key.keyid


def _envelope(out: Path) -> tuple[Envelope | None, list[str]]:
    path = out / ENVELOPE
    if not path.exists():
        return None, [f"{ENVELOPE}: missing: the report is not signed"]
    try:
        envelope = Envelope.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        return None, [f"{ENVELOPE}: not a DSSE envelope ({type(error).__name__}: {error})"]
    problems = []
    if envelope.payload_type != PAYLOAD_TYPE:
        problems.append(f"{ENVELOPE}: payload type {envelope.payload_type!r}, expected {PAYLOAD_TYPE!r}")
    if not envelope.signatures:
        problems.append(f"{ENVELOPE}: carries no signature (stripped)")
    return envelope, problems


def verify(out: Path, trusted_keys: list[Path]) -> list[str]:
    """Problems found (empty list: intact and signed by a trusted key).

    + trusted_keys: public keys obtained out of band (a flag or a file committed in the repository); at least one
      is required. A key inside the report directory is never trusted.

    Checks, and reports every failure: the envelope exists and carries signatures; one verifies against a trusted
    key; its payload is byte for byte manifest.json; manifest.json is an in-toto Statement v1; every file it
    names exists with its SHA-256; no other file is in the directory.
    """
    if not trusted_keys:
        raise IntegrityError(f"no trusted public key: pass --public-key or commit the organisation's key {_ANNEX}")
    keys = [load_public_key(path) for path in trusted_keys]
    inside = [path for path in trusted_keys if out.resolve() in path.resolve().parents]
    if inside:
        raise IntegrityError(f"trusted key {inside[0]} lies inside the report it would vouch for {_ANNEX}")
    envelope, problems = _envelope(out)
    manifest_path = out / MANIFEST
    if envelope is not None and envelope.signatures:
        try:
            envelope.verify(keys, 1)
        except VerificationError:
            signed_by = ", ".join(sorted(envelope.signatures)) or "nobody"
            problems.append(f"{ENVELOPE}: no signature verifies against the trusted key(s) "
                            f"{', '.join(k.keyid[:16] for k in keys)} (signed by key id {signed_by[:80]}): "
                            "foreign key, or re-signed after the audit")
    if not manifest_path.exists():
        return problems + [f"{MANIFEST}: missing"]
    if envelope is not None and envelope.payload != manifest_path.read_bytes():
        problems.append(f"{MANIFEST}: differs from the signed payload of {ENVELOPE}")
    problems += _subjects(out, manifest_path)
    return problems


def _subjects(out: Path, manifest_path: Path) -> list[str]:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        subjects = {s["name"]: s["digest"]["sha256"] for s in manifest["subject"]}
    except (ValueError, KeyError, TypeError) as error:
        return [f"{MANIFEST}: not an in-toto Statement ({type(error).__name__}: {error})"]
    problems = [] if manifest.get("_type") == STATEMENT_TYPE else [f"{MANIFEST}: _type is not {STATEMENT_TYPE}"]
    for name, digest in subjects.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: sha256 differs from the manifest (modified after the audit)")
    extra = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - set(subjects) - set(SEALS)
    return problems + [f"{name}: not listed in the manifest" for name in sorted(extra)]


def evidence_problems(report: dict) -> list[str]:
    """Evidence items whose sha256 does not match their content."""
    from harden.audit.evidence import seal

    return [f"evidence {item['key']}: sha256 mismatch" for item in report.get("evidence", [])
            if seal(item)["sha256"] != item.get("sha256")]
