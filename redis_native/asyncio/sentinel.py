"""``redis.asyncio.sentinel``: asyncio clients that find the master (or a
replica) of a service monitored by Redis Sentinel, and follow it through
failovers::

    from redis_native.asyncio.sentinel import Sentinel
    sentinel = Sentinel([("10.0.0.1", 26379), ("10.0.0.2", 26379)], socket_timeout=0.5)
    master = sentinel.master_for("mymaster")
    await master.set("k", "v")
    replica = sentinel.slave_for("mymaster")
    await replica.get("k")

The same design as the synchronous :mod:`redis_native.sentinel`: a
:class:`SentinelManagedConnection` asks its pool where to connect each time it
opens a socket, and a ``READONLY`` error on a master's connection (the master
was demoted by a failover) drops the connection and raises
``ConnectionError``, which the client's retry policy then takes to the new
master.

A managed connection replaces ``connect`` and ``read_response``, and
declares both to the client (``_declare_native_connection``): ``connect``
does nothing on an open connection, and what ``read_response`` adds (the
READONLY rule) is its ``_on_readonly`` hook, which the native command paths
call too.  So commands on it take the same one-call C path as on a plain
connection; a subclass that replaces either method again takes the general
path through them (the stand-in rule of docs/architecture.md).
"""
from __future__ import annotations

import asyncio
import random
import weakref
from typing import (Any, AsyncIterator, Dict, Iterable, Optional, Sequence, Tuple,
                    Type)

from ..commands import AsyncSentinelCommands
from ..sentinel import Sentinel as _SyncSentinel
from ..sentinel import _set_up_sentinel
from ..exceptions import ConnectionError, ReadOnlyError, ResponseError, TimeoutError
from ..typing import EncodableT
from .client import Redis, _declare_native_connection
from .connection import Connection, ConnectionPool, SSLConnection

__all__ = ["MasterNotFoundError", "Sentinel", "SentinelConnectionPool",
           "SentinelManagedConnection", "SentinelManagedSSLConnection", "SlaveNotFoundError"]

Address = Tuple[Any, Any]


class MasterNotFoundError(ConnectionError):
    """No sentinel could name a healthy master for the service."""


class SlaveNotFoundError(ConnectionError):
    """Neither a replica nor the master of the service could be reached."""


class SentinelManagedConnection(Connection):
    """A connection whose address comes from the sentinels each time it
    connects: the master's, or the next replica in round robin (the master
    when no replica answers).

    ``connection_pool`` (required) is the :class:`SentinelConnectionPool`
    that makes it (held through a weak proxy)."""

    def __init__(self, **kwargs: Any):
        try:
            self.connection_pool = kwargs.pop("connection_pool")
        except KeyError:
            raise TypeError(
                f"{type(self).__name__}() needs connection_pool= (the "
                "SentinelConnectionPool that tells it where to connect)"
            ) from None
        super().__init__(**kwargs)

    def __repr__(self) -> str:
        # redis.asyncio's spelling, unbalanced parenthesis included
        where = f",host={self.host},port={self.port}" if self.host else ""
        return f"<{type(self).__module__}.{type(self).__name__}{where})>"

    async def connect_to(self, address: Address) -> None:
        """Connect to ``address`` (a ``(host, port)`` pair), once (no retry)."""
        self.host, self.port = address
        await self.connect_check_health(
            check_health=self.connection_pool.check_connection,
            retry_socket_connect=False,
        )

    async def _connect_retry(self) -> None:
        if self.is_connected:
            return
        pool = self.connection_pool
        if pool.is_master:
            await self.connect_to(await pool.get_master_address())
            return
        async for address in pool.rotate_slaves():
            try:
                return await self.connect_to(address)
            except ConnectionError:
                continue
        # rotate_slaves() raises SlaveNotFoundError once it runs out; a
        # replaced rotate_slaves() that just stops ends here
        raise SlaveNotFoundError(f"No slave found for {pool.service_name!r}")

    async def connect(self) -> None:
        """Ask the sentinels where to go and connect there, per ``self.retry``
        (each attempt asks again).  Nothing to do when already connected."""
        if self.is_connected:
            return
        await self.retry.call_with_retry(self._connect_retry, _no_pause)

    async def read_response(self, disable_decoding: bool = False,
                            timeout: Optional[float] = None, *,
                            disconnect_on_error: bool = True,
                            push_request: Optional[bool] = False) -> Any:
        """Read one reply, as :meth:`Connection.read_response`.  A READONLY
        error on a master pool's connection means the master was demoted: the
        connection is dropped (the next connect asks the sentinels again) and
        ``ConnectionError("The previous master is now a slave")`` is raised.
        On a replica pool's connection the error stands."""
        try:
            return await super().read_response(
                disable_decoding=disable_decoding,
                timeout=timeout,
                disconnect_on_error=disconnect_on_error,
                push_request=push_request,
            )
        except ReadOnlyError as error:
            hook = self._on_readonly
            if hook is not None:
                await hook(error)
            raise

    async def _on_readonly(self, error: ReadOnlyError) -> None:
        """What a READONLY error reply means here (every read path calls this,
        the native ones included): on a master pool's connection, that the
        server was demoted to a replica by a failover, so the connection is
        dropped and ConnectionError raised (a Retry with ConnectionError among
        its errors then reaches the new master).  On a replica pool's
        connection the error stands."""
        if self.connection_pool.is_master:
            await self.disconnect()
            failure = ConnectionError("The previous master is now a slave")
            failure.__context__ = error     # as if raised while handling it
            raise failure


