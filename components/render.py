"""Render a Pulumi Python program's desired resource graph without an engine or cloud credentials.

The program runs under `pulumi.runtime.set_mocks`: every resource it declares is recorded with its
type token, name, whether it is a custom resource (components are not) and its inputs (camelCase
keys, numbers as floats, as the engine would see them). Mocks are
process-global, so `render_program` runs the program in a fresh subprocess; `GraphMocks` is the mock
itself, for callers (unit tests) that already own a process.

Example: render_program(Path("."), "gcp", {"rae:target": "gcp", "gcp:project": "p"})
"""

import argparse
import gc
import hashlib
import functools
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi.runtime

_PROJECT_NUMBER = "123456789012"
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc's sig key of a serialized secret  # checkov:skip=CKV_SECRET_6:pulumi's public marker of a serialized secret [owner=platform-security expires=2027-05-29]
SECRET_MARKER = "[secret]"
# posture.UNKNOWN_VALUE: what an output the mocks cannot compute renders as.
UNKNOWN_MARKER = "[unknown]"
# Service agent names that differ from their API's name (sqladmin.googleapis.com -> gcp-sa-cloud-sql).
_SERVICE_AGENT_NAMES = {"sqladmin": "cloud-sql"}


class GraphMocks(pulumi.runtime.Mocks):
    """Record every registered resource and answer with plausible outputs (ids, emails, self links).

    An output the engine would compute and these mocks cannot (a bucket's url, an instance's address) is
    answered with UNKNOWN_MARKER, so a value built from it is judged unknown, never silently dropped.
    """

    def __init__(self, project: str = "mock-project"):
        self.project = project
        self.resources: list[dict] = []
        # Each declared resource: its class names its outputs, and it holds the options that are not inputs (protect).
        self.objects: dict[tuple[str, str], pulumi.Resource] = {}
        self.dynamic_providers: dict[str, str] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        computed = self._computed(args)
        resource_id = computed.pop("id", f"{args.name}-id")
        record = {
            "type": args.typ,
            "name": args.name,
            "urn": f"urn:pulumi:mock::{args.typ}::{args.name}",
            "custom": bool(args.custom),
            "inputs": {key: value for key, value in args.inputs.items() if key != "__provider"},
        }
        declared = self.objects.get((args.typ, args.name))
        if declared is not None:  # protect as the engine would apply it (inherited from the parent where unset)
            record["options"] = {"protect": bool(getattr(declared, "_protect", None))}
        if args.name in self.dynamic_providers and args.typ.startswith("pulumi-python:dynamic"):
            record["provider"] = self.dynamic_providers[args.name]
        self.resources.append(record)
        unresolved = {name: UNKNOWN_MARKER for name in _output_names(type(declared) if declared is not None else None)
                      if name not in args.inputs and name not in computed and name != "id"}
        return resource_id, {**unresolved, **args.inputs, **computed}

    def _computed(self, args) -> dict:
        """Outputs the engine would compute and that other resources consume."""
        name = args.inputs.get("name") or args.name
        computed = {"name": name, "selfLink": f"https://mock/{self.project}/{args.typ}/{name}"}
        if args.typ == "gcp:serviceaccount/account:Account":
            account = args.inputs.get("accountId", args.name)
            computed |= {"email": f"{account}@{self.project}.iam.gserviceaccount.com",
                         "name": f"projects/{self.project}/serviceAccounts/{account}"}
        elif args.typ == "gcp:projects/serviceIdentity:ServiceIdentity":
            service = args.inputs.get("service", "svc").split(".")[0]
            agent = _SERVICE_AGENT_NAMES.get(service, service)
            computed |= {"email": f"service-{_PROJECT_NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"}
        elif args.typ == "gcp:kms/cryptoKey:CryptoKey":
            computed |= {"id": f"{args.inputs.get('keyRing')}/cryptoKeys/{name}"}
        elif args.typ == "gcp:kms/keyRing:KeyRing":
            computed |= {"id": f"projects/{self.project}/locations/{args.inputs.get('location')}/keyRings/{name}"}
        elif args.typ == "gcp:sql/databaseInstance:DatabaseInstance":
            region = args.inputs.get("region", "region")
            # The instance's DNS name (a CAS-signed certificate names it) and its private address (RFC 5737).
            computed |= {"connectionName": f"{self.project}:{region}:{name}", "dnsName": f"{name}.{region}.sql.goog.",
                         "privateIpAddress": "192.0.2.20"}
        elif args.typ in ("gcp:compute/globalAddress:GlobalAddress", "gcp:compute/address:Address"):
            computed |= {"address": "192.0.2.10"}  # an RFC 5737 documentation address: no rule reads it
        elif args.typ == "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
            computed |= {"name": f"projects/{_PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
                                 f"{args.inputs.get('workloadIdentityPoolId')}"}
        elif args.typ.startswith("tls:"):
            computed |= {"privateKeyPem": "mock-private-key", "publicKeyPem": "mock-public-key",  # checkov:skip=CKV_SECRET_6:mock values under Pulumi mocks [owner=platform-security expires=2027-05-29]
                         "certPem": "mock-cert", "certRequestPem": "mock-csr"}
        elif args.typ == "random:index/randomPassword:RandomPassword":
            # Distinct per password (and stable): code that refuses two equal keys sees real-looking values.
            length = int(args.inputs.get("length", 1))
            computed |= {"result": (hashlib.sha256(args.name.encode()).hexdigest() * 4)[:length]}
        return computed

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "gcp:organizations/getProject:getProject":
            return {"number": _PROJECT_NUMBER, "projectId": self.project}
        return dict(args.args)


