"""Application checks on Django settings modules (seed 002), read from the Python syntax tree, not regexes.

Settings may be module-level or django-configurations classes (`class Production(Base)`): a class
inherits its bases' assignments, so `CORS_ORIGIN_ALLOW_ALL = True` in Base is found in Production.
Values are read where they are literal: constants, `values.BooleanValue(True)`, the default of
`os.environ.get("X", "default")` / `env.bool("X", default=True)`.

Example: list(check_settings(Path("app/settings.py")))  ->  [AppFinding("RAE-APP-001", ...), ...]
"""

import ast
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from baseline import SECRETS
from policies.catalog import HSTS_MIN_SECONDS
SETTINGS_MARKERS = frozenset({"INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF"})
DEVELOPMENT_WORDS = ("dev", "local", "test")
_UNREADABLE = object()


@dataclass(frozen=True)
class AppFinding:
    rule_id: str
    file: str
    line: int
    setting: str
    message: str


def is_settings_module(tree: ast.Module) -> bool:
    """A Django settings module: it assigns INSTALLED_APPS, MIDDLEWARE or ROOT_URLCONF somewhere."""
    return any(isinstance(node, ast.Name) and node.id in SETTINGS_MARKERS and isinstance(node.ctx, ast.Store)
               for node in ast.walk(tree))


def _literal(node):
    """The value a settings expression stands for, where the source states it; _UNREADABLE otherwise."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.Call):
        default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
        if default is not None:
            return _literal(default)
        name = ast.unparse(node.func)
        if name.endswith(("environ.get", "getenv", ".str", ".bool", ".int")) or name == "env":
            return _literal(node.args[1]) if len(node.args) > 1 else _UNREADABLE
        if node.args and name.split(".")[-1].endswith("Value"):  # django-configurations values.XValue(default)
            return _literal(node.args[0])
    return _UNREADABLE


def _assignments(body) -> dict[str, ast.AST]:
    settings = {}
    for node in body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper() and node.value is not None:
                settings[target.id] = node.value
    return settings


def environments(path: Path, tree: ast.Module) -> dict[str, dict[str, ast.AST]]:
    """Production-facing setting scopes: the Production* classes (with what they inherit), else every
    non-development class, else the module itself (unless the file is named for development)."""
    module = _assignments(tree.body)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def resolved(name: str, seen=()) -> dict[str, ast.AST]:
        node = classes[name]
        inherited: dict[str, ast.AST] = {}
        for base in node.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                inherited |= resolved(base.id, (*seen, name))
        return inherited | _assignments(node.body)

    scopes = {name: module | resolved(name) for name, node in classes.items() if _assignments(node.body)}
    production = ({name: scope for name, scope in scopes.items() if "prod" in name.lower()}
                  or {name: scope for name, scope in scopes.items() if not any(w in name.lower() for w in DEVELOPMENT_WORDS)})
    if production:
        return production
    if any(word in path.stem.lower() for word in DEVELOPMENT_WORDS):
        return {}
    return {"module": module}


def _flag(scope, name, rule_id, wanted, message):
    node = scope.get(name)
    value = _literal(node) if node is not None else None
    if value is not _UNREADABLE and not wanted(value):
        return rule_id, getattr(node, "lineno", 1), name, message.format(name=name, value=value)
    return None


def _scope_findings(scope: dict[str, ast.AST], has_allauth: bool) -> Iterator[tuple[str, int, str, str]]:
    checks = [
        *(_flag(scope, name, "RAE-APP-001", lambda v: v is not True, "{name} = {value}: every origin may call the API")
          for name in ("CORS_ORIGIN_ALLOW_ALL", "CORS_ALLOW_ALL_ORIGINS")),
        _flag(scope, "DEBUG", "RAE-APP-002", lambda v: v is not True, "DEBUG = {value}"),
        _flag(scope, "SECURE_SSL_REDIRECT", "RAE-APP-003", lambda v: v is True, "SECURE_SSL_REDIRECT = {value}"),
        _flag(scope, "SECURE_HSTS_SECONDS", "RAE-APP-004",
              lambda v: isinstance(v, (int, float)) and v >= HSTS_MIN_SECONDS,
              "SECURE_HSTS_SECONDS = {value}, at least " + str(HSTS_MIN_SECONDS) + " is required"),
        *(_flag(scope, name, "RAE-APP-005", lambda v: v is True, "{name} = {value}")
          for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")),
        _flag(scope, "JWT_AUTH_HTTPONLY", "RAE-APP-007", lambda v: v is not False, "{name} = {value}"),
    ]
    if "ACCOUNT_EMAIL_VERIFICATION" in scope or has_allauth:
        checks.append(_flag(scope, "ACCOUNT_EMAIL_VERIFICATION", "RAE-APP-006", lambda v: v == "mandatory",
                            "ACCOUNT_EMAIL_VERIFICATION = {value!r} (allauth's default is 'optional')"))
    rest_auth = _literal(scope["REST_AUTH"]) if "REST_AUTH" in scope else None
    if isinstance(rest_auth, dict) and rest_auth.get("JWT_AUTH_HTTPONLY") is False:
        checks.append(("RAE-APP-007", scope["REST_AUTH"].lineno, "REST_AUTH", "REST_AUTH['JWT_AUTH_HTTPONLY'] = False"))
    yield from filter(None, checks)


def _is_secret_name(name: str) -> bool:
    upper = name.upper()
    return not upper.endswith("_FILE") and any(marker in upper for marker in (*SECRETS.forbidden_env_markers, "SECRET_KEY"))


def _string_findings(tree: ast.Module) -> Iterator[tuple[str, int, str, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            lowered = text.lower()
            if "rediss://" in lowered and "ssl_cert_reqs=none" in lowered.replace("cert_none", "none"):
                yield "RAE-APP-008", node.lineno, text.split("?")[0], "rediss:// URL with ssl_cert_reqs=none"
            if lowered.startswith("http://") and not lowered.startswith(("http://localhost", "http://127.0.0.1")):
                yield "RAE-APP-009", node.lineno, text, f"plain-HTTP service URL {text}"
            try:
                address = ipaddress.ip_address(text.strip())
            except ValueError:
                continue
            if not (address.is_loopback or address.is_unspecified):
                yield "RAE-APP-011", node.lineno, text, f"hard-coded IP address {text}"
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if _literal(key) == "ssl_cert_reqs" and ("NONE" in ast.unparse(value).upper() or _literal(value) is None):
                    yield "RAE-APP-008", node.lineno, "ssl_cert_reqs", f"ssl_cert_reqs = {ast.unparse(value)}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and _is_secret_name(target.id):
                    value = _literal(node.value)
                    if isinstance(value, str) and value:
                        yield "RAE-APP-010", node.lineno, target.id, f"{target.id} has a hard-coded or default value"


def check_settings(path: Path, display: str | None = None) -> Iterator[AppFinding]:
    """Findings of one Python file, if it is a Django settings module; nothing otherwise.

    + path: the file
    + display: the path to report (relative to the scanned target)
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if not is_settings_module(tree):
        return
    has_allauth = "allauth" in ast.unparse(tree)
    seen = set()
    scoped = ((rule, line, setting, f"{name}: {message}" if name != "module" else message)
              for name, scope in environments(path, tree).items()
              for rule, line, setting, message in _scope_findings(scope, has_allauth))
    for rule, line, setting, message in (*scoped, *_string_findings(tree)):
        if (rule, line, setting) not in seen:
            seen.add((rule, line, setting))
            yield AppFinding(rule, display or str(path), line, setting, message)
