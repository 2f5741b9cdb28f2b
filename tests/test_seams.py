"""The seams users and libraries rely on (DESIGN rule 1): overrides in Python
subclasses and mock.patch on the user-facing classes are honoured even though
the per-command path runs in C; pools pickle and expose connection_kwargs."""
import pickle
import socket
from unittest import mock

import redis_native
from redis_native.client import Redis
from redis_native.connection import Connection, ConnectionPool


def client(redis_server, **kw):
    return Redis(host=redis_server.host, port=redis_server.port, **kw)


def test_subclass_parse_response_is_called(redis_server):
    seen = []

    class Recording(Redis):
        def parse_response(self, connection, command_name, **options):
            seen.append((type(connection).__name__, command_name, sorted(options)))
            return ("parsed", super().parse_response(connection, command_name, **options))

    r = Recording(host=redis_server.host, port=redis_server.port)
    assert r.set("seam:k", "v") == ("parsed", True)
    assert r.get("seam:k") == ("parsed", b"v")
    assert seen[-1] == ("Connection", "GET", ["keys"])
    r.close()


def test_mock_patch_parse_response(redis_server):
    r = client(redis_server)
    original = Redis.parse_response
    with mock.patch.object(Redis, "parse_response", autospec=True,
                           side_effect=original) as patched:
        assert r.ping() is True
        assert patched.call_count == 1
    # unpatched again: back on the C path, same results
    assert r.ping() is True
    assert patched.call_count == 1
    r.close()


def test_parse_response_override_sees_errors_and_empty_response(redis_server):
    class Passthrough(Redis):
        def parse_response(self, connection, command_name, **options):
            return super().parse_response(connection, command_name, **options)

    r = Passthrough(host=redis_server.host, port=redis_server.port)
    r.set("seam:str", "x")
    try:
        r.hget("seam:str", "f")
    except redis_native.ResponseError as e:
        assert "WRONGTYPE" in str(e)
    else:
        raise AssertionError("WRONGTYPE not raised")
    assert r.mget([]) == []  # EMPTY_RESPONSE reaches the override path too
    r.close()


def test_connection_subclass_on_connect_and_read_response(redis_server):
    calls = []

    class Traced(Connection):
        def on_connect(self):
            calls.append("on_connect")
            super().on_connect()

        def read_response(self, *args, **kwargs):
            calls.append("read_response")
            return super().read_response(*args, **kwargs)

    pool = ConnectionPool(connection_class=Traced, host=redis_server.host,
                          port=redis_server.port, client_name="seam-traced")
    r = Redis(connection_pool=pool)
    assert r.echo("hi") == b"hi"
    assert calls.count("on_connect") == 1
    assert "read_response" in calls
    assert r.client_getname() == "seam-traced"
    pool.disconnect()


def test_connection_subclass_own_connect_socket(redis_server):
    class OwnSocket(Connection):
        def _connect(self):
            return socket.create_connection((self.host, self.port), timeout=5)

    pool = ConnectionPool(connection_class=OwnSocket, host=redis_server.host,
                          port=redis_server.port)
    r = Redis(connection_pool=pool)
    assert r.ping() is True
    assert r.echo(b"\xff") == b"\xff"
    pool.disconnect()


def test_pool_subclass_get_connection_is_called(redis_server):
    taken = []

    class CountingPool(ConnectionPool):
        def get_connection(self, *args, **kwargs):
            conn = super().get_connection(*args, **kwargs)
            taken.append(conn)
            return conn

    r = Redis(connection_pool=CountingPool(host=redis_server.host, port=redis_server.port))
    for _ in range(3):
        r.ping()
    assert len(taken) == 3
    assert r.connection_pool._in_use_connections == set()
    r.connection_pool.disconnect()


def test_pool_pickles_with_its_settings(redis_server):
    pool = ConnectionPool(host=redis_server.host, port=redis_server.port, db=3,
                          max_connections=7, client_name="pickled")
    clone = pickle.loads(pickle.dumps(pool))
    assert type(clone) is ConnectionPool
    assert clone.max_connections == 7
    assert clone.connection_kwargs["db"] == 3
    r = Redis(connection_pool=clone)
    assert r.client_getname() == "pickled"
    clone.disconnect()
    bp = redis_native.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                             max_connections=3, timeout=1.5)
    bclone = pickle.loads(pickle.dumps(bp))
    assert type(bclone) is redis_native.BlockingConnectionPool
    assert (bclone.max_connections, bclone.timeout) == (3, 1.5)


def test_connection_kwargs_changed_in_place(redis_server):
    r = client(redis_server)
    r.connection_pool.connection_kwargs["client_name"] = "changed-in-place"
    r.connection_pool.disconnect()
    r.connection_pool.reset()
    assert r.client_getname() == "changed-in-place"
    r.close()


def test_patch_command_method_on_class(redis_server):
    r = client(redis_server)
    with mock.patch.object(Redis, "get", return_value=b"patched"):
        assert r.get("anything") == b"patched"
    r.set("seam:real", "1")
    assert r.get("seam:real") == b"1"
    r.close()
