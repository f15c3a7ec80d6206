"""Evidence from the Pulumi stack: the engine's refresh preview where an engine runs, else the declared graph
compared with what is live through the Docker API.

Both say which attribute of which resource drifted, with the declared (expected) and live (actual) value.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

from baseline import CONTAINER
from harden.audit.containers import ANY_ADDRESS
from harden.audit.evidence import FAIL, PASS, UNKNOWN, Evidence
from harden.engine_drift import drift_from_preview

REPO = Path(__file__).resolve().parents[2]
PULUMI_ENV = REPO / "scripts" / "pulumi-env.sh"
CONTAINER_TYPE = "docker:index/container:Container"
# components.pids_limit.ContainerPidsLimit: Python dynamic resources all carry this type token.
PIDS_LIMIT_TYPE = "pulumi-python:dynamic:Resource"
_DRIFT_CONTROLS = ("A.8.9", "A.8.32")  # configuration management, change management
_MIB = 1024 * 1024


def engine_available() -> bool:
    return PULUMI_ENV.exists() or shutil.which("pulumi") is not None


def pulumi(args: list[str], environment: dict | None = None, project_dir: Path = REPO,
           timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the Pulumi CLI in project_dir with this repository's offline engine environment (scripts/pulumi-env.sh)
    where it exists, else with the `pulumi` on PATH.

    + environment: extra variables (e.g. PULUMI_CONFIG_PASSPHRASE from the audit config); never logged
    + project_dir: the Pulumi project (directory of Pulumi.yaml)
    """
    command = " ".join(["pulumi", *(_quote(a) for a in args)])
    if PULUMI_ENV.exists():
        command = f"source {_quote(str(PULUMI_ENV))} >/dev/null && {command}"
    return subprocess.run(["bash", "-c", command], cwd=project_dir, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(environment or {}), "PULUMI_SKIP_UPDATE_CHECK": "true"})


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def export(stack: str, environment: dict | None = None, project_dir: Path = REPO) -> dict:
    """`pulumi stack export`: the deployment with every resource's inputs, outputs and dependencies."""
    done = pulumi(["stack", "export", "--stack", stack], environment, project_dir)
    if done.returncode != 0:
        raise RuntimeError(f"pulumi stack export --stack {stack} failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout)


def refresh_drift(stack: str, environment: dict | None = None, project_dir: Path = REPO) -> list[Evidence]:
    """Drift by the engine, attribute by attribute: `pulumi preview --refresh --json --expect-no-changes`.

    `pulumi refresh --preview-only --json` repeats the old outputs as the new ones (pulumi/pulumi#16278), so the
    refreshed live values are compared with the declared inputs of a refreshing preview instead
    (harden.engine_drift).
    """
    done = pulumi(["preview", "--refresh", "--json", "--expect-no-changes", "--non-interactive",
                   "--stack", stack], environment, project_dir)
    try:
        preview = json.loads(done.stdout)
    except json.JSONDecodeError:
        return [Evidence("stack", f"stack/{stack}", "refresh_preview", "engine reports the live state",
                         f"pulumi exited {done.returncode}: {done.stderr.strip()[-300:]}", UNKNOWN, _DRIFT_CONTROLS)]
    evidence = drift_evidence(preview)
    changes = {op: count for op, count in (preview.get("changeSummary") or {}).items() if op != "same"}
    attributed = {e.subject for e in evidence if e.status == FAIL}
    if sum(changes.values()) > len(attributed):
        evidence.append(Evidence("stack", f"stack/{stack}", "refresh:change_summary", "no change proposed", changes, FAIL,
                                 _DRIFT_CONTROLS, "the engine proposes changes not attributed to an input; "
                                 "the declared-vs-live checks name the attributes"))
    elif done.returncode != 0 and not attributed:
        evidence.append(Evidence("stack", f"stack/{stack}", "refresh_preview", "exit 0",
                                 f"exit {done.returncode}: {done.stderr.strip()[-300:]}", UNKNOWN, _DRIFT_CONTROLS))
    return evidence


def drift_evidence(preview: dict) -> list[Evidence]:
    """One evidence item per drifted attribute (declared vs live), and one in-sync item per unchanged resource."""
    drift = drift_from_preview(preview)
    evidence = [Evidence("stack", urn_subject(urn), f"refresh:{key}", declared, live, FAIL, _DRIFT_CONTROLS,
                         f"refreshing preview of {urn}")
                for urn, attributes in drift.items() for key, (declared, live) in sorted(attributes.items())]
    in_sync = {step.get("urn", "") for step in preview.get("steps", []) if step.get("op") in ("same", "refresh")}
    for urn in sorted(in_sync - set(drift)):
        if "::pulumi:providers:" not in urn and "::pulumi:pulumi:Stack::" not in urn:
            evidence.append(Evidence("stack", urn_subject(urn), "refresh:in_sync", "declared", "no drift", PASS,
                                     _DRIFT_CONTROLS, urn))
    return evidence


def urn_subject(urn: str) -> str:
    """'stack/<type>/<name>' of a URN: names repeat across types (a key and a certificate both named "ca")."""
    type_chain, _, name = urn.rpartition("::")
    return f"stack/{type_chain.rpartition('::')[2].rpartition('$')[2]}/{name}"


def rendered_graph(stack: str, project_dir: Path = REPO) -> list[dict]:
    """The program's desired graph for `stack`, rendered under mocks from Pulumi.<stack>.yaml (no engine needed).

    Secure config values are left out: the mocks never need them to declare the containers.
    """
    import yaml

    from components.render import render_program

    config_file = project_dir / f"Pulumi.{stack}.yaml"
    if not config_file.exists():
        raise RuntimeError(f"stack {stack}: no engine state and no {config_file.name} to render the declared graph from")
    config = (yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}).get("config") or {}
    plain = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()
             if not (isinstance(value, dict) and "secure" in value)}
    return render_program(project_dir, stack, plain)


