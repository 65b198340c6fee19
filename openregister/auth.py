"""Who is calling: Bearer JWT (ours, or an external identity provider's) or Basic with a password or app password."""

from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app, g, request
from sqlalchemy import select

from .errors import Unauthorized
from .extensions import db
from .models import AppPassword, User
from .models.base import utcnow
from .models.user import hash_app_password
from .services import login_throttle
from .services.users import find_user, user_for_external_subject

ACCESS = "access"
REFRESH = "refresh"


def _local_algorithms() -> list[str]:
    return [name for name in current_app.config["JWT_ALGORITHMS"] if name.startswith("HS")]


def _external_algorithms() -> list[str]:
    return [name for name in current_app.config["JWT_ALGORITHMS"] if not name.startswith("HS")]


def issue_token(user: User, kind: str = ACCESS) -> str:
    config = current_app.config
    now = datetime.now(UTC)
    ttl = config["ACCESS_TOKEN_TTL"] if kind == ACCESS else config["REFRESH_TOKEN_TTL"]
    claims = {"sub": user.username, "iat": now, "exp": now + timedelta(seconds=ttl), "type": kind}
    if config["JWT_ISSUER"]:
        claims["iss"] = config["JWT_ISSUER"]
    if config["JWT_AUDIENCE"]:
        claims["aud"] = config["JWT_AUDIENCE"]
    algorithms = _local_algorithms()
    if not algorithms:
        raise Unauthorized("Token issuing disabled", "This server only accepts tokens of an external identity provider.")
    return jwt.encode(claims, config["JWT_SECRET"], algorithm=algorithms[0])


def _verification_key(token: str, algorithm: str):
    config = current_app.config
    if algorithm.startswith("HS"):
        return config["JWT_SECRET"], _local_algorithms()
    if config["JWKS_URL"]:
        return _jwks_client(config["JWKS_URL"]).get_signing_key_from_jwt(token).key, _external_algorithms()
    if config["JWT_PUBLIC_KEY"]:
        return config["JWT_PUBLIC_KEY"], _external_algorithms()
    raise jwt.InvalidAlgorithmError("The token's algorithm is not accepted here.")


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL keeps its key cache, so the JWKS is not fetched on every request.
    if url not in _jwks_clients:
        _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)
    return _jwks_clients[url]


def decode_token(token: str, kind: str = ACCESS) -> dict:
    """The verified claims of a token of the given kind; raises Unauthorized otherwise."""
    config = current_app.config
    try:
        algorithm = jwt.get_unverified_header(token).get("alg", "")
        key, algorithms = _verification_key(token, algorithm)
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=config["JWT_ISSUER"],
            audience=config["JWT_AUDIENCE"],
            leeway=config["JWT_LEEWAY"],
            options={"require": ["exp", "iat", "sub"], "verify_aud": bool(config["JWT_AUDIENCE"])},
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthorized("Invalid token", f"The token was refused: {error}") from None
    local = algorithm.startswith("HS")
    token_kind = claims.get("type", ACCESS if not local else None)
    if token_kind != kind:
        raise Unauthorized("Invalid token", "This is not an access token." if kind == ACCESS else "This is not a refresh token.")
    claims["external"] = not local
    return claims


def user_from_token(token: str, kind: str = ACCESS) -> User:
    claims = decode_token(token, kind)
    subject = str(claims["sub"])
    user = user_for_external_subject(subject) if claims["external"] else find_user(subject)
    if user is None:
        raise Unauthorized("Invalid token", "The token names a user that does not exist.")
    return user


def check_credentials(username: str, secret: str) -> User | None:
    """The user whose password or one of whose app passwords is `secret`, else None."""
    user = find_user(username)
    if user is None:
        return None
    app_password = db.session.scalars(
        select(AppPassword).where(AppPassword.user_id == user.id, AppPassword.secret_hash == hash_app_password(secret))
    ).first()
    if app_password is not None or user.check_password(secret):
        return user
    return None


def login(username: str, secret: str) -> User:
    """The user for a password sign-in, counting failures per user name and client address.

    Raises TooManyRequests while either is locked out, Unauthorized for wrong credentials.
    """
    config = current_app.config
    policy = login_throttle.ThrottlePolicy(
        max_failures=config["LOGIN_MAX_FAILURES"],
        window=timedelta(seconds=config["LOGIN_FAILURE_WINDOW"]),
        lockout=timedelta(seconds=config["LOGIN_LOCKOUT"]),
    )
    keys = login_throttle.keys_for(username, request.remote_addr)
    now = utcnow()
    had_failures = login_throttle.ensure_not_locked(keys, now)
    user = check_credentials(username, secret)
    if user is None:
        login_throttle.record_failure(keys, now, policy)
        raise Unauthorized("Invalid credentials", "The user name or password is wrong.")
    if had_failures:
        login_throttle.clear_failures(keys)
    return user


def authenticate() -> User:
    """The caller named by the Authorization header; raises Unauthorized when there is none or it fails."""
    credentials = request.authorization
    if credentials is None:
        raise Unauthorized("Unauthorized", "Authentication is required: send a Bearer token or Basic credentials.")
    if credentials.type == "bearer" and credentials.token:
        return user_from_token(credentials.token)
    if credentials.type == "basic" and credentials.username:
        return login(credentials.username, credentials.password or "")
    raise Unauthorized("Unauthorized", "Unsupported Authorization scheme: use Bearer or Basic.")


def require_user() -> None:
    """before_request hook of every protected blueprint: sets g.current_user.

    A CORS preflight (OPTIONS) carries no credentials by design, and Flask answers it without a view.
    """
    if request.method != "OPTIONS":
        g.current_user = authenticate()
