"""The pull-request gate: every scanner on one target, findings keyed by ISO 27001:2022 controls.

  crossguard  the catalog's CrossGuard rules on each Pulumi stack's resource graph, rendered under mocks
              (or read from `pulumi preview --json` / `pulumi stack export` where the engine ran)
  checkov     built-in CKV_GCP_* and our custom checks on that graph translated to Terraform plan JSON;
              built-ins on Dockerfiles, GitHub workflows and committed secrets
  app         Django settings and other config modules (policies.app_checks)
  bandit      SAST, high severity and high confidence
  pip-audit   known vulnerabilities of each requirements file; a CycloneDX SBOM of it beside the report

Example: result = run_gate(Path("."), artifacts=Path("out/gate"))
"""

import concurrent.futures
import fnmatch
import itertools
import json
import os
import re
import shutil
import subprocess  # nosec B404 - the scanners are our pinned tools, called without a shell
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Callable

import yaml

from policies.app_checks import check_settings
from policies.catalog import CHECKOV_FRAMEWORK_CONTROLS, RULES, SEVERITIES, rule_for_checkov
from policies.rules import evaluate, graph_context, resource_rules, rule_key, stack_rules
from policies.rules.coverage import unjudged
from posture import Unknown
from posture.container import DECLARED_CONTEXT_ENV, declared_context
from policies.redaction import redact_findings, redacted_props
from policies.tfplan import to_plan

REPO = Path(__file__).resolve().parents[1]
CHECKOV = REPO / ".tools" / "checkov-venv" / "bin" / "checkov"
CHECKOV_CHECKS = Path(__file__).resolve().parent / "checkov_checks"
WARM_CHECKOV = Path(__file__).resolve().parent / "checkov_warm.py"
VERSION = "1.0"
ALWAYS_SKIPPED = (".git", ".venv", ".tools", ".state", "node_modules", "out", "build", "__pycache__", ".pytest_cache")
STATUS_ORDER = ("failed", "unknown", "waived", "passed")


class GateError(RuntimeError):
    """The gate could not judge the target (a scanner is missing or a program did not render)."""


@dataclass
class Finding:
    rule_id: str
    title: str
    severity: str
    controls: list[str]
    resource: str
    file: str
    line: int
    source: str
    status: str
    message: str


@dataclass
class GateResult:
    target: str
    findings: list[Finding] = field(default_factory=list)
    waivers: list[dict] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        counts = {status: sum(f.status == status for f in self.findings) for status in STATUS_ORDER}
        return {
            "version": VERSION,
            "tool": {"name": "harden policy", "checkov": "3.3.30"},
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "target": self.target,
            "findings": [asdict(finding) for finding in self.findings],
            "waivers": self.waivers,
            "summary": {**counts, "total": len(self.findings),
                        "expired_waivers": sum(w["expired"] for w in self.waivers),
                        "controls_failed": sorted({c for f in self.findings if f.status == "failed" for c in f.controls})},
            "artifacts": self.artifacts,
            "notes": self.notes,
        }


def _finding(rule_id: str, resource: str, file: str, line: int, source: str, status: str, message: str,
             title: str | None = None, severity: str = "medium", controls=()) -> Finding:
    rule = RULES.get(rule_id)
    return Finding(rule_id, rule.title if rule else title or rule_id, rule.severity if rule else severity,
                   list(rule.controls if rule else controls), resource, file, line, source, status, message)


# --- what to scan ----------------------------------------------------------------------------------------

def skip_paths(target: Path) -> list[str]:
    """Paths excluded from every scanner: checkov's `skip-path` in the target's .checkov.yaml, plus tool dirs."""
    config = target / ".checkov.yaml"
    configured = (yaml.safe_load(config.read_text()) or {}).get("skip-path", []) if config.exists() else []
    return [*ALWAYS_SKIPPED, *(str(path).strip("/") for path in configured)]


# .checkov.yaml keys that hide or soften checks with no reason, owner or expiry: the gate refuses them.
CHECKOV_HIDING_KEYS = ("skip-check", "check", "skip-framework", "framework", "soft-fail", "soft-fail-on",
                       "skip-cve-package", "external-checks-dir", "external-checks-git")


