"""What sits between the WSGI server and the views: trusted proxies, request ids, logs, CORS."""

import base64
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import lru_cache
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import orjson
from flask import Flask, Request as FlaskRequest, Response, current_app, g, has_request_context, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from gunicorn.glogging import Logger as GunicornLogger
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import BadRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from werkzeug.sansio.response import Response as SansIOResponse

MAX_JSON_DEPTH = 64
MAX_JSON_NUMBER_LENGTH = 100
SURROGATE = re.compile("[\ud800-\udfff]")
# PostgreSQL's text and JSONB cannot hold U+0000: refused here rather than failing in the database.
NUL = "\x00"


def _refuse(problem: str) -> NoReturn:
    raise BadRequest("Malformed JSON", f"The request body is not acceptable JSON: {problem}.", code="malformed_json")


def _parse_int(text: str) -> int:
    if len(text) > MAX_JSON_NUMBER_LENGTH:
        _refuse(f"the number {text[:20]}... has more than {MAX_JSON_NUMBER_LENGTH} digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_JSON_NUMBER_LENGTH:
        _refuse(f"the number {text[:20]}... is too long")
    value = float(text)
    if not math.isfinite(value):
        _refuse(f"the number {text} is out of range")
    return value


def _parse_constant(name: str) -> NoReturn:
    _refuse(f"{name} is not a JSON number")


def _check_structure(value: object) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings (keys too) with lone surrogates or NUL."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                _refuse(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if SURROGATE.search(key):
                        _refuse("a key contains a lone surrogate (\\ud800-\\udfff), which is not text")
                    if NUL in key:
                        _refuse("a key contains the NUL character (\\u0000), which text cannot hold")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and SURROGATE.search(item):
            _refuse("a string contains a lone surrogate (\\ud800-\\udfff), which is not text")
        elif isinstance(item, str) and NUL in item:
            _refuse("a string contains the NUL character (\\u0000), which text cannot hold")


# As Flask's json.dumps writes them: a newline at the end; dates and dataclasses through the provider's default.
ORJSON_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class StrictJSONProvider(DefaultJSONProvider):
    """Every JSON body, in both dialects, is read here: it refuses, with a 400 that names the problem,
    what Python's json would accept but nothing after it can store or serve: NaN and Infinity, numbers
    of more than MAX_JSON_NUMBER_LENGTH digits, nesting past MAX_JSON_DEPTH levels, lone surrogates and NUL."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant,
                               **kwargs)
        except RecursionError:
            _refuse(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, int()'s digit limit
            raise BadRequest(
                "Malformed JSON", f"The request body is not valid JSON: {error}.", code="malformed_json"
            ) from None
        _check_structure(value)
        return value

    def response(self, *args: Any, **kwargs: Any) -> "SansIOResponse":
        """jsonify's answer, written by orjson, ten times faster than json.dumps (a third of a small answer's
        time): the same bytes, but for a float below 1e-4, which orjson writes 0.00001 or 1.5e-7 where json
        writes 1e-05 or 1.5e-07 (the same number). What orjson cannot write as json would (while
        ensure_ascii is set, non-ASCII text and DEL; an integer past 64 bits, a lone surrogate, a key that
        is not a string), and indented answers, are written by json."""
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(obj)
        options = ORJSON_OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else ORJSON_OPTIONS
        try:
            body = orjson.dumps(obj, default=self.default, option=options)
        except TypeError:  # orjson.JSONEncodeError is one
            return super().response(obj)
        # json's ensure_ascii also escapes DEL (\x7f), the one ASCII character orjson writes as it is.
        if self.ensure_ascii and (not body.isascii() or b"\x7f" in body):
            return super().response(obj)
        # Flask types the provider's app as the sans-IO one, whose response class takes no body.
        response: SansIOResponse = self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]
        return response


class Parameters(ImmutableMultiDict[str, str]):
    """Query and form parameters whose `get` of a missing name answers the default without raising:
    werkzeug's raises a BadRequestKeyError and catches it, and the argument parsing asks for every
    field of a schema (eight for a page of messages, most of them not sent)."""

    # One signature for werkzeug's overloads of get.
    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        if key not in self:
            return default
        return super().get(key, default, type)


class Request(FlaskRequest):
    parameter_storage_class = Parameters


class App(Flask):
    """Flask, which asks `inspect` whether a function is a coroutine function each time it calls a view,
    a hook or a handler (ten times a request, a tenth of a small request's time in the framework):
    here the answer is kept for each function, as it never changes. Its requests' parameters are Parameters."""

    request_class = Request

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if _is_coroutine_function(getattr(func, "__func__", func)):  # a bound method: its function
            return self.async_to_sync(func)
        return func


@lru_cache(maxsize=4096)
def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    return iscoroutinefunction(func)


class PrettyUrls:
    """Nextcloud with pretty URLs serves /apps/... as /index.php/apps/...; OpenRegister's front end
    calls either, depending on how its page was served, so both reach the same routes. The mount
    point itself (/openregister when mounted there, with an empty PATH_INFO) is the index, not a redirect."""

    def __init__(self, wsgi_app: "WSGIApplication") -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path:
            environ["PATH_INFO"] = "/"
        elif path.startswith("/apps/openregister/"):
            environ["PATH_INFO"] = "/index.php" + path
        return self.wsgi_app(environ, start_response)


def register_wsgi_middleware(app: Flask) -> None:
    """Serve the pretty URLs, and trust X-Forwarded-* only from as many proxies as configured,
    so that clients cannot spoof them."""
    config = app.config
    hops = {name: config[f"PROXY_FIX_X_{name.upper()}"] for name in ("for", "proto", "host", "prefix")}
    # Wrapping the method wsgi_app is how Flask's docs add middleware; its typing does not foresee it.
    app.wsgi_app = PrettyUrls(app.wsgi_app)  # type: ignore[method-assign]
    if any(hops.values()):
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"], x_prefix=hops["prefix"]
        )


REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    """32 random hex digits, as uuid4().hex but for its version digits, at a third of the cost."""
    return os.urandom(16).hex()


def assign_request_id() -> None:
    """Keep the caller's X-Request-Id when it is sane, else make one; logs and the response carry it."""
    # From the environ: request.headers raises, and catches, an HTTP exception for a header not sent.
    incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else new_request_id()


def refuse_nul_in_query() -> None:
    """A query parameter with U+0000: 400 here, before PostgreSQL's text refuses it as a fault. (A path
    segment with it names no row: find_by_ref answers None, and the route its own 404.)"""
    query = request.query_string
    if b"%00" not in query and b"\x00" not in query:  # the only ways a NUL comes in: most queries are let by here
        return
    if any(NUL in key or NUL in value for key, value in request.args.items(multi=True)):
        raise BadRequest(
            "Malformed URL", "The query contains the NUL character (%00), which no name or value can hold.",
            code="malformed_url",
        )


def echo_request_id(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id") or new_request_id()
    return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line; messages never include credentials, which no code here logs."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "requestId": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def register_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("openregister")
    if not any(isinstance(existing.formatter, JsonFormatter) for existing in logger.handlers):
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False


View = TypeVar("View", bound=Callable[..., Any])


def no_store(view: View) -> View:
    """Mark a view (a function or a MethodView) whose answers carry a token or a secret: no cache may keep them."""
    setattr(view, "no_store", True)
    return view


def answers_no_store() -> bool:
    if request.endpoint is None:  # routing failed: no view
        return False
    return _is_no_store(current_app.view_functions.get(request.endpoint))


@lru_cache(maxsize=1024)
def _is_no_store(view: Callable[..., Any] | None) -> bool:
    return bool(getattr(getattr(view, "view_class", view), "no_store", False))


DOCS_PAGE_ENDPOINT = "docs.page"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_page_policy(page: bytes) -> str:
    """The docs page's Content-Security-Policy: everything from this server only. Its one inline script
    (Swagger UI's start-up) is allowed by its hash; Swagger UI sets inline styles, so styles may be inline."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in INLINE_SCRIPT.findall(page)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        "font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if answers_no_store():
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if request.endpoint == DOCS_PAGE_ENDPOINT:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = docs_page_policy(response.get_data())
    return response


def register_request_hooks(app: Flask) -> None:
    app.before_request(assign_request_id)
    app.before_request(refuse_nul_in_query)
    app.after_request(echo_request_id)
    app.after_request(security_headers)
    origins = [origin.strip() for origin in app.config["CORS_ORIGINS"].split(",") if origin.strip()]
    if origins:
        CORS(
            app,
            origins=origins,
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=["Location", "Retry-After", "X-Request-Id", "WWW-Authenticate"],
            max_age=600,
        )


# Query parameter names that may carry a credential (matched anywhere in the name, any case).
CREDENTIAL_PARAMETER = re.compile(
    r"token|secret|passw|pwd|api.?key|auth|session|signature|^sig$|jwt|credential|^code$|^key$|refresh", re.IGNORECASE
)
QUERY_PAIR = re.compile(r"([^&;=\s]*)(=?)([^&;\s]*)")


def redact_query(query: str) -> str:
    """The query string with the value of every parameter whose name looks like a credential replaced."""
    from urllib.parse import unquote_plus

    def replace(match: re.Match[str]) -> str:
        name, equals, value = match.groups()
        if value and CREDENTIAL_PARAMETER.search(unquote_plus(name)):
            return f"{name}{equals}[redacted]"
        return match.group(0)

    return QUERY_PAIR.sub(replace, query)


def redact_uri(uri: str) -> str:
    path, separator, query = uri.partition("?")
    return path + separator + redact_query(query) if separator else uri


class RedactingAccessLogger(GunicornLogger):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's logger, whose access log never shows a query parameter that looks like a credential
    (in the request line, the query string, the referrer or the environ atoms)."""

    def atoms(self, resp: Any, req: Any, environ: "WSGIEnvironment", request_time: timedelta) -> dict[str, Any]:
        # resp and req are gunicorn's own response and request objects (untyped).
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_uri(atoms["r"])
        atoms["q"] = redact_query(atoms["q"] or "")
        atoms["f"] = redact_uri(atoms["f"])
        for name in ("{raw_uri}e", "{query_string}e", "{http_referer}e", "{referer}i"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact_uri(atoms[name]) if "uri" in name or "refer" in name else redact_query(atoms[name])
        return atoms
