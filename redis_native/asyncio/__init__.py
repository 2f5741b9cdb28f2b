"""redis_native.asyncio: the asyncio client of redis-py's ``redis.asyncio``.

    import redis_native.asyncio as redis
    r = redis.Redis(host="localhost", port=6379)
    await r.set("greeting", "hello")

The single-node client (``Redis``, pipelines and transactions, pub/sub,
MONITOR, locks, scripts, connection pools, retries) runs every command over a
native protocol (``_native.AsyncProtocol``): packing, reply parsing and the
matching of replies to waiting futures happen in C.  Works with the default
event loop and with uvloop.

Sentinel and Cluster are not built yet: their names exist, so imports keep
working, and using them raises :class:`~redis_native.exceptions.RedisError`
saying so; ``redis_native.asyncio.sentinel`` and ``.cluster`` fail to import
with the reason.
"""
from typing import Any, NoReturn

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


def _not_yet(name: str, what: str) -> NoReturn:
    raise RedisError(
        f"redis_native.asyncio.{name} is not implemented yet: {what} support in "
        f"redis_native.asyncio is not built (see the 'Not yet' list in the README)"
    )


class RedisCluster:
    """redis-py's asyncio Redis Cluster client: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_yet("RedisCluster", "Redis Cluster")


class Sentinel:
    """redis-py's asyncio Sentinel client: not implemented in redis_native
    yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_yet("Sentinel", "Redis Sentinel")


class SentinelConnectionPool:
    """redis-py's asyncio Sentinel pool: not implemented in redis_native yet;
    creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_yet("SentinelConnectionPool", "Redis Sentinel")


class SentinelManagedConnection:
    """redis-py's asyncio Sentinel connection: not implemented in redis_native
    yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_yet("SentinelManagedConnection", "Redis Sentinel")


class SentinelManagedSSLConnection:
    """redis-py's asyncio Sentinel TLS connection: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _not_yet("SentinelManagedSSLConnection", "Redis Sentinel")


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
