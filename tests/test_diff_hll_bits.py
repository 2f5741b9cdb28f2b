"""Differential tests: HyperLogLog (PFADD/PFCOUNT/PFMERGE) and BITFIELD,
BITFIELD_RO, BITOP, BITPOS (redis_native vs redis-py).

Also the BitFieldOperation builder object returned by ``bitfield()``: its
``command``, ``operations``, ``reset()`` and overflow bookkeeping.
"""
import pytest


NON_UTF8 = b"\xff\xfe"
UNICODE = "h\u00fdper \u2744"


# ----------------------------------------------------------------------------- HLL
def test_pfadd_pfcount(diff):
    diff("pfadd", "h", "a", "b", "c")
    diff("pfadd", "h", "a")  # no change: 0
    diff("pfadd", "h")  # creates nothing new: 0
    diff("pfadd", "new")  # creates the key: 1
    diff("pfadd", "h", 1, 2.5, b"bytes", UNICODE, NON_UTF8)
    diff("pfcount", "h")
    diff("pfcount", "new")
    diff("pfcount", "nope")
    diff("pfcount", "h", "new", "nope")
    diff("pfadd", "h", None)  # DataError
    diff("pfcount")  # wrong number of args
    diff("set", "str", "not an hll")
    diff("pfadd", "str", "a")  # WRONGTYPE / INVALIDOBJ
    diff("pfcount", "str")
    diff("lpush", "list", "x")
    diff("pfcount", "list")
    diff("get", "h")  # the raw HLL string (binary; UnicodeDecodeError when decoding)


def test_pfadd_many(diff):
    diff("pfadd", "big", *range(5000))
    diff("pfcount", "big")
    diff("pfadd", "big2", *("m%d" % i for i in range(3000, 8000)))
    diff("pfcount", "big", "big2")


def test_pfmerge(diff):
    diff("pfadd", "h1", "a", "b", "c")
    diff("pfadd", "h2", "c", "d")
    diff("pfmerge", "dst", "h1", "h2")
    diff("pfcount", "dst")
    diff("pfmerge", "h1", "h2")  # into an existing source
    diff("pfcount", "h1")
    diff("pfmerge", "dst2", "nope")
    diff("exists", "dst2")
    diff("pfmerge", "dst3")  # no sources
    diff("set", "str", "x")
    diff("pfmerge", "dst4", "h1", "str")
    diff("pfmerge", "str", "h1")


