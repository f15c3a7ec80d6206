"""Asset inventory and data flows, derived from the resource graph, the live containers and the host inventory."""

import runpy
import subprocess

from harden.audit.containers import ANY_ADDRESS, SERVICE_LABEL, STACK_LABEL
from harden.audit.evidence import PASS, cite

CONTROL_NODE = "control-node"


def hosts_from_inventory(path: str) -> list[dict]:
    """Hosts of a pyinfra inventory file: top-level lists of names or (name, data) pairs, keyed by group.

    The host data travels under "data" to the verifier only; reports show the name, group and SSH address
    (host data may carry credentials).
    """
    namespace = runpy.run_path(path)
    hosts = []
    for group, members in namespace.items():
        if group.startswith("_") or not isinstance(members, (list, tuple)):
            continue
        for member in members:
            name, data = (member if isinstance(member, tuple) else (member, {}))
            if isinstance(name, str):
                data = dict(data or {})
                hosts.append({"name": name, "group": group, "ssh_port": int(data.get("ssh_port", 22)),
                              "ssh_hostname": data.get("ssh_hostname", name), "data": data})
    return hosts


def observed(rows: list[dict], evidence: list[dict]) -> list[dict]:
    """Each asset with `observed`: the evidence of this run about it (cited by id and hash), or that there is none."""
    by_subject: dict[str, list[dict]] = {}
    for item in evidence:
        by_subject.setdefault(item["subject"], []).append(item)
    for row in rows:
        subject = row["id"]
        items = by_subject.get(subject, [])
        if not items and row["source"] == "pulumi":
            items = [i for s, its in by_subject.items() if s.startswith("stack/") and s.endswith(f"/{row['name']}")
                     for i in its]
        passed = [i for i in items if i["status"] == PASS]
        row["observed"] = (f"observed in this run {cite(passed[0])}" if passed else
                           f"seen in this run with findings {cite(items[0])}" if items else
                           f"not observed in this run (listed from {row['source']})")
    return rows


def assets(containers: list, resources: list[dict], hosts: list[dict], endpoints: list) -> list[dict]:
    """One row per asset: kind, name, where it was found and the attributes an auditor needs (no secrets)."""
    rows = []
    for container in containers:
        labels = container.attrs.get("Config", {}).get("Labels") or {}
        host = container.attrs.get("HostConfig") or {}
        rows.append({
            "id": f"container/{container.name}", "kind": "container", "name": container.name, "source": "docker",
            "attributes": {
                "service": labels.get(SERVICE_LABEL), "stack": labels.get(STACK_LABEL),
                "image": container.attrs.get("Image"), "user": container.attrs.get("Config", {}).get("User"),
                "networks": sorted((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}),
                "published": sorted(f"{t.get('HostIp') or ANY_ADDRESS}:{t.get('HostPort')}->{p}"
                                    for p, ts in (host.get("PortBindings") or {}).items() for t in ts or []),
                "volumes": sorted(m.get("Name") or m.get("Destination", "") for m in container.attrs.get("Mounts") or []),
            },
        })
    for resource in resources:
        kind = resource.get("type", "")
        if kind.startswith("pulumi:") or resource.get("custom") is False:
            continue
        name = resource.get("urn", "").rsplit("::", 1)[-1] or resource.get("name", "")
        rows.append({"id": f"resource/{name}", "kind": kind, "name": name, "source": "pulumi",
                     "attributes": {"id": resource.get("id"), "parent": (resource.get("parent") or "").rsplit("::", 1)[-1],
                                    "dependencies": [d.rsplit("::", 1)[-1] for d in resource.get("dependencies") or []]}})
    for host in hosts:
        rows.append({"id": f"host/{host['name']}", "kind": "host", "name": host["name"], "source": "inventory",
                     "attributes": {"group": host["group"], "ssh": f"{host['ssh_hostname']}:{host['ssh_port']}"}})
    for endpoint in endpoints:
        rows.append({"id": endpoint.subject, "kind": "endpoint", "name": f"{endpoint.host}:{endpoint.port}",
                     "source": "config", "attributes": {"protocol": endpoint.kind, "server_name": endpoint.server_name}})
    return rows


CLIENTS = "clients (published ports)"


def _container_nodes(containers: list, resources: list[dict]) -> dict[str, dict]:
    """name -> {networks, published}: live containers, else the declared ones of the resource graph."""
    nodes = {}
    for container in containers:
        host = container.attrs.get("HostConfig") or {}
        nodes[container.name] = {
            "networks": set((container.attrs.get("NetworkSettings") or {}).get("Networks") or {}),
            "published": sorted(f"{t.get('HostIp') or ANY_ADDRESS}:{t.get('HostPort')}"
                                for ts in (host.get("PortBindings") or {}).values() for t in ts or [])}
    for resource in resources:
        if resource.get("type") != "docker:index/container:Container":
            continue
        props = {**(resource.get("inputs") or {}), **(resource.get("outputs") or {})}
        name = props.get("name") or resource.get("urn", "").rsplit("::", 1)[-1]
        nodes.setdefault(name, {
            "networks": {n.get("name") for n in props.get("networksAdvanced") or [] if n.get("name")},
            "published": sorted(f"{p.get('ip') or ANY_ADDRESS}:{int(p.get('external') or 0)}" for p in props.get("ports") or [])})
    for node in nodes.values():
        node["networks"] -= {"bridge", "host", "none"}
    return nodes


