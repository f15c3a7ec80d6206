"""Application checks on Python configuration modules (seed 000 SEC-04, seed 002 sections 3 and 4): Django settings
and any other config module (pydantic settings classes, `os.environ.get` defaults), read from the syntax tree.

Settings may be module-level or django-configurations classes (`class Production(Base)`): a class
inherits its bases' assignments, so `CORS_ORIGIN_ALLOW_ALL = True` in Base is found in Production. Split
settings (`production.py` with `from .base import *`) inherit the star-imported module's assignments the same
way. A settings module is found by its path (`settings.py`, a `settings/` package), by Django setting names, or
by star-importing one. Values are read where they are literal: constants, `values.BooleanValue(True)`, the
default of `os.environ.get("X", "default")` / `env.bool("X", default=True)`; f-strings and `+` concatenations
are folded with the module's constants, so `f"{REDIS_URL}?ssl_cert_reqs=none"` is read as what it says.

Beyond Django, a module is a config module when it defines a pydantic settings class (a class deriving from
`BaseSettings`, directly or through another class of the module) or reads the environment with a default
(`os.environ.get("X", default)`, `os.getenv("X", default)`). There a secret-named field or variable with a stated
default (a default API key, a hard-coded secret) fails RAE-APP-010, and a default that is neither stated nor
foldable (a call, an attribute) is reported unknown: not judged, so not passed. Their string values are judged as
in settings modules: `http://` service URLs (RAE-APP-009) and IP addresses (RAE-APP-011).

Example: list(check_settings(Path("app/settings.py")))  ->  [AppFinding("RAE-APP-001", ...), ...]
"""

import ast
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from baseline import SECRETS
from policies.catalog import HSTS_MIN_SECONDS
SETTINGS_MARKERS = frozenset({"INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF", "SECRET_KEY", "ALLOWED_HOSTS",
                              "DATABASES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE",
                              "CSRF_COOKIE_SECURE", "CORS_ORIGIN_ALLOW_ALL", "CORS_ALLOW_ALL_ORIGINS",
                              "AUTH_PASSWORD_VALIDATORS", "REST_AUTH", "ACCOUNT_EMAIL_VERIFICATION"})
DEVELOPMENT_WORDS = ("dev", "local", "test")
_UNREADABLE = object()


@dataclass(frozen=True)
class AppFinding:
    rule_id: str
    file: str
    line: int
    setting: str
    message: str
    status: str = "failed"  # or "unknown": the source does not state what the check needs


def is_settings_module(tree: ast.Module, path: Path | None = None, inherited: dict | None = None) -> bool:
    """A Django settings module: named settings.py or inside a settings/ package, or it assigns (or star-imports)
    a Django setting such as INSTALLED_APPS, SECRET_KEY, ALLOWED_HOSTS or a SECURE_* flag."""
    if path is not None and (path.name == "settings.py" or path.parent.name == "settings"):
        return True
    if inherited and SETTINGS_MARKERS & set(inherited):
        return True
    return any(isinstance(node, ast.Name) and node.id in SETTINGS_MARKERS and isinstance(node.ctx, ast.Store)
               for node in ast.walk(tree))


def _star_import_path(path: Path, node: ast.ImportFrom) -> Path | None:
    """The file a `from X import *` reads, when it is a module of this tree (relative or absolute)."""
    parts = (node.module or "").split(".") if node.module else []
    if node.level:
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        candidates = [base]
    else:
        candidates = list(path.parents)
    for base in candidates:
        module = base.joinpath(*parts)
        for file in (module.with_suffix(".py"), module / "__init__.py"):
            if parts and file.is_file():
                return file
    return None


def module_scope(path: Path, tree: ast.Module, display: str, seen: tuple = ()) -> dict[str, ast.AST]:
    """Module-level assignments, star-imported ones first (as Python runs them); each value node remembers the
    file it was assigned in (`rae_file`)."""
    scope: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names):
            source = _star_import_path(path, node)
            if source is not None and source.resolve() not in seen:
                try:
                    imported = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
                except (SyntaxError, UnicodeDecodeError):
                    continue
                shown = str(Path(display).parent / source.relative_to(path.parent)) if source.is_relative_to(
                    path.parent) else source.name
                scope |= module_scope(source, imported, shown, (*seen, path.resolve()))
        for name, value in _assignments([node]).items():
            if not hasattr(value, "rae_file"):
                value.rae_file = display
            scope[name] = value
    return scope


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


