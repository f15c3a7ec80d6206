"""The redaction layer every output passes through: no secret value or PII leaves the audit (A.8.11, A.8.12, A.5.34).

Three nets, applied to the whole report before anything is written:
1. values under keys that name a secret (baseline SECRETS.forbidden_env_markers, plus passphrase/credential);
2. secret values known to this process (environment variables with such names, secrets named in the
   config, container environment values with such names), wherever they appear in any string;
3. patterns: PEM private keys, `user:password@` in URLs, `password=...`-style assignments, e-mail addresses.
"""

import os
import re

from baseline import SECRETS

MASK = "[REDACTED]"
_EXTRA_MARKERS = ("PASSPHRASE", "CREDENTIAL", "PRIVATEKEY")
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words and numbers

_PATTERNS = (  # (pattern, replacement)
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), MASK),
    (re.compile(r"(://)[^/\s:@]+:[^/\s@]+@"), rf"\1{MASK}@"),
    (re.compile(r"(?i)\b(password|passwd|secret|token|api_key|apikey)([=:]\s*)[^\s,;&\"']+"), rf"\1\2{MASK}"),
    # e-mail addresses, but not SSH algorithm names such as curve25519-sha256@libssh.org
    (re.compile(r"[A-Za-z0-9._%+-]+@(?!(?:openssh\.com|libssh\.org)\b)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), MASK),
)


def names_secret(name: str) -> bool:
    """True when a key or variable name says its value is a secret (`*_FILE` paths are not secrets)."""
    upper = str(name).upper().replace("-", "_")
    if upper.endswith("_FILE"):
        return False
    return any(marker in upper for marker in (*SECRETS.forbidden_env_markers, *_EXTRA_MARKERS))


class Redactor:
    """Masks secrets in nested JSON-like data.

    + known: secret values to scrub wherever they appear (the environment's are added automatically)

    Example: Redactor().learn_env({"DB_PASSWORD": "x..."}).scrub(report)
    """

    def __init__(self, known=()):
        self._known: set[str] = set()
        self.learn(known)
        self.learn_env(os.environ)

    def learn(self, values) -> "Redactor":
        self._known.update(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH)
        return self

    def learn_env(self, env) -> "Redactor":
        """Remember the values of secret-named variables; `env` is a mapping or docker's ["K=V", ...] list."""
        pairs = env.items() if hasattr(env, "items") else (item.partition("=")[::2] for item in env)
        return self.learn(value for name, value in pairs if names_secret(name))

    def learn_config(self, config) -> "Redactor":
        """Remember every value under a secret-named key anywhere in a config structure."""
        if isinstance(config, dict):
            for key, value in config.items():
                if names_secret(key) and isinstance(value, str):
                    self.learn([value])
                else:
                    self.learn_config(value)
        elif isinstance(config, list):
            for item in config:
                self.learn_config(item)
        return self

    def text(self, value: str) -> str:
        for secret in sorted(self._known, key=len, reverse=True):
            value = value.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def scrub(self, value):
        """A copy of value with every secret masked; dict keys naming a secret keep the key, lose the value."""
        if isinstance(value, dict):
            return {self.text(str(k)): MASK if names_secret(k) and _has_content(v) else self.scrub(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.scrub(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _has_content(value) -> bool:
    """Booleans and empty values under a secret-named key say nothing secret (e.g. "password_authentication": "no")."""
    return not isinstance(value, bool) and value not in (None, "", [], {})
