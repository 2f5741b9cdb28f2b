"""Stream commands (redis-py's ``StreamCommands``)."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, Tuple, Union

from ..exceptions import DataError
from ._types import ConsumerT, EncodableT, FieldT, GroupT, KeyT, ResponseT, StreamIdT

__all__ = ["StreamCommands"]

_REF_POLICIES = ("KEEPREF", "DELREF", "ACKED")


def _positive_count(args: List[Any], count: Any, command: str) -> None:
    if count is not None:
        if not isinstance(count, int) or count < 1:
            raise DataError(f"{command} count must be a positive integer")
        args += (b"COUNT", str(count))


def _block(args: List[Any], block: Any, command: str) -> None:
    if block is not None:
        if not isinstance(block, int) or block < 0:
            raise DataError(f"{command} block must be a non-negative integer")
        args += (b"BLOCK", str(block))


class StreamCommands:
    """Commands on streams (https://redis.io/docs/data-types/streams/).

    Entries are returned as ``(id, {field: value})`` tuples.
    """

    def xack(self, name: KeyT, groupname: GroupT, *ids: StreamIdT) -> ResponseT:
        """Mark the messages ``ids`` as processed by consumer group
        ``groupname``; return how many were pending.

        For more information, see https://redis.io/commands/xack
        """
        return self.execute_command("XACK", name, groupname, *ids)

    def xackdel(
        self,
        name: KeyT,
        groupname: GroupT,
        *ids: StreamIdT,
        ref_policy: Literal["KEEPREF", "DELREF", "ACKED"] = "KEEPREF",
    ) -> ResponseT:
        """Acknowledge ``ids`` for ``groupname`` and delete them from the
        stream, ``ref_policy`` deciding what happens to the references held
        by other groups (Redis 8.2+).  Returns one status per id.

        For more information, see https://redis.io/commands/xackdel
        """
        if not ids:
            raise DataError("XACKDEL requires at least one message ID")
        if ref_policy not in _REF_POLICIES:
            raise DataError("XACKDEL ref_policy must be one of: KEEPREF, DELREF, ACKED")
        return self.execute_command(
            "XACKDEL", name, groupname, ref_policy, "IDS", len(ids), *ids
        )

    def xadd(
        self,
        name: KeyT,
        fields: Dict[FieldT, EncodableT],
        id: StreamIdT = "*",
        maxlen: Optional[int] = None,
        approximate: bool = True,
        nomkstream: bool = False,
        minid: Union[StreamIdT, None] = None,
        limit: Optional[int] = None,
        ref_policy: Optional[Literal["KEEPREF", "DELREF", "ACKED"]] = None,
        idmpauto: Optional[str] = None,
        idmp: Optional[Tuple[str, bytes]] = None,
    ) -> ResponseT:
        """Append an entry made of ``fields`` to stream ``name`` with id
        ``id`` (``"*"``: generated) and return the id.

        The stream may be trimmed at the same time: to ``maxlen`` entries or
        below ``minid`` (not both), approximately unless ``approximate`` is
        False, evicting at most ``limit`` entries, with ``ref_policy``
        (KEEPREF, DELREF, ACKED) for consumer group references.
        ``nomkstream`` does not create a missing stream.  ``idmpauto``
        (producer id) or ``idmp`` (``(producer id, idempotent id)``) make the
        append idempotent (generated ids only).

        For more information, see https://redis.io/commands/xadd
        """
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ```maxlen``` or ```minid``` may be specified")
        if idmpauto is not None and idmp is not None:
            raise DataError("Only one of ```idmpauto``` or ```idmp``` may be specified")
        if (idmpauto is not None or idmp is not None) and id != "*":
            raise DataError("IDMPAUTO and IDMP can only be used with id='*'")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XADD ref_policy must be one of: KEEPREF, DELREF, ACKED")
        args: List[Any] = []
        if nomkstream:
            args.append(b"NOMKSTREAM")
        if ref_policy is not None:
            args.append(ref_policy)
        if idmpauto is not None:
            args += (b"IDMPAUTO", idmpauto)
        if idmp is not None:
            if not isinstance(idmp, tuple) or len(idmp) != 2:
                raise DataError(
                    "XADD idmp must be a tuple of (producer_id, idempotent_id)"
                )
            args += (b"IDMP", idmp[0], idmp[1])
        if maxlen is not None:
            if not isinstance(maxlen, int) or maxlen < 0:
                raise DataError("XADD maxlen must be non-negative integer")
            args.append(b"MAXLEN")
            if approximate:
                args.append(b"~")
            args.append(str(maxlen))
        if minid is not None:
            args.append(b"MINID")
            if approximate:
                args.append(b"~")
            args.append(minid)
        if limit is not None:
            args += (b"LIMIT", limit)
        args.append(id)
        if not isinstance(fields, dict) or len(fields) == 0:
            raise DataError("XADD fields must be a non-empty dict")
        for field, value in fields.items():
            args += (field, value)
        return self.execute_command("XADD", name, *args)

    def xcfgset(
        self,
        name: KeyT,
        idmp_duration: Optional[int] = None,
        idmp_maxsize: Optional[int] = None,
    ) -> ResponseT:
        """Configure the idempotency map of stream ``name``: how long an
        idempotent id is remembered (``idmp_duration``, 1-300 seconds) and
        how many are kept per producer (``idmp_maxsize``, 1-1,000,000).
        Changing a value clears the map.

        For more information, see https://redis.io/commands/xcfgset
        """
        if idmp_duration is None and idmp_maxsize is None:
            raise DataError(
                "XCFGSET requires at least one of idmp_duration or idmp_maxsize"
            )
        args: List[Any] = []
        if idmp_duration is not None:
            if not isinstance(idmp_duration, int) or not 1 <= idmp_duration <= 300:
                raise DataError(
                    "XCFGSET idmp_duration must be an integer between 1 and 300"
                )
            args += (b"IDMP-DURATION", idmp_duration)
        if idmp_maxsize is not None:
            if not isinstance(idmp_maxsize, int) or not 1 <= idmp_maxsize <= 1000000:
                raise DataError(
                    "XCFGSET idmp_maxsize must be an integer between 1 and 1,000,000"
                )
            args += (b"IDMP-MAXSIZE", idmp_maxsize)
        return self.execute_command("XCFGSET", name, *args)

    def xautoclaim(
        self,
        name: KeyT,
        groupname: GroupT,
        consumername: ConsumerT,
        min_idle_time: int,
        start_id: StreamIdT = "0-0",
        count: Optional[int] = None,
        justid: bool = False,
    ) -> ResponseT:
        """Give ``consumername`` the pending messages of ``groupname`` idle
        for at least ``min_idle_time`` ms, scanning from ``start_id`` (at
        most ``count``, server default 100).  Returns ``[next start id,
        claimed entries, deleted ids]``, or only the claimed ids with
        ``justid``.

        For more information, see https://redis.io/commands/xautoclaim
        """
        try:
            if int(min_idle_time) < 0:
                raise DataError("XAUTOCLAIM min_idle_time must be a nonnegative integer")
        except TypeError:
            pass
        args: List[Any] = [name, groupname, consumername, min_idle_time, start_id]
        try:
            if int(count) < 0:
                raise DataError("XPENDING count must be a integer >= 0")
            args += (b"COUNT", count)
        except TypeError:
            pass
        if justid:
            args.append(b"JUSTID")
            return self.execute_command("XAUTOCLAIM", *args, parse_justid=True)
        return self.execute_command("XAUTOCLAIM", *args)

    def xclaim(
        self,
        name: KeyT,
        groupname: GroupT,
        consumername: ConsumerT,
        min_idle_time: int,
        message_ids: Union[List[StreamIdT], Tuple[StreamIdT]],
        idle: Optional[int] = None,
        time: Optional[int] = None,
        retrycount: Optional[int] = None,
        force: bool = False,
        justid: bool = False,
    ) -> ResponseT:
        """Give ``consumername`` the pending messages ``message_ids`` of
        ``groupname`` that have been idle for at least ``min_idle_time`` ms.

        ``idle`` / ``time`` set the new idle time (relative ms / absolute
        Unix ms), ``retrycount`` the delivery counter, ``force`` creates
        missing pending entries, ``justid`` returns only the ids.

        For more information, see https://redis.io/commands/xclaim
        """
        if not isinstance(min_idle_time, int) or min_idle_time < 0:
            raise DataError("XCLAIM min_idle_time must be a non negative integer")
        if not isinstance(message_ids, (list, tuple)) or not message_ids:
            raise DataError(
                "XCLAIM message_ids must be a non empty list or "
                "tuple of message IDs to claim"
            )
        args: List[Any] = [name, groupname, consumername, str(min_idle_time)]
        args.extend(message_ids)
        for option, word, value in (
            ("idle", b"IDLE", idle),
            ("time", b"TIME", time),
            ("retrycount", b"RETRYCOUNT", retrycount),
        ):
            if value is not None:
                if not isinstance(value, int):
                    raise DataError(f"XCLAIM {option} must be an integer")
                args += (word, str(value))
        if force:
            if not isinstance(force, bool):
                raise DataError("XCLAIM force must be a boolean")
            args.append(b"FORCE")
        if justid:
            if not isinstance(justid, bool):
                raise DataError("XCLAIM justid must be a boolean")
            args.append(b"JUSTID")
            return self.execute_command("XCLAIM", *args, parse_justid=True)
        return self.execute_command("XCLAIM", *args)

    def xdel(self, name: KeyT, *ids: StreamIdT) -> ResponseT:
        """Delete the entries ``ids`` from stream ``name``; return how many
        existed.

        For more information, see https://redis.io/commands/xdel
        """
        return self.execute_command("XDEL", name, *ids)

    def xdelex(
        self,
        name: KeyT,
        *ids: StreamIdT,
        ref_policy: Literal["KEEPREF", "DELREF", "ACKED"] = "KEEPREF",
    ) -> ResponseT:
        """Delete the entries ``ids``, ``ref_policy`` deciding what happens to
        consumer group references (Redis 8.2+).  Returns one status per id.

        For more information, see https://redis.io/commands/xdelex
        """
        if not ids:
            raise DataError("XDELEX requires at least one message ID")
        if ref_policy not in _REF_POLICIES:
            raise DataError("XDELEX ref_policy must be one of: KEEPREF, DELREF, ACKED")
        return self.execute_command("XDELEX", name, ref_policy, "IDS", len(ids), *ids)

    def xgroup_create(
        self,
        name: KeyT,
        groupname: GroupT,
        id: StreamIdT = "$",
        mkstream: bool = False,
        entries_read: Optional[int] = None,
    ) -> ResponseT:
        """Create consumer group ``groupname`` on stream ``name``, starting
        after ``id`` (``"$"``: only new entries).  ``mkstream`` creates the
        stream if needed; ``entries_read`` sets the group's read counter.

        For more information, see https://redis.io/commands/xgroup-create
        """
        args: List[Any] = ["XGROUP CREATE", name, groupname, id]
        if mkstream:
            args.append(b"MKSTREAM")
        if entries_read is not None:
            args += ("ENTRIESREAD", entries_read)
        return self.execute_command(*args)

    def xgroup_delconsumer(
        self, name: KeyT, groupname: GroupT, consumername: ConsumerT
    ) -> ResponseT:
        """Remove ``consumername`` from the group; return how many messages
        it still had pending.

        For more information, see https://redis.io/commands/xgroup-delconsumer
        """
        return self.execute_command("XGROUP DELCONSUMER", name, groupname, consumername)

    def xgroup_destroy(self, name: KeyT, groupname: GroupT) -> ResponseT:
        """Delete consumer group ``groupname``; return whether it existed.

        For more information, see https://redis.io/commands/xgroup-destroy
        """
        return self.execute_command("XGROUP DESTROY", name, groupname)

    def xgroup_createconsumer(
        self, name: KeyT, groupname: GroupT, consumername: ConsumerT
    ) -> ResponseT:
        """Create ``consumername`` in the group explicitly; return 1 if it
        is new.

        For more information, see https://redis.io/commands/xgroup-createconsumer
        """
        return self.execute_command(
            "XGROUP CREATECONSUMER", name, groupname, consumername
        )

    def xgroup_setid(
        self,
        name: KeyT,
        groupname: GroupT,
        id: StreamIdT,
        entries_read: Optional[int] = None,
    ) -> ResponseT:
        """Move the last-delivered id of the group to ``id``.

        For more information, see https://redis.io/commands/xgroup-setid
        """
        args: List[Any] = [name, groupname, id]
        if entries_read is not None:
            args += ("ENTRIESREAD", entries_read)
        return self.execute_command("XGROUP SETID", *args)

    def xinfo_consumers(self, name: KeyT, groupname: GroupT) -> ResponseT:
        """Return one dict per consumer of the group.

        For more information, see https://redis.io/commands/xinfo-consumers
        """
        return self.execute_command("XINFO CONSUMERS", name, groupname)

    def xinfo_groups(self, name: KeyT) -> ResponseT:
        """Return one dict per consumer group of stream ``name``.

        For more information, see https://redis.io/commands/xinfo-groups
        """
        return self.execute_command("XINFO GROUPS", name)

    def xinfo_stream(self, name: KeyT, full: bool = False) -> ResponseT:
        """Return a dict describing stream ``name``; ``full`` includes every
        entry, group and consumer.

        For more information, see https://redis.io/commands/xinfo-stream
        """
        if full:
            return self.execute_command("XINFO STREAM", name, b"FULL", full=full)
        return self.execute_command("XINFO STREAM", name)

    def xlen(self, name: KeyT) -> ResponseT:
        """Return the number of entries of stream ``name``.

        For more information, see https://redis.io/commands/xlen
        """
        return self.execute_command("XLEN", name, keys=[name])

    def xpending(self, name: KeyT, groupname: GroupT) -> ResponseT:
        """Summary of the group's pending messages: a dict with ``pending``,
        ``min``, ``max`` and per-consumer counts.

        For more information, see https://redis.io/commands/xpending
        """
        return self.execute_command("XPENDING", name, groupname, keys=[name])

    def xpending_range(
        self,
        name: KeyT,
        groupname: GroupT,
        min: StreamIdT,
        max: StreamIdT,
        count: int,
        consumername: Union[ConsumerT, None] = None,
        idle: Optional[int] = None,
    ) -> ResponseT:
        """Details of up to ``count`` pending messages with ids between
        ``min`` and ``max``, optionally of one consumer and idle for at least
        ``idle`` ms: one dict (message_id, consumer, time_since_delivered,
        times_delivered) per message.

        For more information, see https://redis.io/commands/xpending
        """
        if {min, max, count} == {None}:
            if idle is not None or consumername is not None:
                raise DataError(
                    "if XPENDING is provided with idle time"
                    " or consumername, it must be provided"
                    " with min, max and count parameters"
                )
            return self.xpending(name, groupname)
        args: List[Any] = [name, groupname]
        if min is None or max is None or count is None:
            raise DataError(
                "XPENDING must be provided with min, max "
                "and count parameters, or none of them."
            )
        try:
            if int(idle) < 0:
                raise DataError("XPENDING idle must be a integer >= 0")
            args += ("IDLE", idle)
        except TypeError:
            pass
        try:
            if int(count) < 0:
                raise DataError("XPENDING count must be a integer >= 0")
            args += (min, max, count)
        except TypeError:
            pass
        if consumername:
            args.append(consumername)
        return self.execute_command("XPENDING", *args, parse_detail=True)

    def xrange(
        self,
        name: KeyT,
        min: StreamIdT = "-",
        max: StreamIdT = "+",
        count: Optional[int] = None,
    ) -> ResponseT:
        """Return the entries of ``name`` with ids from ``min`` to ``max``
        (``"-"``/``"+"``: the ends), at most ``count`` of them.

        For more information, see https://redis.io/commands/xrange
        """
        args: List[Any] = [min, max]
        _positive_count(args, count, "XRANGE")
        return self.execute_command("XRANGE", name, *args, keys=[name])

    def xread(
        self,
        streams: Dict[KeyT, StreamIdT],
        count: Optional[int] = None,
        block: Optional[int] = None,
    ) -> ResponseT:
        """Read the entries after the given ids from several streams
        (``{stream: last id seen}``, ``"$"`` for only new ones), at most
        ``count`` per stream, waiting up to ``block`` ms (0: forever) when
        none is available.  Returns ``[[stream, entries], ...]``.

        For more information, see https://redis.io/commands/xread
        """
        args: List[Any] = []
        _block(args, block, "XREAD")
        _positive_count(args, count, "XREAD")
        if not isinstance(streams, dict) or len(streams) == 0:
            raise DataError("XREAD streams must be a non empty dict")
        names, ids = zip(*streams.items())
        args.append(b"STREAMS")
        args += names
        args += ids
        return self.execute_command("XREAD", *args, keys=names)

    def xreadgroup(
        self,
        groupname: str,
        consumername: str,
        streams: Dict[KeyT, StreamIdT],
        count: Optional[int] = None,
        block: Optional[int] = None,
        noack: bool = False,
        claim_min_idle_time: Optional[int] = None,
    ) -> ResponseT:
        """Read entries as ``consumername`` of group ``groupname``;
        ``streams`` maps each stream to an id (``">"``: never delivered
        messages; another id: this consumer's pending history).  ``count``
        and ``block`` as for :meth:`xread`; ``noack`` skips the pending
        list; ``claim_min_idle_time`` also claims messages idle that long
        (Redis 8.4+).

        For more information, see https://redis.io/commands/xreadgroup
        """
        args: List[Any] = [b"GROUP", groupname, consumername]
        _positive_count(args, count, "XREADGROUP")
        _block(args, block, "XREADGROUP")
        if noack:
            args.append(b"NOACK")
        options: Dict[str, Any] = {}
        if claim_min_idle_time is not None:
            if not isinstance(claim_min_idle_time, int) or claim_min_idle_time < 0:
                raise DataError(
                    "XREADGROUP claim_min_idle_time must be a non-negative integer"
                )
            args += (b"CLAIM", claim_min_idle_time)
            options["claim_min_idle_time"] = claim_min_idle_time
        if not isinstance(streams, dict) or len(streams) == 0:
            raise DataError("XREADGROUP streams must be a non empty dict")
        args.append(b"STREAMS")
        args += streams.keys()
        args += streams.values()
        return self.execute_command("XREADGROUP", *args, **options)

    def xrevrange(
        self,
        name: KeyT,
        max: StreamIdT = "+",
        min: StreamIdT = "-",
        count: Optional[int] = None,
    ) -> ResponseT:
        """Like :meth:`xrange`, newest first, from ``max`` down to ``min``.

        For more information, see https://redis.io/commands/xrevrange
        """
        args: List[Any] = [max, min]
        _positive_count(args, count, "XREVRANGE")
        return self.execute_command("XREVRANGE", name, *args, keys=[name])

    def xtrim(
        self,
        name: KeyT,
        maxlen: Optional[int] = None,
        approximate: bool = True,
        minid: Union[StreamIdT, None] = None,
        limit: Optional[int] = None,
        ref_policy: Optional[Literal["KEEPREF", "DELREF", "ACKED"]] = None,
    ) -> ResponseT:
        """Trim stream ``name`` to ``maxlen`` entries or below ``minid``
        (exactly one), approximately unless ``approximate`` is False,
        evicting at most ``limit`` entries, with ``ref_policy`` for consumer
        group references.  Returns the number of deleted entries.

        For more information, see https://redis.io/commands/xtrim
        """
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ``maxlen`` or ``minid`` may be specified")
        if maxlen is None and minid is None:
            raise DataError("One of ``maxlen`` or ``minid`` must be specified")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XTRIM ref_policy must be one of: KEEPREF, DELREF, ACKED")
        args: List[Any] = [b"MAXLEN" if maxlen is not None else b"MINID"]
        if approximate:
            args.append(b"~")
        args.append(maxlen if maxlen is not None else minid)
        if limit is not None:
            args += (b"LIMIT", limit)
        if ref_policy is not None:
            args.append(ref_policy)
        return self.execute_command("XTRIM", name, *args)
