"""The data model; importing this package registers every table on the metadata."""

from ..extensions import db
from .agent import Agent, AgentInvitation
from .conversation import Conversation
from .counters import OrganisationCounter, PersonalCounter
from .document import Document, Passage
from .login_failure import LoginFailure
from .message import ROLES, Feedback, Message
from .organisation import Membership, Organisation
from .search_index import register as register_search_index
from .share import ShareLink
from .user import AppPassword, Caller, User

# The full-text index lives in SQL of its own; create_all/drop_all build and remove it too.
register_search_index(db.metadata)

__all__ = [
    "ROLES", "Agent", "AgentInvitation", "AppPassword", "Caller", "Conversation", "Document", "Feedback", "LoginFailure",
    "Membership", "Message", "Organisation", "OrganisationCounter", "Passage", "PersonalCounter", "ShareLink", "User",
]
