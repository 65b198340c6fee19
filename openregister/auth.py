"""Who is calling: Bearer JWT (ours, or an external identity provider's) or Basic with a password or app password."""

import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import jwt
from flask import current_app, g, request
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .database import read, unit_of_work
from .errors import Unauthorized
from .extensions import db
from .http import NUL
from .models import AppPassword, Caller, User
from .models.base import utcnow
from .models.user import hash_app_password
from .services import login_throttle
from .services.organisations import ACTIVE_ORGANISATION_ID, note_active_organisation_id
from .services.users import add_external_user, find_external_user, find_user

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPublicKeys

ACCESS = "access"
REFRESH = "refresh"


def _local_algorithms() -> list[str]:
    return [name for name in current_app.config["JWT_ALGORITHMS"] if name.startswith("HS")]


def _external_algorithms() -> list[str]:
    return [name for name in current_app.config["JWT_ALGORITHMS"] if not name.startswith("HS")]


def issue_token(user: User | Caller, kind: str = ACCESS) -> str:
    config = current_app.config
    now = datetime.now(UTC)
    ttl = config["ACCESS_TOKEN_TTL"] if kind == ACCESS else config["REFRESH_TOKEN_TTL"]
    # `sub` is the user's uuid, never reused (a name can be deleted and taken again); `gen` is the
    # user's token generation, advanced by a new password, disabling or deleting: older tokens end.
    claims: dict[str, Any] = {
        "sub": user.uuid, "gen": user.token_generation, "iat": now, "exp": now + timedelta(seconds=ttl), "type": kind,
    }
    if config["JWT_ISSUER"]:
        claims["iss"] = config["JWT_ISSUER"]
    if config["JWT_AUDIENCE"]:
        claims["aud"] = config["JWT_AUDIENCE"]
    algorithms = _local_algorithms()
    if not algorithms:
        raise Unauthorized(
            "Token issuing disabled", "This server only accepts tokens of an external identity provider.",
            code="token_issuing_disabled",
        )
    return jwt.encode(claims, config["JWT_SECRET"], algorithm=algorithms[0])


def _verification_key(token: str) -> tuple["AllowedPublicKeys | str | bytes", list[str], bool]:
    """The key and the algorithms that verify `token`, and whether it is one of ours (HS*)."""
    config = current_app.config
    local_algorithms = _local_algorithms()
    if local_algorithms and not (config["JWKS_URL"] or config["JWT_PUBLIC_KEY"]):
        # Only our own tokens are accepted: jwt.decode refuses any other algorithm the header names
        # (or none), so the header need not be read twice.
        return config["JWT_SECRET"], local_algorithms, True
    algorithm = jwt.get_unverified_header(token).get("alg")
    if not isinstance(algorithm, str):
        raise jwt.InvalidAlgorithmError("The token's header names no algorithm.")
    if algorithm.startswith("HS"):
        return config["JWT_SECRET"], local_algorithms, True
    if config["JWKS_URL"]:
        return _jwks_client(config["JWKS_URL"]).get_signing_key_from_jwt(token).key, _external_algorithms(), False
    if config["JWT_PUBLIC_KEY"]:
        return config["JWT_PUBLIC_KEY"], _external_algorithms(), False
    raise jwt.InvalidAlgorithmError("The token's algorithm is not accepted here.")


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL keeps its key cache, so the JWKS is not fetched on every request.
    if url not in _jwks_clients:
        _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
    return _jwks_clients[url]


def _verified_claims(token: str, key: "AllowedPublicKeys | str | bytes", algorithms: tuple[str, ...],
                     issuer: str | None, audience: str | None, leeway: int) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=algorithms,
        issuer=issuer,
        audience=audience,
        leeway=leeway,
        options={"require": ["exp", "iat", "sub"], "verify_aud": bool(audience)},
    )
    return claims


# Our own tokens, once verified: their signature and fixed claims hold as long as the secret does,
# and only time can end one (exp, checked on every use). The secret is part of the cache key, so
# another secret misses; only tokens that verified are kept, so forged ones cannot fill it. An
# identity provider's keys are left out: they are not hashable, and the provider may withdraw one.
_verified_local_claims = lru_cache(maxsize=4096)(_verified_claims)


def _check_not_expired(claims: dict[str, Any], leeway: int) -> None:
    # As jwt.decode checks it, for a token taken from the cache long after it was verified.
    if claims["exp"] <= time.time() - leeway:
        raise jwt.ExpiredSignatureError("Signature has expired")


def decode_token(token: str, kind: str = ACCESS) -> dict[str, Any]:
    """The verified claims of a token of the given kind; raises Unauthorized otherwise."""
    config = current_app.config
    try:
        key, algorithms, local = _verification_key(token)
        verify = _verified_local_claims if local else _verified_claims
        claims = verify(token, key, tuple(algorithms), config["JWT_ISSUER"], config["JWT_AUDIENCE"], config["JWT_LEEWAY"])
        _check_not_expired(claims, config["JWT_LEEWAY"])
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as error:
        # A token is the caller's input: whatever is wrong with it is a 401, never a server error.
        raise Unauthorized(
            "Invalid token", f"The token was refused: {type(error).__name__}.", code="invalid_token"
        ) from None
    token_kind = claims.get("type", ACCESS if not local else None)
    if token_kind != kind:
        raise Unauthorized(
            "Invalid token", "This is not an access token." if kind == ACCESS else "This is not a refresh token.",
            code="invalid_token",
        )
    return {**claims, "external": not local}


_users = User.__table__

