"""Chat: store the user's message, ask the agent's provider with the recent history, store the answer."""

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ..errors import BadRequest, Conflict, NotFound
from ..extensions import db
from ..models import Agent, Conversation, Message, OrganisationCounter, PersonalCounter, User
from ..models.base import utcnow
from ..pagination import Window, count
from ..providers import ChatMessage, LlmSettings, Reply, provider_for
from .agents import find_usable_agent, may_use
from .conversations import (
    add_message,
    archive_conversation,
    create_conversation,
    get_conversation_for,
    is_default_title,
    latest_messages,
    page_messages,
    unique_title,
)
from .organisations import active_organisation_id, is_member

HISTORY_SIZE = 10
DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant."
TITLE_LENGTH = 60
TITLE_CUT_AFTER = 30


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, with how long the steps took (in seconds)."""

    conversation: Conversation
    user_message: Message
    assistant_message: Message
    timings: dict[str, float]


def send_message(
    actor: User,
    *,
    message: str | None,
    conversation_ref=None,
    agent_ref=None,
    settings: LlmSettings,
    commit: Callable[[], None],
) -> Exchange:
    """Ask the conversation's agent (or a new conversation's, with `agent_ref`) and store question and answer.

    `commit` is called once the user's message is stored: that message must outlive a provider
    failure, and the error handlers roll back whatever is not committed. The caller owns the
    transaction, so it says how to commit, and commits the rest itself.

    Raises BadRequest (blank message, neither reference), NotFound / Forbidden (conversation,
    agent), Conflict (archived conversation), and the provider errors (502, 503, 504).
    """
    started = time.perf_counter()
    if not message or not message.strip():
        raise BadRequest("Missing message", "Send the text of your message in `message`.", code="missing_message")
    conversation = conversation_to_chat_in(actor, conversation_ref=conversation_ref, agent_ref=agent_ref)
    user_message = add_message(conversation, "user", message)
    commit()

    loading = time.perf_counter()
    history = [ChatMessage(role=m.role, content=m.content) for m in latest_messages(conversation, HISTORY_SIZE)]
    asked = time.perf_counter()
    reply = ask_agent(conversation.agent, history, settings)
    answered = time.perf_counter()

    assistant_message = add_message(conversation, "assistant", reply.content, reply.sources)
    if is_default_title(conversation.title) and is_first_exchange(conversation):
        conversation.title = unique_title(actor, conversation.agent_id, title_from(first_question(conversation)))
    conversation.updated = utcnow()
    db.session.flush()
    timings = {"history": asked - loading, "llm": answered - asked, "total": time.perf_counter() - started}
    return Exchange(conversation, user_message, assistant_message, timings)


def conversation_to_chat_in(actor: User, *, conversation_ref=None, agent_ref=None) -> Conversation:
    """The actor's conversation `conversation_ref`, else a new one with the agent `agent_ref`.

    Raises BadRequest when neither is given, NotFound for an agent the actor may not use (private,
    inactive, elsewhere), Conflict for an archived conversation, and what get_conversation_for raises.
    """
    if conversation_ref:
        conversation = get_conversation_for(actor, conversation_ref, write=True)
        if conversation.is_archived:
            raise Conflict(
                "Conversation archived", "Restore the conversation before you send messages to it.",
                code="conversation_archived",
            )
        agent = conversation.agent
        # The sender must still be allowed the agent now: a member removed from its organisation
        # keeps their conversations, not the use of the organisation's agent.
        still_member = agent is not None and (agent.organisation_id is None or is_member(actor, agent.organisation_id))
        if agent is not None and not (agent.active and still_member
                                      and may_use(actor, agent, conversation.organisation_id)):
            raise NotFound(
                "Agent not found", "The agent of this conversation is no longer available to you.",
                code="agent_not_found",
            )
        return conversation
    if agent_ref:
        agent = find_usable_agent(actor, agent_ref)
        if agent is None or not agent.active:
            raise NotFound("Agent not found", f"No agent {agent_ref} that you may use.", code="agent_not_found")
        return create_conversation(actor, agent=agent)
    raise BadRequest(
        "Missing conversation or agentUuid", "Send `conversation` to continue one, or `agentUuid` to start one.",
        code="missing_conversation_or_agent"
    )


def ask_agent(agent: Agent | None, history: list[ChatMessage], settings: LlmSettings) -> Reply:
    """The answer of the agent's provider, with its prompt and settings; no agent means the defaults."""
    if agent is None:
        return provider_for(None, settings).reply(DEFAULT_SYSTEM_PROMPT, history)
    provider = provider_for(agent.provider, settings, base_url=agent_base_url(agent))
    return provider.reply(
        agent.prompt or DEFAULT_SYSTEM_PROMPT,
        history,
        model=agent.model,
        temperature=agent.temperature,
        max_tokens=agent.max_tokens,
    )


def agent_base_url(agent: Agent) -> str | None:
    configuration = agent.configuration if isinstance(agent.configuration, dict) else {}
    base_url = configuration.get("baseUrl")
    return base_url if isinstance(base_url, str) and base_url.strip() else None


def is_first_exchange(conversation: Conversation) -> bool:
    """Whether the conversation holds exactly one answer (earlier questions may have failed)."""
    answers = select(Message).where(Message.conversation_id == conversation.id, Message.role == "assistant")
    return count(answers) == 1


def first_question(conversation: Conversation) -> str:
    return db.session.scalars(
        select(Message.content)
        .where(Message.conversation_id == conversation.id, Message.role == "user")
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


def get_history_conversation(actor: User, ref, *, write: bool = False) -> Conversation:
    """The conversation the history routes' conversationId names; raises BadRequest without one."""
    if not ref:
        raise BadRequest(
            "Missing conversationId", "Name the conversation with the conversationId parameter.",
            code="missing_conversation_id",
        )
    return get_conversation_for(actor, ref, write=write)


def conversation_history(actor: User, ref, page: Window) -> dict:
    """A chronological page of the conversation's messages, as the real app's history route gives it."""
    conversation = get_history_conversation(actor, ref)
    messages = page_messages(conversation, page, order="asc")
    return {"messages": messages["results"], "total": messages["total"], "conversation_id": conversation.id}


def clear_history(actor: User, ref) -> Conversation:
    """Archive the conversation, as the real app's "clear" does."""
    return archive_conversation(get_history_conversation(actor, ref, write=True))


def chat_stats(actor: User) -> dict:
    """Agents, conversations and messages in the actor's active organisation (all its members').

    Without an active organisation there is no tenant to count in, so only the actor's own are counted.
    The counters are kept by the database in every transaction that changes the rows (models/counters.py),
    so this is one read at any size.
    """
    organisation_id = active_organisation_id(actor)
    if organisation_id is None:
        counter = db.session.get(PersonalCounter, actor.id, populate_existing=True)
    else:
        counter = db.session.get(OrganisationCounter, organisation_id, populate_existing=True)
    return {
        "total_agents": counter.agents if counter else 0,
        "total_conversations": counter.conversations if counter else 0,
        "total_messages": counter.messages if counter else 0,
    }
