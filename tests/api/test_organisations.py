"""The organisation routes of api-contract-chat.md, section 4."""

from datetime import timedelta

import pytest

from openregister.extensions import db
from openregister.models import Membership, Organisation, User
from openregister.models.base import utcnow

from .. import factories
from ..conftest import API, row_count

ORGANISATION_KEYS = [
    "id", "uuid", "slug", "name", "description", "users", "owner", "active", "parent", "children", "created",
    "updated",
]


def url(organisation_or_ref="", action="") -> str:
    ref = organisation_or_ref.uuid if isinstance(organisation_or_ref, Organisation) else organisation_or_ref
    path = f"{API}/organisations" + (f"/{ref}" if ref != "" else "")
    return path + (f"/{action}" if action else "")


def member_names(organisation: Organisation) -> list[str]:
    db.session.expire_all()
    return [membership.user.username for membership in db.session.get(Organisation, organisation.id).memberships]


def stored_active_id(user: User) -> int | None:
    db.session.expire_all()
    return db.session.get(User, user.id).active_organisation_id


def join(user: User, organisation: Organisation, *, joined) -> None:
    db.session.add(Membership(organisation_id=organisation.id, user_id=user.id, created=joined))
    db.session.flush()


def shown(organisation: Organisation, *, active: bool) -> dict:
    """What the wire shows for an organisation of the tenants fixture."""
    db.session.expire_all()
    organisation = db.session.get(Organisation, organisation.id)
    return {
        "id": organisation.id, "uuid": organisation.uuid, "slug": organisation.slug, "name": organisation.name,
        "description": organisation.description, "users": member_names(organisation),
        "owner": organisation.owner.username if organisation.owner else None, "active": active,
        "parent": organisation.parent_id, "children": [child.id for child in organisation.children],
        "created": organisation.created.replace(microsecond=0).isoformat() + "Z",
        "updated": organisation.updated.replace(microsecond=0).isoformat() + "Z",
    }


class TestList:
    def test_lists_the_users_organisations_with_the_active_one(self, client, tenants, alice):
        response = client.get(url(), headers=alice)
        assert response.status_code == 200
        acme = shown(tenants["acme"], active=True)
        assert acme["users"] == ["alice", "bob"]
        assert response.get_json() == {"total": 1, "active": acme, "results": [acme]}
        assert list(response.get_json()["results"][0]) == ORGANISATION_KEYS

    def test_only_the_active_organisation_is_flagged_active(self, client, tenants, carol):
        start = utcnow()
        join(tenants["carol"], tenants["acme"], joined=start + timedelta(days=1))
        db.session.commit()
        body = client.get(url(), headers=carol).get_json()
        assert [(org["name"], org["active"]) for org in body["results"]] == [("Globex", True), ("Acme", False)]
        assert body["active"]["name"] == "Globex"

    def test_a_user_without_organisations_gets_an_empty_list(self, client, app, auth_headers):
        dave = factories.make_user("dave")
        db.session.commit()
        assert client.get(url(), headers=auth_headers(dave)).get_json() == {"total": 0, "active": None, "results": []}

    def test_listing_costs_the_same_statements_for_many_organisations(self, client, tenants, alice, count_queries):
        with count_queries() as few:
            client.get(url(), headers=alice)
        for index in range(4):
            child = factories.make_organisation(f"Org {index}", owner=tenants["alice"], members=[tenants["bob"]],
                                                parent=tenants["acme"])
            factories.make_organisation(f"Child {index}", owner=tenants["carol"], parent=child)
        tenants["alice"].active_organisation_id = tenants["acme"].id
        db.session.commit()
        with count_queries() as many:
            response = client.get(url(), headers=alice)
        assert response.get_json()["total"] == 5
        assert len(many) == len(few)


