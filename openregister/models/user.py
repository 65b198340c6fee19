import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import TimestampMixin, utcnow

if TYPE_CHECKING:
    from .organisation import Membership


class User(TimestampMixin, db.Model):
    """A person (or client) that signs in; `username` is the user id the API shows as `userId`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL", use_alter=True)
    )

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    app_passwords: Mapped[list["AppPassword"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


def hash_app_password(secret: str) -> str:
    # App passwords are long random strings, so a fast digest is as safe as a slow hash
    # and keeps Basic auth with an app password cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


class AppPassword(db.Model):
    """A revocable secret for Basic auth, as Nextcloud's app passwords; only its digest is stored."""

    __tablename__ = "app_passwords"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="app_passwords")

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, hash_app_password(secret))
