"""The operator's commands (contract section 1) and their effect on sign-ins and tokens, through HTTP."""

import re

import jwt
import pytest
from sqlalchemy import select

from openregister.extensions import db
from openregister.models import Agent, AppPassword, Conversation, Feedback, LoginFailure, Message, Organisation, User

from . import factories
from .conftest import API, basic, row_count

LIST = f"{API}/conversations"
TOKEN = f"{API}/auth/token"
REFRESH = f"{API}/auth/refresh"


def invoke(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def erin(runner):
    result = invoke(runner, "user", "create", "erin", "--password", "pw-erin", "--organisation", "Initech")
    assert result.exit_code == 0, result.output
    return db.session.scalars(select(User).where(User.username == "erin")).one()


def tokens(client, username="erin", password="pw-erin"):
    body = client.post(TOKEN, json={"username": username, "password": password}).get_json()
    return body["access"], body["refresh"]


class TestCreate:
    def test_without_password_it_asks_twice(self, runner, client):
        result = invoke(runner, "user", "create", "frank", input="s3cret\ns3cret\n")
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert client.get(LIST, headers=basic("frank", "s3cret")).status_code == 200

    def test_names_that_differ_only_in_case_or_spaces_are_one_name(self, runner, erin, client):
        result = invoke(runner, "user", "create", " ERIN ", "--password", "other")
        assert result.exit_code != 0
        assert "exists" in result.stderr
        assert row_count(User) == 1
        assert client.get(LIST, headers=basic("Erin ", "pw-erin")).status_code == 200

    def test_a_name_whose_lower_case_is_longer_fits(self, runner, client):
        name = "\u0130" * 64
        assert invoke(runner, "user", "create", name, "--password", "pw").exit_code == 0
        assert client.get(LIST, headers=basic(name.lower(), "pw")).status_code == 200

    def test_the_database_refuses_names_that_differ_only_in_case(self, app, erin):
        from sqlalchemy.exc import IntegrityError
        db.session.add(User(username="ERIN"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


class TestSetPassword:
    def test_reads_stdin_and_ends_every_earlier_token_within_the_same_second(self, runner, client, erin):
        access, refresh = tokens(client)
        assert client.get(LIST, headers=bearer(access)).status_code == 200
        result = invoke(runner, "user", "set-password", "erin", "--password-stdin", input="new-pw\n")
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert client.get(LIST, headers=bearer(access)).status_code == 401
        assert client.post(REFRESH, json={"refresh": refresh}).status_code == 401
        assert client.post("/api/auth/refresh/", json={"refresh": refresh}).status_code == 401
        assert client.get(LIST, headers=basic("erin", "pw-erin")).status_code == 401
        assert client.get(LIST, headers=basic("erin", "new-pw")).status_code == 200
        new_access, _ = tokens(client, password="new-pw")
        assert client.get(LIST, headers=bearer(new_access)).status_code == 200

    def test_ends_nisira_tokens_too(self, runner, client, erin):
        pair = client.post("/api/auth/login/", json={"username": "erin", "password": "pw-erin"}).get_json()
        assert client.get("/api/conversations/", headers=bearer(pair["access"])).status_code == 200
        invoke(runner, "user", "set-password", "erin", "--password-stdin", input="new-pw\n")
        assert client.get("/api/conversations/", headers=bearer(pair["access"])).status_code == 401
        assert client.post("/api/auth/refresh/", json={"refresh": pair["refresh"]}).status_code == 401

    def test_asks_twice_without_echo(self, runner, client, erin):
        result = invoke(runner, "user", "set-password", "erin", input="a\nb\nnew\nnew\n")
        assert result.exit_code == 0, result.output
        assert "new" not in result.stdout
        assert client.get(LIST, headers=basic("erin", "new")).status_code == 200

    def test_an_unknown_user_fails(self, runner):
        result = invoke(runner, "user", "set-password", "nobody", "--password-stdin", input="x\n")
        assert result.exit_code != 0 and result.stdout == ""


class TestList:
    def test_a_header_then_one_user_a_line(self, runner, erin):
        invoke(runner, "user", "create", "dave", "--password", "pw", "--organisation", "Initech")
        invoke(runner, "user", "create", "carl", "--password", "pw", "--organisation", "Umbrella")
        invoke(runner, "user", "disable", "carl")
        lines = invoke(runner, "user", "list").stdout.splitlines()
        assert lines[0].split() == ["NAME", "ORGANISATIONS", "CREATED", "STATE"]
        assert [line.split()[0] for line in lines[1:]] == ["carl", "dave", "erin"]
        assert "*Umbrella" in lines[1] and lines[1].split()[-1] == "disabled"
        assert "*Initech" in lines[3] and lines[3].split()[-1] == "active"
        assert re.search(r"\d{4}-\d\d-\d\dT", lines[3])


class TestDisable:
    def test_a_disabled_user_gets_401_for_every_credential_and_enable_brings_back_passwords(
            self, runner, client, erin):
        secret = invoke(runner, "app-password", "create", "erin").stdout.strip()
        access, refresh = tokens(client)
        assert invoke(runner, "user", "disable", "erin").exit_code == 0
        assert client.get(LIST, headers=basic("erin", "pw-erin")).status_code == 401
        assert client.get(LIST, headers=basic("erin", secret)).status_code == 401
        assert client.get(LIST, headers=bearer(access)).status_code == 401
        assert client.post(REFRESH, json={"refresh": refresh}).status_code == 401
        assert client.post(TOKEN, json={"username": "erin", "password": "pw-erin"}).status_code == 401
        assert client.post("/api/auth/login/", json={"username": "erin", "password": "pw-erin"}).status_code == 401
        assert invoke(runner, "token", "erin").exit_code != 0

        assert invoke(runner, "user", "enable", "erin").exit_code == 0
        assert client.get(LIST, headers=basic("erin", "pw-erin")).status_code == 200
        assert client.get(LIST, headers=basic("erin", secret)).status_code == 200
        assert client.get(LIST, headers=bearer(access)).status_code == 401
        assert client.post(REFRESH, json={"refresh": refresh}).status_code == 401


class TestDelete:
    def test_deletes_the_user_and_what_they_own(self, runner, client, erin):
        invoke(runner, "app-password", "create", "erin")
        conversation = factories.make_conversation(erin)
        message = factories.make_message(conversation, role="assistant")
        db.session.add(Feedback(message_id=message.id, conversation_id=conversation.id, user_id=erin.id,
                                type="positive"))
        factories.make_agent(erin, db.session.get(Organisation, erin.active_organisation_id))
        db.session.commit()
        result = invoke(runner, "user", "delete", "erin", "--yes")
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        for model in (User, Conversation, Message, Feedback, AppPassword, Agent, Organisation):
            assert row_count(model) == 0, model

    def test_asks_for_confirmation_without_yes(self, runner, erin):
        assert invoke(runner, "user", "delete", "erin", input="n\n").exit_code != 0
        assert row_count(User) == 1
        assert invoke(runner, "user", "delete", "erin", input="y\n").exit_code == 0
        assert row_count(User) == 0

    def test_refuses_while_they_own_an_organisation_with_other_members(self, runner, erin):
        invoke(runner, "user", "create", "dave", "--password", "pw", "--organisation", "Initech")
        factories.make_conversation(erin)
        db.session.commit()
        result = invoke(runner, "user", "delete", "erin", "--yes")
        assert result.exit_code != 0
        assert "Initech" in result.stderr and result.stdout == ""
        assert (row_count(User), row_count(Conversation), row_count(Organisation)) == (2, 1, 1)

    def test_a_recreated_name_does_not_accept_the_old_accounts_tokens(self, runner, client, erin):
        access, refresh = tokens(client)
        invoke(runner, "user", "delete", "erin", "--yes")
        invoke(runner, "user", "create", "erin", "--password", "pw-erin")
        assert client.get(LIST, headers=bearer(access)).status_code == 401
        assert client.post(REFRESH, json={"refresh": refresh}).status_code == 401
        assert client.get(LIST, headers=bearer(tokens(client)[0])).status_code == 200


class TestUnlock:
    def fail(self, client, name, address, times=5):
        for _ in range(times):
            client.get(LIST, headers=basic(name, "wrong"), environ_base={"REMOTE_ADDR": address})

    def sign_in(self, client, name, address):
        return client.get(LIST, headers=basic(name, factories.PASSWORD), environ_base={"REMOTE_ADDR": address})

    @pytest.fixture
    def locked(self, app, client):
        factories.make_user("alice")
        factories.make_user("bob")
        db.session.commit()
        app.config.update(LOGIN_NAME_MAX_FAILURES=5)
        self.fail(client, "alice", "10.0.0.1")
        self.fail(client, "bob", "10.0.0.2")
        assert self.sign_in(client, "alice", "10.0.0.3").status_code == 429
        assert self.sign_in(client, "bob", "10.0.0.2").status_code == 429

    def test_by_name(self, runner, client, locked):
        assert invoke(runner, "user", "unlock", " ALICE").exit_code == 0
        assert self.sign_in(client, "alice", "10.0.0.1").status_code == 200
        assert self.sign_in(client, "bob", "10.0.0.2").status_code == 429

    def test_by_address(self, runner, client, locked):
        assert invoke(runner, "user", "unlock", "--address", "10.0.0.2").exit_code == 0
        assert self.sign_in(client, "bob", "10.0.0.9").status_code == 429  # the name limit still holds
        invoke(runner, "user", "unlock", "bob")
        assert self.sign_in(client, "bob", "10.0.0.2").status_code == 200
        assert self.sign_in(client, "alice", "10.0.0.1").status_code == 429

    def test_everything(self, runner, client, locked):
        assert invoke(runner, "user", "unlock").exit_code == 0
        assert row_count(LoginFailure) == 0
        assert self.sign_in(client, "alice", "10.0.0.1").status_code == 200


class TestAppPasswords:
    def test_list_shows_ids_labels_and_last_use_never_the_secret(self, runner, client, erin):
        first = invoke(runner, "app-password", "create", "erin", "--label", "phone").stdout.strip()
        invoke(runner, "app-password", "create", "erin", "--label", "laptop")
        assert client.get(LIST, headers=basic("erin", first)).status_code == 200
        output = invoke(runner, "app-password", "list", "erin").stdout
        lines = output.splitlines()
        assert lines[0].split() == ["ID", "LABEL", "CREATED", "LAST", "USED"]
        phone, laptop = lines[1].split(), lines[2].split()
        assert phone[1] == "phone" and phone[-1] != "never" and phone[-1].endswith("Z")
        assert laptop[1] == "laptop" and laptop[-1] == "never"
        assert first not in output

    def test_last_used_is_written_at_most_once_a_minute(self, runner, client, erin, count_queries):
        secret = invoke(runner, "app-password", "create", "erin").stdout.strip()
        client.get(LIST, headers=basic("erin", secret))
        first = db.session.scalars(select(AppPassword)).one().last_used
        with count_queries() as statements:
            client.get(LIST, headers=basic("erin", secret))
        db.session.expire_all()
        assert db.session.scalars(select(AppPassword)).one().last_used == first
        assert not any(statement.lstrip().upper().startswith("UPDATE APP_PASSWORDS") for statement in statements)

    def test_revoke(self, runner, client, erin):
        secret = invoke(runner, "app-password", "create", "erin").stdout.strip()
        app_password_id = db.session.scalars(select(AppPassword.id)).one()
        result = invoke(runner, "app-password", "revoke", "erin", str(app_password_id))
        assert result.exit_code == 0 and result.stdout == ""
        assert client.get(LIST, headers=basic("erin", secret)).status_code == 401
        assert invoke(runner, "app-password", "revoke", "erin", str(app_password_id)).exit_code != 0


def test_tokens_name_the_user_by_uuid_and_generation(client, erin):
    access, _ = tokens(client)
    claims = jwt.decode(access, options={"verify_signature": False})
    assert (claims["sub"], claims["gen"]) == (erin.uuid, 0)
