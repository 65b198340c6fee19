from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import Agent, User
from ..pagination import Window
from .lookup import find_by_ref
from .organisations import active_organisation_id


def may_use(actor: User, agent: Agent, organisation_id: int | None) -> bool:
    """Public in the actor's active organisation, or owned by them, or they are invited.

    An agent without an organisation belongs to no tenant, so only its owner and the users it
    invites may use it, public or not.
    """
    owned_or_invited = agent.owner_id == actor.id or actor.username in (agent.invited_users or [])
    if agent.organisation_id is None:
        return owned_or_invited
    if agent.organisation_id != organisation_id:
        return False
    return not agent.is_private or owned_or_invited


def find_usable_agent(actor: User, ref) -> Agent | None:
    agent = find_by_ref(Agent, ref)
    if agent is None or not may_use(actor, agent, active_organisation_id(actor)):
        return None
    return agent


def get_agent_for(actor: User, ref, *, write: bool = False) -> Agent:
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


def usable_agents(actor: User, *, search: str | None = None) -> list[Agent]:
    """Every agent the actor may use in their active organisation, newest first.

    `search` is a case-insensitive substring of the name or description. The organisation and the
    search narrow the rows in SQL; may_use decides the rest in Python, because invitedUsers is a
    JSON list that SQLite and PostgreSQL search differently, and a list must never disagree with
    what a lookup of one agent allows.
    """
    organisation_id = active_organisation_id(actor)
    stmt = (
        select(Agent)
        .where(or_(Agent.organisation_id.is_(None), Agent.organisation_id == organisation_id))
        .order_by(Agent.created.desc(), Agent.id.desc())
        .options(selectinload(Agent.owner), selectinload(Agent.invitations))
    )
    term = (search or "").strip()
    if term:
        stmt = stmt.where(
            or_(Agent.name.icontains(term, autoescape=True), Agent.description.icontains(term, autoescape=True))
        )
    return [agent for agent in db.session.scalars(stmt) if may_use(actor, agent, organisation_id)]


def list_agents(actor: User, page: Window, *, search: str | None = None) -> dict:
    """One page of usable_agents, in the shape of pagination.paginate; privacy is applied before paging."""
    agents = usable_agents(actor, search=search)
    return {
        "results": agents[page.offset:page.offset + page.limit],
        "total": len(agents),
        "limit": page.limit,
        "offset": page.offset,
    }


def agent_stats(actor: User) -> dict:
    agents = usable_agents(actor)
    active = sum(1 for agent in agents if agent.active)
    return {"total": len(agents), "active": active, "inactive": len(agents) - active}


def create_agent(actor: User, fields: dict) -> Agent:
    """An agent owned by the actor in their active organisation; `fields` are the writable ones."""
    agent = Agent(**fields, owner=actor, organisation_id=active_organisation_id(actor))
    db.session.add(agent)
    db.session.flush()
    return agent


def update_agent(agent: Agent, changes: dict) -> Agent:
    agent.apply(changes)
    db.session.flush()
    return agent


def delete_agent(agent: Agent) -> None:
    """Delete the agent; the database sets agentId to null on its conversations and feedback."""
    db.session.delete(agent)
    db.session.flush()