class TestCreate:
    def test_create_makes_the_creator_owner_and_member(self, client, tenants, carol):
        response = client.post(url(), json={"name": "Initech", "description": "TPS reports"}, headers=carol)
        assert response.status_code == 201
        body = response.get_json()
        assert list(body) == ["message", "organisation"]
        assert body["message"] == "Organisation created successfully"
        created = db.session.get(Organisation, body["organisation"]["id"])
        assert body["organisation"] == shown(created, active=False)
        assert (body["organisation"]["slug"], body["organisation"]["users"], body["organisation"]["owner"]) == (
            "initech", ["carol"], "carol",
        )

    def test_it_does_not_change_an_existing_active_organisation(self, client, tenants, carol):
        client.post(url(), json={"name": "Initech"}, headers=carol)
        assert stored_active_id(tenants["carol"]) == tenants["globex"].id

    def test_it_becomes_active_for_a_user_who_had_none(self, client, app, auth_headers):
        dave = factories.make_user("dave")
        db.session.commit()
        body = client.post(url(), json={"name": "Initech"}, headers=auth_headers(dave)).get_json()
        assert body["organisation"]["active"] is True
        assert stored_active_id(dave) == body["organisation"]["id"]

    def test_a_user_whose_active_choice_was_cleared_keeps_the_fallback(self, client, tenants, alice):
        tenants["alice"].active_organisation_id = None
        db.session.commit()
        body = client.post(url(), json={"name": "Initech"}, headers=alice).get_json()
        assert body["organisation"]["active"] is False
        assert client.get(url("active"), headers=alice).get_json()["activeOrganisation"]["name"] == "Acme"

    def test_colliding_names_get_a_numbered_slug(self, client, tenants, carol):
        slugs = [client.post(url(), json={"name": name}, headers=carol).get_json()["organisation"]["slug"]
                 for name in ("Acme", "ACME!", "Acme", "Globex")]
        assert slugs == ["acme-2", "acme-3", "acme-4", "globex-2"]
        assert row_count(Organisation) == 6

    def test_a_name_without_letters_or_digits_gets_a_generic_slug(self, client, tenants, carol):
        body = client.post(url(), json={"name": "???"}, headers=carol).get_json()
        assert body["organisation"]["slug"] == "organisation"

    @pytest.mark.parametrize("body, field", [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Initech", "description": 5}, "description"),
    ])
    def test_bad_input_is_rejected_and_writes_nothing(self, client, tenants, carol, body, field):
        response = client.post(url(), json=body, headers=carol)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]
        assert (row_count(Organisation), row_count(Membership)) == (2, 3)


class TestActive:
    def test_active_shows_the_active_organisation(self, client, tenants, alice):
        response = client.get(url("active"), headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"activeOrganisation": shown(tenants["acme"], active=True)}

    def test_active_is_null_without_organisations(self, client, app, auth_headers):
        dave = factories.make_user("dave")
        db.session.commit()
        assert client.get(url("active"), headers=auth_headers(dave)).get_json() == {"activeOrganisation": None}

    def test_a_stored_choice_without_membership_is_not_trusted(self, client, tenants, alice):
        tenants["alice"].active_organisation_id = tenants["globex"].id
        db.session.commit()
        assert client.get(url("active"), headers=alice).get_json()["activeOrganisation"]["name"] == "Acme"

    def test_set_active_switches_the_users_organisation(self, client, tenants, carol):
        join(tenants["carol"], tenants["acme"], joined=utcnow())
        factories.make_agent(tenants["alice"], tenants["acme"], name="Acme agent")
        db.session.commit()
        response = client.post(url(tenants["acme"], "set-active"), headers=carol)
        assert response.status_code == 200
        assert response.get_json() == {
            "message": "Active organisation set successfully",
            "activeOrganisation": shown(tenants["acme"], active=True),
        }
        assert stored_active_id(tenants["carol"]) == tenants["acme"].id
        assert [agent["name"] for agent in client.get(f"{API}/agents", headers=carol).get_json()["results"]] == [
            "Acme agent"
        ]

    def test_set_active_accepts_the_numeric_id(self, client, tenants, alice):
        response = client.post(url(str(tenants["acme"].id), "set-active"), headers=alice)
        assert response.status_code == 200

    def test_set_active_is_for_members_only(self, client, tenants, carol):
        response = client.post(url(tenants["acme"], "set-active"), headers=carol)
        assert response.status_code == 404
        assert stored_active_id(tenants["carol"]) == tenants["globex"].id


