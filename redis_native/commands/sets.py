"""Set commands (redis-py's ``SetCommands``)."""

from __future__ import annotations

from typing import List, Optional

from ._types import FieldT, KeyT, ResponseT
from .helpers import list_or_args

__all__ = ["SetCommands"]


class SetCommands:
    """Commands on sets (https://redis.io/docs/data-types/sets/).

    The multi-key commands take ``keys`` (one name or an iterable of names)
    followed by more names in ``*args``.
    """

    def sadd(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Add ``values`` to set ``name``; return how many were new.

        For more information, see https://redis.io/commands/sadd
        """
        return self.execute_command("SADD", name, *values)

    def scard(self, name: KeyT) -> ResponseT:
        """Return the number of members of set ``name``.

        For more information, see https://redis.io/commands/scard
        """
        return self.execute_command("SCARD", name, keys=[name])

    def sdiff(self, keys: List, *args: List) -> ResponseT:
        """Return (as a Python set) the members of the first set that are in
        none of the others.

        For more information, see https://redis.io/commands/sdiff
        """
        names = list_or_args(keys, args)
        return self.execute_command("SDIFF", *names, keys=names)

    def sdiffstore(self, dest: str, keys: List, *args: List) -> ResponseT:
        """Store the difference of the sets in ``dest``; return its size.

        For more information, see https://redis.io/commands/sdiffstore
        """
        names = list_or_args(keys, args)
        return self.execute_command("SDIFFSTORE", dest, *names)

    def sinter(self, keys: List, *args: List) -> ResponseT:
        """Return (as a Python set) the members common to all the sets.

        For more information, see https://redis.io/commands/sinter
        """
        names = list_or_args(keys, args)
        return self.execute_command("SINTER", *names, keys=names)

    def sintercard(self, numkeys: int, keys: List[KeyT], limit: int = 0) -> ResponseT:
        """Return the size of the intersection of the ``numkeys`` sets in
        ``keys``, stopping early at ``limit`` when it is not 0.

        For more information, see https://redis.io/commands/sintercard
        """
        return self.execute_command(
            "SINTERCARD", numkeys, *keys, "LIMIT", limit, keys=keys
        )

    def sinterstore(self, dest: KeyT, keys: List, *args: List) -> ResponseT:
        """Store the intersection of the sets in ``dest``; return its size.

        For more information, see https://redis.io/commands/sinterstore
        """
        names = list_or_args(keys, args)
        return self.execute_command("SINTERSTORE", dest, *names)

    def sismember(self, name: KeyT, value: str) -> ResponseT:
        """Return 1 if ``value`` is a member of set ``name``, else 0.

        For more information, see https://redis.io/commands/sismember
        """
        return self.execute_command("SISMEMBER", name, value, keys=[name])

    def smembers(self, name: KeyT) -> ResponseT:
        """Return all members of set ``name`` as a Python set.

        For more information, see https://redis.io/commands/smembers
        """
        return self.execute_command("SMEMBERS", name, keys=[name])

    def smismember(self, name: KeyT, values: List, *args: List) -> ResponseT:
        """For each value, 1 if it is a member of set ``name`` else 0.

        For more information, see https://redis.io/commands/smismember
        """
        members = list_or_args(values, args)
        return self.execute_command("SMISMEMBER", name, *members, keys=[name])

    def smove(self, src: KeyT, dst: KeyT, value: str) -> ResponseT:
        """Move ``value`` from set ``src`` to set ``dst``; return whether it
        was a member of ``src``.

        For more information, see https://redis.io/commands/smove
        """
        return self.execute_command("SMOVE", src, dst, value)

    def spop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        """Remove and return a random member of set ``name`` (None when
        empty); with ``count``, a list of up to ``count`` members.

        For more information, see https://redis.io/commands/spop
        """
        if count is None:
            return self.execute_command("SPOP", name)
        return self.execute_command("SPOP", name, count)

    def srandmember(self, name: KeyT, number: Optional[int] = None) -> ResponseT:
        """Return a random member of set ``name`` without removing it; with
        ``number``, a list of that many distinct members (or, when negative,
        of ``-number`` members that may repeat).

        For more information, see https://redis.io/commands/srandmember
        """
        if number is None:
            return self.execute_command("SRANDMEMBER", name)
        return self.execute_command("SRANDMEMBER", name, number)

    def srem(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Remove ``values`` from set ``name``; return how many were members.

        For more information, see https://redis.io/commands/srem
        """
        return self.execute_command("SREM", name, *values)

    def sunion(self, keys: List, *args: List) -> ResponseT:
        """Return (as a Python set) the members of any of the sets.

        For more information, see https://redis.io/commands/sunion
        """
        names = list_or_args(keys, args)
        return self.execute_command("SUNION", *names, keys=names)

    def sunionstore(self, dest: KeyT, keys: List, *args: List) -> ResponseT:
        """Store the union of the sets in ``dest``; return its size.

        For more information, see https://redis.io/commands/sunionstore
        """
        names = list_or_args(keys, args)
        return self.execute_command("SUNIONSTORE", dest, *names)
