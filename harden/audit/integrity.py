"""Integrity of a report directory: SHA-256 manifest of every output file and an Ed25519 signature over it."""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.json.sig", "signing-key.pub"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out: Path, run_id: str) -> Path:
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name not in (MANIFEST, SIGNATURE, PUBLIC_KEY))
    manifest = {"run_id": run_id, "algorithm": "sha256",
                "files": {str(p.relative_to(out)): sha256_file(p) for p in files}}
    path = out / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key in PEM (PKCS#8, unencrypted) or OpenSSH format."""
    data = path.read_bytes()
    key = (serialization.load_ssh_private_key(data, password=None) if b"OPENSSH PRIVATE KEY" in data
           else serialization.load_pem_private_key(data, password=None))
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: signing key is {type(key).__name__}, an Ed25519 key is required (A.8.24)")
    return key


def sign(out: Path, key_path: Path) -> None:
    """manifest.json.sig (base64 Ed25519 signature of manifest.json) and the public key beside it."""
    key = load_private_key(key_path)
    (out / SIGNATURE).write_text(base64.b64encode(key.sign((out / MANIFEST).read_bytes())).decode() + "\n")
    (out / PUBLIC_KEY).write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))


def verify(out: Path, public_key_path: Path | None = None) -> list[str]:
    """Problems found (empty list: intact). Checks every file's hash, no extra files, and the signature.

    + public_key_path: the trusted key; without it the key shipped in the directory is used, which proves
      integrity only against accidental change, not against someone who re-signed the directory.
    """
    problems = []
    manifest_path = out / MANIFEST
    if not manifest_path.exists():
        return [f"{manifest_path} is missing"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        path = out / name
        if not path.exists():
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: sha256 differs from the manifest (modified after the audit)")
    extra = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - set(manifest["files"]) \
        - {MANIFEST, SIGNATURE, PUBLIC_KEY}
    problems += [f"{name}: not listed in the manifest" for name in sorted(extra)]
    if (out / SIGNATURE).exists() or public_key_path:
        key_path = public_key_path or out / PUBLIC_KEY
        public_key = serialization.load_pem_public_key(key_path.read_bytes())
        if not isinstance(public_key, Ed25519PublicKey):
            return problems + [f"{key_path}: not an Ed25519 public key"]
        try:
            signature = base64.b64decode((out / SIGNATURE).read_text())
            public_key.verify(signature, manifest_path.read_bytes())
        except (InvalidSignature, FileNotFoundError, ValueError):
            problems.append("manifest.json: signature missing or does not verify")
    return problems


def evidence_problems(report: dict) -> list[str]:
    """Evidence items whose sha256 does not match their content."""
    from harden.audit.evidence import seal

    return [f"evidence {item['key']}: sha256 mismatch" for item in report.get("evidence", [])
            if seal(item)["sha256"] != item.get("sha256")]
