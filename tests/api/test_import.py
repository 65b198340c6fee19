"""Import, contract beyond section 3: our export (JSON, NDJSON) and ChatGPT's conversations.json."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openregister.extensions import db
from openregister.models import Conversation, Feedback, Message
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count

CHATGPT_EXPORT = Path(__file__).parent.parent / "fixtures" / "chatgpt" / "conversations.json"
IMPORT = f"{API}/conversations/import"
NDJSON = "application/x-ndjson"


def document(title="Imported", messages=(), **conversation):
    return {"format": "openregister.conversation", "version": 1,
            "conversation": {"title": title, **conversation}, "messages": list(messages)}


def send(client, headers, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(IMPORT, data=data, content_type=content_type, headers=headers)


def ndjson(documents) -> str:
    return "".join(json.dumps(item) + "\n" for item in documents)


def exported(client, headers) -> list[dict]:
    response = client.get(f"{API}/conversations/export", headers=headers)
    assert response.status_code == 200
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def comparable(documents: list[dict]) -> list[dict]:
    """What an export then an import must keep (not uuids, the agent or the export time)."""
    return [
        {
            "title": d["conversation"]["title"], "metadata": d["conversation"]["metadata"],
            "created": d["conversation"]["created"], "updated": d["conversation"]["updated"],
            "deletedAt": d["conversation"]["deletedAt"],
            "messages": [{key: m[key] for key in ("role", "content", "sources", "created", "feedback")}
                         for m in d["messages"]],
        }
        for d in documents
    ]


class TestOurs:
    def test_one_document_creates_a_conversation_as_it_was(self, client, alice, tenants):
        body = document("Taxes", [
            {"role": "user", "content": "How much?", "created": "2025-01-02T03:04:05Z"},
            {"role": "assistant", "content": "42", "sources": [{"title": "Law"}], "created": "2025-01-02T03:04:06+01:00",
             "feedback": {"type": "negative", "comment": "too short"}},
        ], metadata={"a": [1]}, created="2025-01-02T03:04:00Z", updated="2025-01-03T00:00:00Z",
            deletedAt="2025-01-04T00:00:00Z")
        response = send(client, alice, body)
        assert response.status_code == 201
        result = response.get_json()
        conversation = db.session.scalars(db.select(Conversation)).one()
        assert result == {"imported": 1, "conversations": [{"uuid": conversation.uuid, "title": "Taxes"}]}
        assert (conversation.user_id, conversation.organisation_id) == (tenants["alice"].id, tenants["acme"].id)
        assert conversation.metadata_ == {"a": [1]}
        assert conversation.created == datetime(2025, 1, 2, 3, 4)
        assert conversation.deleted_at == datetime(2025, 1, 4)  # an archived conversation stays archived
        messages = db.session.scalars(db.select(Message).order_by(Message.id)).all()
        assert [(m.role, m.content, m.sources, m.created) for m in messages] == [
            ("user", "How much?", [], datetime(2025, 1, 2, 3, 4, 5)),
            ("assistant", "42", [{"title": "Law"}], datetime(2025, 1, 2, 2, 4, 6)),
        ]
        feedback = db.session.scalars(db.select(Feedback)).one()
        assert (feedback.message_id, feedback.user_id, feedback.type, feedback.comment) == (
            messages[1].id, tenants["alice"].id, "negative", "too short")

    def test_an_agent_the_caller_may_use_is_linked_and_another_is_not(self, client, alice, tenants):
        usable = factories.make_agent(tenants["alice"], tenants["acme"])
        private = factories.make_agent(tenants["carol"], tenants["globex"], is_private=True)
        db.session.commit()
        response = send(client, alice, ndjson([
            document("With", agent={"uuid": usable.uuid, "name": "x"}),
            document("Without", agent={"uuid": private.uuid, "name": "y"}),
        ]), NDJSON)
        assert response.status_code == 201
        agents = db.session.execute(db.select(Conversation.title, Conversation.agent_id).order_by(Conversation.id)).all()
        assert [tuple(row) for row in agents] == [("With", usable.id), ("Without", None)]

    def test_export_then_import_gives_the_same_conversations(self, client, alice, tenants):
        conversation = factories.make_conversation(tenants["alice"], title="Original", metadata_={"k": "v"})
        factories.make_message(conversation, "user", "Q", created=datetime(2025, 5, 1, 10, 0, 0))
        answer = factories.make_message(conversation, "assistant", "A", sources=[{"s": 1}],
                                        created=datetime(2025, 5, 1, 10, 0, 1))
        db.session.add(Feedback(message_id=answer.id, conversation_id=conversation.id, user_id=tenants["alice"].id,
                                organisation_id=tenants["acme"].id, type="positive", comment=None))
        factories.make_conversation(tenants["alice"], title="Archived", deleted_at=datetime(2025, 6, 1))
        db.session.commit()
        before = exported(client, alice)
        single = client.get(f"{API}/conversations/{conversation.uuid}/export", headers=alice).get_data()
        assert send(client, alice, single).status_code == 201
        assert send(client, alice, ndjson(before), NDJSON).status_code == 201
        after = exported(client, alice)
        assert comparable(after) == comparable(before) + comparable(before[:1]) + comparable(before)

    def test_a_body_above_the_app_limit_but_within_the_import_limit_is_accepted(self, app, client, alice):
        content = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
        response = send(client, alice, document("Big", [{"role": "user", "content": content}]))
        assert response.status_code == 201
        assert db.session.scalar(db.select(Message.content)) == content

    def test_a_body_above_the_import_limit_is_a_413_and_writes_nothing(self, app, client, alice):
        app.config["MAX_IMPORT_SIZE"] = 1000
        response = send(client, alice, document("Big", [{"role": "user", "content": "x" * 1000}]))
        assert response.status_code == 413
        assert response.get_json()["error"] == "Request Entity Too Large"
        assert row_count(Conversation) == 0

    def test_other_routes_keep_the_app_limit(self, app, client, alice):
        response = client.post(f"{API}/conversations", json={"title": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)},
                               headers=alice)
        assert response.status_code == 413

    def test_a_body_of_another_type_is_a_415(self, client, alice):
        assert send(client, alice, "title,content\n", "text/csv").status_code == 415

    def test_import_needs_authentication(self, client):
        assert send(client, {}, document()).status_code == 401


def junk_cases():
    good = document("ok", [{"role": "user", "content": "hi"}])
    return [
        (good, b"", None, "The body is empty"),
        (None, b"{", "application/json", "Document 0: The request body is not valid JSON"),
        (None, b'{"format": NaN}', "application/json", "Document 0: The request body is not acceptable JSON"),
        (None, b"[" * 100 + b"]" * 100, "application/json", "nested deeper than 64 levels"),
        ({**good, "format": "other"}, None, None, "Document 0: format: Must be equal to openregister.conversation."),
        ({**good, "version": 2}, None, None, "Document 0: version: Must be equal to 1."),
        ({**good, "version": True}, None, None, "Document 0: version: Not a valid integer."),
        (document(None), None, None, "Document 0: conversation.title: Field may not be null."),
        (document(7), None, None, "Document 0: conversation.title: Not a valid string."),
        (document("x", [{"role": "robot", "content": "hi"}]), None, None, "Document 0: messages.0.role: Must be one of"),
        (document("x", [{"role": "user", "content": 5}]), None, None, "Document 0: messages.0.content: Not a valid string."),
        (document("x", [{"role": "user", "content": "a", "feedback": {"type": "positive"}}]), None, None,
         "Document 0: messages.0.feedback: Only the assistant's messages take feedback."),
        (document("x", [{"role": "user", "content": "a", "created": "yesterday"}]), None, None,
         "Document 0: messages.0.created: Not a valid datetime."),
        (document("x", [{"role": "user", "content": "a\u0000b"}]), None, None,
         "Document 0: The request body is not acceptable JSON: a string contains the NUL character"),
        ({**good, "messages": "not a list"}, None, None, "Document 0: messages: Not a valid list."),
        ([], ndjson([good, good, {**good, "messages": None}]).encode(), NDJSON, "Document 2: messages: Field may not be null."),
        ([], ndjson([good]).encode() + b"\n\n  \n{oops}\n", NDJSON, "Document 1: The request body is not valid JSON"),
        ([], ndjson([good, [1]]).encode(), NDJSON, "Document 1: A document must be a JSON object."),
        ([{"mapping": {}, "current_node": "n"}], None, None, "Document 0: current_node: Must name a node of the mapping."),
        ([{"mapping": []}], None, None, "Document 0: mapping: Must be an object of nodes keyed by id."),
        ([{"title": 5, "mapping": {}}], None, None, "Document 0: title: Must be a string or null."),
        ([{"mapping": {"a": {"parent": "b"}, "b": {"parent": "a"}}, "current_node": "a"}], None, None,
         "The nodes' parents form a cycle."),
        # a parent that is not a node id (a list or an object cannot even be looked up)
        ([{"mapping": {"a": {"parent": []}}, "current_node": "a"}], None, None, "Document 0: mapping.[]: Must be a node"),
        ([{"mapping": {"a": {"parent": {"b": 1}}}, "current_node": "a"}], None, None, "Must be a node object"),
        ([{"mapping": {"a": {"parent": 7}}, "current_node": "a"}], None, None, "Document 0: mapping.7: Must be a node"),
        ([{"mapping": {"a": {"parent": None, "message": {
            "create_time": "noon", "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["hi"]},
        }}}, "current_node": "a"}], None, None, "Document 0: mapping.a.message.create_time: Must be a number"),
        ([{"mapping": {"a": {}}, "current_node": "a", "create_time": 1e300}], None, None,
         "Document 0: create_time: Is out of range."),
        ([good, 3], None, None, "Document 1: A conversation must be a JSON object."),
    ]


@pytest.mark.parametrize("body, raw, content_type, message", junk_cases())
def test_an_invalid_document_is_a_400_naming_position_and_field_and_nothing_is_written(
        client, alice, body, raw, content_type, message):
    factories_before = row_count(Conversation)
    response = send(client, alice, raw if raw is not None else body, content_type or "application/json")
    assert response.status_code == 400, response.get_json()
    assert message in response.get_json()["message"]
    assert row_count(Conversation) == factories_before == 0
    assert row_count(Message) == 0


class TestChatGPT:
    def test_the_current_branch_is_imported_with_text_messages_in_order(self, client, alice):
        before = utcnow().replace(microsecond=0)
        response = send(client, alice, CHATGPT_EXPORT.read_bytes())
        assert response.status_code == 201
        result = response.get_json()
        assert result["imported"] == 2
        assert [c["title"] for c in result["conversations"]] == ["Weekend in Lisbon", "Imported conversation"]
        listing = client.get(f"{API}/conversations", headers=alice).get_json()
        assert {c["uuid"] for c in listing["results"]} == {c["uuid"] for c in result["conversations"]}
        lisbon = result["conversations"][0]["uuid"]
        page = client.get(f"{API}/conversations/{lisbon}/messages?order=asc", headers=alice).get_json()
        assert [(m["role"], m["content"]) for m in page["results"]] == [
            ("user", "Plan a weekend in Lisbon for two."),
            ("assistant", "Day 1: Alfama and the castle.\nDay 2: Belém."),
            ("user", "What about food and wine? Search for it."),
            ("assistant", "Time Out Market for food; vinho verde to drink."),
            ("user", "What is this dish?"),
            ("assistant", "That is bacalhau à Brás."),
        ]
        assert [m["created"] for m in page["results"][:5]] == [
            "2024-04-24T23:06:50Z", "2024-04-24T23:07:10Z", "2024-04-24T23:10:00Z", "2024-04-24T23:10:10Z",
            "2024-04-24T23:11:40Z",
        ]
        # No create_time: the time of the import.
        assert datetime.fromisoformat(page["results"][5]["created"]).replace(tzinfo=None) >= before
        conversation = client.get(f"{API}/conversations/{lisbon}", headers=alice).get_json()
        assert (conversation["created"], conversation["updated"]) == ("2024-04-24T23:06:40Z", "2024-04-24T23:21:40Z")

    def test_the_created_times_come_from_epoch_seconds_in_utc(self):
        assert datetime.fromtimestamp(1714000010.0, UTC).isoformat() == "2024-04-24T23:06:50+00:00"


# Text a JSON body can carry and a text column can hold: no lone surrogates, no NUL.
TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
documents = st.builds(
    lambda title, metadata, created, deleted, messages: document(
        title, messages, metadata=metadata, created=created, updated=created, deletedAt=deleted),
    title=st.text(TEXT, min_size=1, max_size=40),
    metadata=st.dictionaries(st.text(TEXT, max_size=5),
                             st.one_of(st.integers(-2**31, 2**31), st.text(TEXT, max_size=5), st.booleans(), st.none()),
                             max_size=3),
    created=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda value: value.replace(microsecond=0).isoformat() + "Z"),
    deleted=st.one_of(st.none(), st.just("2030-01-01T00:00:00Z")),
    messages=st.lists(st.builds(
        lambda role, content, rated, comment: {
            "role": role, "content": content, "sources": [{"title": content[:3]}] if content else [],
            "created": "2024-01-01T00:00:00Z",
            "feedback": {"type": rated, "comment": comment} if rated and role == "assistant" else None,
        },
        role=st.sampled_from(["user", "assistant", "system"]),
        content=st.text(TEXT, max_size=30),
        rated=st.sampled_from([None, "positive", "negative"]),
        comment=st.one_of(st.none(), st.text(TEXT,
                                             max_size=10)),
    ), max_size=4),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(documents, min_size=1, max_size=3))
def test_import_then_export_round_trips(client, alice, items):
    try:
        response = send(client, alice, ndjson(items), NDJSON)
        assert response.status_code == 201, response.get_json()
        expected = [{**item, "conversation": {"deletedAt": None, **item["conversation"]}} for item in items]
        assert comparable(exported(client, alice)) == comparable(expected)
    finally:
        db.session.execute(db.delete(Conversation))
        db.session.commit()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
junk_ours = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from(["openregister.conversation", "other"]) | json_values,
        "version": st.sampled_from([1, 1.0, True, "1"]) | json_values,
        "conversation": st.fixed_dictionaries({}, optional={
            "title": st.text(max_size=300) | json_values, "metadata": json_values, "created": st.text(max_size=30),
            "updated": json_values, "deletedAt": st.sampled_from(["2024-01-01T00:00:00+14:00", "0001-01-01T00:00:00+01:00"]),
            "agent": json_values,
        }) | json_values,
        "messages": st.lists(st.fixed_dictionaries({}, optional={
            "role": st.sampled_from(["user", "assistant", "tool"]) | json_values,
            "content": st.text(max_size=10) | json_values, "sources": json_values, "created": json_values,
            "feedback": st.fixed_dictionaries({}, optional={"type": st.sampled_from(["positive", "x"]),
                                                            "comment": json_values}) | json_values,
        }) | json_values, max_size=3) | json_values,
    },
)
junk_node = st.fixed_dictionaries({}, optional={
    "parent": st.sampled_from(["n0", "n1", "n2", None]) | json_values,
    "message": st.fixed_dictionaries({}, optional={
        "author": st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "tool"]) | json_values}) | json_values,
        "content": st.fixed_dictionaries({}, optional={
            "content_type": st.sampled_from(["text", "multimodal_text", "code"]) | json_values,
            "parts": st.lists(st.text(max_size=5) | json_values, max_size=3) | json_values,
        }) | json_values,
        "create_time": st.floats(allow_nan=False) | json_values,
    }) | json_values,
})
junk_chatgpt = st.lists(st.fixed_dictionaries({}, optional={
    "title": st.text(max_size=300) | json_values,
    "create_time": st.floats(allow_nan=False, allow_infinity=False) | json_values,
    "mapping": st.dictionaries(st.sampled_from(["n0", "n1", "n2"]), junk_node, max_size=3) | json_values,
    "current_node": st.sampled_from(["n0", "n1", "n2"]) | json_values,
}) | json_values, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=junk_ours | junk_chatgpt | st.lists(junk_ours, max_size=3).map(ndjson))
def test_junk_is_refused_with_a_400_never_a_server_error(client, alice, body):
    try:
        content_type = NDJSON if isinstance(body, str) else "application/json"
        response = send(client, alice, body, content_type)
        assert response.status_code in (201, 400), response.get_data(as_text=True)
        assert response.is_json
    finally:
        db.session.execute(db.delete(Conversation))
        db.session.commit()
