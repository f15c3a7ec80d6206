"""The log collector's side of the Node1 test VM: TLS material for systemd-journal-remote and its clients.

    tls = collector_tls(Path("run/collector-tls"))   # openssl: CA, the collector's and Node1's certificates
    # host data: journal_upload_url=COLLECTOR_URL, journal_upload_tls={"key": tls["client.key"], ...}
"""

import subprocess
from pathlib import Path

# The collector Node1 ships its journal to: the VM suite runs systemd-journal-remote inside the VM itself (it stands
# for the control node's receiver), so the uploader reaches it without leaving the guest
COLLECTOR_URL = "https://localhost:19532"


def collector_tls(directory: Path) -> dict:
    """A CA, the collector's server certificate (localhost) and Node1's client certificate, EC P-256, valid 2 days:
    {"ca.crt": path, "server.crt": ..., "server.key": ..., "client.crt": ..., "client.key": ...}."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    new_key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *new_key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=node1 suite log collector CA")
    for name, subject, extensions in (
            ("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", "/CN=node1", "extendedKeyUsage=clientAuth\n")):
        (directory / f"{name}.ext").write_text(extensions)
        openssl("req", *new_key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
    return {name: directory / name for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}
