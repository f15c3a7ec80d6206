"""`harden audit`: drift and compliance evidence for ISO/IEC 27001:2022 auditors.

Exit codes over the controls this run assessed: 0 each passes or is justified not applicable; 1 drift or
violations (a control fails; --not-applicable cannot hide it); 2 error, or evidence incomplete (a control is
unknown: host down, probe timed out, engine unreachable). Unknown never counts as pass. 3: nothing fails or is
unknown but waivers (config "waivers": match, owner, expires, reason; or the gate's) accepted failing checks:
a waiver never yields 0, and every one is listed.
With --verify DIR: 0 intact and signed by a trusted key, 1 tampered, unsigned or signed by another key, 2 error
(no trusted key given: --public-key, or a key committed under docs/audit/trusted-keys/).
"""

import argparse
import json
import sys
from pathlib import Path

_EPILOG = """examples:
  harden audit --out out/audit --stack local --endpoint 127.0.0.1:5432,postgres,name=postgres --ca ca.pem
  harden audit --out out/audit --inventory hosts/inventory.py --gate-json out/gate.json --previous old/report.json
  harden audit --verify out/audit --public-key trusted.pub

exit codes: 0 every assessed control passes or is justified not applicable, 1 drift or violations, 2 error or
incomplete evidence (unknown is never a pass), 3 clean but for waived checks (risk accepted; each waiver listed)"""

_CONFIG_KEYS = ("stack", "project_dir", "declared", "containers", "container_names", "bind_addresses", "host_roots", "endpoints",
                "ca", "inventory", "gate", "gate_json", "backup_log", "backup_datasets", "previous", "sign_key",
                "not_applicable", "waivers", "environment", "timeout")


def register(commands) -> None:
    parser = commands.add_parser("audit", help="drift and compliance report keyed by ISO 27001:2022 Annex A",
                                 description=__doc__, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, metavar="DIR", default=Path("out/audit"),
                        help="report directory, replaced atomically when the run completes (default: out/audit)")
    parser.add_argument("--config", type=Path, metavar="FILE", help=f"JSON object with any of: {', '.join(_CONFIG_KEYS)}")
    parser.add_argument("--stack", metavar="NAME", help="Pulumi stack: refresh preview and export through the engine")
    parser.add_argument("--project-dir", metavar="DIR",
                        help="the Pulumi project of --stack (directory of Pulumi.yaml; default: this repository)")
    parser.add_argument("--declared", metavar="GRAPH.json", help="declared resource graph (pulumi stack export or components.render JSON)")
    parser.add_argument("--no-containers", dest="containers", action="store_false", default=None,
                        help="skip the live container runtime checks")
    parser.add_argument("--container", dest="container_names", action="append", metavar="NAME", help="check this container (repeatable); without it, every container labelled by our components")
    parser.add_argument("--bind-address", dest="bind_addresses", action="append", metavar="ADDRESS",
                        help="a host address published ports may bind to besides the baseline's (e.g. Node1's Tailscale IP)")
    parser.add_argument("--host-root", dest="host_roots", action="append", metavar="PATH",
                        help="a data or secret root the audited containers' host paths may sit under, besides the "
                             "baseline's and the stack's rae:dataRoot (repeatable)")
    parser.add_argument("--endpoint", dest="endpoints", action="append", metavar="SPEC",
                        help="host:port[,postgres|,https|,grpc][,name=SERVER_NAME][,ca=PATH][,mtls] to probe with TLS "
                             "handshakes; mtls: the endpoint must refuse a client without a certificate; https: an "
                             "oversized declared body must get 413; grpc: handshakes offer ALPN h2, as a gRPC client's do")
    parser.add_argument("--ca", metavar="PEM", help="the stack's CA bundle (PEM) that endpoint chains must verify against")
    parser.add_argument("--inventory", metavar="FILE", help="pyinfra inventory file of the hosts to verify")
    parser.add_argument("--gate", metavar="PATH", help="run `harden policy PATH --format json` and include its findings")
    parser.add_argument("--gate-json", metavar="FILE", help="a saved `harden policy --format json` result")
    parser.add_argument("--backup-log", metavar="FILE",
                        help="the JSON-lines log of `harden backup`: backup age per data set, copies, checks, drills")
    parser.add_argument("--backup-dataset", dest="backup_datasets", action="append", metavar="NAME",
                        help="a data set that must have backups (repeatable; default postgres, qdrant and files, "
                             "the stack's stores and secret files; name them to audit fewer)")
    parser.add_argument("--previous", metavar="REPORT.json", help="previous report.json: newly failed, fixed, still failing, trend")
    parser.add_argument("--sign-key", metavar="KEY", help="Ed25519 private key (PEM or OpenSSH) to sign manifest.json")
    parser.add_argument("--not-applicable", action="append", metavar="A.x.y=JUSTIFICATION",
                        help="exclude a control from the Statement of Applicability, with the reason")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="seconds per network probe (default 5)")
    parser.add_argument("--verify", type=Path, metavar="DIR", help="verify a report directory's manifest and signature")
    parser.add_argument("--public-key", type=Path, action="append", metavar="PEM",
                        help="trusted Ed25519 public key (PEM or OpenSSH) for --verify (repeatable); without it the "
                             "keys committed under docs/audit/trusted-keys/*.pub, never a key inside the report")
    parser.set_defaults(run=run)


