"""List commands, plus SORT (redis-py's ``ListCommands``)."""

from __future__ import annotations

from typing import List, Optional, Union

from ..exceptions import DataError
from ._types import EncodableT, FieldT, KeysT, KeyT, Number, ResponseT
from .helpers import list_or_args

__all__ = ["ListCommands"]


class ListCommands:
    """Commands on lists (https://redis.io/docs/data-types/lists/)."""

    def blpop(self, keys: KeysT, timeout: Optional[Number] = 0) -> ResponseT:
        """Pop the first element of the first non-empty list among ``keys``,
        waiting up to ``timeout`` seconds (0 or None: forever).  Returns a
        ``(list name, value)`` tuple, or None on timeout.

        For more information, see https://redis.io/commands/blpop
        """
        args = list_or_args(keys, None)
        args.append(0 if timeout is None else timeout)
        return self.execute_command("BLPOP", *args)

    def brpop(self, keys: KeysT, timeout: Optional[Number] = 0) -> ResponseT:
        """Like :meth:`blpop` but pops the last element.

        For more information, see https://redis.io/commands/brpop
        """
        args = list_or_args(keys, None)
        args.append(0 if timeout is None else timeout)
        return self.execute_command("BRPOP", *args)

    def brpoplpush(
        self, src: KeyT, dst: KeyT, timeout: Optional[Number] = 0
    ) -> ResponseT:
        """Move the last element of ``src`` to the head of ``dst`` and return
        it, waiting up to ``timeout`` seconds (0 or None: forever) for
        ``src`` to get one; None on timeout.

        For more information, see https://redis.io/commands/brpoplpush
        """
        return self.execute_command(
            "BRPOPLPUSH", src, dst, 0 if timeout is None else timeout
        )

    def blmpop(
        self,
        timeout: float,
        numkeys: int,
        *args: str,
        direction: str,
        count: Optional[int] = 1,
    ) -> Optional[list]:
        """Pop up to ``count`` elements from the ``direction`` end (LEFT or
        RIGHT) of the first non-empty list among the ``numkeys`` names in
        ``args``, waiting up to ``timeout`` seconds.  Returns ``[name,
        [values...]]`` or None on timeout.

        For more information, see https://redis.io/commands/blmpop
        """
        return self.execute_command(
            "BLMPOP", timeout, numkeys, *args, direction, "COUNT", count
        )

    def lmpop(
        self,
        num_keys: int,
        *args: str,
        direction: str,
        count: Optional[int] = 1,
    ) -> ResponseT:
        """Pop up to ``count`` elements from the ``direction`` end of the
        first non-empty list among the ``num_keys`` names in ``args``.
        Returns ``[name, [values...]]`` or None when all are empty.

        For more information, see https://redis.io/commands/lmpop
        """
        pieces: List[EncodableT] = [num_keys, *args, direction]
        if count != 1:
            pieces += ("COUNT", count)
        return self.execute_command("LMPOP", *pieces)

    def lindex(self, name: KeyT, index: int) -> ResponseT:
        """Return the element at ``index`` of list ``name`` (negative indexes
        count from the tail), or None when out of range.

        For more information, see https://redis.io/commands/lindex
        """
        return self.execute_command("LINDEX", name, index, keys=[name])

    def linsert(self, name: KeyT, where: str, refvalue: str, value: str) -> ResponseT:
        """Insert ``value`` just ``where`` (BEFORE/AFTER) the first element
        equal to ``refvalue``; return the new length, -1 when ``refvalue``
        is absent, 0 when the list is missing.

        For more information, see https://redis.io/commands/linsert
        """
        return self.execute_command("LINSERT", name, where, refvalue, value)

    def llen(self, name: KeyT) -> ResponseT:
        """Return the length of list ``name`` (0 when missing).

        For more information, see https://redis.io/commands/llen
        """
        return self.execute_command("LLEN", name, keys=[name])

    def lpop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        """Remove and return the first element of list ``name``; with
        ``count``, a list of up to ``count`` elements.  None when missing.

        For more information, see https://redis.io/commands/lpop
        """
        if count is None:
            return self.execute_command("LPOP", name)
        return self.execute_command("LPOP", name, count)

    def lpush(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Insert ``values`` at the head of list ``name`` (the last one ends
        up first); return the new length.

        For more information, see https://redis.io/commands/lpush
        """
        return self.execute_command("LPUSH", name, *values)

    def lpushx(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Like :meth:`lpush`, but only when the list already exists.

        For more information, see https://redis.io/commands/lpushx
        """
        return self.execute_command("LPUSHX", name, *values)

    def lrange(self, name: KeyT, start: int, end: int) -> ResponseT:
        """Return the elements of list ``name`` from index ``start`` to
        ``end``, both included (negative indexes count from the tail).

        For more information, see https://redis.io/commands/lrange
        """
        return self.execute_command("LRANGE", name, start, end, keys=[name])

    def lrem(self, name: KeyT, count: int, value: str) -> ResponseT:
        """Remove elements equal to ``value`` from list ``name``: the first
        ``count`` from the head when positive, from the tail when negative,
        all of them when 0.  Returns how many were removed.

        For more information, see https://redis.io/commands/lrem
        """
        return self.execute_command("LREM", name, count, value)

    def lset(self, name: KeyT, index: int, value: str) -> ResponseT:
        """Replace the element at ``index`` of list ``name`` with ``value``.

        For more information, see https://redis.io/commands/lset
        """
        return self.execute_command("LSET", name, index, value)

    def ltrim(self, name: KeyT, start: int, end: int) -> ResponseT:
        """Keep only the elements of list ``name`` between ``start`` and
        ``end`` (included).

        For more information, see https://redis.io/commands/ltrim
        """
        return self.execute_command("LTRIM", name, start, end)

    def rpop(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        """Remove and return the last element of list ``name``; with
        ``count``, a list of up to ``count`` elements.  None when missing.

        For more information, see https://redis.io/commands/rpop
        """
        if count is None:
            return self.execute_command("RPOP", name)
        return self.execute_command("RPOP", name, count)

    def rpoplpush(self, src: KeyT, dst: KeyT) -> ResponseT:
        """Move the last element of ``src`` to the head of ``dst`` and return
        it (None when ``src`` is empty).

        For more information, see https://redis.io/commands/rpoplpush
        """
        return self.execute_command("RPOPLPUSH", src, dst)

    def rpush(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Append ``values`` to list ``name``; return the new length.

        For more information, see https://redis.io/commands/rpush
        """
        return self.execute_command("RPUSH", name, *values)

    def rpushx(self, name: KeyT, *values: str) -> ResponseT:
        """Like :meth:`rpush`, but only when the list already exists.

        For more information, see https://redis.io/commands/rpushx
        """
        return self.execute_command("RPUSHX", name, *values)

    def lpos(
        self,
        name: KeyT,
        value: str,
        rank: Optional[int] = None,
        count: Optional[int] = None,
        maxlen: Optional[int] = None,
    ) -> Union[str, List, None]:
        """Return the index of ``value`` in list ``name`` (None if absent).

        ``rank`` picks the n-th match (negative: searching from the tail);
        ``count`` returns a list of up to ``count`` indexes (0: all);
        ``maxlen`` limits how many elements are compared.

        For more information, see https://redis.io/commands/lpos
        """
        args: List[EncodableT] = [name, value]
        if rank is not None:
            args += ("RANK", rank)
        if count is not None:
            args += ("COUNT", count)
        if maxlen is not None:
            args += ("MAXLEN", maxlen)
        return self.execute_command("LPOS", *args, keys=[name])

    def sort(
        self,
        name: KeyT,
        start: Optional[int] = None,
        num: Optional[int] = None,
        by: Optional[str] = None,
        get: Optional[List[str]] = None,
        desc: bool = False,
        alpha: bool = False,
        store: Optional[str] = None,
        groups: Optional[bool] = False,
    ) -> Union[List, int]:
        """Sort the list, set or sorted set at ``name`` and return the result
        (or store it in ``store`` and return its length).

        ``start``/``num`` page the result; ``by`` sorts by the values of
        external keys (``*`` stands for the element); ``get`` returns
        external values instead of the elements (one pattern or a list;
        ``#`` is the element itself); ``desc`` reverses; ``alpha`` sorts as
        strings.  With ``groups`` and two or more ``get`` patterns, the
        result is a list of tuples, one per element.

        For more information, see https://redis.io/commands/sort
        """
        if (start is None) != (num is None):
            raise DataError("``start`` and ``num`` must both be specified")
        args: List[EncodableT] = [name]
        if by is not None:
            args += (b"BY", by)
        if start is not None and num is not None:
            args += (b"LIMIT", start, num)
        if get is not None:
            patterns = [get] if isinstance(get, (bytes, str)) else get
            for pattern in patterns:
                args += (b"GET", pattern)
        if desc:
            args.append(b"DESC")
        if alpha:
            args.append(b"ALPHA")
        if store is not None:
            args += (b"STORE", store)
        if groups:
            if not get or isinstance(get, (bytes, str)) or len(get) < 2:
                raise DataError(
                    'when using "groups" the "get" argument '
                    "must be specified and contain at least "
                    "two keys"
                )
        return self.execute_command(
            "SORT", *args, groups=len(get) if groups else None, keys=[name]
        )

    def sort_ro(
        self,
        key: str,
        start: Optional[int] = None,
        num: Optional[int] = None,
        by: Optional[str] = None,
        get: Optional[List[str]] = None,
        desc: bool = False,
        alpha: bool = False,
    ) -> list:
        """Read-only variant of :meth:`sort` (no ``store``).  Like redis-py
        7.4, this sends a plain SORT command.

        For more information, see https://redis.io/commands/sort_ro
        """
        return self.sort(
            key, start=start, num=num, by=by, get=get, desc=desc, alpha=alpha
        )
