"""The serverless posture model: a Cloud Run workload (a v1 or v2 service, a v2 job or worker pool) in one vocabulary,
one small function per requirement.

Adapters build the view from pulumi-gcp `gcp.cloudrunv2.Service`, `gcp.cloudrun.Service`, `gcp.cloudrunv2.Job` and
`gcp.cloudrunv2.WorkerPool` inputs (`from_pulumi`) and from a Terraform plan's or checkov's
`google_cloud_run_v2_service` / `google_cloud_run_service` / `google_cloud_run_v2_job` /
`google_cloud_run_v2_worker_pool` values (`from_terraform`). The component (components.https_endpoint.HttpsEndpoint), the CrossGuard rules RAE-RUN-00x, the
checkov custom check RAE-RUN-001 and the stack rule RAE-STK-002 call `judge` or read the view; none restates a
requirement. Who may invoke the service is an IAM grant on it (posture.iam: allUsers is never a member).

Allow-lists: a service's ingress one of NETWORK.cloud_run_ingresses_allowed (v1's annotation mapped to v2's names;
unset is INGRESS_TRAFFIC_ALL; a job or worker pool takes no requests and has no ingress); the workload runs as a named account that is not a Google default; an environment variable
carries no credential, neither as a literal (posture.container.credential_reason decides what looks like one) nor
by reference to a secret (the baseline delivers secrets as files: a secret volume); the service runs only images a
Binary Authorization policy admits (v2 binaryAuthorization, on a job and a worker pool too; v1 the
run.googleapis.com/binary-authorization annotation) and has no breakglass justification. Unset is off, so it fails; a value the source could not resolve is unknown.

A service whose IAM invoker check is off (v2 invokerIamDisabled, v1 the annotation
run.googleapis.com/invoker-iam-disabled) answers every caller its ingress lets in: it is off only with an ingress in
NETWORK.cloud_run_invoker_check_off_ingresses (the load balancer's, which also lets in the project's VPC: the service
authenticates its callers itself); RAE-RUN-006.

A workload on the project's default policy is admitted by whatever that policy is: RAE-RUN-005 (PROGRAM_REQUIREMENTS,
`judge_in_program`) judges it with what the whole program declares for its project (`Admission`, built by the stack
rule policies.rules.stack.default_policy_declared): a declared policy whose default rule admits every image fails, one
that denies or requires attestation holds, no declared policy or no resolvable project is unknown.

Example: judge(from_pulumi("gcp:cloudrunv2/service:Service", "api", {"ingress": "INGRESS_TRAFFIC_ALL"}))
"""

from dataclasses import dataclass
from typing import Iterator

from baseline import CONTAINER, IDENTITY, NETWORK, SECRETS
from posture.binary_authorization import PolicyView, default_rule_admits
from posture.container import credential_reason
from posture.iam import is_default_account
from posture.model import Requirement, Unknown, is_unknown, items, judge_requirements, one, pick, rule_ids

V2 = "gcp:cloudrunv2/service:Service"
V1 = "gcp:cloudrun/service:Service"
JOB = "gcp:cloudrunv2/job:Job"
WORKER_POOL = "gcp:cloudrunv2/workerPool:WorkerPool"
TYPES = (V2, V1, JOB, WORKER_POOL)
# Each type's Terraform name; a job and a worker pool take no requests (no ingress).
TERRAFORM_TYPES = {V2: "google_cloud_run_v2_service", V1: "google_cloud_run_service", JOB: "google_cloud_run_v2_job",
                   WORKER_POOL: "google_cloud_run_v2_worker_pool"}
