"""The C response callbacks must give exactly what their Python twins in
redis_native/_parsers/helpers.py give (value, type, and exception class)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redis_native import _native
from redis_native._parsers import helpers as h

scalar = st.one_of(
    st.none(),
    st.binary(max_size=8),
    st.text(max_size=8),
    st.integers(-10**6, 10**6),
    st.sampled_from([b"1.5", "2", b"-inf", "nan", b"OK", "OK", b"PONG", "PONG", b"x", b""]),
)
reply = st.one_of(scalar, st.lists(scalar, max_size=9))


def outcome(fn, *args, **kwargs):
    try:
        value = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the class is the result
        return ("raise", type(e))
    if isinstance(value, list):
        return ("ok", list, [(type(x), repr(x)) for x in value])
    return ("ok", type(value), repr(value))


PAIRS = [
    (h.parse_set_result, _native.set_result),
    (h._to_set, _native.to_set),
    (h.float_or_none, _native.float_or_none),
    (h._parse_ping, _native.parse_ping),
    (h.parse_zadd, _native.parse_zadd),
    (h.zset_score_pairs, _native.zset_score_pairs),
]

OPTIONS = [{}, {"get": True}, {"as_score": True}, {"withscores": True},
           {"withscores": False}, {"withscores": True, "score_cast_func": int},
           {"withscores": True, "score_cast_func": Decimal},
           {"withscores": True, "score_cast_func": float}]


@pytest.mark.parametrize("py, c", PAIRS, ids=[p[0].__name__ for p in PAIRS])
@settings(max_examples=300, deadline=None)
@given(response=reply, options=st.sampled_from(OPTIONS))
def test_c_callback_matches_python(py, c, response, options):
    takes_options = py in (h.parse_set_result, h.parse_zadd, h.zset_score_pairs)
    kwargs = options if takes_options else {}
    assert outcome(c, response, **kwargs) == outcome(py, response, **kwargs)


@settings(max_examples=300, deadline=None)
@given(response=st.one_of(st.none(), st.lists(st.binary(max_size=4), max_size=10)))
def test_pairs_to_dict_matches_hgetall(response):
    assert outcome(_native.pairs_to_dict, response) == outcome(h._hgetall, response)
