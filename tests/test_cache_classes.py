"""``redis.cache``: the client-side cache building blocks behave as redis-py's.

The same sequence of operations runs on redis_native's classes and on
redis-py's; the observable results (return values, sizes, eviction order,
exceptions) must be equal.  A client refuses a cache on RESP2, as redis-py does.
"""
from __future__ import annotations

import importlib

import pytest


def _cache_module(lib):
    return importlib.import_module(lib.__name__ + ".cache")


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return ("raise", type(e).__name__, str(e))


def _entry(c, command, keys, value=b"v", args=()):
    return c.CacheEntry(c.CacheKey(command, tuple(keys), tuple(args)), value,
                        c.CacheEntryStatus.VALID, "conn")


def _script(c):
    """Operations on a size-3 LRU cache; returns what each one gave."""
    cache = c.CacheFactory(c.CacheConfig(max_size=3)).get_cache()
    out = [type(cache).__name__, type(cache.eviction_policy).__name__,
           cache.eviction_policy.type.value, cache.size]
    keys = [c.CacheKey("GET", (b"k%d" % i,)) for i in range(5)]
    for i in range(3):
        out.append(cache.set(_entry(c, "GET", [b"k%d" % i], b"v%d" % i)))
    out.append(cache.get(keys[0]).cache_value)          # k0 is now the most recent
    out.append(cache.set(_entry(c, "GET", [b"k3"], b"v3")))   # evicts k1
    out.append([k.redis_keys for k in cache.collection])
    out.append(cache.get(keys[1]))
    out.append(cache.set(_entry(c, "SET", [b"x"])))     # not a cachable command
    out.append(cache.is_cachable(c.CacheKey("HGETALL", ("h",))))
    out.append(cache.delete_by_cache_keys([keys[2], keys[1]]))
    out.append(cache.delete_by_redis_keys(["k3", b"nope"]))   # str finds the bytes key
    out.append(cache.size)
    out.append(_outcome(lambda: cache.eviction_policy.evict_many(5)))
    out.append(cache.set(_entry(c, "MGET", [b"a", b"b"], args=(1,))))
    out.append(cache.eviction_policy.evict_next().command)
    out.append(_outcome(lambda: cache.eviction_policy.touch(keys[4])))
    out.append(cache.flush())
    out.append(cache.size)
    return out


def test_lru_cache_operations(impl, redis_py):
    assert _script(_cache_module(impl)) == _script(_cache_module(redis_py))


def test_config(impl, redis_py):
    n, o = _cache_module(impl), _cache_module(redis_py)
    assert n.CacheConfig.DEFAULT_ALLOW_LIST == o.CacheConfig.DEFAULT_ALLOW_LIST
    assert n.CacheConfig.DEFAULT_MAX_SIZE == o.CacheConfig.DEFAULT_MAX_SIZE
    for m in (n, o):
        cfg = m.CacheConfig()
        assert cfg.get_cache_class() is m.DefaultCache
        assert cfg.get_eviction_policy() is m.EvictionPolicy.LRU
        assert m.EvictionPolicy.LRU.value is m.LRUPolicy
        assert cfg.get_max_size() == 10000
        assert cfg.is_exceeds_max_size(10001) and not cfg.is_exceeds_max_size(10000)
        assert cfg.is_allowed_to_cache("GET") and not cfg.is_allowed_to_cache("get")
    assert [s.value for s in n.CacheEntryStatus] == [s.value for s in o.CacheEntryStatus]
    assert [s.value for s in n.EvictionPolicyType] == [s.value for s in o.EvictionPolicyType]


def test_keys_and_entries(lib):
    c = _cache_module(lib)
    k = c.CacheKey("GET", ("a",))
    assert k == c.CacheKey("GET", ("a",), ()) and hash(k) == hash(c.CacheKey("GET", ("a",)))
    assert k != c.CacheKey("GET", ("a",), ("x",))
    with pytest.raises(Exception) as info:
        k.command = "SET"
    assert type(info.value).__name__ == "FrozenInstanceError"
    e1 = c.CacheEntry(k, b"v", c.CacheEntryStatus.VALID, "conn")
    assert e1 == c.CacheEntry(k, b"v", c.CacheEntryStatus.VALID, "conn")
    assert e1 != c.CacheEntry(k, b"v", c.CacheEntryStatus.IN_PROGRESS, "conn")


def test_policy_without_a_cache(impl, redis_py):
    def run(m):
        policy = _cache_module(m).LRUPolicy()
        return [_outcome(policy.evict_next), _outcome(lambda: policy.evict_many(1))]

    assert run(impl) == run(redis_py)


def test_client_refuses_a_cache_on_resp2(impl, redis_py, redis_server):
    def run(m):
        cfg = _cache_module(m).CacheConfig()
        return _outcome(lambda: m.Redis(host=redis_server.host, port=redis_server.port,
                                        cache_config=cfg))

    assert run(impl) == run(redis_py)
    assert run(impl)[:2] == ("raise", "RedisError")


def test_reexported_where_redis_py_has_them(lib):
    c = _cache_module(lib)
    assert lib.client.CacheConfig is c.CacheConfig
    assert lib.client.CacheInterface is c.CacheInterface
    for name in ("CacheEntry", "CacheEntryStatus", "CacheFactory", "CacheFactoryInterface",
                 "CacheInterface", "CacheKey", "CacheProxy"):
        assert getattr(lib.connection, name) is getattr(c, name)
