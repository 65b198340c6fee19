"""NISIRA Assistant's dialect over the shared services: its conversation references, titles, pages and ratings.

Only the rules NISIRA has and the main API lacks live here; access, chat and feedback are the shared services'.
"""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..errors import BadRequest, Forbidden, NotFound
from ..extensions import db
from ..models import Conversation, Feedback, Message, User
from ..models.base import utcnow
from ..pagination import Window
from .chat import Exchange, Question, store_question
from .conversations import create_conversation, get_conversation_for, list_conversations, page_messages
from .feedback import UNCHANGED, find_feedback, give_feedback, remove_feedback
from .lookup import find_by_ref
from .retrieval import RetrievalSettings

CONVERSATION_NOT_FOUND = "Conversación no encontrada"
MESSAGE_NOT_FOUND = "Mensaje no encontrado o sin permiso."
ONLY_ANSWERS_RATED = "Solo se pueden calificar respuestas del asistente."
EMPTY_MESSAGE = "El mensaje no puede estar vacío"
CONTENT_REQUIRED = "Contenido del mensaje requerido"
CONVERSATION_REQUIRED = "ID de conversación requerido"

CLEAR = "clear"
FEEDBACK_TYPES = {"like": "positive", "dislike": "negative"}
RATINGS = {feedback_type: rating for rating, feedback_type in FEEDBACK_TYPES.items()}
RATING_VALUES = (*FEEDBACK_TYPES, CLEAR)
NO_ISSUE = "none"
OTHER_ISSUE = "otro"
AUTO_ISSUE = "auto"
ISSUE_TAGS = (NO_ISSUE, "irrelevante", "sin_evidencia", "tardio", "alucinacion", "accion_incorrecta", OTHER_ISSUE)

# What issue_tag "auto" looks for in the comment, lower-cased and without accents; the first tag that
# matches wins, none means "otro". The first four lists are NISIRA's own (it has none for
# accion_incorrecta), widened with the words Spanish speakers use for the same complaint.
AUTO_ISSUE_KEYWORDS = (
    ("irrelevante", ("irrelev", "fuera de contexto", "no tiene que ver", "no responde a")),
    ("sin_evidencia", ("sin fuente", "sin evidencia", "no cites", "no cita", "sin referencia", "sin respaldo")),
    ("tardio", ("tard", "lento", "demor")),
    ("alucinacion", ("alucina", "invent", "incorrecto", "falso")),
    ("accion_incorrecta", ("accion incorrecta", "accion equivocada", "no hizo lo que", "no es lo que pedi",
                           "no era lo que pedi", "hizo otra cosa")),
)
TITLE_LENGTH = 50


@dataclass(frozen=True)
class RatedMessage:
    """A message with the caller's rating of it, which NISIRA's message object carries."""

    message: Message
    rating: str | None = None
    issue_tag: str = NO_ISSUE


def default_title(now: datetime, timezone: str) -> str:
    """NISIRA's name for an untitled conversation: "Conversación dd/mm/YYYY HH:MM", naive-UTC `now` in `timezone`."""
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    return f"Conversación {local:%d/%m/%Y %H:%M}"


def title_from_content(content: str) -> str:
    """The first 50 characters of a first message, with "..." when there were more."""
    text = " ".join(content.split())
    return text[:TITLE_LENGTH] + "..." if len(text) > TITLE_LENGTH else text


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def pick_issue_tag(comment: str | None) -> str:
    """The issue tag that a comment's keywords point at, as NISIRA's "auto" picks it."""
    folded = fold(comment or "")
    for tag, keywords in AUTO_ISSUE_KEYWORDS:
        if any(keyword in folded for keyword in keywords):
            return tag
    return OTHER_ISSUE


def check_sign_in_fields(username: str | None, password: str | None) -> None:
    """Raises BadRequest, in NISIRA's words, when the user name or the password is missing."""
    if not username and not password:
        raise BadRequest(
            "Por favor ingresa tu usuario y contraseña", "Send `username` and `password`.",
            code="missing_credentials",
        )
    if not username:
        raise BadRequest("Por favor ingresa tu nombre de usuario", "Send `username`.", code="missing_username")
    if not password:
        raise BadRequest("Por favor ingresa tu contraseña", "Send `password`.", code="missing_password")


def page_window(page: int, size: int) -> Window:
    return Window(limit=size, offset=(page - 1) * size)


def find_conversation(ref) -> Conversation | None:
    """The conversation a NISIRA reference names: all digits is the id, anything else the slug."""
    ref = str(ref)
    if ref.isascii() and ref.isdigit():
        return find_by_ref(Conversation, ref)
    return db.session.scalars(select(Conversation).where(Conversation.slug == ref)).first()


def visible_conversation(actor: User, ref) -> Conversation | None:
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