def declared_containers(resources: list[dict]) -> dict[str, dict]:
    """name -> the declared attributes we compare, from stack-export or rendered resources.

    pulumi-docker's `docker.Container` (camelCase inputs) and the pids limit that components.pids_limit applies to
    it (a dynamic resource with `container` and `limit`). Declared values are the inputs: after a `pulumi refresh`
    the outputs hold what was live; outputs only fill in what the inputs leave to the provider (a generated name).
    """
    declared, pids_limits = {}, {}
    for resource in resources:
        props = {**(resource.get("outputs") or {}), **(resource.get("inputs") or {})}
        if resource.get("type") == CONTAINER_TYPE:
            name = props.get("name") or resource.get("urn", "").rsplit("::", 1)[-1]
            declared[name] = _pulumi_docker_attributes(props)
        elif resource.get("type") == PIDS_LIMIT_TYPE and {"container", "limit"} <= set(props):
            pids_limits[props["container"]] = int(props["limit"])
    for name, limit in pids_limits.items():
        if name in declared:
            declared[name]["pids_limit"] = limit
    return declared


def _pulumi_docker_attributes(props: dict) -> dict:
    caps = props.get("capabilities") or {}
    return {
        "image": props.get("image"),
        "user": props.get("user"),
        "read_only": props.get("readOnly"),
        "cap_drop": sorted(caps.get("drops") or []),
        "cap_add": sorted(caps.get("adds") or []),
        "security_opts": sorted(props.get("securityOpts") or []),
        "memory_mb": int(props["memory"]) if props.get("memory") is not None else None,
        "pids_limit": None,  # set from the container's ContainerPidsLimit, when the graph has one
        "privileged": bool(props.get("privileged", False)),
        "cgroupns_mode": props.get("cgroupnsMode"),
        "port_bind_addresses": sorted({p.get("ip") or ANY_ADDRESS for p in props.get("ports") or []}),
        "restart": props.get("restart"),
    }


def live_attributes(attrs: dict) -> dict:
    config, host = attrs.get("Config") or {}, attrs.get("HostConfig") or {}
    return {
        "image": attrs.get("Image"),
        "user": config.get("User") or "",
        "read_only": bool(host.get("ReadonlyRootfs")),
        "cap_drop": sorted(host.get("CapDrop") or []),
        "cap_add": sorted(host.get("CapAdd") or []),
        "security_opts": sorted(host.get("SecurityOpt") or []),
        "memory_mb": (host.get("Memory") or 0) // _MIB,
        "pids_limit": host.get("PidsLimit") or 0,
        "privileged": bool(host.get("Privileged")),
        "cgroupns_mode": host.get("CgroupnsMode") or None,  # empty: the daemon's default, not set on the container
        "port_bind_addresses": sorted({t.get("HostIp") or ANY_ADDRESS
                                       for ts in (host.get("PortBindings") or {}).values() for t in ts or []}),
        "restart": (host.get("RestartPolicy") or {}).get("Name") or "no",
    }


_ATTRIBUTE_CONTROLS = {
    "image": CONTAINER.controls("image_pinning"), "user": CONTAINER.controls("service_users"),
    "read_only": CONTAINER.controls("read_only_rootfs"), "cap_drop": CONTAINER.controls("cap_drop"),
    "cap_add": CONTAINER.controls("cap_add_allowed"), "security_opts": CONTAINER.controls("security_opts"),
    "memory_mb": CONTAINER.controls("memory_mb_max"), "pids_limit": CONTAINER.controls("pids_limit"),
    "privileged": CONTAINER.controls("privileged_allowed"),
    "cgroupns_mode": CONTAINER.controls("host_namespaces_allowed"),
    "port_bind_addresses": CONTAINER.controls("bind_addresses"), "restart": CONTAINER.controls("restart"),
}


