from ..models import Agent, User
from .lookup import find_by_ref
from .organisations import active_organisation_id


def may_use(actor: User, agent: Agent, organisation_id: int | None) -> bool:
    """Public in the actor's active organisation (or in none), or owned by them, or they are invited."""
    if agent.organisation_id is not None and agent.organisation_id != organisation_id:
        return False
    return not agent.is_private or agent.owner_id == actor.id or actor.username in (agent.invited_users or [])


def find_usable_agent(actor: User, ref) -> Agent | None:
    agent = find_by_ref(Agent, ref)
    if agent is None or not may_use(actor, agent, active_organisation_id(actor)):
        return None
    return agent
