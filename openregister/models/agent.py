from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import JsonType, Model, TimestampMixin, new_uuid

if TYPE_CHECKING:
    from .organisation import Organisation
    from .user import User


class Agent(TimestampMixin, Model):
    """An assistant a conversation talks to: which provider and model, with which prompt and limits."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64), default="chat")
    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(255))
    prompt: Mapped[str | None] = mapped_column(Text)
    temperature: Mapped[float | None]
    max_tokens: Mapped[int | None]
    configuration: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    enable_rag: Mapped[bool] = mapped_column(default=False)
    rag_search_mode: Mapped[str | None] = mapped_column(String(64))
    rag_num_sources: Mapped[int | None]
    rag_include_files: Mapped[bool] = mapped_column(default=False)
    rag_include_objects: Mapped[bool] = mapped_column(default=False)
    request_quota: Mapped[int | None]
    token_quota: Mapped[int | None]
    views: Mapped[list[str]] = mapped_column(JsonType, default=list)
    search_files: Mapped[bool] = mapped_column(default=True)
    search_objects: Mapped[bool] = mapped_column(default=True)
    is_private: Mapped[bool] = mapped_column(default=True)
    groups: Mapped[list[str]] = mapped_column(JsonType, default=list)
    tools: Mapped[list[str]] = mapped_column(JsonType, default=list)
    run_as_user: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped["Organisation | None"] = relationship()
    owner: Mapped["User | None"] = relationship()
    invitations: Mapped[list["AgentInvitation"]] = relationship(
        order_by="AgentInvitation.position", collection_class=ordering_list("position"),
        cascade="all, delete-orphan", passive_deletes=True,
    )
    # The wire's invitedUsers: the names in the order given; assigning a list replaces the invitations.
    invited_users: AssociationProxy[list[str]] = association_proxy(
        "invitations", "username", creator=lambda username: AgentInvitation(username=username)
    )


class AgentInvitation(Model):
    """One name in an agent's invitedUsers, at its place in the list.

    A user name, not a user: a name may be invited before anyone holds it, and it stays when the
    user goes, as the list did. It is compared exactly, as the list was.
    """

    __tablename__ = "agent_invitations"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
