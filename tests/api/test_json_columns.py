"""JSON columns are read by config.read_json_column (orjson, mostly): for every document the API
stores, it must give exactly what json.loads gives, so that the answers' bytes do not depend on it."""

import json

from hypothesis import given
from hypothesis import strategies as st

from openregister.config import read_json_column
from openregister.http import MAX_JSON_NUMBER_LENGTH

from ..conftest import API

LONGEST = 10**MAX_JSON_NUMBER_LENGTH - 1
# What http.StrictJSONProvider lets in: integers of up to 100 digits, finite numbers, text without lone surrogates.
stored = st.recursive(
    st.none() | st.booleans() | st.integers(-LONGEST, LONGEST) | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(stored)
def test_a_json_column_reads_what_json_loads_reads(value):
    text = json.dumps(value)
    # repr, not ==: 1 and 1.0, or 0.0 and -0.0, are equal but are written differently on the wire.
    assert repr(read_json_column(text)) == repr(json.loads(text))
    assert repr(read_json_column(text.encode())) == repr(json.loads(text))


def test_metadata_comes_back_as_it_was_sent(client, alice):
    # Keys in the order PostgreSQL's JSONB keeps them (shorter first), and no -0.0, which JSONB makes 0.
    metadata = {"n": 2**100, "x": 0.5, "y": 1e-7, "z": 12345678.9, "ü": "\u2028\x01", "list": [1, 1.0, None, True]}
    created = client.post(f"{API}/conversations", json={"title": "JSON", "metadata": metadata}, headers=alice)
    listed = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
    sent = json.dumps(metadata)
    assert json.dumps(created.get_json()["metadata"]) == sent
    assert [json.dumps(row["metadata"]) for row in listed] == [sent]
