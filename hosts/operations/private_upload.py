"""The one way a credential reaches a node: a file no one else can read, not even while it is written."""

import shlex
from io import BytesIO

from pyinfra import host
from pyinfra.api import FileUploadCommand


def sudo_upload_user() -> str | None:
    """The SSH user pyinfra's sudo upload writes its first file as, None when it connects as root or without sudo."""
    user = host.data.get("ssh_user")
    return user if host.data.get("_sudo") and user and user != "root" else None


def private_upload(data: bytes, staged: str, upload: str, mode: str = "0600", sudo_user: str | None = None):
    """Commands that put data, a credential, in staged on the node, readable by root only (mode).

    Both files pyinfra writes exist with a private mode before a byte is written: under sudo it uploads to upload as
    the SSH user, then copies that file (mode kept) to staged as root and removes it. The caller moves staged into
    place, or hands it to the command that consumes and removes it.
    + data: the bytes (never on a command line, never printed)
    + staged: path on the node the data lands in
    + upload: path on the node of pyinfra's first copy, in a directory the SSH user can write
    + mode: octal permissions of staged
    + sudo_user: sudo_upload_user() of the host
    """
    yield f"install -m {mode} -o root -g root /dev/null {shlex.quote(staged)}"
    if sudo_user:
        yield f"install -m 0600 -o {shlex.quote(sudo_user)} /dev/null {shlex.quote(upload)}"
    yield FileUploadCommand(BytesIO(data), staged, remote_temp_filename=upload)
