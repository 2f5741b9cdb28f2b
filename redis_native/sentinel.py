"""Redis Sentinel: clients that find the current master (or a replica) of a
monitored service by asking the sentinels, and follow it through failovers.

The API is redis-py's ``redis.sentinel``::

    from redis_native.sentinel import Sentinel
    sentinel = Sentinel([("10.0.0.1", 26379), ("10.0.0.2", 26379)], socket_timeout=0.5)
    master = sentinel.master_for("mymaster", socket_timeout=0.5)
    replica = sentinel.slave_for("mymaster", socket_timeout=0.5)
    master.set("k", "v")
    replica.get("k")

Only what happens once per connection is Python here: asking the sentinels
where the master is (or which replicas are up), connecting there, and
noticing a demoted master.  Commands on a managed connection take the same C
path as on a plain :class:`~redis_native.connection.Connection`:

* ``SentinelManagedConnection.connect`` and ``read_response`` are declared
  built-in (the stand-in rule, docs/architecture.md): C may skip ``connect()``
  for a connection that is already open (it would return at once) and reads
  replies itself.
* The ``READONLY`` reply of a demoted master is turned into a disconnect and
  a ``ConnectionError`` by the connection's ``_on_readonly`` hook, which C
  calls only when such an error reply arrives (on single commands, pipelines
  and transactions alike).
* ``SentinelConnectionPool.owns_connection`` refuses connections to a former
  master; C's ``release()`` asks it, as redis-py's does (one Python call per
  release for these pools).
"""
from __future__ import annotations

import random
import weakref
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Type

from . import _native
from .client import Redis
from .commands import SentinelCommands
from .connection import Connection, ConnectionPool, SSLConnection
from .exceptions import (
    ConnectionError,
    ReadOnlyError,
    ResponseError,
    TimeoutError,
)

__all__ = [
    "MasterNotFoundError",
    "SlaveNotFoundError",
    "SentinelManagedConnection",
    "SentinelManagedSSLConnection",
    "SentinelConnectionPoolProxy",
    "SentinelConnectionPool",
    "Sentinel",
]

Address = Tuple[str, int]


class MasterNotFoundError(ConnectionError):
    """No sentinel could name a healthy master for the service."""


class SlaveNotFoundError(ConnectionError):
    """Neither a replica nor the master of the service could be reached."""


def _demoted_master(connection: "SentinelManagedConnection", error: ReadOnlyError) -> None:
    """The ``_on_readonly`` hook of managed connections, called by C when a
    reply is a READONLY error.  On a master pool's connection it means the
    server was demoted to a replica by a failover: drop the socket so that
    the next connect asks the sentinels again, and raise ConnectionError (a
    Retry with ConnectionError among its errors then reaches the new master).
    On a replica pool's connection the error stands."""
    if connection.connection_pool.is_master:
        connection.disconnect()
        failure = ConnectionError("The previous master is now a slave")
        failure.__context__ = error     # as if raised while handling it
        raise failure


class SentinelManagedConnection(Connection):
    """A connection whose address is asked of the sentinels each time it
    connects: the master's, or the next replica in round robin (the master
    when no replica answers).

    ``connection_pool`` (required) is the :class:`SentinelConnectionPoolProxy`
    of the pool that makes these connections.
    """

    def __init__(self, **kwargs: Any):
        try:
            self.connection_pool = kwargs.pop("connection_pool")
        except KeyError:
            raise TypeError(
                f"{type(self).__name__}() needs connection_pool= (the "
                "SentinelConnectionPoolProxy that tells it where to connect)"
            ) from None
        super().__init__(**kwargs)
        # C calls it on a READONLY error reply (src/connection.c)
        self._on_readonly = _demoted_master

    def __repr__(self) -> str:
        where = f",host={self.host},port={self.port}" if self.host else ""
        return (f"<{type(self).__module__}.{type(self).__name__}"
                f"(service={self.connection_pool.service_name}{where})>")

    def connect_to(self, address: Address) -> None:
        """Connect to ``address`` (a ``(host, port)`` pair), once (no retry)."""
        self.host, self.port = address
        self.connect_check_health(
            check_health=self.connection_pool.check_connection,
            retry_socket_connect=False,
        )

    def _connect_retry(self) -> None:
        if self.is_connected:
            return
        pool = self.connection_pool
        if pool.is_master:
            self.connect_to(pool.get_master_address())
            return
        for address in pool.rotate_slaves():
            try:
                return self.connect_to(address)
            except ConnectionError:
                continue
        # rotate_slaves() raises SlaveNotFoundError once it runs out; a
        # replaced rotate_slaves() that just stops ends here
        raise SlaveNotFoundError(f"No slave found for {pool.service_name!r}")

    def connect(self) -> None:
        """Ask the sentinels where to go and connect there, per ``self.retry``
        (each attempt asks again).  Nothing to do when already connected."""
        return self.retry.call_with_retry(self._connect_retry, lambda error: None)

    def read_response(
        self,
        disable_decoding: bool = False,
        *,
        disconnect_on_error: Optional[bool] = False,
        push_request: Optional[bool] = False,
    ) -> Any:
        """Read one reply, as :meth:`Connection.read_response`.  A READONLY
        error on a master pool's connection (the master was demoted)
        disconnects it and raises ``ConnectionError("The previous master is
        now a slave")``: the ``_on_readonly`` hook, run by C on every read
        path.  A reply left half-read is never reused, whatever
        ``disconnect_on_error`` says (the connection counts the replies it
        owes)."""
        return super().read_response(
            disable_decoding=disable_decoding,
            disconnect_on_error=disconnect_on_error,
            push_request=push_request,
        )


