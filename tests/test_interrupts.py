"""Signals while a command is in flight (DESIGN rules 3 and 4).

Rule 4: a connection interrupted between sending a command and reading its
complete reply (here: a SIGALRM whose handler raises, a custom exception or
KeyboardInterrupt) is disconnected before it can be reused, so it never
serves a stale reply.  Rule 3: a signal whose handler does *not* raise is
invisible: the blocking call resumes (EINTR retried) and completes normally.

Each scenario runs against redis_native and against redis-py 7.4.1 with the
same expectations:

* the exception propagates promptly (loose bound, far below the time the
  command would have blocked);
* the next commands on the same client return their own replies, with a
  write from another client in between that would complete the abandoned
  command if the server still had it (so a kept connection would show up as a
  stale reply);
* the interrupted connection is gone on the server side, and the pool holds
  no connection with unread data.

Signals are delivered to the main thread only: these tests run there (pytest
does).  Timeouts are generous; the machines are shared and noisy.
"""
from __future__ import annotations

import importlib
import random
import select
import signal
import socket
import threading
import time
import uuid

import pytest

from servers import RedisServer, wait_until

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")

ALARM = 0.3          # when the interrupting signal fires
BLOCK = 8            # how long the interrupted command would block
PROMPT = 6.0         # the exception must arrive well before BLOCK (loose, noisy machines)


class Interrupted(Exception):
    """What our SIGALRM handler raises (besides KeyboardInterrupt)."""


EXC_TYPES = [pytest.param(Interrupted, id="exception"),
             pytest.param(KeyboardInterrupt, id="KeyboardInterrupt")]


# ====================================================================== helpers
class Alarm:
    """SIGALRM after ``delay`` s (then every ``interval`` s while armed).

    With ``exc`` the handler raises ``exc`` once (the first time it runs);
    without, it only counts.  Leaving the block disarms the timer and restores
    the previous handler, even if the handler raises inside ``__exit__``.
    """

    def __init__(self, delay: float, exc=None, interval: float = 0.0):
        self.delay, self.exc, self.interval = delay, exc, interval
        self.fired = 0
        self.raised_at = None
        self.armed = False

    def _handler(self, signum, frame):
        self.fired += 1
        if self.exc is not None and self.armed and self.raised_at is None:
            self.raised_at = time.monotonic()
            raise self.exc("SIGALRM")

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            pytest.skip("signals are delivered to the main thread only")
        self.old = signal.signal(signal.SIGALRM, self._handler)
        self.armed = True
        self.started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, self.delay, self.interval)
        return self

    def __exit__(self, *exc):
        try:
            self.armed = False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)


class Impl:
    def __init__(self, module):
        self.name = module.__name__
        self.module = module
        self.exc = importlib.import_module(module.__name__ + ".exceptions")

    @property
    def is_redis_py(self):
        return self.name == "redis"

    def client(self, srv, **kw):
        # a socket_timeout far above BLOCK only bounds a hang; the default
        # retry policy stays (an interrupt is never a retryable error)
        kw.setdefault("socket_timeout", 60)
        return self.module.Redis(host=srv.host, port=srv.port, **kw)


@pytest.fixture(params=["native", "redis-py"])
def mod(request, impl, redis_py):
    return Impl(impl if request.param == "native" else redis_py)


@pytest.fixture(scope="module")
def debug_server():
    """A private server with DEBUG enabled (redis 7 refuses DEBUG by default)."""
    srv = RedisServer("--enable-debug-command", "yes")
    try:
        yield srv
    finally:
        srv.stop()


def client_ids(a):
    return {int(c["id"]) for c in a.client_list()}


def assert_gone(a, cid, timeout=5.0):
    """The server no longer has connection ``cid`` (well before BLOCK ends)."""
    assert wait_until(lambda: cid not in client_ids(a), timeout), \
        "the interrupted connection %d is still open on the server" % cid


def assert_pool_clean(r):
    """No connection in use, and no pooled connection with unread bytes."""
    pool = r.connection_pool
    if hasattr(pool, "_available_connections"):
        available, in_use = list(pool._available_connections), list(pool._in_use_connections)
    else:  # redis-py's BlockingConnectionPool: a LifoQueue (None = free slot)
        available = [c for c in list(pool.pool.queue) if c is not None]
        in_use = [c for c in pool._connections if c not in available]
    assert in_use == []
    for conn in available:
        if conn._sock is None:
            continue
        fd = conn._sock if isinstance(conn._sock, int) else conn._sock.fileno()
        readable, _, _ = select.select([fd], [], [], 0.2)
        assert not readable, "a pooled connection has unread bytes (or EOF)"
        assert not conn.can_read(timeout=0), "a pooled connection has a buffered reply"


