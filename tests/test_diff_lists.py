"""Differential tests: list commands incl. blocking pops (redis_native vs redis-py)."""
import threading

NON_UTF8 = b"\xff\xfe"
UNICODE = "l\u00efst \u2600"
BIG = b"L" * (1024 * 1024)


def test_push_pop_range(diff):
    diff("rpush", "l", "a", b"b", 1, 2.5, "", UNICODE)
    diff("lpush", "l", "z", "y")
    diff("lrange", "l", 0, -1)
    diff("lrange", "l", 2, 3)
    diff("lrange", "l", -2, -1)
    diff("lrange", "l", 100, 200)
    diff("lrange", "nope", 0, -1)
    diff("llen", "l")
    diff("llen", "nope")
    diff("lpop", "l")
    diff("rpop", "l")
    diff("lpop", "l", 2)
    diff("rpop", "l", 1)
    diff("lpop", "l", 0)
    diff("rpop", "l", 100)
    diff("lpop", "l")
    diff("rpop", "l", 3)
    diff("lpop", "nope", 3)
    diff("rpop", "nope")
    diff("lpop", "l", -1)
    diff("rpush", "l")  # server: wrong number of args
    diff("lpush", "l", None)  # DataError


def test_pushx(diff):
    diff("lpushx", "l", "a")
    diff("rpushx", "l", "a")
    diff("rpush", "l", "x")
    diff("lpushx", "l", "a", "b")
    diff("rpushx", "l", "c", "d")
    diff("lrange", "l", 0, -1)


def test_non_utf8_and_big(diff):
    diff("rpush", "l", NON_UTF8, BIG, "ok")
    diff("lindex", "l", 2)
    diff("lindex", "l", 0)  # UnicodeDecodeError with decode
    diff("lrange", "l", 0, 0)
    diff.apply(lambda c: len(c.lindex("l", 1)))
    diff("lrange", "l", 0, -1)


def test_lindex_lset_linsert_lrem_ltrim(diff):
    diff("rpush", "l", "a", "b", "c", "b", "a", "b")
    diff("lindex", "l", 1)
    diff("lindex", "l", -1)
    diff("lindex", "l", 100)
    diff("lindex", "nope", 0)
    diff("lset", "l", 0, "A")
    diff("lset", "l", 100, "x")
    diff("lset", "nope", 0, "x")
    diff("linsert", "l", "before", "c", "C0")
    diff("linsert", "l", "AFTER", "c", "C1")
    diff("linsert", "l", "after", "missing", "x")
    diff("linsert", "nope", "after", "a", "x")
    diff("linsert", "l", "middle", "c", "x")
    diff("lrem", "l", 1, "b")
    diff("lrem", "l", -1, "b")
    diff("lrem", "l", 0, "b")
    diff("lrem", "l", 0, "missing")
    diff("lrange", "l", 0, -1)
    diff("ltrim", "l", 1, 2)
    diff("lrange", "l", 0, -1)
    diff("ltrim", "l", 5, 1)
    diff("exists", "l")
    diff("ltrim", "nope", 0, 1)


def test_lpos(diff):
    diff("rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c")
    diff("lpos", "l", "a")
    diff("lpos", "l", "c")
    diff("lpos", "l", "x")
    diff("lpos", "l", "c", rank=2)
    diff("lpos", "l", "c", rank=-1)
    diff("lpos", "l", "c", rank=-1, count=2)
    diff("lpos", "l", "c", count=0)
    diff("lpos", "l", "c", count=1)
    diff("lpos", "l", "x", count=3)
    diff("lpos", "l", "c", maxlen=3)
    diff("lpos", "l", "c", count=0, maxlen=7)
    diff("lpos", "l", "c", rank=0)  # server error
    diff("lpos", "l", 1)
    diff("lpos", "nope", "a")
    diff("lpos", "nope", "a", count=2)


