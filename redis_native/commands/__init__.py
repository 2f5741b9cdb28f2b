"""Command mixins (the Python side of every Redis command method).

Each method only validates its arguments, builds the argument tuple and calls
``self.execute_command(*args, **options)``; the dispatcher (in C) sends the
command and applies the response callback registered for ``args[0]``.
"""

from .cluster import READ_COMMANDS, RedisClusterCommands
from .core import CoreCommands
from .helpers import list_or_args
from .sentinel import SentinelCommands

__all__ = ["CoreCommands", "READ_COMMANDS", "RedisClusterCommands", "SentinelCommands",
           "list_or_args"]
