"""Shared pytest fixtures for the redis_native test suite.

CONTRACT (other test files rely on these names):

* ``redis_server``   session-scoped :class:`tests.servers.RedisServer`
* ``server_factory`` function-scoped; ``server_factory(*extra_args, password=None)``
                     returns a fresh private RedisServer, stopped at teardown
* ``r``              ``redis_native.Redis`` on the session server, flushall before, closed after
* ``r_dec``          same with ``decode_responses=True``
* ``oracle``         redis-py ``redis.Redis`` on the same server
* ``oracle_dec``     same with ``decode_responses=True``
* ``impl``           the module under test (``redis_native``, or ``redis`` with --impl=redis)
* ``diff``           differential harness (see tests/diffutil.py), parametrized over
                     decode_responses False/True; ``diff_bytes``/``diff_dec`` for one mode
* ``lib``            parametrized: the module under test, then redis-py (tests that run
                     the same code against both and check each outcome)
* ``api``            namespace of the implementation's modules: ``impl``, ``exc``,
                     ``retry``, ``backoff``, ``Retry``, ``no_retry()``
* ``closing``        ``closing(obj)`` closes a client/pool/connection at teardown
* ``admin``          ``admin(srv)``: a redis-py client for out-of-band administration of
                     a server (its password applied), closed at teardown
* ``wire``           ``wire(fn)``: ``fn(client)`` sends the same commands with both
                     clients, recorded by a :class:`servers.RecordingServer`
* ``cluster``        session-scoped :class:`tests.cluster_topology.ClusterTopology`: a
                     real 6-node Redis Cluster (3 primaries, 3 replicas), started on
                     first use, stopped at the end of the session
* ``sentinel_topo``  session-scoped :class:`tests.sentinel_topology.Topology`: a master,
                     two replicas and three sentinels (sync and asyncio Sentinel tests)

Option ``--impl=redis`` swaps redis_native for redis-py in ``r*``, ``impl`` and the
native side of ``diff``: the suite then validates itself against the oracle.
"""
from __future__ import annotations

import importlib
import os
import sys
import types

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from servers import RecordingServer, RedisServer  # noqa: E402
import diffutil  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--impl",
        action="store",
        default=os.environ.get("REDIS_NATIVE_TEST_IMPL", "redis_native"),
        choices=("redis_native", "native", "redis", "redis-py"),
        help="client implementation under test: redis_native (default) or redis (redis-py, "
        "to validate the tests themselves)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: tests that take several seconds (server restarts, timeouts)")
    impl = config.getoption("--impl")
    config._rn_impl_name = "redis" if impl in ("redis", "redis-py") else "redis_native"


def pytest_report_header(config):
    return "client implementation under test: %s" % config._rn_impl_name


_IMPL_CACHE = {}


def load_impl(name: str):
    if name not in _IMPL_CACHE:
        _IMPL_CACHE[name] = importlib.import_module(name)
    return _IMPL_CACHE[name]


@pytest.fixture(scope="session")
def impl_name(pytestconfig) -> str:
    return pytestconfig._rn_impl_name


@pytest.fixture(scope="session")
def impl(impl_name):
    """The client package under test (``redis_native`` or, with --impl=redis, ``redis``)."""
    return load_impl(impl_name)


@pytest.fixture(scope="session")
def redis_py():
    """The oracle package (redis-py)."""
    import redis

    return redis


# --------------------------------------------------------------------------- servers
@pytest.fixture(scope="session")
def redis_server():
    srv = RedisServer()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def server_factory():
    started = []

    def factory(*extra_args, password=None, **kw):
        srv = RedisServer(*extra_args, password=password, **kw)
        started.append(srv)
        return srv

    try:
        yield factory
    finally:
        for srv in started:
            try:
                srv.stop()
            except Exception:
                pass


@pytest.fixture(scope="session")
def server_version(redis_server):
    from servers import raw_command

    data = raw_command(redis_server.host, redis_server.port, "INFO", "server")
    for line in data.split(b"\r\n"):
        if line.startswith(b"redis_version:"):
            return tuple(int(x) for x in line.split(b":", 1)[1].decode().split(".")[:3])
    return (0, 0, 0)


@pytest.fixture(scope="session")
def cluster():
    from cluster_topology import ClusterTopology

    topo = ClusterTopology()
    try:
        yield topo
    finally:
        topo.stop()


