"""Client-side cache building blocks (redis-py's ``redis.cache``).

The classes are complete and usable on their own: :class:`DefaultCache` is an
LRU-evicted mapping from :class:`CacheKey` to :class:`CacheEntry`,
:class:`CacheConfig` says what may be cached and how much, and
:class:`CacheFactory` builds a cache (wrapped in a :class:`CacheProxy`) from a
config.

A client does not use them yet: client-side caching relies on the server's
invalidation messages, which are RESP3 push messages, and redis_native speaks
RESP2 only.  ``Redis(cache_config=...)`` therefore raises ``RedisError``, as
redis-py does when the protocol is 2.
"""

from __future__ import annotations
from abc import ABC, abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Optional, Union

__all__ = [
    "CacheConfig",
    "CacheConfigurationInterface",
    "CacheEntry",
    "CacheEntryStatus",
    "CacheFactory",
    "CacheFactoryInterface",
    "CacheInterface",
    "CacheKey",
    "CacheProxy",
    "DefaultCache",
    "EvictionPolicy",
    "EvictionPolicyInterface",
    "EvictionPolicyType",
    "LRUPolicy",
]


class CacheEntryStatus(Enum):
    """Whether an entry holds a reply (``VALID``) or one is being fetched."""

    VALID = "VALID"
    IN_PROGRESS = "IN_PROGRESS"


class EvictionPolicyType(Enum):
    """What an eviction policy is based on."""

    time_based = "time_based"
    frequency_based = "frequency_based"


@dataclass(frozen=True)
class CacheKey:
    """Identity of a cached reply: the command, the keys it reads and its
    other arguments (two calls of one command on the same keys with
    different arguments are different entries)."""

    command: str
    redis_keys: tuple
    redis_args: tuple = ()


class CacheEntry:
    """A cached reply with its status and the connection that fetched it.

    Two entries are equal when they hash alike, i.e. when all four fields
    are equal."""

    def __init__(self, cache_key: CacheKey, cache_value: bytes, status: CacheEntryStatus,
                 connection_ref: Any) -> None:
        self.cache_key = cache_key
        self.cache_value = cache_value
        self.status = status
        self.connection_ref = connection_ref

    def _identity(self) -> tuple:
        return (self.cache_key, self.cache_value, self.status, self.connection_ref)

    def __hash__(self) -> int:
        return hash(self._identity())

    def __eq__(self, other: Any) -> bool:
        return hash(self) == hash(other)


class EvictionPolicyInterface(ABC):
    """Chooses which entries of its cache go first."""

    @property
    @abstractmethod
    def cache(self) -> Any:
        """The cache this policy works on."""

    @cache.setter
    @abstractmethod
    def cache(self, value: Any) -> None:
        pass

    @property
    @abstractmethod
    def type(self) -> EvictionPolicyType:
        """What the policy is based on."""

    @abstractmethod
    def evict_next(self) -> CacheKey:
        """Remove the next entry to go; return its key."""

    @abstractmethod
    def evict_many(self, count: int) -> List[CacheKey]:
        """Remove the next ``count`` entries; return their keys."""

    @abstractmethod
    def touch(self, cache_key: CacheKey) -> None:
        """Record a use of the entry under ``cache_key``."""


class CacheConfigurationInterface(ABC):
    """What a cache is built from: its class, size limit and eviction policy."""

    @abstractmethod
    def get_cache_class(self) -> Any:
        pass

    @abstractmethod
    def get_max_size(self) -> int:
        pass

    @abstractmethod
    def get_eviction_policy(self) -> Any:
        pass

    @abstractmethod
    def is_exceeds_max_size(self, count: int) -> bool:
        pass

    @abstractmethod
    def is_allowed_to_cache(self, command: str) -> bool:
        pass


class CacheInterface(ABC):
    """A client-side cache of command replies."""

    @property
    @abstractmethod
    def collection(self) -> OrderedDict:
        """The entries, oldest use first."""

    @property
    @abstractmethod
    def config(self) -> CacheConfigurationInterface:
        pass

    @property
    @abstractmethod
    def eviction_policy(self) -> EvictionPolicyInterface:
        pass

    @property
    @abstractmethod
    def size(self) -> int:
        pass

    @abstractmethod
    def get(self, key: CacheKey) -> Union[CacheEntry, None]:
        pass

    @abstractmethod
    def set(self, entry: CacheEntry) -> bool:
        pass

    @abstractmethod
    def delete_by_cache_keys(self, cache_keys: List[CacheKey]) -> List[bool]:
        pass

    @abstractmethod
    def delete_by_redis_keys(self, redis_keys: List[bytes]) -> List[bool]:
        pass

    @abstractmethod
    def flush(self) -> int:
        pass

    @abstractmethod
    def is_cachable(self, key: CacheKey) -> bool:
        pass