class SentinelManagedSSLConnection(SentinelManagedConnection, SSLConnection):
    """A :class:`SentinelManagedConnection` over TLS (``ssl=True`` given to
    :meth:`Sentinel.master_for` / ``slave_for``); works when
    :class:`~redis_native.connection.SSLConnection` does."""


class SentinelConnectionPoolProxy:
    """What the connections of a :class:`SentinelConnectionPool` need from it
    (where to connect), without a strong reference back to the pool: the
    pool holds its connections and they hold this."""

    def __init__(
        self,
        connection_pool: "SentinelConnectionPool",
        is_master: bool,
        check_connection: bool,
        service_name: str,
        sentinel_manager: "Sentinel",
    ):
        self.connection_pool_ref = weakref.ref(connection_pool)
        self.is_master = is_master
        self.check_connection = check_connection
        self.service_name = service_name
        self.sentinel_manager = sentinel_manager
        self.reset()

    def reset(self) -> None:
        """Forget the master's address and the replica rotation."""
        self.master_address: Optional[Address] = None
        self.slave_rr_counter: Optional[int] = None

    def get_master_address(self) -> Address:
        """Ask the sentinels for the master's address.  For a master pool, a
        changed address is remembered and the pool's idle connections are
        disconnected, so that each reconnects to the new master."""
        address = self.sentinel_manager.discover_master(self.service_name)
        if self.is_master and self.master_address != address:
            self.master_address = address
            pool = self.connection_pool_ref()
            if pool is not None:
                pool.disconnect(inuse_connections=False)
        return address

    def rotate_slaves(self) -> Iterator[Address]:
        """Yield every live replica once, round robin from where the last
        rotation stopped (a random one the first time), then the master;
        raise :class:`SlaveNotFoundError` when the caller wants more."""
        slaves = self.sentinel_manager.discover_slaves(self.service_name)
        if slaves:
            if self.slave_rr_counter is None:
                self.slave_rr_counter = random.randint(0, len(slaves) - 1)
            for _ in range(len(slaves)):
                self.slave_rr_counter = (self.slave_rr_counter + 1) % len(slaves)
                yield slaves[self.slave_rr_counter]
        try:
            yield self.get_master_address()
        except MasterNotFoundError:
            pass
        raise SlaveNotFoundError(f"No slave found for {self.service_name!r}")


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
        self.proxy = SentinelConnectionPoolProxy(
            connection_pool=self,
            is_master=self.is_master,
            check_connection=self.check_connection,
            service_name=service_name,
            sentinel_manager=sentinel_manager,
        )
        super().__init__(**kwargs)
        self.connection_kwargs["connection_pool"] = self.proxy
        self.service_name = service_name
        self.sentinel_manager = sentinel_manager

    def __repr__(self) -> str:
        role = "master" if self.is_master else "slave"
        return (f"<{type(self).__module__}.{type(self).__name__}"
                f"(service={self.service_name}({role}))>")

    def __reduce__(self):
        # ConnectionPool pickles by its settings; this pool's settings hold
        # the Sentinel manager and a proxy with a weak reference back to it
        raise TypeError(
            f"cannot pickle {type(self).__name__!r}: build a new one in the other "
            "process with Sentinel(...).master_for() / slave_for()"
        )

    def reset(self) -> None:
        """Forget every connection, the master's address and the rotation."""
        super().reset()
        self.proxy.reset()

    @property
    def master_address(self) -> Optional[Address]:
        """The master's address as last discovered (None before)."""
        return self.proxy.master_address

    def owns_connection(self, connection: Any) -> bool:
        """Whether a released connection may go back into the pool: one made
        in this process, and for a master pool one connected to the current
        master (a connection to a former master is dropped)."""
        if self.is_master and self.master_address != (connection.host, connection.port):
            return False
        return super().owns_connection(connection)

    def get_master_address(self) -> Address:
        """See :meth:`SentinelConnectionPoolProxy.get_master_address`."""
        return self.proxy.get_master_address()

    def rotate_slaves(self) -> Iterator[Address]:
        """Round-robin replica addresses, then the master (see
        :meth:`SentinelConnectionPoolProxy.rotate_slaves`)."""
        return self.proxy.rotate_slaves()


