"""The differential cases of the synchronous clients (tests/test_diff_*.py),
run against the asyncio clients: ``redis_native.asyncio.Redis`` (db 1) and
redis-py's ``redis.asyncio.Redis`` (db 2) on one server, call by call, through
:class:`asyncio_util.SyncFacade` (each call awaited on one event loop).

Every test function of those modules whose only fixtures are ``diff``,
``diff_bytes``, ``diff_dec`` (and version checks) is collected here again
under ``test_<module>__<name>``; the fixtures below give it the asyncio
clients.  With ``--impl=redis`` both sides are redis-py.
"""
import asyncio
import importlib
import inspect
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import diffutil  # noqa: E402
from asyncio_util import SyncFacade  # noqa: E402

MODULES = ["test_diff_admin", "test_diff_geo", "test_diff_hashes", "test_diff_hll_bits",
           "test_diff_keys", "test_diff_lists", "test_diff_pubsub_cmds",
           "test_diff_scripting", "test_diff_server", "test_diff_sets", "test_diff_streams",
           "test_diff_strings", "test_diff_zsets"]

ALLOWED_FIXTURES = {"diff", "diff_bytes", "diff_dec", "requires_version", "server_version",
                    "redis_server", "impl", "redis_py"}

# Cases that cannot run through the facade, with the reason.
SKIP = {
}


def _param_names(fn):
    names = set()
    for mark in getattr(fn, "pytestmark", []):
        if mark.name == "parametrize":
            argnames = mark.args[0]
            if isinstance(argnames, str):
                argnames = [a.strip() for a in argnames.split(",")]
            names.update(argnames)
    return names


def _collect():
    found = {}
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name, fn in sorted(vars(mod).items()):
            if not name.startswith("test_") or not inspect.isfunction(fn):
                continue
            params = set(inspect.signature(fn).parameters) - _param_names(fn)
            if not params & {"diff", "diff_bytes", "diff_dec"}:
                continue
            if params - ALLOWED_FIXTURES:
                continue
            key = "%s__%s" % (modname[len("test_diff_"):], name[len("test_"):])
            found["test_" + key] = fn
    return found


for _name, _fn in _collect().items():
    if _name in SKIP:
        continue
    globals()[_name] = _fn


@pytest.fixture(scope="session")
def async_impl(impl_name):
    return importlib.import_module(impl_name + ".asyncio")


def _adiff(request, async_impl, redis_server, decode):
    import redis
    import redis.asyncio as oracle_asyncio

    loop = asyncio.new_event_loop()
    host, port = redis_server.host, redis_server.port
    native = async_impl.Redis(host=host, port=port, db=1, decode_responses=decode)
    oracle = oracle_asyncio.Redis(host=host, port=port, db=2, decode_responses=decode)
    na = redis.Redis(host=host, port=port, db=1)
    oa = redis.Redis(host=host, port=port, db=2)
    na.flushdb()
    oa.flushdb()
    d = diffutil.Diff(SyncFacade(native, loop), SyncFacade(oracle, loop), na, oa, decode)
    try:
        yield d
        rep = getattr(request.node, "rep_call", None)
        d.finish(test_failed=rep is None or not rep.passed)
    finally:
        d.close()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def diff(request, async_impl, redis_server):
    yield from _adiff(request, async_impl, redis_server, request.param)


@pytest.fixture
def diff_bytes(request, async_impl, redis_server):
    yield from _adiff(request, async_impl, redis_server, False)


@pytest.fixture
def diff_dec(request, async_impl, redis_server):
    yield from _adiff(request, async_impl, redis_server, True)
