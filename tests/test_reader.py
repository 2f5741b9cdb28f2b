"""Byte-level tests of the C reply reader (``redis_native._native.Reader``).

No server: replies are fed as raw RESP2 bytes, whole, split at every byte, or
mixed with garbage.  Hypothesis drives an independent pure-Python RESP2 encoder
of random reply trees and a raw-bytes fuzzer.
"""
from __future__ import annotations

import codecs
import gc
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_native import _native
from redis_native import exceptions as exc

Reader = _native.Reader
MAX_DEPTH = 512        # arrays a reply may nest (src/reader.c RN_MAX_DEPTH)
HIREDIS_LEVELS = 8     # arrays one hiredis 0.14 reader holds (its 9-task stack);
                       # src/reader.c chains readers beyond that


def read_all(data, **kwargs):
    """Feed `data` at once and return every complete reply."""
    r = Reader(**kwargs)
    r.feed(data)
    out = []
    while True:
        reply = r.gets()
        if reply is False:
            return out
        out.append(reply)


def read_one(data, **kwargs):
    replies = read_all(data, **kwargs)
    assert len(replies) == 1, replies
    return replies[0]


def same_error(a, b):
    return type(a) is type(b) and a.args == b.args


# ---------------------------------------------------------------------------
# every reply type


def test_status():
    assert read_one(b"+OK\r\n") == b"OK"
    assert read_one(b"+OK\r\n", encoding="utf-8") == "OK"
    assert read_one(b"+\r\n") == b""


def test_integer():
    assert read_one(b":0\r\n") == 0
    assert read_one(b":-1\r\n") == -1
    assert read_one(b":9223372036854775807\r\n") == 2**63 - 1
    assert read_one(b":-9223372036854775808\r\n") == -(2**63)
    assert type(read_one(b":5\r\n", encoding="utf-8")) is int


def test_bulk():
    assert read_one(b"$5\r\nhello\r\n") == b"hello"
    assert read_one(b"$0\r\n\r\n") == b""
    # a bulk string may hold CR, LF, NUL and non-UTF-8 bytes
    assert read_one(b"$6\r\n\r\n\x00\xff\r\n\r\n") == b"\r\n\x00\xff\r\n"
    assert type(read_one(b"$1\r\nx\r\n")) is bytes


def test_bulk_decoded():
    assert read_one(b"$5\r\nhello\r\n", encoding="utf-8") == "hello"
    assert read_one("$3\r\nh\u00e9\u00e9\r\n".encode("latin-1"), encoding="latin-1") == "h\u00e9\u00e9"
    assert read_one("$5\r\nh\u00e9\u00e9\r\n".encode(), encoding="utf-8") == "h\u00e9\u00e9"


def test_nil():
    assert read_one(b"$-1\r\n") is None
    assert read_one(b"*-1\r\n") is None
    assert read_one(b"$-1\r\n", encoding="utf-8") is None


def test_arrays():
    assert read_one(b"*0\r\n") == []
    assert read_one(b"*2\r\n$1\r\na\r\n:2\r\n") == [b"a", 2]
    assert read_one(b"*3\r\n$-1\r\n*-1\r\n*0\r\n") == [None, None, []]
    assert read_one(b"*2\r\n*2\r\n+a\r\n:1\r\n*1\r\n*1\r\n$1\r\nb\r\n") == [[b"a", 1], [[b"b"]]]
    assert read_one(b"*2\r\n$1\r\na\r\n+b\r\n", encoding="utf-8") == ["a", "b"]


def test_large_array_beyond_preallocation():
    n = 5000
    data = b"*%d\r\n" % n + b"".join(b":%d\r\n" % i for i in range(n))
    assert read_one(data) == list(range(n))
    nested = b"*2\r\n" + data + b"+x\r\n"
    assert read_one(nested) == [list(range(n)), b"x"]


def test_max_nesting():
    data = b"*1\r\n" * MAX_DEPTH + b":1\r\n"
    expected = 1
    for _ in range(MAX_DEPTH):
        expected = [expected]
    assert read_one(data) == expected


def test_nesting_limit_counts_empty_arrays_not_nil_arrays():
    # "*0" is one more array level; "*-1" is a nil (None), like "$-1"
    assert read_one(b"*1\r\n" * (MAX_DEPTH - 1) + b"*0\r\n") is not None
    assert read_one(b"*1\r\n" * MAX_DEPTH + b"*-1\r\n") == nest_value(MAX_DEPTH, None)
    r = Reader()
    r.feed(b"*1\r\n" * MAX_DEPTH + b"*0\r\n")
    with pytest.raises(exc.InvalidResponse):
        r.gets()


