"""Rules on the whole resource graph: what no single resource shows (shared identities, unencrypted data paths)."""

from collections import defaultdict

import posture.binary_authorization as binary_authorization
import posture.database as database
import posture.iam as iam
import posture.serverless as serverless
import posture.vm as vm
from posture import Unknown, is_unknown
from baseline import CONTAINER, LUKS, TLS
from policies.rules import StackRule, as_list, dig
from policies.rules.container import CONTAINER_TYPE
from policies.rules.gcp import DISK, INSTANCE, SQL, SSL_POLICY, ssl_policy

DOCKER_VOLUME = "docker:index/volume:Volume"
HTTPS_PROXIES = ("gcp:compute/targetHttpsProxy:TargetHttpsProxy", "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy")
HTTP_PROXIES = ("gcp:compute/targetHttpProxy:TargetHttpProxy", "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy")
URL_MAPS = ("gcp:compute/uRLMap:URLMap", "gcp:compute/regionUrlMap:RegionUrlMap")
# The label components.volume.EncryptedVolume puts on a Docker volume: "luks" when the kernel showed dm-crypt.
ENCRYPTION_LABEL = "org.rae.hardening.encryption"


def _of_type(resources, *types):
    return [resource for resource in resources if resource["type"] in types]


def _identity(resource) -> str:
    return " ".join(str(part) for part in (resource["name"], resource["props"].get("name"),
                                           resource["props"].get("image"), resource["props"].get("labels"))).lower()


def _is_database(resource) -> bool:
    identity = _identity(resource)
    return any(service in identity for service in LUKS.required_for)


def _refers_to(reference, resource) -> bool:
    """Whether a rendered reference (id, self link, name) points at `resource`."""
    names = {resource["name"], resource["props"].get("name")} - {None, ""}
    return bool(reference) and any(str(name) in str(reference) for name in names)


def _volume_labels(volume) -> dict:
    return {label.get("label"): label.get("value") for label in as_list(volume["props"].get("labels"))}


def encrypted_data_volumes(resources):
    volumes = _of_type(resources, DOCKER_VOLUME)
    for container in filter(_is_database, _of_type(resources, CONTAINER_TYPE)):
        props = container["props"]
        # Data is what the database can write: read-only mounts are its config and secret files.
        references = [(m.get("source"), m.get("type")) for m in as_list(props.get("mounts")) if m.get("readOnly") is not True]
        references += [(v.get("volumeName") or v.get("hostPath"), "volume" if v.get("volumeName") else "bind")
                       for v in as_list(props.get("volumes")) if v.get("readOnly") is not True]
        for source, kind in references:
            volume = next((v for v in volumes if kind == "volume" and _refers_to(source, v)), None)
            if volume is None:
                yield container["name"], f"data mount {source!r} is not an encrypted (LUKS-labelled) Docker volume"
            elif _volume_labels(volume).get(ENCRYPTION_LABEL) != "luks":
                yield container["name"], (f"volume {volume['name']} is labelled "
                                          f"{ENCRYPTION_LABEL}={_volume_labels(volume).get(ENCRYPTION_LABEL)!r}, not 'luks'")
    for instance in _of_type(resources, SQL):
        view = database.from_pulumi(instance["name"], instance["props"])
        if list(database.REQUIREMENTS["cmek"].judge(view, None)):
            yield instance["name"], "Cloud SQL data is not encrypted with a customer-managed key"
    disks = _of_type(resources, DISK)
    for instance in filter(_is_database, _of_type(resources, INSTANCE)):
        view = vm.from_pulumi(instance["type"], instance["name"], instance["props"])
        for message in vm.REQUIREMENTS["disk_cmek"].judge(view, None):
            yield instance["name"], (message if isinstance(message, Unknown) else f"database VM: {message}")
        for attached in as_list(instance["props"].get("attachedDisks")):
            disk = next((d for d in disks if _refers_to(attached.get("source"), d)), None)
            encrypted = attached.get("kmsKeySelfLink") or (disk and dig(disk["props"], "diskEncryptionKey", "kmsKeySelfLink"))
            if not encrypted:
                yield instance["name"], f"attached disk {attached.get('source')!r} has no customer-managed key"


