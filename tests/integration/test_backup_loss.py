"""Restore after the host is lost (A.8.13, A.5.30): the source's data volumes and its local repository are
destroyed, and only the operator's escrow is left (the off-site password, the off-site location and the CA).
From the append-only off-site repository alone, `harden backup restore` brings Postgres and Qdrant back into
fresh containers and the data matches what was there at backup time.

Without the Node1 VM: the "host" is this test's source containers, config, local repository and passwords;
the off-site machine is a real `rclone serve restic --append-only` that the loss does not touch.
"""

import json
import random
import secrets
import shutil
from pathlib import Path

import pytest

from components import qdrant_backup
from components.restic import write_private_file
from harden.cli import main as harden
from tests.fixtures.docker_engine import remove_quietly, start_postgres, superuser_sql
from tests.integration.test_backup import OffsiteServer, table_checksums

pytestmark = pytest.mark.integration

COLLECTION = "memories-tenant-loss"


def all_points(client: qdrant_backup.QdrantClient, collection: str) -> dict:
    """Every point's id -> (vector, payload), read in pages."""
    points, offset = {}, None
    while True:
        page = client.call("POST", f"/collections/{collection}/points/scroll",
                           {"limit": 256, "with_vector": True, "with_payload": True}
                           | ({"offset": offset} if offset is not None else {}))
        points.update({point["id"]: (point["vector"], point["payload"]) for point in page["points"]})
        offset = page.get("next_page_offset")
        if offset is None:
            return points


@pytest.fixture
def escrow(tmp_path_factory) -> Path:
    """The operator's escrow, off the host: what survives the loss."""
    directory = tmp_path_factory.mktemp("operator-escrow")
    directory.chmod(0o700)
    return directory


