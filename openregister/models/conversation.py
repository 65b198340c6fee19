import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from .base import JsonType, Model, TimestampMixin, new_uuid

if TYPE_CHECKING:
    from .agent import Agent
    from .message import Message
    from .organisation import Organisation
    from .user import User


def new_slug() -> str:
    """11 URL-safe random characters, the short public id NISIRA's front end uses."""
    return secrets.token_urlsafe(8)[:11]


class Conversation(TimestampMixin, Model):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_listing", "user_id", "organisation_id", "deleted_at", "updated"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(11), unique=True, default=new_slug)
    title: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    # "metadata" is reserved on declarative classes, so the attribute carries a trailing underscore.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, default=dict)
    deleted_at: Mapped[datetime | None]

    user: Mapped["User"] = relationship()
    organisation: Mapped["Organisation | None"] = relationship()
    agent: Mapped["Agent | None"] = relationship()
    messages: WriteOnlyMapped["Message"] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True
    )
    if TYPE_CHECKING:
        # Column properties that message.py adds, where the tables they read are known.
        message_count: Mapped[int]
        owner_name: Mapped[str]

    @property
    def is_archived(self) -> bool:
        return self.deleted_at is not None

    def archive(self, *, at: datetime) -> None:
        if self.deleted_at is None:
            self.deleted_at = at

    def restore(self) -> None:
        self.deleted_at = None
