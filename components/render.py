"""Render a Pulumi Python program's desired resource graph without an engine or cloud credentials.

The program runs under `pulumi.runtime.set_mocks`: every resource it declares is recorded with its
type token, name, whether it is a custom resource (components are not) and its inputs (camelCase
keys, numbers as floats, as the engine would see them). Mocks are
process-global, so `render_program` runs the program in a fresh subprocess; `GraphMocks` is the mock
itself, for callers (unit tests) that already own a process.

Example: render_program(Path("."), "gcp", {"rae:target": "gcp", "gcp:project": "p"})
"""

import argparse
import hashlib
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi.runtime

_PROJECT_NUMBER = "123456789012"
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # pulumi.runtime.rpc's sig key of a serialized secret  # checkov:skip=CKV_SECRET_6:pulumi's public marker of a serialized secret
SECRET_MARKER = "[secret]"
# Service agent names that differ from their API's name (sqladmin.googleapis.com -> gcp-sa-cloud-sql).
_SERVICE_AGENT_NAMES = {"sqladmin": "cloud-sql"}


class GraphMocks(pulumi.runtime.Mocks):
    """Record every registered resource and answer with plausible outputs (ids, emails, self links)."""

    def __init__(self, project: str = "mock-project"):
        self.project = project
        self.resources: list[dict] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        computed = self._computed(args)
        resource_id = computed.pop("id", f"{args.name}-id")
        self.resources.append({
            "type": args.typ,
            "name": args.name,
            "urn": f"urn:pulumi:mock::{args.typ}::{args.name}",
            "custom": bool(args.custom),
            "inputs": args.inputs,
        })
        return resource_id, {**args.inputs, **computed}

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
        elif args.typ == "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
            computed |= {"name": f"projects/{_PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
                                 f"{args.inputs.get('workloadIdentityPoolId')}"}
        elif args.typ.startswith("tls:"):
            computed |= {"privateKeyPem": "mock-private-key", "publicKeyPem": "mock-public-key",  # checkov:skip=CKV_SECRET_6:mock values under Pulumi mocks
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


def _plain(value):
    """Inputs as JSON; a secret is replaced by a marker so no rendered graph carries one."""
    if isinstance(value, dict) and _SECRET_SIGNATURE in value:
        return SECRET_MARKER
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def run_under_mocks(program: Path, stack: str, config: dict, project: str) -> list[dict]:
    """Run `program` in this process under GraphMocks and return the recorded resources (mocks stay set)."""
    mocks = GraphMocks(project=config.get("gcp:project", "mock-project"))
    pulumi.runtime.set_all_config(dict(config))
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    sys.path.insert(0, str(program.parent))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    return [{**resource, "inputs": _plain(resource["inputs"])} for resource in mocks.resources]


def _project_name(project_dir: Path) -> str:
    for line in (project_dir / "Pulumi.yaml").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise ValueError(f"{project_dir / 'Pulumi.yaml'} has no top-level name")


def render_program(project_dir: Path, stack: str, config: dict) -> list[dict]:
    """Render the program in `project_dir` for `stack` with `config`; one dict per resource.

    + project_dir: directory holding Pulumi.yaml and __main__.py
    + stack: stack name (as `pulumi.get_stack()` will return it)
    + config: flat "namespace:key" -> string values, e.g. {"rae:target": "gcp", "gcp:project": "p"}

    Returns [{"type", "name", "urn", "custom", "inputs"}], components included (custom False).
    Raises RuntimeError with the program's own error (e.g. a BaselineViolation) when it fails.
    """
    project_dir = Path(project_dir).resolve()
    completed = subprocess.run(  # nosec B603: fixed argv, this interpreter, no shell
        [sys.executable, "-m", "components.render", "--project-dir", str(project_dir), "--stack", stack],
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
    args = parser.parse_args(argv)
    config = json.loads(sys.stdin.read() or "{}")
    project_dir = args.project_dir.resolve()
    os.chdir(project_dir)
    graph_out, sys.stdout = sys.stdout, sys.stderr  # the program's own prints must not corrupt the JSON
    try:
        resources = run_under_mocks(project_dir / "__main__.py", args.stack, config, _project_name(project_dir))
    finally:
        sys.stdout = graph_out
    json.dump(resources, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
