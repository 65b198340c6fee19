"""The one pagination helper: a window from the query arguments, then one count and one page query.

Every paged route, in both dialects, resolves its arguments with `window` (defaults from the
configuration: DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) and its services page with `paginate`, either a
select built for the request or a `Listing` built once (the hot routes: building a statement costs
more than running it).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import BigInteger, Select, bindparam, func

from .database import read
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


def count_of(stmt: Select[Any]) -> Select[Any]:
    """The statement that counts what `stmt` selects."""
    return stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)


def count(stmt: Select[Any]) -> int:
    return int(db.session.scalar(count_of(stmt)) or 0)


@dataclass(frozen=True)
class Listing:
    """An ordered select paged by the parameters :limit and :offset, and the statement counting it.

    `entities`: the select's rows are one ORM entity each (the results are the objects), else the
    results are the rows themselves (attribute access by column label, as the schemas read them).
    """

    rows: Select[Any]
    count: Select[Any]
    entities: bool

    @classmethod
    def of(cls, stmt: Select[Any], *, entities: bool) -> "Listing":
        # 64-bit: a far page's offset passes 2**31 - 1 (PostgreSQL would refuse an INTEGER's).
        paged = stmt.limit(bindparam("limit", type_=BigInteger)).offset(bindparam("offset", type_=BigInteger))
        return cls(rows=paged, count=count_of(stmt), entities=entities)


def paginate(listing: Select[Any] | Listing, page: Window, params: Mapping[str, Any] | None = None, *,
             total: int | None = None) -> dict[str, Any]:
    """{"results", "total", "limit", "offset", "has_more"}: for an ordered select of one entity, or a
    `Listing` run with its bound `params`. `total`: the count, when the caller has read it already."""
    if isinstance(listing, Select):
        listing = Listing.of(listing, entities=True)
    params = params or {}
    window_params = {**params, "limit": page.limit, "offset": page.offset}
    results: Sequence[Any]
    if listing.entities:  # ORM objects, of a select often built for the request: through the session
        results = db.session.execute(listing.rows, window_params).scalars().all()
        if total is None:
            total = db.session.execute(listing.count, params).scalar_one()
    else:  # rows of a Listing built once: the hot read path
        results = read(listing.rows, window_params)
        if total is None:
            total = read(listing.count, params)[0][0]
    return {
        "results": results,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": page.offset + len(results) < total,
    }
