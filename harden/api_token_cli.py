"""`harden api-token`: a tenant's bearer token for the API (baseline API.tenant_token_max_lifetime_s).

The stack's Ed25519 signing key never rests on a disk of ours: it is a secret stack output, read from standard input,
and only the API's public key is written for the API container. The token is an EdDSA JWT (PyJWT) for audience
rae-api, `sub` the tenant, `iat` now and `exp` at most the baseline's lifetime later.

    pulumi stack output --show-secrets apiTokenSigningKeyPem | harden api-token --tenant alpha
    curl --cacert ca.crt -H "Authorization: Bearer $TOKEN" https://localhost:8443/tenants/alpha/memories
"""

import argparse
import sys
import time

from baseline import API, BaselineViolation, require
from components import api_runtime
from components.qdrant_runtime import TENANT_ID


def tenant_token(signing_key_pem: str | bytes, tenant: str, lifetime_s: int = API.tenant_token_max_lifetime_s,
                 now: float | None = None) -> str:
    """An EdDSA JWT binding its bearer to `tenant` for `lifetime_s` seconds (at most the baseline's)."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    controls = API.controls("tenant_token_max_lifetime_s")
    require(bool(TENANT_ID.match(tenant or "")), f"tenant {tenant!r} is not a tenant id (1-63 of A-Z a-z 0-9 . _ -, "
                                               "starting with a letter or digit)", controls)
    require(0 < lifetime_s <= API.tenant_token_max_lifetime_s,
            f"lifetime {lifetime_s} s is outside 1..{API.tenant_token_max_lifetime_s} s", controls)
    key = load_pem_private_key(signing_key_pem if isinstance(signing_key_pem, bytes) else signing_key_pem.encode(),
                               password=None)
    require(isinstance(key, Ed25519PrivateKey), "the signing key is not an Ed25519 private key", controls)
    issued = int(time.time() if now is None else now)
    claims = {"sub": tenant, "aud": api_runtime.TENANT_TOKEN_AUDIENCE, "iat": issued, "exp": issued + lifetime_s}
    return jwt.encode(claims, key, algorithm=api_runtime.TENANT_TOKEN_ALGORITHM)


def register(commands) -> None:
    parser = commands.add_parser("api-token", help="a tenant's bearer token for the API, signed with the stack's key",
                                 description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", required=True, help="the tenant the token acts for")
    parser.add_argument("--lifetime", type=int, default=API.tenant_token_max_lifetime_s,
                        help=f"seconds (default and maximum {API.tenant_token_max_lifetime_s})")
    parser.set_defaults(run=run)


def run(args) -> int:
    if sys.stdin.isatty():
        print("harden api-token: pipe the signing key in: pulumi stack output --show-secrets apiTokenSigningKeyPem | "
              "harden api-token --tenant T", file=sys.stderr)
        return 2
    try:
        print(tenant_token(sys.stdin.read(), args.tenant, args.lifetime))
    except BaselineViolation as error:
        print(f"harden api-token: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as error:  # not an unencrypted PEM key; its text is never echoed
        print(f"harden api-token: the signing key on standard input is not a PEM private key ({type(error).__name__}) "
              f"[ISO 27001:2022 A.8.5]", file=sys.stderr)
        return 2
    return 0
