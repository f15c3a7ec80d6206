"""Network-bound disk unlock (baseline.LUKS.network_unlock): clevis on the node, bound to the tang server on the
control node, opens the data volume at boot with no key stored on the node.

Runs only when the host data names tang_url and tang_thp (the keys are in hosts/network_unlock.py); a host
without them gets no operation from here. check_network_unlock comes before the deploy's LUKS check, so a node
whose boot could not reach tang fails with "LOCKED" and the way out, not with "not on dm-crypt".
"""

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.operations import apt, systemd

from baseline import LUKS, BaselineViolation
from hosts import network_unlock
from hosts.operations import harden
from hosts.operations.network_unlock import require_unlocked, tang_binding


def configured() -> network_unlock.NetworkUnlock | None:
    """This host's network unlock from its data, None when it names no tang server; bad data stops the host."""
    try:
        return network_unlock.from_host_data({key: host.data.get(key) for key in network_unlock.HOST_DATA_KEYS})
    except BaselineViolation as violation:
        raise DeployError(f"{host.name}: refused, nothing read or changed: {violation}") from None


def check_network_unlock():
    """Before anything else: a volume the boot should have opened through tang and did not is reported locked."""
    unlock = configured()
    if unlock:
        require_unlocked(name=f"data volume opened at boot through tang ({LUKS.network_unlock})", unlock=unlock)


@deploy("Network-bound disk unlock (baseline.LUKS.network_unlock)")
def harden_network_unlock():
    unlock = configured()
    if not unlock:
        return
    apt.packages(name="clevis present", packages=list(network_unlock.PACKAGES))
    tang_binding(name=f"{unlock.device} bound to tang at {unlock.url} only", unlock=unlock)
    unit = harden.text_file(name=f"{network_unlock.UNIT_NAME} installed", path=network_unlock.UNIT_PATH,
                            text=network_unlock.unit_text(unlock))
    systemd.daemon_reload(name="systemd reloaded (unlock unit changed)", _if=unit.did_change)
    systemd.service(name=f"{network_unlock.UNIT_NAME} enabled and run", service=network_unlock.UNIT_NAME,
                    running=True, enabled=True)
