import hashlib

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from ..errors import BadRequest, Conflict, NotFound
from ..extensions import db
from ..models import Agent, AppPassword, Caller, Conversation, Feedback, Membership, Organisation, User
from ..models.user import hash_app_password, normalise_username
from .organisations import add_member, create_organisation


def user_of(caller: Caller) -> User:
    """The caller's User, for a service that changes them (their active organisation, their memberships)."""
    return db.session.get_one(User, caller.id)


def find_user(username: str) -> User | None:
    """The user whose name is `username` once both are normalised (trimmed, any case)."""
    return db.session.scalars(select(User).where(User.username_key == normalise_username(username))).first()


def create_user(username: str, password: str, *, organisation_name: str | None = None) -> User:
    """A user with a password; joins (and activates) the named organisation, creating it when new.

    Raises Conflict when the user name is taken (in any case), BadRequest for an empty name or password.
    """
    username = username.strip()
    if not username or not password:
        raise BadRequest("Invalid user", "A user needs a name and a password.", code="invalid_user")
    if len(username) > 64:
        raise BadRequest("Invalid user", "A user name has at most 64 characters.", code="invalid_user")
    if find_user(username) is not None:
        raise Conflict("User exists", f"A user named {username!r} exists already.", code="user_exists")
    user = User(username=username)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if organisation_name:
        organisation = db.session.scalars(select(Organisation).where(Organisation.name == organisation_name)).first()
        if organisation is None:
            organisation = create_organisation(user, name=organisation_name)
        else:
            add_member(organisation, user)
        user.active_organisation_id = organisation.id
        db.session.flush()
    return user


def end_tokens(user: User) -> None:
    """Every token issued to the user before now stops working (access and refresh)."""
    user.token_generation += 1
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """A new password, which ends every token issued before."""
    if not password:
        raise BadRequest("Invalid password", "A password must not be empty.", code="invalid_password")
    user.set_password(password)
    end_tokens(user)


def set_disabled(user: User, disabled: bool) -> None:
    """Disable (every credential refused, every token ended) or enable the user again."""
    if disabled and not user.disabled:
        end_tokens(user)
    user.disabled = disabled
    db.session.flush()


def create_app_password(user: User, name: str = "app password") -> str:
    """A new app password for the user; the secret is returned once and only its digest is kept."""
    secret = AppPassword.generate()
    db.session.add(AppPassword(user=user, name=name, secret_hash=hash_app_password(secret)))
    db.session.flush()
    return secret


def external_username(issuer: str, subject: str) -> str:
    """The user name for a new identity-provider user: the subject, unless a user has it already
    (say a local password account); then the subject with a suffix derived from issuer and subject,
    so that the two can never be confused."""
    base = subject.strip()[:64] or "user"
    if find_user(base) is None:
        return base
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    for length in (8, 16, 32, 64):
        candidate = f"{base[:64 - length - 1]}~{digest[:length]}"
        if find_user(candidate) is None:
            return candidate
    raise Conflict("User exists", "No free user name for this identity.", code="user_exists")


def find_external_user(issuer: str, subject: str) -> User | None:
    """The user a verified identity-provider token names, by (issuer, subject); never a local account
    found by its name."""
    return db.session.scalars(
        select(User).where(User.external_issuer == issuer, User.external_subject == subject)
    ).first()


def add_external_user(issuer: str, subject: str) -> User:
    """An identity provider's user, on first use: no password, a name of its own (see external_username)."""
    user = User(username=external_username(issuer, subject), external_issuer=issuer, external_subject=subject)
    db.session.add(user)
    db.session.flush()
    return user


def list_users() -> list[User]:
    """Every user, by name, with their memberships loaded."""
    return list(db.session.scalars(
        select(User).order_by(User.username_key).options(selectinload(User.memberships).selectinload(Membership.organisation))
    ))


def delete_user(user: User) -> None:
    """Delete the user with their conversations (and so messages and feedback), feedback, app passwords,
    the agents they own and the organisations they own alone.

    Raises Conflict, deleting nothing, while they own an organisation that has other members.
    """
    owned = list(db.session.scalars(select(Organisation).where(Organisation.owner_id == user.id)))
    for organisation in owned:
        others = db.session.scalar(select(func.count()).select_from(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id != user.id))
        if others:
            raise Conflict(
                "Organisation has members",
                f"{user.username} owns {organisation.name}, which has {others} other member(s); "
                "remove them or delete the organisation first.",
                code="organisation_has_members",
            )
    db.session.execute(delete(Feedback).where(Feedback.user_id == user.id))
    db.session.execute(delete(Conversation).where(Conversation.user_id == user.id))
    db.session.execute(delete(Agent).where(Agent.owner_id == user.id))
    user.active_organisation_id = None
    db.session.flush()
    for organisation in owned:
        db.session.delete(organisation)
    db.session.delete(user)
    db.session.flush()


def list_app_passwords(user: User) -> list[AppPassword]:
    return list(db.session.scalars(select(AppPassword).where(AppPassword.user_id == user.id).order_by(AppPassword.id)))


def revoke_app_password(user: User, app_password_id: int) -> None:
    """Raises NotFound when the user has no app password with this id."""
    app_password = db.session.scalars(
        select(AppPassword).where(AppPassword.user_id == user.id, AppPassword.id == app_password_id)
    ).first()
    if app_password is None:
        raise NotFound(
            "App password not found", f"{user.username} has no app password {app_password_id}.",
            code="app_password_not_found",
        )
    db.session.delete(app_password)
    db.session.flush()
