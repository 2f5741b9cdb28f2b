"""Connecting on the way of a command (issue #12).

When a command needs a connection that is not open, C runs the steps of
``AbstractConnection.connect`` itself -- the retry loop, ``_connect_once``, the
handshake and the connect callbacks -- calling only ``_connect`` (the socket)
in Python, as long as nothing replaces a step (src/connect.c).  These tests
drive that path through commands and check it behaves as redis-py does: the
retries and their errors, the connect callbacks, and that a subclass, an
instance patch, a patched Retry, credentials or a ``redis_connect_func`` are
all honoured (they take the Python path).  Each runs on redis_native and on
redis-py (``lib``).
"""
from __future__ import annotations

import importlib
import socket
from unittest import mock

import pytest


def _mods(lib):
    return (__import__(lib.__name__ + ".retry", fromlist=["x"]),
            __import__(lib.__name__ + ".backoff", fromlist=["x"]),
            __import__(lib.__name__ + ".exceptions", fromlist=["x"]))


def _pool(lib, redis_server, connection_class=None, retries=0, **kw):
    retry_mod, backoff_mod, _ = _mods(lib)
    extra = {"connection_class": connection_class} if connection_class else {}
    return lib.ConnectionPool(host=redis_server.host, port=redis_server.port,
                              retry=retry_mod.Retry(backoff_mod.NoBackoff(), retries),
                              **extra, **kw)


def test_connect_retries_then_raises_the_socket_error(lib, redis_server):
    """_connect failing with an OSError: retried per the connection's Retry,
    then ConnectionError with redis-py's message."""
    attempts = []

    class Flaky(lib.Connection):
        def _connect(self):
            attempts.append(1)
            raise OSError(111, "Connection refused")

    pool = _pool(lib, redis_server, Flaky, retries=2)
    r = lib.Redis(connection_pool=pool)
    with pytest.raises(_mods(lib)[2].ConnectionError) as info:
        r.ping()
    assert str(info.value) == \
        f"Error 111 connecting to {redis_server.host}:{redis_server.port}. Connection refused."
    assert isinstance(info.value.__context__, OSError)
    # the client's own retry (3 by default in Redis(), none here: the pool's
    # Retry) and the connection's: 3 attempts in all with retries=2
    assert len(attempts) == 3
    pool.disconnect()


def test_connect_recovers_after_a_failed_attempt(lib, redis_server):
    attempts = []

    class OnceFlaky(lib.Connection):
        def _connect(self):
            attempts.append(1)
            if len(attempts) == 1:
                raise OSError(104, "Connection reset by peer")
            return super()._connect()

    pool = _pool(lib, redis_server, OnceFlaky, retries=1)
    r = lib.Redis(connection_pool=pool)
    try:
        assert r.ping() is True
        assert len(attempts) == 2
    finally:
        pool.disconnect()


def test_connect_timeout_message(lib, redis_server):
    class Slow(lib.Connection):
        def _connect(self):
            raise socket.timeout("timed out")

    pool = _pool(lib, redis_server, Slow)
    r = lib.Redis(connection_pool=pool)
    with pytest.raises(_mods(lib)[2].TimeoutError) as info:
        r.ping()
    assert str(info.value) == "Timeout connecting to server"
    assert isinstance(info.value.__context__, socket.timeout)
    pool.disconnect()


def test_connect_callbacks_run_and_dead_ones_are_dropped(lib, redis_server):
    calls = []

    class Listener:
        def __init__(self, tag):
            self.tag = tag

        def on_connect(self, connection):
            calls.append((self.tag, connection.is_connected if hasattr(
                connection, "is_connected") else True))

    pool = _pool(lib, redis_server)
    r = lib.Redis(connection_pool=pool)
    try:
        conn = pool.get_connection()
        keep, gone = Listener("keep"), Listener("gone")
        conn.register_connect_callback(keep.on_connect)
        conn.register_connect_callback(gone.on_connect)
        del gone
        conn.disconnect()
        pool.release(conn)
        assert r.ping() is True         # reconnects the same connection
        assert [tag for tag, _ in calls] == ["keep"]
        assert len(conn._connect_callbacks) == 1
    finally:
        pool.disconnect()


