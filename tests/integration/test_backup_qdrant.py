"""Qdrant backed up through its snapshot API into a local and an append-only off-site restic repository, and
drilled into a scratch Qdrant compared with the figures recorded at backup time (A.8.13, A.5.30).

The source is the session's Qdrant store behind its TLS 1.3 front (tests/integration/conftest.py), reached
with its read-only key and a snapshot token (never the full-access key); the off-site server is the real `rclone serve restic --append-only` of test_backup.py.
"""

import dataclasses
import hashlib
import json
import os
import random
import secrets
import time
from pathlib import Path

import pytest

from baseline import BACKUP
from components import qdrant_backup, restic
from components.restic import Repository, write_private_file
from harden import backup_log
from harden.audit import backups as backup_evidence
from harden.audit.evidence import FAIL, PASS
from harden.cli import main as harden
from tests.integration.test_backup import OffsiteServer

pytestmark = pytest.mark.integration

PLAIN, NAMED = "memories-backup-plain", "memories-backup-named"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("qdrant-backup")
    directory.chmod(0o700)
    return directory


@pytest.fixture(scope="module")
def offsite(test_pki, tmp_path_factory, workdir):
    server = OffsiteServer(tmp_path_factory.mktemp("qdrant-offsite-store"), test_pki, workdir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(qdrant, test_pki) -> qdrant_backup.QdrantClient:
    """The full-access key: the tests' own writes, never the backup's (with the API's client certificate, which the
    front requires)."""
    return qdrant_backup.QdrantClient("localhost", qdrant.rest_port, qdrant.api_key, test_pki.ca_cert,
                                      client_cert=(qdrant.client_cert, qdrant.client_key))


@pytest.fixture(scope="module")
def api_key_file(qdrant, workdir) -> Path:
    """The operator's full key, only to mint the snapshot token."""
    return write_private_file(workdir / "qdrant-api-key", qdrant.api_key + "\n")


@pytest.fixture(scope="module")
def source(qdrant, test_pki, workdir, collections, api_key_file) -> qdrant_backup.QdrantSource:
    source = qdrant_backup.QdrantSource(
        f"https://localhost:{qdrant.rest_port}", test_pki.ca_cert,
        read_only_api_key_file=write_private_file(workdir / "qdrant-read-only-key", qdrant.read_only_key + "\n"),
        snapshot_token_file=workdir / "qdrant-snapshot-token", store_container=qdrant.store.name,
        # The backup's own identity towards the front, which requires a client certificate (qdrant_runtime.FRONT_CLIENTS)
        **dict(zip(("client_cert", "client_key"), test_pki.issue_client(workdir, "qdrant-backup", common_name="rae-backup",
                                                                         owner=(os.getuid(), os.getgid())))))
    assert qdrant_backup.write_snapshot_token(source, api_key_file, 1)[0] == sorted(collections)
    return source


@pytest.fixture(scope="module")
def collections(admin):
    """Two collections (one unnamed vector, one named), 300 and 40 points of seeded random vectors."""
    client = admin
    generator = random.Random(13)
    for name, vectors, count, wrap in ((PLAIN, {"size": 8, "distance": "Cosine"}, 300, lambda v: v),
                                       (NAMED, {"text": {"size": 4, "distance": "Dot"}}, 40, lambda v: {"text": v})):
        client.call("PUT", f"/collections/{name}", {"vectors": vectors})
        size = 8 if name == PLAIN else 4
        points = [{"id": index + 1, "vector": wrap([generator.uniform(-1, 1) for _ in range(size)]),
                   "payload": {"tenant_id": "t"}} for index in range(count)]
        client.call("PUT", f"/collections/{name}/points?wait=true", {"points": points})
    return {PLAIN: 300, NAMED: 40}


@pytest.fixture(scope="module")
def config_file(source, offsite, test_pki, workdir) -> Path:
    local_password = write_private_file(workdir / "local.password", secrets.token_urlsafe(32) + "\n")
    offsite_password = write_private_file(workdir / "offsite.password", secrets.token_urlsafe(32) + "\n")
    offsite_location = write_private_file(
        workdir / "offsite.repository", f"rest:https://{offsite.user}:{offsite.password}@127.0.0.1:{offsite.port}/rae\n")
    config = {
        "repositories": [
            {"name": "local", "location": str(workdir / "local-repo"), "password_file": str(local_password)},
            {"name": "offsite", "repository_file": str(offsite_location), "password_file": str(offsite_password),
             "cacert": str(test_pki.ca_cert), "cache_dir": str(workdir / "cache"), "append_only": True}],
        "qdrant": {"url": source.url, "read_only_api_key_file": str(source.read_only_api_key_file),
                   "snapshot_token_file": str(source.snapshot_token_file), "cacert": str(source.cacert),
                   "client_cert": str(source.client_cert), "client_key": str(source.client_key),
                   "store_container": source.store_container},
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
def backed_up(collections, config_file, source, admin):
    """`harden backup run` with a qdrant data set; then the source changes (the drill must compare with then)."""
    assert harden(["backup", "run", "--config", str(config_file)]) == 0
    client = admin
    figures = {name: qdrant_backup.collection_figures(client, name) for name in collections}
    # Opposite to the sample's probe vector: it changes the count, never the sample search's top results.
    opposite = [-value for value in figures[PLAIN][1]["vector"]]
    client.call("PUT", f"/collections/{PLAIN}/points?wait=true", {"points": [{"id": 10_000, "vector": opposite}]})
    return figures


def test_every_collection_reaches_both_repositories_with_its_figures(backed_up, config_file, collections, qdrant):
    ok = [line for line in log_lines(config_file) if line["action"] == "backup" and line["dataset"] == "qdrant"]
    assert {(line["repository"], line["result"]) for line in ok} == {("local", "ok"), ("offsite", "ok")}
    assert all(line["tables"] == 2 and line["rows"] == sum(collections.values()) for line in ok)
    for repository in repositories(config_file).values():
        _, manifest = qdrant_backup.latest_manifest(repository)
        assert {name: figures.points for name, figures in manifest.collections.items()} == collections
        for name, figures in manifest.collections.items():
            assert (figures.points, figures.sample) == backed_up[name]
            assert len(figures.sample["ids"]) == qdrant_backup.SAMPLE_LIMIT
        assert manifest.collections[PLAIN].sample["ids"][0] == 1  # cosine: the probe point finds itself first
        assert manifest.collections[NAMED].sample["using"] == "text"
    # The server keeps no snapshot files: each was deleted once stored.
    left = [path for path in (qdrant.storage / "snapshots").rglob("*.snapshot")]
    assert left == []


def test_the_drill_restores_into_a_scratch_qdrant_and_matches_backup_time(backed_up, config_file, source):
    assert harden(["backup", "drill", "--config", str(config_file), "--repository", "offsite"]) == 0
    drill = [line for line in log_lines(config_file) if line["action"] == "drill"][-1]
    assert (drill["dataset"], drill["result"], drill["matched"]) == ("qdrant", "ok", True)
    assert drill["rows"] == 340 and drill["tables"] == 2  # the point added after the backup is not expected
    assert 0 < drill["rto_seconds"] < BACKUP.rto_minutes * 60 and 0 <= drill["rpo_seconds"] < 3600
    evidence = {(e.subject, e.check): e.status for e in backup_evidence.collect(
        Path(json.loads(config_file.read_text())["log"]), ("qdrant",))}
    assert evidence[("backup/qdrant/offsite", "last_success_age")] == PASS
    assert evidence[("backup/qdrant", "fresh_copies")] == PASS
    assert evidence[("backup/drill/qdrant", "last_result")] == PASS
    assert evidence[("backup/drill/qdrant", "rto")] == PASS


def test_comparison_finds_a_store_that_differs_from_the_manifest(backed_up, config_file, source):
    """The live source gained a point after the backup: compared with the manifest, it must not match."""
    _, manifest = qdrant_backup.latest_manifest(repositories(config_file)["local"])
    problems = qdrant_backup.compare(manifest, source.reader())
    assert problems == [f"collection {PLAIN}: 301 points; backup had 300"]


def test_a_tampered_snapshot_is_refused_before_any_restore(backed_up, config_file, tmp_path):
    local = repositories(config_file)["local"]
    _, manifest = qdrant_backup.latest_manifest(local)
    figures = manifest.collections[PLAIN]
    forged = qdrant_backup.CollectionFigures(figures.snapshot, "0" * 64, figures.bytes, figures.points, figures.sample)
    with pytest.raises(ValueError, match="sha256 .* differs from the manifest's.*A.8.13"):
        qdrant_backup.fetch_snapshot(local, PLAIN, forged, tmp_path)


def test_a_wrong_api_key_fails_the_run_and_never_logs_the_key(backed_up, config_file, workdir, source):
    config = json.loads(config_file.read_text())
    wrong_key = "wrong-" + secrets.token_urlsafe(16)
    config["qdrant"]["read_only_api_key_file"] = str(write_private_file(workdir / "wrong-key", wrong_key + "\n"))
    config["log"] = str(workdir / "wrong-key.jsonl")
    path = workdir / "wrong-key.json"
    path.write_text(json.dumps(config))
    assert harden(["backup", "run", "--config", str(path), "--repository", "local"]) == 1
    text = (workdir / "wrong-key.jsonl").read_text()
    failed = [json.loads(line) for line in text.splitlines() if json.loads(line)["action"] == "backup"]
    assert [(line["dataset"], line["result"]) for line in failed] == [("qdrant", "fail")]
    assert "HTTP 401" in failed[0]["error"] and wrong_key not in text
    assert source.snapshot_token_file.read_text().strip() not in text


def test_a_plain_http_url_is_refused_before_anything_runs(config_file, workdir, capsys):
    config = json.loads(config_file.read_text())
    config["qdrant"]["url"] = "http://localhost:6333"
    config["log"] = str(workdir / "never.jsonl")
    path = workdir / "plain.json"
    path.write_text(json.dumps(config))
    assert harden(["backup", "run", "--config", str(path)]) == 2
    assert "A.8.24" in capsys.readouterr().err and not (workdir / "never.jsonl").exists()


def test_snapshots_in_the_repository_are_not_plaintext(backed_up, config_file):
    local = Path(json.loads(config_file.read_text())["repositories"][0]["location"])
    blobs = [path.read_bytes() for path in local.rglob("*") if path.is_file()]
    assert blobs and not any(PLAIN.encode() in blob or b"tenant_id" in blob for blob in blobs)
    assert restic.snapshots(repositories(config_file)["local"], "rae-dataset=qdrant", "rae-part=snapshot")


def test_a_loose_api_key_file_is_refused_before_anything_runs(config_file, workdir, qdrant, capsys):
    config = json.loads(config_file.read_text())
    loose = workdir / "loose-key"
    loose.write_text(qdrant.api_key)
    loose.chmod(0o644)
    config["qdrant"]["read_only_api_key_file"] = str(loose)
    config["log"] = str(workdir / "never-loose.jsonl")
    path = workdir / "loose.json"
    path.write_text(json.dumps(config))
    assert harden(["backup", "run", "--config", str(path)]) == 2
    error = capsys.readouterr().err
    assert "A.5.17" in error and qdrant.api_key not in error and not (workdir / "never-loose.jsonl").exists()


def test_the_front_is_reached_by_its_container_address_as_on_the_stack(source, qdrant, collections):
    """The stack's config names the front's container (on an internal network, never published): the backup host
    connects to its address and still verifies the certificate by the URL's name."""
    by_container = qdrant_backup.QdrantSource("https://localhost:6333", source.cacert,
                                              read_only_api_key_file=source.read_only_api_key_file,
                                              container=qdrant.front.name, client_cert=source.client_cert,
                                              client_key=source.client_key)
    client = by_container.reader()
    assert client.address != "localhost" and client.port == 6333
    assert set(collections) <= set(client.collections())
    wrong_name = qdrant_backup.QdrantSource("https://qdrant-store:6333", source.cacert,
                                            read_only_api_key_file=source.read_only_api_key_file,
                                            container=qdrant.front.name, client_cert=source.client_cert,
                                            client_key=source.client_key)
    with pytest.raises(RuntimeError, match="CERTIFICATE_VERIFY_FAILED|match"):
        wrong_name.reader().collections()


def _status(client: qdrant_backup.QdrantClient, method: str, path: str, body: dict | None = None) -> int:
    connection, response = client.open(method, path, None if body is None else json.dumps(body).encode(),
                                       {"content-type": "application/json"})
    try:
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_backup_credentials_cannot_create_or_delete_collections_or_write_with_the_read_only_key(
        backed_up, source, collections):
    """What each backup credential is refused on the real Qdrant (403), after the backup itself worked with them.

    The snapshot token is `rw` on the collections it names: Qdrant 1.18.3 has no mode that creates a snapshot
    without point writes (qdrant_runtime.backup_claims). The test pins that limit too, with a delete of an id that
    does not exist, so the documented residual right stays what it says.
    """
    reader, token = source.reader(), source.snapshotter()
    points = {"points": [{"id": 987_654, "vector": [0.1] * 8}]}
    for client in (reader, token):
        assert _status(client, "PUT", "/collections/rae-backup-intruder", {"vectors": {"size": 4, "distance": "Dot"}}) == 403
        assert _status(client, "DELETE", f"/collections/{PLAIN}") == 403
        assert _status(client, "PATCH", f"/collections/{PLAIN}", {"optimizers_config": {"indexing_threshold": 0}}) == 403
        assert _status(client, "POST", "/snapshots") == 403  # a full-storage snapshot needs global manage
        assert _status(client, "PUT", f"/collections/{PLAIN}/snapshots/recover",
                       {"location": "file:///qdrant/storage/snapshots/x.snapshot"}) == 403
    assert _status(reader, "PUT", f"/collections/{PLAIN}/points?wait=true", points) == 403
    assert _status(reader, "POST", f"/collections/{PLAIN}/points/delete?wait=true", {"points": [987_654]}) == 403
    assert _status(reader, "POST", f"/collections/{PLAIN}/snapshots") == 403  # why the token exists
    assert _status(token, "GET", "/collections/memories-not-named") == 403  # no collection it does not name
    assert _status(token, "POST", f"/collections/{PLAIN}/points/delete?wait=true", {"points": [987_654]}) == 200
    assert qdrant_backup.point_count(reader, PLAIN) == collections[PLAIN] + 1  # the point added after the backup


def test_a_corrupted_snapshot_leaves_the_live_collection_untouched(backed_up, config_file, workdir, source,
                                                                    api_key_file, collections):
    """A newer backup whose snapshot is truncated (its manifest's sha256 describes the truncated file, as when a bad
    snapshot was stored): the restore recovers it into a scratch Qdrant first, which refuses it; the live collection
    keeps every point and its sample search, and the log says why."""
    local = repositories(config_file)["local"]
    _, manifest = qdrant_backup.latest_manifest(local)
    good = manifest.collections[PLAIN]
    snapshot = qdrant_backup.fetch_snapshot(local, PLAIN, good, workdir)
    corrupted = snapshot.read_bytes()[: good.bytes // 2]
    snapshot.unlink()
    bad_repo = Repository("corrupted", write_private_file(workdir / "corrupted.password", secrets.token_urlsafe(32)),
                          location=str(workdir / "corrupted-repo"))
    restic.ensure_initialised(bad_repo)
    stored = restic.backup_stdin(bad_repo, corrupted, qdrant_backup.SNAPSHOT_FILE.format(collection=PLAIN),
                                 ("rae-dataset=qdrant", "rae-part=snapshot"))
    bad = qdrant_backup.QdrantManifest(manifest.taken_at, {PLAIN: qdrant_backup.CollectionFigures(
        stored["snapshot_id"], hashlib.sha256(corrupted).hexdigest(), len(corrupted), good.points, good.sample)})
    restic.backup_stdin(bad_repo, bad.to_json().encode(), qdrant_backup.MANIFEST_FILE,
                        ("rae-dataset=qdrant", "rae-part=manifest"))
    reader = source.reader()
    before = {name: qdrant_backup.collection_figures(reader, name) for name in collections}
    config = {"repositories": [{"name": "corrupted", "location": bad_repo.location,
                                "password_file": str(bad_repo.password_file)}],
              "qdrant": {"url": source.url, "api_key_file": str(api_key_file), "cacert": str(source.cacert),
                         "client_cert": str(source.client_cert), "client_key": str(source.client_key),
                         "store_container": source.store_container},
              "log": str(workdir / "corrupted.jsonl")}
    path = workdir / "corrupted.json"
    path.write_text(json.dumps(config))
    assert harden(["backup", "restore", "--config", str(path), "--repository", "corrupted", "--dataset", "qdrant"]) == 1
    failed, = backup_log.read(workdir / "corrupted.jsonl")[0]
    assert (failed["action"], failed["dataset"], failed["result"]) == ("restore", "qdrant", "fail")
    assert "scratch Qdrant refused" in failed["error"] and "left untouched" in failed["error"]
    assert {name: qdrant_backup.collection_figures(reader, name) for name in collections} == before
    assert before[PLAIN][0] == collections[PLAIN] + 1  # still the live data (the point added after the backup)


def test_a_collection_the_token_does_not_name_fails_the_run_until_a_new_token(
        backed_up, config_file, workdir, source, admin, api_key_file):
    """A new collection (a new tenant) is never silently left out: the run fails naming it; `harden backup
    qdrant-token` mints a token that names it and the next run backs it up."""
    extra = "memories-backup-new-tenant"
    admin.call("PUT", f"/collections/{extra}", {"vectors": {"size": 4, "distance": "Dot"}})
    try:
        config = json.loads(config_file.read_text())
        config["log"] = str(workdir / "new-collection.jsonl")
        path = workdir / "new-collection.json"
        path.write_text(json.dumps(config))
        assert harden(["backup", "run", "--config", str(path), "--repository", "local"]) == 1
        failed = [line for line in backup_log.read(Path(config["log"]))[0]
                  if line["action"] == "backup" and line["dataset"] == "qdrant"]
        assert [line["result"] for line in failed] == ["fail"] and extra in failed[0]["error"]
        old_token = source.snapshot_token_file.read_text().strip()
        assert harden(["backup", "qdrant-token", "--config", str(path), "--api-key-file", str(api_key_file),
                       "--days", "1"]) == 0
        assert extra in {entry["collection"] for entry in qdrant_backup.token_claims(
            source.snapshot_token_file.read_text().strip())["access"]}
        assert oct(source.snapshot_token_file.stat().st_mode & 0o777) == "0o600"
        assert harden(["backup", "run", "--config", str(path), "--repository", "local"]) == 0
        text = Path(config["log"]).read_text()
        assert old_token not in text and source.snapshot_token_file.read_text().strip() not in text
        assert harden(["backup", "qdrant-token", "--config", str(path), "--api-key-file", str(api_key_file),
                       "--days", "365"]) == 2
    finally:
        admin.call("DELETE", f"/collections/{extra}")


def test_the_token_expiry_is_logged_judged_and_renewed_only_when_due(backed_up, config_file, workdir, source,
                                                                     api_key_file):
    """The run logs the token's days left (the fixture's 1-day token: within the warning window, so the audit fails);
    `--renew-if-within` renews that one, then leaves the fresh one alone; a window below the baseline's is refused."""
    def token_status(log: Path) -> str:
        return {(e.subject, e.check): e.status for e in backup_evidence.collect(log, ("qdrant",))}[
            ("backup/qdrant/snapshot_token", "expiry")]

    run_token = [line for line in log_lines(config_file) if line["action"] == "token"][0]
    assert run_token["result"] == "ok" and 0 < run_token["token_days_left"] <= 1
    assert token_status(Path(json.loads(config_file.read_text())["log"])) == FAIL
    config = json.loads(config_file.read_text())
    config["log"] = str(workdir / "renewal.jsonl")
    path = workdir / "renewal.json"
    path.write_text(json.dumps(config))
    renew = ["backup", "qdrant-token", "--config", str(path), "--api-key-file", str(api_key_file), "--days", "30",
             "--renew-if-within", str(BACKUP.snapshot_token_warn_days)]
    assert harden(renew) == 0
    renewed = source.snapshot_token_file.read_text()
    assert 29.9 < (qdrant_backup.token_expiry(source.snapshot_token_file) - time.time()) / 86400 <= 30
    assert token_status(Path(config["log"])) == PASS
    assert harden(renew) == 0
    assert source.snapshot_token_file.read_text() == renewed  # valid beyond the window: not minted again
    last = backup_log.read(Path(config["log"]))[0][-1]
    assert last["action"] == "token" and "not renewed" in last["skipped"] and renewed.strip() not in Path(
        config["log"]).read_text()
    assert harden(renew[:-1] + [str(BACKUP.snapshot_token_warn_days - 1)]) == 2


def test_the_scratch_store_answers_only_the_drills_client_certificate_on_loopback(built_images):
    """Qdrant's own TLS accepts TLS 1.2 and cannot be limited; the scratch store of drills and restores is therefore
    published on 127.0.0.1 only and completes no handshake without the drill's client certificate."""
    import socket
    import ssl
    import subprocess

    with qdrant_backup.scratch_store(built_images["qdrant"], "tls-check") as store:
        assert store.client.collections() == [] and store.client_cert is not None
        ports = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .HostConfig.PortBindings}}",
                                           store.name], capture_output=True, text=True, check=True).stdout)
        assert [binding["HostIp"] for bindings in ports.values() for binding in bindings] == ["127.0.0.1"]

        def handshake(version: ssl.TLSVersion, with_certificate: bool) -> str:
            context = ssl.create_default_context(cafile=str(store.ca_cert))
            context.minimum_version = context.maximum_version = version
            if with_certificate:
                context.load_cert_chain(*map(str, store.client_cert))
            with socket.create_connection(("127.0.0.1", store.port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                answer = tls.recv(64)
                if not answer:
                    raise ssl.SSLError("closed without an answer")
                return tls.version()

        assert handshake(ssl.TLSVersion.TLSv1_3, True) == "TLSv1.3"
        assert handshake(ssl.TLSVersion.TLSv1_2, True) == "TLSv1.2"  # why the client certificate is required
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            with pytest.raises((ssl.SSLError, ConnectionError)):
                handshake(version, False)


def test_without_its_client_certificate_the_backup_is_refused_by_the_front(source):
    """The front requires a client certificate (baseline TLS.client_cert_required_hops): the same source without
    the backup's certificate gets TLS 1.3's certificate_required alert, named in the error."""
    bare = dataclasses.replace(source, client_cert=None, client_key=None)
    with pytest.raises(RuntimeError, match="CERTIFICATE_REQUIRED"):
        bare.reader().collections()
