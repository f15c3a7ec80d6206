"""The Pulumi program: builds the stack named by `rae:target` (local | gcp) from the hardened components."""

from components.stacks import config

if config.target() == "gcp":
    from components.stacks import gcp as chosen
else:
    from components.stacks import local as chosen

chosen.build()
