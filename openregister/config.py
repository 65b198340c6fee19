"""Configuration defaults and the start-up check of what the environment supplied."""

import json
import os
import re
import secrets
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.engine import make_url

API_PREFIX = "/index.php/apps/openregister/api"


def migrations_directory() -> str:
    """The Alembic scripts: beside the code once installed from a wheel or sdist (setup.py puts the
    top-level migrations/ there), else the checkout's migrations/ (editable install, wsgi.py)."""
    package = Path(__file__).resolve().parent
    installed = package / "migrations"
    return str(installed if (installed / "env.py").is_file() else package.parent / "migrations")


MIGRATIONS_DIRECTORY = migrations_directory()
VERSION = "0.1.0"


class DefaultConfig:
    # Settings read from OPENREGISTER_<NAME>; see the configuration table in README.md.
    DATABASE_URL = None
    JWT_SECRET = None
    JWT_ALGORITHMS = ["HS256"]
    JWT_PUBLIC_KEY = None
    JWKS_URL = None
    JWT_ISSUER = None
    JWT_AUDIENCE = None
    JWT_LEEWAY = 30
    ACCESS_TOKEN_TTL = 3600
    REFRESH_TOKEN_TTL = 14 * 24 * 3600
    DEFAULT_PAGE_SIZE = 50
    MAX_PAGE_SIZE = 100
    CONVERSATION_MESSAGES_LIMIT = 100
    MAX_CONTENT_LENGTH = 1024 * 1024
    # The import route's own limit on its body (bytes), in place of MAX_CONTENT_LENGTH.
    MAX_IMPORT_SIZE = 100 * 1000 * 1000
    LLM_PROVIDER = "offline"
    LLM_BASE_URL = None
    LLM_API_KEY = None
    LLM_MODEL = None
    LLM_TIMEOUT = 60
    # Comma-separated base URLs that an agent's configuration.baseUrl may name.
    LLM_ALLOWED_BASE_URLS = ""
    # Seconds between the keep-alive comments of a streamed answer while the provider is silent.
    STREAM_KEEPALIVE = 15
    SQLITE_BUSY_TIMEOUT_MS = 15000
    # Documents (RAG): the largest upload, and the embedding server ("none" or "openai": any
    # OpenAI-compatible /embeddings endpoint, such as Ollama's http://localhost:11434/v1).
    MAX_DOCUMENT_SIZE = 20 * 1024 * 1024
    EMBEDDING_PROVIDER = "none"
    EMBEDDING_BASE_URL = None
    EMBEDDING_MODEL = None
    EMBEDDING_API_KEY = None
    EMBEDDING_TIMEOUT = 30
    # Database connections each process keeps open, and the most it opens at once. A request holds
    # one only for its short transactions (never while waiting on an LLM), so a few serve many threads;
    # the most stays well below what PostgreSQL admits (100 by default) for all workers together.
    DATABASE_POOL_SIZE = 5
    DATABASE_MAX_CONNECTIONS = 10
    # Password sign-ins: failures per (user name, address) pair, per address, and per user name
    # (see services/login_throttle.py); windows and lock-outs in seconds.
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = 15 * 60
    LOGIN_LOCKOUT = 15 * 60
    LOGIN_ADDRESS_MAX_FAILURES = 50
    LOGIN_ADDRESS_FAILURE_WINDOW = 15 * 60
    LOGIN_ADDRESS_LOCKOUT = 15 * 60
    LOGIN_NAME_MAX_FAILURES = 100
    LOGIN_NAME_FAILURE_WINDOW = 60 * 60
    LOGIN_NAME_LOCKOUT = 60
    # Number of trusted proxies in front of the app that set each X-Forwarded-* header (0: trust none).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PREFIX = 0
    # Comma-separated origins of browser UIs served elsewhere, e.g. "https://ui.example.org".
    CORS_ORIGINS = ""
    LOG_LEVEL = "INFO"
    # IANA time zone of the dates in NISIRA's default conversation titles, e.g. "America/Lima".
    TIMEZONE = "UTC"
    # Further dialects served next to OpenRegister's API, comma-separated: packages with a
    # register(app, api) function. NISIRA Assistant's API under /api/ is the one there is.
    DIALECTS = "openregister.nisira"

    # Flask and extensions
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    API_TITLE = "OpenRegister conversations API"
    API_VERSION = VERSION
    OPENAPI_VERSION = "3.0.3"
    API_SPEC_OPTIONS = {
        "info": {
            "description": "OpenRegister's AI conversations API, without Nextcloud. Authenticate with a Bearer "
            "token (POST /auth/token) or with Basic credentials (password or app password)."
        },
        # The served document names the path the app is mounted under instead (api/docs.py).
        "servers": [{"url": "/"}],
    }
    # No smorest docs blueprint: api/docs.py serves the document and the docs page, with the mount point.
    OPENAPI_URL_PREFIX = None


INTEGER_SETTINGS = (
    "JWT_LEEWAY",
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "CONVERSATION_MESSAGES_LIMIT",
    "MAX_CONTENT_LENGTH",
    "MAX_IMPORT_SIZE",
    "MAX_DOCUMENT_SIZE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_CONNECTIONS",
    "LOGIN_MAX_FAILURES",
    "LOGIN_FAILURE_WINDOW",
    "LOGIN_LOCKOUT",
    "LOGIN_ADDRESS_MAX_FAILURES",
    "LOGIN_ADDRESS_FAILURE_WINDOW",
    "LOGIN_ADDRESS_LOCKOUT",
    "LOGIN_NAME_MAX_FAILURES",
    "LOGIN_NAME_FAILURE_WINDOW",
    "LOGIN_NAME_LOCKOUT",
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "PROXY_FIX_X_PREFIX",
)
ALLOWED_JWT_ALGORITHMS = {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}


