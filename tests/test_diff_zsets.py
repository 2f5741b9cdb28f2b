"""Differential tests: sorted set commands (redis_native vs redis-py)."""
from diffutil import scan_normal, sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "z\u00eat \u2605"
BIG = b"Z" * (1024 * 1024)


def _z(c):
    c.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4.5, "e": -1, UNICODE: 10})
    c.zadd("lex", {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0})
    c.zadd("z2", {"b": 20, "c": 30, "x": 100})
    c.zadd("z3", {"c": 300, "y": 1})


def tag(x):
    """A score_cast_func that shows what raw value redis-py hands it."""
    return ("tag", type(x).__name__, x)


# ------------------------------------------------------------------ zadd
def test_zadd_basic(diff):
    diff("zadd", "z", {"a": 1, b"b": 2.5, "c": -3, UNICODE: 0, "": 1e-5})
    diff("zadd", "z", {"a": 1})
    diff("zadd", "z", {"a": 2})
    diff("zadd", "z", {"inf": float("inf"), "ninf": float("-inf"), "big": 2 ** 53 + 1})
    diff("zadd", "z", {"s": "7"})
    diff("zadd", "z", {"bad": "notanumber"})
    diff("zadd", "z", {"nan": float("nan")})
    diff("zadd", "z", {})  # DataError
    diff("zrange", "z", 0, -1, withscores=True)
    diff("zcard", "z")
    diff("zcard", "nope")


def test_zadd_options(diff):
    diff("zadd", "z", {"a": 1, "b": 2})
    diff("zadd", "z", {"a": 10, "c": 3}, nx=True)
    diff("zadd", "z", {"a": 10, "d": 4}, xx=True)
    diff("zadd", "z", {"a": 10, "b": 20, "e": 5}, ch=True)
    diff("zadd", "z", {"a": 5, "b": 30}, gt=True, ch=True)
    diff("zadd", "z", {"a": 5, "b": 1}, lt=True, ch=True)
    diff("zadd", "z", {"a": 2}, incr=True)
    diff("zadd", "z", {"new": 2}, incr=True, xx=True)
    diff("zadd", "z", {"new": 2}, incr=True, nx=True)
    diff("zadd", "z", {"new": 2}, incr=True, nx=True)
    diff("zadd", "z", {"a": 100}, incr=True, lt=True)
    diff("zadd", "z", {"a": 1, "b": 2}, incr=True)  # DataError: incr with one pair
    diff("zadd", "z", {"a": 1}, nx=True, xx=True)  # DataError
    diff("zadd", "z", {"a": 1}, nx=True, gt=True)  # DataError
    diff("zadd", "z", {"a": 1}, gt=True, lt=True)  # server error
    diff("zrange", "z", 0, -1, withscores=True)


def test_zadd_non_utf8_big(diff):
    diff("zadd", "z", {NON_UTF8: 1, "ok": 2, BIG: 3})
    diff("zrange", "z", 1, 1)
    diff("zrange", "z", 0, 0)  # UnicodeDecodeError with decode_responses
    diff("zscore", "z", NON_UTF8)
    diff.apply(lambda c: len(c.zrange("z", 2, 2)[0]))


# ------------------------------------------------------------------ zrange family
def test_zrange_index(diff):
    diff.setup(_z)
    diff("zrange", "z", 0, -1)
    diff("zrange", "z", 1, 2)
    diff("zrange", "z", -2, -1, withscores=True)
    diff("zrange", "z", 0, -1, desc=True)
    diff("zrange", "z", 0, -1, desc=True, withscores=True)
    diff("zrange", "z", 0, -1, withscores=True, score_cast_func=int)
    diff("zrange", "z", 0, -1, withscores=True, score_cast_func=str)
    diff("zrange", "z", 0, -1, withscores=True, score_cast_func=tag)
    diff("zrange", "z", 100, 200)
    diff("zrange", "nope", 0, -1, withscores=True)
    diff("zrange", "z", 0, -1, offset=1, num=2)  # DataError: only with byscore/bylex
    diff("zrange", "z", 0, -1, offset=1)  # DataError


