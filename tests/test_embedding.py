"""The app mounted below a path: in a host WSGI app (DispatcherMiddleware) and behind a proxy that
sends X-Forwarded-Prefix. Every URL it hands out must carry the prefix."""

import re

import pytest
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Response

from openregister import create_app
from openregister.extensions import db

from . import factories
from .conftest import API, basic, separate_database

PREFIX = "/openregister"


@pytest.fixture
def host(app):
    """A host application with this app mounted at /openregister, and a user of it."""
    user = factories.make_user("alice")
    factories.make_organisation("Acme", owner=user)
    db.session.commit()
    return Client(DispatcherMiddleware(Response("the host app"), {PREFIX: app}))


def test_the_host_app_keeps_everything_outside_the_prefix(host):
    response = host.get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "the host app"


def test_a_created_conversation_is_located_under_the_prefix(host):
    alice = basic("alice", factories.PASSWORD)
    response = host.post(f"{PREFIX}{API}/conversations", json={"title": "Mounted"}, headers=alice)
    assert response.status_code == 201
    uuid = response.get_json()["uuid"]
    assert response.headers["Location"] == f"{PREFIX}{API}/conversations/{uuid}"
    shown = host.get(response.headers["Location"], headers=alice)
    assert shown.status_code == 200
    assert shown.get_json()["title"] == "Mounted"


def test_the_openapi_document_names_the_prefix_as_its_server(host):
    document = host.get(f"{PREFIX}{API}/openapi.json").get_json()
    assert document["servers"] == [{"url": PREFIX}]


def test_the_docs_page_loads_its_files_and_document_under_the_prefix(host):
    page = host.get(f"{PREFIX}{API}/docs").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="([^"]+)"', page) + re.findall(r'url: "([^"]+)"', page)
    assert sorted(links) == sorted([
        f"{PREFIX}{API}/docs/assets/swagger-ui.css",
        f"{PREFIX}{API}/docs/assets/swagger-ui-standalone-preset.js",
        f"{PREFIX}{API}/docs/assets/swagger-ui-bundle.js",
        f"{PREFIX}{API}/openapi.json",
    ])
    assert [host.get(link, buffered=True).status_code for link in links] == [200] * len(links)


@pytest.mark.parametrize("root", [PREFIX, PREFIX + "/"])
def test_the_mount_point_is_an_index_of_absolute_urls_under_the_prefix(host, root):
    response = host.get(root)
    assert response.status_code == 200
    base = f"http://localhost{PREFIX}{API}"
    assert response.get_json()["links"] == {
        "api": base, "health": f"{base}/health", "docs": f"{base}/docs", "openapi": f"{base}/openapi.json",
    }
    assert host.get(response.get_json()["links"]["health"]).status_code == 200


@pytest.fixture
def proxied(tmp_path, monkeypatch):
    """The app on its own, trusting one proxy's X-Forwarded-Prefix, with a user alice."""
    monkeypatch.setenv("OPENREGISTER_INSTANCE_PATH", str(tmp_path))
    with separate_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "JWT_SECRET": "x" * 64,
                          "PROXY_FIX_X_PREFIX": 1})
        with app.app_context():
            db.create_all()
            factories.make_organisation("Acme", owner=factories.make_user("alice"))
            db.session.commit()
            yield app.test_client()
            db.session.remove()
            db.engine.dispose()


def test_behind_a_proxy_the_forwarded_prefix_is_in_every_url(proxied):
    forwarded = {"X-Forwarded-Prefix": PREFIX}
    created = proxied.post(f"{API}/conversations", json={"title": "Proxied"},
                           headers={**forwarded, **basic("alice", factories.PASSWORD)})
    assert created.status_code == 201
    assert created.headers["Location"] == f"{PREFIX}{API}/conversations/{created.get_json()['uuid']}"
    assert proxied.get(f"{API}/openapi.json", headers=forwarded).get_json()["servers"] == [{"url": PREFIX}]
    assert proxied.get("/", headers=forwarded).get_json()["links"]["api"] == f"http://localhost{PREFIX}{API}"
    assert f'src="{PREFIX}{API}/docs/assets/swagger-ui-bundle.js"' in proxied.get(
        f"{API}/docs", headers=forwarded).get_data(as_text=True)


def test_without_a_trusted_proxy_the_forwarded_prefix_is_ignored(client):
    document = client.get(f"{API}/openapi.json", headers={"X-Forwarded-Prefix": PREFIX}).get_json()
    assert document["servers"] == [{"url": "/"}]