def test_lmove_rpoplpush(diff):
    diff("rpush", "src", "a", "b", "c", "d")
    diff("lmove", "src", "dst")
    diff("lmove", "src", "dst", "RIGHT", "LEFT")
    diff("lmove", "src", "dst", "left", "left")
    diff("lmove", "src", "dst", "UP", "LEFT")
    diff("lmove", "nope", "dst")
    diff("rpoplpush", "src", "dst")
    diff("rpoplpush", "src", "dst")
    diff("rpoplpush", "src", "src")
    diff("lrange", "dst", 0, -1)
    diff("lmove", "dst", "dst", "LEFT", "RIGHT")
    diff("lrange", "dst", 0, -1)


def test_lmpop(diff):
    diff("rpush", "a", 1, 2, 3)
    diff("rpush", "b", 4, 5)
    diff("lmpop", 2, "nope", "a", direction="LEFT")
    diff("lmpop", 2, "a", "b", direction="RIGHT", count=10)
    diff("lmpop", 2, "a", "b", direction="LEFT", count=1)
    diff("lmpop", 1, "nope", direction="LEFT")
    diff("lmpop", 1, "b", direction="SIDEWAYS")
    diff("lmpop", 3, "b", direction="LEFT")  # numkeys mismatch
    diff("lmpop", 1, "b", direction="LEFT", count=0)
    diff("lmpop", 1, "b", direction="left", count=None)


# ------------------------------------------------------------------ blocking pops
def test_blocking_pops_nonempty(diff):
    diff("rpush", "l1", "a", "b", "c")
    diff("rpush", "l2", "x")
    diff("blpop", ["nope", "l1"], timeout=1)
    diff("brpop", ["l1", "l2"], timeout=1)
    diff("blpop", "l2", 1)
    diff("blpop", ["l1"])  # timeout 0 but data available: returns at once
    diff("rpush", "src", 1, 2, 3)
    diff("brpoplpush", "src", "dst", 1)
    diff("blmove", "src", "dst", 1, "LEFT", "LEFT")
    diff("blmove", "src", "dst", 1)
    diff("lrange", "dst", 0, -1)
    diff("rpush", "m", 1, 2, 3)
    diff("blmpop", 1, 2, "nope", "m", direction="RIGHT", count=2)
    diff("blmpop", 1, 1, "m", direction="LEFT")


def test_blocking_pops_empty_timeout(diff):
    diff("blpop", ["e1", "e2"], timeout=0.1)
    diff("brpop", "e1", timeout=0.1)
    diff("blpop", "e1", 1)
    diff("brpoplpush", "e1", "dst", 0.1)
    diff("blmove", "e1", "dst", 0.1, "RIGHT", "LEFT")
    diff("blmpop", 0.1, 2, "e1", "e2", direction="LEFT")
    diff("rpush", "e3", "v")
    diff("blpop", "e3", timeout=None)  # None means 0 (block forever): data is there


def test_blocking_pop_bad_timeout(diff):
    diff("blpop", "e", timeout=-1)
    diff("brpop", "e", timeout="abc")
    diff("blmove", "e", "d", -1)
    diff("blmpop", -1, 1, "e", direction="LEFT")
    diff("blpop", "e", timeout=0.01)


def test_blocking_pop_woken_by_push(diff):
    # each side: one thread pushes after a short delay while the other blocks
    def blocked_pop(c):
        admin = c.__class__(connection_pool=c.connection_pool)
        t = threading.Timer(0.3, lambda: admin.rpush("wake", "val"))
        t.start()
        try:
            return c.blpop(["wake"], timeout=10)
        finally:
            t.join()

    diff.apply(blocked_pop)


def test_list_wrongtype(diff):
    diff("set", "s", "v")
    for name, args, *kw in [("lpush", ("s", 1)), ("rpush", ("s", 1)), ("lpop", ("s",)), ("rpop", ("s", 2)),
                       ("lrange", ("s", 0, -1)), ("llen", ("s",)), ("lindex", ("s", 0)),
                       ("lset", ("s", 0, "x")), ("lrem", ("s", 0, "x")), ("ltrim", ("s", 0, 1)),
                       ("lpos", ("s", "x")), ("lmove", ("s", "d")), ("blpop", (["s"], 0.1)),
                       ("linsert", ("s", "before", "a", "b")), ("lmpop", (1, "s"), {"direction": "LEFT"})]:
        diff(name, *args, **(kw[0] if kw else {}))
