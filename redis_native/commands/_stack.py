"""The Redis Stack module accessors (``r.json()``, ``r.ft()``, ...).

redis-py's clients return helper objects for the RedisJSON, RediSearch,
RedisTimeSeries, RedisBloom and vector-set modules. redis_native does not
implement those APIs yet: every accessor exists, on the sync, asyncio and
cluster clients alike, and raises a ``RedisError`` naming the API, so code
probing for them fails clearly instead of with an ``AttributeError``.
"""
from typing import Any

from ..exceptions import RedisError


class StackModuleAccessors:
    """Mixin: the module accessors, each raising ``RedisError``."""

    def _module_unsupported(self, name: str) -> Any:
        raise RedisError(
            f"redis_native does not support the Redis Stack module API '{name}()' yet")

    def json(self, encoder: Any = None, decoder: Any = None) -> Any:
        """RedisJSON commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("json")

    def ft(self, index_name: str = "idx") -> Any:
        """RediSearch commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("ft")

    def ts(self) -> Any:
        """RedisTimeSeries commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("ts")

    def bf(self) -> Any:
        """Bloom filter commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("bf")

    def cf(self) -> Any:
        """Cuckoo filter commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("cf")

    def cms(self) -> Any:
        """Count-min sketch commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("cms")

    def topk(self) -> Any:
        """Top-K commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("topk")

    def tdigest(self) -> Any:
        """T-digest commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("tdigest")

    def vset(self) -> Any:
        """Vector set commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("vset")
