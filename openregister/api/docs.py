"""The API's description: what every route's docs refer to, the document itself and the docs page.

smorest builds the OpenAPI document from the views; this module adds the one error body, its
responses and the security schemes, which the routes refer to by name. A plain Flask blueprint
serves the document, the docs page (Swagger UI) and the page's files, which come from the
flask-swagger-ui package so that no CDN is needed; these routes stay out of the document they
display. The document's `servers` entry is the path the app is mounted under (SCRIPT_NAME) for the
request that fetched it, so that the docs page's "Try it out" calls the API under that path too.
"""

from pathlib import Path
from typing import Any

import flask_swagger_ui
from apispec import APISpec
from apispec.ext.marshmallow.field_converter import FieldConverterMixin
from flask import Blueprint, Response, render_template_string, request, send_from_directory
from flask_smorest import Api
from marshmallow.fields import Field

from .. import extensions
from ..config import API_PREFIX
from ..schemas.base import ErrorSchema, not_blank
from ..schemas.chat import ChatDeltaEventSchema, ChatErrorEventSchema, ChatStartEventSchema

# smorest names its own error schema "Error"; ours is the body every error of this API has.
ERROR_SCHEMA_NAME = "ApiError"
# Status -> (response component, description) of the answers with the error body.
ERROR_RESPONSES = {
    400: ("BadRequest", "Bad input: malformed JSON, a wrong type or value, or a request the rules refuse"),
    401: ("Unauthorized", "No valid credentials: send a Bearer token or Basic credentials"),
    403: ("Forbidden", "Authenticated, but not allowed to do this"),
    404: ("NotFound", "No such entity, or none that you may see"),
    409: ("Conflict", "Refused in the current state of the entity"),
    413: ("ContentTooLarge", "The body is larger than the server accepts (OPENREGISTER_MAX_CONTENT_LENGTH)"),
    415: ("UnsupportedMediaType", "A body was sent that is not JSON, or a document of a type this server does not read"),
    429: ("TooManyRequests", "Too many failed sign-ins for this user name or client address"),
    502: ("ProviderError", "The LLM provider answered with an error; your message is stored"),
    503: ("ProviderUnavailable", "No LLM provider is configured or reachable; your message is stored"),
    504: ("ProviderTimeout", "The LLM provider did not answer in time; your message is stored"),
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": "The schemes accepted: Bearer and Basic", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds until sign-ins are accepted again", "schema": {"type": "integer"}}},
}
# gunicorn answers this itself, with an HTML page, before the API sees the request.
URI_TOO_LONG = (
    "UriTooLong",
    {
        "description": "The request line is longer than the HTTP server accepts (gunicorn: 4094 bytes)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
)
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /auth/token or `flask token NAME`, "
        "or one issued by the configured identity provider",
    },
    "basicAuth": {"type": "http", "scheme": "basic", "description": "User name and password, or an app password"},
}
# An OpenAPI security requirement: scheme name -> scopes (none for HTTP schemes).
SecurityRequirement = dict[str, list[str]]
AUTHENTICATED: list[SecurityRequirement] = [{"bearerAuth": []}, {"basicAuth": []}]

SWAGGER_UI_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"

DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
  <link href="{{ url_for('docs.asset', filename='swagger-ui.css') }}" rel="stylesheet" type="text/css">
</head>
<body>
  <div id="swagger-ui-container"></div>
  <script src="{{ url_for('docs.asset', filename='swagger-ui-standalone-preset.js') }}"></script>
  <script src="{{ url_for('docs.asset', filename='swagger-ui-bundle.js') }}"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({url: {{ url_for('docs.openapi_json') | tojson }}, dom_id: "#swagger-ui-container"});
    };
  </script>
</body>
</html>
"""

bp = Blueprint("docs", __name__)


def mounted_document(spec: APISpec) -> dict[str, Any]:
    """The OpenAPI document, with the mount point of this request as its one server."""
    document = spec.to_dict()
    document["servers"] = [{"url": request.script_root or "/"}]
    return document


@bp.route(API_PREFIX + "/openapi.json")
def openapi_json() -> dict[str, Any]:
    """Serve the OpenAPI document."""
    return mounted_document(extensions.api.spec)


@bp.route(API_PREFIX + "/docs")
def page() -> str:
    """Serve the docs page (Swagger UI)."""
    return render_template_string(DOCS_PAGE, title=extensions.api.spec.title)


@bp.route(API_PREFIX + "/docs/assets/<path:filename>")
def asset(filename: str) -> Response:
    """Serve a Swagger UI file."""
    return send_from_directory(SWAGGER_UI_DIST, filename)


def openapi_pattern(converter: FieldConverterMixin, field: Field[Any], ret: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    """A field's pattern as OpenAPI (ECMA-262) reads it: Python's end of string \\Z is $, not_blank is \\S."""
    pattern = ret.get("pattern")
    if pattern and pattern.endswith(r"\Z"):
        return {"pattern": pattern[: -len(r"\Z")] + "$"}
    if pattern is None and not_blank in field.validators:
        return {"pattern": r"\S"}
    return {}


def register_api_docs(api: Api) -> None:
    """The error body, the responses and the security schemes that the routes' docs refer to by name."""
    api.ma_plugin.converter.add_attribute_function(openapi_pattern)
    spec = api.spec
    spec.components.schema(ERROR_SCHEMA_NAME, schema=ErrorSchema)
    # The data of chat/send's streamed events, which the stream's docs name (api/streaming.py).
    spec.components.schema("ChatStartEvent", schema=ChatStartEventSchema)
    spec.components.schema("ChatDeltaEvent", schema=ChatDeltaEventSchema)
    spec.components.schema("ChatErrorEvent", schema=ChatErrorEventSchema)
    for status, (name, description) in ERROR_RESPONSES.items():
        response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": ErrorSchema}}}
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        spec.components.response(name, response)
    spec.components.response(*URI_TOO_LONG)
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
