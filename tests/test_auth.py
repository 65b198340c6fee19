"""Authentication, contract section 1: Bearer JWT, Basic with password or app password, tokens."""

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from openregister.extensions import db
from openregister.models import User
from openregister.services.users import create_app_password

from . import factories
from .conftest import API, basic, row_count

LIST = f"{API}/conversations"
SECRET = "test-secret-" + "x" * 64
ALICE_UUID = "5c1b2f6e-8d4a-4c3e-9f2a-a11ce0000001"


def token(claims, secret=SECRET, algorithm="HS256"):
    return jwt.encode(claims, secret, algorithm=algorithm)


def claims(**overrides):
    now = datetime.now(UTC)
    values = {"sub": ALICE_UUID, "gen": 0, "iat": now, "exp": now + timedelta(minutes=5), "type": "access"}
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


@pytest.fixture
def alice(app):
    user = factories.make_user("alice", uuid=ALICE_UUID)
    db.session.commit()
    return user


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


class TestBearer:
    def test_a_valid_access_token_is_accepted(self, client, alice):
        assert client.get(LIST, headers=bearer(token(claims()))).status_code == 200

    @pytest.mark.parametrize(
        "bad",
        [
            claims(exp=datetime.now(UTC) - timedelta(minutes=5)),
            claims(exp=None),
            claims(iat=None),
            claims(sub=None),
            claims(type="refresh"),
            claims(sub="nobody"),
        ],
        ids=["expired", "no-exp", "no-iat", "no-sub", "refresh-as-access", "unknown-user"],
    )
    def test_bad_tokens_are_401(self, client, alice, bad):
        response = client.get(LIST, headers=bearer(token(bad)))
        assert response.status_code == 401
        assert response.get_json()["error"] == "Invalid token"
        assert "Bearer" in response.headers["WWW-Authenticate"]

    def test_a_token_signed_with_another_secret_is_401(self, client, alice):
        assert client.get(LIST, headers=bearer(token(claims(), secret="x" * 40))).status_code == 401

    def test_the_algorithm_is_not_taken_from_the_token(self, client, alice):
        unsigned = jwt.encode(claims(), None, algorithm="none")
        assert client.get(LIST, headers=bearer(unsigned)).status_code == 401
        other_algorithm = token(claims(), algorithm="HS512")
        assert client.get(LIST, headers=bearer(other_algorithm)).status_code == 401

    def test_a_token_accepted_before_is_refused_once_it_has_expired(self, client, app, alice, monkeypatch):
        expires = datetime.now(UTC) + timedelta(minutes=5)
        once_good = token(claims(exp=expires))
        assert client.get(LIST, headers=bearer(once_good)).status_code == 200
        after_the_leeway = expires.timestamp() + app.config["JWT_LEEWAY"] + 1
        monkeypatch.setattr(time, "time", lambda: after_the_leeway)
        response = client.get(LIST, headers=bearer(once_good))
        assert response.status_code == 401
        assert "ExpiredSignatureError" in response.get_json()["message"]

    def test_a_token_accepted_under_one_secret_is_refused_under_another(self, client, app, alice):
        accepted = token(claims())
        assert client.get(LIST, headers=bearer(accepted)).status_code == 200
        app.config["JWT_SECRET"] = "y" * 64
        assert client.get(LIST, headers=bearer(accepted)).status_code == 401

    def test_garbage_is_401(self, client, alice):
        assert client.get(LIST, headers=bearer("not.a.jwt")).status_code == 401

    def test_issuer_and_audience_are_checked_when_configured(self, client, app, alice):
        app.config.update(JWT_ISSUER="https://id.example", JWT_AUDIENCE="openregister")
        good = claims(iss="https://id.example", aud="openregister")
        assert client.get(LIST, headers=bearer(token(good))).status_code == 200
        assert client.get(LIST, headers=bearer(token(claims(aud="openregister")))).status_code == 401
        assert client.get(LIST, headers=bearer(token(claims(iss="https://id.example", aud="else")))).status_code == 401