def get_nisira_conversation(actor: User, ref) -> Conversation:
    """The conversation `ref` (slug or id) that NISIRA may show the actor; raises NotFound otherwise."""
    conversation = visible_conversation(actor, ref)
    if conversation is None:
        raise NotFound(CONVERSATION_NOT_FOUND, f"No conversation {ref}.", code="conversation_not_found")
    return conversation


def list_nisira_conversations(actor: User, *, page: int, size: int) -> dict:
    """A page of the actor's active conversations in the active organisation, newest update first."""
    window = page_window(page, size)
    listing = list_conversations(actor, window, archived=False)
    return {
        "conversations": listing["results"],
        "page": page,
        "size": size,
        "total": listing["total"],
        "has_more": window.offset + len(listing["results"]) < listing["total"],
    }


def create_nisira_conversation(actor: User, *, title: str | None, timezone: str) -> Conversation:
    """A conversation in the actor's active organisation; without a title it is named for now in `timezone`."""
    if not title or not title.strip():
        title = default_title(utcnow(), timezone)
    return create_conversation(actor, title=title)


def rated_messages(actor: User, messages: list[Message]) -> list[RatedMessage]:
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


def page_nisira_messages(actor: User, conversation: Conversation, *, page: int, size: int) -> dict:
    """Page 1 is the newest `size` messages, page 2 the ones before; each page in chronological order."""
    listing = page_messages(conversation, page_window(page, size), order="latest")
    return {
        "conversation": conversation,
        "messages": rated_messages(actor, listing["results"]),
        "page": page,
        "size": size,
        "total": listing["total"],
        "has_more": listing["has_more"],
    }


def exchange_of(exchange: Exchange) -> dict:
    return {
        "conversation": exchange.conversation,
        "user_message": RatedMessage(exchange.user_message),
        "assistant_message": RatedMessage(exchange.assistant_message),
    }


def send_nisira_message(actor: User, *, conversation_ref, content: str | None) -> Question:
    """Store the question `content` in a conversation NISIRA may show, through the chat service.

    Raises BadRequest (blank content, no conversation), NotFound, and what store_question raises.
    """
    if not content or not content.strip():
        raise BadRequest(EMPTY_MESSAGE, "Send the text of your message in `content`.", code="empty_message")
    if conversation_ref in (None, ""):
        raise BadRequest(CONVERSATION_REQUIRED, "Name the conversation in `conversation_id`.", code="conversation_required")
    conversation = get_nisira_conversation(actor, conversation_ref)
    return store_question(actor, message=content, conversation_ref=conversation.id)


def send_rag_message(actor: User, *, conversation_ref, content: str | None, use_rag: bool = True) -> Question:
    """As send_nisira_message, but without `conversation_ref` a new conversation is titled after `content`."""
    if not content or not content.strip():
        raise BadRequest(CONTENT_REQUIRED, "Send the text of your message in `content`.", code="content_required")
    if conversation_ref in (None, ""):
        conversation = create_conversation(actor, title=title_from_content(content))
    else:
        conversation = get_nisira_conversation(actor, conversation_ref)
    # Retrieval as the conversation's agent sets it, else from the organisation's documents; use_rag false skips it.
    return store_question(actor, message=content, conversation_ref=conversation.id,
                          include_files=None if use_rag else False,
                          without_agent=RetrievalSettings(mode="hybrid", limit=5) if use_rag else None)


def rate_message(actor: User, *, message_id: int, value: str, comment=UNCHANGED, issue_tag: str = NO_ISSUE) -> dict:
    """Like, dislike or clear the actor's rating of an answer: the feedback the main API shows too.

    `comment` keeps its earlier value when UNCHANGED; issue_tag "auto" is picked from the comment sent.
    Raises NotFound for a message NISIRA may not show, BadRequest for a message that is not an answer.
    """
    message = find_by_ref(Message, message_id)
    if message is None or visible_conversation(actor, message.conversation_id) is None:
        raise NotFound(MESSAGE_NOT_FOUND, f"No message {message_id} that you may rate.", code="message_not_found")
    if message.role != "assistant":
        raise BadRequest(ONLY_ANSWERS_RATED, "Only the assistant's messages take ratings.", code="only_answers_rated")
    existing = find_feedback(actor, message)
    if value == CLEAR:
        if existing is not None:
            remove_feedback(actor, message)
        return rating_of(message, None, "removed" if existing else "noop")
    if issue_tag == AUTO_ISSUE:
        issue_tag = pick_issue_tag(comment if comment is not UNCHANGED else None)
    feedback = give_feedback(
        actor,
        message,
        feedback_type=FEEDBACK_TYPES[value],
        comment=comment,
        issue_tag=None if issue_tag == NO_ISSUE else issue_tag,
    )
    return rating_of(message, feedback, "updated" if existing else "created")


def rating_of(message: Message, feedback: Feedback | None, status: str) -> dict:
    current = rated(message, feedback)
    return {
        "message": message,
        "conversation": message.conversation,
        "value": current.rating,
        "status": status,
        "updated_at": feedback.updated if feedback else utcnow(),
        "issue_tag": current.issue_tag,
    }