def test_multiple_replies_in_one_feed():
    data = b"+OK\r\n:1\r\n$3\r\nabc\r\n*1\r\n:2\r\n-ERR x\r\n$-1\r\n"
    replies = read_all(data)
    assert replies[:4] == [b"OK", 1, b"abc", [2]]
    assert same_error(replies[4], exc.ResponseError("x"))
    assert replies[5] is None


def test_pipeline_of_many_small_replies():
    # crosses hiredis' 1 KiB buffer compaction many times
    n = 3000
    data = b"".join(b"$4\r\n%04d\r\n" % i for i in range(n))
    r = Reader()
    got = []
    for i in range(0, len(data), 777):
        r.feed(data[i:i + 777])
        while (reply := r.gets()) is not False:
            got.append(reply)
    assert got == [b"%04d" % i for i in range(n)]
    assert not r.has_data()


# ---------------------------------------------------------------------------
# partial feeds


PARTIAL_CASES = [
    (b"+OK\r\n", b"OK"),
    (b":-123\r\n", -123),
    (b"$5\r\nhe\r\nl\r\n", b"he\r\nl"),
    (b"*3\r\n$1\r\na\r\n*2\r\n:1\r\n$-1\r\n+end\r\n", [b"a", [1, None], b"end"]),
    (b"*2\r\n*1\r\n*0\r\n*-1\r\n", [[[]], None]),
]


@pytest.mark.parametrize("data,expected", PARTIAL_CASES)
def test_byte_by_byte(data, expected):
    r = Reader()
    for i in range(len(data) - 1):
        r.feed(data[i:i + 1])
        assert r.gets() is False
    r.feed(data[-1:])
    assert r.gets() == expected
    assert r.gets() is False


@pytest.mark.parametrize("data,expected", PARTIAL_CASES)
def test_every_split_point(data, expected):
    for cut in range(len(data) + 1):
        r = Reader()
        r.feed(data[:cut])
        first = r.gets()
        if first is not False:
            assert cut == len(data) and first == expected
            continue
        r.feed(data[cut:])
        assert r.gets() == expected


def test_error_reply_byte_by_byte():
    data = b"*2\r\n-NOSCRIPT No matching script\r\n:7\r\n"
    r = Reader()
    for i in range(len(data)):
        assert r.gets() is False
        r.feed(data[i:i + 1])
    reply = r.gets()
    assert same_error(reply[0], exc.NoScriptError("No matching script"))
    assert reply[1] == 7


# ---------------------------------------------------------------------------
# feed() arguments, has_data(), pending()


def test_feed_buffer_types():
    r = Reader()
    r.feed(bytearray(b"+a\r\n"))
    r.feed(memoryview(b"+b\r\n"))
    r.feed(memoryview(b"xx+c\r\nyy")[2:-2])
    assert [r.gets(), r.gets(), r.gets(), r.gets()] == [b"a", b"b", b"c", False]


def test_feed_offset_length():
    r = Reader()
    r.feed(b"xx+OK\r\nyy", 2, 5)
    assert r.gets() == b"OK"
    r.feed(b"__:12\r\n", 2)
    assert r.gets() == 12
    r.feed(b"+ab\r\n", offset=0, length=5)
    assert r.gets() == b"ab"
    r.feed(b"abc", 3)          # empty tail is fine
    r.feed(b"abc", 1, 0)
    assert r.gets() is False


@pytest.mark.parametrize("args", [(-1,), (4,), (0, 4), (1, 3), (0, -2), (2, 2)])
def test_feed_out_of_range(args):
    r = Reader()
    with pytest.raises(ValueError):
        r.feed(b"abc", *args)


def test_feed_rejects_str():
    with pytest.raises(TypeError):
        Reader().feed("+OK\r\n")


def test_has_data_and_pending():
    r = Reader()
    assert not r.has_data() and r.pending() == 0
    r.feed(b"+OK\r\n+PA")
    assert r.has_data() and r.pending() == 8
    assert r.gets() == b"OK"
    assert r.has_data() and r.pending() == 3
    assert r.gets() is False
    # bytes of a half-parsed reply still count as pending
    assert r.pending() == 3
    r.feed(b"RTIAL\r\n")
    assert r.gets() == b"PARTIAL"
    assert not r.has_data() and r.pending() == 0


def test_pending_half_built_array():
    r = Reader()
    r.feed(b"*2\r\n:1\r\n")
    assert r.gets() is False
    assert r.pending() == 8
    r.feed(b":2\r\n")
    assert r.gets() == [1, 2]
    assert r.pending() == 0


# ---------------------------------------------------------------------------
# decoding


def test_decode_off_by_default():
    assert read_one(b"$3\r\n\xff\xfe\x00\r\n") == b"\xff\xfe\x00"


