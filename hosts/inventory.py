"""Node1 inventory: the physical Debian node, reached over Tailscale by its MagicDNS name.

    pyinfra hosts/inventory.py hosts/deploys/node1.py          # harden
    pyinfra hosts/inventory.py hosts/deploys/node1.py --dry    # list what drifted

The operator's key and known_hosts come from NODE1_SSH_KEY / NODE1_KNOWN_HOSTS (default: ~/.ssh); the log collector
from NODE1_JOURNAL_UPLOAD_URL (https://HOST:PORT) and Node1's client key, certificate and the collector's CA from
NODE1_JOURNAL_UPLOAD_KEY / _CERT / _CA (the deploy refuses a node without them: its logs would stay on it).
hosts.connection.node() puts the connection policy (baseline.DEPLOY) into the host's data: host keys checked
strictly (an unknown or changed key is refused, never added), this one key only, no agent. An inventory of
your own, in any directory, is built the same way; the deploy refuses a host whose data is weaker.
"""

import os

from baseline import FIREWALL, LUKS
from hosts.connection import node

node1 = [
    node("node1", os.environ.get("NODE1_HOSTNAME", "node1"),
         user=os.environ.get("NODE1_SSH_USER", "admin"),
         key=os.environ.get("NODE1_SSH_KEY", "~/.ssh/id_ed25519"),
         known_hosts=os.environ.get("NODE1_KNOWN_HOSTS", "~/.ssh/known_hosts"),
         harden_scope="node",
         firewall_ssh_interfaces=FIREWALL.ssh_interfaces,
         firewall_service_ports={},
         firewall_published_interfaces=FIREWALL.published_interfaces,
         luks_data_paths=LUKS.data_paths,
         # the boot loader's superuser password: `grub-mkpasswd-pbkdf2 | awk 'END {print $NF}' > FILE; chmod 600 FILE`
         grub_password_hash_file=os.environ.get("NODE1_GRUB_PASSWORD_HASH_FILE", "~/.config/harden/node1-grub.pbkdf2"),
         journal_upload_url=os.environ.get("NODE1_JOURNAL_UPLOAD_URL"),
         journal_upload_tls={"key": os.environ.get("NODE1_JOURNAL_UPLOAD_KEY"),
                             "certificate": os.environ.get("NODE1_JOURNAL_UPLOAD_CERT"),
                             "trusted_ca": os.environ.get("NODE1_JOURNAL_UPLOAD_CA")}),
]
