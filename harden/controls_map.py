"""Generate docs/controls.md: Annex A control -> baseline setting -> what enforces it -> gate rule -> what verifies it,
with file and line, read from the code itself.

A setting is *used* where code reads its value (`SECTION.key`, `baseline.SECTION.key`, or `getattr(SECTION, name)` with
the name as a string constant in the same module) or names it where it enforces or declares a requirement
(`require(..., SECTION.controls("key"))`, a catalog rule's `SECTION.controls("key")`, a posture requirement's
`(SECTION, "key")` tag). Listing it in a hand-kept
`SERVES` tuple is not use. Where the using code lives says its role:

- enforcer: components/ (Pulumi components and their runtime modules), hosts/operations, hosts/deploys, hosts/desired.py,
  hosts/network_unlock.py (the desired state of the network-bound disk unlock), hosts/connection.py (the connection
  policy every deploy sets), hosts/backup_units.py (the backup timers the backup deploy installs),
  hosts/collector.py (the log collector's units for the control node), harden/backup_cli.py (the scheduled
  backup, check, forget and drill runs)
- gate rule: policies/ (the CrossGuard rules, checkov checks, catalog and application checks: the design)
- verifier: hosts/verify.py, hosts/facts, hosts/desired.py, hosts/network_unlock.py, hosts/connection.py (a host's
  connection data checked before a deploy runs) and harden/audit/ (the live system, as audit evidence)

A setting read in the posture model (posture/) counts for every role whose code imports that posture module.

`tests/unit/test_controls_map.py` fails when a setting has no enforcer, or neither a gate rule nor a verifier, unless
the baseline marks it `planned`; and when docs/controls.md is stale.

    python -m harden.controls_map > docs/controls.md
"""

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import baseline

REPO = Path(__file__).resolve().parents[1]
ROLES = {
    "enforcer": ("components/", "hosts/operations/", "hosts/deploys/", "hosts/desired.py", "hosts/network_unlock.py",
                 "hosts/connection.py", "hosts/backup_units.py", "hosts/collector.py", "harden/backup_cli.py"),
    "gate": ("policies/",),
    "verifier": ("hosts/verify.py", "hosts/facts/", "hosts/desired.py", "hosts/network_unlock.py", "hosts/connection.py",
                 "harden/audit/"),
}
SKIP = ("components/controls_table.py",)
# Requirement functions shared by the components, the gate and the audit (one posture model per resource kind).
SHARED_REQUIREMENTS = "posture"
# Settings found without an enforcer or without anything that checks them when this map was first drawn
# (2026-11-30), each with what is missing. A ratchet: a new gap fails the test, and so does an entry here whose
# gap is closed, so the list only shrinks. Mark a setting `planned` in the baseline only while nothing enforces it.
KNOWN_GAPS: dict[str, str] = {}
SECTIONS = {section.name.upper(): section for section in baseline.SECTIONS}


@dataclass
class Usage:
    section: str
    key: str
    setting: baseline.Setting
    where: dict = field(default_factory=lambda: {role: [] for role in ROLES})

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"


def _keys(section: str) -> set[str]:
    return {key for key, _ in SECTIONS[section].items()}


def _section_of(node) -> str | None:
    """`TLS` or `baseline.TLS` -> "TLS"."""
    if isinstance(node, ast.Name) and node.id in SECTIONS:
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "baseline" \
            and node.attr in SECTIONS:
        return node.attr
    return None


