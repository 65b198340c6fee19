"""The API's errors: one body shape, one handler for the whole app.

Whatever goes wrong becomes an ApiError (`as_api_error`), and one function renders it. A blueprint
that answers in another dialect gives its own renderer with `Blueprint.error_renderer`; everything
else, routing failures included, gets `render_error`.
"""

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, Unpack

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .extensions import db

log = logging.getLogger(__name__)

# What a JSON error body's "errors" holds: field name -> problems for a validation error, or what
# else an error says about where it happened (an import's position, field and problem).
ErrorDetails = Mapping[str, Any]


def error_code(title: str) -> str:
    """The code of an HTTP error, spelled like its name: "Request Entity Too Large" -> "request_entity_too_large"."""
    return re.sub(r"\W+", "_", title.lower()).strip("_")


class ApiError(Exception):
    """An error with a status, a stable code and a short title; the message says what went wrong, for a person.

    The code names the error for the code that renders it (a dialect words its errors by code); the
    title and the message are what a person reads, and may be reworded. An error with a title of its
    own must name its code; without a title it is its class's error, with its class's code.
    """

    status = 500
    code = "internal_server_error"
    title = "Internal Server Error"

    def __init__(
        self,
        title: str | None = None,
        message: str | None = None,
        *,
        code: str | None = None,
        errors: ErrorDetails | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message or title or self.title)
        if title is not None and code is None:
            raise TypeError(f"{type(self).__name__}({title!r}) needs code=: renderers match errors by code")
        self.code = code or self.code
        self.title = title or self.title
        self.message = message or self.title
        self.errors = errors
        self.headers = headers


class ErrorOptions(TypedDict, total=False):
    """The keyword arguments of ApiError, for subclasses that pass them on."""

    code: str | None
    errors: ErrorDetails | None
    headers: Mapping[str, str] | None


class BadRequest(ApiError):
    code = "bad_request"
    status = 400
    title = "Bad Request"


class Unauthorized(ApiError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"

    def __init__(self, title: str | None = None, message: str | None = None, **kwargs: Unpack[ErrorOptions]) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="openregister", Basic realm="openregister"'})
        super().__init__(title, message, **kwargs)


class Forbidden(ApiError):
    code = "access_denied"
    status = 403
    title = "Access denied"


class NotFound(ApiError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(ApiError):
    code = "conflict"
    status = 409
    title = "Conflict"


class ConcurrentChange(Conflict):
    code = "concurrent_change"
    title = "Concurrent change"


class ContentTooLarge(ApiError):
    code = "content_too_large"
    status = 413
    title = "Request Entity Too Large"


class TooManyRequests(ApiError):
    code = "too_many_requests"
    status = 429
    title = "Too Many Requests"


class UnsupportedMediaType(ApiError):
    code = "unsupported_media_type"
    status = 415
    title = "Unsupported Media Type"


class ValidationFailed(BadRequest):
    code = "validation_failed"
    title = "Validation failed"


class ProviderError(ApiError):
    code = "provider_error"
    status = 502
    title = "Provider error"


class ProviderUnavailable(ApiError):
    code = "provider_unavailable"
    status = 503
    title = "Provider unavailable"


class ProviderTimeout(ApiError):
    code = "provider_timeout"
    status = 504
    title = "Provider timeout"


class HttpError(ApiError):
    """An HTTP error that Flask or Werkzeug raised (routing, 413, ...), with a code spelled like its name."""

    def __init__(self, error: HTTPException) -> None:
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        super().__init__(error.name, error.description or error.name, code=error_code(error.name), headers=headers)
        self.status = error.code or 500


def json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def error_response(
    status: int, title: str, message: str, errors: ErrorDetails | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"error": title, "message": message}
    if errors is not None:
        body["errors"] = errors
    return json_response(status, body, headers)


def validation_errors(messages: str | list[Any] | dict[Any, Any]) -> dict[str, Any]:
    """Field name -> list of problems, whatever nesting marshmallow or webargs produced."""
    if isinstance(messages, dict):
        # webargs wraps the messages in the location they came from ("json", "query")
        if len(messages) == 1 and next(iter(messages)) in ("json", "query", "querystring", "form", "files"):
            return validation_errors(next(iter(messages.values())))
        return {str(key): value if isinstance(value, (list, dict)) else [value] for key, value in messages.items()}
    return {"_schema": messages if isinstance(messages, list) else [messages]}


def describe(errors: Mapping[str, Any]) -> str:
    first_field, problems = next(iter(errors.items()))
    problem = problems[0] if isinstance(problems, list) and problems else problems
    if isinstance(problem, dict):
        problem = "invalid value"
    if first_field == "_schema":
        return str(problem)
    return f"{first_field}: {problem}"


def as_api_error(error: Exception) -> ApiError:
    """The ApiError that stands for whatever was raised; an unexpected error is logged here."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ValidationError):
        errors = validation_errors(error.messages)
        return ValidationFailed(message=describe(errors), errors=errors)
    if isinstance(error, HTTPException):
        return HttpError(error)
    if isinstance(error, (IntegrityError, StaleDataError)):
        # A constraint refused the write, or the row to update was gone, because another request changed
        # the same rows between this one's checks and its write (two feedbacks on one message, two share
        # links, two organisations of one name, a change racing a delete): the loser of the race gets a
        # 409, and nothing of it is written.
        log.warning("Write refused after a concurrent change: %s", error)
        return ConcurrentChange(
            message="Another request changed the same thing at the same time; nothing was written. Try again."
        )
    log.exception("Unhandled error")
    return ApiError(message="The server failed to complete the request.")


Renderer = Callable[[ApiError], Response]


def render_error(error: ApiError) -> Response:
    """The one error body: {"error": title, "message"[, "errors"]}."""
    return error_response(error.status, error.title, error.message, error.errors, error.headers)


def renderer() -> Renderer:
    """The error renderer of the innermost blueprint of the request that has one, else render_error."""
    for name in request.blueprints:
        render: Renderer | None = getattr(current_app.blueprints.get(name), "render_error", None)
        if render is not None:
            return render
    return render_error


def handle_error(error: Exception) -> Response:
    """Every error handler of the app: roll back whatever the request wrote, then render."""
    db.session.rollback()
    return renderer()(as_api_error(error))


def register_error_handlers(app: Flask) -> None:
    # Registered for each class, as flask-smorest registers its own HTTPException handler.
    for error_class in (ApiError, ValidationError, HTTPException, Exception):
        app.register_error_handler(error_class, handle_error)
