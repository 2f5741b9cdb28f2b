"""Type aliases used in the command signatures (same meaning as redis-py's
``redis.typing``)."""

from datetime import datetime, timedelta
from typing import Any, Awaitable, Iterable, TypeVar, Union

Number = Union[int, float]
EncodedT = Union[bytes, bytearray, memoryview]
DecodedT = Union[str, int, float]
EncodableT = Union[EncodedT, DecodedT]
AbsExpiryT = Union[int, datetime]
ExpiryT = Union[int, timedelta]
ZScoreBoundT = Union[float, str]  # str for the "(" / "[" / "-inf" forms
BitfieldOffsetT = Union[int, str]  # str for the "#n" multiplier form
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
AnyKeyT = TypeVar("AnyKeyT", bytes, str, memoryview)
AnyFieldT = TypeVar("AnyFieldT", bytes, str, memoryview)
AnyChannelT = TypeVar("AnyChannelT", bytes, str, memoryview)
