"""Differential tests: hash commands (redis_native vs redis-py)."""
import datetime

import pytest

from diffutil import scan_normal, sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "ch\u00e2mp \u2764"
BIG = b"h" * (1024 * 1024)


def test_hset_variants(diff):
    diff("hset", "h", "f", "v")
    diff("hset", "h", "f", "v2")
    diff("hset", "h", mapping={"a": 1, "b": 2.5, "c": b"bytes", UNICODE: NON_UTF8})
    diff("hset", "h", items=["i1", "x", "i2", "y"])
    diff("hset", "h", "k", "v", mapping={"m": "n"}, items=["o", "p"])
    diff("hset", "h")  # DataError: no key value pairs
    diff("hset", "h", mapping={})  # DataError
    diff("hset", "h", items=["odd"])  # server error: wrong number of args
    diff("hset", "h", "f", None)  # DataError: invalid value
    diff("hset", "h", "", "")
    diff("hgetall", "h")
    diff("hlen", "h")


def test_hget_hmget_hgetall(diff):
    diff("hset", "h", mapping={"a": "1", "b": NON_UTF8, "": "empty", UNICODE: UNICODE})
    diff("hget", "h", "a")
    diff("hget", "h", "b")  # UnicodeDecodeError with decode_responses
    diff("hget", "h", "")
    diff("hget", "h", UNICODE)
    diff("hget", "h", "missing")
    diff("hget", "nope", "a")
    diff("hmget", "h", ["a", "missing", UNICODE])
    diff("hmget", "h", "a", "")
    diff("hmget", "h", ["a"], "missing")
    diff("hmget", "nope", ["a"])
    diff("hgetall", "h")
    diff("hgetall", "nope")
    diff("hkeys", "h")
    diff("hvals", "h")


def test_hgetall_utf8_only(diff):
    diff("hset", "h", mapping={"a": "1", UNICODE: "x", "n": 5, "f": 1.5})
    diff("hgetall", "h")
    diff("hkeys", "h")
    diff("hvals", "h")


def test_hash_big_and_many(diff):
    diff("hset", "h", "big", BIG)
    diff("hstrlen", "h", "big")
    diff.apply(lambda c: len(c.hget("h", "big")))
    mapping = {"f%d" % i: "v%d" % i for i in range(1000)}
    diff("hset", "many", mapping=mapping)
    diff("hgetall", "many")
    diff("hlen", "many")
    diff.cmp(sorted_list, "hkeys", "many")


def test_hsetnx_hexists_hdel_hstrlen(diff):
    diff("hsetnx", "h", "f", "v")
    diff("hsetnx", "h", "f", "w")
    diff("hexists", "h", "f")
    diff("hexists", "h", "g")
    diff("hexists", "nope", "f")
    diff("hstrlen", "h", "f")
    diff("hstrlen", "h", "g")
    diff("hdel", "h", "f", "g")
    diff("hdel", "h", "f")
    diff("hdel", "h")  # server: wrong number of args
    diff("exists", "h")


def test_hmset_deprecated(diff):
    with pytest.warns(DeprecationWarning):
        diff("hmset", "h", {"a": 1, "b": 2})
    diff("hgetall", "h")
    with pytest.warns(DeprecationWarning):
        diff("hmset", "h", {})  # DataError


def test_hincrby_hincrbyfloat(diff):
    diff("hincrby", "h", "n")
    diff("hincrby", "h", "n", 10)
    diff("hincrby", "h", "n", -100)
    diff("hincrby", "h", "n", 2 ** 63)  # out of range
    diff("hincrbyfloat", "h", "f")
    diff("hincrbyfloat", "h", "f", 2.25)
    diff("hincrbyfloat", "h", "f", -10)
    diff("hincrbyfloat", "h", "f", "1e2")
    diff("hset", "h", "s", "abc")
    diff("hincrby", "h", "s", 1)
    diff("hincrbyfloat", "h", "s", 1.0)
    diff("hincrby", "h", "n", 1.5)
    diff("hgetall", "h")


def test_hrandfield(diff):
    diff("hset", "h", mapping={"only": "one"})
    diff("hrandfield", "h")
    diff("hrandfield", "h", 1)
    diff("hrandfield", "h", 5)
    diff("hrandfield", "h", -3)
    diff("hrandfield", "h", 1, withvalues=True)
    diff("hrandfield", "h", -2, withvalues=True)
    diff("hrandfield", "nope")
    diff("hrandfield", "nope", 3)
    diff("hrandfield", "nope", 3, withvalues=True)
    diff("hset", "h2", mapping={"a": 1, "b": 2, "c": 3})
    diff.cmp(sorted_list, "hrandfield", "h2", 10)
    diff.cmp(sorted_list, "hrandfield", "h2", 10, withvalues=True)
    diff.cmp(lambda x: (type(x).__name__, len(x)), "hrandfield", "h2", -10, withvalues=True)