def environments(path: Path, tree: ast.Module, module: dict[str, ast.AST] | None = None) -> dict[str, dict[str, ast.AST]]:
    """Production-facing setting scopes: the Production* classes (with what they inherit), else every
    non-development class, else the module itself (unless the file is named for development).

    + module: the module's resolved scope (star imports included); its own assignments if not given
    """
    module = _assignments(tree.body) if module is None else module
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
        return rule_id, getattr(node, "lineno", 1), name, message.format(name=name, value=value), getattr(
            node, "rae_file", None)
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
        checks.append(("RAE-APP-007", scope["REST_AUTH"].lineno, "REST_AUTH", "REST_AUTH['JWT_AUTH_HTTPONLY'] = False",
                       getattr(scope["REST_AUTH"], "rae_file", None)))
    yield from filter(None, checks)


def _is_secret_name(name: str) -> bool:
    upper = name.upper()
    return not upper.endswith("_FILE") and (upper.endswith("_KEY") or any(
        marker in upper for marker in (*SECRETS.forbidden_env_markers, "SECRET_KEY")))


_UNRESOLVED = "\x00"  # a part of a folded string that the source does not state


def _fold(node, constants: dict[str, ast.AST], depth: int = 0) -> str | None:
    """An f-string or `+` concatenation as the text it builds: module constants filled in, anything else marked
    _UNRESOLVED; None when the node is not a string expression."""
    if depth > 10:
        return _UNRESOLVED
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        folded = _fold(constants[node.id], constants, depth + 1)
        return _UNRESOLVED if folded is None else folded
    if isinstance(node, ast.JoinedStr):
        return "".join(_fold(part, constants, depth + 1) or _UNRESOLVED for part in node.values)
    if isinstance(node, ast.FormattedValue):
        folded = _fold(node.value, constants, depth + 1)
        return _UNRESOLVED if folded is None else folded
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left, constants, depth + 1), _fold(node.right, constants, depth + 1)
        if left is None and right is None:
            return None
        return (left or _UNRESOLVED) + (right or _UNRESOLVED)
    return None


def _is_text_expression(node) -> bool:
    return isinstance(node, ast.JoinedStr) or isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)


def _text_findings(node, text: str) -> Iterator[tuple[str, int, str, str]]:
    """The string checks on one piece of text (a constant, or an f-string/concatenation folded)."""
    built = node if not isinstance(node, ast.Constant) else None
    shown_text = text.replace(_UNRESOLVED, "{...}")
    lowered = shown_text.lower()
    how = " (built with an f-string or +)" if built else ""
    if "ssl_cert_reqs=none" in lowered.replace("cert_none", "none"):
        yield "RAE-APP-008", node.lineno, shown_text.split("?")[0], f"{shown_text}: ssl_cert_reqs=none{how}"
    if lowered.startswith("http://") and not lowered.startswith(("http://localhost", "http://127.0.0.1")):
        yield "RAE-APP-009", node.lineno, shown_text, f"plain-HTTP service URL {shown_text}{how}"
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return
    if not (address.is_loopback or address.is_unspecified):
        yield "RAE-APP-011", node.lineno, text, f"hard-coded IP address {text}"


