"""The API's errors: one body shape, one set of handlers for the whole app."""

import logging
import re

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)


def error_code(title: str) -> str:
    """A code spelled like the title: "Invalid token" -> "invalid_token"."""
    return re.sub(r"\W+", "_", title.lower()).strip("_")


class ApiError(Exception):
    """An error with a status, a stable code and a short title; the message says what went wrong, for a person.

    The code names the error for the code that renders it (NISIRA words its errors by code); the
    title and the message are what a person reads, and may be reworded. An error raised without a
    code gets one spelled like its title.
    """

    status = 500
    code = "internal_server_error"
    title = "Internal Server Error"

    def __init__(self, title=None, message=None, *, code=None, errors=None, headers=None):
        super().__init__(message or title or self.title)
        self.code = code or (error_code(title) if title else self.code)
        self.title = title or self.title
        self.message = message or self.title
        self.errors = errors
        self.headers = headers


class BadRequest(ApiError):
    code = "bad_request"
    status = 400
    title = "Bad Request"


class Unauthorized(ApiError):
    code = "unauthorized"
    status = 401
    title = "Unauthorized"

    def __init__(self, title=None, message=None, **kwargs):
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


def error_response(status, title, message, errors=None, headers=None):
    body = {"error": title, "message": message}
    if errors is not None:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


def validation_errors(messages):
    """Field name -> list of problems, whatever nesting marshmallow or webargs produced."""
    if isinstance(messages, dict):
        # webargs wraps the messages in the location they came from ("json", "query")
        if len(messages) == 1 and next(iter(messages)) in ("json", "query", "querystring", "form", "files"):
            return validation_errors(next(iter(messages.values())))
        return {str(key): value if isinstance(value, (list, dict)) else [value] for key, value in messages.items()}
    return {"_schema": messages if isinstance(messages, list) else [messages]}


def describe(errors):
    first_field, problems = next(iter(errors.items()))
    problem = problems[0] if isinstance(problems, list) and problems else problems
    if isinstance(problem, dict):
        problem = "invalid value"
    if first_field == "_schema":
        return str(problem)
    return f"{first_field}: {problem}"


def handle_api_error(error: ApiError):
    db.session.rollback()
    return error_response(error.status, error.title, error.message, error.errors, error.headers)


def handle_validation_error(error: ValidationError):
    db.session.rollback()
    errors = validation_errors(error.messages)
    return error_response(400, "Validation failed", describe(errors), errors)


def handle_http_exception(error: HTTPException):
    db.session.rollback()
    headers = {}
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(error.code or 500, error.name, error.description or error.name, headers=headers)


def handle_unexpected_error(error: Exception):
    log.exception("Unhandled error")
    db.session.rollback()
    return error_response(500, "Internal Server Error", "The server failed to complete the request.")


def register_error_handlers(app):
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
