"""Service routes, contract section 7, and the JSON errors of every route."""

import pytest
from sqlalchemy.exc import OperationalError

from openregister.config import VERSION
from openregister.extensions import db

from . import factories
from .conftest import API


def test_health_reports_the_database(client):
    response = client.get(f"{API}/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"status": "ok", "version": VERSION, "checks": {"database": "ok"}}


def test_health_is_503_when_the_database_is_unreachable(client, app, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is gone"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get(f"{API}/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"
    assert response.get_json()["checks"] == {"database": "error"}


def test_heartbeat(client):
    body = client.get(f"{API}/heartbeat").get_json()
    assert body["status"] == "alive"
    assert body["timestamp"].endswith("Z")
    assert body["message"]


def test_status_php_answers_as_nextcloud(client):
    body = client.get("/status.php").get_json()
    assert set(body) == {"installed", "maintenance", "needsDbUpgrade", "version", "versionstring", "edition",
                         "productname", "extendedSupport"}
    assert body["installed"] is True and body["maintenance"] is False
    # the test schema comes from create_all, not from migrations, so no revision is recorded
    assert body["needsDbUpgrade"] is True


def test_status_php_answers_even_without_the_migration_scripts(app, client, tmp_path, monkeypatch):
    monkeypatch.setattr(app.extensions["migrate"], "directory", str(tmp_path / "nowhere"))
    response = client.get("/status.php")
    assert response.status_code == 200
    assert response.get_json()["needsDbUpgrade"] is True


def test_capabilities_need_auth(client):
    assert client.get("/ocs/v2.php/cloud/capabilities").status_code == 401


def test_capabilities_in_the_ocs_envelope(client, auth_headers):
    user = factories.make_user()
    db.session.commit()
    body = client.get("/ocs/v2.php/cloud/capabilities", headers=auth_headers(user)).get_json()
    assert body["ocs"]["meta"] == {"status": "ok", "statuscode": 200, "message": "OK"}
    capabilities = body["ocs"]["data"]["capabilities"]["openregister"]
    assert capabilities["chat"] is True
    assert "offline" in capabilities["providers"]
    assert body["ocs"]["data"]["version"]["string"]


def test_the_root_links_the_api_its_health_check_and_docs(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_json() == {
        "name": "OpenRegister conversations API",
        "version": VERSION,
        "links": {
            "api": f"http://localhost{API}",
            "health": f"http://localhost{API}/health",
            "docs": f"http://localhost{API}/docs",
            "openapi": f"http://localhost{API}/openapi.json",
        },
    }
    for url in response.get_json()["links"].values():
        if not url.endswith("/api"):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("path", ["/nope", f"{API}/nope", f"{API}/conversations/x/y/z"])
def test_unknown_routes_are_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json
    assert set(response.get_json()) == {"error", "message"}


def test_wrong_method_is_json_405_with_allow(client):
    response = client.delete(f"{API}/health")
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method Not Allowed"
    assert "GET" in response.headers["Allow"]


def test_a_server_fault_is_a_json_500_without_a_trace(client, app, auth_headers, monkeypatch):
    from openregister.services import conversations

    user = factories.make_user()
    db.session.commit()

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(conversations, "list_conversations", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get(f"{API}/conversations", headers=auth_headers(user))
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error", "message": "The server failed to complete the request."}
    assert "secret internals" not in response.get_data(as_text=True)
