"""``Encoder``: redis-py's argument-encoding and reply-decoding rules in Python,
under redis-py's module path (``redis._parsers.encoders``).  Also importable
from ``redis_native._parsers`` and ``redis_native.connection``."""
from typing import Any, Union

from ..exceptions import DataError

__all__ = ["Encoder"]


class Encoder:
    """Turns arguments into bytes and replies into str, with redis-py's rules.

    The C packer applies the same rules on the hot path; this object is for
    command methods and user code that call ``get_encoder()``.
    """

    __slots__ = ("encoding", "encoding_errors", "decode_responses")

    def __init__(self, encoding: str, encoding_errors: str, decode_responses: bool):
        self.encoding = encoding
        self.encoding_errors = encoding_errors
        self.decode_responses = decode_responses

    def encode(self, value: Any) -> Union[bytes, memoryview]:
        if isinstance(value, (bytes, memoryview)):
            return value
        if isinstance(value, bool):
            raise DataError(
                "Invalid input of type: 'bool'. Convert to a bytes, string, int or float first."
            )
        if isinstance(value, (int, float)):
            return repr(value).encode()
        if isinstance(value, str):
            return value.encode(self.encoding, self.encoding_errors)
        raise DataError(
            f"Invalid input of type: '{type(value).__name__}'. "
            "Convert to a bytes, string, int or float first."
        )

    def decode(self, value: Any, force: bool = False) -> Any:
        if self.decode_responses or force:
            if isinstance(value, memoryview):
                value = value.tobytes()
            if isinstance(value, bytes):
                return value.decode(self.encoding, self.encoding_errors)
        return value
