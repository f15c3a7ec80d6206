"""Hosts listed in a JSON file named by HARDEN_INVENTORY_JSON: for generated fleets and the tests' VM.

The file is {"group name": [["host name", {host data}], ...], ...}; host data uses the same keys
as hosts/inventory.py. It is written at run time (it names local key paths), never committed.
Each host gets the connection policy (hosts.connection.policy_data) under its own data; a host whose data
sets a weaker value is refused by the deploy.

    HARDEN_INVENTORY_JSON=out/vm-inventory.json pyinfra hosts/inventory_json.py hosts/deploys/node1.py
"""

import json
import os
from pathlib import Path

from hosts.connection import policy_data

_source = os.environ.get("HARDEN_INVENTORY_JSON")
if not _source:
    raise SystemExit("HARDEN_INVENTORY_JSON is not set: name the JSON file listing the hosts")
for _group, _members in json.loads(Path(_source).read_text()).items():
    globals()[_group] = [(name, {**policy_data(), **data}) for name, data in _members]
