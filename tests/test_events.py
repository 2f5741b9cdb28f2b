"""``redis.event``: the dispatcher, and the events a client announces, against
redis-py on a real server.

Each test runs the same workload with redis_native and with redis-py, each with
its own dispatcher and recording listeners, and compares what was announced.
"""
from __future__ import annotations

import asyncio
import importlib
import threading

import pytest


def _event_module(lib):
    return importlib.import_module(lib.__name__ + ".event")


def _recorder(lib, *event_classes):
    """A dispatcher with one recording listener per event class; returns
    (dispatcher, list of recorded events)."""
    ev = _event_module(lib)
    seen = []

    class Record(ev.EventListenerInterface):
        def listen(self, event):
            seen.append(event)

    dispatcher = ev.EventDispatcher()
    dispatcher.register_listeners({cls: [Record()] for cls in event_classes})
    return dispatcher, seen


def _names(events):
    return [type(e).__name__ for e in events]


# -- the dispatcher itself ------------------------------------------------------------
def test_dispatch_calls_listeners_of_the_exact_class_in_order(lib):
    ev = _event_module(lib)
    calls = []

    class L(ev.EventListenerInterface):
        def __init__(self, tag):
            self.tag = tag

        def listen(self, event):
            calls.append((self.tag, type(event).__name__))

    a, b = L("a"), L("b")
    d = ev.EventDispatcher({ev.OnCommandsFailEvent: [a]})
    d.register_listeners({ev.OnCommandsFailEvent: [b, a]})   # a is not added twice
    d.dispatch(ev.OnCommandsFailEvent(("GET", "k"), ValueError("x")))
    d.dispatch(ev.AsyncOnCommandsFailEvent(("GET", "k"), ValueError("x")))  # a subclass: no listeners
    assert sorted(calls) == [("a", "OnCommandsFailEvent"), ("b", "OnCommandsFailEvent")]


def test_listener_exception_propagates(lib):
    ev = _event_module(lib)

    class Boom(ev.EventListenerInterface):
        def listen(self, event):
            raise KeyError("listener")

    d = ev.EventDispatcher({ev.OnCommandsFailEvent: [Boom()]})
    with pytest.raises(KeyError, match="listener"):
        d.dispatch(ev.OnCommandsFailEvent(("GET",), ValueError()))
    # nothing registered for other classes
    d.dispatch(ev.AfterPooledConnectionsInstantiationEvent([], ev.ClientType.SYNC))


def test_dispatch_async(lib):
    ev = _event_module(lib)
    seen = []

    class L(ev.AsyncEventListenerInterface):
        async def listen(self, event):
            seen.append(event.commands)

    d = ev.EventDispatcher()
    d.register_listeners({ev.AsyncOnCommandsFailEvent: [L()]})
    asyncio.run(d.dispatch_async(ev.AsyncOnCommandsFailEvent(("PING",), RuntimeError())))
    assert seen == [("PING",)]


def test_interfaces_are_abstract(lib):
    ev = _event_module(lib)
    for cls in (ev.EventListenerInterface, ev.AsyncEventListenerInterface,
                ev.EventDispatcherInterface):
        with pytest.raises(TypeError):
            cls()


def test_event_objects(lib):
    ev = _event_module(lib)
    err = ValueError("boom")
    wrapped = ev.EventException(err, "the event")
    assert (wrapped.exception, wrapped.event, wrapped.args) == (err, "the event", (err,))
    e = ev.AfterPubSubConnectionInstantiationEvent("c", "p", ev.ClientType.ASYNC, "l")
    assert (e.pubsub_connection, e.connection_pool, e.client_type, e.connection_lock) == (
        "c", "p", ev.ClientType.ASYNC, "l")
    e = ev.AfterSingleConnectionInstantiationEvent("c", ev.ClientType.SYNC, "l")
    assert (e.connection, e.client_type, e.connection_lock) == ("c", ev.ClientType.SYNC, "l")
    e = ev.AfterPooledConnectionsInstantiationEvent(["p"], ev.ClientType.SYNC)
    assert (e.connection_pools, e.client_type, e.credential_provider) == (
        ["p"], ev.ClientType.SYNC, None)
    assert ev.ClientType.SYNC.value == ("sync",) and ev.ClientType.ASYNC.value == ("async",)
    assert lib.client.ClientType is ev.ClientType


