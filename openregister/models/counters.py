"""How many agents, conversations and messages each organisation holds (and, outside any
organisation, each user), kept exact by database triggers in the transaction that changes the rows.

Counting them on every `chat/stats` call reads every conversation and message of the organisation:
seconds at a million conversations. Triggers keep these rows in step with every writer (the
services, `flask seed`'s bulk inserts, the database's own cascades when an organisation, a user or a
conversation is deleted for good), so a count is one primary-key read at any size.

A row counts what `chat_stats` counts: an organisation's row its agents and conversations (every
member's, archived ones too) and their messages; a user's row what they own outside any organisation.
Deleting an organisation moves its conversations and agents to their users' rows (the foreign keys
set organisation_id to NULL, and the update triggers follow).

SQLite drops a table's triggers when the table is rebuilt: a later migration that rebuilds
organisations, users, agents, conversations or messages in batch mode must call
`create_counter_triggers` again (test_migrations checks the counts after the whole chain).
"""

from typing import Any

from sqlalchemy import Connection, ForeignKey, MetaData, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import Model


class Counts:
    """The three counts every counter row keeps (the triggers change them alike)."""

    agents: Mapped[int] = mapped_column(default=0, server_default="0")
    conversations: Mapped[int] = mapped_column(default=0, server_default="0")
    messages: Mapped[int] = mapped_column(default=0, server_default="0")


class OrganisationCounter(Counts, Model):
    __tablename__ = "organisation_counters"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)


class PersonalCounter(Counts, Model):
    """What a user owns outside any organisation."""

    __tablename__ = "personal_counters"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


TRIGGERS = (
    "counters_organisation_insert", "counters_user_insert", "counters_agent_insert", "counters_agent_delete",
    "counters_agent_update", "counters_conversation_insert", "counters_conversation_delete",
    "counters_conversation_update", "counters_message_insert", "counters_message_delete",
)
TRIGGER_TABLES = {
    "counters_organisation_insert": "organisations", "counters_user_insert": "users",
    "counters_agent_insert": "agents", "counters_agent_delete": "agents", "counters_agent_update": "agents",
    "counters_conversation_insert": "conversations", "counters_conversation_delete": "conversations",
    "counters_conversation_update": "conversations", "counters_message_insert": "messages",
    "counters_message_delete": "messages",
}
MESSAGES_OF = "(SELECT count(*) FROM messages WHERE conversation_id = {row}.id)"


def _sqlite_add(organisation: str, user: str, *, agents: str = "0", conversations: str = "0",
                messages: str = "0") -> str:
    """Statements adding to the counters of the scope (organisation, else user) given by two SQL expressions."""
    changes = f"agents = agents + ({agents}), conversations = conversations + ({conversations}), " \
              f"messages = messages + ({messages})"
    return (
        f"UPDATE organisation_counters SET {changes} WHERE organisation_id = {organisation};\n"
        f"UPDATE personal_counters SET {changes} WHERE {organisation} IS NULL AND user_id = {user};\n"
    )


