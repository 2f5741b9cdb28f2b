"""asyncio Sentinel (``redis_native.asyncio.sentinel``) against the real Sentinel
topology of the session (tests/sentinel_topology.py: a master, two replicas,
three sentinels), with redis-py's ``redis.asyncio.sentinel`` run on the same
topology as the oracle.

Tests that stop nodes or fail over restore a healthy topology before they end,
and every test that needs one waits for it first.  Failovers are real:
``SENTINEL FAILOVER`` and a killed master, under a writing and a reading task.
"""
from __future__ import annotations

import asyncio
import importlib
import random
import time

import pytest

from asyncio_util import LOOPS, run
from sentinel_topology import SERVICE

TIMEOUT = 2.0       # socket_timeout of the clients under test


def _aio(lib):
    return importlib.import_module(lib.__name__ + ".asyncio")


def _sentinel_mod(lib):
    return importlib.import_module(lib.__name__ + ".asyncio.sentinel")


@pytest.fixture
def healthy(sentinel_topo):
    sentinel_topo.wait_healthy()
    return sentinel_topo


def no_retry(lib):
    aio_retry = importlib.import_module(lib.__name__ + ".asyncio.retry")
    return aio_retry.Retry(lib.backoff.NoBackoff(), 0)


def make_sentinel(lib, topo, addresses=None, **kw):
    """An asyncio Sentinel of ``lib`` on ``topo`` whose clients of the sentinels
    do not retry (a stopped sentinel would cost seconds of backoff)."""
    kw.setdefault("socket_timeout", TIMEOUT)
    kw.setdefault("sentinel_kwargs", {"socket_timeout": TIMEOUT, "retry": no_retry(lib)})
    return _sentinel_mod(lib).Sentinel(addresses or topo.sentinel_addresses, **kw)


async def aclose_all(*clients):
    for c in clients:
        try:
            await c.aclose()
        except Exception:
            pass


async def close_sentinel(s):
    await aclose_all(*s.sentinels)


def replica_addresses(topo):
    return sorted(("127.0.0.1", n.port) for n in topo.replicas())


# ------------------------------------------------------------------ discovery
@pytest.mark.parametrize("loop_kind", LOOPS)
def test_discover_master_and_slaves(lib, healthy, loop_kind):
    async def main():
        s = make_sentinel(lib, healthy)
        try:
            master = await s.discover_master(SERVICE)
            slaves = await s.discover_slaves(SERVICE)
        finally:
            await close_sentinel(s)
        return master, slaves

    master, slaves = run(main, loop_kind)
    assert master == ("127.0.0.1", healthy.master_port())
    assert sorted(slaves) == replica_addresses(healthy)
    assert all(isinstance(port, int) for _, port in slaves)


def test_discovery_matches_redis_py(impl, redis_py, healthy):
    async def main(lib):
        s = make_sentinel(lib, healthy)
        try:
            state = await s.sentinels[0].sentinel_master(SERVICE)
            return (await s.discover_master(SERVICE), sorted(await s.discover_slaves(SERVICE)),
                    {k: state[k] for k in ("ip", "port", "is_master", "is_sdown", "is_odown",
                                           "num-other-sentinels")})
        finally:
            await close_sentinel(s)

    assert run(main, "asyncio", impl) == run(main, "asyncio", redis_py)


def test_first_answering_sentinel_moves_to_the_front(lib, healthy):
    from servers import unused_port
    dead = ("127.0.0.1", unused_port())

    async def main():
        s = make_sentinel(lib, healthy, addresses=[dead] + healthy.sentinel_addresses)
        first_live = s.sentinels[1]
        try:
            await s.discover_master(SERVICE)
            assert s.sentinels[0] is first_live
            assert s.sentinels[1].connection_pool.connection_kwargs["port"] == dead[1]
        finally:
            await close_sentinel(s)

    run(main)


