"""The client classes of ``redis.asyncio.client``: ``Redis``, ``Pipeline``,
``PubSub`` and ``Monitor``.

``Redis`` mixes in the same command methods as the synchronous client
(:mod:`redis_native.commands`, the ``Async*`` aggregates); its
``execute_command`` is a coroutine, so every command method returns an
awaitable.  A command's work -- packing, writing, parsing the reply, matching
it to its waiter, the response callback -- is done in C by the connection's
``_native.AsyncProtocol``; this module takes a connection from the pool,
awaits the future and gives the connection back.

The native path is taken while nothing along the way was replaced (the
stand-in rule of docs/architecture.md, checked here in Python): a subclass or
a patch of ``parse_response``, of the connection's ``send_command`` /
``read_response`` or of the pool's ``get_connection`` / ``release`` is called
exactly where redis-py calls it.
"""
import asyncio
import copy
import inspect
import re
import types
import warnings
from typing import (Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, List, Mapping,
                    Optional, Protocol, Set, Tuple, Type, TypedDict, Union)

from .._parsers.helpers import _RedisCallbacks, _RedisCallbacksRESP2, bool_ok
from ..backoff import ExponentialWithJitterBackoff
from ..client import (  # noqa: F401  (re-exported, as in redis-py)
    EMPTY_RESPONSE,
    NEVER_DECODE,
    AbstractRedis,
    CaseInsensitiveDict,
    _C_CALLBACKS,
    _CLIENT_CALLBACKS,
    _CallbackMemo,
    _callback_options,
    _monitor_client,
    _queue_gaps,
)
from .. import _native
from ..commands import AsyncCoreCommands, AsyncSentinelCommands, list_or_args
from ..commands._stack import StackModuleAccessors
from ..credentials import CredentialProvider
from ..driver_info import DriverInfo, resolve_driver_info
from ..event import (
    AfterPooledConnectionsInstantiationEvent,
    AfterPubSubConnectionInstantiationEvent,
    AfterSingleConnectionInstantiationEvent,
    ClientType,
    EventDispatcher,
)
from ..exceptions import (
    ConnectionError,
    ExecAbortError,
    PubSubError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    WatchError,
)
from ..typing import ChannelT, EncodableT, KeyT  # noqa: F401  (as in redis-py)
from ..utils import SENTINEL, SSL_AVAILABLE, deprecated_function, safe_str, str_if_bytes
from ..utils import deprecated_args, truncate_text  # noqa: F401  (as in redis-py)
from ..utils import NOT_PASSED, show_defaults, warn_passed_deprecated
from .connection import (
    AbstractConnection,
    BlockingConnectionPool,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from .lock import Lock
from .retry import Retry

__all__ = ["Redis", "StrictRedis", "Pipeline", "PubSub", "Monitor", "CaseInsensitiveDict",
           "EMPTY_RESPONSE", "NEVER_DECODE"]

# redis-py binds these to the ssl names only while type checking
TLSVersion = None
VerifyMode = None
VerifyFlags = None

CommandT = Tuple[Tuple[Union[str, bytes], ...], Mapping[str, Any]]
CommandStackT = List[CommandT]
PubSubHandler = Callable[[Dict[str, str]], Awaitable[None]]


class ResponseCallbackProtocol(Protocol):
    """A response callback: ``callback(response, **options)``."""

    def __call__(self, response: Any, **kwargs: Any) -> Any: ...


class AsyncResponseCallbackProtocol(Protocol):
    """An async response callback: ``await callback(response, **options)``."""

    async def __call__(self, response: Any, **kwargs: Any) -> Any: ...


ResponseCallbackT = Union[ResponseCallbackProtocol, AsyncResponseCallbackProtocol]


class PubsubWorkerExceptionHandler(Protocol):
    """``PubSub.run``'s exception handler: ``handler(error, pubsub)``."""

    def __call__(self, e: BaseException, pubsub: "PubSub") -> Any: ...


class AsyncPubsubWorkerExceptionHandler(Protocol):
    """An async ``PubSub.run`` exception handler."""

    async def __call__(self, e: BaseException, pubsub: "PubSub") -> Any: ...


PSWorkerThreadExcHandlerT = Union[PubsubWorkerExceptionHandler,
                                  AsyncPubsubWorkerExceptionHandler]


class MonitorCommandInfo(TypedDict):
    """What ``Monitor.next_command`` returns."""

    time: float
    db: int
    client_address: str
    client_port: str
    client_type: str
    command: str

_get_running_loop = asyncio._get_running_loop

# results of a response callback that must be awaited (redis-py allows
# async callbacks)
_AWAITABLE_RESULTS = (types.CoroutineType, asyncio.Future)


def _client_callbacks() -> CaseInsensitiveDict:
    # a copy of the table the sync client builds once at import
    return CaseInsensitiveDict._copy_of(_CLIENT_CALLBACKS)


# -- the stand-in rule, for the Python classes of this module ----------------------
_CONN_COVERED = ("send_command", "read_response", "send_packed_command", "connect")
_POOL_COVERED = ("get_connection", "release")


def _conn_native(conn: Any) -> bool:
    """C may do ``conn``'s send + read: nothing replaced them."""
    tp = type(conn)
    try:
        if (tp.send_command is not _SEND_COMMAND or tp.read_response not in _READ_RESPONSE
                or tp.send_packed_command is not _SEND_PACKED or tp.connect not in _CONNECT):
            return False
    except AttributeError:
        # a stand-in object (a test's AsyncMock(spec=Connection)) has these on
        # the instance only
        return False
    d = conn.__dict__
    return not (d and ("send_command" in d or "read_response" in d
                       or "send_packed_command" in d or "connect" in d))


_SEND_COMMAND = AbstractConnection.send_command
_SEND_PACKED = AbstractConnection.send_packed_command
# read_response and connect as built in, and the overrides declared to
# behave as they do on the native paths (_declare_native_connection)
_READ_RESPONSE: Tuple[Callable[..., Any], ...] = (AbstractConnection.read_response,)
_CONNECT: Tuple[Callable[..., Any], ...] = (AbstractConnection.connect,)


def _pool_native(pool: Any) -> bool:
    """The pool's own get_connection/release may be skipped for the ready
    connection path: nothing replaced them and no listener waits for the
    release event."""
    tp = type(pool)
    try:
        if tp.get_connection not in _GET_CONNECTION or tp.release not in _RELEASE:
            return False
    except AttributeError:      # a stand-in object (a test's mock pool)
        return False
    d = pool.__dict__
    if "get_connection" in d or "release" in d:
        return False
    dispatcher = pool._event_dispatcher
    return type(dispatcher) is EventDispatcher and not dispatcher._event_listeners_mapping


_GET_CONNECTION = (ConnectionPool.get_connection, BlockingConnectionPool.get_connection)
_RELEASE = (ConnectionPool.release, BlockingConnectionPool.release)


def _ready_connection(pool: Any) -> Optional[AbstractConnection]:
    """An idle, connected connection with nothing to read, taken from the
    pool's free list (what get_connection would return without awaiting)."""
    free = pool._available_connections
    if not free or getattr(pool, "_waiters", None):
        return None
    conn = free[-1]
    proto = conn._proto
    if proto is None or proto.closed or proto.owed or proto.messages or proto.buffered \
            or conn._pid != pool._pid or conn._loop is not _get_running_loop():
        return None
    free.pop()
    pool._in_use_connections.add(conn)
    return conn


class Redis(AbstractRedis, AsyncCoreCommands, AsyncSentinelCommands, StackModuleAccessors):
    """An asyncio client for one Redis server, compatible with redis-py's
    ``redis.asyncio.Redis``: every command method returns an awaitable.

    ``async with Redis(...) as r:`` closes the client (and the pool it owns)
    on exit; otherwise call ``await r.aclose()``.
    """

    @classmethod
    def from_url(cls, url: str, single_connection_client: bool = False,
                 auto_close_connection_pool: Optional[bool] = None, **kwargs: Any) -> "Redis":
        """A client configured from ``redis://``, ``rediss://`` or ``unix://``
        URLs (see :meth:`redis_native.Redis.from_url`); it owns its pool."""
        connection_pool = ConnectionPool.from_url(url, **kwargs)
        client = cls(connection_pool=connection_pool,
                     single_connection_client=single_connection_client)
        if auto_close_connection_pool is not None:
            warnings.warn(DeprecationWarning(
                '"auto_close_connection_pool" is deprecated since version 5.0.1. '
                "Please create a ConnectionPool explicitly and provide to the Redis() "
                "constructor instead."))
        else:
            auto_close_connection_pool = True
        client.auto_close_connection_pool = auto_close_connection_pool
        return client

    @classmethod
    def from_pool(cls, connection_pool: ConnectionPool) -> "Redis":
        """A client that owns ``connection_pool`` (closed with the client)."""
        client = cls(connection_pool=connection_pool)
        client.auto_close_connection_pool = True
        return client

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6379,
        db: Union[str, int] = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        socket_keepalive: Optional[bool] = None,
        socket_keepalive_options: Optional[Mapping[int, Union[int, bytes]]] = None,
        connection_pool: Optional[ConnectionPool] = None,
        unix_socket_path: Optional[str] = None,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        retry_on_timeout: bool = NOT_PASSED,
        retry: Retry = Retry(backoff=ExponentialWithJitterBackoff(base=1, cap=10), retries=3),
        retry_on_error: Optional[list] = None,
        ssl: bool = False,
        ssl_keyfile: Optional[str] = None,
        ssl_certfile: Optional[str] = None,
        ssl_cert_reqs: Union[str, Any] = "required",
        ssl_include_verify_flags: Optional[List[Any]] = None,
        ssl_exclude_verify_flags: Optional[List[Any]] = None,
        ssl_ca_certs: Optional[str] = None,
        ssl_ca_data: Optional[str] = None,
        ssl_ca_path: Optional[str] = None,
        ssl_check_hostname: bool = True,
        ssl_min_version: Optional[Any] = None,
        ssl_ciphers: Optional[str] = None,
        ssl_password: Optional[str] = None,
        max_connections: Optional[int] = None,
        single_connection_client: bool = False,
        health_check_interval: int = 0,
        client_name: Optional[str] = None,
        lib_name: Union[Optional[str], object] = SENTINEL,
        lib_version: Union[Optional[str], object] = SENTINEL,
        driver_info: Union[Optional[DriverInfo], object] = SENTINEL,
        username: Optional[str] = None,
        auto_close_connection_pool: Optional[bool] = None,
        redis_connect_func: Any = None,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        event_dispatcher: Optional[EventDispatcher] = None,
    ):
        if lib_name is not SENTINEL or lib_version is not SENTINEL \
                or retry_on_timeout is not NOT_PASSED:
            warn_passed_deprecated(lib_name, lib_version, retry_on_timeout)
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        if auto_close_connection_pool is not None:
            warnings.warn(DeprecationWarning(
                '"auto_close_connection_pool" is deprecated since version 5.0.1. '
                "Please create a ConnectionPool explicitly and provide to the Redis() "
                "constructor instead."))
        else:
            auto_close_connection_pool = True
        if not connection_pool:
            kwargs: Dict[str, Any] = {
                "db": db,
                "username": username,
                "password": password,
                "credential_provider": credential_provider,
                "socket_timeout": socket_timeout,
                "encoding": encoding,
                "encoding_errors": encoding_errors,
                "decode_responses": decode_responses,
                "retry_on_error": list(retry_on_error or []),
                "retry": copy.deepcopy(retry),
                "max_connections": max_connections,
                "health_check_interval": health_check_interval,
                "client_name": client_name,
                "driver_info": resolve_driver_info(driver_info, lib_name, lib_version),
                "redis_connect_func": redis_connect_func,
                "protocol": protocol,
            }
            if retry_on_timeout:
                kwargs["retry_on_timeout"] = True
            if unix_socket_path is not None:
                kwargs.update(path=unix_socket_path, connection_class=UnixDomainSocketConnection)
            else:
                kwargs.update(host=host, port=port,
                              socket_connect_timeout=socket_connect_timeout,
                              socket_keepalive=socket_keepalive,
                              socket_keepalive_options=socket_keepalive_options)
                if ssl:
                    kwargs.update(
                        connection_class=SSLConnection, ssl_keyfile=ssl_keyfile,
                        ssl_certfile=ssl_certfile, ssl_cert_reqs=ssl_cert_reqs,
                        ssl_include_verify_flags=ssl_include_verify_flags,
                        ssl_exclude_verify_flags=ssl_exclude_verify_flags,
                        ssl_ca_certs=ssl_ca_certs, ssl_ca_data=ssl_ca_data,
                        ssl_ca_path=ssl_ca_path, ssl_check_hostname=ssl_check_hostname,
                        ssl_min_version=ssl_min_version, ssl_ciphers=ssl_ciphers,
                        ssl_password=ssl_password)
            self.auto_close_connection_pool = auto_close_connection_pool
            connection_pool = ConnectionPool(**kwargs)
        else:
            self.auto_close_connection_pool = False
        self._event_dispatcher.dispatch(AfterPooledConnectionsInstantiationEvent(
            [connection_pool], ClientType.ASYNC, credential_provider))
        self.connection_pool = connection_pool
        self.single_connection_client = single_connection_client
        self.connection: Optional[AbstractConnection] = None
        self.response_callbacks = _client_callbacks()
        self._single_conn_lock = asyncio.Lock()
        self._usage_counter = 0
        self._usage_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<{self.__class__.__module__}.{self.__class__.__name__}({self.connection_pool!r})>"

    def __await__(self):
        return self.initialize().__await__()

    async def initialize(self) -> "Redis":
        """Take the single connection of a ``single_connection_client``."""
        if self.single_connection_client:
            async with self._single_conn_lock:
                if self.connection is None:
                    self.connection = await self.connection_pool.get_connection()
            self._event_dispatcher.dispatch(AfterSingleConnectionInstantiationEvent(
                self.connection, ClientType.ASYNC, self._single_conn_lock))
        return self

    def set_response_callback(self, command: str, callback: Callable) -> None:
        """Use ``callback(response, **options)`` for ``command``'s replies
        (a coroutine function is awaited)."""
        self.response_callbacks[command] = callback

    def get_encoder(self) -> Any:
        return self.connection_pool.get_encoder()

    def get_connection_kwargs(self) -> Dict[str, Any]:
        return self.connection_pool.connection_kwargs

    def get_retry(self) -> Optional[Retry]:
        return self.get_connection_kwargs().get("retry")

    def set_retry(self, retry: Retry) -> None:
        self.get_connection_kwargs().update({"retry": retry})
        self.connection_pool.set_retry(retry)

    def load_external_module(self, funcname: str, func: Any) -> None:
        """Attach ``func`` to this client as the attribute ``funcname``."""
        setattr(self, funcname, func)

    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        """A Pipeline: commands queue up and ``await pipe.execute()`` sends
        them in one write (wrapped in MULTI/EXEC with ``transaction``)."""
        return Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)

    async def transaction(self, func: Callable[["Pipeline"], Any], *watches: Any,
                          shard_hint: Optional[str] = None, value_from_callable: bool = False,
                          watch_delay: Optional[float] = None) -> Any:
        """Run ``func(pipe)`` (sync or async) in WATCH/MULTI/EXEC on
        ``watches``, again whenever a watched key changed."""
        pipe: Pipeline
        async with self.pipeline(True, shard_hint) as pipe:
            while True:
                try:
                    if watches:
                        await pipe.watch(*watches)
                    func_value = func(pipe)
                    if inspect.isawaitable(func_value):
                        func_value = await func_value
                    exec_value = await pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        await asyncio.sleep(watch_delay)
                    continue

    def lock(self, name: Union[str, bytes, memoryview], timeout: Optional[float] = None,
             sleep: float = 0.1, blocking: bool = True,
             blocking_timeout: Optional[float] = None, lock_class: Optional[Type[Lock]] = None,
             thread_local: bool = True, raise_on_release_error: bool = True) -> Lock:
        """A :class:`redis_native.asyncio.lock.Lock` named ``name``."""
        if lock_class is None:
            lock_class = Lock
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)

    def pubsub(self, **kwargs: Any) -> "PubSub":
        """A PubSub object on this client's pool."""
        return PubSub(self.connection_pool, event_dispatcher=self._event_dispatcher, **kwargs)

    def monitor(self) -> "Monitor":
        return Monitor(self.connection_pool)

    def client(self) -> "Redis":
        """A client on the same pool that keeps one connection."""
        return self.__class__(connection_pool=self.connection_pool,
                              single_connection_client=True)

    async def __aenter__(self) -> "Redis":
        await self._increment_usage()
        try:
            return await self.initialize()
        except Exception:
            await self._decrement_usage()
            raise

    async def _increment_usage(self) -> int:
        async with self._usage_lock:
            self._usage_counter += 1
            return self._usage_counter

    async def _decrement_usage(self) -> int:
        async with self._usage_lock:
            self._usage_counter -= 1
            return self._usage_counter

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        current_usage = await asyncio.shield(self._decrement_usage())
        if current_usage == 0:
            await asyncio.shield(self.aclose())

    _DEL_MESSAGE = "Unclosed Redis client"

    def __del__(self, _warn: Any = warnings.warn, _grl: Any = asyncio.get_running_loop) -> None:
        conn = getattr(self, "connection", None)
        if conn is not None:
            _warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
            try:
                _grl().call_exception_handler({"client": self, "message": self._DEL_MESSAGE})
            except RuntimeError:
                pass
            conn._close()

    async def aclose(self, close_connection_pool: Optional[bool] = None) -> None:
        """Give back the single connection; disconnect the pool if owned (or
        if ``close_connection_pool``)."""
        conn = self.connection
        if conn:
            self.connection = None
            await self.connection_pool.release(conn)
        if close_connection_pool or (close_connection_pool is None
                                     and self.auto_close_connection_pool):
            await self.connection_pool.disconnect()

    @deprecated_function(version="5.0.1", reason="Use aclose() instead", name="close")
    async def close(self, close_connection_pool: Optional[bool] = None) -> None:
        """Alias for aclose()."""
        await self.aclose(close_connection_pool)

    async def _send_command_parse_response(self, conn: Any, command_name: Any, *args: Any,
                                           **options: Any) -> Any:
        await conn.send_command(*args)
        return await self.parse_response(conn, command_name, **options)

    async def _close_connection(self, conn: Any, error: Optional[BaseException] = None,
                                failure_count: Optional[int] = None,
                                start_time: Optional[float] = None,
                                command_name: Optional[str] = None) -> None:
        """Retry hook: drop the connection before the command is sent again."""
        await conn.disconnect(error=error, failure_count=failure_count)

    def _native_path(self, conn: Any) -> bool:
        tp = type(self)
        return (tp.parse_response is _PARSE_RESPONSE
                and tp._send_command_parse_response is _SEND_PARSE
                and "parse_response" not in self.__dict__
                and _conn_native(conn) and type(conn.retry).call_with_retry is _CALL_WITH_RETRY)

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        """Send a command and return its result after the response callback."""
        # the common case in one C call (src/aio.c, "fast path"): a ready
        # pooled connection, no timeout or health check to arm, nothing
        # replaced; it takes the connection and writes the command
        taken = _aio_take(self, args, options)
        if taken is not None:
            pool, conn, proto, fut = taken
            try:
                try:
                    if proto.paused:
                        # the transport's buffer is full: wait for it
                        await proto.drained()
                    result = await fut
                except BaseException as error:
                    if proto.owed:
                        # cancelled or failed with its reply owed
                        conn._close()
                    if conn._on_readonly is not None and isinstance(error, ReadOnlyError):
                        error = await _readonly_outcome(conn, error)
                    if not isinstance(error, conn.retry._supported_errors):
                        raise error
                    result = await self._native_execute(conn, args, options, error)
            finally:
                _aio_release(pool, conn)
            if isinstance(result, _AWAITABLE_RESULTS):
                result = await result
            return result
        # redis-py awaits initialize() before every command; the built-in one
        # only has work to do for a single-connection client without its
        # connection, but a replacement (a subclass's hook) runs every time
        hooked = type(self).initialize is not _INITIALIZE or "initialize" in self.__dict__
        if hooked:
            await self.initialize()
        pool = self.connection_pool
        conn = self.connection
        single = self.single_connection_client
        if single and conn is None and not hooked:
            await self.initialize()
            conn = self.connection
        release = None
        if conn is None:
            native_pool = _pool_native(pool)
            conn = _ready_connection(pool) if native_pool else None
            if conn is None:
                conn = await pool.get_connection()
            release = pool._release if native_pool else None
        if single:
            await self._single_conn_lock.acquire()
        try:
            if self._native_path(conn):
                result = await self._native_execute(conn, args, options)
            else:
                result = await self._generic_execute(conn, args, options)
        finally:
            if single:
                self._single_conn_lock.release()
            if not self.connection:
                if release is not None:
                    release(conn)
                else:
                    await pool.release(conn)
        if isinstance(result, _AWAITABLE_RESULTS):
            result = await result
        return result

    async def _generic_execute(self, conn: Any, args: Tuple[Any, ...],
                               options: Dict[str, Any]) -> Any:
        """The command through the methods redis-py calls (some are replaced)."""
        command_name = args[0]
        return await conn.retry.call_with_retry(
            lambda: self._send_command_parse_response(conn, command_name, *args, **options),
            lambda error, failure_count: self._close_connection(
                conn, error, failure_count, None, command_name),
            with_failure_count=True,
        )

    async def _native_execute(self, conn: Any, args: Tuple[Any, ...], options: Dict[str, Any],
                              failed: Optional[BaseException] = None) -> Any:
        """The command through the connection's protocol, with the retry
        policy of ``conn.retry`` (backoff reset at the first failure).
        ``failed``: the error of a first attempt already made."""
        retry = conn.retry
        failures = 0
        while True:
            if failed is None:
                try:
                    return await conn._roundtrip(args, options, self.response_callbacks)
                except retry._supported_errors as error:
                    failed = error
            error, failed = failed, None
            if failures == 0:
                retry._backoff.reset()
            failures += 1
            await self._close_connection(conn, error, failures, None, args[0])
            if retry._retries >= 0 and failures > retry._retries:
                raise error
            backoff = retry._backoff.compute(failures)
            if backoff > 0:
                await asyncio.sleep(backoff)

    async def parse_response(self, connection: Any, command_name: Union[str, bytes],
                             **options: Any) -> Any:
        """Read one reply from ``connection`` and return ``command_name``'s
        result (the native path does this in C unless this is replaced)."""
        try:
            if NEVER_DECODE in options:
                response = await connection.read_response(disable_decoding=True)
            else:
                response = await connection.read_response()
        except ResponseError:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        callback = self.response_callbacks.get(command_name)
        if callback is None:
            return response
        retval = callback(response, **_callback_options(options)) if options \
            else callback(response)
        return await retval if inspect.isawaitable(retval) else retval


