"""What sits between the WSGI server and the views: trusted proxies, request ids, logs, CORS."""

import json
import logging
import re
import uuid

from flask import g, has_request_context, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix


class PrettyUrls:
    """Nextcloud with pretty URLs serves /apps/... as /index.php/apps/...; OpenRegister's front end
    calls either, depending on how its page was served, so both reach the same routes. The mount
    point itself (/openregister when mounted there, with an empty PATH_INFO) is the index, not a redirect."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path:
            environ["PATH_INFO"] = "/"
        elif path.startswith("/apps/openregister/"):
            environ["PATH_INFO"] = "/index.php" + path
        return self.wsgi_app(environ, start_response)


def register_wsgi_middleware(app) -> None:
    """Serve the pretty URLs, and trust X-Forwarded-* only from as many proxies as configured,
    so that clients cannot spoof them."""
    config = app.config
    hops = {name: config[f"PROXY_FIX_X_{name.upper()}"] for name in ("for", "proto", "host", "prefix")}
    app.wsgi_app = PrettyUrls(app.wsgi_app)
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"],
                                x_prefix=hops["prefix"])


REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def assign_request_id() -> None:
    """Keep the caller's X-Request-Id when it is sane, else make one; logs and the response carry it."""
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex


def echo_request_id(response):
    response.headers["X-Request-Id"] = g.get("request_id") or uuid.uuid4().hex
    return response


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line; messages never include credentials, which no code here logs."""

    def format(self, record):
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


def register_logging(app) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("openregister")
    if not any(isinstance(existing.formatter, JsonFormatter) for existing in logger.handlers):
        logger.addHandler(handler)
    logger.setLevel(app.config["LOG_LEVEL"])
    logger.propagate = False


def register_request_hooks(app) -> None:
    app.before_request(assign_request_id)
    app.after_request(echo_request_id)
    origins = [origin.strip() for origin in app.config["CORS_ORIGINS"].split(",") if origin.strip()]
    if origins:
        CORS(
            app,
            origins=origins,
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            expose_headers=["Location", "Retry-After", "X-Request-Id", "WWW-Authenticate"],
            max_age=600,
        )
