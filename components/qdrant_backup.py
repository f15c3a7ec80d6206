"""Qdrant backups through its snapshot API, and their restore drill into a scratch Qdrant (baseline.BACKUP).

Backup: for every collection, `POST /collections/{name}/snapshots?wait=true` on the running Qdrant
(reached through its TLS 1.3 front; the front's certificate verified by name against the stack's CA), the
snapshot file streamed from `GET .../snapshots/{file}` into `restic backup
--stdin` (its sha256 taken on the way and checked against the one Qdrant reports), then the snapshot
deleted on the server (the data volume does not fill up with copies). Beside the files, a manifest
snapshot records per collection its exact point count and a sample search (the first point's vector,
exact search, the ids found in order), read before and after the snapshot: a collection that changed
meanwhile is snapshotted again, so the recorded figures describe the file.

Credentials (least privilege; the backup never holds the full-access API key): everything it reads (the
collection list, counts, sample searches, the snapshot download) goes with the read-only API key; only creating
and deleting the collection snapshot goes with the *snapshot token*, a JWT minted by `harden backup
qdrant-token` with `rw` on exactly the collections it names and an expiry (qdrant_runtime.backup_claims says
why Qdrant grants no less). A collection the token does not name, or an expired token, fails the run before
any snapshot; `token_expiry` reads the expiry each run logs, and `renewal_reason` says when `--renew-if-within`
mints again (the JWT is minted with the standard library's HMAC-SHA256: four lines, no new dependency). Recovery
needs Qdrant's global manage access, so `restore` alone reads the full key
(`api_key_file`).

Restore (`restore_verified`): the snapshots are fetched once (sha256 checked against the manifest), recovered into
a scratch Qdrant of the production image first and compared with the manifest (point counts and sample
searches); only when the scratch copy matches are the same files uploaded into the live Qdrant. A snapshot Qdrant
refuses, or one that does not match its manifest, leaves the live collections untouched.

Drill: a throwaway Qdrant container from the production image and runtime spec (components.qdrant_runtime;
throwaway API keys and a self-signed certificate, data in a named volume, published on loopback only while
the drill runs) gets
every snapshot uploaded (`POST /collections/{name}/snapshots/upload`, Qdrant checks the sha256 too), and
its point counts and sample searches are compared with the manifest.

    >>> source = QdrantSource.from_config({"url": "https://qdrant:6333", "read_only_api_key_file": "...",
    ...                                    "snapshot_token_file": "...", "cacert": "...", "container": "qdrant",
    ...                                    "store_container": "qdrant-store"})
    >>> backup_qdrant(source, [repository])
"""

import base64
import contextlib
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from baseline import BACKUP, require
from components import restic
from components.backup_drill import throwaway_secret_file
from components.backup_runtime import BackupResult, fetch_verified, tag
from components.qdrant_runtime import (HTTP_PORT, STORE_NAME, QdrantSecrets, backup_claims, config_yaml,
                                       qdrant_spec)
from components.restic import Repository, check_private_file, write_private_file
from components.spec import Port, docker_run_args

SNAPSHOT_FILE = "rae/qdrant/{collection}.snapshot"
MANIFEST_FILE = "rae/qdrant/manifest.json"
SAMPLE_LIMIT = 5
SNAPSHOT_ATTEMPTS = 3
READY_TIMEOUT_S = 120
_CHUNK = 1 << 20
_ERROR = "[ISO 27001:2022 A.8.13 Information backup]"
TOKEN_MAX_DAYS = 90
_SOURCE_KEYS = ("url", "read_only_api_key_file", "snapshot_token_file", "api_key_file", "cacert", "client_cert",
                "client_key", "container", "store_container", "drill_image")