def refuse_checkov_skip_lists(target: Path) -> None:
    """A skip list in .checkov.yaml is an exception without reason, owner or expiry: the gate cannot run with one."""
    config = target / ".checkov.yaml"
    document = (yaml.safe_load(config.read_text()) or {}) if config.exists() else {}
    hiding = [key for key in CHECKOV_HIDING_KEYS if key in document]
    if hiding:
        raise GateError(f"{config.name} sets {hiding}: checks skipped or softened there have no reason, owner or expiry; "
                        f"remove them and add one reviewed waiver per finding to the waivers file "
                        f"[ISO 27001:2022 A.5.36]")


def checkov_skip_patterns(skipped: list[str]) -> list[str]:
    """checkov --skip-path values for `skipped` (tool directories, then configured paths).

    Tool directories become anchored regexes because checkov also matches substrings (a bare "out" would
    skip "layout.py"); hidden ones too, or the all-files secret scan walks into .venv. Every path must be
    given: skip-paths on the command line replace those of the config file.
    """
    return [rf"(^|/){re.escape(path)}(/|$)" if path in ALWAYS_SKIPPED else path for path in skipped]


def _is_skipped(relative: str, skipped: list[str]) -> bool:
    """Tool directories are skipped at any depth; configured skip-paths are relative to the target."""
    parts = relative.split("/")
    return any(part in ALWAYS_SKIPPED for part in parts) or any(
        relative == path or relative.startswith(f"{path}/") for path in skipped)


def _files(target: Path, pattern: str, skipped: list[str]) -> list[Path]:
    """Files named like `pattern` under target, never descending into a skipped directory."""
    found = []
    for root, directories, files in os.walk(target):
        base = Path(root).relative_to(target).as_posix()
        directories[:] = sorted(d for d in directories
                                if not _is_skipped(d if base == "." else f"{base}/{d}", skipped))
        found += [Path(root) / name for name in sorted(files) if fnmatch.fnmatch(name, pattern)]
    return found


@dataclass(frozen=True)
class PulumiProject:
    """A Pulumi project as the engine reads it: Pulumi.yaml or Pulumi.yml, `main:`, `runtime`, `stackConfigDir`."""

    file: Path
    name: str
    runtime: str
    program: Path
    config_dir: Path

    @classmethod
    def read(cls, file: Path) -> "PulumiProject":
        document = yaml.safe_load(file.read_text()) or {}
        runtime = document.get("runtime")
        runtime_name = str(runtime.get("name") if isinstance(runtime, dict) else runtime or "")
        program = file.parent / str(document.get("main") or ".")
        if program.is_dir() or not program.suffix:
            program = program / "__main__.py"
        return cls(file, str(document.get("name") or file.parent.name), runtime_name, program,
                   file.parent / str(document.get("stackConfigDir") or "."))


def pulumi_projects(target: Path, skipped: list[str]) -> list[PulumiProject]:
    """Every Pulumi project under target (Pulumi.yaml or Pulumi.yml), as the engine would find it."""
    files = _files(target, "Pulumi.yaml", skipped) + _files(target, "Pulumi.yml", skipped)
    return [PulumiProject.read(file) for file in sorted(files)]


def stack_configs(project: Path, config_dir: Path | None = None) -> dict[str, dict]:
    """Each stack's flat config ("ns:key" -> string) from Pulumi.<stack>.yaml or .yml in the project's
    stackConfigDir; secure values stay placeholders."""
    stacks = {}
    directory = config_dir or project
    for file in sorted([*directory.glob("Pulumi.*.yaml"), *directory.glob("Pulumi.*.yml")]):
        config = (yaml.safe_load(file.read_text()) or {}).get("config") or {}
        stacks[file.name[len("Pulumi."):].rsplit(".", 1)[0]] = {
            key: "[secret]" if isinstance(value, dict) and "secure" in value
            else value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items()}
    return stacks or {"dev": {}}