class TestShow:
    def test_a_member_sees_the_organisation(self, client, tenants, bob):
        response = client.get(url(tenants["acme"]), headers=bob)
        assert response.status_code == 200
        assert response.get_json() == {"organisation": shown(tenants["acme"], active=True)}

    def test_show_accepts_the_numeric_id(self, client, tenants, bob):
        assert client.get(url(str(tenants["acme"].id)), headers=bob).get_json()["organisation"]["name"] == "Acme"

    def test_a_non_member_gets_the_answer_for_an_unknown_one(self, client, tenants, carol):
        """Organisations cannot be enumerated: a foreign one answers as one that does not exist."""
        foreign = client.get(url(tenants["acme"]), headers=carol)
        unknown = client.get(url("00000000-0000-4000-8000-000000000000"), headers=carol)
        assert (foreign.status_code, unknown.status_code) == (404, 404)
        assert foreign.get_json()["error"] == unknown.get_json()["error"] == "Organisation not found"
        for route in ("set-active", "join", "leave"):
            assert client.post(url(tenants["acme"], route), headers=carol).status_code == 404
        assert client.patch(url(tenants["acme"]), json={"name": "x"}, headers=carol).status_code == 404
        assert client.delete(url(tenants["acme"]), headers=carol).status_code == 404

    @pytest.mark.parametrize("ref", ["999", "00000000-0000-4000-8000-000000000000", "9" * 30])
    def test_an_unknown_organisation_is_not_found(self, client, tenants, alice, ref):
        response = client.get(url(ref), headers=alice)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Organisation not found", "message": f"No organisation {ref}."}

    def test_parent_and_children_are_integer_ids(self, client, tenants, alice):
        child = factories.make_organisation("Acme Labs", owner=tenants["alice"], parent=tenants["acme"])
        db.session.commit()
        assert client.get(url(child), headers=alice).get_json()["organisation"]["parent"] == tenants["acme"].id
        assert client.get(url(tenants["acme"]), headers=alice).get_json()["organisation"]["children"] == [child.id]


class TestUpdate:
    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_the_owner_renames_and_the_slug_stays(self, client, tenants, alice, method):
        response = getattr(client, method)(url(tenants["acme"]), json={"name": "Acme Corp", "description": "Anvils"},
                                           headers=alice)
        assert response.status_code == 200
        assert response.get_json() == shown(tenants["acme"], active=True)
        assert (response.get_json()["name"], response.get_json()["description"], response.get_json()["slug"]) == (
            "Acme Corp", "Anvils", "acme",
        )

    def test_only_the_fields_sent_change(self, client, tenants, alice):
        client.patch(url(tenants["acme"]), json={"description": "Anvils"}, headers=alice)
        body = client.patch(url(tenants["acme"]), json={"slug": "acme-corp"}, headers=alice).get_json()
        assert (body["name"], body["description"], body["slug"]) == ("Acme", "Anvils", "acme-corp")

    def test_keeping_the_own_slug_is_no_conflict(self, client, tenants, alice):
        assert client.patch(url(tenants["acme"]), json={"slug": "acme"}, headers=alice).status_code == 200

    def test_a_slug_of_another_organisation_is_a_conflict(self, client, tenants, alice):
        response = client.patch(url(tenants["acme"]), json={"name": "Renamed", "slug": "globex"}, headers=alice)
        assert response.status_code == 409
        assert response.get_json()["error"] == "Slug taken"
        assert shown(tenants["acme"], active=True)["name"] == "Acme"

    @pytest.mark.parametrize("body, field", [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "  "}, "name"),
        ({"name": 5}, "name"),
        ({"description": ["x"]}, "description"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "trailing-"}, "slug"),
        ({"slug": "acme-corp\n"}, "slug"),
        ({"slug": ""}, "slug"),
        ({"slug": None}, "slug"),
    ])
    def test_bad_input_changes_nothing(self, client, tenants, alice, body, field):
        response = client.patch(url(tenants["acme"]), json=body, headers=alice)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]
        assert (shown(tenants["acme"], active=True)["name"], tenants["acme"].slug) == ("Acme", "acme")

    @pytest.mark.parametrize("caller, status", [("bob", 403), ("carol", 404)])
    def test_only_the_owner_may_change_it(self, client, tenants, auth_headers, caller, status):
        response = client.patch(url(tenants["acme"]), json={"name": "Mine"}, headers=auth_headers(tenants[caller]))
        assert response.status_code == status
        assert shown(tenants["acme"], active=True)["name"] == "Acme"

    def test_an_unknown_organisation_is_not_found(self, client, tenants, alice):
        assert client.patch(url("999"), json={"name": "Mine"}, headers=alice).status_code == 404


