"""How a path reference names a row: all digits is the integer id, anything else the uuid (or another key)."""

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Row, Select, bindparam, select
from sqlalchemy.orm import QueryableAttribute

from ..database import read
from ..extensions import db
from ..models.base import Model

# The id columns are 32-bit integers on PostgreSQL: a larger number names no row.
MAX_ID = 2**31 - 1

# What a path names a row by: its id or its uuid (an id may come as a number).
Ref = str | int
M = TypeVar("M", bound=Model)
T = TypeVar("T")


@cache
def _by_column(model: type[Model], column_name: str) -> Select[Any]:
    # Built once per model and key column: every route taking a reference looks its row up this way.
    return select(model).where(getattr(model, column_name) == bindparam("ref"))


def _key_of(ref: Ref, key: str) -> tuple[str, int | str] | None:
    """The column `ref` names a row by and the value: ("id", the integer) when `ref` is all digits,
    else (key, ref); None when it can name no row."""
    text = str(ref)
    if "\x00" in text:
        return None  # no key holds U+0000, and PostgreSQL's text cannot even be asked
    # ASCII only: str.isdigit() also takes digits such as "¹" that int() refuses.
    is_id = text.isascii() and text.isdigit()
    if is_id and (len(text) > len(str(MAX_ID)) or int(text) > MAX_ID):
        return None
    return ("id", int(text)) if is_id else (key, text)


def find_by_ref(model: type[M], ref: Ref, stmt: Select[M] | None = None, *,
                key: QueryableAttribute[str] | None = None) -> M | None:
    """The row `ref` names: its id when `ref` is all digits, else the row whose `key` column (the uuid
    unless another is named) is `ref`; None when there is none. `stmt`, a select of `model`, may narrow
    the rows further."""
    found_key = _key_of(ref, "uuid" if key is None else key.key)
    if found_key is None:
        return None
    column_name, value = found_key
    if stmt is None:
        found: M | None = db.session.execute(_by_column(model, column_name), {"ref": value}).scalars().first()
        return found
    return db.session.scalars(stmt.where(getattr(model, column_name) == value)).first()


@cache
def _rows_by_column(stmt: Select[Any], table: FromClause, column_name: str) -> Select[Any]:
    return stmt.where(table.c[column_name] == bindparam("ref"))


def find_row_by_ref(stmt: Select[Any], table: FromClause, ref: Ref) -> Row[Any] | None:
    """As find_by_ref, as a row of `stmt` (a select from `table`, built once): for read paths, which load no objects."""
    found_key = _key_of(ref, "uuid")
    if found_key is None:
        return None
    column_name, value = found_key
    rows = read(_rows_by_column(stmt, table, column_name), {"ref": value})
    return rows[0] if rows else None


def equals_or_null(column: QueryableAttribute[T] | ColumnElement[T], value: T | None) -> ColumnElement[bool]:
    """column = value, or column IS NULL for None (spelled out so that indexes still serve it)."""
    condition: ColumnElement[bool] = column.is_(None) if value is None else column == value
    return condition
