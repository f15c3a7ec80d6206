"""Operations of the network-bound disk unlock: bind the data volume to the pinned tang server, and say when the
boot left it locked. Each reads hosts.facts.clevis first and changes nothing when the node is already as wanted."""

import os
import secrets
import stat

from pyinfra import host
from pyinfra.api import OperationError, operation

from baseline import LUKS, BaselineViolation
from hosts import network_unlock
from hosts.facts.clevis import ClevisBindings, NetworkUnlockState
from hosts.operations.private_upload import private_upload, sudo_upload_user


def read_key_file(path: str | None, device: str) -> bytes:
    """The existing LUKS key from a file on the control node that only its owner may read; refused otherwise."""
    controls = LUKS.controls("network_unlock")
    if not path:
        raise BaselineViolation(f"{device} needs a clevis binding and host data tang_key_file names no file holding an "
                                "existing passphrase or key of the volume", controls)
    path = os.path.expanduser(path)
    try:
        info = os.stat(path)
    except OSError as error:
        raise BaselineViolation(f"tang_key_file cannot be read: {error.strerror}", controls) from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise BaselineViolation(f"tang_key_file has mode {stat.S_IMODE(info.st_mode):04o}: an existing LUKS key must "
                                "be readable by its owner only (0600 or stricter)", controls + ("A.5.17",))
    with open(path, "rb") as key:
        return key.read()


@operation()
def tang_binding(unlock: network_unlock.NetworkUnlock):
    """Bind the volume to the pinned tang server unless exactly that binding is there; remove any other binding.

    The existing key travels to the node's tmpfs as a 0600 file that the binding command itself removes; it is
    never on a command line and never printed.
    + unlock: the node's NetworkUnlock (hosts.network_unlock.from_host_data)
    """
    state = host.get_fact(ClevisBindings, device=unlock.device)
    if not state["readable"]:
        raise OperationError(f"{unlock.device}: the clevis bindings cannot be read ({state['error']}); nothing bound "
                             f"[ISO 27001:2022 {', '.join(LUKS.controls('network_unlock'))}]")
    bind, stale = network_unlock.binding_actions(state["bindings"], unlock.url, unlock.thp)
    if not bind and not stale:
        host.noop(f"{unlock.device} bound to tang at {unlock.url} (key {unlock.thp}) only")
        return
    if bind:
        try:
            key = read_key_file(unlock.key_file, unlock.device)
        except BaselineViolation as violation:
            raise OperationError(str(violation)) from None
        staged = f"{network_unlock.STAGING_DIR}/harden-clevis-{secrets.token_hex(8)}.key"
        upload = f"{staged}.upload"
        yield from private_upload(key, staged, upload, "0600", sudo_upload_user())
        yield network_unlock.bind_command(unlock.device, unlock.url, unlock.thp, staged)
    for slot in stale:
        yield network_unlock.unbind_command(unlock.device, slot)


@operation()
def require_unlocked(unlock: network_unlock.NetworkUnlock):
    """Fail this host, changing nothing, when the boot's unlock unit is installed but the volume is still locked.

    A first deploy (no unit yet) passes: the volume is then open by whatever opened it so far, which the LUKS
    check that follows verifies.
    + unlock: the node's NetworkUnlock
    """
    state = host.get_fact(NetworkUnlockState, unit=network_unlock.UNIT_NAME, mapper_name=unlock.name, mount=unlock.mount)
    problem = network_unlock.locked_problem(state, unlock)
    if problem:
        raise OperationError(f"{problem} [ISO 27001:2022 {', '.join(LUKS.controls('network_unlock'))}]")
    host.noop(f"{unlock.name} open ({network_unlock.UNIT_NAME}: {state['active']})" if state["open"] else
              f"{network_unlock.UNIT_NAME} not installed yet: the first deploy binds and installs it")
    yield from ()  # verification only