def graph_drift(resources: list[dict], client, label: str = "declared") -> list[Evidence]:
    """Declared containers compared with live ones through the Docker API, one evidence item per attribute."""
    evidence = []
    for name, declared in sorted(declared_containers(resources).items()):
        subject = f"stack/{name}"
        try:
            live = live_attributes(client.containers.get(name).attrs)
        except Exception as error:  # docker.errors.NotFound or engine down
            missing = type(error).__name__ == "NotFound"
            evidence.append(Evidence("stack", subject, "exists", f"present ({label})",
                                     "absent" if missing else f"{type(error).__name__}: {error}",
                                     FAIL if missing else UNKNOWN, _DRIFT_CONTROLS))
            continue
        for attribute, expected in declared.items():
            if expected is None:
                continue
            actual = live[attribute]
            evidence.append(Evidence("stack", subject, f"attribute:{attribute}", expected, actual,
                                     PASS if expected == actual else FAIL,
                                     tuple(dict.fromkeys(_DRIFT_CONTROLS + _ATTRIBUTE_CONTROLS[attribute])),
                                     f"{label} vs live (Docker API)"))
    return evidence


def resources_of(graph) -> list[dict]:
    """Resources of a `pulumi stack export` document or of a components.render resource list."""
    if isinstance(graph, list):
        return graph
    return (graph.get("deployment") or graph).get("resources") or []


# Stack outputs that name an endpoint: output key -> (probe kind, the name its certificate carries).
# components/stacks/local.py exports these; the certificate names are the ones it issues.
ENDPOINT_OUTPUTS = {"postgresEndpoint": ("postgres", "postgres"), "apiEndpoint": ("https", "rae-api"),
                    "qdrantEndpoint": ("tls", "qdrant")}


def internal_hop_servers() -> dict[str, tuple[tuple[str, int, str], ...]]:
    """The server side of every internal hop of baseline TLS.client_cert_required_hops that answers TLS 1.3 itself:
    hop -> ((container name, which is also its certificate's DNS name; port; probe kind), ...). Qdrant's front
    answers on REST and on gRPC, each probed. api->postgres is judged per role in pg_hba (harden.audit.database),
    since Postgres asks its other roles for no certificate; qdrant-front->qdrant-store is behind the front on a
    network of its own, and Qdrant's own TLS takes TLS 1.2 (tests/integration/test_qdrant.py observes that hop)."""
    from baseline import TLS
    from components import api_runtime, qdrant_runtime

    servers = {"proxy->api": ((api_runtime.NAME, api_runtime.LISTEN_PORT, "tls"),),
               "api->qdrant": ((qdrant_runtime.FRONT_NAME, qdrant_runtime.HTTP_PORT, "tls"),
                               (qdrant_runtime.FRONT_NAME, qdrant_runtime.GRPC_PORT, "grpc"))}
    return {hop: server for hop, server in servers.items() if hop in TLS.client_cert_required_hops}


def service_containers(resources: list[dict]) -> dict[str, str]:
    """service name (the container's hostname, its alias on every network) -> declared container name."""
    found = {}
    for resource in resources:
        if resource.get("type") == CONTAINER_TYPE:
            props = {**(resource.get("outputs") or {}), **(resource.get("inputs") or {})}
            name = props.get("name") or resource.get("urn", "").rsplit("::", 1)[-1]
            found[props.get("hostname") or name] = name
    return found


def internal_endpoints(resources: list[dict], client, ca_path: str | None) -> list[str]:
    """`address:port,tls,name=...,mtls` specs of the internal hops' servers the graph declares, each reached at its
    container's address (the host sits on every bridge, internal ones too): the probe then sees TLS 1.2 refused,
    TLS 1.3 accepted, the chain verified by name and a client without a certificate refused. A declared server
    that is not running is left to graph_drift (absent: fail)."""
    declared, specs = service_containers(resources), []
    for name, port, kind in (server for servers in internal_hop_servers().values() for server in servers):
        if name not in declared or client is None:
            continue
        try:
            networks = (client.containers.get(declared[name]).attrs.get("NetworkSettings") or {}).get("Networks") or {}
        except Exception:  # docker.errors.NotFound or engine down: graph_drift names it
            continue
        address = next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), None)
        if address:
            specs.append(f"{address}:{port},{kind},name={name},mtls" + (f",ca={ca_path}" if ca_path else ""))
    return specs


def stack_outputs(resources: list[dict]) -> dict:
    for resource in resources:
        if resource.get("type") == "pulumi:pulumi:Stack":
            return resource.get("outputs") or {}
    return {}