class TestDelete:
    def test_the_owner_deletes_an_empty_organisation(self, client, tenants, carol, auth_headers):
        join(tenants["bob"], tenants["globex"], joined=utcnow())
        tenants["bob"].active_organisation_id = tenants["globex"].id
        db.session.commit()
        response = client.delete(url(tenants["globex"]), headers=carol)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Organisation deleted successfully"}
        assert (row_count(Organisation), row_count(Membership)) == (1, 2)
        assert client.get(url("active"), headers=auth_headers(tenants["bob"])).get_json()["activeOrganisation"][
            "name"] == "Acme"
        assert client.get(url("active"), headers=carol).get_json() == {"activeOrganisation": None}

    @pytest.mark.parametrize("holding", ["conversation", "archived conversation", "agent"])
    def test_an_organisation_holding_data_cannot_be_deleted(self, client, tenants, carol, holding):
        if holding == "agent":
            factories.make_agent(tenants["carol"], tenants["globex"])
        else:
            factories.make_conversation(tenants["carol"], deleted_at=utcnow() if "archived" in holding else None)
        db.session.commit()
        response = client.delete(url(tenants["globex"]), headers=carol)
        assert response.status_code == 409
        assert response.get_json()["error"] == "Organisation not empty"
        assert (row_count(Organisation), row_count(Membership)) == (2, 3)

    @pytest.mark.parametrize("caller, status", [("bob", 403), ("carol", 404)])
    def test_only_the_owner_may_delete_it(self, client, tenants, auth_headers, caller, status):
        response = client.delete(url(tenants["acme"]), headers=auth_headers(tenants[caller]))
        assert response.status_code == status
        assert row_count(Organisation) == 2

    def test_an_unknown_organisation_is_not_found(self, client, tenants, alice):
        assert client.delete(url("999"), headers=alice).status_code == 404


