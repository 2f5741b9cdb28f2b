"""``BaseParser``: the parser base class redis-py names in its API.

redis_native reads every reply with its C reader (src/reader.c), so there is no
parser object behind a connection.  The class exists because code written for
redis-py names it -- as the type of a ``parser_class`` argument, in annotations
evaluated at import (faststream: ``from redis.asyncio.connection import
BaseParser``), or in ``issubclass`` checks -- and must find it at the same paths:
``redis._parsers.BaseParser``, ``redis._parsers.base.BaseParser`` and
``redis.asyncio.connection.BaseParser``.

What it carries is the part of the interface that does not depend on reading a
socket: the error-reply table and :meth:`parse_error`.  The connection hooks are
left to subclasses (calling them on the base raises ``NotImplementedError``, as
redis-py's does).  :class:`~redis_native._parsers.NativeParser`, the class
standing for the C reader, derives from it.

redis-py's other classes of ``redis._parsers.base`` (the RESP and asyncio parser
bases, push-notification parsers) have no counterpart.
"""
from abc import ABC

from ..exceptions import ERROR_PREFIXES, parse_error_reply

__all__ = ["BaseParser"]


class BaseParser(ABC):
    """Base class of reply parsers (here: of :class:`NativeParser` only)."""

    #: Error-reply prefix -> exception class (``"ERR"`` maps to a dict of exact
    #: messages).  The very dict the C reader and
    #: :func:`~redis_native.exceptions.parse_error_reply` consult.
    EXCEPTION_CLASSES = ERROR_PREFIXES

    @classmethod
    def parse_error(cls, response):
        """The exception (not raised) for the error reply text ``response``."""
        # a subclass with its own EXCEPTION_CLASSES maps with that table
        return parse_error_reply(response, cls.EXCEPTION_CLASSES)

    def on_disconnect(self):
        """Hook for a parser that keeps per-connection state: none here."""
        raise NotImplementedError()

    def on_connect(self, connection):
        """Hook for a parser that keeps per-connection state: none here."""
        raise NotImplementedError()
