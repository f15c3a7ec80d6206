"""The CrossGuard pack under the real Pulumi engine: `pulumi preview --policy-pack policies/crossguard`.

No provider binary is needed: components carrying a resource's type token and inputs reach the
analyzer exactly like provider resources, so the engine -> gRPC -> pack -> violation path is real.
"""

import subprocess
import textwrap

import pytest

from baseline import CONTAINER
from tests.fixtures.gate import REPO

pytestmark = pytest.mark.integration

PROGRAM = textwrap.dedent('''
    import pulumi

    HARDENED = {{
        "image": "sha256:" + "a" * 64, "user": "{uid}:{gid}", "readOnly": True, "capabilities": {{"drops": ["ALL"]}},
        "securityOpts": ["no-new-privileges:true"], "memory": 512, "healthcheck": {{"tests": ["CMD", "true"]}},
        "logOpts": {{"max-size": "10m", "max-file": "5"}}, "restart": "unless-stopped", "cgroupnsMode": "private",
        "logDriver": "json-file",
    }}

    def resource(type_token, name, props):
        """A component carrying a provider type token: resource policies read its inputs; stack policies read its
        outputs, which for a provider resource in preview are its inputs, so it registers them as outputs."""
        pulumi.ComponentResource(type_token, name, props).register_outputs(props)


    resource("docker:index/container:Container", "hardened", HARDENED)
    resource("docker:index/container:Container", "privileged", {{**HARDENED, "privileged": True}})
    # pulumi-docker has no pids input: the step that sets it (a dynamic resource) targets the container by name.
    resource("pulumi-python:dynamic:Resource", "hardened-pids",
             {{"container": "hardened", "container_id": "hardened-id", "limit": {pids}}})

    # Protection from deletion is the `protect` option, not an input: the engine hands it to the pack beside them.
    KEY = {{"rotationPeriod": "7776000s", "destroyScheduledDuration": "2592000s",
           "versionTemplate": {{"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"}}}}
    pulumi.ComponentResource("gcp:kms/cryptoKey:CryptoKey", "kept-key", KEY, pulumi.ResourceOptions(protect=True))
    pulumi.ComponentResource("gcp:kms/cryptoKey:CryptoKey", "deletable-key", KEY)
''')


def test_preview_with_the_pack_blocks_the_violation_only(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        f"name: crossguard-engine-test\nruntime:\n  name: python\n  options:\n    virtualenv: {REPO / '.venv'}\n")
    (tmp_path / "__main__.py").write_text(PROGRAM.format(uid=10001, gid=10001, pids=CONTAINER.pids_limit))
    script = (f'source "{REPO}/scripts/pulumi-env.sh" && export PULUMI_BACKEND_URL="file://{tmp_path}/state" '
              f'&& mkdir -p "{tmp_path}/state" && cd "{tmp_path}" && pulumi stack select --create test >/dev/null '
              f'&& pulumi preview --non-interactive --policy-pack "{REPO}/policies/crossguard"')
    preview = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=600, check=False)
    output = preview.stdout + preview.stderr
    assert "rae-iso27001" in output, f"the policy pack did not load:\n{output[-3000:]}"
    assert preview.returncode != 0, "a mandatory violation must fail the preview"
    assert "rae-ctr-008  (docker:index:Container: privileged)" in output
    assert "RAE-CTR-008 Container is not privileged: privileged mode is on [ISO 27001:2022 A.8.2, A.8.18]" in output
    assert "rae-ctr-005  (docker:index:Container: privileged)" in output  # no pids-limit step targets it
    assert "no pids-limit step (components.pids_limit.ContainerPidsLimit) in the program targets privileged" in output
    assert "(docker:index:Container: hardened)" not in output
    assert "rae-kms-003  (gcp:kms:CryptoKey: deletable-key)" in output
    assert "RAE-KMS-003 KMS key rings and keys are protected from deletion: the resource is not protected" in output
    assert "(gcp:kms:CryptoKey: kept-key)" not in output