@functools.lru_cache(maxsize=None)
def _output_names(cls) -> tuple[str, ...]:
    """The engine names of a generated resource class's outputs (its `@pulumi.getter` properties)."""
    if cls is None:
        return ()
    return tuple(getattr(member.fget, "_pulumi_name", None) for klass in cls.__mro__ for member in vars(klass).values()
                 if isinstance(member, property) and getattr(member.fget, "_pulumi_name", None))


def _plain(value, secrets: list, reveal: bool, path: tuple = ()):
    """Inputs as JSON; the path (keys and list indices) of every secret is appended to `secrets`. A secret is
    replaced by a marker unless `reveal` (the policy gate judges what would be deployed, then redacts)."""
    if isinstance(value, dict) and _SECRET_SIGNATURE in value:
        secrets.append(list(path))
        return _plain(value.get("value"), [], reveal, path) if reveal else SECRET_MARKER
    if isinstance(value, dict):
        return {key: _plain(item, secrets, reveal, (*path, key)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, secrets, reveal, (*path, index)) for index, item in enumerate(value)]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _record_classes(mocks: GraphMocks) -> None:
    """Remember each resource (its class names its outputs; it holds its `protect` option, which is not an input)
    and each dynamic resource's provider class
    (so the gate can tell its own dynamic providers, which rules understand, from any other)."""
    import pulumi.dynamic

    original = pulumi.Resource.__init__
    original_dynamic = pulumi.dynamic.Resource.__init__

    def record(self, t, name, custom, *args, **kwargs):
        mocks.objects[(t, name)] = self
        original(self, t, name, custom, *args, **kwargs)

    def record_dynamic(self, provider, name, *args, **kwargs):
        cls = type(provider)
        named = f"{cls.__module__}.{cls.__qualname__}"
        # A class that only calls itself ours (a copied __module__) is not trusted as ours.
        genuine = getattr(sys.modules.get(cls.__module__), cls.__qualname__, None) is cls
        mocks.dynamic_providers[name] = named if genuine else f"{named} (not the class of that name)"
        original_dynamic(self, provider, name, *args, **kwargs)

    pulumi.Resource.__init__ = record
    pulumi.dynamic.Resource.__init__ = record_dynamic


def run_under_mocks(program: Path, stack: str, config: dict, project: str, reveal_secrets: bool = False) -> list[dict]:
    """Run `program` in this process under GraphMocks and return the recorded resources (mocks stay set)."""
    mocks = GraphMocks(project=config.get("gcp:project", "mock-project"))
    _record_classes(mocks)
    pulumi.runtime.set_all_config(dict(config))
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    sys.path.insert(0, str(program.parent))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    rendered = []
    # The SDK registers resources from a thread pool: sorted, every rendering of one program lists them alike.
    for resource in sorted(mocks.resources, key=lambda resource: resource["urn"]):
        secrets: list[str] = []
        inputs = _plain(resource["inputs"], secrets, reveal_secrets)
        rendered.append({**resource, "inputs": inputs, "secrets": secrets})
    return rendered