class DefaultCache(CacheInterface):
    """An in-memory cache ordered by use, evicted by the config's policy.

    ``set`` does not evict by itself; :class:`CacheProxy` does, once the
    cache has grown past the configured size."""

    def __init__(self, cache_config: CacheConfigurationInterface) -> None:
        self._cache: OrderedDict = OrderedDict()
        self._cache_config = cache_config
        policy_class = cache_config.get_eviction_policy().value
        self._eviction_policy = policy_class()
        self._eviction_policy.cache = self

    @property
    def collection(self) -> OrderedDict:
        return self._cache

    @property
    def config(self) -> CacheConfigurationInterface:
        return self._cache_config

    @property
    def eviction_policy(self) -> EvictionPolicyInterface:
        return self._eviction_policy

    @property
    def size(self) -> int:
        return len(self._cache)

    def set(self, entry: CacheEntry) -> bool:
        """Store ``entry`` if its command may be cached; True if stored."""
        key = entry.cache_key
        if not self.is_cachable(key):
            return False
        self._cache[key] = entry
        self._eviction_policy.touch(key)
        return True

    def get(self, key: CacheKey) -> Union[CacheEntry, None]:
        """The entry under ``key`` (its use recorded), or None."""
        entry = self._cache.get(key)
        if entry is not None:
            self._eviction_policy.touch(key)
        return entry

    def delete_by_cache_keys(self, cache_keys: List[CacheKey]) -> List[bool]:
        """Remove the given entries; one flag per key: whether it was there."""
        removed = []
        for key in cache_keys:
            found = self.get(key) is not None
            if found:
                del self._cache[key]
            removed.append(found)
        return removed

    def delete_by_redis_keys(self, redis_keys: Union[List[bytes], List[str]]) -> List[bool]:
        """Remove every entry that reads one of ``redis_keys`` (as bytes or as
        the UTF-8 str of the same name); one True per removed entry."""
        doomed = []
        for redis_key in redis_keys:
            names = {redis_key}
            if isinstance(redis_key, str):
                names.add(redis_key.encode("utf-8"))
            elif isinstance(redis_key, bytes):
                try:
                    names.add(redis_key.decode("utf-8"))
                except UnicodeDecodeError:
                    pass
            doomed.extend(k for k in self._cache if any(n in k.redis_keys for n in names))
        for key in doomed:
            self._cache.pop(key, None)
        return [True] * len(doomed)

    def flush(self) -> int:
        """Remove everything; return how many entries there were."""
        count = len(self._cache)
        self._cache.clear()
        return count

    def is_cachable(self, key: CacheKey) -> bool:
        return self._cache_config.is_allowed_to_cache(key.command)


class CacheProxy(CacheInterface):
    """Wraps a cache and evicts an entry whenever a ``set`` takes it past the
    configured maximum size."""

    def __init__(self, cache: CacheInterface) -> None:
        self._cache = cache

    @property
    def collection(self) -> OrderedDict:
        return self._cache.collection

    @property
    def config(self) -> CacheConfigurationInterface:
        return self._cache.config

    @property
    def eviction_policy(self) -> EvictionPolicyInterface:
        return self._cache.eviction_policy

    @property
    def size(self) -> int:
        return self._cache.size

    def get(self, key: CacheKey) -> Union[CacheEntry, None]:
        return self._cache.get(key)

    def set(self, entry: CacheEntry) -> bool:
        stored = self._cache.set(entry)
        if self.config.is_exceeds_max_size(self.size):
            self.eviction_policy.evict_next()
        return stored

    def delete_by_cache_keys(self, cache_keys: List[CacheKey]) -> List[bool]:
        return self._cache.delete_by_cache_keys(cache_keys)

    def delete_by_redis_keys(self, redis_keys: List[bytes]) -> List[bool]:
        return self._cache.delete_by_redis_keys(redis_keys)

    def flush(self) -> int:
        return self._cache.flush()

    def is_cachable(self, key: CacheKey) -> bool:
        return self._cache.is_cachable(key)


