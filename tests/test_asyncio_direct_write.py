"""The protocol's direct send() on plain TCP and unix sockets (src/aio.c,
"Writing"), on the default loop and on uvloop:

* which connections use it (TCP, unix) and which never do (TLS, a transport
  of another class, after the connection is lost);
* a server that stops reading (DEBUG SLEEP on another connection) while one
  connection writes large values and many small commands: send() meets
  EAGAIN, the transport buffers the rest and pauses writing, and every reply
  still matches its own command -- the bytes kept their order;
* the connection lost in the middle of a large reply and of a large write:
  the waiting commands fail with ConnectionError, the client reconnects.
"""
import asyncio
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncio_util import LOOPS, run  # noqa: E402

import redis_native.asyncio as aio  # noqa: E402
from redis_native import _native  # noqa: E402


@pytest.fixture(params=LOOPS)
def loop_kind(request):
    return request.param


@pytest.fixture(scope="module")
def srv():
    from servers import RedisServer

    # DEBUG SLEEP stops the server reading: what makes send() meet EAGAIN
    server = RedisServer("--enable-debug-command", "yes")
    try:
        yield server
    finally:
        server.stop()


async def _conn(r):
    await r.ping()
    conn = r.connection_pool._available_connections[-1]
    return conn, conn._proto


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_plain_sockets_send_directly(srv, loop_kind, kind):
    async def main():
        if kind == "tcp":
            r = aio.Redis(host=srv.host, port=srv.port)
        else:
            r = aio.Redis(unix_socket_path=srv.unix_path)
        conn, proto = await _conn(r)
        assert proto.direct is True
        for i in range(50):
            assert await r.echo(f"m{i}") == f"m{i}".encode()
        await r.set("k", b"x" * 300_000)
        assert await r.get("k") == b"x" * 300_000
        assert proto.direct is True
        await conn.disconnect()
        assert proto.direct is False
        assert await r.echo("again") == b"again"   # reconnected: a new protocol
        assert r.connection_pool._available_connections[-1]._proto.direct is True
        await r.aclose()
    run(main, loop_kind)


def test_other_transports_keep_every_write():
    class FakeTransport:
        def __init__(self):
            self.out = []

        def write(self, data):
            self.out.append(bytes(data))

        def get_extra_info(self, name, default=None):
            return default

        def abort(self):
            pass

        def close(self):
            pass

    loop = asyncio.new_event_loop()
    try:
        proto = _native.AsyncProtocol(loop)
        t = FakeTransport()
        proto.connection_made(t)
        aio.connection._allow_direct_send(proto)       # not a known transport class
        assert proto.direct is False
        proto.execute(("PING",))
        assert t.out == [b"*1\r\n$4\r\nPING\r\n"]
        with pytest.raises(ValueError):
            proto.use_socket(-2)
        with pytest.raises(OverflowError):
            proto.use_socket(1 << 80)
        proto.abort()
        with pytest.raises(aio.ConnectionError):
            proto.use_socket(5)                        # lost: no socket to use
        assert proto.direct is False
    finally:
        loop.close()


def _sleep_server(srv, seconds):
    """DEBUG SLEEP on another connection, in a thread: the server reads
    nothing meanwhile."""
    import redis

    started = threading.Event()

    def go():
        c = redis.Redis(host=srv.host, port=srv.port)
        started.set()
        c.execute_command("DEBUG", "SLEEP", seconds)
        c.close()

    th = threading.Thread(target=go)
    th.start()
    started.wait()
    return th


def test_backpressure_keeps_every_reply_in_order(srv, loop_kind):
    big = 4 * 1024 * 1024

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        conn, proto = await _conn(r)
        assert proto.direct is True
        th = _sleep_server(srv, 0.4)
        await asyncio.sleep(0.05)
        futs, expect = [], []
        for i in range(8):
            value = bytes([65 + i]) * big
            futs.append(proto.execute(("SET", f"big{i}", value)))
            expect.append(b"OK")
            for j in range(25):
                token = f"{i}:{j}"
                futs.append(proto.execute(("ECHO", token)))
                expect.append(token.encode())
        # 32 MB cannot fit the socket buffers of a server that does not read
        assert proto.paused is True
        await proto.drained()
        results = await asyncio.gather(*futs)
        await asyncio.get_running_loop().run_in_executor(None, th.join)
        assert results == expect
        for i in range(8):
            assert await r.strlen(f"big{i}") == big
            assert (await r.getrange(f"big{i}", big - 3, big - 1)) == bytes([65 + i]) * 3
        # the transport drained: writes go straight to the socket again
        assert proto.direct is True and proto.owed == 0
        assert await r.echo("after") == b"after"
        await r.aclose()
    run(main, loop_kind)


def test_concurrent_tasks_with_large_values(srv, loop_kind):
    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)

        async def worker(i):
            value = (f"{i}-" * 50_000).encode()
            for j in range(3):
                assert await r.set(f"w{i}", value) is True
                assert await r.get(f"w{i}") == value
                assert await r.echo(f"{i}/{j}") == f"{i}/{j}".encode()

        th = _sleep_server(srv, 0.2)
        await asyncio.gather(*(worker(i) for i in range(40)))
        await asyncio.get_running_loop().run_in_executor(None, th.join)
        await r.aclose()
    run(main, loop_kind)


def test_connection_lost_mid_reply_and_mid_write(srv, loop_kind):
    import redis

    big = 16 * 1024 * 1024
    admin = redis.Redis(host=srv.host, port=srv.port)
    admin.set("huge", b"h" * big)

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port, client_name="victim")
        conn, proto = await _conn(r)
        loop = asyncio.get_running_loop()
        # mid-reply: the 16 MB reply is in flight when the server drops us
        fut = proto.execute(("GET", "huge"))
        echo = proto.execute(("ECHO", "behind"))
        while proto.buffered == 0 and not fut.done():
            await asyncio.sleep(0)
        if not fut.done():
            await loop.run_in_executor(None, admin.execute_command,
                                       "CLIENT", "KILL", "SKIPME", "yes")
        try:
            got = await fut
        except aio.ConnectionError:
            with pytest.raises(aio.ConnectionError):
                await echo
            assert proto.direct is False and proto.closed
        else:
            # the whole reply made it before the kill: it is the right one
            assert got == b"h" * big
        assert await r.get("huge") == b"h" * big
        # mid-write: a server that reads nothing, 32 MB queued, then killed
        conn, proto = await _conn(r)
        th = _sleep_server(srv, 0.3)
        await asyncio.sleep(0.05)
        futs = [proto.execute(("SET", f"x{i}", b"y" * (8 * 1024 * 1024))) for i in range(4)]
        proto.abort()
        for f in futs:
            with pytest.raises(aio.ConnectionError):
                await f
        assert proto.direct is False
        with pytest.raises(aio.ConnectionError):
            proto.execute(("PING",))
        await loop.run_in_executor(None, th.join)
        assert await r.echo("back") == b"back"
        await r.aclose()
    try:
        run(main, loop_kind)
    finally:
        admin.close()