# ------------------------------------------------------------------ reads and writes
@pytest.mark.parametrize("loop_kind", LOOPS)
def test_master_for_writes_slave_for_reads(lib, healthy, loop_kind):
    exc = lib.exceptions

    async def main():
        s = make_sentinel(lib, healthy)
        master = s.master_for(SERVICE)
        replica = s.slave_for(SERVICE)
        try:
            out = [await master.set("asentinel:rw", "v1"),
                   await master.execute_command("WAIT", 2, 2000),
                   await replica.get("asentinel:rw")]
            with pytest.raises(exc.ReadOnlyError):
                await replica.set("asentinel:rw", "v2")
            out.append(await master.get("asentinel:rw"))
            async with master.pipeline(transaction=False) as pipe:
                pipe.set("asentinel:p", 1).incr("asentinel:p").get("asentinel:p")
                out.append(await pipe.execute())
            out.append(await master.transaction(lambda p: p.incr("asentinel:p")))
            async with master.pipeline() as pipe:
                await pipe.watch("asentinel:p")
                value = int(await pipe.get("asentinel:p"))
                pipe.multi()
                pipe.set("asentinel:p", value * 10)
                out.append(await pipe.execute())
            out.append(await master.get("asentinel:p"))
            return out
        finally:
            await aclose_all(master, replica)
            await close_sentinel(s)

    assert run(main, loop_kind) == [True, 2, b"v1", b"v1", [True, 2, b"2"], [3], [True], b"30"]


def test_pubsub_on_master_for(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy)
        master = s.master_for(SERVICE)
        ps = master.pubsub()
        try:
            await ps.subscribe("asentinel:chan")
            await master.publish("asentinel:chan", "hello")
            got = []
            deadline = time.monotonic() + 5
            while len(got) < 2 and time.monotonic() < deadline:
                m = await ps.get_message(timeout=0.2)
                if m is not None:
                    got.append((m["type"], m["data"]))
            return got
        finally:
            await ps.aclose()
            await aclose_all(master)
            await close_sentinel(s)

    assert run(main) == [("subscribe", 1), ("message", b"hello")]


def test_master_for_options(lib, healthy):
    aio = _aio(lib)
    sm = _sentinel_mod(lib)

    class MyRedis(aio.Redis):
        pass

    class MyPool(sm.SentinelConnectionPool):
        pass

    async def main():
        s = make_sentinel(lib, healthy, db=0)
        master = s.master_for(SERVICE, redis_class=MyRedis, connection_pool_class=MyPool,
                              decode_responses=True)
        replica = s.slave_for(SERVICE, redis_class=MyRedis, connection_pool_class=MyPool, db=1)
        try:
            assert type(master) is MyRedis and type(master.connection_pool) is MyPool
            assert master.connection_pool.is_master and not replica.connection_pool.is_master
            assert master.connection_pool.connection_kwargs["decode_responses"] is True
            assert replica.connection_pool.connection_kwargs["db"] == 1
            assert "is_master" not in s.connection_kwargs       # not leaked into the manager
            await master.set("asentinel:opt", "x")
            assert await master.get("asentinel:opt") == "x"
            assert await replica.ping() is True
        finally:
            await aclose_all(master, replica)
            await close_sentinel(s)

    run(main)


# ------------------------------------------------------------------ replicas
async def _connection_address(pool):
    conn = await pool.get_connection()
    return conn, (conn.host, conn.port)


def test_slaves_round_robin(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy)
        replica = s.slave_for(SERVICE)
        pool = replica.connection_pool
        try:
            held = [await _connection_address(pool) for _ in range(4)]
            for conn, _ in held:
                await pool.release(conn)
            return [a for _, a in held]
        finally:
            await aclose_all(replica)
            await close_sentinel(s)

    addresses = run(main)
    assert sorted(set(addresses)) == replica_addresses(healthy)
    assert addresses[0] != addresses[1]
    assert addresses[0] == addresses[2] and addresses[1] == addresses[3]


