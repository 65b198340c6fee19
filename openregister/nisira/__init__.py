"""NISIRA Assistant's API under /api/, whole: views, schemas, service and error bodies.

It depends on the core (services, auth, errors, pagination); nothing in the core imports it. The
core serves it because the configuration names it (DIALECTS); without it the core works the same.
"""

from flask import Flask
from flask_smorest import Api

from ..api import Blueprint
from ..extensions import blueprint_docs
from .errors import render_error
from .views import protected, public

bp = Blueprint("nisira", __name__, url_prefix="/api", description="NISIRA Assistant's API (snake_case, Spanish errors)")
bp.register_blueprint(public)
bp.register_blueprint(protected)
bp.error_renderer(render_error)


def register(app: Flask, api: Api) -> None:
    """Serve NISIRA's routes, documented in the app's OpenAPI document under the tag "nisira"."""
    blueprint_docs.register(bp)
    api.register_blueprint(bp)
