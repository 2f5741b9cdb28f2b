"""redis_native.asyncio: the asyncio client of redis-py's ``redis.asyncio``.

    import redis_native.asyncio as redis
    r = redis.Redis(host="localhost", port=6379)
    await r.set("greeting", "hello")

The single-node client (``Redis``, pipelines and transactions, pub/sub,
MONITOR, locks, scripts, connection pools, retries) runs every command over a
native protocol (``_native.AsyncProtocol``): packing, reply parsing and the
matching of replies to waiting futures happen in C.  Works with the default
event loop and with uvloop.

Sentinel is :mod:`redis_native.asyncio.sentinel`, the Redis Cluster client
:mod:`redis_native.asyncio.cluster` (``RedisCluster``).
"""
from ..backoff import default_backoff
from ..exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    BusyLoadingError,
    ChildDeadlockedError,
    ConnectionError,
    DataError,
    InvalidResponse,
    OutOfMemoryError,
    PubSubError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    WatchError,
)
from .client import Redis, StrictRedis
from .connection import (
    BlockingConnectionPool,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from .utils import from_url


from .cluster import RedisCluster
from .sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)


__all__ = [
    "AuthenticationError",
    "AuthenticationWrongNumberOfArgsError",
    "BlockingConnectionPool",
    "BusyLoadingError",
    "ChildDeadlockedError",
    "Connection",
    "ConnectionError",
    "ConnectionPool",
    "DataError",
    "from_url",
    "default_backoff",
    "InvalidResponse",
    "PubSubError",
    "OutOfMemoryError",
    "ReadOnlyError",
    "Redis",
    "RedisCluster",
    "RedisError",
    "ResponseError",
    "Sentinel",
    "SentinelConnectionPool",
    "SentinelManagedConnection",
    "SentinelManagedSSLConnection",
    "SSLConnection",
    "StrictRedis",
    "TimeoutError",
    "UnixDomainSocketConnection",
    "WatchError",
]
