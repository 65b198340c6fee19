from typing import Any

from flask import url_for
from flask.views import MethodView

from ..auth import current_user
from ..database import transactional
from ..models import Agent
from ..pagination import window
from ..schemas.agents import (
    AgentListArgsSchema,
    AgentPageSchema,
    AgentPatchSchema,
    AgentSchema,
    AgentStatsSchema,
    AgentWriteSchema,
    ToolCatalogueSchema,
)
from ..schemas.base import MessageResponseSchema
from ..services import agents as service
from . import protected

bp = protected("agents", __name__)


@bp.route("/agents")
class Agents(MethodView):
    @bp.arguments(AgentListArgsSchema, location="query")
    @bp.response(200, AgentPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the agents you may use in the active organisation, newest first."""
        return service.list_agents(current_user(), window(args), search=args["search"])

    @bp.arguments(AgentWriteSchema)
    @bp.response(201, AgentSchema)
    @transactional
    def post(self, data: dict[str, Any]) -> tuple[Agent, dict[str, str]]:
        """Create an agent, owned by you, in the active organisation."""
        agent = service.create_agent(current_user(), data)
        return agent, {"Location": url_for(".AgentByRef", ref=agent.uuid)}


@bp.route("/agents/stats")
class Stats(MethodView):
    @bp.response(200, AgentStatsSchema)
    def get(self) -> service.AgentStats:
        """Count the agents you may use, active and inactive."""
        return service.agent_stats(current_user())


@bp.route("/agents/tools")
class Tools(MethodView):
    @bp.response(200, ToolCatalogueSchema)
    def get(self) -> dict[str, dict[str, Any]]:
        """List the tools agents may call: none, as this server runs no tools."""
        return {"results": {}}


@bp.route("/agents/<ref>")
class AgentByRef(MethodView):
    @bp.response(200, AgentSchema)
    @bp.errors(404)
    def get(self, ref: str) -> Agent:
        """Show an agent you may use."""
        return service.get_agent_for(current_user(), ref)

    @bp.arguments(AgentWriteSchema)
    @bp.response(200, AgentSchema)
    @bp.errors(403, 404)
    @transactional
    def put(self, data: dict[str, Any], ref: str) -> Agent:
        """Replace your agent's writable fields; absent ones go back to their defaults."""
        return self.update(data, ref)

    @bp.arguments(AgentPatchSchema)
    @bp.response(200, AgentSchema)
    @bp.errors(403, 404)
    @transactional
    def patch(self, data: dict[str, Any], ref: str) -> Agent:
        """Change only the fields sent of your agent."""
        return self.update(data, ref)

    @staticmethod
    def update(data: dict[str, Any], ref: str) -> Agent:
        return service.update_agent(service.get_agent_for(current_user(), ref, write=True), data)

    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404)
    @transactional
    def delete(self, ref: str) -> dict[str, str]:
        """Delete your agent; its conversations stay, without an agent."""
        service.delete_agent(service.get_agent_for(current_user(), ref, write=True))
        return {"message": "Agent deleted successfully"}
