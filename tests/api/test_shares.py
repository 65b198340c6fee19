"""Share links, contract beyond section 4."""

import hashlib
import json
from datetime import timedelta

import pytest

from openregister.extensions import db
from openregister.models import Message, ShareLink
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count

SHARED = f"{API}/shared"


def share(client, headers, ref, body=None, **kwargs):
    if body is None:
        return client.post(f"{API}/conversations/{ref}/share", headers=headers, **kwargs)
    return client.post(f"{API}/conversations/{ref}/share", json=body, headers=headers, **kwargs)


@pytest.fixture
def chat(tenants):
    conversation = factories.make_conversation(tenants["alice"], title="Trip", metadata_={"secret": "s"})
    start = utcnow() - timedelta(minutes=1)
    factories.make_message(conversation, "user", "Where to?", created=start)
    factories.make_message(conversation, "assistant", "Lisbon.", sources=[{"title": "Guide"}],
                           created=start + timedelta(seconds=1))
    db.session.commit()
    return conversation


def test_a_link_opens_the_conversation_to_anyone(client, alice, chat):
    response = share(client, alice, chat.uuid)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "url", "created", "expiresAt"}
    assert body["expiresAt"] is None
    assert len(body["token"]) >= 43  # 32 bytes, URL-safe base64
    assert body["url"] == f"http://localhost{SHARED}/{body['token']}"
    stored = db.session.scalars(db.select(ShareLink)).one()
    assert stored.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in (stored.token_hash,)

    public = client.get(f"{SHARED}/{body['token']}")
    assert public.status_code == 200
    assert public.headers["Cache-Control"] == "no-store"
    shared = public.get_json()
    assert shared == {
        "title": "Trip", "sharedAt": body["created"],
        "messages": [
            {"role": "user", "content": "Where to?", "created": shared["messages"][0]["created"]},
            {"role": "assistant", "content": "Lisbon.", "created": shared["messages"][1]["created"]},
        ],
    }


def test_the_link_shows_only_the_messages_that_existed_when_it_was_made(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    # Same timestamp as the last shared message: the id, not the clock, tells them apart.
    last = db.session.scalars(db.select(Message).order_by(Message.id.desc())).first()
    factories.make_message(chat, "user", "And later?", created=last.created)
    db.session.commit()
    contents = [m["content"] for m in client.get(f"{SHARED}/{token}").get_json()["messages"]]
    assert contents == ["Where to?", "Lisbon."]


def test_the_url_is_absolute_behind_a_path_prefix(client, alice, chat):
    response = share(client, alice, chat.uuid, environ_base={"SCRIPT_NAME": "/openregister"},
                     base_url="https://example.org/openregister")
    body = response.get_json()
    assert body["url"] == f"https://example.org/openregister{SHARED}/{body['token']}"


def test_a_new_link_replaces_the_old_one_at_once(client, alice, chat):
    old = share(client, alice, chat.uuid).get_json()["token"]
    new = share(client, alice, chat.uuid).get_json()["token"]
    assert old != new
    assert client.get(f"{SHARED}/{old}").status_code == 404
    assert client.get(f"{SHARED}/{new}").status_code == 200
    assert row_count(ShareLink) == 1


def test_show_gives_the_link_without_its_token(client, alice, chat):
    created = share(client, alice, chat.uuid, {"expiresIn": 3600}).get_json()
    response = client.get(f"{API}/conversations/{chat.uuid}/share", headers=alice)
    assert response.status_code == 200
    assert response.get_json() == {"token": None, "url": None, "created": created["created"],
                                   "expiresAt": created["expiresAt"]}


def test_show_without_a_link_is_a_404(client, alice, chat):
    response = client.get(f"{API}/conversations/{chat.uuid}/share", headers=alice)
    assert response.status_code == 404
    assert response.get_json()["error"] == "Share not found"


def test_revoke_ends_the_link(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    response = client.delete(f"{API}/conversations/{chat.uuid}/share", headers=alice)
    assert (response.status_code, response.get_json()) == (200, {"message": "Share revoked"})
    assert client.get(f"{SHARED}/{token}").status_code == 404
    assert client.delete(f"{API}/conversations/{chat.uuid}/share", headers=alice).status_code == 404
    assert row_count(ShareLink) == 0


def test_an_expired_link_is_gone(client, alice, chat):
    body = share(client, alice, chat.uuid, {"expiresIn": 60}).get_json()
    link = db.session.scalars(db.select(ShareLink)).one()
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"{SHARED}/{body['token']}").get_json()["error"] == "Share not found"
    assert client.get(f"{API}/conversations/{chat.uuid}/share", headers=alice).status_code == 404


def test_archiving_suspends_the_link_and_restoring_brings_it_back(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    assert client.delete(f"{API}/conversations/{chat.uuid}", headers=alice).status_code == 200
    assert client.get(f"{SHARED}/{token}").status_code == 404
    assert share(client, alice, chat.uuid).status_code == 409
    assert client.post(f"{API}/conversations/{chat.uuid}/restore", headers=alice).status_code == 200
    assert client.get(f"{SHARED}/{token}").status_code == 200


def test_deleting_for_good_deletes_the_link(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    assert client.delete(f"{API}/conversations/{chat.uuid}/permanent", headers=alice).status_code == 200
    assert client.get(f"{SHARED}/{token}").status_code == 404
    assert row_count(ShareLink) == 0


def test_every_failure_of_the_public_route_looks_the_same(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    client.delete(f"{API}/conversations/{chat.uuid}/share", headers=alice)
    answers = {client.get(f"{SHARED}/{ref}").get_data() for ref in (token, "unknown", "x" * 500, "%00", "é")}
    assert len(answers) == 1
    assert json.loads(answers.pop()) == {"error": "Share not found", "message": "No shared conversation for this link."}


@pytest.mark.parametrize("value", [0, 31536001, -5, "60", 1.5, True, None])
def test_expires_in_must_be_an_integer_from_one_second_to_a_year(client, alice, chat, value):
    response = share(client, alice, chat.uuid, {"expiresIn": value})
    assert response.status_code == 400
    assert list(response.get_json()["errors"]) == ["expiresIn"]
    assert row_count(ShareLink) == 0


def test_only_the_owner_manages_links(client, bob, carol, chat):
    for method in ("post", "get", "delete"):
        assert getattr(client, method)(f"{API}/conversations/{chat.uuid}/share", headers=bob).status_code == 403
        assert getattr(client, method)(f"{API}/conversations/{chat.uuid}/share", headers=carol).status_code == 404


def test_managing_links_needs_authentication_and_the_public_view_does_not(client, alice, chat):
    token = share(client, alice, chat.uuid).get_json()["token"]
    assert client.post(f"{API}/conversations/{chat.uuid}/share").status_code == 401
    assert client.get(f"{SHARED}/{token}", headers={"Authorization": "Bearer nonsense"}).status_code == 200
