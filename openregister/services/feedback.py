"""Feedback: a user's rating of an assistant message, one per message and user."""

from enum import Enum
from typing import Final

from sqlalchemy import select

from ..errors import BadRequest, NotFound
from ..extensions import db
from ..models import Caller, Feedback, Message
from .conversations import get_conversation_for
from .lookup import Ref, find_by_ref

FEEDBACK_TYPES = ("positive", "negative")


class Unchanged(Enum):
    """The type of UNCHANGED."""

    UNCHANGED = "unchanged"


# Passed for a field the request did not send, so that an earlier value stays.
UNCHANGED: Final = Unchanged.UNCHANGED


def get_message_for(actor: Caller, conversation_ref: Ref, message_ref: Ref) -> Message:
    """The message `message_ref` (id or uuid) of a conversation the actor may change.

    Raises what get_conversation_for raises, and NotFound when the message is not in that conversation.
    """
    conversation = get_conversation_for(actor, conversation_ref, write=True)
    message = find_by_ref(Message, message_ref)
    if message is None or message.conversation_id != conversation.id:
        raise NotFound("Message not found", f"No message {message_ref} in this conversation.", code="message_not_found")
    return message


def give_feedback(actor: Caller, message: Message, *, feedback_type: object, comment: str | None | Unchanged = UNCHANGED,
                  issue_tag: str | None | Unchanged = UNCHANGED) -> Feedback:
    """Create or update the actor's feedback on an assistant message; UNCHANGED fields keep their value.

    Raises BadRequest for a type other than "positive"/"negative" and for a message that is not an answer.
    """
    if not isinstance(feedback_type, str) or feedback_type not in FEEDBACK_TYPES:
        raise BadRequest(
            "Invalid feedback type", 'The feedback type must be "positive" or "negative".',
            code="invalid_feedback_type",
        )
    if message.role != "assistant":
        raise BadRequest(
            "Not an assistant message", "Only the assistant's messages take feedback.",
            code="not_an_assistant_message",
        )
    feedback = find_feedback(actor, message)
    if feedback is None:
        conversation = message.conversation
        feedback = Feedback(
            message_id=message.id,
            conversation_id=conversation.id,
            agent_id=conversation.agent_id,
            user_id=actor.id,
            organisation_id=conversation.organisation_id,
        )
        db.session.add(feedback)
    feedback.type = feedback_type
    if comment is not UNCHANGED:
        feedback.comment = comment
    if issue_tag is not UNCHANGED:
        feedback.issue_tag = issue_tag
    db.session.flush()
    return feedback


def remove_feedback(actor: Caller, message: Message) -> None:
    """Delete the actor's feedback on the message; raises NotFound when there is none."""
    feedback = find_feedback(actor, message)
    if feedback is None:
        raise NotFound("Feedback not found", "You have not given feedback on this message.", code="feedback_not_found")
    db.session.delete(feedback)
    db.session.flush()


def find_feedback(actor: Caller, message: Message) -> Feedback | None:
    return db.session.scalars(
        select(Feedback).where(Feedback.message_id == message.id, Feedback.user_id == actor.id)
    ).first()
