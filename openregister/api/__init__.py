"""The HTTP layer: thin views that parse, call one service, commit (openregister.database), and dump."""

import importlib
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, TypeVar, Unpack

from flask import Flask, Request, current_app, request
from flask_smorest import Api
from marshmallow import Schema, ValidationError, missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import FileStorage, MultiDict

from ..auth import require_user
from ..errors import Renderer, UnsupportedMediaType
from ..extensions import blueprint_docs
from .docs import AUTHENTICATED, ERROR_RESPONSES, URI_TOO_LONG, SecurityRequirement, register_api_docs

if TYPE_CHECKING:
    # flask-smorest has no type information. Its Blueprint is a Flask Blueprint; what it adds, and
    # our views use, is declared in our Blueprint below.
    from flask import Blueprint as SmorestBlueprint
else:
    from flask_smorest import Blueprint as SmorestBlueprint

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
# A view's schema: the class or an instance.
SchemaArg = type[Schema] | Schema


class ResponseDocs(TypedDict, total=False):
    """What smorest's response and alt_response document of a response besides its status and schema."""

    content_type: str | None
    description: str | None
    example: Any
    examples: Mapping[str, Any] | None
    headers: Mapping[str, Any] | None


# The values a parsed query's arguments may hold to be kept: immutable, so every request gets its own.
KEPT_VALUES = (str, int, float, bool, type(None))