def test_rotate_slaves_then_master_then_error(lib, healthy):
    sm = _sentinel_mod(lib)

    async def main():
        s = make_sentinel(lib, healthy)
        pool = sm.SentinelConnectionPool(SERVICE, s, is_master=False)
        seen = []
        try:
            with pytest.raises(sm.SlaveNotFoundError, match="No slave found for 'mymaster'"):
                async for address in pool.rotate_slaves():
                    seen.append(address)
        finally:
            await close_sentinel(s)
        return seen

    seen = run(main)
    assert sorted(seen[:2]) == replica_addresses(healthy)
    assert seen[2:] == [("127.0.0.1", healthy.master_port())]


def test_a_replica_down(lib, healthy):
    down = healthy.replicas()[0]
    up = [n for n in healthy.replicas() if n is not down][0]

    async def main():
        s = make_sentinel(lib, healthy)
        replica = s.slave_for(SERVICE)
        try:
            # the sentinels still list it for a while: connecting to it fails
            # and the next replica is used
            for _ in range(4):
                conn, address = await _connection_address(replica.connection_pool)
                assert address == ("127.0.0.1", up.port)
                await replica.connection_pool.release(conn)
                await replica.connection_pool.disconnect()
            return await replica.ping()
        finally:
            await aclose_all(replica)
            await close_sentinel(s)

    down.kill()
    try:
        assert run(main) is True
    finally:
        down.restart()
        healthy.wait_healthy()


def test_all_replicas_down_falls_back_to_master(lib, healthy):
    replicas = healthy.replicas()

    async def main():
        s = make_sentinel(lib, healthy)
        master = s.master_for(SERVICE)
        replica = s.slave_for(SERVICE)
        try:
            await master.set("asentinel:fallback", "m")
            for node in replicas:
                node.kill()
            assert await replica.get("asentinel:fallback") == b"m"
            conn, address = await _connection_address(replica.connection_pool)
            assert address == ("127.0.0.1", healthy.master_port())
            await replica.connection_pool.release(conn)
            # once the sentinels flag them down they are filtered out
            for node in replicas:
                await asyncio.to_thread(healthy.wait_replica_state, node, True)
            assert await s.discover_slaves(SERVICE) == []
            assert await replica.get("asentinel:fallback") == b"m"
        finally:
            await aclose_all(master, replica)
            await close_sentinel(s)

    try:
        run(main)
    finally:
        for node in replicas:
            node.restart()
        healthy.wait_healthy()


# ------------------------------------------------------------------ sentinels and errors
def test_sentinels_down_one_by_one(impl, redis_py, healthy):
    """With every sentinel stopped, MasterNotFoundError lists each one's
    connection error, in redis-py's words."""
    expected = ("127.0.0.1", healthy.master_port())

    async def discover(lib):
        s = make_sentinel(lib, healthy)
        try:
            return await s.discover_master(SERVICE)
        except Exception as e:
            return type(e).__name__, str(e)
        finally:
            await close_sentinel(s)

    stopped = []
    try:
        for sentinel in healthy.sentinels:
            assert run(discover, "asyncio", impl) == run(discover, "asyncio", redis_py) \
                == expected
            sentinel.stop()
            stopped.append(sentinel)
        ours, theirs = run(discover, "asyncio", impl), run(discover, "asyncio", redis_py)
        assert ours[0] == theirs[0] == "MasterNotFoundError"
        assert ours[1].startswith("No master found for 'mymaster' : ")
        # one "<client repr> - <error repr>" per sentinel, as redis-py (the
        # client reprs name each library's classes)
        assert ours[1].count(")>)>)> - network:ConnectionError") == \
            theirs[1].count(")>)>)> - network:ConnectionError") == len(healthy.sentinels)
    finally:
        for sentinel in stopped:
            sentinel.start()
        healthy.wait_healthy()


def test_wrong_service_name(impl, redis_py, healthy):
    async def main(lib):
        sm = _sentinel_mod(lib)
        s = make_sentinel(lib, healthy)
        pool = s.master_for("nosuchservice").connection_pool
        replica = s.slave_for("nosuchservice")
        out = []
        try:
            for call in (lambda: s.discover_master("nosuchservice"),
                         lambda: pool.get_master_address()):
                with pytest.raises(sm.MasterNotFoundError) as info:
                    await call()
                out.append(str(info.value))
            out.append(await s.discover_slaves("nosuchservice"))
            with pytest.raises(sm.SlaveNotFoundError) as info:
                await replica.ping()
            out.append(str(info.value))
        finally:
            await aclose_all(replica)
            await close_sentinel(s)
        return out

    ours = run(main, "asyncio", impl)
    assert ours == run(main, "asyncio", redis_py)
    assert ours[0] == "No master found for 'nosuchservice'"