def test_decode_errors_replace():
    assert read_one(b"$2\r\n\xffa\r\n", encoding="utf-8", errors="replace") == "\ufffda"
    assert read_one(b"+\xff\r\n", encoding="utf-8", errors="surrogateescape") == "\udcff"


def test_decode_error_raises_and_reader_stays_in_sync():
    r = Reader(encoding="utf-8")
    r.feed(b"$2\r\n\xff\xfe\r\n+after\r\n")
    with pytest.raises(UnicodeDecodeError):
        r.gets()
    assert r.gets() == "after"
    assert r.gets() is False


def test_decode_error_inside_nested_array():
    r = Reader(encoding="utf-8")
    r.feed(b"*3\r\n$1\r\na\r\n*2\r\n$1\r\n\xff\r\n$1\r\nb\r\n-ERR x\r\n:5\r\n")
    with pytest.raises(UnicodeDecodeError):
        r.gets()
    assert r.gets() == 5


def test_decode_error_split_feed():
    # the bad string arrives first, the rest of the reply later
    r = Reader(encoding="ascii")
    r.feed(b"*2\r\n$1\r\n\x80\r\n")
    assert r.gets() is False
    r.feed(b"$1\r\nz\r\n+next\r\n")
    with pytest.raises(UnicodeDecodeError):
        r.gets()
    assert r.gets() == "next"


def test_gets_false_disables_decoding():
    r = Reader(encoding="utf-8")
    r.feed(b"$2\r\nab\r\n$2\r\nab\r\n")
    assert r.gets(False) == b"ab"
    assert r.gets() == "ab"


def test_errors_default_is_strict():
    r = Reader(encoding="utf-8", errors=None)
    r.feed(b"+\xff\r\n")
    with pytest.raises(UnicodeDecodeError):
        r.gets()


def test_unknown_codec_or_handler():
    with pytest.raises(LookupError):
        Reader(encoding="no-such-codec")
    with pytest.raises(LookupError):
        Reader(encoding="utf-8", errors="no-such-handler")
    with pytest.raises(TypeError):
        Reader(encoding=b"utf-8")


# ---------------------------------------------------------------------------
# error replies


ERROR_CASES = [
    (b"ERR unknown command 'FOO'", exc.ResponseError, ("unknown command 'FOO'",)),
    (b"WRONGTYPE Operation against a key holding the wrong kind of value",
     exc.ResponseError, ("WRONGTYPE Operation against a key holding the wrong kind of value",)),
    (b"NOSCRIPT No matching script. Please use EVAL.", exc.NoScriptError,
     ("No matching script. Please use EVAL.",)),
    (b"EXECABORT Transaction discarded", exc.ExecAbortError, ("Transaction discarded",)),
    (b"LOADING Redis is loading", exc.BusyLoadingError, ("Redis is loading",)),
    (b"READONLY You can't write", exc.ReadOnlyError, ("You can't write",)),
    (b"NOAUTH Authentication required.", exc.AuthenticationError, ("Authentication required.",)),
    (b"WRONGPASS invalid username-password pair", exc.AuthenticationError,
     ("invalid username-password pair",)),
    (b"NOPERM no permission", exc.NoPermissionError, ("no permission",)),
    (b"OOM command not allowed", exc.OutOfMemoryError, ("command not allowed",)),
    (b"ERR max number of clients reached", exc.ConnectionError,
     ("max number of clients reached",)),
    (b"ERR invalid password", exc.AuthenticationError, ("invalid password",)),
    (b"CLUSTERDOWN The cluster is down", exc.ClusterDownError, ("The cluster is down",)),
    (b"TRYAGAIN Multiple keys request", exc.TryAgainError, ("Multiple keys request",)),
    (b"CROSSSLOT Keys in request", exc.ClusterCrossSlotError, ("Keys in request",)),
    (b"MASTERDOWN Link down", exc.MasterDownError, ("Link down",)),
    (b"SOMETHING new", exc.ResponseError, ("SOMETHING new",)),
    (b"", exc.ResponseError, ("",)),
]


@pytest.mark.parametrize("line,cls,args", ERROR_CASES)
@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_error_reply_classes(line, cls, args, encoding):
    kwargs = {} if encoding is None else {"encoding": encoding}
    reply = read_one(b"-" + line + b"\r\n", **kwargs)
    # returned, not raised
    assert type(reply) is cls
    assert reply.args == args
    assert isinstance(reply, exc.RedisError)


