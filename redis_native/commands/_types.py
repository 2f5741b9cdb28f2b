"""Type aliases used in the command signatures (re-exported from
:mod:`redis_native.typing`, which mirrors ``redis.typing``)."""

from __future__ import annotations

from ..typing import (  # noqa: F401
    AbsExpiryT,
    AnyChannelT,
    AnyFieldT,
    AnyKeyT,
    BitfieldOffsetT,
    ChannelT,
    ConsumerT,
    DecodedT,
    EncodableT,
    EncodedT,
    ExpiryT,
    FieldT,
    GroupT,
    KeysT,
    KeyT,
    Number,
    PatternT,
    ResponseT,
    ScriptTextT,
    StreamIdT,
    TimeoutSecT,
    ZScoreBoundT,
)
