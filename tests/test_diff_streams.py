"""Differential tests: stream commands (redis_native vs redis-py).

Entry ids are given explicitly wherever the result must be compared exactly
(auto ids are time based and differ between the two sides); auto-id calls are
compared by shape.  Times reported by the server (idle, delivery time, seen-time)
are masked.  XACKDEL, XDELEX, XCFGSET and the Redis 8 options of XADD/XTRIM/
XREADGROUP are newer than the test server: their wire commands are compared on a
recording fake server instead.
"""
import threading
import time

import pytest

from diffutil import shape

NON_UTF8 = b"\xff\xfe"
UNICODE = "str\u00e9am \u2603"

# keys whose values are times or time-derived counters in XINFO/XPENDING replies
_TIME_KEYS = {
    "idle", "inactive", "seen-time", "active-time", "delivery-time",
    "time_since_delivered", "times_delivered_ts",
}


def mask_times(x):
    """Replace time values (by key) with a marker of their type."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            ks = k.decode() if isinstance(k, bytes) else k
            out[k] = ("<time>", type(v).__name__) if ks in _TIME_KEYS else mask_times(v)
        return out
    if isinstance(x, list):
        return [mask_times(v) for v in x]
    if isinstance(x, tuple):
        return tuple(mask_times(v) for v in x)
    return x


def _k(k):
    return k.decode() if isinstance(k, bytes) else k


def mask_full_pel(x):
    """XINFO STREAM FULL: mask times, incl. the delivery time inside PEL entries
    (groups: [id, consumer, delivery-time, count]; consumers: [id, delivery-time, count])."""
    x = mask_times(x)
    if isinstance(x, dict):
        for g in x.get("groups") or []:
            if "pending" in g:
                g["pending"] = [[e[0], e[1], "<t>", e[3]] for e in g["pending"]]
            for c in g.get("consumers") or []:
                if "pending" in c:
                    c["pending"] = [[e[0], "<t>", e[2]] for e in c["pending"]]
    return x


def _populate(c, key="s", n=5, start=1):
    for i in range(start, start + n):
        c.xadd(key, {"f": "v%d" % i, "n": i}, id="%d-0" % i)


# ----------------------------------------------------------------------------- XADD
def test_xadd_explicit_ids(diff):
    diff("xadd", "s", {"a": 1}, id="1-1")
    diff("xadd", "s", {"a": 2, b"b": b"x", "u": UNICODE}, id=b"1-2")
    diff("xadd", "s", {"big": b"B" * 100000}, id="2-*")
    diff("xadd", "s", {"a": 1}, id="1-0")  # id too small: ResponseError
    diff("xadd", "s", {"a": 1}, id="0-0")
    diff("xadd", "s", {"a": 1}, id="bogus")
    diff("xadd", "s", {}, id="3-0")  # DataError: empty fields
    diff("xadd", "s", {"a": None}, id="3-0")  # DataError: bad value
    diff("xadd", "s", {"a": 1.5, "b": -2}, id=5)
    diff("xlen", "s")
    diff("xrange", "s")


def test_xadd_auto_id_shape(diff):
    diff.shape("xadd", "s", {"a": 1})
    diff.shape("xadd", "s", {"a": 2}, id="*")
    diff.apply(lambda c: len(c.xadd("s", {"x": 1}).split(b"-" if not c.get_encoder().decode_responses
                                                          else "-")))
    diff("xlen", "s")


def test_xadd_maxlen_minid_limit(diff):
    for i in range(1, 11):
        diff("xadd", "s", {"i": i}, id="%d-0" % i, maxlen=5, approximate=False)
    diff("xlen", "s")
    diff("xrange", "s")
    diff("xadd", "s", {"i": 11}, id="11-0", maxlen=3)  # approximate ~ (may keep more)
    diff("xadd", "s", {"i": 12}, id="12-0", minid="10-0", approximate=False)
    diff("xrange", "s")
    diff("xadd", "s", {"i": 13}, id="13-0", minid=11, approximate=True, limit=10)
    diff("xadd", "s", {"i": 14}, id="14-0", maxlen=2, approximate=True, limit=100)
    diff("xadd", "s", {"i": 15}, id="15-0", maxlen=0, approximate=False)
    diff("xlen", "s")
    # client-side validation
    diff("xadd", "s", {"i": 1}, maxlen=5, minid="1-0")  # both -> DataError
    diff("xadd", "s", {"i": 1}, maxlen=-1)
    diff("xadd", "s", {"i": 1}, maxlen="5")
    diff("xadd", "s", {"i": 1}, id="99-0", maxlen=5, approximate=False, limit=3)  # server error
    diff("xrange", "s")


def test_xadd_nomkstream(diff):
    diff("xadd", "nostream", {"a": 1}, id="1-0", nomkstream=True)
    diff("exists", "nostream")
    diff("xadd", "s", {"a": 1}, id="1-0")
    diff("xadd", "s", {"a": 2}, id="2-0", nomkstream=True)
    diff("xadd", "s", {"a": 3}, id="3-0", nomkstream=True, maxlen=2, approximate=False)
    diff("xrange", "s")


def test_xadd_wrongtype(diff):
    diff("set", "str", "x")
    diff("xadd", "str", {"a": 1}, id="1-0")
    diff("xlen", "str")
    diff("xrange", "str")


def test_xadd_redis8_options_wire(wire):
    wire(lambda c: c.xadd("s", {"a": 1}, ref_policy="DELREF"))
    wire(lambda c: c.xadd("s", {"a": 1}, ref_policy="ACKED", maxlen=10, approximate=False))
    wire(lambda c: c.xadd("s", {"a": 1}, ref_policy="KEEPREF", minid="1-0", limit=5))
    wire(lambda c: c.xadd("s", {"a": 1}, idmpauto="producer-1"))
    wire(lambda c: c.xadd("s", {"a": 1}, idmp=("producer-1", b"msg-1")))
    wire(lambda c: c.xadd("s", {"a": 1}, nomkstream=True, idmp=("p", "i"), maxlen=3))
    # client-side validation (nothing sent)
    wire(lambda c: c.xadd("s", {"a": 1}, ref_policy="BOGUS"))
    wire(lambda c: c.xadd("s", {"a": 1}, idmpauto="p", idmp=("p", "i")))
    wire(lambda c: c.xadd("s", {"a": 1}, id="1-0", idmpauto="p"))
    wire(lambda c: c.xadd("s", {"a": 1}, idmp=["p", "i"]))
    wire(lambda c: c.xadd("s", {"a": 1}, idmp=("p",)))


# ----------------------------------------------------------------------------- XRANGE
def test_xrange_xrevrange(diff):
    diff.setup(lambda c: _populate(c, n=6))
    diff("xrange", "s")
    diff("xrange", "s", "-", "+")
    diff("xrange", "s", "2-0", "4-0")
    diff("xrange", "s", "2", "4")
    diff("xrange", "s", "(2-0", "(5-0")
    diff("xrange", "s", min="3-0", count=2)
    diff("xrange", "s", count=0)
    diff("xrange", "s", count=-1)
    diff("xrange", "s", "9-0", "+")
    diff("xrange", "s", "bad", "+")
    diff("xrange", "nope")
    diff("xrevrange", "s")
    diff("xrevrange", "s", "+", "-")
    diff("xrevrange", "s", "4-0", "2-0")
    diff("xrevrange", "s", max="5", min="(1", count=3)
    diff("xrevrange", "s", count=1)
    diff("xrevrange", "nope")
    diff("xrevrange", "s", "2-0", "4-0")  # reversed bounds: empty


def test_xrange_non_utf8(diff):
    diff.setup(lambda c: c.xadd("s", {b"f": NON_UTF8, NON_UTF8: b"v"}, id="1-0"))
    diff.setup(lambda c: c.xadd("s", {"ok": "fine"}, id="2-0"))
    diff("xrange", "s")  # UnicodeDecodeError with decode_responses
    diff("xrange", "s", "2-0")
    diff("xrevrange", "s", count=1)
    diff("xread", {"s": "1-0"})


def test_duplicate_fields_in_entry(diff):
    # XADD accepts repeated field names; redis-py builds a dict (last one wins)
    diff("execute_command", "XADD", "s", "1-0", "f", "a", "f", "b", "g", "c")
    diff("xrange", "s")
    diff("xread", {"s": 0})


# ----------------------------------------------------------------------------- XREAD
def test_xread_shapes(diff):
    diff.setup(lambda c: _populate(c, "s1", n=3))
    diff.setup(lambda c: _populate(c, "s2", n=2, start=10))
    diff("xread", {"s1": 0})
    diff("xread", {"s1": "0-0", "s2": "0-0"})
    diff("xread", {"s1": "2-0", "s2": b"10-0"})
    diff("xread", {"s1": "$"})
    diff("xread", {"s1": 0, "s2": 0}, count=1)
    diff("xread", {"s1": "3-0"})  # nothing newer: []
    diff("xread", {"nope": 0})
    diff("xread", {"s1": "bad"})
    diff("xread", {})  # DataError
    diff("xread", ["s1"])  # DataError (not a dict)
    diff("xread", {"s1": 0}, count=-1)
    diff("xread", {"s1": 0}, block=-1)
    diff("xread", {"s1": 0}, count="2")


def test_xread_block_timeout(diff):
    diff.setup(lambda c: _populate(c, "s1", n=1))
    diff("xread", {"s1": "$"}, block=50)
    diff("xread", {"nope": "$"}, block=30, count=5)
    diff("xread", {"s1": 0}, block=10)  # data available: returns at once
    diff("xread", {"s1": "1-0", "nope": 0}, block=20)


def test_xread_block_wakeup(diff):
    """A blocked XREAD returns the entry another client adds."""
    def run(c):
        admin = diff.native_admin if c is diff.native else diff.oracle_admin

        def add():
            time.sleep(0.2)
            admin.xadd("live", {"x": "y"}, id="7-7")

        t = threading.Thread(target=add)
        t.start()
        try:
            return c.xread({"live": "$"}, block=10000)
        finally:
            t.join()

    diff.apply(run)


# ----------------------------------------------------------------------------- groups
def test_xgroup_create_variants(diff):
    diff("xgroup_create", "s", "g1")  # no stream, no mkstream: ResponseError
    diff("xgroup_create", "s", "g1", mkstream=True)
    diff("xgroup_create", "s", "g1", mkstream=True)  # BUSYGROUP
    diff("xadd", "s", {"a": 1}, id="1-0")
    diff("xadd", "s", {"a": 2}, id="2-0")
    diff("xgroup_create", "s", "g2", id="0")
    diff("xgroup_create", "s", "g3", id="1-0", entries_read=1)
    diff("xgroup_create", "s", "g4", id="$", entries_read=0)
    diff("xgroup_create", "s", "g5", id="bad")
    diff("xgroup_createconsumer", "s", "g1", "alice")
    diff("xgroup_createconsumer", "s", "g1", "alice")
    diff("xgroup_createconsumer", "s", "nogroup", "alice")
    diff("xgroup_delconsumer", "s", "g1", "alice")
    diff("xgroup_delconsumer", "s", "g1", "nobody")
    diff("xgroup_setid", "s", "g1", "1-0")
    diff("xgroup_setid", "s", "g1", "$", entries_read=2)
    diff("xgroup_setid", "s", "nogroup", "0")
    diff.cmp(mask_times, "xinfo_groups", "s")
    diff("xgroup_destroy", "s", "g2")
    diff("xgroup_destroy", "s", "g2")
    diff("xgroup_destroy", "nope", "g2")
    diff.cmp(mask_times, "xinfo_groups", "s")


def test_xreadgroup_and_ack(diff):
    diff.setup(lambda c: _populate(c, "s", n=4))
    diff.setup(lambda c: _populate(c, "t", n=2, start=20))
    diff("xgroup_create", "s", "g", id="0")
    diff("xgroup_create", "t", "g", id="0")
    diff("xreadgroup", "g", "alice", {"s": ">"}, count=2)
    diff("xreadgroup", "g", "bob", {"s": ">", "t": ">"}, count=1)
    diff("xreadgroup", "g", "alice", {"s": "0"})  # own history
    diff("xreadgroup", "g", "bob", {"s": 0, "t": "0-0"})
    diff("xreadgroup", "g", "carol", {"s": ">"}, noack=True)
    diff("xreadgroup", "g", "carol", {"s": "0"})  # nothing pending with noack
    diff("xreadgroup", "g", "alice", {"s": ">"})  # all delivered: []
    diff("xreadgroup", "g", "alice", {"s": ">"}, block=20)  # times out
    diff("xreadgroup", "nogroup", "alice", {"s": ">"})
    diff("xreadgroup", "g", "alice", {})  # DataError
    diff("xreadgroup", "g", "alice", {"s": ">"}, count=0)  # DataError
    diff("xreadgroup", "g", "alice", {"s": ">"}, block=-5)  # DataError
    diff("xack", "s", "g", "1-0", "2-0", "99-0")
    diff("xack", "s", "g", "1-0")
    diff("xack", "s", "nogroup", "1-0")
    diff("xack", "s", "g")  # wrong number of args
    diff("xack", "s", "g", "bad-id")
    diff("xpending", "s", "g")
    diff("xreadgroup", "g", "alice", {"s": "0"})


def test_xreadgroup_deleted_entries(diff):
    """Pending entries that were deleted come back as (id, None) / [id, {}]."""
    diff.setup(lambda c: _populate(c, "s", n=3))
    diff("xgroup_create", "s", "g", id="0")
    diff("xreadgroup", "g", "alice", {"s": ">"})
    diff("xdel", "s", "2-0")
    diff("xreadgroup", "g", "alice", {"s": "0"})
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10)


def test_xreadgroup_non_utf8(diff):
    diff.setup(lambda c: c.xadd("s", {"k": NON_UTF8}, id="1-0"))
    diff("xgroup_create", "s", "g", id="0")
    diff("xreadgroup", "g", "c", {"s": ">"})
    diff("xreadgroup", "g", "c", {"s": "0"})


def test_xreadgroup_block_wakeup(diff):
    diff.setup(lambda c: c.xgroup_create("live", "g", id="$", mkstream=True))

    def run(c):
        admin = diff.native_admin if c is diff.native else diff.oracle_admin

        def add():
            time.sleep(0.2)
            admin.xadd("live", {"x": "y"}, id="5-5")

        t = threading.Thread(target=add)
        t.start()
        try:
            return c.xreadgroup("g", "consumer", {"live": ">"}, block=10000)
        finally:
            t.join()

    diff.apply(run)


def test_xreadgroup_claim_wire(wire):
    wire(lambda c: c.xreadgroup("g", "c", {"s": ">"}, claim_min_idle_time=1000))
    wire(lambda c: c.xreadgroup("g", "c", {"s": ">", "t": "0"}, count=5, block=0, noack=True,
                                claim_min_idle_time=0))
    wire(lambda c: c.xreadgroup("g", "c", {"s": ">"}, claim_min_idle_time=-1))
    wire(lambda c: c.xreadgroup("g", "c", {"s": ">"}, claim_min_idle_time="5"))


# ----------------------------------------------------------------------------- XPENDING
def _pending_setup(c):
    _populate(c, "s", n=5)
    c.xgroup_create("s", "g", id="0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=3)
    c.xreadgroup("g", "bob", {"s": ">"})


def test_xpending(diff):
    diff.setup(_pending_setup)
    diff("xpending", "s", "g")
    diff("xpending", "s", "nogroup")
    diff("xpending", "nope", "g")
    diff("xgroup_create", "s", "empty", id="$")
    diff("xpending", "s", "empty")


def test_xpending_range(diff):
    diff.setup(_pending_setup)
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10)
    diff.cmp(mask_times, "xpending_range", "s", "g", "2-0", "4-0", 2)
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10, consumername="bob")
    diff.cmp(mask_times, "xpending_range", "s", "g", min="-", max="+", count=1, consumername="alice")
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10, idle=0)
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10, idle=600000)
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10, consumername="nobody")
    diff("xpending_range", "s", "g", "-", "+", 0)
    diff("xpending_range", "s", "g", "-", None, 10)  # DataError
    diff("xpending_range", "s", "g", None, None, None)  # DataError
    diff("xpending_range", "s", "nogroup", "-", "+", 10)
    diff.apply(lambda c: [e["times_delivered"] for e in c.xpending_range("s", "g", "-", "+", 10)])


# ----------------------------------------------------------------------------- XCLAIM
def test_xclaim(diff):
    diff.setup(_pending_setup)
    diff("xclaim", "s", "g", "carol", 0, ["1-0"])
    diff("xclaim", "s", "g", "carol", 0, ["2-0", "3-0"], justid=True)
    diff("xclaim", "s", "g", "carol", 3600000, ["4-0"])  # not idle enough: []
    diff("xclaim", "s", "g", "carol", 0, ["4-0"], idle=1000)
    diff("xclaim", "s", "g", "carol", 0, ["4-0"], time=int(time.time() * 1000) - 5000)
    diff("xclaim", "s", "g", "carol", 0, ["5-0"], retrycount=7, justid=True)
    diff("xclaim", "s", "g", "carol", 0, ["99-0"], force=True)  # not in stream: nothing
    diff("xclaim", "s", "g", "carol", 0, ["1-0"], idle=1, force=True, justid=True)
    diff.cmp(mask_times, "xpending_range", "s", "g", "-", "+", 10)
    diff.apply(lambda c: [e["times_delivered"] for e in c.xpending_range("s", "g", "-", "+", 10)])
    # client-side validation
    diff("xclaim", "s", "g", "carol", -1, ["1-0"])
    diff("xclaim", "s", "g", "carol", "x", ["1-0"])
    diff("xclaim", "s", "g", "carol", 0, "1-0")
    diff("xclaim", "s", "g", "carol", 0, [])
    diff("xclaim", "s", "g", "carol", 0, ["1-0"], idle="1")
    diff("xclaim", "s", "g", "carol", 0, ["1-0"], time="1")
    diff("xclaim", "s", "g", "carol", 0, ["1-0"], retrycount="1")
    diff("xclaim", "s", "nogroup", "carol", 0, ["1-0"])


def test_xclaim_deleted_entry(diff):
    diff.setup(_pending_setup)
    diff("xdel", "s", "2-0")
    diff("xclaim", "s", "g", "carol", 0, ["1-0", "2-0"])
    diff("xclaim", "s", "g", "carol", 0, ["1-0", "2-0"], justid=True)


def test_xautoclaim(diff):
    diff.setup(_pending_setup)
    diff("xautoclaim", "s", "g", "carol", 0, count=2)
    diff("xautoclaim", "s", "g", "carol", 0, start_id="3-0", count=1, justid=True)
    diff("xautoclaim", "s", "g", "carol", 0)
    diff("xautoclaim", "s", "g", "carol", 0, start_id="0-0", justid=True)
    diff("xautoclaim", "s", "g", "dave", 3600000)
    diff("xautoclaim", "s", "g", "dave", 0, start_id="99-0")
    diff("xautoclaim", "s", "nogroup", "dave", 0)
    diff("xautoclaim", "nope", "g", "dave", 0)
    diff("xautoclaim", "s", "g", "dave", -1)  # DataError
    diff("xautoclaim", "s", "g", "dave", 0, count=0)  # DataError
    diff("xautoclaim", "s", "g", "dave", "0")  # DataError


def test_xautoclaim_deleted_entries(diff):
    diff.setup(_pending_setup)
    diff("xdel", "s", "1-0", "3-0")
    diff("xautoclaim", "s", "g", "carol", 0)
    diff("xautoclaim", "s", "g", "carol", 0, justid=True)


def test_xautoclaim_non_utf8(diff):
    diff.setup(lambda c: c.xadd("s", {"k": NON_UTF8}, id="1-0"))
    diff("xgroup_create", "s", "g", id="0")
    diff("xreadgroup", "g", "c", {"s": ">"})
    diff("xautoclaim", "s", "g", "d", 0)
    diff("xautoclaim", "s", "g", "d", 0, justid=True)
    diff("xclaim", "s", "g", "e", 0, ["1-0"])


# ----------------------------------------------------------------------------- XINFO
def _info_setup(c):
    _populate(c, "s", n=4)
    c.xgroup_create("s", "g", id="0")
    c.xgroup_create("s", "g2", id="$")
    c.xreadgroup("g", "alice", {"s": ">"}, count=2)
    c.xreadgroup("g", "bob", {"s": ">"}, count=1)


def test_xinfo_stream(diff):
    diff.setup(_info_setup)
    diff("xinfo_stream", "s")
    diff("xinfo_stream", "nope")
    diff("xadd", "empty", {"a": 1}, id="1-0")
    diff("xdel", "empty", "1-0")
    diff("xinfo_stream", "empty")
    diff("set", "str", "x")
    diff("xinfo_stream", "str")


def test_xinfo_stream_full(diff):
    diff.setup(_info_setup)
    diff.cmp(mask_full_pel, "xinfo_stream", "s", full=True)
    diff.apply(lambda c: shape(c.xinfo_stream("s", full=True)))
    diff("xgroup_create", "s2", "g", id="$", mkstream=True)
    diff.cmp(mask_full_pel, "xinfo_stream", "s2", full=True)
    diff("xinfo_stream", "nope", full=True)


def test_xinfo_stream_non_utf8(diff):
    diff.setup(lambda c: c.xadd("s", {"k": NON_UTF8}, id="1-0"))
    diff("xinfo_stream", "s")
    diff.cmp(mask_full_pel, "xinfo_stream", "s", full=True)


def test_xinfo_groups_consumers(diff):
    diff.setup(_info_setup)
    diff.cmp(mask_times, "xinfo_groups", "s")
    diff.cmp(mask_times, "xinfo_consumers", "s", "g")
    diff.cmp(mask_times, "xinfo_consumers", "s", "g2")
    diff.shape("xinfo_consumers", "s", "g")
    diff("xinfo_consumers", "s", "nogroup")
    diff("xinfo_groups", "nope")
    diff("xinfo_consumers", "nope", "g")


# ----------------------------------------------------------------------------- XTRIM/XDEL
def test_xtrim(diff):
    diff.setup(lambda c: _populate(c, "s", n=10))
    diff("xtrim", "s", maxlen=8, approximate=False)
    diff("xlen", "s")
    diff("xtrim", "s", maxlen=5)  # ~: may trim nothing
    diff("xtrim", "s", minid="5-0", approximate=False)
    diff("xrange", "s")
    diff("xtrim", "s", minid=7, approximate=True, limit=10)
    diff("xtrim", "s", maxlen=2, approximate=True, limit=100)
    diff("xtrim", "s", maxlen=1, approximate=False)
    diff("xrange", "s")
    diff("xtrim", "s", maxlen=0, approximate=False)
    diff("xtrim", "nope", maxlen=0)
    diff("xtrim", "s")  # DataError: neither
    diff("xtrim", "s", maxlen=1, minid="1-0")  # DataError: both
    diff("xtrim", "s", maxlen=1, approximate=False, limit=10)  # server error
    diff("xtrim", "s", maxlen=-1)


def test_xtrim_ref_policy_wire(wire):
    wire(lambda c: c.xtrim("s", maxlen=5, ref_policy="DELREF"))
    wire(lambda c: c.xtrim("s", minid="1-0", approximate=False, ref_policy="ACKED"))
    wire(lambda c: c.xtrim("s", maxlen=5, limit=3, ref_policy="KEEPREF"))
    wire(lambda c: c.xtrim("s", maxlen=5, ref_policy="NOPE"))


def test_xdel_xlen(diff):
    diff.setup(lambda c: _populate(c, "s", n=5))
    diff("xdel", "s", "1-0")
    diff("xdel", "s", "2-0", "3-0", "99-0")
    diff("xdel", "s", "1-0")
    diff("xdel", "nope", "1-0")
    diff("xdel", "s")  # wrong number of args
    diff("xdel", "s", "bad")
    diff("xlen", "s")
    diff("xlen", "nope")
    diff("xrange", "s")


def test_xackdel_xdelex_xcfgset_wire(wire):
    wire(lambda c: c.xackdel("s", "g", "1-0", "2-0"))
    wire(lambda c: c.xackdel("s", "g", "1-0", ref_policy="DELREF"))
    wire(lambda c: c.xackdel("s", "g", "1-0", ref_policy="ACKED"))
    wire(lambda c: c.xackdel("s", "g", ref_policy="KEEPREF"))  # no ids: DataError?
    wire(lambda c: c.xackdel("s", "g", "1-0", ref_policy="BAD"))
    wire(lambda c: c.xdelex("s", "1-0", "2-0"))
    wire(lambda c: c.xdelex("s", "1-0", ref_policy="DELREF"))
    wire(lambda c: c.xdelex("s", "1-0", ref_policy="ACKED"))
    wire(lambda c: c.xdelex("s"))
    wire(lambda c: c.xdelex("s", "1-0", ref_policy="nope"))
    wire(lambda c: c.xcfgset("s", idmp_duration=100))
    wire(lambda c: c.xcfgset("s", idmp_maxsize=1000))
    wire(lambda c: c.xcfgset("s", idmp_duration=60, idmp_maxsize=10))
    wire(lambda c: c.xcfgset("s"))
    wire(lambda c: c.xcfgset("s", idmp_duration=-1))
    wire(lambda c: c.xcfgset("s", idmp_maxsize="10"))


# ----------------------------------------------------------------------------- wire, supported
def test_stream_commands_wire(wire):
    """Argument order/spelling on the wire for the options tested above."""
    wire(lambda c: c.xadd("s", {"a": 1, "b": b"2"}, id="1-0", maxlen=5, approximate=True, limit=2,
                          nomkstream=True))
    wire(lambda c: c.xadd("s", {"a": 1}, minid="1-0", approximate=False))
    wire(lambda c: c.xtrim("s", minid="1-0", limit=4))
    wire(lambda c: c.xread({"a": 0, "b": "1-0"}, count=3, block=100))
    wire(lambda c: c.xreadgroup("g", "c", {"a": ">"}, count=3, block=0, noack=True))
    wire(lambda c: c.xclaim("s", "g", "c", 10, ["1-0", "2-0"], idle=5, time=6, retrycount=7,
                            force=True, justid=True))
    wire(lambda c: c.xautoclaim("s", "g", "c", 10, start_id="1-0", count=5, justid=True))
    wire(lambda c: c.xpending_range("s", "g", "-", "+", 5, consumername="c", idle=100))
    wire(lambda c: c.xgroup_create("s", "g", id="0", mkstream=True, entries_read=3))
    wire(lambda c: c.xgroup_setid("s", "g", "0", entries_read=1))
    wire(lambda c: c.xinfo_stream("s", full=True))
    wire(lambda c: c.xrevrange("s", "+", "-", count=2))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff.setup(lambda c: _populate(c, "s", n=2))
    diff("xadd", "s", [("a", 1)])  # fields not a dict
    diff("xadd", "s", "notadict")
    diff("xadd", "s", {"a": 1}, id=None)
    diff("xadd", "s", {"a": 1}, maxlen=1.5)
    diff("xadd", "s", {"a": 1}, minid=None, limit="x")
    diff("xrange", "s", None, None)
    diff("xrange", "s", count="2")
    diff("xread", {"s": None})
    diff("xread", "s")
    diff("xread", None)
    diff("xreadgroup", "g", "c", ["s"])
    diff("xreadgroup", "g", "c", {"s": ">"}, count=1.5)
    diff("xack", "s", "g", None)
    diff("xclaim", "s", "g", "c", 0, None)
    diff("xclaim", "s", "g", "c", 0, ("1-0",))  # tuple instead of list
    diff("xautoclaim", "s", "g", "c", 0, count="3")
    diff("xpending_range", "s", "g", "-", "+", "10")
    diff("xtrim", "s", maxlen="3")
    diff("xtrim", "s", maxlen=1.5)
    diff("xgroup_create", "s", "g", id=None)
    diff("xgroup_setid", "s", "g", "0", entries_read="1")
    diff("xinfo_stream", "s", full="yes")
    diff("xdel", "s", None)
    diff("xlen", None)


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_stream_commands_in_pipeline(diff, transaction):
    """Reply callbacks that depend on call options (justid, full, withscores...) must
    also apply inside pipelines and MULTI/EXEC."""
    diff.setup(_pending_setup)

    def run(c):
        p = c.pipeline(transaction=transaction)
        p.xadd("s", {"p": 1}, id="10-0")
        p.xrange("s", "4-0", "+")
        p.xrevrange("s", count=1)
        p.xread({"s": "9-0"})
        p.xreadgroup("g", "carol", {"s": ">"})
        p.xclaim("s", "g", "dave", 0, ["1-0", "2-0"], justid=True)
        p.xclaim("s", "g", "dave", 0, ["3-0"])
        p.xautoclaim("s", "g", "erin", 0, count=1)
        p.xautoclaim("s", "g", "erin", 0, count=1, justid=True)
        p.xpending("s", "g")
        p.xinfo_stream("s")
        p.xlen("s")
        p.xtrim("s", maxlen=8, approximate=False)
        p.xdel("s", "10-0")
        p.xack("s", "g", "1-0")
        p.xgroup_create("s", "g", id="0")  # BUSYGROUP error inside the batch
        return p.execute(raise_on_error=False)

    def errors_as_values(x):
        if isinstance(x, list):
            return [errors_as_values(v) for v in x]
        if isinstance(x, BaseException):
            return ("exception", type(x).__name__, str(x))
        return x

    diff.apply(run, how=errors_as_values)
    diff.apply(lambda c: mask_full_pel(c.pipeline(transaction=transaction)
                                       .xinfo_stream("s", full=True).execute()[0]))
    diff.apply(lambda c: mask_times(c.pipeline(transaction=transaction)
                                    .xpending_range("s", "g", "-", "+", 10).execute()))
