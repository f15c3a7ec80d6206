"""Node1 inventory: the physical Debian node, reached over Tailscale by its MagicDNS name.

    pyinfra hosts/inventory.py hosts/deploys/node1.py          # harden
    pyinfra hosts/inventory.py hosts/deploys/node1.py --dry    # list what drifted

The operator's key and known_hosts come from NODE1_SSH_KEY / NODE1_KNOWN_HOSTS (default: ~/.ssh).
Host keys are checked strictly (group_data/all.py): an unknown or changed key is refused, never added.
"""

import os

from baseline import FIREWALL, LUKS

node1 = [
    ("node1", {
        "ssh_hostname": os.environ.get("NODE1_HOSTNAME", "node1"),
        "ssh_user": os.environ.get("NODE1_SSH_USER", "admin"),
        "ssh_key": os.environ.get("NODE1_SSH_KEY", "~/.ssh/id_ed25519"),
        "ssh_known_hosts_file": os.environ.get("NODE1_KNOWN_HOSTS", "~/.ssh/known_hosts"),
        "_sudo": True,
        "harden_scope": "node",
        "firewall_ssh_interfaces": FIREWALL.ssh_interfaces,
        "firewall_service_ports": {},
        "luks_data_paths": LUKS.data_paths,
    }),
]
