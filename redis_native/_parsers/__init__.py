"""Reply parsing.

The RESP2 reader itself is written in C (``redis_native._native``, src/reader.c);
this package holds the pure-Python response callbacks in :mod:`.helpers` and the
:class:`Encoder` in :mod:`.encoders`, under the module paths redis-py uses
(``redis._parsers.helpers``, ``redis._parsers.encoders``).

redis-py's parser classes (``_RESP2Parser``, ``_HiredisParser``...) have no
counterpart: the C reader replaces them.  Where redis-py's API names a parser
class -- ``redis.connection.DefaultParser``, the ``parser_class`` argument of
connections and pools -- redis_native has :class:`NativeParser`, which stands
for the C reader.
"""
from ..exceptions import ERROR_PREFIXES, parse_error_reply
from .commands import AsyncCommandsParser, CommandsParser
from .encoders import Encoder

__all__ = ["AsyncCommandsParser", "CommandsParser", "DefaultParser", "Encoder", "NativeParser"]


class NativeParser:
    """The reply parser of every redis_native connection: the C reader.

    It is what ``parser_class`` defaults to and what ``DefaultParser`` names.
    Connections read replies with the C reader whatever ``parser_class`` they
    are given (there is no parser object to plug in or patch), so this class
    carries no reading logic; :meth:`parse_error` maps an error reply to its
    exception exactly as the reader does.
    """

    #: Error-reply prefix -> exception class (``"ERR"`` maps to a dict of exact
    #: messages), the table redis-py's parser classes carry under this name and
    #: libraries read (fakeredis builds its error replies from it at import).  It
    #: is the very dict :func:`~redis_native.exceptions.parse_error_reply` and the
    #: C reader consult, so the two can never disagree.
    EXCEPTION_CLASSES = ERROR_PREFIXES

    def __init__(self, socket_read_size: int) -> None:
        self.socket_read_size = socket_read_size

    @classmethod
    def parse_error(cls, response: str) -> Exception:
        """The exception (not raised) for the error reply text ``response``."""
        # a subclass with its own EXCEPTION_CLASSES maps with that table
        return parse_error_reply(response, cls.EXCEPTION_CLASSES)


#: The parser class connections use by default (redis-py: hiredis or pure Python).
DefaultParser = NativeParser
