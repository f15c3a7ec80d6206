"""Which resources no rule understands: what the gate cannot judge is reported unknown, never passed.

Pure Python on the rendered graph, like the rules themselves.
"""

from policies.rules import rule_key

# Packages whose every type the gate judges: CrossGuard rules where they exist, and checkov's GCP checks on the
# Terraform twin (policies.tfplan.terraform_type translates every pulumi-gcp type).
JUDGED_PACKAGES = ("gcp",)
# Packages that deploy nothing: keys, certificates and passwords generated inside the (encrypted) Pulumi state.
NO_POSTURE_PACKAGES = ("tls", "random")
# pulumi-docker types with nothing to harden beyond what the container rules judge (containers and volumes have
# rules; a swarm service, plugin, secret or registry push has none, so it is unknown).
NO_POSTURE_TYPES = ("docker:index/network:Network", "docker:index/remoteImage:RemoteImage",
                    "docker:index/image:Image")


def unjudged(resource: dict, rule_keys: set[str]) -> str | None:
    """Why no rule understands `resource`, or None when one does (or there is nothing deployed to judge)."""
    resource_type = resource["type"]
    if rule_key(resource) in rule_keys:
        return None
    if resource_type.startswith("pulumi-python:dynamic") or resource_type.startswith("pulumi-nodejs:dynamic"):
        return (f"dynamic resource served by {resource.get('provider') or 'an unnamed provider'}: its code decides "
                f"what is deployed and no rule understands it")
    if resource_type.startswith("pulumi:providers:"):
        return "explicit provider: no rule judges its configuration (endpoint, host, credentials, impersonation)"
    package = resource_type.split(":", 1)[0]
    if package == "command":
        return "command resource: it runs arbitrary commands that no rule can judge"
    if package in JUDGED_PACKAGES or package in NO_POSTURE_PACKAGES or resource_type in NO_POSTURE_TYPES:
        return None
    if package == "docker":
        return f"no rule judges the pulumi-docker type {resource_type}"
    return f"package {package!r} has no posture model, rule or Terraform twin in the gate"