async def _retry_after(retry: Retry, error: BaseException, fail: Callable[..., Awaitable[Any]],
                       do: Callable[[], Awaitable[Any]]) -> Any:
    """``retry.call_with_retry(do, fail, with_failure_count=True)`` entered
    after a first attempt already failed with ``error`` (the per-command
    paths try once without building the retry machinery)."""
    retry._backoff.reset()
    failures = 0
    while True:
        failures += 1
        await fail(error, failures)
        if retry._retries >= 0 and failures > retry._retries:
            raise error
        backoff = retry._backoff.compute(failures)
        if backoff > 0:
            await asyncio.sleep(backoff)
        try:
            return await do()
        except retry._supported_errors as e:
            error = e


async def _readonly_outcome(conn: Any, error: ReadOnlyError) -> BaseException:
    """The error a command ends with when its reply was ``error`` (READONLY)
    on ``conn``: what ``conn._on_readonly`` raised, or ``error`` itself."""
    try:
        await conn._on_readonly(error)
    except Exception as replaced:
        return replaced
    return error


_PARSE_RESPONSE = Redis.parse_response
_INITIALIZE = Redis.initialize
_SEND_PARSE = Redis._send_command_parse_response
_CALL_WITH_RETRY = Retry.call_with_retry


def _setup_fast_path() -> None:
    # what _aio_take / _aio_release may stand in for (src/aio.c, "fast
    # path"): the same built-ins _pool_native, _ready_connection and
    # _native_path check
    _native._aio_setup(_GET_CONNECTION, _RELEASE, EventDispatcher, _SEND_COMMAND,
                       _READ_RESPONSE, _SEND_PACKED, _CONNECT, _PARSE_RESPONSE, _SEND_PARSE,
                       _CALL_WITH_RETRY, ConnectionPool._release,
                       AbstractConnection.should_reconnect, _get_running_loop, _INITIALIZE)


