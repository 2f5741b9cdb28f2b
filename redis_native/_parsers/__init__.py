"""Reply parsing helpers.

The RESP2 reader itself is written in C (``redis_native._native``); this
package holds the pure-Python response callbacks in :mod:`.helpers` and the
:class:`Encoder` in :mod:`.encoders`, under the module paths redis-py uses
(``redis._parsers.helpers``, ``redis._parsers.encoders``).  redis-py's parser
classes (``_RESP2Parser``, ``_HiredisParser``...) have no counterpart: the C
reader replaces them.
"""
from .encoders import Encoder

__all__ = ["Encoder"]