class TestExternalIdentityProvider:
    @pytest.fixture
    def keys(self, app):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        app.config.update(JWT_ALGORITHMS=["HS256", "RS256"], JWT_PUBLIC_KEY=public)
        return private

    def test_a_verified_token_creates_an_unknown_user_on_first_use(self, client, keys):
        external = jwt.encode(claims(sub="erin", type=None), keys, algorithm="RS256")
        response = client.post(LIST, json={"title": "From SSO"}, headers=bearer(external))
        assert response.status_code == 201
        assert response.get_json()["userId"] == "erin"
        assert client.get(LIST, headers=bearer(external)).get_json()["total"] == 1
        assert row_count(User) == 1

    def test_a_provider_token_for_a_local_name_never_signs_in_as_the_local_account(self, client, alice, keys):
        """The takeover: an identity provider's token with sub=alice, where alice is a local password account."""
        factories.make_conversation(alice, title="Alice's secret")
        db.session.commit()
        external = jwt.encode(claims(sub="alice", iss="https://id.example", type=None), keys, algorithm="RS256")
        response = client.get(LIST, headers=bearer(external))
        assert response.status_code == 200
        assert response.get_json()["total"] == 0
        created = client.post(LIST, json={"title": "SSO"}, headers=bearer(external)).get_json()
        assert created["userId"] != "alice" and created["userId"].startswith("alice~")
        assert row_count(User) == 2
        # The same issuer and subject find the same user again; another issuer's "alice" is someone else.
        assert client.get(LIST, headers=bearer(external)).get_json()["total"] == 1
        other = jwt.encode(claims(sub="alice", iss="https://other.example", type=None), keys, algorithm="RS256")
        assert client.get(LIST, headers=bearer(other)).get_json()["total"] == 0
        assert row_count(User) == 3

    def test_the_user_created_on_first_use_outlives_a_request_that_only_reads(self, client, keys):
        external = jwt.encode(claims(sub="erin", type=None), keys, algorithm="RS256")
        assert client.get(LIST, headers=bearer(external)).status_code == 200
        db.session.rollback()  # what the end of the request does to anything it did not commit
        assert db.session.scalars(db.select(User.username)).all() == ["erin"]

    def test_a_disabled_provider_user_is_refused(self, client, keys):
        external = jwt.encode(claims(sub="erin", type=None), keys, algorithm="RS256")
        assert client.get(LIST, headers=bearer(external)).status_code == 200
        db.session.scalars(db.select(User)).one().disabled = True
        db.session.commit()
        assert client.get(LIST, headers=bearer(external)).status_code == 401

    def test_a_token_signed_by_another_key_is_401(self, client, keys):
        from cryptography.hazmat.primitives.asymmetric import rsa

        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims(sub="erin", type=None), stranger, algorithm="RS256")
        assert client.get(LIST, headers=bearer(forged)).status_code == 401
        assert row_count(User) == 0

    def test_rs256_is_refused_unless_configured(self, client, app, keys):
        app.config["JWT_ALGORITHMS"] = ["HS256"]
        external = jwt.encode(claims(sub="erin", type=None), keys, algorithm="RS256")
        assert client.get(LIST, headers=bearer(external)).status_code == 401