def one_account_per_service(resources):
    """Services (Cloud Run services, jobs and worker pools, VMs) that share an identity (whether each has one of its
    own, not a default, is RAE-RUN-002 and RAE-VM-004 of the serverless and VM models, whose views this reads)."""
    accounts = [(run["name"], serverless.from_pulumi(run["type"], run["name"], run["props"]).service_account)
                for run in _of_type(resources, *serverless.TYPES)]
    accounts += [(instance["name"], vm.from_pulumi(instance["type"], instance["name"], instance["props"]).service_account)
                 for instance in _of_type(resources, INSTANCE)]
    users = defaultdict(list)
    for name, account in accounts:
        # A default account is RAE-RUN-002 / RAE-VM-004 already: not reported again as shared.
        if account and not iam.is_default_account(account) and not is_unknown(account):
            users[account].append(name)
    for account, names in users.items():
        if len(names) > 1:
            for name in names:
                yield name, f"shares service account {account} with {sorted(set(names) - {name})}"


GCP_PROVIDER = "pulumi:providers:gcp"


def _project_of(resource, props_project, resources, context) -> str:
    """The project a resource deploys in: its own `project`; else its provider's (CrossGuard names the provider the
    engine resolved for it: "provider_project"); else the stack's gcp:project (the gate reads it from the stack's
    config, `context`), unless the program declares a gcp provider of its own, which the resource may use. "" where
    none resolves."""
    if props_project:
        return "" if is_unknown(props_project) else str(props_project)
    if resource.get("provider_project"):
        return "" if is_unknown(resource["provider_project"]) else str(resource["provider_project"])
    configured = getattr(context, "gcp_project", "")
    if configured and not _of_type(resources, GCP_PROVIDER):
        return configured
    return ""


def default_policy_declared(resources, context=None):
    """Cloud Run workloads on their project's default Binary Authorization policy, judged with the policies the
    program declares for that project (posture.serverless RAE-RUN-005)."""
    declared = []
    for policy in _of_type(resources, binary_authorization.POLICY):
        view = binary_authorization.from_pulumi(policy["name"], policy["props"])
        declared.append((_project_of(policy, policy["props"].get("project"), resources, context), view))
    for workload in _of_type(resources, *serverless.TYPES):
        view = serverless.from_pulumi(workload["type"], workload["name"], workload["props"])
        project = _project_of(workload, workload["props"].get("project"), resources, context)
        admission = serverless.Admission(
            project=project, policies=tuple(policy for where, policy in declared if project and where == project),
            unresolved=tuple(policy.name for where, policy in declared if not where))
        for _name, _requirement, message in serverless.judge_in_program(view, admission):
            yield workload["name"], message


def private_databases(resources):
    for instance in _of_type(resources, SQL):
        view = database.from_pulumi(instance["name"], instance["props"])
        for message in database.REQUIREMENTS["private_only"].judge(view, None):
            yield instance["name"], (message if isinstance(message, Unknown)
                                     else f"Cloud SQL instance is reachable from outside: {message}")
    for instance in filter(_is_database, _of_type(resources, INSTANCE)):
        view = vm.from_pulumi(instance["type"], instance["name"], instance["props"])
        for message in vm.REQUIREMENTS["external_ip"].judge(view, None):
            yield instance["name"], (message if isinstance(message, Unknown) else f"database VM: {message}")
    for container in filter(_is_database, _of_type(resources, CONTAINER_TYPE)):
        for port in as_list(container["props"].get("ports")):
            if (port.get("ip") or "0.0.0.0") not in CONTAINER.bind_addresses:
                yield container["name"], f"database port {port.get('internal')} published on {port.get('ip') or 'all addresses'}"


def tls13_endpoints(resources):
    policies = _of_type(resources, SSL_POLICY)
    for proxy in _of_type(resources, *HTTPS_PROXIES):
        reference = proxy["props"].get("sslPolicy")
        policy = next((p for p in policies if _refers_to(reference, p)), None)
        if policy is None:
            yield proxy["name"], f"HTTPS proxy has no SSL policy of this stack (sslPolicy={reference!r}): Google's default allows TLS 1.0"
        elif list(ssl_policy(policy["props"])):
            yield proxy["name"], f"HTTPS proxy uses SSL policy {policy['name']} that is weaker than {TLS.min_version}"
    redirects = [m for m in _of_type(resources, *URL_MAPS) if dig(m["props"], "defaultUrlRedirect", "httpsRedirect") is True]
    for proxy in _of_type(resources, *HTTP_PROXIES):
        if not any(_refers_to(proxy["props"].get("urlMap"), m) for m in redirects):
            yield proxy["name"], "plain-HTTP proxy that does not only redirect to HTTPS"


RULES = (
    StackRule("RAE-STK-001", encrypted_data_volumes),
    StackRule("RAE-STK-002", one_account_per_service),
    StackRule("RAE-STK-003", private_databases),
    StackRule("RAE-STK-004", tls13_endpoints),
    StackRule("RAE-RUN-005", default_policy_declared, contextual=True),
)
