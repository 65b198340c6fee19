import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Integer, Select, bindparam, event, func, select
from sqlalchemy.orm import ORMExecuteState, Session, selectinload

from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..extensions import db
from ..models import Agent, Caller, Conversation, Membership, Organisation, User
from ..models.user import normalise_username
from ..pagination import Window, count, paginate
from .lookup import Ref, find_by_ref


def membership_ids(actor: User | Caller) -> set[int]:
    return set(db.session.scalars(select(Membership.organisation_id).where(Membership.user_id == actor.id)))


def is_member(actor: Caller, organisation_id: int | None) -> bool:
    if organisation_id is None:
        return False
    return db.session.get(Membership, (organisation_id, actor.id)) is not None


def active_organisation(actor: User | Caller) -> Organisation | None:
    """The stored active organisation if the user is still a member, else their oldest membership, else None."""
    organisation_id = active_organisation_id(actor)
    return None if organisation_id is None else db.session.get(Organisation, organisation_id)


_memberships, _users = Membership.__table__, User.__table__

# A user's active organisation: the stored one if still a membership, else the oldest membership;
# correlated to the users row, so that the caller is read with it (auth.py). (Two subqueries: SQLite
# does not see the outer row in a subquery's ORDER BY.)
ACTIVE_ORGANISATION_ID = func.coalesce(
    select(_memberships.c.organisation_id)
    .where(_memberships.c.user_id == _users.c.id, _memberships.c.organisation_id == _users.c.active_organisation_id)
    .correlate(_users)
    .scalar_subquery(),
    select(_memberships.c.organisation_id)
    .where(_memberships.c.user_id == _users.c.id)
    .order_by(_memberships.c.created, _memberships.c.organisation_id)
    .limit(1)
    .correlate(_users)
    .scalar_subquery(),
)
# Built once: the hot routes' services ask it on every request.
_ACTIVE_ORGANISATION_OF = select(ACTIVE_ORGANISATION_ID).where(_users.c.id == bindparam("user_id", type_=Integer))
_KNOWN = "active_organisation"


def note_active_organisation_id(actor: User | Caller, organisation_id: int | None) -> None:
    """Keep what ACTIVE_ORGANISATION_ID gave for the actor, read with them, until the session next writes."""
    db.session.info[_KNOWN] = (actor.id, actor.active_organisation_id, organisation_id)


def active_organisation_id(actor: User | Caller) -> int | None:
    """What active_organisation(actor).id is, in one statement that loads no organisation (or none,
    when it was read with the actor and nothing has been written since)."""
    session = db.session
    known = session.info.get(_KNOWN)
    if (known is not None and known[0] == actor.id and known[1] == actor.active_organisation_id
            and not (session.new or session.dirty or session.deleted)):
        found: int | None = known[2]
        return found
    found = session.execute(_ACTIVE_ORGANISATION_OF, {"user_id": actor.id}).scalar()
    return found


@event.listens_for(Session, "after_flush")
def _forget_active_organisation(session: Session, context: object) -> None:
    # Any write may change memberships or a stored choice: the next question reads the database.
    session.info.pop(_KNOWN, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_active_organisation_on_writes(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_KNOWN, None)


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
    had_none = active_organisation(actor) is None
    organisation = Organisation(name=name, description=description, slug=unique_slug(name), owner=actor)
    db.session.add(organisation)
    db.session.flush()
    add_member(organisation, actor)
    if had_none:
        actor.active_organisation_id = organisation.id
    db.session.flush()
    return organisation


def get_organisation_for(actor: Caller, ref: Ref, *, owner_only: bool = False) -> Organisation:
    """The organisation `ref` names, if the actor is a member (or, with owner_only=True, its owner).

    Raises NotFound for an unknown organisation and for one the actor is not a member of (no tenant
    learns which organisations exist); Forbidden when a member who is not the owner asks for owner_only.
    """
    organisation = find_by_ref(Organisation, ref)
    if organisation is None or not is_member(actor, organisation.id):
        raise NotFound("Organisation not found", f"No organisation {ref}.", code="organisation_not_found")
    if owner_only and organisation.owner_id != actor.id:
        raise Forbidden("Access denied", "Only the owner of this organisation may do that.", code="access_denied")
    return organisation


def list_organisations(actor: Caller) -> list[Organisation]:
    """The actor's organisations, oldest membership first, loaded with what the wire shows."""
    return list(db.session.scalars(_organisations_of(actor)))


def search_organisations(actor: Caller, query: str, page: Window) -> dict[str, Any]:
    """A page of the actor's organisations whose name contains `query` (any case), as list_organisations orders them.

    Only the actor's own: searching every tenant's organisations would tell one tenant what others hold.
    """
    stmt = _organisations_of(actor)
    if query.strip():
        stmt = stmt.where(Organisation.name.icontains(query.strip(), autoescape=True))
    return paginate(stmt, page)


def _organisations_of(actor: Caller) -> Select[Organisation]:
    return (
        select(Organisation)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == actor.id)
        .order_by(Membership.created, Organisation.id)
        .options(
            selectinload(Organisation.owner),
            selectinload(Organisation.memberships).selectinload(Membership.user),
            selectinload(Organisation.children),
        )
    )


