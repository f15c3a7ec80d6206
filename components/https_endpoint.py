"""HttpsEndpoint (gcp): the API on Cloud Run, reachable only through an HTTPS load balancer that speaks TLS 1.3.

Only Google's load balancers can enforce a TLS minimum, so the service's ingress is
INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER and the load balancer's SSL policy is RESTRICTED with
TLS_1_3 minimum (baseline.TLS). The Cloud Run service runs as its own service account and deploys only images the
project's Binary Authorization policy admits (CONTAINER.cloud_run_binary_authorization; no breakglass input exists).
That policy is an input: the program declares it (components.binary_authorization.BinaryAuthorizationPolicy), the
service is declared in its project and waits for it, so the gate sees what admits the service
(CONTAINER.cloud_run_default_policy_declared, RAE-RUN-005). Its ingress, identity, environment and binary
authorization are judged by the serverless posture model (posture.serverless) before anything is declared.

The load balancer forwards its clients' requests without an IAM identity, and allUsers is never granted the invoker
role (posture.iam), so the service's IAM invoker check is off (invoker_iam_disabled), which the model allows only
with the load balancer's ingress (NETWORK.cloud_run_invoker_check_off_ingresses, RAE-RUN-006): the API authenticates
its callers itself (mTLS, tenant tokens). Without it Cloud Run would answer every request through the load balancer
403. That last point is Cloud Run's documented behaviour, not observed here: this component is tested under Pulumi
mocks only, no GCP project is reachable.
"""

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

import posture.serverless as run_posture
from baseline import CONTAINER, NETWORK, SECRETS, TLS, require
from components.binary_authorization import BinaryAuthorizationPolicy
from posture.container import pinned_by_digest
from posture.model import require_holds


SECRETS_DIR = "/run/secrets"


def mounted_path(secret: str) -> str:
    """Where the container reads the secret file `secret` of HttpsEndpointArgs.secret_files (Cloud Run mounts one
    directory per secret)."""
    return f"{SECRETS_DIR}/{secret}/value"


@dataclass
class HttpsEndpointArgs:
    """+ region: Cloud Run region
    + image: the API image, pinned by digest (REGISTRY/REPO@sha256:...)
    + service_account: email of the API's ServiceIdentity
    + domains: hostnames of the Google-managed certificate
    + admission: the project's Binary Authorization policy the service deploys under (its default policy)
    + min_tls_version: only the baseline's value is accepted (kept as an input so a weaker one is refused loudly)
    + env: plain settings only (addresses, limits, file paths); a name or value that looks like a secret is refused
    + secret_files: name -> Secret Manager secret id, mounted read-only at `mounted_path(name)`
      (/run/secrets/<name>/value: Cloud Run mounts one directory per secret); `env` names the paths the image reads
    + port: the container port Cloud Run sends requests to (the image's listener)
    + subnetwork: VPC subnetwork for direct egress to private addresses (Cloud SQL, Qdrant)
    + depends_on: what the service waits for (its accessor grants on the mounted secrets); it waits for `admission`
      too
    + project: the project; unset, the admission policy's (given, it must be that one)
    """

    region: str
    image: str
    service_account: pulumi.Input[str]
    domains: Sequence[str]
    admission: BinaryAuthorizationPolicy
    min_tls_version: str = TLS.gcp_min_tls_version
    ingress: str = NETWORK.cloud_run_ingress
    env: dict = field(default_factory=dict)
    secret_files: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    subnetwork: pulumi.Input[str] | None = None
    port: int | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    project: str | None = None