def test_min_other_sentinels(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy, min_other_sentinels=len(healthy.sentinels))
        try:
            with pytest.raises(_sentinel_mod(lib).MasterNotFoundError):
                await s.discover_master(SERVICE)
        finally:
            await close_sentinel(s)
        s = make_sentinel(lib, healthy, min_other_sentinels=len(healthy.sentinels) - 1)
        try:
            return await s.discover_master(SERVICE)
        finally:
            await close_sentinel(s)

    assert run(main) == ("127.0.0.1", healthy.master_port())


def test_check_master_state_and_filter_slaves(lib):
    s = _sentinel_mod(lib).Sentinel([("127.0.0.1", 1)], min_other_sentinels=1)
    good = {"is_master": True, "is_sdown": False, "is_odown": False, "num-other-sentinels": 1}
    assert s.check_master_state(good, SERVICE) is True
    for key, value in (("is_master", False), ("is_sdown", True), ("is_odown", True),
                       ("num-other-sentinels", 0)):
        assert s.check_master_state(dict(good, **{key: value}), SERVICE) is False
    slaves = [{"ip": "a", "port": 1, "is_odown": False, "is_sdown": False},
              {"ip": "b", "port": 2, "is_odown": True, "is_sdown": False},
              {"ip": "c", "port": 3, "is_odown": False, "is_sdown": True}]
    assert s.filter_slaves(slaves) == [("a", 1)]


def test_force_master_ip(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy, force_master_ip="localhost")
        master = s.master_for(SERVICE)
        try:
            assert await s.discover_master(SERVICE) == ("localhost", healthy.master_port())
            assert await master.ping() is True
            conn = await master.connection_pool.get_connection()
            assert conn.host == "localhost"
            await master.connection_pool.release(conn)
        finally:
            await aclose_all(master)
            await close_sentinel(s)

    run(main)


def test_sentinel_kwargs_default_to_socket_options(lib):
    sm = _sentinel_mod(lib)
    s = sm.Sentinel([("127.0.0.1", 1)], socket_timeout=1.5, socket_connect_timeout=0.5,
                    password="data-only", db=3)
    assert s.sentinel_kwargs == {"socket_timeout": 1.5, "socket_connect_timeout": 0.5}
    kwargs = s.sentinels[0].connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 1.5 and kwargs.get("password") is None
    assert s.connection_kwargs == {"socket_timeout": 1.5, "socket_connect_timeout": 0.5,
                                   "password": "data-only", "db": 3}
    s = sm.Sentinel([("127.0.0.1", 1)], sentinel_kwargs={"password": "s"}, socket_timeout=1)
    assert s.sentinels[0].connection_pool.connection_kwargs["password"] == "s"
    assert s.sentinels[0].connection_pool.connection_kwargs.get("socket_timeout") is None


def test_sentinel_commands_go_to_all_or_one(impl, redis_py, healthy):
    async def main(lib):
        s = make_sentinel(lib, healthy)
        try:
            out = [await s.sentinel_ckquorum(SERVICE),
                   await s.sentinel_set(SERVICE, "down-after-milliseconds", 1000),
                   await s.execute_command("PING"),
                   await s.execute_command("PING", return_responses=True),
                   await s.execute_command("PING", once=True),
                   await s.execute_command("PING", once=True, return_responses=True)]
            masters = await s.execute_command("SENTINEL MASTERS", return_responses=True)
            out.append([sorted(m) for m in masters])
            return out
        finally:
            await close_sentinel(s)

    ours = run(main, "asyncio", impl)
    assert ours == run(main, "asyncio", redis_py)
    assert ours[3] == [True] * len(healthy.sentinels) and ours[5] == [True]
    assert ours[6] == [[SERVICE]] * len(healthy.sentinels)


