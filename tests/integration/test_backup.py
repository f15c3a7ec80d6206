"""restic backups of a Postgres of its own into a local and an append-only off-site repository, restored into a
fresh container, drilled, checked, and refused where they must be (A.8.13, A.5.33, A.8.24).

The module starts its own source container instead of borrowing the session's: a backup must not depend
on another test's container lifecycle. The off-site repository is a real `rclone serve restic --append-only`
on loopback with TLS (the test CA) and its own htpasswd credentials; the client holds only those.
"""

import datetime
import json
import re
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

from baseline import BACKUP, DATABASE
from components import backup_runtime, restic
from components.restic import Repository, write_private_file
from harden import backup_log
from harden.audit import backups as backup_evidence
from harden.audit.evidence import FAIL, PASS
from harden.cli import main as harden
from tests.fixtures.docker_engine import free_port, remove_quietly, start_postgres, superuser_sql

pytestmark = pytest.mark.integration

TABLES = (DATABASE.audit_log_table, "memories")


def table_checksums(postgres, test_pki) -> dict[str, tuple[int, str]]:
    """Row count and md5 over every row (in id order) of each table, read as the superuser on the local socket
    (RLS bypassed)."""
    checksums = {}
    for table in TABLES:
        ((count, digest),) = superuser_sql(postgres.container, f"SELECT count(*), md5(coalesce(string_agg(t::text, "
                                                               f"'|' ORDER BY id), '')) FROM {table} t")
        checksums[table] = (int(count), digest)
    return checksums


