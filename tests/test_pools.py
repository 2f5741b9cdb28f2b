"""Connection pools through the public API: max_connections, the blocking
pool's wait and wake-up, pools shared by threads (``--impl`` selects the
implementation).
"""
import threading
import time

import pytest

# ------------------------------------------------------------------ pools
def test_connection_pool_max_connections(api, redis_server, closing):
    pool = closing(api.impl.ConnectionPool(host=redis_server.host, port=redis_server.port, max_connections=2))
    c1 = pool.get_connection()
    c2 = pool.get_connection()
    assert c1 is not c2
    with pytest.raises(api.exc.MaxConnectionsError) as ei:
        pool.get_connection()
    assert isinstance(ei.value, api.exc.ConnectionError)
    pool.release(c1)
    c3 = pool.get_connection()
    assert c3 is c1
    pool.release(c2)
    pool.release(c3)


def test_connection_pool_max_connections_via_client(api, redis_server, closing):
    pool = closing(api.impl.ConnectionPool(host=redis_server.host, port=redis_server.port, max_connections=1))
    r = api.impl.Redis(connection_pool=pool)
    held = pool.get_connection()
    try:
        with pytest.raises(api.exc.ConnectionError):
            r.ping()
    finally:
        pool.release(held)
    assert r.ping() is True


def test_blocking_pool_times_out(api, redis_server, closing):
    pool = closing(api.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   max_connections=1, timeout=0.2))
    c1 = pool.get_connection()
    t0 = time.monotonic()
    with pytest.raises(api.exc.ConnectionError) as ei:
        pool.get_connection()
    assert time.monotonic() - t0 < 10
    assert str(ei.value) == "No connection available."
    pool.release(c1)
    c2 = pool.get_connection()
    assert c2 is c1
    pool.release(c2)


def test_blocking_pool_waiter_wakes_on_release(api, redis_server, closing):
    pool = closing(api.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   max_connections=1, timeout=20))
    c1 = pool.get_connection()
    got = []
    waiting = threading.Event()

    def waiter():
        waiting.set()
        got.append(pool.get_connection())

    t = threading.Thread(target=waiter)
    t.start()
    waiting.wait(10)
    time.sleep(0.3)
    assert got == []  # still blocked
    pool.release(c1)
    t.join(15)
    assert not t.is_alive(), "waiter did not wake up"
    assert got == [c1]
    pool.release(got[0])


def test_blocking_pool_shared_by_threads(api, redis_server, closing):
    pool = closing(api.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   db=9, max_connections=2, timeout=30))
    r = api.impl.Redis(connection_pool=pool)
    r.delete("bp")
    errors = []

    def work():
        try:
            for _ in range(100):
                r.incr("bp")
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert r.get("bp") == b"600"
    r.delete("bp")


def test_blocking_pool_connections_list(lib, redis_server):
    """BlockingConnectionPool._connections: every connection made and held,
    idle or in use (read by monitoring code), on both implementations."""
    pool = lib.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                      max_connections=4)
    try:
        assert pool._connections == []
        a = pool.get_connection()
        b = pool.get_connection()
        assert sorted(map(id, pool._connections)) == sorted([id(a), id(b)])
        pool.release(b)
        assert len(pool._connections) == 2          # released ones stay in the list
        pool.reset()
        assert pool._connections == []
    finally:
        pool.disconnect()