# Built once: every authenticated request runs it. The user is read afresh each time, so that a
# disabled user or an advanced token generation ends the token at once, with their active organisation;
# as a row: the request needs a few columns, not an ORM object (loading one costs more than the query).
CALLER_BY_UUID = select(
    *(_users.c[name] for name in ("id", "uuid", "username", "token_generation", "disabled", "active_organisation_id")),
    ACTIVE_ORGANISATION_ID.label("active_organisation"),
).where(_users.c.uuid == bindparam("uuid"))


def user_from_token(token: str, kind: str = ACCESS) -> Caller:
    """The user a valid token names: ours by uuid and token generation, an identity provider's by
    (issuer, subject). Raises Unauthorized for a token that has ended or a disabled user."""
    claims = decode_token(token, kind)
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise Unauthorized("Invalid token", "The token's subject is not a user id.", code="invalid_token")
    caller: Caller | None = None
    if claims["external"]:
        user = external_user(str(claims.get("iss") or "")[:255], subject)
        if user is not None and not user.disabled:
            caller = Caller.of(user)
    else:
        rows = read(CALLER_BY_UUID, {"uuid": subject})
        found = rows[0] if rows else None
        generation = claims.get("gen")
        if (found is not None and not found.disabled and type(generation) is int
                and generation == found.token_generation):
            caller = Caller(found.id, found.uuid, found.username, found.token_generation, found.active_organisation_id)
            note_active_organisation_id(caller, found.active_organisation)
    if caller is None:
        raise Unauthorized(
            "Invalid token", "The token has ended or names no user that may sign in.", code="invalid_token"
        )
    return caller


def external_user(issuer: str, subject: str) -> User | None:
    """An identity provider's user, created on first use in a transaction of its own: the account exists
    from the first request on, even one that writes nothing else (so an operator can disable it)."""
    user = find_external_user(issuer, subject)
    if user is not None:
        return user
    try:
        with unit_of_work():
            user = add_external_user(issuer, subject)
    except IntegrityError:  # a concurrent first request of the same user created it
        return find_external_user(issuer, subject)
    return user


@cache
def _dummy_password_hash() -> str:
    # Checked when there is no password to check (unknown or external user), with the same method
    # as real ones, so that a wrong name costs the same time as a wrong password.
    return generate_password_hash(secrets.token_urlsafe(16))


APP_PASSWORD_USE_RESOLUTION = timedelta(minutes=1)


def _note_app_password_use(app_password: AppPassword) -> None:
    """Record when an app password was last used, at most once a minute, in a transaction of its own."""
    now = utcnow()
    if app_password.last_used is not None and app_password.last_used > now - APP_PASSWORD_USE_RESOLUTION:
        return
    with db.engine.begin() as connection:
        connection.execute(update(AppPassword).where(AppPassword.id == app_password.id).values(last_used=now))


def check_credentials(username: str, secret: str) -> User | None:
    """The user whose password or one of whose app passwords is `secret`, else None.

    An unknown name, a wrong secret and a disabled user cost the same work (one look-up of the
    name, one of the app password, one password hash) and give the same None.
    """
    user = find_user(username)
    app_password = db.session.scalars(
        select(AppPassword).where(
            AppPassword.user_id == (user.id if user is not None else None),
            AppPassword.secret_hash == hash_app_password(secret),
        )
    ).first()
    if app_password is not None and user is not None and not user.disabled:
        _note_app_password_use(app_password)
        return user
    stored = user.password_hash if user is not None and user.password_hash else _dummy_password_hash()
    matches = check_password_hash(stored, secret)
    if user is None or user.password_hash is None or user.disabled or not matches:
        return None
    return user


def login(username: str, secret: str) -> User:
    """The user for a password sign-in, counting failures per (name, address), per address and per name.

    Raises TooManyRequests while any of them is locked, Unauthorized for wrong credentials.
    """
    counters = login_throttle.counters_for(username, request.remote_addr, current_app.config)
    now = utcnow()
    present = login_throttle.ensure_not_locked(counters, now)
    user = check_credentials(username, secret)
    if user is None:
        login_throttle.record_failure(counters, now)
        raise Unauthorized("Invalid credentials", "The user name or password is wrong.", code="invalid_credentials")
    login_throttle.clear_pair(counters, present)
    return user


def authenticate() -> Caller:
    """The caller named by the Authorization header; raises Unauthorized when there is none or it fails."""
    credentials = request.authorization
    if credentials is None:
        raise Unauthorized(
            "Unauthorized", "Authentication is required: send a Bearer token or Basic credentials.",
            code="unauthorized",
        )
    if credentials.type == "bearer" and credentials.token:
        return user_from_token(credentials.token)
    if credentials.type == "basic" and credentials.username:
        if NUL in credentials.username or NUL in (credentials.password or ""):
            # no user name or password holds U+0000 (and PostgreSQL's text, where failures are counted, cannot)
            raise Unauthorized("Invalid credentials", "The user name or password is wrong.", code="invalid_credentials")
        return Caller.of(login(credentials.username, credentials.password or ""))
    raise Unauthorized("Unauthorized", "Unsupported Authorization scheme: use Bearer or Basic.", code="unauthorized")


def require_user() -> None:
    """before_request hook of every protected blueprint: sets g.current_user, which current_user() reads.

    A CORS preflight (OPTIONS) carries no credentials by design, and Flask answers it without a view.
    """
    if request.method != "OPTIONS":
        g.current_user = authenticate()


def current_user() -> Caller:
    """Who makes this request, as require_user found them."""
    caller: Caller = g.current_user
    return caller
