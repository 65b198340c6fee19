"""The conversation routes of the contract, section 3."""

import json

import pytest

from openregister.extensions import db
from openregister.models import Conversation, Feedback, Message

from .. import factories
from ..conftest import API, row_count

CONVERSATION_KEYS = {
    "id", "uuid", "title", "userId", "organisation", "agentId", "metadata", "deletedAt", "created", "updated",
    "messageCount",
}
MESSAGE_KEYS = {"id", "uuid", "conversationId", "role", "content", "sources", "created"}


def create(client, headers, body=None):
    return client.post(f"{API}/conversations", json=body if body is not None else {}, headers=headers)


class TestCreate:
    def test_create_returns_the_conversation_with_location(self, client, tenants, alice):
        response = create(client, alice, {"title": "Billing", "metadata": {"source": "web", "tags": ["a"]}})
        assert response.status_code == 201
        body = response.get_json()
        assert set(body) == CONVERSATION_KEYS
        assert body["title"] == "Billing"
        assert body["userId"] == "alice"
        assert body["organisation"] == tenants["acme"].id
        assert body["agentId"] is None
        assert body["metadata"] == {"source": "web", "tags": ["a"]}
        assert body["deletedAt"] is None
        assert body["messageCount"] == 0
        assert body["created"].endswith("Z") and body["updated"].endswith("Z")
        assert response.headers["Location"].endswith(f"{API}/conversations/{body['uuid']}")
        assert client.get(response.headers["Location"], headers=alice).status_code == 200

    def test_create_without_body_gets_the_default_title_and_empty_metadata(self, client, tenants, alice):
        response = client.post(f"{API}/conversations", headers=alice)
        assert response.status_code == 201
        assert response.get_json()["title"] == "New Conversation"
        assert response.get_json()["metadata"] == {}

    def test_default_titles_are_numbered_per_user_and_agent(self, client, tenants, alice, auth_headers):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        titles = [create(client, alice, {"title": blank}).get_json()["title"] for blank in (None, "", "  ")]
        assert titles == ["New Conversation", "New Conversation (2)", "New Conversation (3)"]
        assert create(client, alice, {"agentUuid": agent.uuid}).get_json()["title"] == "New Conversation"
        assert create(client, auth_headers(tenants["bob"])).get_json()["title"] == "New Conversation"

    def test_archived_conversations_free_their_default_title(self, client, tenants, alice):
        first = create(client, alice).get_json()
        client.delete(f"{API}/conversations/{first['uuid']}", headers=alice)
        assert create(client, alice).get_json()["title"] == "New Conversation"

    def test_create_with_agent_by_uuid_or_id(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        assert create(client, alice, {"agentUuid": agent.uuid}).get_json()["agentId"] == agent.id
        assert create(client, alice, {"agentId": agent.id}).get_json()["agentId"] == agent.id

    def test_server_owned_keys_in_the_body_are_ignored(self, client, tenants, alice):
        body = create(client, alice, {
            "title": "Mine", "userId": "carol", "organisation": tenants["globex"].id, "id": 999,
            "uuid": "00000000-0000-4000-8000-000000000000", "created": "2000-01-01T00:00:00Z", "deletedAt": "x",
        }).get_json()
        assert body["userId"] == "alice"
        assert body["organisation"] == tenants["acme"].id
        assert body["id"] != 999
        assert body["uuid"] != "00000000-0000-4000-8000-000000000000"
        assert body["deletedAt"] is None

    @pytest.mark.parametrize("agent_ref", [{"agentUuid": "no-such-agent"}, {"agentId": 12345}])
    def test_unknown_agent_is_400(self, client, tenants, alice, agent_ref):
        response = create(client, alice, agent_ref)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Agent not found"
        assert row_count(Conversation) == 0

    def test_another_users_private_agent_is_400(self, client, tenants, alice):
        agent = factories.make_agent(tenants["bob"], tenants["acme"], is_private=True)
        db.session.commit()
        response = create(client, alice, {"agentUuid": agent.uuid})
        assert response.status_code == 400
        assert response.get_json()["error"] == "Agent not found"

    def test_invited_user_may_use_a_private_agent(self, client, tenants, alice):
        agent = factories.make_agent(tenants["bob"], tenants["acme"], is_private=True, invited_users=["alice"])
        db.session.commit()
        assert create(client, alice, {"agentUuid": agent.uuid}).status_code == 201

    def test_agent_of_another_organisation_is_400(self, client, tenants, alice):
        agent = factories.make_agent(tenants["carol"], tenants["globex"], is_private=False)
        db.session.commit()
        assert create(client, alice, {"agentId": agent.id}).status_code == 400

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"title": 5}, "title"),
            ({"title": "x" * 256}, "title"),
            ({"metadata": "x"}, "metadata"),
            ({"metadata": [1, 2]}, "metadata"),
            ({"metadata": None}, "metadata"),
            ({"metadata": {"blob": "x" * (64 * 1024)}}, "metadata"),
            ({"agentId": "abc"}, "agentId"),
            ({"agentUuid": 7}, "agentUuid"),
        ],
    )
    def test_wrong_types_are_400_and_write_nothing(self, client, tenants, alice, body, field):
        response = create(client, alice, body)
        assert response.status_code == 400
        payload = response.get_json()
        assert payload["error"] == "Validation failed"
        assert field in payload["errors"]
        assert payload["message"]
        assert row_count(Conversation) == 0

    @pytest.mark.parametrize("raw", ["[1, 2]", "\"text\"", "42", "null"])
    def test_a_json_body_that_is_not_an_object_is_400(self, client, tenants, alice, raw):
        response = client.post(f"{API}/conversations", data=raw, content_type="application/json", headers=alice)
        assert response.status_code == 400
        assert set(response.get_json()) >= {"error", "message"}
        assert row_count(Conversation) == 0

    def test_malformed_json_is_400(self, client, tenants, alice):
        response = client.post(f"{API}/conversations", data="{bad", content_type="application/json", headers=alice)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Malformed JSON"
        assert row_count(Conversation) == 0

    def test_a_body_that_is_not_json_is_415(self, client, tenants, alice):
        response = client.post(f"{API}/conversations", data="title=x", content_type="application/x-www-form-urlencoded",
                               headers=alice)
        assert response.status_code == 415
        assert response.get_json()["error"] == "Unsupported Media Type"
        assert row_count(Conversation) == 0

    def test_an_oversized_body_is_413(self, client, app, tenants, alice):
        too_big = json.dumps({"title": "x", "metadata": {"blob": "y" * app.config["MAX_CONTENT_LENGTH"]}})
        response = client.post(f"{API}/conversations", data=too_big, content_type="application/json", headers=alice)
        assert response.status_code == 413
        assert response.get_json()["error"] == "Request Entity Too Large"
        assert row_count(Conversation) == 0

    def test_the_conversation_gets_no_organisation_when_the_user_has_none(self, client, auth_headers):
        loner = factories.make_user("dave")
        db.session.commit()
        body = create(client, auth_headers(loner)).get_json()
        assert body["organisation"] is None
        listing = client.get(f"{API}/conversations", headers=auth_headers(loner)).get_json()
        assert [row["uuid"] for row in listing["results"]] == [body["uuid"]]