class TestJoin:
    def test_the_owner_adds_a_user_who_shares_an_organisation(self, client, tenants, alice):
        factories.make_organisation("Shared", owner=tenants["alice"], members=[tenants["carol"]])
        tenants["carol"].active_organisation_id = tenants["globex"].id
        db.session.commit()
        response = client.post(url(tenants["acme"], "join"), json={"userId": " CAROL"}, headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Successfully joined organisation"}
        assert member_names(tenants["acme"]) == ["alice", "bob", "carol"]
        assert stored_active_id(tenants["carol"]) == tenants["globex"].id

    def test_a_stranger_cannot_be_dragged_in_and_answers_as_an_unknown_user(self, client, tenants, alice):
        stranger = client.post(url(tenants["acme"], "join"), json={"userId": "carol"}, headers=alice)
        unknown = client.post(url(tenants["acme"], "join"), json={"userId": "nosuch"}, headers=alice)
        assert (stranger.status_code, unknown.status_code) == (404, 404)
        assert stranger.get_json()["error"] == unknown.get_json()["error"] == "User not found"
        assert member_names(tenants["acme"]) == ["alice", "bob"]

    def test_a_user_without_organisation_cannot_be_added_nor_gets_one_active(self, client, tenants, alice):
        dave = factories.make_user("dave")
        db.session.commit()
        response = client.post(url(tenants["acme"], "join"), json={"userId": "dave"}, headers=alice)
        assert response.status_code == 404
        assert stored_active_id(dave) is None
        assert member_names(tenants["acme"]) == ["alice", "bob"]

    def test_adding_a_member_again_changes_nothing(self, client, tenants, alice):
        response = client.post(url(tenants["acme"], "join"), json={"userId": "bob"}, headers=alice)
        assert response.status_code == 200
        assert row_count(Membership) == 3

    @pytest.mark.parametrize("caller, body, status", [("bob", {"userId": "carol"}, 403), ("bob", None, 403),
                                                      ("carol", None, 404), ("carol", {"userId": "carol"}, 404)])
    def test_only_the_owner_may_add_users(self, client, tenants, auth_headers, caller, body, status):
        response = client.post(url(tenants["acme"], "join"), json=body, headers=auth_headers(tenants[caller]))
        assert response.status_code == status
        assert row_count(Membership) == 3

    def test_an_unknown_user_is_not_found(self, client, tenants, alice):
        response = client.post(url(tenants["acme"], "join"), json={"userId": "nobody"}, headers=alice)
        assert response.status_code == 404
        assert response.get_json()["error"] == "User not found"
        assert row_count(Membership) == 3

    @pytest.mark.parametrize("body", [{"userId": 5}, {"userId": ""}, {"userId": ["carol"]}])
    def test_a_bad_user_id_is_rejected(self, client, tenants, alice, body):
        response = client.post(url(tenants["acme"], "join"), json=body, headers=alice)
        assert response.status_code == 400
        assert "userId" in response.get_json()["errors"]
        assert row_count(Membership) == 3

    def test_an_unknown_organisation_is_not_found(self, client, tenants, alice):
        assert client.post(url("999", "join"), json={"userId": "carol"}, headers=alice).status_code == 404


class TestLeave:
    @pytest.fixture
    def bob_in_three(self, tenants):
        """bob in Older (joined first), Acme (active) and Newer (joined last)."""
        start = utcnow()
        older = factories.make_organisation("Older", owner=tenants["carol"])
        newer = factories.make_organisation("Newer", owner=tenants["carol"])
        db.session.get(Membership, (tenants["acme"].id, tenants["bob"].id)).created = start
        join(tenants["bob"], older, joined=start - timedelta(days=1))
        join(tenants["bob"], newer, joined=start + timedelta(days=1))
        tenants["bob"].active_organisation_id = tenants["acme"].id
        db.session.commit()
        return {"older": older, "newer": newer}

    def test_leaving_the_active_organisation_activates_the_oldest_remaining_membership(
        self, client, tenants, bob, bob_in_three
    ):
        response = client.post(url(tenants["acme"], "leave"), headers=bob)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Successfully left organisation"}
        assert member_names(tenants["acme"]) == ["alice"]
        assert stored_active_id(tenants["bob"]) == bob_in_three["older"].id
        assert client.get(url("active"), headers=bob).get_json()["activeOrganisation"]["name"] == "Older"

    def test_leaving_another_organisation_keeps_the_active_one(self, client, tenants, bob, bob_in_three):
        assert client.post(url(bob_in_three["older"], "leave"), headers=bob).status_code == 200
        assert stored_active_id(tenants["bob"]) == tenants["acme"].id

    def test_a_removed_member_loses_the_organisations_agents_at_once(self, client, tenants, bob, alice, bob_in_three):
        agent = factories.make_agent(tenants["alice"], tenants["acme"])
        db.session.commit()
        assert client.get(f"{API}/agents/{agent.uuid}", headers=bob).status_code == 200
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "bob"}, headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Successfully removed user from organisation"}
        assert client.get(f"{API}/agents/{agent.uuid}", headers=bob).status_code == 404

    def test_the_last_organisation_cannot_be_left(self, client, tenants, bob):
        response = client.post(url(tenants["acme"], "leave"), headers=bob)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Last organisation"
        assert member_names(tenants["acme"]) == ["alice", "bob"]

    def test_the_owner_cannot_remove_a_member_from_their_last_organisation(self, client, tenants, alice):
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "bob"}, headers=alice)
        assert response.status_code == 400
        assert member_names(tenants["acme"]) == ["alice", "bob"]

    @pytest.mark.parametrize("body", [None, {"userId": "alice"}])
    def test_the_owner_cannot_leave(self, client, tenants, alice, body):
        factories.make_organisation("Second", owner=tenants["alice"])
        db.session.commit()
        response = client.post(url(tenants["acme"], "leave"), json=body, headers=alice)
        assert response.status_code == 409
        assert response.get_json()["error"] == "Owner cannot leave"
        assert member_names(tenants["acme"]) == ["alice", "bob"]

    def test_a_member_may_not_remove_others(self, client, tenants, bob, bob_in_three):
        join(tenants["carol"], tenants["acme"], joined=utcnow())
        db.session.commit()
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "carol"}, headers=bob)
        assert response.status_code == 403
        assert member_names(tenants["acme"]) == ["alice", "bob", "carol"]

    def test_a_member_learns_nothing_about_unknown_users(self, client, tenants, bob):
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "nobody"}, headers=bob)
        assert response.status_code == 403

    def test_a_non_member_cannot_leave(self, client, tenants, carol):
        assert client.post(url(tenants["acme"], "leave"), headers=carol).status_code == 404

    def test_removing_a_non_member_is_a_bad_request(self, client, tenants, alice):
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "carol"}, headers=alice)
        assert response.status_code == 400
        assert response.get_json()["error"] == "Not a member"

    def test_removing_an_unknown_user_is_not_found(self, client, tenants, alice):
        response = client.post(url(tenants["acme"], "leave"), json={"userId": "nobody"}, headers=alice)
        assert response.status_code == 404
        assert response.get_json()["error"] == "User not found"

    def test_an_unknown_organisation_is_not_found(self, client, tenants, bob):
        assert client.post(url("999", "leave"), headers=bob).status_code == 404


