"""SCRAM-SHA-256 verifiers computed client-side, so a role's password never appears in clear in a statement.

Postgres stores a password given as a verifier (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`)
as it is, and checks logins against it. Cloud SQL logs DDL and role statements (log_statement=ddl, pgaudit
role): the schema step therefore sends the verifier, never the password (ISO 27001:2022 A.5.17, A.8.5).
The format and derivation are RFC 5802/7677 and Postgres' own (src/common/scram-common.c); the integration
suite proves a real Postgres accepts a login against a verifier made here.

    .venv/bin/python -m components.scram .state/postgres-app-password > .state/postgres-app-password.scram
"""

import base64
import hashlib
import hmac
import os
import sys
from pathlib import Path

ITERATIONS = 4096  # Postgres' default scram_iterations
SALT_BYTES = 16


def verifier(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier of `password` (with a fresh random salt unless one is given)."""
    if not password:
        raise ValueError("an empty password has no verifier (ISO 27001:2022 A.5.17)")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{encode(salt)}${encode(stored_key)}:{encode(server_key)}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m components.scram PASSWORD_FILE  (prints the verifier of its first line)", file=sys.stderr)
        return 2
    lines = Path(argv[0]).read_text().splitlines()
    print(verifier(lines[0] if lines else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
