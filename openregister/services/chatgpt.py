"""ChatGPT's data export (conversations.json): each conversation becomes the path from the root of its
`mapping` tree to `current_node`, keeping the user's and the assistant's text messages."""

import math
from datetime import UTC, datetime
from typing import Any

from ..schemas.base import Title
from ..schemas.transfer import ImportedConversation, ImportedMessage
from .import_errors import InvalidDocument

DEFAULT_TITLE = "Imported conversation"
ROLES = ("user", "assistant")
TEXT_CONTENT_TYPES = ("text", "multimodal_text")


def _invalid(position: int, field: str, problem: str) -> InvalidDocument:
    return InvalidDocument(position, field, problem)


def _time(position: int, field: str, value: object, *, default: datetime) -> datetime:
    """Seconds since the epoch (ChatGPT writes floats) as a naive UTC datetime; None or absent: `default`."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(position, field, "Must be a number of seconds since 1970 or null.")
    try:
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise _invalid(position, field, "Is out of range.") from None


def _text(content: object) -> str | None:
    """The joined string parts of text content; None for other content (code, images, tool output)."""
    if not isinstance(content, dict) or content.get("content_type") not in TEXT_CONTENT_TYPES:
        return None
    parts = content.get("parts")
    if not isinstance(parts, list):
        return None
    strings = [part for part in parts if isinstance(part, str)]
    text = "\n".join(strings)
    return text if text.strip() else None


def _path(position: int, mapping: dict[Any, Any], current_node: object) -> list[tuple[str, dict[Any, Any]]]:
    """(node id, node) from the root to current_node."""
    if not isinstance(current_node, str) or current_node not in mapping:
        raise _invalid(position, "current_node", "Must name a node of the mapping.")
    path: list[tuple[str, dict[Any, Any]]] = []
    seen: set[object] = set()
    node_id: object = current_node
    while node_id is not None:
        node = mapping.get(node_id) if isinstance(node_id, str) else None
        if not isinstance(node, dict) or not isinstance(node_id, str):
            raise _invalid(position, f"mapping.{node_id}", "Must be a node object of the mapping.")
        if node_id in seen:
            raise _invalid(position, f"mapping.{node_id}.parent", "The nodes' parents form a cycle.")
        seen.add(node_id)
        path.append((node_id, node))
        node_id = node.get("parent")
    path.reverse()
    return path


def read_conversation(position: int, item: object, *, now: datetime) -> ImportedConversation:
    """One conversation of ChatGPT's export as the flat dict that transfer.import_conversations takes.

    Raises InvalidDocument (400) naming the position and the field.
    """
    if not isinstance(item, dict):
        raise _invalid(position, "", "A conversation must be a JSON object.")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise _invalid(position, "title", "Must be a string or null.")
    title = title.strip()[: Title.max] if title and title.strip() else DEFAULT_TITLE
    mapping = item.get("mapping")
    if not isinstance(mapping, dict):
        raise _invalid(position, "mapping", "Must be an object of nodes keyed by id.")
    created = _time(position, "create_time", item.get("create_time"), default=now)
    updated = _time(position, "update_time", item.get("update_time"), default=created)
    messages: list[ImportedMessage] = []
    for node_id, node in _path(position, mapping, item.get("current_node")):
        message = node.get("message")
        if message is None:
            continue
        where = f"mapping.{node_id}.message"
        if not isinstance(message, dict):
            raise _invalid(position, where, "Must be an object or null.")
        author = message.get("author")
        role = author.get("role") if isinstance(author, dict) else None
        text = _text(message.get("content"))
        if role not in ROLES or text is None:
            continue
        messages.append({
            "role": role,
            "content": text,
            "sources": [],
            "created": _time(position, f"{where}.create_time", message.get("create_time"), default=now),
        })
    return {"title": title, "metadata": {}, "created": created, "updated": updated, "deleted_at": None,
            "agent_uuid": None, "messages": messages}
