"""Extensions, created unbound and bound to an app in create_app."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .openapi import BlueprintDocs

# Stable constraint names, so that migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A view commits once, at its end, and then dumps what it wrote: expiring everything on commit would
# only reload the same rows. (Each request has a session of its own, so nothing stale outlives it.)
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# Our blueprints finish their routes' docs through this plugin (openregister.api.Blueprint.finish_doc).
blueprint_docs = BlueprintDocs()
api = Api(spec_kwargs={"extra_plugins": [blueprint_docs]})
