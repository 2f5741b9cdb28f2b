"""redis_native: a drop-in replacement for redis-py with a C hot path.

    import redis_native as redis
    r = redis.Redis(host="localhost", port=6379)
    r.set("greeting", "hello")

Names and module paths follow redis-py 7.4.1 (``redis_native.client``,
``redis_native.connection``, ``redis_native.exceptions``...): the client, pipelines
and transactions, pub/sub, MONITOR, locks, scripts, connection pools, retries and
the exception hierarchy, TLS, Sentinel (``redis_native.sentinel``) and the Redis
Cluster client (``RedisCluster``, its pipelines, transactions and pub/sub) work as
in redis-py, over RESP2; ``redis_native.asyncio`` is the asyncio client, its
Sentinel and its Redis Cluster client.  RESP3 (so client-side caching) is not
available yet; see README.md.
"""
from . import exceptions  # first: the C module reads its exception classes
from .backoff import default_backoff
from .client import Redis, StrictRedis
from .connection import (
    BlockingConnectionPool,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from .credentials import CredentialProvider, UsernamePasswordCredentialProvider
from .driver_info import DriverInfo
from .exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    BusyLoadingError,
    ChildDeadlockedError,
    ConnectionError,
    CrossSlotTransactionError,
    DataError,
    InvalidPipelineStack,
    InvalidResponse,
    MaxConnectionsError,
    OutOfMemoryError,
    PubSubError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TimeoutError,
    WatchError,
)
from .utils import from_url
from . import _missing

# redis-py modules that do not exist here yet fail to import with a reason
_missing.install()

# __version__ and VERSION are the redis-py API level this release implements:
# libraries check ``redis.__version__`` or ``redis.VERSION`` before using a
# feature (limits, for one, refuses a redis older than 5.2), so both say what
# redis-py would.  NATIVE_VERSION is redis_native's own release: the LIB-VER it
# sends with CLIENT SETINFO, and the version of its distribution.
REDIS_PY_API_VERSION = "7.4.1"
__version__ = REDIS_PY_API_VERSION
VERSION = tuple(int(p) for p in REDIS_PY_API_VERSION.split("."))
NATIVE_VERSION = "0.1.0"


# Loaded on first use (PEP 562), not by ``import redis_native``: the Cluster and
# Sentinel clients, and the submodules redis-py's ``import redis`` happens to
# load (so ``redis_native.cluster`` or ``redis_native.asyncio`` works after a
# bare ``import redis_native``, as it does with redis-py).  See "What
# ``import redis_native`` loads" in docs/architecture.md.
_LAZY_NAMES = {
    "RedisCluster": "cluster",
    "Sentinel": "sentinel",
    "SentinelConnectionPool": "sentinel",
    "SentinelManagedConnection": "sentinel",
    "SentinelManagedSSLConnection": "sentinel",
}
_LAZY_SUBMODULES = frozenset({
    "_parsers", "asyncio", "backoff", "cache", "client", "cluster", "commands",
    "connection", "crc", "credentials", "driver_info", "event", "exceptions", "lock",
    "retry", "sentinel", "typing", "utils",
})


def __getattr__(name):
    import importlib

    modname = _LAZY_NAMES.get(name)
    if modname is not None:
        value = getattr(importlib.import_module("." + modname, __name__), name)
    elif name in _LAZY_SUBMODULES:
        value = importlib.import_module("." + name, __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | _LAZY_SUBMODULES)


def int_or_str(value):
    """``int(value)`` when it parses as an integer, else ``value`` unchanged."""
    try:
        return int(value)
    except ValueError:
        return value

__all__ = [
    "AuthenticationError",
    "AuthenticationWrongNumberOfArgsError",
    "BlockingConnectionPool",
    "BusyLoadingError",
    "ChildDeadlockedError",
    "Connection",
    "ConnectionError",
    "ConnectionPool",
    "CredentialProvider",
    "CrossSlotTransactionError",
    "DataError",
    "DriverInfo",
    "from_url",
    "default_backoff",
    "InvalidPipelineStack",
    "InvalidResponse",
    "MaxConnectionsError",
    "OutOfMemoryError",
    "PubSubError",
    "ReadOnlyError",
    "Redis",
    "RedisCluster",
    "RedisClusterException",
    "RedisError",
    "ResponseError",
    "Sentinel",
    "SentinelConnectionPool",
    "SentinelManagedConnection",
    "SentinelManagedSSLConnection",
    "SSLConnection",
    "UsernamePasswordCredentialProvider",
    "StrictRedis",
    "TimeoutError",
    "UnixDomainSocketConnection",
    "WatchError",
]
