"""`harden audit` against real containers, real TLS handshakes and a host that is down."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from baseline import CONTAINER, TLS
from components.spec import docker_api_kwargs
from tests.audit.conftest import PREFIX, REPO, hardened_spec, run_container
from tests.fixtures.docker_engine import free_port

pytestmark = pytest.mark.integration
SCHEMA = json.loads((REPO / "harden" / "audit" / "schema" / "report.schema.json").read_text())


def audit(out: Path, *args, env=None) -> tuple[int, dict, str]:
    """Run `harden audit` as an operator would; returns exit code, report and stderr (progress lines)."""
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, "-m", "harden", "audit", "--out", str(out), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})
    report_path = out / "report.json"
    assert report_path.exists(), f"no report (exit {done.returncode}): {done.stderr[-2000:]}"
    report = json.loads(report_path.read_text())
    jsonschema.validate(report, SCHEMA)
    return done.returncode, report, done.stderr


def by_check(report: dict, subject: str) -> dict:
    return {e["check"]: e for e in report["evidence"] if e["subject"] == subject}


def test_hardened_container_passes_every_runtime_check(hardened_container, out_dir):
    container, _ = hardened_container
    code, report, stderr = audit(out_dir / "hardened", "--container", container.name)
    checks = by_check(report, f"container/{container.name}")
    assert {e["status"] for e in checks.values()} == {"pass"}, [e for e in checks.values() if e["status"] != "pass"]
    assert {"user", "read_only_rootfs", "cap_drop", "no_new_privileges", "seccomp_apparmor", "pids_limit", "memory_mb",
            "health", "host_namespaces", "forbidden_mounts", "privileged", "port_bind_addresses"} <= set(checks)
    engine = by_check(report, "docker-engine")
    assert {"live_restore", "log_driver", "seccomp_default_profile"} <= set(engine)
    assert code == 0 and report["summary"]["verdict"] == "clean"
    assert f"container {container.name}" in stderr  # progress lines on stderr


def test_tampered_container_is_reported_with_attribute_and_control(docker_client, audit_image, out_dir):
    """Recreated as root, writable, with a capability, a docker.sock mount and a port on 0.0.0.0."""
    kwargs = docker_api_kwargs(hardened_spec("tampered", audit_image, free_port()))
    kwargs.update(user="0:0", read_only=False, cap_add=["NET_ADMIN"],
                  ports={"8080/tcp": ("0.0.0.0", kwargs["ports"]["8080/tcp"][1])},
                  volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "ro"}})
    container = run_container(docker_client, kwargs)
    try:
        code, report, _ = audit(out_dir / "tampered", "--container", container.name)
    finally:
        container.remove(force=True)
    checks = by_check(report, f"container/{container.name}")
    expectations = {"user": CONTAINER.controls("service_users"), "read_only_rootfs": CONTAINER.controls("read_only_rootfs"),
                    "cap_add": CONTAINER.controls("cap_add_allowed"),
                    "forbidden_mounts": CONTAINER.controls("forbidden_mounts"),
                    "port_bind_addresses": CONTAINER.controls("bind_addresses")}
    for check, controls in expectations.items():
        assert checks[check]["status"] == "fail", checks[check]
        assert tuple(checks[check]["controls"]) == controls
    assert checks["user"]["actual"] == "0:0" and checks["read_only_rootfs"]["actual"] is False
    assert "/var/run/docker.sock" in checks["forbidden_mounts"]["actual"]
    assert code == 1 and report["summary"]["verdict"] == "drift"
    assert f"container:container/{container.name}:user" in report["summary"]["drift"]
    soa = {row["control"]: row for row in report["controls"]}
    assert soa["A.8.2"]["status"] == "fail" and soa["A.8.2"]["implementation"] == "observed"
    html = (out_dir / "tampered" / "report.html").read_text()
    assert "read_only_rootfs" in html and "0.0.0.0" in html


def test_declared_graph_drift_names_attribute_expected_and_actual(docker_client, audit_image, out_dir, tmp_path):
    """The declared graph (as components.render or stack export gives it) vs a container recreated writable."""
    spec = hardened_spec("drifted", audit_image, free_port())
    declared = [{"type": "docker:index/container:Container", "name": spec.name, "urn": f"urn:pulumi:t::p::c::{spec.name}",
                 "custom": True, "inputs": {"name": spec.name, "image": spec.image, "user": spec.user, "readOnly": True,
                                            "capabilities": {"drops": ["ALL"]}, "securityOpts": list(spec.security_opts),
                                            "memory": float(spec.memory_mb), "ports": [{"internal": 8080.0, "ip": "127.0.0.1"}]}},
                {"type": "docker:index/container:Container", "name": PREFIX + "never-started", "custom": True,
                 "urn": "urn:pulumi:t::p::c::gone", "inputs": {"name": PREFIX + "never-started"}}]
    graph = tmp_path / "graph.json"
    graph.write_text(json.dumps(declared))
    kwargs = docker_api_kwargs(spec) | {"read_only": False}
    container = run_container(docker_client, kwargs)
    try:
        code, report, _ = audit(out_dir / "declared", "--no-containers", "--declared", str(graph))
    finally:
        container.remove(force=True)
    drift = by_check(report, f"stack/{spec.name}")
    assert drift["attribute:read_only"]["status"] == "fail"
    assert drift["attribute:read_only"]["expected"] is True and drift["attribute:read_only"]["actual"] is False
    assert "A.8.9" in drift["attribute:read_only"]["controls"]
    assert drift["attribute:user"]["status"] == "pass" and drift["attribute:memory_mb"]["status"] == "pass"
    assert by_check(report, f"stack/{PREFIX}never-started")["exists"]["actual"] == "absent"
    assert code == 1


def test_tls_probes(tls_servers, pki, out_dir):
    endpoint = {name: f"127.0.0.1:{server.port},name=localhost" for name, server in tls_servers.items()}
    endpoint["postgres"] += ",postgres"
    endpoint["legacy"] += f",ca={pki['other_ca.pem']}"  # judged against a CA that did not sign it
    code, report, _ = audit(out_dir / "tls", "--no-containers", "--ca", pki["ca.pem"],
                            *[arg for name in ("good", "legacy", "postgres", "expiring") for arg in ("--endpoint", endpoint[name])])
    good = by_check(report, f"tls/127.0.0.1:{tls_servers['good'].port}")
    assert good["tls1.2_refused"]["status"] == "pass" and good["tls1.3_accepted"]["status"] == "pass"
    assert "TLSv1.3" in good["tls1.3_accepted"]["actual"]
    assert good["days_to_expiry"]["actual"] >= 79 and good["days_to_expiry"]["status"] == "pass"
    assert {good[c]["status"] for c in ("key_curve", "validity_hours", "ca_key_curve", "ca_validity_hours")} == {"pass"}
    assert good["key_curve"]["actual"] == "secp384r1" and tuple(good["key_curve"]["controls"]) == TLS.controls("ecdsa_curve")
    legacy = by_check(report, f"tls/127.0.0.1:{tls_servers['legacy'].port}")
    assert legacy["tls1.2_refused"]["status"] == "fail" and "TLSv1.2" in legacy["tls1.2_refused"]["actual"]
    assert tuple(legacy["tls1.2_refused"]["controls"]) == TLS.controls("allowed_versions")
    postgres = by_check(report, f"tls/127.0.0.1:{tls_servers['postgres'].port}")
    assert postgres["tls1.3_accepted"]["status"] == "pass" and postgres["chain_valid"]["status"] == "pass"
    expiring = by_check(report, f"tls/127.0.0.1:{tls_servers['expiring'].port}")
    assert expiring["days_to_expiry"]["status"] == "fail" and expiring["days_to_expiry"]["actual"] < 30
    assert good["chain_valid"]["status"] == "pass"
    assert legacy["chain_valid"]["status"] == "fail" and "unable to get local issuer" in legacy["chain_valid"]["actual"]
    assert code == 1


def test_stopped_host_closed_and_silent_endpoints_are_unknown_never_pass(out_dir, tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text(f"node1 = [('node1', {{'ssh_hostname': '127.0.0.1', 'ssh_port': {free_port()}}})]\n")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts the TCP connection, never answers a handshake
        silent_port = silent.getsockname()[1]
        code, report, _ = audit(out_dir / "unknown", "--no-containers", "--inventory", str(inventory),
                                "--endpoint", f"127.0.0.1:{free_port()}", "--timeout", "2",
                                "--endpoint", f"127.0.0.1:{silent_port},postgres")
    assert {e["status"] for e in report["evidence"]} == {"unknown"}
    silent_checks = by_check(report, f"tls/127.0.0.1:{silent_port}")
    assert set(silent_checks) == {"tls1.2_refused", "tls1.3_accepted"}
    assert code == 2 and report["summary"]["verdict"] == "incomplete"
    assert "host/node1" in {a["id"] for a in report["assets"]}
    [edge] = [f for f in report["flows"] if f["to"] == "node1"]  # a host that never answered: nothing claimed
    assert "mTLS" not in edge["label"] and "TLS" not in edge["label"] and "not confirmed" in edge["label"]
