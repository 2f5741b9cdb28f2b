"""redis_native.asyncio against real servers: the client, pools, handshake,
timeouts, retries, health checks, fork, pipelines and transactions, pub/sub,
MONITOR, locks, scripts -- each on the default event loop and on uvloop.

``aio`` is the asyncio package under test (``redis.asyncio`` with
``--impl=redis``, which validates these tests against redis-py).  The load
tests (1000 tasks on one pool, cancellation storms, a server killed under
load) are in test_asyncio_load.py.
"""
import asyncio
import importlib
import os
import signal
import socket
import sys
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncio_util import LOOPS, run  # noqa: E402
from servers import RedisServer  # noqa: E402


@pytest.fixture(scope="session")
def aio(impl_name):
    return importlib.import_module(impl_name + ".asyncio")


@pytest.fixture(params=LOOPS)
def loop_kind(request):
    return request.param


@pytest.fixture
def srv(redis_server):
    import redis

    c = redis.Redis(host=redis_server.host, port=redis_server.port)
    c.flushall()
    c.close()
    return redis_server


def client(aio, srv, **kw):
    return aio.Redis(host=srv.host, port=srv.port, **kw)


# ------------------------------------------------------------------ basics
def test_commands_callbacks_and_errors(aio, srv, loop_kind):
    async def main():
        async with client(aio, srv) as r:
            assert await r.set("k", "v") is True
            assert await r.get("k") == b"v"
            assert await r.hset("h", mapping={"a": 1, "b": 2}) == 2
            assert await r.hgetall("h") == {b"a": b"1", b"b": b"2"}
            assert await r.zadd("z", {"m": 1.5}) == 1
            assert await r.zrange("z", 0, -1, withscores=True) == [(b"m", 1.5)]
            assert await r.ping() is True
            with pytest.raises(aio.ResponseError):
                await r.hgetall("k")
            with pytest.raises(aio.DataError):
                await r.set("k", None)
            assert await r.get("k") == b"v"           # the connection is still in step
            assert [k async for k in r.scan_iter(match="h*")] == [b"h"]
            assert [f async for f in r.hscan_iter("h")] in ([(b"a", b"1"), (b"b", b"2")],
                                                            [(b"b", b"2"), (b"a", b"1")])
    run(main, loop_kind)


def test_decode_responses_and_encoding(aio, srv):
    async def main():
        r = client(aio, srv, decode_responses=True)
        await r.set("k", "\u00e9\u2713")
        assert await r.get("k") == "\u00e9\u2713"
        assert await r.execute_command("GET", "k", NEVER_DECODE=True) == "\u00e9\u2713".encode()
        await r.aclose()
        r = client(aio, srv, encoding="latin-1")
        await r.set("l", "\u00e9")
        assert await r.strlen("l") == 1
        await r.aclose()
    run(main)


def test_item_access_is_refused(aio, srv):
    r = client(aio, srv)
    for op in (lambda: r["k"], lambda: r.__setitem__("k", 1), lambda: r.__delitem__("k"),
               lambda: "k" in r):
        with pytest.raises(TypeError):
            op()


def test_response_callbacks_sync_and_async(aio, srv):
    async def main():
        r = client(aio, srv)
        await r.set("k", "5")
        r.set_response_callback("GET", lambda v: int(v) * 2)
        assert await r.get("k") == 10

        async def acb(v):
            await asyncio.sleep(0)
            return int(v) + 1

        r.set_response_callback("GET", acb)
        assert await r.get("k") == 6
        await r.aclose()
    run(main)


def test_parse_response_override_and_patched_connection_are_honoured(aio, srv):
    seen = []

    class Mine(aio.Redis):
        async def parse_response(self, connection, command_name, **options):
            seen.append(command_name)
            return await super().parse_response(connection, command_name, **options)

    sent = []

    class Conn(aio.Connection):
        async def send_command(self, *args, **kwargs):
            sent.append(args[0])
            return await super().send_command(*args, **kwargs)

    async def main():
        r = Mine(host=srv.host, port=srv.port)
        await r.set("k", "v")
        assert await r.get("k") == b"v"
        await r.aclose()
        pool = aio.ConnectionPool(connection_class=Conn, host=srv.host, port=srv.port)
        r = aio.Redis(connection_pool=pool)
        assert await r.echo("x") == b"x"
        await pool.disconnect()

    run(main)
    assert seen == ["SET", "GET"]
    assert "ECHO" in sent


