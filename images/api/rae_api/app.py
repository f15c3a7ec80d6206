"""The reference API: store and recall a tenant's memories, and a health endpoint.

- Every tenant route needs `Authorization: Bearer <token>`: a JWT signed with the stack's Ed25519 key (EdDSA only:
  the API holds the public key and cannot mint one), for this audience, naming the path's tenant in `sub`, with
  `iat` and `exp` at most RAE_API_BEARER_MAX_LIFETIME_S apart. No or a bad token: 401; another tenant: 403.

- Postgres only through the SECURITY DEFINER functions (memory_store, memory_recall), which enforce the tenant and
  append the audit row; TLS 1.3 verified by the server's name (sslmode=verify-full) against its own CA file
  (RAE_PG_CA_FILE: the stack's CA on docker, Cloud SQL's server CA on gcp), scram, and the client certificate of the
  application role when one is mounted.
- Qdrant through its TLS 1.3 front, its certificate verified by name, with a short-lived JWT per request that
  names the tenant's one collection (Qdrant's jwt_rbac); the API key itself signs tokens and creates a
  tenant's collection once, nothing else.
- Served by uvicorn over TLS 1.3 only, requiring a client certificate signed by the stack's CA (the TLS proxy's).
- Logs through structlog with the masking processor (masking.py): no memory content, no e-mail address.

Every setting arrives as an environment variable naming a file or an address (components/api_runtime.py states them).
"""

import http.client
import json
import logging
import os
import ssl
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
import psycopg
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Route

from rae_api.embedding import DIMENSIONS, embed
from rae_api.masking import mask_personal_data

TENANT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
TOKEN_LIFETIME_S = 60
CLOCK_SKEW_S = 60  # a tenant token's iat may lie this far ahead of the API's clock


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"rae-api: {name} is not set (components/api_runtime.py api_spec sets it)")
    return value


def _read(name: str) -> str:
    with open(_env(name), encoding="utf-8") as handle:
        return handle.readline().strip()


def configure_logging() -> None:
    """structlog and the standard library (uvicorn's own loggers) both end in the masking processor, as JSON lines."""
    shared = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
              structlog.processors.TimeStamper(fmt="iso", utc=True)]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(), wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, mask_personal_data,
                    structlog.processors.JSONRenderer()]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


log = structlog.get_logger("rae_api")


class Settings:
    def __init__(self):
        self.ca_file = _env("RAE_CA_FILE")
        self.max_body_bytes = int(_env("RAE_API_MAX_BODY_BYTES"))
        self.pg = {"host": _env("RAE_PG_HOST"), "port": int(_env("RAE_PG_PORT")), "dbname": _env("RAE_PG_DATABASE"),
                   "user": _env("RAE_PG_USER"), "password": _read("RAE_PG_PASSWORD_FILE"), "sslmode": "verify-full",
                   "sslrootcert": _env("RAE_PG_CA_FILE"), "ssl_min_protocol_version": "TLSv1.3", "connect_timeout": 5,
                   "application_name": "rae-api"}
        if os.environ.get("RAE_PG_CLIENT_CERT_FILE"):
            self.pg |= {"sslcert": _env("RAE_PG_CLIENT_CERT_FILE"), "sslkey": _env("RAE_PG_CLIENT_KEY_FILE")}
        self.qdrant_host = _env("RAE_QDRANT_HOST")
        self.qdrant_port = int(_env("RAE_QDRANT_PORT"))
        self.qdrant_key = _read("RAE_QDRANT_API_KEY_FILE")
        self.qdrant_tls = ssl.create_default_context(cafile=self.ca_file)
        self.qdrant_tls.minimum_version = ssl.TLSVersion.TLSv1_3
        # Qdrant's front requires a client certificate of the stack's CA (CN rae-api): without one it refuses.
        self.qdrant_tls.load_cert_chain(_env("RAE_QDRANT_CLIENT_CERT_FILE"), _env("RAE_QDRANT_CLIENT_KEY_FILE"))
        with open(_env("RAE_API_BEARER_PUBLIC_KEY_FILE"), "rb") as handle:
            self.tenant_key = _ed25519_public_key(handle.read())
        self.tenant_audience = _env("RAE_API_BEARER_AUDIENCE")
        self.tenant_token_max_lifetime_s = int(_env("RAE_API_BEARER_MAX_LIFETIME_S"))


