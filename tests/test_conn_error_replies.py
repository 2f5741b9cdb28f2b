"""Error replies of the ConnectionError family (LOADING, "max number of
clients reached", NOAUTH...) inside array replies.

redis-py (with hiredis, and its asyncio client likewise) raises an array reply
whose *first* element is such an error as that error, from any command: EXEC
(a transaction whose queued command answered LOADING), EVAL returning a table.
Being a ConnectionError it drops the connection and goes through the retry
policy.  An error further in, or nested deeper, stays a value in the result.

Lua's ``redis.error_reply`` makes the server send any error text, so no DEBUG
command is needed.  Every case runs on redis_native and on redis-py.
"""
import importlib

import pytest

from asyncio_util import LOOPS, run

FIRST = "return {redis.error_reply('LOADING still loading'), 1}"
SECOND = "return {1, redis.error_reply('LOADING still loading')}"
NESTED = "return {{redis.error_reply('LOADING still loading')}, 1}"
PLAIN_FIRST = "return {redis.error_reply('ERR plain'), 1}"
TOP = "return redis.error_reply('LOADING still loading')"
MAXCLIENTS_FIRST = "return {redis.error_reply('ERR max number of clients reached'), 1}"


def _client(lib, srv, **kw):
    retry_mod = importlib.import_module(lib.__name__ + ".retry")
    backoff = importlib.import_module(lib.__name__ + ".backoff")
    kw.setdefault("retry", retry_mod.Retry(backoff.NoBackoff(), 0))
    return lib.Redis(host=srv.host, port=srv.port, **kw)


def _socket_open(client):
    """Whether the pool's idle connection still has its socket."""
    pool = client.connection_pool
    conns = list(pool._available_connections)
    assert len(conns) == 1
    return conns[0]._sock is not None


@pytest.fixture
def exc(lib):
    return importlib.import_module(lib.__name__ + ".exceptions")


@pytest.mark.parametrize("decode", [False, True])
def test_first_element_is_raised_and_drops_the_connection(lib, exc, redis_server, closing,
                                                          decode):
    r = closing(_client(lib, redis_server, decode_responses=decode))
    with pytest.raises(exc.BusyLoadingError) as ei:
        r.eval(FIRST, 0)
    assert str(ei.value) == "still loading"
    assert not _socket_open(r)
    with pytest.raises(exc.ConnectionError) as ei:
        r.eval(MAXCLIENTS_FIRST, 0)
    assert type(ei.value) is exc.ConnectionError
    assert str(ei.value) == "max number of clients reached"
    assert r.ping() is True         # a new connection serves the next command


def test_other_positions_stay_values(lib, exc, redis_server, closing):
    r = closing(_client(lib, redis_server))
    second = r.eval(SECOND, 0)
    assert second[0] == 1
    assert type(second[1]) is exc.BusyLoadingError
    nested = r.eval(NESTED, 0)
    assert type(nested[0][0]) is exc.BusyLoadingError and nested[1] == 1
    plain = r.eval(PLAIN_FIRST, 0)
    assert type(plain[0]) is exc.ResponseError and str(plain[0]) == "plain"
    assert _socket_open(r)


@pytest.mark.parametrize("raise_on_error", [True, False])
def test_transaction_exec_reply_led_by_loading(lib, exc, redis_server, closing,
                                               raise_on_error):
    r = closing(_client(lib, redis_server))
    pipe = r.pipeline()
    pipe.eval(TOP, 0)
    pipe.set("k", "v")
    with pytest.raises(exc.BusyLoadingError) as ei:
        pipe.execute(raise_on_error=raise_on_error)
    assert str(ei.value) == "still loading"
    assert pipe.connection is None
    assert not _socket_open(r)
    # the queued SET ran all the same (EXEC executed the block)
    assert r.get("k") == b"v"
    # led by another command, the error is the second item: a value
    pipe.set("k", "w").eval(TOP, 0)
    res = pipe.execute(raise_on_error=False)
    assert res[0] is True and type(res[1]) is exc.BusyLoadingError
    assert _socket_open(r)


