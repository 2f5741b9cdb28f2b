"""A distributed lock kept in a Redis key (the ``redis.lock`` module of redis-py).

The lock is one string key: its value is a random token owned by whoever set
it (``SET name token NX [PX ms]``).  Releasing, extending and re-arming the
lock are done by small Lua scripts that first check the token, so a client can
never touch a lock that expired and was taken by somebody else meanwhile.

The key layout and token format are the same as redis-py's, so a
``redis_native`` lock and a redis-py lock on the same name exclude each other.
"""

from __future__ import annotations
import threading
import time as mod_time
from types import SimpleNamespace, TracebackType
from typing import Any, Optional, Type, Union

from .exceptions import LockError, LockNotOwnedError
from .typing import Number
from .utils import lazy_module_logger

__all__ = ["Lock"]


# ``logger`` is made (and ``logging`` imported) by the first message, not by
# ``import redis_native``; a logger assigned to it (a test's mock) is the one used.
_logger, __getattr__ = lazy_module_logger(globals())


class _ThreadToken(threading.local):
    """Per-thread token storage.  The class attribute makes a thread that
    never acquired the lock see ``token = None`` rather than raising
    AttributeError (redis-py uses a bare threading.local and raises)."""

    token = None


class Lock:
    """A lock shared by every process that can reach the same Redis server.

    Only mutual exclusion is provided: avoiding deadlocks (for instance by
    giving the lock a ``timeout``) is up to the callers.

    Use it as a context manager or call :meth:`acquire` / :meth:`release`::

        with client.lock("resource", timeout=10):
            ...
    """

    # Script objects, registered with the first client that builds a lock of
    # this class (see register_scripts) and then shared by every instance.
    lua_release = None
    lua_extend = None
    lua_reacquire = None

    # Delete the lock key, but only when it still holds our token.
    #   KEYS[1]  lock key
    #   ARGV[1]  token of this lock
    # Replies 1 when the key was deleted, 0 when it is missing or not ours.
    LUA_RELEASE_SCRIPT = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
        end
        redis.call('DEL', KEYS[1])
        return 1
    """

    # Give more time to a lock we hold.
    #   KEYS[1]  lock key
    #   ARGV[1]  token of this lock
    #   ARGV[2]  milliseconds
    #   ARGV[3]  "1": the TTL becomes ARGV[2]; "0": ARGV[2] is added to the
    #            time the key has left
    # Replies 1 on success; 0 when the key is missing, not ours, or has no TTL.
    LUA_EXTEND_SCRIPT = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
        end
        local left = redis.call('PTTL', KEYS[1])
        if left < 0 then
            return 0
        end
        local ttl = ARGV[2]
        if ARGV[3] == "0" then
            ttl = tonumber(ARGV[2]) + left
        end
        redis.call('PEXPIRE', KEYS[1], ttl)
        return 1
    """

    # Reset the TTL of a lock we hold.
    #   KEYS[1]  lock key
    #   ARGV[1]  token of this lock
    #   ARGV[2]  new TTL in milliseconds
    # Replies 1 on success, 0 when the key is missing or not ours.
    LUA_REACQUIRE_SCRIPT = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
            return 0
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
    """

    def __init__(
        self,
        redis: Any,
        name: str,
        timeout: Optional[Number] = None,
        sleep: Number = 0.1,
        blocking: bool = True,
        blocking_timeout: Optional[Number] = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ):
        """Describe a lock called ``name`` kept on the client ``redis``.

        Nothing is sent to the server until :meth:`acquire`.

        ``timeout``: seconds (int or float) after which the server drops the
        lock on its own; ``None`` (or 0) keeps it until :meth:`release`.

        ``sleep``: seconds to wait between two attempts while a blocking
        :meth:`acquire` waits for another holder to let go.

        ``blocking``: whether :meth:`acquire` waits for the lock (default) or
        returns False at once when it is taken.  :meth:`acquire` can override
        it per call.

        ``blocking_timeout``: the longest time, in seconds, a blocking
        :meth:`acquire` keeps trying; ``None`` means forever.

        ``thread_local``: keep the token of the acquired lock per thread
        (default).  A thread then cannot release or extend a lock that another
        thread acquired through the same Lock object -- which protects a
        thread whose lock expired from releasing the lock a second thread has
        since acquired.  Pass False when one thread acquires and hands the
        Lock object to another thread that releases it.

        ``raise_on_release_error``: when leaving a ``with`` block finds the
        lock already released or owned by someone else, raise the LockError
        (default) or, if False, only log a warning.
        """
        self.redis = redis
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = bool(thread_local)
        self.raise_on_release_error = raise_on_release_error
        self.local = _ThreadToken() if self.thread_local else SimpleNamespace()
        self.local.token = None
        self.register_scripts()

    def register_scripts(self) -> None:
        """Create the class's Script objects the first time they are needed."""
        cls = self.__class__
        client = self.redis
        if cls.lua_release is None:
            cls.lua_release = client.register_script(cls.LUA_RELEASE_SCRIPT)
        if cls.lua_extend is None:
            cls.lua_extend = client.register_script(cls.LUA_EXTEND_SCRIPT)
        if cls.lua_reacquire is None:
            cls.lua_reacquire = client.register_script(cls.LUA_REACQUIRE_SCRIPT)

    # ------------------------------------------------------------ context manager
    def __enter__(self) -> "Lock":
        if self.acquire():
            return self
        raise LockError(
            "Unable to acquire lock within the time specified",
            lock_name=self.name,
        )

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        try:
            self.release()
        except LockError:
            if self.raise_on_release_error:
                raise
            _logger().warning(
                "Lock was unlocked or no longer owned when exiting context manager."
            )

    # ------------------------------------------------------------ acquiring
    def acquire(
        self,
        sleep: Optional[Number] = None,
        blocking: Optional[bool] = None,
        blocking_timeout: Optional[Number] = None,
        token: Optional[Union[str, bytes]] = None,
    ) -> bool:
        """Take the lock; return True once it is held.

        With ``blocking`` False a single attempt is made and its outcome
        returned.  Otherwise the attempt is repeated every ``sleep`` seconds
        until it succeeds or ``blocking_timeout`` seconds have gone by (then
        False).  Arguments left as None take the values given to the
        constructor.

        ``token`` is the value stored in the key: bytes, or anything the
        client's encoder accepts.  By default a fresh UUID is used.
        """
        if sleep is None:
            sleep = self.sleep
        if token is None:
            import uuid  # loaded by the first acquire, not by import redis_native

            token = uuid.uuid1().hex.encode()
        else:
            token = self.redis.get_encoder().encode(token)
        if blocking is None:
            blocking = self.blocking
        if blocking_timeout is None:
            blocking_timeout = self.blocking_timeout
        deadline = None
        if blocking_timeout is not None:
            deadline = mod_time.monotonic() + blocking_timeout
        while True:
            if self.do_acquire(token):
                self.local.token = token
                return True
            if not blocking:
                return False
            # give up when the next attempt would come after the deadline
            if deadline is not None and mod_time.monotonic() + sleep > deadline:
                return False
            mod_time.sleep(sleep)

    def do_acquire(self, token: Union[str, bytes]) -> bool:
        """One attempt: create the key with ``token`` unless it exists."""
        px = int(self.timeout * 1000) if self.timeout else None
        return bool(self.redis.set(self.name, token, nx=True, px=px))

    # ------------------------------------------------------------ inspecting
    def locked(self) -> bool:
        """Whether anybody (any process, any thread) holds the lock now."""
        return self.redis.get(self.name) is not None

    def owned(self) -> bool:
        """Whether the lock is currently held with this object's token (as
        seen by the calling thread when the token is thread-local)."""
        current = self.redis.get(self.name)
        # a decode_responses client hands back str; tokens are kept as bytes
        if current and not isinstance(current, bytes):
            current = self.redis.get_encoder().encode(current)
        mine = self.local.token
        return mine is not None and current == mine

    # ------------------------------------------------------------ releasing
    def release(self) -> None:
        """Let go of the lock.

        Raises LockError when this object (in this thread) holds no token, and
        LockNotOwnedError when the key expired or belongs to someone else.
        """
        token = self.local.token
        if token is None:
            raise LockError(
                "Cannot release a lock that's not owned or is already unlocked.",
                lock_name=self.name,
            )
        self.local.token = None
        self.do_release(token)

    def do_release(self, expected_token: Union[str, bytes]) -> None:
        """Delete the key if it still holds ``expected_token``."""
        released = self.lua_release(
            keys=[self.name], args=[expected_token], client=self.redis
        )
        if not released:
            raise LockNotOwnedError(
                "Cannot release a lock that's no longer owned",
                lock_name=self.name,
            )

    # ------------------------------------------------------------ prolonging
    def extend(self, additional_time: Number, replace_ttl: bool = False) -> bool:
        """Give the held lock ``additional_time`` more seconds (int or float).

        The time is added to what the lock has left, or with ``replace_ttl``
        becomes its new TTL.  Only locks created with a ``timeout`` can be
        extended.  Returns True; raises LockNotOwnedError when the lock is no
        longer ours.
        """
        if self.local.token is None:
            raise LockError("Cannot extend an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError("Cannot extend a lock with no timeout", lock_name=self.name)
        return self.do_extend(additional_time, replace_ttl)

    def do_extend(self, additional_time: Number, replace_ttl: bool) -> bool:
        """Run the extend script with the time in milliseconds."""
        ms = int(additional_time * 1000)
        done = self.lua_extend(
            keys=[self.name],
            args=[self.local.token, ms, "1" if replace_ttl else "0"],
            client=self.redis,
        )
        if not done:
            raise LockNotOwnedError(
                "Cannot extend a lock that's no longer owned",
                lock_name=self.name,
            )
        return True

    def reacquire(self) -> bool:
        """Reset the held lock's TTL to the full ``timeout``.  Returns True;
        raises LockNotOwnedError when the lock is no longer ours."""
        if self.local.token is None:
            raise LockError("Cannot reacquire an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError(
                "Cannot reacquire a lock with no timeout",
                lock_name=self.name,
            )
        return self.do_reacquire()

    def do_reacquire(self) -> bool:
        """Run the reacquire script with ``timeout`` in milliseconds."""
        ms = int(self.timeout * 1000)
        done = self.lua_reacquire(
            keys=[self.name], args=[self.local.token, ms], client=self.redis
        )
        if not done:
            raise LockNotOwnedError(
                "Cannot reacquire a lock that's no longer owned",
                lock_name=self.name,
            )
        return True
