"""`harden audit --stack` through the real Pulumi engine (offline build, scripts/pulumi-env.sh).

The project is written at test time: a private CA and a server certificate from pulumi-tls, and the
endpoint they secure exported as the stack outputs the audit reads (caCertPem, apiEndpoint). The
server key is a secret output: it must never reach the report.
"""

import json
import subprocess

import pytest

from tests.audit.conftest import TlsServer
from tests.audit.test_live_audit import audit, by_check
from tests.fixtures.docker_engine import free_port
from tests.fixtures.stack import pulumi_environment

pytestmark = pytest.mark.integration
STACK = "audit-engine"
PROGRAM = '''
import pulumi
import pulumi_tls as tls

ca_key = tls.PrivateKey("ca", algorithm="ECDSA", ecdsa_curve="P384")
ca = tls.SelfSignedCert("ca", private_key_pem=ca_key.private_key_pem, is_ca_certificate=True,
                        subject=tls.SelfSignedCertSubjectArgs(common_name="audit engine test CA"),
                        validity_period_hours=24 * 30, allowed_uses=["cert_signing"])
key = tls.PrivateKey("server", algorithm="ECDSA", ecdsa_curve="P384")
request = tls.CertRequest("server", private_key_pem=key.private_key_pem, dns_names=["rae-api"],
                          subject=tls.CertRequestSubjectArgs(common_name="rae-api"))
cert = tls.LocallySignedCert("server", cert_request_pem=request.cert_request_pem, ca_cert_pem=ca.cert_pem,
                             ca_private_key_pem=ca_key.private_key_pem, validity_period_hours=24 * 90,
                             allowed_uses=["server_auth"])
pulumi.export("caCertPem", ca.cert_pem)
pulumi.export("serverCertPem", cert.cert_pem)
pulumi.export("serverKeyPem", pulumi.Output.secret(key.private_key_pem))
pulumi.export("apiEndpoint", "127.0.0.1:" + pulumi.Config().require("apiPort"))
'''


def _pulumi(project, env, *args):
    done = subprocess.run(["pulumi", *args, "--stack", STACK, "--non-interactive"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"pulumi {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def engine_stack(tmp_path_factory):
    """The throwaway project up through the engine, its TLS endpoint served; destroyed afterwards."""
    project = tmp_path_factory.mktemp("audit-engine-project")
    (project / "Pulumi.yaml").write_text("name: audit-engine-check\nruntime:\n  name: python\n")
    (project / "__main__.py").write_text(PROGRAM)
    env = pulumi_environment()
    subprocess.run(["pulumi", "stack", "rm", STACK, "--yes", "--force", "--non-interactive"], cwd=project, env=env,
                   capture_output=True)
    _pulumi(project, env, "stack", "init")
    port = free_port()
    _pulumi(project, env, "config", "set", "apiPort", str(port))
    _pulumi(project, env, "up", "--yes", "--skip-preview", "--suppress-progress")
    outputs = json.loads(_pulumi(project, env, "stack", "output", "--json", "--show-secrets"))
    (project / "server.pem").write_text(outputs["serverCertPem"])
    key_file = project / "server.key"
    key_file.touch(mode=0o600)
    key_file.write_text(outputs["serverKeyPem"])
    # the stack's apiEndpoint stands for the TLS proxy and the API behind it: it refuses an oversized declared body as
    # the proxy does, and a tenant route without a valid token as the API does
    def answer(request: bytes) -> bytes:
        if request.startswith(b"GET /tenants/"):
            return b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"
        return b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n"

    server = TlsServer(str(project / "server.pem"), str(key_file), port=port, http_answer=answer)
    try:
        yield project, env, outputs
    finally:
        server.close()
        subprocess.run(["pulumi", "destroy", "--yes", "--skip-preview", "--suppress-progress", "--stack", STACK,
                        "--non-interactive"], cwd=project, env=env, capture_output=True)
        subprocess.run(["pulumi", "stack", "rm", STACK, "--yes", "--force", "--non-interactive"], cwd=project, env=env,
                       capture_output=True)


def test_engine_refresh_outputs_and_endpoints(engine_stack, out_dir):
    project, env, outputs = engine_stack
    code, report, stderr = audit(out_dir / "engine", "--no-containers", "--stack", STACK, "--project-dir", str(project),
                                 env=env)
    synced = [e for e in report["evidence"] if e["check"] == "refresh:in_sync"]
    assert {e["subject"] for e in synced} == {"stack/tls:index/privateKey:PrivateKey/ca",
                                              "stack/tls:index/selfSignedCert:SelfSignedCert/ca",
                                              "stack/tls:index/privateKey:PrivateKey/server",
                                              "stack/tls:index/certRequest:CertRequest/server",
                                              "stack/tls:index/locallySignedCert:LocallySignedCert/server"}
    assert {e["status"] for e in synced} == {"pass"}
    tls = by_check(report, f"tls/{outputs['apiEndpoint']}")
    assert tls["chain_valid"]["status"] == "pass", tls["chain_valid"]  # against the CA the stack exports, name rae-api
    assert tls["tls1.2_refused"]["status"] == "pass" and tls["tls1.3_accepted"]["status"] == "pass"
    assert any(a["kind"] == "tls:index/locallySignedCert:LocallySignedCert" for a in report["assets"])
    assert code == 0, (report.get("errors"), [e for e in report["evidence"] if e["status"] not in ("pass", "fail")])
    key_body = "".join(outputs["serverKeyPem"].strip().splitlines()[1:-1])
    for path in (out_dir / "engine").rglob("*"):
        if path.is_file():
            assert key_body[:40] not in path.read_text(errors="replace"), f"server key in {path}"