class TestList:
    def test_lists_only_own_conversations_in_the_active_organisation(self, client, tenants, alice):
        mine = factories.make_conversation(tenants["alice"])
        factories.make_conversation(tenants["bob"])
        factories.make_conversation(tenants["alice"], organisation_id=tenants["globex"].id)
        db.session.commit()
        body = client.get(f"{API}/conversations", headers=alice).get_json()
        assert [row["uuid"] for row in body["results"]] == [mine.uuid]
        assert body["total"] == 1

    def test_switching_the_active_organisation_hides_the_others(self, client, tenants, alice):
        factories.make_conversation(tenants["alice"])
        db.session.add(factories.Membership(organisation_id=tenants["globex"].id, user_id=tenants["alice"].id))
        tenants["alice"].active_organisation_id = tenants["globex"].id
        db.session.commit()
        assert client.get(f"{API}/conversations", headers=alice).get_json()["total"] == 0

    def test_an_active_organisation_the_user_left_no_longer_counts(self, client, tenants, auth_headers):
        bob = tenants["bob"]
        factories.make_conversation(bob)
        db.session.execute(db.delete(factories.Membership).where(factories.Membership.user_id == bob.id))
        db.session.commit()
        assert bob.active_organisation_id == tenants["acme"].id
        body = client.get(f"{API}/conversations", headers=auth_headers(bob)).get_json()
        assert body["total"] == 0

    def test_ordered_by_updated_then_id_descending(self, client, tenants, alice):
        from datetime import datetime

        same = datetime(2024, 1, 1)
        older = factories.make_conversation(tenants["alice"], title="older", updated=datetime(2023, 1, 1))
        first = factories.make_conversation(tenants["alice"], title="first", updated=same)
        second = factories.make_conversation(tenants["alice"], title="second", updated=same)
        db.session.commit()
        results = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
        assert [row["uuid"] for row in results] == [second.uuid, first.uuid, older.uuid]

    def test_message_count_is_the_number_of_messages(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        factories.make_messages(conversation, 3)
        db.session.commit()
        assert client.get(f"{API}/conversations", headers=alice).get_json()["results"][0]["messageCount"] == 3

    def test_defaults_and_total(self, client, tenants, alice):
        for i in range(3):
            factories.make_conversation(tenants["alice"], title=f"c{i}")
        db.session.commit()
        body = client.get(f"{API}/conversations", headers=alice).get_json()
        assert (body["total"], body["limit"], body["offset"], len(body["results"])) == (3, 50, 0, 3)

    @pytest.mark.parametrize(
        ("query", "limit", "offset", "count"),
        [
            ("limit=2", 2, 0, 2),
            ("_limit=2", 2, 0, 2),
            ("limit=2&offset=4", 2, 4, 1),
            ("_limit=2&_offset=4", 2, 4, 1),
            ("limit=2&page=2", 2, 2, 2),
            ("_limit=2&_page=3", 2, 4, 1),
            ("limit=2&page=9", 2, 16, 0),
            ("limit=2&page=2&offset=1", 2, 1, 2),
            ("offset=5", 50, 5, 0),
            ("limit=1000", 100, 0, 5),
        ],
    )
    def test_paging(self, client, tenants, alice, query, limit, offset, count):
        for i in range(5):
            factories.make_conversation(tenants["alice"], title=f"c{i}")
        db.session.commit()
        body = client.get(f"{API}/conversations?{query}", headers=alice).get_json()
        assert (body["limit"], body["offset"], len(body["results"]), body["total"]) == (limit, offset, count, 5)

    def test_limit_is_clamped_to_the_configured_maximum(self, client, app, tenants, alice):
        app.config["MAX_PAGE_SIZE"] = 3
        assert client.get(f"{API}/conversations?limit=50", headers=alice).get_json()["limit"] == 3

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("limit=0", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=1.5", "limit"),
            ("_limit=0", "_limit"), ("offset=-1", "offset"), ("_offset=x", "_offset"), ("page=0", "page"),
            ("_page=abc", "_page"), ("_deleted=maybe", "_deleted"), ("includeDeleted=2", "includeDeleted"),
            ("offset=99999999999999999999", "offset"), ("page=99999999999999999999", "page"),
            ("_limit=99999999999999999999", "_limit"),
        ],
    )
    def test_bad_paging_arguments_are_400(self, client, tenants, alice, query, field):
        response = client.get(f"{API}/conversations?{query}", headers=alice)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]

    @pytest.mark.parametrize("truthy", ["true", "TRUE", "1", "yes", "Yes"])
    def test_deleted_flag_lists_only_archived_ones(self, client, tenants, alice, truthy):
        from openregister.models.base import utcnow

        factories.make_conversation(tenants["alice"], title="active")
        archived = factories.make_conversation(tenants["alice"], title="gone", deleted_at=utcnow())
        db.session.commit()
        body = client.get(f"{API}/conversations?_deleted={truthy}", headers=alice).get_json()
        assert [row["uuid"] for row in body["results"]] == [archived.uuid]

    @pytest.mark.parametrize("falsy", ["false", "0", "no", "NO"])
    def test_false_flags_list_active_ones(self, client, tenants, alice, falsy):
        from openregister.models.base import utcnow

        active = factories.make_conversation(tenants["alice"], title="active")
        factories.make_conversation(tenants["alice"], title="gone", deleted_at=utcnow())
        db.session.commit()
        for name in ("_deleted", "includeDeleted"):
            body = client.get(f"{API}/conversations?{name}={falsy}", headers=alice).get_json()
            assert [row["uuid"] for row in body["results"]] == [active.uuid]

    def test_include_deleted_lists_both(self, client, tenants, alice):
        from openregister.models.base import utcnow

        factories.make_conversation(tenants["alice"], title="active")
        factories.make_conversation(tenants["alice"], title="gone", deleted_at=utcnow())
        db.session.commit()
        body = client.get(f"{API}/conversations?includeDeleted=true", headers=alice).get_json()
        assert body["total"] == 2

    def test_same_number_of_statements_for_1_and_100_rows(self, client, tenants, alice, count_queries):
        for i in range(100):
            conversation = factories.make_conversation(tenants["alice"], title=f"c{i}")
            factories.make_message(conversation)
        db.session.commit()
        with count_queries() as small:
            one = client.get(f"{API}/conversations?limit=1", headers=alice)
        with count_queries() as large:
            hundred = client.get(f"{API}/conversations?limit=100", headers=alice)
        assert len(one.get_json()["results"]) == 1
        assert len(hundred.get_json()["results"]) == 100
        assert all(row["messageCount"] == 1 for row in hundred.get_json()["results"])
        assert len(small) == len(large)


