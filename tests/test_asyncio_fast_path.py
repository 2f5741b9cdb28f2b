"""Redis.execute_command's one-C-call fast path (src/aio.c, "fast path":
_native._aio_take / _aio_release), on the default loop and on uvloop.

It may only stand in while nothing it skips was replaced.  Each case below
warms a client up (so a ready pooled connection exists and the fast path
would otherwise run), replaces one thing, and checks the replacement is
called -- at class level, on the instance, by a subclass -- and that the
connection still goes back to the pool.  Also: an argument that cannot be
encoded releases the taken connection; should_reconnect is honoured at
release; a cancelled command's connection is closed, never reused.
"""
import asyncio
import os
import sys
from unittest import mock

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncio_util import LOOPS, run  # noqa: E402

import redis_native.asyncio as aio  # noqa: E402
from redis_native import _native  # noqa: E402
from redis_native.event import AsyncAfterConnectionReleasedEvent  # noqa: E402


@pytest.fixture(params=LOOPS)
def loop_kind(request):
    return request.param


@pytest.fixture
def srv(redis_server):
    return redis_server


async def _warm(r):
    assert await r.set("fp", "v") is True
    assert await r.get("fp") == b"v"
    pool = r.connection_pool
    assert len(pool._available_connections) == 1 and not pool._in_use_connections
    return pool, pool._available_connections[-1]


def _idle(pool, conn):
    assert conn in pool._available_connections
    assert conn not in pool._in_use_connections


def test_fast_path_takes_and_releases(srv, loop_kind):
    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        pool, conn = await _warm(r)
        taken = _native._aio_take(r, ("ECHO", "hi"), {})
        assert taken is not None
        p, c, proto, fut = taken
        assert p is pool and c is conn and proto is conn._proto
        assert conn in pool._in_use_connections and conn not in pool._available_connections
        # nothing else is ready: a second take finds no idle connection
        assert _native._aio_take(r, ("ECHO", "x"), {}) is None
        assert await fut == b"hi"
        _native._aio_release(pool, conn)
        _idle(pool, conn)
        for i in range(20):
            assert await r.echo(i) == str(i).encode()
        _idle(pool, conn)
        assert len(pool._available_connections) == 1
        await r.aclose()
    run(main, loop_kind)


def test_unencodable_argument_releases_the_connection(srv, loop_kind):
    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        pool, conn = await _warm(r)
        with pytest.raises(aio.DataError):
            await r.set("fp", {"not": "encodable"})
        _idle(pool, conn)
        assert conn._proto is not None and conn._proto.owed == 0
        assert await r.get("fp") == b"v"
        await r.aclose()
    run(main, loop_kind)


def test_cancelled_command_closes_its_connection(srv, loop_kind):
    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        pool, conn = await _warm(r)
        proto = conn._proto
        task = asyncio.ensure_future(r.blpop(["fp:never"], 2))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert proto.closed and conn._proto is None      # its reply was owed
        _idle(pool, conn)
        assert await r.echo("after") == b"after"          # a new socket
        assert conn._proto is not None and conn._proto is not proto
        await r.aclose()
    run(main, loop_kind)


def test_should_reconnect_is_honoured_at_release(srv, loop_kind):
    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        pool, conn = await _warm(r)
        proto = conn._proto
        conn.mark_for_reconnect()
        assert await r.echo("a") == b"a"          # goes out, then the release closes
        assert proto.closed and not conn.should_reconnect()
        _idle(pool, conn)
        assert await r.echo("b") == b"b"
        await r.aclose()
    run(main, loop_kind)


