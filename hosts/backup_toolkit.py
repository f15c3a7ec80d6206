"""The toolkit as the node's backup timers run it: this checkout's source and a venv holding only what `harden backup`
imports (requirements-backup.lock, hash-pinned), installed at host data backup_project_dir by hosts/deploys/backup.py.

The control node builds both, so the node needs no route to a package index and no git:
- source_archive(): a reproducible tar.gz of the packages, pyproject.toml, README.md and the lock (same bytes for the
  same tree: sorted, no times or owners), so an unchanged tree uploads nothing;
- wheelhouse(): the lock's wheels for Debian 12's CPython 3.11 on x86_64, downloaded once into .tools/node-wheels by
  pip with --require-hashes; the node installs them again with --require-hashes and --no-index;
- install_command(): what the node runs (a fresh .venv, the wheels, the toolkit on its path), ending with
  the stamp file (sha256 of the archive and the lock) the deploy and the verifier compare with stamp().

Pure: no pyinfra import.

    >>> stamp()            # what a node that runs this checkout's backup toolkit holds in STAMP_FILE
"""

import gzip
import hashlib
import io
import shlex
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = "requirements-backup.lock"
PACKAGES = ("baseline", "posture", "components", "hosts", "policies", "harden")
TOP_FILES = ("pyproject.toml", "README.md", LOCK)
SUFFIXES = (".py", ".csv", ".json")
# What the node needs for the backup timers, from Debian: restic, and python3-venv for the toolkit's venv
NODE_PACKAGES = ("restic", "python3-venv")
INSTALL_DIR = ".install"  # under the project dir: the archive and the wheels as uploaded
STAMP_FILE = ".venv/rae-backup-toolkit.sha256"
WHEEL_CACHE = REPO / ".tools" / "node-wheels"
# Debian 12: CPython 3.11, glibc 2.36
PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "any")


def _members() -> list[Path]:
    files = [REPO / name for name in TOP_FILES]
    for package in PACKAGES:
        files += [path for path in (REPO / package).rglob("*")
                  if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts]
    return sorted(files)


@cache
def source_archive() -> bytes:
    """The toolkit's source as a reproducible tar.gz (bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in _members():
            data = path.read_bytes()
            info = tarfile.TarInfo(str(path.relative_to(REPO)))
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as compressed:
        compressed.write(raw.getvalue())
    return packed.getvalue()


def stamp() -> str:
    """sha256 of the archive and the lock: what STAMP_FILE holds on a node that runs this checkout's toolkit."""
    return hashlib.sha256(source_archive() + (REPO / LOCK).read_bytes()).hexdigest()


def pinned_wheels() -> dict[str, str]:
    """Package name -> version, as the lock pins them."""
    pins = {}
    for line in (REPO / LOCK).read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ", 1)[0].split("==")
            pins[name.lower()] = version
    return pins


def wheelhouse() -> Path:
    """The lock's wheels for the node (downloaded with --require-hashes once per lock); the directory."""
    lock = (REPO / LOCK).read_bytes()
    target = WHEEL_CACHE / hashlib.sha256(lock).hexdigest()[:16]
    if target.is_dir() and len(list(target.glob("*.whl"))) == len(pinned_wheels()):
        return target
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--require-hashes", "--only-binary=:all:",
               "--no-deps", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3",
               "--abi", "none", *(f"--platform={platform}" for platform in PLATFORMS), "-r", str(REPO / LOCK),
               "-d", str(target)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or len(list(target.glob("*.whl"))) != len(pinned_wheels()):
        raise RuntimeError(f"the backup venv's wheels ({LOCK}) could not be fetched: {done.stderr.strip()[-400:]} "
                           "[ISO 27001:2022 A.8.13 Information backup]")
    return target


_PTH = ("import pathlib, sys, sysconfig; "
        "pathlib.Path(sysconfig.get_paths()['purelib'], 'rae-toolkit.pth').write_text(sys.argv[1] + chr(10))")
_LAUNCHER = "import sys\\nfrom harden.cli import main\\nsys.exit(main())\\n"


def install_command(project_dir: str) -> str:
    """The node's install: the archive unpacked over project_dir, a fresh .venv with the lock's wheels (hash-checked,
    no index), the toolkit on its path with the `harden` entry point, then the stamp. Runs as root; everything stays root's, readable."""
    project = shlex.quote(project_dir)
    venv = f"{project}/.venv"
    return " && ".join([
        "umask 022",
        f"tar -xzf {project}/{INSTALL_DIR}/toolkit.tar.gz -C {project} --no-same-owner",
        f"rm -rf {venv}", f"python3 -m venv {venv}",
        f"{venv}/bin/pip install --quiet --no-index --find-links {project}/{INSTALL_DIR}/wheels --require-hashes "
        f"--only-binary=:all: -r {project}/{LOCK}",
        # the toolkit itself as an editable install would put it (no build step, no setuptools/wheel needed): the
        # project dir on the venv's path and the `harden` entry point of pyproject.toml
        f"{venv}/bin/python -c {shlex.quote(_PTH)} {project}",
        f"printf '#!%s\\n{_LAUNCHER}' {venv}/bin/python > {venv}/bin/harden", f"chmod 755 {venv}/bin/harden",
        f"{venv}/bin/harden backup --help >/dev/null",
        f"echo {stamp()} > {project}/{STAMP_FILE}",
    ])
