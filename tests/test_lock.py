"""Tests of redis_native.lock.Lock against a real redis-server, with redis-py's
Lock as the oracle for behaviour, messages and key semantics.

Timing: the machine is shared and noisy, so time is only ever checked with
loose bounds (a lower bound the code guarantees, an upper bound far away).
"""
from __future__ import annotations

import importlib
import logging
import threading
import time

import pytest
import redis.lock as oracle_lock_mod


@pytest.fixture
def lock_mod(impl):
    return importlib.import_module(impl.__name__ + ".lock")


@pytest.fixture
def exc(impl):
    return importlib.import_module(impl.__name__ + ".exceptions")


def run_in_thread(fn, timeout=60):
    """Run ``fn`` in another thread; return its result or re-raise its error."""
    box = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "worker thread hung"
    if "error" in box:
        raise box["error"]
    return box["result"]


# ------------------------------------------------------------------ class shape
def test_lock_class_shape(r, lock_mod):
    Lock = lock_mod.Lock
    lock = r.lock("shape")
    assert type(lock) is Lock
    for attr in ("LUA_RELEASE_SCRIPT", "LUA_EXTEND_SCRIPT", "LUA_REACQUIRE_SCRIPT"):
        assert isinstance(getattr(Lock, attr), str)
    # scripts are registered once per class and shared by every instance
    assert Lock.lua_release is not None
    assert Lock.lua_extend is not None
    assert Lock.lua_reacquire is not None
    other = r.lock("shape2")
    assert other.lua_release is lock.lua_release
    assert other.lua_extend is lock.lua_extend
    assert other.lua_reacquire is lock.lua_reacquire
    assert type(Lock.lua_release).__name__ == "Script"
    assert Lock.lua_release.script == Lock.LUA_RELEASE_SCRIPT


def test_redis_lock_passes_arguments(r, lock_mod):
    lock = r.lock("args", timeout=7, sleep=0.5, blocking=False, blocking_timeout=3,
                  thread_local=False, raise_on_release_error=False)
    assert lock.redis is r
    assert lock.name == "args"
    assert lock.timeout == 7
    assert lock.sleep == 0.5
    assert lock.blocking is False
    assert lock.blocking_timeout == 3
    assert lock.thread_local is False
    assert lock.raise_on_release_error is False
    assert lock.local.token is None

    default = r.lock("args")
    assert (default.timeout, default.sleep, default.blocking, default.blocking_timeout,
            default.thread_local, default.raise_on_release_error) == (None, 0.1, True, None, True, True)
    assert isinstance(default.local, threading.local)


def test_lock_class_argument(r, lock_mod):
    class MyLock(lock_mod.Lock):
        pass

    lock = r.lock("custom", lock_class=MyLock, timeout=5)
    assert type(lock) is MyLock
    assert lock.acquire(blocking=False)
    lock.release()


def test_direct_construction(r, lock_mod):
    lock = lock_mod.Lock(r, "direct", timeout=5)
    assert lock.acquire()
    assert r.get("direct") == lock.local.token
    lock.release()


def test_exception_classes(exc):
    assert issubclass(exc.LockError, ValueError)
    assert issubclass(exc.LockNotOwnedError, exc.LockError)


# ------------------------------------------------------------ acquire / release
def test_acquire_and_release(r):
    lock = r.lock("foo")
    assert lock.acquire(blocking=False) is True
    token = lock.local.token
    assert isinstance(token, bytes) and len(token) == 32
    int(token, 16)  # uuid hex
    assert r.get("foo") == token
    assert r.ttl("foo") == -1  # no timeout: no TTL
    assert lock.release() is None
    assert r.get("foo") is None
    assert lock.local.token is None


def test_each_acquire_makes_a_new_token(r):
    lock = r.lock("foo")
    lock.acquire()
    first = lock.local.token
    lock.release()
    lock.acquire()
    assert lock.local.token != first
    lock.release()


def test_acquire_with_token(r):
    lock = r.lock("foo")
    assert lock.acquire(token="my-token")
    assert lock.local.token == b"my-token"
    assert r.get("foo") == b"my-token"
    assert lock.owned()
    lock.release()

    assert lock.acquire(token=b"raw\xff")
    assert r.get("foo") == b"raw\xff"
    lock.release()

    assert lock.acquire(token=12345)
    assert r.get("foo") == b"12345"
    lock.release()


