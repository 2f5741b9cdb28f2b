"""Hash commands, including per-field expiry (redis-py's ``HashCommands``)."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Any, List, Optional

from ..exceptions import DataError
from ._types import AbsExpiryT, ExpiryT, KeyT, ResponseT
from .helpers import (
    at_most_one_value_set,
    expiry_condition_flags,
    extract_expire_flags,
    list_or_args,
    warn_deprecated,
)

__all__ = ["HashDataPersistOptions", "HashCommands"]


class HashDataPersistOptions(Enum):
    """Condition of HSETEX: set only if none (FNX) / all (FXX) of the fields
    exist."""

    FNX = "FNX"
    FXX = "FXX"


def _field_pairs(key: Any, value: Any, mapping: Optional[dict], items: Optional[list]) -> List[Any]:
    """Flatten the ``items`` list, the single ``key``/``value`` pair and
    ``mapping`` (in that order) into one field/value argument list."""
    pairs: List[Any] = []
    if items:
        pairs.extend(items)
    if key is not None:
        pairs += (key, value)
    if mapping:
        for field, field_value in mapping.items():
            pairs += (field, field_value)
    return pairs


def _single_condition(nx: bool, xx: bool, gt: bool, lt: bool) -> List[str]:
    if sum((nx, xx, gt, lt)) > 1:
        raise ValueError("Only one of 'nx', 'xx', 'gt', 'lt' can be specified.")
    return expiry_condition_flags(nx, xx, gt, lt)


class HashCommands:
    """Commands on hashes (https://redis.io/docs/data-types/hashes/)."""

    def hdel(self, name: str, *keys: str) -> ResponseT:
        """Delete the fields ``keys`` of hash ``name``; return how many
        existed.

        For more information, see https://redis.io/commands/hdel
        """
        return self.execute_command("HDEL", name, *keys)

    def hexists(self, name: str, key: str) -> ResponseT:
        """Return whether hash ``name`` has the field ``key``.

        For more information, see https://redis.io/commands/hexists
        """
        return self.execute_command("HEXISTS", name, key, keys=[name])

    def hget(self, name: str, key: str) -> ResponseT:
        """Return the value of field ``key`` of hash ``name`` (None if
        missing).

        For more information, see https://redis.io/commands/hget
        """
        return self.execute_command("HGET", name, key, keys=[name])

    def hgetall(self, name: str) -> ResponseT:
        """Return the whole hash ``name`` as a dict (empty when missing).

        For more information, see https://redis.io/commands/hgetall
        """
        return self.execute_command("HGETALL", name, keys=[name])

    def hgetdel(self, name: str, *keys: str) -> ResponseT:
        """Return the values of the fields ``keys`` and delete those fields
        (Redis 8.0+).

        For more information, see https://redis.io/commands/hgetdel
        """
        if not keys:
            raise DataError("'hgetdel' should have at least one key provided")
        return self.execute_command("HGETDEL", name, "FIELDS", len(keys), *keys)

    def hgetex(
        self,
        name: KeyT,
        *keys: str,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
    ) -> ResponseT:
        """Return the values of the fields ``keys`` and set (``ex``, ``px``,
        ``exat``, ``pxat``) or remove (``persist``) their expiry
        (Redis 8.0+).  The expiry options are mutually exclusive.

        For more information, see https://redis.io/commands/hgetex
        """
        if not keys:
            raise DataError("'hgetex' should have at least one key provided")
        if not at_most_one_value_set((ex, px, exat, pxat, persist)):
            raise DataError(
                "``ex``, ``px``, ``exat``, ``pxat``, "
                "and ``persist`` are mutually exclusive."
            )
        options = extract_expire_flags(ex, px, exat, pxat)
        if persist:
            options.append("PERSIST")
        return self.execute_command(
            "HGETEX", name, *options, "FIELDS", len(keys), *keys
        )

    def hincrby(self, name: str, key: str, amount: int = 1) -> ResponseT:
        """Add ``amount`` to the integer in field ``key``; return the new
        value.

        For more information, see https://redis.io/commands/hincrby
        """
        return self.execute_command("HINCRBY", name, key, amount)

    def hincrbyfloat(self, name: str, key: str, amount: float = 1.0) -> ResponseT:
        """Add the float ``amount`` to field ``key``; return the new value as
        a float.

        For more information, see https://redis.io/commands/hincrbyfloat
        """
        return self.execute_command("HINCRBYFLOAT", name, key, amount)

    def hkeys(self, name: str) -> ResponseT:
        """Return the field names of hash ``name``.

        For more information, see https://redis.io/commands/hkeys
        """
        return self.execute_command("HKEYS", name, keys=[name])

    def hlen(self, name: str) -> ResponseT:
        """Return the number of fields of hash ``name``.

        For more information, see https://redis.io/commands/hlen
        """
        return self.execute_command("HLEN", name, keys=[name])

    def hset(
        self,
        name: str,
        key: Optional[str] = None,
        value: Optional[str] = None,
        mapping: Optional[dict] = None,
        items: Optional[list] = None,
    ) -> ResponseT:
        """Set fields of hash ``name``: ``key`` to ``value``, every pair of
        ``mapping``, and the flat ``[field, value, ...]`` list ``items``.
        Returns the number of fields that were added.

        For more information, see https://redis.io/commands/hset
        """
        if not mapping and not items:
            if key is None:
                raise DataError("'hset' with no key value pairs")
            return self.execute_command("HSET", name, key, value)
        return self.execute_command("HSET", name, *_field_pairs(key, value, mapping, items))

    def hsetex(
        self,
        name: str,
        key: Optional[str] = None,
        value: Optional[str] = None,
        mapping: Optional[dict] = None,
        items: Optional[list] = None,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        data_persist_option: Optional[HashDataPersistOptions] = None,
        keepttl: bool = False,
    ) -> ResponseT:
        """Set fields as :meth:`hset` does, with an expiry for them
        (``ex``/``px``/``exat``/``pxat`` or ``keepttl``) and optionally only
        if none (FNX) / all (FXX) of them exist (Redis 8.0+).  Returns 1 if
        the fields were set, else 0.

        For more information, see https://redis.io/commands/hsetex
        """
        if key is None and not mapping and not items:
            raise DataError("'hsetex' with no key value pairs")
        if items and len(items) % 2 != 0:
            raise DataError(
                "'hsetex' with odd number of items. "
                "'items' must contain a list of key/value pairs."
            )
        if not at_most_one_value_set((ex, px, exat, pxat, keepttl)):
            raise DataError(
                "``ex``, ``px``, ``exat``, ``pxat``, "
                "and ``keepttl`` are mutually exclusive."
            )
        options = extract_expire_flags(ex, px, exat, pxat)
        if data_persist_option:
            options.append(data_persist_option.value)
        if keepttl:
            options.append("KEEPTTL")
        pairs = _field_pairs(key, value, mapping, items)
        return self.execute_command(
            "HSETEX", name, *options, "FIELDS", int(len(pairs) / 2), *pairs
        )

    def hsetnx(self, name: str, key: str, value: str) -> ResponseT:
        """Set field ``key`` to ``value`` only if the field does not exist;
        return whether it was set.

        For more information, see https://redis.io/commands/hsetnx
        """
        return self.execute_command("HSETNX", name, key, value)

    def hmset(self, name: str, mapping: dict) -> ResponseT:
        """Deprecated, use :meth:`hset` with ``mapping``: set every pair of
        ``mapping`` in hash ``name``.

        For more information, see https://redis.io/commands/hmset
        """
        warn_deprecated("hmset", reason="Use 'hset' instead.", version="4.0.0")
        if not mapping:
            raise DataError("'hmset' with 'mapping' of length 0")
        return self.execute_command("HMSET", name, *_field_pairs(None, None, mapping, None))

    def hmget(self, name: str, keys: List, *args: List) -> ResponseT:
        """Return the values of the given fields, in order (None for missing
        ones).

        For more information, see https://redis.io/commands/hmget
        """
        fields = list_or_args(keys, args)
        return self.execute_command("HMGET", name, *fields, keys=[name])

    def hvals(self, name: str) -> ResponseT:
        """Return the values of hash ``name``.

        For more information, see https://redis.io/commands/hvals
        """
        return self.execute_command("HVALS", name, keys=[name])

    def hstrlen(self, name: str, key: str) -> ResponseT:
        """Return the length in bytes of the value of field ``key``.

        For more information, see https://redis.io/commands/hstrlen
        """
        return self.execute_command("HSTRLEN", name, key, keys=[name])

    # ------------------------------------------------------------------
    # per-field expiry (Redis 7.4+)
    # ------------------------------------------------------------------

    def hexpire(
        self,
        name: KeyT,
        seconds: ExpiryT,
        *fields: str,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Let the ``fields`` of hash ``name`` expire in ``seconds`` (int or
        ``timedelta``); ``nx``/``xx``/``gt``/``lt`` as for EXPIRE (at most
        one).  Returns per field: -2 no such field, 0 condition not met, 1
        set, 2 deleted at once (time in the past).

        For more information, see https://redis.io/commands/hexpire
        """
        conditions = _single_condition(nx, xx, gt, lt)
        if isinstance(seconds, datetime.timedelta):
            seconds = int(seconds.total_seconds())
        return self.execute_command(
            "HEXPIRE", name, seconds, *conditions, "FIELDS", len(fields), *fields
        )

    def hpexpire(
        self,
        name: KeyT,
        milliseconds: ExpiryT,
        *fields: str,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Like :meth:`hexpire` with a time in milliseconds.

        For more information, see https://redis.io/commands/hpexpire
        """
        conditions = _single_condition(nx, xx, gt, lt)
        if isinstance(milliseconds, datetime.timedelta):
            milliseconds = int(milliseconds.total_seconds() * 1000)
        return self.execute_command(
            "HPEXPIRE", name, milliseconds, *conditions, "FIELDS", len(fields), *fields
        )

    def hexpireat(
        self,
        name: KeyT,
        unix_time_seconds: AbsExpiryT,
        *fields: str,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Like :meth:`hexpire` with an absolute Unix time in seconds (int or
        ``datetime``).

        For more information, see https://redis.io/commands/hexpireat
        """
        conditions = _single_condition(nx, xx, gt, lt)
        if isinstance(unix_time_seconds, datetime.datetime):
            unix_time_seconds = int(unix_time_seconds.timestamp())
        return self.execute_command(
            "HEXPIREAT",
            name,
            unix_time_seconds,
            *conditions,
            "FIELDS",
            len(fields),
            *fields,
        )

    def hpexpireat(
        self,
        name: KeyT,
        unix_time_milliseconds: AbsExpiryT,
        *fields: str,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Like :meth:`hexpire` with an absolute Unix time in milliseconds
        (int or ``datetime``).

        For more information, see https://redis.io/commands/hpexpireat
        """
        conditions = _single_condition(nx, xx, gt, lt)
        if isinstance(unix_time_milliseconds, datetime.datetime):
            unix_time_milliseconds = int(unix_time_milliseconds.timestamp() * 1000)
        return self.execute_command(
            "HPEXPIREAT",
            name,
            unix_time_milliseconds,
            *conditions,
            "FIELDS",
            len(fields),
            *fields,
        )

    def hpersist(self, name: KeyT, *fields: str) -> ResponseT:
        """Remove the expiry of the ``fields``; per field: -2 no such field,
        -1 no expiry, 1 removed.

        For more information, see https://redis.io/commands/hpersist
        """
        return self.execute_command("HPERSIST", name, "FIELDS", len(fields), *fields)

    def hexpiretime(self, key: KeyT, *fields: str) -> ResponseT:
        """Per field, the Unix time (seconds) of its expiry; -1 none, -2 no
        such field.

        For more information, see https://redis.io/commands/hexpiretime
        """
        return self.execute_command(
            "HEXPIRETIME", key, "FIELDS", len(fields), *fields, keys=[key]
        )

    def hpexpiretime(self, key: KeyT, *fields: str) -> ResponseT:
        """Like :meth:`hexpiretime` in milliseconds.

        For more information, see https://redis.io/commands/hpexpiretime
        """
        return self.execute_command(
            "HPEXPIRETIME", key, "FIELDS", len(fields), *fields, keys=[key]
        )

    def httl(self, key: KeyT, *fields: str) -> ResponseT:
        """Per field, the remaining time to live in seconds; -1 none, -2 no
        such field.

        For more information, see https://redis.io/commands/httl
        """
        return self.execute_command(
            "HTTL", key, "FIELDS", len(fields), *fields, keys=[key]
        )

    def hpttl(self, key: KeyT, *fields: str) -> ResponseT:
        """Like :meth:`httl` in milliseconds.

        For more information, see https://redis.io/commands/hpttl
        """
        return self.execute_command(
            "HPTTL", key, "FIELDS", len(fields), *fields, keys=[key]
        )
