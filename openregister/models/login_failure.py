from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model


class LoginFailure(Model):
    """Failed sign-ins counted per (user name, address) pair, per address and per user name, shared by every worker.

    `key` names the counter; `username` (normalised) and `address` say what it involves, so that
    an operator can lift every lock that involves a name or an address.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(300), index=True)
    address: Mapped[str | None] = mapped_column(String(300), index=True)
    failures: Mapped[int]
    window_started: Mapped[datetime]
    locked_until: Mapped[datetime | None]
