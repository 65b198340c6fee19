"""Server-Sent Events: how chat/send streams an answer (api-contract-beyond.md, section 1).

Once the 200 and its headers are sent, a failure can no longer be a status: it is an `error` event
with the status a plain request would have answered. While the provider thinks, the client's
connection gets a keep-alive comment every STREAM_KEEPALIVE seconds, and is checked twice a second:
a client that went away ends the stream, which closes the connection to the provider.
"""

import logging
import select
import socket
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any

from flask import Response, current_app, request, stream_with_context

from ..errors import ApiError

log = logging.getLogger(__name__)

STREAM_DESCRIPTION = (
    "The exchange (application/json); or, with `Accept: text/event-stream` or `\"stream\": true`, the answer "
    "as it is written (text/event-stream). Refusals before the question is stored are JSON errors either way."
)
# OpenAPI 3.0 has no words for a stream's events: the schema is that of one event (its name, and its data
# as a line of JSON, as tools that read event streams, schemathesis among them, check each one), and
# `x-events` names the schema of each event's data.
EVENT_STREAM_CONTENT = {
    "schema": {
        "type": "object",
        "description": "Server-Sent Events, each `event: NAME` and one `data:` line of JSON: `start` once "
        "(`{conversation, userMessage}`, when the question is stored), `delta` for each piece of the answer "
        "(`{content}`; joined, the stored answer), then `done` (the plain send's exchange, once the answer is "
        "stored) or `error` (`{error, message, status}`: 502, 503 or 504 as a plain send; the question stays, "
        "no answer is stored). `: keep-alive` comment lines while the provider is silent.",
        "required": ["event", "data"],
        "properties": {
            "event": {"type": "string", "enum": ["start", "delta", "done", "error"]},
            "data": {"type": "string", "description": "One line of JSON, of the schema `x-events` names for the event"},
        },
    },
    "x-events": {
        "start": {"$ref": "#/components/schemas/ChatStartEvent"},
        "delta": {"$ref": "#/components/schemas/ChatDeltaEvent"},
        "done": {"$ref": "#/components/schemas/ChatResponse"},
        "error": {"$ref": "#/components/schemas/ChatErrorEvent"},
    },
}

EVENT_STREAM = "text/event-stream"
KEEP_ALIVE = ": keep-alive\n\n"
CLIENT_CHECK_SECONDS = 0.5
COMPACT = (",", ":")


def wants_stream(body: Mapping[str, Any]) -> bool:
    """Whether the request asks for a stream: `Accept: text/event-stream` (named, not through a
    wildcard), or `"stream": true` in the body."""
    named = any(
        value.split(";")[0].strip().lower() == EVENT_STREAM and quality > 0
        for value, quality in request.accept_mimetypes
    )
    return bool(body.get("stream")) or named


def event(name: str, data: object) -> str:
    """One event: its name and its data as one line of JSON (JSON escapes the newlines of the text)."""
    return f"event: {name}\ndata: {current_app.json.dumps(data, separators=COMPACT)}\n\n"


def error_event(error: ApiError) -> str:
    return event("error", {"error": error.title, "message": error.message, "status": error.status})


def event_stream(events: Iterator[str]) -> Response:
    """The response that sends `events` as they come, in the request's context, uncached and unbuffered
    by proxies (nginx reads X-Accel-Buffering)."""
    response = Response(stream_with_context(events), content_type=EVENT_STREAM)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def idle_every(keep_alive: float) -> float:
    """How long the stream may wait on the provider before it looks at its client again."""
    return min(keep_alive, CLIENT_CHECK_SECONDS)


def kept_alive(
    pieces: Iterable[str | None], keep_alive: float, environ: Mapping[str, Any]
) -> Generator[str, None, bool]:
    """Each piece (None: still waiting), with a keep-alive comment whenever `keep_alive` seconds pass
    without a write. Returns True at the end of the pieces, False (early) when the client went away."""
    last_write = time.monotonic()
    for piece in pieces:
        if client_gone(environ):
            log.info("The client went away mid-stream; the provider's answer is dropped")
            return False
        if piece is not None:
            last_write = time.monotonic()
            yield piece
        elif time.monotonic() - last_write >= keep_alive:
            last_write = time.monotonic()
            yield KEEP_ALIVE
    return True


def client_gone(environ: Mapping[str, Any]) -> bool:
    """Whether the client closed its connection, when the server tells us its socket (gunicorn and
    Werkzeug's do). Writing would tell too, but only on the second write after the client left; this
    peeks without reading: a closed connection reads as end of file, while a request the client sends
    next (pipelined) stays for the server."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        events = poller.poll(0)
        if not events:
            return False
        if events[0][1] & (select.POLLERR | select.POLLHUP):
            return True
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except ValueError:  # a TLS socket, which does not peek: the writes will tell
        return False
    except OSError:  # reset
        return True
