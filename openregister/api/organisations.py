from flask import current_app, g
from flask.views import MethodView

from ..database import transactional
from ..pagination import window
from ..schemas.base import MessageResponseSchema
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
from . import protected

bp = protected("organisations", __name__)


@bp.route("/organisations")
class Organisations(MethodView):
    @bp.response(200, OrganisationListSchema)
    def get(self):
        """List your organisations and say which one is active."""
        organisations = service.list_organisations(g.current_user)
        active = service.active_organisation(g.current_user)
        service.mark_active(g.current_user, active, *organisations)
        return {"total": len(organisations), "active": active, "results": organisations}

    @bp.arguments(OrganisationCreateSchema)
    @bp.response(201, OrganisationCreatedSchema)
    @transactional
    def post(self, data):
        """Create an organisation that you own; it becomes active if you had none."""
        organisation = service.create_organisation(
            g.current_user, name=data["name"], description=data.get("description")
        )
        service.mark_active(g.current_user, organisation)
        return {"message": "Organisation created successfully", "organisation": organisation}


@bp.route("/organisations/active")
class Active(MethodView):
    @bp.response(200, ActiveOrganisationSchema)
    def get(self):
        """Show your active organisation."""
        active = service.active_organisation(g.current_user)
        service.mark_active(g.current_user, active)
        return {"active_organisation": active}


@bp.route("/organisations/search")
class Search(MethodView):
    @bp.arguments(OrganisationSearchArgsSchema, location="query")
    @bp.response(200, OrganisationSearchSchema)
    def get(self, args):
        """Search your organisations by name, as the join dialog of the OpenRegister UI does."""
        page = window(args, default_limit=50, max_limit=current_app.config["MAX_PAGE_SIZE"])
        found = service.search_organisations(g.current_user, args["query"], page)
        service.mark_active(g.current_user, *found["results"])
        return found


@bp.route("/organisations/clear-cache")
class ClearCache(MethodView):
    @bp.response(200, MessageResponseSchema)
    def post(self):
        """Clear the organisation cache: a no-op here, since the active organisation is never cached."""
        return {"message": "Cache cleared successfully"}


@bp.route("/organisations/<ref>")
class OrganisationByRef(MethodView):
    @bp.response(200, OrganisationEnvelopeSchema)
    @bp.errors(403, 404)
    def get(self, ref):
        """Show an organisation you are a member of."""
        organisation = service.get_organisation_for(g.current_user, ref)
        service.mark_active(g.current_user, organisation)
        return {"organisation": organisation}

    @bp.arguments(OrganisationUpdateSchema)
    @bp.response(200, OrganisationSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def patch(self, data, ref):
        """Rename your organisation, or change its description or slug."""
        organisation = service.get_organisation_for(g.current_user, ref, owner_only=True)
        service.update_organisation(organisation, data)
        service.mark_active(g.current_user, organisation)
        return organisation

    put = patch

    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def delete(self, ref):
        """Delete your organisation once it holds no conversations or agents."""
        service.delete_organisation(service.get_organisation_for(g.current_user, ref, owner_only=True))
        return {"message": "Organisation deleted successfully"}


@bp.route("/organisations/<ref>/set-active")
class SetActive(MethodView):
    @bp.response(200, ActivatedSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, ref):
        """Make an organisation you are a member of your active one."""
        organisation = service.get_organisation_for(g.current_user, ref)
        service.set_active_organisation(g.current_user, organisation)
        service.mark_active(g.current_user, organisation)
        return {"message": "Active organisation set successfully", "active_organisation": organisation}


@bp.route("/organisations/<ref>/join")
class Join(MethodView):
    @bp.arguments(MemberSchema)
    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404)
    @transactional
    def post(self, data, ref):
        """Add a user (`userId`, default you) to your organisation."""
        organisation = service.get_organisation_for(g.current_user, ref, owner_only=True)
        service.join_organisation(g.current_user, organisation, data.get("user_id") or g.current_user.username)
        return {"message": "Successfully joined organisation"}


@bp.route("/organisations/<ref>/leave")
class Leave(MethodView):
    @bp.arguments(MemberSchema)
    @bp.response(200, MessageResponseSchema)
    @bp.errors(403, 404, 409)
    @transactional
    def post(self, data, ref):
        """Leave an organisation, or as its owner remove the member named by `userId`."""
        organisation = service.get_organisation_for(g.current_user, ref)
        leaver = service.leave_organisation(g.current_user, organisation, data.get("user_id"))
        if leaver is g.current_user:
            return {"message": "Successfully left organisation"}
        return {"message": "Successfully removed user from organisation"}
