"""NISIRA Assistant's dialect over the core services: its sign-in, conversation references, titles, pages and ratings.

Only the rules NISIRA has and the core lacks live here; access, chat and feedback are the core services'.
The errors raised here name their codes; errors.py words them in NISIRA's Spanish.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..auth import REFRESH, issue_token, login
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..models import Caller, Conversation, Feedback, Message, User
from ..models.base import utcnow
from ..pagination import Window
from ..services.chat import AnsweredConversation, Exchange, Question, store_question
from ..services.conversations import (
    InsertedMessage,
    create_conversation,
    get_conversation_for,
    list_conversations,
    page_messages,
)
from ..services.feedback import UNCHANGED, Unchanged, find_feedback, give_feedback, remove_feedback
from ..services.lookup import find_by_ref
from ..services.retrieval import RetrievalSettings
from .ratings import AUTO_ISSUE, CLEAR, FEEDBACK_TYPES, NO_ISSUE, RATINGS, pick_issue_tag

TITLE_LENGTH = 50


@dataclass(frozen=True)
class RatedMessage:
    """A message with the caller's rating of it, which NISIRA's message object carries."""

    message: Message | InsertedMessage
    rating: str | None = None
    issue_tag: str = NO_ISSUE


class TokenPair(TypedDict):
    access: str
    refresh: str


class SignedIn(TokenPair):
    user: User


class NisiraPage(TypedDict):
    """NISIRA's page fields, next to the items of a page."""

    page: int
    size: int
    total: int
    has_more: bool


class ConversationPage(NisiraPage):
    conversations: list[Conversation]


class MessagePage(NisiraPage):
    conversation: Conversation
    messages: list[RatedMessage]


class NisiraExchange(TypedDict):
    conversation: AnsweredConversation
    user_message: RatedMessage
    assistant_message: RatedMessage


class Rating(TypedDict):
    message: Message
    conversation: Conversation
    value: str | None
    status: str
    updated_at: datetime
    issue_tag: str


class Retrieval(TypedDict, total=False):
    """How store_question retrieves for NISIRA's rag/chat (its keyword arguments)."""

    include_files: bool | None
    without_agent: RetrievalSettings | None


def default_title(now: datetime, timezone: str) -> str:
    """NISIRA's name for an untitled conversation: "Conversación dd/mm/YYYY HH:MM", naive-UTC `now` in `timezone`."""
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    return f"Conversación {local:%d/%m/%Y %H:%M}"


def title_from_content(content: str) -> str:
    """The first 50 characters of a first message, with "..." when there were more."""
    text = " ".join(content.split())
    return text[:TITLE_LENGTH] + "..." if len(text) > TITLE_LENGTH else text


def tokens_for(user: User | Caller) -> TokenPair:
    return {"access": issue_token(user), "refresh": issue_token(user, REFRESH)}


def sign_in(username: str | None, password: str | None) -> SignedIn:
    """NISIRA's own sign-in: the tokens and the user, for a user name and password.

    Raises BadRequest when either is missing, TooManyRequests while sign-ins are locked, and
    Unauthorized (sign_in_refused) otherwise: NISIRA words every refusal of its sign-in view the same.
    """
    if not username and not password:
        raise BadRequest("Missing credentials", "Send `username` and `password`.", code="missing_credentials")
    if not username:
        raise BadRequest("Missing username", "Send `username`.", code="missing_username")
    if not password:
        raise BadRequest("Missing password", "Send `password`.", code="missing_password")
    try:
        user = login(username, password)
        return {**tokens_for(user), "user": user}
    except Unauthorized as refused:
        raise Unauthorized("Sign-in refused", refused.message, code="sign_in_refused") from refused


def find_conversation(ref: str | int) -> Conversation | None:
    """The conversation a NISIRA reference names: all digits is the id, anything else the slug."""
    return find_by_ref(Conversation, ref, key=Conversation.slug)


def visible_conversation(actor: Caller, ref: str | int) -> Conversation | None:
    """The actor's conversation `ref` if they may read it now and it is not archived, else None.

    NISIRA shows only these, and answers for every other one as for one that does not exist.
    """
    conversation = find_conversation(ref)
    if conversation is None:
        return None
    try:
        conversation = get_conversation_for(actor, conversation.id)
    except (NotFound, Forbidden):
        return None
    return None if conversation.is_archived else conversation


def get_nisira_conversation(actor: Caller, ref: str) -> Conversation:
    """The conversation `ref` (slug or id) that NISIRA may show the actor; raises NotFound otherwise."""
    conversation = visible_conversation(actor, ref)
    if conversation is None:
        raise NotFound("Conversation not found", f"No conversation {ref}.", code="conversation_not_found")
    return conversation


def nisira_page(listing: Mapping[str, Any], page: int) -> NisiraPage:
    """NISIRA's page fields for a page of core results (pagination.paginate)."""
    return {"page": page, "size": listing["limit"], "total": listing["total"], "has_more": listing["has_more"]}


