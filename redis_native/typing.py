"""Type aliases used in the signatures of redis_native, named as in redis-py 7.4.

These are for annotations only: nothing here is checked at run time.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Iterable,
    Mapping,
    Protocol,
    Type,
    TypeVar,
    Union,
)

if TYPE_CHECKING:
    from redis_native.connection import Encoder  # noqa: F401

Number = Union[int, float]
# Values already in wire form.
EncodedT = Union[bytes, bytearray, memoryview]
# Values the client encodes before sending.
DecodedT = Union[str, int, float]
EncodableT = Union[EncodedT, DecodedT]
# Absolute expiry: a unix timestamp or a datetime.
AbsExpiryT = Union[int, datetime]
# Relative expiry: a number of seconds/milliseconds or a timedelta.
ExpiryT = Union[int, timedelta]
# Sorted-set score bounds; strings carry the "(" / "[" / "-inf" forms.
ZScoreBoundT = Union[float, str]
# Bitfield offsets; strings carry the "#N" form.
BitfieldOffsetT = Union[int, str]
_StringLikeT = Union[bytes, str, memoryview]
KeyT = _StringLikeT
PatternT = _StringLikeT
FieldT = EncodableT
KeysT = Union[KeyT, Iterable[KeyT]]
ResponseT = Union[Awaitable[Any], Any]
ChannelT = _StringLikeT
GroupT = _StringLikeT
ConsumerT = _StringLikeT
StreamIdT = Union[int, _StringLikeT]
ScriptTextT = _StringLikeT
TimeoutSecT = Union[int, float, _StringLikeT]
# Type variables rather than unions, so that a Dict[str, X] argument is accepted
# where a mapping keyed by any string-like type is expected (Mapping is invariant
# in its key type).  All such mappings in one signature share the key type.
AnyKeyT = TypeVar("AnyKeyT", bytes, str, memoryview)
AnyFieldT = TypeVar("AnyFieldT", bytes, str, memoryview)
AnyChannelT = TypeVar("AnyChannelT", bytes, str, memoryview)

ExceptionMappingT = Mapping[str, Union[Type[Exception], Mapping[str, Type[Exception]]]]


class CommandsProtocol(Protocol):
    """What command mixins expect of the class they are mixed into."""

    _event_dispatcher: Any

    def execute_command(self, *args: Any, **options: Any) -> ResponseT: ...


class ClusterCommandsProtocol(CommandsProtocol):
    """What cluster command mixins expect: a client that also has an encoder."""

    encoder: "Encoder"
