"""SSH hardening: baseline.SSH as the complete sshd_config, Ed25519 host key only, no small DH groups."""

from pyinfra import host
from pyinfra.api import DeployError, deploy

from baseline import SSH, BaselineViolation
from hosts import desired
from hosts.facts.node import SshOfferedKex, UserGroups
from hosts.operations import harden


@deploy("SSH hardening (baseline.SSH)")
def harden_ssh():
    offered_kex = host.get_fact(SshOfferedKex)
    if offered_kex is None:
        raise DeployError(f"{host.name}: cannot read the key exchanges its OpenSSH offers (ssh -Q kex) "
                          "[ISO 27001:2022 A.8.24]")
    user = host.data.get("ssh_user")
    if not set(host.get_fact(UserGroups, user=user)) & set(SSH.allow_groups):
        raise DeployError(f"{host.name}: the deploy's own user {user!r} is in none of the groups SSH will allow "
                          f"({', '.join(SSH.allow_groups)}): applying AllowGroups would lock it out. Add the user to "
                          "one of them first [ISO 27001:2022 A.8.2, A.8.5]")
    ca_keys = host.data.get("ssh_user_ca_keys") or ()
    try:
        ca_text = desired.user_ca_text(ca_keys)
    except BaselineViolation as violation:
        raise DeployError(f"{host.name}: {violation}") from None
    if ca_keys:
        harden.text_file(name="trusted OpenSSH user CA keys", path=SSH.trusted_user_ca_path, text=ca_text)
    harden.text_file(name="login banner", path=SSH.banner, text=desired.BANNER_TEXT)
    harden.text_file(name="console banner", path="/etc/issue", text=desired.BANNER_TEXT)
    harden.sshd_config(name="sshd_config validated by sshd -t, then reloaded",
                       text=desired.sshd_config_text(offered_kex, user_ca=bool(ca_keys)))
    harden.ssh_host_keys(name="only Ed25519 host keys", keep_types=SSH.host_key_types)
    harden.ssh_moduli(name=f"no DH groups below {SSH.moduli_min_bits} bits", min_bits=SSH.moduli_min_bits)