class TestJwks:
    @pytest.fixture
    def jwks(self, app):
        """An identity provider's JWKS document, served on loopback."""
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        document = json.dumps({"keys": [{**key, "kid": "key-1", "use": "sig", "alg": "RS256"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        app.config.update(JWT_ALGORITHMS=["HS256", "RS256"], JWKS_URL=url)
        yield private
        server.shutdown()
        server.server_close()

    def test_a_token_signed_with_a_key_of_the_jwks_is_accepted(self, client, jwks):
        token = jwt.encode(claims(sub="frank", type=None), jwks, algorithm="RS256", headers={"kid": "key-1"})
        response = client.get(LIST, headers=bearer(token))
        assert response.status_code == 200
        assert row_count(User) == 1

    def test_a_token_with_an_unknown_key_id_is_401(self, client, jwks):
        token = jwt.encode(claims(sub="frank", type=None), jwks, algorithm="RS256", headers={"kid": "key-9"})
        assert client.get(LIST, headers=bearer(token)).status_code == 401
        assert row_count(User) == 0


class TestBasic:
    def test_password(self, client, alice):
        assert client.get(LIST, headers=basic("alice", factories.PASSWORD)).status_code == 200

    def test_app_password(self, client, alice):
        secret = create_app_password(alice)
        db.session.commit()
        assert client.get(LIST, headers=basic("alice", secret)).status_code == 200

    @pytest.mark.parametrize(("username", "secret"), [("alice", "wrong"), ("nobody", factories.PASSWORD), ("alice", "")])
    def test_wrong_credentials_are_401(self, client, alice, username, secret):
        response = client.get(LIST, headers=basic(username, secret))
        assert response.status_code == 401
        assert response.get_json() == {"error": "Invalid credentials", "message": "The user name or password is wrong."}
        assert "Basic" in response.headers["WWW-Authenticate"]

    def test_an_app_password_of_another_user_is_401(self, client, alice):
        other = factories.make_user("bob")
        secret = create_app_password(other)
        db.session.commit()
        assert client.get(LIST, headers=basic("alice", secret)).status_code == 401

    @pytest.mark.parametrize("header", [None, "Digest abc", "Bearer", "Basic !!!"])
    def test_missing_or_unsupported_authorization_is_401(self, client, alice, header):
        response = client.get(LIST, headers={"Authorization": header} if header else {})
        assert response.status_code == 401
        assert set(response.get_json()) == {"error", "message"}
        assert response.headers["WWW-Authenticate"]


class TestTokenRoutes:
    def test_token_returns_access_and_refresh(self, client, app, alice):
        response = client.post(f"{API}/auth/token", json={"username": "alice", "password": factories.PASSWORD})
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"access", "refresh", "tokenType", "expiresIn"}
        assert body["tokenType"] == "Bearer"
        assert body["expiresIn"] == app.config["ACCESS_TOKEN_TTL"]
        assert client.get(LIST, headers=bearer(body["access"])).status_code == 200

    def test_token_accepts_an_app_password(self, client, alice):
        secret = create_app_password(alice)
        db.session.commit()
        assert client.post(f"{API}/auth/token", json={"username": "alice", "password": secret}).status_code == 200

    def test_a_refresh_token_is_not_an_access_token(self, client, alice):
        tokens = client.post(f"{API}/auth/token", json={"username": "alice", "password": factories.PASSWORD}).get_json()
        assert client.get(LIST, headers=bearer(tokens["refresh"])).status_code == 401

    def test_refresh_gives_a_new_access_token(self, client, app, alice):
        tokens = client.post(f"{API}/auth/token", json={"username": "alice", "password": factories.PASSWORD}).get_json()
        response = client.post(f"{API}/auth/refresh", json={"refresh": tokens["refresh"]})
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"access", "tokenType", "expiresIn"}
        assert body["expiresIn"] == app.config["ACCESS_TOKEN_TTL"]
        assert client.get(LIST, headers=bearer(body["access"])).status_code == 200

    def test_an_access_token_is_not_a_refresh_token(self, client, alice):
        tokens = client.post(f"{API}/auth/token", json={"username": "alice", "password": factories.PASSWORD}).get_json()
        response = client.post(f"{API}/auth/refresh", json={"refresh": tokens["access"]})
        assert response.status_code == 401
        assert response.get_json()["error"] == "Invalid token"

    def test_wrong_password_is_401(self, client, alice):
        response = client.post(f"{API}/auth/token", json={"username": "alice", "password": "nope"})
        assert response.status_code == 401
        assert response.get_json()["error"] == "Invalid credentials"
        assert response.headers["WWW-Authenticate"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [({}, "username"), ({"username": "alice"}, "password"), ({"username": 5, "password": "x"}, "username"),
         ({"username": "alice", "password": ""}, "password")],
    )
    def test_bad_token_requests_are_400(self, client, alice, body, field):
        response = client.post(f"{API}/auth/token", json=body)
        assert response.status_code == 400
        assert field in response.get_json()["errors"]

    @pytest.mark.parametrize("body, status", [({}, 400), ({"refresh": 5}, 400), ({"refresh": "garbage"}, 401)])
    def test_bad_refresh_requests_are_rejected(self, client, alice, body, status):
        """A missing or mistyped field is bad input; a string that is no token is refused credentials."""
        assert client.post(f"{API}/auth/refresh", json=body).status_code == status

    def test_token_routes_need_json(self, client, alice):
        response = client.post(f"{API}/auth/token", data="username=alice", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415