# ------------------------------------------------------------------ construction
def test_from_url_from_pool_and_unix(aio, srv, loop_kind):
    async def main():
        r = aio.Redis.from_url(f"redis://{srv.host}:{srv.port}/3?decode_responses=True")
        await r.set("k", "v")
        assert await r.get("k") == "v"
        assert r.auto_close_connection_pool
        await r.aclose()
        r = aio.from_url(f"unix://{srv.unix_path}?db=3")
        assert await r.get("k") == b"v"
        assert isinstance(r.connection_pool.get_available_connection(),
                          aio.UnixDomainSocketConnection)
        await r.aclose()
        pool = aio.BlockingConnectionPool(host=srv.host, port=srv.port, max_connections=2)
        r = aio.Redis.from_pool(pool)
        assert await r.ping()
        await r.aclose()
    run(main, loop_kind)


def test_context_manager_and_close(aio, srv):
    async def main():
        r = client(aio, srv)
        async with r:
            await r.ping()
            async with r:          # nested: only the outermost closes the pool
                await r.ping()
            assert await r.ping()
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            await r.close()
    run(main)


def test_single_connection_client(aio, srv):
    async def main():
        r = client(aio, srv, single_connection_client=True)
        await r.client_setname("single")
        # concurrent commands share the one connection, serialised
        names = await asyncio.gather(*(r.client_getname() for _ in range(20)))
        assert set(names) == {"single"}
        assert len(r.connection_pool._in_use_connections) == 1
        await r.aclose()
        assert r.connection is None
    run(main)


def test_handshake_name_db_setinfo(aio, srv):
    async def main():
        r = client(aio, srv, db=5, client_name="hs-name", lib_name="mylib", lib_version="9.9")
        await r.set("in5", 1)
        info = await r.client_info()
        assert info["name"] == "hs-name"
        assert info["db"] == 5
        if "lib-name" in info:            # CLIENT SETINFO exists from Redis 7.2
            assert info["lib-name"].startswith("mylib") and info["lib-ver"] == "9.9"
        await r.aclose()
    run(main)


def test_auth(aio, server_factory):
    srv = server_factory(password="s3cret")

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port, password="s3cret")
        assert await r.ping()
        await r.aclose()
        r = aio.Redis(host=srv.host, port=srv.port, password="wrong")
        with pytest.raises(aio.AuthenticationError):
            await r.ping()
        await r.aclose()
        r = aio.Redis(host=srv.host, port=srv.port)
        with pytest.raises(aio.AuthenticationError):
            await r.ping()
        await r.aclose()
    run(main)


def test_connection_refused(aio):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main():
        r = aio.Redis(host="127.0.0.1", port=port, retry=aio.retry.Retry(
            importlib.import_module(aio.__name__.split(".")[0] + ".backoff").NoBackoff(), 1))
        with pytest.raises(aio.ConnectionError):
            await r.ping()
        await r.aclose()
    run(main)


def test_sentinel_and_cluster_names(impl_name):
    """The asyncio Sentinel and Cluster modules' classes are the package's."""
    aio = importlib.import_module(impl_name + ".asyncio")
    sentinel = importlib.import_module(impl_name + ".asyncio.sentinel")
    cluster = importlib.import_module(impl_name + ".asyncio.cluster")
    assert sentinel.Sentinel is aio.Sentinel and cluster.RedisCluster is aio.RedisCluster
    assert issubclass(sentinel.MasterNotFoundError, aio.ConnectionError)
    assert issubclass(sentinel.SlaveNotFoundError, aio.ConnectionError)


