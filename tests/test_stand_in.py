"""The stand-in rule, differentially against redis-py.

C runs a covered method natively only while the attribute Python would find
for it is redis_native's own.  So a method patched on the class
(``mock.patch.object(Connection, "send_command", f)``), on an instance, or
overridden in a subclass is called wherever redis-py calls it, and a subclass
that overrides nothing keeps the fast path.

Each test patches one covered method with a recording wrapper that calls the
original, in both libraries, runs the same workload (a plain command, a
pipeline, a transaction, pub/sub, a single-connection client) and checks that
redis_native called the method whenever redis-py did, with the same results.
"""
from __future__ import annotations

import time
import uuid
from unittest import mock

import pytest

import redis_native
from redis_native import _native

CONN_METHODS = ["connect", "disconnect", "can_read", "send_command",
                "send_packed_command", "read_response", "pack_commands"]
POOL_METHODS = ["get_connection", "release", "owns_connection"]
CLIENT_METHODS = ["parse_response", "_execute_command", "_send_command_parse_response",
                  "_close_connection"]


def _key() -> str:
    return "stand-in:" + uuid.uuid4().hex


def _workloads():
    def plain(r, pub):
        k = _key()
        return [r.set(k, "v"), r.get(k), r.incr(k + ":n"), r.delete(k, k + ":n")]

    def pipeline(r, pub):
        k = _key()
        with r.pipeline(transaction=False) as p:
            p.set(k, "v").get(k).incr(k + ":n").delete(k, k + ":n")
            return p.execute()

    def transaction(r, pub):
        k = _key()
        with r.pipeline() as p:
            p.set(k, "v").get(k).delete(k)
            return p.execute()

    def watch(r, pub):
        k = _key()
        with r.pipeline() as p:
            p.watch(k)
            before = p.get(k)
            p.multi()
            p.set(k, "w")
            out = p.execute()
        r.delete(k)
        return [before, out]

    def pubsub(r, pub):
        ch = _key()
        ps = r.pubsub()
        try:
            ps.subscribe(ch)
            got = []
            deadline = time.monotonic() + 5
            while len(got) < 2 and time.monotonic() < deadline:
                m = ps.get_message(timeout=0.2)
                if m is not None:
                    got.append((m["type"], m["data"]))
                    if m["type"] == "subscribe":
                        pub.publish(ch, "hello")    # another client: r has one connection
            ps.unsubscribe(ch)
            return got
        finally:
            ps.close()

    return {"plain": plain, "pipeline": pipeline, "transaction": transaction,
            "watch": watch, "pubsub": pubsub}


WORKLOADS = _workloads()


def _recorder(calls, name, orig):
    def wrapper(self, *args, **kwargs):
        calls.append(name)
        return orig(self, *args, **kwargs)
    wrapper.__name__ = name
    return wrapper


def _client(mod, server, **kw):
    return mod.Redis(host=server.host, port=server.port, **kw)


def _run_class_patch(mod, server, cls, name, workload, **kw):
    calls: list = []
    orig = getattr(cls, name)
    r = _client(mod, server, **kw)
    pub = _client(mod, server)
    try:
        r.ping()          # a warm connection, as in a running program
        pub.ping()
        with mock.patch.object(cls, name, _recorder(calls, name, orig)):
            result = workload(r, pub)
    finally:
        r.close()
        pub.close()
    return calls, result


def _classes(mod):
    return {"conn": mod.connection.Connection, "pool": mod.connection.ConnectionPool,
            "client": mod.client.Redis}


CASES = ([("conn", n) for n in CONN_METHODS] + [("pool", n) for n in POOL_METHODS]
         + [("client", n) for n in CLIENT_METHODS])


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
@pytest.mark.parametrize("kind,name", CASES, ids=[f"{k}.{n}" for k, n in CASES])
def test_class_patch_is_called_where_redis_py_calls_it(redis_py, redis_server, kind, name,
                                                       workload):
    fn = WORKLOADS[workload]
    py_calls, py_result = _run_class_patch(redis_py, redis_server, _classes(redis_py)[kind],
                                           name, fn)
    calls, result = _run_class_patch(redis_native, redis_server,
                                     _classes(redis_native)[kind], name, fn)
    assert result == py_result
    if py_calls:
        assert calls, f"redis-py calls {kind}.{name} in {workload}; redis_native did not"


@pytest.mark.parametrize("kind,name", CASES, ids=[f"{k}.{n}" for k, n in CASES])
def test_class_patch_single_connection_client(redis_py, redis_server, kind, name):
    fn = WORKLOADS["plain"]
    py_calls, py_result = _run_class_patch(redis_py, redis_server, _classes(redis_py)[kind],
                                           name, fn, single_connection_client=True)
    calls, result = _run_class_patch(redis_native, redis_server,
                                     _classes(redis_native)[kind], name, fn,
                                     single_connection_client=True)
    assert result == py_result
    if py_calls:
        assert calls, f"redis-py calls {kind}.{name}; redis_native did not"


def _run_instance_patch(mod, server, kind, name, workload):
    calls: list = []
    r = _client(mod, server, max_connections=1)
    pub = _client(mod, server)
    try:
        r.ping()
        pub.ping()
        pool = r.connection_pool
        if kind == "pool":
            target = pool
        elif kind == "client":
            target = r
        else:
            target = pool.get_connection()     # the pool's only connection
            pool.release(target)
        orig = getattr(type(target), name)
        bound = _recorder(calls, name, orig).__get__(target)
        with mock.patch.object(target, name, bound):
            result = workload(r, pub)
    finally:
        r.close()
        pub.close()
    return calls, result