_CREDENTIALS = ("read_only_api_key_file", "snapshot_token_file", "api_key_file")


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class _NamedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` while verifying the certificate for `server_name` (a front on an internal network)."""

    def __init__(self, address: str, port: int, server_name: str, context: ssl.SSLContext, timeout: float):
        super().__init__(address, port, context=context, timeout=timeout)
        self._server_name, self._tls = server_name, context

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self._server_name)


class QdrantClient:
    """Qdrant's REST API over TLS 1.3 only, the certificate verified by name; the API key never leaves the header."""

    def __init__(self, server_name: str, port: int, api_key: str, cacert: Path, address: str | None = None,
                 timeout: float = 300, client_cert: tuple[Path, Path] | None = None):
        self.server_name, self.port, self.address, self.timeout = server_name, port, address or server_name, timeout
        self._api_key = api_key
        self.context = ssl.create_default_context(cafile=str(cacert))
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        if client_cert:  # the stack's Qdrant front requires one (baseline TLS.client_cert_required_hops)
            self.context.load_cert_chain(str(client_cert[0]), str(client_cert[1]))

    def _connection(self) -> http.client.HTTPSConnection:
        return _NamedHTTPSConnection(self.address, self.port, self.server_name, self.context, self.timeout)

    def open(self, method: str, path: str, body=None, headers: dict | None = None):
        """Send a request; return (connection, response) for streaming. The caller closes the connection."""
        connection = self._connection()
        connection.request(method, path, body=body, headers={"api-key": self._api_key, **(headers or {})})
        return connection, connection.getresponse()

    def call(self, method: str, path: str, body: dict | None = None):
        """A JSON request; Qdrant's `result`, or RuntimeError naming the call and Qdrant's answer (never the key)."""
        payload = None if body is None else json.dumps(body).encode()
        try:
            connection, response = self.open(method, path, payload, {"content-type": "application/json"})
            try:
                text = response.read()
            finally:
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            raise RuntimeError(f"Qdrant {method} {path} at {self.server_name}:{self.port} failed: {error} {_ERROR}") from None
        if response.status != 200:
            raise RuntimeError(f"Qdrant {method} {path}: HTTP {response.status} {text[:300]!r} {_ERROR}")
        return json.loads(text)["result"]

    def collections(self) -> list[str]:
        return sorted(entry["name"] for entry in self.call("GET", "/collections")["collections"])


@dataclass(frozen=True)
class QdrantSource:
    """Where the running Qdrant answers and with which credentials (the `qdrant` entry of the backup config).

    + url: `https://NAME:PORT` of the TLS 1.3 front; NAME is verified against its certificate
    + read_only_api_key_file: the stack's read-only API key (0600/0400): every read of the backup
    + snapshot_token_file: the snapshot token (0600; `harden backup qdrant-token` writes it): creates and deletes
      the collection snapshots, nothing else the backup does
    + api_key_file: the full-access API key, for `restore` only (recovery needs global manage access)
    + cacert: the stack's CA certificate
    + client_cert, client_key: the backup's client certificate (CN rae-backup) and key (0600/0400), which the
      stack's TLS 1.3 front requires; both or neither
    + container: connect to this container's address (the front on an internal Docker network), or None to
      resolve NAME
    + store_container: the Qdrant store container whose image the drill runs; or
    + drill_image: that image id directly
    """

    url: str
    cacert: Path
    read_only_api_key_file: Path | None = None
    snapshot_token_file: Path | None = None
    api_key_file: Path | None = None
    container: str | None = None
    store_container: str | None = None
    drill_image: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None

    @classmethod
    def from_config(cls, entry: dict) -> "QdrantSource":
        unknown = sorted(set(entry) - set(_SOURCE_KEYS))
        require(not unknown, f"backup config `qdrant`: unknown keys {unknown}; allowed: {list(_SOURCE_KEYS)}",
                BACKUP.controls("copies"))
        missing = [key for key in ("url", "cacert") if not entry.get(key)]
        require(not missing, f"backup config `qdrant`: needs {missing}", BACKUP.controls("copies"))
        require(any(entry.get(key) for key in _CREDENTIALS),
                f"backup config `qdrant`: needs a credential: {list(_CREDENTIALS[:2])} to back up, `api_key_file` "
                "to restore", ("A.5.15", "A.8.13"))
        parsed = urllib.parse.urlsplit(entry["url"])
        require(parsed.scheme == "https" and bool(parsed.hostname) and not parsed.username,
                f"backup config `qdrant`: url {entry['url']!r} must be https://NAME:PORT (TLS, no credentials in it)",
                ("A.8.24", "A.5.17"))
        pair = [entry.get("client_cert"), entry.get("client_key")]
        require(all(pair) or not any(pair), "backup config `qdrant`: `client_cert` and `client_key` go together",
                ("A.5.14", "A.8.5"))
        paths = {key: Path(entry[key]) for key in _CREDENTIALS if entry.get(key)}
        return cls(entry["url"], Path(entry["cacert"]), container=entry.get("container"),
                   store_container=entry.get("store_container"), drill_image=entry.get("drill_image"),
                   client_cert=Path(pair[0]) if pair[0] else None, client_key=Path(pair[1]) if pair[1] else None,
                   **paths)

    def check_credentials(self) -> None:
        """Every credential file named private (0600 or stricter), the CA certificate present, before anything runs.

        A snapshot token not minted yet is no error here (`harden backup qdrant-token` writes it); a backup without
        it fails when it needs it."""
        for key in _CREDENTIALS:
            path = getattr(self, key)
            if path is not None and (key != "snapshot_token_file" or path.exists()):
                check_private_file(getattr(self, key), f"Qdrant {key.removesuffix('_file').replace('_', ' ')} file")
        require(self.cacert.is_file(), f"Qdrant CA certificate {self.cacert} is missing", ("A.8.24",))
        self._check_client_certificate()

    def _check_client_certificate(self) -> None:
        """The backup's client key private (0600 or stricter) and its certificate present, when one is configured."""
        if self.client_key:
            check_private_file(self.client_key, "Qdrant client key file")
            require(self.client_cert.is_file(), f"Qdrant client certificate {self.client_cert} is missing",
                    ("A.5.14", "A.8.5"))

    def _client(self, key: str, purpose: str) -> "QdrantClient":
        path = getattr(self, key)
        require(path is not None, f"backup config `qdrant`: {purpose} needs `{key}`", ("A.5.15", "A.8.13"))
        check_private_file(path, f"Qdrant {key.removesuffix('_file').replace('_', ' ')} file")
        require(self.cacert.is_file(), f"Qdrant CA certificate {self.cacert} is missing", ("A.8.24",))
        parsed = urllib.parse.urlsplit(self.url)
        address = container_address(self.container) if self.container else None
        self._check_client_certificate()
        return QdrantClient(parsed.hostname, parsed.port or HTTP_PORT, path.read_text().strip(), self.cacert, address,
                            client_cert=(self.client_cert, self.client_key) if self.client_key else None)

    def reader(self) -> "QdrantClient":
        """The backup's reads: collections, counts, sample searches, snapshot downloads (the read-only key)."""
        return self._client("read_only_api_key_file", "the backup")

    def snapshotter(self) -> "QdrantClient":
        """Creating and deleting collection snapshots (the snapshot token)."""
        return self._client("snapshot_token_file", "the backup")

    def admin(self) -> "QdrantClient":
        """Recovery into the running Qdrant (the full-access key; `restore` only)."""
        return self._client("api_key_file", "restore --dataset qdrant")

    def image(self) -> str:
        if self.drill_image:
            return self.drill_image
        require(bool(self.store_container), "backup config `qdrant`: the drill and the verified restore need "
                                            "`drill_image` or `store_container` (whose image the scratch Qdrant "
                                            "runs)", BACKUP.controls("restore_verified"))
        done = subprocess.run(["docker", "inspect", "--format", "{{.Image}}", self.store_container],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"cannot read the image of {self.store_container}: {done.stderr.strip()!r} {_ERROR}")
        return done.stdout.strip()


