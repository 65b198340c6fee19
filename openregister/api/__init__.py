"""The HTTP layer: thin views that parse, call one service, commit, and dump."""

from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs.flaskparser import FlaskParser

from ..auth import require_user
from ..errors import BadRequest, UnsupportedMediaType


class Parser(FlaskParser):
    """webargs, with our status codes: 400 for bad input, our body for malformed JSON."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise error

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise BadRequest("Malformed JSON", f"The request body is not valid JSON: {error}.")


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


def protected(name: str, import_name: str) -> Blueprint:
    """A blueprint whose every route needs an authenticated user (g.current_user)."""
    bp = Blueprint(name, import_name)
    bp.before_request(require_user)
    return bp


def require_json_body() -> None:
    """A body sent with a write must be JSON; an empty body is fine (every field is then absent)."""
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.headers.get("Transfer-Encoding")):
        if not request.is_json:
            raise UnsupportedMediaType(
                "Unsupported Media Type", "Send the body as JSON with Content-Type: application/json."
            )


def register_blueprints(app, api) -> None:
    from ..config import API_PREFIX
    from . import agents, auth, capabilities, chat, conversations, feedback, organisations, service

    app.before_request(require_json_body)
    for module in (auth, conversations, chat, feedback, agents, organisations):
        api.register_blueprint(module.bp, url_prefix=API_PREFIX)
    api.register_blueprint(service.bp)
    api.register_blueprint(capabilities.bp)
