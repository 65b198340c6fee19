from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, utcnow
from .conversation import Conversation


class ShareLink(Model):
    """A conversation's public read-only link: one per conversation, the token kept only as its SHA-256."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # When the link was made; the public view shows the messages up to last_message_id, the newest then
    # (ids, not times, because two messages can share a timestamp). None: there were none.
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_message_id: Mapped[int | None]

    conversation: Mapped[Conversation] = relationship()

    def is_live(self, *, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now
