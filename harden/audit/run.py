"""One audit run: collect evidence, redact, roll up, write every output into --out atomically, seal it."""

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from baseline import CONTAINER, controls as annex_a_controls, describe, exceptions
from harden.audit import backups, containers, gate, hosts, html_report, integrity, inventory, policies, stack, text_outputs
from harden.audit import api_limits, database, oscal, tls_probe
from harden.audit.evidence import UNKNOWN, Evidence, now
from harden.audit.redact import Redactor
from harden.audit.report import build

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("schema") / "report.schema.json"


class AuditInputError(ValueError):
    """Bad input to the audit: the message names the problem and the controls whose evidence it would cost."""


@dataclass
class AuditOptions:
    """What to audit and where to write; built from the command line and an optional JSON config."""

    out: Path
    stack: str | None = None
    project_dir: str = str(REPO)
    declared: str | None = None
    containers: bool = True
    container_names: list[str] = field(default_factory=list)
    bind_addresses: list[str] = field(default_factory=list)
    host_roots: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    ca: str | None = None
    inventory: str | None = None
    gate: str | None = None
    gate_json: str | None = None
    backup_log: str | None = None
    backup_datasets: list[str] = field(default_factory=lambda: list(backups.DEFAULT_DATASETS))
    previous: str | None = None
    sign_key: str | None = None
    not_applicable: dict = field(default_factory=dict)
    waivers: list = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    timeout: float = 5.0

    def public(self) -> dict:
        """The options as recorded in the report (redacted later like everything else)."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def _declared_roots(options: AuditOptions) -> tuple[str, ...]:
    """The data and secret roots bind mounts may come from: the baseline's, the audited stack's rae:dataRoot and
    any the operator names (--host-root)."""
    from posture.container import declared_context
    config_file = Path(options.project_dir) / f"Pulumi.{options.stack}.yaml"
    config = (yaml.safe_load(config_file.read_text()) or {}).get("config") or {} if options.stack and config_file.exists() else {}
    declared = declared_context({"rae:dataRoot": config.get("rae:dataRoot")}, options.project_dir).host_roots
    return tuple(dict.fromkeys([*declared, *(options.host_roots or ())]))


def progress(message: str) -> None:
    print(f"[audit {now()[11:19]}] {message}", file=sys.stderr, flush=True)


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def _docker_client():
    import docker

    return docker.from_env(timeout=30)


def validate(options: AuditOptions) -> list:
    """Refuse bad input before anything is collected or written; returns the parsed endpoints."""
    if options.stack and not (Path(options.project_dir) / "Pulumi.yaml").is_file():
        raise AuditInputError(f"--project-dir {options.project_dir}: no Pulumi.yaml "
                              "[ISO 27001:2022 A.8.9 Configuration management]")
    unknown = [cid for cid in options.not_applicable if cid not in annex_a_controls()]
    if unknown:
        raise AuditInputError(f"--not-applicable {unknown}: not ISO/IEC 27001:2022 Annex A control ids")
    from components.backup_runtime import DATASETS

    strange = [name for name in options.backup_datasets if name not in DATASETS]
    if strange:
        raise AuditInputError(f"--backup-dataset {strange}: not one of {list(DATASETS)} "
                              "[ISO 27001:2022 A.8.13 Information backup]")
    empty = [cid for cid, why in options.not_applicable.items() if not str(why).strip()]
    if empty:
        raise AuditInputError(f"--not-applicable {empty}: an exclusion needs a justification "
                              "[ISO 27001:2022 clause 6.1.3 d, Statement of Applicability]")
    _validate_waivers(options.waivers)
    for name, path in (("--ca", options.ca), ("--inventory", options.inventory), ("--gate-json", options.gate_json),
                       ("--previous", options.previous), ("--sign-key", options.sign_key), ("--declared", options.declared)):
        if path and not Path(path).is_file():
            raise AuditInputError(f"{name} {path}: no such file")
    try:
        endpoints = [tls_probe.Endpoint.parse(text, options.ca) for text in options.endpoints]
    except ValueError as error:
        raise AuditInputError(f"{error} [ISO 27001:2022 A.8.24 Use of cryptography]") from None
    if options.sign_key:
        if options.out.resolve() in Path(options.sign_key).resolve().parents:
            raise AuditInputError(f"--sign-key {options.sign_key}: lies inside --out; the private key never "
                                  "lands in the report [ISO 27001:2022 A.5.33 Protection of records]")
        try:
            integrity.load_private_key(Path(options.sign_key))
        except (ValueError, TypeError) as error:
            raise AuditInputError(f"--sign-key: {error} [ISO 27001:2022 A.5.33 Protection of records]") from None
    if options.out.exists() and any(options.out.iterdir()) and not (options.out / integrity.MANIFEST).exists():
        raise AuditInputError(f"--out {options.out}: exists, is not empty and is not a previous report; "
                              "refusing to overwrite [ISO 27001:2022 A.5.33 Protection of records]")
    return endpoints


WAIVER_KEYS = ("match", "owner", "expires", "reason")


def _validate_waivers(waivers, today: date | None = None) -> None:
    """Each waiver names one evidence key exactly (no wildcard), an owner, a reason and an expiry at most
    baseline.exceptions.MAX_DAYS ahead: the terms every exception to the baseline meets."""
    stake = f"[ISO 27001:2022 {describe(exceptions.CONTROLS)}]"
    today = today or date.today()
    if not isinstance(waivers, list):
        raise AuditInputError(f"waivers: expected a list of {{match, owner, expires, reason}} {stake}")
    for index, waiver in enumerate(waivers):
        missing = [k for k in WAIVER_KEYS if not isinstance(waiver, dict) or not str(waiver.get(k) or "").strip()]
        if missing:
            raise AuditInputError(f"waivers[{index}]: {missing} missing; a waiver needs {list(WAIVER_KEYS)} {stake}")
        if exceptions.GLOB.search(str(waiver["match"])):
            raise AuditInputError(f"waivers[{index}]: match {waiver['match']!r} must be one evidence key exactly, as "
                                  f"report.json names it (no wildcards) {stake}")
        try:
            expires = exceptions.expiry(waiver["expires"])
        except ValueError:
            raise AuditInputError(f"waivers[{index}]: expires {waiver['expires']!r} is not a YYYY-MM-DD date "
                                  f"{stake}") from None
        problem = exceptions.terms_problem(waiver["reason"], waiver["owner"], expires, today)
        if problem:
            raise AuditInputError(f"waivers[{index}]: {problem} {stake}")


def collect(options: AuditOptions, endpoints, redactor: Redactor, scratch: Path):
    """Evidence, errors, and the graph (containers, resources, hosts, endpoints) inventory and data flows are drawn from."""
    evidence, errors, live, resources, host_rows, gate_waivers = [], [], [], [], [], []
    client = None
    if options.containers or options.stack or options.declared:
        try:
            client = _docker_client()
            client.ping()
        except Exception as error:  # the engine is down: container and drift evidence become unknown
            progress(f"Docker engine unreachable: {type(error).__name__}: {error}")
            client = None
    if options.containers:
        progress("containers: docker-bench section 5 runtime checks")
        if client is None:
            evidence.append(Evidence("container", "docker-engine", "reachable", "engine answers", "unreachable",
                                     UNKNOWN, CONTAINER.controls("healthcheck_required")))
        else:
            allowed = tuple(dict.fromkeys([*CONTAINER.bind_addresses, *options.bind_addresses]))
            evidence += containers.collect(client, options.stack, options.container_names, allowed, progress, redactor,
                                           _declared_roots(options))
            try:
                live = containers.hardened_containers(client, options.stack, options.container_names)
            except Exception:  # already reported as unknown evidence by containers.collect
                live = []
            previous = json.loads(Path(options.previous).read_text(encoding="utf-8")) if options.previous else None
            for container in [c for c in live if database.is_postgres(c)]:
                progress(f"database {container.name}: audit_log_verify(), roles, pg_hba and settings over the local socket")
                evidence += database.collect(container, previous)
    if options.stack or options.declared:
        evidence_stack, resources = _stack_evidence(options, client, errors)
        evidence += evidence_stack
        if options.stack:
            outputs = stack.stack_outputs(resources)
            evidence += stack.unencrypted_volume_evidence(outputs, options.stack)
            endpoints = endpoints + _stack_endpoints(outputs, options, scratch, resources, client)
            api = outputs.get("apiEndpoint")
            if isinstance(api, str) and api.rpartition(":")[2].isdigit() and " " not in api:
                progress(f"stack {options.stack}: a tenant route asked without a valid token at {api}")
                evidence += api_limits.tenant_token_evidence(api, options.ca or _stack_ca(outputs, scratch))
    endpoints = _unique(endpoints)
    if endpoints:
        evidence += tls_probe.collect(endpoints, options.timeout, progress)
    if options.inventory:
        host_rows = inventory.hosts_from_inventory(options.inventory)
        host_evidence = hosts.collect(host_rows, options.inventory, options.timeout, progress)
        evidence += host_evidence
        gate_waivers += hosts.declared_exceptions(host_rows, host_evidence, now()[:10])
    if options.gate or options.gate_json:
        progress(f"policy gate: {'running harden policy ' + options.gate if options.gate else options.gate_json}")
        try:
            result = gate.run_gate(options.gate) if options.gate else gate.load(options.gate_json)
            evidence += gate.evidence(result)
            gate_waivers += gate.waivers(result)
        except (RuntimeError, OSError, json.JSONDecodeError) as error:
            errors.append(f"policy gate: {error}")
    if options.backup_log:
        progress(f"backups: age, copies, checks and drills from {options.backup_log}")
        evidence += backups.collect(Path(options.backup_log), tuple(options.backup_datasets))
    return evidence, errors, live, resources, host_rows, endpoints, gate_waivers


def _unique(endpoints: list) -> list:
    """One probe per address: an endpoint given with a CA wins over the same address without one."""
    chosen: dict = {}
    for endpoint in endpoints:
        known = chosen.get((endpoint.host, endpoint.port))
        if known is None or (endpoint.ca and not known.ca):
            chosen[(endpoint.host, endpoint.port)] = endpoint
    return list(chosen.values())


def _stack_ca(outputs: dict, scratch: Path) -> str | None:
    """The CA certificate the stack exports, as a file in the run's scratch directory (None when it exports none)."""
    if not isinstance(outputs.get("caCertPem"), str):
        return None
    ca_file = scratch / "stack-ca.pem"
    ca_file.write_text(outputs["caCertPem"], encoding="utf-8")
    return str(ca_file)


