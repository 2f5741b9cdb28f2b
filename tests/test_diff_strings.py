"""Differential tests: string and bit commands (redis_native vs redis-py).

Each test that takes ``diff`` runs twice: decode_responses=False and True.
"""
import datetime
import time

import pytest

from diffutil import sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "h\u00e9llo \u2713 \U0001F600"
BIG = b"x" * (1024 * 1024)


class StrSub(str):
    pass


class FloatSub(float):
    pass

# every value kind that is a valid argument
VALUES = [
    b"bytes",
    "str",
    b"",
    "",
    NON_UTF8,
    UNICODE,
    0,
    -1,
    123456789012345678,
    2 ** 63 - 1,
    3.14,
    -0.5,
    1e100,
    1.0,
    float("inf"),
    memoryview(b"mv"),
    b"\x00\r\n$*",
    -0.0,
    float("nan"),
    StrSub("sub"),
    FloatSub(2.5),
    # (int subclasses are left out: redis-py accepts them without hiredis and
    #  rejects them with hiredis.pack_command, so there is no single oracle)
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: repr(v)[:20])
def test_set_get_roundtrip(diff, value):
    diff("set", "k", value)
    diff("get", "k")
    diff("strlen", "k")
    diff("type", "k")
    diff("exists", "k")


@pytest.mark.parametrize("key", [b"bk", "sk", UNICODE, NON_UTF8, b"", 42, 1.5, "k with spaces\r\n"],
                         ids=lambda v: repr(v)[:20])
def test_key_kinds(diff, key):
    diff("set", key, "v")
    diff("get", key)
    diff("keys")
    diff("delete", key)
    diff("get", key)


@pytest.mark.parametrize("bad", [None, True, False, {"a": 1}, [1, 2], (1,), object()],
                         ids=lambda v: type(v).__name__)
def test_invalid_value_types(diff, bad):
    # redis-py raises DataError for anything it cannot encode
    diff("set", "k", bad)
    diff("get", "k")
    diff("exists", "k")


def test_big_value(diff):
    diff("set", "big", BIG)
    diff("strlen", "big")
    diff("getrange", "big", 1000, 1010)
    diff("append", "big", b"tail")
    diff.apply(lambda c: len(c.get("big")))
    diff("get", "big")


def test_non_utf8_get(diff):
    # with decode_responses=True redis-py raises UnicodeDecodeError
    diff("set", "k", NON_UTF8)
    diff("get", "k")
    diff("getrange", "k", 0, 0)
    diff("mget", ["k", "missing"])


def test_get_missing_and_wrongtype(diff):
    diff("get", "nope")
    diff("rpush", "l", 1)
    diff("get", "l")
    diff("append", "l", "x")
    diff("incr", "l")
    diff("strlen", "l")
    diff("getrange", "l", 0, 1)
    diff("setrange", "l", 0, "x")
    diff("getset", "l", "x")
    diff("getdel", "l")
    diff("getex", "l")


# ------------------------------------------------------------------ SET options
def test_set_nx_xx(diff):
    diff("set", "k", "v1", nx=True)
    diff("set", "k", "v2", nx=True)
    diff("get", "k")
    diff("set", "k", "v3", xx=True)
    diff("set", "other", "v", xx=True)
    diff("get", "k")
    diff("get", "other")
    diff("set", "k", "v", nx=True, xx=True)  # DataError


def test_set_expiry_options(diff):
    diff("set", "a", "v", ex=100)
    diff("ttl", "a")
    diff("set", "b", "v", px=100000)
    diff.cmp(lambda t: t > 90000, "pttl", "b")
    diff("set", "c", "v", ex=datetime.timedelta(seconds=50))
    diff("ttl", "c")
    diff("set", "d", "v", px=datetime.timedelta(milliseconds=50500))
    diff.cmp(lambda t: 40000 < t <= 50500, "pttl", "d")
    exat = int(time.time()) + 1000
    diff("set", "e", "v", exat=exat)
    diff("expiretime", "e")
    diff("set", "f", "v", pxat=exat * 1000 + 123)
    diff("pexpiretime", "f")
    dt = datetime.datetime.now() + datetime.timedelta(seconds=3000)
    diff("set", "g", "v", exat=dt)
    diff.cmp(lambda t: 2900 < t <= 3000, "ttl", "g")
    diff("set", "h", "v", pxat=dt)
    diff.cmp(lambda t: 2900 < t <= 3000, "ttl", "h")