def _string_findings(tree: ast.Module, constants: dict[str, ast.AST] | None = None) -> Iterator[tuple[str, int, str, str]]:
    constants = constants or {}
    # Parts of an f-string or concatenation are judged once, in the text they build.
    parts = {id(part) for node in ast.walk(tree) if _is_text_expression(node)
             for part in ast.walk(node) if part is not node}
    for node in ast.walk(tree):
        if id(node) in parts:
            continue
        if _is_text_expression(node):
            text = _fold(node, constants)
            if text:
                yield from _text_findings(node, text)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield from _text_findings(node, node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if _literal(key) == "ssl_cert_reqs" and ("NONE" in ast.unparse(value).upper() or _literal(value) is None):
                    yield "RAE-APP-008", node.lineno, "ssl_cert_reqs", f"ssl_cert_reqs = {ast.unparse(value)}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and _is_secret_name(target.id):
                    value = _literal(node.value)
                    if isinstance(value, str) and value and not _is_path(value):
                        yield "RAE-APP-010", node.lineno, target.id, f"{target.id} has a hard-coded or default value"


_ENV_READERS = ("os.environ.get", "environ.get", "os.getenv", "getenv")
_SETTINGS_BASE = "BaseSettings"
_UNKNOWN = "unknown"


def _settings_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """pydantic settings classes: deriving from BaseSettings (any import path), or from one that does."""
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found: dict[str, ast.ClassDef] = {}
    changed = True
    while changed:
        changed = False
        for node in classes:
            bases = [ast.unparse(base).split(".")[-1] for base in node.bases]
            if node.name not in found and any(base == _SETTINGS_BASE or base in found for base in bases):
                found[node.name] = node
                changed = True
    return list(found.values())


def _env_default_calls(tree: ast.Module) -> list[ast.Call]:
    """`os.environ.get("X", default)` / `os.getenv("X", default)` calls with a default (positional or keyword)."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) in _ENV_READERS
            and (len(node.args) > 1 or any(kw.arg == "default" for kw in node.keywords))]


def is_config_module(tree: ast.Module) -> bool:
    """A module that configures an application: a pydantic settings class, or environment reads with defaults."""
    return bool(_settings_classes(tree) or _env_default_calls(tree))


def _field_default(value: ast.AST) -> ast.AST | None:
    """The default a pydantic field states: `= x`, `Field(x)`, `Field(default=x)`; a Field without one -> None;
    `default_factory` -> the factory (not a stated value)."""
    if isinstance(value, ast.Call) and ast.unparse(value.func).split(".")[-1] == "Field":
        keywords = {kw.arg: kw.value for kw in value.keywords}
        if "default" in keywords:
            return keywords["default"]
        if "default_factory" in keywords:
            return keywords["default_factory"]
        return value.args[0] if value.args and not (isinstance(value.args[0], ast.Constant)
                                                    and value.args[0].value is Ellipsis) else None
    return value


def _judge_default(name: str, default: ast.AST | None, constants: dict, line: int, where: str
                   ) -> Iterator[tuple[str, int, str, str, str]]:
    """RAE-APP-010 on one secret-named default: stated and non-empty fails, unresolvable is unknown."""
    if default is None or not _is_secret_name(name):
        return
    if isinstance(default, ast.Call) and ast.unparse(default.func).split(".")[-1] in ("SecretStr", "SecretBytes"):
        default = default.args[0] if default.args else None
        if default is None:
            return
    value = _literal(default)
    if value is _UNREADABLE:
        folded = _fold(default, constants)
        value = folded if folded is not None and _UNRESOLVED not in folded else _UNREADABLE
    if value is _UNREADABLE:
        yield ("RAE-APP-010", line, name, f"{name} ({where}) defaults to {ast.unparse(default)}, which the source "
               f"does not state: not judged, so not passed", _UNKNOWN)
    elif isinstance(value, (str, bytes)) and value and not _is_path(value):
        yield "RAE-APP-010", line, name, f"{name} ({where}) has a default value: a default API key or secret", "failed"


def _is_path(value) -> bool:
    """A default that names where a secret file lies (`~/.ssh/id_ed25519`, `/run/secrets/key`), not a secret."""
    return isinstance(value, str) and value.startswith(("/", "~/", "./", "../")) and " " not in value


def _config_findings(tree: ast.Module, constants: dict) -> Iterator[tuple[str, int, str, str, str]]:
    """RAE-APP-010 on pydantic settings fields and on environment-read defaults (status failed or unknown)."""
    for node in _settings_classes(tree):
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
                yield from _judge_default(statement.target.id, _field_default(statement.value), constants,
                                          statement.lineno, f"field of settings class {node.name}")
    for call in _env_default_calls(tree):
        variable = _literal(call.args[0]) if call.args else _UNREADABLE
        default = call.args[1] if len(call.args) > 1 else next(kw.value for kw in call.keywords if kw.arg == "default")
        if isinstance(variable, str):
            yield from _judge_default(variable, default, constants, call.lineno, "environment default")


def check_settings(path: Path, display: str | None = None) -> Iterator[AppFinding]:
    """Findings of one Python file, if it is a Django settings module or another config module; nothing otherwise.

    + path: the file
    + display: the path to report (relative to the scanned target)
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    display = display or str(path)
    module = module_scope(path, tree, display)
    if not is_settings_module(tree, path, module):
        if is_config_module(tree):
            yield from _config_module_findings(tree, module, display)
        return
    has_allauth = "allauth" in ast.unparse(tree)
    seen = set()
    scoped = ((rule, line, setting, f"{name}: {message}" if name != "module" else message, origin)
              for name, scope in environments(path, tree, module).items()
              for rule, line, setting, message, origin in _scope_findings(scope, has_allauth))
    strings = ((*finding, None) for finding in _string_findings(tree, module))
    for rule, line, setting, message, origin in (*scoped, *strings):
        if origin and origin != display:
            message = f"{message} (inherited by {display})"
        if (rule, line, setting, origin or display) not in seen:
            seen.add((rule, line, setting, origin or display))
            yield AppFinding(rule, origin or display, line, setting, message)
    # Environment defaults a Django assignment already reported (same line) are not reported twice.
    reported = {(rule, line) for rule, line, _setting, _file in seen}
    for rule, line, setting, message, status in _config_findings(tree, module):
        if (rule, line) not in reported:
            reported.add((rule, line))
            yield AppFinding(rule, display, line, setting, message, status)


def _config_module_findings(tree: ast.Module, constants: dict, display: str) -> Iterator[AppFinding]:
    seen = set()
    findings = [(*finding, "failed") for finding in _string_findings(tree, constants)]
    for rule, line, setting, message, status in (*_config_findings(tree, constants), *findings):
        if (rule, line, setting) not in seen:
            seen.add((rule, line, setting))
            yield AppFinding(rule, display, line, setting, message, status)
