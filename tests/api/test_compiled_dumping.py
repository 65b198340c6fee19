"""The serializer compiled from each schema gives the same bytes as marshmallow's own dumping."""

import pytest
from marshmallow import fields
from sqlalchemy import literal, select

from openregister.extensions import db
from openregister.models.base import utcnow
from openregister.schemas.base import CamelCaseSchema
from openregister.schemas.dumping import CompiledDumpMixin, WithValues

from .. import factories
from ..conftest import API


@pytest.fixture
def rich_data(tenants):
    alice = tenants["alice"]
    agent = factories.make_agent(alice, tenants["acme"], name="Ägent ☃", description=None, temperature=0.25)
    conversation = factories.make_conversation(alice, title="Grüße \u2028 \"quoted\"", agent_id=agent.id,
                                               metadata_={"nested": {"a": [1, 2.5, None, True]}, "ü": "\x01"})
    factories.make_messages(conversation, 5)
    factories.make_message(conversation, role="assistant", content="with sources").sources = [
        {"title": "Doc", "score": 0.5}]
    factories.make_conversation(alice, title="archived", deleted_at=utcnow())
    factories.make_conversation(alice, organisation_id=None, title="no organisation")
    db.session.commit()
    return {"conversation": conversation.uuid, "agent": agent.uuid}


def test_every_hot_route_answers_the_same_bytes_both_ways(client, alice, rich_data, monkeypatch):
    uuid = rich_data["conversation"]
    paths = [
        "/conversations", "/conversations?limit=1", "/conversations?_deleted=true", "/conversations?includeDeleted=1",
        "/conversations/archive", f"/conversations/{uuid}", f"/conversations/{uuid}/messages",
        f"/conversations/{uuid}/messages?order=asc&limit=2&offset=1", f"/chat/history?conversationId={uuid}",
        "/agents", f"/agents/{rich_data['agent']}", "/organisations", "/organisations/active", "/chat/stats",
        "/conversations/unknown", "/conversations?_search=quoted",
    ]
    compiled = {path: client.get(API + path, headers=alice) for path in paths}
    monkeypatch.setattr(CompiledDumpMixin, "compiled", False)
    for path in paths:
        reference = client.get(API + path, headers=alice)
        assert compiled[path].status_code == reference.status_code, path
        assert compiled[path].get_data() == reference.get_data(), path


class _Shown(CamelCaseSchema):
    id = fields.Integer()
    title = fields.String()
    the_match = fields.Dict()
    absent = fields.String()


class _ShownWithCount(_Shown):
    count = fields.Integer()  # also the name of a Row method: the values must give it


@pytest.mark.parametrize(("schema", "values"), [
    (_Shown, {}), (_Shown, {"title": "from the values"}), (_Shown, {"the_match": {"id": 1}}),
    (_ShownWithCount, {"count": 3, "title": "from the values"}),
])
def test_a_row_with_values_dumps_as_marshmallow_does(app, monkeypatch, schema, values):
    row = db.session.execute(select(literal(7).label("id"), literal("from the row").label("title"))).one()

    def dumped():
        return [schema().dump(WithValues(row, **values)), schema(many=True).dump([WithValues(row, **values)] * 2)]

    compiled = dumped()
    monkeypatch.setattr(CompiledDumpMixin, "compiled", False)
    assert compiled == dumped()
    assert compiled[0]["title"] == values.get("title", "from the row")