def test_set_keepttl_get(diff):
    diff("set", "k", "v1", ex=1000)
    diff("set", "k", "v2", keepttl=True)
    diff.cmp(lambda t: 990 < t <= 1000, "ttl", "k")
    diff("set", "k", "v3")
    diff("ttl", "k")
    diff("set", "k", "v4", get=True)
    diff("set", "new", "v", get=True)
    diff("set", "k", "v5", get=True, nx=True)  # redis 7: NX and GET allowed together
    diff("set", "k", "v6", get=True, xx=True, ex=10)
    diff("get", "k")
    diff("rpush", "l", "x")
    diff("set", "l", "v", get=True)  # WRONGTYPE


@pytest.mark.parametrize("kwargs", [
    dict(ex=1, px=1000),
    dict(ex=1, exat=10),
    dict(px=1, pxat=10),
    dict(ex=1, keepttl=True),
    dict(px=5, keepttl=True),
    dict(exat=1, keepttl=True),
    dict(nx=True, xx=True),
], ids=lambda kw: "+".join(sorted(kw)))
def test_set_conflicting_options(diff, kwargs):
    diff("set", "k", "v", **kwargs)
    diff("exists", "k")


@pytest.mark.parametrize("ex", [0, -1, "abc", 1.5], ids=repr)
def test_set_bad_expiry(diff, ex):
    diff("set", "k", "v", ex=ex)
    diff("set", "k2", "v", px=ex)
    diff("exists", "k", "k2")


def test_setnx_setex_psetex(diff):
    diff("setnx", "k", "v")
    diff("setnx", "k", "w")
    diff("get", "k")
    diff("setex", "e", 100, "v")
    diff("ttl", "e")
    diff("setex", "e2", datetime.timedelta(seconds=70), b"v")
    diff("ttl", "e2")
    diff("psetex", "p", 100000, "v")
    diff.cmp(lambda t: t > 90000, "pttl", "p")
    diff("psetex", "p2", datetime.timedelta(milliseconds=100000), "v")
    diff.cmp(lambda t: t > 90000, "pttl", "p2")
    diff("setex", "bad", 0, "v")
    diff("setex", "bad", -5, "v")
    diff("psetex", "bad", 0, "v")


def test_getex(diff):
    diff("set", "k", "v")
    diff("getex", "k")
    diff("ttl", "k")
    diff("getex", "k", ex=100)
    diff("ttl", "k")
    diff("getex", "k", px=200000)
    diff.cmp(lambda t: 190000 < t <= 200000, "pttl", "k")
    exat = int(time.time()) + 500
    diff("getex", "k", exat=exat)
    diff("expiretime", "k")
    diff("getex", "k", pxat=exat * 1000)
    diff("pexpiretime", "k")
    diff("getex", "k", persist=True)
    diff("ttl", "k")
    diff("getex", "k", ex=datetime.timedelta(seconds=30))
    diff("ttl", "k")
    diff("getex", "missing", ex=10)
    diff("getex", "k", ex=1, px=1)  # DataError
    diff("getex", "k", ex=10, persist=True)  # DataError
    diff("getex", "k", ex=0)  # ResponseError


def test_getset_getdel(diff):
    diff("getset", "k", "v1")
    diff("getset", "k", NON_UTF8)
    diff("getdel", "k")
    diff("getdel", "k")
    diff("exists", "k")


