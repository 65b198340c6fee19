from sqlalchemy import select

from ..errors import BadRequest, Conflict
from ..extensions import db
from ..models import AppPassword, Organisation, User
from ..models.user import hash_app_password
from .organisations import add_member, create_organisation


def find_user(username: str) -> User | None:
    return db.session.scalars(select(User).where(User.username == username)).first()


def create_user(username: str, password: str, *, organisation_name: str | None = None) -> User:
    """A user with a password; joins (and activates) the named organisation, creating it when new.

    Raises Conflict when the user name is taken, BadRequest for an empty name or password.
    """
    username = username.strip()
    if not username or not password:
        raise BadRequest("Invalid user", "A user needs a name and a password.", code="invalid_user")
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


def create_app_password(user: User, name: str = "app password") -> str:
    """A new app password for the user; the secret is returned once and only its digest is kept."""
    secret = AppPassword.generate()
    db.session.add(AppPassword(user=user, name=name, secret_hash=hash_app_password(secret)))
    db.session.flush()
    return secret


def user_for_external_subject(subject: str) -> User:
    """The user a verified external token names, created on first use (without a password)."""
    user = find_user(subject)
    if user is None:
        user = User(username=subject)
        db.session.add(user)
        db.session.flush()
    return user