# ------------------------------------------------------------------ a demoted master
def _stale_sentinel(lib, topo, address):
    """A Sentinel whose idea of the master is a replica (as right after a
    failover that has not reached it yet)."""
    class Stale(_sentinel_mod(lib).Sentinel):
        async def discover_master(self, service_name):
            return address
    return Stale(topo.sentinel_addresses, socket_timeout=TIMEOUT)


@pytest.mark.parametrize("socket_timeout", [None, TIMEOUT], ids=["no-timeout", "timeout"])
def test_readonly_on_master_connection_disconnects(impl, redis_py, healthy, socket_timeout):
    # without a socket timeout redis_native's commands take the one-call C
    # path, with one the native round trip under asyncio.timeout
    address = ("127.0.0.1", healthy.replicas()[0].port)

    async def main(lib):
        exc = lib.exceptions
        master = _stale_sentinel(lib, healthy, address).master_for(
            SERVICE, socket_timeout=socket_timeout)
        try:
            await master.get("asentinel:ro")     # reads work on a replica
            with pytest.raises(exc.ConnectionError) as info:
                await master.set("asentinel:ro", 1)
            assert not isinstance(info.value, exc.ReadOnlyError)
            assert isinstance(info.value.__context__, exc.ReadOnlyError)
            pool = master.connection_pool
            assert pool._available_connections
            assert all(c._reader is None for c in pool._available_connections)
            async with master.pipeline(transaction=False) as pipe:
                pipe.get("asentinel:ro").set("asentinel:ro", 1)
                with pytest.raises(exc.ConnectionError) as p_info:
                    await pipe.execute()
            with pytest.raises(exc.ConnectionError) as t_info:
                await master.transaction(lambda p: p.set("asentinel:ro", 1))
            outcome = (str(info.value), type(p_info.value).__name__,
                       type(t_info.value).__name__)
        finally:
            await aclose_all(master)
        # on a replica pool the READONLY error stands
        ro = _stale_sentinel(lib, healthy, address).slave_for(SERVICE)
        try:
            with pytest.raises(exc.ReadOnlyError):
                await ro.set("asentinel:ro", 1)
        finally:
            await aclose_all(ro)
        return outcome

    ours = run(main, "asyncio", impl)
    assert ours == run(main, "asyncio", redis_py)
    assert ours[0] == "The previous master is now a slave"


def test_managed_connection_keeps_the_native_path(impl, impl_name, healthy):
    """Sentinel-managed connections take the client's native paths (their
    connect/read_response are declared); a subclass replacing read_response
    again is called."""
    if impl_name != "redis_native":
        pytest.skip("the native paths are redis_native's")
    client_mod = importlib.import_module("redis_native.asyncio.client")
    sm = _sentinel_mod(impl)
    calls = []

    class Recording(sm.SentinelManagedConnection):
        async def read_response(self, *args, **kwargs):
            calls.append(args)
            return await super().read_response(*args, **kwargs)

    async def main():
        s = make_sentinel(impl, healthy, socket_timeout=None)
        master = s.master_for(SERVICE)
        mine = s.master_for(SERVICE, connection_class=Recording)
        try:
            assert await master.ping() is True
            taken = client_mod._aio_take(master, ("PING",), {})
            assert taken is not None
            pool, conn, _, fut = taken
            try:
                assert await fut is True
            finally:
                client_mod._aio_release(pool, conn)
            assert client_mod._conn_native(conn)
            assert await mine.ping() is True
            conn = mine.connection_pool._available_connections[0]
            assert not client_mod._conn_native(conn)
            assert client_mod._aio_take(mine, ("PING",), {}) is None
            assert calls
        finally:
            await aclose_all(master, mine)
            await close_sentinel(s)

    run(main)


