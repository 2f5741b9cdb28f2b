"""``redis.asyncio.cluster``: the asyncio Redis Cluster client is not built yet.

The module and its main names exist so that code importing them at module
level keeps loading; creating any of the classes raises
:class:`~redis_native.exceptions.RedisError` saying that asyncio Cluster
support is not implemented.  The synchronous client,
:class:`redis_native.cluster.RedisCluster`, is complete.
"""
from typing import Any, NoReturn

from ..exceptions import RedisError

__all__ = ["ClusterNode", "ClusterPipeline", "NodesManager", "RedisCluster"]


def not_yet(name: str, what: str) -> NoReturn:
    """Raise the RedisError of a redis_native.asyncio class that is not built."""
    raise RedisError(
        f"redis_native.asyncio.{name} is not implemented yet: {what} support in "
        f"redis_native.asyncio is not built (see the 'Not yet' list in the README)"
    )


class RedisCluster:
    """redis-py's asyncio Redis Cluster client: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("RedisCluster", "Redis Cluster")


class ClusterNode:
    """A node of redis-py's asyncio Redis Cluster client: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("ClusterNode", "Redis Cluster")


class ClusterPipeline:
    """redis-py's asyncio cluster pipeline: not implemented in redis_native
    yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("ClusterPipeline", "Redis Cluster")


class NodesManager:
    """redis-py's asyncio cluster topology manager: not implemented in
    redis_native yet; creating one raises RedisError."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        not_yet("NodesManager", "Redis Cluster")
