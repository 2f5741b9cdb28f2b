"""Generic key commands and the string / bit commands (redis-py's
``BasicKeyCommands``)."""

from __future__ import annotations

import datetime
import warnings
from enum import Enum
from typing import Any, List, Literal, Mapping, Optional, Tuple, Union

from ..exceptions import DataError
from ._types import (
    AbsExpiryT,
    AnyKeyT,
    BitfieldOffsetT,
    EncodableT,
    ExpiryT,
    KeysT,
    KeyT,
    PatternT,
    ResponseT,
)
from .helpers import (
    EMPTY_RESPONSE,
    NEVER_DECODE,
    at_most_one_value_set,
    expiry_condition_flags,
    extract_expire_flags,
    list_or_args,
    warn_experimental,
    warn_experimental_arg,
)

__all__ = ["BitFieldOperation", "DataPersistOptions", "BasicKeyCommands", "AsyncBasicKeyCommands"]


class BitFieldOperation:
    """Builder for one BITFIELD command made of several sub-operations.

    Obtained from :meth:`BasicKeyCommands.bitfield`; chain :meth:`get`,
    :meth:`set`, :meth:`incrby` and :meth:`overflow`, then call
    :meth:`execute` to send everything in a single round trip.
    """

    def __init__(
        self,
        client: Any,
        key: str,
        default_overflow: Optional[str] = None,
    ):
        self.client = client
        self.key = key
        self._default_overflow = default_overflow
        self.operations: List[Tuple[EncodableT, ...]] = []
        self._last_overflow = "WRAP"
        self.reset()

    def reset(self) -> None:
        """Forget the queued operations and restore the default overflow."""
        self.operations = []
        self._last_overflow = "WRAP"
        self.overflow(self._default_overflow or self._last_overflow)

    def overflow(self, overflow: str) -> "BitFieldOperation":
        """Select the overflow policy (WRAP, SAT or FAIL) for the following
        INCRBY operations.  Nothing is queued when it does not change."""
        overflow = overflow.upper()
        if overflow != self._last_overflow:
            self._last_overflow = overflow
            self.operations.append(("OVERFLOW", overflow))
        return self

    def incrby(
        self,
        fmt: str,
        offset: BitfieldOffsetT,
        increment: int,
        overflow: Optional[str] = None,
    ) -> "BitFieldOperation":
        """Queue an INCRBY of the field of type ``fmt`` (e.g. ``"u8"``,
        ``"i16"``) at bit ``offset`` (``"#n"`` means n times the field
        width), optionally switching the overflow policy first."""
        if overflow is not None:
            self.overflow(overflow)
        self.operations.append(("INCRBY", fmt, offset, increment))
        return self

    def get(self, fmt: str, offset: BitfieldOffsetT) -> "BitFieldOperation":
        """Queue a GET of the field of type ``fmt`` at ``offset``."""
        self.operations.append(("GET", fmt, offset))
        return self

    def set(self, fmt: str, offset: BitfieldOffsetT, value: int) -> "BitFieldOperation":
        """Queue a SET of the field of type ``fmt`` at ``offset`` to
        ``value``."""
        self.operations.append(("SET", fmt, offset, value))
        return self

    @property
    def command(self) -> List[EncodableT]:
        """The full BITFIELD argument list queued so far."""
        args: List[EncodableT] = ["BITFIELD", self.key]
        for operation in self.operations:
            args.extend(operation)
        return args

    def execute(self) -> ResponseT:
        """Send the queued operations as one BITFIELD command and reset the
        builder.  Returns one result per GET/SET/INCRBY (or queues the
        command when the client is a pipeline)."""
        args = self.command
        self.reset()
        return self.client.execute_command(*args)


class DataPersistOptions(Enum):
    """Condition of MSETEX: set only if none (NX) / all (XX) of the keys
    exist."""

    NX = "NX"
    XX = "XX"


