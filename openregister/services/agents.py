"""Agents, and who may use them: one SQL condition that lists, counts, finds and checks alike."""

from collections.abc import Mapping
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import Agent, AgentInvitation, Caller
from ..pagination import Window, paginate
from .lookup import Ref, find_by_ref
from .organisations import active_organisation_id


def usable_by(actor: Caller, organisation_id: int | None) -> ColumnElement[bool]:
    """The agents the actor may use when `organisation_id` is their organisation, as a WHERE condition.

    In that organisation: the public ones, and those the actor owns or is invited to (by user name,
    exactly as given). An agent without an organisation belongs to no tenant, so only its owner and
    the users it invites may use it, public or not. Another organisation's agents, never.
    """
    invited = exists().where(AgentInvitation.agent_id == Agent.id, AgentInvitation.username == actor.username)
    allowed = [Agent.owner_id == actor.id, invited]
    if organisation_id is None:
        # Not `organisation_id == None`: SQLAlchemy would make that IS NULL and let everyone in.
        return and_(Agent.organisation_id.is_(None), or_(*allowed))
    return and_(
        or_(Agent.organisation_id.is_(None), Agent.organisation_id == organisation_id),
        or_(and_(Agent.organisation_id.is_not(None), Agent.is_private.is_(false())), *allowed),
    )


def may_use(actor: Caller, agent: Agent, organisation_id: int | None) -> bool:
    """Whether usable_by lets the actor use this stored agent within `organisation_id` (one query).

    For a caller that holds an agent and an organisation other than the active one, such as a
    conversation's; it asks the database so that it can never disagree with a list.
    """
    return bool(db.session.scalar(select(exists().where(Agent.id == agent.id, usable_by(actor, organisation_id)))))


def usable_agents(actor: Caller, *, search: str | None = None) -> Select[Agent]:
    """Every agent the actor may use in their active organisation, newest first, as a select.

    `search` is a case-insensitive substring of the name or description.
    """
    stmt = (
        select(Agent)
        .where(usable_by(actor, active_organisation_id(actor)))
        .order_by(Agent.created.desc(), Agent.id.desc())
    )
    term = (search or "").strip()
    if term:
        stmt = stmt.where(
            or_(Agent.name.icontains(term, autoescape=True), Agent.description.icontains(term, autoescape=True))
        )
    return stmt


def find_usable_agent(actor: Caller, ref: Ref) -> Agent | None:
    return find_by_ref(Agent, ref, usable_agents(actor))


def get_agent_for(actor: Caller, ref: Ref, *, write: bool = False) -> Agent:
    """The agent `ref` names, if the actor may use it (or, with write=True, change it).

    Raises NotFound for an unknown agent and for one the actor may not use, so that private agents
    stay hidden; Forbidden when write=True and the actor may use the agent but does not own it.
    """
    agent = find_usable_agent(actor, ref)
    if agent is None:
        raise NotFound("Agent not found", f"No agent {ref} that you may use.", code="agent_not_found")
    if write and agent.owner_id != actor.id:
        raise Forbidden("Access denied", "Only the owner of this agent may change or delete it.", code="access_denied")
    return agent


def list_agents(actor: Caller, page: Window, *, search: str | None = None) -> dict[str, Any]:
    """One page of usable_agents with what the wire shows loaded; privacy is applied before paging."""
    stmt = usable_agents(actor, search=search).options(selectinload(Agent.owner), selectinload(Agent.invitations))
    return paginate(stmt, page)


class AgentStats(TypedDict):
    total: int
    active: int
    inactive: int


def agent_stats(actor: Caller) -> AgentStats:
    """How many agents the actor may use (those usable_agents lists), active and inactive, in one query."""
    counts = usable_agents(actor).order_by(None).with_only_columns(
        func.count(), func.count(case((Agent.active, 1))), maintain_column_froms=True
    )
    total, active = db.session.execute(counts).one()
    return {"total": total, "active": active, "inactive": total - active}


def create_agent(actor: Caller, fields: Mapping[str, Any]) -> Agent:
    """An agent owned by the actor in their active organisation; `fields` are the writable ones."""
    agent = Agent(**fields, owner_id=actor.id, organisation_id=active_organisation_id(actor))
    db.session.add(agent)
    db.session.flush()
    return agent


def update_agent(agent: Agent, changes: Mapping[str, Any]) -> Agent:
    agent.apply(changes)
    db.session.flush()
    return agent


def delete_agent(agent: Agent) -> None:
    """Delete the agent; the database sets agentId to null on its conversations and feedback."""
    db.session.delete(agent)
    db.session.flush()
