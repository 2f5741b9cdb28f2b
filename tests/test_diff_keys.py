"""Differential tests: generic key commands (redis_native vs redis-py)."""
import datetime
import time

import pytest

from diffutil import check, scan_normal, sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "cl\u00e9 \u2603"


def _populate(c):
    c.set("s1", "v")
    c.set("s2", NON_UTF8)
    c.set(UNICODE, "u")
    c.rpush("list1", "a", "b")
    c.sadd("set1", "x")
    c.zadd("zset1", {"m": 1})
    c.hset("hash1", "f", "v")
    for i in range(50):
        c.set("many:%d" % i, i)


# ------------------------------------------------------------------ exists / delete / type
def test_exists_delete_unlink_touch(diff):
    diff.setup(_populate)
    diff("exists", "s1")
    diff("exists", "s1", "s2", "nope", "s1")
    diff("exists", "nope")
    diff("exists")  # server error: wrong number of args
    diff("touch", "s1", "s2", "nope")
    diff("delete", "s1", "nope")
    diff("delete", "nope")
    diff("delete")
    diff("unlink", "s2", "list1", "nope")
    diff("unlink", "nope")
    diff("exists", "s1", "s2", "list1")
    diff("delete", UNICODE)
    diff("delete", *["many:%d" % i for i in range(50)])
    diff.cmp(sorted_list, "keys")


def test_type(diff):
    diff.setup(_populate)
    diff.setup(lambda c: c.xadd("stream1", {"f": "v"}))
    for k in ("s1", "list1", "set1", "zset1", "hash1", "stream1", "nope", UNICODE):
        diff("type", k)


def test_keys_patterns(diff):
    diff.setup(_populate)
    diff.cmp(sorted_list, "keys")
    diff.cmp(sorted_list, "keys", "*")
    diff.cmp(sorted_list, "keys", "many:1*")
    diff.cmp(sorted_list, "keys", "s?")
    diff.cmp(sorted_list, "keys", "[sl]*1")
    diff.cmp(sorted_list, "keys", "cl\u00e9*")
    diff.cmp(sorted_list, "keys", b"nomatch*")


def test_randomkey_dbsize(diff):
    diff("randomkey")
    diff("dbsize")
    diff("set", "only", "v")
    diff("randomkey")
    diff("dbsize")


# ------------------------------------------------------------------ expiry family
def test_expire_ttl_basic(diff):
    diff("set", "k", "v")
    diff("ttl", "k")
    diff("pttl", "k")
    diff("ttl", "nope")
    diff("pttl", "nope")
    diff("expire", "k", 100)
    diff("ttl", "k")
    diff("expire", "k", datetime.timedelta(seconds=200))
    diff("ttl", "k")
    diff("pexpire", "k", 300000)
    diff.cmp(lambda t: 290000 < t <= 300000, "pttl", "k")
    diff("pexpire", "k", datetime.timedelta(milliseconds=400500))
    diff.cmp(lambda t: 390000 < t <= 400500, "pttl", "k")
    diff("persist", "k")
    diff("persist", "k")
    diff("persist", "nope")
    diff("ttl", "k")
    diff("expire", "nope", 10)
    diff("expire", "k", "abc")
    diff("expire", "k", 1.5)


def test_expireat_family(diff):
    diff("set", "k", "v")
    when = int(time.time()) + 1000
    diff("expireat", "k", when)
    diff("expiretime", "k")
    diff("pexpireat", "k", when * 1000 + 7)
    diff("pexpiretime", "k")
    dt = datetime.datetime.fromtimestamp(when + 10)
    diff("expireat", "k", dt)
    diff("expiretime", "k")
    diff("pexpireat", "k", dt)
    diff("pexpiretime", "k")
    diff("expiretime", "nope")
    diff("pexpiretime", "nope")
    diff("set", "p", "v")
    diff("expiretime", "p")
    diff("expireat", "nope", when)


@pytest.mark.parametrize("cmd", ["expire", "pexpire", "expireat", "pexpireat"])
def test_expire_conditions(diff, cmd):
    now = int(time.time())
    base = {"expire": 0, "pexpire": 0, "expireat": now, "pexpireat": now * 1000}[cmd]
    unit = 1000 if cmd.startswith("p") else 1
    t1, t2, t3 = base + 100 * unit, base + 200 * unit, base + 50 * unit
    diff("set", "k", "v")
    diff(cmd, "k", t1, xx=True)   # no ttl yet -> 0
    diff(cmd, "k", t1, gt=True)   # no ttl counts as infinite -> 0
    diff(cmd, "k", t1, lt=True)   # -> 1
    diff(cmd, "k", t1, nx=True)   # has ttl -> 0
    diff(cmd, "k", t2, gt=True)   # -> 1
    diff(cmd, "k", t3, gt=True)   # -> 0
    diff(cmd, "k", t3, lt=True)   # -> 1
    diff(cmd, "k", t2, xx=True)   # -> 1
    diff("ttl", "k")
    diff(cmd, "k", t1, nx=True, xx=True)  # server error
    diff(cmd, "k", t1, gt=True, lt=True)  # server error
    diff(cmd, "k", t1, nx=True, gt=True)
    diff(cmd, "nope", t1, nx=True)