def _replacements():
    """(name, setup(r, pool, conn) -> undo, calls) for each thing the fast
    path must not skip once replaced."""
    cases = []

    def parse_response_on_instance(r, pool, conn, calls):
        orig = r.parse_response

        async def mine(connection, command_name, **options):
            calls.append(command_name)
            return await orig(connection, command_name, **options)
        r.parse_response = mine
        return lambda: r.__dict__.pop("parse_response")
    cases.append(("parse_response on the instance", parse_response_on_instance))

    def parse_response_on_class(r, pool, conn, calls):
        orig = aio.Redis.parse_response

        async def mine(self, connection, command_name, **options):
            calls.append(command_name)
            return await orig(self, connection, command_name, **options)
        p = mock.patch.object(aio.Redis, "parse_response", mine)
        p.start()
        return p.stop
    cases.append(("parse_response patched on the class", parse_response_on_class))

    def get_connection_on_pool(r, pool, conn, calls):
        orig = pool.get_connection

        async def mine(*a, **k):
            calls.append("get_connection")
            return await orig(*a, **k)
        pool.get_connection = mine
        return lambda: pool.__dict__.pop("get_connection")
    cases.append(("pool.get_connection on the instance", get_connection_on_pool))

    def release_on_class(r, pool, conn, calls):
        orig = aio.ConnectionPool.release

        async def mine(self, connection):
            calls.append("release")
            return await orig(self, connection)
        p = mock.patch.object(aio.ConnectionPool, "release", mine)
        p.start()
        return p.stop
    cases.append(("ConnectionPool.release patched on the class", release_on_class))

    def release_listener(r, pool, conn, calls):
        class AL:
            async def listen(self, event):
                calls.append("released")
        pool._event_dispatcher.register_listeners({AsyncAfterConnectionReleasedEvent: [AL()]})
        return lambda: pool._event_dispatcher._event_listeners_mapping.clear()
    cases.append(("a listener of the release event", release_listener))

    def send_command_on_conn(r, pool, conn, calls):
        orig = conn.send_command

        async def mine(*a, **k):
            calls.append(a[0])
            return await orig(*a, **k)
        conn.send_command = mine
        return lambda: conn.__dict__.pop("send_command")
    cases.append(("send_command on the connection", send_command_on_conn))

    def read_response_on_class(r, pool, conn, calls):
        orig = aio.Connection.read_response

        async def mine(self, *a, **k):
            calls.append("read")
            return await orig(self, *a, **k)
        p = mock.patch.object(aio.Connection, "read_response", mine)
        p.start()
        return p.stop
    cases.append(("Connection.read_response patched on the class", read_response_on_class))

    def retry_subclass(r, pool, conn, calls):
        class MyRetry(aio.retry.Retry):
            async def call_with_retry(self, do, fail, *a, **k):
                calls.append("retry")
                return await super().call_with_retry(do, fail, *a, **k)
        old = conn.retry
        conn.retry = MyRetry(old._backoff, old._retries)

        def undo():
            conn.retry = old
        return undo
    cases.append(("a Retry subclass on the connection", retry_subclass))
    return cases


@pytest.mark.parametrize("case", _replacements(), ids=lambda c: c[0])
def test_replacements_are_honoured_on_a_ready_connection(srv, loop_kind, case):
    name, setup = case

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        pool, conn = await _warm(r)
        calls = []
        undo = setup(r, pool, conn, calls)
        try:
            assert _native._aio_take(r, ("ECHO", "x"), {}) is None
            assert await r.echo("x") == b"x"
            assert calls, name
        finally:
            undo()
        _idle(pool, conn)
        # put back: the fast path again
        taken = _native._aio_take(r, ("ECHO", "y"), {})
        assert taken is not None
        assert await taken[3] == b"y"
        _native._aio_release(pool, conn)
        _idle(pool, conn)
        await r.aclose()
    run(main, loop_kind)


def test_settings_that_need_the_general_path(srv, loop_kind):
    async def main():
        # a socket timeout to arm, a health check to run
        for kwargs in ({"socket_timeout": 5}, {"health_check_interval": 30}):
            r = aio.Redis(host=srv.host, port=srv.port, **kwargs)
            pool, conn = await _warm(r)
            assert _native._aio_take(r, ("PING",), {}) is None
            assert await r.echo("t") == b"t"
            _idle(pool, conn)
            await r.aclose()
        # a single-connection client, a blocking pool (its own _release)
        r = aio.Redis(host=srv.host, port=srv.port, single_connection_client=True)
        assert await r.echo("s") == b"s"
        assert _native._aio_take(r, ("PING",), {}) is None
        await r.aclose()
        pool = aio.BlockingConnectionPool(host=srv.host, port=srv.port, max_connections=2)
        r = aio.Redis(connection_pool=pool)
        await _warm(r)
        conn = pool._available_connections[-1]
        taken = _native._aio_take(r, ("ECHO", "b"), {})
        assert taken is not None and await taken[3] == b"b"
        _native._aio_release(pool, conn)     # BlockingConnectionPool._release is called
        _idle(pool, conn)
        await asyncio.gather(*(r.echo(i) for i in range(10)))
        assert len(pool._available_connections) + len(pool._in_use_connections) <= 2
        await pool.disconnect()
    run(main, loop_kind)


def test_another_loop_or_a_subclassed_pool_release(srv):
    class MyPool(aio.ConnectionPool):
        released = 0

        def _release(self, connection):
            MyPool.released += 1
            super()._release(connection)

    async def main():
        pool = MyPool(host=srv.host, port=srv.port)
        r = aio.Redis(connection_pool=pool)
        await _warm(r)
        before = MyPool.released
        assert await r.echo("m") == b"m"
        assert MyPool.released == before + 1
        return r

    r = run(main)

    async def other_loop():
        # the idle connection belongs to the closed loop: not taken
        assert _native._aio_take(r, ("PING",), {}) is None
        assert await r.echo("o") == b"o"
        await r.aclose()
    run(other_loop, "asyncio")


def test_bad_setup_and_release_arguments():
    with pytest.raises(TypeError):
        _native._aio_setup(1, 2)
    with pytest.raises(TypeError):
        _native._aio_take(1, 2)
    with pytest.raises(TypeError):
        _native._aio_release(1)
    # not a client: attribute errors propagate as Python's would
    with pytest.raises(AttributeError):
        _native._aio_take(object(), ("PING",), {})