class TestArchive:
    def test_archive_lists_soft_deleted_ones_by_deleted_at_descending(self, client, tenants, alice):
        from datetime import datetime

        factories.make_conversation(tenants["alice"], title="active")
        early = factories.make_conversation(tenants["alice"], title="early", deleted_at=datetime(2024, 1, 1))
        late = factories.make_conversation(tenants["alice"], title="late", deleted_at=datetime(2024, 6, 1))
        factories.make_conversation(tenants["bob"], title="bob's", deleted_at=datetime(2024, 6, 1))
        db.session.commit()
        body = client.get(f"{API}/conversations/archive", headers=alice).get_json()
        assert [row["uuid"] for row in body["results"]] == [late.uuid, early.uuid]
        assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)
        assert body == client.get(f"{API}/conversations?_deleted=true", headers=alice).get_json()

    def test_archive_pages(self, client, tenants, alice):
        from openregister.models.base import utcnow

        for i in range(3):
            factories.make_conversation(tenants["alice"], title=f"c{i}", deleted_at=utcnow())
        db.session.commit()
        body = client.get(f"{API}/conversations/archive?_limit=2&_page=2", headers=alice).get_json()
        assert (len(body["results"]), body["total"], body["offset"]) == (1, 3, 2)
        assert client.get(f"{API}/conversations/archive?limit=0", headers=alice).status_code == 400