@pytest.fixture(scope="session")
def sentinel_topo():
    """The Sentinel topology (tests/sentinel_topology.py: a master, two replicas,
    three sentinels), started once per session for the sync and asyncio tests."""
    from sentinel_topology import Topology

    topo = Topology()
    try:
        yield topo
    finally:
        topo.close()


# --------------------------------------------------------------------------- clients
def _make(module, server, **kw):
    return module.Redis(host=server.host, port=server.port, **kw)


def _flushall(server):
    import redis

    c = redis.Redis(host=server.host, port=server.port)
    try:
        c.flushall()
    finally:
        c.close()


@pytest.fixture
def r(impl, redis_server):
    _flushall(redis_server)
    client = _make(impl, redis_server)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def r_dec(impl, redis_server):
    _flushall(redis_server)
    client = _make(impl, redis_server, decode_responses=True)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def oracle(redis_py, redis_server):
    client = _make(redis_py, redis_server)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def oracle_dec(redis_py, redis_server):
    client = _make(redis_py, redis_server, decode_responses=True)
    try:
        yield client
    finally:
        client.close()


# --------------------------------------------------------------------------- differential
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _diff(request, impl, redis_py, redis_server, decode):
    d = diffutil.Diff.connect(impl, redis_py, redis_server, decode_responses=decode)
    try:
        yield d
        rep = getattr(request.node, "rep_call", None)
        d.finish(test_failed=rep is None or not rep.passed)
    finally:
        d.close()


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def diff(request, impl, redis_py, redis_server):
    yield from _diff(request, impl, redis_py, redis_server, request.param)


@pytest.fixture
def diff_bytes(request, impl, redis_py, redis_server):
    yield from _diff(request, impl, redis_py, redis_server, False)


@pytest.fixture
def diff_dec(request, impl, redis_py, redis_server):
    yield from _diff(request, impl, redis_py, redis_server, True)


@pytest.fixture
def requires_version(server_version):
    """``requires_version((7, 2), "LCS")`` skips the test on older redis-server."""

    def need(version, what=""):
        if tuple(server_version[: len(version)]) < tuple(version):
            pytest.skip("%s needs redis-server >= %s (installed %s)" % (
                what or "this test", ".".join(map(str, version)), ".".join(map(str, server_version))))

    return need


# --------------------------------------------------------------------------- helpers
@pytest.fixture(params=["native", "redis-py"])
def lib(request, impl, redis_py):
    """The module under test, then redis-py: the test checks each on its own terms."""
    return impl if request.param == "native" else redis_py


@pytest.fixture
def api(impl):
    """The implementation's public modules, and a no-retry policy factory."""
    ns = types.SimpleNamespace(impl=impl)
    ns.exc = importlib.import_module(impl.__name__ + ".exceptions")
    ns.retry = importlib.import_module(impl.__name__ + ".retry")
    ns.backoff = importlib.import_module(impl.__name__ + ".backoff")
    ns.Retry = ns.retry.Retry
    ns.no_retry = lambda: ns.Retry(ns.backoff.NoBackoff(), 0)
    return ns


@pytest.fixture
def closing():
    """``closing(obj)`` registers a client, pool or connection to be closed
    (``close()``, else ``disconnect()``) at teardown, last registered first."""
    objs = []

    def register(obj):
        objs.append(obj)
        return obj

    yield register
    for obj in reversed(objs):
        try:
            if hasattr(obj, "close"):
                obj.close()
            else:
                obj.disconnect()
        except Exception:
            pass


@pytest.fixture
def admin(redis_py):
    """``admin(srv, **kw)``: a redis-py client for out-of-band administration of
    ``srv`` (with its password), closed at teardown."""
    made = []

    def make(srv, **kw):
        if srv.password is not None:
            kw.setdefault("password", srv.password)
        kw.setdefault("socket_timeout", 60)
        client = redis_py.Redis(host=srv.host, port=srv.port, **kw)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def wire(impl, redis_py):
    """``wire(fn, **client_kw)``: assert ``fn(client)`` sends identical commands
    with the implementation under test and with redis-py."""
    srv = RecordingServer()

    def run(fn, **kw):
        return diffutil.assert_same_wire(impl, redis_py, fn, server=srv, **kw)

    yield run
    srv.close()
