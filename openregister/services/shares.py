"""Share links: a read-only public view of a conversation, as Nextcloud shares files.

The token (32 random bytes, URL-safe) is shown once; only its SHA-256 is kept.
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import func, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Conversation, Message, ShareLink
from ..models.base import utcnow

TOKEN_BYTES = 32


def share_not_found() -> NotFound:
    # One answer for every reason (unknown, revoked, expired, archived, deleted): a link tells nothing.
    return NotFound("Share not found", "No shared conversation for this link.", code="share_not_found")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def find_share(conversation: Conversation) -> ShareLink | None:
    return db.session.scalars(select(ShareLink).where(ShareLink.conversation_id == conversation.id)).first()


def create_share(conversation: Conversation, *, expires_in: int | None = None) -> tuple[ShareLink, str]:
    """A new link to the conversation, replacing (and so ending) any earlier one; returns it with its token.

    Raises Conflict for an archived conversation.
    """
    if conversation.is_archived:
        raise Conflict("Conversation archived", "An archived conversation cannot be shared; restore it first.",
                       code="conversation_archived")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    link = find_share(conversation) or ShareLink(conversation_id=conversation.id)
    link.token_hash = hash_token(token)
    link.created = now
    link.expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    link.last_message_id = db.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation.id)
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def get_share(conversation: Conversation) -> ShareLink:
    """The conversation's current link; raises NotFound when there is none or it has expired."""
    link = find_share(conversation)
    if link is None or not link.is_live(now=utcnow()):
        raise share_not_found()
    return link


def revoke_share(conversation: Conversation) -> None:
    """End the conversation's link; raises NotFound when there is none."""
    link = find_share(conversation)
    if link is None:
        raise share_not_found()
    db.session.delete(link)
    db.session.flush()


def get_shared_conversation(token: str) -> tuple[ShareLink, list[Message]]:
    """The link a token opens, with the messages that existed when it was made, oldest first.

    Raises the same NotFound for an unknown, revoked or expired token and for an archived conversation.
    """
    token_hash = hash_token(token)
    # Looking the row up by the hash is safe from timing attacks: what an index comparison could leak is
    # how much of a SHA-256 matches, which says nothing usable about a token (the hash cannot be steered
    # towards a stored one). The stored hash is then compared in constant time all the same.
    link = db.session.scalars(select(ShareLink).where(ShareLink.token_hash == token_hash)).first()
    if link is None or not hmac.compare_digest(link.token_hash, token_hash):
        raise share_not_found()
    if not link.is_live(now=utcnow()) or link.conversation.is_archived:
        raise share_not_found()
    messages: Sequence[Message] = []
    if link.last_message_id is not None:
        messages = db.session.scalars(
            select(Message)
            .where(Message.conversation_id == link.conversation_id, Message.id <= link.last_message_id)
            .order_by(Message.created, Message.id)
        ).all()
    return link, list(messages)
