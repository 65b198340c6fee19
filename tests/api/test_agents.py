"""The agent routes of api-contract-chat.md, section 3."""

from datetime import timedelta

import pytest

from openregister.extensions import db
from openregister.models import Agent, Conversation
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count

AGENT_KEYS = [
    "id", "uuid", "name", "description", "type", "provider", "model", "prompt", "temperature", "maxTokens",
    "configuration", "organisation", "owner", "active", "enableRag", "ragSearchMode", "ragNumSources",
    "ragIncludeFiles", "ragIncludeObjects", "requestQuota", "tokenQuota", "views", "searchFiles", "searchObjects",
    "isPrivate", "invitedUsers", "groups", "tools", "user", "created", "updated", "managedByConfiguration",
]
DEFAULTS = {
    "description": None, "type": "chat", "provider": None, "model": None, "prompt": None, "temperature": None,
    "maxTokens": None, "configuration": None, "active": True, "enableRag": False, "ragSearchMode": None,
    "ragNumSources": None, "ragIncludeFiles": False, "ragIncludeObjects": False, "requestQuota": None,
    "tokenQuota": None, "views": [], "searchFiles": True, "searchObjects": True, "isPrivate": True,
    "invitedUsers": [], "groups": [], "tools": [], "user": None, "managedByConfiguration": None,
}
EVERY_WRITABLE_FIELD = {
    "name": "Support", "description": "Answers billing questions", "type": "assistant", "provider": "openai",
    "model": "gpt-4o-mini", "prompt": "Be brief.", "temperature": 0.2, "maxTokens": 512,
    "configuration": {"baseUrl": "http://localhost:11434/v1"}, "active": False, "enableRag": True,
    "ragSearchMode": "hybrid", "ragNumSources": 5, "ragIncludeFiles": True, "ragIncludeObjects": True,
    "requestQuota": 100, "tokenQuota": 10000, "views": ["v1"], "searchFiles": False, "searchObjects": False,
    "isPrivate": False, "invitedUsers": ["bob"], "groups": ["staff"], "tools": ["search"], "user": "bot",
}
BAD_BODIES = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": 5}, "name"),
    ({"name": None}, "name"),
    ({"name": "A", "description": 5}, "description"),
    ({"name": "A", "type": None}, "type"),
    ({"name": "A", "type": ""}, "type"),
    ({"name": "A", "provider": "anthropic"}, "provider"),
    ({"name": "A", "provider": 1}, "provider"),
    ({"name": "A", "temperature": "0.5"}, "temperature"),
    ({"name": "A", "temperature": True}, "temperature"),
    ({"name": "A", "temperature": 2.5}, "temperature"),
    ({"name": "A", "temperature": -0.1}, "temperature"),
    ({"name": "A", "maxTokens": 0}, "maxTokens"),
    ({"name": "A", "maxTokens": 1.5}, "maxTokens"),
    ({"name": "A", "maxTokens": "100"}, "maxTokens"),
    ({"name": "A", "maxTokens": True}, "maxTokens"),
    ({"name": "A", "maxTokens": 2**31}, "maxTokens"),
    ({"name": "A", "tokenQuota": 10**30}, "tokenQuota"),
    ({"name": "A", "configuration": "x"}, "configuration"),
    ({"name": "A", "configuration": ["x"]}, "configuration"),
    ({"name": "A", "configuration": {"apiKey": "sk-secret"}}, "configuration"),
    ({"name": "A", "configuration": {"api_key": "sk-secret"}}, "configuration"),
    ({"name": "A", "configuration": {"openai": {"API_KEY": "sk-secret"}}}, "configuration"),
    ({"name": "A", "active": "yes"}, "active"),
    ({"name": "A", "active": 1}, "active"),
    ({"name": "A", "isPrivate": None}, "isPrivate"),
    ({"name": "A", "ragNumSources": -1}, "ragNumSources"),
    ({"name": "A", "requestQuota": "10"}, "requestQuota"),
    ({"name": "A", "views": "v1"}, "views"),
    ({"name": "A", "tools": [1]}, "tools"),
    ({"name": "A", "invitedUsers": None}, "invitedUsers"),
    ({"name": "A", "groups": [""]}, "groups"),
    ({"name": "A", "user": 5}, "user"),
]


def url(agent_or_ref="") -> str:
    ref = agent_or_ref.uuid if isinstance(agent_or_ref, Agent) else agent_or_ref
    return f"{API}/agents/{ref}" if ref != "" else f"{API}/agents"


def names(response) -> list[str]:
    return [agent["name"] for agent in response.get_json()["results"]]


