"""Report outputs: no secret leaves the audit, integrity and signature, comparison and trend, HTML in Chromium."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from components.spec import docker_api_kwargs
from tests.audit.conftest import hardened_spec, run_container
from tests.fixtures.docker_engine import free_port
from tests.audit.test_live_audit import audit, by_check

pytestmark = pytest.mark.integration
CANARIES = {"config": "canary-cfg-7f3a9d2e41", "environment": "canary-env-5b8c1e0f93",
            "container": "canary-ctr-c4d2a8b716", "container_plain": "canary-plain-e91f07d3"}


@pytest.fixture(scope="module")
def leaky_run(docker_client, audit_image, out_dir, tmp_path_factory):
    """An audit of a container that carries secrets in its environment, configured with a secret, under a
    secret-bearing environment: the run every canary test greps."""
    kwargs = docker_api_kwargs(hardened_spec("leaky", audit_image, free_port()))
    kwargs["environment"] = {"DB_PASSWORD": CANARIES["container"], "GREETING": CANARIES["container_plain"]}
    container = run_container(docker_client, kwargs)
    config = tmp_path_factory.mktemp("cfg") / "audit.json"
    config.write_text(json.dumps({"environment": {"PULUMI_CONFIG_PASSPHRASE": CANARIES["config"]},
                                  "container_names": [container.name]}))
    try:
        result = audit(out_dir / "leaky", "--config", str(config), env={"RAE_API_TOKEN": CANARIES["environment"]})
    finally:
        container.remove(force=True)
    return result


def test_no_canary_secret_in_any_output(leaky_run, out_dir):
    code, report, stderr = leaky_run
    files = [p for p in (out_dir / "leaky").rglob("*") if p.is_file()]
    assert len(files) >= 12
    for origin, canary in CANARIES.items():
        leaked = [str(p) for p in files if canary.encode() in p.read_bytes()]
        assert not leaked, f"{origin} canary leaked into {leaked}"
        assert canary not in stderr
    secrets = by_check(report, f"container/{report['run']['options']['container_names'][0]}")["secrets_in_environment"]
    assert secrets["status"] == "fail" and secrets["actual"] == ["DB_PASSWORD"]
    assert report["run"]["options"]["environment"]["PULUMI_CONFIG_PASSPHRASE"] == "[REDACTED]"
    assert code == 1


def test_manifest_signature_and_tamper_detection(hardened_container, out_dir, tmp_path):
    container, _ = hardened_container
    key = Ed25519PrivateKey.generate()
    key_path = tmp_path / "audit-signing.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    trusted = tmp_path / "trusted.pub"
    trusted.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    out = out_dir / "signed"
    code, report, _ = audit(out, "--container", container.name, "--sign-key", str(key_path))
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"report.json", "report.html", "summary.md", "junit.xml", "soa.md", "dataflow.svg",
            "policies/cryptography.md"} <= {subject["name"] for subject in manifest["subject"]}
    verify = [sys.executable, "-m", "harden", "audit", "--verify", str(out), "--public-key", str(trusted)]
    assert subprocess.run(verify, capture_output=True).returncode == 0
    report_text = (out / "report.json").read_text()
    (out / "report.json").write_text(report_text.replace('"status": "pass"', '"status": "fail"', 1))
    done = subprocess.run(verify, capture_output=True, text=True)
    assert done.returncode == 1 and "report.json: sha256 differs" in done.stderr
    (out / "report.json").write_text(report_text)
    other = Ed25519PrivateKey.generate().public_key().public_bytes(serialization.Encoding.PEM,
                                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "other.pub").write_bytes(other)
    done = subprocess.run(verify[:-1] + [str(tmp_path / "other.pub")], capture_output=True, text=True)
    assert done.returncode == 1 and "signature" in done.stderr


def test_comparison_with_previous_report_and_trend(docker_client, audit_image, out_dir):
    """Run 1: tampered (fails); run 2: fixed; the second report lists what was fixed and draws both runs."""
    spec = hardened_spec("history", audit_image, free_port())
    container = run_container(docker_client, docker_api_kwargs(spec) | {"read_only": False})
    try:
        audit(out_dir / "history-1", "--container", container.name)
        container = run_container(docker_client, docker_api_kwargs(spec))
        code, report, _ = audit(out_dir / "history-2", "--container", container.name,
                                "--previous", str(out_dir / "history-1" / "report.json"))
    finally:
        container.remove(force=True)
    key = f"container:container/{spec.name}:read_only_rootfs"
    assert report["comparison"]["fixed"] == [key] and report["comparison"]["newly_failed"] == []
    assert len(report["history"]) == 2 and report["history"][0]["controls"]["fail"] > 0
    assert code == 0
    summary = (out_dir / "history-2" / "summary.md").read_text()
    assert f"fixed `{key}`" in summary


def test_html_renders_in_headless_chromium(leaky_run, out_dir):
    """Self-contained (no URL to fetch) and rendered by Debian's Chromium; the screenshot stays in out/test/audit."""
    html_path = out_dir / "leaky" / "report.html"
    html = html_path.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', "") and "https://" not in html
    assert "<script" not in html and html.count("<rect") >= 93 and "<svg" in html
    screenshot = out_dir / "report-screenshot.png"
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               f"--user-data-dir={profile}", f"--screenshot={screenshot}", "--window-size=1400,2200",
                               html_path.as_uri()], capture_output=True, text=True, timeout=120)
    assert screenshot.exists() and screenshot.stat().st_size > 20_000, done.stderr[-1500:]


def test_junit_has_one_case_per_check(leaky_run, out_dir):
    from xml.etree import ElementTree as ET

    code, report, _ = leaky_run
    root = ET.parse(out_dir / "leaky" / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(report["evidence"])
    assert len(root.findall(".//failure")) == report["summary"]["evidence"]["fail"] > 0
