"""Events a client announces, and the dispatcher that hands them to listeners
(redis-py's ``redis.event``).

A :class:`EventDispatcher` maps event classes to listeners; ``dispatch(event)``
calls ``listen(event)`` on every listener registered for ``type(event)``.
redis_native announces the same events at the same moments as redis-py:

* :class:`AfterPooledConnectionsInstantiationEvent` when a ``Redis`` client
  has its pool (built or given), on the client's dispatcher;
* :class:`AfterSingleConnectionInstantiationEvent` when a
  ``single_connection_client`` has taken its connection;
* :class:`AfterPubSubConnectionInstantiationEvent` when a ``PubSub`` takes its
  connection;
* :class:`AfterConnectionReleasedEvent` when a connection goes back to a
  ``ConnectionPool`` that was given an ``event_dispatcher``.

redis-py's default dispatcher comes with listeners that re-authenticate
connections when a streaming credential provider issues a new token; token
re-authentication is not built yet, so the default dispatcher here starts
with no listeners.
"""

from __future__ import annotations
import threading
from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, Dict, List, Optional, Type, Union

from .credentials import CredentialProvider, StreamingCredentialProvider  # noqa: F401
from .utils import check_protocol_version, deprecated_function  # noqa: F401  (as in redis-py)

__all__ = [
    "AfterAsyncClusterInstantiationEvent",
    "AfterConnectionReleasedEvent",
    "AfterPooledConnectionsInstantiationEvent",
    "AfterPubSubConnectionInstantiationEvent",
    "AfterSingleConnectionInstantiationEvent",
    "AsyncAfterConnectionReleasedEvent",
    "AsyncEventListenerInterface",
    "AsyncOnCommandsFailEvent",
    "ClientType",
    "EventDispatcher",
    "EventDispatcherInterface",
    "EventException",
    "EventListenerInterface",
    "OnCommandsFailEvent",
]


class EventListenerInterface(ABC):
    """Something that reacts to an event."""

    @abstractmethod
    def listen(self, event: object):
        pass


class AsyncEventListenerInterface(ABC):
    """Something that reacts to an event, asynchronously."""

    @abstractmethod
    async def listen(self, event: object):
        pass


class EventDispatcherInterface(ABC):
    """Hands events to the listeners registered for their class."""

    @abstractmethod
    def dispatch(self, event: object):
        pass

    @abstractmethod
    async def dispatch_async(self, event: object):
        pass

    @abstractmethod
    def register_listeners(
        self,
        mappings: Dict[Type[object],
                       List[Union[EventListenerInterface, AsyncEventListenerInterface]]],
    ):
        """Add listeners: ``{EventClass: [listener, ...]}``."""


class EventException(Exception):
    """An exception raised while handling ``event``, with the event attached."""

    def __init__(self, exception: Exception, event: object):
        self.exception = exception
        self.event = event
        super().__init__(exception)


class EventDispatcher(EventDispatcherInterface):
    """Calls the listeners registered for an event's exact class, in the
    order they were registered; a listener's exception propagates to the
    code that announced the event.

    ``event_listeners`` (``{EventClass: [listener, ...]}``) is registered at
    once, as by :meth:`register_listeners`.
    """

    def __init__(
        self,
        event_listeners: Optional[Dict[Type[object], List[EventListenerInterface]]] = None,
    ):
        self._event_listeners_mapping: Dict[Type[object], List[Any]] = {}
        self._lock = threading.Lock()
        self._async_lock: "Optional[asyncio.Lock]" = None  # noqa: F821
        if event_listeners:
            self.register_listeners(event_listeners)

    def _listeners_of(self, event: object) -> List[Any]:
        with self._lock:
            return list(self._event_listeners_mapping.get(type(event), ()))

    def dispatch(self, event: object):
        """Call ``listener.listen(event)`` for each listener of ``type(event)``."""
        for listener in self._listeners_of(event):
            listener.listen(event)

    async def dispatch_async(self, event: object):
        """Await ``listener.listen(event)`` for each listener of ``type(event)``."""
        if self._async_lock is None:
            # asyncio is loaded here, by the first asyncio dispatch, rather
            # than by every ``import redis_native``
            import asyncio

            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            for listener in self._listeners_of(event):
                await listener.listen(event)

    def register_listeners(
        self,
        mappings: Dict[Type[object],
                       List[Union[EventListenerInterface, AsyncEventListenerInterface]]],
    ):
        """Add listeners per event class; a listener already registered for a
        class is not added twice."""
        with self._lock:
            for event_type, listeners in mappings.items():
                current = self._event_listeners_mapping.setdefault(event_type, [])
                for listener in listeners:
                    if listener not in current:
                        current.append(listener)


