"""Pool and connection methods beyond the command path, against redis-py on a
real server: get_connection_count, update_connection_kwargs,
disconnect_free_connections, get_resolved_ip, getpeername, handshake_metadata,
and the names libraries import from ``redis.connection`` (DefaultParser...).
"""
from __future__ import annotations

import re

import pytest


def _pool(lib, server, cls="ConnectionPool", **kw):
    return getattr(lib, cls)(host=server.host, port=server.port, **kw)


@pytest.mark.parametrize("cls", ["ConnectionPool", "BlockingConnectionPool"])
def test_get_connection_count(lib, redis_server, cls):
    pool = _pool(lib, redis_server, cls)
    try:
        assert [n for n, _ in pool.get_connection_count()] == [0, 0]
        a, b = pool.get_connection(), pool.get_connection()
        pool.release(a)
        counts = pool.get_connection_count()
        assert [n for n, _ in counts] == [1, 1]
        (_, idle), (_, used) = counts
        assert idle["db.client.connection.state"] == "idle"
        assert used["db.client.connection.state"] == "used"
        for attrs in (idle, used):
            assert sorted(attrs) == ["db.client.connection.pool.name",
                                     "db.client.connection.state", "db.system",
                                     "redis.client.library"]
            assert attrs["db.system"] == "redis"
            assert re.fullmatch(r"127\.0\.0\.1:%d_[0-9a-f]{8}" % redis_server.port,
                                attrs["db.client.connection.pool.name"])
        # the library names itself, as CLIENT SETINFO LIB-NAME does
        library = idle["redis.client.library"]
        if lib.__name__ == "redis_native":
            assert library == "redis_native:v%s" % lib.NATIVE_VERSION
        else:
            assert library == "redis-py:v%s" % lib.__version__
        pool.release(b)
        assert [n for n, _ in pool.get_connection_count()] == [2, 0]
    finally:
        pool.disconnect()


def test_update_connection_kwargs(lib, redis_server):
    pool = _pool(lib, redis_server)

    def ask(conn, *args):
        conn.send_command(*args)
        return conn.read_response()

    try:
        old = pool.get_connection()
        ask(old, "PING")
        pool.update_connection_kwargs(client_name="renamed", db=3)
        assert pool.connection_kwargs["client_name"] == "renamed"
        assert ask(old, "CLIENT", "GETNAME") is None      # an existing connection keeps its own
        new = pool.get_connection()                        # a new one gets the new ones
        assert ask(new, "CLIENT", "GETNAME") == b"renamed"
        assert b" db=3 " in ask(new, "CLIENT", "INFO")
        pool.release(old)
        pool.release(new)
    finally:
        pool.disconnect()


def test_disconnect_free_connections(lib, redis_server):
    pool = _pool(lib, redis_server)
    try:
        busy, idle = pool.get_connection(), pool.get_connection()
        busy.send_command("PING")
        assert busy.read_response() in (b"PONG", "PONG")
        idle.send_command("PING")
        idle.read_response()
        pool.release(idle)
        pool.disconnect_free_connections(moving_address_src="10.255.255.1")
        assert idle._sock is not None                 # another address: kept
        pool.disconnect_free_connections(moving_address_src="127.0.0.1")
        assert idle._sock is None
        idle.connect()
        pool.disconnect_free_connections()
        assert idle._sock is None and busy._sock is not None   # in-use ones are left alone
        pool.release(busy)
    finally:
        pool.disconnect()


def test_resolved_ip_and_peer(lib, redis_server):
    conn = lib.Connection(host="localhost", port=redis_server.port)
    try:
        assert conn.getpeername() is None
        assert conn.get_resolved_ip() in ("127.0.0.1", "::1")   # resolved from the host
        assert conn.handshake_metadata is None
        conn = lib.Connection(host=redis_server.host, port=redis_server.port)
        conn.connect()
        assert conn.getpeername() == "127.0.0.1"
        assert conn.get_resolved_ip() == "127.0.0.1"
        assert conn.handshake_metadata is None                  # RESP2: no HELLO
        conn.disconnect()
        assert conn.getpeername() is None
        unresolvable = lib.Connection(host="no-such-host.invalid", port=1)
        assert unresolvable.get_resolved_ip() is None
    finally:
        conn.disconnect()


def test_unix_socket_peer(impl, redis_server):
    """redis-py answers the first character of the socket path (it indexes the
    path as if it were a (host, port) tuple); redis_native gives the path."""
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native behaviour")
    conn = impl.UnixDomainSocketConnection(path=redis_server.unix_path)
    try:
        assert conn.host is None and conn.get_resolved_ip() is None
        conn.connect()
        assert conn.getpeername() == redis_server.unix_path
        assert conn.get_resolved_ip() == redis_server.unix_path
    finally:
        conn.disconnect()


