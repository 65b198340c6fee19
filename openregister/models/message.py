from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from .base import JsonType, Model, TimestampMixin, new_uuid, utcnow
from .conversation import Conversation
from .user import User

ROLES = ("user", "assistant", "system")


class Message(Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_paging", "conversation_id", "created", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


_messages, _conversations, _users = Message.__table__, Conversation.__table__, User.__table__

# Loaded with every conversation in the same SELECT, so a page of conversations costs one query,
# and always right because nothing has to keep it in step. Spelled with the tables' columns, so that
# the hot routes' statements that select them stay Core statements (services.conversations).
MESSAGE_COUNT = (
    select(func.count(_messages.c.id))
    .where(_messages.c.conversation_id == _conversations.c.id)
    .correlate_except(_messages)
    .scalar_subquery()
)
Conversation.message_count = column_property(MESSAGE_COUNT)

# The owner's name, the wire's userId, loaded the same way: a page of conversations then needs no
# user object per conversation.
OWNER_NAME = (
    select(_users.c.username).where(_users.c.id == _conversations.c.user_id).correlate_except(_users).scalar_subquery()
)
Conversation.owner_name = column_property(OWNER_NAME)


class Feedback(TimestampMixin, Model):
    """A user's rating of an assistant message: one per message and user."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id", name="uq_feedback_message_id_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    issue_tag: Mapped[str | None] = mapped_column(String(32))

    message: Mapped[Message] = relationship()
    user: Mapped["User"] = relationship()