class HttpsEndpoint(pulumi.ComponentResource):
    """Cloud Run behind a global external HTTPS load balancer with a TLS 1.3-only SSL policy.

    Example: HttpsEndpoint("api", HttpsEndpointArgs("europe-west4", api_image_by_digest, sa.email,
                                                    ["rae.example.org"], admission_policy))
    """

    def __init__(self, name: str, args: HttpsEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:HttpsEndpoint", name, None, opts)
        require(args.min_tls_version == TLS.gcp_min_tls_version,
                f"endpoint {name}: minimum TLS version {args.min_tls_version} is below {TLS.gcp_min_tls_version}",
                TLS.controls("gcp_min_tls_version"))
        require(pinned_by_digest(args.image), f"endpoint {name}: image {args.image!r} is not pinned by digest "
                "(<registry>/<path>@sha256:<64 hex>: Cloud Run pulls it)",
                CONTAINER.controls("image_pinning"))
        require(bool(args.domains), f"endpoint {name}: at least one domain is needed for the certificate",
                TLS.controls("min_version"))
        require(isinstance(args.admission, BinaryAuthorizationPolicy),
                f"endpoint {name}: admission must be the project's BinaryAuthorizationPolicy declared in this program "
                f"(got {type(args.admission).__name__})", CONTAINER.controls("cloud_run_default_policy_declared"))
        project = args.project or args.admission.project
        require(project == args.admission.project,
                f"endpoint {name}: project {project!r} deploys under its own default Binary Authorization policy, not "
                f"the declared policy of project {args.admission.project!r}",
                CONTAINER.controls("cloud_run_default_policy_declared"))
        admission = run_posture.Admission(project=project, policies=(args.admission.view,))
        env = dict(args.env)

        def judged(env_values: dict) -> None:
            view = run_posture.ServiceView(
                source="HttpsEndpoint", name=name, ingress=args.ingress,
                service_account=args.service_account if isinstance(args.service_account, str) else "own ServiceIdentity",
                env=tuple((key, value if isinstance(value, str) else None, False) for key, value in env_values.items()),
                binary_authorization="default" if CONTAINER.cloud_run_binary_authorization else "", project=project,
                invoker_iam_disabled=True)
            require_holds([*run_posture.judge(view), *run_posture.judge_in_program(view, admission)],
                          f"endpoint {name}")

        judged(env)
        # Values computed by other resources are judged when they resolve.
        env = {key: value if isinstance(value, str) else
               pulumi.Output.from_input(value).apply(lambda resolved, key=key: (judged({key: resolved}), resolved)[1])
               for key, value in env.items()}
        child = pulumi.ResourceOptions(parent=self)
        self.ssl_policy = gcp.compute.SSLPolicy(
            f"{name}-tls13", profile=TLS.gcp_ssl_policy_profile, min_tls_version=args.min_tls_version,
            project=project, opts=child)
        self.service = gcp.cloudrunv2.Service(
            name, location=args.region, ingress=args.ingress, project=project, deletion_protection=True,
            invoker_iam_disabled=True,
            binary_authorization=gcp.cloudrunv2.ServiceBinaryAuthorizationArgs(
                use_default=CONTAINER.cloud_run_binary_authorization),
            template=gcp.cloudrunv2.ServiceTemplateArgs(
                service_account=args.service_account,
                vpc_access=gcp.cloudrunv2.ServiceTemplateVpcAccessArgs(
                    egress="PRIVATE_RANGES_ONLY",
                    network_interfaces=[gcp.cloudrunv2.ServiceTemplateVpcAccessNetworkInterfaceArgs(
                        subnetwork=args.subnetwork, tags=["rae-api"])]) if args.subnetwork else None,
                volumes=[gcp.cloudrunv2.ServiceTemplateVolumeArgs(
                    name=secret, secret=gcp.cloudrunv2.ServiceTemplateVolumeSecretArgs(
                        secret=secret_id, default_mode=SECRETS.file_mode,
                        items=[gcp.cloudrunv2.ServiceTemplateVolumeSecretItemArgs(path="value", version="latest")]))
                    for secret, secret_id in sorted(args.secret_files.items())],
                containers=[gcp.cloudrunv2.ServiceTemplateContainerArgs(
                    image=args.image,
                    ports=(gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=args.port)
                           if args.port else None),
                    volume_mounts=[gcp.cloudrunv2.ServiceTemplateContainerVolumeMountArgs(
                        name=secret, mount_path=f"{SECRETS_DIR}/{secret}") for secret in sorted(args.secret_files)],
                    envs=[gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name=key, value=value)
                          for key, value in sorted(env.items())])]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, args.admission]))
        neg = gcp.compute.RegionNetworkEndpointGroup(
            f"{name}-neg", region=args.region, network_endpoint_type="SERVERLESS", project=project,
            cloud_run=gcp.compute.RegionNetworkEndpointGroupCloudRunArgs(service=self.service.name), opts=child)
        backend = gcp.compute.BackendService(
            f"{name}-backend", load_balancing_scheme="EXTERNAL_MANAGED", protocol="HTTPS", project=project,
            backends=[gcp.compute.BackendServiceBackendArgs(group=neg.id)],
            log_config=gcp.compute.BackendServiceLogConfigArgs(enable=True, sample_rate=1.0), opts=child)
        url_map = gcp.compute.URLMap(f"{name}-urls", default_service=backend.id, project=project, opts=child)
        certificate = gcp.compute.ManagedSslCertificate(
            f"{name}-cert", managed=gcp.compute.ManagedSslCertificateManagedArgs(domains=list(args.domains)),
            project=project, opts=child)
        self.proxy = gcp.compute.TargetHttpsProxy(
            f"{name}-https", url_map=url_map.id, ssl_certificates=[certificate.id], ssl_policy=self.ssl_policy.id,
            project=project, opts=child)
        self.address = gcp.compute.GlobalAddress(f"{name}-ip", project=project, opts=child)
        gcp.compute.GlobalForwardingRule(
            f"{name}-443", target=self.proxy.id, ip_address=self.address.address, port_range="443",
            load_balancing_scheme="EXTERNAL_MANAGED", project=project, opts=child)
        self.url = pulumi.Output.from_input(f"https://{args.domains[0]}")
        self.register_outputs({"url": self.url, "address": self.address.address})
