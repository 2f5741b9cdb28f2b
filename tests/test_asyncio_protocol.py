"""_native.AsyncProtocol (src/aio.c) byte by byte, with a fake transport.

The protocol packs commands into ``transport.write`` and completes its FIFO
of futures from the bytes given to ``data_received``; these tests drive both
ends by hand on a real event loop (the futures are the loop's).
"""
import asyncio
import gc

import pytest
from hypothesis import given, settings, strategies as st

from redis_native import _native, exceptions
from redis_native.client import _C_CALLBACKS, CaseInsensitiveDict
from redis_native._parsers.helpers import _RedisCallbacks, _RedisCallbacksRESP2



class FakeTransport:
    def __init__(self):
        self.written = []
        self.aborted = False
        self.closed = False

    def write(self, data):
        assert isinstance(data, bytes)
        self.written.append(data)

    def abort(self):
        self.aborted = True

    def close(self):
        self.closed = True

    def get_extra_info(self, name, default=None):
        return default

    def take(self):
        out = b"".join(self.written)
        self.written.clear()
        return out


def callbacks():
    cbs = CaseInsensitiveDict(_RedisCallbacks)
    cbs.update(_RedisCallbacksRESP2)
    cbs.update(_C_CALLBACKS)
    return cbs


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def make(loop, **kw):
    p = _native.AsyncProtocol(loop, **kw)
    t = FakeTransport()
    p.connection_made(t)
    return p, t


def result(fut):
    assert fut.done()
    return fut.result()


def test_no_instance_attributes(loop):
    p = _native.AsyncProtocol(loop)
    with pytest.raises(AttributeError):
        p.anything = 1


