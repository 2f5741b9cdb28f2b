"""Helpers of the asyncio tests (pytest-asyncio is not used).

* :func:`run` runs a coroutine function on a fresh event loop, the default one
  or uvloop, and closes the loop afterwards.
* :class:`SyncFacade` makes an asyncio client look synchronous: every call
  whose result is awaitable is run to completion on one loop, an async
  iterator is collected into a list, and the pipelines, pub/sub objects and
  locks it returns are wrapped the same way.  With it the differential cases
  written for the synchronous clients (tests/test_diff_*.py, tests/diffutil.py)
  run unchanged against ``redis_native.asyncio`` and ``redis.asyncio``.
"""
import asyncio
import inspect

import pytest

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in the test extra
    uvloop = None

LOOPS = ["asyncio", "uvloop"]


def new_loop(kind):
    if kind == "uvloop":
        if uvloop is None:
            pytest.skip("uvloop is not installed")
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(coro_fn, kind="asyncio", *args, **kwargs):
    """``coro_fn(*args, **kwargs)`` to completion on a new loop of ``kind``."""
    loop = new_loop(kind)
    try:
        return loop.run_until_complete(coro_fn(*args, **kwargs))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _is_async_iter(obj):
    return hasattr(obj, "__anext__")


async def _collect(it):
    return [x async for x in it]


class SyncFacade:
    """A synchronous view of an asyncio object (see the module docstring)."""

    _WRAP = ("Pipeline", "PubSub", "Lock", "AsyncScript", "Monitor", "BitFieldOperation")

    def __init__(self, obj, loop):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_loop", loop)

    def _wrap(self, value):
        loop = self._loop
        if inspect.isawaitable(value) and not type(value).__name__ == "Pipeline":
            value = loop.run_until_complete(_await(value))
        if _is_async_iter(value):
            return loop.run_until_complete(_collect(value))
        if type(value).__name__ in self._WRAP:
            return SyncFacade(value, loop)
        return value

    def __getattr__(self, name):
        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr
        if inspect.isasyncgenfunction(attr):
            return lambda *a, **k: self._loop.run_until_complete(_collect(attr(*a, **k)))

        def call(*args, **kwargs):
            args = tuple(a._obj if isinstance(a, SyncFacade) else a for a in args)
            kwargs = {k: (v._obj if isinstance(v, SyncFacade) else v) for k, v in kwargs.items()}
            return self._wrap(attr(*args, **kwargs))

        return call

    def __setattr__(self, name, value):
        setattr(self._obj, name, value)

    def __call__(self, *args, **kwargs):
        args = tuple(a._obj if isinstance(a, SyncFacade) else a for a in args)
        kwargs = {k: (v._obj if isinstance(v, SyncFacade) else v) for k, v in kwargs.items()}
        return self._wrap(self._obj(*args, **kwargs))

    def __len__(self):
        return len(self._obj)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        close = getattr(self._obj, "reset", None) or getattr(self._obj, "aclose")
        self._loop.run_until_complete(_await(close()))

    def close(self):
        obj = self._obj
        closer = getattr(obj, "aclose", None) or getattr(obj, "reset")
        self._loop.run_until_complete(_await(closer()))


async def _await(aw):
    return await aw
