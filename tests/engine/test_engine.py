"""The offline Pulumi engine (scripts/engine.sh) is the real engine at the pins.

Pins come from scripts/engine/versions.env (the single source). The engine is
used through scripts/pulumi-env.sh, exactly as the Makefile and users do.
A missing engine fails the suite: scripts/setup.sh provides it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_ENV = ROOT / "scripts" / "engine" / "versions.env"
ENV_SCRIPT = ROOT / "scripts" / "pulumi-env.sh"
# Providers scripts/engine.sh builds (docker from ../shared/pulumi-docker, or the official plugin where installed).
BUILT_PROVIDERS = ("tls", "random", "docker")


def read_pins() -> dict[str, str]:
    pins = {}
    for line in VERSIONS_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pins[key.strip()] = value.split(" #", 1)[0].strip()  # a trailing comment is bash's, not the value's
    return pins


PINS = read_pins()


def engine_env(**overrides: str) -> dict[str, str]:
    """The environment scripts/pulumi-env.sh exports, plus overrides."""
    out = subprocess.run(
        ["bash", "-c", f'source "{ENV_SCRIPT}" && env -0'],
        check=True,
        capture_output=True,
        env={**os.environ, **overrides},
    ).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    env.update(overrides)
    return env


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    e = engine_env()
    if shutil.which("pulumi", path=e["PATH"]) is None:
        pytest.fail("no pulumi engine: run scripts/engine.sh (scripts/setup.sh does)")
    return e


def pulumi(env: dict[str, str], *args: str, cwd: Path | None = None, check: bool = True):
    return subprocess.run(
        ["pulumi", *args],
        env=env,
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pins_are_complete() -> None:
    for key in (
        "PULUMI_CLI_VERSION",
        "PULUMI_LANGUAGE_PYTHON_VERSION",
        "PULUMI_PYTHON_SDK_VERSION",
        "PULUMI_TLS_VERSION",
        "PULUMI_RANDOM_VERSION",
        "PULUMI_DOCKER_VERSION",
    ):
        assert PINS.get(key), f"{key} missing from {VERSIONS_ENV}"


def test_offline_environment(env: dict[str, str]) -> None:
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_HOME"] == str(ROOT / ".tools" / "pulumi" / "home")
    assert env["PULUMI_BACKEND_URL"] == f"file://{ROOT / '.state' / 'pulumi'}"
    assert env.get("PULUMI_CONFIG_PASSPHRASE") or env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if "PULUMI_CONFIG_PASSPHRASE_FILE" in env and "PULUMI_CONFIG_PASSPHRASE" not in os.environ:
        mode = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"]).stat().st_mode & 0o777
        assert mode == 0o600, oct(mode)


def test_cli_version_is_the_pin(env: dict[str, str]) -> None:
    got = pulumi(env, "version").stdout.strip()
    assert got == "v" + PINS["PULUMI_CLI_VERSION"] or _newer_system_cli(env, got), got


def _newer_system_cli(env: dict[str, str], got: str) -> bool:
    # engine.sh keeps a pre-installed pulumi that is at least the pin.
    ours = ROOT / ".tools" / "pulumi" / "bin" / "pulumi"
    which = shutil.which("pulumi", path=env["PATH"])
    if which and Path(which).resolve() == ours.resolve():
        return False
    from packaging.version import Version

    return Version(got.lstrip("v")) >= Version(PINS["PULUMI_CLI_VERSION"])


def test_providers_installed_at_pins(env: dict[str, str]) -> None:
    listed = json.loads(pulumi(env, "plugin", "ls", "--output", "json").stdout or "[]")
    have = {(p["name"], str(p["version"]).lstrip("v")) for p in listed if p.get("kind") == "resource"}
    for name in BUILT_PROVIDERS:
        want = PINS[f"PULUMI_{name.upper()}_VERSION"]
        assert (name, want) in have, f"{name} {want} not in `pulumi plugin ls`: {sorted(have)}"


def test_status_reports_every_plugin_installed(env: dict[str, str]) -> None:
    """`scripts/engine.sh --status` names the docker plugin beside tls and random, and exits 0 when all are there."""
    status = subprocess.run(["bash", str(ROOT / "scripts" / "engine.sh"), "--status"], capture_output=True, text=True,
                            env=env, check=False, timeout=120)
    out = status.stdout + status.stderr
    assert status.returncode == 0, out
    for name in BUILT_PROVIDERS:
        assert f"provider {name} {PINS[f'PULUMI_{name.upper()}_VERSION']}" in out, out


def test_docker_plugin_schema_serves_the_sdk(env: dict[str, str], tmp_path: Path) -> None:
    """The installed docker plugin's schema has every resource, function and property the pulumi-docker SDK uses."""
    schema = tmp_path / "docker-schema.json"
    got = pulumi(env, "package", "get-schema", f"docker@{PINS['PULUMI_DOCKER_VERSION']}", check=False)
    assert got.returncode == 0, got.stderr[-2000:]
    schema.write_text(got.stdout)
    assert json.loads(got.stdout)["version"] == PINS["PULUMI_DOCKER_VERSION"]
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "engine" / "tools" / "check_schema.py"),
                              str(schema), "pulumi_docker"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]