# -- what a client announces ----------------------------------------------------------
def test_client_announces_its_pool(lib, redis_server):
    ev = _event_module(lib)
    d, seen = _recorder(lib, ev.AfterPooledConnectionsInstantiationEvent,
                        ev.AfterSingleConnectionInstantiationEvent)
    r = lib.Redis(host=redis_server.host, port=redis_server.port, event_dispatcher=d)
    pool = lib.ConnectionPool(host=redis_server.host, port=redis_server.port)
    r2 = lib.Redis(connection_pool=pool, event_dispatcher=d)
    try:
        assert _names(seen) == ["AfterPooledConnectionsInstantiationEvent"] * 2
        assert seen[0].connection_pools == [r.connection_pool]
        assert seen[0].client_type is ev.ClientType.SYNC
        assert seen[0].credential_provider is None
        assert seen[1].connection_pools == [pool] and seen[1].credential_provider is None
        assert r.ping() and r2.ping()
    finally:
        r.close()
        r2.close()
        pool.disconnect()


def test_single_connection_client_announces_its_connection(lib, redis_server):
    ev = _event_module(lib)
    d, seen = _recorder(lib, ev.AfterSingleConnectionInstantiationEvent)
    r = lib.Redis(host=redis_server.host, port=redis_server.port, event_dispatcher=d,
                  single_connection_client=True)
    try:
        assert _names(seen) == ["AfterSingleConnectionInstantiationEvent"]
        assert seen[0].connection is r.connection
        assert seen[0].client_type is ev.ClientType.SYNC
        if lib.__name__ == "redis_native":
            # the lock serialising the connection lives in C: no Python object
            assert seen[0].connection_lock is None
        else:
            assert seen[0].connection_lock is r.single_connection_lock
        assert r.ping()
    finally:
        r.close()


def test_pubsub_announces_its_connection(lib, redis_server):
    ev = _event_module(lib)
    d, seen = _recorder(lib, ev.AfterPubSubConnectionInstantiationEvent)
    r = lib.Redis(host=redis_server.host, port=redis_server.port, event_dispatcher=d)
    p = r.pubsub()
    try:
        assert seen == []
        p.subscribe("events-ch")
        p.subscribe("events-ch2")      # same connection: announced once
        assert _names(seen) == ["AfterPubSubConnectionInstantiationEvent"]
        e = seen[0]
        assert e.pubsub_connection is p.connection
        assert e.connection_pool is r.connection_pool
        assert e.client_type is ev.ClientType.SYNC
        assert e.connection_lock is p._lock
    finally:
        p.close()
        r.close()


def _release_workload(r):
    r.ping()
    r.set("events-k", "v")
    r.get("events-k")
    with r.pipeline() as pipe:
        pipe.incr("events-n").get("events-n").execute()
    p = r.pubsub()
    p.subscribe("events-ch")
    p.close()
    r.delete("events-k", "events-n")


@pytest.mark.parametrize("pool_class", ["ConnectionPool", "BlockingConnectionPool"])
def test_pool_announces_releases(lib, redis_server, pool_class):
    """A ConnectionPool given an event_dispatcher announces every connection
    going back to it; a BlockingConnectionPool does not (as in redis-py)."""
    ev = _event_module(lib)
    d, seen = _recorder(lib, ev.AfterConnectionReleasedEvent)
    pool = getattr(lib, pool_class)(host=redis_server.host, port=redis_server.port,
                                    event_dispatcher=d)
    r = lib.Redis(connection_pool=pool)
    try:
        _release_workload(r)
        if pool_class == "ConnectionPool":
            # ping, set, get, the pipeline, the pubsub, delete
            assert _names(seen) == ["AfterConnectionReleasedEvent"] * 6
            assert all(e.connection in pool._available_connections for e in seen)
        else:
            assert seen == []
    finally:
        r.close()
        pool.disconnect()


def test_release_announcement_from_threads(lib, redis_server):
    ev = _event_module(lib)
    d, seen = _recorder(lib, ev.AfterConnectionReleasedEvent)
    pool = lib.ConnectionPool(host=redis_server.host, port=redis_server.port,
                              event_dispatcher=d)
    r = lib.Redis(connection_pool=pool)

    def work():
        for _ in range(50):
            r.ping()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert len(seen) == 200
    finally:
        r.close()
        pool.disconnect()


def test_pool_without_dispatcher_keeps_the_c_path(impl, redis_server):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's stand-in rule")
    from redis_native import _native

    plain = impl.ConnectionPool(host=redis_server.host, port=redis_server.port)
    told = impl.ConnectionPool(host=redis_server.host, port=redis_server.port,
                               event_dispatcher=impl.event.EventDispatcher())
    try:
        assert _native._stands_in(plain)
        assert not _native._stands_in(told)   # its release() must run in Python
    finally:
        plain.disconnect()
        told.disconnect()