def test_expire_in_past_deletes(diff):
    diff("set", "k", "v")
    diff("expire", "k", -1)
    diff("exists", "k")
    diff("set", "k", "v")
    diff("pexpireat", "k", 1000)
    diff("exists", "k")


# ------------------------------------------------------------------ rename / copy
def test_rename(diff):
    diff.setup(_populate)
    diff("rename", "s1", "s1new")
    diff("get", "s1new")
    diff("rename", "nope", "x")
    diff("rename", "s1new", UNICODE)
    diff("get", UNICODE)
    diff("renamenx", UNICODE, "s2")
    diff("renamenx", UNICODE, "fresh")
    diff("renamenx", "nope", "x")
    diff("rename", "fresh", "fresh")
    diff("exists", "s1", "s1new", UNICODE, "fresh")


def test_copy_same_db(diff):
    diff.setup(_populate)
    diff("copy", "s1", "c1")
    diff("copy", "s1", "c1")
    diff("copy", "s2", "c1", replace=True)
    diff("get", "c1")
    diff("copy", "list1", "c2")
    diff("lrange", "c2", 0, -1)
    diff("copy", "nope", "c3")
    diff("copy", "s1", "s1")


def test_copy_move_other_db(r, oracle):
    # cross-db commands cannot run on the split-db harness: run sequentially
    calls = [
        ("flushall", ()),
        ("set", ("k", "v")),
        ("copy", ("k", "k2"), {"destination_db": 5}),
        ("copy", ("k", "k2"), {"destination_db": 5}),
        ("copy", ("k", "k2"), {"destination_db": 5, "replace": True}),
        ("copy", ("k", "k2"), {"destination_db": "5", "replace": True}),
        ("move", ("k", 6)),
        ("move", ("k", 6)),
        ("move", ("nope", 6)),
        ("exists", ("k",)),
        ("move", ("k", 9999)),
        ("swapdb", (0, 6)),
        ("get", ("k",)),
        ("swapdb", (0, 6)),
        ("get", ("k",)),
        ("swapdb", (0, 99999)),
        ("select", (5,)),  # redis-py's select on a pooled client
        ("flushall", ()),
    ]
    check(r, oracle, calls)


# ------------------------------------------------------------------ dump / restore
@pytest.mark.parametrize("kind", ["string", "bin", "list", "set", "zset", "hash", "big"])
def test_dump_restore(diff, kind):
    def prep(c):
        if kind == "string":
            c.set("src", "hello")
        elif kind == "bin":
            c.set("src", NON_UTF8 * 10)
        elif kind == "list":
            c.rpush("src", 1, 2, 3)
        elif kind == "set":
            c.sadd("src", "a")
        elif kind == "zset":
            c.zadd("src", {"a": 1.5, "b": 2})
        elif kind == "hash":
            c.hset("src", mapping={"f": "v", "g": NON_UTF8})
        else:
            c.set("src", b"z" * 200000)

    diff.setup(prep)
    payload = diff("dump", "src")  # always bytes, even with decode_responses
    assert isinstance(payload, bytes)
    diff("restore", "dst", 0, payload)
    diff("restore", "dst", 0, payload)  # BUSYKEY
    diff("restore", "dst", 0, payload, replace=True)
    diff("restore", "dst2", 100000, payload)
    diff.cmp(lambda t: 90000 < t <= 100000, "pttl", "dst2")
    abs_ms = int(time.time() * 1000) + 500000
    diff("restore", "dst3", abs_ms, payload, absttl=True)
    diff("pexpiretime", "dst3")
    diff("restore", "dst4", 0, payload, idletime=100)
    diff.cmp(lambda t: 100 <= t <= 110, "object", "idletime", "dst4")
    diff("restore", "dst5", 0, payload, frequency=5)  # needs LFU -> ResponseError? (allowed)
    diff("restore", "dst6", 0, payload, idletime=-1)  # DataError
    diff("restore", "dst6", 0, payload, idletime="x")  # DataError
    diff("restore", "dst6", 0, payload, frequency="x")  # DataError
    diff("restore", "dst6", 0, b"garbage")
    diff("dump", "nope")
    diff("type", "dst")


# ------------------------------------------------------------------ object
def test_object(diff):
    diff("set", "int", 12345)
    diff("set", "emb", "short")
    diff("set", "raw", "x" * 100)
    diff("rpush", "list", "a")
    diff("sadd", "iset", 1, 2)
    diff("hset", "h", "f", "v")
    for k in ("int", "emb", "raw", "list", "iset", "h"):
        diff("object", "encoding", k)
        diff("object", "refcount", k)
        diff.cmp(lambda t: isinstance(t, int), "object", "idletime", k)
    diff("object", "freq", "int")  # LRU policy -> ResponseError
    diff("object", "encoding", "nope")
    diff("object", "bogus", "int")
    diff("object", "ENCODING", "int")


def test_memory_usage(diff):
    diff("set", "k", "v")
    diff.cmp(lambda n: type(n).__name__, "memory_usage", "k")
    diff.cmp(lambda n: type(n).__name__, "memory_usage", "k", samples=5)
    diff("memory_usage", "nope")