def _named_setting(node, aliases: dict[str, str]) -> str | None:
    """The section of `SECTION.controls("key")` / `SECTION.setting("key")` or of an alias such as `_C("key")`."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in ("controls", "setting"):
        return _section_of(func.value)
    if isinstance(func, ast.Name):
        return aliases.get(func.id)
    return None


def _serves_lines(tree) -> set[int]:
    """Lines of hand-kept `SERVES = (...)` lists: a list of settings is not their use."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SERVES" for t in node.targets):
            lines |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _scopes(tree) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class in a module."""
    spans = []

    def visit(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, name + ".")
            else:
                visit(child, prefix)
    visit(tree, "")
    return spans


def scope_at(spans: list[tuple[int, int, str]], line: int) -> str:
    """The innermost function or class around a line (`<module>` outside any): a place in the code that an
    unrelated edit above it does not move, unlike a line number."""
    inside = [s for s in spans if s[0] <= line <= s[1]]
    return max(inside, key=lambda s: s[0])[2] if inside else "<module>"


def places(path: Path) -> list[tuple[str, str, str]]:
    """(SECTION, key, scope) for every use of a baseline setting in one file, `scope` as `scope_at` names it."""
    spans = _scopes(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return [(section, key, scope_at(spans, line)) for section, key, line in references(path)]


def references(path: Path) -> list[tuple[str, str, int]]:
    """(SECTION, key, line) for every use of a baseline setting in one Python file: its value read, or the setting
    named where a requirement is enforced or a rule declared (`require(..., SECTION.controls("key"))`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {t.id: _section_of(node.value.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and isinstance(node.value, ast.Attribute) and node.value.attr in ("controls", "setting")
               and _section_of(node.value.value) for t in node.targets if isinstance(t, ast.Name)}
    # `_C = CONTAINER`: a short name of a section, used in `(_C, "key")` requirement tags
    section_names = {t.id: _section_of(node.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                     and _section_of(node.value) for t in node.targets if isinstance(t, ast.Name)}
    skip = _serves_lines(tree)
    found, dynamic = [], set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.elts[1], ast.Constant):
            head = node.elts[0]
            section = _section_of(head) or (section_names.get(head.id) if isinstance(head, ast.Name) else None)
            if section and node.elts[1].value in _keys(section):
                found.append((section, node.elts[1].value, node.lineno))
        if isinstance(node, ast.Attribute):
            section = _section_of(node.value)
            if section and node.attr in _keys(section):
                found.append((section, node.attr, node.lineno))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and node.args and _section_of(node.args[0]):
            dynamic.add(_section_of(node.args[0]))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            section = _named_setting(node, aliases)
            if section and node.args[0].value in _keys(section):
                found.append((section, node.args[0].value, node.lineno))
    for node in ast.walk(tree):
        if dynamic and isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and getattr(node, "lineno", None) not in skip:
            found += [(section, node.value, node.lineno) for section in dynamic if node.value in _keys(section)]
    return found


def _role_files(role: str) -> list[Path]:
    files = []
    for prefix in ROLES[role]:
        target = REPO / prefix
        files += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return [f for f in files if str(f.relative_to(REPO)) not in SKIP]


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of the modules one file imports (`import a.b`, `from a.b import c`, `from a import b`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def usages() -> list[Usage]:
    table = {(name, key): Usage(name, key, setting) for name, section in SECTIONS.items() for key, setting in section.items()}

    def record(section: str, key: str, role: str, place: str) -> None:
        places = table[(section, key)].where[role]
        if place not in places:
            places.append(place)

    for role in ROLES:
        for path in _role_files(role):
            relative = str(path.relative_to(REPO))
            for section, key, scope in places(path):
                record(section, key, role, f"{relative}::{scope}")
    # A posture module states a requirement once for every caller: its reads count for each role whose code
    # imports it (the components enforce with it, the gate judges with it, the audit verifies with it).
    for model in sorted((REPO / SHARED_REQUIREMENTS).rglob("*.py")):
        module = str(model.relative_to(REPO).with_suffix("")).replace("/", ".").removesuffix(".__init__")
        callers = {role for role in ROLES for path in _role_files(role) if module in _imported_modules(path)}
        relative = str(model.relative_to(REPO))
        for section, key, scope in places(model):
            for role in callers:
                record(section, key, role, f"{relative}::{scope}")
    return list(table.values())


def _gap(usage: Usage) -> str | None:
    enforced, checked = bool(usage.where["enforcer"]), bool(usage.where["gate"] or usage.where["verifier"])
    missing = " and ".join(m for m, ok in (("enforcer", enforced), ("gate rule or verifier", checked)) if not ok)
    return f"no {missing}" if missing else None


def gaps(rows: list[Usage]) -> list[str]:
    """What the test fails on: a setting without an enforcer or without anything that checks it, unless marked
    planned or a known gap; a planned mark or known gap that no longer holds (the list only shrinks)."""
    problems = []
    for usage in rows:
        gap = _gap(usage)
        if usage.setting.planned:
            if usage.where["enforcer"] and usage.where["verifier"]:
                problems.append(f"{usage.name}: marked planned but enforced and verified; drop the mark")
        elif usage.name in KNOWN_GAPS:
            if gap is None:
                problems.append(f"{usage.name}: listed in KNOWN_GAPS but enforced and checked; remove it from the list")
        elif gap:
            problems.append(f"{usage.name}: {gap}; implement it, remove it, or mark it planned")
    known = {u.name for u in rows}
    problems += [f"{name}: in KNOWN_GAPS but not a baseline setting" for name in sorted(set(KNOWN_GAPS) - known)]
    return problems


def _cell(places: list[str], limit: int = 4) -> str:
    places = sorted(places)
    shown = ", ".join(f"`{p}`" for p in places[:limit])
    return (shown + (f" +{len(places) - limit}" if len(places) > limit else "")) or "none"


def render() -> str:
    rows = usages()
    by_control: dict[str, list[Usage]] = {}
    for usage in rows:
        for cid in usage.setting.controls:
            by_control.setdefault(cid, []).append(usage)
    lines = [
        "# Controls, settings, enforcers and verifiers", "",
        "Generated by `python -m harden.controls_map > docs/controls.md` from the code: where each baseline value is "
        "read says who enforces it (components/, hosts/operations, hosts/deploys, hosts/desired.py), which gate rule "
        "judges the design (policies/) and what verifies the live system and gives audit evidence (hosts/verify.py, "
        "hosts/facts, harden/audit/). `tests/unit/test_controls_map.py` fails when a setting has no enforcer or "
        "nothing that checks it (unless marked planned) and when this file is stale. A planned setting is a target: "
        "no report calls it implemented.", "",
        "| control | setting | enforced by | gate rule | verified by (audit evidence) |", "|---|---|---|---|---|"]
    for cid in sorted(by_control, key=lambda c: tuple(int(p) for p in c[2:].split("."))):
        for usage in sorted(by_control[cid], key=lambda u: u.name):
            planned = f" (planned: {usage.setting.planned})" if usage.setting.planned else ""
            lines.append(f"| {baseline.describe((cid,))} | `{usage.name}`{planned} | {_cell(usage.where['enforcer'])} | "
                         f"{_cell(usage.where['gate'])} | {_cell(usage.where['verifier'])} |")
    planned = [u for u in rows if u.setting.planned]
    lines += ["", f"## Planned settings ({len(planned)}): targets nothing enforces yet", ""]
    lines += [f"- `{u.name}`: {u.setting.planned}" for u in planned]
    known = [u for u in rows if u.name in KNOWN_GAPS]
    lines += ["", f"## Known gaps ({len(known)}): enforced or checked only in part", ""]
    lines += [f"- `{u.name}`: {KNOWN_GAPS[u.name]}" for u in known]
    problems = gaps(rows)
    lines += ["", f"## New gaps ({len(problems)})", ""] + [f"- {p}" for p in problems or ["none"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
