"""The OpenAPI document at /openapi.json: complete (every route), valid, and true about auth and errors."""

import json
import re

import pytest
from openapi_spec_validator import validate

from .conftest import API

OPENAPI_URL = f"{API}/openapi.json"
# The document describes the API, not itself: its own route, the docs page and the page's files.
DOCUMENTATION_ENDPOINTS = ("api-docs.", "docs.")
# Added by Flask to every rule (OPTIONS) and to every GET (HEAD); no operation of ours.
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
# NISIRA's dialect answers its own error bodies and documents its own errors and security.
NISIRA_PATHS = "/api/"
AUTHENTICATED = [{"bearerAuth": []}, {"basicAuth": []}]
PUBLIC_OPERATIONS = {
    ("post", f"{API}/auth/token"),
    ("post", f"{API}/auth/refresh"),
    ("get", f"{API}/health"),
    ("get", f"{API}/heartbeat"),
    ("get", "/status.php"),
    ("get", "/"),
    ("get", f"{API}/shared/{{token}}"),
}


@pytest.fixture
def document(client):
    return client.get(OPENAPI_URL).get_json()


def operations(document):
    """(method, path, operation) for every operation of the contracts' routes."""
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        if not path.startswith(NISIRA_PATHS)
        for method, operation in item.items()
        if method != "parameters"
    ]


