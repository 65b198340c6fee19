"""Answers are written by orjson, as json.dumps would write them: the same bytes, or for floats below
1e-4 (which orjson writes 0.00001 or 1.5e-7 where json writes 1e-05 or 1.5e-07) the same numbers."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)  # lone surrogates and NUL too
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**100), max_value=10**100)
    | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)


def has_small_float(value) -> bool:
    if isinstance(value, float):
        return 0 < abs(value) < 1e-4
    if isinstance(value, list):
        return any(has_small_float(item) for item in value)
    if isinstance(value, dict):
        return any(has_small_float(item) for item in value.values())
    return False


def written_by_json(value) -> bytes:
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES)
def test_an_answer_is_what_json_dumps_writes(shared_app, value):
    with shared_app.test_request_context():
        response = shared_app.json.response(value)
    body = response.get_data()
    assert response.mimetype == "application/json"
    assert json.loads(body) == value
    if has_small_float(value):
        assert body.isascii() and body.endswith(b"\n")
    else:
        assert body == written_by_json(value)


@pytest.mark.parametrize("value", [{"n": 2**64}, {"text": "\ud800"}, {"ü": "Grüße"}, {1: "key not a string"},
                                   {"text": "DEL \x7f"}, {"controls": "".join(map(chr, range(32)))}])
def test_what_orjson_would_write_otherwise_is_written_by_json(app, value):
    with app.test_request_context():
        assert app.json.response(value).get_data() == written_by_json(value)


def test_sorted_keys_and_indented_answers_as_the_settings_say(app, monkeypatch):
    value = {"b": 1, "a": [1.5, None]}
    with app.test_request_context():
        monkeypatch.setattr(app.json, "sort_keys", True)
        assert app.json.response(value).get_data() == b'{"a":[1.5,null],"b":1}\n'
        monkeypatch.setattr(app.json, "compact", False)
        assert app.json.response(value).get_data() == (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()