@pytest.mark.parametrize("workload", ["plain", "pipeline", "transaction", "pubsub"])
@pytest.mark.parametrize("kind,name", CASES, ids=[f"{k}.{n}" for k, n in CASES])
def test_instance_patch_is_called_where_redis_py_calls_it(redis_py, redis_server, kind,
                                                          name, workload):
    if kind == "client" and workload == "pubsub":
        pytest.skip("PubSub has no parse_response of the client in its path")
    fn = WORKLOADS[workload]
    py_calls, py_result = _run_instance_patch(redis_py, redis_server, kind, name, fn)
    calls, result = _run_instance_patch(redis_native, redis_server, kind, name, fn)
    assert result == py_result
    if py_calls:
        assert calls, f"redis-py calls {kind}.{name} in {workload}; redis_native did not"


# -- the rule itself -------------------------------------------------------------

def test_builtin_classes_stand_in(redis_server):
    r = _client(redis_native, redis_server)
    conn = r.connection_pool.get_connection()
    try:
        assert _native._stands_in(r)
        assert _native._stands_in(r.connection_pool)
        assert _native._stands_in(conn)
        assert _native._stands_in(r.pipeline())
    finally:
        r.connection_pool.release(conn)
        r.close()


def test_subclass_overriding_nothing_keeps_the_fast_path(redis_server):
    class MyConnection(redis_native.Connection):
        pass

    class MyPool(redis_native.ConnectionPool):
        pass

    class MyRedis(redis_native.Redis):
        def extra(self):
            return 1

    pool = MyPool(connection_class=MyConnection, host=redis_server.host,
                  port=redis_server.port)
    r = MyRedis(connection_pool=pool)
    conn = pool.get_connection()
    try:
        assert _native._stands_in(conn) and _native._stands_in(pool) and _native._stands_in(r)
    finally:
        pool.release(conn)
    k = _key()
    assert r.set(k, "v") and r.get(k) == b"v"
    r.delete(k)
    r.close()


@pytest.mark.parametrize("name", CONN_METHODS)
def test_subclass_override_is_called(redis_server, name):
    calls = []
    base = getattr(redis_native.Connection, name)

    def override(self, *a, **k):
        calls.append(name)
        return base(self, *a, **k)

    Sub = type("Sub", (redis_native.Connection,), {name: override})
    r = redis_native.Redis(connection_pool=redis_native.ConnectionPool(
        connection_class=Sub, host=redis_server.host, port=redis_server.port))
    try:
        k = _key()
        if name == "pack_commands":
            with r.pipeline() as p:
                p.set(k, 1).get(k)
                assert p.execute() == [True, b"1"]
        elif name == "disconnect":
            r.ping()
            r.connection_pool.disconnect()
        else:
            assert r.set(k, "v") and r.get(k) == b"v"
        assert calls, name
        r.delete(k)
    finally:
        r.close()


def test_patch_on_a_base_class_reaches_subclasses(redis_server):
    """mock.patch on AbstractConnection invalidates the cached answer of every
    subclass (the type version tags change)."""
    class MyConnection(redis_native.Connection):
        pass

    pool = redis_native.ConnectionPool(connection_class=MyConnection,
                                       host=redis_server.host, port=redis_server.port)
    r = redis_native.Redis(connection_pool=pool)
    r.ping()
    calls = []
    orig = redis_native.connection.AbstractConnection.connect

    def connect(self):
        calls.append(1)
        return orig(self)

    with mock.patch.object(redis_native.connection.AbstractConnection, "connect", connect):
        r.ping()
        assert calls
    n = len(calls)
    r.ping()
    assert len(calls) == n          # unpatched again: C stands in once more
    conn = pool.get_connection()
    assert _native._stands_in(conn)
    pool.release(conn)
    r.close()


def test_instance_patch_removed_restores_the_fast_path(redis_server):
    r = _client(redis_native, redis_server)
    pool = r.connection_pool
    with mock.patch.object(pool, "get_connection", wraps=pool.get_connection) as m:
        r.ping()
        assert m.called
        assert not _native._stands_in(pool)
    assert _native._stands_in(pool)
    r.close()


def test_stands_in_is_false_for_other_objects():
    assert _native._stands_in(object()) is False
    assert _native._stands_in(mock.Mock()) is False


def test_declare_builtin_rejects_other_classes():
    with pytest.raises(TypeError):
        _native._declare_builtin(object)
    with pytest.raises(TypeError):
        _native._declare_builtin(42)


def test_instance_patch_under_a_name_built_at_run_time(redis_server):
    """The covered-name check compares by identity first (attribute names in
    source code are interned); a name built at run time, a str subclass or a
    key written straight into ``__dict__`` must still count."""

    class Name(str):
        pass

    built = "".join(["get_", "connection"])
    for name in (built, Name("get_connection")):
        r = _client(redis_native, redis_server)
        pool = r.connection_pool
        calls = []

        def patched(*args, _orig=pool.get_connection, **kwargs):
            calls.append(args)
            return _orig(*args, **kwargs)

        setattr(pool, name, patched)
        assert not _native._stands_in(pool)
        r.ping()
        assert calls
        delattr(pool, name)
        assert _native._stands_in(pool)
        r.close()
    r = _client(redis_native, redis_server)
    pool = r.connection_pool
    pool.get_connection = pool.get_connection
    pool.__dict__[Name("release")] = pool.release
    # deleting one replacement re-scans __dict__ for others: the key left is
    # not interned
    del pool.get_connection
    assert not _native._stands_in(pool)
    del pool.__dict__["release"]
    r.close()
