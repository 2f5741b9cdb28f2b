"""A ``redis.asyncio.Redis`` subclass that replaces ``initialize()`` sees it
awaited before every command, as redis-py does (cashews' SafeRedis wraps
``initialize`` to log and swallow connection errors), on redis_native.asyncio
and on redis.asyncio alike."""
import importlib

import pytest

from asyncio_util import run


def _aio(lib):
    return importlib.import_module(lib.__name__ + ".asyncio")


def _subclass(aio, calls):
    class Hooked(aio.Redis):
        async def initialize(self):
            calls.append("initialize")
            return await super().initialize()

        async def execute_command(self, *args, **options):
            calls.append(args[0])
            return await super().execute_command(*args, **options)

    return Hooked


@pytest.mark.parametrize("single", [False, True])
def test_initialize_override_runs_before_each_command(lib, redis_server, single):
    aio = _aio(lib)
    calls = []

    async def main():
        r = _subclass(aio, calls)(host=redis_server.host, port=redis_server.port,
                                  single_connection_client=single)
        try:
            await r.set("init-hook", 1)
            assert await r.get("init-hook") == b"1"
            s = r.register_script("return 7")
            assert await s() == 7
        finally:
            await r.aclose()

    run(main)
    # each command, then the hook it runs first (SCRIPT LOAD and a second
    # EVALSHA follow when the script was not cached yet)
    assert calls[1::2] == ["initialize"] * (len(calls) // 2)
    assert calls[0::2][:3] == ["SET", "GET", "EVALSHA"]


def test_initialize_override_swallowing_errors(lib):
    """A hook that swallows the connect failure of a single-connection client
    leaves the command to take a pool connection, which fails the same way."""
    aio = _aio(lib)
    exc = importlib.import_module(lib.__name__ + ".exceptions")
    calls = []

    class Safe(aio.Redis):
        async def initialize(self):
            try:
                return await super().initialize()
            except exc.ConnectionError:
                calls.append("swallowed")
                return self

    async def main():
        r = Safe(host="127.0.0.1", port=1, single_connection_client=True, retry=None)
        try:
            with pytest.raises(exc.ConnectionError):
                await r.get("x")
        finally:
            await r.aclose()

    run(main)
    assert calls == ["swallowed"]


def test_initialize_replaced_on_the_instance_or_patched_on_the_class(lib, redis_server):
    """The hook is looked up as Python finds it: an instance attribute, or a
    patch of the library's own Redis.initialize, runs before each command
    too, and the fast path comes back once the patch is undone."""
    from unittest import mock

    aio = _aio(lib)
    calls = []

    async def main():
        r = aio.Redis(host=redis_server.host, port=redis_server.port)
        try:
            await r.ping()
            real = r.initialize

            async def on_instance():
                calls.append("instance")
                return await real()

            r.initialize = on_instance
            await r.set("init-hook-2", 2)
            del r.initialize
            await r.get("init-hook-2")

            async def on_class(self):
                calls.append("class")
                return self

            with mock.patch.object(aio.Redis, "initialize", on_class):
                await r.get("init-hook-2")
                await r.incr("init-hook-2")
            assert await r.get("init-hook-2") == b"3"
        finally:
            await r.aclose()

    run(main)
    assert calls == ["instance", "class", "class"]
