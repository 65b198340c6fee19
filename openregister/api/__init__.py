"""The HTTP layer: thin views that parse, call one service, commit, and dump."""

from http import HTTPStatus

from flask import current_app, request
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from ..auth import require_user
from ..errors import BadRequest, UnsupportedMediaType
from .docs import AUTHENTICATED, ERROR_RESPONSES, URI_TOO_LONG, register_api_docs


class Parser(FlaskParser):
    """webargs, with our status codes: 400 for bad input, our body for malformed JSON."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise error

    def _raw_load_json(self, req):
        # The app's JSON provider (http.StrictJSONProvider) reads every body, so one place decides what is JSON.
        if not is_json_request(req):
            return core.missing
        return current_app.json.loads(req.get_data(cache=True))

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise BadRequest("Malformed JSON", f"The request body is not valid JSON: {error}.")


class Blueprint(SmorestBlueprint):
    """smorest's Blueprint with our parser; its routes' docs list every error they can answer.

    What any route of its kind can answer is documented here (a security requirement with 401 and
    429, 400 with arguments, 413 with a body, 415 for writes, 414 with query parameters); a view adds
    what its service refuses with `errors()`. A blueprint with error handlers of its own renders,
    and documents, its own errors.
    """

    ARGUMENTS_PARSER = Parser()
    # The OpenAPI security requirement of every route; protected() sets it.
    security = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.extend((self._prepare_body_doc, self._prepare_errors_doc))

    def errors(self, *statuses):
        """Document the error statuses that a view's service answers, with the error body."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=ERROR_RESPONSES[status][0])(func)
            return func

        return decorator

    @staticmethod
    def _prepare_body_doc(doc, doc_info, **kwargs):
        # The parser reads an absent body as {}, so only a schema with required fields needs one.
        body = doc.get("requestBody")
        if body:
            schema = next(iter(body["content"].values()))["schema"]
            schema = schema() if isinstance(schema, type) else schema
            body["required"] = schema.partial is not True and any(field.required for field in schema.fields.values())
        return doc

    def _prepare_errors_doc(self, doc, doc_info, *, method, **kwargs):
        if self.error_handler_spec:
            # Its own handlers answer its errors, in a body of its own.
            return doc
        statuses = []
        if self.security:
            doc["security"] = self.security
            statuses += [401, 429]
        if "arguments" in doc_info:
            statuses.append(400)
        if "requestBody" in doc:
            statuses.append(413)
        if method in ("post", "put", "patch"):
            statuses.append(415)
        responses = doc.setdefault("responses", {})
        # Every error is listed, so no catch-all; smorest's own default error responses give way to ours.
        responses.pop("default", None)
        for status in statuses:
            if responses.get(status) in (None, HTTPStatus(status).name):
                responses[status] = ERROR_RESPONSES[status][0]
        if any(parameter["in"] == "query" for parameter in doc.get("parameters", [])):
            responses[414] = URI_TOO_LONG[0]
        doc["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
        return doc


def protected(name: str, import_name: str) -> Blueprint:
    """A blueprint whose every route needs an authenticated user (g.current_user), documented as such."""
    bp = Blueprint(name, import_name)
    bp.before_request(require_user)
    bp.security = AUTHENTICATED
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
    from . import agents, auth, capabilities, chat, conversations, docs, feedback, nisira, organisations, service

    app.before_request(require_json_body)
    register_api_docs(api)
    for module in (auth, conversations, chat, feedback, agents, organisations):
        api.register_blueprint(module.bp, url_prefix=API_PREFIX)
    api.register_blueprint(service.bp)
    api.register_blueprint(capabilities.bp)
    api.register_blueprint(nisira.bp)
    app.register_blueprint(docs.bp)
