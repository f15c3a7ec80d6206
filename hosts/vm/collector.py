"""TLS material for the Node1 VM suite's log collector (hosts/collector.py), which runs on the control node.

    tls = collector_tls(Path("run/collector-tls"))   # openssl: two CAs, the collector's and the clients' certificates
    url = collector_url(port)                          # the collector as the guest reaches it: qemu's gateway

The guest reaches the control node at qemu's user-network gateway (hosts.vm.boot.GUEST_GATEWAY), which qemu
forwards to the control node's loopback: the collector listens on 127.0.0.1 and its certificate names the gateway.
A second CA signs a "stranger" client certificate: a client the collector must refuse.
"""

import subprocess
from pathlib import Path

from hosts.vm.boot import GUEST_GATEWAY


def collector_url(port: int) -> str:
    """The collector's URL for Node1's host data (journal_upload_url)."""
    return f"https://{GUEST_GATEWAY}:{port}"


def collector_tls(directory: Path) -> dict:
    """The nodes' CA, the collector's server certificate (IP GUEST_GATEWAY and 127.0.0.1), Node1's client certificate,
    and a stranger's client certificate from another CA; EC P-256, valid 2 days. Returns name -> path for
    ca.crt, server.crt, server.key, client.crt, client.key, stranger.crt, stranger.key."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    new_key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    for ca, subject in (("ca", "/CN=node1 suite nodes CA"), ("stranger-ca", "/CN=not the nodes CA")):
        openssl("req", "-x509", *new_key, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "2", "-subj", subject)
    for name, subject, extensions, ca in (
            ("server", "/CN=collector", f"subjectAltName=IP:{GUEST_GATEWAY},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
             "ca"),
            ("client", "/CN=node1", "extendedKeyUsage=clientAuth\n", "ca"),
            ("stranger", "/CN=node1", "extendedKeyUsage=clientAuth\n", "stranger-ca")):
        (directory / f"{name}.ext").write_text(extensions)
        openssl("req", *new_key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
    names = ("ca.crt", "server.crt", "server.key", "client.crt", "client.key", "stranger.crt", "stranger.key")
    return {name: directory / name for name in names}
