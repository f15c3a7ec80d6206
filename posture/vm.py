"""The VM posture model: a Compute Engine instance or instance template in one vocabulary, one small function per
requirement.

Adapters build the view from pulumi-gcp `gcp.compute.Instance`, `InstanceTemplate` and `RegionInstanceTemplate`
inputs (`from_pulumi`) and from a Terraform plan's or checkov's `google_compute_instance(_template)` values
(`from_terraform`). The component (components.qdrant.GcpQdrant), the CrossGuard rules RAE-VM-00x and the stack rules
call `judge`; none restates a requirement.

Disks: every disk the VM boots from or creates (an instance's boot disk, each disk of a template) names a
customer-managed key; an instance's attached disks are `gcp.compute.Disk` resources of their own, judged by
RAE-DSK-001 (and, for the data stores, RAE-STK-001). Metadata is an allow-list: OS Login and the project-key block
must be on (TRUE, true, 1, yes), the serial port must not be on. A service account block without an email, or with
the project's default compute account, runs as the default account (RAE-VM-004); no block means no identity.

Example: judge(from_pulumi("gcp:compute/instance:Instance", "vm", {"canIpForward": True}))
"""

from dataclasses import dataclass, field
from typing import Iterator

from baseline import COMPUTE, IDENTITY, LUKS
from posture.iam import is_default_account
from posture.model import Requirement, is_unknown, items, judge_requirements, one, pick, rule_ids

INSTANCE = "gcp:compute/instance:Instance"
TEMPLATES = ("gcp:compute/instanceTemplate:InstanceTemplate", "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate")
TYPES = (INSTANCE, *TEMPLATES)
_TRUE = ("true", "1", "yes", "y")
_METADATA_KEYS = ("enable-oslogin", "block-project-ssh-keys", "serial-port-enable")


@dataclass(frozen=True)
class VmView:
    """An instance or template, whatever described it.

    + external_interfaces: indexes of the network interfaces with an access config (an external address)
    + shielded: shieldedInstanceConfig field -> value as written (None where unset)
    + disks: (what, key) per disk the VM boots from or creates; key "" where none is named
    + service_account: the email, "default" where the block names none, None where there is no block
    + metadata: the lower-cased value of each judged metadata key that is set
    + unknown: fields whose value the source could not resolve
    """

    source: str
    name: str
    external_interfaces: tuple[int, ...] = ()
    shielded: dict = field(default_factory=dict)
    disks: tuple[tuple[str, str], ...] = ()
    service_account: str | None = None
    metadata: dict = field(default_factory=dict)
    can_ip_forward: object = None
    unknown: frozenset = frozenset()


def _external_ip(view, _context=None) -> Iterator[str]:
    if view.external_interfaces and not COMPUTE.external_ip_allowed:
        yield (f"networkInterfaces{list(view.external_interfaces)} have accessConfigs or ipv6AccessConfigs: "
               f"an external address")


def _shielded(view, _context=None) -> Iterator[str]:
    secure_boot, *defaulted_on = COMPUTE.shielded_vm
    if view.shielded.get(secure_boot) is not True:
        yield f"shieldedInstanceConfig.{secure_boot} is {view.shielded.get(secure_boot)!r}, must be True"
    off = [key for key in defaulted_on if view.shielded.get(key) is False]
    if off:
        yield f"shieldedInstanceConfig {off} turned off"


def _disk_cmek(view, _context=None) -> Iterator[str]:
    unkeyed = [what for what, key in view.disks if not key]
    if unkeyed:
        yield f"{unkeyed} name no customer-managed key (kmsKeySelfLink)"


def _own_account(view, _context=None) -> Iterator[str]:
    if view.service_account is not None and is_default_account(view.service_account):
        yield (f"serviceAccount is {view.service_account!r}: the project's default account, shared by every VM and "
               f"usually an editor; give the VM its own account")


def _on(view, key: str) -> bool:
    return str(view.metadata.get(key, "")).lower() in _TRUE


def _os_login(view, _context=None) -> Iterator[str]:
    if COMPUTE.os_login and not _on(view, "enable-oslogin"):
        yield f"metadata enable-oslogin is {view.metadata.get('enable-oslogin')!r}, must be TRUE"


def _project_ssh_keys(view, _context=None) -> Iterator[str]:
    if COMPUTE.block_project_ssh_keys and not _on(view, "block-project-ssh-keys"):
        yield f"metadata block-project-ssh-keys is {view.metadata.get('block-project-ssh-keys')!r}, must be TRUE"


def _serial_port(view, _context=None) -> Iterator[str]:
    if not COMPUTE.serial_port_allowed and _on(view, "serial-port-enable"):
        yield f"metadata serial-port-enable is {view.metadata.get('serial-port-enable')!r}: the serial console is open"


def _ip_forwarding(view, _context=None) -> Iterator[str]:
    if view.can_ip_forward is True and not COMPUTE.ip_forwarding_allowed:
        yield "canIpForward is True: the VM routes traffic for other addresses"