class _OwnDispatcher:
    """A class attribute standing in for an object's own default
    EventDispatcher until the object first reads it.

    A new dispatcher starts with no listeners, so until somebody reads it to
    register one there is nothing it could do: clients, pools and
    connections built without an ``event_dispatcher`` get theirs on first
    read (stored in the instance under every name given, which then hides
    this attribute) instead of building one each at construction.
    """

    def __init__(self, *names: str) -> None:
        self._names = names     # the names sharing the dispatcher

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        # only called while the instance holds no value of its own
        state = obj.__dict__
        mine = EventDispatcher()
        for name in self._names:
            state.setdefault(name, mine)
        return state.setdefault(self._name, mine)


class ClientType(Enum):
    """Whether a client is synchronous or asyncio-based."""

    SYNC = ("sync",)
    ASYNC = ("async",)


class AfterConnectionReleasedEvent:
    """A connection went back to its pool."""

    def __init__(self, connection):
        self._connection = connection

    @property
    def connection(self):
        return self._connection


class AsyncAfterConnectionReleasedEvent(AfterConnectionReleasedEvent):
    """A connection went back to its pool (asyncio clients)."""


class AfterPooledConnectionsInstantiationEvent:
    """A client has its connection pool(s)."""

    def __init__(self, connection_pools: List, client_type: ClientType,
                 credential_provider: Optional[CredentialProvider] = None):
        self._connection_pools = connection_pools
        self._client_type = client_type
        self._credential_provider = credential_provider

    @property
    def connection_pools(self):
        return self._connection_pools

    @property
    def client_type(self) -> ClientType:
        return self._client_type

    @property
    def credential_provider(self) -> Union[CredentialProvider, None]:
        return self._credential_provider


class AfterSingleConnectionInstantiationEvent:
    """A single-connection client has taken its connection.

    ``connection_lock`` is the lock that serialises the use of that
    connection, when the client has one as a Python object (redis_native's
    lock lives in C: None then)."""

    def __init__(self, connection, client_type: ClientType, connection_lock: Any):
        self._connection = connection
        self._client_type = client_type
        self._connection_lock = connection_lock

    @property
    def connection(self):
        return self._connection

    @property
    def client_type(self) -> ClientType:
        return self._client_type

    @property
    def connection_lock(self) -> Any:
        return self._connection_lock


class AfterPubSubConnectionInstantiationEvent:
    """A PubSub has taken its connection from the pool."""

    def __init__(self, pubsub_connection, connection_pool, client_type: ClientType,
                 connection_lock: Any):
        self._pubsub_connection = pubsub_connection
        self._connection_pool = connection_pool
        self._client_type = client_type
        self._connection_lock = connection_lock

    @property
    def pubsub_connection(self):
        return self._pubsub_connection

    @property
    def connection_pool(self):
        return self._connection_pool

    @property
    def client_type(self) -> ClientType:
        return self._client_type

    @property
    def connection_lock(self) -> Any:
        return self._connection_lock


class AfterAsyncClusterInstantiationEvent:
    """An asyncio cluster client has its nodes (each manages its connections)."""

    def __init__(self, nodes: dict, credential_provider: Optional[CredentialProvider] = None):
        self._nodes = nodes
        self._credential_provider = credential_provider

    @property
    def nodes(self) -> dict:
        return self._nodes

    @property
    def credential_provider(self) -> Union[CredentialProvider, None]:
        return self._credential_provider


class OnCommandsFailEvent:
    """Commands failed with ``exception``."""

    def __init__(self, commands: tuple, exception: Exception):
        self._commands = commands
        self._exception = exception

    @property
    def commands(self) -> tuple:
        return self._commands

    @property
    def exception(self) -> Exception:
        return self._exception


class AsyncOnCommandsFailEvent(OnCommandsFailEvent):
    """Commands failed (asyncio clients)."""