def assert_own_replies(r, tag, n=5):
    for i in range(n):
        want = "%s-%d" % (tag, i)
        assert r.echo(want) == want.encode()
    assert r.ping() is True


def key():
    return "intr:" + uuid.uuid4().hex


def sleep_server_in_thread(srv, seconds):
    """DEBUG SLEEP ``seconds`` on a raw socket in a thread (the whole server stalls).

    Returns a join() callable.  Readiness: the command was sent; a short pause
    lets the server start sleeping.
    """
    sent = threading.Event()

    def run():
        s = socket.create_connection((srv.host, srv.port), timeout=seconds + 60)
        try:
            arg = str(seconds).encode()
            s.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$%d\r\n%s\r\n" % (len(arg), arg))
            sent.set()
            s.recv(100)
        finally:
            s.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert sent.wait(30)
    time.sleep(0.2)
    return lambda: t.join(seconds + 60)


# ====================================================================== raising handlers
@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_blpop_interrupted(mod, redis_server, admin, closing, exc_type):
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    k = key()
    cid = r.client_id()      # the (only) pooled connection, which BLPOP will use
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type) as al:
            r.blpop(k, BLOCK)
    assert al.raised_at is not None and al.raised_at - al.started < PROMPT
    assert time.monotonic() - al.started < PROMPT, "the signal did not interrupt BLPOP promptly"
    # would complete the abandoned BLPOP if its connection were still blocked
    a.rpush(k, "late")
    assert_own_replies(r, "after")
    assert_pool_clean(r)
    assert_gone(a, cid)
    # and the client keeps working for blocking commands too
    a.rpush(k, "next")
    got = r.blpop(k, 5)
    assert got in ((k.encode(), b"late"), (k.encode(), b"next"))


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_debug_sleep_interrupted(mod, debug_server, admin, closing, exc_type):
    r = closing(mod.client(debug_server))
    a = admin(debug_server)
    cid = r.client_id()
    t0 = time.monotonic()
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type):
            r.execute_command("DEBUG", "SLEEP", 2)
    assert time.monotonic() - t0 < 1.9 + PROMPT
    # the server is still asleep: these wait for it, then must get their own
    # replies, never the DEBUG SLEEP's "+OK"
    assert_own_replies(r, "after")
    assert r.set("k-after-sleep", "v") is True
    assert r.get("k-after-sleep") == b"v"
    assert_pool_clean(r)
    assert_gone(a, cid)


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_pipeline_interrupted(mod, redis_server, admin, closing, exc_type):
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    k = key()
    cid = r.client_id()
    t0 = time.monotonic()
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type):
            with r.pipeline(transaction=False) as p:
                p.echo("before")
                p.blpop(k, BLOCK)
                p.echo("behind")
                p.execute()
    assert time.monotonic() - t0 < PROMPT
    a.rpush(k, "late")
    assert_own_replies(r, "after")
    with r.pipeline(transaction=False) as p:
        p.echo("p1").echo("p2").ping()
        assert p.execute() == [b"p1", b"p2", True]
    with r.pipeline() as p:
        p.echo("t1").echo("t2")
        assert p.execute() == [b"t1", b"t2"]
    assert_pool_clean(r)
    assert_gone(a, cid)


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_transaction_interrupted(mod, debug_server, admin, closing, exc_type):
    """MULTI ... DEBUG SLEEP ... EXEC interrupted while the server runs EXEC."""
    r = closing(mod.client(debug_server))
    a = admin(debug_server)
    k = key()
    cid = r.client_id()
    t0 = time.monotonic()
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type):
            with r.pipeline() as p:
                p.set(k, "in-tx")
                p.execute_command("DEBUG", "SLEEP", 2)
                p.get(k)
                p.execute()
    assert time.monotonic() - t0 < 1.9 + PROMPT
    assert_own_replies(r, "after")
    with r.pipeline() as p:
        p.get(k).echo("x")
        # the interrupted EXEC ran on the server (it was received whole)
        assert p.execute() == [b"in-tx", b"x"]
    assert_pool_clean(r)
    assert_gone(a, cid)


