"""The audit's secret-file check on real files: a container's read-only file mounts are stat-ed on the host and judged
against baseline.SECRETS.file_mode and the container's own uid; what cannot be stat-ed is unknown, never pass."""

import os

from baseline import SECRETS
from harden.audit.containers import secret_file_modes


def _attrs(user: str, *sources) -> dict:
    return {"Config": {"User": user},
            "Mounts": [{"Type": "bind", "RW": False, "Source": str(source), "Destination": f"/run/secrets/{index}"}
                       for index, source in enumerate(sources)]}


def _secret(tmp_path, name: str, mode: int):
    path = tmp_path / name
    path.write_text("x")
    path.chmod(mode)
    return path


ME = f"{os.getuid()}:{os.getgid()}"


def test_baseline_mode_owned_by_the_container_user_passes(tmp_path):
    [evidence] = secret_file_modes("container/c", _attrs(ME, _secret(tmp_path, "a", SECRETS.file_mode), tmp_path))
    assert evidence.status == "pass" and evidence.controls == SECRETS.controls("file_mode")
    # the directory mount is no file
    assert evidence.actual == [{"file": "/run/secrets/0", "mode": f"{SECRETS.file_mode:04o}", "owner": ME}]


def test_a_wider_mode_fails(tmp_path):
    [evidence] = secret_file_modes("container/c", _attrs(ME, _secret(tmp_path, "a", SECRETS.file_mode),
                                                         _secret(tmp_path, "b", 0o644)))
    assert evidence.status == "fail" and "/run/secrets/1 has mode 0644" in evidence.detail


def test_a_file_of_another_user_fails(tmp_path):
    other = os.getuid() + 1
    [evidence] = secret_file_modes("container/c", _attrs(f"{other}:{other}", _secret(tmp_path, "a", SECRETS.file_mode)))
    assert evidence.status == "fail" and f"the container runs as '{other}:{other}'" in evidence.detail


def test_a_source_that_cannot_be_seen_is_unknown(tmp_path):
    [evidence] = secret_file_modes("container/c", _attrs(ME, _secret(tmp_path, "a", SECRETS.file_mode),
                                                         tmp_path / "gone"))
    assert evidence.status == "unknown" and "not seen" in evidence.detail


def test_writable_binds_and_volumes_are_not_secret_files(tmp_path):
    attrs = _attrs(ME, _secret(tmp_path, "a", 0o644))
    attrs["Mounts"][0]["RW"] = True
    attrs["Mounts"].append({"Type": "volume", "RW": False, "Source": "", "Destination": "/data"})
    assert secret_file_modes("container/c", attrs) == []
