import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Model, TimestampMixin, new_uuid, utcnow

if TYPE_CHECKING:
    from .organisation import Membership


def normalise_username(name: str) -> str:
    """The form in which user names are compared: surrounding white space trimmed, case folded."""
    return name.strip().lower()


class User(TimestampMixin, Model):
    """A person (or client) that signs in; `username` is the user id the API shows as `userId`.

    `username_key` is the normalised name, unique, so that no two users differ only in case.
    Tokens name a user by `uuid`, never reused, and carry `token_generation`: advancing it
    (new password, disable, delete) ends every token issued before.
    """

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("external_issuer", "external_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # Lower case can be longer than the name (U+0130 becomes two code points).
    username_key: Mapped[str] = mapped_column(String(128), unique=True)
    token_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    disabled: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # An identity provider's user: its issuer ("" when the token names none) and subject.
    external_issuer: Mapped[str | None] = mapped_column(String(255))
    external_subject: Mapped[str | None] = mapped_column(String(255))
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

    @validates("username")
    def _keep_key(self, key: str, value: str) -> str:
        self.username_key = normalise_username(value)
        return value

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


def hash_app_password(secret: str) -> str:
    # App passwords are long random strings, so a fast digest is as safe as a slow hash
    # and keeps Basic auth with an app password cheap on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request, as authentication read them: the columns of their users row that
    authorisation and the wire need, without an ORM object loaded on every request. A route that
    changes the user loads the User (services.users.user_of)."""

    id: int
    uuid: str
    username: str
    token_generation: int
    active_organisation_id: int | None

    @classmethod
    def of(cls, user: User) -> "Caller":
        return cls(user.id, user.uuid, user.username, user.token_generation, user.active_organisation_id)


class AppPassword(Model):
    """A revocable secret for Basic auth, as Nextcloud's app passwords; only its digest is stored."""

    __tablename__ = "app_passwords"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_used: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="app_passwords")

    @staticmethod
    def generate() -> str:
        return secrets.token_urlsafe(32)
