"""The data model; importing this package registers every table on the metadata."""

from .agent import Agent
from .conversation import Conversation
from .counters import OrganisationCounter, PersonalCounter
from .login_failure import LoginFailure
from .message import ROLES, Feedback, Message
from .organisation import Membership, Organisation
from .user import AppPassword, User

__all__ = [
    "ROLES", "Agent", "AppPassword", "Conversation", "Feedback", "LoginFailure", "Membership", "Message", "Organisation",
    "OrganisationCounter", "PersonalCounter", "User",
]