class Parser(FlaskParser):
    """webargs, with our status codes: 400 for bad input, our body for malformed JSON.

    A query string already parsed for a schema gives the same arguments again without parsing: the
    front ends ask ?limit=50 over and over, and loading a query schema costs a tenth of a list's answer.
    What a query schema gives depends on the query string alone (none of them reads anything else);
    a query that fails is parsed, and refused, every time. Only short query strings are kept, and so
    many, that what is kept stays under a megabyte whatever clients send.
    """

    DEFAULT_VALIDATION_STATUS = 400
    # Query strings parsed for a schema kept at most: past it they are forgotten all at once.
    parsed_queries_kept = 1024
    # The longest query string kept (bytes): ours are a few parameters; a longer one is parsed each time.
    longest_query_kept = 256

    def __init__(self) -> None:
        super().__init__()
        self._parsed_queries: dict[tuple[Schema, bytes], dict[str, Any]] = {}

    def parse(self, argmap: Any, req: Request | None = None, *, location: str | None = None, **kwargs: Any) -> Any:
        req = req or self.get_default_request()
        if location != "query" or not isinstance(argmap, Schema) or len(req.query_string) > self.longest_query_kept:
            return super().parse(argmap, req, location=location, **kwargs)
        key = (argmap, req.query_string)
        parsed = self._parsed_queries.get(key)
        if parsed is None:
            parsed = super().parse(argmap, req, location=location, **kwargs)
            if not all(type(value) in KEPT_VALUES for value in parsed.values()):
                return parsed
            if len(self._parsed_queries) >= self.parsed_queries_kept:
                self._parsed_queries.clear()
            self._parsed_queries[key] = parsed
        return dict(parsed)

    def handle_error(
        self,
        error: ValidationError,
        req: Request,
        schema: Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        raise error

    def load_json(self, req: Request, schema: Schema) -> Any:
        # As webargs reads a JSON body (an empty one is absent), through the app's JSON provider
        # (http.StrictJSONProvider), so that one place decides what is JSON, with our errors.
        if not is_json_request(req):
            return missing
        body = req.get_data(cache=True)
        if not body:
            return missing
        return current_app.json.loads(body)

    def load_files(self, req: Request, schema: Schema) -> Any:
        # A multipart body is documented once (smorest gives an operation one requestBody), so the
        # "files" location reads its other fields too, as one MultiDict.
        merged: MultiDict[str, str | FileStorage] = MultiDict(req.form)
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
    security: list[SecurityRequirement] | None = None
    # How the errors of this blueprint's routes (and its nested blueprints') are rendered; None: the
    # app's one body (errors.render_error).
    render_error: Renderer | None = None

    if TYPE_CHECKING:
        # flask-smorest's additions to Flask's Blueprint, as they behave: a description (the tag's), and
        # decorators. route, alt_response and doc hand back what they decorate; arguments and response
        # wrap a view into one that takes its arguments from the request and returns a response.
        def __init__(self, name: str, import_name: str, *args: Any, description: str = "", **kwargs: Any) -> None: ...

        def route(
            self, rule: str, *, parameters: list[Any] | None = None, tags: list[str] | None = None, **options: Any
        ) -> Callable[[T], T]: ...

        def arguments(
            self,
            schema: SchemaArg,
            *,
            location: str = "json",
            content_type: str | None = None,
            required: bool = True,
            description: str | None = None,
            example: Any = None,
            examples: Mapping[str, Any] | None = None,
            **kwargs: Any,
        ) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...

        def response(
            self, status_code: int, schema: SchemaArg | None = None, **docs: Unpack[ResponseDocs]
        ) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...

        def alt_response(
            self,
            status_code: int,
            response: str | None = None,
            *,
            schema: SchemaArg | None = None,
            success: bool = False,
            **docs: Unpack[ResponseDocs],
        ) -> Callable[[F], F]: ...

        @staticmethod
        def doc(**kwargs: Any) -> Callable[[F], F]: ...
    else:
        def arguments(self, schema, *args, **kwargs):
            """smorest's arguments, with one schema instance made here: webargs would make one per request
            from a class (a deep copy of every field)."""
            return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def error_renderer(self, render: Renderer) -> Renderer:
        """Render the errors of this blueprint's routes with `render(error: ApiError) -> Response`."""
        self.render_error = render
        return render

    def errors(self, *statuses: int) -> Callable[[F], F]:
        """Document the error statuses that a view's service answers, with the error body."""

        def decorator(func: F) -> F:
            for status in statuses:
                func = self.alt_response(status, response=ERROR_RESPONSES[status][0])(func)
            return func

        return decorator

    def finish_doc(self, doc: dict[str, Any], method: str) -> None:
        document_body_requirement(doc)
        if self.render_error is None:
            # A blueprint with a renderer of its own answers its errors in a body of its own.
            self.document_errors(doc, method)

    def document_errors(self, doc: dict[str, Any], method: str) -> None:
        statuses: list[int] = []
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
            finished: dict[str, Any] = {}
            for key, value in doc.items():
                if key in ("summary", "description", "tags") and "security" not in finished:
                    finished["security"] = self.security
                finished[key] = value
            finished.setdefault("security", self.security)
            doc.clear()
            doc.update(finished)


def document_body_requirement(doc: dict[str, Any]) -> None:
    # The parser reads an absent body as {}, so only a schema with required fields needs one.
    body = doc.get("requestBody")
    if body:
        schema = next(iter(body["content"].values()))["schema"]
        if isinstance(schema, dict):  # written out by hand (bp.doc), with its own "required"
            return
        schema = schema() if isinstance(schema, type) else schema
        body["required"] = schema.partial is not True and any(field.required for field in schema.fields.values())


def protected(name: str, import_name: str) -> Blueprint:
    """A blueprint whose every route needs an authenticated user (auth.current_user()), documented as such."""
    bp = Blueprint(name, import_name)
    bp.before_request(require_user)
    bp.security = AUTHENTICATED
    return bp


def require_json_body() -> None:
    """A body sent with a write must be JSON (or what the view's extra_body_media_types name); an empty body is fine."""
    if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.headers.get("Transfer-Encoding")):
        view = current_app.view_functions.get(request.endpoint) if request.endpoint is not None else None
        view_class = getattr(view, "view_class", None)
        if not request.is_json and request.mimetype not in getattr(view_class, "extra_body_media_types", ()):
            raise UnsupportedMediaType(
                "Unsupported Media Type", "Send the body as JSON with Content-Type: application/json.",
                code="unsupported_media_type",
            )


def register_blueprints(app: Flask, api: Api) -> None:
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


def register_dialects(app: Flask, api: Api) -> None:
    """Serve the further dialects that the configuration names (DIALECTS): each a package of its own
    with a `register(app, api)`, which the core never imports by name."""
    for name in app.config["DIALECTS"]:
        importlib.import_module(name).register(app, api)
