"""BinaryAuthorizationPolicy: the project's Binary Authorization policy, the one a Cloud Run workload's
binary_authorization.use_default names (components.https_endpoint): without it the project's policy is Google's
default, which admits every image, and the service's setting enforces nothing.

The default admission rule denies, or requires the attestation of the given attestors; it is enforced (blocked and
logged, never dry run); Google's global policy admits Google's system images; the allowlist names only repositories of
the project's own Artifact Registry, and only where no attestor is required (an allowlisted image skips every rule).
The view is judged by the Binary Authorization posture model (posture.binary_authorization) before anything is
declared. Verified under Pulumi mocks only (no GCP project).
"""

from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_gcp as gcp

import posture.binary_authorization as admission
from baseline import CONTAINER, require
from posture.model import require_holds


@dataclass
class BinaryAuthorizationPolicyArgs:
    """+ project: the project whose policy this is (a project has one)
    + repositories: Artifact Registry repositories whose images are admitted, as
      `<location>-docker.pkg.dev/<project>/<repository>`; with no attestors nothing else is (the default rule denies)
    + attestors: attestor names; with any, the default rule requires their attestation and no repository is exempted
    """

    project: str
    repositories: Sequence[str] = ()
    attestors: Sequence[pulumi.Input[str]] = ()


class BinaryAuthorizationPolicy(pulumi.ComponentResource):
    """The project's admission policy for container images.

    Example: BinaryAuthorizationPolicy("images", BinaryAuthorizationPolicyArgs(
        "rae-core-prod", repositories=["europe-west4-docker.pkg.dev/rae-core-prod/rae"]))
    """

    def __init__(self, name: str, args: BinaryAuthorizationPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        # Judged before the component itself is registered: a refused policy declares nothing.
        require(not (args.attestors and args.repositories),
                f"Binary Authorization policy {name}: an allowlisted repository's images skip the "
                f"{len(args.attestors)} attestor(s); give attestors or repositories, not both",
                CONTAINER.controls("binary_authorization_allowlist"))
        evaluation = "REQUIRE_ATTESTATION" if args.attestors else "ALWAYS_DENY"
        patterns = tuple(f"{repository.rstrip('/')}/*" for repository in args.repositories)
        view = admission.PolicyView(
            source="BinaryAuthorizationPolicy", name=name, project=args.project,
            rules=(admission.AdmissionRule("default", evaluation, CONTAINER.binary_authorization_enforcement_mode,
                                           tuple(a if isinstance(a, str) else "declared attestor"
                                                 for a in args.attestors)),),
            global_evaluation=CONTAINER.binary_authorization_global_evaluation, allowlist=patterns)
        require_holds(admission.judge(view), f"Binary Authorization policy {name}")
        super().__init__("rae:hardening:BinaryAuthorizationPolicy", name, None, opts)
        # Deleting the policy resets the project to Google's default, which admits every image: protected.
        self.policy = gcp.binaryauthorization.Policy(
            name, project=args.project, global_policy_evaluation_mode=view.global_evaluation,
            default_admission_rule=gcp.binaryauthorization.PolicyDefaultAdmissionRuleArgs(
                evaluation_mode=evaluation, enforcement_mode=CONTAINER.binary_authorization_enforcement_mode,
                require_attestations_bies=list(args.attestors) or None),
            admission_whitelist_patterns=[gcp.binaryauthorization.PolicyAdmissionWhitelistPatternArgs(name_pattern=p)
                                          for p in patterns] or None,
            opts=pulumi.ResourceOptions(parent=self, protect=True))
        self.project, self.view = args.project, view
        self.register_outputs({"policy": self.policy.id})


def repository_of(image: str) -> str:
    """The Artifact Registry repository an image reference lives in: `<location>-docker.pkg.dev/<project>/<repo>`
    of `<location>-docker.pkg.dev/<project>/<repo>/<name>@sha256:...` (the rest of the path is the image's name)."""
    path = image.split("@", 1)[0]
    return "/".join(path.split("/")[:3])