# ------------------------------------------------------------------ timeouts, retries, health
def test_socket_timeout_drops_the_connection(aio, srv, loop_kind):
    async def main():
        r = client(aio, srv, socket_timeout=0.2, retry=aio.retry.Retry(
            importlib.import_module(aio.__name__.split(".")[0] + ".backoff").NoBackoff(), 0))
        await r.set("k", "v")
        with pytest.raises(aio.TimeoutError):
            await r.blpop(["empty-list"], timeout=5)
        # the BLPOP reply is owed on that connection: it was not reused
        await r.rpush("empty-list", "x")
        assert await r.get("k") == b"v"
        assert await r.lrange("empty-list", 0, -1) == [b"x"]
        await r.aclose()
    run(main, loop_kind)


def test_retry_after_server_restart(aio, server_factory, loop_kind):
    srv = server_factory()

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        await r.set("k", "v")
        srv.restart()
        # the pooled connection is dead; the retry reconnects
        assert await r.get("k") is None     # a restarted server without persistence
        await r.set("k", "w")
        assert await r.get("k") == b"w"
        await r.aclose()
    run(main, loop_kind)


def test_retries_spent_raise(aio, server_factory):
    srv = server_factory()
    backoff = importlib.import_module(aio.__name__.split(".")[0] + ".backoff")

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port,
                      retry=aio.retry.Retry(backoff.ConstantBackoff(0.01), 2))
        await r.ping()
        srv.stop()
        with pytest.raises(aio.ConnectionError):
            await r.ping()
        await r.aclose()
    run(main)


def test_health_check_pings(aio, srv, admin):
    ad = admin(srv)

    def pings():
        return int(ad.info("commandstats").get("cmdstat_ping", {}).get("calls", 0))

    async def main():
        r = client(aio, srv, health_check_interval=0.01)
        await r.set("k", "v")
        before = pings()
        await asyncio.sleep(0.05)
        await r.get("k")
        assert pings() > before
        await r.aclose()
    run(main)


def test_fork_child_does_not_use_the_parents_socket(aio, srv, impl_name):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    if impl_name == "redis":
        pytest.skip("redis-py's asyncio pool hands a forked child the parent's connection, "
                    "bound to the parent's loop (a deliberate difference, docs/architecture.md)")

    async def parent_setup(r):
        await r.set("k", "parent")
        return r.connection_pool._available_connections[0]

    loop = asyncio.new_event_loop()
    r = client(aio, srv)
    conn = loop.run_until_complete(parent_setup(r))
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            async def child():
                assert await r.get("k") == b"parent"
                await r.set("child", "1")
            asyncio.run(child())
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # the parent's connection was left alone by the child
    assert loop.run_until_complete(r.get("child")) == b"1"
    assert conn.is_connected
    loop.run_until_complete(r.aclose())
    loop.close()


# ------------------------------------------------------------------ pipelines
def test_pipeline_and_transaction_errors(aio, srv, loop_kind):
    async def main():
        r = client(aio, srv)
        async with r.pipeline(transaction=False) as p:
            p.set("a", 1).incr("a").lpush("a", 1).get("a")
            assert len(p) == 4
            res = await p.execute(raise_on_error=False)
            assert res[:2] == [True, 2] and res[3] == b"2"
            assert isinstance(res[2], aio.ResponseError)
            p.set("b", 1).lpush("b", 1)
            with pytest.raises(aio.ResponseError, match="Command # 2"):
                await p.execute()
        async with r.pipeline() as p:
            p.set("t", 1).incr("t").hgetall("t").get("t")
            res = await p.execute(raise_on_error=False)
            assert res[:2] == [True, 2] and isinstance(res[2], aio.ResponseError)
            p.set("t", 1).execute_command("NOSUCHCOMMAND")
            with pytest.raises(aio.ResponseError):
                await p.execute()
        assert await r.get("t") == b"2"     # the aborted transaction changed nothing
        await r.aclose()
    run(main, loop_kind)


