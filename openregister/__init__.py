"""openregister-flask: OpenRegister's AI conversations API, without Nextcloud."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .api import register_blueprints
from .cli import register_cli
from .config import MIGRATIONS_DIRECTORY, DefaultConfig, check_config, database_uri, engine_options, jwt_secret
from .database import register_database
from .http import App, StrictJSONProvider, register_logging, register_request_hooks, register_wsgi_middleware
from .errors import register_error_handlers
from .extensions import api, db, migrate
from .models.search_index import include_name as include_search_name, is_search_object


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py and OPENREGISTER_* variables (or test_config)."""
    app = App(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("OPENREGISTER_INSTANCE_PATH"),
        static_folder=None,
    )
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("OPENREGISTER")
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config, app.instance_path)
    app.config["JWT_SECRET"] = app.config["JWT_SECRET"] or jwt_secret(app.instance_path)
    check_config(app.config)
    app.json = StrictJSONProvider(app)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    app.json.sort_keys = False

    register_logging(app)
    register_wsgi_middleware(app)
    register_request_hooks(app)
    db.init_app(app)
    migrate.init_app(
        app, db, directory=MIGRATIONS_DIRECTORY, render_as_batch=True, compare_type=True,
        include_object=is_search_object, include_name=include_search_name,
    )
    register_database(app)
    api.init_app(app)
    register_blueprints(app, api)
    register_error_handlers(app)
    register_cli(app)
    return app