def test_moved_and_ask():
    moved = read_one(b"-MOVED 3999 127.0.0.1:6381\r\n")
    assert type(moved) is exc.MovedError
    assert (moved.slot_id, moved.host, moved.port) == (3999, "127.0.0.1", 6381)
    assert moved.node_addr == ("127.0.0.1", 6381)
    ask = read_one(b"-ASK 12 [::1]:7000\r\n")
    assert type(ask) is exc.AskError
    assert (ask.slot_id, ask.host, ask.port) == (12, "[::1]", 7000)


@pytest.mark.parametrize("line", [b"MOVED x", b"MOVED", b"MOVED 1 nohostport",
                                  b"MOVED a b:c", b"ASK 1 2 3", b"MOVED 1 h:\xff"])
def test_malformed_moved_does_not_crash(line):
    reply = read_one(b"-" + line + b"\r\n")
    assert isinstance(reply, exc.ResponseError)


def test_error_message_not_utf8():
    reply = read_one(b"-ERR bad \xff\xfe bytes\r\n")
    assert type(reply) is exc.ResponseError
    assert reply.args == ("bad \ufffd\ufffd bytes",)
    # decoding of error replies does not depend on the reader's codec
    reply = read_one(b"-ERR \xe9\r\n", encoding="latin-1")
    assert reply.args == ("\ufffd",)


def test_errors_nested_in_arrays():
    # EXEC-style reply with errors at several depths
    data = (b"*4\r\n+OK\r\n-WRONGTYPE wrong\r\n*2\r\n:1\r\n-NOSCRIPT gone\r\n"
            b"*1\r\n*1\r\n-MOVED 1 h:2\r\n")
    reply = read_one(data)
    assert reply[0] == b"OK"
    assert same_error(reply[1], exc.ResponseError("WRONGTYPE wrong"))
    assert reply[2][0] == 1 and same_error(reply[2][1], exc.NoScriptError("gone"))
    assert type(reply[3][0][0]) is exc.MovedError


def test_error_reply_first_then_more():
    replies = read_all(b"-ERR a\r\n-ERR b\r\n+c\r\n")
    assert [type(x) for x in replies[:2]] == [exc.ResponseError] * 2
    assert [x.args for x in replies[:2]] == [("a",), ("b",)]
    assert replies[2] == b"c"


# ---------------------------------------------------------------------------
# protocol errors


PROTOCOL_ERRORS = [
    b"?oops\r\n",
    b"x\r\n",
    b"\r\n",
    b":abc\r\n",
    b":\r\n",
    b":1.5\r\n",
    b":99999999999999999999\r\n",
    b"$abc\r\n",
    b"$-5\r\n",
    b"$-2\r\n",
    b"$ 3\r\nabc\r\n",
    b"*-5\r\n",
    b"*-2\r\n",
    b"*2147483648\r\n",
    b"*99999999999999999999\r\n",
    b"*x\r\n",
    b"*1\r\n?\r\n",
    b"*2\r\n:1\r\n*1\r\n:z\r\n",
    b"*1\r\n" * (MAX_DEPTH + 1) + b":1\r\n",
    b"*1\r\n" * 1000,
]


@pytest.mark.parametrize("data", PROTOCOL_ERRORS)
def test_protocol_errors(data):
    r = Reader()
    r.feed(data)
    with pytest.raises(exc.InvalidResponse) as info:
        r.gets()
    assert str(info.value)                 # carries hiredis' description
    # the reader stays broken until reset
    with pytest.raises(exc.InvalidResponse):
        r.gets()
    with pytest.raises(exc.InvalidResponse):
        r.feed(b"+OK\r\n")
    assert not r.has_data()
    r.reset()
    r.feed(b"+OK\r\n")
    assert r.gets() == b"OK"


def test_protocol_error_message():
    r = Reader()
    r.feed(b"?\r\n")
    with pytest.raises(exc.InvalidResponse, match="reply type byte"):
        r.gets()
    r = Reader()
    r.feed(b"*1\r\n" * (MAX_DEPTH + 1) + b":1\r\n")
    with pytest.raises(exc.InvalidResponse, match="nested"):
        r.gets()


def test_protocol_error_after_good_replies():
    r = Reader()
    r.feed(b"+a\r\n:1\r\n*2\r\n:1\r\n!bad\r\n")
    assert r.gets() == b"a"
    assert r.gets() == 1
    with pytest.raises(exc.InvalidResponse):
        r.gets()


def test_protocol_error_beats_pending_decode_error():
    r = Reader(encoding="utf-8")
    r.feed(b"*2\r\n$1\r\n\xff\r\n?\r\n")
    with pytest.raises(exc.InvalidResponse):
        r.gets()


# ---------------------------------------------------------------------------
# hostile headers: no crash, no huge allocation


