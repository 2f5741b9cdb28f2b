"""Who owns a connection's buffers and state while its I/O runs without the GIL
(DESIGN rule 8), and the rest of a Connection's state reachable from Python.

A send packs into the connection's output buffer and writes it with the GIL
released; a read fills its input buffer the same way.  Meanwhile another
thread holding the GIL may use the same connection: a second send_command
(a pub/sub worker's health-check PING racing subscribe()), a read, or
disconnect() (a pool disconnecting a connection in use), which trims the
output buffer.  The rules checked here:

* never interleaved bytes on the wire: writes are serialised (a second writer
  waits for the first);
* one reader at a time: a second reader gets a clear RedisError ("in use by
  another thread"), and a thread re-entering its own I/O (a signal handler
  during the read) gets one too;
* never a use-after-free: the buffer in use is out of the struct while the
  GIL is released (``make asan-test PYTEST_ARGS=tests/test_buffer_ownership.py``
  runs these under AddressSanitizer);
* buffers shrink back after a large command.

The last part checks the Connection's other Python-facing state: GC traversal
of a half-read reply, descriptors inherited through fork(), a subclass whose
_host_error() returns something odd, and every attribute setter.
"""
from __future__ import annotations

import gc
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import uuid

import pytest

BOUND = 60.0        # "did not hang": generous on small, noisy machines


def no_retry(mod):
    return mod.retry.Retry(mod.backoff.NoBackoff(), 0)


def join_all(threads, bound=BOUND):
    deadline = time.monotonic() + bound
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a thread hangs"


def in_thread(fn, bound=BOUND):
    box = {}

    def run():
        try:
            box["out"] = fn()
        except BaseException as e:      # noqa: BLE001 - returned for assertions
            box["exc"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


@pytest.fixture
def server(server_factory):
    """A private server: the tests read its counters."""
    return server_factory()


def error_replies(admin):
    stats = admin.info("stats")
    return stats.get("total_error_replies", 0)


# ====================================================================== concurrent writers
def test_two_threads_sending_on_one_connection_never_interleave(impl, redis_py, server):
    """Two threads send large distinct SETs on ONE connection, a third reads
    the replies: every command reaches the server whole (values intact, no
    protocol error), however the sends race."""
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl))
    conn.connect()
    admin = redis_py.Redis(host=server.host, port=server.port)
    errors_before = error_replies(admin)
    per_thread, size = 30, 256 * 1024
    sent = []
    failures = []
    lock = threading.Lock()

    def sender(tag):
        for i in range(per_thread):
            k = "own:%s:%d" % (tag, i)
            v = (tag.encode() * size)[:size] + b"%d" % i
            try:
                conn.send_command("SET", k, v)
            except impl.exceptions.RedisError as e:
                failures.append(e)
                return
            with lock:
                sent.append((k, v))

    threads = [threading.Thread(target=sender, args=(t,), daemon=True) for t in "ab"]
    for t in threads:
        t.start()
    join_all(threads)
    assert failures == []
    for _ in range(len(sent)):
        assert conn.read_response() == b"OK"
    assert conn._replies_owed == 0
    for k, v in sent:
        assert admin.get(k) == v
    assert error_replies(admin) == errors_before, "the server saw garbage"
    conn.disconnect()
    admin.close()


def test_health_check_ping_racing_subscribe(impl, redis_py, server):
    """A pub/sub connection: a worker thread reads every reply while two
    threads send, one PINGs (as a pub/sub health check does) and one
    SUBSCRIBEs.  Every reply read is a well-formed pub/sub reply, and the
    server never saw garbage."""
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl),
                           socket_timeout=20)
    conn.connect()
    admin = redis_py.Redis(host=server.host, port=server.port)
    errors_before = error_replies(admin)
    conn.send_command("SUBSCRIBE", "first")
    assert conn.read_response()[0] == b"subscribe"
    n = 300
    got = []
    bad = []

    def reader():
        try:
            while len(got) < 2 * n:
                got.append(conn.read_response(disconnect_on_error=False))
        except BaseException as e:     # noqa: BLE001
            bad.append(e)

    def pinger():
        for i in range(n):
            conn.send_command("PING", "hc-%d" % i, check_health=False)

    def subscriber():
        for i in range(n):
            conn.send_command("SUBSCRIBE", "ch-%d" % i)

    threads = [threading.Thread(target=f, daemon=True) for f in (reader, pinger, subscriber)]
    for t in threads:
        t.start()
    join_all(threads)
    assert bad == []
    pongs = [m for m in got if m[0] == b"pong"]
    subs = [m for m in got if m[0] == b"subscribe"]
    assert len(pongs) == n and len(subs) == n, got[:5]
    assert sorted(m[1] for m in pongs) == sorted(b"hc-%d" % i for i in range(n))
    assert error_replies(admin) == errors_before
    conn.disconnect()
    admin.close()