SERVING = (V2, V1)
INGRESS_ANNOTATION = "run.googleapis.com/ingress"
BINARY_AUTHORIZATION_ANNOTATION = "run.googleapis.com/binary-authorization"
BREAKGLASS_ANNOTATION = "run.googleapis.com/binary-authorization-breakglass"
INVOKER_IAM_DISABLED_ANNOTATION = "run.googleapis.com/invoker-iam-disabled"
# v1's annotation values in v2's vocabulary.
_V1_INGRESS = {"all": "INGRESS_TRAFFIC_ALL", "internal": "INGRESS_TRAFFIC_INTERNAL_ONLY",
               "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}


@dataclass(frozen=True)
class ServiceView:
    """A Cloud Run service, job or worker pool, whatever described it.

    + ingress: in v2's names; "INGRESS_TRAFFIC_ALL" where unset; None for a job or worker pool (it takes no requests)
    + service_account: the identity it runs as ("" where unset: the default compute account)
    + env: (name, literal value or None, from a secret) per environment variable of every container; values are
      judged, never reported
    + binary_authorization: the Binary Authorization policy it deploys under ("default": the project's; else the
      policy's name); "" where unset or turned off
    + breakglass: a breakglass justification is set (the policy is bypassed)
    + project: the project it names ("" where unset: the provider's, which the resource does not show)
    + invoker_iam_disabled: the IAM invoker check is off (any caller the ingress lets in invokes it); False for a job
      or worker pool (it takes no requests)
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    ingress: str | None = "INGRESS_TRAFFIC_ALL"
    service_account: str = ""
    env: tuple[tuple[str, str | None, bool], ...] = ()
    binary_authorization: str = ""
    breakglass: bool = False
    project: str = ""
    invoker_iam_disabled: bool = False
    unknown: frozenset = frozenset()


@dataclass(frozen=True)
class Admission:
    """What the whole program declares about the project a workload deploys in.

    + project: the workload's project (its own, else its provider's); "" where neither can be resolved
    + policies: the Binary Authorization policies the program declares for that project
    + unresolved: declared policies whose project could not be resolved (one of them may be this project's)
    """

    project: str = ""
    policies: tuple[PolicyView, ...] = ()
    unresolved: tuple[str, ...] = ()


def _ingress(view, _context=None) -> Iterator[str]:
    if view.ingress is not None and view.ingress not in NETWORK.cloud_run_ingresses_allowed:
        yield (f"ingress is {view.ingress!r}: reachable from the internet directly; allowed: "
               f"{list(NETWORK.cloud_run_ingresses_allowed)}")


def _own_account(view, _context=None) -> Iterator[str]:
    if not view.service_account or is_default_account(view.service_account):
        yield (f"service account is {view.service_account or 'unset'!r}: it runs as the project's default compute "
               f"account; give it an account of its own")


def _environment(view, _context=None) -> Iterator[str]:
    for name, value, from_secret in view.env:
        if from_secret and SECRETS.delivery == "file":
            yield f"environment variable {name} is filled from a secret: mount the secret as a file (a secret volume)"
        elif not from_secret:
            reason = credential_reason(name, value)
            if reason:
                yield f"environment variable {name} carries a credential in plain text ({reason})"


def _binary_authorization(view, _context=None) -> Iterator[str]:
    if not CONTAINER.cloud_run_binary_authorization:
        return
    if not view.binary_authorization:
        yield ("binary authorization is off: it runs any image that reaches it; set "
               "binaryAuthorization.useDefault=True or a named policy (v1: the annotation "
               f"{BINARY_AUTHORIZATION_ANNOTATION} = 'default')")
    if view.breakglass:
        yield ("a breakglass justification is set: it deploys images its Binary Authorization policy refuses; "
               f"remove binaryAuthorization.breakglassJustification (v1: the annotation {BREAKGLASS_ANNOTATION})")


def _invoker_check(view, _context=None) -> Iterator[str]:
    allowed = NETWORK.cloud_run_invoker_check_off_ingresses
    if view.invoker_iam_disabled and view.ingress not in allowed:
        yield (f"the IAM invoker check is off (invokerIamDisabled) with ingress {view.ingress!r}: every caller that "
               f"reaches it invokes it, without an identity; turn it off only with ingress in {list(allowed)} (the "
               f"load balancer the only way in from outside), else grant run.invoker to named identities")


def _default_policy_declared(view, admission: Admission) -> Iterator[str]:
    if view.binary_authorization != "default" or not CONTAINER.cloud_run_default_policy_declared:
        return
    missing = "the policy that admits this workload is not in this program"
    if not admission.project:
        yield Unknown(f"{missing}: its project cannot be resolved (no project input, no provider project the gate "
                      f"sees), so no declared policy can be tied to it; not judged, so not passed")
        return
    verdicts = [message for policy in admission.policies for message in default_rule_admits(policy)]
    failures = [message for message in verdicts if not isinstance(message, Unknown)]
    if failures:
        yield from (f"it deploys under the default policy of project {admission.project!r}, and {message}"
                    for message in failures)
    elif verdicts:
        yield from verdicts
    elif admission.unresolved:
        yield Unknown(f"{missing}: no declared policy names project {admission.project!r} and the project of "
                      f"{sorted(admission.unresolved)} could not be resolved; not judged, so not passed")
    elif not admission.policies:
        yield Unknown(f"{missing}: it declares no Binary Authorization policy for project {admission.project!r}, "
                      f"whose policy may admit every image (Google's default does); not judged, so not passed")


REQUIREMENTS: dict[str, Requirement] = {
    "ingress": Requirement("RAE-RUN-001", ((NETWORK, "cloud_run_ingress"), (NETWORK, "cloud_run_ingresses_allowed")),
                           ("ingress",), _ingress),
    "own_account": Requirement("RAE-RUN-002", ((IDENTITY, "one_account_per_service"),), ("service_account",),
                               _own_account),
    "no_secret_env": Requirement("RAE-RUN-003", ((SECRETS, "delivery"), (SECRETS, "forbidden_env_markers")), ("env",),
                                 _environment),
    "binary_authorization": Requirement("RAE-RUN-004", ((CONTAINER, "cloud_run_binary_authorization"),),
                                        ("binary_authorization", "breakglass"), _binary_authorization),
    "invoker_check": Requirement("RAE-RUN-006", ((NETWORK, "cloud_run_invoker_check_off_ingresses"),),
                                 ("ingress", "invoker_iam_disabled"), _invoker_check),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)
# Requirements only the whole program can decide: judged with what it declares for the workload's project.
PROGRAM_REQUIREMENTS: dict[str, Requirement] = {
    "default_policy_declared": Requirement(
        "RAE-RUN-005", ((CONTAINER, "cloud_run_default_policy_declared"),
                        (CONTAINER, "binary_authorization_evaluation_modes")),
        ("binary_authorization",), _default_policy_declared),
}
PROGRAM_RULE_IDS: tuple[str, ...] = rule_ids(PROGRAM_REQUIREMENTS)


def judge(view: ServiceView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


def judge_in_program(view: ServiceView, admission: Admission, rule_id: str | None = None
                     ) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation or undecided requirement of PROGRAM_REQUIREMENTS, given what the program declares for the
    workload's project (`admission`)."""
    return judge_requirements(PROGRAM_REQUIREMENTS, view, admission, rule_id)


def _view(name: str, props: dict, resource_type: str, terraform: bool, source: str) -> ServiceView:
    def get(value, *path):
        # Terraform names the env blocks in the singular (Pulumi: envs).
        return pick(value, tuple("env" if terraform and step == "envs" else step for step in path), terraform)

    unknown = set()
    # A job's task template sits one level down (template.template); a worker pool's is its template.
    template = ("template", "template") if resource_type == JOB else ("template",)
    if resource_type == V1:
        annotations = one(get(props, "metadata", "annotations"))

        def annotation(key):
            return annotations.get(key) if isinstance(annotations, dict) else annotations

        raw_ingress = annotation(INGRESS_ANNOTATION)
        ingress = _V1_INGRESS.get(str(one(raw_ingress) or "all").lower(), str(one(raw_ingress)))
        raw_policy, raw_breakglass = annotation(BINARY_AUTHORIZATION_ANNOTATION), annotation(BREAKGLASS_ANNOTATION)
        policy = str(one(raw_policy) or "")
        raw_invoker_off = annotation(INVOKER_IAM_DISABLED_ANNOTATION)
        invoker_off = str(one(raw_invoker_off)).lower() == "true"
        spec = get(props, "template", "spec")
        account, containers = get(spec, "serviceAccountName"), items(get(spec, "containers"))
        secret_ref = ("valueFrom", "secretKeyRef")
    else:
        raw_invoker_off = get(props, "invokerIamDisabled") if resource_type in SERVING else None
        invoker_off = one(raw_invoker_off) is True or str(one(raw_invoker_off)).lower() == "true"
        raw_ingress = get(props, "ingress") if resource_type in SERVING else None
        ingress = str(one(raw_ingress) or "INGRESS_TRAFFIC_ALL") if resource_type in SERVING else None
        account, containers = get(props, *template, "serviceAccount"), items(get(props, *template, "containers"))
        secret_ref = ("valueSource", "secretKeyRef")
        settings = get(props, "binaryAuthorization")
        use_default, named = get(settings, "useDefault"), get(settings, "policy")
        raw_policy, raw_breakglass = [use_default, named], get(settings, "breakglassJustification")
        policy = "default" if one(use_default) is True else str(one(named) or "")
    env = []
    for container in containers:
        for entry in items(get(container, "envs")):
            value = one(get(entry, "value"))
            from_secret = get(entry, *secret_ref) is not None
            env.append((str(one(get(entry, "name"))), None if value is None else str(value), from_secret))
            if is_unknown(value) or is_unknown(get(entry, "name")):
                unknown.add("env")
    if is_unknown(raw_ingress):
        unknown.add("ingress")
    if is_unknown(account):
        unknown.add("service_account")
    if is_unknown(raw_policy):
        unknown.add("binary_authorization")
    if is_unknown(raw_breakglass):
        unknown.add("breakglass")
    if is_unknown(raw_invoker_off):
        unknown.add("invoker_iam_disabled")
    raw_project = get(props, "project")
    if is_unknown(raw_project):
        unknown.add("project")
    if is_unknown(get(props, *template)):
        unknown |= {"service_account", "env"}
    return ServiceView(source=source, name=name, ingress=ingress, service_account=str(one(account) or ""),
                       env=tuple(env), binary_authorization=policy, breakglass=bool(one(raw_breakglass)),
                       project=str(one(raw_project) or ""), invoker_iam_disabled=invoker_off,
                       unknown=frozenset(unknown))


def from_pulumi(resource_type: str, name: str, props: dict) -> ServiceView:
    """pulumi-gcp inputs (camelCase) of one of TYPES."""
    if resource_type not in TYPES:
        raise ValueError(f"{resource_type!r} is not a Cloud Run workload; the serverless model reads {list(TYPES)}")
    return _view(name, props, resource_type, False, "pulumi-gcp")


def from_terraform(resource_type: str, name: str, values: dict) -> ServiceView:
    """A Terraform resource's values (snake_case; blocks, and in checkov every value, in lists) of one of
    TERRAFORM_TYPES' values."""
    by_terraform = {terraform: pulumi for pulumi, terraform in TERRAFORM_TYPES.items()}
    if resource_type not in by_terraform:
        raise ValueError(f"{resource_type!r} is not a Cloud Run workload; the serverless model reads "
                         f"{list(by_terraform)}")
    return _view(name, values, by_terraform[resource_type], True, "terraform plan")


__all__ = ["Admission", "BINARY_AUTHORIZATION_ANNOTATION", "BREAKGLASS_ANNOTATION", "INVOKER_IAM_DISABLED_ANNOTATION", "JOB", "PROGRAM_REQUIREMENTS",
           "PROGRAM_RULE_IDS", "REQUIREMENTS", "RULE_IDS", "SERVING", "ServiceView", "TERRAFORM_TYPES", "TYPES", "V1",
           "V2", "WORKER_POOL", "from_pulumi", "from_terraform", "judge", "judge_in_program"]
