"""`harden api-token`: a tenant's bearer token, as the reference API verifies it (baseline API.tenant_token_max_lifetime_s).
The API's side is proven on the real container in tests/integration/test_api.py."""

import subprocess
import sys

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baseline import API, BaselineViolation
from components import api_runtime
from components.connect_info import describe
from harden.api_token_cli import tenant_token


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


KEY = Ed25519PrivateKey.generate()


def test_a_token_names_its_tenant_and_audience_and_lives_the_baseline_s_lifetime():
    token = tenant_token(_pem(KEY), "alpha", now=1_000_000)
    claims = jwt.decode(token, KEY.public_key(), algorithms=[api_runtime.TENANT_TOKEN_ALGORITHM],
                        audience=api_runtime.TENANT_TOKEN_AUDIENCE, options={"verify_exp": False})
    assert claims == {"sub": "alpha", "aud": "rae-api", "iat": 1_000_000,
                      "exp": 1_000_000 + API.tenant_token_max_lifetime_s}
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


@pytest.mark.parametrize("tenant, lifetime", [("alpha", API.tenant_token_max_lifetime_s + 1), ("alpha", 0),
                                              ("", 60), ("bad tenant", 60), ("x" * 64, 60)])
def test_a_longer_lived_token_or_a_bad_tenant_is_refused(tenant, lifetime):
    with pytest.raises(BaselineViolation, match="A.5.15"):
        tenant_token(_pem(KEY), tenant, lifetime)


def test_only_an_ed25519_key_signs():
    with pytest.raises(BaselineViolation, match="not an Ed25519"):
        tenant_token(_pem(ec.generate_private_key(ec.SECP256R1())), "alpha")


def test_the_command_reads_the_key_from_stdin_and_never_echoes_a_bad_one():
    command = [sys.executable, "-m", "harden", "api-token", "--tenant", "alpha"]
    good = subprocess.run(command, input=_pem(KEY), capture_output=True, check=False)
    assert good.returncode == 0 and good.stdout.count(b".") == 2
    bad = subprocess.run(command, input=b"not-a-key-SECRETVALUE", capture_output=True, check=False)
    assert bad.returncode == 2 and b"not a PEM private key" in bad.stderr and b"SECRETVALUE" not in bad.stderr + bad.stdout


def test_the_printed_connection_commands_show_how_to_call_a_tenant_route():
    lines = describe({"caCertFile": "/data/secrets/ca.crt", "apiEndpoint": "127.0.0.1:8443",
                      "apiTokenSigningKeyPem": "[secret]"})
    assert any("harden api-token --tenant alpha" in line for line in lines)
    assert any('-H "Authorization: Bearer $TOKEN"' in line and "/tenants/alpha/memories" in line for line in lines)