def traced_peak(fn):
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_array_header_does_not_preallocate():
    def run():
        r = Reader()
        r.feed(b"*2147483647\r\n")
        assert r.gets() is False
        r.feed(b":1\r\n" * 100)
        assert r.gets() is False
        r.feed(b"*2147483647\r\n" * (HIREDIS_LEVELS - 1))
        assert r.gets() is False
        r.reset()
    assert traced_peak(run) < 2 * 1024 * 1024


def test_huge_array_headers_at_every_level_do_not_preallocate():
    # 1024 preallocated slots a level at most: 4 MiB for 511 levels, not 2**31 each
    def run():
        r = Reader()
        r.feed(b"*2147483647\r\n" * (MAX_DEPTH - 1))
        assert r.gets() is False
        r.reset()
    assert traced_peak(run) < 8 * 1024 * 1024


def test_huge_bulk_header_waits():
    def run():
        r = Reader()
        r.feed(b"$2147483647\r\nabc")
        assert r.gets() is False
        r.feed(b"x" * 1000)
        assert r.gets() is False
        assert r.pending() == 1016
    assert traced_peak(run) < 1024 * 1024


def test_many_siblings_in_huge_array():
    r = Reader()
    r.feed(b"*2147483647\r\n" + b":7\r\n" * 50000)
    assert r.gets() is False
    r.reset()
    assert r.gets() is False
    r.feed(b"+ok\r\n")
    assert r.gets() == b"ok"


def test_deep_nesting_garbage():
    r = Reader()
    r.feed(b"*1\r\n" * 100000)
    with pytest.raises(exc.InvalidResponse):
        r.gets()


# ---------------------------------------------------------------------------
# reset and abandoned replies


def test_reset_mid_nested_array():
    r = Reader()
    r.feed(b"*3\r\n*2\r\n$3\r\nabc\r\n*1\r\n:1")
    assert r.gets() is False
    r.reset()
    assert not r.has_data()
    assert r.gets() is False
    r.feed(b"+fresh\r\n")
    assert r.gets() == b"fresh"


def test_reset_mid_decode_error():
    r = Reader(encoding="utf-8")
    r.feed(b"*2\r\n$1\r\n\xff\r\n")
    assert r.gets() is False
    r.reset()
    r.feed(b"+ok\r\n")
    assert r.gets() == "ok"


def _leak_rounds(fn, rounds):
    fn()                                   # warm up caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            fn()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


BIG = b"x" * 20000


def test_no_leak_on_reset_of_half_built_reply():
    r = Reader()

    def once():
        r.feed(b"*3\r\n*3\r\n$%d\r\n%s\r\n-ERR e\r\n*2\r\n:1\r\n" % (len(BIG), BIG))
        assert r.gets() is False
        r.reset()
    assert _leak_rounds(once, 300) < 200_000     # 300 leaked rounds would be > 6 MB


def test_no_leak_on_protocol_error_mid_reply():
    r = Reader()

    def once():
        r.feed(b"*2\r\n*2\r\n$%d\r\n%s\r\n?\r\n" % (len(BIG), BIG))
        with pytest.raises(exc.InvalidResponse):
            r.gets()
        r.reset()
    assert _leak_rounds(once, 300) < 200_000


def test_no_leak_on_decode_error():
    r = Reader(encoding="utf-8")

    def once():
        r.feed(b"*3\r\n$%d\r\n%s\r\n$1\r\n\xff\r\n:1\r\n" % (len(BIG), BIG))
        with pytest.raises(UnicodeDecodeError):
            r.gets()
    assert _leak_rounds(once, 300) < 200_000


def test_no_leak_when_reader_dropped_mid_reply():
    def once():
        r = Reader()
        r.feed(b"*2\r\n*2\r\n$%d\r\n%s\r\n" % (len(BIG), BIG))
        assert r.gets() is False
        del r
    assert _leak_rounds(once, 300) < 200_000


def test_no_leak_on_complete_replies():
    r = Reader()

    def once():
        r.feed(b"*2\r\n$%d\r\n%s\r\n-ERR x\r\n" % (len(BIG), BIG))
        assert len(r.gets()) == 2
    assert _leak_rounds(once, 300) < 200_000


# ---------------------------------------------------------------------------
# re-entrancy: Python code run by a callback (here a codec error handler)
# touches the reader that is calling it


def test_reentrant_calls_are_refused():
    seen = []

    def handler(err):
        for call in (r.gets, lambda: r.feed(b"+x\r\n")):
            try:
                call()
            except RuntimeError as e:
                seen.append(str(e))
        return ("?", err.end)

    codecs.register_error("rn-test-reenter", handler)
    r = Reader(encoding="ascii", errors="rn-test-reenter")
    r.feed(b"*2\r\n$1\r\n\x80\r\n+ok\r\n+next\r\n")
    assert r.gets() == ["?", "ok"]
    assert len(seen) == 2 and all("in use" in s for s in seen)
    assert r.gets() == "next"


