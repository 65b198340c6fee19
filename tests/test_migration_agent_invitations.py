"""Migration 0004 moves invitedUsers from a JSON list into agent_invitations and back, losing nothing."""

from datetime import datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import MetaData, Table, inspect, select

from openregister.auth import issue_token
from openregister.extensions import db
from openregister.models import User

from .conftest import API

THEN = datetime(2024, 1, 1)
LISTS = {
    1: [],
    2: ["bob"],
    3: ["zoe", "alice", "not-a-user-yet", "bob"],
    4: ["bob", "bob", "Bob"],
    5: ["İlkay", "émile"],
}


def table(name: str) -> Table:
    return Table(name, MetaData(), autoload_with=db.engine)


def make_agents_at_0003() -> None:
    """A user and one agent per list of LISTS, written as revision 0003 stores them."""
    users, agents = table("users"), table("agents")
    flags = {"active": True, "enable_rag": False, "rag_include_files": False, "rag_include_objects": False,
             "search_files": True, "search_objects": True, "is_private": True}
    with db.engine.begin() as connection:
        connection.execute(users.insert().values(
            id=1, uuid="u-1", username="owner", username_key="owner", token_generation=0, disabled=False,
            created=THEN, updated=THEN))
        connection.execute(agents.insert(), [
            {"id": agent_id, "uuid": f"agent-{agent_id}", "name": f"Agent {agent_id}", "type": "chat", "owner_id": 1,
             "views": [], "groups": [], "tools": [], "invited_users": names, "created": THEN, "updated": THEN,
             **flags}
            for agent_id, names in LISTS.items()
        ])


def stored_lists() -> dict:
    agents = table("agents")
    with db.engine.connect() as connection:
        return dict(connection.execute(select(agents.c.id, agents.c.invited_users)).all())


def test_upgrade_copies_each_list_into_rows_in_order(migrated_app):
    upgrade(revision="0003")
    make_agents_at_0003()
    upgrade(revision="0004")
    assert "invited_users" not in {column["name"] for column in inspect(db.engine).get_columns("agents")}
    invitations = table("agent_invitations")
    with db.engine.connect() as connection:
        rows = connection.execute(select(invitations).order_by(invitations.c.agent_id, invitations.c.position)).all()
    assert [(row.agent_id, row.position, row.username) for row in rows] == [
        (agent_id, position, name) for agent_id, names in LISTS.items() for position, name in enumerate(names)
    ]


def test_after_upgrade_the_wire_shows_the_same_lists(migrated_app):
    upgrade(revision="0003")
    make_agents_at_0003()
    upgrade()
    headers = {"Authorization": f"Bearer {issue_token(db.session.get(User, 1))}"}
    client = migrated_app.test_client()
    for agent_id, names in LISTS.items():
        assert client.get(f"{API}/agents/agent-{agent_id}", headers=headers).get_json()["invitedUsers"] == names


def test_downgrade_puts_every_list_back(migrated_app):
    upgrade(revision="0003")
    make_agents_at_0003()
    upgrade(revision="0004")
    downgrade(revision="0003")
    assert "agent_invitations" not in inspect(db.engine).get_table_names()
    assert not next(column for column in inspect(db.engine).get_columns("agents")
                    if column["name"] == "invited_users")["nullable"]
    assert stored_lists() == LISTS


def test_a_list_changed_after_upgrade_goes_down_as_changed(migrated_app):
    upgrade(revision="0003")
    make_agents_at_0003()
    upgrade(revision="0004")
    headers = {"Authorization": f"Bearer {issue_token(db.session.get(User, 1))}"}
    client = migrated_app.test_client()
    client.patch(f"{API}/agents/agent-3", json={"invitedUsers": ["carol", "alice"]}, headers=headers)
    client.patch(f"{API}/agents/agent-2", json={"invitedUsers": []}, headers=headers)
    db.session.remove()
    downgrade(revision="0003")
    assert stored_lists() == {**LISTS, 3: ["carol", "alice"], 2: []}
