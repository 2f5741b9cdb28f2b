"""``redis.asyncio.sentinel``: the asyncio Sentinel client is not built yet.

The module and its names exist so that code importing them at module level
(``from redis.asyncio.sentinel import Sentinel``, as arq does) keeps loading;
creating any of the classes raises :class:`~redis_native.exceptions.RedisError`
saying that asyncio Sentinel support is not implemented.  The synchronous
client, :mod:`redis_native.sentinel`, is complete.
"""
from typing import Any, NoReturn

from ..exceptions import ConnectionError, RedisError

__all__ = ["MasterNotFoundError", "Sentinel", "SentinelConnectionPool",
           "SentinelManagedConnection", "SentinelManagedSSLConnection", "SlaveNotFoundError"]


def not_yet(name: str, what: str) -> NoReturn:
    """Raise the RedisError of a redis_native.asyncio class that is not built."""
    raise RedisError(
        f"redis_native.asyncio.{name} is not implemented yet: {what} support in "
        f"redis_native.asyncio is not built (see the 'Not yet' list in the README)"
    )


class MasterNotFoundError(ConnectionError):
    """No Sentinel knows a primary for the service (as in redis-py)."""


class SlaveNotFoundError(ConnectionError):
    """No replica of the service is reachable (as in redis-py)."""


class Sentinel:
    """redis-py's asyncio Sentinel client: not implemented in redis_native
    yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("Sentinel", "Redis Sentinel")


class SentinelConnectionPool:
    """redis-py's asyncio Sentinel pool: not implemented in redis_native yet;
    creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("SentinelConnectionPool", "Redis Sentinel")


class SentinelManagedConnection:
    """redis-py's asyncio Sentinel connection: not implemented in redis_native
    yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("SentinelManagedConnection", "Redis Sentinel")


class SentinelManagedSSLConnection:
    """redis-py's asyncio Sentinel TLS connection: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("SentinelManagedSSLConnection", "Redis Sentinel")