REQUIREMENTS: dict[str, Requirement] = {
    "external_ip": Requirement("RAE-VM-001", ((COMPUTE, "external_ip_allowed"),), ("external_interfaces",),
                               _external_ip),
    "shielded": Requirement("RAE-VM-002", ((COMPUTE, "shielded_vm"),), ("shielded",), _shielded),
    "disk_cmek": Requirement("RAE-VM-003", ((LUKS, "required_for"),), ("disks",), _disk_cmek),
    "own_account": Requirement("RAE-VM-004", ((IDENTITY, "one_account_per_service"),), ("service_account",),
                               _own_account),
    "os_login": Requirement("RAE-VM-005", ((COMPUTE, "os_login"),), ("metadata",), _os_login),
    "project_ssh_keys": Requirement("RAE-VM-006", ((COMPUTE, "block_project_ssh_keys"),), ("metadata",),
                                    _project_ssh_keys),
    "serial_port": Requirement("RAE-VM-007", ((COMPUTE, "serial_port_allowed"),), ("metadata",), _serial_port),
    "ip_forwarding": Requirement("RAE-VM-008", ((COMPUTE, "ip_forwarding_allowed"),), ("can_ip_forward",),
                                 _ip_forwarding),
}
RULE_IDS: tuple[str, ...] = rule_ids(REQUIREMENTS)


def judge(view: VmView, rule_id: str | None = None) -> Iterator[tuple[str, Requirement, str]]:
    """Every violation (str) or undecided requirement (posture.Unknown) as (name, requirement, message)."""
    return judge_requirements(REQUIREMENTS, view, None, rule_id)


# Pulumi pluralises list blocks; Terraform names them in the singular.
_TERRAFORM_BLOCKS = {"networkInterfaces": "network_interface", "accessConfigs": "access_config",
                     "ipv6AccessConfigs": "ipv6_access_config", "disks": "disk"}


def _path(path: tuple[str, ...], terraform: bool) -> tuple[str, ...]:
    return tuple(_TERRAFORM_BLOCKS.get(step, step) for step in path) if terraform else path


def _view(name: str, props: dict, template: bool, terraform: bool, source: str) -> VmView:
    def get(*path):
        return pick(props, _path(path, terraform), terraform)

    unknown = set()
    interfaces = items(get("networkInterfaces"))
    external = tuple(index for index, nic in enumerate(interfaces)
                     if any(items(pick(nic, _path((block,), terraform), terraform))
                            for block in ("accessConfigs", "ipv6AccessConfigs")))
    if is_unknown(get("networkInterfaces")):
        unknown.add("external_interfaces")
    shielded = {key: one(get("shieldedInstanceConfig", key)) for key in COMPUTE.shielded_vm}
    if is_unknown(get("shieldedInstanceConfig")):
        unknown.add("shielded")
    if template:
        disks = tuple((f"disks[{index}]", str(one(pick(disk, ("diskEncryptionKey", "kmsKeySelfLink"), terraform)) or ""))
                      for index, disk in enumerate(items(get("disks"))))
        disks_raw = get("disks")
    else:
        disks = (("bootDisk", str(one(get("bootDisk", "kmsKeySelfLink")) or "")),)
        disks_raw = get("bootDisk", "kmsKeySelfLink")
    if is_unknown(disks_raw):
        unknown.add("disks")
    account_block = get("serviceAccount")
    account = None
    if one(account_block) is not None and items(account_block):
        account = str(one(get("serviceAccount", "email")) or "default")
    if is_unknown(account_block):
        unknown.add("service_account")
    metadata_raw = one(get("metadata"))
    if isinstance(metadata_raw, str) and is_unknown(metadata_raw):
        unknown.add("metadata")
        metadata_raw = {}
    metadata = {key: str(one(value)) for key, value in (metadata_raw or {}).items() if key in _METADATA_KEYS}
    if any(is_unknown(value) for value in metadata.values()):
        unknown.add("metadata")
    forward = one(get("canIpForward"))
    if is_unknown(forward):
        unknown.add("can_ip_forward")
    return VmView(source=source, name=name, external_interfaces=external, shielded=shielded, disks=disks,
                  service_account=account, metadata=metadata, can_ip_forward=forward, unknown=frozenset(unknown))


def from_pulumi(resource_type: str, name: str, props: dict) -> VmView:
    """pulumi-gcp `Instance`, `InstanceTemplate` or `RegionInstanceTemplate` inputs (camelCase)."""
    return _view(name, props, resource_type in TEMPLATES, False, "pulumi-gcp")


def from_terraform(resource_type: str, name: str, values: dict) -> VmView:
    """A Terraform `google_compute_instance` or `google_compute_(region_)instance_template`'s values (snake_case;
    blocks, and in checkov every value, in lists)."""
    return _view(name, values, resource_type.endswith("_template"), True, "terraform plan")


__all__ = ["INSTANCE", "REQUIREMENTS", "RULE_IDS", "TEMPLATES", "TYPES", "VmView", "from_pulumi", "from_terraform",
           "judge"]
