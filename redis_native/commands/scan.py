"""Cursor-based iteration: SCAN, SSCAN, HSCAN, ZSCAN and their ``*_iter``
generators (redis-py's ``ScanCommands``)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator, List, Optional, Union

from ._types import EncodableT, KeyT, PatternT, ResponseT

__all__ = ["ScanCommands", "AsyncScanCommands"]


def _match_count(args: List[EncodableT], match: Any, count: Any) -> None:
    if match is not None:
        args += (b"MATCH", match)
    if count is not None:
        args += (b"COUNT", count)


class ScanCommands:
    """SCAN family.  Each ``*scan`` call returns ``(next cursor, items)``;
    a next cursor of 0 means the iteration is complete."""

    def scan(
        self,
        cursor: int = 0,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
        **kwargs: Any,
    ) -> ResponseT:
        """One step of the key space iteration starting at ``cursor``.

        ``match`` filters names with a glob pattern, ``count`` hints how much
        work to do per call, ``_type`` keeps only keys of that type (string,
        list, set, zset, hash, stream or a module type).

        For more information, see https://redis.io/commands/scan
        """
        args: List[EncodableT] = [cursor]
        _match_count(args, match, count)
        if _type is not None:
            args += (b"TYPE", _type)
        return self.execute_command("SCAN", *args, **kwargs)

    def scan_iter(
        self,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
        **kwargs: Any,
    ) -> Iterator:
        """Iterate over all key names (filtered as for :meth:`scan`) without
        handling the cursor yourself.  A key may be yielded more than once.

        For more information, see https://redis.io/commands/scan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, names = self.scan(
                cursor=cursor, match=match, count=count, _type=_type, **kwargs
            )
            yield from names

    def sscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
    ) -> ResponseT:
        """One step of the iteration over the members of set ``name``.

        For more information, see https://redis.io/commands/sscan
        """
        args: List[EncodableT] = [name, cursor]
        _match_count(args, match, count)
        return self.execute_command("SSCAN", *args)

    def sscan_iter(
        self,
        name: KeyT,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
    ) -> Iterator:
        """Iterate over the members of set ``name`` with SSCAN.

        For more information, see https://redis.io/commands/sscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, members = self.sscan(name, cursor=cursor, match=match, count=count)
            yield from members

    def hscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        no_values: Union[bool, None] = None,
    ) -> ResponseT:
        """One step of the iteration over hash ``name``: ``(cursor, {field:
        value})``, or ``(cursor, [fields])`` when ``no_values`` is given
        (Redis 7.4+).

        For more information, see https://redis.io/commands/hscan
        """
        args: List[EncodableT] = [name, cursor]
        _match_count(args, match, count)
        if no_values is not None:
            args.append(b"NOVALUES")
        return self.execute_command("HSCAN", *args, no_values=no_values)

    def hscan_iter(
        self,
        name: str,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        no_values: Union[bool, None] = None,
    ) -> Iterator:
        """Iterate over hash ``name`` with HSCAN, yielding ``(field, value)``
        pairs, or only fields when ``no_values`` is true.

        For more information, see https://redis.io/commands/hscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = self.hscan(
                name, cursor=cursor, match=match, count=count, no_values=no_values
            )
            if no_values:
                yield from data
            else:
                yield from data.items()

    def zscan(
        self,
        name: KeyT,
        cursor: int = 0,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """One step of the iteration over sorted set ``name``: ``(cursor,
        [(member, score), ...])`` with scores converted by
        ``score_cast_func``.

        For more information, see https://redis.io/commands/zscan
        """
        args: List[EncodableT] = [name, cursor]
        _match_count(args, match, count)
        return self.execute_command("ZSCAN", *args, score_cast_func=score_cast_func)

    def zscan_iter(
        self,
        name: KeyT,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        score_cast_func: Union[type, Callable] = float,
    ) -> Iterator:
        """Iterate over sorted set ``name`` with ZSCAN, yielding ``(member,
        score)`` pairs.

        For more information, see https://redis.io/commands/zscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, pairs = self.zscan(
                name,
                cursor=cursor,
                match=match,
                count=count,
                score_cast_func=score_cast_func,
            )
            yield from pairs


class AsyncScanCommands(ScanCommands):
    """The ``*scan_iter`` methods as async iterators, for the asyncio client."""

    async def scan_iter(
        self,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        _type: Optional[str] = None,
        **kwargs: Any,
    ) -> AsyncIterator:
        """Iterate (``async for``) over all key names, as :meth:`scan` filters
        them, without handling the cursor.  A key may come more than once.

        For more information, see https://redis.io/commands/scan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, names = await self.scan(cursor=cursor, match=match, count=count,
                                            _type=_type, **kwargs)
            for name in names:
                yield name

    async def sscan_iter(
        self,
        name: KeyT,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
    ) -> AsyncIterator:
        """Iterate (``async for``) over the members of set ``name``.

        For more information, see https://redis.io/commands/sscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, members = await self.sscan(name, cursor=cursor, match=match, count=count)
            for member in members:
                yield member

    async def hscan_iter(
        self,
        name: str,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        no_values: Union[bool, None] = None,
    ) -> AsyncIterator:
        """Iterate (``async for``) over the ``(field, value)`` pairs of hash
        ``name`` (the fields alone with ``no_values``).

        For more information, see https://redis.io/commands/hscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, data = await self.hscan(name, cursor=cursor, match=match, count=count,
                                            no_values=no_values)
            if no_values:
                for field in data:
                    yield field
            else:
                for pair in data.items():
                    yield pair

    async def zscan_iter(
        self,
        name: KeyT,
        match: Union[PatternT, None] = None,
        count: Optional[int] = None,
        score_cast_func: Union[type, Callable] = float,
    ) -> AsyncIterator:
        """Iterate (``async for``) over the ``(member, score)`` pairs of sorted
        set ``name``.

        For more information, see https://redis.io/commands/zscan
        """
        cursor: Any = "0"
        while cursor != 0:
            cursor, pairs = await self.zscan(name, cursor=cursor, match=match, count=count,
                                             score_cast_func=score_cast_func)
            for pair in pairs:
                yield pair