def _b64url(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def mint_snapshot_token(api_key: str, collections: list[str], days: int, now: float | None = None) -> str:
    """A JWT (JWS compact, HS256 with the API key, as Qdrant's `jwt_rbac` verifies it) of backup_claims.

    + api_key: the full-access key (only the minting operator holds it; the backup never does)
    + collections: the collections the backup may snapshot
    + days: validity, 1 to TOKEN_MAX_DAYS
    """
    require(1 <= days <= TOKEN_MAX_DAYS, f"snapshot token validity {days} d is not within 1..{TOKEN_MAX_DAYS} d",
            ("A.5.17", "A.8.13"))
    claims = backup_claims(collections, int((now or time.time()) + days * 86400))
    signing_input = _b64url(b'{"alg":"HS256","typ":"JWT"}') + b"." + _b64url(json.dumps(claims).encode())
    return (signing_input + b"." + _b64url(hmac.digest(api_key.encode(), signing_input, "sha256"))).decode()


def token_claims(token: str) -> dict:
    """The claims a token states (not verified here: Qdrant verifies the signature on every request)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as error:
        raise RuntimeError(f"the Qdrant snapshot token is not a JWT ({type(error).__name__}) {_ERROR}") from None


def check_token_covers(token: str, collections: list[str], now: float | None = None) -> None:
    """Fail before any snapshot when the token has expired or does not name every collection (it would skip them)."""
    claims = token_claims(token)
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or expires <= (now or time.time()):
        raise RuntimeError(f"the Qdrant snapshot token expired or has no expiry (exp {expires!r}); mint a new one "
                           f"with `harden backup qdrant-token` {_ERROR}")
    named = {entry.get("collection") for entry in claims.get("access") or [] if entry.get("access") == "rw"}
    uncovered = sorted(set(collections) - named)
    if uncovered:
        raise RuntimeError(f"the Qdrant snapshot token does not name collections {uncovered}: they would not be "
                           f"backed up; mint a new one with `harden backup qdrant-token` {_ERROR}")


def token_expiry(token_file: Path | None) -> float:
    """The expiry (seconds since the epoch) the snapshot token in `token_file` states.

    Raises RuntimeError when there is no token file, it cannot be read, is not a JWT or states no expiry: the
    caller records that as unreadable (unknown), never as valid.
    """
    if token_file is None:
        raise RuntimeError(f"backup config `qdrant` names no `snapshot_token_file` {_ERROR}")
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise RuntimeError(f"the Qdrant snapshot token {token_file} cannot be read ({type(error).__name__}) "
                           f"{_ERROR}") from None
    expires = token_claims(token).get("exp") if token else None
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise RuntimeError(f"the Qdrant snapshot token {token_file} states no expiry {_ERROR}")
    return float(expires)


def check_renewal_window(within_days: int, days: int) -> None:
    """A renewal window the audit can live with: at least the baseline's warning window, below the new validity."""
    require(BACKUP.snapshot_token_warn_days <= within_days < days,
            f"--renew-if-within {within_days} d must be at least the baseline's warning window "
            f"(backup.snapshot_token_warn_days = {BACKUP.snapshot_token_warn_days} d) and below the new token's "
            f"validity (--days {days})", BACKUP.controls("snapshot_token_warn_days"))


def renewal_reason(token_file: Path | None, collections: list[str], within_days: int, days: int,
                   now: float | None = None) -> str | None:
    """Why the snapshot token must be minted again now, or None while it stays valid beyond `within_days`.

    + within_days: renew when the token expires within this many days; at least BACKUP.snapshot_token_warn_days
      (a later renewal would leave the audit failing first) and below `days` (a new token would be due at once)
    + days: the validity a renewed token gets
    """
    check_renewal_window(within_days, days)
    try:
        expires = token_expiry(token_file)
        check_token_covers(token_file.read_text(encoding="utf-8").strip(), collections, now)
    except RuntimeError as error:
        return str(error)
    left_days = (expires - (now or time.time())) / 86400
    return f"expires in {left_days:.1f} d, within {within_days} d" if left_days <= within_days else None


def write_snapshot_token(source: QdrantSource, api_key_file: Path, days: int) -> tuple[list[str], int]:
    """Mint the token for every collection the read-only key lists now and replace `snapshot_token_file` (0600).

    Returns (collections, expiry in seconds since the epoch); the token itself is never printed.
    """
    require(source.snapshot_token_file is not None, "backup config `qdrant`: needs `snapshot_token_file` (where the "
                                                     "token goes)", ("A.5.17", "A.8.13"))
    check_private_file(api_key_file, "Qdrant API key file")
    collections = source.reader().collections()
    require(bool(collections), "Qdrant has no collection yet: nothing to mint a snapshot token for",
            BACKUP.controls("copies"))
    token = mint_snapshot_token(api_key_file.read_text().strip(), collections, days)
    staged = source.snapshot_token_file.with_name(f".{source.snapshot_token_file.name}.{uuid.uuid4().hex[:8]}")
    write_private_file(staged, token + "\n")
    os.replace(staged, source.snapshot_token_file)
    return collections, token_claims(token)["exp"]


def container_address(container: str) -> str:
    """The first network address of a running container (the host reaches containers on its bridges)."""
    done = subprocess.run(["docker", "inspect", "--format",
                           "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container],
                          capture_output=True, text=True)
    addresses = done.stdout.split()
    if done.returncode != 0 or not addresses:
        raise RuntimeError(f"no network address for container {container}: {done.stderr.strip()!r} {_ERROR}")
    return addresses[0]


@dataclass
class CollectionFigures:
    """What a collection held when its snapshot was taken, and where the snapshot is stored."""

    snapshot: str  # restic snapshot id of the snapshot file
    sha256: str
    bytes: int
    points: int
    sample: dict  # {"using": vector name or None, "vector": [...], "ids": [...]} or {} for an empty collection


@dataclass
class QdrantManifest:
    taken_at: str
    collections: dict[str, CollectionFigures] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "QdrantManifest":
        data = json.loads(text)
        return cls(data["taken_at"], {name: CollectionFigures(**figures)
                                      for name, figures in data["collections"].items()})


def _path(collection: str, rest: str = "") -> str:
    return f"/collections/{urllib.parse.quote(collection, safe='')}{rest}"


def point_count(client: QdrantClient, collection: str) -> int:
    return int(client.call("POST", _path(collection, "/points/count"), {"exact": True})["count"])


def sample_probe(client: QdrantClient, collection: str) -> dict:
    """The first point's dense vector (by id order) and which vector name it belongs to; {} when there is none."""
    points = client.call("POST", _path(collection, "/points/scroll"),
                         {"limit": 1, "with_vector": True, "with_payload": False})["points"]
    if not points:
        return {}
    vector = points[0]["vector"]
    if isinstance(vector, dict):
        using = sorted(name for name, value in vector.items() if isinstance(value, list))
        return {"using": using[0], "vector": vector[using[0]]} if using else {}
    return {"using": None, "vector": vector}


def sample_search(client: QdrantClient, collection: str, probe: dict) -> list:
    """The ids an exact (brute-force, deterministic) search for the probe vector finds, best first."""
    if not probe:
        return []
    query = {"query": probe["vector"], "limit": SAMPLE_LIMIT, "with_payload": False, "params": {"exact": True}}
    if probe.get("using"):
        query["using"] = probe["using"]
    return [point["id"] for point in client.call("POST", _path(collection, "/points/query"), query)["points"]]


def collection_figures(client: QdrantClient, collection: str) -> tuple[int, dict]:
    probe = sample_probe(client, collection)
    return point_count(client, collection), ({**probe, "ids": sample_search(client, collection, probe)} if probe else {})


def _stream_snapshot(client: QdrantClient, collection: str, name: str, repository: Repository) -> tuple[dict, str, int]:
    """GET the snapshot file into `restic backup --stdin`; (restic summary, sha256, bytes)."""
    connection, response = client.open("GET", _path(collection, f"/snapshots/{urllib.parse.quote(name)}"))
    try:
        if response.status != 200:
            raise RuntimeError(f"Qdrant snapshot download {collection}/{name}: HTTP {response.status} {_ERROR}")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            store = restic.popen(repository, "backup", "--stdin", "--stdin-filename",
                                 SNAPSHOT_FILE.format(collection=collection), "--json",
                                 "--tag", tag("dataset", "qdrant"), "--tag", tag("part", "snapshot"),
                                 stdin=subprocess.PIPE, stdout=out, stderr=err)
            digest, size, relay_error = hashlib.sha256(), 0, None
            try:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    store.stdin.write(chunk)
            except (OSError, http.client.HTTPException) as error:
                relay_error = error
            finally:
                try:
                    store.stdin.close()
                except OSError:
                    pass
            store.wait()
            out.seek(0), err.seek(0)
            stdout, stderr = out.read(), err.read()
    finally:
        connection.close()
    if store.returncode != 0 or relay_error:
        raise RuntimeError(f"qdrant backup of {collection} to repository {repository.name!r} failed: {relay_error}; "
                           f"restic exit {store.returncode} {restic.last_lines(stderr)!r} {_ERROR}")
    return restic.summary(stdout), digest.hexdigest(), size


def _snapshot_collection(client: QdrantClient, snapshotter: QdrantClient, collection: str,
                         repository: Repository) -> tuple[CollectionFigures, int]:
    for _ in range(SNAPSHOT_ATTEMPTS):
        before = collection_figures(client, collection)
        snapshot = snapshotter.call("POST", _path(collection, "/snapshots?wait=true"))
        try:
            after = collection_figures(client, collection)
            if after != before:
                print(f"[backup] qdrant {collection} changed while its snapshot was taken; taking it again", flush=True)
                continue
            summary, sha256, size = _stream_snapshot(client, collection, snapshot["name"], repository)
        finally:
            snapshotter.call("DELETE", _path(collection, f"/snapshots/{urllib.parse.quote(snapshot['name'])}?wait=true"))
        require(not snapshot.get("checksum") or snapshot["checksum"] == sha256,
                f"qdrant snapshot {collection}/{snapshot['name']}: sha256 {sha256} of the downloaded file differs from "
                f"Qdrant's {snapshot.get('checksum')}", BACKUP.controls("restore_verified"))
        points, sample = before
        return CollectionFigures(summary["snapshot_id"], sha256, size, points, sample), summary.get("data_added", 0)
    raise RuntimeError(f"qdrant collection {collection} kept changing during {SNAPSHOT_ATTEMPTS} snapshots: its "
                       f"figures would not describe the file {_ERROR}")


def backup_qdrant(source: QdrantSource, repositories: list[Repository]) -> list[BackupResult]:
    """Every collection's snapshot and one manifest into each repository (see the module doc).

    + source: the running Qdrant (QdrantSource.from_config of the backup config's `qdrant`)
    + repositories: initialised restic repositories; each gets its own snapshots, taken for it
    """
    require(bool(repositories), "a backup needs at least one repository", BACKUP.controls("copies"))
    client, snapshotter = source.reader(), source.snapshotter()
    results = []
    for repository in repositories:
        started = time.monotonic()
        taken_at = _utc_now()
        manifest, added = QdrantManifest(taken_at), 0
        collections = client.collections()
        check_token_covers(source.snapshot_token_file.read_text().strip(), collections)
        for collection in collections:
            figures, data_added = _snapshot_collection(client, snapshotter, collection, repository)
            manifest.collections[collection], added = figures, added + data_added
            print(f"[backup] qdrant {collection} -> {repository.name}: {figures.points} points, {figures.bytes} bytes, "
                  f"snapshot {figures.snapshot[:8]}", flush=True)
        stored = restic.backup_stdin(repository, manifest.to_json().encode(), MANIFEST_FILE,
                                     (tag("dataset", "qdrant"), tag("part", "manifest")))
        size = sum(figures.bytes for figures in manifest.collections.values())
        results.append(BackupResult("qdrant", repository.name, stored["snapshot_id"], size, added,
                                    round(time.monotonic() - started, 3), stored["snapshot_id"],
                                    len(manifest.collections),
                                    sum(figures.points for figures in manifest.collections.values())))
    return results


def latest_manifest(repository: Repository) -> tuple[dict, QdrantManifest]:
    """The newest complete Qdrant backup (its manifest) in `repository`."""
    manifests = restic.snapshots(repository, tag("dataset", "qdrant"), tag("part", "manifest"))
    require(bool(manifests), f"repository {repository.name!r} holds no complete qdrant backup",
            BACKUP.controls("restore_verified"))
    newest = max(manifests, key=lambda snapshot: snapshot["time"])
    text = restic.run(repository, "dump", newest["id"], "/" + MANIFEST_FILE).stdout
    return newest, QdrantManifest.from_json(text.decode())


def fetch_snapshot(repository: Repository, collection: str, figures: CollectionFigures, directory: Path) -> Path:
    """Write a collection's snapshot to a 0600 file in `directory`, its sha256 checked against the manifest."""
    return fetch_verified(repository, figures.snapshot, "/" + SNAPSHOT_FILE.format(collection=collection),
                          directory / f"{uuid.uuid4().hex[:8]}.snapshot", figures.sha256,
                          f"qdrant snapshot of {collection}")


def upload_snapshot(client: QdrantClient, collection: str, path: Path, sha256: str) -> None:
    """Recover `collection` from a snapshot file (multipart upload, streamed; Qdrant checks the sha256 too)."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk
        yield tail

    length = len(head) + path.stat().st_size + len(tail)
    query = urllib.parse.urlencode({"wait": "true", "priority": "snapshot", "checksum": sha256})
    connection, response = client.open("POST", _path(collection, f"/snapshots/upload?{query}"), body(), {
        "content-type": f"multipart/form-data; boundary={boundary}", "content-length": str(length)})
    try:
        text = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"Qdrant refused the snapshot of {collection}: HTTP {response.status} {text[:300]!r} {_ERROR}")


def compare(expected: QdrantManifest, client: QdrantClient) -> list[str]:
    """Differences between the manifest and a restored Qdrant, one sentence each."""
    found = set(client.collections())
    problems = [f"collection {name} missing" for name in expected.collections if name not in found]
    problems += [f"collection {name} not in the backup" for name in found if name not in expected.collections]
    for name, figures in expected.collections.items():
        if name not in found:
            continue
        points = point_count(client, name)
        if points != figures.points:
            problems.append(f"collection {name}: {points} points; backup had {figures.points}")
        ids = sample_search(client, name, {key: figures.sample[key] for key in ("using", "vector")} if figures.sample else {})
        if ids != figures.sample.get("ids", []):
            problems.append(f"collection {name}: sample search found {ids}; at backup time {figures.sample.get('ids')}")
    return problems


def fetch_snapshots(repository: Repository, manifest: QdrantManifest, directory: Path) -> dict[str, Path]:
    """Every collection's snapshot as a 0600 file in `directory`, each sha256 checked against the manifest."""
    return {collection: fetch_snapshot(repository, collection, figures, directory)
            for collection, figures in manifest.collections.items()}


def upload_snapshots(client: QdrantClient, manifest: QdrantManifest, files: dict[str, Path]) -> None:
    for collection, figures in manifest.collections.items():
        upload_snapshot(client, collection, files[collection], figures.sha256)


def restore_verified(live: QdrantClient, repository: Repository, manifest: QdrantManifest, image: str,
                     directory: Path) -> list[str]:
    """Recover the manifest's collections into a scratch Qdrant of `image`, compare, and only then into `live`.

    Returns the differences the live Qdrant shows afterwards (none when it matches). A snapshot the scratch Qdrant
    refuses or whose figures differ raises RuntimeError, and nothing reached `live`.
    + live: the running Qdrant, with the full-access key (recovery needs global manage access)
    + image: the production Qdrant image (QdrantSource.image())
    + directory: a private scratch directory for the fetched snapshot files
    """
    files = fetch_snapshots(repository, manifest, directory)
    with scratch_store(image, "restore-verify") as store:
        try:
            upload_snapshots(store.client, manifest, files)
        except RuntimeError as error:
            raise RuntimeError(f"the scratch Qdrant refused the backup ({error}); the live Qdrant was left "
                               "untouched") from None
        problems = compare(manifest, store.client)
    if problems:
        raise RuntimeError(f"the backup of {manifest.taken_at} restored into a scratch Qdrant does not match its "
                           f"manifest: {'; '.join(problems)}; the live Qdrant was left untouched {_ERROR}")
    print(f"[restore] qdrant: {len(files)} collections verified in a scratch Qdrant; recovering the live one",
          flush=True)
    upload_snapshots(live, manifest, files)
    return compare(manifest, live)


@dataclass
class QdrantDrillResult:
    repository: str
    matched: bool
    rto_seconds: float
    rpo_seconds: float
    snapshot: str = ""
    taken_at: str = ""
    collections: int = 0
    points: int = 0
    problems: list[str] = field(default_factory=list)


def client_certificate(ca_cert: bytes, ca_key, directory: Path) -> tuple[Path, Path]:
    """A client certificate (clientAuth, not a CA) signed by the throwaway CA, as 0600 files; (cert, key)."""
    key = ec.generate_private_key(ec.SECP384R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    issuer = x509.load_pem_x509_certificate(ca_cert).subject
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rae-scratch-client")]))
            .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=12))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA384()))
    return (write_private_file(directory / "client.pem", cert.public_bytes(serialization.Encoding.PEM).decode()),
            write_private_file(directory / "client.key", key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()))


