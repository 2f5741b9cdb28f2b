"""redis_native.asyncio under load, on the default loop and on uvloop:

* 1000 concurrent tasks on one pool (unbounded, and blocking with 20
  connections), every reply checked against its own command;
* cancellation storms: tasks cancelled at random points (``wait_for`` with
  random tiny timeouts, ``task.cancel()``) while every reply that does arrive
  is checked against the command that asked for it -- a reply owed to a
  cancelled command must never reach another one;
* a server killed and restarted while tasks keep sending: errors are allowed
  while it is down, wrong replies never, and everything works afterwards.

``--impl=redis`` runs the same against redis-py's ``redis.asyncio``.
"""
import asyncio
import importlib
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from asyncio_util import LOOPS, run  # noqa: E402


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
    c.config_set("maxclients", 4000)
    c.close()
    return redis_server


def _no_retry(aio):
    backoff = importlib.import_module(aio.__name__.split(".")[0] + ".backoff")
    return aio.retry.Retry(backoff.NoBackoff(), 0)


@pytest.mark.parametrize("blocking", [False, True], ids=["pool", "blocking-pool"])
def test_1000_concurrent_tasks_on_one_pool(aio, srv, loop_kind, blocking):
    async def main():
        if blocking:
            pool = aio.BlockingConnectionPool(host=srv.host, port=srv.port, max_connections=20,
                                              timeout=30)
        else:
            pool = aio.ConnectionPool(host=srv.host, port=srv.port)
        r = aio.Redis(connection_pool=pool)

        async def worker(i):
            for j in range(5):
                value = f"{i}:{j}".encode()
                assert await r.set(f"k{i}", value) is True
                assert await r.get(f"k{i}") == value
                assert await r.echo(value) == value
                await r.incr("counter")
            p = r.pipeline()
            p.set(f"p{i}", i).get(f"p{i}").echo(i)
            assert await p.execute() == [True, str(i).encode(), str(i).encode()]

        await asyncio.gather(*(worker(i) for i in range(1000)))
        assert await r.get("counter") == b"5000"
        if blocking:
            assert len(pool._in_use_connections) + len(pool._available_connections) <= 20
        await pool.disconnect()
    run(main, loop_kind)


def _storm(aio, srv, loop_kind, seed, single):
    rnd = random.Random(seed)
    stats = {"ok": 0, "cancelled": 0, "wrong": []}

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port, single_connection_client=single,
                      retry=_no_retry(aio))

        async def one(i, n):
            token = f"{i}-{n}-{rnd.random()}"
            kind = rnd.randrange(3)
            if kind == 0:
                got = await r.echo(token)
                expect = token.encode()
            elif kind == 1:
                p = r.pipeline(transaction=False)
                p.echo(token).echo(token + "b")
                got = await p.execute()
                expect = [token.encode(), (token + "b").encode()]
            else:
                got = await r.hset(f"h{token}", "f", token)
                expect = 1
            if got != expect:
                stats["wrong"].append((token, got))
            stats["ok"] += 1

        async def worker(i):
            for n in range(60):
                timeout = rnd.choice([None, None, 0, 1e-5, 1e-4, 5e-4, 2e-3])
                try:
                    if timeout is None:
                        await one(i, n)
                    else:
                        await asyncio.wait_for(one(i, n), timeout)
                except asyncio.TimeoutError:
                    stats["cancelled"] += 1

        tasks = [asyncio.ensure_future(worker(i)) for i in range(100)]

        async def canceller():
            while not all(t.done() for t in tasks):
                victim = rnd.choice(tasks)
                victim.cancel()
                await asyncio.sleep(rnd.choice([0, 0, 1e-4, 1e-3]))

        extra = [asyncio.ensure_future(worker(1000 + i)) for i in range(20)]
        ctask = asyncio.ensure_future(canceller())
        await asyncio.gather(*tasks, return_exceptions=True)
        await ctask
        await asyncio.gather(*extra, return_exceptions=True)
        # every connection the pool still has answers its own commands
        for n in range(200):
            token = f"final-{n}"
            assert await r.echo(token) == token.encode()
        results = await asyncio.gather(*(r.echo(f"g{n}") for n in range(300)))
        assert results == [f"g{n}".encode() for n in range(300)]
        await r.aclose()

    run(main, loop_kind)
    assert stats["wrong"] == []
    assert stats["ok"] > 0 and stats["cancelled"] > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_cancellation_storm(aio, srv, loop_kind, seed):
    _storm(aio, srv, loop_kind, seed, single=False)


def test_cancellation_storm_single_connection_client(aio, srv, loop_kind):
    _storm(aio, srv, loop_kind, 3, single=True)


def test_server_killed_and_restarted_under_load(aio, server_factory, loop_kind):
    srv = server_factory()
    wrong = []
    errors = []

    async def main():
        r = aio.Redis(host=srv.host, port=srv.port, retry=_no_retry(aio))
        stop = asyncio.Event()
        after = {"ok": 0}
        restarted = asyncio.Event()

        async def worker(i):
            n = 0
            while not stop.is_set():
                n += 1
                token = f"{i}:{n}"
                try:
                    got = await r.echo(token)
                except (aio.ConnectionError, aio.TimeoutError) as e:
                    errors.append(type(e).__name__)
                    await asyncio.sleep(0.005)
                    continue
                if got != token.encode():
                    wrong.append((token, got))
                if restarted.is_set():
                    after["ok"] += 1

        tasks = [asyncio.ensure_future(worker(i)) for i in range(50)]
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, srv.kill)
        await asyncio.sleep(0.2)
        await loop.run_in_executor(None, srv.restart)
        restarted.set()
        while after["ok"] < 500:
            await asyncio.sleep(0.02)
        stop.set()
        await asyncio.gather(*tasks)
        await r.aclose()

    run(main, loop_kind)
    assert wrong == []
    assert errors and set(errors) <= {"ConnectionError", "TimeoutError"}