class BasicKeyCommands:
    """Commands on keys of any type, strings and bitmaps."""

    # ------------------------------------------------------------------
    # strings and bits
    # ------------------------------------------------------------------

    def append(self, key: KeyT, value: EncodableT) -> ResponseT:
        """Append ``value`` to the string at ``key`` (creating it when
        missing) and return the new length.

        For more information, see https://redis.io/commands/append
        """
        return self.execute_command("APPEND", key, value)

    def bitcount(
        self,
        key: KeyT,
        start: Optional[int] = None,
        end: Optional[int] = None,
        mode: Optional[str] = None,
    ) -> ResponseT:
        """Count the bits set to 1 in the string at ``key``, optionally only
        between ``start`` and ``end`` (bytes, or bits with ``mode="BIT"``).

        For more information, see https://redis.io/commands/bitcount
        """
        args: List[EncodableT] = [key]
        if start is not None and end is not None:
            args += (start, end)
        elif start is not None or end is not None:
            raise DataError("Both start and end must be specified")
        if mode is not None:
            args.append(mode)
        return self.execute_command("BITCOUNT", *args, keys=[key])

    def bitfield(
        self,
        key: KeyT,
        default_overflow: Optional[str] = None,
    ) -> BitFieldOperation:
        """Return a :class:`BitFieldOperation` to build a BITFIELD command on
        ``key``.

        For more information, see https://redis.io/commands/bitfield
        """
        return BitFieldOperation(self, key, default_overflow=default_overflow)

    def bitfield_ro(
        self,
        key: KeyT,
        encoding: str,
        offset: BitfieldOffsetT,
        items: Optional[list] = None,
    ) -> ResponseT:
        """Read-only BITFIELD: read the field ``encoding``/``offset`` and each
        further ``(encoding, offset)`` pair of ``items``; return the values.

        For more information, see https://redis.io/commands/bitfield_ro
        """
        args: List[EncodableT] = [key, "GET", encoding, offset]
        for field_type, field_offset in items or []:
            args += ("GET", field_type, field_offset)
        return self.execute_command("BITFIELD_RO", *args, keys=[key])

    def bitop(self, operation: str, dest: KeyT, *keys: KeyT) -> ResponseT:
        """Store in ``dest`` the bitwise ``operation`` (AND, OR, XOR, NOT...)
        of ``keys``; return the length of the result.

        For more information, see https://redis.io/commands/bitop
        """
        return self.execute_command("BITOP", operation, dest, *keys)

    def bitpos(
        self,
        key: KeyT,
        bit: int,
        start: Optional[int] = None,
        end: Optional[int] = None,
        mode: Optional[str] = None,
    ) -> ResponseT:
        """Return the position of the first bit equal to ``bit`` (0 or 1) in
        the string at ``key``, searching from byte ``start`` to ``end``
        (bits with ``mode="BIT"``).

        For more information, see https://redis.io/commands/bitpos
        """
        if bit not in (0, 1):
            raise DataError("bit must be 0 or 1")
        args: List[EncodableT] = [key, bit]
        if start is not None:
            args.append(start)
            if end is not None:
                args.append(end)
        elif end is not None:
            raise DataError("start argument is not set, when end is specified")
        if mode is not None:
            args.append(mode)
        return self.execute_command("BITPOS", *args, keys=[key])

    def decrby(self, name: KeyT, amount: int = 1) -> ResponseT:
        """Subtract ``amount`` from the integer at ``name`` (missing keys
        count as 0) and return the new value.

        For more information, see https://redis.io/commands/decrby
        """
        return self.execute_command("DECRBY", name, amount)

    decr = decrby

    def get(self, name: KeyT) -> ResponseT:
        """Return the string value of ``name``, or None when it is missing.

        For more information, see https://redis.io/commands/get
        """
        return self.execute_command("GET", name, keys=[name])

    def getdel(self, name: KeyT) -> ResponseT:
        """Return the string value of ``name`` and delete the key (None when
        it is missing).

        For more information, see https://redis.io/commands/getdel
        """
        return self.execute_command("GETDEL", name)

    def getex(
        self,
        name: KeyT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        persist: bool = False,
    ) -> ResponseT:
        """Return the string value of ``name`` and change its expiry: a
        relative ``ex`` (seconds) / ``px`` (milliseconds), an absolute
        ``exat`` / ``pxat`` (Unix time, or ``datetime``), or remove it with
        ``persist``.  The options are mutually exclusive.

        For more information, see https://redis.io/commands/getex
        """
        if not at_most_one_value_set((ex, px, exat, pxat, persist)):
            raise DataError(
                "``ex``, ``px``, ``exat``, ``pxat``, "
                "and ``persist`` are mutually exclusive."
            )
        args = extract_expire_flags(ex, px, exat, pxat)
        if persist:
            args.append("PERSIST")
        return self.execute_command("GETEX", name, *args)

    def __getitem__(self, name: KeyT) -> Any:
        """``client[name]``: the value of ``name``; KeyError when missing."""
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def getbit(self, name: KeyT, offset: int) -> ResponseT:
        """Return the bit (0 or 1) at ``offset`` in the string at ``name``.

        For more information, see https://redis.io/commands/getbit
        """
        return self.execute_command("GETBIT", name, offset, keys=[name])

    def getrange(self, key: KeyT, start: int, end: int) -> ResponseT:
        """Return the part of the string at ``key`` between the byte offsets
        ``start`` and ``end``, both included (negative offsets count from the
        end).

        For more information, see https://redis.io/commands/getrange
        """
        return self.execute_command("GETRANGE", key, start, end, keys=[key])

    def getset(self, name: KeyT, value: EncodableT) -> ResponseT:
        """Set ``name`` to ``value`` and return the previous value (None when
        the key was missing).  Deprecated by the server in favour of
        ``set(..., get=True)``.

        For more information, see https://redis.io/commands/getset
        """
        return self.execute_command("GETSET", name, value)

    def incrby(self, name: KeyT, amount: int = 1) -> ResponseT:
        """Add ``amount`` to the integer at ``name`` (missing keys count as 0)
        and return the new value.

        For more information, see https://redis.io/commands/incrby
        """
        return self.execute_command("INCRBY", name, amount)

    incr = incrby

    def incrbyfloat(self, name: KeyT, amount: float = 1.0) -> ResponseT:
        """Add the floating point ``amount`` to the number at ``name`` and
        return the new value as a float.

        For more information, see https://redis.io/commands/incrbyfloat
        """
        return self.execute_command("INCRBYFLOAT", name, amount)

    def lcs(
        self,
        key1: str,
        key2: str,
        len: Optional[bool] = False,
        idx: Optional[bool] = False,
        minmatchlen: Optional[int] = 0,
        withmatchlen: Optional[bool] = False,
    ) -> Union[str, int, list]:
        """Longest common subsequence of the strings at ``key1`` and ``key2``:
        the subsequence itself, its length with ``len``, or the matching
        ranges with ``idx`` (filtered by ``minmatchlen``, with each match's
        length when ``withmatchlen``).

        For more information, see https://redis.io/commands/lcs
        """
        args: List[EncodableT] = [key1, key2]
        if len:
            args.append("LEN")
        if idx:
            args.append("IDX")
        if minmatchlen != 0:
            args += ("MINMATCHLEN", minmatchlen)
        if withmatchlen:
            args.append("WITHMATCHLEN")
        return self.execute_command("LCS", *args, keys=[key1, key2])

    def mget(self, keys: KeysT, *args: EncodableT) -> ResponseT:
        """Return the values of all given keys, in order (None for missing
        ones).  ``keys`` is one key or an iterable of keys; ``args`` adds
        more.

        For more information, see https://redis.io/commands/mget
        """
        names = list_or_args(keys, args)
        options: dict = {"keys": names}
        if not names:
            options[EMPTY_RESPONSE] = []
        return self.execute_command("MGET", *names, **options)

    def mset(self, mapping: Mapping[AnyKeyT, EncodableT]) -> ResponseT:
        """Set every key of ``mapping`` to its value in one atomic command.

        For more information, see https://redis.io/commands/mset
        """
        args: List[Any] = []
        for key, value in mapping.items():
            args += (key, value)
        return self.execute_command("MSET", *args)

    def msetex(
        self,
        mapping: Mapping[AnyKeyT, EncodableT],
        data_persist_option: Optional[DataPersistOptions] = None,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        keepttl: bool = False,
    ) -> ResponseT:
        """Set all key/value pairs of ``mapping`` with a shared expiry
        (``ex``/``px``/``exat``/``pxat``, or ``keepttl``), optionally only if
        none (``DataPersistOptions.NX``) or all (``XX``) of the keys exist.
        Requires Redis 8.4.

        For more information, see https://redis.io/commands/msetex
        """
        if not at_most_one_value_set((ex, px, exat, pxat, keepttl)):
            raise DataError(
                "``ex``, ``px``, ``exat``, ``pxat``, "
                "and ``keepttl`` are mutually exclusive."
            )
        options: List[EncodableT] = []
        if data_persist_option:
            options.append(data_persist_option.value)
        options += extract_expire_flags(ex, px, exat, pxat)
        if keepttl:
            options.append("KEEPTTL")
        args: List[Any] = ["MSETEX", len(mapping)]
        for key, value in mapping.items():
            args += (key, value)
        return self.execute_command(*args, *options)

    def msetnx(self, mapping: Mapping[AnyKeyT, EncodableT]) -> ResponseT:
        """Set every key of ``mapping`` only if none of them exists; return
        whether the keys were set.

        For more information, see https://redis.io/commands/msetnx
        """
        args: List[Any] = []
        for key, value in mapping.items():
            args += (key, value)
        return self.execute_command("MSETNX", *args)

    def psetex(self, name: KeyT, time_ms: ExpiryT, value: EncodableT) -> ResponseT:
        """Set ``name`` to ``value`` with an expiry of ``time_ms``
        milliseconds (int or ``timedelta``).

        For more information, see https://redis.io/commands/psetex
        """
        if isinstance(time_ms, datetime.timedelta):
            time_ms = int(time_ms.total_seconds() * 1000)
        return self.execute_command("PSETEX", name, time_ms, value)

    def set(
        self,
        name: KeyT,
        value: EncodableT,
        ex: Optional[ExpiryT] = None,
        px: Optional[ExpiryT] = None,
        nx: bool = False,
        xx: bool = False,
        keepttl: bool = False,
        get: bool = False,
        exat: Optional[AbsExpiryT] = None,
        pxat: Optional[AbsExpiryT] = None,
        ifeq: Optional[Union[bytes, str]] = None,
        ifne: Optional[Union[bytes, str]] = None,
        ifdeq: Optional[str] = None,
        ifdne: Optional[str] = None,
    ) -> ResponseT:
        """Set ``name`` to ``value``.

        Expiry (mutually exclusive): ``ex`` seconds or ``px`` milliseconds
        (int or ``timedelta``), ``exat`` / ``pxat`` absolute Unix time (int
        or ``datetime``), or ``keepttl`` to keep the current one.

        Condition (mutually exclusive): ``nx`` only if missing, ``xx`` only
        if present, and, experimental and for Redis 8.4+, ``ifeq`` / ``ifne``
        only if the current value is / is not the given one, ``ifdeq`` /
        ``ifdne`` the same with the XXH3 hex digest of the value.

        Returns True, or None when the condition was not met; with ``get``
        the previous value (or None) instead.

        For more information, see https://redis.io/commands/set
        """
        conditional = ifeq is not None or ifne is not None or ifdeq is not None or ifdne is not None
        if (
            not conditional
            and ex is None
            and px is None
            and exat is None
            and pxat is None
            and not (nx or xx or keepttl or get)
        ):
            # the common plain SET: nothing to validate
            return self.execute_command("SET", name, value)
        if conditional:
            for arg_name, arg in (
                ("ifeq", ifeq),
                ("ifne", ifne),
                ("ifdeq", ifdeq),
                ("ifdne", ifdne),
            ):
                if arg is not None:
                    warn_experimental_arg(arg_name, "set")
        if bool(ex) + bool(px) + bool(exat) + bool(pxat) + bool(keepttl) > 1:
            raise DataError(
                "``ex``, ``px``, ``exat``, ``pxat``, "
                "and ``keepttl`` are mutually exclusive."
            )
        if bool(nx) + bool(xx) + bool(ifeq) + bool(ifne) + bool(ifdeq) + bool(ifdne) > 1:
            raise DataError(
                "``nx``, ``xx``, ``ifeq``, ``ifne``, ``ifdeq``, ``ifdne`` "
                "are mutually exclusive."
            )
        args: List[EncodableT] = [name, value]
        if nx:
            args.append("NX")
        elif xx:
            args.append("XX")
        elif ifeq is not None:
            args += ("IFEQ", ifeq)
        elif ifne is not None:
            args += ("IFNE", ifne)
        elif ifdeq is not None:
            args += ("IFDEQ", ifdeq)
        elif ifdne is not None:
            args += ("IFDNE", ifdne)
        if get:
            args.append("GET")
        if ex is not None or px is not None or exat is not None or pxat is not None:
            args += extract_expire_flags(ex, px, exat, pxat)
        if keepttl:
            args.append("KEEPTTL")
        if get:
            return self.execute_command("SET", *args, get=True)
        return self.execute_command("SET", *args)

    def __setitem__(self, name: KeyT, value: EncodableT) -> None:
        """``client[name] = value``: plain SET."""
        self.set(name, value)

    def setbit(self, name: KeyT, offset: int, value: int) -> ResponseT:
        """Set the bit at ``offset`` of the string at ``name`` to ``value``
        (any truthy value means 1); return the previous bit.

        For more information, see https://redis.io/commands/setbit
        """
        return self.execute_command("SETBIT", name, offset, 1 if value else 0)

    def setex(self, name: KeyT, time: ExpiryT, value: EncodableT) -> ResponseT:
        """Set ``name`` to ``value`` with an expiry of ``time`` seconds (int
        or ``timedelta``).

        For more information, see https://redis.io/commands/setex
        """
        if isinstance(time, datetime.timedelta):
            time = int(time.total_seconds())
        return self.execute_command("SETEX", name, time, value)

    def setnx(self, name: KeyT, value: EncodableT) -> ResponseT:
        """Set ``name`` to ``value`` only if the key does not exist; return
        whether it was set.

        For more information, see https://redis.io/commands/setnx
        """
        return self.execute_command("SETNX", name, value)

    def setrange(self, name: KeyT, offset: int, value: EncodableT) -> ResponseT:
        """Overwrite the string at ``name`` with ``value`` from byte
        ``offset`` on, padding with zero bytes if the string is shorter;
        return the new length.

        For more information, see https://redis.io/commands/setrange
        """
        return self.execute_command("SETRANGE", name, offset, value)

    def stralgo(
        self,
        algo: Literal["LCS"],
        value1: KeyT,
        value2: KeyT,
        specific_argument: Union[Literal["strings"], Literal["keys"]] = "strings",
        len: bool = False,
        idx: bool = False,
        minmatchlen: Optional[int] = None,
        withmatchlen: bool = False,
        **kwargs: Any,
    ) -> ResponseT:
        """Run a string algorithm (only ``"LCS"``) on two strings, or on the
        values of two keys with ``specific_argument="keys"``.  ``len`` returns
        only the length; ``idx`` the matching ranges, filtered by
        ``minmatchlen`` and with their length when ``withmatchlen``.  Removed
        from Redis 7; see :meth:`lcs`.

        For more information, see https://redis.io/commands/stralgo
        """
        if algo not in ("LCS",):
            raise DataError("The supported algorithms are: LCS")
        if specific_argument not in ("keys", "strings"):
            raise DataError("specific_argument can be only keys or strings")
        if len and idx:
            raise DataError("len and idx cannot be provided together.")
        args: List[EncodableT] = [algo, specific_argument.upper(), value1, value2]
        if len:
            args.append(b"LEN")
        if idx:
            args.append(b"IDX")
        try:
            int(minmatchlen)
        except TypeError:
            pass
        else:
            args += (b"MINMATCHLEN", minmatchlen)
        if withmatchlen:
            args.append(b"WITHMATCHLEN")
        return self.execute_command(
            "STRALGO",
            *args,
            len=len,
            idx=idx,
            minmatchlen=minmatchlen,
            withmatchlen=withmatchlen,
            **kwargs,
        )

    def strlen(self, name: KeyT) -> ResponseT:
        """Return the length in bytes of the string at ``name`` (0 when
        missing).

        For more information, see https://redis.io/commands/strlen
        """
        return self.execute_command("STRLEN", name, keys=[name])

    def substr(self, name: KeyT, start: int, end: int = -1) -> ResponseT:
        """Old name of GETRANGE: the bytes of ``name`` from ``start`` to
        ``end`` included.

        For more information, see https://redis.io/commands/substr
        """
        return self.execute_command("SUBSTR", name, start, end, keys=[name])

    # ------------------------------------------------------------------
    # keys of any type
    # ------------------------------------------------------------------

    def copy(
        self,
        source: str,
        destination: str,
        destination_db: Optional[str] = None,
        replace: bool = False,
    ) -> ResponseT:
        """Copy the value at ``source`` to ``destination`` (in database
        ``destination_db`` if given), overwriting it only with ``replace``;
        return whether the copy happened.

        For more information, see https://redis.io/commands/copy
        """
        args: List[EncodableT] = [source, destination]
        if destination_db is not None:
            args += ("DB", destination_db)
        if replace:
            args.append("REPLACE")
        return self.execute_command("COPY", *args)

    def delete(self, *names: KeyT) -> ResponseT:
        """Delete the given keys; return how many existed.

        For more information, see https://redis.io/commands/del
        """
        return self.execute_command("DEL", *names)

    def __delitem__(self, name: KeyT) -> None:
        """``del client[name]``."""
        self.delete(name)

    def delex(
        self,
        name: KeyT,
        ifeq: Optional[Union[bytes, str]] = None,
        ifne: Optional[Union[bytes, str]] = None,
        ifdeq: Optional[str] = None,
        ifdne: Optional[str] = None,
    ) -> int:
        """Experimental (Redis 8.4+): delete ``name``, optionally only if its
        value is (``ifeq``) / is not (``ifne``) the given one, or its XXH3
        hex digest is (``ifdeq``) / is not (``ifdne``) the given one.  At
        most one condition (ValueError otherwise).  Returns 1 if deleted.

        For more information, see https://redis.io/commands/delex
        """
        warn_experimental("delex")
        conditions = [
            (word, arg)
            for word, arg in (("IFEQ", ifeq), ("IFNE", ifne), ("IFDEQ", ifdeq), ("IFDNE", ifdne))
            if arg is not None
        ]
        if len(conditions) > 1:
            raise ValueError("Only one of IFEQ/IFNE/IFDEQ/IFDNE may be specified")
        args: List[EncodableT] = ["DELEX", name]
        for word, arg in conditions:
            args += (word, arg)
        return self.execute_command(*args)

    def digest_local(self, value: Union[bytes, str]) -> Union[bytes, str]:
        """Experimental: compute locally the XXH3 hex digest the server's
        DIGEST would return for ``value`` (str is hashed as UTF-8).  Needs the
        optional ``xxhash`` package.  Returns str when the client decodes
        responses, else bytes.

        For more information, see https://redis.io/commands/digest
        """
        warn_experimental("digest_local")
        try:
            import xxhash
        except ImportError:
            raise NotImplementedError(
                "XXHASH support requires the optional 'xxhash' library; "
                "install it with 'pip install xxhash' to enable this feature."
            ) from None
        digest = xxhash.xxh3_64(value).hexdigest()
        if not self.get_encoder().decode_responses:
            return digest.encode()
        return digest

    def digest(self, name: KeyT) -> Union[str, bytes, None]:
        """Experimental (Redis 8.4+): the XXH3 hex digest of the string at
        ``name``, or None when it is missing.

        For more information, see https://redis.io/commands/digest
        """
        warn_experimental("digest")
        return self.execute_command("DIGEST", name)

    def dump(self, name: KeyT) -> ResponseT:
        """Return the serialized (RESTORE-able) value of ``name`` as bytes,
        or None when it is missing.  Never decoded.

        For more information, see https://redis.io/commands/dump
        """
        return self.execute_command("DUMP", name, **{NEVER_DECODE: []})

    def exists(self, *names: KeyT) -> ResponseT:
        """Return how many of ``names`` exist (a key named twice counts
        twice).

        For more information, see https://redis.io/commands/exists
        """
        return self.execute_command("EXISTS", *names, keys=names)

    __contains__ = exists

    def expire(
        self,
        name: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Let ``name`` expire in ``time`` seconds (int or ``timedelta``).
        ``nx``: only if it has no expiry; ``xx``: only if it has one;
        ``gt`` / ``lt``: only if the new expiry is later / earlier.  Returns
        whether the expiry was set.

        For more information, see https://redis.io/commands/expire
        """
        if isinstance(time, datetime.timedelta):
            time = int(time.total_seconds())
        if nx or xx or gt or lt:
            return self.execute_command(
                "EXPIRE", name, time, *expiry_condition_flags(nx, xx, gt, lt)
            )
        return self.execute_command("EXPIRE", name, time)

    def expireat(
        self,
        name: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Let ``name`` expire at ``when`` (Unix seconds or ``datetime``);
        ``nx``/``xx``/``gt``/``lt`` as for :meth:`expire`.

        For more information, see https://redis.io/commands/expireat
        """
        if isinstance(when, datetime.datetime):
            when = int(when.timestamp())
        if nx or xx or gt or lt:
            return self.execute_command(
                "EXPIREAT", name, when, *expiry_condition_flags(nx, xx, gt, lt)
            )
        return self.execute_command("EXPIREAT", name, when)

    def expiretime(self, key: str) -> int:
        """Return the Unix time (seconds) at which ``key`` expires; -1 if it
        has no expiry, -2 if it does not exist.

        For more information, see https://redis.io/commands/expiretime
        """
        return self.execute_command("EXPIRETIME", key)

    def keys(self, pattern: PatternT = "*", **kwargs: Any) -> ResponseT:
        """Return the names of all keys matching the glob ``pattern``.

        For more information, see https://redis.io/commands/keys
        """
        return self.execute_command("KEYS", pattern, **kwargs)

    def move(self, name: KeyT, db: int) -> ResponseT:
        """Move ``name`` to database ``db``; return whether it moved.

        For more information, see https://redis.io/commands/move
        """
        return self.execute_command("MOVE", name, db)

    def persist(self, name: KeyT) -> ResponseT:
        """Remove the expiry of ``name``; return whether there was one.

        For more information, see https://redis.io/commands/persist
        """
        return self.execute_command("PERSIST", name)

    def pexpire(
        self,
        name: KeyT,
        time: ExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Let ``name`` expire in ``time`` milliseconds (int or
        ``timedelta``); ``nx``/``xx``/``gt``/``lt`` as for :meth:`expire`.

        For more information, see https://redis.io/commands/pexpire
        """
        if isinstance(time, datetime.timedelta):
            time = int(time.total_seconds() * 1000)
        if nx or xx or gt or lt:
            return self.execute_command(
                "PEXPIRE", name, time, *expiry_condition_flags(nx, xx, gt, lt)
            )
        return self.execute_command("PEXPIRE", name, time)

    def pexpireat(
        self,
        name: KeyT,
        when: AbsExpiryT,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> ResponseT:
        """Let ``name`` expire at ``when`` (Unix milliseconds or
        ``datetime``); ``nx``/``xx``/``gt``/``lt`` as for :meth:`expire`.

        For more information, see https://redis.io/commands/pexpireat
        """
        if isinstance(when, datetime.datetime):
            when = int(when.timestamp() * 1000)
        if nx or xx or gt or lt:
            return self.execute_command(
                "PEXPIREAT", name, when, *expiry_condition_flags(nx, xx, gt, lt)
            )
        return self.execute_command("PEXPIREAT", name, when)

    def pexpiretime(self, key: str) -> int:
        """Return the Unix time in milliseconds at which ``key`` expires; -1
        if it has no expiry, -2 if it does not exist.

        For more information, see https://redis.io/commands/pexpiretime
        """
        return self.execute_command("PEXPIRETIME", key)

    def pttl(self, name: KeyT) -> ResponseT:
        """Return the remaining time to live of ``name`` in milliseconds (-1
        without expiry, -2 when missing).

        For more information, see https://redis.io/commands/pttl
        """
        return self.execute_command("PTTL", name)

    def randomkey(self, **kwargs: Any) -> ResponseT:
        """Return a random key name, or None when the database is empty.

        For more information, see https://redis.io/commands/randomkey
        """
        return self.execute_command("RANDOMKEY", **kwargs)

    def rename(self, src: KeyT, dst: KeyT) -> ResponseT:
        """Rename ``src`` to ``dst``, replacing ``dst`` if it exists.

        For more information, see https://redis.io/commands/rename
        """
        return self.execute_command("RENAME", src, dst)

    def renamenx(self, src: KeyT, dst: KeyT) -> ResponseT:
        """Rename ``src`` to ``dst`` only if ``dst`` does not exist; return
        whether it was renamed.

        For more information, see https://redis.io/commands/renamenx
        """
        return self.execute_command("RENAMENX", src, dst)

    def restore(
        self,
        name: KeyT,
        ttl: float,
        value: EncodableT,
        replace: bool = False,
        absttl: bool = False,
        idletime: Optional[int] = None,
        frequency: Optional[int] = None,
    ) -> ResponseT:
        """Create ``name`` from a DUMP payload ``value`` with a time to live
        of ``ttl`` milliseconds (0: none; an absolute Unix time in
        milliseconds with ``absttl``).  ``replace`` overwrites an existing
        key; ``idletime`` (seconds) and ``frequency`` set the eviction
        metadata.

        For more information, see https://redis.io/commands/restore
        """
        args: List[EncodableT] = [name, ttl, value]
        if replace:
            args.append("REPLACE")
        if absttl:
            args.append("ABSTTL")
        if idletime is not None:
            args.append("IDLETIME")
            try:
                args.append(int(idletime))
            except ValueError:
                raise DataError("idletimemust be an integer")
        if frequency is not None:
            args.append("FREQ")
            try:
                args.append(int(frequency))
            except ValueError:
                raise DataError("frequency must be an integer")
        return self.execute_command("RESTORE", *args)

    def touch(self, *args: KeyT) -> ResponseT:
        """Update the last access time of the given keys; return how many
        exist.

        For more information, see https://redis.io/commands/touch
        """
        return self.execute_command("TOUCH", *args)

    def ttl(self, name: KeyT) -> ResponseT:
        """Return the remaining time to live of ``name`` in seconds (-1
        without expiry, -2 when missing).

        For more information, see https://redis.io/commands/ttl
        """
        return self.execute_command("TTL", name)

    def type(self, name: KeyT) -> ResponseT:
        """Return the type of the value at ``name`` (``string``, ``list``,
        ``set``, ``zset``, ``hash``, ``stream``, or ``none``).

        For more information, see https://redis.io/commands/type
        """
        return self.execute_command("TYPE", name, keys=[name])

    def unlink(self, *names: KeyT) -> ResponseT:
        """Delete the given keys, reclaiming memory in the background; return
        how many existed.

        For more information, see https://redis.io/commands/unlink
        """
        return self.execute_command("UNLINK", *names)

    def watch(self, *names: KeyT) -> None:
        """Not available on a plain client: only warns.  Use WATCH from a
        pipeline, on the connection that runs the transaction.

        For more information, see https://redis.io/commands/watch
        """
        warnings.warn(DeprecationWarning("Call WATCH from a Pipeline object"))

    def unwatch(self) -> None:
        """Not available on a plain client: only warns.  Use UNWATCH from a
        pipeline.

        For more information, see https://redis.io/commands/unwatch
        """
        warnings.warn(DeprecationWarning("Call UNWATCH from a Pipeline object"))

    # ------------------------------------------------------------------
    # redis-py also keeps these three on BasicKeyCommands
    # ------------------------------------------------------------------

    def lmove(
        self, first_list: str, second_list: str, src: str = "LEFT", dest: str = "RIGHT"
    ) -> ResponseT:
        """Pop an element from the ``src`` end (LEFT/RIGHT) of
        ``first_list``, push it on the ``dest`` end of ``second_list`` and
        return it (None when the source is empty).

        For more information, see https://redis.io/commands/lmove
        """
        return self.execute_command("LMOVE", first_list, second_list, src, dest)

    def blmove(
        self,
        first_list: str,
        second_list: str,
        timeout: int,
        src: str = "LEFT",
        dest: str = "RIGHT",
    ) -> ResponseT:
        """Blocking :meth:`lmove`: wait up to ``timeout`` seconds (0: forever)
        for an element to move; None on timeout.

        For more information, see https://redis.io/commands/blmove
        """
        return self.execute_command(
            "BLMOVE", first_list, second_list, src, dest, timeout
        )

    def hrandfield(
        self, key: str, count: Optional[int] = None, withvalues: bool = False
    ) -> ResponseT:
        """Return a random field of the hash at ``key``; with ``count`` a list
        of up to ``count`` distinct fields (or ``-count`` fields, possibly
        repeated, when negative); ``withvalues`` interleaves the values.

        For more information, see https://redis.io/commands/hrandfield
        """
        args: List[EncodableT] = []
        if count is not None:
            args.append(count)
        if withvalues:
            args.append("WITHVALUES")
        return self.execute_command("HRANDFIELD", key, *args)


class AsyncBasicKeyCommands(BasicKeyCommands):
    """BasicKeyCommands for the asyncio client: no ``r[key]`` syntax (a
    coroutine cannot be the value of an item access), async watch/unwatch."""

    def __delitem__(self, name: KeyT) -> None:
        raise TypeError("Async Redis client does not support class deletion")

    def __contains__(self, name: KeyT) -> bool:
        raise TypeError("Async Redis client does not support class inclusion")

    def __getitem__(self, name: KeyT) -> Any:
        raise TypeError("Async Redis client does not support class retrieval")

    def __setitem__(self, name: KeyT, value: EncodableT) -> None:
        raise TypeError("Async Redis client does not support class assignment")

    async def watch(self, *names: KeyT) -> None:
        """Not available on a plain client: only warns.  Use WATCH from a pipeline."""
        return super().watch(*names)

    async def unwatch(self) -> None:
        """Not available on a plain client: only warns.  Use UNWATCH from a pipeline."""
        return super().unwatch()