def _options(args):
    from harden.audit.run import AuditInputError, AuditOptions

    config = {}
    if args.config:
        try:
            config = json.loads(args.config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise AuditInputError(f"--config {args.config}: {error}") from None
        unknown = sorted(set(config) - set(_CONFIG_KEYS))
        if unknown:
            raise AuditInputError(f"--config {args.config}: unknown keys {unknown}; allowed: {list(_CONFIG_KEYS)}")
    merged = dict(config)
    for key in _CONFIG_KEYS:
        value = getattr(args, key, None)
        if value is not None:
            merged[key] = value
    if args.not_applicable:
        pairs = [item.partition("=") for item in args.not_applicable]
        bad = [item for item, (_, sep, _) in zip(args.not_applicable, pairs) if not sep]
        if bad:
            raise AuditInputError(f"--not-applicable {bad}: expected A.x.y=JUSTIFICATION")
        merged["not_applicable"] = {**config.get("not_applicable", {}), **{c.strip(): why.strip() for c, _, why in pairs}}
    return AuditOptions(out=args.out, **merged)


def run(args) -> int:
    from baseline import BaselineViolation
    from harden.audit.run import AuditInputError, run as run_audit

    if args.verify:
        return verify(args.verify, args.public_key)
    try:
        return run_audit(_options(args))
    except (AuditInputError, BaselineViolation) as error:
        print(f"harden audit: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # any other failure is an error (2), never mistaken for drift (1) or clean (0)
        print(f"harden audit: error: {type(error).__name__}: {error}; no report written", file=sys.stderr)
        return 2


TRUSTED_KEYS = Path(__file__).resolve().parents[1] / "docs" / "audit" / "trusted-keys"


def trusted_keys(flags: list[Path] | None) -> list[Path]:
    """The keys --verify trusts: the --public-key flags, else the public keys committed in the repository."""
    if flags:
        return list(flags)
    return sorted(TRUSTED_KEYS.glob("*.pub")) if TRUSTED_KEYS.is_dir() else []


def verify(directory: Path, public_keys: list[Path] | None) -> int:
    from harden.audit.integrity import IntegrityError, evidence_problems, verify as verify_directory

    if not directory.is_dir():
        print(f"harden audit --verify: {directory} is not a directory", file=sys.stderr)
        return 2
    keys = trusted_keys(public_keys)
    try:
        problems = verify_directory(directory, keys)
    except IntegrityError as error:
        print(f"harden audit --verify: error: {error}", file=sys.stderr)
        return 2
    report_path = directory / "report.json"
    if report_path.exists():
        try:
            problems += evidence_problems(json.loads(report_path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as error:
            problems.append(f"report.json: unreadable ({type(error).__name__}: {error})")
    for problem in problems:
        print(f"harden audit --verify: {problem} [ISO 27001:2022 A.5.33 Protection of records]", file=sys.stderr)
    if not problems:
        print(f"harden audit --verify: {directory}: every file matches manifest.json, whose DSSE signature verifies "
              f"against trusted key {', '.join(str(k) for k in keys)}", file=sys.stderr)
    return 1 if problems else 0
