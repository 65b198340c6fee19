from typing import Any

from flask import current_app
from flask.views import MethodView

from ..auth import REFRESH, issue_token, login, user_from_token
from ..schemas.auth import RefreshedTokenSchema, RefreshRequestSchema, TokenRequestSchema, TokenSchema
from ..http import no_store
from . import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/auth/token")
@no_store
class Token(MethodView):
    @bp.arguments(TokenRequestSchema)
    @bp.response(200, TokenSchema)
    @bp.errors(401, 429)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a user name and password (or app password) for an access and a refresh token."""
        user = login(data["username"], data["password"])
        return {
            "access": issue_token(user),
            "refresh": issue_token(user, REFRESH),
            "token_type": "Bearer",
            "expires_in": current_app.config["ACCESS_TOKEN_TTL"],
        }


@bp.route("/auth/refresh")
@no_store
class Refresh(MethodView):
    @bp.arguments(RefreshRequestSchema)
    @bp.response(200, RefreshedTokenSchema)
    @bp.errors(401)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a refresh token for a new access token."""
        user = user_from_token(data["refresh"], REFRESH)
        return {"access": issue_token(user), "token_type": "Bearer", "expires_in": current_app.config["ACCESS_TOKEN_TTL"]}