def flows(containers: list, resources: list[dict], hosts: list[dict], evidence: list[dict]) -> list[dict]:
    """Data flows derived from the graph: clients reach the containers that publish ports; a container that
    publishes ports reaches the others on each network it shares with them (front -> back); containers sharing
    a network with no front are linked both ways; the control node reaches every host over SSH.

    Each edge's protection is what this run observed (sealed evidence, cited by id and hash), never the baseline:
    "TLS 1.3 observed" only after a TLS 1.3 handshake with that service, "mTLS observed" only after a client
    without a certificate was refused, "SSH observed" only after the host's sshd was read.
    """
    edges = []
    nodes = _container_nodes(containers, resources)
    for name, node in sorted(nodes.items()):
        for address in node["published"]:
            edges.append({"from": CLIENTS, "to": name, "label": f"{address}; {_tls_label(name, evidence, address)}",
                          "basis": "published port"})
    shared: dict[tuple[str, str, bool], list[str]] = {}
    by_network: dict[str, list[str]] = {}
    for name, node in nodes.items():
        for network in node["networks"]:
            by_network.setdefault(network, []).append(name)
    for network, members in sorted(by_network.items()):
        fronts = sorted(m for m in members if nodes[m]["published"])
        backs = sorted(m for m in members if not nodes[m]["published"])
        pairs = [(f, b, False) for f in fronts for b in backs] if fronts and backs else \
            [(a, b, True) for i, a in enumerate(sorted(members)) for b in sorted(members)[i + 1:]]
        for pair in pairs:
            shared.setdefault(pair, []).append(network)
    for (source, target, both_ways), networks in sorted(shared.items()):
        edges.append({"from": source, "to": target,
                      "label": f"network {', '.join(networks)}; {_tls_label(target, evidence)}",
                      "basis": "shared Docker network", "both_ways": both_ways})
    for host in hosts:
        edges.append({"from": CONTROL_NODE, "to": host["name"], "label": _ssh_label(host, evidence),
                      "basis": "host inventory"})
    return edges


def _server_name(item: dict) -> str | None:
    for word in (item.get("detail") or "").split():
        if word.startswith("server_name="):
            return word.partition("=")[2]
    return None


def _tls_label(target: str, evidence: list[dict], address: str | None = None) -> str:
    """What the TLS probes of the endpoint serving `target` showed in this run: the probe of its published address,
    else a probe whose certificate name is the target's name."""
    port = address.rpartition(":")[2] if address else None
    by_address = {e["subject"] for e in evidence if e["source"] == "tls" and e["check"] == "tls1.3_accepted"
                  and address and (e["subject"] == f"tls/{address}" or
                                   (address.startswith(ANY_ADDRESS) and e["subject"].endswith(f":{port}")))}
    subjects = by_address or {e["subject"] for e in evidence if e["source"] == "tls"
                              and e["check"] == "tls1.3_accepted" and _server_name(e) == target}
    probes = {e["check"]: e for e in evidence if e["subject"] in subjects}
    accepted = probes.get("tls1.3_accepted")
    if accepted is None:
        return "protection not observed in this run (no TLS probe of this service)"
    if accepted["status"] != PASS:
        return f"TLS 1.3 not established {cite(accepted)}"
    label = f"TLS 1.3 observed {cite(accepted)}"
    mutual = probes.get("client_without_certificate_refused")
    if mutual is not None and mutual["status"] == PASS:
        label += f"; mTLS observed (a client without a certificate was refused) {cite(mutual)}"
    elif mutual is not None:
        label += f"; client certificates not required {cite(mutual)}"
    return label


def _ssh_label(host: dict, evidence: list[dict]) -> str:
    """The address the audit reached (never a network it did not observe, such as Tailscale) and what it read."""
    items = [e for e in evidence if e["source"] == "host" and e["subject"] == f"host/{host['name']}"]
    sshd = [e for e in items if e["check"].startswith("sshd ") and e["status"] == PASS]
    if sshd:
        return (f"SSH (pyinfra) to {host.get('ssh_hostname', host['name'])}:{host.get('ssh_port', 22)}; "
                f"hardened sshd observed {cite(sshd[0])}")
    if items:
        return f"SSH (pyinfra): sshd settings not confirmed in this run {cite(items[0])}"
    return "SSH (pyinfra): not observed in this run"


def dot_source(assets_rows: list[dict], edges: list[dict]) -> str:
    """Graphviz source of the data-flow diagram."""
    def q(text):
        return '"' + str(text).replace('"', "'") + '"'

    lines = ["digraph dataflow {", "  rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica, fontsize=10];",
             "  edge [fontname=Helvetica, fontsize=8];"]
    nodes = {e["from"] for e in edges} | {e["to"] for e in edges}
    nodes |= {a["name"] for a in assets_rows if a["kind"] in ("container", "host")}
    kinds = {a["name"]: a["kind"] for a in assets_rows}
    for node in sorted(nodes):
        shape = "shape=box3d" if kinds.get(node) == "host" or node == CONTROL_NODE else ""
        lines.append(f"  {q(node)} [{shape}];")
    for edge in edges:
        extra = ", dir=both" if edge.get("both_ways") else ""
        lines.append(f"  {q(edge['from'])} -> {q(edge['to'])} [label={q(edge['label'])}{extra}];")
    lines.append("}")
    return "\n".join(lines)


def render_svg(dot: str) -> str:
    """The diagram as inline SVG by Graphviz `dot` (Debian's graphviz package)."""
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60, check=True)
    svg = done.stdout
    return svg[svg.index("<svg"):]
