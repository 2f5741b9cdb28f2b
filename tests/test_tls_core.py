"""The C core's own rules over TLS (src/tls.c, tls_io in src/connection.c).

A TLS connection's socket is non-blocking and every SSL call runs under a
mutex, so a pub/sub reader waiting for data never holds the SSL object while
another thread writes; a close from another thread while one is inside TLS
I/O defers freeing the SSL object; bytes already inside OpenSSL count for
``can_read()``; post-handshake records (TLS 1.3 session tickets) are not taken
for stale replies by the idle probe.  These run on redis_native only (they
look at its connection internals); tests/test_tls.py compares behaviour with
redis-py.
"""
from __future__ import annotations

import threading
import time

import pytest

from tlsutil import *  # noqa: F401,F403  (fixtures)


@pytest.fixture
def native(impl_name):
    if impl_name != "redis_native":
        pytest.skip("redis_native's connection internals")
    import redis_native
    return redis_native


def _client(native, srv, **kw):
    return native.Redis(host="localhost", port=srv.tls_port, ssl=True,
                        ssl_ca_certs=srv.certs.ca.cert, **kw)


def test_reader_waiting_while_another_thread_writes(native, tls_server, closing):
    """A worker blocked in get_message() while the main thread subscribes and
    publishes on the same TLS connection: every confirmation and message arrives."""
    r = closing(_client(native, tls_server))
    p = r.pubsub()
    p.subscribe("start")
    got = []
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            m = p.get_message(timeout=0.05)
            if m is not None:
                got.append(m)

    t = threading.Thread(target=worker)
    t.start()
    try:
        for i in range(40):
            p.subscribe(f"ch{i}")
            r.publish("start", str(i))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 81:
            time.sleep(0.02)
    finally:
        stop.set()
        t.join()
        p.close()
    kinds = [m["type"] for m in got]
    assert kinds.count("subscribe") == 41
    assert [m["data"] for m in got if m["type"] == "message"] == \
        [str(i).encode() for i in range(40)]


def test_close_from_another_thread_during_tls_read(native, tls_server, closing):
    """disconnect() while another thread waits inside a TLS read: the reader
    gets ConnectionError, nothing crashes, the client works afterwards."""
    r = closing(_client(native, tls_server, retry=native.retry.Retry(
        native.backoff.NoBackoff(), 0)))
    conn = r.connection_pool.get_connection()
    errors = []

    def blocked():
        try:
            conn.send_command("BLPOP", "tls-core:never", 0)
            conn.read_response()
        except Exception as e:  # noqa: BLE001 (the type is checked below)
            errors.append(e)

    t = threading.Thread(target=blocked)
    t.start()
    time.sleep(0.2)
    conn.disconnect()
    t.join(10)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], native.ConnectionError)
    assert not conn.is_connected
    r.connection_pool.release(conn)
    assert r.ping() is True


def test_idle_probe_keeps_a_tls_connection(native, tls_server, closing):
    """Session tickets arrive after the handshake; an idle connection that has
    them unread is healthy: the same connection serves every command."""
    r = closing(_client(native, tls_server))
    ids = set()
    for _ in range(5):
        ids.add(r.client_id())
        time.sleep(0.01)            # longer than the idle probe's 2 ms
    assert len(ids) == 1
    conn = r.connection_pool.get_connection()
    try:
        assert conn._uses_tls
        assert conn.can_read(0) is False
    finally:
        r.connection_pool.release(conn)


def test_can_read_sees_bytes_inside_openssl(native, tls_server, closing):
    """After one message is parsed out of a record holding many, the rest sits
    in the reader or inside OpenSSL, not in the socket: can_read() says so."""
    r = closing(_client(native, tls_server))
    p = r.pubsub()
    try:
        p.subscribe("burst")
        assert p.get_message(timeout=5)["type"] == "subscribe"
        pipe = r.pipeline(transaction=False)
        for i in range(200):
            pipe.publish("burst", b"x" * 100 + str(i).encode())
        pipe.execute()
        first = p.get_message(timeout=5)
        assert first["data"].endswith(b"0")
        assert p.connection.can_read(0) is True
        rest = [p.get_message(timeout=5) for _ in range(199)]
        assert [m["data"][100:] for m in rest] == [str(i).encode() for i in range(1, 200)]
        assert p.connection.can_read(0) is False
    finally:
        p.close()


def test_tls_socket_timeout_zero_refused(native, tls_server):
    conn = native.SSLConnection(host="localhost", port=tls_server.tls_port,
                                ssl_ca_certs=tls_server.certs.ca.cert, socket_timeout=0,
                                socket_connect_timeout=5)
    with pytest.raises(ValueError, match="socket_timeout is 0"):
        conn._connect()
    assert not conn.is_connected


def test_start_tls_validates(native, tls_server):
    conn = native.SSLConnection(host="localhost", port=tls_server.tls_port,
                                ssl_ca_certs=tls_server.certs.ca.cert, socket_timeout=5)
    with pytest.raises(native.ConnectionError):
        conn._start_tls(conn._tls_context(), "localhost")       # no socket yet
    with pytest.raises(TypeError):
        conn._start_tls(object(), "localhost")
    conn._connect()
    try:
        with pytest.raises(ValueError, match="already uses TLS"):
            conn._start_tls(conn._tls_context(), "localhost")
    finally:
        conn.disconnect()


def test_contexts_shared_and_reloaded(native, tls_server, tmp_path):
    """Connections with equal settings share one TLS context; a CA file
    rewritten on disk is read again."""
    import shutil
    ca = tmp_path / "ca.crt"
    shutil.copy(tls_server.certs.ca.cert, ca)
    kw = dict(host="localhost", port=tls_server.tls_port, ssl_ca_certs=str(ca))
    a, b = native.SSLConnection(**kw), native.SSLConnection(**kw)
    assert a._tls_context() is b._tls_context()
    before = a._tls_context()
    ca.write_text(ca.read_text() + "\n")
    assert a._tls_context() is not before


def test_roundtrip_many_over_tls(native, tls_server, tls_server_factory, closing):
    """The cluster pipeline's primitive: several TLS connections written and
    read at once (one poll over all sockets), mixed with a plain one, with a
    batch large enough that writes and reads overlap."""
    other = tls_server_factory()
    clients = [closing(_client(native, srv)) for srv in (tls_server, other)]
    plain = closing(native.Redis(host="127.0.0.1", port=other.port))
    conns = [c.connection_pool.get_connection() for c in clients]
    conns.append(plain.connection_pool.get_connection())
    try:
        value = b"v" * 300
        batches = []
        for n, conn in enumerate(conns):
            cmds = [(("SET", f"many:{n}:{i}", value), {}) for i in range(3000)]
            cmds += [(("GET", f"many:{n}:{i}"), {}) for i in range(3000)]
            batches.append((conn, cmds))
        out = native._native._roundtrip_many(batches)
        for replies in out:
            assert replies[:3000] == [b"OK"] * 3000
            assert replies[3000:] == [value] * 3000
        assert all(c._uses_tls for c in conns[:2]) and not conns[2]._uses_tls
        assert all(c._replies_owed == 0 for c in conns)
        assert clients[0].ping() and clients[1].ping()
    finally:
        for c, conn in zip(clients + [plain], conns):
            c.connection_pool.release(conn)