@pytest.fixture(scope="module")
def source(docker_client, built_images, test_pki, secret_dir):
    """A fresh hardened Postgres for this module alone (schema applied, healthy)."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "backup-source")
    yield running
    remove_quietly(docker_client, running.container, running.volume)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("backup")
    directory.chmod(0o700)
    return directory


class OffsiteServer:
    """`rclone serve restic --append-only` over TLS with htpasswd credentials: the off-site machine's server."""

    def __init__(self, store: Path, test_pki, workdir: Path):
        self.store = store
        self.user, self.password = "node1", secrets.token_urlsafe(24)
        hashed = subprocess.run(["openssl", "passwd", "-apr1", "-stdin"], input=self.password, capture_output=True,
                                text=True, check=True).stdout.strip()
        htpasswd = write_private_file(workdir / "offsite.htpasswd", f"{self.user}:{hashed}\n")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            ["rclone", "serve", "restic", "--append-only", "--htpasswd", str(htpasswd), "--cert",
             str(test_pki.server_cert), "--key", str(test_pki.server_key), "--addr", f"127.0.0.1:{self.port}",
             str(store)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.context = ssl.create_default_context(cafile=str(test_pki.ca_cert))
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"rclone serve restic did not start: {self.process.stderr.read().decode()[-400:]}")
            time.sleep(0.3)

    def _answers(self) -> bool:
        try:
            self.request("GET", "/")
        except (OSError, urllib.error.URLError):
            return False
        return True

    def request(self, method: str, path: str, body: bytes | None = None) -> int:
        """An HTTP request with the client's credentials; the status code (errors included)."""
        request = urllib.request.Request(self.url + path, data=body, method=method, headers={
            "Authorization": "Basic " + b64encode(f"{self.user}:{self.password}".encode()).decode()})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def offsite(test_pki, tmp_path_factory, workdir):
    server = OffsiteServer(tmp_path_factory.mktemp("offsite-store"), test_pki, workdir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def config_file(source, offsite, test_pki, workdir, secret_dir) -> Path:
    """The backup config: a local repository, the off-site one, the secret files; each password its own file."""
    local_password = write_private_file(workdir / "local.password", secrets.token_urlsafe(32) + "\n")
    offsite_password = write_private_file(workdir / "offsite.password", secrets.token_urlsafe(32) + "\n")
    offsite_location = write_private_file(
        workdir / "offsite.repository",
        f"rest:https://{offsite.user}:{offsite.password}@127.0.0.1:{offsite.port}/rae\n")
    config = {
        "repositories": [
            {"name": "local", "location": str(workdir / "local-repo"), "password_file": str(local_password)},
            {"name": "offsite", "repository_file": str(offsite_location), "password_file": str(offsite_password),
             "cacert": str(test_pki.ca_cert), "cache_dir": str(workdir / "cache"), "append_only": True}],
        "postgres": {"container": source.container.name},
        "files": [str(test_pki.ca_cert), str(secret_dir)],
        "log": str(workdir / "backup.jsonl"),
    }
    path = workdir / "backup.json"
    path.write_text(json.dumps(config))
    return path


def repositories(config_file: Path) -> dict[str, Repository]:
    config = json.loads(config_file.read_text())
    return {entry["name"]: Repository.from_config({k: v for k, v in entry.items() if k != "append_only"})
            for entry in config["repositories"]}


def log_lines(config_file: Path) -> list[dict]:
    return backup_log.read(Path(json.loads(config_file.read_text())["log"]))[0]


@pytest.fixture(scope="module")
def backed_up(source, test_pki, config_file):
    """Rows in both tables, then `harden backup run` into both repositories; the source's figures at that time."""
    superuser_sql(source.container, "SELECT memory_store('tenant-backup', 'memory ' || n) FROM generate_series(1, 200) n")
    assert harden(["backup", "run", "--config", str(config_file)]) == 0
    return table_checksums(source, test_pki)


@pytest.fixture
def fresh(docker_client, built_images, test_pki, secret_dir):
    """A fresh Postgres container from the same image (schema applied, no rows)."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "restore")
    yield running
    remove_quietly(docker_client, running.container, running.volume)


def test_every_data_set_reaches_both_repositories_and_the_log(backed_up, config_file):
    ok = {(line["dataset"], line["repository"]) for line in log_lines(config_file)
          if line["action"] == "backup" and line["result"] == "ok"}
    assert ok == {("postgres", "local"), ("postgres", "offsite"), ("files", "local"), ("files", "offsite")}
    for repository in repositories(config_file).values():
        datasets = {t for snapshot in restic.snapshots(repository) for t in snapshot.get("tags", [])}
        assert {"rae-dataset=postgres", "rae-part=dump", "rae-part=manifest", "rae-dataset=files"} <= datasets


def test_the_manifest_records_the_source_at_backup_time(backed_up, config_file):
    _, manifest = backup_runtime.latest_manifest(repositories(config_file)["offsite"])
    assert manifest.tables["public.memories"].rows == backed_up["memories"][0] >= 200
    assert manifest.tables[f"public.{DATABASE.audit_log_table}"].rows == backed_up[DATABASE.audit_log_table][0]
    assert len(manifest.dump_sha256) == 64 and manifest.dump_bytes > 0


def test_repositories_hold_no_plaintext(backed_up, config_file, source):
    local = Path(json.loads(config_file.read_text())["repositories"][0]["location"])
    files = [path for path in local.rglob("*") if path.is_file()]
    assert files and not any(b"memory 1" in path.read_bytes() or b"PGDMP" in path.read_bytes() for path in files)
    assert not any(source.superuser_password.encode() in path.read_bytes() for path in files)


def test_restore_gives_identical_rows_from_the_offsite_copy(backed_up, config_file, fresh, test_pki):
    assert harden(["backup", "restore", "--config", str(config_file), "--repository", "offsite",
                   "--container", fresh.container.name]) == 0
    assert table_checksums(fresh, test_pki) == backed_up


def test_restore_keeps_the_audit_log_append_only_and_its_chain_intact(backed_up, config_file, fresh, test_pki):
    backup_runtime.restore_postgres(repositories(config_file)["local"], fresh.container.name)
    with pytest.raises(RuntimeError, match="append-only"):
        superuser_sql(fresh.container, f"DELETE FROM {DATABASE.audit_log_table}")
    ((intact, rows, broken, _, _),) = superuser_sql(fresh.container, "SELECT * FROM audit_log_verify()")
    assert (intact, broken) == ("t", "") and int(rows) >= 200


def test_restore_with_a_wrong_password_fails_and_changes_nothing(backed_up, config_file, fresh, test_pki, tmp_path):
    wrong = write_private_file(tmp_path / "wrong.password", "not the password\n")
    local = repositories(config_file)["local"]
    impostor = Repository("local", password_file=wrong, location=local.location)
    before = table_checksums(fresh, test_pki)
    with pytest.raises(restic.ResticError, match="A.8.13"):
        backup_runtime.restore_postgres(impostor, fresh.container.name)
    assert table_checksums(fresh, test_pki) == before


def test_a_tampered_pack_is_detected_and_never_restored(backed_up, config_file, fresh, test_pki, tmp_path):
    local = repositories(config_file)["local"]
    copy = tmp_path / "tampered-repo"
    shutil.copytree(local.location, copy)
    tampered = Repository("tampered", password_file=local.password_file, location=str(copy))
    _, manifest = backup_runtime.latest_manifest(tampered)
    # A dump below restic's minimum chunk size is one blob whose id is the dump's sha256: corrupt its pack.
    packs = [pack["id"] for index in restic.run(tampered, "list", "index").stdout.decode().split()
             for pack in json.loads(restic.run(tampered, "cat", "index", index).stdout)["packs"]
             if any(blob["id"] == manifest.dump_sha256 for blob in pack["blobs"])]
    assert len(packs) == 1, "the dump is not one blob; the test's small database should be"
    pack = copy / "data" / packs[0][:2] / packs[0]
    content = bytearray(pack.read_bytes())
    content[len(content) // 2] ^= 0xFF
    pack.write_bytes(bytes(content))
    checked = restic.run(tampered, "check", "--read-data", check=False)
    assert checked.returncode != 0
    before = table_checksums(fresh, test_pki)
    with pytest.raises(restic.ResticError, match="A.8.13"):
        backup_runtime.restore_postgres(tampered, fresh.container.name)
    assert table_checksums(fresh, test_pki) == before


def test_the_client_cannot_erase_the_offsite_history(backed_up, config_file, offsite):
    """With the backed-up host's own credentials: restic forget, HTTP DELETE and overwrite are all refused."""
    repository = repositories(config_file)["offsite"]
    before = restic.snapshots(repository)
    victim = before[0]["id"]
    forgot = restic.run(repository, "forget", victim, check=False)
    assert forgot.returncode != 0 and b"403" in forgot.stderr
    assert offsite.request("DELETE", f"/rae/snapshots/{victim}") == 403
    assert offsite.request("POST", f"/rae/snapshots/{victim}", b"rewritten") == 403
    key = next((offsite.store / "rae" / "keys").iterdir()).name
    assert offsite.request("DELETE", f"/rae/keys/{key}") == 403
    pack = next(path for path in (offsite.store / "rae" / "data").rglob("*") if path.is_file()).name
    assert offsite.request("DELETE", f"/rae/data/{pack}") == 403
    assert offsite.request("DELETE", "/rae/config") == 403
    assert [s["id"] for s in restic.snapshots(repository)] == [s["id"] for s in before]
    assert harden(["backup", "forget", "--config", str(config_file)]) == 0
    skipped = [line for line in log_lines(config_file) if line["action"] == "forget" and line["repository"] == "offsite"]
    assert skipped and "append-only" in skipped[-1]["skipped"]


def test_check_and_drill_are_logged_and_the_audit_reads_them(backed_up, config_file):
    assert harden(["backup", "check", "--config", str(config_file)]) == 0
    assert harden(["backup", "drill", "--config", str(config_file), "--repository", "offsite"]) == 0
    drill = [line for line in log_lines(config_file) if line["action"] == "drill"][-1]
    assert drill["result"] == "ok" and drill["matched"] is True
    assert 0 < drill["rto_seconds"] < BACKUP.rto_minutes * 60 and 0 <= drill["rpo_seconds"] < 3600
    assert drill["rows"] >= 200
    evidence = {(e.subject, e.check): e for e in backup_evidence.collect(
        Path(json.loads(config_file.read_text())["log"]))}
    assert evidence[("backup/postgres/offsite", "last_success_age")].status == PASS
    assert evidence[("backup/postgres", "fresh_copies")].status == PASS
    assert evidence[("backup/drill/postgres", "last_result")].status == PASS
    assert evidence[("backup/drill/postgres", "rto")].status == PASS
    assert evidence[("backup/repository/local", "integrity_check")].status == PASS
    # the check probed the real append-only rclone server with the host's own credentials, over TLS: refused
    assert evidence[("backup/repository/offsite", "append_only")].status == PASS
    check = [line for line in log_lines(config_file) if line["action"] == "check" and line["repository"] == "offsite"]
    assert check[-1]["append_only"] is True and check[-1]["delete_refused"] is True
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=BACKUP.rpo_hours + 1)
    aged = {(e.subject, e.check): e for e in backup_evidence.collect(
        Path(json.loads(config_file.read_text())["log"]), now=later)}
    assert aged[("backup/postgres/local", "last_success_age")].status == FAIL
    assert aged[("backup/postgres", "fresh_copies")].status == FAIL
    # The same log through `harden audit`, into the report folder the coverage figure reads (benchmarks/coverage.md):
    # the backup controls count as observed from make test's own reports.
    out = Path(__file__).resolve().parents[2] / "out" / "test" / "audit" / "backup-real"
    shutil.rmtree(out, ignore_errors=True)
    harden(["audit", "--no-containers", "--out", str(out), "--backup-log", json.loads(config_file.read_text())["log"],
            "--backup-dataset", "postgres"])
    report = json.loads((out / "report.json").read_text())
    seen = {(item["subject"], item["check"]): item["status"] for item in report["evidence"] if item["source"] == "backup"}
    assert seen[("backup/drill/postgres", "last_result")] == PASS and seen[("backup/postgres", "fresh_copies")] == PASS


