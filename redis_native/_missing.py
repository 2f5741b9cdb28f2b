"""Clear import errors for the redis-py modules redis_native does not have yet.

``from redis.multidb.client import MultiDBClient`` works with redis-py; with
``import redis_native as redis`` code ends up importing
``redis_native.multidb``.  Rather than a bare "No module named ...", such an
import fails with a ``ModuleNotFoundError`` (an ``ImportError``, so
``try: ... except ImportError`` fallbacks keep working) that says why.

A finder placed last on ``sys.meta_path`` answers only for the names below,
and only after the normal finders found nothing: a module that exists is never
affected.
"""
import sys
from typing import Dict, Optional

_SOON = "not implemented in redis_native yet"

# module (and its submodules) -> why it is missing
MISSING: Dict[str, str] = {
    "redis_native.asyncio.multidb": "the asyncio multi-database client is " + _SOON,
    "redis_native.asyncio.http": "redis-py's asyncio HTTP helpers (multidb health checks) are "
                                 + _SOON,
    "redis_native.asyncio.observability": "OpenTelemetry observability is " + _SOON,
    "redis_native.ocsp": "OCSP checking of TLS certificates is " + _SOON,
    "redis_native.auth": "token-based re-authentication is " + _SOON,
    "redis_native.multidb": "the multi-database client is " + _SOON,
    "redis_native.http": "redis-py's HTTP helpers (used by multidb health checks) are " + _SOON,
    "redis_native.background": "redis-py's background scheduler (multidb, re-auth) is " + _SOON,
    "redis_native.data_structure": "redis-py's weighted-list helper (multidb) is " + _SOON,
    "redis_native.maint_notifications": "maintenance notifications need RESP3 push messages, "
                                        "which redis_native does not speak yet",
    "redis_native.observability": "OpenTelemetry observability is " + _SOON,
    "redis_native.commands.json": "Redis Stack module commands (RedisJSON) are " + _SOON,
    "redis_native.commands.search": "Redis Stack module commands (RediSearch) are " + _SOON,
    "redis_native.commands.timeseries": "Redis Stack module commands (TimeSeries) are " + _SOON,
    "redis_native.commands.bf": "Redis Stack module commands (probabilistic) are " + _SOON,
    "redis_native.commands.vectorset": "vector set commands are " + _SOON,
    "redis_native.commands.redismodules": "Redis Stack module commands are " + _SOON,
    "redis_native._parsers.hiredis": "replies are read by redis_native's C reader, not hiredis-py",
    "redis_native._parsers.resp2": "replies are read by redis_native's C reader; redis-py's "
                                   "RESP2 parser class does not exist",
    "redis_native._parsers.resp3": "RESP3 (protocol=3) is " + _SOON,
    "redis_native._parsers.socket": "socket buffering is done in C; redis-py's SocketBuffer "
                                    "does not exist",
}


def reason_for(fullname: str) -> Optional[str]:
    """Why ``fullname`` (or the package it belongs to) is missing, if it is."""
    name = fullname
    while name:
        if name in MISSING:
            return MISSING[name]
        name = name.rpartition(".")[0]
    return None


# A meta path finder needs only find_spec; not deriving from
# importlib.abc.MetaPathFinder keeps importlib.abc (and importlib.resources,
# which it loads) out of ``import redis_native``.
class _MissingModuleFinder:
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[override]
        reason = reason_for(fullname)
        if reason is None:
            return None
        redis_name = "redis" + fullname[len("redis_native"):]
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: {reason} (redis-py's {redis_name!r} has no "
            f"redis_native counterpart yet; see the 'Not yet' list in the README)",
            name=fullname,
        )


def install() -> None:
    if not any(isinstance(f, _MissingModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingModuleFinder())