class TestShow:
    def test_show_has_the_latest_messages_in_order(self, client, app, tenants, alice):
        app.config["CONVERSATION_MESSAGES_LIMIT"] = 3
        conversation = factories.make_conversation(tenants["alice"])
        messages = factories.make_messages(conversation, 5)
        db.session.commit()
        response = client.get(f"{API}/conversations/{conversation.uuid}", headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == CONVERSATION_KEYS | {"messages"}
        assert body["messageCount"] == 5
        assert [m["id"] for m in body["messages"]] == [m.id for m in messages[2:]]
        assert set(body["messages"][0]) == MESSAGE_KEYS
        assert body["messages"][0]["conversationId"] == conversation.id
        assert body["messages"][0]["sources"] == []

    def test_show_by_numeric_id(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        db.session.commit()
        body = client.get(f"{API}/conversations/{conversation.id}", headers=alice).get_json()
        assert body["uuid"] == conversation.uuid

    def test_an_archived_conversation_can_still_be_read(self, client, tenants, alice):
        from openregister.models.base import utcnow

        conversation = factories.make_conversation(tenants["alice"], deleted_at=utcnow())
        db.session.commit()
        body = client.get(f"{API}/conversations/{conversation.uuid}", headers=alice).get_json()
        assert body["deletedAt"] is not None and body["deletedAt"].endswith("Z")

    @pytest.mark.parametrize("ref", ["0e0e0e0e-0000-4000-8000-000000000000", "424242", "99999999999999999999999"])
    def test_unknown_is_404(self, client, tenants, alice, ref):
        response = client.get(f"{API}/conversations/{ref}", headers=alice)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"


ROUTES = [
    ("get", "/conversations/{ref}", None),
    ("get", "/conversations/{ref}/messages", None),
    ("patch", "/conversations/{ref}", {"title": "Hijacked"}),
    ("put", "/conversations/{ref}", {"title": "Hijacked"}),
    ("delete", "/conversations/{ref}", None),
    ("post", "/conversations/{ref}/restore", None),
    ("delete", "/conversations/{ref}/permanent", None),
]


class TestAccess:
    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    def test_another_members_conversation_is_403(self, client, tenants, auth_headers, method, path, body):
        conversation = factories.make_conversation(tenants["alice"], title="Alice's")
        db.session.commit()
        response = getattr(client, method)(API + path.format(ref=conversation.uuid), json=body,
                                           headers=auth_headers(tenants["bob"]))
        assert response.status_code == 403
        assert response.get_json()["error"] == "Access denied"
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).title == "Alice's"
        assert db.session.get(Conversation, conversation.id).deleted_at is None

    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    def test_a_conversation_of_another_organisation_is_404(self, client, tenants, auth_headers, method, path, body):
        conversation = factories.make_conversation(tenants["alice"], title="Alice's")
        db.session.commit()
        response = getattr(client, method)(API + path.format(ref=conversation.uuid), json=body,
                                           headers=auth_headers(tenants["carol"]))
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"
        assert row_count(Conversation) == 1

    def test_own_conversation_in_an_inactive_organisation_is_403_to_read(self, client, tenants, alice):
        side = factories.make_organisation("Side", owner=tenants["alice"])
        tenants["alice"].active_organisation_id = tenants["acme"].id
        conversation = factories.make_conversation(tenants["alice"], organisation_id=side.id)
        db.session.commit()
        response = client.get(f"{API}/conversations/{conversation.uuid}", headers=alice)
        assert response.status_code == 403
        assert response.get_json()["error"] == "Access denied"

    def test_own_conversation_in_an_organisation_left_is_404_to_read(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"], organisation_id=tenants["globex"].id)
        db.session.commit()
        response = client.get(f"{API}/conversations/{conversation.uuid}", headers=alice)
        assert response.status_code == 404
        assert response.get_json()["error"] == "Conversation not found"

    @pytest.mark.parametrize(("method", "path", "body"), ROUTES)
    def test_every_route_needs_authentication(self, client, tenants, method, path, body):
        conversation = factories.make_conversation(tenants["alice"])
        db.session.commit()
        response = getattr(client, method)(API + path.format(ref=conversation.uuid), json=body)
        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers


class TestMessages:
    @pytest.fixture
    def conversation(self, tenants):
        conversation = factories.make_conversation(tenants["alice"])
        self.messages = factories.make_messages(conversation, 7)
        db.session.commit()
        return conversation

    def get(self, client, headers, conversation, query=""):
        return client.get(f"{API}/conversations/{conversation.uuid}/messages?{query}", headers=headers)

    def ids(self, *indexes):
        return [self.messages[i].id for i in indexes]

    def test_defaults(self, client, alice, conversation):
        body = self.get(client, alice, conversation).get_json()
        assert set(body) == {"results", "total", "limit", "offset", "hasMore"}
        assert (body["total"], body["limit"], body["offset"], body["hasMore"]) == (7, 50, 0, False)
        assert [m["id"] for m in body["results"]] == self.ids(*range(7))
        assert set(body["results"][0]) == MESSAGE_KEYS

    def test_latest_pages_count_back_from_the_newest_in_chronological_order(self, client, alice, conversation):
        newest = self.get(client, alice, conversation, "limit=3").get_json()
        assert [m["id"] for m in newest["results"]] == self.ids(4, 5, 6)
        assert newest["hasMore"] is True
        older = self.get(client, alice, conversation, "limit=3&offset=3").get_json()
        assert [m["id"] for m in older["results"]] == self.ids(1, 2, 3)
        assert older["hasMore"] is True
        oldest = self.get(client, alice, conversation, "_limit=3&_offset=6").get_json()
        assert [m["id"] for m in oldest["results"]] == self.ids(0)
        assert oldest["hasMore"] is False

    def test_asc_pages_from_the_oldest(self, client, alice, conversation):
        first = self.get(client, alice, conversation, "order=asc&limit=3").get_json()
        assert [m["id"] for m in first["results"]] == self.ids(0, 1, 2)
        assert first["hasMore"] is True
        last = self.get(client, alice, conversation, "order=asc&limit=3&page=3").get_json()
        assert [m["id"] for m in last["results"]] == self.ids(6)
        assert last["hasMore"] is False

    def test_limit_is_clamped_to_100(self, client, alice, conversation):
        assert self.get(client, alice, conversation, "limit=500").get_json()["limit"] == 100

    @pytest.mark.parametrize("query", ["limit=0", "offset=-1", "limit=x", "order=newest", "page=0"])
    def test_bad_arguments_are_400(self, client, alice, conversation, query):
        assert self.get(client, alice, conversation, query).status_code == 400

    def test_ties_in_created_are_ordered_by_id(self, client, tenants, alice):
        from datetime import datetime

        conversation = factories.make_conversation(tenants["alice"])
        same = datetime(2024, 1, 1)
        made = [factories.make_message(conversation, content=str(i), created=same) for i in range(4)]
        db.session.commit()
        body = self.get(client, alice, conversation, "limit=2").get_json()
        assert [m["id"] for m in body["results"]] == [made[2].id, made[3].id]


class TestUpdate:
    def test_patch_renames_and_moves_updated_forward(self, client, tenants, alice):
        from datetime import datetime

        conversation = factories.make_conversation(tenants["alice"], metadata_={"a": 1}, updated=datetime(2024, 1, 1))
        db.session.commit()
        response = client.patch(f"{API}/conversations/{conversation.uuid}", json={"title": "Renamed"}, headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == CONVERSATION_KEYS
        assert body["title"] == "Renamed"
        assert body["metadata"] == {"a": 1}
        assert body["updated"] > "2024-01-01T00:00:00Z"

    def test_metadata_replaces_the_old_object(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"], metadata_={"a": 1})
        db.session.commit()
        body = client.put(f"{API}/conversations/{conversation.uuid}", json={"metadata": {"b": 2}}, headers=alice).get_json()
        assert body["metadata"] == {"b": 2}
        assert body["title"] == "A conversation"

    def test_update_works_on_archived_conversations(self, client, tenants, alice):
        from openregister.models.base import utcnow

        conversation = factories.make_conversation(tenants["alice"], deleted_at=utcnow())
        db.session.commit()
        response = client.patch(f"{API}/conversations/{conversation.uuid}", json={"title": "Still mine"}, headers=alice)
        assert response.status_code == 200
        assert response.get_json()["deletedAt"] is not None

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"title": None}, "title"), ({"title": ""}, "title"), ({"title": "   "}, "title"), ({"title": 5}, "title"),
         ({"title": "x" * 256}, "title"), ({"metadata": "x"}, "metadata"), ({"metadata": None}, "metadata")],
    )
    def test_bad_updates_are_400_and_change_nothing(self, client, tenants, alice, body, field):
        conversation = factories.make_conversation(tenants["alice"], title="Kept", metadata_={"a": 1})
        db.session.commit()
        response = client.patch(f"{API}/conversations/{conversation.uuid}", json=body, headers=alice)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]
        db.session.expire_all()
        kept = db.session.get(Conversation, conversation.id)
        assert (kept.title, kept.metadata_) == ("Kept", {"a": 1})

    def test_server_owned_keys_are_ignored(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        db.session.commit()
        body = client.patch(f"{API}/conversations/{conversation.uuid}",
                            json={"userId": "bob", "deletedAt": "2024-01-01T00:00:00Z", "agentId": 5},
                            headers=alice).get_json()
        assert (body["userId"], body["deletedAt"], body["agentId"]) == ("alice", None, None)


class TestDelete:
    def test_delete_of_an_active_conversation_archives_it(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        factories.make_messages(conversation, 2)
        db.session.commit()
        response = client.delete(f"{API}/conversations/{conversation.uuid}", headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Conversation deleted successfully", "uuid": conversation.uuid,
                                       "archived": True}
        db.session.expire_all()
        assert db.session.get(Conversation, conversation.id).deleted_at is not None
        assert row_count(Message) == 2

    def test_delete_of_an_archived_conversation_is_permanent(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        factories.make_messages(conversation, 2)
        db.session.commit()
        client.delete(f"{API}/conversations/{conversation.uuid}", headers=alice)
        response = client.delete(f"{API}/conversations/{conversation.uuid}", headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Conversation permanently deleted", "uuid": conversation.uuid}
        assert row_count(Conversation) == 0
        assert row_count(Message) == 0

    def test_restore_clears_deleted_at(self, client, tenants, alice):
        from openregister.models.base import utcnow

        conversation = factories.make_conversation(tenants["alice"], deleted_at=utcnow())
        db.session.commit()
        response = client.post(f"{API}/conversations/{conversation.uuid}/restore", headers=alice)
        assert response.status_code == 200
        assert set(response.get_json()) == CONVERSATION_KEYS
        assert response.get_json()["deletedAt"] is None
        listing = client.get(f"{API}/conversations", headers=alice).get_json()
        assert [row["uuid"] for row in listing["results"]] == [conversation.uuid]

    def test_restoring_an_active_conversation_is_a_no_op(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        db.session.commit()
        response = client.post(f"{API}/conversations/{conversation.uuid}/restore", headers=alice)
        assert response.status_code == 200
        assert response.get_json()["deletedAt"] is None

    def test_permanent_delete_removes_messages_and_feedback(self, client, tenants, alice):
        conversation = factories.make_conversation(tenants["alice"])
        other = factories.make_conversation(tenants["alice"], title="other")
        answer = factories.make_message(conversation, role="assistant")
        kept = factories.make_message(other, role="assistant")
        for message, conv in ((answer, conversation), (kept, other)):
            db.session.add(Feedback(message_id=message.id, conversation_id=conv.id, user_id=tenants["alice"].id,
                                    type="positive"))
        db.session.commit()
        response = client.delete(f"{API}/conversations/{conversation.uuid}/permanent", headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Conversation permanently deleted", "uuid": conversation.uuid}
        assert (row_count(Conversation), row_count(Message), row_count(Feedback)) == (1, 1, 1)
        for method, path in [("get", ""), ("get", "/messages"), ("patch", ""), ("delete", ""), ("post", "/restore"),
                             ("delete", "/permanent")]:
            answer_after = getattr(client, method)(f"{API}/conversations/{conversation.uuid}{path}", json={"title": "x"},
                                                   headers=alice)
            assert answer_after.status_code == 404, (method, path)