def throwaway_store_secrets(directory: Path, name: str, client_certificates: bool = False
                            ) -> tuple[QdrantSecrets, str, str, tuple[Path, Path] | None]:
    """Random API keys and a self-signed certificate for `name` that live as long as the drill; (secrets, api key,
    read-only key, the client certificate and key when `client_certificates`)."""
    key = ec.generate_private_key(ec.SECP384R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=12))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA384()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    api_key, read_only_key = os.urandom(24).hex(), os.urandom(24).hex()
    config = config_yaml(api_key, read_only_key, require_client_certificate=client_certificates)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    secrets = QdrantSecrets(*(throwaway_secret_file(directory / file, data, service=STORE_NAME) for file, data in (
        ("qdrant.yaml", config.encode()), ("cert.pem", cert_pem), ("key.pem", key_pem), ("ca.pem", cert_pem))))
    client = client_certificate(cert_pem, key, directory) if client_certificates else None
    return secrets, api_key, read_only_key, client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_answering(client: QdrantClient, timeout_s: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.collections()
            return
        except RuntimeError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the drill's scratch Qdrant did not answer within {timeout_s:.0f} s: {error}") from None
            time.sleep(1)


def _age_seconds(taken_at: str) -> float:
    taken = datetime.datetime.strptime(taken_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return (datetime.datetime.now(datetime.timezone.utc) - taken).total_seconds()


def restore_into(client: QdrantClient, repository: Repository, manifest: QdrantManifest, scratch: Path) -> None:
    """Every collection of `manifest`, fetched and verified, recovered into the Qdrant `client` reaches."""
    for collection, figures in manifest.collections.items():
        snapshot = fetch_snapshot(repository, collection, figures, scratch)
        try:
            upload_snapshot(client, collection, snapshot, figures.sha256)
        finally:
            snapshot.unlink()


@dataclass
class ScratchStore:
    """A throwaway Qdrant published on loopback: its container, client, API key and CA (for tests and drills);
    `client_cert` when its REST port requires a client certificate."""

    name: str
    client: QdrantClient
    api_key: str
    ca_cert: Path
    port: int
    read_only_key: str
    client_cert: tuple[Path, Path] | None = None

    def backup_source(self, directory: Path, days: int = 1) -> QdrantSource:
        """A least-privilege backup source for this store: its read-only key and a snapshot token for the
        collections it holds now, as 0600 files in `directory` (the full key stays out of the source)."""
        source = QdrantSource(f"https://localhost:{self.port}", self.ca_cert,
                              read_only_api_key_file=write_private_file(directory / "qdrant-read-only-key",
                                                                        self.read_only_key),
                              snapshot_token_file=directory / "qdrant-snapshot-token")
        key = write_private_file(directory / f".qdrant-api-key-{uuid.uuid4().hex[:8]}", self.api_key)
        try:
            write_snapshot_token(source, key, days)
        finally:
            key.unlink()
        return source


@contextlib.contextmanager
def scratch_store(image: str, purpose: str = "restore-drill", client_certificates: bool = True):
    """Start a Qdrant of `image` from the production spec with throwaway secrets; remove it and its data after.

    Published on 127.0.0.1 only, for the caller's own client; its data lives in a named volume removed with it.
    Qdrant's TLS also accepts TLS 1.2 and has no minimum-version setting, and the drill's host has no TLS 1.3 front
    to put before it; so the REST port requires a client certificate from the throwaway CA (`client_certificates`,
    on for drills and restores): no other process on the host completes a handshake, of any TLS version, without
    the drill's 0600 client key. Our client speaks TLS 1.3 only. Test and benchmark stand-ins for a live Qdrant
    (QdrantSource has no client certificate) pass False.
    """
    suffix = uuid.uuid4().hex[:8]
    name = f"rae-{purpose}-qdrant-{suffix}"
    scratch = Path(tempfile.mkdtemp(prefix="rae-qdrant-scratch-"))
    try:
        secrets_dir = scratch / "secrets"
        secrets_dir.mkdir(mode=0o700)
        secrets, api_key, read_only_key, client_cert = throwaway_store_secrets(secrets_dir, "localhost",
                                                                               client_certificates)
        port = _free_port()
        spec = replace(qdrant_spec(image, name, secrets, name=name, host_roots=(str(scratch),)),
                       ports=(Port(HTTP_PORT, port, "127.0.0.1"),))
        print(f"[qdrant] scratch store {name} from {image[:19]}", flush=True)
        run = subprocess.run(["docker", "run", "--detach", "--label", f"rae.purpose={purpose}",
                              *docker_run_args(spec)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"the scratch Qdrant did not start: {run.stderr.strip()!r} {_ERROR}")
        client = QdrantClient("localhost", port, api_key, Path(secrets.ca_cert), address="127.0.0.1",
                              client_cert=client_cert)
        _wait_answering(client)
        yield ScratchStore(name, client, api_key, Path(secrets.ca_cert), port, read_only_key, client_cert)
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "--force", name], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def drill_qdrant(repository: Repository, image: str) -> QdrantDrillResult:
    """Restore the newest Qdrant backup of `repository` into a scratch Qdrant of `image` and compare.

    RTO: from the scratch store's start to a verified restore; RPO: now minus the manifest's taken_at.
    + repository: the repository to prove (local or off-site)
    + image: the production Qdrant image (QdrantSource.image())
    """
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="rae-drill-qdrant-"))
    try:
        with scratch_store(image) as store:
            snapshot, manifest = latest_manifest(repository)
            restore_into(store.client, repository, manifest, work)
            problems = compare(manifest, store.client)
            result = QdrantDrillResult(repository.name, not problems, round(time.monotonic() - started, 3),
                                       round(_age_seconds(manifest.taken_at), 3), snapshot["id"], manifest.taken_at,
                                       len(manifest.collections),
                                       sum(figures.points for figures in manifest.collections.values()), problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"[drill] qdrant {repository.name}: {'matched' if result.matched else 'MISMATCH'}, "
          f"RTO {result.rto_seconds:.1f} s, RPO {result.rpo_seconds:.0f} s", flush=True)
    return result
