"""JSON columns are read with orjson (config.engine_options): for every document the API stores, it
must give exactly what json.loads gives, so that the answers' bytes do not depend on the reader."""

import json

import orjson
from hypothesis import given
from hypothesis import strategies as st

from ..conftest import API

# What http.StrictJSONProvider lets in: 64-bit integers, finite numbers, text without lone surrogates.
stored = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(stored)
def test_orjson_reads_what_json_reads(value):
    text = json.dumps(value)
    # repr, not ==: 1 and 1.0, or 0.0 and -0.0, are equal but are written differently on the wire.
    assert repr(orjson.loads(text)) == repr(json.loads(text))


def test_metadata_comes_back_as_it_was_sent(client, alice):
    # Keys in the order PostgreSQL's JSONB keeps them (shorter first), and no -0.0, which JSONB makes 0.
    metadata = {"n": 2**63 - 1, "x": 0.5, "y": 1e-7, "z": 12345678.9, "ü": "\u2028\x01", "list": [1, 1.0, None, True]}
    created = client.post(f"{API}/conversations", json={"title": "JSON", "metadata": metadata}, headers=alice)
    listed = client.get(f"{API}/conversations", headers=alice).get_json()["results"]
    sent = json.dumps(metadata)
    assert json.dumps(created.get_json()["metadata"]) == sent
    assert [json.dumps(row["metadata"]) for row in listed] == [sent]