def test_watch_conflict_and_transaction_helper(aio, srv, loop_kind):
    async def main():
        r = client(aio, srv)
        other = client(aio, srv)
        await r.set("w", 1)
        async with r.pipeline() as p:
            await p.watch("w")
            value = int(await p.get("w"))
            await other.set("w", 100)
            p.multi()
            p.set("w", value + 1)
            with pytest.raises(aio.WatchError):
                await p.execute()
        assert await r.get("w") == b"100"

        calls = []

        async def bump(pipe):
            current = int(await pipe.get("w"))
            if not calls:
                await other.incr("w")        # a conflict on the first attempt
            calls.append(current)
            pipe.multi()
            pipe.set("w", current + 1)

        result = await r.transaction(bump, "w")
        assert result == [True] and len(calls) == 2
        assert await r.get("w") == b"102"
        await r.aclose()
        await other.aclose()
    run(main, loop_kind)


def test_big_pipeline_and_scripts_in_pipeline(aio, srv):
    async def main():
        r = client(aio, srv)
        p = r.pipeline(transaction=False)
        for i in range(5000):
            p.set(f"k{i}", i)
        for i in range(5000):
            p.get(f"k{i}")
        res = await p.execute()
        assert res[5000:] == [str(i).encode() for i in range(5000)]
        script = r.register_script("return redis.call('GET', KEYS[1])")
        await r.script_flush()
        async with r.pipeline() as p:
            await script(keys=["k7"], client=p)
            assert await p.execute() == [b"7"]
        assert await script(keys=["k8"]) == b"8"
        await r.aclose()
    run(main)


# ------------------------------------------------------------------ pub/sub
def test_pubsub_many_channels(aio, srv, loop_kind):
    n = 300

    async def main():
        r = client(aio, srv)
        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe(*[f"ch{i}" for i in range(n)])
        await p.psubscribe("pat.*")
        for i in range(n):
            await r.publish(f"ch{i}", f"m{i}")
        await r.publish("pat.x", "pm")
        got = []
        while len(got) < n + 1:
            m = await p.get_message(timeout=5)
            if m is not None:
                got.append(m)
        assert [m["data"] for m in got[:n]] == [f"m{i}".encode() for i in range(n)]
        assert got[n]["type"] == "pmessage" and got[n]["pattern"] == b"pat.*"
        assert await p.get_message(timeout=0.01) is None     # nothing more, nothing lost
        await p.unsubscribe("ch0")
        await r.publish("ch0", "gone")
        await r.publish("ch1", "here")
        m = None
        while m is None:
            m = await p.get_message(timeout=5)
        assert m["channel"] == b"ch1"
        await p.aclose()
        await r.aclose()
    run(main, loop_kind)


def test_pubsub_handlers_listen_and_run(aio, srv):
    async def main():
        r = client(aio, srv)
        p = r.pubsub()
        got = []

        async def ahandler(message):
            got.append(("async", message["data"]))

        await p.subscribe(a=lambda m: got.append(("sync", m["data"])), b=ahandler)
        task = asyncio.create_task(p.run(poll_timeout=0.05))
        while not got:
            await r.publish("a", "1")
            await r.publish("b", "2")
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ("sync", b"1") in got and ("async", b"2") in got
        await p.aclose()

        p = r.pubsub()
        await p.subscribe("c")
        await r.publish("c", "x")
        messages = []
        async for m in p.listen():
            messages.append(m["type"])
            if m["type"] == "message":
                break
        assert messages == ["subscribe", "message"]
        await p.aclose()
        await r.aclose()
    run(main)


def test_pubsub_resubscribes_after_server_restart(aio, server_factory, loop_kind):
    srv = server_factory()

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port)
        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe(*[f"c{i}" for i in range(50)])
        await p.psubscribe("p*")
        srv.restart()
        # the read notices the loss and reconnects: on_connect resubscribes
        msg = await p.get_message(timeout=0.2)
        assert msg is None
        while True:
            n = await r.publish("c7", "after")
            if n:
                break
            await asyncio.sleep(0.02)
            await p.get_message(timeout=0.02)
        m = None
        while m is None or m["type"] != "message":
            m = await p.get_message(timeout=5)
        assert m["channel"] == b"c7" and m["data"] == b"after"
        assert await r.publish("pz", "p") == 1
        await p.aclose()
        await r.aclose()
    run(main, loop_kind)


