"""Brute-force protection for password sign-ins, without letting a stranger lock anyone out.

Three counters, each with its own limit (see DefaultConfig.LOGIN_*):

- per (user name, client address) pair: 5 failures in 15 minutes lock that pair for 15 minutes,
  right password or not. The same name from another address is not affected, and a sign-in that
  succeeds clears the pair's counter;
- per address over all names: 50 failures in 15 minutes lock the address for 15 minutes, so one
  machine cannot try many names; a success does not clear it (else an attacker's own account
  would reset it), and the limit is high enough for many users behind one NAT;
- per name over all addresses: 100 failures in an hour (a distributed attack) lock the name for
  60 seconds at a time, never for long, so the owner of the name is slowed, not shut out.

Bearer tokens never pass through here. Failures are written in a transaction of their own: the
request that failed is rolled back, but its failure must be remembered, by every worker.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import TooManyRequests
from ..extensions import db
from ..models import LoginFailure
from ..models.user import normalise_username

PAIR, ADDRESS, NAME = "pair", "address", "name"


@dataclass(frozen=True)
class Limit:
    max_failures: int
    window: timedelta
    lockout: timedelta


@dataclass(frozen=True)
class Counter:
    key: str
    kind: str
    username: str | None
    address: str | None
    limit: Limit


def limits(config: Mapping[str, Any]) -> dict[str, Limit]:
    def limit(prefix: str) -> Limit:
        return Limit(
            max_failures=config[f"{prefix}_MAX_FAILURES"],
            window=timedelta(seconds=config[f"{prefix}_FAILURE_WINDOW"]),
            lockout=timedelta(seconds=config[f"{prefix}_LOCKOUT"]),
        )

    return {PAIR: limit("LOGIN"), ADDRESS: limit("LOGIN_ADDRESS"), NAME: limit("LOGIN_NAME")}


def counters_for(username: str, address: str | None, config: Mapping[str, Any]) -> list[Counter]:
    """The counters one password sign-in by `username` from `address` touches."""
    rules = limits(config)
    name = normalise_username(username)[:200]
    counters = [Counter(f"name:{name}", NAME, name, None, rules[NAME])]
    if address:
        address = address[:64]
        counters.append(Counter(f"pair:{address}|{name}", PAIR, name, address, rules[PAIR]))
        counters.append(Counter(f"address:{address}", ADDRESS, None, address, rules[ADDRESS]))
    return counters


def ensure_not_locked(counters: list[Counter], now: datetime) -> set[str]:
    """Raise TooManyRequests (Retry-After: when the last lock ends) while any counter is locked;
    return the keys that have failures counted."""
    rows = db.session.scalars(select(LoginFailure).where(LoginFailure.key.in_([c.key for c in counters]))).all()
    locked_until = max((row.locked_until for row in rows if row.locked_until and row.locked_until > now), default=None)
    if locked_until is not None:
        retry_after = max(1, math.ceil((locked_until - now).total_seconds()))
        raise TooManyRequests(
            "Too Many Requests",
            "Too many failed sign-ins for this user name or address; try again later.",
            code="too_many_requests",
            headers={"Retry-After": str(retry_after)},
        )
    return {row.key for row in rows}


def _insert(dialect_name: str) -> Callable[[type[LoginFailure]], postgresql.Insert | sqlite.Insert]:
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def record_failure(counters: list[Counter], now: datetime) -> None:
    """Count one failure on every counter, atomically; one that reaches its limit is locked."""
    longest = max((counter.limit.window for counter in counters), default=timedelta(0))
    with db.engine.begin() as connection:
        for counter in counters:
            window_open = LoginFailure.window_started > now - counter.limit.window
            stmt = _insert(connection.dialect.name)(LoginFailure).values(
                key=counter.key, username=counter.username, address=counter.address,
                failures=1, window_started=now, locked_until=None,
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
                update(LoginFailure)
                .where(LoginFailure.key == counter.key, LoginFailure.failures >= counter.limit.max_failures)
                .values(locked_until=now + counter.limit.lockout)
            )
        connection.execute(
            delete(LoginFailure).where(
                LoginFailure.window_started < now - longest,
                (LoginFailure.locked_until.is_(None)) | (LoginFailure.locked_until < now),
            )
        )


def clear_pair(counters: list[Counter], present: set[str]) -> None:
    """After a successful sign-in: forget the pair's failures (only the pair's), if it had any."""
    keys = [counter.key for counter in counters if counter.kind == PAIR and counter.key in present]
    if keys:
        with db.engine.begin() as connection:
            connection.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))


def unlock(username: str | None = None, address: str | None = None) -> int:
    """Lift every lock (and count) that involves the user name or the address; with neither, all.

    Returns how many counters were removed.
    """
    conditions = []
    if username is not None:
        conditions.append(LoginFailure.username == normalise_username(username)[:200])
    if address is not None:
        conditions.append(LoginFailure.address == address.strip()[:64])
    stmt = delete(LoginFailure)
    if conditions:
        stmt = stmt.where(or_(*conditions))
    with db.engine.begin() as connection:
        return connection.execute(stmt).rowcount
