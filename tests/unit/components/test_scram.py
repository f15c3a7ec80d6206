"""SCRAM-SHA-256 verifiers computed client-side (the Cloud SQL schema step); a real Postgres accepts them in
tests/integration/test_postgres.py."""

import base64
import hashlib
import hmac

import pytest

from components.scram import ITERATIONS, main, verifier


def test_verifier_has_postgres_format_and_a_fresh_salt_each_time():
    first, second = verifier("correct horse"), verifier("correct horse")
    assert first != second
    method, rest = first.split("$", 1)
    assert method == "SCRAM-SHA-256"
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    assert int(iterations) == ITERATIONS and len(base64.b64decode(salt)) == 16
    assert all(len(base64.b64decode(key)) == 32 for key in keys.split(":"))


def test_verifier_matches_the_rfc_derivation():
    salt = bytes(range(16))
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    assert verifier("pencil", salt=salt).endswith(":" + base64.b64encode(server_key).decode())
    assert "pencil" not in verifier("pencil", salt=salt)


def test_empty_password_is_refused():
    with pytest.raises(ValueError, match="A.5.17"):
        verifier("")


def test_command_prints_the_verifier_of_the_files_first_line(tmp_path, capsys):
    password_file = tmp_path / "pw"
    password_file.write_text("s3cret-value\n")
    assert main([str(password_file)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("SCRAM-SHA-256$4096:") and "s3cret-value" not in printed
