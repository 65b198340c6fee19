"""The agent on the wire: the real app's key set, which the Vue agent editor reads and writes."""

import math
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

from ..providers import PROVIDER_NAMES
from .base import CamelCaseSchema, InputSchema, JsonObject, StrictBoolean, Timestamp, not_blank
from .pagination import PaginationArgsSchema, page_schema

CONFIGURATION_MAX_BYTES = 64 * 1024
INTEGER_MAX = 2**31 - 1  # the integer columns are 32-bit on PostgreSQL
# An empty provider means the server's configured default.
PROVIDERS = ("", *PROVIDER_NAMES)


class StrictNumber(fields.Float):
    """A JSON number: numeric strings and booleans are wrong types."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        try:
            number = float(value)
        except OverflowError:
            raise self.make_error("too_large", input=value) from None
        if not self.allow_nan and not math.isfinite(number):
            raise self.make_error("special")
        return number


CREDENTIAL_NAMES = {"auth", "authorization", "bearer", "cookie", "headers", "token"}
CREDENTIAL_PARTS = ("apikey", "secret", "password", "passwd", "credential", "privatekey", "accesskey")


def looks_like_a_credential(key: object) -> bool:
    """apiKey, api_key, token, accessToken, clientSecret, password, Authorization, headers, ..."""
    name = "".join(character for character in str(key).lower() if character.isalnum())
    return name in CREDENTIAL_NAMES or name.endswith("token") or any(part in name for part in CREDENTIAL_PARTS)


def _credential_path(value: object, path: str) -> str | None:
    """The path of the first key, at any depth, that looks like a credential; None when there is none."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            if looks_like_a_credential(key):
                return here
            found = _credential_path(item, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _credential_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def without_api_key(configuration: Mapping[str, Any]) -> None:
    # Agents are readable by every user who may use them; credentials live in the server configuration.
    found = _credential_path(configuration, "configuration")
    if found:
        raise ValidationError(
            f"Must not contain credentials ({found}): an agent is readable by everyone who may use it. "
            "Credentials belong in the server configuration, e.g. OPENREGISTER_LLM_API_KEY."
        )


def optional_integer(minimum: int) -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=minimum, max=INTEGER_MAX)
    )


def optional_string(max_length: int) -> fields.String:
    return fields.String(allow_none=True, load_default=None, validate=validate.Length(max=max_length))


def string_list(max_length: int = 255) -> fields.List[str]:
    return fields.List(fields.String(validate=validate.Length(min=1, max=max_length)), load_default=list)


class AgentSchema(CamelCaseSchema):
    id = fields.Integer(required=True)
    uuid = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(allow_none=True, required=True)
    type = fields.String(required=True)
    provider = fields.String(allow_none=True, required=True)
    model = fields.String(allow_none=True, required=True)
    prompt = fields.String(allow_none=True, required=True)
    temperature = fields.Float(allow_none=True, required=True)
    max_tokens = fields.Integer(allow_none=True, required=True)
    configuration = fields.Dict(allow_none=True, required=True)
    organisation = fields.Integer(attribute="organisation_id", allow_none=True, required=True)
    owner = fields.Function(
        lambda agent: agent.owner.username if agent.owner else None,
        required=True, metadata={"type": "string", "nullable": True},
    )
    active = fields.Boolean(required=True)
    enable_rag = fields.Boolean(required=True)
    rag_search_mode = fields.String(allow_none=True, required=True)
    rag_num_sources = fields.Integer(allow_none=True, required=True)
    rag_include_files = fields.Boolean(required=True)
    rag_include_objects = fields.Boolean(required=True)
    request_quota = fields.Integer(allow_none=True, required=True)
    token_quota = fields.Integer(allow_none=True, required=True)
    views = fields.List(fields.String(), required=True)
    search_files = fields.Boolean(required=True)
    search_objects = fields.Boolean(required=True)
    is_private = fields.Boolean(required=True)
    invited_users = fields.List(fields.String(), required=True)
    groups = fields.List(fields.String(), required=True)
    tools = fields.List(fields.String(), required=True)
    run_as_user = fields.String(data_key="user", allow_none=True, required=True)
    created = Timestamp(required=True)
    updated = Timestamp(required=True)
    managed_by_configuration = fields.Constant(None, metadata={"description": "Always null on this server"})


AgentPageSchema = page_schema("AgentPageSchema", AgentSchema)


class AgentListArgsSchema(PaginationArgsSchema):
    search = fields.String(data_key="_search", load_default=None)


class AgentWriteSchema(InputSchema):
    """The writable fields; an absent one gets its default, which is what create and PUT want."""

    name = fields.String(required=True, validate=[validate.Length(min=1, max=255), not_blank])
    description = fields.String(allow_none=True, load_default=None)
    type = fields.String(load_default="chat", validate=validate.Length(min=1, max=64))
    provider = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(PROVIDERS))
    model = optional_string(255)
    prompt = fields.String(allow_none=True, load_default=None)
    temperature = StrictNumber(allow_none=True, load_default=None, validate=validate.Range(min=0, max=2))
    max_tokens = optional_integer(1)
    configuration = JsonObject(
        max_bytes=CONFIGURATION_MAX_BYTES, keys=fields.String(), allow_none=True, load_default=None,
        validate=without_api_key,
    )
    active = StrictBoolean(load_default=True)
    enable_rag = StrictBoolean(load_default=False)
    rag_search_mode = optional_string(64)
    rag_num_sources = optional_integer(0)
    rag_include_files = StrictBoolean(load_default=False)
    rag_include_objects = StrictBoolean(load_default=False)
    request_quota = optional_integer(0)
    token_quota = optional_integer(0)
    views = string_list()
    search_files = StrictBoolean(load_default=True)
    search_objects = StrictBoolean(load_default=True)
    is_private = StrictBoolean(load_default=True)
    invited_users = string_list(64)
    groups = string_list()
    tools = string_list()
    run_as_user = fields.String(data_key="user", allow_none=True, load_default=None, validate=validate.Length(max=64))


class AgentPatchSchema(AgentWriteSchema):
    """The same fields, each optional, and absent ones left alone."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=True, **kwargs)


class AgentStatsSchema(CamelCaseSchema):
    total = fields.Integer(required=True)
    active = fields.Integer(required=True)
    inactive = fields.Integer(required=True)


class ToolCatalogueSchema(CamelCaseSchema):
    results = fields.Dict(required=True, metadata={"description": "Tools by name; empty: this server runs no tools"})
