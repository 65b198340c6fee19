"""How a path reference names a row: all digits is the integer id, anything else the uuid."""

from sqlalchemy import select

from ..extensions import db


def find_by_ref(model, ref):
    ref = str(ref)
    column = model.id if ref.isdigit() else model.uuid
    if ref.isdigit() and int(ref) > 2**63 - 1:
        return None
    return db.session.scalars(select(model).where(column == (int(ref) if ref.isdigit() else ref))).first()


def equals_or_null(column, value):
    """column = value, or column IS NULL for None (spelled out so that indexes still serve it)."""
    return column.is_(None) if value is None else column == value
