"""Reply parsing helpers.

The RESP2 reader itself is written in C (``redis_native._native``); this
package holds the pure-Python response callbacks in :mod:`.helpers`, under the
module path redis-py uses (``redis._parsers.helpers``).
"""