def test_official_language_host_beside_its_executor(env: dict[str, str]) -> None:
    host = shutil.which("pulumi-language-python", path=env["PATH"])
    assert host, "pulumi-language-python not on the engine PATH"
    assert (Path(host).parent / "pulumi-language-python-exec").is_file()
    version = subprocess.run([host, "-version"], capture_output=True, text=True, check=True).stdout.strip()
    assert version == "v" + PINS["PULUMI_LANGUAGE_PYTHON_VERSION"], version


def _sdk_versions_match_pins() -> str | None:
    wanted = {
        "pulumi": PINS["PULUMI_PYTHON_SDK_VERSION"],
        "pulumi-tls": PINS["PULUMI_TLS_VERSION"],
        "pulumi-random": PINS["PULUMI_RANDOM_VERSION"],
        "pulumi-docker": PINS["PULUMI_DOCKER_VERSION"],
    }
    for dist, version in wanted.items():
        try:
            got = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return f"{dist} is not installed in {sys.prefix}"
        if got != version:
            return f"{dist} {got} installed, pin is {version}"
    return None


def test_stack_lifecycle_with_built_providers(env: dict[str, str], tmp_path: Path) -> None:
    """stack init, up, preview --expect-no-changes, refresh --expect-no-changes, destroy through the real engine:
    tls, random, docker (a network on this host's engine) and a dynamic resource (pulumi-resource-pulumi-python)."""
    problem = _sdk_versions_match_pins()
    if problem:
        pytest.fail(problem)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: engine-selftest
            runtime:
              name: python
              options:
                virtualenv: {sys.prefix}
            """
        )
    )
    (project / "__main__.py").write_text(
        textwrap.dedent(
            """\
            import pulumi
            import pulumi.dynamic as dynamic
            import pulumi_docker as docker
            import pulumi_random as random
            import pulumi_tls as tls

            class Echo(dynamic.ResourceProvider):
                def create(self, props):
                    return dynamic.CreateResult(id_="echo", outs={**props, "echoed": props["text"].upper()})

            class Echoed(dynamic.Resource):
                echoed: pulumi.Output[str]

                def __init__(self, name):
                    super().__init__(Echo(), name, {"text": "dynamic", "echoed": None})

            pw = random.RandomPassword("pw", length=20, special=False)
            key = tls.PrivateKey("key", algorithm="ED25519")
            net = docker.Network("net", name=pulumi.Config().require("network"), internal=True)
            echo = Echoed("echo")
            pulumi.export("pw_len", pw.length)
            pulumi.export("pub", key.public_key_openssh)
            pulumi.export("network_id", net.id)
            pulumi.export("echoed", echo.echoed)
            """
        )
    )
    local = engine_env(
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="engine-selftest",
    )
    local.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    (tmp_path / "state").mkdir()
    network = f"rae-engine-selftest-{os.getpid()}"
    pulumi(local, "stack", "init", "selftest", cwd=project)
    pulumi(local, "config", "set", "network", network, cwd=project)
    try:
        up = pulumi(local, "up", "--yes", "--skip-preview", cwd=project, check=False)
        assert up.returncode == 0, up.stdout + up.stderr
        outputs = json.loads(pulumi(local, "stack", "output", "--json", cwd=project).stdout)
        assert outputs["pw_len"] == 20
        assert outputs["pub"].startswith("ssh-ed25519 ")
        assert outputs["echoed"] == "DYNAMIC"
        inspected = subprocess.run(["docker", "network", "inspect", network, "--format", "{{.Id}} {{.Internal}}"],
                                   capture_output=True, text=True, check=True).stdout.split()
        assert inspected == [outputs["network_id"], "true"]
        state = json.loads(pulumi(local, "stack", "export", cwd=project).stdout)
        types = {r["type"] for r in state["deployment"]["resources"]}
        assert {"random:index/randomPassword:RandomPassword", "tls:index/privateKey:PrivateKey",
                "docker:index/network:Network", "pulumi-python:dynamic:Resource"} <= types
        pw = next(r for r in state["deployment"]["resources"] if r["type"].startswith("random:"))
        assert "ciphertext" in pw["outputs"]["result"], "secret stored in clear"
        pre = pulumi(local, "preview", "--expect-no-changes", cwd=project, check=False)
        assert pre.returncode == 0, pre.stdout + pre.stderr
        refresh = pulumi(local, "refresh", "--yes", "--expect-no-changes", cwd=project, check=False)
        assert refresh.returncode == 0, refresh.stdout + refresh.stderr
    finally:
        down = pulumi(local, "destroy", "--yes", cwd=project, check=False)
        pulumi(local, "stack", "rm", "selftest", "--yes", cwd=project, check=False)
    assert down.returncode == 0, down.stdout + down.stderr
    gone = subprocess.run(["docker", "network", "inspect", network], capture_output=True, text=True, check=False)
    assert gone.returncode != 0, f"network {network} outlived destroy"


def test_policy_pack_runs_through_language_host(env: dict[str, str], tmp_path: Path) -> None:
    """A Python CrossGuard pack is run by the language host (RunPlugin) and blocks a preview."""
    pack = tmp_path / "pack"
    pack.mkdir()
    venv_opts = f"runtime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n"
    (pack / "PulumiPolicy.yaml").write_text(venv_opts + "description: engine self-test pack\n")
    (pack / "__main__.py").write_text(
        textwrap.dedent(
            """\
            from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

            def min_length(args, report_violation):
                if args.resource_type == "random:index/randomPassword:RandomPassword":
                    if args.props.get("length", 0) < 16:
                        report_violation("passwords must be at least 16 characters")

            PolicyPack(
                name="engine-selftest",
                enforcement_level=EnforcementLevel.MANDATORY,
                policies=[ResourceValidationPolicy(
                    name="min-password-length", description="minimum length", validate=min_length)],
            )
            """
        )
    )
    project = tmp_path / "proj"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: engine-policy-selftest\n" + venv_opts)
    (project / "__main__.py").write_text(
        "import pulumi_random as random\nrandom.RandomPassword('short', length=8)\n"
    )
    (tmp_path / "state").mkdir()
    local = engine_env(
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="engine-selftest",
    )
    local.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    pulumi(local, "stack", "init", "selftest", cwd=project)
    pre = pulumi(local, "preview", "--policy-pack", str(pack), cwd=project, check=False)
    out = pre.stdout + pre.stderr
    assert pre.returncode != 0, out
    assert "min-password-length" in out and "at least 16 characters" in out, out
