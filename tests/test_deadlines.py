"""Deadlines survive signals, and timeout values are taken as redis-py takes them.

Signals (DESIGN rule 3).  Python installs its handlers without SA_RESTART, so
a signal cuts a blocking recv()/send()/poll() short with EINTR.  The handler
runs, and when it does not raise, the call resumes *with the time left* of the
same socket operation: a no-op SIGALRM every 200 ms must not turn a
``socket_timeout=1`` read into a read that never times out.  As in redis-py,
``socket_timeout`` bounds one socket read (each recv() gets the whole
timeout), and a whole command write (sendall); ``socket_connect_timeout``
bounds connect().

Timeout values.  redis-py stores ``socket_timeout`` and
``socket_connect_timeout`` as given and hands them to ``socket.settimeout()``
when it connects, so a value the socket module refuses (negative, NaN, inf,
out of range, not a number) raises *at connect time* with the socket module's
exception; 0 makes the socket non-blocking.  Every case runs against redis-py
7.4.1 too.

Only "finished within a generous bound" is ever asserted about time: the
machines are small and noisy.
"""
from __future__ import annotations

import decimal
import math
import signal
import socket
import threading
import time
import uuid

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")

TICK = 0.2          # the no-op signal's period
TIMEOUT = 1.0       # socket_timeout / socket_connect_timeout under test
BOUND = 10 * TIMEOUT    # "did not hang": generous, far below "never"
GUARD = 30.0        # a hang fails the test (the handler raises) instead of blocking the run


class Hung(Exception):
    """Raised by the ticking handler once GUARD seconds have passed."""


class Ticker:
    """A no-op SIGALRM handler every ``interval`` s while the block runs.

    After ``guard`` seconds the handler raises :class:`Hung` (once), so that a
    call that never returns fails the test instead of the whole run.
    """

    def __init__(self, interval: float = TICK, guard: float = GUARD):
        self.interval, self.guard = interval, guard
        self.ticks = 0
        self.hung = False

    def _handler(self, signum, frame):
        self.ticks += 1
        if not self.hung and time.monotonic() - self.started > self.guard:
            self.hung = True
            raise Hung("still blocked after %.0f s" % self.guard)

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            pytest.skip("signals are delivered to the main thread only")
        self.old = signal.signal(signal.SIGALRM, self._handler)
        self.started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        self.elapsed = time.monotonic() - self.started


@pytest.fixture(params=["native", "redis-py"])
def mod(request, impl, redis_py):
    return impl if request.param == "native" else redis_py


def no_retry(mod):
    return mod.retry.Retry(mod.backoff.NoBackoff(), 0)


def key():
    return "deadline:" + uuid.uuid4().hex


@pytest.fixture
def closing():
    objs = []

    def reg(obj):
        objs.append(obj)
        return obj

    yield reg
    for o in reversed(objs):
        try:
            o.close()
        except Exception:
            pass


# ====================================================================== fake peers
class Peer:
    """A TCP listener on 127.0.0.1 whose accepted sockets run ``serve(sock)``
    in a thread each; everything is closed at ``stop()``."""

    def __init__(self, serve=None, backlog=8):
        self.serve = serve
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(backlog)
        self.port = self.ls.getsockname()[1]
        self.socks = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.ls.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                s, _ = self.ls.accept()
            except (socket.timeout, OSError):
                continue
            self.socks.append(s)
            if self.serve is not None:
                threading.Thread(target=self._run, args=(s,), daemon=True).start()

    def _run(self, s):
        try:
            self.serve(s, self.stopping)
        except OSError:
            pass

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        self.ls.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def read_command(s):
    """Read until one whole RESP command has arrived (good enough for PING/GET)."""
    buf = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
        if buf.startswith(b"*"):
            n = int(buf[1:buf.index(b"\r\n")])
            if buf.count(b"\r\n") >= 1 + 2 * n:
                return buf
        elif b"\r\n" in buf:
            return buf