@pytest.mark.parametrize("method, path", [
    ("get", ""), ("post", ""), ("get", "/active"), ("get", "/1"), ("patch", "/1"), ("put", "/1"), ("delete", "/1"),
    ("post", "/1/set-active"), ("post", "/1/join"), ("post", "/1/leave"),
])
def test_every_organisation_route_needs_authentication(client, tenants, method, path):
    response = getattr(client, method)(f"{API}/organisations{path}")
    assert response.status_code == 401


class TestSearch:
    def test_search_finds_your_organisations_by_name_in_any_case(self, client, tenants, alice):
        factories.make_organisation("Acme Research", owner=tenants["alice"])
        factories.make_organisation("Acme Elsewhere", owner=tenants["carol"])
        db.session.commit()
        response = client.get(f"{API}/organisations/search?query=acme%20r&_limit=20&_offset=0", headers=alice)
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"organisations", "total", "limit", "offset"}
        assert [o["name"] for o in body["organisations"]] == ["Acme Research"]
        assert (body["total"], body["limit"], body["offset"]) == (1, 20, 0)
        assert list(body["organisations"][0]) == ORGANISATION_KEYS

    def test_an_empty_query_pages_through_all_of_yours(self, client, tenants, alice):
        factories.make_organisation("Second", owner=tenants["alice"])
        db.session.commit()
        body = client.get(f"{API}/organisations/search?query=&_limit=1&_offset=1", headers=alice).get_json()
        assert (body["total"], [o["name"] for o in body["organisations"]]) == (2, ["Second"])

    def test_other_tenants_organisations_are_never_found(self, client, tenants, carol):
        body = client.get(f"{API}/organisations/search?query=acme", headers=carol).get_json()
        assert body["organisations"] == [] and body["total"] == 0

    @pytest.mark.parametrize("query", ["_limit=0", "_offset=-1", "query=" + "x" * 256])
    def test_bad_arguments_are_400(self, client, tenants, alice, query):
        assert client.get(f"{API}/organisations/search?{query}", headers=alice).status_code == 400

    def test_clear_cache_is_a_harmless_no_op(self, client, tenants, alice):
        response = client.post(f"{API}/organisations/clear-cache", headers=alice)
        assert response.status_code == 200
        assert response.get_json() == {"message": "Cache cleared successfully"}
        assert client.post(f"{API}/organisations/clear-cache").status_code == 401