def graph_from_engine_json(path: Path) -> list[dict]:
    """Resources from `pulumi preview --json` (steps[].newState) or `pulumi stack export` (deployment.resources)."""
    document = json.loads(path.read_text())
    states = ([step.get("newState") or {} for step in document.get("steps", [])]
              or document.get("deployment", {}).get("resources", []))
    # The engine writes "protect" only when true (omitempty): its absence in the engine's own JSON is false.
    return [{"type": state["type"], "name": state["urn"].rsplit("::", 1)[-1], "props": state.get("inputs") or {},
             "options": {"protect": bool(state.get("protect"))}}
            for state in states if state.get("custom", True) and state.get("type") and not
            state["type"].startswith("pulumi:")]


def render_stack(project: Path, stack: str, config: dict, program: Path | None = None,
                 project_name: str | None = None) -> list[dict]:
    """The program's custom resources (explicit providers included) with their real values: "secrets" lists the
    paths of Pulumi secrets, redacted in every output (policies.redaction); "provider" names a dynamic provider."""
    from components.render import render_program
    try:
        rendered = render_program(project, stack, config, reveal_secrets=True, program=program,
                                  project_name=project_name)
    except RuntimeError as error:
        raise GateError(str(error)) from error
    return [{"type": r["type"], "name": r["name"], "props": r["inputs"], "secrets": r.get("secrets", []),
             **({"options": r["options"]} if "options" in r else {}),
             **({"provider": r["provider"]} if r.get("provider") else {})} for r in rendered if r.get("custom")]


# --- scanners ----------------------------------------------------------------------------------------

def crossguard_findings(resources: list[dict], where: str, file: str, context=None) -> list[Finding]:
    """Violations of the CrossGuard rules (undecided ones as unknown), and a passed finding for each resource
    (or stack) a rule held for.

    + context: what the stack declares (posture.container.Context), else the baseline's addresses and roots
    """
    def name(resource):
        return f"{where}:{resource['type']}::{resource['name']}"

    findings = [_finding(rule_id, name(resource), file, 0, "crossguard",
                         "unknown" if isinstance(message, Unknown) else "failed", message)
                for rule_id, resource, message in evaluate(resources, context)]
    rule_keys = {rule_key(r) for r in resources if any(rule.applies_to(rule_key(r)) for rule in resource_rules())}
    for resource in resources:
        reason = unjudged(resource, rule_keys)
        if reason:
            findings.append(_finding("RAE-GATE-001", name(resource), file, 0, "crossguard", "unknown", reason))
    failed = {(f.rule_id, f.resource) for f in findings}
    for rule in resource_rules():
        findings += [_finding(rule.rule_id, name(r), file, 0, "crossguard", "passed", "holds")
                     for r in resources if rule.applies_to(rule_key(r)) and (rule.rule_id, name(r)) not in failed]
    if resources:
        findings += [_finding(rule.rule_id, f"{where}:stack", file, 0, "crossguard", "passed", "holds for the stack")
                     for rule in stack_rules() if not any(f.rule_id == rule.rule_id for f in findings)]
    return findings


def _checkov_env(context=None) -> dict:
    """checkov's environment: offline, our checks importable; `context` (what the stack declares) reaches our custom
    checks in DECLARED_CONTEXT_ENV."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    if context is not None:
        env[DECLARED_CONTEXT_ENV] = json.dumps(asdict(context))
    return env


def _require_checkov() -> None:
    if not CHECKOV.exists():
        raise GateError(f"checkov is not installed at {CHECKOV.relative_to(REPO)}: run scripts/ensure-checkov.sh")


def _checkov_reports(arguments: list[str], returncode: int, stdout: str, stderr: str) -> list[dict]:
    if returncode != 0 or not stdout.strip():
        raise GateError(f"checkov {' '.join(arguments)} failed: {stderr.strip()[-2000:]}")
    reports = json.loads(stdout)
    reports = reports if isinstance(reports, list) else [reports]
    return [report for report in reports if "results" in report]


CHECKOV_OUTPUT = ("--skip-download", "-o", "json", "--soft-fail")


def _checkov(arguments: list[str], cwd: Path, context=None) -> list[dict]:
    """checkov's JSON reports; `context` (what the stack declares) reaches our custom checks in DECLARED_CONTEXT_ENV."""
    _require_checkov()
    completed = subprocess.run([str(CHECKOV), *arguments, *CHECKOV_OUTPUT],  # nosec B603
                               cwd=cwd, env=_checkov_env(context), capture_output=True, text=True, check=False)
    return _checkov_reports(arguments, completed.returncode, completed.stdout, completed.stderr)


