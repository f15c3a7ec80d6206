"""The provider plugins the engine builds must have exactly the versions of their Python SDK packages."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _engine_pins() -> dict[str, str]:
    text = (ROOT / "scripts/engine/versions.env").read_text()
    return dict(re.findall(r"^([A-Z_]+)=(\S+)$", text, flags=re.M))


def _locked(package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+) \\$", (ROOT / "requirements.lock").read_text(), flags=re.M)
    assert match, f"{package} is not pinned in requirements.lock"
    return match.group(1)


def test_provider_binaries_match_python_sdk_packages():
    pins = _engine_pins()
    for package, key in (("pulumi-docker", "PULUMI_DOCKER_VERSION"), ("pulumi-tls", "PULUMI_TLS_VERSION"),
                         ("pulumi-random", "PULUMI_RANDOM_VERSION")):
        assert _locked(package) == pins[key], f"{package}: lock has {_locked(package)}, engine builds {pins[key]}"


def test_python_sdk_pin_matches_engine_record():
    assert _locked("pulumi") == _engine_pins()["PULUMI_PYTHON_SDK_VERSION"]


def test_every_locked_requirement_carries_a_hash():
    blocks = re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text())
    pinned = [b for b in blocks if re.match(r"^[A-Za-z0-9_.\-\[\]]+==", b)]
    assert pinned, "requirements.lock pins nothing"
    unhashed = [b.split()[0] for b in pinned if "--hash=sha256:" not in b]
    assert not unhashed, f"requirements without hashes: {unhashed}"


def test_no_committed_stack_config_carries_a_passphrase_salt():
    """`pulumi stack init` writes a salt tied to one machine's passphrase into Pulumi.<stack>.yaml (so `make up`
    leaves one in the working tree); committed, it would lock every other machine out of the stack."""
    tracked = subprocess.run(["git", "ls-files", "Pulumi.*.yaml"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "Pulumi.local.yaml" in tracked
    for name in tracked:
        committed = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=ROOT, capture_output=True, text=True,
                                   check=True).stdout
        assert "encryptionsalt" not in committed, f"{name} is committed with an encryptionsalt"
