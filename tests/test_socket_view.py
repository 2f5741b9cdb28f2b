"""``Connection._sock``: the connected socket as Python code sees it.

redis-py's ``_sock`` is a ``socket.socket``; libraries that watch a
connection's socket in their own event loop (kombu, Celery's Redis transport:
``poller.register(conn._sock)``, ``conn._sock.fileno()``, identity checks
against a saved ``_sock``) rely on it.  redis_native's is a view of the socket
the C core drives.  The behaviour those libraries use is checked on both
implementations; what is redis_native's own (the view refusing I/O methods)
on redis_native only.
"""
import select
import socket

import pytest


def _conn(lib, srv, unix=False, **kw):
    if unix:
        return lib.UnixDomainSocketConnection(path=srv.unix_path, **kw)
    return lib.Connection(host=srv.host, port=srv.port, **kw)


@pytest.mark.parametrize("unix", [False, True], ids=["tcp", "unix"])
def test_lifecycle_matches_redis_py(lib, redis_server, unix):
    conn = _conn(lib, redis_server, unix=unix, socket_timeout=7)
    try:
        assert conn._sock is None
        conn.connect()
        sock = conn._sock
        assert sock is conn._sock                   # the same object while connected
        assert sock.fileno() >= 0
        assert sock.gettimeout() == 7
        if unix:
            assert sock.family == socket.AF_UNIX
            assert sock.getpeername() == redis_server.unix_path
        else:
            assert sock.family == socket.AF_INET
            assert sock.getpeername() == (redis_server.host, redis_server.port)
            host, port = sock.getsockname()
            assert host == "127.0.0.1" and port > 0
            assert sock.proto == socket.IPPROTO_TCP
        assert sock.type == socket.SOCK_STREAM
        # options are the socket's own
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1

        conn.disconnect()
        assert conn._sock is None
        assert sock.fileno() == -1                  # as a closed socket.socket
        conn.connect()
        assert conn._sock is not sock               # a new socket, a new object
        assert conn._sock.fileno() >= 0
    finally:
        conn.disconnect()


def test_pollers_watch_it(lib, redis_server):
    """kombu's pattern: register the socket with a poller, learn from it
    when a reply is waiting, read it through the connection."""
    conn = _conn(lib, redis_server)
    try:
        conn.connect()
        sock = conn._sock
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        assert poller.poll(0) == []
        conn.send_command("PING")
        assert poller.poll(5000) == [(sock.fileno(), select.POLLIN)]
        readable, _, _ = select.select([sock], [], [], 5)
        assert readable == [sock]
        assert conn.read_response() == b"PONG"
        poller.unregister(sock)
        conn.disconnect()
        # a socket closed meanwhile is refused the way a closed socket.socket is
        with pytest.raises(ValueError):
            poller.register(sock, select.POLLIN)
    finally:
        conn.disconnect()


def test_pubsub_connection_socket_via_client(lib, redis_server, closing):
    r = closing(lib.Redis(host=redis_server.host, port=redis_server.port))
    p = r.pubsub()
    try:
        p.subscribe("view-chan")
        sock = p.connection._sock
        assert sock is p.connection._sock
        assert p.get_message(timeout=5)["type"] == "subscribe"
        r.publish("view-chan", "hello")
        assert select.select([sock], [], [], 5)[0] == [sock]
        assert p.get_message(timeout=5)["data"] == b"hello"
    finally:
        p.close()


def test_view_refuses_to_take_the_socket(impl, redis_server):
    conn = _conn(impl, redis_server)
    try:
        conn.connect()
        sock = conn._sock
        for name in ("recv", "send", "sendall", "close", "shutdown", "settimeout",
                     "setblocking", "detach", "makefile"):
            with pytest.raises(AttributeError, match="driven by its C core"):
                getattr(sock, name)
        assert conn.send_command("PING") is None and conn.read_response() == b"PONG"
        with pytest.raises(AttributeError):
            conn._sock = None                       # not assignable
        assert "fd=" in repr(sock)
        conn.disconnect()
        assert "closed" in repr(sock)
        with pytest.raises(OSError):
            sock.getpeername()
    finally:
        conn.disconnect()


def test_view_outlives_its_connection(impl, redis_server):
    conn = _conn(impl, redis_server)
    conn.connect()
    sock = conn._sock
    del conn
    import gc

    gc.collect()
    assert sock.fileno() == -1
    assert sock.gettimeout() is None