# ------------------------------------------------------------------ counters
def test_incr_decr(diff):
    diff("incr", "n")
    diff("incr", "n", 10)
    diff("incrby", "n", -3)
    diff("decr", "n")
    diff("decr", "n", 5)
    diff("decrby", "n", 2)
    diff("get", "n")
    diff("incrby", "n", 2 ** 62)
    diff("incrby", "n", 2 ** 62)  # overflow -> ResponseError
    diff("incr", "n", 1.5)  # not an integer -> ResponseError
    diff("set", "s", "abc")
    diff("incr", "s")
    diff("decr", "s")
    diff("incrby", "n", "abc")


def test_incrbyfloat(diff):
    diff("incrbyfloat", "f")
    diff("incrbyfloat", "f", 2.5)
    diff("incrbyfloat", "f", -0.25)
    diff("incrbyfloat", "f", 10)
    diff("incrbyfloat", "f", "1e3")
    diff("get", "f")
    diff("set", "s", "abc")
    diff("incrbyfloat", "s", 1.0)
    diff("incrbyfloat", "f", float("inf"))


# ------------------------------------------------------------------ ranges
def test_append_strlen_getrange_setrange(diff):
    diff("append", "k", "hello")
    diff("append", "k", b" world")
    diff("append", "k", 42)
    diff("append", "k", NON_UTF8)
    diff("strlen", "k")
    diff("getrange", "k", 0, 4)
    diff("getrange", "k", -3, -1)
    diff("getrange", "k", 100, 200)
    diff("substr", "k", 1, 3)
    diff("substr", "k", 2)
    diff("setrange", "k", 0, "J")
    diff("setrange", "k", 30, "far")
    diff("setrange", "new", 5, b"\x00x")
    diff("setrange", "k", -1, "x")
    diff("get", "k")
    diff("getrange", "missing", 0, -1)
    diff("strlen", "missing")


# ------------------------------------------------------------------ multi-key
def test_mset_mget(diff):
    diff("mset", {"a": 1, "b": b"2", "c": "three", UNICODE: NON_UTF8, "e": ""})
    diff("mget", "a", "b", "c")
    diff("mget", ["a", "b", "missing", "c"])
    diff("mget", ["a"], "b")
    diff("mget", [UNICODE])
    diff("mget", [])  # DataError? (redis-py raises a ResponseError from the server)
    diff("mset", {})  # DataError
    diff("mset", [("a", 1)])  # DataError: not a dict
    diff("mset", {"x": None})
    diff("msetnx", {"a": "A", "z": "Z"})
    diff("msetnx", {"y": "Y", "z": "Z"})
    diff("mget", "a", "y", "z")
    diff("msetnx", {})
    diff("rpush", "l", 1)
    diff("mget", "a", "l")


def test_mget_many(diff):
    mapping = {"key:%d" % i: "val:%d" % i for i in range(2000)}
    diff("mset", mapping)
    diff("mget", list(mapping))
    diff("dbsize")


# ------------------------------------------------------------------ bits
def test_setbit_getbit_bitcount(diff):
    diff("setbit", "b", 7, 1)
    diff("setbit", "b", 7, 0)
    diff("setbit", "b", 100, True)
    diff("setbit", "b", 3, 5)  # redis-py coerces truthy -> 1
    diff("getbit", "b", 100)
    diff("getbit", "b", 10000)
    diff("bitcount", "b")
    diff("bitcount", "b", 0, 0)
    diff("bitcount", "b", 0, 100, "BIT")
    diff("bitcount", "b", 0, 100, mode="BYTE")
    diff("bitcount", "b", 0)  # DataError: both start and end
    diff("bitcount", "b", None, 5)  # DataError
    diff("setbit", "b", -1, 1)
    diff("getbit", "missing", 3)
    diff("get", "b")


