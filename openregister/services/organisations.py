import re

from sqlalchemy import select

from ..extensions import db
from ..models import Membership, Organisation, User


def membership_ids(actor: User) -> set[int]:
    return set(db.session.scalars(select(Membership.organisation_id).where(Membership.user_id == actor.id)))


def is_member(actor: User, organisation_id: int | None) -> bool:
    if organisation_id is None:
        return False
    return db.session.get(Membership, (organisation_id, actor.id)) is not None


def active_organisation(actor: User) -> Organisation | None:
    """The stored active organisation if the user is still a member, else their oldest membership, else None."""
    stmt = (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == actor.id)
    )
    if actor.active_organisation_id is not None:
        active = db.session.scalars(stmt.where(Organisation.id == actor.active_organisation_id)).first()
        if active is not None:
            return active
    return db.session.scalars(stmt.order_by(Membership.created, Organisation.id)).first()


def active_organisation_id(actor: User) -> int | None:
    organisation = active_organisation(actor)
    return organisation.id if organisation else None


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:200] or "organisation"


def unique_slug(name: str, *, exclude_id: int | None = None) -> str:
    base = slugify(name)
    stmt = select(Organisation.slug).where(Organisation.slug.startswith(base))
    if exclude_id is not None:
        stmt = stmt.where(Organisation.id != exclude_id)
    taken = set(db.session.scalars(stmt))
    slug, suffix = base, 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def add_member(organisation: Organisation, user: User) -> None:
    if db.session.get(Membership, (organisation.id, user.id)) is None:
        db.session.add(Membership(organisation=organisation, user=user))
        db.session.flush()


def create_organisation(actor: User, *, name: str, description: str | None = None) -> Organisation:
    """A new organisation owned by the actor, who joins it; it becomes active if they had none."""
    organisation = Organisation(name=name, description=description, slug=unique_slug(name), owner=actor)
    db.session.add(organisation)
    db.session.flush()
    add_member(organisation, actor)
    if active_organisation(actor) is None or actor.active_organisation_id is None:
        actor.active_organisation_id = organisation.id
    db.session.flush()
    return organisation