def _stack_endpoints(outputs: dict, options: AuditOptions, scratch: Path, resources: list, client) -> list:
    """Endpoints the stack exports and the servers of its internal hops (mutual TLS required), probed against the CA
    certificate it exports (unless --ca names one)."""
    ca_path = options.ca or _stack_ca(outputs, scratch)
    specs = stack.endpoints_from_outputs(outputs, ca_path)
    internal = stack.internal_endpoints(resources, client, ca_path)
    progress(f"stack {options.stack}: {len(specs)} endpoints from the stack outputs, {len(internal)} internal hops "
             "(client certificate required)")
    specs += internal
    return [tls_probe.Endpoint.parse(spec) for spec in specs]


def _stack_evidence(options: AuditOptions, client, errors: list[str]):
    resources, evidence = [], []
    if options.declared:
        progress(f"stack: declared graph {options.declared} compared with live containers")
        resources = stack.resources_of(json.loads(Path(options.declared).read_text(encoding="utf-8")))
        if client is not None:
            evidence += stack.graph_drift(resources, client, "declared graph")
        return evidence, resources
    if stack.engine_available():
        progress(f"stack {options.stack}: pulumi refresh --preview-only (engine drift)")
        evidence += stack.refresh_drift(options.stack, options.environment, Path(options.project_dir))
        try:
            resources = stack.resources_of(stack.export(options.stack, options.environment, Path(options.project_dir)))
            label = f"stack {options.stack}"
        except RuntimeError as error:
            progress(f"{error}; falling back to the declared graph rendered under mocks")
    if not resources:
        progress(f"stack {options.stack}: rendering the declared graph (components.render, mocks)")
        try:
            resources = stack.rendered_graph(options.stack, Path(options.project_dir))
            label = f"declared graph of {options.stack} (rendered)"
        except RuntimeError as error:
            errors.append(str(error))
            return evidence, resources
    progress(f"stack {options.stack}: {len(resources)} resources; declared vs live through the Docker API")
    if client is None:
        evidence.append(Evidence("stack", f"stack/{options.stack}", "live_state_readable", "Docker engine answers",
                                 "unreachable", UNKNOWN, ("A.8.9",)))
    else:
        evidence += stack.graph_drift(resources, client, label)
        evidence += stack.undeclared_containers(resources, client, options.stack)
        evidence += stack.network_separation(client, options.stack, resources)
        evidence += api_limits.collect(client, stack.service_containers(resources))
    return evidence, resources


