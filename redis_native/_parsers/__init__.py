"""Reply parsing.

The RESP2 reader itself is written in C (``redis_native._native``, src/reader.c);
this package holds the pure-Python response callbacks in :mod:`.helpers` and the
:class:`Encoder` in :mod:`.encoders`, under the module paths redis-py uses
(``redis._parsers.helpers``, ``redis._parsers.encoders``).

redis-py's parser classes (``_RESP2Parser``, ``_HiredisParser``...) have no
counterpart: the C reader replaces them.  Their base class ``BaseParser``
(:mod:`.base`) exists, because code names it (annotations, ``issubclass``).  Where redis-py's API names a parser
class -- ``redis.connection.DefaultParser``, the ``parser_class`` argument of
connections and pools -- redis_native has :class:`NativeParser`, which stands
for the C reader.
"""
from .base import BaseParser
from .commands import AsyncCommandsParser, CommandsParser
from .encoders import Encoder

__all__ = ["AsyncCommandsParser", "BaseParser", "CommandsParser", "DefaultParser", "Encoder",
           "NativeParser"]


class NativeParser(BaseParser):
    """The reply parser of every redis_native connection: the C reader.

    It is what ``parser_class`` defaults to and what ``DefaultParser`` names.
    Connections read replies with the C reader whatever ``parser_class`` they
    are given (there is no parser object to plug in or patch), so this class
    carries no reading logic; :meth:`parse_error` maps an error reply to its
    exception exactly as the reader does.
    """

    # EXCEPTION_CLASSES and parse_error come from BaseParser: the table is the
    # very dict parse_error_reply and the C reader consult, so the two can
    # never disagree; libraries read it (fakeredis builds its error replies
    # from it at import).

    def __init__(self, socket_read_size: int) -> None:
        self.socket_read_size = socket_read_size


#: The parser class connections use by default (redis-py: hiredis or pure Python).
DefaultParser = NativeParser