# ------------------------------------------------------------------ scan
def test_scan_single_call(diff):
    diff.setup(_populate)
    diff.cmp(scan_normal, "scan", 0, count=1000)
    diff.cmp(scan_normal, "scan", 0, match="many:*", count=1000)
    diff.cmp(scan_normal, "scan", 0, match=b"s*", count=1000)
    diff.cmp(scan_normal, "scan", cursor=0, match="nomatch", count=1000)
    diff.cmp(scan_normal, "scan", 0, count=1000, _type="list")
    diff.cmp(scan_normal, "scan", 0, count=1000, _type="string", match="s*")
    diff.cmp(scan_normal, "scan", 0, count=1000, _type="bogus")
    diff("scan", 0, count=0)  # syntax error
    diff("scan", "notacursor")
    diff.cmp(scan_normal, "scan", "0", count=1000)


def test_scan_shape(diff):
    diff.setup(_populate)
    # cursor is an int, items a list
    diff.apply(lambda c: (type(c.scan(0, count=2)[0]).__name__, type(c.scan(0, count=2)[1]).__name__))


def test_scan_iter(diff):
    diff.setup(_populate)
    diff.apply(lambda c: sorted(c.scan_iter()))
    diff.apply(lambda c: sorted(c.scan_iter(count=3)))
    diff.apply(lambda c: sorted(c.scan_iter(match="many:1*", count=2)))
    diff.apply(lambda c: sorted(c.scan_iter(match=UNICODE)))
    diff.apply(lambda c: sorted(c.scan_iter(_type="hash")))
    diff.apply(lambda c: sorted(c.scan_iter(_type="string", count=7, match="s*")))
    diff.apply(lambda c: list(c.scan_iter(match="none*")))
    diff.apply(lambda c: type(c.scan_iter()).__name__)


def test_scan_non_utf8_keys(diff):
    diff.setup(lambda c: c.set(NON_UTF8, "v"))
    diff.apply(lambda c: list(c.scan_iter()))  # decode_responses=True -> UnicodeDecodeError
    diff("keys")


# ------------------------------------------------------------------ sort
def _sort_data(c):
    c.rpush("nums", 3, 1, 2, 10)
    c.rpush("names", "bob", "alice", "carol")
    c.rpush("ids", "1", "2", "3")
    c.mset({"w_1": 30, "w_2": 10, "w_3": 20})
    c.mset({"name_1": "one", "name_2": "two", "name_3": NON_UTF8})
    c.hset("h_1", mapping={"age": 40, "n": "a"})
    c.hset("h_2", mapping={"age": 20, "n": "b"})
    c.hset("h_3", mapping={"age": 30, "n": "c"})
    c.sadd("numset", 5, 3, 9)


def test_sort_basic(diff):
    diff.setup(_sort_data)
    diff("sort", "nums")
    diff("sort", "nums", desc=True)
    diff("sort", "nums", start=1, num=2)
    diff("sort", "nums", 0, 2, desc=True)
    diff("sort", "names")  # ResponseError: not numbers
    diff("sort", "names", alpha=True)
    diff("sort", "names", alpha=True, desc=True, start=0, num=1)
    diff("sort", "numset")
    diff("sort", "nope")
    diff("sort", "nums", start=1)  # DataError: start and num
    diff("sort", "nums", num=1)


def test_sort_by_get(diff):
    diff.setup(_sort_data)
    diff("sort", "ids", by="w_*")
    diff("sort", "ids", by="h_*->age")
    diff("sort", "ids", by="nosort")
    diff("sort", "ids", get="name_*")
    diff("sort", "ids", get=["#", "name_*"])
    diff("sort", "ids", get=["#", "h_*->n", "h_*->age"], by="w_*", desc=True)
    diff("sort", "ids", get=("name_*",), by="h_*->age")
    diff("sort", "ids", get=["name_*", "missing_*"])


def test_sort_groups_store(diff):
    diff.setup(_sort_data)
    diff("sort", "ids", get=["#", "name_*"], groups=True)
    diff("sort", "ids", get=["#", "h_*->n", "h_*->age"], groups=True, by="w_*")
    diff("sort", "ids", get="name_*", groups=True)  # DataError: needs >= 2 gets
    diff("sort", "ids", groups=True)  # DataError
    diff("sort", "nums", store="sorted")
    diff("lrange", "sorted", 0, -1)
    diff("sort", "ids", get=["#", "name_*"], store="sorted2")
    diff("lrange", "sorted2", 0, -1)
    diff("sort", "ids", get=["#", "name_*"], groups=True, store="sorted3")


def test_sort_ro(diff):
    diff.setup(_sort_data)
    diff("sort_ro", "nums")
    diff("sort_ro", "nums", desc=True, start=0, num=2)
    diff("sort_ro", "names", alpha=True)
    diff("sort_ro", "ids", by="w_*", get=["#", "name_*"])


def test_sort_wrongtype(diff):
    diff("set", "str", "x")
    diff("sort", "str")
    diff("hset", "h", "f", "v")
    diff("sort", "h")
