"""Evidence about hosts (Node1): the pyinfra facts and dry run of hosts/verify.py, one item per check.

A host that does not answer on its SSH port is unknown, never pass.
"""

import inspect
import socket

from baseline import SSH
from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, Evidence

_STATUS = {"pass": PASS, "ok": PASS, "passed": PASS, "fail": FAIL, "failed": FAIL, "drift": FAIL,
           "unknown": UNKNOWN, "error": UNKNOWN, "not-applicable": NOT_APPLICABLE, "skipped": NOT_APPLICABLE}


def reachable(hostname: str, port: int, timeout: float) -> str | None:
    """None when the SSH port answers, else why not."""
    try:
        socket.create_connection((hostname, port), timeout=timeout).close()
        return None
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def _verifier():
    try:
        from hosts.verify import verify_host
    except ImportError as error:
        return None, f"hosts.verify is not available: {error}"
    return verify_host, None


def _call(verify_host, host: dict, inventory: str):
    """verify_host's parameters are matched by name, so the audit follows the verifier's signature."""
    offered = {"inventory": inventory, "inventory_path": inventory, "host": host["name"], "host_name": host["name"],
               "name": host["name"], "hostname": host["ssh_hostname"], "ssh_hostname": host["ssh_hostname"],
               "port": host["ssh_port"], "ssh_port": host["ssh_port"]}
    parameters = inspect.signature(verify_host).parameters
    return verify_host(**{name: offered[name] for name in parameters if name in offered})


def collect(hosts: list[dict], inventory: str, timeout: float = 5.0, progress=print) -> list[Evidence]:
    evidence = []
    verify_host, missing = _verifier()
    for host in hosts:
        subject = f"host/{host['name']}"
        progress(f"host {host['name']}: SSH reachability, then pyinfra facts (hosts/verify.py)")
        down = reachable(host["ssh_hostname"], host["ssh_port"], timeout)
        if down:
            evidence.append(Evidence("host", subject, "reachable", f"SSH answers on port {host['ssh_port']}", down,
                                     UNKNOWN, SSH.controls("permit_root_login"), "host down or unreachable"))
            continue
        if verify_host is None:
            evidence.append(Evidence("host", subject, "verified", "hosts/verify.py checks run", missing, UNKNOWN,
                                     SSH.controls("permit_root_login")))
            continue
        try:
            checks = _call(verify_host, host, inventory)
        except Exception as error:  # the verifier's failure is this host's evidence, not the audit's crash
            evidence.append(Evidence("host", subject, "verified", "hosts/verify.py checks run",
                                     f"{type(error).__name__}: {error}", UNKNOWN, SSH.controls("permit_root_login")))
            continue
        for check in checks:
            evidence.append(Evidence("host", subject, str(check["check"]), check.get("expected"), check.get("actual"),
                                     _STATUS.get(str(check.get("status", "unknown")).lower(), UNKNOWN),
                                     tuple(check.get("controls") or ()), str(check.get("detail", ""))))
    return evidence
