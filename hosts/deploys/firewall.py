"""nftables: our own table, input dropped unless SSH or a declared service port on a declared interface; forward
dropped unless containers started it or it reached a published port on a declared interface.

SSH is accepted on the interfaces of host data firewall_ssh_interfaces. One outside baseline FIREWALL.ssh_interfaces
(Tailscale) needs a declared exception in host data firewall_ssh_exception (hosts.desired.ssh_interface_judgement);
check_ssh_interfaces refuses the node otherwise, before the deploy changes anything."""

from datetime import date

from pyinfra import host, logger
from pyinfra.api import DeployError, deploy
from pyinfra.operations import apt, systemd

from baseline import FIREWALL, describe
from hosts import desired
from hosts.operations import harden

_ANNOUNCED: set = set()  # hosts whose declared SSH exception was already logged in this run


def check_ssh_interfaces() -> tuple:
    """The host's SSH interfaces, judged against the baseline before anything is changed; DeployError when they
    would cut SSH off or open it outside Tailscale without a live declared exception."""
    ssh_interfaces = host.data.get("firewall_ssh_interfaces")
    if not ssh_interfaces:
        raise DeployError(f"{host.name}: host data firewall_ssh_interfaces is not declared; the firewall would "
                          "cut SSH off. Declare the interface(s) SSH arrives on (Node1: "
                          f"{', '.join(FIREWALL.ssh_interfaces)}) [ISO 27001:2022 A.8.20]")
    status, why = desired.ssh_interface_judgement(tuple(ssh_interfaces), host.data.get(desired.SSH_EXCEPTION_KEY),
                                                  date.today())
    if status == "fail":
        raise DeployError(f"{host.name}: refused, nothing changed: {why} "
                          f"[ISO 27001:2022 {describe(desired.ssh_interface_controls())}]")
    if status == "risk-accepted" and host.name not in _ANNOUNCED:  # once per host, though node1.py checks it first
        _ANNOUNCED.add(host.name)
        logger.warning(f"{host.name}: {why}")
    return tuple(ssh_interfaces)


@deploy("nftables firewall (baseline.FIREWALL)")
def harden_firewall():
    ssh_interfaces = check_ssh_interfaces()
    apt.packages(name="nftables present", packages=["nftables"])
    harden.nftables_table(name=f"table inet {FIREWALL.table}", table=FIREWALL.table, policy=FIREWALL.input_policy,
                          ssh_interfaces=ssh_interfaces,
                          service_ports=host.data.get("firewall_service_ports", FIREWALL.service_ports),
                          icmp=FIREWALL.icmp_allowed, forward_policy=FIREWALL.forward_policy,
                          container_interfaces=FIREWALL.container_interfaces,
                          published_interfaces=tuple(host.data.get("firewall_published_interfaces",
                                                                   FIREWALL.published_interfaces)))
    systemd.service(name="nftables loads the table at boot", service="nftables", enabled=True)
