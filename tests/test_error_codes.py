"""Every error names its code: the code is what renderers (NISIRA's Spanish) match on, never the title."""

import ast
import inspect
from pathlib import Path

import pytest
from werkzeug.http import HTTP_STATUS_CODES

import openregister
from openregister import errors
from openregister.errors import ApiError, error_code

PACKAGE = Path(openregister.__file__).resolve().parent


def api_error_classes() -> dict[str, type]:
    classes, pending = {}, [ApiError]
    while pending:
        cls = pending.pop()
        classes[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return classes


def fixes_its_code(cls: type) -> bool:
    """An error class whose constructor takes no title and names the class's own code itself."""
    if "__init__" not in vars(cls):
        return False
    parameters = inspect.signature(cls.__init__).parameters.values()
    return not any(p.name == "code" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def raised_api_errors():
    """(where, call) for every `raise X(...)` in the package whose X is an ApiError class that takes a code."""
    names = {name: cls for name, cls in api_error_classes().items() if not fixes_its_code(cls)}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if name in names:
                    yield f"{path.relative_to(PACKAGE)}:{node.lineno}", node.exc


def codes_raised() -> set[str]:
    codes = {cls.code for cls in api_error_classes().values()}
    for _, call in raised_api_errors():
        for keyword in call.keywords:
            if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                codes.add(keyword.value.value)
    # HTTP errors (routing, 413, ...) are rendered with a code spelled like their name.
    codes |= {error_code(name) for name in HTTP_STATUS_CODES.values()}
    return codes


def test_every_raised_api_error_names_its_code():
    missing = [
        where for where, call in raised_api_errors()
        if not any(keyword.arg == "code" for keyword in call.keywords)
    ]
    assert missing == []


def test_the_scan_finds_the_raises():
    # A scan that finds nothing would pass whatever the code does.
    assert len(list(raised_api_errors())) > 30


def test_an_error_with_a_title_of_its_own_and_no_code_is_refused():
    with pytest.raises(TypeError):
        errors.NotFound("Widget not found", "No widget 3.")


def test_an_error_without_a_title_has_its_class_code():
    assert errors.NotFound(message="No widget 3.").code == "not_found"


def test_every_code_nisira_words_is_raised_somewhere():
    from openregister.nisira.errors import AUTHENTICATION_DETAILS, SPANISH

    assert set(SPANISH) | set(AUTHENTICATION_DETAILS) <= codes_raised()
