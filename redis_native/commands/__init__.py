"""Command mixins (the Python side of every Redis command method).

Each method only validates its arguments, builds the argument tuple and calls
``self.execute_command(*args, **options)``; the dispatcher (in C) sends the
command and applies the response callback registered for ``args[0]``.  The
asyncio client mixes in the ``Async*`` aggregates, the same methods with the
few that post-process a reply made coroutines.

The cluster mixins (``RedisClusterCommands``, ``READ_COMMANDS``) load on first
use (PEP 562): a single-node client never needs them.
"""

from .core import AsyncCoreCommands, CoreCommands
from .helpers import list_or_args
from .sentinel import AsyncSentinelCommands, SentinelCommands

__all__ = ["AsyncCoreCommands", "AsyncRedisClusterCommands", "AsyncSentinelCommands",
           "CoreCommands", "READ_COMMANDS", "RedisClusterCommands", "SentinelCommands",
           "list_or_args"]

_FROM_CLUSTER = ("READ_COMMANDS", "RedisClusterCommands", "AsyncRedisClusterCommands")


def __getattr__(name):
    if name in _FROM_CLUSTER:
        from . import cluster

        value = getattr(cluster, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FROM_CLUSTER))