def make_agents(owner, organisation, count, **overrides) -> list[Agent]:
    """`count` agents named "Agent 0".. with strictly increasing creation times."""
    start = utcnow()
    return [
        factories.make_agent(owner, organisation, name=f"Agent {i}", created=start + timedelta(seconds=i), **overrides)
        for i in range(count)
    ]


def stored(agent: Agent) -> Agent:
    db.session.expire_all()
    return db.session.get(Agent, agent.id)


class TestCreate:
    def test_create_returns_the_agent_with_the_contract_defaults(self, client, tenants, alice):
        response = client.post(url(), json={"name": "Helper"}, headers=alice)
        assert response.status_code == 201
        body = response.get_json()
        assert list(body) == AGENT_KEYS
        assert {key: body[key] for key in DEFAULTS} == DEFAULTS
        assert body["name"] == "Helper"
        assert body["owner"] == "alice"
        assert body["organisation"] == tenants["acme"].id
        assert body["created"].endswith("Z") and body["updated"].endswith("Z")
        assert response.headers["Location"].endswith(url(body["uuid"]))
        assert row_count(Agent) == 1

    def test_create_stores_every_writable_field(self, client, tenants, alice):
        body = client.post(url(), json=EVERY_WRITABLE_FIELD, headers=alice).get_json()
        assert {key: body[key] for key in EVERY_WRITABLE_FIELD} == EVERY_WRITABLE_FIELD
        assert client.get(url(body["uuid"]), headers=alice).get_json() == body

    def test_server_owned_keys_in_the_body_are_ignored(self, client, tenants, alice):
        body = client.post(url(), json={
            "name": "Helper", "id": 999, "uuid": "00000000-0000-4000-8000-000000000000", "owner": "carol",
            "organisation": tenants["globex"].id, "created": "2000-01-01T00:00:00Z", "updated": "2000-01-01T00:00:00Z",
            "managedByConfiguration": "x",
        }, headers=alice).get_json()
        assert body["id"] != 999
        assert body["uuid"] != "00000000-0000-4000-8000-000000000000"
        assert body["owner"] == "alice"
        assert body["organisation"] == tenants["acme"].id
        assert not body["created"].startswith("2000")
        assert body["managedByConfiguration"] is None

    def test_a_user_without_organisation_creates_an_agent_without_one(self, client, app, auth_headers):
        dave = factories.make_user("dave")
        db.session.commit()
        body = client.post(url(), json={"name": "Solo"}, headers=auth_headers(dave)).get_json()
        assert body["organisation"] is None

    @pytest.mark.parametrize("body, field", BAD_BODIES)
    def test_bad_input_is_rejected_and_writes_nothing(self, client, tenants, alice, body, field):
        response = client.post(url(), json=body, headers=alice)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Validation failed"
        assert field in response.get_json()["errors"]
        assert row_count(Agent) == 0

    @pytest.mark.parametrize("data", ["{not json", "[]", '"Helper"'])
    def test_a_body_that_is_not_a_json_object_is_rejected(self, client, tenants, alice, data):
        response = client.post(url(), data=data, content_type="application/json", headers=alice)
        assert response.status_code == 400
        assert row_count(Agent) == 0

    def test_an_api_key_is_refused_with_a_pointer_to_the_server_setting(self, client, tenants, alice):
        response = client.post(url(), json={"name": "A", "configuration": {"apiKey": "sk-secret"}}, headers=alice)
        assert response.get_json()["errors"]["configuration"] == [
            "Must not contain credentials (configuration.apiKey): an agent is readable by everyone who may use it. "
            "Credentials belong in the server configuration, e.g. OPENREGISTER_LLM_API_KEY."
        ]

    @pytest.mark.parametrize("configuration, path", [
        ({"token": "t"}, "configuration.token"),
        ({"llm": {"headers": {"X-Key": "k"}}}, "configuration.llm.headers"),
        ({"a": [{"Authorization": "Bearer x"}]}, "configuration.a[0].Authorization"),
        ({"client_secret": "s"}, "configuration.client_secret"),
        ({"proxy": {"password": "p"}}, "configuration.proxy.password"),
        ({"accessToken": "t"}, "configuration.accessToken"),
        ({"API-KEY": "k"}, "configuration.API-KEY"),
    ])
    def test_a_credential_at_any_depth_is_refused_naming_where(self, client, tenants, alice, configuration, path):
        response = client.post(url(), json={"name": "A", "configuration": configuration}, headers=alice)
        assert response.status_code == 400
        message = response.get_json()["errors"]["configuration"][0]
        assert f"({path})" in message and "server configuration" in message
        assert row_count(Agent) == 0

    def test_harmless_keys_are_kept(self, client, tenants, alice):
        configuration = {"baseUrl": None, "maxTokens": 5, "tokensPerMinute": 3, "topK": 4}
        response = client.post(url(), json={"name": "A", "configuration": configuration}, headers=alice)
        assert response.status_code == 201