def test_reset_from_a_callback_is_deferred():
    def handler(err):
        r.reset()
        return ("?", err.end)

    codecs.register_error("rn-test-reset", handler)
    r = Reader(encoding="ascii", errors="rn-test-reset")
    r.feed(b"*2\r\n$1\r\n\x80\r\n+ok\r\n+dropped\r\n")
    assert r.gets() is False          # the stream was discarded meanwhile
    assert not r.has_data()
    r.feed(b"+fresh\r\n")
    assert r.gets() == "fresh"


def test_exception_in_error_handler_propagates():
    def handler(err):
        raise KeyError("boom")

    codecs.register_error("rn-test-raise", handler)
    r = Reader(encoding="ascii", errors="rn-test-raise")
    r.feed(b"*2\r\n+\x80\r\n+\x81\r\n+ok\r\n")
    with pytest.raises(KeyError):
        r.gets()
    assert r.gets() == "ok"


# ---------------------------------------------------------------------------
# the Python type


def test_reader_type():
    assert Reader.__module__ == "redis_native._native"
    assert Reader.__name__ == "Reader"

    class Sub(Reader):
        pass

    s = Sub(encoding="utf-8")
    s.feed(b"+ok\r\n")
    assert s.gets() == "ok"


def test_reader_gc_cycle():
    class Holder(Reader):
        pass

    h = Holder()
    h.me = h
    h.feed(b"*2\r\n:1\r\n")
    assert h.gets() is False
    del h
    gc.collect()


# ---------------------------------------------------------------------------
# hypothesis: random reply trees, encoded by an independent RESP2 encoder


line_bytes = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

# Leaves of the random trees (trees() adds arrays and nil arrays above them).
scalars = st.one_of(
    st.tuples(st.just("bulk"), st.binary(max_size=40)),
    st.tuples(st.just("status"), line_bytes),
    st.tuples(st.just("int"), int64),
    st.tuples(st.just("nil")),
    st.tuples(st.just("error"), line_bytes),
    st.tuples(st.just("error"), st.sampled_from([
        b"MOVED 1 h:2", b"MOVED x", b"ASK 7 10.0.0.1:7001", b"ERR x", b"NOSCRIPT y",
        b"WRONGTYPE z", b"ERR invalid password", b"ERR"])),
)


def trees(max_depth):
    if max_depth == 0:
        return scalars
    return st.one_of(
        scalars,
        st.tuples(st.just("nilarray")),
        st.tuples(st.just("array"), st.lists(st.deferred(lambda: trees(max_depth - 1)),
                                             max_size=5)),
    )


# Deep enough to cross two chained-reader boundaries (src/reader.c).
reply_trees = trees(2 * HIREDIS_LEVELS + 2)


def encode(node):
    kind = node[0]
    if kind == "bulk":
        return b"$" + str(len(node[1])).encode() + b"\r\n" + node[1] + b"\r\n"
    if kind == "status":
        return b"+" + node[1] + b"\r\n"
    if kind == "error":
        return b"-" + node[1] + b"\r\n"
    if kind == "int":
        return b":" + str(node[1]).encode() + b"\r\n"
    if kind == "nil":
        return b"$-1\r\n"
    if kind == "nilarray":
        return b"*-1\r\n"
    assert kind == "array"
    return b"*" + str(len(node[1])).encode() + b"\r\n" + b"".join(map(encode, node[1]))


def expected(node, encoding, errors):
    kind = node[0]
    if kind in ("bulk", "status"):
        return node[1] if encoding is None else node[1].decode(encoding, errors)
    if kind == "int":
        return node[1]
    if kind in ("nil", "nilarray"):
        return None
    if kind == "error":
        return exc.parse_error_reply(node[1].decode("utf-8", "replace"))
    return [expected(child, encoding, errors) for child in node[1]]


def normalize(value):
    if isinstance(value, BaseException):
        return ("exception", type(value), value.args)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


CODECS = [(None, "strict"), ("utf-8", "replace"), ("latin-1", "strict"),
          ("utf-8", "surrogateescape")]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies=st.lists(reply_trees, min_size=1, max_size=4),
       codec=st.sampled_from(CODECS), data=st.data())
def test_random_replies_random_splits(replies, codec, data):
    encoding, errors = codec
    wire = b"".join(map(encode, replies))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    r = Reader(encoding=encoding, errors=errors)
    got = []
    start = 0
    for cut in cuts + [len(wire)]:
        r.feed(wire[start:cut])
        start = cut
        while (reply := r.gets()) is not False:
            got.append(reply)
    assert normalize(got) == normalize([expected(x, encoding, errors) for x in replies])
    assert not r.has_data()