def run(options: AuditOptions) -> int:
    """Audit and write the report; returns the exit code (0 clean, 1 drift, 2 error or incomplete)."""
    started_at, run_id = now(), str(uuid.uuid4())
    endpoints = validate(options)
    redactor = Redactor().learn_env(options.environment).learn_config(options.public())
    previous = json.loads(Path(options.previous).read_text(encoding="utf-8")) if options.previous else None
    progress(f"run {run_id}: collecting evidence")
    with tempfile.TemporaryDirectory(prefix="harden-audit-") as scratch:
        evidence, errors, live, resources, host_rows, endpoints, gate_waivers = collect(options, endpoints, redactor, Path(scratch))
    redacted_evidence = [_redact_evidence(e, redactor) for e in evidence]
    assets = inventory.assets(live, resources, host_rows, endpoints)
    history = [*(previous or {}).get("history", [])]
    report = build(redacted_evidence, run_id=run_id, started_at=started_at, options=options.public(), errors=errors,
                   assets=assets, flows=[], not_applicable=options.not_applicable, previous=previous,
                   history=history, tool_version=_commit(), waivers=options.waivers, gate_waivers=gate_waivers)
    report["flows"] = inventory.flows(live, resources, host_rows, report["evidence"])
    report["assets"] = inventory.observed(report["assets"], report["evidence"])
    report["history"].append({"run_id": run_id, "started_at": started_at, "controls": report["summary"]["controls"],
                              "evidence": report["summary"]["evidence"]})
    report = redactor.scrub(report)
    write(options, report, redactor)
    for waiver in report["summary"]["waivers"]:
        progress(f"waiver ({waiver['source']}) {waiver['match']}: owner {waiver['owner']}, expires {waiver['expires']}"
                 f"{' (EXPIRED, not applied)' if waiver['expired'] else ''}; covers {len(waiver['applied_to'])}")
    progress(f"verdict {report['summary']['verdict']}: {report['summary']['evidence']}; exit {report['summary']['exit_code']}")
    return report["summary"]["exit_code"]


