"""The log collector on the control node: the nodes' journals received over mutual TLS, and the retention they are
kept for (baseline.JOURNALD).

    units = collector_units(tls, output="/var/log/journal/remote")   # unit file name -> text, for the control node
    tls_front_argv(...), receiver_argv(...)                            # the same command lines, to run directly
    hosts.verify.collector_checks(unit_dir)                           # the audit's reading of the collector

Two processes. Debian 12 builds systemd-journal-remote without GnuTLS, so its `--trust` (client certificates) is
not available there ("Option --trust is not available"): the receiver listens for plain HTTP on the loopback only,
and socat (Debian's package, OpenSSL) terminates TLS in front of it, presenting the collector's certificate and
refusing, in the handshake, every client whose certificate the nodes' CA did not sign (`verify=1`, TLS 1.2 at
least). systemd-journal-remote 252 deletes nothing itself (journal-remote.conf knows Seal, SplitMode and the TLS
files only), so the collector's one deletion is its vacuum unit, `journalctl --directory=OUTPUT --vacuum-time=AGE`,
run daily: the retention the audit reads is that AGE, at least baseline.JOURNALD.collector_min_retention_days.
"""

import re
import shlex

from baseline import JOURNALD, BaselineViolation

RECEIVER_BINARY = "/lib/systemd/systemd-journal-remote"
UNIT_DIR = "/etc/systemd/system"  # where the control node keeps the units below
RECEIVER_UNIT = "harden-journal-remote.service"
TLS_FRONT_UNIT = "harden-journal-remote-tls.service"
VACUUM_UNIT = "harden-journal-vacuum.service"
VACUUM_TIMER = "harden-journal-vacuum.timer"
COLLECTOR_PORT = 19532  # systemd-journal-remote's registered HTTPS port, where the TLS front listens
RECEIVER_PORT = 19531  # the receiver behind it, on the loopback only
TLS_ROLES = ("key", "certificate", "trusted_ca")
MIN_TLS = "TLS1.2"
# journalctl's --vacuum-time units (systemd.time(7)) this reader understands, in days; any other spelling is unknown
_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7, "M": 30.44, "month": 30.44, "months": 30.44,
         "y": 365.25, "year": 365.25, "years": 365.25}


def receiver_argv(output: str, port: int = RECEIVER_PORT) -> list[str]:
    """systemd-journal-remote on the loopback only (plain HTTP: the TLS front is its one client), one journal file
    per sender under `output`."""
    return [RECEIVER_BINARY, f"--listen-http=127.0.0.1:{port}", f"--output={output.rstrip('/')}/",
            "--split-mode=host"]


def tls_front_argv(tls: dict, listen: str = "0.0.0.0", port: int = COLLECTOR_PORT,
                   receiver_port: int = RECEIVER_PORT) -> list[str]:
    """socat terminating mutual TLS at listen:port and passing each accepted connection to the receiver. Refuses
    missing TLS files: without the nodes' CA any client would be accepted."""
    missing = [role for role in TLS_ROLES if not tls.get(role)]
    if missing:
        raise BaselineViolation(f"log collector TLS incomplete (missing {', '.join(missing)}): the collector must "
                                "present its certificate and check each node's against the nodes' CA",
                                JOURNALD.controls("upload_tls_paths"))
    options = [f"OPENSSL-LISTEN:{port}", f"bind={listen}", "reuseaddr", "fork", f"cert={tls['certificate']}",
               f"key={tls['key']}", f"cafile={tls['trusted_ca']}", "verify=1", f"openssl-min-proto-version={MIN_TLS}"]
    return ["socat", ",".join(options), f"TCP:127.0.0.1:{receiver_port}"]


def vacuum_argv(output: str) -> list[str]:
    """The collector's one deletion: journal files older than the baseline's retention."""
    return ["journalctl", f"--directory={output.rstrip('/')}/",
            f"--vacuum-time={JOURNALD.collector_min_retention_days}d"]


def collector_units(tls: dict, output: str, listen: str = "0.0.0.0", port: int = COLLECTOR_PORT,
                    receiver_port: int = RECEIVER_PORT) -> dict:
    """Unit file name -> text: the receiver, its TLS front, the vacuum and the vacuum's daily timer."""
    header = "# Written from hosts/collector.py (baseline.JOURNALD)\n"
    return {
        RECEIVER_UNIT: (f"{header}[Unit]\nDescription=Log collector: receiver (loopback only)\n\n[Service]\n"
                        f"ExecStartPre=/bin/mkdir -p {shlex.quote(output)}\n"
                        f"ExecStart={shlex.join(receiver_argv(output, receiver_port))}\nRestart=always\n\n"
                        "[Install]\nWantedBy=multi-user.target\n"),
        TLS_FRONT_UNIT: (f"{header}[Unit]\nDescription=Log collector: mutual TLS in front of the receiver\n"
                         f"Requires={RECEIVER_UNIT}\nAfter={RECEIVER_UNIT}\n\n[Service]\n"
                         f"ExecStart={shlex.join(tls_front_argv(tls, listen, port, receiver_port))}\n"
                         "Restart=always\n\n[Install]\nWantedBy=multi-user.target\n"),
        VACUUM_UNIT: (f"{header}[Unit]\nDescription=Log collector retention (its only deletion)\n\n[Service]\n"
                      f"Type=oneshot\nExecStart={shlex.join(vacuum_argv(output))}\n"),
        VACUUM_TIMER: f"{header}[Unit]\nDescription=Log collector retention, daily\n\n[Timer]\nOnCalendar=daily\n"
                      "Persistent=true\n\n[Install]\nWantedBy=timers.target\n",
    }


def exec_start(unit_text: str) -> list[str] | None:
    """The last ExecStart= of a unit file as an argv; None when there is none."""
    lines = [line.split("=", 1)[1] for line in unit_text.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(lines[-1]) if lines else None


def retention_days(vacuum_unit_text: str) -> float | None:
    """The age in days after which the vacuum unit deletes journal files; None when it states none this reader
    understands (no ExecStart, no --vacuum-time, or a spelling outside _DAYS)."""
    values = [arg.split("=", 1)[1] for arg in exec_start(vacuum_unit_text) or [] if arg.startswith("--vacuum-time=")]
    match = re.fullmatch(r"(\d+)\s*([A-Za-z]+)", values[-1]) if values else None
    if not match or match.group(2) not in _DAYS:
        return None
    return int(match.group(1)) * _DAYS[match.group(2)]


def tls_front_settings(front_unit_text: str) -> dict | None:
    """What the TLS front's unit states: {"verify": bool, "cafile", "min_tls", "forwards_to"}; None without one."""
    argv = exec_start(front_unit_text)
    if not argv or len(argv) < 3 or not argv[1].upper().startswith("OPENSSL-LISTEN:"):
        return None
    options = dict(option.partition("=")[::2] for option in argv[1].split(",")[1:])
    return {"verify": options.get("verify") == "1", "cafile": options.get("cafile") or None,
            "min_tls": options.get("openssl-min-proto-version"), "forwards_to": argv[2]}