def update_organisation(organisation: Organisation, changes: Mapping[str, Any]) -> Organisation:
    """Apply name, description and slug changes; a renamed organisation keeps its slug.

    Raises Conflict when an explicit slug belongs to another organisation.
    """
    slug = changes.get("slug")
    if slug is not None and slug != organisation.slug:
        if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
            raise Conflict("Slug taken", f"Another organisation has the slug {slug!r}.", code="slug_taken")
    organisation.apply(changes)
    db.session.flush()
    return organisation


def delete_organisation(organisation: Organisation) -> None:
    """Delete an organisation that holds no data; members and their active choice go with it.

    Raises Conflict while conversations (archived ones too) or agents still belong to it.
    """
    conversations = count(select(Conversation).where(Conversation.organisation_id == organisation.id))
    agents = count(select(Agent).where(Agent.organisation_id == organisation.id))
    if conversations or agents:
        raise Conflict(
            "Organisation not empty",
            f"{organisation.name} still holds {conversations} conversation(s) and {agents} agent(s); "
            "delete them first.",
            code="organisation_not_empty",
        )
    db.session.delete(organisation)
    db.session.flush()


def set_active_organisation(actor: User, organisation: Organisation) -> Organisation:
    """Make an organisation the actor belongs to (get_organisation_for checks that) their active one."""
    actor.active_organisation_id = organisation.id
    db.session.flush()
    return organisation


def _user_named(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username_key == normalise_username(username))).first()
    if user is None:
        raise NotFound("User not found", f"No user {username!r}.", code="user_not_found")
    return user


def shares_an_organisation(actor: Caller, user: User) -> bool:
    mine = select(Membership.organisation_id).where(Membership.user_id == actor.id)
    stmt = select(Membership.user_id).where(Membership.user_id == user.id, Membership.organisation_id.in_(mine))
    return db.session.scalar(stmt.limit(1)) is not None


def join_organisation(actor: Caller, organisation: Organisation, username: str) -> User:
    """The owner (checked by the caller) adds a user who already shares an organisation with them.

    Nobody's active organisation changes. Raises NotFound, the same for an unknown user and for one
    the owner may not add, so that owners cannot pull strangers in nor learn which names exist.
    """
    user = db.session.scalars(select(User).where(User.username_key == normalise_username(username))).first()
    if user is None or (user.id != actor.id and not shares_an_organisation(actor, user)):
        raise NotFound("User not found", f"No user {username!r} that you may add.", code="user_not_found")
    add_member(organisation, user)
    return user


def leave_organisation(actor: User, organisation: Organisation, username: str | None = None) -> User:
    """Take the actor, or as its owner the named member, out of the organisation; returns who left.

    If it was the leaver's active organisation, their oldest remaining membership becomes active.
    Raises NotFound for an unknown user, Forbidden when a non-owner names someone else, BadRequest
    when the user is not a member or it is their last organisation, Conflict when the owner would leave.
    """
    removes_another = username not in (None, actor.username)
    if removes_another and organisation.owner_id != actor.id:
        raise Forbidden("Access denied", "Only the owner of this organisation may remove its members.", code="access_denied")
    leaver = _user_named(username) if username is not None and removes_another else actor
    membership = db.session.get(Membership, (organisation.id, leaver.id))
    if membership is None:
        raise BadRequest("Not a member", f"{leaver.username} is not a member of {organisation.name}.", code="not_a_member")
    if organisation.owner_id == leaver.id:
        raise Conflict(
            "Owner cannot leave", "The owner stays a member; delete the organisation instead.",
            code="owner_cannot_leave",
        )
    if len(membership_ids(leaver)) == 1:
        raise BadRequest(
            "Last organisation", f"{organisation.name} is {leaver.username}'s last organisation.",
            code="last_organisation",
        )
    was_active = active_organisation_id(leaver) == organisation.id
    db.session.delete(membership)
    db.session.flush()
    if was_active:
        # active_organisation no longer finds this membership, so it falls back to the oldest remaining one.
        leaver.active_organisation_id = active_organisation_id(leaver)
    db.session.flush()
    return leaver