@settings(max_examples=200, deadline=None)
@given(reply=reply_trees)
def test_random_reply_strict_decoding(reply):
    """With errors='strict' a reply either decodes exactly or raises
    UnicodeDecodeError, and the next reply is read normally either way."""
    r = Reader(encoding="utf-8")
    r.feed(encode(reply) + b"+sentinel\r\n")
    try:
        want = normalize(expected(reply, "utf-8", "strict"))
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            r.gets()
    else:
        assert normalize(r.gets()) == want
    assert r.gets() == "sentinel"


# ---------------------------------------------------------------------------
# hypothesis: hostile byte streams never crash the reader


fragments = st.sampled_from([
    b"*", b"$", b":", b"+", b"-", b"\r\n", b"\r", b"\n", b"0", b"1", b"2", b"-1", b"-2",
    b"3", b"9", b"2147483647", b"2147483648", b"4294967297", b"99999999999999999999",
    b"abc", b"\xff", b"\x00", b"ERR x", b"MOVED 1 h:2", b"MOVED x", b" ",
])
streams = st.one_of(
    st.binary(max_size=200),
    st.lists(fragments, max_size=60).map(b"".join),
)


@settings(max_examples=1000, deadline=None)
@given(stream=streams, chunk=st.integers(1, 64),
       codec=st.sampled_from([(None, None), ("utf-8", "strict"), ("utf-8", "replace")]))
def test_fuzz_random_bytes(stream, chunk, codec):
    encoding, errors = codec
    r = Reader(encoding=encoding, errors=errors)
    broken = False
    for i in range(0, len(stream), chunk):
        try:
            r.feed(stream[i:i + chunk])
        except exc.InvalidResponse:
            assert broken
            break
        while True:
            try:
                reply = r.gets()
            except exc.InvalidResponse:
                broken = True
                break
            except UnicodeDecodeError:
                assert errors == "strict"
                continue
            if reply is False:
                break
            assert isinstance(reply, (bytes, str, int, list, exc.RedisError)) or reply is None
        if broken:
            break
    r.reset()
    r.feed(b"+ok\r\n")
    assert r.gets() in (b"ok", "ok")


# ---------------------------------------------------------------------------
# deep replies: hiredis 0.14 holds 8 levels of arrays per reader, src/reader.c
# chains readers ("Deep replies"); these pin down the hand-over points.


def nest(depth, leaf=b":1\r\n"):
    return b"*1\r\n" * depth + leaf


def nest_value(depth, leaf=1):
    for _ in range(depth):
        leaf = [leaf]
    return leaf


def feed_bytewise(r, data):
    got = []
    for i in range(len(data)):
        r.feed(data[i:i + 1])
        while (reply := r.gets()) is not False:
            got.append(reply)
    return got


@pytest.mark.parametrize("depth", [7, 8, 9, 15, 16, 17, 24, 100, MAX_DEPTH])
def test_deep_single_chain(depth):
    assert read_one(nest(depth)) == nest_value(depth)
    assert read_one(nest(depth - 1, b"*0\r\n")) == nest_value(depth - 1, [])
    assert read_one(nest(depth - 1, b"*-1\r\n")) == nest_value(depth - 1, None)


def test_deep_limit():
    for tail, value in ((b":1\r\n", 1), (b"*-1\r\n", None)):
        assert read_one(nest(MAX_DEPTH, tail)) == nest_value(MAX_DEPTH, value)
    for tail in (b"*0\r\n", b"*1\r\n:1\r\n", b"*2\r\n:1\r\n*1\r\n:1\r\n"):
        r = Reader()
        r.feed(nest(MAX_DEPTH, tail))
        with pytest.raises(exc.InvalidResponse, match="nested deeper than 512 levels"):
            r.gets()
        with pytest.raises(exc.InvalidResponse):      # stuck until reset
            r.gets()
        assert not r.has_data()
        r.reset()
        r.feed(b"+ok\r\n")
        assert r.gets() == b"ok"


def test_deep_wide_levels_around_the_boundary():
    # siblings before and after the deep child at every level, several
    # children in the arrays a chained reader parses, and more replies after
    def build(depth):
        if depth == 0:
            return b"$3\r\nend\r\n", b"end"
        inner, value = build(depth - 1)
        wire = b"*4\r\n:%d\r\n" % depth + inner + b"*2\r\n+a\r\n$-1\r\n" + b"*0\r\n"
        return wire, [depth, value, [b"a", None], []]
    for depth in (6, 7, 8, 9, 10, 17, 30):
        wire, value = build(depth)
        stream = b"+before\r\n" + wire + b":42\r\n" + wire + b"-ERR after\r\n"
        for got in (read_all(stream), feed_bytewise(Reader(), stream)):
            assert got[:4] == [b"before", value, 42, value]
            assert same_error(got[4], exc.ResponseError("after"))
            assert len(got) == 5


