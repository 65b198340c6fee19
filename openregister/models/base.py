"""Column types, defaults and the timestamp mixin shared by the models."""

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Base, db

if TYPE_CHECKING:
    # db.Model is made at run time from extensions.Base (with Flask-SQLAlchemy's mixins), so a type
    # checker cannot see it; to the checker every model derives from the declarative base it copies.
    Model = Base
else:
    Model = db.Model

JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Now in UTC, naive, with microseconds: what every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_uuid() -> str:
    return str(uuid.uuid4())


class TimestampMixin:
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def apply(self, changes: Mapping[str, Any]) -> None:
        """Set the attributes named in `changes` and mark the row updated now."""
        for name, value in changes.items():
            setattr(self, name, value)
        self.updated = utcnow()
