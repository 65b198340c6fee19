"""Routes for monitors and Nextcloud clients; none needs authentication."""

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView

from ..config import API_PREFIX, VERSION
from ..models.base import utcnow
from ..schemas.base import isoformat
from ..schemas.service import HealthSchema, HeartbeatSchema, IndexSchema, StatusSchema
from ..services.status import database_reachable, needs_db_upgrade
from . import Blueprint

bp = Blueprint("service", __name__)
PRODUCT_NAME = "OpenRegister"


@bp.route("/")
class Index(MethodView):
    @bp.response(200, IndexSchema)
    def get(self) -> dict[str, Any]:
        """Link the API, its health check and its docs, under the path the server is mounted at."""
        root = url_for("service.Index", _external=True).rstrip("/")
        return {
            "name": current_app.config["API_TITLE"],
            "version": VERSION,
            "links": {
                "api": root + API_PREFIX,
                "health": url_for("service.Health", _external=True),
                "docs": url_for("docs.page", _external=True),
                "openapi": url_for("docs.openapi_json", _external=True),
            },
        }


@bp.route(API_PREFIX + "/health")
class Health(MethodView):
    @bp.response(200, HealthSchema)
    @bp.alt_response(503, schema=HealthSchema, description="The database cannot be reached")
    def get(self) -> dict[str, Any] | tuple[dict[str, Any], int]:
        """Report whether the server and its database work."""
        if database_reachable():
            return {"status": "ok", "version": VERSION, "checks": {"database": "ok"}}
        return {"status": "error", "version": VERSION, "checks": {"database": "error"}}, 503


@bp.route(API_PREFIX + "/heartbeat")
class Heartbeat(MethodView):
    @bp.response(200, HeartbeatSchema)
    def get(self) -> dict[str, str]:
        """Answer that the server is alive, without touching the database."""
        return {"status": "alive", "timestamp": isoformat(utcnow()), "message": "OpenRegister conversations API is running"}


@bp.route("/status.php")
class Status(MethodView):
    @bp.response(200, StatusSchema)
    def get(self) -> dict[str, Any]:
        """Describe the server as Nextcloud's status.php does."""
        return {
            "installed": True,
            "maintenance": False,
            "needsDbUpgrade": needs_db_upgrade(current_app.extensions["migrate"].directory),
            "version": VERSION,
            "versionstring": VERSION,
            "edition": "",
            "productname": PRODUCT_NAME,
            "extendedSupport": False,
        }