# ----------------------------------------------------------------------------- BITFIELD
def test_bitfield_basic(diff):
    diff.apply(lambda c: c.bitfield("bf").set("u8", 0, 255).get("u8", 0).get("i8", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").incrby("u8", 0, 10).incrby("i16", "#1", -5).execute())
    diff.apply(lambda c: c.bitfield("bf").get("u4", 0).get("u4", 4).get("i5", "#3").execute())
    diff.apply(lambda c: c.bitfield("bf").execute())  # no operations: []
    diff.apply(lambda c: c.bitfield("nope").get("u8", 0).execute())
    diff("get", "bf")


@pytest.mark.parametrize("overflow", ["WRAP", "SAT", "FAIL", "wrap", "sat", "fail"])
def test_bitfield_overflow(diff, overflow):
    diff.apply(lambda c: c.bitfield("bf").set("u8", 0, 250).incrby("u8", 0, 10, overflow).execute())
    diff.apply(lambda c: c.bitfield("bf").incrby("i8", 8, 200, overflow).incrby("i8", 8, 200).execute())
    diff.apply(lambda c: c.bitfield("bf", default_overflow=overflow).incrby("u2", 100, 7)
               .overflow("WRAP").incrby("u2", 100, 7).execute())
    diff("get", "bf")


def test_bitfield_errors(diff):
    diff.apply(lambda c: c.bitfield("bf").get("u99", 0).execute())
    diff.apply(lambda c: c.bitfield("bf").set("x8", 0, 1).execute())
    diff.apply(lambda c: c.bitfield("bf").get("u8", -1).execute())
    diff.apply(lambda c: c.bitfield("bf").incrby("u8", 0, 1, "BOGUS").execute())
    diff.apply(lambda c: c.bitfield("bf").set("u8", 0, None).execute())  # DataError
    diff("set", "str", "abc")
    diff.apply(lambda c: c.bitfield("str").get("u8", 0).get("u8", 8).execute())
    diff("lpush", "list", "x")
    diff.apply(lambda c: c.bitfield("list").get("u8", 0).execute())


def test_bitfield_operation_object(diff):
    """The builder object: attributes, command, reset, overflow bookkeeping."""

    def build(c):
        bf = c.bitfield("k", default_overflow="sat")
        out = [type(bf).__name__, bf.key, list(bf.operations), bf.command]
        bf.set("u8", 0, 1).incrby("u8", 0, 1, "FAIL").incrby("u8", 0, 1, "fail").get("u8", "#0")
        out += [list(bf.operations), bf.command]
        bf.reset()
        out += [list(bf.operations), bf.command]
        bf.overflow("wrap").overflow("SAT")
        out += [list(bf.operations)]
        out.append(bf.execute())
        out += [list(bf.operations), bf.command]  # execute() resets
        return out

    diff.apply(build)
    diff.apply(lambda c: type(c.bitfield("k").get("u8", 0)).__name__)
    diff.apply(lambda c: c.bitfield("k").get("u8", 0) is not None)


def test_bitfield_ro(diff):
    diff("set", "k", b"\x01\x02\xff\x80")
    diff("bitfield_ro", "k", "u8", 0)
    diff("bitfield_ro", "k", "u8", 0, [("u8", 8), ("i8", 16), ("u4", "#1"), ("i16", 16)])
    diff("bitfield_ro", "k", "u8", 0, [])
    diff("bitfield_ro", "k", "u8", 0, None)
    diff("bitfield_ro", "nope", "u8", 0, [("u8", 8)])
    diff("bitfield_ro", "k", "u99", 0)
    diff("bitfield_ro", "k", "u8", "#1", (("i8", "#2"),))
    diff("lpush", "list", "x")
    diff("bitfield_ro", "list", "u8", 0)


# ----------------------------------------------------------------------------- BITOP
@pytest.mark.parametrize("op", ["AND", "OR", "XOR", "and", "Or"])
def test_bitop(diff, op):
    diff("set", "a", b"\xff\x0f\x00")
    diff("set", "b", b"\x0f\xff")
    diff("set", "c", NON_UTF8)
    diff("bitop", op, "dst", "a", "b")
    diff("get", "dst")
    diff("bitop", op, "dst2", "a", "b", "c", "nope")
    diff("get", "dst2")
    diff("bitop", op, "dst3", "nope", "nope2")
    diff("exists", "dst3")
    diff("bitop", op, "dst4", "a")
    diff("getrange", "dst4", 0, -1)


def test_bitop_not_and_errors(diff):
    diff("set", "a", b"\xf0\x0f")
    diff("bitop", "NOT", "dst", "a")
    diff("get", "dst")
    diff("bitop", "NOT", "dst", "a", "a")  # NOT takes one key
    diff("bitop", "NAND", "dst", "a")
    diff("bitop", "AND", "dst")  # no source
    diff("lpush", "list", "x")
    diff("bitop", "AND", "dst", "a", "list")
    diff("bitop", "NOT", "nope-dst", "nope")
    diff("exists", "nope-dst")


def test_bitop_redis82_ops_wire(wire):
    for op in ("DIFF", "DIFF1", "ANDOR", "ONE"):
        wire(lambda c, op=op: c.bitop(op, "dst", "x", "y", "z"))


# ----------------------------------------------------------------------------- BITPOS
def test_bitpos_ranges_modes(diff):
    diff("set", "k", b"\x00\xff\xf0\x00")
    diff("bitpos", "k", 1)
    diff("bitpos", "k", 0)
    diff("bitpos", "k", 1, 2)
    diff("bitpos", "k", 1, 2, -1)
    diff("bitpos", "k", 0, 1, 2)
    diff("bitpos", "k", 1, 0, 15, "BIT")
    diff("bitpos", "k", 1, 9, 30, mode="BIT")
    diff("bitpos", "k", 0, 8, 23, mode="bit")
    diff("bitpos", "k", 1, 0, 1, mode="BYTE")
    diff("bitpos", "k", 1, 0, 1, mode="WORD")  # server syntax error
    diff("bitpos", "k", 1, end=3)  # DataError: end without start
    diff("bitpos", "k", 2)  # DataError: bit must be 0 or 1
    diff("bitpos", "k", True)
    diff("bitpos", "k", 1, mode="BIT")  # mode without range
    diff("bitpos", "nope", 1)
    diff("bitpos", "nope", 0)
    diff("set", "ones", b"\xff\xff")
    diff("bitpos", "ones", 0)
    diff("bitpos", "ones", 0, 0, -1)  # explicit end: -1
    diff("lpush", "list", "x")
    diff("bitpos", "list", 1)


def test_bits_wire(wire):
    wire(lambda c: c.bitfield("k", default_overflow="SAT").set("u8", "#1", 5).incrby("i4", 0, 1, "FAIL")
         .get("u8", 0).execute())
    wire(lambda c: c.bitfield_ro("k", "u8", 0, items=[("i4", "#3"), ("u16", 8)]))
    wire(lambda c: c.bitpos("k", 1, 2, 5, "BIT"))
    wire(lambda c: c.bitop("XOR", "d", "a", "b"))
    wire(lambda c: c.pfadd("h", "a", 1, 2.5))
    wire(lambda c: c.pfcount("a", "b"))
    wire(lambda c: c.pfmerge("d", "a", "b"))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff("set", "k", "abc")
    diff("pfadd", "h", ["a", "b"])
    diff("pfcount", None)
    diff("pfmerge", "d", ["a"])
    diff("bitfield_ro", "k", "u8", 0, items=[("u8",)])  # not pairs
    diff("bitfield_ro", "k", "u8", 0, items="u8")
    diff("bitfield_ro", "k", "u8", 0, items=5)
    diff("bitfield_ro", "k", None, 0)
    diff("bitop", "AND", "d", ["a", "b"])
    diff("bitop", None, "d", "a")
    diff("bitpos", "k", 1, "0")
    diff("bitpos", "k", "1")
    diff("bitpos", "k", 1, 0, 1, mode=5)
    diff.apply(lambda c: c.bitfield("k").incrby("u8", 0, 1, overflow=5).execute())
    diff.apply(lambda c: c.bitfield("k").get(None, 0).execute())
    diff.apply(lambda c: c.bitfield("k", default_overflow=3).get("u8", 0).execute())


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_hll_bits_in_pipeline(diff, transaction):
    def run(c):
        p = c.pipeline(transaction=transaction)
        p.pfadd("h", "a", "b")
        p.pfcount("h")
        p.pfmerge("h2", "h")
        p.set("k", b"\x0f\xf0")
        p.bitpos("k", 1, 0, -1)
        p.bitop("NOT", "n", "k")
        p.bitfield_ro("k", "u8", 0, [("u4", 4)])
        bf = p.bitfield("k").set("u8", 8, 255).get("u16", 0)
        out = [type(bf).__name__]
        bf.execute()  # queues on the pipeline
        return out + [p.execute()]

    diff.apply(run)