def _redact_evidence(item, redactor: Redactor):
    item.expected = redactor.scrub(item.expected)
    item.actual = redactor.scrub(item.actual)
    item.detail = redactor.text(item.detail)
    item.subject = redactor.text(item.subject)
    return item


def write(options: AuditOptions, report: dict, redactor: Redactor) -> None:
    """Everything goes into a fresh sibling directory first, which replaces --out only when complete."""
    out = options.out
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        progress("writing report.json, report.html, summary.md, junit.xml and the audit artifacts")
        dot = inventory.dot_source(report["assets"], report["flows"])
        svg = redactor.text(inventory.render_svg(dot))
        commit = report["tool"]["version"]
        drafts = {p.slug: redactor.text(policies.render(p, report["run"]["started_at"], commit, report))
                  for p in policies.POLICIES}
        files = {
            "report.json": json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
            "report.html": html_report.render(report, svg, drafts),
            "summary.md": text_outputs.summary_markdown(report),
            "junit.xml": text_outputs.junit_xml(report),
            "soa.md": text_outputs.soa_markdown(report),
            "soa.csv": text_outputs.soa_csv(report),
            "risk-treatment.md": text_outputs.risks_markdown(report),
            "assets.md": text_outputs.assets_markdown(report),
            "dataflow.dot": redactor.text(dot) + "\n",
            "dataflow.svg": svg,
            "report.schema.json": SCHEMA.read_text(encoding="utf-8"),
            **{f"policies/{slug}.md": text for slug, text in drafts.items()},
            **{name: redactor.text(text) for name, text in oscal.render(report).items()},
        }
        for name, text in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        integrity.write_manifest(staging, {"run_id": report["run"]["id"], "started_at": report["run"]["started_at"],
                                           "tool": report["tool"], "verdict": report["summary"]["verdict"],
                                           "exit_code": report["summary"]["exit_code"]})
        if options.sign_key:
            progress("signing manifest.json: in-toto Statement in a DSSE envelope (Ed25519)")
            key = integrity.sign(staging, Path(options.sign_key))
            progress(f"signed by key id {key}")
        staging.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
