"""Chat: store the user's message, ask the agent's provider with the recent history, store the answer.

Three steps, so that the caller can commit the question, wait on the provider with no transaction
open, and store the answer in a second short transaction.
"""

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypedDict, cast

from sqlalchemy import Table, bindparam, select, update

from ..errors import BadRequest, Conflict, NotFound
from ..extensions import db
from ..models import Agent, Caller, Conversation, Message, OrganisationCounter, PersonalCounter
from ..models.counters import Counts
from ..models.base import utcnow
from ..pagination import Window, count
from ..providers import ChatMessage, LlmSettings, Reply, provider_for
from ..providers.embeddings import OpenAICompatibleEmbeddings
from ..providers.pacing import paced
from .agents import find_usable_agent, may_use
from .conversations import (
    InsertedMessage,
    add_message,
    archive_conversation,
    get_conversation_for,
    get_conversation_row_for,
    insert_conversation,
    is_default_title,
    latest_messages,
    page_messages,
    unique_title,
)
from .lookup import Ref
from .organisations import active_organisation_id, is_member
from .retrieval import RetrievalPlan, RetrievalSettings, Retrieved, grounded_prompt, plan_for, retrieve, settings_for

HISTORY_SIZE = 10
DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
TITLE_LENGTH = 60
TITLE_CUT_AFTER = 30


@dataclass(frozen=True)
class ProviderRequest:
    """What the provider is asked, as plain values: asking needs no row, so no session and no connection."""

    provider: str | None
    base_url: str | None
    system_prompt: str
    history: tuple[ChatMessage, ...]
    model: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class Question:
    """A stored question and what asking it takes; `started` and `history_seconds` feed the timings."""

    conversation_id: int
    user_message: InsertedMessage
    request: ProviderRequest
    started: float
    history_seconds: float
    retrieval: RetrievalPlan | None = None
    # Filled in by retrieve_passages, once per send: what the provider is given and what the answer cites.
    passages: tuple[Retrieved, ...] = ()
    sources: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class ChatConversation:
    """The conversation a question goes to, as asking needs it."""

    id: int
    organisation_id: int | None
    agent: Agent | None


@dataclass(frozen=True)
class AnsweredConversation:
    """The conversation an answer was stored in, as the answer shows it."""

    id: int
    uuid: str
    slug: str
    title: str
    agent_id: int | None


_conversations = cast(Table, Conversation.__table__)
# What sending to a conversation needs to know of it: who may, whether it is archived, its agent.
_CHAT_TARGET = select(*(_conversations.c[name] for name in ("id", "user_id", "organisation_id", "agent_id", "deleted_at")))
# Marks the conversation answered now and reads back what the answer shows of it.
_MARK_ANSWERED = (
    update(_conversations).where(_conversations.c.id == bindparam("conversation_id"))
    .values(updated=bindparam("now"))
    .returning(*(_conversations.c[name] for name in ("id", "uuid", "slug", "title", "agent_id")))
)


@dataclass(frozen=True)
class Answer:
    reply: Reply
    seconds: float


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, with how long the steps took (in seconds)."""

    conversation: AnsweredConversation
    user_message: InsertedMessage
    assistant_message: InsertedMessage
    timings: dict[str, float]


def store_question(
    actor: Caller, *, message: str | None, conversation_ref: Ref | None = None, agent_ref: Ref | None = None,
    include_files: bool | None = None,
    num_sources: int | None = None, without_agent: RetrievalSettings | None = None,
) -> Question:
    """Store the question in the actor's conversation `conversation_ref` (or a new one with the agent `agent_ref`).

    The first of chat's three steps (store the question, ask, store the answer), each its own: the
    question outlives a provider failure, and nothing waits on the provider inside a transaction.
    Raises BadRequest (blank message, neither reference), NotFound / Forbidden (conversation,
    agent) and Conflict (archived conversation).

    `include_files` and `num_sources` override the agent's retrieval settings for this send;
    `without_agent` is how a conversation without an agent retrieves (by default it does not).
    """
    started = time.perf_counter()
    if not message or not message.strip():
        raise BadRequest("Missing message", "Send the text of your message in `message`.", code="missing_message")
    conversation = conversation_to_chat_in(actor, conversation_ref=conversation_ref, agent_ref=agent_ref)
    loading = time.perf_counter()
    earlier = latest_messages(conversation.id, HISTORY_SIZE - 1)
    history = (*(ChatMessage(role=m.role, content=m.content) for m in earlier), ChatMessage(role="user", content=message))
    history_seconds = time.perf_counter() - loading
    agent = conversation.agent
    if agent is None:
        retrieval = plan_for(actor, conversation.organisation_id, message, without_agent)
    else:
        settings = settings_for(agent, include_files=include_files, num_sources=num_sources)
        retrieval = plan_for(actor, agent.organisation_id or conversation.organisation_id, message, settings)
    # Inserted last: its trigger holds the organisation's counter row until this transaction commits,
    # so that concurrent chats in one organisation wait on each other for the commit only.
    user_message = add_message(conversation.id, "user", message)
    return Question(
        conversation_id=conversation.id,
        user_message=user_message,
        request=provider_request(agent, history),
        started=started,
        history_seconds=history_seconds,
        retrieval=retrieval,
    )


def retrieve_passages(question: Question, embedder: OpenAICompatibleEmbeddings | None) -> Question:
    """The question with its passages, their sources and the prompt that carries them; only reads.

    The second step, before asking: the caller runs it in a short unit of work of its own (the
    question is committed, the provider not yet asked). The question is embedded before any query.
    """
    plan = question.retrieval
    if plan is None:
        return question
    passages = retrieve(plan.organisation_id, plan.query, mode=plan.mode, limit=plan.limit, embedder=embedder)
    request = replace(question.request, system_prompt=grounded_prompt(question.request.system_prompt, passages))
    return replace(question, request=request, passages=tuple(passages),
                   sources=tuple(passage.source() for passage in passages))


class StoredQuestion(TypedDict):
    conversation: Conversation | None
    user_message: InsertedMessage


def stored_question(question: Question) -> StoredQuestion:
    """The stored question, as the `start` event of a stream shows it: its conversation and message."""
    return {
        "conversation": db.session.get(Conversation, question.conversation_id),
        "user_message": question.user_message,
    }


def provider_request(agent: Agent | None, history: tuple[ChatMessage, ...]) -> ProviderRequest:
    """The agent's provider, prompt and settings with the history; no agent means the defaults."""
    if agent is None:
        return ProviderRequest(provider=None, base_url=None, system_prompt=DEFAULT_SYSTEM_PROMPT, history=history)
    return ProviderRequest(
        provider=agent.provider,
        base_url=agent_base_url(agent),
        system_prompt=agent.prompt or DEFAULT_SYSTEM_PROMPT,
        history=history,
        model=agent.model,
        temperature=agent.temperature,
        max_tokens=agent.max_tokens,
    )