def _sqlite_statements() -> list[str]:
    conversation_of = "(SELECT {column} FROM conversations WHERE id = {row}.conversation_id)"
    message_scope = {
        row: (conversation_of.format(column="organisation_id", row=row), conversation_of.format(column="user_id", row=row))
        for row in ("NEW", "OLD")
    }
    moved = "OLD.organisation_id IS NOT NEW.organisation_id OR OLD.{owner} IS NOT NEW.{owner}"
    return [
        "CREATE TRIGGER counters_organisation_insert AFTER INSERT ON organisations BEGIN\n"
        "INSERT INTO organisation_counters (organisation_id, agents, conversations, messages) "
        "VALUES (NEW.id, 0, 0, 0) ON CONFLICT DO NOTHING;\nEND",
        "CREATE TRIGGER counters_user_insert AFTER INSERT ON users BEGIN\n"
        "INSERT INTO personal_counters (user_id, agents, conversations, messages) "
        "VALUES (NEW.id, 0, 0, 0) ON CONFLICT DO NOTHING;\nEND",
        "CREATE TRIGGER counters_agent_insert AFTER INSERT ON agents BEGIN\n"
        + _sqlite_add("NEW.organisation_id", "NEW.owner_id", agents="1") + "END",
        "CREATE TRIGGER counters_agent_delete AFTER DELETE ON agents BEGIN\n"
        + _sqlite_add("OLD.organisation_id", "OLD.owner_id", agents="-1") + "END",
        f"CREATE TRIGGER counters_agent_update AFTER UPDATE OF organisation_id, owner_id ON agents "
        f"WHEN {moved.format(owner='owner_id')} BEGIN\n"
        + _sqlite_add("OLD.organisation_id", "OLD.owner_id", agents="-1")
        + _sqlite_add("NEW.organisation_id", "NEW.owner_id", agents="1") + "END",
        "CREATE TRIGGER counters_conversation_insert AFTER INSERT ON conversations BEGIN\n"
        + _sqlite_add("NEW.organisation_id", "NEW.user_id", conversations="1") + "END",
        # BEFORE: the messages are still there to be counted; their own delete triggers, run by the
        # cascade once the conversation is gone, find no conversation and change nothing.
        "CREATE TRIGGER counters_conversation_delete BEFORE DELETE ON conversations BEGIN\n"
        + _sqlite_add("OLD.organisation_id", "OLD.user_id", conversations="-1",
                      messages="-" + MESSAGES_OF.format(row="OLD")) + "END",
        f"CREATE TRIGGER counters_conversation_update AFTER UPDATE OF organisation_id, user_id ON conversations "
        f"WHEN {moved.format(owner='user_id')} BEGIN\n"
        + _sqlite_add("OLD.organisation_id", "OLD.user_id", conversations="-1",
                      messages="-" + MESSAGES_OF.format(row="OLD"))
        + _sqlite_add("NEW.organisation_id", "NEW.user_id", conversations="1",
                      messages=MESSAGES_OF.format(row="NEW")) + "END",
        "CREATE TRIGGER counters_message_insert AFTER INSERT ON messages BEGIN\n"
        + _sqlite_add(*message_scope["NEW"], messages="1") + "END",
        "CREATE TRIGGER counters_message_delete AFTER DELETE ON messages BEGIN\n"
        + _sqlite_add(*message_scope["OLD"], messages="-1") + "END",
    ]


POSTGRESQL_FUNCTIONS = [
    """CREATE FUNCTION counters_add(organisation integer, owner integer, agents_change bigint,
    conversations_change bigint, messages_change bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF organisation IS NOT NULL THEN
        UPDATE organisation_counters SET agents = agents + agents_change,
            conversations = conversations + conversations_change, messages = messages + messages_change
        WHERE organisation_id = organisation;
    ELSIF owner IS NOT NULL THEN
        UPDATE personal_counters SET agents = agents + agents_change,
            conversations = conversations + conversations_change, messages = messages + messages_change
        WHERE user_id = owner;
    END IF;
END $$""",
    """CREATE FUNCTION counters_new_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'organisations' THEN
        INSERT INTO organisation_counters (organisation_id, agents, conversations, messages)
        VALUES (NEW.id, 0, 0, 0) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO personal_counters (user_id, agents, conversations, messages)
        VALUES (NEW.id, 0, 0, 0) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION counters_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM counters_add(OLD.organisation_id, OLD.owner_id, -1, 0, 0);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM counters_add(NEW.organisation_id, NEW.owner_id, 1, 0, 0);
    END IF;
    RETURN NULL;
END $$""",
    # Run BEFORE a delete, while the messages are there to be counted; their own delete triggers,
    # run by the cascade once the conversation is gone, find no conversation and change nothing.
    """CREATE FUNCTION counters_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    message_count bigint := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT count(*) INTO message_count FROM messages WHERE conversation_id = OLD.id;
        PERFORM counters_add(OLD.organisation_id, OLD.user_id, 0, -1, -message_count);
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    PERFORM counters_add(NEW.organisation_id, NEW.user_id, 0, 1, message_count);
    RETURN NULL;
END $$""",
    """CREATE FUNCTION counters_message() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    organisation integer;
    owner integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT organisation_id, user_id INTO organisation, owner FROM conversations WHERE id = NEW.conversation_id;
        PERFORM counters_add(organisation, owner, 0, 0, 1);
    ELSE
        SELECT organisation_id, user_id INTO organisation, owner FROM conversations WHERE id = OLD.conversation_id;
        PERFORM counters_add(organisation, owner, 0, 0, -1);
    END IF;
    RETURN NULL;
END $$""",
]
POSTGRESQL_FUNCTION_NAMES = ("counters_add", "counters_new_scope", "counters_agent", "counters_conversation",
                             "counters_message")


