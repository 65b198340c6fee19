from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class LoginFailure(db.Model):
    """Failed sign-ins counted per user name and per client address, shared by every worker."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int]
    window_started: Mapped[datetime]
    locked_until: Mapped[datetime | None]
