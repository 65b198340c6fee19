"""Brute-force protection for password sign-ins: too many failures lock a user name or a client address.

Failures are written in a transaction of their own: the request that failed is rolled back,
but its failure must be remembered, by every worker.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import TooManyRequests
from ..extensions import db
from ..models import LoginFailure


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta


def keys_for(username: str, address: str | None) -> list[str]:
    keys = ["user:" + username.strip().lower()[:300]]
    if address:
        keys.append("address:" + address[:300])
    return keys


def ensure_not_locked(keys: list[str], now: datetime) -> bool:
    """Raise TooManyRequests (with Retry-After) while any key is locked; return whether any key has failures."""
    rows = db.session.scalars(select(LoginFailure).where(LoginFailure.key.in_(keys))).all()
    locked_until = max((row.locked_until for row in rows if row.locked_until and row.locked_until > now), default=None)
    if locked_until is not None:
        retry_after = math.ceil((locked_until - now).total_seconds())
        raise TooManyRequests(
            "Too Many Requests",
            "Too many failed sign-ins for this user name or address; try again later.",
            headers={"Retry-After": str(retry_after)},
        )
    return bool(rows)


def _insert(dialect_name: str):
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def record_failure(keys: list[str], now: datetime, policy: ThrottlePolicy) -> None:
    """Count one failure on every key, atomically; the one that reaches the limit is locked."""
    window_open = LoginFailure.window_started > now - policy.window
    with db.engine.begin() as connection:
        for key in keys:
            stmt = _insert(connection.dialect.name)(LoginFailure).values(
                key=key, failures=1, window_started=now, locked_until=None
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[LoginFailure.key],
                set_={
                    "failures": case((window_open, LoginFailure.failures + 1), else_=1),
                    "window_started": case((window_open, LoginFailure.window_started), else_=now),
                },
            )
            connection.execute(stmt)
        connection.execute(
            LoginFailure.__table__.update()
            .where(LoginFailure.key.in_(keys), LoginFailure.failures >= policy.max_failures)
            .values(locked_until=now + policy.lockout)
        )
        connection.execute(
            delete(LoginFailure).where(
                LoginFailure.window_started < now - policy.window,
                (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now),
            )
        )


def clear_failures(keys: list[str]) -> None:
    with db.engine.begin() as connection:
        connection.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