def test_library_imports_from_connection(lib, redis_server):
    """What cache backends and task queues import from redis.connection."""
    connection = lib.connection
    DefaultParser = connection.DefaultParser
    assert isinstance(DefaultParser, type)
    assert connection.to_bool("no") is False and connection.to_bool("1") is True
    pool = connection.ConnectionPool(host=redis_server.host, port=redis_server.port,
                                     parser_class=DefaultParser)
    r = lib.Redis(connection_pool=pool)
    try:
        assert r.ping()
    finally:
        r.close()
        pool.disconnect()
    assert connection.Connection(host="h").__class__.__name__ == "Connection"


def test_native_parser_maps_error_replies(impl, redis_py):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's parser class")
    from redis_native.connection import DefaultParser
    from redis_native._parsers import NativeParser

    assert DefaultParser is NativeParser
    for text in ("ERR unknown command", "NOSCRIPT No matching script", "WRONGTYPE Operation",
                 "BUSY Redis is busy", "READONLY You can't write"):
        mine = DefaultParser.parse_error(text)
        theirs = redis_py.connection.DefaultParser.parse_error(text)
        assert (type(mine).__name__, str(mine)) == (type(theirs).__name__, str(theirs))



def _class_names(table):
    """EXCEPTION_CLASSES with the classes replaced by their names (comparable
    across the two libraries), the nested ERR table included."""
    return {prefix: ({msg: cls.__name__ for msg, cls in target.items()}
                     if isinstance(target, dict) else target.__name__)
            for prefix, target in table.items()}


def test_default_parser_exception_classes(impl, redis_py):
    """DefaultParser.EXCEPTION_CLASSES, which fakeredis reads when it is imported
    (its TCP server turns exceptions back into error-reply prefixes with it)."""
    import importlib

    async_conn = importlib.import_module(impl.__name__ + ".asyncio.connection")
    oracle_async = importlib.import_module("redis.asyncio.connection")
    for mine, theirs in ((impl.connection.DefaultParser, redis_py.connection.DefaultParser),
                         (async_conn.DefaultParser, oracle_async.DefaultParser)):
        assert _class_names(mine.EXCEPTION_CLASSES) == _class_names(theirs.EXCEPTION_CLASSES)
        # the classes are the library's own exceptions, usable in isinstance checks
        assert mine.EXCEPTION_CLASSES["NOSCRIPT"] is impl.exceptions.NoScriptError
        assert mine.EXCEPTION_CLASSES["ERR"]["invalid password"] is \
            impl.exceptions.AuthenticationError
        # fakeredis's use: exception class -> the prefix of its error reply
        prefix_of = {v: k for k, v in mine.EXCEPTION_CLASSES.items() if isinstance(v, type)}
        assert prefix_of[impl.exceptions.ReadOnlyError] == "READONLY"


def test_exception_classes_entry_applies_to_replies(lib, redis_server):
    """A prefix added to DefaultParser.EXCEPTION_CLASSES selects the exception the
    server's error reply raises, in redis-py as here."""
    table = lib.connection.DefaultParser.EXCEPTION_CLASSES
    assert "WRONGTYPE" not in table

    class WrongTypeError(lib.exceptions.ResponseError):
        pass

    r = lib.Redis(host=redis_server.host, port=redis_server.port, db=3)
    table["WRONGTYPE"] = WrongTypeError
    try:
        r.delete("k")
        r.rpush("k", "a")
        with pytest.raises(WrongTypeError) as info:
            r.get("k")
        assert str(info.value).startswith("Operation against a key holding")
        del table["WRONGTYPE"]
        with pytest.raises(lib.exceptions.ResponseError) as info:
            r.get("k")
        assert type(info.value) is lib.exceptions.ResponseError
        assert str(info.value).startswith("WRONGTYPE Operation against a key holding")
    finally:
        table.pop("WRONGTYPE", None)
        r.delete("k")
        r.close()


def test_event_dispatcher_of_connections(lib):
    ev = lib.event
    conn = lib.Connection(host="127.0.0.1", port=1)
    assert isinstance(conn.event_dispatcher, ev.EventDispatcher)
    d = ev.EventDispatcher()
    conn = lib.Connection(host="127.0.0.1", port=1, event_dispatcher=d)
    assert conn.event_dispatcher is d