async def _no_pause(error: BaseException) -> None:
    # the failure handler of connect()'s retries: each attempt asks the
    # sentinels again, nothing to undo in between
    await asyncio.sleep(0)


class SentinelManagedSSLConnection(SentinelManagedConnection, SSLConnection):
    """A :class:`SentinelManagedConnection` over TLS (``ssl=True`` given to
    :meth:`Sentinel.master_for` / ``slave_for``)."""


class SentinelConnectionPool(ConnectionPool):
    """A pool of :class:`SentinelManagedConnection` for one service, either
    for its master (``is_master=True``, the default) or for its replicas.

    ``check_connection`` is handed to the connect handshake as
    ``check_health``.  ``ssl=True`` selects
    :class:`SentinelManagedSSLConnection` unless ``connection_class`` is
    given.  The other keyword arguments are those of the connections.
    """

    def __init__(self, service_name: str, sentinel_manager: "Sentinel", **kwargs: Any):
        use_ssl = kwargs.pop("ssl", False)
        kwargs.setdefault(
            "connection_class",
            SentinelManagedSSLConnection if use_ssl else SentinelManagedConnection,
        )
        self.is_master = kwargs.pop("is_master", True)
        self.check_connection = kwargs.pop("check_connection", False)
        super().__init__(**kwargs)
        # the connections reach back through a weak proxy: the pool holds them
        self.connection_kwargs["connection_pool"] = weakref.proxy(self)
        self.service_name = service_name
        self.sentinel_manager = sentinel_manager
        self.master_address: Optional[Address] = None
        self.slave_rr_counter: Optional[int] = None

    def __repr__(self) -> str:
        role = "master" if self.is_master else "slave"
        return (f"<{type(self).__module__}.{type(self).__name__}"
                f"(service={self.service_name}({role}))>")

    def __reduce__(self):
        # the settings hold the Sentinel manager and a weak proxy of the pool
        raise TypeError(
            f"cannot pickle {type(self).__name__!r}: build a new one in the other "
            "process with Sentinel(...).master_for() / slave_for()"
        )

    def reset(self) -> None:
        """Forget every connection, the master's address and the rotation."""
        super().reset()
        self.master_address = None
        self.slave_rr_counter = None

    def owns_connection(self, connection: Any) -> bool:
        """Whether ``connection`` is one of this process's and, for a master
        pool, connected to the current master (not to a former one)."""
        if self.is_master and self.master_address != (connection.host, connection.port):
            return False
        return getattr(connection, "_pid", None) == self._pid

    async def get_master_address(self) -> Address:
        """Ask the sentinels for the master's address.  For a master pool, a
        changed address is remembered and the pool's idle connections are
        disconnected, so that each reconnects to the new master."""
        address = await self.sentinel_manager.discover_master(self.service_name)
        if self.is_master and self.master_address != address:
            self.master_address = address
            await self.disconnect(inuse_connections=False)
        return address

    async def rotate_slaves(self) -> AsyncIterator[Address]:
        """Yield every live replica once, round robin from where the last
        rotation stopped (a random one the first time), then the master;
        raise :class:`SlaveNotFoundError` when the caller wants more."""
        slaves = await self.sentinel_manager.discover_slaves(self.service_name)
        if slaves:
            if self.slave_rr_counter is None:
                self.slave_rr_counter = random.randint(0, len(slaves) - 1)
            for _ in range(len(slaves)):
                self.slave_rr_counter = (self.slave_rr_counter + 1) % len(slaves)
                yield slaves[self.slave_rr_counter]
        try:
            yield await self.get_master_address()
        except MasterNotFoundError:
            pass
        raise SlaveNotFoundError(f"No slave found for {self.service_name!r}")