def test_second_reader_gets_a_clear_error(impl, server):
    """A thread blocked reading; another thread's read_response on the same
    connection raises RedisError at once (it used to read from the same
    socket into the same buffer), and the first reader gets its reply."""
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl))
    conn.connect()
    k = "blk:" + uuid.uuid4().hex
    conn.send_command("BLPOP", k, 20)
    t, box = in_thread(conn.read_response)
    time.sleep(0.3)
    with pytest.raises(impl.exceptions.RedisError, match="in use by another thread") as info:
        conn.read_response()
    assert not isinstance(info.value, impl.exceptions.ConnectionError)  # not retryable
    with pytest.raises(impl.exceptions.RedisError, match="in use by another thread"):
        conn.can_read(timeout=0)
    helper = impl.Redis(host=server.host, port=server.port)
    helper.rpush(k, "v")
    helper.close()
    t.join(BOUND)
    assert not t.is_alive()
    assert box.get("out") == [k.encode(), b"v"], box
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    conn.disconnect()


def test_request_on_a_connection_another_thread_reads_is_refused(impl, server):
    """The C request path (command + its reply) on a connection whose reply
    another thread is waiting for: a clear error, and the waiting thread is
    not disturbed (no reconnect under it)."""
    pool = impl.ConnectionPool(host=server.host, port=server.port)
    conn = pool.get_connection()
    k = "blk:" + uuid.uuid4().hex
    conn.send_command("BLPOP", k, 20)
    t, box = in_thread(conn.read_response)
    time.sleep(0.3)
    with pytest.raises(impl.exceptions.RedisError, match="in use"):
        conn._execute_pipeline([(("PING",), {})])
    helper = impl.Redis(host=server.host, port=server.port)
    helper.rpush(k, "v")
    helper.close()
    t.join(BOUND)
    assert box.get("out") == [k.encode(), b"v"], box
    pool.release(conn)
    pool.disconnect()