class TestList:
    def test_lists_the_agents_the_user_may_use_newest_first(self, client, tenants, alice):
        alice_user, bob_user, acme = tenants["alice"], tenants["bob"], tenants["acme"]
        start = utcnow()
        for offset, (name, owner, organisation, overrides) in enumerate([
            ("own private", alice_user, acme, {"is_private": True}),
            ("public", bob_user, acme, {}),
            ("bob private", bob_user, acme, {"is_private": True}),
            ("invited", bob_user, acme, {"is_private": True, "invited_users": ["alice"]}),
            ("globex public", tenants["carol"], tenants["globex"], {}),
            ("no organisation", None, None, {}),
            ("own without organisation", alice_user, None, {}),
        ]):
            factories.make_agent(owner, organisation, name=name, created=start + timedelta(seconds=offset), **overrides)
        db.session.commit()
        response = client.get(url(), headers=alice)
        assert response.status_code == 200
        assert names(response) == ["own without organisation", "invited", "public", "own private"]
        assert response.get_json()["total"] == 4
        assert list(response.get_json()["results"][0]) == AGENT_KEYS

    def test_a_public_agent_without_organisation_is_seen_by_its_owner_and_invited_only(
            self, client, tenants, auth_headers):
        """The leak: public agents of users without an organisation were visible to every tenant."""
        dave = factories.make_user("dave")
        agent = factories.make_agent(dave, None, name="Dave's", is_private=False, invited_users=["bob"])
        db.session.commit()
        for who, status in (("dave", 200), ("bob", 200), ("alice", 404), ("carol", 404)):
            user = dave if who == "dave" else tenants[who]
            assert client.get(url(agent), headers=auth_headers(user)).status_code == status, who
        assert names(client.get(url(), headers=auth_headers(tenants["carol"]))) == []

    def test_another_organisation_sees_only_its_own_agents(self, client, tenants, carol):
        make_agents(tenants["alice"], tenants["acme"], 2)
        factories.make_agent(tenants["carol"], tenants["globex"], name="Globex agent")
        db.session.commit()
        assert names(client.get(url(), headers=carol)) == ["Globex agent"]

    def test_privacy_is_applied_before_paging(self, client, tenants, alice):
        agents = make_agents(tenants["bob"], tenants["acme"], 6)
        for agent in agents[1::2]:
            agent.is_private = True
        db.session.commit()
        response = client.get(url() + "?limit=2", headers=alice)
        assert names(response) == ["Agent 4", "Agent 2"]
        assert response.get_json()["total"] == 3
        assert names(client.get(url() + "?limit=2&offset=2", headers=alice)) == ["Agent 0"]

    @pytest.mark.parametrize("query, expected, limit, offset", [
        ("", ["Agent 4", "Agent 3", "Agent 2", "Agent 1", "Agent 0"], 50, 0),
        ("?limit=2", ["Agent 4", "Agent 3"], 2, 0),
        ("?_limit=2&_offset=2", ["Agent 2", "Agent 1"], 2, 2),
        ("?_page=2&_limit=2", ["Agent 2", "Agent 1"], 2, 2),
        ("?page=3&limit=2", ["Agent 0"], 2, 4),
        ("?offset=5", [], 50, 5),
        ("?offset=99", [], 50, 99),
        ("?limit=1000", ["Agent 4", "Agent 3", "Agent 2", "Agent 1", "Agent 0"], 100, 0),
    ])
    def test_paging(self, client, tenants, alice, query, expected, limit, offset):
        make_agents(tenants["alice"], tenants["acme"], 5)
        db.session.commit()
        response = client.get(url() + query, headers=alice)
        assert response.status_code == 200
        assert names(response) == expected
        assert {key: response.get_json()[key] for key in ("total", "limit", "offset")} == {
            "total": 5, "limit": limit, "offset": offset,
        }

    @pytest.mark.parametrize("query", ["?limit=0", "?limit=abc", "?_limit=-1", "?offset=-1", "?_page=0", "?page=x"])
    def test_bad_paging_arguments_are_rejected(self, client, tenants, alice, query):
        response = client.get(url() + query, headers=alice)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Validation failed"

    @pytest.mark.parametrize("search, expected", [
        ("HELP", ["Helpdesk"]),
        ("billing", ["Accounts"]),
        ("ES", ["Helpdesk", "Accounts"]),
        ("  ", ["Helpdesk", "Accounts", "100% sure"]),
        ("%", ["100% sure"]),
        ("_", []),
        ("nothing", []),
    ])
    def test_search_is_a_case_insensitive_substring_of_name_or_description(
        self, client, tenants, alice, search, expected
    ):
        start = utcnow()
        for offset, (name, description) in enumerate(
            [("100% sure", None), ("Accounts", "Answers Billing questions"), ("Helpdesk", "Support")]
        ):
            factories.make_agent(tenants["alice"], tenants["acme"], name=name, description=description,
                                 created=start + timedelta(seconds=offset))
        db.session.commit()
        response = client.get(url(), query_string={"_search": search}, headers=alice)
        assert names(response) == expected
        assert response.get_json()["total"] == len(expected)

    def test_listing_costs_the_same_statements_for_many_owners(self, client, tenants, alice, count_queries):
        factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        with count_queries() as few:
            client.get(url(), headers=alice)
        for index in range(5):
            factories.make_agent(factories.make_user(f"user{index}"), tenants["acme"])
        db.session.commit()
        with count_queries() as many:
            response = client.get(url(), headers=alice)
        assert response.get_json()["total"] == 6
        assert len(many) == len(few)


