"""The data model; importing this package registers every table on the metadata."""

from .agent import Agent, AgentInvitation
from .conversation import Conversation
from .login_failure import LoginFailure
from .message import ROLES, Feedback, Message
from .organisation import Membership, Organisation
from .share import ShareLink
from .user import AppPassword, User

__all__ = [
    "ROLES", "Agent", "AgentInvitation", "AppPassword", "Conversation", "Feedback", "LoginFailure", "Membership",
    "Message", "Organisation", "ShareLink", "User",
]
