"""redis-py's DeprecationWarnings for deprecated arguments, compared with
redis-py itself: which calls warn, the messages, their order, and the file the
warning is attributed to.

- ``Redis(...)`` (sync and asyncio): ``retry_on_timeout`` whenever it is given
  (even ``False``), ``lib_name`` and ``lib_version`` (even ``None``);
- connections: ``lib_name`` / ``lib_version``;
- pools: any argument to ``get_connection``.

The signatures still show redis-py's defaults (``retry_on_timeout=False``,
``command_name=None``).
"""
import asyncio
import importlib
import inspect
import warnings

import pytest


def _where(filename):
    """The file a warning is attributed to, the library's own files named
    relative to the package (redis_native/x.py and redis/x.py compare equal)."""
    for root in ("/redis_native/", "/site-packages/redis/"):
        if root in filename:
            return "LIB/" + filename.split(root, 1)[1]
    return filename


def _record(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message), _where(w.filename)) for w in caught]


def _modules(lib):
    names = ("", ".connection", ".asyncio", ".asyncio.connection")
    return [importlib.import_module(lib.__name__ + n) for n in names]


CONSTRUCTORS = {
    "redis_lib_none": lambda R, C, A, AC: R.Redis(lib_name=None, lib_version=None),
    "redis_lib_name": lambda R, C, A, AC: R.Redis(lib_name="celery"),
    "redis_retry_on_timeout_true": lambda R, C, A, AC: R.Redis(retry_on_timeout=True),
    "redis_retry_on_timeout_false": lambda R, C, A, AC: R.Redis(retry_on_timeout=False),
    "redis_all_three": lambda R, C, A, AC: R.Redis(lib_version="1", retry_on_timeout=True,
                                                   lib_name="x"),
    "redis_plain": lambda R, C, A, AC: R.Redis(driver_info=None, socket_timeout=3),
    "redis_from_url": lambda R, C, A, AC: R.Redis.from_url("redis://localhost/0",
                                                           lib_name="x"),
    "connection_lib": lambda R, C, A, AC: C.Connection(lib_name=None, lib_version=None),
    "connection_retry_on_timeout": lambda R, C, A, AC: C.Connection(retry_on_timeout=True),
    "unix_lib": lambda R, C, A, AC: C.UnixDomainSocketConnection(lib_version="2"),
    "ssl_lib": lambda R, C, A, AC: C.SSLConnection(lib_name="x"),
    "pool_lib": lambda R, C, A, AC: C.ConnectionPool(lib_name="x"),
    "aio_redis_lib": lambda R, C, A, AC: A.Redis(lib_name=None, lib_version=None),
    "aio_redis_retry_on_timeout": lambda R, C, A, AC: A.Redis(retry_on_timeout=False),
    "aio_redis_auto_close": lambda R, C, A, AC: A.Redis(retry_on_timeout=True,
                                                        auto_close_connection_pool=True),
    "aio_connection_lib": lambda R, C, A, AC: AC.Connection(lib_name="x"),
    "aio_unix_lib": lambda R, C, A, AC: AC.UnixDomainSocketConnection(lib_version="x"),
}


@pytest.mark.parametrize("case", sorted(CONSTRUCTORS))
def test_constructor_warnings_match_redis_py(impl, redis_py, case):
    fn = CONSTRUCTORS[case]
    got = _record(lambda: fn(*_modules(impl)))
    want = _record(lambda: fn(*_modules(redis_py)))
    assert got == want


GET_CONNECTION_ARGS = [((), {}), (("GET",), {}), (("GET", "key"), {}),
                       ((), {"command_name": None}), ((None,), {"extra": 1})]


@pytest.mark.parametrize("blocking", [False, True], ids=["pool", "blocking"])
def test_pool_get_connection_warnings(impl, redis_py, redis_server, blocking):
    def run(lib):
        C = importlib.import_module(lib.__name__ + ".connection")
        cls = C.BlockingConnectionPool if blocking else C.ConnectionPool
        out = []
        for args, kwargs in GET_CONNECTION_ARGS:
            pool = cls(host=redis_server.host, port=redis_server.port)
            box = []
            out.append(_record(lambda: box.append(pool.get_connection(*args, **kwargs))))
            pool.release(box[0])
            pool.disconnect()
        return out

    assert run(impl) == run(redis_py)


@pytest.mark.parametrize("blocking", [False, True], ids=["pool", "blocking"])
def test_asyncio_pool_get_connection_warnings(impl, redis_py, redis_server, blocking):
    def run(lib):
        AC = importlib.import_module(lib.__name__ + ".asyncio.connection")
        cls = AC.BlockingConnectionPool if blocking else AC.ConnectionPool

        async def one(args, kwargs):
            pool = cls(host=redis_server.host, port=redis_server.port)
            try:
                conn = await pool.get_connection(*args, **kwargs)
                await pool.release(conn)
            finally:
                await pool.disconnect()

        return [_record(lambda: asyncio.run(one(a, k))) for a, k in GET_CONNECTION_ARGS]

    assert run(impl) == run(redis_py)


def test_signatures_keep_redis_py_defaults(impl):
    R, C, A, AC = _modules(impl)
    for init in (R.Redis.__init__, A.Redis.__init__):
        assert inspect.signature(init).parameters["retry_on_timeout"].default is False
    for cls in (AC.ConnectionPool, AC.BlockingConnectionPool):
        assert inspect.signature(cls.get_connection).parameters["command_name"].default is None


def test_retry_on_timeout_still_configures(impl, redis_server):
    """The flag's value is used as before: True adds TimeoutError to the
    connections' retry_on_error; not given, it stays off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        on = impl.Redis(host=redis_server.host, port=redis_server.port, retry_on_timeout=True)
        off = impl.Redis(host=redis_server.host, port=redis_server.port)
    try:
        assert on.get_connection_kwargs()["retry_on_timeout"] is True
        assert "retry_on_timeout" not in off.get_connection_kwargs()
        assert on.ping() and off.ping()
    finally:
        on.close()
        off.close()