def test_hscan(diff):
    diff("hset", "h", mapping={"f%d" % i: i for i in range(20)})
    diff("hset", "h", UNICODE, "u")
    diff.cmp(scan_normal, "hscan", "h")
    diff.cmp(scan_normal, "hscan", "h", 0, match="f1*", count=100)
    diff.cmp(scan_normal, "hscan", "h", cursor=0, match=UNICODE)
    diff.cmp(scan_normal, "hscan", "nope")
    diff("hscan", "h", 0, count=0)


def test_hscan_no_values(diff, server_version):
    diff("hset", "h", mapping={"a": 1, "b": 2})
    if server_version < (7, 4):
        # NOVALUES unknown to the server: both sides must fail identically
        diff("hscan", "h", no_values=True)
        diff.apply(lambda c: list(c.hscan_iter("h", no_values=True)))
        pytest.skip("HSCAN NOVALUES needs redis-server >= 7.4")
    diff.cmp(scan_normal, "hscan", "h", no_values=True)
    diff.apply(lambda c: sorted(c.hscan_iter("h", no_values=True)))


def test_hscan_iter(diff):
    mapping = {"f%d" % i: i for i in range(300)}
    diff("hset", "h", mapping=mapping)
    diff.apply(lambda c: sorted(c.hscan_iter("h")))
    diff.apply(lambda c: sorted(c.hscan_iter("h", count=7)))
    diff.apply(lambda c: sorted(c.hscan_iter("h", match="f2*", count=50)))
    diff.apply(lambda c: list(c.hscan_iter("nope")))


def test_hash_wrongtype(diff):
    diff("set", "s", "v")
    for name, args in [("hset", ("s", "f", "v")), ("hget", ("s", "f")), ("hgetall", ("s",)),
                       ("hmget", ("s", ["f"])), ("hdel", ("s", "f")), ("hlen", ("s",)),
                       ("hkeys", ("s",)), ("hvals", ("s",)), ("hincrby", ("s", "f")),
                       ("hexists", ("s", "f")), ("hstrlen", ("s", "f")), ("hrandfield", ("s",)),
                       ("hsetnx", ("s", "f", "v")), ("hscan", ("s",))]:
        diff(name, *args)


def test_hash_non_utf8_fields(diff):
    diff("hset", "h", NON_UTF8, "v")
    diff("hkeys", "h")      # decode_responses=True -> UnicodeDecodeError
    diff("hgetall", "h")
    diff("hget", "h", NON_UTF8)


# ---------------------------------------------------------------- newer servers
def test_hexpire_family(diff, requires_version):
    diff("hset", "h", mapping={"a": 1, "b": 2})
    diff("hexpire", "h", 100, "a", nx=True, xx=True)  # ValueError, client side
    diff("hpexpire", "h", 100, "a", gt=True, lt=True)
    requires_version((7, 4), "HEXPIRE/HPEXPIRE/HTTL/HPERSIST")
    diff("hexpire", "h", 100, "a")
    diff("hexpire", "h", datetime.timedelta(seconds=50), "a", "b", "missing", lt=True)
    diff("httl", "h", "a", "b", "missing")
    diff("hpexpire", "h", 500000, "b", gt=True)
    diff.cmp(lambda x: [t > 0 for t in x], "hpttl", "h", "a", "b")
    diff("hpersist", "h", "a", "missing")
    diff("hexpiretime", "h", "a")


def test_hgetdel_hgetex_hsetex(diff, requires_version):
    diff("hset", "h", mapping={"a": 1, "b": 2})
    diff("hgetex", "h")  # DataError: at least one key
    diff("hgetex", "h", "a", ex=1, px=1)  # DataError
    diff("hsetex", "h2")  # DataError: no key value pairs
    diff("hsetex", "h2", "a", 1, ex=1, keepttl=True)  # DataError
    requires_version((8, 0), "HGETDEL/HGETEX/HSETEX")
    diff("hgetdel", "h", "a", "missing")
    diff("hgetex", "h", "b", ex=100)
    diff("hsetex", "h2", mapping={"x": 1}, px=100000)
