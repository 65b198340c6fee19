"""The HTTP layer: thin views that parse, call one service, commit (openregister.database), and dump."""

import importlib
from http import HTTPStatus
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import MultiDict

from ..auth import require_user
from ..errors import UnsupportedMediaType
from ..extensions import blueprint_docs
from .docs import AUTHENTICATED, ERROR_RESPONSES, URI_TOO_LONG, register_api_docs


class Parser(FlaskParser):
    """webargs, with our status codes: 400 for bad input, our body for malformed JSON."""

    DEFAULT_VALIDATION_STATUS = 400

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise error

    def load_json(self, req, schema):
        # As webargs reads a JSON body (an empty one is absent), through the app's JSON provider
        # (http.StrictJSONProvider), so that one place decides what is JSON, with our errors.
        if not is_json_request(req):
            return missing
        body = req.get_data(cache=True)
        if not body:
            return missing
        return current_app.json.loads(body)

    def load_files(self, req, schema):
        # A multipart body is documented once (smorest gives an operation one requestBody), so the
        # "files" location reads its other fields too, as one MultiDict.
        merged = MultiDict(req.form)
        merged.update(req.files)
        return self._makeproxy(merged, schema)


class Blueprint(SmorestBlueprint):
    """smorest's Blueprint with our parser; its routes' docs list every error they can answer.

    What any route of its kind can answer is documented here (a security requirement with 401 and
    429, 400 with arguments, 413 with a body, 415 for writes, 414 with query parameters); a view adds
    what its service refuses with `errors()`. A blueprint with an error renderer of its own (a
    dialect) renders, and documents, its own errors. The docs are finished in `finish_doc`, which the
    apispec plugin `openregister.openapi.BlueprintDocs` calls for every operation of a registered blueprint.
    """

    ARGUMENTS_PARSER = Parser()
    # The OpenAPI security requirement of every route; protected() sets it.
    security = None
    # How the errors of this blueprint's routes (and its nested blueprints') are rendered; None: the
    # app's one body (errors.render_error).
    render_error = None

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """smorest's arguments, with one schema instance made here: webargs would make one per request
        from a class (a deep copy of every field)."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def error_renderer(self, render):
        """Render the errors of this blueprint's routes with `render(error: ApiError) -> Response`."""
        self.render_error = render
        return render

    def errors(self, *statuses):
        """Document the error statuses that a view's service answers, with the error body."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=ERROR_RESPONSES[status][0])(func)
            return func

        return decorator

    def finish_doc(self, doc: dict, method: str) -> None:
        document_body_requirement(doc)
        if self.render_error is None:
            # A blueprint with a renderer of its own answers its errors in a body of its own.
            self.document_errors(doc, method)

    def document_errors(self, doc: dict, method: str) -> None:
        statuses = []
        if self.security:
            statuses += [401, 429]
        if "requestBody" in doc or doc.get("parameters"):
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
        if self.security and "security" not in doc:
            # Where smorest's own docs end and the docstring's begin, as the document always had it.
            finished = {}
            for key, value in doc.items():
                if key in ("summary", "description", "tags") and "security" not in finished:
                    finished["security"] = self.security
                finished[key] = value
            finished.setdefault("security", self.security)
            doc.clear()
            doc.update(finished)


def document_body_requirement(doc: dict) -> None:
    # The parser reads an absent body as {}, so only a schema with required fields needs one.
    body = doc.get("requestBody")
    if body:
        schema = next(iter(body["content"].values()))["schema"]
        if isinstance(schema, dict):  # written out by hand (bp.doc), with its own "required"
            return
        schema = schema() if isinstance(schema, type) else schema
        body["required"] = schema.partial is not True and any(field.required for field in schema.fields.values())


def protected(name: str, import_name: str) -> Blueprint:
    """A blueprint whose every route needs an authenticated user (g.current_user), documented as such."""
    bp = Blueprint(name, import_name)
    bp.before_request(require_user)
    bp.security = AUTHENTICATED
    return bp


def require_json_body() -> None:
    """A body sent with a write must be JSON (or what the view's extra_body_media_types name); an empty body is fine."""
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.headers.get("Transfer-Encoding")):
        view_class = getattr(current_app.view_functions.get(request.endpoint), "view_class", None)
        if not request.is_json and request.mimetype not in getattr(view_class, "extra_body_media_types", ()):
            raise UnsupportedMediaType(
                "Unsupported Media Type", "Send the body as JSON with Content-Type: application/json.",
                code="unsupported_media_type",
            )


def register_blueprints(app, api) -> None:
    from ..config import API_PREFIX
    from . import (agents, auth, capabilities, chat, conversations, docs, documents, feedback, organisations, service,
                   shares, transfer)

    app.before_request(require_json_body)
    register_api_docs(api)
    for blueprint in (auth.bp, conversations.bp, transfer.bp, shares.bp, chat.bp, feedback.bp, agents.bp, organisations.bp,
                      documents.bp, service.bp, shares.public_bp, capabilities.bp):
        blueprint_docs.register(blueprint)
    for module in (auth, conversations, transfer, shares, chat, feedback, agents, organisations, documents):
        api.register_blueprint(module.bp, url_prefix=API_PREFIX)
    api.register_blueprint(service.bp)
    api.register_blueprint(shares.public_bp)
    api.register_blueprint(capabilities.bp)
    register_dialects(app, api)
    app.register_blueprint(docs.bp)


def register_dialects(app, api) -> None:
    """Serve the further dialects that the configuration names (DIALECTS): each a package of its own
    with a `register(app, api)`, which the core never imports by name."""
    for name in app.config["DIALECTS"]:
        importlib.import_module(name).register(app, api)