class TestShow:
    def test_show_by_uuid_and_by_id(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Helper")
        db.session.commit()
        by_uuid = client.get(url(agent), headers=alice)
        assert by_uuid.status_code == 200
        assert by_uuid.get_json()["uuid"] == agent.uuid
        assert client.get(url(str(agent.id)), headers=alice).get_json() == by_uuid.get_json()

    def test_an_invited_user_may_read_a_private_agent(self, client, tenants, bob):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], is_private=True, invited_users=["bob"])
        db.session.commit()
        assert client.get(url(agent), headers=bob).status_code == 200

    @pytest.mark.parametrize("reader, private", [("bob", True), ("carol", False), ("carol", True)])
    def test_an_agent_the_user_may_not_use_is_not_found(self, client, tenants, auth_headers, reader, private):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], is_private=private)
        db.session.commit()
        response = client.get(url(agent), headers=auth_headers(tenants[reader]))
        assert response.status_code == 404
        assert response.get_json()["error"] == "Agent not found"

    def test_the_owner_does_not_see_an_agent_of_an_organisation_that_is_not_active(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        other = factories.make_organisation("Other", owner=tenants["alice"])
        db.session.commit()
        assert tenants["alice"].active_organisation_id == other.id
        assert client.get(url(agent), headers=alice).status_code == 404

    @pytest.mark.parametrize("ref", ["999", "00000000-0000-4000-8000-000000000000", "not-a-uuid", "9" * 30])
    def test_an_unknown_agent_is_not_found(self, client, tenants, alice, ref):
        response = client.get(url(ref), headers=alice)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Agent not found", "message": f"No agent {ref} that you may use."}


class TestChangeAccess:
    @pytest.mark.parametrize("method, body", [("put", {"name": "Mine"}), ("patch", {"name": "Mine"}), ("delete", None)])
    def test_a_member_who_does_not_own_the_agent_is_forbidden(self, client, tenants, bob, method, body):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Helper")
        db.session.commit()
        response = getattr(client, method)(url(agent), json=body, headers=bob)
        assert response.status_code == 403
        assert response.get_json()["error"] == "Access denied"
        assert stored(agent).name == "Helper"
        assert row_count(Agent) == 1

    @pytest.mark.parametrize("method, body", [("put", {"name": "Mine"}), ("patch", {"name": "Mine"}), ("delete", None)])
    @pytest.mark.parametrize("caller, private", [("carol", False), ("bob", True)])
    def test_an_agent_the_user_may_not_use_is_not_found_before_ownership(
        self, client, tenants, auth_headers, method, body, caller, private
    ):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Helper", is_private=private)
        db.session.commit()
        response = getattr(client, method)(url(agent), json=body, headers=auth_headers(tenants[caller]))
        assert response.status_code == 404
        assert response.get_json()["error"] == "Agent not found"
        assert stored(agent).name == "Helper"
        assert row_count(Agent) == 1


class TestPut:
    def test_put_replaces_the_writable_fields_and_resets_absent_ones(self, client, tenants, alice):
        created = client.post(url(), json=EVERY_WRITABLE_FIELD, headers=alice).get_json()
        response = client.put(url(created["uuid"]), json={"name": "Renamed"}, headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert {key: body[key] for key in DEFAULTS} == DEFAULTS
        assert body["name"] == "Renamed"
        assert {key: body[key] for key in ("id", "uuid", "owner", "organisation", "created")} == {
            key: created[key] for key in ("id", "uuid", "owner", "organisation", "created")
        }

    def test_put_keeps_uuid_owner_and_organisation_whatever_the_body_says(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        uuid = agent.uuid
        body = client.put(url(agent), json={
            "name": "Renamed", "uuid": "00000000-0000-4000-8000-000000000000", "id": 999, "owner": "bob",
            "organisation": tenants["globex"].id,
        }, headers=alice).get_json()
        assert body["uuid"] == uuid
        assert body["id"] == agent.id
        assert body["owner"] == "alice"
        assert body["organisation"] == tenants["acme"].id

    @pytest.mark.parametrize("body, field", BAD_BODIES)
    def test_bad_input_changes_nothing(self, client, tenants, alice, body, field):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Helper", temperature=0.5)
        db.session.commit()
        response = client.put(url(agent), json=body, headers=alice)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]
        assert (stored(agent).name, stored(agent).temperature) == ("Helper", 0.5)


class TestPatch:
    def test_patch_changes_only_the_fields_sent(self, client, tenants, alice):
        created = client.post(url(), json=EVERY_WRITABLE_FIELD, headers=alice).get_json()
        response = client.patch(url(created["uuid"]), json={"temperature": 1, "views": [], "configuration": None},
                                headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert body == {**created, "temperature": 1.0, "views": [], "configuration": None, "updated": body["updated"]}

    def test_an_empty_patch_changes_nothing(self, client, tenants, alice):
        created = client.post(url(), json=EVERY_WRITABLE_FIELD, headers=alice).get_json()
        body = client.patch(url(created["uuid"]), json={}, headers=alice).get_json()
        assert body == {**created, "updated": body["updated"]}

    @pytest.mark.parametrize("body, field", [(body, field) for body, field in BAD_BODIES if body] + [
        ({"maxTokens": -5}, "maxTokens"),
        ({"configuration": {"apiKey": "sk-secret"}}, "configuration"),
    ])
    def test_bad_input_changes_nothing(self, client, tenants, alice, body, field):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], name="Helper", configuration={"a": 1})
        db.session.commit()
        response = client.patch(url(agent), json=body, headers=alice)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]
        assert (stored(agent).name, stored(agent).configuration) == ("Helper", {"a": 1})