def _postgresql_statements() -> list[str]:
    moved = "WHEN (OLD.organisation_id IS DISTINCT FROM NEW.organisation_id OR OLD.{owner} IS DISTINCT FROM NEW.{owner})"
    each = "FOR EACH ROW EXECUTE FUNCTION"
    return POSTGRESQL_FUNCTIONS + [
        f"CREATE TRIGGER counters_organisation_insert AFTER INSERT ON organisations {each} counters_new_scope()",
        f"CREATE TRIGGER counters_user_insert AFTER INSERT ON users {each} counters_new_scope()",
        f"CREATE TRIGGER counters_agent_insert AFTER INSERT ON agents {each} counters_agent()",
        f"CREATE TRIGGER counters_agent_delete AFTER DELETE ON agents {each} counters_agent()",
        f"CREATE TRIGGER counters_agent_update AFTER UPDATE OF organisation_id, owner_id ON agents "
        f"FOR EACH ROW {moved.format(owner='owner_id')} EXECUTE FUNCTION counters_agent()",
        f"CREATE TRIGGER counters_conversation_insert AFTER INSERT ON conversations {each} counters_conversation()",
        f"CREATE TRIGGER counters_conversation_delete BEFORE DELETE ON conversations {each} counters_conversation()",
        f"CREATE TRIGGER counters_conversation_update AFTER UPDATE OF organisation_id, user_id ON conversations "
        f"FOR EACH ROW {moved.format(owner='user_id')} EXECUTE FUNCTION counters_conversation()",
        f"CREATE TRIGGER counters_message_insert AFTER INSERT ON messages {each} counters_message()",
        f"CREATE TRIGGER counters_message_delete AFTER DELETE ON messages {each} counters_message()",
    ]


def counter_trigger_statements(dialect: str) -> list[str]:
    return _postgresql_statements() if dialect == "postgresql" else _sqlite_statements()


def drop_counter_trigger_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {TRIGGER_TABLES[name]}" for name in TRIGGERS] + [
            f"DROP FUNCTION IF EXISTS {name} CASCADE" for name in reversed(POSTGRESQL_FUNCTION_NAMES)]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]


def sqlite_trigger_statement(name: str) -> str:
    """The CREATE TRIGGER statement of one SQLite counter trigger (`flask seed` sets some aside for a load)."""
    statement, = (statement for statement in _sqlite_statements() if statement.startswith(f"CREATE TRIGGER {name} "))
    return statement


def create_counter_triggers(connection: Connection) -> None:
    """(Re)create the triggers that keep the counters, on an open connection (a migration's op.get_bind())."""
    dialect = connection.dialect.name
    for statement in drop_counter_trigger_statements(dialect) + counter_trigger_statements(dialect):
        connection.exec_driver_sql(statement)


RECOUNT = {
    "organisation_counters": """
INSERT INTO organisation_counters (organisation_id, agents, conversations, messages)
SELECT o.id,
    (SELECT count(*) FROM agents a WHERE a.organisation_id = o.id),
    (SELECT count(*) FROM conversations c WHERE c.organisation_id = o.id),
    (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.organisation_id = o.id)
FROM organisations o""",
    "personal_counters": """
INSERT INTO personal_counters (user_id, agents, conversations, messages)
SELECT u.id,
    (SELECT count(*) FROM agents a WHERE a.organisation_id IS NULL AND a.owner_id = u.id),
    (SELECT count(*) FROM conversations c WHERE c.organisation_id IS NULL AND c.user_id = u.id),
    (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE c.organisation_id IS NULL AND c.user_id = u.id)
FROM users u""",
}


def recount(connection: Connection) -> None:
    """Fill the counters from the rows, as they are now (the migration's data step, and `flask` repairs)."""
    for table, statement in RECOUNT.items():
        connection.exec_driver_sql(f"DELETE FROM {table}")
        connection.exec_driver_sql(statement)


def _create_triggers_with_tables(target: MetaData, connection: Connection, **kw: Any) -> None:
    # create_all builds the tables in dependency order; the triggers need all five and the counters.
    create_counter_triggers(connection)


event.listen(db.metadata, "after_create", _create_triggers_with_tables)