# ====================================================================== disconnect during I/O
@pytest.fixture
def silent_peer():
    """Accepts connections and never reads: a large send blocks."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        ls.settimeout(0.1)
        while not stop.is_set():
            try:
                s, _ = ls.accept()
            except (socket.timeout, OSError):
                continue
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            held.append(s)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield ls.getsockname()[1]
    stop.set()
    t.join(5)
    ls.close()
    for s in held:
        s.close()


def test_disconnect_from_another_thread_during_a_large_send(impl, silent_peer):
    """disconnect() (which trims the output buffer) while another thread's
    send of that buffer is blocked: the sender gets ConnectionError, the
    buffer it was sending is never freed under it (ASan), and the connection
    works again afterwards."""
    for _ in range(5):
        conn = impl.Connection(port=silent_peer, socket_timeout=30, retry=no_retry(impl),
                               driver_info=None)
        conn.connect()
        t, box = in_thread(lambda: conn.send_command("SET", "big", b"x" * (16 << 20)))
        time.sleep(0.3)
        conn.disconnect()
        t.join(BOUND)
        assert not t.is_alive(), "disconnect() did not wake the blocked send"
        assert isinstance(box.get("exc"), impl.exceptions.ConnectionError), box
        assert conn._replies_owed == 0
        conn.disconnect()


def test_pool_disconnect_while_connections_are_in_use(impl, server):
    """Threads run big and small commands while another thread keeps calling
    pool.disconnect() (in-use connections included): each command returns
    its own reply or raises ConnectionError; nothing else, never a crash."""
    r = impl.Redis(host=server.host, port=server.port, max_connections=6,
                   retry=no_retry(impl))
    stop = time.monotonic() + 3
    wrong = []
    big = b"y" * (1 << 20)

    def worker(n):
        i = 0
        while time.monotonic() < stop:
            i += 1
            token = "%d-%d" % (n, i)
            try:
                if i % 7 == 0:
                    r.set("big-%d" % n, big)
                    got = r.strlen("big-%d" % n)
                    if got != len(big):
                        wrong.append(("strlen", got))
                    continue
                got = r.echo(token)
            except (impl.exceptions.ConnectionError, impl.exceptions.MaxConnectionsError):
                continue
            if got != token.encode():
                wrong.append((token, got))

    def closer():
        while time.monotonic() < stop:
            r.connection_pool.disconnect()
            time.sleep(random.uniform(0, 0.01))

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(4)]
    threads.append(threading.Thread(target=closer, daemon=True))
    for t in threads:
        t.start()
    join_all(threads)
    assert wrong == []
    assert r.ping() is True
    r.close()


def test_threads_hammering_one_connection(impl, server):
    """send_command/read_response from two threads and disconnect() from a
    third on ONE connection: every call returns or raises a RedisError
    subclass; never a crash, never a reply that is not a reply to a command
    sent on it (all replies here are b"OK" or an ECHO of a known token)."""
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl),
                           socket_timeout=10)
    stop = time.monotonic() + 3
    tokens = set()
    odd = []
    other = []

    def user(n):
        i = 0
        while time.monotonic() < stop:
            i += 1
            token = b"%d-%d" % (n, i)
            tokens.add(token)
            try:
                if i % 5 == 0:
                    conn.send_command("SET", "k%d" % n, b"z" * 200000)
                else:
                    conn.send_command("ECHO", token)
                got = conn.read_response()
            except impl.exceptions.RedisError:
                continue
            except BaseException as e:      # noqa: BLE001
                other.append(e)
                return
            if got != b"OK" and got not in tokens:
                odd.append(got)

    def closer():
        while time.monotonic() < stop:
            time.sleep(random.uniform(0, 0.005))
            conn.disconnect()

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(2)]
    threads.append(threading.Thread(target=closer, daemon=True))
    for t in threads:
        t.start()
    join_all(threads)
    assert other == [] and odd == []
    conn.disconnect()
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    conn.disconnect()


# ====================================================================== re-entry from a signal handler
@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handler_reading_the_connection_it_interrupted(impl, server):
    """A handler that reads from the connection whose read it interrupted
    would read the same socket into the same buffer: it gets RedisError
    instead, the interrupted read raises it, and the connection is dropped
    (DESIGN rule 4), never reused with half a reply."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals go to the main thread")
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl),
                           socket_timeout=20)
    conn.connect()
    seen = []

    def handler(signum, frame):
        try:
            conn.read_response()
        except impl.exceptions.RedisError as e:
            seen.append(e)
            raise

    old = signal.signal(signal.SIGALRM, handler)
    try:
        conn.send_command("BLPOP", "never:" + uuid.uuid4().hex, 5)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(impl.exceptions.RedisError, match="already in use by this thread"):
            conn.read_response()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert len(seen) == 1
    assert not conn.is_connected and conn._replies_owed == 0
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    conn.disconnect()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handler_writing_the_connection_it_interrupted(impl, silent_peer):
    """Same for a write: a handler sending on the connection whose large send
    it interrupted would put its bytes in the middle of the command."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals go to the main thread")
    conn = impl.Connection(port=silent_peer, socket_timeout=20, retry=no_retry(impl),
                           driver_info=None)
    conn.connect()
    seen = []

    def handler(signum, frame):
        try:
            conn.send_command("PING")
        except impl.exceptions.RedisError as e:
            seen.append(e)
            raise

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(impl.exceptions.RedisError, match="already in use by this thread"):
            conn.send_command("SET", "big", b"x" * (32 << 20))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert len(seen) == 1
    assert not conn.is_connected
    conn.disconnect()


# ====================================================================== shrinking
def test_output_buffer_shrinks_after_a_large_command(impl, server):
    """A 24 MiB SET must not leave 24 MiB pinned in the connection's output
    buffer until it disconnects (traced: the buffer is PyMem_Raw memory)."""
    conn = impl.Connection(host=server.host, port=server.port, retry=no_retry(impl))
    conn.connect()
    value = b"v" * (24 << 20)
    tracemalloc.start()
    try:
        conn.send_command("SET", "large", value)
        assert conn.read_response() == b"OK"
        del value
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < (4 << 20), "%d bytes still traced after the command" % current
    conn.send_command("STRLEN", "large")
    assert conn.read_response() == 24 << 20
    conn.disconnect()


def test_pipeline_buffer_shrinks_too(impl, server):
    r = impl.Redis(host=server.host, port=server.port)
    pipe = r.pipeline(transaction=False)
    for i in range(8):
        pipe.set("pl%d" % i, b"w" * (2 << 20))
    tracemalloc.start()
    try:
        assert pipe.execute() == [True] * 8
        del pipe
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < (4 << 20), current
    r.close()


# ====================================================================== GC, fork, odd subclasses
def test_gc_sees_a_half_read_reply(impl):
    """The reader keeps a half-built reply between reads (a read that timed
    out with disconnect_on_error=False): tp_traverse must report it, or a
    cycle through it could never be collected."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    conn = impl.Connection(port=ls.getsockname()[1], socket_timeout=0.3, retry=no_retry(impl),
                           driver_info=None)
    conn.connect()
    peer, _ = ls.accept()
    try:
        conn.send_command("GET", "x")
        peer.sendall(b"*3\r\n$5\r\nfirst\r\n:42\r\n")       # the third item never comes
        with pytest.raises(impl.exceptions.TimeoutError):
            conn.read_response(disconnect_on_error=False)
        held = [o for o in gc.get_referents(conn) if type(o) is list]
        assert len(held) == 1, "the half-built reply is not visited"
        del held
        peer.sendall(b"$4\r\nlast\r\n")
        assert conn.read_response() == [b"first", 42, b"last"]
    finally:
        conn.disconnect()
        peer.close()
        ls.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_closes_deferred_descriptors(impl, silent_peer):
    """A descriptor whose close() was deferred (another thread was still in
    I/O on it when the parent disconnected) is inherited by a child forked
    right then; the child, where that thread does not exist, must close it
    (without shutdown) instead of leaking it for ever."""
    script = textwrap.dedent("""
        import os, sys, threading, time
        import redis_native as impl
        from redis_native.retry import Retry
        from redis_native.backoff import NoBackoff
        port = int(sys.argv[1])
        sys.setswitchinterval(1000)   # the sender must not run between disconnect and fork
        conn = impl.Connection(port=port, socket_timeout=30, retry=Retry(NoBackoff(), 0),
                               driver_info=None)
        conn.connect()
        fd = conn.fileno()
        started = threading.Event()
        def send():
            started.set()
            try:
                conn.send_command("SET", "big", b"x" * (32 << 20))
            except Exception:
                pass
        t = threading.Thread(target=send, daemon=True)
        t.start()
        started.wait()
        time.sleep(0.5)               # the sender is blocked in send(), GIL released
        conn.disconnect()             # shutdown + close deferred: the sender owns fd
        pid = os.fork()
        if pid == 0:
            conn.is_connected         # any use notices the fork
            try:
                os.fstat(fd)
            except OSError:
                os._exit(0)
            os._exit(3)
        _, status = os.waitpid(pid, 0)
        sys.setswitchinterval(0.005)
        t.join(30)
        sys.exit(os.waitstatus_to_exitcode(status))
    """)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(impl.__file__))), env.get("PYTHONPATH", "")] if p)
    proc = subprocess.run([sys.executable, "-c", script, str(silent_peer)], env=env,
                          timeout=120, capture_output=True, text=True)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])