@pytest.fixture
def peer():
    made = []

    def make(serve=None, **kw):
        p = Peer(serve, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()


def blackhole():
    """A listener whose accept queue is full: a further SYN gets no answer,
    so connect() to it blocks until its timeout (Linux drops the SYN)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fillers = []
    addr = ls.getsockname()
    for _ in range(8):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(addr)
        except BlockingIOError:
            pass
        fillers.append(s)
    # the queue is full once a probe connect does not complete quickly
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        probe.connect(addr)
        full = False
    except (socket.timeout, OSError):
        full = True
    finally:
        probe.close()
    if not full:
        ls.close()
        for s in fillers:
            s.close()
        pytest.skip("could not make a listener that ignores SYNs")
    return ls, fillers


# ====================================================================== deadlines and signals
@pytest.mark.slow
def test_blpop_read_times_out_despite_signals(mod, redis_server, closing):
    """The issue's case: BLPOP 0 with socket_timeout=1 and a no-op SIGALRM every 200 ms."""
    r = closing(mod.Redis(host=redis_server.host, port=redis_server.port,
                          socket_timeout=TIMEOUT, retry=no_retry(mod)))
    r.ping()
    with pytest.raises(mod.exceptions.TimeoutError) as info:
        with Ticker() as t:
            r.blpop(key(), 0)
    assert t.elapsed < BOUND and t.ticks >= 2, (t.elapsed, t.ticks)
    assert "Timeout reading from" in str(info.value)
    assert r.ping() is True


@pytest.mark.slow
def test_read_response_times_out_despite_signals(mod, redis_server):
    pool = mod.ConnectionPool(host=redis_server.host, port=redis_server.port,
                              socket_timeout=TIMEOUT)
    conn = pool.get_connection()
    try:
        conn.send_command("BLPOP", key(), 0)
        with pytest.raises(mod.exceptions.TimeoutError):
            with Ticker() as t:
                conn.read_response()
        assert t.elapsed < BOUND and t.ticks >= 2
    finally:
        pool.release(conn)
        pool.disconnect()


@pytest.mark.slow
def test_pipeline_read_times_out_despite_signals(mod, redis_server, closing):
    r = closing(mod.Redis(host=redis_server.host, port=redis_server.port,
                          socket_timeout=TIMEOUT, retry=no_retry(mod)))
    r.ping()
    pipe = r.pipeline(transaction=False)
    pipe.ping()
    pipe.blpop(key(), 0)
    with pytest.raises(mod.exceptions.TimeoutError):
        with Ticker() as t:
            pipe.execute()
    assert t.elapsed < BOUND and t.ticks >= 2
    assert r.ping() is True


@pytest.mark.slow
def test_each_recv_gets_the_whole_timeout(mod, peer, closing):
    """socket_timeout bounds one socket read, not a whole reply (as redis-py):
    a reply dribbled in pieces 0.4 s apart arrives whole with a 1 s timeout,
    signals or not; each piece restarts the clock."""
    def dribble(s, stopping):
        while not stopping.is_set():
            if read_command(s) is None:
                return
            for piece in (b"$10\r\n01", b"234", b"567", b"89\r\n"):
                if stopping.wait(0.4):
                    return
                s.sendall(piece)

    p = peer(dribble)
    r = closing(mod.Redis(port=p.port, socket_timeout=TIMEOUT, driver_info=None,
                          retry=no_retry(mod)))
    with Ticker() as t:
        assert r.get("k") == b"0123456789"
    assert t.ticks >= 2
    with Ticker(interval=0.05):
        assert r.get("k") == b"0123456789"


@pytest.mark.slow
def test_slow_reply_within_timeout_survives_signals(mod, redis_server, closing):
    """Resuming after a signal must not shorten the wait either."""
    r = closing(mod.Redis(host=redis_server.host, port=redis_server.port,
                          socket_timeout=4 * TIMEOUT, retry=no_retry(mod)))
    r.ping()
    with Ticker() as t:
        assert r.blpop(key(), 1) is None
    assert t.ticks >= 2


@pytest.mark.slow
def test_can_read_times_out_despite_signals(mod, redis_server):
    pool = mod.ConnectionPool(host=redis_server.host, port=redis_server.port)
    conn = pool.get_connection()
    try:
        with Ticker() as t:
            assert conn.can_read(timeout=TIMEOUT) is False
        assert t.elapsed < BOUND and t.ticks >= 2
    finally:
        pool.release(conn)
        pool.disconnect()


@pytest.mark.slow
def test_connect_times_out_despite_signals(mod, closing):
    """An EINTR while waiting for connect() to complete used to abandon the
    address (ConnectionError EINTR on the last one); it must keep waiting
    until socket_connect_timeout and raise TimeoutError."""
    ls, fillers = blackhole()
    try:
        r = closing(mod.Redis(host="127.0.0.1", port=ls.getsockname()[1],
                              socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT,
                              retry=no_retry(mod), driver_info=None))
        with pytest.raises(mod.exceptions.TimeoutError) as info:
            with Ticker() as t:
                r.ping()
        assert t.elapsed < BOUND and t.ticks >= 2, (t.elapsed, t.ticks)
        assert "connecting" in str(info.value)
    finally:
        ls.close()
        for s in fillers:
            s.close()


@pytest.mark.slow
def test_connect_without_timeout_survives_signals(mod, peer, closing):
    """No connect timeout: signals while connecting are invisible."""
    def pong(s, stopping):
        while read_command(s) is not None:
            s.sendall(b"+PONG\r\n")

    p = peer(pong)
    r = closing(mod.Redis(port=p.port, driver_info=None, retry=no_retry(mod)))
    with Ticker(interval=0.001):
        for _ in range(20):
            r.connection_pool.disconnect()
            assert r.ping() is True


@pytest.mark.slow
def test_blocked_connect_without_timeout_survives_signals(mod, closing):
    """No connect timeout: connect() blocks in the kernel (redis_native makes
    one blocking connect() call then).  Signals cut it short with EINTR many
    times; the connection must go on and succeed once the server accepts."""
    ls, fillers = blackhole()
    served = threading.Event()

    def drain_then_serve():
        time.sleep(0.3)
        conns = []
        ls.settimeout(10)
        try:
            # the fillers' queued connections, then ours (its SYN retried)
            while True:
                c, _ = ls.accept()
                conns.append(c)
                c.settimeout(0.05)
                try:
                    cmd = read_command(c)
                except socket.timeout:
                    continue
                if cmd is not None and b"PING" in cmd:
                    served.set()
                    c.sendall(b"+PONG\r\n")
                    c.settimeout(5)
                    read_command(c)
                    return
        except OSError:
            pass
        finally:
            for c in conns:
                c.close()

    t = threading.Thread(target=drain_then_serve, daemon=True)
    t.start()
    try:
        r = closing(mod.Redis(host="127.0.0.1", port=ls.getsockname()[1],
                              retry=no_retry(mod), driver_info=None))
        with Ticker(interval=0.005) as tick:
            assert r.ping() is True
        assert served.is_set() and tick.ticks >= 2 and tick.elapsed < BOUND
        r.close()
        t.join(5)
    finally:
        ls.close()
        for s in fillers:
            s.close()


@pytest.mark.slow
def test_write_times_out_despite_signals(mod, peer, closing):
    """A peer that never reads: a 64 MiB SET ends with TimeoutError after
    about socket_timeout, however many signals cut the send() short."""
    p = peer()
    r = closing(mod.Redis(port=p.port, socket_timeout=TIMEOUT, driver_info=None,
                          retry=no_retry(mod)))
    with pytest.raises(mod.exceptions.TimeoutError):
        with Ticker() as t:
            r.set("big", b"x" * (64 << 20))
    assert t.elapsed < BOUND and t.ticks >= 2


# ====================================================================== timeout values
def in_thread(fn, bound=BOUND):
    """fn() in a daemon thread: a call that hangs fails the test instead of the run."""
    box = {}

    def run():
        box["out"] = fn()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(bound)
    assert not t.is_alive(), "the call hangs"
    return box["out"]


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:      # compared by class name and message
        return (type(e).__name__, str(e))


NUMERIC_VALUES = [
    pytest.param(0, id="0"),
    pytest.param(0.0, id="0.0"),
    pytest.param(-0.0, id="-0.0"),
    pytest.param(math.inf, id="inf"),
    pytest.param(-math.inf, id="-inf"),
    pytest.param(math.nan, id="nan"),
    pytest.param(-1, id="-1"),
    pytest.param(-0.5, id="-0.5"),
    pytest.param(-1e-10, id="-1e-10"),
    pytest.param(3e6, id="3e6 (over 24 days)"),
    pytest.param(9.2e9, id="9.2e9"),
    pytest.param(1e10, id="1e10"),
    pytest.param(10 ** 10, id="10**10"),
    pytest.param(10 ** 20, id="10**20"),
    pytest.param(1e300, id="1e300"),
    pytest.param(True, id="True"),
    pytest.param("abc", id="'abc'"),
    pytest.param("1", id="'1'"),
    pytest.param(decimal.Decimal("1.5"), id="Decimal"),
    pytest.param(object(), id="object()"),
]


def _normalise(o, port):
    kind, detail = o
    if isinstance(detail, str):
        detail = detail.replace(str(port), "PORT")
    return kind, detail


@pytest.mark.parametrize("value", NUMERIC_VALUES)
@pytest.mark.parametrize("which", ["socket_timeout", "socket_connect_timeout"])
def test_timeout_values_as_redis_py(which, value, impl, redis_py, redis_server):
    """Same outcome (exception class and message, or result) for a client
    built with the value and asked one non-blocking-unfriendly command: BLPOP
    with a short block, so that a non-blocking socket (timeout 0) cannot get
    lucky."""
    k = key()

    def run(module):
        kw = {which: value}
        if which == "socket_timeout":
            kw["socket_connect_timeout"] = 5
        else:
            kw["socket_timeout"] = 5
        r = module.Redis(host=redis_server.host, port=redis_server.port,
                         retry=no_retry(module), **kw)
        try:
            return outcome(lambda: r.blpop(k, 0.2))
        finally:
            r.close()

    ours = _normalise(run(impl), redis_server.port)
    theirs = _normalise(run(redis_py), redis_server.port)
    assert ours == theirs


@pytest.mark.parametrize("value", NUMERIC_VALUES)
def test_socket_timeout_value_defaults_connect_timeout(value, impl, redis_py, redis_server):
    """socket_timeout alone also serves as the connect timeout."""
    def run(module):
        r = module.Redis(host=redis_server.host, port=redis_server.port,
                         socket_timeout=value, retry=no_retry(module))
        try:
            return outcome(lambda: r.blpop(key(), 0.2))
        finally:
            r.close()

    assert _normalise(run(impl), redis_server.port) == _normalise(run(redis_py),
                                                                  redis_server.port)


@pytest.mark.parametrize("value", NUMERIC_VALUES)
def test_timeout_value_on_a_unix_socket(value, impl, redis_py, redis_server):
    path = getattr(redis_server, "unix_path", None)
    if not path:
        pytest.skip("no unix socket")

    def run(module):
        r = module.Redis(unix_socket_path=path, socket_timeout=value, retry=no_retry(module))
        try:
            return outcome(lambda: r.blpop(key(), 0.2))
        finally:
            r.close()

    assert run(impl) == run(redis_py)


@pytest.mark.parametrize("value", NUMERIC_VALUES)
def test_timeout_value_set_on_a_connection(value, impl, redis_py, redis_server):
    """Assigning is accepted (redis-py stores the value); a value the socket
    module refuses raises when the connection (re)connects."""
    def run(module):
        pool = module.ConnectionPool(host=redis_server.host, port=redis_server.port)
        conn = pool.get_connection()
        try:
            steps = [outcome(lambda: setattr(conn, "socket_timeout", value))]
            conn.disconnect()
            # BLPOP, not PING: a non-blocking socket (0) must not get lucky
            steps.append(outcome(lambda: (conn.send_command("BLPOP", key(), 0.2),
                                          conn.read_response())[1]))
            return steps
        finally:
            pool.release(conn)
            pool.disconnect()

    assert run(impl) == run(redis_py)


@pytest.mark.parametrize("value", [
    pytest.param(math.nan, id="nan"), pytest.param(-1, id="-1"), pytest.param(math.inf, id="inf"),
    pytest.param(1e10, id="1e10"), pytest.param("abc", id="'abc'"), pytest.param(0, id="0"),
    pytest.param(0.05, id="0.05"),
])
def test_can_read_timeout_values_as_redis_py(value, impl, redis_py, redis_server):
    """(inf used to overflow the poll() milliseconds into "wait for ever".)"""
    def run(module):
        pool = module.ConnectionPool(host=redis_server.host, port=redis_server.port)
        conn = pool.get_connection()
        try:
            return in_thread(lambda: outcome(lambda: conn.can_read(timeout=value)))
        finally:
            pool.release(conn)
            pool.disconnect()

    assert run(impl) == run(redis_py)


def test_can_read_with_a_huge_timeout_returns_when_data_arrives(impl, redis_server):
    """3e6 s is more milliseconds than an int holds: the wait must still be a
    long one (not an overflowed negative "forever" nor zero) and end when the
    reply arrives."""
    pool = impl.ConnectionPool(host=redis_server.host, port=redis_server.port)
    conn = pool.get_connection()
    try:
        conn.send_command("BLPOP", key(), 0.3)
        assert conn.can_read(timeout=3e6) is True
        assert conn.read_response() is None
        assert conn.can_read(timeout=0) is False
    finally:
        pool.release(conn)
        pool.disconnect()


def test_connect_with_a_huge_timeout(mod, redis_server, closing):
    r = closing(mod.Redis(host=redis_server.host, port=redis_server.port,
                          socket_timeout=3e6, socket_connect_timeout=3e6))
    assert r.ping() is True
    assert r.blpop(key(), 0.1) is None


@pytest.mark.parametrize("attr", ["socket_timeout", "socket_connect_timeout"])
def test_delete_timeout_attribute(attr, mod, redis_server):
    conn = mod.Connection(host=redis_server.host, port=redis_server.port)
    with pytest.raises(AttributeError):
        delattr(conn, attr)
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    conn.disconnect()


def test_can_read_after_connect_that_opened_nothing(mod, redis_server):
    """A connect() that returns without opening a socket: can_read must
    raise ConnectionError, not wait on descriptor -1 (for ever, with None)."""
    class NoConnect(mod.Connection):
        def connect(self, *a, **kw):
            return None

    conn = NoConnect(host=redis_server.host, port=redis_server.port)
    out = in_thread(lambda: outcome(lambda: conn.can_read(timeout=None)))
    if mod.__name__ == "redis":
        assert out[0] != "ok", out     # AttributeError: its parser was never set up
    else:
        assert out[0] == "ConnectionError", out


def test_can_read_after_failed_connect_raises(mod):
    """Nothing listens: can_read() connects, fails, and raises."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conn = mod.Connection(host="127.0.0.1", port=port, retry=no_retry(mod))
    with pytest.raises(mod.exceptions.ConnectionError):
        conn.can_read(timeout=None)
    with pytest.raises(mod.exceptions.ConnectionError):
        conn.can_read(timeout=0)