def _ed25519_public_key(pem: bytes):
    """The Ed25519 public key of a PEM file; anything else stops the API at start."""
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        sys.exit("rae-api: the tenant-token public key is not an Ed25519 key")
    return key


settings: Settings | None = None


class Refused(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _tenant(request: Request) -> str:
    """The path's tenant, once the caller's bearer token proves it acts for that tenant."""
    tenant = request.path_params["tenant"]
    if not (0 < len(tenant) <= 63 and tenant[0].isalnum() and all(c in TENANT_CHARS for c in tenant)):
        raise Refused(400, "not a tenant id")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "a bearer token is required")
    try:
        claims = jwt.decode(token.strip(), settings.tenant_key, algorithms=["EdDSA"], audience=settings.tenant_audience,
                            options={"require": ["exp", "iat", "sub", "aud"]})
    except jwt.PyJWTError as error:
        raise Refused(401, f"token refused: {type(error).__name__}") from None
    lifetime = claims["exp"] - claims["iat"]
    if not isinstance(lifetime, int) or lifetime > settings.tenant_token_max_lifetime_s:
        raise Refused(401, f"token refused: it lives longer than {settings.tenant_token_max_lifetime_s} s")
    if claims["iat"] > time.time() + CLOCK_SKEW_S:
        raise Refused(401, "token refused: issued in the future")
    if claims["sub"] != tenant:
        raise Refused(403, "the token is for another tenant")
    return tenant


def _collection(tenant: str) -> str:
    return f"memories-{tenant}"