def test_owns_connection_refuses_a_former_master(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy)
        master = s.master_for(SERVICE)
        pool = master.connection_pool
        try:
            await master.ping()
            conn = await pool.get_connection()
            assert pool.master_address == ("127.0.0.1", healthy.master_port())
            await conn.disconnect()
            await conn.connect_to(("127.0.0.1", healthy.replicas()[0].port))
            assert pool.owns_connection(conn) is False
            await pool.release(conn)
            assert await master.ping() is True
        finally:
            await aclose_all(master)
            await close_sentinel(s)

    run(main)


def test_owns_connection_accepts_the_current_master(impl, healthy):
    # redis.asyncio's base pool has no owns_connection to defer to (its
    # SentinelConnectionPool raises AttributeError here): only ours is checked
    async def main():
        s = make_sentinel(impl, healthy)
        master = s.master_for(SERVICE)
        try:
            await master.ping()
            conn = await master.connection_pool.get_connection()
            assert master.connection_pool.owns_connection(conn) is True
            await master.connection_pool.release(conn)
        finally:
            await aclose_all(master)
            await close_sentinel(s)

    run(main)


def test_master_change_disconnects_idle_connections(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy)
        master = s.master_for(SERVICE)
        pool = master.connection_pool
        try:
            await master.ping()
            idle = pool._available_connections[0]
            assert idle._reader is not None
            pool.master_address = ("127.0.0.1", 1)      # as if the master had moved
            assert await pool.get_master_address() == ("127.0.0.1", healthy.master_port())
            assert idle._reader is None
            assert await master.ping() is True
        finally:
            await aclose_all(master)
            await close_sentinel(s)

    run(main)


# ------------------------------------------------------------------ repr, classes
def test_reprs_match_redis_py(impl, redis_py, healthy):
    async def main(lib):
        s = make_sentinel(lib, healthy)
        master, replica = s.master_for(SERVICE), s.slave_for(SERVICE)
        try:
            await master.ping()
            conn = await master.connection_pool.get_connection()
            out = [repr(s), repr(master.connection_pool), repr(replica.connection_pool),
                   repr(conn)]
            await master.connection_pool.release(conn)
            return [x.replace(lib.__name__ + ".", "LIB.") for x in out]
        finally:
            await aclose_all(master, replica)
            await close_sentinel(s)

    ours = run(main, "asyncio", impl)
    assert ours == run(main, "asyncio", redis_py)
    assert ours[3] == (f"<LIB.asyncio.sentinel.SentinelManagedConnection,host=127.0.0.1,"
                       f"port={healthy.master_port()})>")


def test_classes_and_exports(lib):
    aio, sm = _aio(lib), _sentinel_mod(lib)
    assert issubclass(sm.MasterNotFoundError, lib.exceptions.ConnectionError)
    assert issubclass(sm.SlaveNotFoundError, lib.exceptions.ConnectionError)
    assert issubclass(sm.SentinelManagedConnection, aio.Connection)
    assert [c.__name__ for c in sm.SentinelManagedSSLConnection.__mro__[:4]] == [
        "SentinelManagedSSLConnection", "SentinelManagedConnection", "SSLConnection",
        "Connection"]
    assert issubclass(sm.SentinelConnectionPool, aio.ConnectionPool)
    for name in ("Sentinel", "SentinelConnectionPool", "SentinelManagedConnection",
                 "SentinelManagedSSLConnection"):
        assert getattr(aio, name) is getattr(sm, name)
        assert name in aio.__all__


def test_ssl_selects_the_ssl_connection_class(lib):
    sm = _sentinel_mod(lib)
    s = sm.Sentinel([("127.0.0.1", 1)])
    pool = sm.SentinelConnectionPool(SERVICE, s, ssl=True)
    assert pool.connection_class is sm.SentinelManagedSSLConnection
    assert "ssl" not in pool.connection_kwargs
    pool = sm.SentinelConnectionPool(SERVICE, s, ssl=True,
                                     connection_class=sm.SentinelManagedConnection)
    assert pool.connection_class is sm.SentinelManagedConnection
    assert pool.connection_kwargs["connection_pool"] == pool


