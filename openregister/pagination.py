"""The one pagination helper: a window from the query arguments, then one count and one page query."""

from dataclasses import dataclass

from sqlalchemy import Select, func

from .extensions import db


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int


def window(args: dict, *, default_limit: int, max_limit: int) -> Window:
    """Resolve limit/offset/page (already validated by PaginationArgsSchema); limit is clamped, never refused."""
    limit = min(args.get("limit") or default_limit, max_limit)
    offset = args.get("offset")
    if offset is None:
        offset = (args["page"] - 1) * limit if args.get("page") else 0
    return Window(limit=limit, offset=offset)


def count(stmt: Select) -> int:
    return db.session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None))


def paginate(stmt: Select, page: Window) -> dict:
    """{"results", "total", "limit", "offset"} for an ordered select of one entity."""
    results = db.session.scalars(stmt.limit(page.limit).offset(page.offset)).all()
    return {"results": results, "total": count(stmt), "limit": page.limit, "offset": page.offset}