def test_acquire_unicode_token(r):
    lock = r.lock("foo")
    assert lock.acquire(token="jeton-\u00e9")
    assert lock.local.token == "jeton-\u00e9".encode()
    assert lock.owned()
    lock.release()


def test_timeout_sets_ttl(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert 8000 < r.pttl("foo") <= 10000
    lock.release()


def test_float_timeout(r):
    lock = r.lock("foo", timeout=9.5)
    assert lock.acquire(blocking=False)
    assert 7000 < r.pttl("foo") <= 9500
    lock.release()


def test_zero_timeout_means_no_ttl(r):
    lock = r.lock("foo", timeout=0)
    assert lock.acquire(blocking=False)
    assert r.ttl("foo") == -1
    lock.release()


def test_acquire_fails_when_key_exists(r):
    r.set("foo", "somebody")
    lock = r.lock("foo")
    assert lock.acquire(blocking=False) is False
    assert lock.local.token is None
    assert r.get("foo") == b"somebody"


def test_context_manager(r):
    lock = r.lock("foo", timeout=10)
    with lock as entered:
        assert entered is lock
        assert r.get("foo") == lock.local.token
        assert lock.owned()
    assert r.get("foo") is None
    assert lock.local.token is None


def test_context_manager_raises_when_not_acquired(r, exc):
    holder = r.lock("foo")
    assert holder.acquire()
    with pytest.raises(exc.LockError) as info:
        with r.lock("foo", blocking=False):
            pytest.fail("must not get here")
    assert not isinstance(info.value, exc.LockNotOwnedError)
    assert str(info.value) == "Unable to acquire lock within the time specified"
    assert info.value.lock_name == "foo"
    holder.release()


def test_context_manager_blocking_timeout(r, exc):
    holder = r.lock("foo")
    holder.acquire()
    start = time.monotonic()
    with pytest.raises(exc.LockError, match="Unable to acquire lock"):
        with r.lock("foo", blocking_timeout=0.3, sleep=0.05):
            pass
    assert time.monotonic() - start < 30
    holder.release()


def test_context_manager_body_exception_still_releases(r):
    with pytest.raises(KeyError):
        with r.lock("foo"):
            raise KeyError("boom")
    assert r.get("foo") is None


# ------------------------------------------------------------ blocking
def test_non_blocking_fails_immediately(r):
    r.lock("foo").acquire()
    # a huge sleep proves that no waiting happens
    lock = r.lock("foo", sleep=20, blocking=False)
    start = time.monotonic()
    assert lock.acquire() is False
    assert time.monotonic() - start < 10


def test_acquire_blocking_argument_overrides_constructor(r):
    r.lock("foo").acquire()
    lock = r.lock("foo", sleep=20, blocking=True)
    start = time.monotonic()
    assert lock.acquire(blocking=False) is False
    assert time.monotonic() - start < 10


def test_blocking_timeout(r):
    r.lock("foo").acquire()
    lock = r.lock("foo", blocking_timeout=0.5, sleep=0.05)
    start = time.monotonic()
    assert lock.acquire() is False
    elapsed = time.monotonic() - start
    # it gives up only when the next attempt would pass the deadline
    assert 0.3 <= elapsed < 30
    assert lock.local.token is None


def test_blocking_timeout_argument_overrides_constructor(r):
    r.lock("foo").acquire()
    lock = r.lock("foo", blocking_timeout=1000, sleep=0.05)
    start = time.monotonic()
    assert lock.acquire(blocking_timeout=0.2) is False
    assert time.monotonic() - start < 30


def test_blocking_timeout_shorter_than_sleep(r):
    r.lock("foo").acquire()
    lock = r.lock("foo", sleep=20)
    start = time.monotonic()
    # the first retry would come after the deadline: give up without sleeping
    assert lock.acquire(blocking_timeout=0.1) is False
    assert time.monotonic() - start < 10


def test_blocking_acquire_waits_for_release(r):
    holder = r.lock("foo", thread_local=False)
    holder.acquire()
    released = threading.Event()

    def release_later():
        time.sleep(0.3)
        holder.release()
        released.set()

    t = threading.Thread(target=release_later, daemon=True)
    t.start()
    waiter = r.lock("foo", sleep=0.05)
    assert waiter.acquire(blocking_timeout=60) is True
    assert released.is_set()
    assert waiter.owned()
    waiter.release()
    t.join(10)


def test_timeout_expiry_lets_another_client_in(r, impl, redis_server, exc):
    first = r.lock("foo", timeout=0.3)
    assert first.acquire(blocking=False)
    other_client = impl.Redis(host=redis_server.host, port=redis_server.port)
    try:
        second = other_client.lock("foo", sleep=0.05)
        assert second.acquire(blocking_timeout=60) is True
        assert second.owned()
        assert not first.owned()
        assert first.locked()
        # the expired holder cannot release (nor extend) the new holder's lock
        with pytest.raises(exc.LockNotOwnedError):
            first.extend(10)
        with pytest.raises(exc.LockNotOwnedError) as info:
            first.release()
        assert str(info.value) == "Cannot release a lock that's no longer owned"
        assert info.value.lock_name == "foo"
        assert second.owned()
        second.release()
    finally:
        other_client.close()


# ------------------------------------------------------------ locked / owned
def test_locked_and_owned(r):
    lock = r.lock("foo")
    other = r.lock("foo")
    assert not lock.locked() and not lock.owned()
    lock.acquire()
    assert lock.locked() and lock.owned()
    assert other.locked() and not other.owned()
    r.set("foo", "stolen")
    assert lock.locked() and not lock.owned()
    r.delete("foo")
    assert not lock.locked() and not lock.owned()


def test_locked_and_owned_after_release(r):
    lock = r.lock("foo")
    lock.acquire()
    lock.release()
    assert not lock.locked()
    assert not lock.owned()


# ------------------------------------------------------------ release errors
def test_release_unlocked(r, exc):
    lock = r.lock("foo")
    with pytest.raises(exc.LockError) as info:
        lock.release()
    assert not isinstance(info.value, exc.LockNotOwnedError)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == "Cannot release a lock that's not owned or is already unlocked."
    assert info.value.lock_name == "foo"


def test_release_twice(r, exc):
    lock = r.lock("foo")
    lock.acquire()
    lock.release()
    with pytest.raises(exc.LockError, match="already unlocked"):
        lock.release()


def test_release_someone_elses_lock(r, exc):
    lock = r.lock("foo")
    lock.acquire()
    r.set("foo", "somebody else")
    with pytest.raises(exc.LockNotOwnedError) as info:
        lock.release()
    assert str(info.value) == "Cannot release a lock that's no longer owned"
    # the other owner's key is untouched, and our token is forgotten
    assert r.get("foo") == b"somebody else"
    assert lock.local.token is None


def test_release_deleted_lock(r, exc):
    lock = r.lock("foo")
    lock.acquire()
    r.delete("foo")
    with pytest.raises(exc.LockNotOwnedError):
        lock.release()


def test_exit_raises_when_lock_lost(r, exc):
    with pytest.raises(exc.LockNotOwnedError):
        with r.lock("foo"):
            r.set("foo", "other")
    assert r.get("foo") == b"other"


def test_exit_raises_when_already_released(r, exc):
    with pytest.raises(exc.LockError, match="already unlocked"):
        with r.lock("foo") as lock:
            lock.release()


def test_raise_on_release_error_false_logs(r, lock_mod, caplog):
    caplog.set_level(logging.WARNING, logger=lock_mod.__name__)
    with r.lock("foo", raise_on_release_error=False):
        r.set("foo", "other")
    assert r.get("foo") == b"other"
    warnings = [rec for rec in caplog.records
                if rec.levelno == logging.WARNING and rec.name == lock_mod.__name__]
    assert len(warnings) == 1
    assert "no longer owned" in warnings[0].getMessage()

    caplog.clear()
    with r.lock("bar", raise_on_release_error=False) as lock:
        lock.release()
    assert any("unlocked" in rec.getMessage() for rec in caplog.records)


def test_raise_on_release_error_false_does_not_hide_release_calls(r, exc):
    # the flag only concerns the context manager exit: release() still raises
    lock = r.lock("foo", raise_on_release_error=False)
    with pytest.raises(exc.LockError):
        lock.release()


# ------------------------------------------------------------ extend
def test_extend_adds_to_ttl(r):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    assert 8000 < r.pttl("foo") <= 10000
    assert lock.extend(10) is True
    assert 16000 < r.pttl("foo") <= 20000
    lock.release()


def test_extend_float(r):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    assert lock.extend(0.5) is True
    assert 8000 < r.pttl("foo") <= 10500
    lock.release()


def test_extend_replace_ttl(r):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    assert lock.extend(100, replace_ttl=True) is True
    assert 90000 < r.pttl("foo") <= 100000
    assert lock.extend(5, replace_ttl=True) is True
    assert 3000 < r.pttl("foo") <= 5000
    lock.release()


def test_extend_unlocked(r, exc):
    lock = r.lock("foo", timeout=10)
    with pytest.raises(exc.LockError) as info:
        lock.extend(10)
    assert not isinstance(info.value, exc.LockNotOwnedError)
    assert str(info.value) == "Cannot extend an unlocked lock"


def test_extend_without_timeout(r, exc):
    lock = r.lock("foo")
    lock.acquire(blocking=False)
    with pytest.raises(exc.LockError) as info:
        lock.extend(10)
    assert not isinstance(info.value, exc.LockNotOwnedError)
    assert str(info.value) == "Cannot extend a lock with no timeout"
    lock.release()


def test_extend_not_owned(r, exc):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    r.set("foo", "other")
    with pytest.raises(exc.LockNotOwnedError) as info:
        lock.extend(10)
    assert str(info.value) == "Cannot extend a lock that's no longer owned"
    assert info.value.lock_name == "foo"


def test_extend_key_without_ttl_is_refused(r, exc):
    # a held key that lost its TTL (PERSIST) is not extended, as in redis-py
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    r.persist("foo")
    with pytest.raises(exc.LockNotOwnedError):
        lock.extend(10)
    assert r.ttl("foo") == -1
    lock.release()


# ------------------------------------------------------------ reacquire
def test_reacquire(r):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    r.pexpire("foo", 1000)
    assert r.pttl("foo") <= 1000
    assert lock.reacquire() is True
    assert 8000 < r.pttl("foo") <= 10000
    # also works on a key that has lost its TTL
    r.persist("foo")
    assert lock.reacquire() is True
    assert 8000 < r.pttl("foo") <= 10000
    lock.release()


def test_reacquire_unlocked(r, exc):
    lock = r.lock("foo", timeout=10)
    with pytest.raises(exc.LockError) as info:
        lock.reacquire()
    assert str(info.value) == "Cannot reacquire an unlocked lock"


def test_reacquire_without_timeout(r, exc):
    lock = r.lock("foo")
    lock.acquire(blocking=False)
    with pytest.raises(exc.LockError) as info:
        lock.reacquire()
    assert not isinstance(info.value, exc.LockNotOwnedError)
    assert str(info.value) == "Cannot reacquire a lock with no timeout"
    lock.release()


def test_reacquire_not_owned(r, exc):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    r.set("foo", "other")
    with pytest.raises(exc.LockNotOwnedError) as info:
        lock.reacquire()
    assert str(info.value) == "Cannot reacquire a lock that's no longer owned"
    assert r.get("foo") == b"other"
    assert r.ttl("foo") == -1


# ------------------------------------------------------------ threads
def test_thread_local_token_is_per_thread(r, exc, impl_name):
    lock = r.lock("foo", timeout=30)
    assert lock.acquire(blocking=False)
    assert lock.owned()

    def in_other_thread():
        seen = getattr(lock.local, "token", None)
        outcomes = []
        for call in (lock.owned, lock.release, lambda: lock.extend(1), lock.reacquire):
            try:
                outcomes.append(call())
            except (exc.LockError, AttributeError) as e:
                outcomes.append(type(e))
        return seen, outcomes

    seen, outcomes = run_in_thread(in_other_thread)
    assert seen is None
    if impl_name == "redis":
        # redis-py leaves the token unset in other threads: AttributeError
        assert outcomes == [AttributeError] * 4
    else:
        # redis_native: another thread sees "no token" (documented deviation)
        assert outcomes == [False, exc.LockError, exc.LockError, exc.LockError]
    # still held by the main thread
    assert lock.owned()
    lock.release()
    assert not lock.locked()


def test_thread_local_protects_against_expired_release(r, exc):
    # thread-1 acquires with a short timeout, the key expires, thread-2 takes
    # the lock through the same Lock object: thread-1 cannot release it
    lock = r.lock("foo", timeout=0.3, sleep=0.05)
    assert lock.acquire()
    first_token = lock.local.token

    def second_thread():
        assert lock.acquire(blocking_timeout=60)
        return lock.local.token

    second_token = run_in_thread(second_thread)
    assert second_token != first_token
    assert lock.local.token == first_token
    with pytest.raises(exc.LockNotOwnedError):
        lock.release()


def test_thread_local_false_shares_token(r):
    lock = r.lock("foo", timeout=30, thread_local=False)
    assert lock.acquire(blocking=False)
    token = lock.local.token

    def in_other_thread():
        seen = lock.local.token
        owned = lock.owned()
        lock.release()
        return seen, owned

    seen, owned = run_in_thread(in_other_thread)
    assert seen == token
    assert owned is True
    assert not lock.locked()
    assert lock.local.token is None


def test_threads_exclude_each_other(r):
    # several threads increment a counter under the lock with a read-sleep-write
    # cycle; without mutual exclusion updates would be lost
    counter = {"value": 0}
    errors = []

    def worker():
        try:
            lock = r.lock("counter-lock", sleep=0.01, timeout=60)
            for _ in range(5):
                with lock:
                    v = counter["value"]
                    time.sleep(0.001)
                    counter["value"] = v + 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert counter["value"] == 20


# ------------------------------------------------------------ decode_responses
def test_decode_responses_client(r_dec, exc):
    lock = r_dec.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    assert isinstance(lock.local.token, bytes)
    assert r_dec.get("foo") == lock.local.token.decode()
    assert lock.locked()
    assert lock.owned()
    assert lock.extend(10)
    assert 16000 < r_dec.pttl("foo") <= 20000
    assert lock.extend(5, replace_ttl=True)
    assert r_dec.pttl("foo") <= 5000
    assert lock.reacquire()
    assert 8000 < r_dec.pttl("foo") <= 10000
    other = r_dec.lock("foo")
    assert not other.owned()
    assert other.acquire(blocking=False) is False
    lock.release()
    assert not lock.locked()
    with pytest.raises(exc.LockError):
        lock.release()


def test_decode_responses_context_and_not_owned(r_dec, exc):
    with r_dec.lock("foo") as lock:
        assert lock.owned()
    lock.acquire(token="str-token")
    assert r_dec.get("foo") == "str-token"
    assert lock.owned()
    r_dec.set("foo", "other")
    assert not lock.owned()
    with pytest.raises(exc.LockNotOwnedError):
        lock.release()


# ------------------------------------------------------------ interoperability
def test_oracle_lock_blocks_native_lock(r, oracle):
    theirs = oracle.lock("shared", timeout=30)
    assert theirs.acquire(blocking=False)
    ours = r.lock("shared", timeout=30)
    assert ours.locked()
    assert not ours.owned()
    assert ours.acquire(blocking=False) is False
    assert ours.acquire(blocking_timeout=0.2, sleep=0.05) is False
    theirs.release()
    assert ours.acquire(blocking=False) is True
    assert ours.owned()
    ours.release()


def test_native_lock_blocks_oracle_lock(r, oracle, redis_py):
    ours = r.lock("shared", timeout=30)
    assert ours.acquire(blocking=False)
    theirs = oracle.lock("shared", timeout=30)
    assert theirs.locked()
    assert not theirs.owned()
    assert theirs.acquire(blocking=False) is False
    # redis-py cannot release or extend a lock it does not hold
    theirs.local.token = b"not-the-token"
    with pytest.raises(redis_py.exceptions.LockNotOwnedError):
        theirs.extend(5)
    with pytest.raises(redis_py.exceptions.LockNotOwnedError):
        theirs.release()
    assert ours.owned()
    ours.release()
    assert theirs.acquire(blocking=False) is True
    theirs.release()


def test_same_token_is_interchangeable(r, oracle):
    # the stored value is the token and nothing else: a redis-py lock that
    # knows the token can release a native lock and vice versa
    ours = r.lock("shared", timeout=30)
    ours.acquire(token="shared-token")
    theirs = oracle.lock("shared", timeout=30)
    theirs.local.token = b"shared-token"
    assert theirs.owned()
    assert theirs.extend(10)
    theirs.release()
    assert not ours.locked()

    theirs.acquire(token="shared-token")
    ours.local.token = b"shared-token"
    assert ours.owned()
    assert ours.reacquire()
    ours.release()
    assert not theirs.locked()


def test_native_waits_for_oracle_release(r, oracle):
    theirs = oracle.lock("shared", thread_local=False)
    theirs.acquire()

    def release_later():
        time.sleep(0.3)
        theirs.release()

    t = threading.Thread(target=release_later, daemon=True)
    t.start()
    ours = r.lock("shared", sleep=0.05)
    assert ours.acquire(blocking_timeout=60)
    t.join(10)
    ours.release()


def test_same_stored_value_and_ttl_as_oracle(r, oracle):
    ours = r.lock("a", timeout=10)
    theirs = oracle.lock("b", timeout=10)
    ours.acquire(token="t")
    theirs.acquire(token="t")
    assert r.get("a") == oracle.get("b") == b"t"
    assert r.type("a") == oracle.type("b") == b"string"
    assert abs(r.pttl("a") - oracle.pttl("b")) < 5000


# ------------------------------------------------------------ Lua semantics
def _prepare(client, state):
    client.delete("k")
    if state == "missing":
        return
    value = b"tok" if state.startswith("mine") else b"other"
    if state.endswith("ttl"):
        client.set("k", value, px=50000)
    else:
        client.set("k", value)


STATES = ["missing", "theirs", "theirs_ttl", "mine", "mine_ttl"]


SCRIPT_CASES = [
    ("LUA_RELEASE_SCRIPT", [b"tok"]),
    ("LUA_EXTEND_SCRIPT", [b"tok", 20000, "0"]),
    ("LUA_EXTEND_SCRIPT", [b"tok", 20000, "1"]),
    ("LUA_REACQUIRE_SCRIPT", [b"tok", 20000]),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("script,args", SCRIPT_CASES,
                         ids=["release", "extend-add", "extend-replace", "reacquire"])
def test_lua_scripts_match_oracle(r, oracle, lock_mod, script, args, state):
    # our Lua text differs from redis-py's; its effects must not
    outcomes = []
    for source in (getattr(lock_mod.Lock, script), getattr(oracle_lock_mod.Lock, script)):
        _prepare(oracle, state)
        result = oracle.eval(source, 1, "k", *args)
        pttl = oracle.pttl("k")
        # bucket the TTL so that the time spent between runs does not matter
        bucket = pttl if pttl < 0 else (pttl + 5000) // 10000
        outcomes.append((result, oracle.get("k"), bucket))
    assert outcomes[0] == outcomes[1]


# ------------------------------------------------------------ NOSCRIPT recovery
def test_script_flush_between_uses(r):
    lock = r.lock("foo", timeout=10)
    assert lock.acquire(blocking=False)
    lock.release()

    r.script_flush()
    assert lock.acquire(blocking=False)
    r.script_flush()
    assert lock.extend(10)
    assert 16000 < r.pttl("foo") <= 20000
    r.script_flush()
    assert lock.reacquire()
    assert 8000 < r.pttl("foo") <= 10000
    r.script_flush()
    lock.release()
    assert not lock.locked()


def test_script_flush_not_owned_still_detected(r, exc):
    lock = r.lock("foo", timeout=10)
    lock.acquire(blocking=False)
    r.set("foo", "other")
    r.script_flush()
    with pytest.raises(exc.LockNotOwnedError):
        lock.release()


def test_scripts_work_on_a_second_client(r, impl, redis_server):
    # scripts are registered with the first client that built a lock; locks
    # on another client (and another pool) run them through their own client
    r.lock("warmup")
    other = impl.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    try:
        other.script_flush()
        lock = other.lock("foo", timeout=10)
        assert lock.acquire(blocking=False)
        assert lock.extend(1)
        assert lock.reacquire()
        lock.release()
        assert other.get("foo") is None
    finally:
        other.close()