def database_uri(config: Mapping[str, Any], instance_path: str) -> str:
    """The SQLAlchemy URL: configured, else DATABASE_URL, else a SQLite file in the instance folder."""
    url: str | None = config.get("SQLALCHEMY_DATABASE_URI") or config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "openregister.sqlite")
    # psycopg 3 is the driver we ship; plain postgres URLs would ask SQLAlchemy for psycopg2.
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


# Nineteen digits in a row: the text may hold an integer past 64 bits, which orjson reads as a float.
LONG_INTEGER = re.compile(r"[0-9]{19}")


def read_json_column(text: str | bytes) -> Any:
    """What json.loads gives, several times faster: orjson, except for a document that may hold an
    integer past 64 bits. (The other differences, NaN, infinities and lone surrogates, cannot be
    stored: http.StrictJSONProvider refuses them.) A page of 50 conversations reads 50 metadata objects."""
    if LONG_INTEGER.search(text if isinstance(text, str) else text.decode()):
        return json.loads(text)
    return orjson.loads(text)


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy's engine options: pre-ping on a database server, the pool sized by DATABASE_POOL_SIZE and
    DATABASE_MAX_CONNECTIONS.

    In-memory SQLite has one connection and no pool to size.
    """
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    options.setdefault("json_deserializer", read_json_column)
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    # A pooled connection to a server may have been closed by it (a restart, an idle timeout): test each
    # one as it leaves the pool. A SQLite connection is a file this process holds open: nothing closes it.
    options.setdefault("pool_pre_ping", url.get_backend_name() != "sqlite")
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return options
    most = config["DATABASE_MAX_CONNECTIONS"]
    kept = min(config["DATABASE_POOL_SIZE"], most)
    options.setdefault("pool_size", kept)
    options.setdefault("max_overflow", most - kept)
    return options


def jwt_secret(instance_path: str) -> str:
    """The HS256 secret kept in the instance folder, created on first use by whichever process comes first."""
    path = Path(instance_path) / "jwt-secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def comma_separated(value: str | Iterable[str] | None) -> list[str]:
    """A list setting, given as a list or as a comma-separated string (as the environment gives it)."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return list(value or [])


def check_config(config: MutableMapping[str, Any]) -> None:
    """Fail at start-up on values the environment supplied in the wrong shape."""
    for name in INTEGER_SETTINGS:
        value: Any = config.get(name)  # whatever the environment supplied: int() decides
        try:
            config[name] = int(value)
        except (TypeError, ValueError):
            raise RuntimeError(f"OPENREGISTER_{name} must be an integer, not {value!r}") from None
        if config[name] < 0:
            raise RuntimeError(f"OPENREGISTER_{name} must not be negative")
    try:
        config["LLM_TIMEOUT"] = float(config["LLM_TIMEOUT"])
    except (TypeError, ValueError):
        raise RuntimeError("OPENREGISTER_LLM_TIMEOUT must be a number of seconds") from None
    try:
        config["EMBEDDING_TIMEOUT"] = float(config["EMBEDDING_TIMEOUT"])
    except (TypeError, ValueError):
        raise RuntimeError("OPENREGISTER_EMBEDDING_TIMEOUT must be a number of seconds") from None
    if str(config["EMBEDDING_PROVIDER"] or "none").strip().lower() not in ("none", "openai"):
        raise RuntimeError(f"OPENREGISTER_EMBEDDING_PROVIDER must be none or openai, not {config['EMBEDDING_PROVIDER']!r}")
    try:
        config["STREAM_KEEPALIVE"] = float(config["STREAM_KEEPALIVE"])
    except (TypeError, ValueError):
        raise RuntimeError("OPENREGISTER_STREAM_KEEPALIVE must be a number of seconds") from None
    if config["STREAM_KEEPALIVE"] <= 0:
        raise RuntimeError("OPENREGISTER_STREAM_KEEPALIVE must be more than 0 seconds")
    algorithms = comma_separated(config["JWT_ALGORITHMS"])
    unknown = set(algorithms) - ALLOWED_JWT_ALGORITHMS
    if not algorithms or unknown:
        raise RuntimeError(f"OPENREGISTER_JWT_ALGORITHMS has unsupported values: {sorted(unknown) or 'none given'}")
    config["JWT_ALGORITHMS"] = list(algorithms)
    config["DIALECTS"] = comma_separated(config["DIALECTS"])
    for name in ("DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE"):
        if config[name] < 1:
            raise RuntimeError(f"OPENREGISTER_{name} must be at least 1")
    if config["DATABASE_MAX_CONNECTIONS"] < 1:
        raise RuntimeError("OPENREGISTER_DATABASE_MAX_CONNECTIONS must be at least 1")
    try:
        ZoneInfo(config["TIMEZONE"])
    except (LookupError, ValueError, TypeError):
        raise RuntimeError(f"OPENREGISTER_TIMEZONE must be an IANA time zone such as Europe/Amsterdam, "
                           f"not {config['TIMEZONE']!r}") from None
