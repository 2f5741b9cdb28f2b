"""Redis Cluster key hashing, as ``redis.crc``: ``key_slot`` and
``REDIS_CLUSTER_HASH_SLOTS``.

``key_slot`` is the C function of ``redis_native._native`` (src/cluster.c):
the CRC16 (XMODEM) of the key, or of its hash tag -- the text between the
first ``{`` and the next ``}``, when not empty -- modulo ``bucket``.  Like
redis-py's it takes an encoded key (bytes, bytearray or another bytes-like
object); ``RedisCluster.keyslot`` encodes str, int and float keys first.
"""
from ._native import REDIS_CLUSTER_HASH_SLOTS, key_slot
from .typing import EncodedT  # noqa: F401  (importable from here, as in redis-py)

__all__ = ["key_slot", "REDIS_CLUSTER_HASH_SLOTS"]