class TestDelete:
    def test_delete_removes_the_agent(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        response = client.delete(url(agent), headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Agent deleted successfully"}
        assert row_count(Agent) == 0
        assert client.get(url(agent.uuid), headers=alice).status_code == 404

    def test_conversations_of_a_deleted_agent_live_on_without_it(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        conversation = factories.make_conversation(tenants["alice"], agent_id=agent.id)
        factories.make_message(conversation)
        db.session.commit()
        uuid = agent.uuid
        assert client.delete(url(uuid), headers=alice).status_code == 200
        assert row_count(Conversation) == 1
        assert db.session.get(Conversation, conversation.id).agent_id is None
        shown = client.get(f"{API}/conversations/{conversation.uuid}", headers=alice).get_json()
        assert shown["agentId"] is None
        assert shown["messageCount"] == 1


class TestStatsAndTools:
    def test_stats_count_the_agents_the_user_may_use(self, client, tenants, alice):
        factories.make_agent(tenants["alice"], tenants["acme"])
        factories.make_agent(tenants["alice"], tenants["acme"], active=False)
        factories.make_agent(tenants["bob"], tenants["acme"], active=False)
        factories.make_agent(tenants["bob"], tenants["acme"], is_private=True)
        factories.make_agent(tenants["carol"], tenants["globex"])
        db.session.commit()
        response = client.get(url("stats"), headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"total": 3, "active": 1, "inactive": 2}

    def test_stats_of_a_user_without_agents(self, client, tenants, carol):
        assert client.get(url("stats"), headers=carol).get_json() == {"total": 0, "active": 0, "inactive": 0}

    def test_tools_is_an_empty_catalogue(self, client, tenants, alice):
        response = client.get(url("tools"), headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"results": {}}


@pytest.mark.parametrize("method, path", [
    ("get", ""), ("post", ""), ("get", "/stats"), ("get", "/tools"), ("get", "/1"), ("put", "/1"), ("patch", "/1"),
    ("delete", "/1"),
])
def test_every_agent_route_needs_authentication(client, tenants, method, path):
    response = getattr(client, method)(f"{API}/agents{path}")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