@pytest.mark.parametrize("host_error", ["12345", "('h', 1)", "None", "b'host'"])
def test_host_error_returning_a_non_str(impl, server, host_error):
    """_host_error() of a subclass returning something that is not a str: the
    timeout message formats it with str() (it used to be handed to %U: a
    crash).  Run in a child process so that a crash fails only this test."""
    script = textwrap.dedent("""
        import sys
        import redis_native as impl
        class Odd(impl.Connection):
            def _host_error(self):
                return %s
        c = Odd(host=sys.argv[1], port=int(sys.argv[2]), socket_timeout=0.2)
        c.send_command("BLPOP", "never-there", 5)
        try:
            c.read_response()
        except impl.TimeoutError as e:
            print("TIMEOUT", e)
        c.send_command("PING")
        print(c.read_response())
    """ % host_error)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(impl.__file__))), env.get("PYTHONPATH", "")] if p)
    proc = subprocess.run([sys.executable, "-c", script, server.host, str(server.port)],
                          env=env, timeout=120, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == ["TIMEOUT Timeout reading from %s" % (eval(host_error),),
                                        "b'PONG'"]


def test_host_error_that_raises_propagates(impl, redis_py, server):
    """An exception from a subclass' _host_error() propagates unchanged
    (DESIGN rule 10); redis-py calls it at every read, so it raises there too."""
    for mod in (impl, redis_py):
        class Raising(mod.Connection):
            def _host_error(self):
                raise KeyError("no host for you")

        c = Raising(host=server.host, port=server.port, socket_timeout=0.2)
        with pytest.raises(KeyError):       # redis-py: already in its handshake
            c.send_command("BLPOP", "never-there", 5)
            c.read_response()
        c.disconnect()


# ====================================================================== attribute setters
# (attribute, value, exception the assignment raises or None).  redis-py's
# Connection stores these as plain attributes or properties: where it raises
# at assignment (deleting socket_timeout) the class matches; elsewhere C
# refuses what it cannot mirror with a clean TypeError/AttributeError, and a
# command afterwards behaves (never a crash, never a C value out of step).
SETTERS = [
    ("socket_timeout", None, None),
    ("socket_timeout", "abc", None),          # raises at connect, as redis-py
    ("socket_timeout", object(), None),
    ("socket_timeout", "DEL", AttributeError),
    ("socket_connect_timeout", "DEL", AttributeError),
    ("socket_connect_timeout", float("nan"), None),
    ("health_check_interval", None, None),
    ("health_check_interval", "x", TypeError),
    ("health_check_interval", object(), TypeError),
    ("health_check_interval", float("nan"), None),
    ("health_check_interval", -1, None),
    ("health_check_interval", "DEL", AttributeError),
    ("next_health_check", "abc", TypeError),
    ("next_health_check", "DEL", None),
    ("encoding", 5, TypeError),
    ("encoding", None, TypeError),
    ("encoding", "DEL", AttributeError),
    ("encoding", "\udcff", UnicodeEncodeError),
    ("encoding_errors", object(), TypeError),
    ("encoding_errors", "DEL", AttributeError),
    ("decode_responses", "DEL", AttributeError),
    ("pid", None, TypeError),
    ("pid", "abc", TypeError),
    ("retry", "x", None),
    ("retry", None, None),
    ("retry", "DEL", AttributeError),
]


@pytest.mark.parametrize("attr,value,raises", SETTERS,
                         ids=["%s=%s" % (a, repr(v) if isinstance(v, (str, int, float, type(None)))
                                         else type(v).__name__) for a, v, _ in SETTERS])
def test_attribute_setters(impl, server, attr, value, raises):
    conn = impl.Connection(host=server.host, port=server.port)
    conn.send_command("SET", "setter", "1")
    assert conn.read_response() == b"OK"
    before = getattr(conn, attr)

    def assign():
        if value == "DEL":
            delattr(conn, attr)
        else:
            setattr(conn, attr, value)

    if raises is None:
        assign()
    else:
        with pytest.raises(raises):
            assign()
        if value != "DEL" or raises is AttributeError:
            after = getattr(conn, attr)
            assert after is before or after == before or (after != after and before != before)
    # a command on the open connection: works, or (for a value only checked
    # at connect) fails cleanly once it reconnects
    conn.send_command("GET", "setter")
    assert conn.read_response() in (b"1", "1")
    conn.disconnect()
    try:
        conn.send_command("GET", "setter")
        conn.read_response()
    except (TypeError, ValueError, AttributeError, impl.exceptions.RedisError):
        pass
    conn.disconnect()