def test_pipeline_without_transaction(lib, exc, redis_server, closing):
    r = closing(_client(lib, redis_server))
    pipe = r.pipeline(transaction=False)
    pipe.set("a", 1).eval(FIRST, 0).get("a")
    with pytest.raises(exc.BusyLoadingError):
        pipe.execute(raise_on_error=False)
    assert not _socket_open(r)
    pipe.set("a", 2).eval(SECOND, 0).get("a")
    res = pipe.execute(raise_on_error=False)
    assert res[0] is True and res[1][0] == 1 and res[2] == b"2"
    assert type(res[1][1]) is exc.BusyLoadingError


def test_default_retry_reruns_then_raises(lib, exc, redis_server, closing):
    """With the default policy the command is retried (it keeps failing)."""
    r = closing(lib.Redis(host=redis_server.host, port=redis_server.port))
    r.delete("n")
    script = "redis.call('INCR', KEYS[1]); return {redis.error_reply('LOADING x')}"
    with pytest.raises(exc.BusyLoadingError):
        r.eval(script, 1, "n")
    assert int(r.get("n")) == 1 + r.get_retry().get_retries()


# ---------------------------------------------------------------------- asyncio
@pytest.mark.parametrize("loop_kind", LOOPS)
def test_asyncio_first_element_raised(lib, exc, redis_server, loop_kind):
    aio = importlib.import_module(lib.__name__ + ".asyncio")
    aretry = importlib.import_module(lib.__name__ + ".asyncio.retry")
    backoff = importlib.import_module(lib.__name__ + ".backoff")

    async def main():
        r = aio.Redis(host=redis_server.host, port=redis_server.port,
                      retry=aretry.Retry(backoff.NoBackoff(), 0))
        try:
            with pytest.raises(exc.BusyLoadingError):
                await r.eval(FIRST, 0)
            second = await r.eval(SECOND, 0)
            assert second[0] == 1 and type(second[1]) is exc.BusyLoadingError
            pipe = r.pipeline()
            pipe.eval(TOP, 0)
            pipe.set("ak", "v")
            with pytest.raises(exc.BusyLoadingError):
                await pipe.execute(raise_on_error=False)
            assert await r.get("ak") == b"v"
            async with r.pipeline(transaction=False) as p:
                p.eval(FIRST, 0).ping()
                with pytest.raises(exc.BusyLoadingError):
                    await p.execute()
            assert await r.ping() is True
        finally:
            await r.aclose()

    run(main, loop_kind)


# ------------------------------------------- EXEC answered by something else
def _exec_answers_an_integer(args):
    name = args[0].upper()
    if name == b"MULTI":
        return b"+OK\r\n"
    if name == b"EXEC":
        return b":5\r\n"
    if name == b"PING":
        return b"+PONG\r\n"
    return b"+QUEUED\r\n"


def test_exec_reply_not_an_array(impl):
    """A server out of step answers EXEC with an integer: a clear ResponseError
    and the connection dropped (redis-py fails there with a TypeError from its
    own list handling, so only redis_native is checked)."""
    from servers import RecordingServer

    srv = RecordingServer(reply=_exec_answers_an_integer)
    r = impl.Redis(host=srv.host, port=srv.port, driver_info=None,
                   retry=importlib.import_module(impl.__name__ + ".retry").Retry(
                       importlib.import_module(impl.__name__ + ".backoff").NoBackoff(), 0))
    try:
        pipe = r.pipeline()
        pipe.set("a", 1).get("a")
        with pytest.raises(impl.ResponseError,
                           match="Wrong number of response items from pipeline execution"):
            pipe.execute()
        assert not _socket_open(r)
        assert r.ping() is True

        aio = importlib.import_module(impl.__name__ + ".asyncio")

        async def main():
            ar = aio.Redis(host=srv.host, port=srv.port, driver_info=None)
            try:
                apipe = ar.pipeline()
                apipe.set("a", 1)
                with pytest.raises(impl.ResponseError, match="Wrong number of response items"):
                    await apipe.execute()
                assert await ar.ping() is True
            finally:
                await ar.aclose()

        run(main)
    finally:
        r.close()
        srv.close()