def _qdrant(method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPSConnection(settings.qdrant_host, settings.qdrant_port,
                                             context=settings.qdrant_tls, timeout=10)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def _token(tenant: str | None, access: str) -> str:
    """A JWT for one tenant's collection (or, with tenant None, the management token that creates collections)."""
    claims = {"exp": int(time.time()) + TOKEN_LIFETIME_S, "access": access}
    if tenant is not None:
        claims |= {"sub": tenant, "access": [{"collection": _collection(tenant), "access": access}]}
    return jwt.encode(claims, settings.qdrant_key, algorithm="HS256")


def _ensure_collection(tenant: str) -> None:
    status, _ = _qdrant("GET", f"/collections/{_collection(tenant)}", _token(tenant, "r"))
    if status == 200:
        return
    status, answer = _qdrant("PUT", f"/collections/{_collection(tenant)}", _token(None, "m"),
                             {"vectors": {"size": DIMENSIONS, "distance": "Cosine"}})
    if status not in (200, 409):
        raise Refused(502, f"qdrant refused the collection ({status})")
    log.info("collection.created", tenant=tenant, collection=_collection(tenant))


def _connect():
    return psycopg.connect(**settings.pg)


async def _json_body(request: Request) -> dict:
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > settings.max_body_bytes:
            raise Refused(413, "request body too large")
    try:
        body = json.loads(received)
    except ValueError:
        raise Refused(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "body is not a JSON object")
    return body


async def store(request: Request) -> JSONResponse:
    tenant = _tenant(request)
    content = (await _json_body(request)).get("content")
    if not isinstance(content, str) or not content.strip():
        raise Refused(400, "content must be a non-empty string")
    with _connect() as connection:
        memory_id = connection.execute("SELECT memory_store(%s, %s)", (tenant, content)).fetchone()[0]
        _ensure_collection(tenant)
        status, _ = _qdrant("PUT", f"/collections/{_collection(tenant)}/points?wait=true", _token(tenant, "rw"),
                            {"points": [{"id": memory_id, "vector": embed(content)}]})
        if status != 200:
            raise Refused(502, f"qdrant refused the point ({status})")
    log.info("memory.stored", tenant=tenant, memory_id=memory_id)
    return JSONResponse({"id": memory_id}, status_code=201)


async def recall(request: Request) -> JSONResponse:
    tenant = _tenant(request)
    query = request.query_params.get("query")
    ids = None
    if query:
        status, answer = _qdrant("POST", f"/collections/{_collection(tenant)}/points/search", _token(tenant, "r"),
                                 {"vector": embed(query), "limit": 10})
        if status == 404:
            ids = []
        elif status != 200:
            raise Refused(502, f"qdrant refused the search ({status})")
        else:
            ids = [hit["id"] for hit in answer["result"]]
    with _connect() as connection:
        rows = connection.execute("SELECT memory_id, content, created_at FROM memory_recall(%s, %s::bigint[])",
                                  (tenant, ids)).fetchall()
    log.info("memory.recalled", tenant=tenant, memory_ids=[row[0] for row in rows])
    return JSONResponse({"memories": [{"id": row[0], "content": row[1], "created_at": row[2].isoformat()}
                                      for row in rows]})


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def refused(_request: Request, error: Refused) -> JSONResponse:
    log.info("request.refused", reason=error.reason, status=error.status)
    headers = {"WWW-Authenticate": 'Bearer realm="rae-api"'} if error.status == 401 else None
    return JSONResponse({"error": error.reason}, status_code=error.status, headers=headers)


async def database_refused(_request: Request, error: psycopg.Error) -> JSONResponse:
    """The functions refuse a bad or foreign tenant with 42501/22023; the text (it may quote input) is not returned."""
    status = 403 if error.sqlstate in ("42501", "22023") else 503
    log.warning("request.database_error", reason=error.sqlstate, status=status)
    return JSONResponse({"error": "refused by the database"}, status_code=status)


class Logged:
    """ASGI middleware: one masked line per request with the route template, never the path's query string."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.monotonic(), {}

        async def remember(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, remember)
        finally:
            route = next((r.path for r in routes if r.matches(scope)[0] != Match.NONE), "unmatched")
            log.info("request", method=scope["method"], route=route, status=status.get("code", 500),
                     duration_ms=round((time.monotonic() - started) * 1000, 1))


routes = [Route("/health", health, methods=["GET"]),
          Route("/tenants/{tenant}/memories", store, methods=["POST"]),
          Route("/tenants/{tenant}/memories", recall, methods=["GET"])]
app = Logged(Starlette(routes=routes, exception_handlers={Refused: refused, psycopg.Error: database_refused}))


def main() -> None:
    global settings
    configure_logging()
    settings = Settings()
    config = uvicorn.Config(
        app, host="0.0.0.0", port=int(_env("RAE_API_PORT")), log_config=None, access_log=False,
        ssl_certfile=_env("RAE_API_TLS_CERT_FILE"), ssl_keyfile=_env("RAE_API_TLS_KEY_FILE"),
        ssl_ca_certs=settings.ca_file, ssl_cert_reqs=ssl.CERT_REQUIRED,
        timeout_keep_alive=int(_env("RAE_API_KEEPALIVE_S")), limit_concurrency=int(_env("RAE_API_MAX_CONCURRENCY")),
        # Only a client with a certificate of the stack's CA connects: the TLS proxy, which sets X-Forwarded-For itself.
        proxy_headers=True, forwarded_allow_ips="*", server_header=False)
    config.load()
    # uvicorn has no option for the minimum version; its SSLContext is set before the first connection.
    config.ssl.minimum_version = ssl.TLSVersion.TLSv1_3
    log.info("api.starting", port=config.port)
    uvicorn.Server(config).run()