def openapi_path(rule) -> str:
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_the_document_is_served_without_authentication(client):
    response = client.get(OPENAPI_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["openapi"] == "3.0.3"


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_route_is_documented_with_its_methods(app, document):
    undocumented = [
        (method, openapi_path(rule))
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith(DOCUMENTATION_ENDPOINTS)
        for method in sorted(rule.methods - AUTOMATIC_METHODS)
        if method.lower() not in document["paths"].get(openapi_path(rule), {})
    ]
    assert undocumented == []


def test_the_flask_command_writes_the_served_document(runner, document, tmp_path):
    target = tmp_path / "openapi.json"
    result = runner.invoke(args=["openapi", "write", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == document


def test_bearer_and_basic_are_the_security_schemes(document):
    schemes = document["components"]["securitySchemes"]
    assert {name: (scheme["type"], scheme["scheme"]) for name, scheme in schemes.items()} == {
        "bearerAuth": ("http", "bearer"),
        "basicAuth": ("http", "basic"),
    }
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"


def test_every_operation_but_the_public_ones_requires_credentials_and_answers_401(document):
    wrong = [
        (method, path)
        for method, path, operation in operations(document)
        if (method, path) not in PUBLIC_OPERATIONS
        and (operation.get("security") != AUTHENTICATED or "401" not in operation["responses"])
    ]
    assert wrong == []


def test_public_operations_require_no_credentials(document):
    documented = {(method, path): operation for method, path, operation in operations(document)}
    assert [key for key in sorted(PUBLIC_OPERATIONS) if "security" in documented[key]] == []


def test_anonymous_requests_get_401_exactly_where_credentials_are_documented(client, document):
    answers = {
        (method, path): (client.open(re.sub(r"{[^}]+}", "1", path), method=method.upper()).status_code == 401)
        for method, path, operation in operations(document)
    }
    assert answers == {(method, path): "security" in operation for method, path, operation in operations(document)}


def test_every_error_is_answered_with_the_error_body(document):
    error_responses = {
        f"#/components/responses/{name}" for name, response in document["components"]["responses"].items()
        if response["content"].get("application/json", {}).get("schema") == {"$ref": "#/components/schemas/ApiError"}
    }
    other_bodies = [
        (method, path, status)
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if int(status) >= 400 and response.get("$ref") not in error_responses
        # The health check reports a failed database in its own body, as the contract says.
        and (method, path, status) != ("get", f"{API}/health", "503")
        # gunicorn refuses an overlong request line with a page of its own.
        and response != {"$ref": "#/components/responses/UriTooLong"}
    ]
    assert other_bodies == []


def test_the_error_body_schema_is_what_errors_answer(client, document):
    assert document["components"]["schemas"]["ApiError"] == {
        "type": "object",
        "properties": {
            "error": {"type": "string", "description": "Short title of the error"},
            "message": {"type": "string", "description": "What went wrong, for a person"},
            "errors": {
                "type": "object",
                "additionalProperties": {},
                "description": "Problems per field (validation errors)",
            },
        },
        "required": ["error", "message"],
        "additionalProperties": False,
    }
    assert set(client.get(f"{API}/conversations").get_json()) == {"error", "message"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/chat/send", {"400", "401", "403", "404", "409", "413", "415", "429", "502", "503", "504"}),
        ("get", "/conversations/{ref}", {"401", "403", "404", "429"}),
        ("get", "/agents/{ref}", {"401", "404", "429"}),
        ("delete", "/organisations/{ref}", {"401", "403", "404", "409", "429"}),
        ("post", "/organisations/{ref}/set-active", {"401", "403", "404", "415", "429"}),
        ("post", "/auth/token", {"400", "401", "413", "415", "429"}),
        ("get", "/chat/stats", {"401", "429"}),
        ("get", "/conversations", {"400", "401", "414", "429"}),
        ("get", "/conversations/{ref}/messages", {"400", "401", "403", "404", "414", "429"}),
    ],
)
def test_an_operation_documents_the_errors_it_can_answer(document, method, path, statuses):
    responses = document["paths"][API + path][method]["responses"]
    assert {status for status in responses if int(status) >= 400} == statuses


def test_no_operation_has_a_catch_all_response(document):
    catch_all = [
        (method, path) for method, path, operation in operations(document) if "default" in operation["responses"]
    ]
    assert catch_all == []


def test_response_bodies_are_named_components(document):
    # Markdown downloads are plain text and an event stream names its events' schemas in x-events;
    # every JSON body (NDJSON lines too) is a named schema.
    unnamed = [
        (method, path, status, media_type)
        for method, path, operation in operations(document)
        for status, response in operation["responses"].items()
        if "$ref" not in response
        for media_type, content in response["content"].items()
        # A download's binary content has no schema to name.
        if media_type not in ("text/markdown", "text/event-stream") and content["schema"].get("format") != "binary"
        and "$ref" not in content["schema"]
    ]
    assert unnamed == []
    # apispec appends a number to a name that two schemas would share.
    assert [name for name in document["components"]["schemas"] if name[-1].isdigit()] == []


@pytest.mark.parametrize(
    ("method", "path", "required"),
    [
        ("post", "/conversations", False),
        ("post", "/organisations/{ref}/leave", False),
        ("patch", "/agents/{ref}", False),
        ("post", "/agents", True),
        ("put", "/agents/{ref}", True),
        ("post", "/auth/token", True),
    ],
)
def test_a_body_is_required_only_where_a_field_is(document, method, path, required):
    assert document["paths"][API + path][method]["requestBody"]["required"] is required


def test_patterns_are_written_as_openapi_reads_them(document):
    schemas = document["components"]["schemas"]
    # OpenAPI patterns are ECMA-262 regexes: $ ends the string, as \Z does in Python.
    assert schemas["OrganisationUpdate"]["properties"]["slug"]["pattern"] == "^[a-z0-9]+(-[a-z0-9]+)*$"
    # A title that must not be blank needs a character that is not white space.
    assert schemas["ConversationUpdate"]["properties"]["title"]["pattern"] == r"\S"
    assert "pattern" not in schemas["ConversationCreate"]["properties"]["title"]


@pytest.mark.parametrize("path", ["/chat/send", "/chat/message"])
def test_chat_send_documents_its_event_stream(document, path):
    """The 200 is JSON or Server-Sent Events; each event's data has the schema its `x-events` names."""
    content = document["paths"][f"{API}{path}"]["post"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/event-stream"}
    event = content["text/event-stream"]["schema"]
    assert set(event["required"]) == {"event", "data"}
    assert event["properties"]["event"]["enum"] == ["start", "delta", "done", "error"]
    events = content["text/event-stream"]["x-events"]
    assert set(events) == {"start", "delta", "done", "error"}
    schemas = document["components"]["schemas"]
    named = {name: schemas[ref["$ref"].rpartition("/")[2]] for name, ref in events.items()}
    assert named["done"] == schemas["ChatResponse"]
    assert set(named["start"]["required"]) == {"conversation", "userMessage"}
    assert set(named["delta"]["required"]) == {"content"}
    assert set(named["error"]["required"]) == {"error", "message", "status"}