def test_a_loose_password_file_is_refused_before_anything_runs(config_file, workdir, capsys):
    config = json.loads(config_file.read_text())
    loose = workdir / "loose.password"
    loose.write_text("password\n")
    loose.chmod(0o644)
    config["repositories"] = [{"name": "loose", "location": str(workdir / "never-repo"), "password_file": str(loose)}]
    config["log"] = str(workdir / "never.jsonl")
    path = workdir / "loose.json"
    path.write_text(json.dumps(config))
    assert harden(["backup", "run", "--config", str(path)]) == 2
    assert "A.8.24" in capsys.readouterr().err
    assert not (workdir / "never-repo").exists() and not (workdir / "never.jsonl").exists()


def test_command_line_backup_reports_its_readiness_wait(backed_up, config_file, capsys):
    assert harden(["backup", "run", "--config", str(config_file), "--repository", "local"]) == 0
    out = capsys.readouterr().out
    assert "server ready after" in out


def test_a_server_that_never_answers_is_an_error_naming_the_control(docker_client, built_images, tmp_path):
    silent = docker_client.containers.run(built_images["postgres"], entrypoint=["sleep", "60"], detach=True,
                                          name=f"rae-test-silent-{secrets.token_hex(4)}", network_mode="none")
    try:
        with pytest.raises(RuntimeError, match=r"did not accept connections within 3 s.*A\.8\.13"):
            backup_runtime.wait_ready(silent.name, timeout_s=3)
    finally:
        remove_quietly(docker_client, silent)


def test_the_source_became_healthy_only_after_its_schema_was_applied(source):
    """The first-start server runs on a port of its own, so the healthcheck cannot pass before it stops."""
    source.container.reload()
    applied = [line for line in source.container.logs(timestamps=True).decode(errors="replace").splitlines()
               if "entrypoint: schema applied" in line]
    assert applied, "the entrypoint did not log that the schema was applied"
    applied_at = _docker_time(applied[0].split(" ", 1)[0])
    successes = [_docker_time(probe["Start"]) for probe in source.container.attrs["State"]["Health"]["Log"]
                 if probe["ExitCode"] == 0]
    assert successes and min(successes) > applied_at


def _docker_time(text: str) -> datetime.datetime:
    """Docker's RFC 3339 times carry nanoseconds (Python parses microseconds) and a `Z` or an offset."""
    match = re.fullmatch(r"(\S+?T[\d:]+)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    assert match, f"not a Docker timestamp: {text!r}"
    head, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.datetime.fromisoformat(f"{head}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")
