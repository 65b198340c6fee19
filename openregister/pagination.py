"""The one pagination helper: a window from the query arguments, then one count and one page query.

Every paged route, in both dialects, resolves its arguments with `window` (defaults from the
configuration: DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) and its services page with `paginate`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import Select, func

from .extensions import db


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int


def window(args: Mapping[str, Any], *, default_limit: int | None = None, max_limit: int | None = None) -> Window:
    """Resolve limit/offset/page (already validated by a schema); limit is clamped, never refused.

    `default_limit` and `max_limit` default to the configured DEFAULT_PAGE_SIZE and MAX_PAGE_SIZE.
    """
    config = current_app.config
    default_limit = default_limit or config["DEFAULT_PAGE_SIZE"]
    max_limit = max_limit or config["MAX_PAGE_SIZE"]
    limit = min(args.get("limit") or default_limit, max_limit)
    offset = args.get("offset")
    if offset is None:
        offset = (args["page"] - 1) * limit if args.get("page") else 0
    return Window(limit=limit, offset=offset)


def count(stmt: Select[Any]) -> int:
    total = db.session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))
    return total or 0


def paginate(stmt: Select[Any], page: Window) -> dict[str, Any]:
    """{"results", "total", "limit", "offset", "has_more"} for an ordered select of one entity."""
    results = db.session.scalars(stmt.limit(page.limit).offset(page.offset)).all()
    total = count(stmt)
    return {
        "results": results,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": page.offset + len(results) < total,
    }