def test_zrange_byscore(diff):
    diff.setup(_z)
    diff("zrange", "z", 1, 3, byscore=True)
    diff("zrange", "z", "(1", 3, byscore=True)
    diff("zrange", "z", "-inf", "+inf", byscore=True, withscores=True)
    diff("zrange", "z", 3, 1, byscore=True, desc=True)
    diff("zrange", "z", "+inf", "-inf", byscore=True, desc=True, withscores=True, score_cast_func=tag)
    diff("zrange", "z", "-inf", "+inf", byscore=True, offset=1, num=2)
    diff("zrange", "z", "-inf", "+inf", byscore=True, offset=0, num=-1, withscores=True)
    diff("zrange", "z", 1.5, 4.5, byscore=True, withscores=True)
    diff("zrange", "z", "a", "b", byscore=True)  # server error
    diff("zrange", "z", 0, 1, byscore=True, bylex=True)  # DataError


def test_zrange_bylex(diff):
    diff.setup(_z)
    diff("zrange", "lex", "[b", "[d", bylex=True)
    diff("zrange", "lex", "(b", "+", bylex=True)
    diff("zrange", "lex", "-", "+", bylex=True, offset=1, num=2)
    diff("zrange", "lex", "[d", "[b", bylex=True, desc=True)
    diff("zrange", "lex", "+", "-", bylex=True, desc=True, offset=0, num=3)
    diff("zrange", "lex", "b", "d", bylex=True)  # server: min or max not valid
    diff("zrange", "lex", "-", "+", bylex=True, withscores=True)  # server error


def test_zrangestore(diff):
    diff.setup(_z)
    diff("zrangestore", "dst", "z", 0, 2)
    diff("zrange", "dst", 0, -1, withscores=True)
    diff("zrangestore", "dst", "z", 1, 3, byscore=True)
    diff("zrangestore", "dst", "z", "+inf", "-inf", byscore=True, desc=True, offset=1, num=2)
    diff("zrange", "dst", 0, -1, withscores=True)
    diff("zrangestore", "dst", "lex", "[a", "[c", bylex=True)
    diff("zrangestore", "dst", "nope", 0, -1)
    diff("exists", "dst")


def test_zrangebyscore_zrevrange(diff):
    diff.setup(_z)
    diff("zrangebyscore", "z", 1, 3)
    diff("zrangebyscore", "z", "-inf", "+inf", withscores=True)
    diff("zrangebyscore", "z", "-inf", "+inf", start=1, num=2)
    diff("zrangebyscore", "z", "-inf", "+inf", 1, 2, withscores=True, score_cast_func=tag)
    diff("zrangebyscore", "z", "-inf", "+inf", start=1)  # DataError
    diff("zrevrangebyscore", "z", 3, 1)
    diff("zrevrangebyscore", "z", "+inf", "-inf", withscores=True, start=0, num=3)
    diff("zrevrangebyscore", "z", "+inf", "-inf", withscores=True, score_cast_func=int)
    diff("zrevrange", "z", 0, 2)
    diff("zrevrange", "z", 0, -1, withscores=True)
    diff("zrevrange", "z", 0, -1, withscores=True, score_cast_func=tag)
    diff("zrangebylex", "lex", "-", "[c")
    diff("zrangebylex", "lex", "-", "+", start=1, num=2)
    diff("zrangebylex", "lex", "-", "+", start=1)  # DataError
    diff("zrevrangebylex", "lex", "+", "(b")
    diff("zrevrangebylex", "lex", "+", "-", 0, 2)
    diff("zlexcount", "lex", "-", "+")
    diff("zlexcount", "lex", "[b", "(d")
    diff("zcount", "z", "-inf", "+inf")
    diff("zcount", "z", "(1", 3)
    diff("zcount", "nope", 0, 1)


# ------------------------------------------------------------------ rank / score
def test_zrank_zscore(diff):
    diff.setup(_z)
    diff("zrank", "z", "a")
    diff("zrank", "z", "missing")
    diff("zrank", "nope", "a")
    diff("zrevrank", "z", "a")
    diff("zrevrank", "z", UNICODE)
    diff("zscore", "z", "d")
    diff("zscore", "z", UNICODE)
    diff("zscore", "z", "missing")
    diff("zscore", "nope", "a")
    diff("zmscore", "z", ["a", "missing", "d"])
    diff("zmscore", "nope", ["a"])
    diff("zmscore", "z", [])  # DataError
    diff("zincrby", "z", 2.5, "a")
    diff("zincrby", "z", -10, "new")
    diff("zincrby", "z", "x", "a")
    diff("zadd", "inf", {"i": float("inf")})
    diff("zincrby", "inf", float("-inf"), "i")  # NaN -> error
    diff("zscore", "inf", "i")


