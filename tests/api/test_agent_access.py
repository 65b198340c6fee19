"""Who may use an agent, decided in SQL, and invitedUsers kept as given while stored as rows."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import AgentInvitation, Membership
from openregister.models.base import utcnow
from openregister.services.agents import may_use

from .. import factories
from ..conftest import API, row_count

PRIVACY = (False, True)
OWNERS = ("alice", "bob", "dave", None)
INVITED = ((), ("alice",), ("bob",), ("Alice",), ("dave", "alice"), ("nobody-yet",))


def expected_use(user, organisation_id, agent) -> bool:
    """The rule as the contract states it (and as the Python check said before it moved into SQL)."""
    owned_or_invited = agent.owner_id == user.id or user.username in agent.invited_users
    if agent.organisation_id is None:
        return owned_or_invited
    if agent.organisation_id != organisation_id:
        return False
    return not agent.is_private or owned_or_invited


@pytest.fixture
def grid(tenants):
    """alice and bob in Acme (alice also in Other, not active), carol in Globex, dave in none; and one agent
    for each organisation x privacy x owner x invitation list, every other one inactive, oldest first."""
    users = {name: tenants[name] for name in ("alice", "bob", "carol")}
    users["dave"] = factories.make_user("dave")
    other = factories.make_organisation("Other", members=[users["alice"]])
    users["alice"].active_organisation_id = tenants["acme"].id
    organisations = (tenants["acme"], other, tenants["globex"], None)
    start = utcnow()
    agents = [
        factories.make_agent(
            users[owner] if owner else None, organisation, name=f"Agent {index:03}", is_private=private,
            invited_users=list(invited), active=index % 2 == 0, created=start + timedelta(seconds=index),
        )
        for index, (organisation, private, owner, invited) in enumerate(
            itertools.product(organisations, PRIVACY, OWNERS, INVITED)
        )
    ]
    db.session.commit()
    return users, [organisation.id if organisation else None for organisation in organisations], agents


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dave"])
def test_list_stats_show_and_may_use_follow_the_one_rule(client, auth_headers, grid, who):
    users, organisation_ids, agents = grid
    user, headers = users[who], auth_headers(users[who])
    usable = [agent for agent in agents if expected_use(user, user.active_organisation_id, agent)]

    listed, offset = [], 0
    while True:
        body = client.get(f"{API}/agents", query_string={"limit": 100, "offset": offset}, headers=headers).get_json()
        assert body["total"] == len(usable)
        listed += [agent["name"] for agent in body["results"]]
        offset += 100
        if offset >= body["total"]:
            break
    assert listed == [agent.name for agent in reversed(usable)]

    active = sum(1 for agent in usable if agent.active)
    assert client.get(f"{API}/agents/stats", headers=headers).get_json() == {
        "total": len(usable), "active": active, "inactive": len(usable) - active,
    }
    for agent in agents:
        status = client.get(f"{API}/agents/{agent.uuid}", headers=headers).status_code
        assert status == (200 if agent in usable else 404), agent.name
        for organisation_id in organisation_ids:
            assert may_use(user, agent, organisation_id) == expected_use(user, organisation_id, agent), (
                agent.name, organisation_id)


def test_the_grid_holds_both_answers_for_every_user(grid):
    """The grid above is only worth something if each user is let in and kept out somewhere."""
    users, organisation_ids, agents = grid
    for user in users.values():
        answers = {expected_use(user, user.active_organisation_id, agent) for agent in agents}
        assert answers == {True, False}, user.username


def test_listing_costs_the_same_statements_for_1_and_100_agents_with_invitations(
    client, tenants, alice, count_queries
):
    owners = [tenants["alice"], tenants["bob"]] + [factories.make_user(f"owner{index}") for index in range(8)]
    start = utcnow()
    for index in range(120):
        factories.make_agent(owners[index % len(owners)], tenants["acme"], name=f"Agent {index}",
                             invited_users=[f"guest{index}", "alice", f"guest{index + 1}"],
                             created=start + timedelta(seconds=index))
    db.session.commit()
    with count_queries() as small:
        one = client.get(f"{API}/agents?limit=1", headers=alice).get_json()
    with count_queries() as large:
        hundred = client.get(f"{API}/agents?limit=100", headers=alice).get_json()
    assert (one["total"], len(one["results"])) == (120, 1)
    assert (hundred["total"], len(hundred["results"])) == (120, 100)
    assert hundred["results"][0]["invitedUsers"] == ["guest119", "alice", "guest120"]
    assert hundred["results"][99]["invitedUsers"] == ["guest20", "alice", "guest21"]
    assert {agent["owner"] for agent in hundred["results"]} == {owner.username for owner in owners}
    assert len(small) == len(large)


class TestInvitedUsers:
    def test_the_list_keeps_its_order_and_repeats_through_create_put_and_patch(self, client, tenants, alice):
        created = client.post(f"{API}/agents", json={"name": "A", "invitedUsers": ["zoe", "bob", "zoe", "amy"]},
                              headers=alice).get_json()
        assert created["invitedUsers"] == ["zoe", "bob", "zoe", "amy"]
        agent_url = f"{API}/agents/{created['uuid']}"
        for method, invited in (("put", ["amy", "zoe"]), ("patch", ["c", "b", "a", "amy", "zoe"]), ("patch", ["b"])):
            body = getattr(client, method)(agent_url, json={"name": "A", "invitedUsers": invited}, headers=alice)
            assert body.get_json()["invitedUsers"] == invited
            assert client.get(agent_url, headers=alice).get_json()["invitedUsers"] == invited
            stored = db.session.scalars(select(AgentInvitation.username).order_by(AgentInvitation.position)).all()
            assert stored == invited

    def test_a_patch_without_the_list_leaves_it_alone(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], invited_users=["bob", "carol"])
        db.session.commit()
        body = client.patch(f"{API}/agents/{agent.uuid}", json={"name": "Renamed"}, headers=alice).get_json()
        assert body["invitedUsers"] == ["bob", "carol"]
        assert row_count(AgentInvitation) == 2

    def test_a_name_invited_before_its_user_exists_lets_that_user_in_later(self, client, tenants, alice, auth_headers):
        created = client.post(f"{API}/agents", json={"name": "Early", "invitedUsers": ["erin"]}, headers=alice)
        agent_url = f"{API}/agents/{created.get_json()['uuid']}"
        erin = factories.make_user("erin")
        db.session.add(Membership(organisation_id=tenants["acme"].id, user_id=erin.id))
        erin.active_organisation_id = tenants["acme"].id
        db.session.commit()
        assert client.get(agent_url, headers=auth_headers(erin)).status_code == 200
        assert [agent["name"] for agent in client.get(f"{API}/agents", headers=auth_headers(erin)).get_json()[
            "results"]] == ["Early"]

    def test_deleting_an_agent_deletes_its_invitations(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], invited_users=["bob", "carol"])
        factories.make_agent(tenants["alice"], tenants["acme"], invited_users=["bob"])
        db.session.commit()
        assert client.delete(f"{API}/agents/{agent.uuid}", headers=alice).status_code == 200
        assert row_count(AgentInvitation) == 1

    def test_a_bad_list_is_refused_and_changes_nothing(self, client, tenants, alice):
        agent = factories.make_agent(tenants["alice"], tenants["acme"], invited_users=["bob"])
        db.session.commit()
        for invited in (["ok", ""], ["x" * 65], "bob", [5]):
            response = client.patch(f"{API}/agents/{agent.uuid}", json={"invitedUsers": invited}, headers=alice)
            assert response.status_code == 400
            assert "invitedUsers" in response.get_json()["errors"]
        assert db.session.scalars(select(AgentInvitation.username)).all() == ["bob"]
