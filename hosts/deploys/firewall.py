"""nftables: our own table, input dropped unless SSH or a declared service port on a declared interface; forward
dropped unless containers started it or it reached a published port on a declared interface."""

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.operations import apt, systemd

from baseline import FIREWALL
from hosts.operations import harden


@deploy("nftables firewall (baseline.FIREWALL)")
def harden_firewall():
    ssh_interfaces = host.data.get("firewall_ssh_interfaces")
    if not ssh_interfaces:
        raise DeployError(f"{host.name}: host data firewall_ssh_interfaces is not declared; the firewall would "
                          "cut SSH off. Declare the interface(s) SSH arrives on (Node1: "
                          f"{', '.join(FIREWALL.ssh_interfaces)}) [ISO 27001:2022 A.8.20]")
    apt.packages(name="nftables present", packages=["nftables"])
    harden.nftables_table(name=f"table inet {FIREWALL.table}", table=FIREWALL.table, policy=FIREWALL.input_policy,
                          ssh_interfaces=tuple(ssh_interfaces),
                          service_ports=host.data.get("firewall_service_ports", FIREWALL.service_ports),
                          icmp=FIREWALL.icmp_allowed, forward_policy=FIREWALL.forward_policy,
                          container_interfaces=FIREWALL.container_interfaces,
                          published_interfaces=tuple(host.data.get("firewall_published_interfaces",
                                                                   FIREWALL.published_interfaces)))
    systemd.service(name="nftables loads the table at boot", service="nftables", enabled=True)
