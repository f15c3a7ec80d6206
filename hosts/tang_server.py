"""The tang server on the control node: Debian's tangd, run per connection, with keys from Debian's tangd-keygen.

Debian's tang 11 ships tangd as an inetd-style program (one HTTP request on stdin, the answer on stdout; its own
unit is a systemd socket with Accept=yes). Where systemd runs the control node, use that socket (see the README);
where it does not, socat accepts the connections and runs one tangd per connection as the `_tang` user:

    python -m hosts.tang_server keygen DB            # new signing and exchange keys in DB (0700, owned by _tang)
    python -m hosts.tang_server thumbprint DB        # the signing key's thumbprint: the node's tang_thp
    python -m hosts.tang_server serve DB --listen ADDRESS:PORT    # in the foreground, until stopped

Tests start it the same way (TangServer).
"""

import argparse
import json
import os
import pwd
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from baseline import LUKS

TANGD = "/usr/libexec/tangd"
TANGD_KEYGEN = "/usr/libexec/tangd-keygen"
USER = "_tang"  # the system user Debian's tang-common creates
# socat's address syntax: a path with one of these would be read as an option or a second address
_UNSAFE = re.compile(r"[\s,:!'\"\\]")


def _owner(user: str):
    """(uid, gid) of user when this process may hand files and connections to it (root, user exists), else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def keygen(db: Path, user: str = USER) -> str:
    """Create db (0700, owned by user) with a new signing and exchange key; returns the signing key's thumbprint.

    + db: the key directory; must not hold keys yet
    """
    db.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(db, 0o700)
    if any(db.glob("*.jwk")):
        raise FileExistsError(f"{db} already holds tang keys; rotate them with tangd-rotate-keys instead")
    owner = _owner(user)
    if owner:
        os.chown(db, *owner)
    subprocess.run([TANGD_KEYGEN, str(db)], check=True, capture_output=True, text=True)
    return thumbprint(db)


def thumbprint(db: Path) -> str:
    """The thumbprint (baseline.LUKS.tang_thumbprint_hash) of db's one advertised signing key, by jose as tang does."""
    found = []
    for path in sorted(db.glob("*.jwk")):  # rotated-out keys are hidden (.name.jwk) and not advertised
        jwk = path.read_text()
        signing = subprocess.run(["jose", "jwk", "use", "-i-", "-r", "-u", "verify"], input=jwk, capture_output=True,
                                 text=True)
        if signing.returncode == 0:
            found.append(subprocess.run(["jose", "jwk", "thp", "-i-", "-a", LUKS.tang_thumbprint_hash], input=jwk,
                                        capture_output=True, text=True, check=True).stdout.strip())
    if len(found) != 1:
        raise ValueError(f"{db} holds {len(found)} advertised signing keys, expected exactly 1")
    return found[0]


class TangServer:
    """tangd behind socat on address:port, serving db; started and stopped by its owner.

    >>> with TangServer(Path("db"), "127.0.0.1", 7500) as tang: print(tang.url)
    """

    def __init__(self, db: Path, address: str, port: int, user: str = USER):
        for value in (str(db), address):
            if _UNSAFE.search(value):
                raise ValueError(f"{value!r}: spaces, commas, colons, quotes and backslashes cannot pass through "
                                 "socat's address syntax")
        self.db, self.address, self.port, self.user = db, address, int(port), user
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    def command(self) -> list[str]:
        """socat accepting connections and running one tangd per connection (as user when started by root)."""
        run_as = f",su={self.user}" if _owner(self.user) else ""
        return ["socat", f"TCP-LISTEN:{self.port},bind={self.address},reuseaddr,fork",
                f"EXEC:{TANGD} {self.db.resolve()}{run_as}"]

    def advertisement(self, timeout: float = 5) -> dict:
        """The server's signed advertisement (GET /adv)."""
        with urllib.request.urlopen(f"{self.url}/adv", timeout=timeout) as answer:
            return json.load(answer)

    def start(self, wait_s: float = 10) -> "TangServer":
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"socat exited {self.process.returncode}: {self.process.stderr.read().decode()}")
            try:
                self.advertisement(timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"tang at {self.url} did not answer within {wait_s} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> "TangServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at address right now."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hosts.tang_server", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    for action in ("keygen", "thumbprint", "serve"):
        sub = commands.add_parser(action)
        sub.add_argument("db", type=Path, help="the tang key directory")
        if action == "serve":
            sub.add_argument("--listen", required=True, help="ADDRESS:PORT, e.g. the control node's Tailscale address")
    args = parser.parse_args(argv)
    if args.action == "keygen":
        print(keygen(args.db))
    elif args.action == "thumbprint":
        print(thumbprint(args.db))
    else:
        address, _, port = args.listen.rpartition(":")
        server = TangServer(args.db, address, int(port)).start()
        print(f"tang serving {args.db} at {server.url} (signing key {thumbprint(args.db)}); Ctrl-C stops it",
              flush=True)
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