def _declare_native_connection(cls: Type[AbstractConnection]) -> None:
    """Let the native command paths serve connections of ``cls`` although it
    replaces ``read_response`` and/or ``connect``, on ``cls``'s word that:

    * its ``connect()`` does nothing on a connection that is open (the
      native paths only skip it then), and
    * its ``read_response()`` differs from the built-in one only in what a
      READONLY error means, which it delegates to ``_on_readonly`` (the
      native paths call that hook where read_response would see the error).

    A subclass or patch that replaces either method again is not covered."""
    global _READ_RESPONSE, _CONNECT
    if cls.read_response not in _READ_RESPONSE:
        _READ_RESPONSE += (cls.read_response,)
    if cls.connect not in _CONNECT:
        _CONNECT += (cls.connect,)
    _setup_fast_path()


_setup_fast_path()
_aio_take = _native._aio_take
_aio_release = _native._aio_release

# retry_on_timeout's default is NOT_PASSED (redis-py warns whenever it is given)
show_defaults(Redis.__init__, retry_on_timeout=False)
StrictRedis = Redis


# ------------------------------------------------------------------------ Monitor
class Monitor:
    """The MONITOR stream: ``async with r.monitor() as m:`` then
    ``await m.next_command()`` or ``async for cmd in m.listen()``."""

    monitor_re = re.compile(r"\[(\d+) (.*?)\] (.*)")
    command_re = re.compile(r'"(.*?)(?<!\\)"')

    def __init__(self, connection_pool: ConnectionPool):
        self.connection_pool = connection_pool
        self.connection: Optional[AbstractConnection] = None

    async def connect(self) -> None:
        if self.connection is None:
            self.connection = await self.connection_pool.get_connection()

    async def __aenter__(self) -> "Monitor":
        await self.connect()
        await self.connection.send_command("MONITOR")
        response = await self.connection.read_response()
        if not bool_ok(response):
            raise RedisError(f"MONITOR failed: {response}")
        return self

    async def __aexit__(self, *args: Any) -> None:
        # a monitoring connection cannot serve commands again
        await self.connection.disconnect()
        await self.connection_pool.release(self.connection)

    async def next_command(self) -> Dict[str, Any]:
        """The next command the server runs, described as a dict."""
        await self.connect()
        response = await self.connection.read_response()
        if isinstance(response, bytes):
            response = self.connection.encoder.decode(response, force=True)
        stamp, _, data = response.partition(" ")
        match = self.monitor_re.match(data)
        if match is None:
            raise RedisError(f"Cannot parse MONITOR output: {response!r}")
        db, client, rest = match.groups()
        command = " ".join(self.command_re.findall(rest)).replace('\\"', '"')
        address, port, client_type = _monitor_client(client)
        return {"time": float(stamp), "db": int(db), "client_address": address,
                "client_port": port, "client_type": client_type, "command": command}

    async def listen(self) -> AsyncIterator[Dict[str, Any]]:
        """Yield :meth:`next_command` results forever."""
        while True:
            yield await self.next_command()


