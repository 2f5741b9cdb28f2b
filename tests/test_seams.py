"""The seams users and libraries rely on (DESIGN rule 1): overrides in Python
subclasses and mock.patch on the user-facing classes are honoured even though
the per-command path runs in C; pools pickle and expose connection_kwargs."""
import pickle
import socket
from unittest import mock

import pytest

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


# ---------------------------------------------------------------------------
# Methods replaced on one *instance* (r.parse_response = f,
# mock.patch.object(pool, "get_connection"), conn.send_command = f...): the C
# fast paths step aside for that object only.  Each scenario runs through
# redis_native and redis-py, which must agree.


@pytest.fixture(params=["native", "redis-py"])
def mod(request, impl, redis_py):
    return impl if request.param == "native" else redis_py


def make(mod, redis_server, **kw):
    return mod.Redis(host=redis_server.host, port=redis_server.port, **kw)


def test_instance_parse_response_is_called_and_restored(mod, redis_server):
    r = make(mod, redis_server)
    original = r.parse_response
    seen = []

    def parse_response(connection, command_name, **options):
        seen.append(command_name)
        return ("wrapped", original(connection, command_name, **options))

    r.parse_response = parse_response
    assert r.set("seam:i", "v") == ("wrapped", True)
    assert r.get("seam:i") == ("wrapped", b"v")
    assert seen == ["SET", "GET"]
    del r.parse_response
    assert r.get("seam:i") == b"v"
    assert seen == ["SET", "GET"]
    other = make(mod, redis_server)          # other clients were never affected
    assert other.get("seam:i") == b"v"
    r.close()
    other.close()


def test_mock_patch_object_on_client_instance(mod, redis_server):
    r = make(mod, redis_server)
    with mock.patch.object(r, "parse_response", wraps=r.parse_response) as patched:
        assert r.ping() is True
        assert r.echo("x") == b"x"
    assert patched.call_count == 2
    assert r.ping() is True
    assert patched.call_count == 2
    r.close()


def test_mock_patch_object_on_pool_instance(mod, redis_server):
    r = make(mod, redis_server)
    pool = r.connection_pool
    with mock.patch.object(pool, "get_connection", wraps=pool.get_connection) as get, \
            mock.patch.object(pool, "release", wraps=pool.release) as release:
        assert r.ping() is True
        with r.pipeline() as p:
            p.ping().echo("y")
            assert p.execute() == [True, b"y"]
    assert get.call_count == 2 and release.call_count == 2
    assert r.ping() is True
    assert get.call_count == 2
    r.close()


def test_instance_read_response_on_connection(mod, redis_server):
    r = make(mod, redis_server)
    conn = r.connection_pool.get_connection()
    r.connection_pool.release(conn)          # the pool hands it out next
    original = conn.read_response
    calls = []

    def read_response(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    conn.read_response = read_response
    assert r.set("seam:c", "1") is True
    with r.pipeline(transaction=False) as p:
        p.get("seam:c").incr("seam:c")
        assert p.execute() == [b"1", 2]
    assert len(calls) == 3                   # SET, then each pipelined command
    del conn.read_response
    assert r.get("seam:c") == b"2"
    assert len(calls) == 3
    r.close()


def test_instance_send_command_failure_from_pool_connection(mod, redis_server):
    # a replacement that fails: the failure reaches the caller, as in redis-py
    r = make(mod, redis_server, retry=None)
    conn = r.connection_pool.get_connection()
    r.connection_pool.release(conn)

    def send_command(*args, **kwargs):
        raise mod.exceptions.ConnectionError("patched send")

    conn.send_command = send_command
    with pytest.raises(mod.exceptions.ConnectionError, match="patched send"):
        r.ping()
    del conn.send_command
    assert r.ping() is True
    r.close()


def test_plain_objects_keep_the_fast_path(impl, redis_server):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native internals")
    r = make(impl, redis_server)
    conn = r.connection_pool.get_connection()
    r.connection_pool.release(conn)
    r.foo = 1                                  # not a method: no effect
    conn.bar = 2
    assert (r._overridden, r.connection_pool._overridden, conn._overridden) == (0, 0, 0)
    r.get = lambda *a: None                    # a command method: C never stands in for it
    assert r._overridden == 0
    r.parse_response = lambda *a, **k: None    # a method C stands in for counts
    assert r._overridden == 1
    del r.parse_response
    assert r._overridden == 0
    del r.get
    r.close()


@pytest.mark.parametrize("pool_class", ["ConnectionPool", "BlockingConnectionPool"])
def test_pool_and_connection_repr_hide_secrets(mod, pool_class):
    provider = mod.credentials.UsernamePasswordCredentialProvider("provuser", "provpass")
    cls = getattr(mod, pool_class)
    with_ssl_password = cls(host="localhost", port=6379, db=0, password="pw_secret_1",
                            username="user_secret_2", ssl_password="ssl_secret_3")
    plain = cls(host="localhost", port=6379, password="pw_secret_1", username="user_secret_2")
    with_provider = cls(host="localhost", port=6379, credential_provider=provider)
    texts = [repr(with_ssl_password), repr(plain), repr(plain.make_connection()),
             repr(with_provider), repr(with_provider.make_connection())]
    for text in texts:
        for secret in ("pw_secret_1", "user_secret_2", "ssl_secret_3", "provuser", "provpass"):
            assert secret not in text
    assert "host=localhost" in texts[0] and "port=6379" in texts[0]
    assert "<REDACTED>" in texts[0]


def test_pool_repr_matches_redis_py(impl, redis_py):
    def text(m):
        pool = m.ConnectionPool(host="h", port=1, db=2, password="p", username="u",
                                ssl_password="s", client_name="c")
        return repr(pool).replace(m.__name__ + ".", "")
    assert text(impl) == text(redis_py)