# Regression guard: before df40ab9, src/connection.c conn_read_reply() closed the
# connection on a signal even under read_response(disconnect_on_error=False) (PubSub),
# so the subscription was silently dropped and the messages published before the lazy
# reconnect + resubscribe were lost; redis-py keeps the subscribed connection.


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_pubsub_get_message_interrupted(mod, redis_server, admin, closing, exc_type):
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    ch = key()
    p = closing(r.pubsub(ignore_subscribe_messages=True))
    p.subscribe(ch)
    assert wait_until(lambda: a.pubsub_numsub(ch)[0][1] == 1)
    # the subscribe confirmation is consumed (ignored) by this call
    assert p.get_message(timeout=1) is None
    t0 = time.monotonic()
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type):
            p.get_message(timeout=None)
    assert time.monotonic() - t0 < PROMPT
    # the client's own commands are unaffected
    assert_own_replies(r, "after")
    # messages published after the interrupt are delivered, in order, once each
    # (a pub/sub connection has no request in flight while it waits: there is
    # no stale reply to fear, and dropping it would lose messages)
    for i in range(3):
        assert a.publish(ch, "m%d" % i) in (0, 1)
    got = []
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        m = p.get_message(timeout=1)
        if m is not None:
            got.append((m["type"], m["data"]))
    assert got == [("message", b"m%d" % i) for i in range(3)]
    # and the subscription still works afterwards
    a.publish(ch, "later")
    m = None
    deadline = time.monotonic() + 10
    while m is None and time.monotonic() < deadline:
        m = p.get_message(timeout=1)
    assert m is not None and m["data"] == b"later"
    p.close()
    assert_pool_clean(r)


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_pubsub_interrupted_then_resubscribe_on_close(mod, redis_server, admin, closing, exc_type):
    """Whatever happens to the interrupted pub/sub connection, nothing of it leaks
    into the client's pool: after close() the pooled connection answers commands."""
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    ch = key()
    p = r.pubsub()
    p.subscribe(ch)
    assert wait_until(lambda: a.pubsub_numsub(ch)[0][1] == 1)
    with pytest.raises(exc_type):
        with Alarm(ALARM, exc_type):
            while True:           # first the subscribe confirmation, then block
                p.get_message(timeout=None)
    a.publish(ch, "unread")
    p.close()
    assert_own_replies(r, "after")
    assert_pool_clean(r)
    assert wait_until(lambda: a.pubsub_numsub(ch)[0][1] == 0)


