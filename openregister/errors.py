"""The API's errors: one body shape, one set of handlers for the whole app."""

import logging

from flask import jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error with a status and a short title; the message says what went wrong, for a person."""

    status = 500
    title = "Internal Server Error"

    def __init__(self, title=None, message=None, *, errors=None, headers=None):
        super().__init__(message or title or self.title)
        self.title = title or self.title
        self.message = message or self.title
        self.errors = errors
        self.headers = headers


class BadRequest(ApiError):
    status = 400
    title = "Bad Request"


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"

    def __init__(self, title=None, message=None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="openregister", Basic realm="openregister"'})
        super().__init__(title, message, **kwargs)


class Forbidden(ApiError):
    status = 403
    title = "Access denied"


class NotFound(ApiError):
    status = 404
    title = "Not found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"


class TooManyRequests(ApiError):
    status = 429
    title = "Too Many Requests"


class UnsupportedMediaType(ApiError):
    status = 415
    title = "Unsupported Media Type"


class ProviderError(ApiError):
    status = 502
    title = "Provider error"


class ProviderUnavailable(ApiError):
    status = 503
    title = "Provider unavailable"


class ProviderTimeout(ApiError):
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
        if len(messages) == 1 and next(iter(messages)) in ("json", "query", "querystring", "form"):
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