def endpoints_from_outputs(outputs: dict, ca_path: str | None) -> list[str]:
    """`host:port,kind,name=...` specs for every endpoint the stack exports (values that are not host:port are skipped:
    e.g. Qdrant 'not deployed')."""
    specs = []
    for key, (kind, server_name) in ENDPOINT_OUTPUTS.items():
        value = outputs.get(key)
        if isinstance(value, str) and value.rpartition(":")[2].isdigit() and " " not in value:
            specs.append(f"{value},{kind},name={server_name}" + (f",ca={ca_path}" if ca_path else ""))
    return specs


def unencrypted_volume_evidence(outputs: dict, stack: str) -> list[Evidence]:
    """The stack's own record of volumes not on LUKS (with the operator's reason): each is a failed A.8.24 check."""
    from baseline import LUKS

    return [Evidence("stack", f"stack/{stack}/volume/{volume}", "encrypted_at_rest", f"LUKS{LUKS.luks_version}",
                     "not encrypted", FAIL, LUKS.controls("required_for"), str(reason))
            for volume, reason in sorted((outputs.get("unencryptedVolumes") or {}).items())]


# Live containers and networks of a stack, read through the Docker API by the stack label our components set.
_INVENTORY_CONTROLS = ("A.5.9", "A.8.9")  # inventory of assets, configuration management
_SEPARATION_CONTROLS = ("A.8.22", "A.8.31")  # segregation of networks, separation of environments
_EGRESS_CONTROLS = ("A.8.20", "A.8.23")  # networks security, web filtering (no route out at all)
_STACK_LABEL = "org.rae.hardening.stack"


def undeclared_containers(resources: list[dict], client, stack: str) -> list[Evidence]:
    """Containers live under the stack's label that the declared graph does not hold: assets outside the inventory."""
    declared = set(declared_containers(resources))
    try:
        live = client.containers.list(all=True, filters={"label": f"{_STACK_LABEL}={stack}"})
    except Exception as error:  # engine down: unknown, never pass
        return [Evidence("stack", f"stack/{stack}", "undeclared_containers", "none", f"{type(error).__name__}: {error}",
                         UNKNOWN, _INVENTORY_CONTROLS)]
    if not declared and not live:  # a stack of no containers (e.g. GCP, or TLS material only): nothing to inventory
        return []
    extra = sorted(c.name for c in live if c.name not in declared)
    return [Evidence("stack", f"stack/{stack}", "undeclared_containers", "none", extra, FAIL if extra else PASS,
                     _INVENTORY_CONTROLS,
                     f"{len(live)} live containers labelled {_STACK_LABEL}={stack}, {len(declared)} declared")]


def network_separation(client, stack: str, resources: list[dict]) -> list[Evidence]:
    """Each network of the stack joins only that stack's containers, and gives none of them a route out (internal,
    or a bridge without outbound NAT). A stack that declares no container has no Docker network to judge."""
    from baseline import NETWORK

    subject = f"stack/{stack}"
    if not declared_containers(resources):
        return []
    try:
        networks = client.networks.list(filters={"label": f"{_STACK_LABEL}={stack}"}, greedy=True)
        members = {n.name: [client.containers.get(cid) for cid in (n.attrs.get("Containers") or {})] for n in networks}
    except Exception as error:  # engine down or a container went away mid-read: unknown, never pass
        return [Evidence("stack", subject, "network_separation", f"networks join only stack {stack}",
                         f"{type(error).__name__}: {error}", UNKNOWN, _SEPARATION_CONTROLS)]
    if not networks:
        return [Evidence("stack", subject, "network_separation", f"networks labelled {_STACK_LABEL}={stack}",
                         "none found", UNKNOWN, _SEPARATION_CONTROLS, "nothing to check is not a pass")]
    evidence = []
    for network in sorted(networks, key=lambda n: n.name):
        strangers = sorted(c.name for c in members[network.name]
                           if ((c.attrs.get("Config") or {}).get("Labels") or {}).get(_STACK_LABEL) != stack)
        evidence.append(Evidence("stack", f"network/{network.name}", "members", f"only containers of stack {stack}",
                                 strangers or "none other", FAIL if strangers else PASS, _SEPARATION_CONTROLS,
                                 f"{len(members[network.name])} containers attached"))
        options = network.attrs.get("Options") or {}
        internal = bool(network.attrs.get("Internal"))
        no_nat = options.get("com.docker.network.bridge.enable_ip_masquerade") == "false"
        evidence.append(Evidence("stack", f"network/{network.name}", "egress", "internal, or no outbound NAT",
                                 "internal" if internal else ("no outbound NAT" if no_nat else "outbound NAT"),
                                 PASS if internal or no_nat else FAIL,
                                 tuple(dict.fromkeys(NETWORK.controls("docker_internal_network") + _EGRESS_CONTROLS)),
                                 "no route out: no container of the stack reaches an external site"))
    return evidence