# ------------------------------------------------------------------------- PubSub
_NO_CONNECTION = "pubsub connection not set: did you forget to call subscribe() or psubscribe()?"


class PubSub:
    """Subscribe to channels and patterns and read what arrives.

    Messages are dicts (``type``, ``pattern``, ``channel``, ``data``).  A name
    subscribed with a handler (``await p.subscribe(news=handler)``; the
    handler may be a coroutine function) has its messages passed to the
    handler.  After a reconnect every subscription is sent again.
    """

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"

    def __init__(self, connection_pool: ConnectionPool, shard_hint: Optional[str] = None,
                 ignore_subscribe_messages: bool = False, encoder: Any = None,
                 push_handler_func: Optional[Callable] = None,
                 event_dispatcher: Optional[EventDispatcher] = None):
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self.connection_pool = connection_pool
        self.shard_hint = shard_hint
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection: Optional[AbstractConnection] = None
        self.encoder = encoder if encoder is not None else connection_pool.get_encoder()
        # RESP3 push messages only; kept for API compatibility
        self.push_handler_func = push_handler_func
        if self.encoder.decode_responses:
            self.health_check_response = [["pong", self.HEALTH_CHECK_MESSAGE],
                                          self.HEALTH_CHECK_MESSAGE]
        else:
            check = self.encoder.encode(self.HEALTH_CHECK_MESSAGE)
            self.health_check_response = [[b"pong", check], check]
        self.channels: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_channels: Set[Any] = set()
        self.patterns: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_patterns: Set[Any] = set()
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> "PubSub":
        return self

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self.aclose()

    def __del__(self) -> None:
        conn = getattr(self, "connection", None)
        if conn:
            conn.deregister_connect_callback(self.on_connect)

    async def aclose(self) -> None:
        """Drop every subscription and give the connection back (closed)."""
        if not hasattr(self, "connection"):
            return
        async with self._lock:
            if self.connection:
                await self.connection.disconnect()
                self.connection.deregister_connect_callback(self.on_connect)
                await self.connection_pool.release(self.connection)
                self.connection = None
            self.channels = {}
            self.pending_unsubscribe_channels = set()
            self.patterns = {}
            self.pending_unsubscribe_patterns = set()

    @deprecated_function(version="5.0.1", reason="Use aclose() instead", name="close")
    async def close(self) -> None:
        """Alias for aclose()."""
        await self.aclose()

    @deprecated_function(version="5.0.1", reason="Use aclose() instead", name="reset")
    async def reset(self) -> None:
        """Alias for aclose()."""
        await self.aclose()

    async def on_connect(self, connection: AbstractConnection) -> None:
        """Connect callback: subscribe again to everything subscribed before."""
        self.pending_unsubscribe_channels.clear()
        self.pending_unsubscribe_patterns.clear()
        for book, method in ((self.channels, self.subscribe), (self.patterns, self.psubscribe)):
            if not book:
                continue
            plain: List[Any] = []
            handled: Dict[str, Callable] = {}
            for name, handler in book.items():
                if handler is None:
                    plain.append(name)
                else:
                    handled[self.encoder.decode(name, force=True)] = handler
            await method(*plain, **handled)

    @property
    def subscribed(self) -> bool:
        """True while there is at least one subscription."""
        return bool(self.channels or self.patterns)

    async def execute_command(self, *args: Any) -> None:
        """Send a pub/sub command; its reply arrives as a message."""
        await self.connect()
        connection = self.connection
        kwargs = {"check_health": not self.subscribed}
        await self._execute(connection, connection.send_command, *args, **kwargs)

    async def connect(self) -> None:
        """Take a connection from the pool (once) and connect it."""
        if self.connection is None:
            self.connection = await self.connection_pool.get_connection()
            self.connection.register_connect_callback(self.on_connect)
        else:
            await self.connection.connect()
        self._event_dispatcher.dispatch(AfterPubSubConnectionInstantiationEvent(
            self.connection, self.connection_pool, ClientType.ASYNC, self._lock))

    async def _reconnect(self, conn: Any, error: Optional[BaseException] = None,
                         failure_count: Optional[int] = None,
                         start_time: Optional[float] = None,
                         command_name: Optional[str] = None) -> None:
        """Retry hook: a fresh socket (on_connect resubscribes)."""
        await conn.disconnect(error=error, failure_count=failure_count)
        await conn.connect()

    async def _execute(self, conn: Any, command: Callable, *args: Any, **kwargs: Any) -> Any:
        """``await command(*args, **kwargs)`` under the connection's retry
        policy, reconnecting (and resubscribing) after each failure."""
        return await conn.retry.call_with_retry(
            lambda: command(*args, **kwargs),
            lambda error, failure_count: self._reconnect(conn, error, failure_count),
            with_failure_count=True,
        )

    async def parse_response(self, block: bool = True, timeout: float = 0) -> Any:
        """The next raw message; without ``block`` None when none arrives
        within ``timeout`` seconds.  Health-check replies are swallowed."""
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        if conn.health_check_interval:
            await self.check_health()
        proto = conn._proto
        if not conn.is_connected and (proto is None or not proto.closed):
            # never connected, or disconnect()ed: connect (which resubscribes).
            # A socket the server closed is read instead, as redis-py does:
            # the read fails and the retry policy reconnects (raising the
            # ConnectionError when it allows no retry).
            await conn.connect()
        read_timeout = None if block else timeout
        if type(self)._execute is PubSub._execute and \
                type(conn.retry).call_with_retry is _CALL_WITH_RETRY:
            # _execute's retry loop, entered only when the first read fails
            read = conn.read_response
            try:
                response = await read(timeout=read_timeout, disconnect_on_error=False,
                                      push_request=True)
            except conn.retry._supported_errors as error:
                response = await _retry_after(
                    conn.retry, error,
                    lambda e, n: self._reconnect(conn, e, n),
                    lambda: read(timeout=read_timeout, disconnect_on_error=False,
                                 push_request=True))
        else:
            response = await self._execute(conn, conn.read_response, timeout=read_timeout,
                                           disconnect_on_error=False, push_request=True)
        if conn.health_check_interval and response in self.health_check_response:
            return None
        return response

    async def check_health(self) -> None:
        """Send a health-check PING when the connection's interval passed;
        its reply arrives as a message and is dropped."""
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        if conn.health_check_interval and \
                asyncio.get_running_loop().time() > conn.next_health_check:
            await conn.send_command("PING", self.HEALTH_CHECK_MESSAGE, check_health=False)

    def _normalize_keys(self, data: Mapping[Any, Any]) -> Dict[Any, Any]:
        encode, decode = self.encoder.encode, self.encoder.decode
        return {decode(encode(k)): v for k, v in data.items()}

    async def psubscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to glob-style patterns; a keyword pattern gets a handler."""
        parsed = list_or_args((args[0],), args[1:]) if args else args
        new_patterns: Dict[Any, Any] = dict.fromkeys(parsed)
        new_patterns.update(kwargs)
        ret_val = await self.execute_command("PSUBSCRIBE", *new_patterns.keys())
        new_patterns = self._normalize_keys(new_patterns)
        self.patterns.update(new_patterns)
        self.pending_unsubscribe_patterns.difference_update(new_patterns)
        return ret_val

    def punsubscribe(self, *args: Any) -> Awaitable:
        """Unsubscribe from the given patterns, or from all."""
        if args:
            parsed = list_or_args((args[0],), args[1:])
            patterns: Iterable[Any] = self._normalize_keys(dict.fromkeys(parsed)).keys()
        else:
            parsed = []
            patterns = self.patterns
        self.pending_unsubscribe_patterns.update(patterns)
        return self.execute_command("PUNSUBSCRIBE", *parsed)

    async def subscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to channels; a keyword channel gets a handler."""
        parsed = list_or_args((args[0],), args[1:]) if args else ()
        new_channels: Dict[Any, Any] = dict.fromkeys(parsed)
        new_channels.update(kwargs)
        ret_val = await self.execute_command("SUBSCRIBE", *new_channels.keys())
        new_channels = self._normalize_keys(new_channels)
        self.channels.update(new_channels)
        self.pending_unsubscribe_channels.difference_update(new_channels)
        return ret_val

    def unsubscribe(self, *args: Any) -> Awaitable:
        """Unsubscribe from the given channels, or from all."""
        if args:
            parsed = list_or_args(args[0], args[1:])
            channels: Iterable[Any] = self._normalize_keys(dict.fromkeys(parsed))
        else:
            parsed = []
            channels = self.channels
        self.pending_unsubscribe_channels.update(channels)
        return self.execute_command("UNSUBSCRIBE", *parsed)

    async def listen(self) -> AsyncIterator:
        """Yield messages (``async for``) while anything is subscribed."""
        while self.subscribed:
            response = await self.handle_message(await self.parse_response(block=True))
            if response is not None:
                yield response

    async def get_message(self, ignore_subscribe_messages: bool = False,
                          timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """The next message, or None if none arrives within ``timeout``
        seconds (None: wait without limit)."""
        response = await self.parse_response(block=(timeout is None), timeout=timeout)
        if response:
            return await self.handle_message(response, ignore_subscribe_messages)
        return None

    def ping(self, message: Any = None) -> Awaitable[bool]:
        """PING; the answer arrives as a ``pong`` message."""
        args = ["PING", message] if message is not None else ["PING"]
        return self.execute_command(*args)

    async def handle_message(self, response: Any,
                             ignore_subscribe_messages: bool = False) -> Optional[Dict[str, Any]]:
        """A raw reply as a message dict (None when a handler took it or a
        subscribe confirmation is ignored)."""
        if response is None:
            return None
        if isinstance(response, bytes):
            response = [b"pong", response] if response != b"PONG" else [b"pong", b""]
        message_type = str_if_bytes(response[0])
        if message_type == "pmessage":
            message = {"type": message_type, "pattern": response[1],
                       "channel": response[2], "data": response[3]}
        elif message_type == "pong":
            message = {"type": message_type, "pattern": None, "channel": None,
                       "data": response[1]}
        else:
            message = {"type": message_type, "pattern": None, "channel": response[1],
                       "data": response[2]}
        if message_type in self.UNSUBSCRIBE_MESSAGE_TYPES:
            if message_type == "punsubscribe":
                pattern = response[1]
                if pattern in self.pending_unsubscribe_patterns:
                    self.pending_unsubscribe_patterns.remove(pattern)
                    self.patterns.pop(pattern, None)
            else:
                channel = response[1]
                if channel in self.pending_unsubscribe_channels:
                    self.pending_unsubscribe_channels.remove(channel)
                    self.channels.pop(channel, None)
        if message_type in self.PUBLISH_MESSAGE_TYPES:
            if message_type == "pmessage":
                handler = self.patterns.get(message["pattern"], None)
            else:
                handler = self.channels.get(message["channel"], None)
            if handler:
                if inspect.iscoroutinefunction(handler):
                    await handler(message)
                else:
                    handler(message)
                return None
        elif message_type != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
        return message

    async def run(self, *, exception_handler: Optional[Callable] = None,
                  poll_timeout: float = 1.0, pubsub: Optional["PubSub"] = None) -> None:
        """Dispatch messages to the handlers until cancelled
        (``asyncio.create_task(p.run())``, then ``task.cancel()``)."""
        for channel, handler in self.channels.items():
            if handler is None:
                raise PubSubError(f"Channel: '{channel}' has no handler registered")
        for pattern, handler in self.patterns.items():
            if handler is None:
                raise PubSubError(f"Pattern: '{pattern}' has no handler registered")
        await self.connect()
        while True:
            try:
                source = self if pubsub is None else pubsub
                await source.get_message(ignore_subscribe_messages=True, timeout=poll_timeout)
            except asyncio.CancelledError:
                raise
            except BaseException as e:
                if exception_handler is None:
                    raise
                res = exception_handler(e, self)
                if inspect.isawaitable(res):
                    await res
            await asyncio.sleep(0)


# ----------------------------------------------------------------------- Pipeline
_MULTI = (("MULTI",), {})
_EXEC = (("EXEC",), {})


class Pipeline(Redis):
    """Queue commands and send them together with ``await pipe.execute()``.

    With ``transaction`` (the default of ``Redis.pipeline()``) they run in
    MULTI/EXEC.  ``await pipe.watch(...)`` switches to immediate mode until
    :meth:`multi`; execute() then raises WatchError if a watched key changed.
    An error reply does not stop the others: execute() raises the first
    (annotated with its position), or with ``raise_on_error=False`` returns
    the exceptions in place.  Queuing methods return the pipeline.
    """

    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}

    def __init__(self, connection_pool: ConnectionPool, response_callbacks: Any,
                 transaction: bool, shard_hint: Optional[str]):
        self.connection_pool = connection_pool
        self.connection = None
        self.response_callbacks = response_callbacks
        self.is_transaction = transaction
        self.shard_hint = shard_hint
        self.watching = False
        self.command_stack: CommandStackT = []
        self.scripts: Set[Any] = set()
        self.explicit_transaction = False

    async def __aenter__(self) -> "Pipeline":
        return self

    async def __aexit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        await self.reset()

    def __await__(self):
        return self._async_self().__await__()

    _DEL_MESSAGE = "Unclosed Pipeline client"

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        return True

    async def _async_self(self) -> "Pipeline":
        return self

    async def reset(self) -> None:
        """Forget the queue, end any WATCH, give the connection back."""
        self.command_stack = []
        self.scripts = set()
        if self.watching and self.connection:
            try:
                await self.connection.send_command("UNWATCH")
                await self.connection.read_response()
            except ConnectionError:
                if self.connection:
                    await self.connection.disconnect()
        self.watching = False
        self.explicit_transaction = False
        if self.connection:
            await self.connection_pool.release(self.connection)
            self.connection = None

    async def aclose(self) -> None:
        """Alias for reset()."""
        await self.reset()

    def multi(self) -> None:
        """Start the transaction's queued part after WATCH."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    def execute_command(self, *args: Any, **kwargs: Any) -> Union["Pipeline", Awaitable[Any]]:
        """Queue the command (returns the pipeline), or run it now (an
        awaitable) while watching before MULTI."""
        if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
            return self.immediate_execute_command(*args, **kwargs)
        return self.pipeline_execute_command(*args, **kwargs)

    async def _disconnect_reset_raise_on_watching(self, conn: Any, error: Exception,
                                                  failure_count: Optional[int] = None,
                                                  start_time: Optional[float] = None,
                                                  command_name: Optional[str] = None) -> None:
        await conn.disconnect(error=error, failure_count=failure_count)
        if self.watching:
            await self.reset()
            raise WatchError(f"A {type(error).__name__} occurred while watching one or more keys")

    async def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command now on the pipeline's connection (WATCH and the
        reads before MULTI); while watching a connection error is WatchError."""
        command_name = args[0]
        conn = self.connection
        if not conn:
            conn = await self.connection_pool.get_connection()
            self.connection = conn
        return await conn.retry.call_with_retry(
            lambda: self._send_command_parse_response(conn, command_name, *args, **options),
            lambda error, failure_count: self._disconnect_reset_raise_on_watching(
                conn, error, failure_count, None, command_name),
            with_failure_count=True,
        )

    def pipeline_execute_command(self, *args: Any, **options: Any) -> "Pipeline":
        """Queue the command for execute(); returns the pipeline."""
        self.command_stack.append((args, options))
        return self

    def _update_watch_state(self, command_name: Any) -> None:
        if command_name in self.UNWATCH_COMMANDS:
            self.watching = False
        elif command_name == "WATCH":
            self.watching = True

    async def parse_response(self, connection: Any, command_name: Union[str, bytes],
                             **options: Any) -> Any:
        result = await super().parse_response(connection, command_name, **options)
        self._update_watch_state(command_name)
        return result

    def _command_result(self, reply: Any, command_name: Any, options: Dict[str, Any],
                        callbacks: Any) -> Any:
        """A raw reply as the command's result (error replies raised)."""
        if isinstance(reply, Exception):
            if EMPTY_RESPONSE in options and isinstance(reply, ResponseError):
                return options[EMPTY_RESPONSE]
            raise reply
        callback = callbacks.get(command_name)
        if callback is None:
            return reply
        if options:
            return callback(reply, **_callback_options(options))
        return callback(reply)

    async def _await_results(self, results: List[Any]) -> List[Any]:
        for i, r in enumerate(results):
            if isinstance(r, _AWAITABLE_RESULTS):
                results[i] = await r
        return results

    def _native_pipeline(self, connection: Any) -> bool:
        return type(self).parse_response is Pipeline.parse_response and \
            "parse_response" not in self.__dict__ and _conn_native(connection)

    async def _execute_pipeline(self, connection: Any, commands: CommandStackT,
                                raise_on_error: bool) -> List[Any]:
        """Every command in one write; one result (or ResponseError) each."""
        if self._native_pipeline(connection):
            replies = await connection._pipeline_roundtrip(commands)
            callbacks = _CallbackMemo(self.response_callbacks)
            watch_names = {"WATCH", *self.UNWATCH_COMMANDS}
            response = []
            for reply, (args, options) in zip(replies, commands):
                try:
                    response.append(self._command_result(reply, args[0], options, callbacks))
                except ResponseError as e:
                    response.append(e)
                else:
                    if args[0] in watch_names:
                        self._update_watch_state(args[0])
            await self._await_results(response)
        else:
            await connection.send_packed_command(
                connection.pack_commands([args for args, _ in commands]))
            response = []
            try:
                for args, options in commands:
                    try:
                        response.append(await self.parse_response(connection, args[0],
                                                                  **options))
                    except ResponseError as e:
                        response.append(e)
            except BaseException:
                await connection.disconnect(nowait=True)
                raise
        if raise_on_error:
            self.raise_first_error(commands, response)
        return response

    async def _execute_transaction(self, connection: Any, commands: CommandStackT,
                                   raise_on_error: bool) -> List[Any]:
        """MULTI, the commands and EXEC in one write; the commands' results
        from EXEC's reply."""
        sent = [c for c in commands if EMPTY_RESPONSE not in c[1]]
        block = [_MULTI, *sent, _EXEC]
        if self._native_pipeline(connection):
            replies = await connection._pipeline_roundtrip(block)
        else:
            # every reply through parse_response under the name "_", as
            # redis-py reads a transaction (no callback applies to that name)
            await connection.send_packed_command(
                connection.pack_commands([args for args, _ in block]))
            replies = []
            try:
                for _ in block:
                    try:
                        replies.append(await self.parse_response(connection, "_"))
                    except ResponseError as e:
                        replies.append(e)
            except BaseException:
                await connection.disconnect(nowait=True)
                raise
        multi, queued, exec_reply = replies[0], replies[1:-1], replies[-1]
        errors: List[Tuple[int, Any]] = []
        if isinstance(multi, ResponseError):
            errors.append((0, multi))
        errors.extend(_queue_gaps(self, commands, queued))
        if isinstance(exec_reply, Exception):
            if isinstance(exec_reply, ExecAbortError) and errors:
                for _, value in errors:
                    if isinstance(value, Exception):
                        raise value from exec_reply
            raise exec_reply
        # EXEC ends any WATCH
        self.watching = False
        if exec_reply is None:
            raise WatchError("Watched variable changed.")
        if not isinstance(exec_reply, list):
            # EXEC answers an array: this server is out of step with us
            await connection.disconnect()
            raise ResponseError("Wrong number of response items from pipeline execution")
        response = list(exec_reply)
        for i, value in errors:
            response.insert(i, value)
        if len(response) != len(commands):
            if self.connection:
                await self.connection.disconnect()
            raise ResponseError("Wrong number of response items from pipeline execution")
        if raise_on_error:
            self.raise_first_error(commands, response)
        callbacks = _CallbackMemo(self.response_callbacks)
        data = [r if isinstance(r, Exception)
                else self._command_result(r, args[0], options, callbacks)
                for r, (args, options) in zip(response, commands)]
        return await self._await_results(data)

    def raise_first_error(self, commands: CommandStackT, response: Iterable[Any]) -> None:
        for i, r in enumerate(response):
            if isinstance(r, ResponseError):
                self.annotate_exception(r, i + 1, commands[i][0])
                raise r

    def annotate_exception(self, exception: Exception, number: int, command: Iterable[object]
                           ) -> None:
        # redis-py's asyncio pipeline quotes the whole args tuple (its sync one
        # the first argument): the same text here
        cmd = truncate_text(" ".join(map(safe_str, command)))
        msg = f"Command # {number} ({cmd}) of pipeline caused error: {exception.args}"
        exception.args = (msg,) + exception.args[1:]

    async def load_scripts(self) -> None:
        """SCRIPT EXISTS / SCRIPT LOAD for the scripts queued on this pipeline."""
        scripts = list(self.scripts)
        immediate = self.immediate_execute_command
        shas = [s.sha for s in scripts]
        exists = await immediate("SCRIPT EXISTS", *shas)
        if not all(exists):
            for s, exist in zip(scripts, exists):
                if not exist:
                    s.sha = await immediate("SCRIPT LOAD", s.script)

    async def _disconnect_raise_on_watching(self, conn: Any, error: Exception,
                                            failure_count: Optional[int] = None,
                                            start_time: Optional[float] = None,
                                            command_name: Optional[str] = None) -> None:
        await conn.disconnect(error=error, failure_count=failure_count)
        if self.watching:
            raise WatchError(f"A {type(error).__name__} occurred while watching one or more keys")

    async def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queued commands; their results in order.  The pipeline
        is empty (and its connection back in the pool) afterwards."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        if self.scripts:
            await self.load_scripts()
        if self.is_transaction or self.explicit_transaction:
            execute = self._execute_transaction
        else:
            execute = self._execute_pipeline
        conn = self.connection
        if not conn:
            conn = await self.connection_pool.get_connection()
            self.connection = conn
        try:
            return await conn.retry.call_with_retry(
                lambda: execute(conn, stack, raise_on_error),
                lambda error, failure_count: self._disconnect_raise_on_watching(
                    conn, error, failure_count),
                with_failure_count=True,
            )
        finally:
            await self.reset()

    async def discard(self) -> None:
        """Drop the queued transaction (DISCARD)."""
        await self.execute_command("DISCARD")

    async def watch(self, *names: Any) -> Any:
        """WATCH ``names``: execute() fails if any changes first."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return await self.execute_command("WATCH", *names)

    async def unwatch(self) -> Any:
        """Stop watching (UNWATCH, only sent while watching)."""
        return self.watching and await self.execute_command("UNWATCH") or True