def test_pubsub_health_check(aio, srv):
    async def main():
        r = client(aio, srv, health_check_interval=0.01)
        p = r.pubsub()
        await p.subscribe("hc")
        assert (await p.get_message(timeout=1))["type"] == "subscribe"
        await asyncio.sleep(0.03)
        # the health check PING's reply is swallowed
        assert await p.get_message(timeout=0.05) is None
        await r.publish("hc", "x")
        m = None
        while m is None:
            m = await p.get_message(timeout=1)
        assert m["data"] == b"x"
        await p.aclose()
        await r.aclose()
    run(main)


# ------------------------------------------------------------------ monitor, lock
def test_monitor(aio, srv):
    async def main():
        r = client(aio, srv)
        async with r.monitor() as m:
            other = client(aio, srv)
            await other.set("mon-key", "v")
            while True:
                cmd = await m.next_command()
                if "mon-key" in cmd["command"]:
                    break
            assert cmd["command"] == "SET mon-key v" and cmd["client_type"] == "tcp"
            await other.aclose()
        await r.aclose()
    run(main)


def test_lock(aio, srv, loop_kind):
    async def main():
        r = client(aio, srv)
        lock = r.lock("L", timeout=5)
        assert await lock.acquire()
        assert await lock.owned() and await lock.locked()
        other = r.lock("L", blocking_timeout=0.05)
        assert not await other.acquire()
        assert await lock.extend(5)
        assert await lock.reacquire()
        await lock.release()
        assert not await lock.locked()
        async with r.lock("L2", timeout=5) as held:
            assert await held.owned()
        lock_mod = importlib.import_module(aio.__name__ + ".lock")
        assert isinstance(lock, lock_mod.Lock)
        await r.aclose()
    run(main, loop_kind)


# ------------------------------------------------------------------ pools
def test_pools(aio, srv):
    async def main():
        pool = aio.ConnectionPool(host=srv.host, port=srv.port, max_connections=2)
        r = aio.Redis(connection_pool=pool)
        c1 = await pool.get_connection()
        c2 = await pool.get_connection()
        with pytest.raises(aio.ConnectionError, match="Too many connections"):
            await pool.get_connection()
        await pool.release(c1)
        await pool.release(c2)
        assert await r.ping()
        await pool.disconnect()

        bpool = aio.BlockingConnectionPool(host=srv.host, port=srv.port, max_connections=1,
                                           timeout=0.05)
        c = await bpool.get_connection()
        with pytest.raises(aio.ConnectionError, match="No connection available"):
            await bpool.get_connection()
        bpool.timeout = 10
        waiter = asyncio.ensure_future(bpool.get_connection())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        await bpool.release(c)
        assert await waiter is c
        await bpool.release(c)
        await bpool.disconnect()
    run(main)


def test_cancelled_blocking_command_does_not_stall_the_next(aio, srv, loop_kind):
    """The connection of a cancelled command is discarded: a cancelled BLPOP
    (whose reply may never come) cannot hold up the command that reuses the
    pool's only slot, nor hand it a late reply."""
    async def main():
        pool = aio.BlockingConnectionPool(host=srv.host, port=srv.port, max_connections=1,
                                          timeout=5)
        r = aio.Redis(connection_pool=pool)
        for _ in range(3):
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(r.blpop(["never"], timeout=0), 0.05)
            await r.rpush("never", "late")      # would wake a BLPOP still queued
            assert await asyncio.wait_for(r.echo("next"), 5) == b"next"
            assert await r.lpop("never") == b"late"
        await pool.disconnect()
    run(main, loop_kind)


