"""How the deploy reaches a node (baseline.DEPLOY) as pyinfra connector data, and the check of it.

pyinfra connects before it runs a deploy file, with whatever data the operator's inventory and any
group_data beside it gave; group_data is read only from the inventory's folder and the current
directory, so an inventory kept elsewhere silently gets pyinfra's defaults (unknown host keys added,
agent and ~/.ssh keys tried). Hence two parts:
  - `node()` builds an inventory entry that carries the policy (hosts/inventory.py uses it);
  - `problems()` is what hosts/deploys/node1.py checks first, on the data pyinfra actually connected
    with: a host whose data is weaker is refused before anything is read from it or changed on it.

    # an operator's own inventory, anywhere:
    from hosts.connection import node
    node1 = [node("node1", "node1.tailnet", key="~/.ssh/id_ed25519", known_hosts="~/.ssh/known_hosts_node1",
                  firewall_ssh_interfaces=["tailscale0"])]
"""

from baseline import DEPLOY

# paramiko keyword arguments that would bring back an agent, other keys or a password behind the data's back
_PARAMIKO_AUTH_OVERRIDES = ("allow_agent", "look_for_keys", "key_filename", "pkey", "password", "passphrase")


def policy_data() -> dict:
    """The pyinfra connector data (and upload directory) every host gets, from baseline.DEPLOY."""
    return {
        "ssh_strict_host_key_checking": DEPLOY.strict_host_key_checking,
        "ssh_allow_agent": not DEPLOY.key_file_only,
        "ssh_look_for_keys": not DEPLOY.key_file_only,
        "ssh_forward_agent": DEPLOY.forward_agent,
        "_temp_dir": DEPLOY.upload_dir,
    }


def node(name: str, hostname: str, key: str, known_hosts: str, user: str = "admin", port: int = 22,
         **data) -> tuple[str, dict]:
    """An inventory entry (name, host data) that carries the connection policy.

    + name: the host's inventory name
    + hostname, port, user: where and as whom pyinfra logs in
    + key: the one private key used (no agent, no other key)
    + known_hosts: the file the host's key is checked against, strictly
    + data: any other host data (harden_scope, firewall_ssh_interfaces, luks_data_paths, ...); connection
      keys given here that weaken the policy make the deploy refuse the host
    """
    return name, {"ssh_hostname": hostname, "ssh_port": port, "ssh_user": user, "ssh_key": key,
                  "ssh_known_hosts_file": known_hosts, "_sudo": True, "ssh_connect_retries": 1, **policy_data(),
                  **data}


def problems(connector_data: dict, host_data: dict) -> list[tuple[str, tuple[str, ...]]]:
    """What makes a host's connection weaker than baseline.DEPLOY, each with the controls at stake.

    + connector_data: the SSH connector's data pyinfra connected with (host.connector.data)
    + host_data: the host's data (host.data), for the upload directory
    """
    found = []
    strict = connector_data.get("ssh_strict_host_key_checking")
    if strict != DEPLOY.strict_host_key_checking:
        found.append((f"ssh_strict_host_key_checking is {strict!r}, not {DEPLOY.strict_host_key_checking!r}: "
                      "an unknown host key would be trusted", DEPLOY.controls("strict_host_key_checking")))
    if DEPLOY.known_hosts_pinned and not connector_data.get("ssh_known_hosts_file"):
        found.append(("ssh_known_hosts_file is not set: the host key is not pinned to a file of this inventory",
                      DEPLOY.controls("known_hosts_pinned")))
    if DEPLOY.key_file_only:
        # with a named key pyinfra turns paramiko's agent and key lookup off (ssh_allow_agent/look_for_keys
        # only apply without one)
        if not connector_data.get("ssh_key"):
            found.append(("ssh_key is not set: pyinfra would try the SSH agent and every key in ~/.ssh",
                          DEPLOY.controls("key_file_only")))
        if connector_data.get("ssh_password"):
            found.append(("ssh_password is set: keys only", DEPLOY.controls("key_file_only")))
        overrides = sorted(set(connector_data.get("ssh_paramiko_connect_kwargs") or {}) & set(_PARAMIKO_AUTH_OVERRIDES))
        if overrides:
            found.append((f"ssh_paramiko_connect_kwargs overrides {', '.join(overrides)}",
                          DEPLOY.controls("key_file_only")))
    if connector_data.get("ssh_forward_agent"):
        found.append(("ssh_forward_agent is on: the operator's agent would reach the node",
                      DEPLOY.controls("forward_agent")))
    upload_dir = host_data.get("_temp_dir")
    if upload_dir not in (None, DEPLOY.upload_dir):
        found.append((f"_temp_dir is {upload_dir!r}, not {DEPLOY.upload_dir!r}: uploads break once "
                      "libpam-tmpdir gives root a private TMPDIR", DEPLOY.controls("upload_dir")))
    return found