class WarmCheckov:
    """checkov processes started before their plans exist (policies/checkov_warm.py): each loads checkov and its
    checks, about half of a small scan, while the Pulumi program still renders. The same command line and checks
    as `_checkov`; one process scans one plan.

    + expected: how many plans will be scanned (one process is started for each, never more than `ahead` early)
    + ahead: processes kept loaded and waiting
    """

    def __init__(self, expected: int, ahead: int = 1):
        self._lock = threading.Lock()
        self._remaining = expected
        self._ahead = ahead
        self._waiting: list[tuple[subprocess.Popen, IO]] = []  # each process and the file of its stderr
        if expected:
            _require_checkov()
        self._start_ahead()

    def _start_ahead(self) -> None:
        while len(self._waiting) < min(self._ahead, self._remaining):
            errors = tempfile.TemporaryFile()  # a file, not a pipe: a process that waits for its plan cannot fill it
            self._waiting.append((subprocess.Popen(  # nosec B603: checkov's own interpreter, a fixed script, no shell
                [str(CHECKOV.parent / "python"), str(WARM_CHECKOV)], cwd=REPO, env=_checkov_env(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True), errors))

    def scan(self, arguments: list[str], cwd: Path, context=None) -> list[dict]:
        """checkov's JSON reports for `arguments`, as `_checkov` returns them."""
        with self._lock:
            self._remaining -= 1
            waiting = self._waiting.pop(0) if self._waiting else None
            self._start_ahead()
        if waiting is None:
            return _checkov(arguments, cwd, context)
        process, errors = waiting
        declared = {DECLARED_CONTEXT_ENV: json.dumps(asdict(context))} if context is not None else {}
        request = {"argv": [*arguments, *CHECKOV_OUTPUT], "cwd": str(cwd), "env": declared}
        stdout, _ = process.communicate(json.dumps(request) + "\n")
        with errors:
            errors.seek(0)
            stderr = errors.read().decode(errors="replace")
        return _checkov_reports(arguments, process.returncode, stdout, stderr)

    def close(self) -> None:
        """Stop the processes no plan reached (a render failed)."""
        with self._lock:
            waiting, self._waiting, self._remaining = self._waiting, [], 0
        for process, errors in waiting:
            process.kill()
            process.wait()
            errors.close()


def checkov_findings(reports: list[dict], resource_names: dict[str, str] | None = None,
                     file: str | None = None, skips: list[dict] | None = None) -> list[Finding]:
    """checkov results as findings: custom checks carry catalog ids; built-ins map to a rule or their framework.

    A checkov skip counts as a waiver only under the waiver rules (reason, owner, expiry within 180 days:
    policies.report.inline_skip); any other skip is reported failed. Each accepted skip is appended to `skips` as a
    waiver entry (rule, match, reason, owner, expires), so the result lists it beside the reviewed waivers.
    """
    from policies.report import inline_skip
    findings = []
    for report in reports:
        framework = report.get("check_type", "")
        for listed, key in (("failed", "failed_checks"), ("passed", "passed_checks"), ("waived", "skipped_checks")):
            for check in report["results"].get(key, []):
                status = listed
                check_id = check["check_id"]
                rule = RULES.get(check_id) or rule_for_checkov(check_id)
                resource = (resource_names or {}).get(check["resource"], check["resource"])
                message = check["check_name"] if rule is None or rule.id == check_id else f"{check_id}: {check['check_name']}"
                if status == "waived":
                    accepted, why, terms = inline_skip(check.get("check_result", {}).get("suppress_comment", ""))
                    status = "waived" if accepted else "failed"
                    message += f" (checkov skip: {why})"
                    if accepted and skips is not None:
                        skips.append({"rule": rule.id if rule else check_id, "match": resource, **terms,
                                      "expired": False, "applied_to": 1})
                path = file or check.get("repo_file_path") or check.get("file_path", "")
                line = (check.get("file_line_range") or [0])[0] if file is None else 0
                findings.append(_finding(rule.id if rule else check_id, resource, path.lstrip("/"), line, "checkov",
                                         status, message, title=check["check_name"],
                                         severity=(check.get("severity") or "medium").lower(),
                                         controls=CHECKOV_FRAMEWORK_CONTROLS.get(framework, ("A.8.9",))))
    return findings


def app_findings(target: Path, skipped: list[str], notes: list[str]) -> list[Finding]:
    findings = []
    for path in _files(target, "*.py", skipped):
        display = path.relative_to(target).as_posix()
        try:
            found = list(check_settings(path, display))
        except (SyntaxError, UnicodeDecodeError) as error:
            notes.append(f"{display}: not read by the application checks ({error})")
            continue
        findings += [_finding(f.rule_id, f"{f.file}:{f.setting}", f.file, f.line, "app", f.status, f.message)
                     for f in found]
    return findings


def bandit_findings(target: Path, skipped: list[str]) -> list[Finding]:
    excluded = ",".join(str(target / path) for path in skipped)
    completed = subprocess.run([sys.executable, "-m", "bandit", "-r", str(target), "-f", "json", "-q",  # nosec B603
                                "--severity-level", "high", "--confidence-level", "high", "-x", excluded],
                               capture_output=True, text=True, check=False)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        return [_finding("RAE-SAST-001", str(target), "", 0, "bandit", "unknown",
                         f"bandit did not run: {completed.stderr.strip()[-500:]}")]
    findings = [_finding("RAE-SAST-001", f"{item['test_id']} {item['test_name']}",
                         Path(item["filename"]).resolve().relative_to(target).as_posix(), item["line_number"],
                         "bandit", "failed", f"{item['test_id']}: {item['issue_text']}")
                for item in report.get("results", [])]
    scanned = len(report.get("metrics", {})) - 1
    return findings or [_finding("RAE-SAST-001", f"{max(scanned, 0)} files", "", 0, "bandit", "passed",
                                 "no high-severity, high-confidence finding")]


def dependency_findings(target: Path, skipped: list[str], artifacts: Path,
                        notes: list[str]) -> tuple[list[Finding], list[str]]:
    """pip-audit on each requirements file (dependencies it could not look up are 'unknown', never passed),
    and a CycloneDX SBOM of each; returns (findings, SBOM paths)."""
    findings, sboms = [], []
    requirement_files = _files(target, "requirements*.txt", skipped) + _files(target, "requirements*.lock", skipped)
    for path in requirement_files:
        display = path.relative_to(target).as_posix()
        completed = subprocess.run([sys.executable, "-m", "pip_audit", "-r", str(path), "--no-deps", "--disable-pip",  # nosec B603
                                    "--progress-spinner", "off", "-f", "json"], capture_output=True, text=True, check=False)
        try:
            dependencies = json.loads(completed.stdout)["dependencies"]
        except (json.JSONDecodeError, KeyError):
            findings.append(_finding("RAE-DEP-001", display, display, 0, "pip-audit", "unknown",
                                     f"pip-audit did not run: {completed.stderr.strip()[-500:]}"))
            continue
        for dependency in dependencies:
            for vulnerability in dependency.get("vulns", []):
                findings.append(_finding("RAE-DEP-001", f"{dependency['name']}=={dependency.get('version')}", display, 0,
                                         "pip-audit", "failed", f"{vulnerability['id']} fixed in "
                                         f"{vulnerability.get('fix_versions') or 'no release yet'}"))
        unaudited = [d for d in dependencies if d.get("skip_reason")]
        if unaudited:
            findings.append(_finding("RAE-DEP-001", display, display, 0, "pip-audit", "unknown",
                                     f"{len(unaudited)} of {len(dependencies)} dependencies could not be audited, e.g. "
                                     f"{unaudited[0]['skip_reason']!r}"))
        elif not any(f.file == display and f.status == "failed" for f in findings):
            findings.append(_finding("RAE-DEP-001", display, display, 0, "pip-audit", "passed",
                                     f"{len(dependencies)} dependencies audited, no known vulnerability"))
        sbom = artifacts / f"sbom-{display.replace('/', '_')}.cdx.json"
        artifacts.mkdir(parents=True, exist_ok=True)
        made = subprocess.run([sys.executable, "-m", "cyclonedx_py", "requirements", str(path), "--of", "JSON",  # nosec B603
                               "-o", str(sbom)], capture_output=True, text=True, check=False)
        if made.returncode == 0:
            sboms.append(str(sbom))
        else:
            notes.append(f"{display}: no SBOM, cyclonedx-py failed: {made.stderr.strip()[-300:]}")
    return findings, sboms


# --- the gate ----------------------------------------------------------------------------------------------

def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per (rule, resource, place): a failure anywhere wins, else the first scanner's word; the messages
    of equal findings are joined.

    A rule judged by CrossGuard and by checkov on the same Pulumi resource is reported once.
    """
    merged: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.rule_id, finding.resource, finding.file, finding.line)
        kept = merged.get(key)
        if kept is None or STATUS_ORDER.index(finding.status) < STATUS_ORDER.index(kept.status):
            merged[key] = finding
        elif kept.status == finding.status and finding.status != "passed" and finding.message not in kept.message:
            kept.message += f"; {finding.message}"  # every violation of the rule on the resource, not the first
    return sorted(merged.values(), key=lambda f: (STATUS_ORDER.index(f.status), f.rule_id, f.resource))


def run_gate(target: Path, *, artifacts: Path, engine_json: Path | None = None,
             progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> GateResult:
    """Scan `target` (a Pulumi project or any directory) with every scanner; raise GateError if one cannot run.

    + target: directory to scan
    + artifacts: where the SBOMs and the translated plans go
    + engine_json: `pulumi preview --json` or `pulumi stack export` output to use instead of rendering under mocks
    + progress: receives one line per step
    """
    started = time.monotonic()

    def step(line: str) -> None:
        progress(f"[gate {time.monotonic() - started:5.1f}s] {line}")

    target = target.resolve()
    if not target.is_dir():
        raise GateError(f"{target} is not a directory")
    result = GateResult(target=str(target))
    refuse_checkov_skip_lists(target)
    skipped = skip_paths(target)
    findings: list[Finding] = []
    renders = []  # (where, shown file, project, stack, config, program, project name), in the order of the report
    if engine_json is None:
        for found in pulumi_projects(target, skipped):
            project = found.file.parent
            shown = (found.program if found.program.exists() else found.file).relative_to(target).as_posix()
            if found.runtime != "python":
                findings.append(_finding(
                    "RAE-GATE-001", f"{project.relative_to(target).as_posix()}:{found.name}", shown, 0, "gate",
                    "unknown", f"runtime {found.runtime!r}: the gate renders Python programs only"))
                continue
            for stack, config in stack_configs(project, found.config_dir).items():
                where = stack if project == target else f"{project.relative_to(target).as_posix()}#{stack}"
                renders.append((where, shown, project, stack, config, found.program, found.name))
    # Everything that does not need a rendered graph runs beside the renders, and checkov loads its checks for the
    # first plan while the program renders: the plan scan is all that waits for the graph. Renders and plan scans
    # are CPU-bound: at most one of each per core at a time.
    cores = os.cpu_count() or 1
    render_pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(renders), cores)))
    plan_pool = concurrent.futures.ThreadPoolExecutor(max_workers=cores)
    warm = WarmCheckov(len(renders) if engine_json is None else 1)
    app_notes: list[str] = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            rendering = []
            for where, shown, project, stack, config, program, name in renders:
                step(f"rendering Pulumi program {where} ({shown}) under mocks")
                rendering.append((where, shown, render_pool.submit(render_stack, project, stack, config, program, name),
                                  declared_context(config, str(project))))
            step("checkov: Dockerfiles, GitHub workflows, secrets")
            files_scan = pool.submit(_checkov, ["-d", ".", "--framework", "dockerfile", "github_actions", "secrets",
                                                "--enable-secret-scan-all-files",
                                                *(["--config-file", ".checkov.yaml"] if (target / ".checkov.yaml").exists()
                                                  else []), *(f"--skip-path={p}" for p in checkov_skip_patterns(skipped))],
                                     target)
            step("bandit (high severity, high confidence)")
            bandit_scan = pool.submit(bandit_findings, target, skipped)
            step("pip-audit and CycloneDX SBOM of each requirements file")
            dependency_scan = pool.submit(dependency_findings, target, skipped, artifacts, result.notes)
            step("application settings checks")
            app_scan = pool.submit(app_findings, target, skipped, app_notes)

            read = ([(engine_json.name, engine_json.name, graph_from_engine_json(engine_json), None)]
                    if engine_json is not None else [])
            graphs: list[tuple[str, str, list[dict], object]] = []
            plan_scans = []
            plans_dir = Path(tempfile.mkdtemp(prefix="plans-", dir=_mkdir(artifacts)))
            # checkov judges the real values; the plans kept as artifacts carry secrets masked.
            scanned_dir = Path(tempfile.mkdtemp(prefix="rae-gate-plans-"))
            try:
                for where, file, resources, context in itertools.chain(read, _rendered(rendering, step)):
                    context = graph_context(resources, context)  # the pids-limit steps reach checkov's custom checks too
                    step(f"CrossGuard rules on {where}: {len(resources)} resources")
                    findings += crossguard_findings(resources, where, file, context)
                    plan, unmapped = to_plan(resources)
                    if unmapped:
                        result.notes.append(f"{where}: no Terraform twin for {', '.join(unmapped)} (CrossGuard rules only)")
                    plan_file = plans_dir / f"{where.replace('/', '_').replace('#', '.')}.plan.json"
                    plan_file.write_text(json.dumps(to_plan([{**r, "props": redacted_props(r)} for r in resources])[0],
                                                    indent=1))
                    result.artifacts.append(str(plan_file))
                    scanned_file = scanned_dir / plan_file.name
                    scanned_file.write_text(json.dumps(plan))
                    names = {r["address"]: f"{where}:{res['type']}::{res['name']}"
                             for r, res in zip(plan["planned_values"]["root_module"]["resources"],
                                               [x for x in resources if x["type"] not in unmapped])}
                    step(f"checkov on {where} as Terraform plan ({len(names)} resources)")
                    arguments = ["-f", str(scanned_file), "--framework", "terraform_plan",
                                 "--external-checks-dir", str(CHECKOV_CHECKS)]
                    plan_scans.append((plan_pool.submit(warm.scan, arguments, target, context), names, file))
                    graphs.append((where, file, resources, context))
                findings += app_scan.result()
                result.notes += app_notes
                for scan, names, file in plan_scans:
                    findings += checkov_findings(scan.result(), names, file, result.waivers)
            finally:
                shutil.rmtree(scanned_dir, ignore_errors=True)
            for where, _file, resources, _context in graphs:
                redact_findings(findings, resources, lambda resource, where=where:
                                f"{where}:{resource['type']}::{resource['name']}")
            findings += checkov_findings(files_scan.result(), skips=result.waivers)
            findings += bandit_scan.result()
            dependency, sboms = dependency_scan.result()
            findings += dependency
            result.artifacts += sboms
    finally:
        render_pool.shutdown(cancel_futures=True)
        plan_pool.shutdown(cancel_futures=True)
        warm.close()
    result.findings = merge(findings)
    step(f"done: {len(result.findings)} findings")
    return result


def _rendered(rendering: list, step: Callable[[str], None]):
    """Each rendered graph as its render ends, in the order the renders were started."""
    for where, shown, future, context in rendering:
        resources = future.result()
        step(f"rendered {where}: {len(resources)} resources")
        yield where, shown, resources, context


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def at_or_above(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