def test_subclass_handshake_hook_is_called(lib, redis_server):
    """(redis_native also calls an overridden on_connect(): see
    tests/test_tls.py::test_native_subclass_on_connect_honoured)"""
    seen = []

    class Custom(lib.Connection):
        def on_connect_check_health(self, *args, **kwargs):
            seen.append("on_connect")
            super().on_connect_check_health(*args, **kwargs)

    pool = _pool(lib, redis_server, Custom, client_name="custom-conn")
    r = lib.Redis(connection_pool=pool)
    try:
        assert r.ping() is True
        assert seen == ["on_connect"]
        assert r.client_getname() in (b"custom-conn", "custom-conn")
    finally:
        pool.disconnect()


def test_instance_patch_of_a_step_is_called(lib, redis_server):
    pool = _pool(lib, redis_server)
    r = lib.Redis(connection_pool=pool)
    try:
        conn = pool.get_connection()
        pool.release(conn)
        conn.disconnect()
        with mock.patch.object(conn, "on_connect_check_health",
                               wraps=conn.on_connect_check_health) as spy:
            assert r.ping() is True
            assert spy.call_count == 1
        conn.disconnect()
        assert r.ping() is True         # the patch is gone: back to the plain path
    finally:
        pool.disconnect()


def test_patched_call_with_retry_is_called(lib, redis_server):
    retry_mod = _mods(lib)[0]
    pool = _pool(lib, redis_server)
    r = lib.Redis(connection_pool=pool)
    try:
        original = retry_mod.Retry.call_with_retry
        with mock.patch.object(retry_mod.Retry, "call_with_retry", autospec=True,
                               side_effect=original) as spy:
            assert r.ping() is True
            assert spy.call_count >= 1
    finally:
        pool.disconnect()


def test_redis_connect_func_replaces_the_handshake(lib, redis_server):
    called = []

    def handshake(connection):
        called.append(connection)
        connection.on_connect()

    pool = _pool(lib, redis_server, redis_connect_func=handshake, db=1)
    r = lib.Redis(connection_pool=pool)
    try:
        r.set("native-connect:db1", "x")
        assert len(called) == 1
        assert lib.Redis(host=redis_server.host, port=redis_server.port, db=1).get(
            "native-connect:db1") == b"x"
    finally:
        r.delete("native-connect:db1")
        pool.disconnect()


def test_select_and_client_name_on_the_command_path(lib, redis_server):
    r = lib.Redis(host=redis_server.host, port=redis_server.port, db=2,
                  client_name="native-connect")
    try:
        r.set("native-connect:db2", "y")
        assert r.client_getname() in (b"native-connect", "native-connect")
        info = r.client_info()
        assert info["db"] in (2, "2")
        assert lib.Redis(host=redis_server.host, port=redis_server.port, db=2).get(
            "native-connect:db2") == b"y"
    finally:
        r.delete("native-connect:db2")
        r.close()


def test_auth_takes_the_python_handshake(lib, server_factory):
    server = server_factory(password="s3cret")
    exc = _mods(lib)[2]
    r = lib.Redis(host=server.host, port=server.port, password="s3cret")
    try:
        assert r.ping() is True
    finally:
        r.close()
    bad = lib.Redis(host=server.host, port=server.port, password="wrong",
                    retry=_mods(lib)[0].Retry(_mods(lib)[1].NoBackoff(), 0))
    with pytest.raises(exc.AuthenticationError):
        bad.ping()
    bad.close()


@pytest.mark.parametrize("chain", ["native", "python"])
@pytest.mark.parametrize("returned", [True, 1, "sock", object()], ids=repr)
def test_connect_that_opens_no_socket(impl, redis_server, chain, returned):
    """A ``_connect`` that returns something other than a socket and installs
    none (a test double returning True) gets a clear ConnectionError, on the
    native connect chain and on the Python one; it used to loop, connecting
    again from inside its own handshake.  (redis-py stores the value as its
    socket and fails later with an AttributeError, so only redis_native is
    checked.)"""
    if impl.__name__ == "redis":
        pytest.skip("redis-py fails later, with an AttributeError")
    retry = importlib.import_module(impl.__name__ + ".retry")
    backoff = importlib.import_module(impl.__name__ + ".backoff")

    class NoSocket(impl.Connection):
        def _connect(self):
            return returned

    if chain == "python":
        NoSocket.on_connect = lambda self: impl.Connection.on_connect(self)
    conn = NoSocket(host=redis_server.host, port=redis_server.port,
                    retry=retry.Retry(backoff.NoBackoff(), 1))
    with pytest.raises(impl.ConnectionError, match=r"_connect\(\) opened no socket"):
        conn.connect()
    with pytest.raises(impl.ConnectionError, match=r"opened no socket"):
        conn.send_command("PING")
    assert not conn.is_connected
