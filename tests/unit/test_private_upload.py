"""hosts.operations.private_upload: the command sequence that brings a credential to a node."""

from pyinfra.api import FileUploadCommand

from hosts.operations.private_upload import private_upload


def _commands(sudo_user):
    return list(private_upload(b"k3y", "/etc/x.harden-new", "/tmp/harden-ab.upload", "0400", sudo_user))


def test_both_files_are_private_before_a_byte_is_written():
    first, second, upload = _commands("admin")
    assert first == "install -m 0400 -o root -g root /dev/null /etc/x.harden-new"
    assert second == "install -m 0600 -o admin /dev/null /tmp/harden-ab.upload"
    assert isinstance(upload, FileUploadCommand)
    assert upload.dest == "/etc/x.harden-new" and upload.remote_temp_filename == "/tmp/harden-ab.upload"
    assert upload.src.read() == b"k3y"
    assert all(b"k3y" not in str(command).encode() for command in (first, second))


def test_without_sudo_there_is_no_first_copy_to_pre_create():
    first, upload = _commands(None)
    assert first.startswith("install -m 0400 -o root -g root /dev/null ")
    assert isinstance(upload, FileUploadCommand)


def test_paths_are_quoted():
    first, second, _ = list(private_upload(b"x", "/etc/a b", "/tmp/u", "0600", "ad min"))
    assert first.endswith("'/etc/a b'") and "'ad min'" in second
