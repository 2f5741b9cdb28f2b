"""``redis.asyncio.lock.Lock``: the distributed lock of :mod:`redis_native.lock`
for the asyncio client (the same Lua scripts; every call is awaited)."""
import asyncio
import logging
import threading
import uuid
from types import SimpleNamespace
from typing import Any, Awaitable, Optional, Union

from ..exceptions import LockError, LockNotOwnedError
from ..lock import Lock as _SyncLock
from ..typing import Number

__all__ = ["Lock"]

logger = logging.getLogger(__name__)


class Lock:
    """A lock shared through a Redis key, for asyncio code.

    ``async with r.lock("name", timeout=5):`` acquires it (waiting per
    ``blocking``/``blocking_timeout``, polling every ``sleep`` seconds) and
    releases it on exit.  The token identifying the holder is kept per
    thread unless ``thread_local`` is false.  Semantics and arguments are
    those of :class:`redis_native.lock.Lock`.
    """

    lua_release = None
    lua_extend = None
    lua_reacquire = None

    LUA_RELEASE_SCRIPT = _SyncLock.LUA_RELEASE_SCRIPT
    LUA_EXTEND_SCRIPT = _SyncLock.LUA_EXTEND_SCRIPT
    LUA_REACQUIRE_SCRIPT = _SyncLock.LUA_REACQUIRE_SCRIPT

    def __init__(
        self,
        redis: Any,
        name: Union[str, bytes, memoryview],
        timeout: Optional[float] = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: Optional[Number] = None,
        thread_local: bool = True,
        raise_on_release_error: bool = True,
    ):
        self.redis = redis
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = bool(thread_local)
        self.local = threading.local() if self.thread_local else SimpleNamespace()
        self.raise_on_release_error = raise_on_release_error
        self.local.token = None
        self.register_scripts()

    def register_scripts(self) -> None:
        cls = self.__class__
        client = self.redis
        if cls.lua_release is None:
            cls.lua_release = client.register_script(cls.LUA_RELEASE_SCRIPT)
        if cls.lua_extend is None:
            cls.lua_extend = client.register_script(cls.LUA_EXTEND_SCRIPT)
        if cls.lua_reacquire is None:
            cls.lua_reacquire = client.register_script(cls.LUA_REACQUIRE_SCRIPT)

    async def __aenter__(self) -> "Lock":
        if await self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified")

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        try:
            await self.release()
        except LockError:
            if self.raise_on_release_error:
                raise
            logger.warning("Lock was unlocked or no longer owned when exiting context manager.")

    def _encoder(self) -> Any:
        try:
            return self.redis.connection_pool.get_encoder()
        except AttributeError:
            return self.redis.get_encoder()

    async def acquire(
        self,
        blocking: Optional[bool] = None,
        blocking_timeout: Optional[Number] = None,
        token: Optional[Union[str, bytes]] = None,
    ) -> bool:
        """Take the lock; True once held, False when not blocking (or when
        ``blocking_timeout`` passed) and someone else holds it."""
        sleep = self.sleep
        if token is None:
            token = uuid.uuid1().hex.encode()
        else:
            token = self._encoder().encode(token)
        if blocking is None:
            blocking = self.blocking
        if blocking_timeout is None:
            blocking_timeout = self.blocking_timeout
        loop = asyncio.get_running_loop()
        stop_trying_at = None
        if blocking_timeout is not None:
            stop_trying_at = loop.time() + blocking_timeout
        while True:
            if await self.do_acquire(token):
                self.local.token = token
                return True
            if not blocking:
                return False
            next_try_at = loop.time() + sleep
            if stop_trying_at is not None and next_try_at > stop_trying_at:
                return False
            await asyncio.sleep(sleep)

    async def do_acquire(self, token: Union[str, bytes]) -> bool:
        timeout = int(self.timeout * 1000) if self.timeout else None
        return bool(await self.redis.set(self.name, token, nx=True, px=timeout))

    async def locked(self) -> bool:
        """True if anyone holds the lock."""
        return await self.redis.get(self.name) is not None

    async def owned(self) -> bool:
        """True if this lock object (this thread's token) holds the lock."""
        stored_token = await self.redis.get(self.name)
        if stored_token and not isinstance(stored_token, bytes):
            stored_token = self._encoder().encode(stored_token)
        return self.local.token is not None and stored_token == self.local.token

    async def release(self) -> None:
        """Release the lock; LockNotOwnedError if it was lost meanwhile.  The
        token is forgotten only once the server answered."""
        expected_token = self.local.token
        if expected_token is None:
            raise LockError("Cannot release a lock that's not owned or is already unlocked.",
                            lock_name=self.name)
        try:
            await self.do_release(expected_token)
        except LockNotOwnedError:
            self.local.token = None
            raise
        self.local.token = None

    async def do_release(self, expected_token: bytes) -> None:
        if not bool(await self.lua_release(keys=[self.name], args=[expected_token],
                                           client=self.redis)):
            raise LockNotOwnedError("Cannot release a lock that's no longer owned")

    def extend(self, additional_time: Number, replace_ttl: bool = False) -> Awaitable[bool]:
        """Add ``additional_time`` seconds to the lock's TTL (or set the TTL
        to it with ``replace_ttl``)."""
        if self.local.token is None:
            raise LockError("Cannot extend an unlocked lock")
        if self.timeout is None:
            raise LockError("Cannot extend a lock with no timeout")
        return self.do_extend(additional_time, replace_ttl)

    async def do_extend(self, additional_time: Number, replace_ttl: bool) -> bool:
        additional_time = int(additional_time * 1000)
        if not bool(await self.lua_extend(
                keys=[self.name],
                args=[self.local.token, additional_time, replace_ttl and "1" or "0"],
                client=self.redis)):
            raise LockNotOwnedError("Cannot extend a lock that's no longer owned")
        return True

    def reacquire(self) -> Awaitable[bool]:
        """Reset the lock's TTL to ``timeout``."""
        if self.local.token is None:
            raise LockError("Cannot reacquire an unlocked lock")
        if self.timeout is None:
            raise LockError("Cannot reacquire a lock with no timeout")
        return self.do_reacquire()

    async def do_reacquire(self) -> bool:
        timeout = int(self.timeout * 1000)
        if not bool(await self.lua_reacquire(keys=[self.name], args=[self.local.token, timeout],
                                             client=self.redis)):
            raise LockNotOwnedError("Cannot reacquire a lock that's no longer owned")
        return True
