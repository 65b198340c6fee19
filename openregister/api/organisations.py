from typing import Any

from flask.views import MethodView

from ..auth import current_user
from ..database import transactional
from ..pagination import window
from ..models import Organisation
from ..schemas.base import MessageResponseSchema
from ..schemas.dumping import WithValues
from ..schemas.organisations import (
    ActivatedSchema,
    ActiveOrganisationSchema,
    MemberSchema,
    OrganisationCreatedSchema,
    OrganisationCreateSchema,
    OrganisationEnvelopeSchema,
    OrganisationListSchema,
    OrganisationSchema,
    OrganisationSearchArgsSchema,
    OrganisationSearchSchema,
    OrganisationUpdateSchema,
)
from ..services import organisations as service
from ..services.users import user_of
from . import protected

bp = protected("organisations", __name__)


def shown(*organisations: Organisation | None) -> list[WithValues | None]:
    """The organisations as the wire shows them to the current user: with `active`, whether it is theirs."""
    active_id = service.active_organisation_id(current_user())
    return [
        None if organisation is None else WithValues(organisation, is_active=organisation.id == active_id)
        for organisation in organisations
    ]


@bp.route("/organisations")
class Organisations(MethodView):
    @bp.response(200, OrganisationListSchema)
    def get(self) -> dict[str, Any]:
        """List your organisations and say which one is active."""
        organisations = service.list_organisations(current_user())
        active, *results = shown(service.active_organisation(current_user()), *organisations)
        return {"total": len(results), "active": active, "results": results}

    @bp.arguments(OrganisationCreateSchema)
    @bp.response(201, OrganisationCreatedSchema)
    @transactional
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create an organisation that you own; it becomes active if you had none."""
        organisation = service.create_organisation(
            user_of(current_user()), name=data["name"], description=data.get("description")
        )
        return {"message": "Organisation created successfully", "organisation": shown(organisation)[0]}


@bp.route("/organisations/active")
class Active(MethodView):
    @bp.response(200, ActiveOrganisationSchema)
    def get(self) -> dict[str, Any]:
        """Show your active organisation."""
        return {"active_organisation": shown(service.active_organisation(current_user()))[0]}


@bp.route("/organisations/search")
class Search(MethodView):
    @bp.arguments(OrganisationSearchArgsSchema, location="query")
    @bp.response(200, OrganisationSearchSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search your organisations by name, as the join dialog of the OpenRegister UI does."""
        found = service.search_organisations(current_user(), args["query"], window(args))
        return {**found, "results": shown(*found["results"])}


@bp.route("/organisations/clear-cache")
class ClearCache(MethodView):
    @bp.response(200, MessageResponseSchema)
    def post(self) -> dict[str, str]:
        """Clear the organisation cache: a no-op here, since the active organisation is never cached."""
        return {"message": "Cache cleared successfully"}


@bp.route("/organisations/<ref>")
class OrganisationByRef(MethodView):
    @bp.response(200, OrganisationEnvelopeSchema)
    @bp.errors(403, 404)
    def get(self, ref: str) -> dict[str, Any]:
        """Show an organisation you are a member of."""
        return {"organisation": shown(service.get_organisation_for(current_user(), ref))[0]}

    @bp.arguments(OrganisationUpdateSchema)
    @bp.response(200, OrganisationSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def patch(self, data: dict[str, Any], ref: str) -> WithValues | None:
        """Rename your organisation, or change its description or slug."""
        organisation = service.get_organisation_for(current_user(), ref, owner_only=True)
        service.update_organisation(organisation, data)
        return shown(organisation)[0]

    put = patch

    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def delete(self, ref: str) -> dict[str, str]:
        """Delete your organisation once it holds no conversations or agents."""
        service.delete_organisation(service.get_organisation_for(current_user(), ref, owner_only=True))
        return {"message": "Organisation deleted successfully"}


@bp.route("/organisations/<ref>/set-active")
class SetActive(MethodView):
    @bp.response(200, ActivatedSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, ref: str) -> dict[str, Any]:
        """Make an organisation you are a member of your active one."""
        organisation = service.get_organisation_for(current_user(), ref)
        service.set_active_organisation(user_of(current_user()), organisation)
        return {"message": "Active organisation set successfully", "active_organisation": shown(organisation)[0]}


@bp.route("/organisations/<ref>/join")
class Join(MethodView):
    @bp.arguments(MemberSchema)
    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, data: dict[str, Any], ref: str) -> dict[str, str]:
        """Add a user (`userId`, default you) to your organisation."""
        organisation = service.get_organisation_for(current_user(), ref, owner_only=True)
        service.join_organisation(current_user(), organisation, data.get("user_id") or current_user().username)
        return {"message": "Successfully joined organisation"}


@bp.route("/organisations/<ref>/leave")
class Leave(MethodView):
    @bp.arguments(MemberSchema)
    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def post(self, data: dict[str, Any], ref: str) -> dict[str, str]:
        """Leave an organisation, or as its owner remove the member named by `userId`."""
        organisation = service.get_organisation_for(current_user(), ref)
        leaver = service.leave_organisation(user_of(current_user()), organisation, data.get("user_id"))
        if leaver.id == current_user().id:
            return {"message": "Successfully left organisation"}
        return {"message": "Successfully removed user from organisation"}