def _project_name(project_dir: Path) -> str:
    project_file = next((project_dir / name for name in ("Pulumi.yaml", "Pulumi.yml") if (project_dir / name).exists()),
                        project_dir / "Pulumi.yaml")
    for line in project_file.read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{project_file} has no top-level name")


# The renderer's collector thresholds (CPython's default is 700, 10, 10). The SDK keeps every resource's outputs,
# futures and tasks alive until the program ends (about 55 Outputs and 60 tasks a resource), so at the default each
# collection rescans a heap that only grows: 40% of a 1,000-resource render went to collections that freed nothing
# (benchmarks/gate.md). Fewer, larger young collections still reclaim cyclic garbage; the graph does not change.
_COLLECTOR_THRESHOLDS = (50_000, 50, 100)


def _tune_collector() -> None:
    """Collect rarely and never rescan what is loaded before the program runs (the SDK, this module)."""
    gc.freeze()
    gc.set_threshold(*_COLLECTOR_THRESHOLDS)


_RUN_THIS_FILE = "import runpy, sys; path = sys.argv.pop(1); runpy.run_path(path, run_name='__main__')"


def render_program(project_dir: Path, stack: str, config: dict, reveal_secrets: bool = False,
                   program: Path | None = None, project_name: str | None = None) -> list[dict]:
    """Render the program in `project_dir` for `stack` with `config`; one dict per resource.

    + project_dir: directory holding Pulumi.yaml and __main__.py
    + stack: stack name (as `pulumi.get_stack()` will return it)
    + config: flat "namespace:key" -> string values, e.g. {"rae:target": "gcp", "gcp:project": "p"}
    + reveal_secrets: render secrets' values instead of SECRET_MARKER (the caller must redact "secrets" paths)
    + program, project_name: the program file (Pulumi.yaml `main:`) and project name, if not __main__.py and `name:`

    Returns [{"type", "name", "urn", "custom", "inputs", "secrets", "options", "provider"?}], components included
    (custom False); "options" holds the resource options that are not inputs ({"protect": bool}); "secrets" lists
    the input paths that were Pulumi secrets (their values are real: redact them before any output), "provider"
    names a dynamic resource's provider class.
    Raises RuntimeError with the program's own error (e.g. a BaselineViolation) when it fails.
    """
    project_dir = Path(project_dir).resolve()
    completed = subprocess.run(  # nosec B603: fixed argv, this interpreter, no shell
        # This file, by path: a program under judgement may ship a components/ package of its own, and must not
        # replace the renderer that records it.
        [sys.executable, "-c", _RUN_THIS_FILE, str(Path(__file__).resolve()), "--project-dir", str(project_dir),
         "--stack", stack, *(["--reveal-secrets"] if reveal_secrets else []),
         *(["--program", str(program)] if program else []), *(["--project-name", project_name] if project_name else [])],
        input=json.dumps(config), capture_output=True, text=True, cwd=project_dir,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project_dir), str(Path(__file__).parents[1]),
                                                                       os.environ.get("PYTHONPATH")]))},
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"rendering {project_dir} stack {stack} failed:\n{completed.stderr.strip()}")
    return json.loads(completed.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Print a Pulumi program's resource graph (JSON) rendered under mocks; "
                                                 "config is read as a JSON object on stdin.")
    parser.add_argument("--project-dir", type=Path, default=Path("."))
    parser.add_argument("--stack", required=True)
    parser.add_argument("--reveal-secrets", action="store_true", help="values of secrets instead of a marker")
    parser.add_argument("--program", type=Path, help="the program file (default: PROJECT_DIR/__main__.py)")
    parser.add_argument("--project-name", help="the project name (default: Pulumi.yaml's name)")
    args = parser.parse_args(argv)
    config = json.loads(sys.stdin.read() or "{}")
    project_dir = args.project_dir.resolve()
    os.chdir(project_dir)
    graph_out, sys.stdout = sys.stdout, sys.stderr  # the program's own prints must not corrupt the JSON
    _tune_collector()
    try:
        program = args.program.resolve() if args.program else project_dir / "__main__.py"
        resources = run_under_mocks(program, args.stack, config, args.project_name or _project_name(project_dir),
                                    args.reveal_secrets)
    finally:
        sys.stdout = graph_out
    json.dump(resources, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