def test_execute_writes_and_completes_in_order(loop):
    p, t = make(loop)
    f1 = p.execute(("SET", "k", b"v"), {}, callbacks())
    f2 = p.execute(("GET", "k"), {}, callbacks())
    f3 = p.execute(("HGETALL", "h"))
    assert t.take() == (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
                        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n")
    assert p.owed == 3
    stream = b"+OK\r\n$1\r\nv\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    for i in range(len(stream)):       # one byte at a time
        p.data_received(stream[i:i + 1])
    assert result(f1) is True           # SET's callback
    assert result(f2) == b"v"
    assert result(f3) == [b"a", b"b"]   # no callbacks given: the raw reply
    assert p.owed == 0


def test_callback_options_and_special_options(loop):
    p, t = make(loop)
    f1 = p.execute(("ZRANGE", "z", 0, -1, "WITHSCORES"), {"withscores": True,
                                                          "score_cast_func": int}, callbacks())
    f2 = p.execute(("GET", "k"), {"NEVER_DECODE": True, "keys": ["k"]}, callbacks())
    f3 = p.execute(("TYPE", "k"), {"EMPTY_RESPONSE": "nothing"}, callbacks())
    p.data_received(b"*2\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nv\r\n-ERR no\r\n")
    assert result(f1) == [(b"a", 3)]
    assert result(f2) == b"v"
    assert result(f3) == "nothing"


def test_decode_and_never_decode(loop):
    p, t = make(loop, decode_responses=True)
    f1 = p.execute(("GET", "a"))
    f2 = p.execute(("GET", "b"), {"NEVER_DECODE": 1})
    p.data_received(b"$2\r\n\xc3\xa9\r\n$2\r\n\xc3\xa9\r\n")
    assert result(f1) == "\u00e9"
    assert result(f2) == b"\xc3\xa9"


def test_error_replies_are_redis_native_exceptions(loop):
    p, t = make(loop)
    futs = [p.execute(("X",)) for _ in range(3)]
    p.data_received(b"-WRONGTYPE Operation against a key\r\n-NOSCRIPT No matching\r\n"
                    b"-ERR max number of clients reached\r\n")
    assert isinstance(futs[0].exception(), exceptions.ResponseError)
    assert isinstance(futs[1].exception(), exceptions.NoScriptError)
    assert isinstance(futs[2].exception(), exceptions.ConnectionError)


def test_pipeline_one_write_one_future(loop):
    p, t = make(loop)
    fut = p.pipeline([(("SET", "a", 1), {}), (("INCR", "a"), {}), (("GET", "a"), {"NEVER_DECODE": 1})])
    assert len(t.written) == 1
    assert p.owed == 3
    p.data_received(b"+OK\r\n-ERR not an integer\r\n")
    assert not fut.done()
    p.data_received(b"$1\r\n1\r\n")
    replies = result(fut)
    assert replies[0] == b"OK" and replies[2] == b"1"
    assert isinstance(replies[1], exceptions.ResponseError)
    empty = p.pipeline([])
    assert result(empty) == []


def test_cancelled_command_keeps_its_slot(loop):
    p, t = make(loop)
    f1 = p.execute(("GET", "a"))
    f2 = p.execute(("GET", "b"))
    f1.cancel()
    p.data_received(b"$1\r\na\r\n")        # f1's reply: read and dropped
    assert not f2.done()
    p.data_received(b"$1\r\nb\r\n")
    assert result(f2) == b"b"               # never the cancelled command's reply
    assert p.owed == 0


def test_cancelled_command_does_not_run_its_callback(loop):
    p, t = make(loop)
    calls = []
    f1 = p.execute(("GET", "a"), {}, {"GET": lambda r: calls.append(r)})
    f1.cancel()
    p.data_received(b"$1\r\na\r\n")
    assert calls == []


def test_connection_lost_fails_every_waiter(loop):
    p, t = make(loop)
    f1 = p.execute(("GET", "a"))
    f2 = p.pipeline([(("GET", "a"), {}), (("GET", "b"), {})])
    r = p.read_reply()
    p.data_received(b"$1\r\na\r\n$1\r\n")  # f1 done, f2 half
    p.connection_lost(None)
    assert result(f1) == b"a"
    for f in (f2, r):
        assert isinstance(f.exception(), exceptions.ConnectionError)
        assert "Connection closed by server." in str(f.exception())
    assert p.closed and p.owed == 0
    with pytest.raises(exceptions.ConnectionError):
        p.execute(("GET", "a"))
    with pytest.raises(exceptions.ConnectionError):
        p.send(("GET", "a"))
    p.connection_lost(OSError(104, "reset"))     # a second call is harmless


def test_protocol_error_drops_the_connection(loop):
    p, t = make(loop)
    f1 = p.execute(("GET", "a"))
    f2 = p.execute(("GET", "b"))
    p.data_received(b"!garbage\r\n")
    assert isinstance(f1.exception(), exceptions.InvalidResponse)
    assert isinstance(f2.exception(), exceptions.InvalidResponse)
    assert t.aborted and p.closed
    p.data_received(b"$1\r\na\r\n")         # bytes after the loss are ignored


def test_decode_error_goes_to_its_command_only(loop):
    p, t = make(loop, decode_responses=True)
    f1 = p.execute(("GET", "a"))
    f2 = p.execute(("GET", "b"))
    p.data_received(b"$2\r\n\xff\xfe\r\n$1\r\nb\r\n")
    assert isinstance(f1.exception(), UnicodeDecodeError)
    assert result(f2) == "b"
    assert not p.closed


def test_callback_exceptions_reach_the_future(loop):
    p, t = make(loop)

    def boom(reply):
        raise ValueError("from the callback")

    def stop(reply):
        raise StopIteration

    f1 = p.execute(("GET", "a"), {}, {"GET": boom})
    f2 = p.execute(("GET", "a"), None, {"GET": stop})
    f3 = p.execute(("GET", "a"))
    p.data_received(b"$1\r\na\r\n" * 3)
    assert isinstance(f1.exception(), ValueError)
    assert isinstance(f2.exception(), RuntimeError)
    assert result(f3) == b"a"


def test_callback_reentering_the_protocol(loop):
    p, t = make(loop)
    inner = []

    def cb(reply):
        inner.append(p.execute(("PING",)))       # may queue another command
        p.data_received(b"+PONG\r\n")            # but not feed itself
        return reply

    f1 = p.execute(("GET", "a"), {}, {"GET": cb})
    p.data_received(b"$1\r\na\r\n")
    assert isinstance(f1.exception(), RuntimeError)
    assert not inner[0].done()
    p.data_received(b"+PONG\r\n")
    assert result(inner[0]) == b"PONG"


def test_messages_and_read_reply(loop):
    p, t = make(loop)
    p.data_received(b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n")   # unsolicited
    assert p.messages == 1
    assert result(p.read_reply()) == [b"message", b"c", b"x"]
    r = p.read_reply()
    with pytest.raises(exceptions.RedisError):
        p.read_reply()                          # one reader at a time
    r.cancel()                                  # a reader that gave up...
    p.data_received(b"$1\r\ny\r\n")
    assert p.messages == 1                      # ...loses nothing
    assert result(p.read_reply(False)) == b"y"


def test_send_and_send_packed_replies_are_messages(loop):
    p, t = make(loop)
    assert p.send(("SUBSCRIBE", "a")) is None
    assert p.send_packed(b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n") == 2
    assert p.send_packed([b"*1\r\n$4\r\nPING\r\n", b"PING\r\n"]) == 2
    f = p.execute(("GET", "k"))
    assert p.owed == 6
    p.data_received(b"+1\r\n+2\r\n+3\r\n+4\r\n+5\r\n$1\r\nk\r\n")
    assert result(f) == b"k"                    # not a reply of an earlier send
    assert [result(p.read_reply()) for _ in range(5)] == [b"1", b"2", b"3", b"4", b"5"]


@pytest.mark.parametrize("bad", [None, True, {"a": 1}, [1], object()],
                         ids=lambda v: type(v).__name__)
def test_bad_arguments_raise_dataerror_and_write_nothing(loop, bad):
    p, t = make(loop)
    with pytest.raises(exceptions.DataError):
        p.execute(("SET", "k", bad))
    with pytest.raises(exceptions.DataError):
        p.pipeline([(("GET", "a"), {}), (("SET", "k", bad), {})])
    with pytest.raises(exceptions.DataError):
        p.send(("SET", bad))
    assert t.written == [] and p.owed == 0


@pytest.mark.parametrize("call", [
    lambda p: p.execute(),
    lambda p: p.execute(["GET", "k"]),
    lambda p: p.execute(()),
    lambda p: p.execute(("GET",), ["opts"]),
    lambda p: p.execute(("GET",), {}, None, 4),
    lambda p: p.pipeline(5),
    lambda p: p.pipeline([("GET", "k")]),
    lambda p: p.pipeline([(["GET"], {})]),
    lambda p: p.pipeline([(("GET",), 3)]),
    lambda p: p.send(["GET"]),
    lambda p: p.send_packed(5),
    lambda p: p.send_packed([b"ok", 5]),
    lambda p: p.read_reply(1, 2),
    lambda p: p.data_received("str"),
    lambda p: p.data_received(None),
], ids=range(15))
def test_bad_calls_raise_typeerror(loop, call):
    p, t = make(loop)
    with pytest.raises(TypeError):
        call(p)
    assert p.owed == 0


def test_constructor_validation(loop):
    with pytest.raises(AttributeError):
        _native.AsyncProtocol(object())
    with pytest.raises(TypeError):
        _native.AsyncProtocol(type("L", (), {"create_future": 5})())
    with pytest.raises(TypeError):
        _native.AsyncProtocol(loop, 5)
    with pytest.raises(TypeError):
        _native.AsyncProtocol()
    p = _native.AsyncProtocol(loop)
    with pytest.raises(exceptions.ConnectionError):
        p.execute(("GET", "k"))                 # not connected yet
    with pytest.raises(AttributeError):
        p.connection_made(object())             # no write()


def test_bad_encoding_surfaces_at_pack_time(loop):
    p, t = make(loop, encoding="no-such-codec")
    with pytest.raises(LookupError):
        p.execute(("SET", "k", "str"))
    assert t.written == []


def test_abort_and_close(loop):
    p, t = make(loop)
    f = p.execute(("GET", "a"))
    p.abort()
    assert t.aborted and p.closed
    assert isinstance(f.exception(), exceptions.ConnectionError)
    p.abort()                                   # idempotent
    p2, t2 = make(loop)
    p2.close()
    assert t2.closed


def test_garbage_collection_with_waiters(loop):
    p, t = make(loop)
    futs = [p.execute(("GET", "a")) for _ in range(100)]
    del p
    gc.collect()
    assert all(not f.done() for f in futs)


REPLIES = [
    (b"+OK\r\n", b"OK"),
    (b":-12\r\n", -12),
    (b"$-1\r\n", None),
    (b"$0\r\n\r\n", b""),
    (b"$5\r\nab\r\nc\r\n", b"ab\r\nc"),
    (b"*-1\r\n", None),
    (b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", [[1], b"x"]),
    (b"*0\r\n", []),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(range(len(REPLIES))), min_size=1, max_size=12),
       st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40))
def test_any_split_of_the_stream_gives_the_same_results(picks, cuts):
    loop = asyncio.new_event_loop()
    try:
        p, t = make(loop)
        futs = [p.execute(("X",)) for _ in picks]
        stream = b"".join(REPLIES[i][0] for i in picks)
        pos, k = 0, 0
        while pos < len(stream):
            step = cuts[k % len(cuts)]
            p.data_received(memoryview(stream)[pos:pos + step])
            pos += step
            k += 1
        assert [f.result() for f in futs] == [REPLIES[i][1] for i in picks]
    finally:
        loop.close()


def test_user_code_closing_the_connection_while_packing(loop):
    """A callbacks mapping or an argument's repr() (user code run while a
    command is prepared) that closes the connection gets ConnectionError, and
    nothing is queued."""
    p, t = make(loop)

    class Closing:                      # not a dict: looked up with `in`
        def __contains__(self, name):
            p.abort()
            return False

    with pytest.raises(exceptions.ConnectionError):
        p.execute(("GET", "k"), {}, Closing())

    p, t = make(loop)

    class Float(float):
        def __repr__(self):
            p.abort()
            return "1.5"

    with pytest.raises(exceptions.ConnectionError):
        p.execute(("SET", "k", Float(1.5)))
    assert p.owed == 0 and t.written == []


def test_random_calls_never_crash(loop):
    """Random methods with random arguments (bytes, garbage replies, wrong
    types, callables): every call returns or raises an exception, the
    counters stay sane, and the process survives (run under ASan too)."""
    import random

    class T(FakeTransport):
        pass

    vals = [None, 1, -1, 2 ** 70, 1.5, "s", b"b", (), ("GET",), ("GET", "k"), [], {},
            {"NEVER_DECODE": 1}, {"EMPTY_RESPONSE": 0}, {"keys": 1, "x": 2}, object(), T(),
            [(("GET",), {})], memoryview(b"+OK\r\n"), b"+OK\r\n", b"$3\r\nabc\r\n",
            b"*2\r\n:1\r\n", b"-ERR x\r\n", b"\xff\r\n", lambda *a, **k: 1, {"GET": None},
            {"GET": 5}, True]
    names = ["connection_made", "data_received", "eof_received", "connection_lost",
             "pause_writing", "resume_writing", "execute", "pipeline", "send", "send_packed",
             "read_reply", "abort", "close"]
    rnd = random.Random(7)
    futures = []
    for i in range(4000):
        if i % 200 == 0:
            p = _native.AsyncProtocol(loop, decode_responses=rnd.random() < 0.5)
            p.connection_made(T())
        method = getattr(p, rnd.choice(names))
        args = [rnd.choice(vals) for _ in range(rnd.randrange(0, 4))]
        try:
            out = method(*args)
        except Exception:
            continue
        if isinstance(out, asyncio.Future):
            futures.append(out)
        assert p.owed >= 0 and p.messages >= 0
    for f in futures:          # retrieve what the futures got, to keep the log quiet
        if f.done() and not f.cancelled():
            f.exception()


def test_drained_follows_pause_and_resume(loop):
    p, t = make(loop)
    assert p.drained().done()                    # not paused: at once
    p.pause_writing()
    assert p.paused
    f1, f2 = p.drained(), p.drained()
    assert not f1.done() and not f2.done()
    p.resume_writing()
    assert f1.done() and f2.done() and not p.paused
    p.pause_writing()
    f3 = p.drained()
    f4 = p.execute(("GET", "k"))
    p.connection_lost(None)                      # the loss wakes the writer...
    assert f3.done() and f3.result() is None
    assert isinstance(f4.exception(), exceptions.ConnectionError)   # ...its command fails
