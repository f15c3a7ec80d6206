"""SSH hardening: baseline.SSH as the complete sshd_config, Ed25519 host key only, no small DH groups."""

from pyinfra import host
from pyinfra.api import DeployError, deploy

from baseline import SSH
from hosts import desired
from hosts.facts.node import SshOfferedKex
from hosts.operations import harden


@deploy("SSH hardening (baseline.SSH)")
def harden_ssh():
    offered_kex = host.get_fact(SshOfferedKex)
    if offered_kex is None:
        raise DeployError(f"{host.name}: cannot read the key exchanges its OpenSSH offers (ssh -Q kex) "
                          "[ISO 27001:2022 A.8.24]")
    harden.text_file(name="login banner", path=SSH.banner, text=desired.BANNER_TEXT)
    harden.text_file(name="console banner", path="/etc/issue", text=desired.BANNER_TEXT)
    harden.sshd_config(name="sshd_config validated by sshd -t, then reloaded",
                       text=desired.sshd_config_text(offered_kex))
    harden.ssh_host_keys(name="only Ed25519 host keys", keep_types=SSH.host_key_types)
    harden.ssh_moduli(name=f"no DH groups below {SSH.moduli_min_bits} bits", min_bits=SSH.moduli_min_bits)
