"""Differential tests: set commands (redis_native vs redis-py)."""
from diffutil import scan_normal, sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "s\u00e9t \u2744"
BIG = b"S" * (1024 * 1024)


def _sets(c):
    c.sadd("a", 1, 2, 3, "x", "y")
    c.sadd("b", 2, 3, 4, "y")
    c.sadd("c", 3, "y", "z")


def test_sadd_smembers_scard(diff):
    diff("sadd", "s", "a", b"b", 1, 2.5, "", UNICODE)
    diff("sadd", "s", "a", "new")
    diff("sadd", "s")  # server: wrong number of args
    diff("sadd", "s", None)  # DataError
    diff("smembers", "s")
    diff("smembers", "nope")
    diff("scard", "s")
    diff("scard", "nope")
    diff("sadd", "ints", 1, 2, 3)
    diff("smembers", "ints")


def test_non_utf8_and_big(diff):
    diff("sadd", "s", NON_UTF8, "ok")
    diff("smembers", "s")  # UnicodeDecodeError with decode_responses
    diff("sismember", "s", NON_UTF8)
    diff("sadd", "big", BIG)
    diff.apply(lambda c: [len(m) for m in c.smembers("big")])
    diff("smembers", "big")


def test_sismember_smismember(diff):
    diff("sadd", "s", "a", "b", 1)
    diff("sismember", "s", "a")
    diff("sismember", "s", "z")
    diff("sismember", "s", 1)
    diff("sismember", "nope", "a")
    diff("smismember", "s", ["a", "z", 1])
    diff("smismember", "s", "a", "b")
    diff("smismember", "s", ["a"], "z")
    diff("smismember", "nope", ["a", "b"])
    diff("smismember", "s", [])


def test_srem_smove(diff):
    diff("sadd", "s", "a", "b", "c")
    diff("srem", "s", "a", "z")
    diff("srem", "s", "z")
    diff("srem", "nope", "a")
    diff("smove", "s", "d", "b")
    diff("smove", "s", "d", "z")
    diff("smove", "nope", "d", "b")
    diff("smembers", "d")
    diff("smove", "s", "d", "c")
    diff("exists", "s")


def test_spop_srandmember_single(diff):
    diff("sadd", "s", "only")
    diff("srandmember", "s")
    diff("srandmember", "s", 1)
    diff("srandmember", "s", 5)
    diff("srandmember", "s", -3)
    diff("srandmember", "s", 0)
    diff("srandmember", "nope")
    diff("srandmember", "nope", 2)
    diff("spop", "s", 0)
    diff("spop", "s")
    diff("spop", "s")
    diff("spop", "nope", 2)
    diff("sadd", "s", "x")
    diff("spop", "s", 5)
    diff("spop", "s", -1)


def test_spop_srandmember_many(diff):
    diff("sadd", "s", *range(10))
    diff.cmp(sorted_list, "srandmember", "s", 100)
    diff.cmp(lambda x: (type(x).__name__, len(x)), "srandmember", "s", -30)
    diff.cmp(lambda x: (type(x).__name__, len(x)), "spop", "s", 3)
    diff("scard", "s")
    diff.cmp(lambda x: type(x).__name__, "spop", "s")
    diff.cmp(lambda x: (type(x).__name__, len(x)), "spop", "s", 100)
    diff("exists", "s")


def test_set_algebra(diff):
    diff.setup(_sets)
    diff("sdiff", "a", "b")
    diff("sdiff", ["a", "b", "c"])
    diff("sdiff", ["a"], "b")
    diff("sdiff", "nope", "a")
    diff("sinter", "a", "b")
    diff("sinter", ["a", "b", "c"])
    diff("sinter", "a", "nope")
    diff("sunion", "a", "b")
    diff("sunion", ["a", "b", "c"])
    diff("sunion", ["nope"])
    diff("sdiffstore", "d1", ["a", "b"])
    diff("sinterstore", "d2", ["a", "b"], "c")
    diff("sunionstore", "d3", "a", "c")
    diff("sdiffstore", "d4", ["nope"])
    diff("smembers", "d1")
    diff("smembers", "d2")
    diff("smembers", "d3")
    diff("exists", "d4")


def test_sintercard(diff):
    diff.setup(_sets)
    diff("sintercard", 2, ["a", "b"])
    diff("sintercard", 3, ["a", "b", "c"])
    diff("sintercard", 2, ["a", "b"], limit=1)
    diff("sintercard", 2, ["a", "b"], limit=0)
    diff("sintercard", 1, ["nope"])
    diff("sintercard", 3, ["a", "b"])  # numkeys mismatch
    diff("sintercard", 2, ["a", "b"], limit=-1)


def test_sscan(diff):
    diff("sadd", "s", *["m%d" % i for i in range(30)])
    diff("sadd", "s", UNICODE)
    diff.cmp(scan_normal, "sscan", "s", count=1000)
    diff.cmp(scan_normal, "sscan", "s", 0, match="m1*", count=1000)
    diff.cmp(scan_normal, "sscan", "s", cursor=0, match=UNICODE, count=1000)
    diff.cmp(scan_normal, "sscan", "nope")
    diff("sscan", "s", 0, count=0)
    diff("sadd", "small", 1, 2, 3)
    diff.cmp(scan_normal, "sscan", "small")


def test_sscan_iter(diff):
    diff("sadd", "s", *["m%d" % i for i in range(300)])
    diff.apply(lambda c: sorted(c.sscan_iter("s")))
    diff.apply(lambda c: sorted(c.sscan_iter("s", count=5)))
    diff.apply(lambda c: sorted(c.sscan_iter("s", match="m2?", count=50)))
    diff.apply(lambda c: list(c.sscan_iter("nope")))


def test_set_wrongtype(diff):
    diff("set", "str", "v")
    diff("sadd", "s", "a")
    for name, args in [("sadd", ("str", 1)), ("smembers", ("str",)), ("scard", ("str",)),
                       ("sismember", ("str", 1)), ("smismember", ("str", [1])), ("srem", ("str", 1)),
                       ("spop", ("str",)), ("srandmember", ("str", 2)), ("sdiff", ("s", "str")),
                       ("sinter", ("s", "str")), ("sunion", ("str", "s")), ("smove", ("str", "s", 1)),
                       ("smove", ("s", "str", "a")), ("sscan", ("str",)), ("sintercard", (2, ["s", "str"]))]:
        diff(name, *args)