def test_restore_from_the_offsite_copy_alone_after_the_host_is_gone(docker_client, built_images, test_pki, secret_dir,
                                                                    tmp_path_factory, escrow):
    host = tmp_path_factory.mktemp("lost-host")
    host.chmod(0o700)
    offsite_machine = tmp_path_factory.mktemp("offsite-machine")  # its htpasswd: not on the host that is lost
    offsite_machine.chmod(0o700)
    offsite = OffsiteServer(offsite_machine / "store", test_pki, offsite_machine)
    source = fresh = None
    try:
        # --- the host before the loss: Postgres and Qdrant with data, both repositories, one backup run.
        source = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "backup-loss-source")
        superuser_sql(source.container, "SELECT memory_store('tenant-loss', 'lost memory ' || n) "
                                        "FROM generate_series(1, 150) n")
        offsite_password = secrets.token_urlsafe(32) + "\n"
        offsite_location = f"rest:https://{offsite.user}:{offsite.password}@127.0.0.1:{offsite.port}/rae\n"
        with qdrant_backup.scratch_store(built_images["qdrant"], "backup-loss-source", client_certificates=False) as store:
            generator = random.Random(7)
            store.client.call("PUT", f"/collections/{COLLECTION}", {"vectors": {"size": 6, "distance": "Cosine"}})
            store.client.call("PUT", f"/collections/{COLLECTION}/points?wait=true", {"points": [
                {"id": n, "vector": [generator.uniform(-1, 1) for _ in range(6)], "payload": {"memory": f"m{n}"}}
                for n in range(1, 121)]})
            backup_source = store.backup_source(host)
            config = {
                "repositories": [
                    {"name": "local", "location": str(host / "local-repo"),
                     "password_file": str(write_private_file(host / "local.password", secrets.token_urlsafe(32)))},
                    {"name": "offsite", "append_only": True, "cacert": str(test_pki.ca_cert),
                     "cache_dir": str(host / "cache"),
                     "password_file": str(write_private_file(host / "offsite.password", offsite_password)),
                     "repository_file": str(write_private_file(host / "offsite.repository", offsite_location))}],
                "postgres": {"container": source.container.name},
                "qdrant": {"url": f"https://localhost:{store.port}", "cacert": str(store.ca_cert),
                           "read_only_api_key_file": str(backup_source.read_only_api_key_file),
                           "snapshot_token_file": str(backup_source.snapshot_token_file)},
                "log": str(host / "backup.jsonl"),
            }
            (host / "backup.json").write_text(json.dumps(config))
            assert harden(["backup", "run", "--config", str(host / "backup.json")]) == 0
            expected_rows = table_checksums(source, test_pki)
            expected_points = all_points(store.client, COLLECTION)
        assert len(expected_points) == 120

        # --- the loss: the Qdrant store went with its volume (above); Postgres and its volume, the local
        # repository, the config and every password on the host go now. The escrow kept three things.
        write_private_file(escrow / "offsite.password", offsite_password)
        write_private_file(escrow / "offsite.repository", offsite_location)
        shutil.copy(test_pki.ca_cert, escrow / "offsite-ca.pem")
        remove_quietly(docker_client, source.container, source.volume)
        assert not docker_client.volumes.list(filters={"name": source.volume})
        shutil.rmtree(host)
        assert not host.exists()

        # --- a new host: fresh containers, a config naming only the off-site repository and the operator's key.
        rebuilt = tmp_path_factory.mktemp("new-host")
        rebuilt.chmod(0o700)
        fresh = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "backup-loss-fresh")
        with qdrant_backup.scratch_store(built_images["qdrant"], "backup-loss-fresh", client_certificates=False) as store:
            restore_config = {
                "repositories": [{"name": "offsite", "repository_file": str(escrow / "offsite.repository"),
                                  "password_file": str(escrow / "offsite.password"),
                                  "cacert": str(escrow / "offsite-ca.pem"), "cache_dir": str(rebuilt / "cache")}],
                "qdrant": {"url": f"https://localhost:{store.port}", "api_key_file": str(
                    write_private_file(rebuilt / "qdrant-api-key", store.api_key)), "cacert": str(store.ca_cert),
                           "drill_image": built_images["qdrant"]},
                "log": str(rebuilt / "restore.jsonl"),
            }
            (rebuilt / "restore.json").write_text(json.dumps(restore_config))
            assert store.client.collections() == []
            assert harden(["backup", "restore", "--config", str(rebuilt / "restore.json"), "--repository", "offsite",
                           "--container", fresh.container.name]) == 0
            assert harden(["backup", "restore", "--config", str(rebuilt / "restore.json"), "--repository", "offsite",
                           "--dataset", "qdrant"]) == 0
            assert table_checksums(fresh, test_pki) == expected_rows
            assert all_points(store.client, COLLECTION) == expected_points
        lines = [json.loads(line) for line in (rebuilt / "restore.jsonl").read_text().splitlines()]
        assert [(line["action"], line["dataset"], line["result"]) for line in lines] == [
            ("restore", "postgres", "ok"), ("restore", "qdrant", "ok")]
    finally:
        offsite.stop()
        for running in (source, fresh):
            if running is not None:
                remove_quietly(docker_client, running.container, running.volume)


def test_without_the_operators_key_nothing_is_restored(docker_client, test_pki, tmp_path, escrow):
    """A wrong repository password opens nothing: the restore fails naming A.8.13 and writes no data."""
    offsite = OffsiteServer(tmp_path / "store", test_pki, tmp_path)
    try:
        location = write_private_file(escrow / "offsite.repository",
                                      f"rest:https://{offsite.user}:{offsite.password}@127.0.0.1:{offsite.port}/rae\n")
        right = write_private_file(tmp_path / "right.password", secrets.token_urlsafe(32))
        config = {"repositories": [{"name": "offsite", "repository_file": str(location), "password_file": str(right),
                                    "cacert": str(test_pki.ca_cert), "cache_dir": str(tmp_path / "cache")}],
                  "files": [str(test_pki.ca_cert)], "log": str(tmp_path / "log.jsonl")}
        (tmp_path / "backup.json").write_text(json.dumps(config))
        assert harden(["backup", "run", "--config", str(tmp_path / "backup.json")]) == 0
        guess = write_private_file(tmp_path / "guess.password", "not-the-operators-key")
        config["repositories"][0]["password_file"] = str(guess)
        config["qdrant"] = {"url": "https://localhost:1", "api_key_file": str(guess), "cacert": str(test_pki.ca_cert)}
        (tmp_path / "guess.json").write_text(json.dumps(config))
        assert harden(["backup", "restore", "--config", str(tmp_path / "guess.json"), "--repository", "offsite",
                       "--dataset", "qdrant"]) == 1
        failed = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
        assert (failed["action"], failed["result"]) == ("restore", "fail") and "wrong password" in failed["error"]
    finally:
        offsite.stop()