class Sentinel(AsyncSentinelCommands):
    """An asyncio client of a group of Redis Sentinel processes.

    ``sentinels``: ``(host, port)`` pairs, one per sentinel.

    ``min_other_sentinels``: a sentinel that sees fewer other sentinels than
    this is not believed about the master.

    ``sentinel_kwargs``: connection arguments for the sentinels themselves
    (when not given, the ``socket_*`` options of ``connection_kwargs``).

    ``force_master_ip``: connect to this host instead of the IP the
    sentinels give for the master (e.g. behind NAT).

    ``connection_kwargs``: connection arguments for the masters and replicas,
    passed on by :meth:`master_for` and :meth:`slave_for`.

    The ``sentinel_*`` command methods go to every sentinel at once (``True``
    when every reply is) or, for some, to one at random (``once=True``).
    """

    def __init__(
        self,
        sentinels: Iterable[Tuple[str, int]],
        min_other_sentinels: int = 0,
        sentinel_kwargs: Optional[Dict[str, Any]] = None,
        force_master_ip: Optional[str] = None,
        **connection_kwargs: Any,
    ):
        _set_up_sentinel(self, Redis, sentinels, min_other_sentinels, sentinel_kwargs,
                         force_master_ip, connection_kwargs)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Send a command to every sentinel concurrently and return whether
        every reply is truthy, or with ``once=True`` to one sentinel chosen
        at random.  ``return_responses=True`` returns the replies (a list)."""
        once = bool(kwargs.pop("once", False))
        return_responses = bool(kwargs.pop("return_responses", False))
        if once:
            response = await random.choice(self.sentinels).execute_command(*args, **kwargs)
            return [response] if return_responses else bool(response)
        responses = await asyncio.gather(
            *(sentinel.execute_command(*args, **kwargs) for sentinel in self.sentinels))
        return responses if return_responses else all(responses)

    def __repr__(self) -> str:
        addresses = ",".join(
            "{host}:{port}".format_map(sentinel.connection_pool.connection_kwargs)
            for sentinel in self.sentinels
        )
        # redis.asyncio's spelling: the class object, then its name
        return f"<{type(self)}.{type(self).__name__}(sentinels=[{addresses}])>"

    # the rules of the synchronous Sentinel, which do no I/O
    check_master_state = _SyncSentinel.check_master_state
    filter_slaves = _SyncSentinel.filter_slaves
    _client_for = _SyncSentinel._client_for

    async def discover_master(self, service_name: str) -> Address:
        """Ask the sentinels in turn for the master of ``service_name`` and
        return its ``(host, port)``.  The first sentinel with a usable answer
        moves to the front of :attr:`sentinels`.  Raises
        :class:`MasterNotFoundError` (listing the sentinels that could not be
        reached) when none has one."""
        errors = []
        for index, sentinel in enumerate(self.sentinels):
            try:
                masters = await sentinel.sentinel_masters()
            except (ConnectionError, TimeoutError) as e:
                errors.append(f"{sentinel} - {e!r}")
                continue
            state = masters.get(service_name)
            if state and self.check_master_state(state, service_name):
                self.sentinels[0], self.sentinels[index] = sentinel, self.sentinels[0]
                ip = state["ip"] if self._force_master_ip is None else self._force_master_ip
                return ip, state["port"]
        detail = f" : {', '.join(errors)}" if errors else ""
        raise MasterNotFoundError(f"No master found for {service_name!r}{detail}")

    async def discover_slaves(self, service_name: str) -> Sequence[Tuple[EncodableT, EncodableT]]:
        """The live replicas of ``service_name`` according to the first
        sentinel that knows of any; ``[]`` when none does."""
        for sentinel in self.sentinels:
            try:
                slaves = await sentinel.sentinel_slaves(service_name)
            except (ConnectionError, ResponseError, TimeoutError):
                continue
            alive = self.filter_slaves(slaves)
            if alive:
                return alive
        return []

    def master_for(
        self,
        service_name: str,
        redis_class: Type[Redis] = Redis,
        connection_pool_class: Type[SentinelConnectionPool] = SentinelConnectionPool,
        **kwargs: Any,
    ) -> Redis:
        """A client (``redis_class``, default :class:`Redis`) of the master
        of ``service_name``.  Its connections ask the sentinels for the
        master when they connect, so the client follows failovers; after a
        failover the idle connections to the old master are closed.
        ``kwargs`` override this Sentinel's ``connection_kwargs``."""
        return self._client_for(service_name, True, redis_class, connection_pool_class, kwargs)

    def slave_for(
        self,
        service_name: str,
        redis_class: Type[Redis] = Redis,
        connection_pool_class: Type[SentinelConnectionPool] = SentinelConnectionPool,
        **kwargs: Any,
    ) -> Redis:
        """A client of the replicas of ``service_name``: each new connection
        goes to the next live replica (round robin), or to the master when no
        replica can be reached.  ``kwargs`` as for :meth:`master_for`."""
        return self._client_for(service_name, False, redis_class, connection_pool_class, kwargs)


# connect() returns at once on an open connection, and read_response() adds
# only the _on_readonly hook, which the native paths call too: commands on
# managed connections keep the native paths (one C call per command)
_declare_native_connection(SentinelManagedConnection)
