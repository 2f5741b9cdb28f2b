"""Sorted set commands (redis-py's ``SortedSetCommands``)."""

from __future__ import annotations

from typing import Any, Callable, List, Mapping, Optional, Sequence, Union

from ..exceptions import DataError
from ._types import (
    AnyKeyT,
    EncodableT,
    FieldT,
    KeysT,
    KeyT,
    ResponseT,
    TimeoutSecT,
    ZScoreBoundT,
)
from .helpers import list_or_args

__all__ = ["SortedSetCommands"]


def _check_limit(start: Any, num: Any) -> None:
    if (start is None) != (num is None):
        raise DataError("``start`` and ``num`` must both be specified")


class SortedSetCommands:
    """Commands on sorted sets
    (https://redis.io/docs/data-types/sorted-sets/).

    Methods returning members with scores give ``(member, score)`` tuples,
    the score converted by ``score_cast_func`` (``float`` by default).
    """

    def zadd(
        self,
        name: KeyT,
        mapping: Mapping[AnyKeyT, EncodableT],
        nx: bool = False,
        xx: bool = False,
        ch: bool = False,
        incr: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Add the ``{member: score}`` pairs of ``mapping`` to ``name`` or
        update their scores.

        ``nx``: only add new members; ``xx``: only update existing ones;
        ``gt`` / ``lt``: only update when the new score is greater / lower;
        ``ch``: return the number of changed members instead of added ones;
        ``incr``: add the score to the member's (single pair only) and return
        the new score (None when a condition prevented it).

        For more information, see https://redis.io/commands/zadd
        """
        if not mapping:
            raise DataError("ZADD requires at least one element/score pair")
        if nx and xx:
            raise DataError("ZADD allows either 'nx' or 'xx', not both")
        if gt and lt:
            raise DataError("ZADD allows either 'gt' or 'lt', not both")
        if incr and len(mapping) != 1:
            raise DataError(
                "ZADD option 'incr' only works when passing a single element/score pair"
            )
        if nx and (gt or lt):
            raise DataError("Only one of 'nx', 'lt', or 'gr' may be defined.")
        args: List[EncodableT] = []
        if nx or xx or ch or incr or gt or lt:
            if nx:
                args.append(b"NX")
            if xx:
                args.append(b"XX")
            if ch:
                args.append(b"CH")
            if incr:
                args.append(b"INCR")
            if gt:
                args.append(b"GT")
            if lt:
                args.append(b"LT")
        for member, score in mapping.items():
            args += (score, member)
        if incr:
            return self.execute_command("ZADD", name, *args, as_score=True)
        return self.execute_command("ZADD", name, *args)

    def zcard(self, name: KeyT) -> ResponseT:
        """Return the number of members of sorted set ``name``.

        For more information, see https://redis.io/commands/zcard
        """
        return self.execute_command("ZCARD", name, keys=[name])

    def zcount(self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT) -> ResponseT:
        """Count the members of ``name`` with a score between ``min`` and
        ``max`` (``"(x"`` for exclusive bounds, ``"-inf"``/``"+inf"``).

        For more information, see https://redis.io/commands/zcount
        """
        return self.execute_command("ZCOUNT", name, min, max, keys=[name])

    def zdiff(self, keys: KeysT, withscores: bool = False) -> ResponseT:
        """Return the members of the first sorted set that are in none of the
        others.  With ``withscores`` the reply is the flat
        ``[member, score, ...]`` list, as in redis-py.

        For more information, see https://redis.io/commands/zdiff
        """
        args: List[Any] = [len(keys), *keys]
        if withscores:
            args.append("WITHSCORES")
        return self.execute_command("ZDIFF", *args, keys=keys)

    def zdiffstore(self, dest: KeyT, keys: KeysT) -> ResponseT:
        """Store in ``dest`` the difference between the first sorted set and
        the others; return its size.

        For more information, see https://redis.io/commands/zdiffstore
        """
        return self.execute_command("ZDIFFSTORE", dest, len(keys), *keys)

    def zincrby(self, name: KeyT, amount: float, value: EncodableT) -> ResponseT:
        """Add ``amount`` to the score of member ``value``; return the new
        score as a float.

        For more information, see https://redis.io/commands/zincrby
        """
        return self.execute_command("ZINCRBY", name, amount, value)

    def zinter(
        self, keys: KeysT, aggregate: Optional[str] = None, withscores: bool = False
    ) -> ResponseT:
        """Return the members present in all the sorted sets ``keys`` (a list,
        or a ``{name: weight}`` dict), their scores combined with
        ``aggregate`` (SUM by default, MIN or MAX).

        For more information, see https://redis.io/commands/zinter
        """
        return self._zaggregate("ZINTER", None, keys, aggregate, withscores=withscores)

    def zinterstore(
        self,
        dest: KeyT,
        keys: Union[Sequence[KeyT], Mapping[AnyKeyT, float]],
        aggregate: Optional[str] = None,
    ) -> ResponseT:
        """Store the intersection of the sorted sets ``keys`` (list or
        ``{name: weight}``) in ``dest``; return its size.

        For more information, see https://redis.io/commands/zinterstore
        """
        return self._zaggregate("ZINTERSTORE", dest, keys, aggregate)

    def zintercard(self, numkeys: int, keys: List[str], limit: int = 0) -> ResponseT:
        """Return the size of the intersection of the ``numkeys`` sorted sets
        in ``keys``, stopping early at ``limit`` when it is not 0.

        For more information, see https://redis.io/commands/zintercard
        """
        return self.execute_command(
            "ZINTERCARD", numkeys, *keys, "LIMIT", limit, keys=keys
        )

    def zlexcount(self, name: KeyT, min: EncodableT, max: EncodableT) -> ResponseT:
        """Count the members between the lexicographical bounds ``min`` and
        ``max`` (``"[a"``, ``"(a"``, ``"-"``, ``"+"``).

        For more information, see https://redis.io/commands/zlexcount
        """
        return self.execute_command("ZLEXCOUNT", name, min, max, keys=[name])

    def zpopmax(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        """Remove and return the ``count`` (default 1) members with the
        highest scores, as ``(member, score)`` tuples.

        For more information, see https://redis.io/commands/zpopmax
        """
        if count is None:
            return self.execute_command("ZPOPMAX", name, withscores=True)
        return self.execute_command("ZPOPMAX", name, count, withscores=True)

    def zpopmin(self, name: KeyT, count: Optional[int] = None) -> ResponseT:
        """Remove and return the ``count`` (default 1) members with the
        lowest scores, as ``(member, score)`` tuples.

        For more information, see https://redis.io/commands/zpopmin
        """
        if count is None:
            return self.execute_command("ZPOPMIN", name, withscores=True)
        return self.execute_command("ZPOPMIN", name, count, withscores=True)

    def zrandmember(
        self, key: KeyT, count: Optional[int] = None, withscores: bool = False
    ) -> ResponseT:
        """Return a random member of sorted set ``key``; with ``count`` a list
        of distinct members (repeats allowed when negative); ``withscores``
        interleaves the scores in the flat reply.

        For more information, see https://redis.io/commands/zrandmember
        """
        args: List[EncodableT] = []
        if count is not None:
            args.append(count)
        if withscores:
            args.append("WITHSCORES")
        return self.execute_command("ZRANDMEMBER", key, *args)

    def bzpopmax(self, keys: KeysT, timeout: TimeoutSecT = 0) -> ResponseT:
        """Pop the highest-scored member of the first non-empty sorted set
        among ``keys``, waiting up to ``timeout`` seconds (0: forever).
        Returns ``(name, member, score)`` or None on timeout.

        For more information, see https://redis.io/commands/bzpopmax
        """
        args = list_or_args(keys, None)
        args.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMAX", *args)

    def bzpopmin(self, keys: KeysT, timeout: TimeoutSecT = 0) -> ResponseT:
        """Like :meth:`bzpopmax` for the lowest-scored member.

        For more information, see https://redis.io/commands/bzpopmin
        """
        args = list_or_args(keys, None)
        args.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMIN", *args)

    def zmpop(
        self,
        num_keys: int,
        keys: List[str],
        min: Optional[bool] = False,
        max: Optional[bool] = False,
        count: Optional[int] = 1,
    ) -> ResponseT:
        """Pop up to ``count`` members with the lowest (``min``) or highest
        (``max``) scores from the first non-empty sorted set among the
        ``num_keys`` names in ``keys``.  Exactly one of ``min``/``max``.

        For more information, see https://redis.io/commands/zmpop
        """
        if bool(min) == bool(max):
            raise DataError
        args: List[Any] = [num_keys, *keys, "MIN" if min else "MAX"]
        if count != 1:
            args += ("COUNT", count)
        return self.execute_command("ZMPOP", *args)

    def bzmpop(
        self,
        timeout: float,
        numkeys: int,
        keys: List[str],
        min: Optional[bool] = False,
        max: Optional[bool] = False,
        count: Optional[int] = 1,
    ) -> Optional[list]:
        """Blocking :meth:`zmpop`: wait up to ``timeout`` seconds (0:
        forever); None on timeout.

        For more information, see https://redis.io/commands/bzmpop
        """
        if bool(min) == bool(max):
            raise DataError("Either min or max, but not both must be set")
        return self.execute_command(
            "BZMPOP", timeout, numkeys, *keys, "MIN" if min else "MAX", "COUNT", count
        )

    def _zrange(
        self,
        command: str,
        dest: Union[KeyT, None],
        name: KeyT,
        start: EncodableT,
        end: EncodableT,
        desc: bool = False,
        byscore: bool = False,
        bylex: bool = False,
        withscores: bool = False,
        score_cast_func: Union[type, Callable, None] = float,
        offset: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """Shared implementation of ZRANGE and ZRANGESTORE."""
        if byscore and bylex:
            raise DataError("``byscore`` and ``bylex`` can not be specified together.")
        if (offset is None) != (num is None):
            raise DataError("``offset`` and ``num`` must both be specified.")
        if bylex and withscores:
            raise DataError(
                "``withscores`` not supported in combination with ``bylex``."
            )
        args: List[Any] = [command]
        if dest:
            args.append(dest)
        args += (name, start, end)
        if byscore:
            args.append("BYSCORE")
        if bylex:
            args.append("BYLEX")
        if desc:
            args.append("REV")
        if offset is not None and num is not None:
            args += ("LIMIT", offset, num)
        if withscores:
            args.append("WITHSCORES")
        return self.execute_command(
            *args,
            withscores=withscores,
            score_cast_func=score_cast_func,
            keys=[name],
        )

    def zrange(
        self,
        name: KeyT,
        start: EncodableT,
        end: EncodableT,
        desc: bool = False,
        withscores: bool = False,
        score_cast_func: Union[type, Callable] = float,
        byscore: bool = False,
        bylex: bool = False,
        offset: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """Return the members of ``name`` between ``start`` and ``end``.

        By default these are ranks (negative ones count from the end); with
        ``byscore`` they are scores, with ``bylex`` lexicographical bounds
        (``"[a"``, ``"(a"``, ``"-"``, ``"+"``).  ``desc`` reverses the order,
        ``offset``/``num`` take a slice of a score or lex range, and
        ``withscores`` returns ``(member, score)`` tuples.

        For more information, see https://redis.io/commands/zrange
        """
        if desc and not byscore and not bylex and offset is None and num is None:
            # a plain reversed rank range goes through ZREVRANGE, which older
            # servers also understand
            return self.zrevrange(name, start, end, withscores, score_cast_func)
        return self._zrange(
            "ZRANGE",
            None,
            name,
            start,
            end,
            desc,
            byscore,
            bylex,
            withscores,
            score_cast_func,
            offset,
            num,
        )

    def zrevrange(
        self,
        name: KeyT,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Return the members of ``name`` between ranks ``start`` and ``end``,
        highest score first.

        For more information, see https://redis.io/commands/zrevrange
        """
        args: List[Any] = ["ZREVRANGE", name, start, end]
        if withscores:
            args.append(b"WITHSCORES")
        return self.execute_command(
            *args, withscores=withscores, score_cast_func=score_cast_func, keys=name
        )

    def zrangestore(
        self,
        dest: KeyT,
        name: KeyT,
        start: EncodableT,
        end: EncodableT,
        byscore: bool = False,
        bylex: bool = False,
        desc: bool = False,
        offset: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """Store in ``dest`` the range :meth:`zrange` would return (same
        options, without scores); return its size.

        For more information, see https://redis.io/commands/zrangestore
        """
        return self._zrange(
            "ZRANGESTORE",
            dest,
            name,
            start,
            end,
            desc,
            byscore,
            bylex,
            False,
            None,
            offset,
            num,
        )

    def zrangebylex(
        self,
        name: KeyT,
        min: EncodableT,
        max: EncodableT,
        start: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """Return the members between the lexicographical bounds ``min`` and
        ``max``; ``start``/``num`` take a slice.

        For more information, see https://redis.io/commands/zrangebylex
        """
        _check_limit(start, num)
        args: List[Any] = ["ZRANGEBYLEX", name, min, max]
        if start is not None and num is not None:
            args += (b"LIMIT", start, num)
        return self.execute_command(*args, keys=[name])

    def zrevrangebylex(
        self,
        name: KeyT,
        max: EncodableT,
        min: EncodableT,
        start: Optional[int] = None,
        num: Optional[int] = None,
    ) -> ResponseT:
        """Like :meth:`zrangebylex`, from ``max`` down to ``min``.

        For more information, see https://redis.io/commands/zrevrangebylex
        """
        _check_limit(start, num)
        args: List[Any] = ["ZREVRANGEBYLEX", name, max, min]
        if start is not None and num is not None:
            args += ("LIMIT", start, num)
        return self.execute_command(*args, keys=[name])

    def zrangebyscore(
        self,
        name: KeyT,
        min: ZScoreBoundT,
        max: ZScoreBoundT,
        start: Optional[int] = None,
        num: Optional[int] = None,
        withscores: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Return the members with a score between ``min`` and ``max``
        (lowest first); ``start``/``num`` take a slice, ``withscores``
        returns ``(member, score)`` tuples.

        For more information, see https://redis.io/commands/zrangebyscore
        """
        _check_limit(start, num)
        args: List[Any] = ["ZRANGEBYSCORE", name, min, max]
        if start is not None and num is not None:
            args += ("LIMIT", start, num)
        if withscores:
            args.append("WITHSCORES")
        return self.execute_command(
            *args, withscores=withscores, score_cast_func=score_cast_func, keys=[name]
        )

    def zrevrangebyscore(
        self,
        name: KeyT,
        max: ZScoreBoundT,
        min: ZScoreBoundT,
        start: Optional[int] = None,
        num: Optional[int] = None,
        withscores: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Like :meth:`zrangebyscore`, highest score first, from ``max`` down
        to ``min``.

        For more information, see https://redis.io/commands/zrevrangebyscore
        """
        _check_limit(start, num)
        args: List[Any] = ["ZREVRANGEBYSCORE", name, max, min]
        if start is not None and num is not None:
            args += ("LIMIT", start, num)
        if withscores:
            args.append("WITHSCORES")
        return self.execute_command(
            *args, withscores=withscores, score_cast_func=score_cast_func, keys=[name]
        )

    def zrank(
        self,
        name: KeyT,
        value: EncodableT,
        withscore: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Return the 0-based rank of ``value`` (lowest score first), None if
        absent; with ``withscore`` ``[rank, score]`` (Redis 7.2+).

        For more information, see https://redis.io/commands/zrank
        """
        if withscore:
            return self.execute_command(
                "ZRANK", name, value, "WITHSCORE",
                withscore=withscore, score_cast_func=score_cast_func,
            )
        return self.execute_command(
            "ZRANK", name, value, withscore=withscore, score_cast_func=score_cast_func
        )

    def zrem(self, name: KeyT, *values: FieldT) -> ResponseT:
        """Remove members ``values``; return how many were present.

        For more information, see https://redis.io/commands/zrem
        """
        return self.execute_command("ZREM", name, *values)

    def zremrangebylex(self, name: KeyT, min: EncodableT, max: EncodableT) -> ResponseT:
        """Remove the members between the lexicographical bounds ``min`` and
        ``max``; return how many.

        For more information, see https://redis.io/commands/zremrangebylex
        """
        return self.execute_command("ZREMRANGEBYLEX", name, min, max)

    def zremrangebyrank(self, name: KeyT, min: int, max: int) -> ResponseT:
        """Remove the members with a rank between ``min`` and ``max``
        (negative ranks count from the highest score); return how many.

        For more information, see https://redis.io/commands/zremrangebyrank
        """
        return self.execute_command("ZREMRANGEBYRANK", name, min, max)

    def zremrangebyscore(
        self, name: KeyT, min: ZScoreBoundT, max: ZScoreBoundT
    ) -> ResponseT:
        """Remove the members with a score between ``min`` and ``max``;
        return how many.

        For more information, see https://redis.io/commands/zremrangebyscore
        """
        return self.execute_command("ZREMRANGEBYSCORE", name, min, max)

    def zrevrank(
        self,
        name: KeyT,
        value: EncodableT,
        withscore: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Return the 0-based rank of ``value`` counting from the highest
        score, None if absent; with ``withscore`` ``[rank, score]``.

        For more information, see https://redis.io/commands/zrevrank
        """
        if withscore:
            return self.execute_command(
                "ZREVRANK", name, value, "WITHSCORE",
                withscore=withscore, score_cast_func=score_cast_func,
            )
        return self.execute_command(
            "ZREVRANK", name, value, withscore=withscore, score_cast_func=score_cast_func
        )

    def zscore(self, name: KeyT, value: EncodableT) -> ResponseT:
        """Return the score of ``value`` as a float, None if absent.

        For more information, see https://redis.io/commands/zscore
        """
        return self.execute_command("ZSCORE", name, value, keys=[name])

    def zunion(
        self,
        keys: Union[Sequence[KeyT], Mapping[AnyKeyT, float]],
        aggregate: Optional[str] = None,
        withscores: bool = False,
        score_cast_func: Union[type, Callable] = float,
    ) -> ResponseT:
        """Return the members of any of the sorted sets ``keys`` (list or
        ``{name: weight}``), scores combined with ``aggregate`` (SUM, MIN,
        MAX).

        For more information, see https://redis.io/commands/zunion
        """
        return self._zaggregate(
            "ZUNION",
            None,
            keys,
            aggregate,
            withscores=withscores,
            score_cast_func=score_cast_func,
        )

    def zunionstore(
        self,
        dest: KeyT,
        keys: Union[Sequence[KeyT], Mapping[AnyKeyT, float]],
        aggregate: Optional[str] = None,
    ) -> ResponseT:
        """Store the union of the sorted sets ``keys`` in ``dest``; return
        its size.

        For more information, see https://redis.io/commands/zunionstore
        """
        return self._zaggregate("ZUNIONSTORE", dest, keys, aggregate)

    def zmscore(self, key: KeyT, members: List[str]) -> ResponseT:
        """Return the scores of ``members`` as floats (None for absent ones).

        For more information, see https://redis.io/commands/zmscore
        """
        if not members:
            raise DataError("ZMSCORE members must be a non-empty list")
        return self.execute_command("ZMSCORE", key, *members, keys=[key])

    def _zaggregate(
        self,
        command: str,
        dest: Union[KeyT, None],
        keys: Union[Sequence[KeyT], Mapping[AnyKeyT, float]],
        aggregate: Optional[str] = None,
        **options: Any,
    ) -> ResponseT:
        """Shared implementation of ZINTER[STORE] and ZUNION[STORE]; a dict
        ``keys`` supplies the WEIGHTS."""
        args: List[Any] = [command]
        if dest is not None:
            args.append(dest)
        args.append(len(keys))
        weights = None
        if isinstance(keys, dict):
            keys, weights = keys.keys(), keys.values()
        args.extend(keys)
        if weights:
            args.append(b"WEIGHTS")
            args.extend(weights)
        if aggregate:
            if aggregate.upper() not in ("SUM", "MIN", "MAX"):
                raise DataError("aggregate can be sum, min or max.")
            args += (b"AGGREGATE", aggregate)
        if options.get("withscores", False):
            args.append(b"WITHSCORES")
        options["keys"] = keys
        return self.execute_command(*args, **options)