class AnswerStream:
    """The provider's answer to a stored question, as it is written; touches no database.

    Iterate once for the pieces; `answer()` then gives them joined. With `idle_every`, the provider is
    read in a thread of its own and the iteration also gives None whenever that many seconds pass
    without a piece, so that the caller can keep its client's connection alive or see it gone; leaving
    the iteration early closes the provider's connection. Iterating raises the provider errors (502, 503,
    504).
    """

    def __init__(self, question: Question, settings: LlmSettings, *, idle_every: float | None = None):
        self.question = question
        self.settings = settings
        self.idle_every = idle_every
        self.pieces: list[str] = []
        self.sources = [dict(source) for source in question.sources]
        self.seconds = 0.0

    def __iter__(self) -> Iterator[str | None]:
        asked = time.perf_counter()
        request = self.question.request
        provider = provider_for(request.provider, self.settings, base_url=request.base_url)
        pieces = provider.stream(
            request.system_prompt,
            list(request.history),
            model=request.model,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            passages=self.question.passages,
        )
        waiting = paced(pieces, self.idle_every) if self.idle_every else iter(pieces)
        try:
            for piece in waiting:
                if piece is not None:
                    self.pieces.append(piece)
                yield piece
        finally:
            if isinstance(waiting, Generator):
                waiting.close()
            pieces.close()
        self.seconds = time.perf_counter() - asked

    def answer(self) -> Answer:
        """The answer once every piece has come."""
        return Answer(Reply("".join(self.pieces), self.sources), self.seconds)


def ask(question: Question, settings: LlmSettings) -> Answer:
    """The provider's whole answer to a stored question (its pieces, joined); touches no database.

    Raises the provider errors (502, 503, 504).
    """
    stream = AnswerStream(question, settings)
    for _ in stream:
        pass
    return stream.answer()


def store_answer(actor: Caller, question: Question, answer: Answer) -> Exchange:
    """Store the answer with its question, title a first exchange, and mark the conversation updated.

    The conversation is read afresh, since it may have changed while the provider answered. One that was
    deleted meanwhile (with the question) gets no answer: raises NotFound. One that was archived
    meanwhile still gets it, next to the question it answers.
    """
    # Marking it updated first locks the row (the database, on SQLite) until the answer is committed,
    # so it cannot be deleted (nor renamed) between this check and the insert; it comes back as it is now.
    marked = db.session.execute(_MARK_ANSWERED, {"conversation_id": question.conversation_id, "now": utcnow()}).first()
    if marked is None:
        raise NotFound(
            "Conversation not found", "The conversation was deleted while the agent was answering.",
            code="conversation_not_found",
        )
    conversation = AnsweredConversation(*marked)
    assistant_message = add_message(question.conversation_id, "assistant", answer.reply.content, answer.reply.sources)
    if is_default_title(conversation.title) and is_first_exchange(conversation.id):
        title = unique_title(actor, conversation.agent_id, title_from(first_question(conversation.id)))
        db.session.execute(update(_conversations).where(_conversations.c.id == conversation.id).values(title=title))
        conversation = replace(conversation, title=title)
    timings = {
        "history": question.history_seconds,
        "llm": answer.seconds,
        "total": time.perf_counter() - question.started,
    }
    return Exchange(conversation, question.user_message, assistant_message, timings)