def test_zrank_withscore(diff, requires_version):
    diff.setup(_z)
    requires_version((7, 2), "ZRANK/ZREVRANK WITHSCORE")
    diff("zrank", "z", "d", withscore=True)
    diff("zrank", "z", "d", withscore=True, score_cast_func=tag)
    diff("zrank", "z", "missing", withscore=True)
    diff("zrevrank", "z", "d", withscore=True)
    diff("zrevrank", "z", "d", withscore=True, score_cast_func=int)


# ------------------------------------------------------------------ removal / pops
def test_zrem_zremrange(diff):
    diff.setup(_z)
    diff("zrem", "z", "a", "missing")
    diff("zrem", "z", "missing")
    diff("zremrangebyrank", "z", 0, 0)
    diff("zremrangebyscore", "z", "(3", "+inf")
    diff("zrange", "z", 0, -1, withscores=True)
    diff("zremrangebylex", "lex", "[b", "[c")
    diff("zrange", "lex", 0, -1)
    diff("zremrangebylex", "lex", "b", "c")
    diff("zrem", "nope", "a")


def test_zpop(diff):
    diff.setup(_z)
    diff("zpopmin", "z")
    diff("zpopmax", "z")
    diff("zpopmin", "z", 2)
    diff("zpopmax", "z", 0)
    diff("zpopmax", "z", 10)
    diff("zpopmin", "z")
    diff("zpopmin", "nope", 3)
    diff("zpopmin", "z", -1)


def test_bzpop(diff):
    diff.setup(_z)
    diff("bzpopmin", ["nope", "z"], timeout=1)
    diff("bzpopmax", "z", 1)
    diff("bzpopmin", "z2")
    diff("bzpopmin", ["e1", "e2"], timeout=0.1)
    diff("bzpopmax", "e1", timeout=0.1)
    diff("bzpopmin", "e1", timeout=-1)


def test_zmpop_bzmpop(diff):
    diff.setup(_z)
    diff("zmpop", 2, ["nope", "z"], min=True)
    diff("zmpop", 2, ["z", "z2"], max=True, count=2)
    diff("zmpop", 1, ["nope"], min=True)
    diff("zmpop", 1, ["z"])  # DataError: min or max
    diff("zmpop", 1, ["z"], min=True, max=True)  # DataError
    diff("zmpop", 1, ["z"], min=True, count=0)
    diff("bzmpop", 1, 2, ["nope", "z2"], min=True)
    diff("bzmpop", 1, 1, ["z2"], max=True, count=10)
    diff("bzmpop", 0.1, 1, ["empty"], min=True)
    diff("bzmpop", 1, 1, ["z"])  # DataError
    diff("bzmpop", -1, 1, ["z"], min=True)


# ------------------------------------------------------------------ random
def test_zrandmember(diff):
    diff("zadd", "one", {"m": 1.5})
    diff("zrandmember", "one")
    diff("zrandmember", "one", 1)
    diff("zrandmember", "one", 3)
    diff("zrandmember", "one", -2)
    diff("zrandmember", "one", 1, withscores=True)
    diff("zrandmember", "one", -2, withscores=True)
    diff("zrandmember", "one", withscores=True)  # redis-py: withscores needs count
    diff("zrandmember", "nope")
    diff("zrandmember", "nope", 2)
    diff("zrandmember", "nope", 2, withscores=True)
    diff("zadd", "many", {"a": 1, "b": 2, "c": 3})
    diff.cmp(sorted_list, "zrandmember", "many", 5)
    diff.cmp(sorted_list, "zrandmember", "many", 5, withscores=True)
    diff.cmp(lambda x: (type(x).__name__, len(x)), "zrandmember", "many", -7, withscores=True)