# ------------------------------------------------------------------ TLS
@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    from servers import free_port

    d = tmp_path_factory.mktemp("aio-tls")

    def ssl_cli(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    ssl_cli("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "2", "-subj", "/CN=aio test CA")
    ssl_cli("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl_cli("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    tls_port = free_port()
    srv = RedisServer("--tls-port", str(tls_port), "--tls-cert-file", str(d / "server.crt"),
                      "--tls-key-file", str(d / "server.key"),
                      "--tls-ca-cert-file", str(d / "ca.crt"), "--tls-auth-clients", "no")
    srv.tls_port = tls_port
    srv.ca = str(d / "ca.crt")
    yield srv
    srv.stop()


def test_tls(aio, tls_server, loop_kind):
    srv = tls_server

    async def main():
        r = aio.Redis(host="localhost", port=srv.tls_port, ssl=True, ssl_ca_certs=srv.ca)
        await r.set("tls", "yes")
        assert await r.get("tls") == b"yes"
        if aio.__name__ == "redis_native.asyncio":
            # TLS keeps every write in the TLS transport (no direct send())
            assert r.connection_pool._available_connections[-1]._proto.direct is False
        await r.delete("n")
        p = r.pipeline()
        p.incr("n").incr("n")
        assert await p.execute() == [1, 2]
        await r.aclose()
        r = aio.Redis.from_url(f"rediss://localhost:{srv.tls_port}?ssl_ca_certs={srv.ca}")
        assert await r.get("tls") == b"yes"
        await r.aclose()
        # an unknown CA is refused
        r = aio.Redis(host="localhost", port=srv.tls_port, ssl=True)
        with pytest.raises(aio.ConnectionError):
            await r.ping()
        await r.aclose()
    run(main, loop_kind)


def test_client_kept_across_event_loops(aio, srv, impl_name):
    """A client (and its pooled connections) used from asyncio.run() after
    asyncio.run(): each loop gets its own sockets."""
    if impl_name == "redis":
        pytest.skip("redis-py's pooled connections stay bound to the loop that opened them "
                    "(a deliberate difference, docs/architecture.md)")
    r = client(aio, srv)

    async def use(tag):
        await r.set("loop", tag)
        assert await r.get("loop") == tag.encode()
        p = r.pipeline()
        p.get("loop")
        assert await p.execute() == [tag.encode()]

    for kind in LOOPS * 2:
        run(use, kind, kind)
    run(r.aclose)


def test_socket_connect_timeout(aio, loop_kind):
    """A server whose accept queue is full never completes the TCP handshake:
    socket_connect_timeout turns the wait into TimeoutError."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):              # fill the accept queue (never accepted)
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        backoff = importlib.import_module(aio.__name__.split(".")[0] + ".backoff")

        async def main():
            r = aio.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2,
                          retry=aio.retry.Retry(backoff.NoBackoff(), 0))
            with pytest.raises(aio.TimeoutError):
                await r.ping()
            await r.aclose()
        run(main, loop_kind)
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_pipeline_parse_response_override_sees_every_reply(aio, srv):
    """A Pipeline subclass overriding parse_response is called for each reply
    of a pipeline and of a transaction (the native path steps aside)."""
    seen = []

    class MyPipeline(aio.client.Pipeline):
        async def parse_response(self, connection, command_name, **options):
            seen.append(command_name)
            return await super().parse_response(connection, command_name, **options)

    async def main():
        r = client(aio, srv)
        p = MyPipeline(r.connection_pool, r.response_callbacks, False, None)
        p.set("a", 1).get("a")
        assert await p.execute() == [True, b"1"]
        assert seen == ["SET", "GET"]
        seen.clear()
        t = MyPipeline(r.connection_pool, r.response_callbacks, True, None)
        t.set("a", 2).get("a")
        assert await t.execute() == [True, b"2"]
        assert seen == ["_"] * 4
        await r.aclose()
    run(main)


def test_writes_larger_than_the_transport_buffer(aio, srv, loop_kind):
    """Commands and pipelines far above the transport's high-water mark (the
    protocol is paused and waits for the buffer to drain)."""
    big = b"x" * (4 * 1024 * 1024)

    async def main():
        r = client(aio, srv)
        assert await r.set("big", big)
        assert await r.strlen("big") == len(big)
        p = r.pipeline(transaction=False)
        for i in range(40):
            p.set(f"b{i}", big[: 100_000 + i])
        for i in range(40):
            p.strlen(f"b{i}")
        res = await p.execute()
        assert res[40:] == [100_000 + i for i in range(40)]
        assert await r.get("big") == big
        await r.aclose()
    run(main, loop_kind)