def test_deep_level7_array_with_many_array_children():
    # a level-7 array (the last one hiredis holds) with 3000 array children:
    # more than the preallocated slots, each child parsed by a chained reader
    child = b"*2\r\n*1\r\n:5\r\n$1\r\nz\r\n"
    wire = nest(7, b"*3000\r\n" + child * 3000) + b"+next\r\n"
    got = read_all(wire)
    assert got == [nest_value(7, [[[5], b"z"]] * 3000), b"next"]


def test_deep_pending_and_has_data():
    r = Reader()
    wire = nest(20)
    r.feed(wire[:-2])
    assert r.gets() is False
    assert r.has_data() and r.pending() == len(wire) - 2
    r.feed(wire[-2:] + b"+x\r\n")
    assert r.gets() == nest_value(20)
    assert r.pending() == 4
    assert r.gets() == b"x"
    assert not r.has_data()


def test_deep_error_replies_are_instances():
    wire = nest(12, b"*2\r\n-WRONGTYPE bad\r\n-NOSCRIPT gone\r\n")
    got = read_one(wire)
    for _ in range(12):
        (got,) = got
    assert same_error(got[0], exc.parse_error_reply("WRONGTYPE bad"))
    assert type(got[1]) is exc.NoScriptError


def test_deep_decode_error_keeps_stream_in_step():
    r = Reader(encoding="utf-8")
    wire = nest(11, b"*3\r\n$1\r\n\xff\r\n" + nest(9) + b"$2\r\nok\r\n") + b"+after\r\n"
    r.feed(wire)
    with pytest.raises(UnicodeDecodeError):
        r.gets()
    assert r.gets() == "after"
    # byte by byte, too
    r = Reader(encoding="utf-8")
    with pytest.raises(UnicodeDecodeError):
        feed_bytewise(r, wire[:-8])
    r.feed(wire[-8:])
    assert r.gets() == "after"


@pytest.mark.parametrize("depth", [8, 9, 20])
def test_deep_protocol_error_inside_chained_reader(depth):
    r = Reader()
    r.feed(nest(depth, b"?garbage\r\n"))
    with pytest.raises(exc.InvalidResponse, match="reply type byte"):
        r.gets()
    with pytest.raises(exc.InvalidResponse):
        r.feed(b"+x\r\n")
    assert not r.has_data()
    r.reset()
    r.feed(b"+fresh\r\n")
    assert r.gets() == b"fresh"


def test_deep_reset_with_chained_readers_pending():
    r = Reader()
    r.feed(nest(30)[:-3])
    assert r.gets() is False
    r.reset()
    assert not r.has_data()
    r.feed(nest(30) + b"+fresh\r\n")
    assert r.gets() == nest_value(30)
    assert r.gets() == b"fresh"


def test_no_leak_deep_replies():
    r = Reader()

    def once():
        r.feed(nest(40, b"$%d\r\n%s\r\n" % (len(BIG), BIG)))
        assert r.gets() == nest_value(40, BIG)
        r.feed(nest(40)[:-2])                 # abandoned mid-reply
        assert r.gets() is False
        r.reset()
        r.feed(nest(20, b"?\r\n"))
        with pytest.raises(exc.InvalidResponse):
            r.gets()
        r.reset()
    assert _leak_rounds(once, 200) < 200_000


# Random spines: a chain of `depth` arrays with random siblings at each level.
def spines(max_depth):
    small = trees(2)
    return st.integers(1, max_depth).flatmap(lambda depth: st.tuples(
        st.lists(st.tuples(st.lists(small, max_size=2), st.lists(small, max_size=2)),
                 min_size=depth, max_size=depth),
        small))


def spine_tree(spine):
    levels, leaf = spine
    node = leaf
    for before, after in reversed(levels):
        node = ("array", before + [node] + after)
    return node


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spine=spines(40), codec=st.sampled_from(CODECS), data=st.data())
def test_random_deep_spines_random_splits(spine, codec, data):
    encoding, errors = codec
    tree = spine_tree(spine)
    wire = encode(tree) + b":7\r\n"
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    r = Reader(encoding=encoding, errors=errors)
    got = []
    start = 0
    for cut in cuts + [len(wire)]:
        r.feed(wire[start:cut])
        start = cut
        while (reply := r.gets()) is not False:
            got.append(reply)
    assert normalize(got) == normalize([expected(tree, encoding, errors), 7])
    assert not r.has_data()