# ------------------------------------------------------------------ algebra
def test_zunion_zinter_zdiff(diff):
    diff.setup(_z)
    diff("zunion", ["z", "z2"])
    diff("zunion", ["z", "z2"], withscores=True)
    diff("zunion", ["z", "z2", "z3"], aggregate="MAX", withscores=True)
    diff("zunion", ["z", "z2"], aggregate="min", withscores=True, score_cast_func=tag)
    diff("zunion", {"z": 2, "z2": 0.5}, withscores=True)
    diff("zunion", {"z": 1, "z2": 1, "z3": -1}, aggregate="SUM", withscores=True)
    diff("zunion", ["z", "z2"], aggregate="AVG")
    diff("zinter", ["z", "z2"])
    diff("zinter", ["z", "z2"], withscores=True)
    diff("zinter", ["z", "z2", "z3"], aggregate="MIN", withscores=True)
    diff("zinter", {"z": 10, "z2": 1}, withscores=True)
    diff("zinter", ["z", "nope"], withscores=True)
    diff("zdiff", ["z", "z2"])
    diff("zdiff", ["z", "z2"], withscores=True)
    diff("zdiff", ["nope", "z"])


def test_zstore_commands(diff):
    diff.setup(_z)
    diff("zunionstore", "u", ["z", "z2"])
    diff("zunionstore", "u2", {"z": 2, "z2": 3}, aggregate="MAX")
    diff("zinterstore", "i", ["z", "z2"])
    diff("zinterstore", "i2", {"z": 0.5, "z3": 2}, aggregate="min")
    diff("zinterstore", "i3", ["z", "nope"])
    diff("zdiffstore", "d", ["z", "z2"])
    diff("zdiffstore", "d2", ["nope"])
    for k in ("u", "u2", "i", "i2", "d"):
        diff("zrange", k, 0, -1, withscores=True)
    diff("exists", "i3", "d2")
    diff("zintercard", 2, ["z", "z2"])
    diff("zintercard", 2, ["z", "z2"], limit=1)
    diff("zintercard", 3, ["z", "z2", "z3"])
    diff("zintercard", 3, ["z", "z2"])


# ------------------------------------------------------------------ scan
def test_zscan(diff):
    diff("zadd", "z", {"m%d" % i: i * 1.5 for i in range(40)})
    diff("zadd", "z", {UNICODE: 7})
    diff.cmp(scan_normal, "zscan", "z", count=1000)
    diff.cmp(scan_normal, "zscan", "z", 0, match="m1*", count=1000)
    diff.cmp(scan_normal, "zscan", "z", 0, count=1000, score_cast_func=int)
    diff.cmp(scan_normal, "zscan", "nope")
    diff("zadd", "small", {"a": 1, "b": 2})
    diff("zscan", "small")
    diff("zscan", "small", score_cast_func=tag)
    diff("zscan", "small", 0, count=0)


def test_zscan_iter(diff):
    diff("zadd", "z", {"m%d" % i: i for i in range(300)})
    diff.apply(lambda c: sorted(c.zscan_iter("z")))
    diff.apply(lambda c: sorted(c.zscan_iter("z", count=10, match="m1*")))
    diff.apply(lambda c: sorted(c.zscan_iter("z", score_cast_func=int)))
    diff.apply(lambda c: list(c.zscan_iter("nope")))


def test_zset_wrongtype(diff):
    diff("set", "s", "v")
    diff("zadd", "z", {"a": 1})
    for name, args, *kw in [("zadd", ("s", {"a": 1})), ("zrange", ("s", 0, -1)), ("zcard", ("s",)),
                            ("zscore", ("s", "a")), ("zrank", ("s", "a")), ("zincrby", ("s", 1, "a")),
                            ("zrem", ("s", "a")), ("zpopmin", ("s",)), ("zunion", (["z", "s"],)),
                            ("zinterstore", ("d", ["z", "s"])), ("zrangebyscore", ("s", 0, 1)),
                            ("zmpop", (1, ["s"]), {"min": True}), ("zscan", ("s",)),
                            ("zrandmember", ("s",)), ("zcount", ("s", 0, 1))]:
        diff(name, *args, **(kw[0] if kw else {}))
