"""redis.asyncio behaviours that code written for redis-py (and its own test
suite) relies on, checked on redis_native.asyncio and on redis.asyncio:

- a pub/sub connection the server closed is *read* (not silently replaced):
  with no retry allowed the ConnectionError reaches the caller once, after the
  connection was re-established and resubscribed; with retries it does not;
- ``_reader`` / ``_writer`` are set while a connection is open and None after
  it was dropped (a LOADING error drops it);
- a connection replaced by a mock (``AsyncMock(spec=Connection)``) serves
  commands through its mocked methods;
- ``redis.asyncio.connection.async_timeout`` exists.
"""
import asyncio
import importlib
from unittest import mock

import pytest

from asyncio_util import LOOPS, run


def _aio(lib):
    return importlib.import_module(lib.__name__ + ".asyncio")


async def _kill_subscriber(admin):
    for client in await admin.client_list():
        if client["cmd"] == "subscribe":
            await admin.client_kill_filter(_id=client["id"])


@pytest.mark.parametrize("loop_kind", LOOPS)
@pytest.mark.parametrize("retries", ["none", "default"])
def test_pubsub_connection_killed_by_server(lib, redis_server, loop_kind, retries):
    aio = _aio(lib)

    async def main():
        if retries == "none":
            # a bare pool: its connections allow no retry
            r = aio.Redis(connection_pool=aio.ConnectionPool(host=redis_server.host,
                                                              port=redis_server.port))
        else:
            r = aio.Redis(host=redis_server.host, port=redis_server.port)
        p = r.pubsub()
        try:
            await p.subscribe("killed-chan")
            assert (await p.get_message(timeout=5))["type"] == "subscribe"
            await _kill_subscriber(r)
            await asyncio.sleep(0.05)
            events = []
            for _ in range(3):
                try:
                    msg = await p.get_message(timeout=0.3)
                    events.append(None if msg is None else msg["type"])
                except aio.ConnectionError as e:
                    events.append("ConnectionError: " + str(e))
            await r.publish("killed-chan", "after")
            msg = await p.get_message(timeout=5)
            return events, msg["data"]
        finally:
            await p.aclose()
            await r.aclose()
            await r.connection_pool.disconnect()

    events, data = run(main, loop_kind)
    if retries == "none":
        assert events == ["ConnectionError: Connection closed by server.", "subscribe", None]
    else:
        assert events == ["subscribe", None, None]
    assert data == b"after"


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_reader_writer_show_the_connection_state(lib, redis_server, loop_kind):
    aio = _aio(lib)
    exc = importlib.import_module(lib.__name__ + ".exceptions")
    retry = importlib.import_module(lib.__name__ + ".asyncio.retry")
    backoff = importlib.import_module(lib.__name__ + ".backoff")

    async def main():
        r = aio.Redis(host=redis_server.host, port=redis_server.port,
                      single_connection_client=True,
                      retry=retry.Retry(backoff.NoBackoff(), 0))
        try:
            await r.ping()
            conn = r.connection
            assert conn._reader and conn._writer
            assert conn._writer.get_extra_info("peername")[1] == redis_server.port
            with pytest.raises(exc.BusyLoadingError):
                await r.eval("return redis.error_reply('LOADING busy')", 0)
            assert not conn._reader and not conn._writer
            await r.ping()
            assert conn._reader
            await conn.disconnect()
            assert conn._reader is None and conn._writer is None
        finally:
            await r.aclose()

    run(main, loop_kind)


def test_mocked_connection_serves_commands(lib, redis_server):
    aio = _aio(lib)
    aconn = importlib.import_module(lib.__name__ + ".asyncio.connection")
    retry = importlib.import_module(lib.__name__ + ".asyncio.retry")
    backoff = importlib.import_module(lib.__name__ + ".backoff")

    async def main():
        r = aio.Redis(host=redis_server.host, port=redis_server.port)
        connection = mock.AsyncMock(spec=aconn.Connection)
        connection.retry = retry.Retry(backoff.NoBackoff(), 0)
        connection.read_response.return_value = "OK"
        connection.host, connection.port, connection.db = "localhost", 6379, 0
        try:
            with mock.patch.object(r, "connection", connection):
                assert await r.cluster("ADDSLOTS", 1) is True
                connection.read_response.return_value = 7
                assert await r.get("anything") == 7
            connection.send_command.assert_awaited()
        finally:
            await r.aclose()

    run(main)


def test_async_timeout_name(lib):
    aconn = importlib.import_module(lib.__name__ + ".asyncio.connection")
    assert aconn.async_timeout is asyncio.timeout


def test_connection_of_a_closed_loop_collected_in_another(impl, redis_server):
    """A pooled connection whose loop has closed, dropped while another loop
    runs, is left alone: no attempt to close its transport on the closed
    loop (which would report 'Event loop is closed' as unraisable)."""
    import gc
    import sys

    aio = _aio(impl)
    kept = []
    unraisable = []

    async def first():
        r = aio.Redis(host=redis_server.host, port=redis_server.port)
        await r.ping()
        kept.append(r.connection_pool._available_connections[0])

    async def second():
        kept.clear()
        gc.collect()
        await asyncio.sleep(0)

    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        asyncio.run(first())
        asyncio.run(second())
        gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert [str(u.exc_value) for u in unraisable] == []


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_unclosed_connection_resource_warning(lib, redis_server, loop_kind):
    """An asyncio client dropped without aclose() reports its open connection
    with a ResourceWarning, as redis.asyncio does; a closed one does not."""
    import gc
    import warnings

    aio = _aio(lib)

    async def main(close):
        r = aio.Redis(host=redis_server.host, port=redis_server.port)
        await r.ping()
        if close:
            await r.aclose()
        del r
        gc.collect()

    for close in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run(main, loop_kind, close)
            gc.collect()
        seen = [str(w.message) for w in caught if w.category is ResourceWarning
                and str(w.message).startswith("unclosed Connection")]
        assert len(seen) == (0 if close else 1), seen