# Regression guard: before df40ab9, src/connection.c conn_write() looped on send() with
# the GIL released and only checked for signals on EINTR.  A signal that arrives while
# a blocked send() has already copied part of the buffer makes it return a short count
# instead; the loop then blocked again and the handler only ran after the whole
# command was written and its reply read (with socket_timeout=None and a peer that
# stopped reading: never -- one Ctrl-C could not interrupt the write).  CPython's
# sendall() runs the handlers after every short send.


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_interrupt_during_large_send(mod, debug_server, admin, closing, exc_type):
    """The server stalls (DEBUG SLEEP), so sending a 64 MiB SET blocks in send():
    the signal must interrupt the write, and the half-sent command must never
    be completed by the next command's bytes."""
    r = closing(mod.client(debug_server))
    a = admin(debug_server)
    k = key()
    cid = r.client_id()
    big = b"x" * (64 << 20)
    join = sleep_server_in_thread(debug_server, 7)
    try:
        t0 = time.monotonic()
        with pytest.raises(exc_type):
            with Alarm(0.5, exc_type):
                r.set(k, big)
        elapsed = time.monotonic() - t0
    finally:
        join()
    # interrupted: about 0.5 s; not interrupted: the 7 s the server sleeps
    assert elapsed < 5.0, (
        "the signal did not interrupt the blocked send promptly (%.1fs; the server slept 7s)" % elapsed)
    assert_own_replies(r, "after")
    assert a.exists(k) == 0, "the interrupted SET was completed"
    assert_pool_clean(r)
    # the server, just awake, may still be draining megabytes of the half-sent
    # command from the closed socket before it sees the end of the stream.
    # redis-py's own run (the oracle's) sometimes still has its connection
    # open on the server here when the machine is loaded (seen under ASan and
    # beside a second test run); what this checks is redis_native's close.
    if not mod.is_redis_py:
        assert_gone(a, cid, timeout=20.0)


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_interrupt_send_to_server_that_never_reads(mod, closing, exc_type):
    """A peer that accepts and never reads: only the signal (or socket_timeout,
    30 s here) can end the write.  redis-py is interrupted at once; before
    df40ab9, without socket_timeout, redis_native blocked for ever."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    accepted = []
    stop = threading.Event()

    def accept_and_never_read():
        ls.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(ls.accept()[0])
            except socket.timeout:
                continue
            except OSError:
                return

    t = threading.Thread(target=accept_and_never_read, daemon=True)
    t.start()
    try:
        r = closing(mod.module.Redis(host="127.0.0.1", port=ls.getsockname()[1], socket_timeout=30,
                                     driver_info=None))
        t0 = time.monotonic()
        with pytest.raises(exc_type):
            with Alarm(0.5, exc_type):
                r.set("k", b"z" * (64 << 20))
        elapsed = time.monotonic() - t0
        # interrupted: about 0.5 s; not interrupted: the 30 s socket_timeout
        assert elapsed < 15, "the write was not interrupted (%.1fs, socket_timeout 30s)" % elapsed
        assert_pool_clean(r)
    finally:
        stop.set()
        t.join(10)
        ls.close()
        for c in accepted:
            c.close()


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_interrupt_during_connect_handshake(mod, debug_server, admin, closing, exc_type):
    """The handshake (CLIENT SETINFO...) is waiting for the stalled server."""
    r = closing(mod.client(debug_server, client_name="intr-handshake"))
    a = admin(debug_server)
    join = sleep_server_in_thread(debug_server, 2)
    try:
        t0 = time.monotonic()
        with pytest.raises(exc_type):
            with Alarm(ALARM, exc_type):
                r.ping()
        assert time.monotonic() - t0 < 1.9 + PROMPT
    finally:
        join()
    # the handshake's replies ("+OK" x n) must not be read as these replies
    assert_own_replies(r, "after")
    assert r.client_getname() == "intr-handshake"
    assert_pool_clean(r)
    assert wait_until(lambda: sum(1 for c in a.client_list() if c["name"] == "intr-handshake") == 1)


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", EXC_TYPES)
def test_blocking_pool_wait_interrupted(mod, redis_server, closing, exc_type):
    pool = mod.module.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                             max_connections=1, timeout=BLOCK)
    r = closing(mod.module.Redis(connection_pool=pool))
    held = pool.get_connection()
    try:
        t0 = time.monotonic()
        with pytest.raises(exc_type):
            with Alarm(ALARM, exc_type):
                r.ping()
        assert time.monotonic() - t0 < PROMPT
    finally:
        pool.release(held)
    assert_own_replies(r, "after")
    assert_pool_clean(r)


@pytest.mark.slow
def test_random_interrupt_points_never_desync(mod, debug_server, admin, closing):
    """Interrupts at random points: before the send, during it, while waiting
    for the reply, or after it was read.  Every later reply is the right one."""
    r = closing(mod.client(debug_server))
    a = admin(debug_server)
    rnd = random.Random(1234)
    k = key()
    interrupted = 0
    for i in range(40):
        delay = rnd.uniform(0.0005, 0.03)
        try:
            with Alarm(delay, Interrupted):
                kind = i % 3
                if kind == 0:
                    r.execute_command("DEBUG", "SLEEP", "0.02")
                elif kind == 1:
                    r.blpop(k, 0.05)
                else:
                    with r.pipeline(transaction=False) as p:
                        p.echo("a").execute_command("DEBUG", "SLEEP", "0.01").echo("b")
                        assert p.execute() == [b"a", b"OK", b"b"]
        except Interrupted:
            interrupted += 1
        if i % 4 == 0:
            a.rpush(k, "v%d" % i)     # a value the abandoned BLPOP could take
        assert r.echo("e%d" % i) == b"e%d" % i
        assert r.incr(k + ":n") == i + 1
    assert interrupted > 0
    assert_pool_clean(r)


# ====================================================================== non-raising handlers
# A handler that returns normally: the signal interrupts the system call (Python
# installs handlers without SA_RESTART), the handler runs, and the call must
# resume as if nothing happened.  The timer fires every 50 ms for the whole call.
TICK = 0.05


def pusher(srv, k, value, delay, redis_py):
    def run():
        time.sleep(delay)
        c = redis_py.Redis(host=srv.host, port=srv.port)
        try:
            c.rpush(k, value)
        finally:
            c.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


@pytest.mark.slow
def test_non_raising_signal_blpop_completes(mod, redis_server, closing, redis_py):
    r = closing(mod.client(redis_server))
    k = key()
    t = pusher(redis_server, k, "v", 1.0, redis_py)
    with Alarm(TICK, None, interval=TICK) as al:
        got = r.blpop(k, BLOCK)
    t.join(30)
    assert got == (k.encode(), b"v")
    assert al.fired > 1
    # and a BLPOP that times out still times out (returns None), not earlier
    with Alarm(TICK, None, interval=TICK) as al:
        t0 = time.monotonic()
        assert r.blpop(k, 1) is None
        assert time.monotonic() - t0 >= 0.9
    assert al.fired > 1
    assert_own_replies(r, "after")
    assert_pool_clean(r)


@pytest.mark.slow
def test_non_raising_signal_debug_sleep_completes(mod, debug_server, closing):
    r = closing(mod.client(debug_server))
    with Alarm(TICK, None, interval=TICK) as al:
        got = r.execute_command("DEBUG", "SLEEP", 1)
    assert got in (b"OK", True)
    assert al.fired > 1
    assert_own_replies(r, "after")
    assert_pool_clean(r)


@pytest.mark.slow
def test_non_raising_signal_pipeline_completes(mod, redis_server, closing, redis_py):
    r = closing(mod.client(redis_server))
    k = key()
    t = pusher(redis_server, k, "v", 1.0, redis_py)
    with Alarm(TICK, None, interval=TICK) as al:
        with r.pipeline(transaction=False) as p:
            p.echo("a").blpop(k, BLOCK).echo("b")
            got = p.execute()
    t.join(30)
    assert got == [b"a", (k.encode(), b"v"), b"b"]
    assert al.fired > 1
    assert_own_replies(r, "after")
    assert_pool_clean(r)


@pytest.mark.slow
def test_non_raising_signal_large_send_completes(mod, debug_server, admin, closing):
    r = closing(mod.client(debug_server))
    a = admin(debug_server)
    k = key()
    big = b"y" * (32 << 20)
    join = sleep_server_in_thread(debug_server, 1)
    try:
        with Alarm(TICK, None, interval=TICK) as al:
            assert r.set(k, big) is True
    finally:
        join()
    assert al.fired > 1
    assert a.strlen(k) == len(big)
    a.delete(k)
    assert_own_replies(r, "after")


@pytest.mark.slow
def test_non_raising_signal_pubsub_blocking_get_message(mod, redis_server, admin, closing):
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    ch = key()
    p = closing(r.pubsub(ignore_subscribe_messages=True))
    p.subscribe(ch)
    assert wait_until(lambda: a.pubsub_numsub(ch)[0][1] == 1)
    assert p.get_message(timeout=1) is None       # the confirmation

    def publish_later():
        time.sleep(1.0)
        a.publish(ch, "hello")

    t = threading.Thread(target=publish_later, daemon=True)
    t.start()
    with Alarm(TICK, None, interval=TICK) as al:
        m = p.get_message(timeout=None)
    t.join(30)
    assert al.fired > 1
    assert m is not None and m["type"] == "message" and m["data"] == b"hello"


# Regression guard: before df40ab9, src/connection.c conn_can_read() returned False when
# poll() failed with EINTR and the handler did not raise, instead of waiting the time
# left (DESIGN rule 3): PubSub.get_message(timeout=T) returned None at the first signal.


@pytest.mark.slow
def test_non_raising_signal_pubsub_get_message_with_timeout(mod, redis_server, admin, closing):
    r = closing(mod.client(redis_server))
    a = admin(redis_server)
    ch = key()
    p = closing(r.pubsub(ignore_subscribe_messages=True))
    p.subscribe(ch)
    assert wait_until(lambda: a.pubsub_numsub(ch)[0][1] == 1)
    assert p.get_message(timeout=1) is None       # the confirmation

    def publish_later():
        time.sleep(1.0)
        a.publish(ch, "hello")

    t = threading.Thread(target=publish_later, daemon=True)
    t.start()
    try:
        with Alarm(TICK, None, interval=TICK) as al:
            m = p.get_message(timeout=BLOCK)
    finally:
        t.join(30)
    assert al.fired > 1
    assert m is not None and m["data"] == b"hello"


@pytest.mark.slow
def test_non_raising_signal_blocking_pool_wait(mod, redis_server, closing):
    pool = mod.module.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                             max_connections=1, timeout=BLOCK)
    r = closing(mod.module.Redis(connection_pool=pool))
    held = pool.get_connection()

    def release_later():
        time.sleep(1.0)
        pool.release(held)

    t = threading.Thread(target=release_later, daemon=True)
    t.start()
    with Alarm(TICK, None, interval=TICK) as al:
        assert r.ping() is True
    t.join(30)
    assert al.fired > 1
    assert_own_replies(r, "after")
    # and a wait that times out still times out with the pool's error
    held = pool.get_connection()
    try:
        pool.timeout = 1
        with Alarm(TICK, None, interval=TICK):
            t0 = time.monotonic()
            with pytest.raises(mod.exc.ConnectionError):
                r.ping()
            assert time.monotonic() - t0 >= 0.9
    finally:
        pool.release(held)
