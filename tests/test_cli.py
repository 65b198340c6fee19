"""The management commands of contract section 1; each prints only its result on stdout."""

from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Membership, Organisation, User

from .conftest import API, basic


def invoke(runner, *args):
    return runner.invoke(args=list(args))


def test_user_create_with_a_new_organisation_makes_it_active(runner, client):
    result = invoke(runner, "user", "create", "erin", "--password", "pw-erin", "--organisation", "Initech")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    user = db.session.scalars(select(User).where(User.username == "erin")).one()
    organisation = db.session.scalars(select(Organisation).where(Organisation.name == "Initech")).one()
    assert user.active_organisation_id == organisation.id
    assert organisation.owner_id == user.id
    assert client.get(f"{API}/conversations", headers=basic("erin", "pw-erin")).status_code == 200


def test_user_create_joins_an_existing_organisation(runner):
    invoke(runner, "user", "create", "erin", "--password", "pw", "--organisation", "Initech")
    result = invoke(runner, "user", "create", "frank", "--password", "pw", "--organisation", "Initech")
    assert result.exit_code == 0
    assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Membership)) == 2


def test_user_create_without_organisation(runner):
    result = invoke(runner, "user", "create", "erin", "--password", "pw")
    assert result.exit_code == 0
    assert db.session.scalars(select(User)).one().active_organisation_id is None


def test_a_duplicate_user_fails_and_writes_nothing(runner):
    invoke(runner, "user", "create", "erin", "--password", "pw")
    result = invoke(runner, "user", "create", "erin", "--password", "other", "--organisation", "New Org")
    assert result.exit_code != 0
    assert "exists" in result.output
    assert db.session.scalar(select(db.func.count()).select_from(Organisation)) == 0


def test_app_password_create_prints_a_working_secret(runner, client):
    invoke(runner, "user", "create", "erin", "--password", "pw")
    result = invoke(runner, "app-password", "create", "erin")
    assert result.exit_code == 0
    secret = result.stdout.strip()
    assert len(secret) >= 32 and "\n" not in secret
    assert client.get(f"{API}/conversations", headers=basic("erin", secret)).status_code == 200


def test_token_prints_a_working_access_token(runner, client):
    invoke(runner, "user", "create", "erin", "--password", "pw")
    result = invoke(runner, "token", "erin")
    assert result.exit_code == 0
    token = result.stdout.strip()
    response = client.get(f"{API}/conversations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_commands_for_an_unknown_user_fail(runner):
    for args in (("token", "nobody"), ("app-password", "create", "nobody")):
        result = invoke(runner, *args)
        assert result.exit_code != 0
        assert result.stdout == ""