def conversation_to_chat_in(
    actor: Caller, *, conversation_ref: Ref | None = None, agent_ref: Ref | None = None
) -> ChatConversation:
    """The actor's conversation `conversation_ref`, else a new one with the agent `agent_ref`.

    Raises BadRequest when neither is given, NotFound for an agent the actor may not use (private,
    inactive, elsewhere), Conflict for an archived conversation, and what get_conversation_for raises.
    """
    if conversation_ref:
        conversation = get_conversation_row_for(actor, conversation_ref, write=True, stmt=_CHAT_TARGET)
        if conversation.deleted_at is not None:
            raise Conflict(
                "Conversation archived", "Restore the conversation before you send messages to it.",
                code="conversation_archived",
            )
        agent = None if conversation.agent_id is None else db.session.get(Agent, conversation.agent_id)
        # The sender must still be allowed the agent now: a member removed from its organisation
        # keeps their conversations, not the use of the organisation's agent.
        still_member = agent is not None and (agent.organisation_id is None or is_member(actor, agent.organisation_id))
        if agent is not None and not (agent.active and still_member
                                      and may_use(actor, agent, conversation.organisation_id)):
            raise NotFound(
                "Agent not found", "The agent of this conversation is no longer available to you.",
                code="agent_not_found",
            )
        return ChatConversation(conversation.id, conversation.organisation_id, agent)
    if agent_ref:
        agent = find_usable_agent(actor, agent_ref)
        if agent is None or not agent.active:
            raise NotFound("Agent not found", f"No agent {agent_ref} that you may use.", code="agent_not_found")
        inserted = insert_conversation(actor, agent=agent)
        return ChatConversation(inserted.id, inserted.organisation_id, agent)
    raise BadRequest(
        "Missing conversation or agentUuid", "Send `conversation` to continue one, or `agentUuid` to start one.",
        code="missing_conversation_or_agent"
    )


def agent_base_url(agent: Agent) -> str | None:
    configuration = agent.configuration if isinstance(agent.configuration, dict) else {}
    base_url = configuration.get("baseUrl")
    return base_url if isinstance(base_url, str) and base_url.strip() else None


def is_first_exchange(conversation_id: int) -> bool:
    """Whether the conversation holds exactly one answer (earlier questions may have failed)."""
    answers = select(Message).where(Message.conversation_id == conversation_id, Message.role == "assistant")
    return count(answers) == 1


def first_question(conversation_id: int) -> str:
    return db.session.scalars(
        select(Message.content)
        .where(Message.conversation_id == conversation_id, Message.role == "user")
        .order_by(Message.created, Message.id)
        .limit(1)
    ).one()


def title_from(text: str) -> str:
    """The first 60 characters, cut back to the last space when it is past position 30, with "..." when cut."""
    text = " ".join(text.split())
    if len(text) <= TITLE_LENGTH:
        return text
    title = text[:TITLE_LENGTH]
    last_space = title.rfind(" ")
    if last_space > TITLE_CUT_AFTER:
        title = title[:last_space]
    return title + "..."


def get_history_conversation(actor: Caller, ref: Ref | None, *, write: bool = False) -> Conversation:
    """The conversation the history routes' conversationId names; raises BadRequest without one."""
    if not ref:
        raise BadRequest(
            "Missing conversationId", "Name the conversation with the conversationId parameter.",
            code="missing_conversation_id",
        )
    return get_conversation_for(actor, ref, write=write)


class ChatHistory(TypedDict):
    messages: list[Message]
    total: int
    conversation_id: int


def conversation_history(actor: Caller, ref: Ref | None, page: Window) -> ChatHistory:
    """A chronological page of the conversation's messages, as the real app's history route gives it."""
    conversation = get_history_conversation(actor, ref)
    messages = page_messages(conversation, page, order="asc")
    return {"messages": messages["results"], "total": messages["total"], "conversation_id": conversation.id}


def clear_history(actor: Caller, ref: Ref | None) -> Conversation:
    """Archive the conversation, as the real app's "clear" does."""
    return archive_conversation(get_history_conversation(actor, ref, write=True))


class ChatStats(TypedDict):
    total_agents: int
    total_conversations: int
    total_messages: int


def chat_stats(actor: Caller) -> ChatStats:
    """Agents, conversations and messages in the actor's active organisation (all its members').

    Without an active organisation there is no tenant to count in, so only the actor's own are counted.
    The counters are kept by the database in every transaction that changes the rows (models/counters.py),
    so this is one read at any size.
    """
    organisation_id = active_organisation_id(actor)
    counter: Counts | None
    if organisation_id is None:
        counter = db.session.get(PersonalCounter, actor.id, populate_existing=True)
    else:
        counter = db.session.get(OrganisationCounter, organisation_id, populate_existing=True)
    return {
        "total_agents": counter.agents if counter else 0,
        "total_conversations": counter.conversations if counter else 0,
        "total_messages": counter.messages if counter else 0,
    }
