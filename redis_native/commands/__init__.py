"""Command mixins (the Python side of every Redis command method).

Each method only validates its arguments, builds the argument tuple and calls
``self.execute_command(*args, **options)``; the dispatcher (in C) sends the
command and applies the response callback registered for ``args[0]``.  The
asyncio client mixes in the ``Async*`` aggregates, the same methods with the
few that post-process a reply made coroutines.
"""

from .cluster import READ_COMMANDS, RedisClusterCommands
from .core import AsyncCoreCommands, CoreCommands
from .helpers import list_or_args
from .sentinel import AsyncSentinelCommands, SentinelCommands

__all__ = ["AsyncCoreCommands", "AsyncSentinelCommands", "CoreCommands", "READ_COMMANDS",
           "RedisClusterCommands", "SentinelCommands",
           "list_or_args"]