def _set_up_sentinel(sentinel: Any, redis_class: type, sentinels: Iterable[Tuple[str, int]],
                     min_other_sentinels: int, sentinel_kwargs: Optional[Dict[str, Any]],
                     force_master_ip: Optional[str], connection_kwargs: Dict[str, Any]) -> None:
    """The attributes of a new Sentinel manager (sync or asyncio): a
    ``redis_class`` client per sentinel, made with ``sentinel_kwargs`` (by
    default the ``socket_*`` options of ``connection_kwargs``)."""
    if sentinel_kwargs is None:
        sentinel_kwargs = {k: v for k, v in connection_kwargs.items() if k.startswith("socket_")}
    sentinel.sentinel_kwargs = sentinel_kwargs
    sentinel.sentinels = [
        redis_class(host=host, port=port, **sentinel_kwargs)
        # unpacked as written: a malformed entry raises Python's own unpacking
        # error (ValueError/TypeError and its message), as redis-py's does
        for host, port in sentinels
    ]
    sentinel.min_other_sentinels = min_other_sentinels
    sentinel.connection_kwargs = connection_kwargs
    sentinel._force_master_ip = force_master_ip


class Sentinel(SentinelCommands):
    """A client of a group of Redis Sentinel processes.

    ``sentinels``: ``(host, port)`` pairs, one per sentinel.

    ``min_other_sentinels``: a sentinel that sees fewer other sentinels than
    this is not believed about the master (it may be cut off from the rest).

    ``sentinel_kwargs``: connection arguments for the sentinels themselves
    (e.g. ``{"password": ...}`` for sentinels with ``requirepass``).  When
    not given, the ``socket_*`` options of ``connection_kwargs`` are used.

    ``force_master_ip``: connect to this host instead of the IP the
    sentinels give for the master (e.g. behind NAT).

    ``connection_kwargs``: connection arguments for the masters and replicas
    (``password``, ``socket_timeout``, ``db``...), passed on by
    :meth:`master_for` and :meth:`slave_for`.

    The ``sentinel_*`` command methods go to every sentinel (``True`` when
    all succeed) or, for some, to one at random (``once=True``).
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

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Send a command to every sentinel and return whether all replies
        are truthy, or with ``once=True`` to one sentinel chosen at random.
        ``return_responses=True`` returns the list of replies instead."""
        once = bool(kwargs.pop("once", False))
        return_responses = bool(kwargs.pop("return_responses", False))
        if once:
            targets = [random.choice(self.sentinels)]
        else:
            targets = self.sentinels
        responses = [sentinel.execute_command(*args, **kwargs) for sentinel in targets]
        if return_responses:
            return responses
        return all(responses) if not once else bool(responses[0])

    def __repr__(self) -> str:
        addresses = ",".join(
            "{host}:{port}".format_map(sentinel.connection_pool.connection_kwargs)
            for sentinel in self.sentinels
        )
        return f"<{type(self).__module__}.{type(self).__name__}(sentinels=[{addresses}])>"

    def check_master_state(self, state: Dict[str, Any], service_name: str) -> bool:
        """Whether a sentinel's view of a master (``SENTINEL MASTERS`` entry)
        is usable: a master, not subjectively or objectively down, seen by a
        sentinel that sees at least ``min_other_sentinels`` others."""
        if not state["is_master"] or state["is_sdown"] or state["is_odown"]:
            return False
        return state["num-other-sentinels"] >= self.min_other_sentinels

    def discover_master(self, service_name: str) -> Address:
        """Ask the sentinels in turn for the master of ``service_name`` and
        return its ``(host, port)``.  The first sentinel with a usable answer
        moves to the front of :attr:`sentinels`.  Raises
        :class:`MasterNotFoundError` (listing the sentinels that could not be
        reached) when none has one."""
        errors = []
        for index, sentinel in enumerate(self.sentinels):
            try:
                masters = sentinel.sentinel_masters()
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

    def filter_slaves(self, slaves: Iterable[Dict[str, Any]]) -> List[Address]:
        """The ``(ip, port)`` of the replicas not flagged s_down or o_down."""
        return [
            (slave["ip"], slave["port"])
            for slave in slaves
            if not (slave["is_odown"] or slave["is_sdown"])
        ]

    def discover_slaves(self, service_name: str) -> List[Address]:
        """The live replicas of ``service_name`` according to the first
        sentinel that knows of any; ``[]`` when none does."""
        for sentinel in self.sentinels:
            try:
                slaves = sentinel.sentinel_slaves(service_name)
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
        failover the connections to the old master are closed.  ``kwargs``
        override this Sentinel's ``connection_kwargs`` for this client."""
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

    def _client_for(self, service_name: str, is_master: bool, redis_class: type,
                    connection_pool_class: type, kwargs: Dict[str, Any]) -> Any:
        # a client owning a new pool of the service's master or replicas;
        # kwargs (the caller's) win over this manager's connection_kwargs
        kwargs["is_master"] = is_master
        connection_kwargs = dict(self.connection_kwargs)
        connection_kwargs.update(kwargs)
        return redis_class.from_pool(
            connection_pool_class(service_name, self, **connection_kwargs))


# connect() returns at once for an open connection, and read_response() is
# the C read with the _on_readonly hook: C may stand in for both.
_native._declare_builtin(SentinelManagedConnection)
