"""database.read: the hot read paths' statements on the DBAPI cursor give what SQLAlchemy gives."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, exc, select
from sqlalchemy.engine import Connection

from openregister.auth import CALLER_BY_UUID
from openregister.database import read
from openregister.extensions import db
from openregister.models.base import utcnow
from openregister.models import Caller, Message
from openregister.services.conversations import (
    CONVERSATION_ROW,
    _conversations,
    _message_listing,
    get_conversation_row_for,
    latest_messages,
)

from . import factories


@pytest.fixture
def executions(monkeypatch):
    """How many statements went through SQLAlchemy's Connection.execute."""
    calls = []
    execute = Connection.execute

    def counted(self, statement, *args, **kwargs):
        calls.append(statement)
        return execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(Connection, "execute", counted)
    return calls


def fresh(stmt):
    """A copy of `stmt` that read has not seen yet (it keeps what it prepared for the life of a statement)."""
    return stmt.params()


def sqlalchemy_rows(stmt, params):
    return db.session.connection().execute(stmt, params).all()


@pytest.fixture
def conversation(tenants):
    conversation = factories.make_conversation(tenants["alice"], title="Plans", metadata_={"n": 1, "tags": ["a"]})
    factories.make_messages(conversation, 3)
    db.session.commit()
    return conversation


def test_a_statement_runs_through_sqlalchemy_once_then_on_the_cursor(app, conversation, executions):
    by_uuid = CONVERSATION_ROW.where(_conversations.c.uuid == bindparam("ref"))
    first = read(by_uuid, {"ref": conversation.uuid})
    second = read(by_uuid, {"ref": conversation.uuid})
    assert len(executions) == 1
    assert first == second == sqlalchemy_rows(by_uuid, {"ref": conversation.uuid})


@pytest.mark.parametrize("statement", ["caller", "conversation", "messages", "count"])
def test_rows_from_the_cursor_are_sqlalchemys_rows(app, tenants, conversation, statement):
    stmt, params = {
        "caller": (CALLER_BY_UUID, {"uuid": tenants["alice"].uuid}),
        "conversation": (CONVERSATION_ROW.where(_conversations.c.id == bindparam("ref")), {"ref": conversation.id}),
        "messages": (_message_listing(True).rows, {"conversation_id": conversation.id, "limit": 2, "offset": 1}),
        "count": (_message_listing(True).count, {"conversation_id": conversation.id}),
    }[statement]
    stmt = fresh(stmt)
    read(stmt, params)
    from_cursor = read(stmt, params)
    expected = sqlalchemy_rows(stmt, params)
    assert from_cursor == expected and from_cursor
    for row, expected_row in zip(from_cursor, expected):
        assert row._fields == expected_row._fields
        assert [type(value) for value in row] == [type(value) for value in expected_row]
        assert row._mapping == expected_row._mapping


def test_the_values_come_converted_as_the_columns_say(app, tenants, conversation):
    stmt = CONVERSATION_ROW.where(_conversations.c.id == bindparam("ref"))
    read(stmt, {"ref": conversation.id})
    (row,) = read(stmt, {"ref": conversation.id})
    assert row.metadata_ == {"n": 1, "tags": ["a"]}
    assert isinstance(row.created, datetime) and row.owner_name == "alice" and row.message_count == 3
    (caller,) = read(CALLER_BY_UUID, {"uuid": tenants["alice"].uuid})
    (caller,) = read(CALLER_BY_UUID, {"uuid": tenants["alice"].uuid})
    assert caller.disabled is False and caller.active_organisation == tenants["acme"].id


def test_later_parameters_are_used_and_no_row_is_an_empty_list(app, tenants, conversation):
    read(CALLER_BY_UUID, {"uuid": tenants["alice"].uuid})
    assert read(CALLER_BY_UUID, {"uuid": tenants["bob"].uuid})[0].username == "bob"
    assert read(CALLER_BY_UUID, {"uuid": "no such user"}) == []


def test_statements_alike_but_for_their_literals_keep_their_own_values(app, conversation):
    # SQLAlchemy compiles both once (the same cache key): each run binds its own statement's LIMIT.
    messages = _message_listing(True).rows.where(bindparam("x", 0) == 0)
    one, two = messages.limit(1), messages.limit(2)
    params = {"conversation_id": conversation.id, "limit": 10, "offset": 0, "x": 0}
    for stmt in (one, two, one, two):
        assert len(read(stmt, params)) == (1 if stmt is one else 2)


def test_other_parameters_than_the_first_runs_go_through_sqlalchemy(app, conversation, executions):
    stmt = fresh(_message_listing(True).rows)
    params = {"conversation_id": conversation.id, "limit": 2, "offset": 0}
    read(stmt, params)
    read(stmt, params)
    assert len(executions) == 1
    with pytest.raises(exc.StatementError):  # as SQLAlchemy says of a missing parameter
        read(stmt, {"conversation_id": conversation.id, "limit": 2})
    assert len(executions) == 2


def test_while_something_listens_every_statement_goes_through_sqlalchemy(app, tenants, executions):
    caller_by_uuid, params = fresh(CALLER_BY_UUID), {"uuid": tenants["alice"].uuid}
    read(caller_by_uuid, params)
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(context)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        read(caller_by_uuid, params)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1 and seen[0] is not None
    read(caller_by_uuid, params)
    assert len(executions) == 2


def test_a_database_error_on_the_cursor_is_sqlalchemys_error(app):
    probe = Table("read_probe", MetaData(), Column("id", Integer, primary_key=True))
    probe.create(db.session.connection())
    stmt = select(probe.c.id).where(probe.c.id > bindparam("least"))
    read(stmt, {"least": 0})
    assert read(stmt, {"least": 0}) == []
    probe.drop(db.session.connection())
    with pytest.raises(exc.DBAPIError):
        read(stmt, {"least": 0})
    db.session.rollback()


def test_what_the_session_holds_unflushed_is_read(app, tenants, conversation):
    # As db.session.execute does, read flushes first: the rows include the request's own changes.
    actor = Caller.of(tenants["alice"])
    for _ in range(2):  # the second time on the cursor
        latest_messages(conversation.id, 5)
        get_conversation_row_for(actor, conversation.uuid)
    db.session.add(Message(conversation_id=conversation.id, role="user", content="pending"))
    conversation.title = "Renamed"
    assert latest_messages(conversation.id, 5)[-1].content == "pending"
    assert get_conversation_row_for(actor, conversation.uuid).title == "Renamed"


def test_each_transaction_reads_on_its_own_connection(app, conversation):
    before = len(latest_messages(conversation.id, 50))
    first = db.session.connection()
    assert len(latest_messages(conversation.id, 50)) == before
    # after the fixture's messages, which are stamped a few milliseconds apart from now
    factories.make_message(conversation, content="later", created=utcnow() + timedelta(seconds=1))
    db.session.commit()  # the transaction, and with it the connection, ends
    assert latest_messages(conversation.id, 50)[-1].content == "later"
    assert db.session.connection() is not first
    db.session.rollback()
    assert len(latest_messages(conversation.id, 50)) == before + 1