class LRUPolicy(EvictionPolicyInterface):
    """Evict the least recently used entry first."""

    def __init__(self) -> None:
        self.cache = None

    @property
    def cache(self) -> Any:
        return self._cache

    @cache.setter
    def cache(self, cache: Any) -> None:
        self._cache = cache

    @property
    def type(self) -> EvictionPolicyType:
        return EvictionPolicyType.time_based

    def _entries(self) -> OrderedDict:
        if not isinstance(self._cache, CacheInterface):
            raise ValueError("Eviction policy should be associated with valid cache.")
        return self._cache.collection

    def evict_next(self) -> CacheKey:
        key, _entry = self._entries().popitem(last=False)
        return key

    def evict_many(self, count: int) -> List[CacheKey]:
        entries = self._entries()
        if count > len(entries):
            raise ValueError("Evictions count is above cache size")
        return [entries.popitem(last=False)[0] for _ in range(count)]

    def touch(self, cache_key: CacheKey) -> None:
        entries = self._entries()
        if entries.get(cache_key) is None:
            raise ValueError("Given entry does not belong to the cache")
        entries.move_to_end(cache_key)


class EvictionPolicy(Enum):
    """The available eviction policies (the value is the policy class)."""

    LRU = LRUPolicy


class CacheConfig(CacheConfigurationInterface):
    """Cache settings: ``max_size`` entries of the read-only commands in
    :attr:`DEFAULT_ALLOW_LIST`, evicted by ``eviction_policy``."""

    DEFAULT_CACHE_CLASS = DefaultCache
    DEFAULT_EVICTION_POLICY = EvictionPolicy.LRU
    DEFAULT_MAX_SIZE = 10000

    # read-only commands whose replies depend only on the keys they name
    DEFAULT_ALLOW_LIST = [
        "BITCOUNT", "BITFIELD_RO", "BITPOS", "EXISTS",
        "GEODIST", "GEOHASH", "GEOPOS", "GEORADIUSBYMEMBER_RO", "GEORADIUS_RO", "GEOSEARCH",
        "GET", "GETBIT", "GETRANGE",
        "HEXISTS", "HGET", "HGETALL", "HKEYS", "HLEN", "HMGET", "HSTRLEN", "HVALS",
        "JSON.ARRINDEX", "JSON.ARRLEN", "JSON.GET", "JSON.MGET", "JSON.OBJKEYS",
        "JSON.OBJLEN", "JSON.RESP", "JSON.STRLEN", "JSON.TYPE",
        "LCS", "LINDEX", "LLEN", "LPOS", "LRANGE", "MGET",
        "SCARD", "SDIFF", "SINTER", "SINTERCARD", "SISMEMBER", "SMEMBERS", "SMISMEMBER",
        "SORT_RO", "STRLEN", "SUBSTR", "SUNION",
        "TS.GET", "TS.INFO", "TS.RANGE", "TS.REVRANGE", "TYPE",
        "XLEN", "XPENDING", "XRANGE", "XREAD", "XREVRANGE",
        "ZCARD", "ZCOUNT", "ZDIFF", "ZINTER", "ZINTERCARD", "ZLEXCOUNT", "ZMSCORE",
        "ZRANGE", "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANK", "ZREVRANGE", "ZREVRANGEBYLEX",
        "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCORE", "ZUNION",
    ]

    def __init__(self, max_size: int = DEFAULT_MAX_SIZE,
                 cache_class: Any = DEFAULT_CACHE_CLASS,
                 eviction_policy: EvictionPolicy = DEFAULT_EVICTION_POLICY) -> None:
        self._cache_class = cache_class
        self._max_size = max_size
        self._eviction_policy = eviction_policy

    def get_cache_class(self) -> Any:
        return self._cache_class

    def get_max_size(self) -> int:
        return self._max_size

    def get_eviction_policy(self) -> EvictionPolicy:
        return self._eviction_policy

    def is_exceeds_max_size(self, count: int) -> bool:
        return count > self._max_size

    def is_allowed_to_cache(self, command: str) -> bool:
        return command in self.DEFAULT_ALLOW_LIST


class CacheFactoryInterface(ABC):
    """Builds caches."""

    @abstractmethod
    def get_cache(self) -> CacheInterface:
        pass


class CacheFactory(CacheFactoryInterface):
    """Builds a :class:`CacheProxy` around the config's cache class
    (a default :class:`CacheConfig` when none is given)."""

    def __init__(self, cache_config: Optional[CacheConfig] = None) -> None:
        self._config = cache_config if cache_config is not None else CacheConfig()

    def get_cache(self) -> CacheInterface:
        cache_class = self._config.get_cache_class()
        return CacheProxy(cache_class(cache_config=self._config))