def test_bitpos(diff):
    diff("set", "k", b"\x00\xff\xf0")
    diff("bitpos", "k", 1)
    diff("bitpos", "k", 0)
    diff("bitpos", "k", 1, 2)
    diff("bitpos", "k", 1, 2, -1)
    diff("bitpos", "k", 1, 7, 15, "BIT")
    diff("bitpos", "k", 0, 0, 0, mode="BYTE")
    diff("bitpos", "k", 2)  # DataError
    diff("bitpos", "k", 1, end=3)  # DataError
    diff("bitpos", "missing", 0)
    diff("bitpos", "missing", 1)


def test_bitop(diff):
    diff("set", "a", b"\x0f\xf0")
    diff("set", "b", b"\xff")
    for op in ("AND", "OR", "XOR"):
        diff("bitop", op, "dest_" + op, "a", "b")
        diff("get", "dest_" + op)
    diff("bitop", "NOT", "dn", "a")
    diff("get", "dn")
    diff("bitop", "NOT", "dn", "a", "b")  # ResponseError
    diff("bitop", "BOGUS", "dn", "a")


def test_bitfield(diff):
    diff.apply(lambda c: c.bitfield("bf").set("u8", 0, 255).get("u8", 0).get("i8", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").incrby("u8", "#1", 10).incrby("u4", 100, 1).execute())
    diff.apply(lambda c: c.bitfield("bf").overflow("SAT").incrby("u8", 0, 300).execute())
    diff.apply(lambda c: c.bitfield("bf").overflow("FAIL").incrby("u8", 0, 300).execute())
    diff.apply(lambda c: c.bitfield("bf", default_overflow="WRAP").incrby("u8", 0, 1).execute())
    diff.apply(lambda c: c.bitfield("bf").get("i64", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").get("u64", 0).execute())  # ResponseError
    diff.apply(lambda c: c.bitfield("bf").get("x8", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").overflow("BOGUS").get("u8", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").execute())
    diff("bitfield_ro", "bf", "u8", 0)
    diff("bitfield_ro", "bf", "u8", 0, items=[("u4", 4), ("i8", 8)])
    diff("get", "bf")


def test_lcs(diff):
    diff("mset", {"a": "ohmytext", "b": "mynewtext"})
    diff("lcs", "a", "b")
    diff("lcs", "a", "b", len=True)
    diff("lcs", "a", "b", idx=True)
    diff("lcs", "a", "b", idx=True, minmatchlen=4)
    diff("lcs", "a", "b", idx=True, withmatchlen=True)
    diff("lcs", "a", "b", idx=True, minmatchlen=2, withmatchlen=True)
    diff("lcs", "a", "missing")
    diff("set", "c", NON_UTF8 + b"abc")
    diff("set", "d", b"zz" + NON_UTF8)
    diff("lcs", "c", "d")
    diff("lcs", "a", "b", len=True, idx=True)
    diff("rpush", "l", 1)
    diff("lcs", "a", "l")


def test_stralgo(diff):
    diff("mset", {"a": "ohmytext", "b": "mynewtext"})
    diff("stralgo", "LCS", "a", "b", specific_argument="keys")
    diff("stralgo", "LCS", "ohmytext", "mynewtext")
    diff("stralgo", "LCS", "ohmytext", "mynewtext", len=True)
    diff("stralgo", "LCS", "ohmytext", "mynewtext", idx=True)
    diff("stralgo", "LCS", "ohmytext", "mynewtext", idx=True, withmatchlen=True, minmatchlen=2)
    diff("stralgo", "XXX", "a", "b")  # DataError
    diff("stralgo", "LCS", "a", "b", specific_argument="bogus")  # DataError
    diff("stralgo", "LCS", "a", "b", len=True, idx=True)  # DataError


def test_dict_style_access(diff):
    diff.apply(lambda c: c.__setitem__("k", "v"))
    diff.apply(lambda c: c["k"])
    diff.apply(lambda c: c["missing"])  # KeyError
    diff.apply(lambda c: "k" in c)
    diff.apply(lambda c: "missing" in c)
    diff.apply(lambda c: c.__delitem__("k"))
    diff.apply(lambda c: "k" in c)


def test_int_float_args_encoding(diff):
    # keys and values given as int/float are encoded as redis-py does (repr for floats)
    for v in (1, -0, 10 ** 30, 0.1, 1 / 3, 2.5e-10, -1e21, 100.0):
        diff("set", v, v)
        diff("get", v)
        diff("get", repr(v) if isinstance(v, float) else str(v))
    diff.cmp(sorted_list, "keys")


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_set_value_with_newer_server_options(diff, server_version):
    # client-side validation only (no server round trip needed)
    diff("set", "k", "v", nx=True, ifeq="x")
    diff("set", "k", "v", ifeq="x", ifne="y")
    if server_version < (8, 4):
        pytest.skip("IFEQ/IFNE/IFDEQ/IFDNE need redis-server >= 8.4 (installed %s)" % (server_version,))


# ------------------------------------------------------------------ client encodings
@pytest.mark.parametrize("kw", [
    {"encoding": "latin-1"},
    {"encoding_errors": "replace"},
    {"encoding_errors": "ignore"},
    {"encoding": "ascii", "encoding_errors": "backslashreplace"},
], ids=lambda kw: "-".join("%s=%s" % i for i in sorted(kw.items())))
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_client_encoding_options(impl, redis_py, redis_server, kw, decode, monkeypatch):
    import diffutil
    import redis.connection

    # With hiredis installed redis-py packs commands with hiredis.pack_command, which
    # always encodes str as UTF-8 and ignores ``encoding``/``encoding_errors``.  The
    # documented behaviour (and redis-py without hiredis) encodes with the client's
    # encoding: the oracle is pinned to that pure-Python packer here.
    monkeypatch.setattr(redis.connection, "HIREDIS_AVAILABLE", False)
    d = diffutil.Diff.connect(impl, redis_py, redis_server, decode_responses=decode, **kw)
    try:
        d("set", "k", "caf\u00e9")  # str args are encoded with the client's encoding
        d("get", "k")
        d("set", "\u00e9-key", NON_UTF8)
        d("get", "\u00e9-key")
        d("mget", ["k", "\u00e9-key"])
        d("set", "snow", "\u2603")  # not encodable in latin-1/ascii with strict errors
        d("get", "snow")
        d.cmp(diffutil.sorted_list, "keys")
        d("hset", "h", mapping={"f\u00e9": "v\u00e9"})
        d("hgetall", "h")
        d("echo", "\u00e9")
        d.assert_same_state()
    finally:
        d.close()


# ------------------------------------------------------------------ property-based
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_values = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=False),
)
_hyp = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _reset(diff):
    diff.native_admin.flushdb()
    diff.oracle_admin.flushdb()


@_hyp
@given(key=_values, value=_values)
def test_hypothesis_set_get(diff, key, value):
    _reset(diff)
    diff("set", key, value)
    diff("get", key)
    diff("append", key, value)
    diff("strlen", key)
    diff("mget", [key, "other"])
    diff("getdel", key)


@_hyp
@given(items=st.lists(st.tuples(_values, _values), max_size=8))
def test_hypothesis_collections(diff, items):
    _reset(diff)
    if items:
        diff("hset", "h", mapping=dict(items))
        diff("hgetall", "h")
        diff("hmget", "h", [k for k, _ in items])
        diff("rpush", "l", *[v for _, v in items])
        diff("lrange", "l", 0, -1)
        diff("sadd", "s", *[v for _, v in items])
        diff("smembers", "s")
    diff("hgetall", "h")
    diff("lrange", "l", 0, -1)


@_hyp
@given(members=st.dictionaries(_values.filter(lambda v: not isinstance(v, float)),
                               st.floats(allow_nan=False), max_size=8))
def test_hypothesis_zset(diff, members):
    _reset(diff)
    diff("zadd", "z", members)
    diff("zrange", "z", 0, -1, withscores=True)
    diff("zrevrange", "z", 0, -1, withscores=True)
    diff("zrangebyscore", "z", "-inf", "+inf", withscores=True)
    diff("zcard", "z")