def list_nisira_conversations(actor: Caller, window: Window, *, page: int) -> ConversationPage:
    """A page of the actor's active conversations in the active organisation, newest update first."""
    listing = list_conversations(actor, window, archived=False)
    return {"conversations": listing["results"], **nisira_page(listing, page)}


def create_nisira_conversation(actor: Caller, *, title: str | None, timezone: str) -> Conversation:
    """A conversation in the actor's active organisation; without a title it is named for now in `timezone`."""
    if not title or not title.strip():
        title = default_title(utcnow(), timezone)
    return create_conversation(actor, title=title)


def rated_messages(actor: Caller, messages: list[Message]) -> list[RatedMessage]:
    """The messages with the actor's ratings, loaded in one query."""
    feedback_by_message = {
        feedback.message_id: feedback
        for feedback in db.session.scalars(
            select(Feedback).where(Feedback.user_id == actor.id, Feedback.message_id.in_([m.id for m in messages]))
        )
    }
    return [rated(message, feedback_by_message.get(message.id)) for message in messages]


def rated(message: Message, feedback: Feedback | None) -> RatedMessage:
    if feedback is None:
        return RatedMessage(message)
    return RatedMessage(message, RATINGS[feedback.type], feedback.issue_tag or NO_ISSUE)


def page_nisira_messages(actor: Caller, conversation: Conversation, window: Window, *, page: int) -> MessagePage:
    """Page 1 is the newest messages, page 2 the ones before; each page in chronological order."""
    listing = page_messages(conversation, window, order="latest")
    return {
        "conversation": conversation,
        "messages": rated_messages(actor, listing["results"]),
        **nisira_page(listing, page),
    }


def store_nisira_question(
    actor: Caller, *, conversation_ref: str | None, content: str | None, start: bool = False, use_rag: bool = True
) -> Question:
    """Store the question `content` in a conversation NISIRA may show, through the chat service.

    With start=True (NISIRA's rag/chat), no `conversation_ref` starts a conversation titled after `content`,
    and a conversation without an agent is answered from the organisation's documents (hybrid, 5 sources);
    `use_rag` false answers without them. Otherwise retrieval follows the conversation's agent.
    Raises BadRequest (blank content, no conversation), NotFound, and what store_question raises.
    """
    if not content or not content.strip():
        if start:
            raise BadRequest("Content required", "Send the text of your message in `content`.", code="content_required")
        raise BadRequest("Empty message", "Send the text of your message in `content`.", code="empty_message")
    if conversation_ref not in (None, ""):
        conversation = get_nisira_conversation(actor, conversation_ref)
    elif start:
        conversation = create_conversation(actor, title=title_from_content(content))
    else:
        raise BadRequest(
            "Conversation required", "Name the conversation in `conversation_id`.", code="conversation_required"
        )
    retrieval: Retrieval = {}
    if start:
        retrieval = {"include_files": None if use_rag else False,
                     "without_agent": RetrievalSettings(mode="hybrid", limit=5) if use_rag else None}
    return store_question(actor, message=content, conversation_ref=conversation.id, **retrieval)


def exchange_of(exchange: Exchange) -> NisiraExchange:
    """NISIRA's answer to a chat: the conversation and both messages with their ratings."""
    return {
        "conversation": exchange.conversation,
        "user_message": RatedMessage(exchange.user_message),
        "assistant_message": RatedMessage(exchange.assistant_message),
    }


def rate_message(
    actor: Caller, *, message_id: int, value: str, comment: str | None | Unchanged = UNCHANGED, issue_tag: str = NO_ISSUE
) -> Rating:
    """Like, dislike or clear the actor's rating of an answer: the feedback the main API shows too.

    `comment` keeps its earlier value when UNCHANGED; issue_tag "auto" is picked from the comment sent.
    Raises NotFound for a message NISIRA may not show, BadRequest for a message that is not an answer.
    """
    message = find_by_ref(Message, message_id)
    if message is None or visible_conversation(actor, message.conversation_id) is None:
        raise NotFound("Message not found", f"No message {message_id} that you may rate.", code="message_not_found")
    if message.role != "assistant":
        raise BadRequest(
            "Only answers are rated", "Only the assistant's messages take ratings.", code="only_answers_rated"
        )
    existing = find_feedback(actor, message)
    if value == CLEAR:
        if existing is not None:
            remove_feedback(actor, message)
        return rating_of(message, None, "removed" if existing else "noop")
    if issue_tag == AUTO_ISSUE:
        issue_tag = pick_issue_tag(comment if isinstance(comment, str) else None)  # a comment sent, else None
    feedback = give_feedback(
        actor,
        message,
        feedback_type=FEEDBACK_TYPES[value],
        comment=comment,
        issue_tag=None if issue_tag == NO_ISSUE else issue_tag,
    )
    return rating_of(message, feedback, "updated" if existing else "created")


def rating_of(message: Message, feedback: Feedback | None, status: str) -> Rating:
    current = rated(message, feedback)
    return {
        "message": message,
        "conversation": message.conversation,
        "value": current.rating,
        "status": status,
        "updated_at": feedback.updated if feedback else utcnow(),
        "issue_tag": current.issue_tag,
    }