def test_managed_connection_needs_its_pool(impl, impl_name):
    if impl_name != "redis_native":
        pytest.skip("redis-py raises a bare KeyError('connection_pool')")
    with pytest.raises(TypeError, match="connection_pool"):
        _sentinel_mod(impl).SentinelManagedConnection(host="127.0.0.1")


def test_sentinel_pool_is_not_pickled(lib):
    import pickle
    sm = _sentinel_mod(lib)
    pool = sm.SentinelConnectionPool(SERVICE, sm.Sentinel([("127.0.0.1", 1)]))
    with pytest.raises(TypeError):
        pickle.dumps(pool)


def test_pool_reset_forgets_master_and_rotation(lib, healthy):
    async def main():
        s = make_sentinel(lib, healthy)
        replica, master = s.slave_for(SERVICE), s.master_for(SERVICE)
        try:
            await master.ping()
            await replica.ping()
            assert master.connection_pool.master_address is not None
            assert replica.connection_pool.slave_rr_counter is not None
            master.connection_pool.reset()
            replica.connection_pool.reset()
            assert master.connection_pool.master_address is None
            assert replica.connection_pool.slave_rr_counter is None
            return await master.ping(), await replica.ping()
        finally:
            await aclose_all(master, replica)
            await close_sentinel(s)

    assert run(main) == (True, True)


# ------------------------------------------------------------------ cancellation
@pytest.mark.parametrize("socket_timeout", [None, TIMEOUT], ids=["no-timeout", "timeout"])
def test_cancellation_storm_on_master_for(impl, healthy, socket_timeout):
    """Tasks cancelled at random points on sentinel-managed connections while
    other tasks check every reply against their own key: no reply reaches the
    wrong command."""
    async def main():
        s = make_sentinel(impl, healthy, socket_timeout=socket_timeout)
        master = s.master_for(SERVICE, max_connections=8)
        rng = random.Random(7)
        wrong = []

        async def checker(n):
            for i in range(60):
                key = f"asentinel:storm:{n}:{i}"
                await master.set(key, key)
                got = await master.get(key)
                if got != key.encode():
                    wrong.append((key, got))

        async def victim(n):
            for i in range(60):
                task = asyncio.ensure_future(master.get(f"asentinel:storm:victim:{n}:{i}"))
                await asyncio.sleep(rng.random() / 2000)
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except (impl.exceptions.ConnectionError, impl.exceptions.MaxConnectionsError):
                    pass

        try:
            await asyncio.gather(*(checker(n) for n in range(4)),
                                 *(victim(n) for n in range(4)))
            return wrong, await master.ping()
        finally:
            await aclose_all(master)
            await close_sentinel(s)

    assert run(main) == ([], True)


# ------------------------------------------------------------------ failover under load
class Load:
    """A writing task (``SET k:i i`` then ``WAIT 1 1000``) on ``master_for`` and
    a reading task (GET on ``slave_for``), for one library."""

    def __init__(self, lib, topo, prefix):
        self.lib = lib
        self.prefix = prefix
        self.sentinel = make_sentinel(lib, topo)
        self.master = self.sentinel.master_for(SERVICE)
        self.replica = self.sentinel.slave_for(SERVICE)
        self.stop = False
        self.acked, self.ok, self.errors, self.reads, self.unexpected = [], [], [], [], []
        self.longest = 0.0

    async def _timed(self, coro):
        t = time.monotonic()
        try:
            return await coro
        finally:
            self.longest = max(self.longest, time.monotonic() - t)

    async def write(self):
        exc = self.lib.exceptions
        i = 0
        while not self.stop:
            try:
                await self._timed(self.master.set(f"{self.prefix}:{i}", i))
                n = await self._timed(self.master.execute_command("WAIT", 1, 1000))
                self.ok.append((time.monotonic(), i, self.master.connection_pool.master_address))
                if n >= 1:
                    self.acked.append(i)
            except (exc.ConnectionError, exc.TimeoutError, exc.ReadOnlyError) as e:
                self.errors.append((time.monotonic(), type(e).__name__))
                await asyncio.sleep(0.02)
            except Exception as e:  # anything else fails the test
                self.unexpected.append(repr(e))
            i += 1

    async def read(self):
        exc = self.lib.exceptions
        while not self.stop:
            try:
                await self._timed(self.replica.get(f"{self.prefix}:0"))
                self.reads.append(time.monotonic())
            except (exc.ConnectionError, exc.TimeoutError) as e:
                self.errors.append((time.monotonic(), type(e).__name__))
                await asyncio.sleep(0.02)
            except Exception as e:
                self.unexpected.append(repr(e))
            await asyncio.sleep(0.005)

    async def close(self):
        await aclose_all(self.master, self.replica)
        await close_sentinel(self.sentinel)

    def first_write_on(self, port, since):
        return next((t for t, _, address in self.ok
                     if t > since and address == ("127.0.0.1", port)), None)


