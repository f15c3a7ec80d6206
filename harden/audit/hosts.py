"""Evidence about hosts (Node1): the pyinfra facts and dry run of hosts/verify.py, one item per check.

A host that does not answer on its SSH port is unknown, never pass.
"""

import inspect
import socket
from concurrent.futures import ThreadPoolExecutor

from baseline import SSH
from harden.audit.evidence import FAIL, NOT_APPLICABLE, PASS, RISK_ACCEPTED, UNKNOWN, Evidence
from hosts.desired import SSH_EXCEPTION_KEY, SSH_INTERFACES_CHECK

MAX_PARALLEL_HOSTS = 8
_STATUS = {"pass": PASS, "ok": PASS, "passed": PASS, "fail": FAIL, "failed": FAIL, "drift": FAIL,
           "unknown": UNKNOWN, "error": UNKNOWN, "not-applicable": NOT_APPLICABLE, "not applicable": NOT_APPLICABLE,
           "skipped": NOT_APPLICABLE, "risk-accepted": RISK_ACCEPTED}


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
    offered = {"host_data": host["data"], "data": host["data"], "inventory": inventory, "inventory_path": inventory, "host": host["name"], "host_name": host["name"],
               "name": host["name"], "hostname": host["ssh_hostname"], "ssh_hostname": host["ssh_hostname"],
               "port": host["ssh_port"], "ssh_port": host["ssh_port"]}
    parameters = inspect.signature(verify_host).parameters
    return verify_host(**{name: offered[name] for name in parameters if name in offered})


def _host_evidence(host: dict, inventory: str, timeout: float, verifier, missing, progress) -> list[Evidence]:
    subject = f"host/{host['name']}"
    progress(f"host {host['name']}: SSH reachability, then pyinfra facts (hosts/verify.py)")
    down = reachable(host["ssh_hostname"], host["ssh_port"], timeout)
    if down:
        return [Evidence("host", subject, "reachable", f"SSH answers on port {host['ssh_port']}", down,
                         UNKNOWN, SSH.controls("permit_root_login"), "host down or unreachable")]
    if verifier is None:
        return [Evidence("host", subject, "verified", "hosts/verify.py checks run", missing, UNKNOWN,
                         SSH.controls("permit_root_login"))]
    try:
        checks = _call(verifier, host, inventory)
    except Exception as error:  # the verifier's failure is this host's evidence, not the audit's crash
        return [Evidence("host", subject, "verified", "hosts/verify.py checks run", f"{type(error).__name__}: {error}",
                         UNKNOWN, SSH.controls("permit_root_login"))]
    progress(f"host {host['name']}: {len(checks)} checks read")
    return [Evidence("host", subject, str(_field(check, "check")), _field(check, "expected"), _field(check, "actual"),
                     _STATUS.get(str(_field(check, "status") or "unknown").lower(), UNKNOWN),
                     tuple(_field(check, "controls") or ()), str(_field(check, "detail") or ""))
            for check in checks]


def _field(check, name):
    """A check is a dict or an object with attributes (dataclass, named tuple)."""
    return check.get(name) if isinstance(check, dict) else getattr(check, name, None)


def collect(hosts: list[dict], inventory: str, timeout: float = 5.0, progress=print) -> list[Evidence]:
    """Evidence of every host; hosts are verified in parallel (each is bound by its own SSH round trips)."""
    verifier, missing = _verifier()
    if not hosts:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_HOSTS, len(hosts))) as pool:
        per_host = pool.map(lambda host: _host_evidence(host, inventory, timeout, verifier, missing, progress), hosts)
        return [item for items in per_host for item in items]


def declared_exceptions(hosts: list[dict], evidence: list[Evidence], today: str) -> list[dict]:
    """The exceptions hosts declare in their inventory data (hosts.desired.SSH_EXCEPTION_KEY), listed as the report
    lists waivers: owner, expiry, reason and the checks they turned into risk-accepted (the verifier judged them
    against the exception's terms: baseline.exceptions)."""
    listed = []
    for host in hosts:
        exception = host["data"].get(SSH_EXCEPTION_KEY)
        if not isinstance(exception, dict):
            continue
        key = f"host:host/{host['name']}:{SSH_INTERFACES_CHECK}"
        listed.append({"source": "host", "match": key, "owner": str(exception.get("owner") or "not named"),
                       "expires": str(exception.get("expires") or ""), "reason": str(exception.get("reason") or ""),
                       "expired": str(exception.get("expires") or "") < today,
                       "applied_to": [e.key for e in evidence if e.key == key and e.status == RISK_ACCEPTED]})
    return listed
