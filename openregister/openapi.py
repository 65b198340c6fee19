"""An apispec plugin through which a blueprint finishes the OpenAPI docs of its own routes.

smorest builds each operation from the view's decorators and hands the path to apispec; apispec lets
a plugin's `path_helper` change the operations before the marshmallow plugin resolves their schemas.
A blueprint that wants a say registers here by name and gets each of its operations, and those of the
blueprints nested in it that did not register themselves.
"""

from typing import Any, Protocol

from apispec import BasePlugin
from werkzeug.routing import Rule


class DocumentedBlueprint(Protocol):
    """A blueprint that finishes the docs of its own routes (openregister.api.Blueprint)."""

    @property
    def name(self) -> str: ...

    def finish_doc(self, doc: dict[str, Any], method: str) -> None: ...


class BlueprintDocs(BasePlugin):
    def __init__(self) -> None:
        self.blueprints: dict[str, DocumentedBlueprint] = {}

    def register(self, blueprint: DocumentedBlueprint) -> None:
        """`blueprint.finish_doc(operation, method)` is called for each operation of its routes."""
        self.blueprints[blueprint.name] = blueprint

    def path_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        parameters: list[dict[str, Any]] | None = None,
        *,
        rule: Rule | None = None,
        **kwargs: Any,
    ) -> str | None:
        blueprint = None
        name = rule.endpoint.rpartition(".")[0] if rule is not None else ""
        while name and blueprint is None:
            blueprint = self.blueprints.get(name)
            name = name.rpartition(".")[0]
        if blueprint is not None:
            for method, operation in (operations or {}).items():
                blueprint.finish_doc(operation, method)
        return None