def _failover_under_load(impl, redis_py, topo, trigger, label, split_brain):
    topo.wait_healthy()
    old = topo.master()
    state = {}

    async def main():
        loads = [Load(impl, topo, f"a{label}:native"), Load(redis_py, topo, f"a{label}:redis-py")]
        tasks = [asyncio.ensure_future(f()) for load in loads for f in (load.write, load.read)]
        try:
            deadline = time.monotonic() + 10
            while any(len(load.acked) < 5 for load in loads) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            started = time.monotonic()
            state["killed"] = await asyncio.to_thread(trigger, old)
            deadline = started + 45
            new_port = None
            while time.monotonic() < deadline:
                try:
                    new_port = await asyncio.to_thread(topo.master_port)
                except Exception:
                    new_port = None
                if new_port not in (None, old.port) and all(
                        load.first_write_on(new_port, started) for load in loads):
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.3)     # a few more writes on the new master
        finally:
            for load in loads:
                load.stop = True
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            for load in loads:
                await load.close()
        return loads, started, new_port

    try:
        loads, started, new_port = run(main)
    finally:
        if state.get("killed") is not None:
            state["killed"].restart()
    assert new_port not in (None, old.port), "no failover happened"
    report = []
    for load in loads:
        assert not load.unexpected, load.unexpected
        first = load.first_write_on(new_port, started)
        assert first is not None, f"{load.prefix}: no write reached the new master"
        assert load.master.connection_pool.master_address == ("127.0.0.1", new_port)
        assert any(t > first for t in load.reads), f"{load.prefix}: no read after the failover"
        assert load.longest < 2 * TIMEOUT + 1.5, (load.prefix, load.longest)
        with topo.admin_node(topo.node(new_port)) as c:
            values = c.mget([f"{load.prefix}:{i}" for i in load.acked])
        lost = [i for i, v in zip(load.acked, values) if v != str(i)]
        made = {i: (t, address) for t, i, address in load.ok}
        window = [i for i in lost if split_brain and made[i][0] > started
                  and made[i][1] == ("127.0.0.1", old.port)]
        assert not set(lost) - set(window), \
            f"{load.prefix}: acknowledged writes lost: {sorted(set(lost) - set(window))[:10]}"
        errors = sorted({name for _, name in load.errors})
        report.append(f"{load.prefix}: first write on the new master {first - started:.2f} s "
                      f"after the {label}; {len(load.ok)} writes; errors seen: "
                      f"{errors or 'none'}; slowest call {load.longest:.2f} s")
    print(f"\n[asyncio sentinel {label}] " + f"\n[asyncio sentinel {label}] ".join(report))
    topo.wait_healthy(timeout=60)


def test_failover_under_load_sentinel_failover(impl, redis_py, sentinel_topo):
    def trigger(old):
        with sentinel_topo.admin_sentinel(sentinel_topo.sentinels[0]) as c:
            assert c.execute_command("SENTINEL FAILOVER", SERVICE)
        return None
    _failover_under_load(impl, redis_py, sentinel_topo, trigger, "SENTINEL FAILOVER",
                         split_brain=True)


def test_failover_under_load_master_killed(impl, redis_py, sentinel_topo):
    def trigger(old):
        old.kill()
        return old
    _failover_under_load(impl, redis_py, sentinel_topo, trigger, "master kill",
                         split_brain=False)
