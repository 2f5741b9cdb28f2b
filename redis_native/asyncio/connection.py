"""Connections and pools of ``redis.asyncio.connection``, over a native protocol.

A connection's socket is an asyncio transport whose protocol is
``_native.AsyncProtocol`` (src/aio.c): commands are packed and replies parsed
in C, and ``data_received`` completes the waiting futures in the order the
commands were written.  The classes here are plain Python, like redis-py's:
they carry the settings, run the connect handshake (AUTH, CLIENT SETNAME /
SETINFO, SELECT), the health checks, timeouts and retries.

Works with any asyncio event loop that supports ``create_connection`` with a
protocol factory (the default loop, uvloop).  TLS goes through the loop's own
TLS transport with Python's :mod:`ssl`.
"""
import asyncio
import collections
import copy
import enum
import inspect
import os
import socket
import ssl
import time
import warnings
import weakref
from asyncio import timeout as async_timeout  # noqa: F401  (the name redis-py exports)
from itertools import chain
from ssl import SSLContext, TLSVersion, VerifyFlags  # noqa: F401  (as in redis-py)
from types import MappingProxyType
from typing import (Any, Awaitable, Callable, Dict, Iterable, List, Mapping, Optional,
                    Protocol, Set, Tuple, Type, TypedDict, Union)

from .. import _native
from .._parsers import BaseParser, DefaultParser  # noqa: F401  (BaseParser: as in redis-py)
from .._parsers.encoders import Encoder
from ..backoff import NoBackoff
from ..connection import (  # noqa: F401  (re-exported, as in redis-py)
    DEFAULT_RESP_VERSION,
    FALSE_STRINGS,
    _check_protocol,
    parse_ssl_verify_flags,
    to_bool,
)
from ..connection import URL_QUERY_ARGUMENT_PARSERS as _SYNC_URL_PARSERS
from ..connection import parse_url as _sync_parse_url
from ..credentials import CredentialProvider, UsernamePasswordCredentialProvider
from ..driver_info import DriverInfo, resolve_driver_info
from ..event import AsyncAfterConnectionReleasedEvent, EventDispatcher
from ..exceptions import (  # noqa: F401  (several re-exported, as in redis-py)
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    ConnectionError,
    DataError,
    MaxConnectionsError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from ..typing import EncodableT  # noqa: F401  (as in redis-py)
from ..utils import HIREDIS_AVAILABLE  # noqa: F401  (as in redis-py: the C reader is hiredis)
from ..utils import SENTINEL as DEFAULT_SENTINEL
from ..utils import SSL_AVAILABLE, deprecated_args, format_error_message, str_if_bytes
from ..utils import show_defaults, warn_deprecated_arg_usage, warn_passed_deprecated
from .retry import Retry

__all__ = [
    "AbstractConnection",
    "Connection",
    "UnixDomainSocketConnection",
    "SSLConnection",
    "RedisSSLContext",
    "ConnectionPool",
    "BlockingConnectionPool",
    "parse_url",
    "to_bool",
]

SYM_STAR = b"*"
SYM_DOLLAR = b"$"
SYM_CRLF = b"\r\n"
SYM_LF = b"\n"
SYM_EMPTY = b""



class _Sentinel(enum.Enum):
    """The default of ``retry_on_error`` (a value nobody passes)."""

    sentinel = object()


SENTINEL = _Sentinel.sentinel

# the arguments a URL's query string may set, and how each is converted (the
# synchronous table, plus the BlockingConnectionPool's ``timeout``)
URL_QUERY_ARGUMENT_PARSERS: Mapping[str, Callable[..., object]] = MappingProxyType(
    dict(_SYNC_URL_PARSERS, timeout=float))


class ConnectCallbackProtocol(Protocol):
    """A connect callback: ``callback(connection)``."""

    def __call__(self, connection: "AbstractConnection") -> Any: ...


class AsyncConnectCallbackProtocol(Protocol):
    """An async connect callback: ``await callback(connection)``."""

    async def __call__(self, connection: "AbstractConnection") -> Any: ...


ConnectCallbackT = Union[ConnectCallbackProtocol, AsyncConnectCallbackProtocol]


class ConnectKwargs(TypedDict, total=False):
    """What :func:`parse_url` returns."""

    username: str
    password: str
    connection_class: Type["AbstractConnection"]
    host: str
    port: int
    db: int
    path: str

# redis-py's message for a socket the server closed
SERVER_CLOSED_CONNECTION_ERROR = "Connection closed by server."


def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


_get_running_loop = asyncio._get_running_loop


class AbstractConnection:
    """One connection to a Redis server, used by one task at a time (the pool
    hands it out).  Settings as in redis-py's ``redis.asyncio`` connections."""

    __slots__ = (
        "db", "username", "client_name", "lib_name", "lib_version", "credential_provider",
        "password", "socket_timeout", "socket_connect_timeout", "redis_connect_func",
        "retry_on_timeout", "retry_on_error", "health_check_interval", "next_health_check",
        "last_active_at", "encoder", "ssl_context", "protocol",
        "_parser", "_connect_callbacks", "_buffer_cutoff", "_lock", "_socket_read_size",
        "__dict__",
    )

    # ``async _on_readonly(error)``, when set: what a READONLY error reply means
    # on this connection.  The native command paths (which read replies
    # without read_response) call it where read_response would have seen the
    # error; it raises to replace the error, or returns to let it stand.
    # Sentinel-managed connections set it (a demoted master).
    _on_readonly: Optional[Callable[..., Awaitable[None]]] = None

    def __init__(
        self,
        *,
        db: Union[str, int] = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        retry_on_timeout: bool = False,
        retry_on_error: Union[list, Any] = SENTINEL,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        parser_class: Type[Any] = DefaultParser,
        socket_read_size: int = 65536,
        health_check_interval: float = 0,
        client_name: Optional[str] = None,
        lib_name: Union[Optional[str], object] = DEFAULT_SENTINEL,
        lib_version: Union[Optional[str], object] = DEFAULT_SENTINEL,
        driver_info: Union[Optional[DriverInfo], object] = DEFAULT_SENTINEL,
        username: Optional[str] = None,
        retry: Optional[Retry] = None,
        redis_connect_func: Optional[Callable] = None,
        encoder_class: Type[Encoder] = Encoder,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        event_dispatcher: Optional[EventDispatcher] = None,
    ):
        if lib_name is not DEFAULT_SENTINEL or lib_version is not DEFAULT_SENTINEL:
            warn_passed_deprecated(lib_name, lib_version)
        if (username or password) and credential_provider is not None:
            raise DataError(
                "'username' and 'password' cannot be passed along with 'credential_"
                "provider'. Please provide only one of the following arguments: \n"
                "1. 'password' and (optional) 'username'\n"
                "2. 'credential_provider'"
            )
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self.db = db
        self.client_name = client_name
        self.driver_info = resolve_driver_info(driver_info, lib_name, lib_version)
        self.credential_provider = credential_provider
        self.password = password
        self.username = username
        self.socket_timeout = socket_timeout
        if socket_connect_timeout is None:
            socket_connect_timeout = socket_timeout
        self.socket_connect_timeout = socket_connect_timeout
        self.retry_on_timeout = retry_on_timeout
        if retry_on_error is SENTINEL:
            retry_on_error = []
        if retry_on_timeout:
            retry_on_error.append(TimeoutError)
            retry_on_error.append(socket.timeout)
            retry_on_error.append(asyncio.TimeoutError)
        self.retry_on_error = retry_on_error
        if retry or retry_on_error:
            self.retry = copy.deepcopy(retry) if retry else Retry(NoBackoff(), 1)
            self.retry.update_supported_errors(retry_on_error)
        else:
            self.retry = Retry(NoBackoff(), 0)
        self.health_check_interval = health_check_interval
        self.next_health_check: float = -1
        self.encoder = encoder_class(encoding, encoding_errors, decode_responses)
        self.redis_connect_func = redis_connect_func
        self._socket_read_size = socket_read_size
        self.set_parser(parser_class)
        self._connect_callbacks: List[weakref.WeakMethod] = []
        self._buffer_cutoff = 6000
        self._should_reconnect = False
        # the native protocol of the current socket (None: not connected)
        self._proto: Any = None
        self._pid = os.getpid()
        # the loop the socket belongs to: a connection used from another loop
        # (a client kept across asyncio.run() calls) opens a new socket there
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self.protocol = _check_protocol(protocol)

    def __del__(self, _warn: Callable[..., None] = warnings.warn) -> None:
        # as redis-py: a connection dropped while open is reported (a
        # ResourceWarning, like the standard library's for sockets), and
        # closed only from a running loop (a closed loop's transports are
        # cleaned up with it)
        proto = getattr(self, "_proto", None)
        if proto is not None:
            if not proto.closed:
                _warn(f"unclosed Connection {self!r}", ResourceWarning, source=self)
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return
            try:
                # a transport of another loop is that loop's to close (a
                # closed loop's cannot be aborted any more)
                if not self._foreign(proto):
                    proto.abort()
            except Exception:
                pass

    def _close(self) -> None:
        """Drop the socket at once, without waiting."""
        proto = self._proto
        if proto is not None:
            self._proto = None
            if not self._foreign(proto):
                proto.abort()

    def _foreign(self, proto: Any) -> bool:
        """True (and the socket left to its own loop) when ``proto``'s transport
        belongs to an event loop other than the running one: only that loop
        may close it, and a closed loop closes its transports itself."""
        loop = self._loop
        running = _get_running_loop()
        if loop is None or running is None or loop is running:
            return False
        if not loop.is_closed():
            loop.call_soon_threadsafe(proto.abort)
        return True

    def __repr__(self) -> str:
        repr_args = ",".join(f"{k}={v}" for k, v in self.repr_pieces())
        return f"<{self.__class__.__module__}.{self.__class__.__name__}({repr_args})>"

    def repr_pieces(self) -> List[Tuple[str, Any]]:
        raise NotImplementedError

    # redis-py's connections hold an asyncio StreamReader/StreamWriter pair,
    # None when disconnected; code tests them to tell whether the connection is
    # open.  Here replies are read by the native protocol over the transport.
    @property
    def _reader(self) -> Any:
        """The native protocol reading this connection's replies while the
        connection is open, else None (redis-py: its StreamReader)."""
        proto = self._proto
        return proto if proto is not None and not proto.closed else None

    @property
    def _writer(self) -> Any:
        """The transport commands are written to while the connection is open,
        else None (redis-py: its StreamWriter)."""
        proto = self._reader
        return None if proto is None else proto.transport

    @property
    def is_connected(self) -> bool:
        proto = self._proto
        if proto is None or proto.closed:
            return False
        loop = _get_running_loop()
        return loop is None or loop is self._loop

    def register_connect_callback(self, callback: Callable) -> None:
        """Call ``callback(connection)`` (a method, kept weakly) after every
        connect: pub/sub resubscribes this way."""
        wm = weakref.WeakMethod(callback)
        if wm not in self._connect_callbacks:
            self._connect_callbacks.append(wm)

    def deregister_connect_callback(self, callback: Callable) -> None:
        try:
            self._connect_callbacks.remove(weakref.WeakMethod(callback))
        except ValueError:
            pass

    def set_parser(self, parser_class: Type[Any]) -> None:
        """Accepted for compatibility: replies are always read by the C reader."""
        self._parser = parser_class(socket_read_size=self._socket_read_size)

    # -- connecting ----------------------------------------------------------
    async def connect(self) -> None:
        """Connect (and run the handshake) unless connected; retried per ``retry``."""
        if self.is_connected:
            return
        await self.retry.call_with_retry(
            lambda: self.connect_check_health(check_health=True, retry_socket_connect=False),
            lambda error, failure_count: self.disconnect(error=error,
                                                         failure_count=failure_count),
            with_failure_count=True,
        )

    async def connect_check_health(self, check_health: bool = True,
                                   retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        try:
            if retry_socket_connect:
                await self.retry.call_with_retry(
                    lambda: self._connect(),
                    lambda error, failure_count: self.disconnect(
                        error=error, failure_count=failure_count),
                    with_failure_count=True,
                )
            else:
                await self._connect()
        except asyncio.CancelledError:
            self._close()
            raise
        except (socket.timeout, asyncio.TimeoutError):
            self._close()
            raise TimeoutError("Timeout connecting to server")
        except OSError as e:
            self._close()
            raise ConnectionError(self._error_message(e))
        except RedisError:
            self._close()
            raise
        except Exception as exc:
            self._close()
            raise ConnectionError(exc) from exc

        try:
            if not self.redis_connect_func:
                await self.on_connect_check_health(check_health=check_health)
            else:
                result = self.redis_connect_func(self)
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            self._close()
            raise

        self._connect_callbacks = [ref for ref in self._connect_callbacks if ref()]
        for ref in self._connect_callbacks:
            callback = ref()
            task = callback(self)
            if task and inspect.isawaitable(task):
                await task

    def mark_for_reconnect(self) -> None:
        self._should_reconnect = True

    def should_reconnect(self) -> bool:
        return self._should_reconnect

    def reset_should_reconnect(self) -> None:
        self._should_reconnect = False

    def _new_protocol(self) -> Any:
        enc = self.encoder
        return _native.AsyncProtocol(_loop(), enc.encoding, enc.encoding_errors,
                                     enc.decode_responses)

    async def _open(self, opener: Callable[[Callable[[], Any]], Any]) -> None:
        """Open the socket with ``opener(protocol_factory)`` under the
        connect timeout; the protocol becomes this connection's."""
        proto = self._new_protocol()
        timeout = self.socket_connect_timeout
        if timeout is None:
            await opener(lambda: proto)
        else:
            async with asyncio.timeout(timeout):
                await opener(lambda: proto)
        self._proto = proto
        self._pid = os.getpid()
        self._loop = _loop()
        _allow_direct_send(proto)

    async def _connect(self) -> None:
        raise NotImplementedError

    def _host_error(self) -> str:
        raise NotImplementedError

    def _error_message(self, exception: BaseException) -> str:
        return format_error_message(self._host_error(), exception)

    def get_protocol(self) -> Union[int, str]:
        return self.protocol

    async def on_connect(self) -> None:
        """Authenticate, name the connection and select the database."""
        await self.on_connect_check_health(check_health=True)

    async def on_connect_check_health(self, check_health: bool = True) -> None:
        auth_args = None
        if self.credential_provider or (self.username or self.password):
            provider = self.credential_provider or UsernamePasswordCredentialProvider(
                self.username, self.password)
            auth_args = await provider.get_credentials_async()
        if auth_args:
            await self.send_command("AUTH", *auth_args, check_health=False)
            try:
                auth_response = await self.read_response()
            except AuthenticationWrongNumberOfArgsError:
                # a server older than 6 takes the password alone
                await self.send_command("AUTH", auth_args[-1], check_health=False)
                auth_response = await self.read_response()
            if str_if_bytes(auth_response) != "OK":
                raise AuthenticationError("Invalid Username or Password")

        if self.client_name:
            await self.send_command("CLIENT", "SETNAME", self.client_name,
                                    check_health=check_health)
            if str_if_bytes(await self.read_response()) != "OK":
                raise ConnectionError("Error setting client name")

        # CLIENT SETINFO and SELECT go out together, as in redis-py
        sent = 0
        info = self.driver_info
        if info and info.formatted_name:
            await self.send_command("CLIENT", "SETINFO", "LIB-NAME", info.formatted_name,
                                    check_health=check_health)
            sent += 1
        if info and info.lib_version:
            await self.send_command("CLIENT", "SETINFO", "LIB-VER", info.lib_version,
                                    check_health=check_health)
            sent += 1
        if self.db:
            await self.send_command("SELECT", self.db, check_health=check_health)
        for _ in range(sent):
            try:
                await self.read_response()
            except ResponseError:
                pass
        if self.db:
            if str_if_bytes(await self.read_response()) != "OK":
                raise ConnectionError("Invalid Database")

    async def disconnect(self, nowait: bool = False, error: Optional[Exception] = None,
                         failure_count: Optional[int] = None,
                         health_check_failed: bool = False) -> None:
        """Close the socket; waiting commands get ConnectionError.

        In a forked child the inherited socket belongs to the parent's loop:
        it is dropped without being written to or shut down."""
        self.reset_should_reconnect()
        proto = self._proto
        if proto is None:
            return
        self._proto = None
        if self._pid != os.getpid() or self._foreign(proto):
            return
        transport = proto.transport
        proto.abort() if nowait else proto.close()
        if transport is not None and not nowait:
            # let the loop run the transport's close
            await asyncio.sleep(0)

    # -- health --------------------------------------------------------------
    async def _send_ping(self) -> None:
        await self.send_command("PING", check_health=False)
        if str_if_bytes(await self.read_response()) != "PONG":
            raise ConnectionError("Bad response from PING health check")

    async def _ping_failed(self, error: Exception, failure_count: int) -> None:
        await self.disconnect(error=error, failure_count=failure_count,
                              health_check_failed=True)

    async def check_health(self) -> None:
        """PING the server if ``health_check_interval`` has passed since the
        last reply (a failed PING reconnects, per ``retry``)."""
        if self.health_check_interval and _loop().time() > self.next_health_check:
            await self.retry.call_with_retry(self._send_ping, self._ping_failed,
                                             with_failure_count=True)

    def _note_reply(self) -> None:
        if self.health_check_interval:
            self.next_health_check = _loop().time() + self.health_check_interval

    # -- raw I/O ---------------------------------------------------------------
    async def _ensure_connected(self, check_health: bool) -> Any:
        if self._pid != os.getpid():
            # a forked child never touches the parent's socket
            self._proto = None
            self._pid = os.getpid()
        elif self._proto is not None and self._foreign(self._proto):
            self._proto = None
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()
        proto = self._proto
        if proto is None or proto.closed:
            raise ConnectionError(f"Connection to {self._host_error()} was closed")
        return proto

    async def send_packed_command(self, command: Union[bytes, str, Iterable[bytes]],
                                  check_health: bool = True) -> None:
        """Write already packed command bytes; read the replies with
        :meth:`read_response`."""
        proto = await self._ensure_connected(check_health)
        if isinstance(command, str):
            command = command.encode()
        if not isinstance(command, (bytes, bytearray, memoryview)):
            command = list(command)
        try:
            proto.send_packed(command)
            if proto.paused:
                await proto.drained()
        except BaseException:
            await self.disconnect(nowait=True)
            raise

    async def send_command(self, *args: Any, **kwargs: Any) -> None:
        """Pack and write one command; read its reply with :meth:`read_response`."""
        proto = await self._ensure_connected(kwargs.get("check_health", True))
        try:
            proto.send(args)
        except (DataError, TypeError):
            raise
        except BaseException:
            await self.disconnect(nowait=True)
            raise
        if proto.paused:
            try:
                await proto.drained()
            except BaseException:
                await self.disconnect(nowait=True)
                raise

    async def can_read_destructive(self) -> bool:
        """True when a reply or message is waiting to be read."""
        proto = self._proto
        if proto is None:
            return False
        if proto.messages or proto.buffered:
            return True
        await asyncio.sleep(0)
        return bool(proto.messages or proto.buffered or proto.closed)

    async def read_response(self, disable_decoding: bool = False,
                            timeout: Optional[float] = None, *,
                            disconnect_on_error: bool = True,
                            push_request: Optional[bool] = False) -> Any:
        """The next reply (an error reply is raised).  ``timeout`` given:
        None when nothing arrives in time; otherwise ``socket_timeout``
        raises TimeoutError and drops the connection."""
        proto = self._proto
        if proto is None:
            raise ConnectionError(f"Connection to {self._host_error()} is not open")
        read_timeout = timeout if timeout is not None else self.socket_timeout
        fut = proto.read_reply(False if disable_decoding else None)
        try:
            if read_timeout is None or fut.done():
                response = await fut
            else:
                async with asyncio.timeout(read_timeout):
                    response = await fut
        except TimeoutError:
            raise
        except asyncio.TimeoutError:
            if timeout is not None:
                return None
            if disconnect_on_error:
                await self.disconnect(nowait=True)
            raise TimeoutError(f"Timeout reading from {self._host_error()}")
        except ConnectionError:
            if disconnect_on_error:
                await self.disconnect(nowait=True)
            raise
        except BaseException:
            # a cancelled read loses nothing (the reply stays queued), but a
            # command/response pair cut in the middle is not resumed
            if disconnect_on_error:
                await self.disconnect(nowait=True)
            raise
        self._note_reply()
        if isinstance(response, BaseException):
            if isinstance(response, ResponseError):
                raise response from None
            if disconnect_on_error and not isinstance(response, ResponseError):
                raise response
        return response

    def pack_command(self, *args: Any) -> List[bytes]:
        """The RESP bytes of one command (redis-py's Encoder rules), as a list."""
        enc = self.encoder
        return [_native.pack_command(*args, encoding=enc.encoding, errors=enc.encoding_errors)]

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> List[bytes]:
        enc = self.encoder
        return [b"".join(_native.pack_command(*cmd, encoding=enc.encoding,
                                              errors=enc.encoding_errors)
                         for cmd in commands)]

    def _socket_is_empty(self) -> bool:
        proto = self._proto
        return proto is None or not (proto.messages or proto.buffered)

    async def process_invalidation_messages(self) -> None:
        """Client-side caching needs RESP3: there are never invalidation
        messages on a RESP2 connection."""
        return None

    # -- the native command path (used by Redis / Pipeline) -----------------------
    async def _roundtrip(self, args: Tuple[Any, ...], options: Dict[str, Any],
                         callbacks: Any) -> Any:
        """One command through the protocol: its result after the response
        callback.  A timeout, a cancellation or any failure drops the
        connection (its reply would be owed)."""
        proto = self._proto
        if proto is None or proto.closed or self.health_check_interval or \
                self._pid != os.getpid() or self._loop is not _get_running_loop():
            proto = await self._ensure_connected(True)
        fut = proto.execute(args, options, callbacks)
        try:
            if proto.paused:
                await proto.drained()
            if self.socket_timeout is None:
                result = await fut
            else:
                async with asyncio.timeout(self.socket_timeout):
                    result = await fut
        except asyncio.TimeoutError:
            self._close()
            raise TimeoutError(f"Timeout reading from {self._host_error()}") from None
        except (ResponseError, DataError) as error:
            if self._on_readonly is not None and isinstance(error, ReadOnlyError):
                await self._on_readonly(error)
            raise
        except BaseException:
            if proto.owed:
                self._close()
            raise
        if self.health_check_interval:
            self._note_reply()
        return result

    async def _pipeline_roundtrip(self, commands: List[Tuple[Tuple[Any, ...], Dict[str, Any]]]
                                  ) -> List[Any]:
        """Every command in one write; the raw replies (errors as instances)."""
        proto = await self._ensure_connected(True)
        fut = proto.pipeline(commands)
        try:
            if proto.paused:
                await proto.drained()
            if self.socket_timeout is None:
                replies = await fut
            else:
                async with asyncio.timeout(self.socket_timeout):
                    replies = await fut
        except asyncio.TimeoutError:
            self._close()
            raise TimeoutError(f"Timeout reading from {self._host_error()}") from None
        except BaseException:
            if proto.owed:
                self._close()
            raise
        self._note_reply()
        if self._on_readonly is not None:
            # read_response would have met the first READONLY reply
            error = next((r for r in replies if isinstance(r, ReadOnlyError)), None)
            if error is not None:
                await self._on_readonly(error)
        return replies


class Connection(AbstractConnection):
    """A TCP connection."""

    def __init__(self, *, host: str = "localhost", port: Union[str, int] = 6379,
                 socket_keepalive: bool = False,
                 socket_keepalive_options: Optional[Mapping[int, Union[int, bytes]]] = None,
                 socket_type: int = 0, **kwargs: Any):
        self.host = host
        self.port = int(port)
        self.socket_keepalive = socket_keepalive
        self.socket_keepalive_options = socket_keepalive_options or {}
        self.socket_type = socket_type
        super().__init__(**kwargs)

    def repr_pieces(self) -> List[Tuple[str, Any]]:
        pieces = [("host", self.host), ("port", self.port), ("db", self.db)]
        if self.client_name:
            pieces.append(("client_name", self.client_name))
        return pieces

    def _connection_arguments(self) -> Mapping:
        return {"host": self.host, "port": self.port}

    async def _connect(self) -> None:
        loop = _loop()
        kwargs = dict(self._connection_arguments())
        await self._open(lambda factory: loop.create_connection(factory, **kwargs))
        sock = self._proto.transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.socket_keepalive:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                    for k, v in self.socket_keepalive_options.items():
                        sock.setsockopt(socket.SOL_TCP, k, v)
            except (OSError, TypeError):
                self._close()
                raise

    def _host_error(self) -> str:
        return f"{self.host}:{self.port}"


class SSLConnection(Connection):
    """A TLS connection: the event loop's TLS transport with a Python
    :class:`ssl.SSLContext` built from the ``ssl_*`` options."""

    def __init__(self, ssl_keyfile: Optional[str] = None, ssl_certfile: Optional[str] = None,
                 ssl_cert_reqs: Union[str, Any] = "required",
                 ssl_include_verify_flags: Optional[List[Any]] = None,
                 ssl_exclude_verify_flags: Optional[List[Any]] = None,
                 ssl_ca_certs: Optional[str] = None, ssl_ca_data: Optional[str] = None,
                 ssl_ca_path: Optional[str] = None, ssl_check_hostname: bool = True,
                 ssl_min_version: Optional[Any] = None, ssl_ciphers: Optional[str] = None,
                 ssl_password: Optional[str] = None, **kwargs: Any):
        if not SSL_AVAILABLE:
            raise RedisError("Python wasn't built with SSL support")
        self.ssl_context = RedisSSLContext(
            keyfile=ssl_keyfile, certfile=ssl_certfile, cert_reqs=ssl_cert_reqs,
            include_verify_flags=ssl_include_verify_flags,
            exclude_verify_flags=ssl_exclude_verify_flags, ca_certs=ssl_ca_certs,
            ca_data=ssl_ca_data, ca_path=ssl_ca_path, check_hostname=ssl_check_hostname,
            min_version=ssl_min_version, ciphers=ssl_ciphers, password=ssl_password)
        super().__init__(**kwargs)

    def _connection_arguments(self) -> Mapping:
        kwargs = dict(super()._connection_arguments())
        kwargs["ssl"] = self.ssl_context.get()
        return kwargs

    @property
    def keyfile(self) -> Optional[str]:
        return self.ssl_context.keyfile

    @property
    def certfile(self) -> Optional[str]:
        return self.ssl_context.certfile

    @property
    def cert_reqs(self) -> Any:
        return self.ssl_context.cert_reqs

    @property
    def include_verify_flags(self) -> Any:
        return self.ssl_context.include_verify_flags

    @property
    def exclude_verify_flags(self) -> Any:
        return self.ssl_context.exclude_verify_flags

    @property
    def ca_certs(self) -> Optional[str]:
        return self.ssl_context.ca_certs

    @property
    def ca_data(self) -> Optional[str]:
        return self.ssl_context.ca_data

    @property
    def check_hostname(self) -> bool:
        return self.ssl_context.check_hostname

    @property
    def min_version(self) -> Any:
        return self.ssl_context.min_version


class RedisSSLContext:
    """The ``ssl_*`` options of a connection and the :class:`ssl.SSLContext`
    built from them (once, on first use), as redis-py builds it."""

    __slots__ = ("keyfile", "certfile", "cert_reqs", "include_verify_flags",
                 "exclude_verify_flags", "ca_certs", "ca_data", "ca_path", "context",
                 "check_hostname", "min_version", "ciphers", "password")

    def __init__(self, keyfile: Optional[str] = None, certfile: Optional[str] = None,
                 cert_reqs: Optional[Union[str, Any]] = None,
                 include_verify_flags: Optional[List[Any]] = None,
                 exclude_verify_flags: Optional[List[Any]] = None,
                 ca_certs: Optional[str] = None, ca_data: Optional[str] = None,
                 ca_path: Optional[str] = None, check_hostname: bool = False,
                 min_version: Optional[Any] = None, ciphers: Optional[str] = None,
                 password: Optional[str] = None):
        if not SSL_AVAILABLE:
            raise RedisError("Python wasn't built with SSL support")
        self.keyfile = keyfile
        self.certfile = certfile
        if cert_reqs is None:
            cert_reqs = ssl.CERT_NONE
        elif isinstance(cert_reqs, str):
            modes = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL,
                     "required": ssl.CERT_REQUIRED}
            if cert_reqs not in modes:
                raise RedisError(f"Invalid SSL Certificate Requirements Flag: {cert_reqs}")
            cert_reqs = modes[cert_reqs]
        self.cert_reqs = cert_reqs
        self.include_verify_flags = include_verify_flags
        self.exclude_verify_flags = exclude_verify_flags
        self.ca_certs = ca_certs
        self.ca_data = ca_data
        self.ca_path = ca_path
        self.check_hostname = check_hostname if self.cert_reqs != ssl.CERT_NONE else False
        self.min_version = min_version
        self.ciphers = ciphers
        self.password = password
        self.context: Optional[ssl.SSLContext] = None

    def get(self) -> ssl.SSLContext:
        if not self.context:
            context = ssl.create_default_context()
            context.check_hostname = self.check_hostname
            context.verify_mode = self.cert_reqs
            for flag in self.include_verify_flags or ():
                context.verify_flags |= flag
            for flag in self.exclude_verify_flags or ():
                context.verify_flags &= ~flag
            if self.certfile or self.keyfile:
                context.load_cert_chain(certfile=self.certfile, keyfile=self.keyfile,
                                        password=self.password)
            if self.ca_certs or self.ca_data or self.ca_path:
                context.load_verify_locations(cafile=self.ca_certs, capath=self.ca_path,
                                              cadata=self.ca_data)
            if self.min_version is not None:
                context.minimum_version = self.min_version
            if self.ciphers is not None:
                context.set_ciphers(self.ciphers)
            self.context = context
        return self.context


class UnixDomainSocketConnection(AbstractConnection):
    """A unix socket connection."""

    def __init__(self, *, path: str = "", **kwargs: Any):
        self.path = path
        super().__init__(**kwargs)

    def repr_pieces(self) -> List[Tuple[str, Any]]:
        pieces = [("path", self.path), ("db", self.db)]
        if self.client_name:
            pieces.append(("client_name", self.client_name))
        return pieces

    async def _connect(self) -> None:
        loop = _loop()
        path = self.path
        await self._open(lambda factory: loop.create_unix_connection(factory, path=path))

    def _host_error(self) -> str:
        return self.path


def parse_url(url: str) -> ConnectKwargs:
    """URL → pool keyword arguments, as :func:`redis_native.connection.parse_url`,
    with the asyncio connection classes."""
    kwargs: Any = _sync_parse_url(url)
    for name, value in list(kwargs.items()):
        if name == "timeout" and isinstance(value, str):
            try:
                kwargs[name] = float(value)
            except ValueError:
                raise ValueError(f"Invalid value for '{name}' in connection URL.")
    cls = kwargs.get("connection_class")
    if cls is not None:
        kwargs["connection_class"] = {
            "UnixDomainSocketConnection": UnixDomainSocketConnection,
            "SSLConnection": SSLConnection,
        }[cls.__name__]
    return kwargs


# The plain stream transports of the default loop and of uvloop: their socket
# is written by send() and nothing else, so the protocol may send() on it
# directly while the transport buffers nothing (src/aio.c, "Writing").  TLS
# transports and any other transport class keep every write.
_DIRECT_TRANSPORTS = {("asyncio.selector_events", "_SelectorSocketTransport"),
                      ("uvloop.loop", "TCPTransport"), ("uvloop.loop", "UnixTransport")}


def _allow_direct_send(proto: Any) -> None:
    transport = proto.transport
    tp = type(transport)
    if (tp.__module__, tp.__qualname__) not in _DIRECT_TRANSPORTS or \
            transport.get_extra_info("sslcontext") is not None:
        return
    sock = transport.get_extra_info("socket")
    if sock is None or sock.type != socket.SOCK_STREAM:
        return
    fd = sock.fileno()
    if fd >= 0:
        proto.use_socket(fd)


# Every pool of this process: a forked child empties them at once (the
# per-command path then never sees a connection of the parent).
_POOLS: "weakref.WeakSet[ConnectionPool]" = weakref.WeakSet()


def _reset_pools_in_child() -> None:
    for pool in list(_POOLS):
        try:
            pool.reset()
        except Exception:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pools_in_child)


def _warn_get_connection_args(command_name: Any, options: Dict[str, Any]) -> None:
    """redis-py's DeprecationWarning for arguments given to a pool's
    ``get_connection`` (the names passed), against the awaiting caller's caller."""
    names = [] if command_name is DEFAULT_SENTINEL else ["command_name"]
    names.extend(options)
    warn_deprecated_arg_usage(names, "get_connection", "Use get_connection() without args instead",
                              "5.3.0", stacklevel=5)


class ConnectionPool:
    """A pool of asyncio connections.  ``max_connections`` caps how many exist;
    asking for one more raises MaxConnectionsError ("Too many connections").

    Connections are handed out LIFO; one serves one command (or pipeline,
    pub/sub, MONITOR) at a time.  The pool is fork-safe: a child process
    starts with no connections."""

    SENSITIVE_REPR_KEYS = frozenset({"password", "username", "ssl_password",
                                     "credential_provider"})

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "ConnectionPool":
        """A pool from a ``redis://``, ``rediss://`` or ``unix://`` URL;
        query-string arguments win over keyword arguments."""
        url_options = parse_url(url)
        if "connection_class" in kwargs:
            url_options["connection_class"] = kwargs["connection_class"]
        kwargs.update(url_options)
        return cls(**kwargs)

    def __init__(self, connection_class: Type[AbstractConnection] = Connection,
                 max_connections: Optional[int] = None, **connection_kwargs: Any):
        max_connections = max_connections or 2 ** 31
        if not isinstance(max_connections, int) or max_connections < 0:
            raise ValueError('"max_connections" must be a positive integer')
        self.connection_class = connection_class
        self.connection_kwargs = connection_kwargs
        self.max_connections = max_connections
        self._available_connections: List[AbstractConnection] = []
        self._in_use_connections: Set[AbstractConnection] = set()
        self.encoder_class = self.connection_kwargs.get("encoder_class", Encoder)
        self._lock = asyncio.Lock()
        self._event_dispatcher = self.connection_kwargs.get("event_dispatcher", None)
        if self._event_dispatcher is None:
            self._event_dispatcher = EventDispatcher()
        self._pid = os.getpid()
        _POOLS.add(self)

    def __repr__(self) -> str:
        conn_kwargs = ",".join(
            f"{k}={'<REDACTED>' if k in self.SENSITIVE_REPR_KEYS else v}"
            for k, v in self.connection_kwargs.items())
        return (f"<{self.__class__.__module__}.{self.__class__.__name__}"
                f"(<{self.connection_class.__module__}.{self.connection_class.__name__}"
                f"({conn_kwargs})>)>")

    def reset(self) -> None:
        self._available_connections = []
        self._in_use_connections = weakref.WeakSet()  # type: ignore[assignment]
        self._pid = os.getpid()

    def _checkpid(self) -> None:
        if self._pid != os.getpid():
            # a forked child: the parent's sockets are not ours to use
            self.reset()

    def can_get_connection(self) -> bool:
        """True when a connection can be taken without waiting."""
        return bool(self._available_connections
                    or len(self._in_use_connections) < self.max_connections)

    async def get_connection(self, command_name: Any = DEFAULT_SENTINEL, *keys: Any,
                             **options: Any) -> AbstractConnection:
        """A connected connection from the pool."""
        if command_name is not DEFAULT_SENTINEL or options:
            _warn_get_connection_args(command_name, options)
        self._checkpid()
        connection = self.get_available_connection()
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    def get_available_connection(self) -> AbstractConnection:
        """A connection from the pool, not necessarily connected."""
        try:
            connection = self._available_connections.pop()
        except IndexError:
            if len(self._in_use_connections) >= self.max_connections:
                raise MaxConnectionsError("Too many connections") from None
            connection = self.make_connection()
        self._in_use_connections.add(connection)
        return connection

    def get_encoder(self) -> Encoder:
        kwargs = self.connection_kwargs
        return self.encoder_class(
            encoding=kwargs.get("encoding", "utf-8"),
            encoding_errors=kwargs.get("encoding_errors", "strict"),
            decode_responses=kwargs.get("decode_responses", False),
        )

    def make_connection(self) -> AbstractConnection:
        """A new connection of ``connection_class`` (override to customise)."""
        return self.connection_class(**self.connection_kwargs)

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        """Connect ``connection``; one that holds unread data or was closed by
        the server is reconnected."""
        proto = getattr(connection, "_proto", None)
        if proto is not None and not proto.closed and not proto.owed and \
                not proto.messages and not proto.buffered and \
                getattr(connection, "_loop", None) is _get_running_loop() and \
                type(connection).connect is AbstractConnection.connect:
            return
        await connection.connect()
        try:
            if await connection.can_read_destructive():
                raise ConnectionError("Connection has data") from None
        except (ConnectionError, TimeoutError, OSError):
            await connection.disconnect()
            await connection.connect()
            if await connection.can_read_destructive():
                raise ConnectionError("Connection not ready") from None

    def _release(self, connection: AbstractConnection) -> None:
        """release() without the event: the per-command path."""
        try:
            self._in_use_connections.remove(connection)
        except KeyError:
            if self._pid != os.getpid():
                return
            raise
        proto = getattr(connection, "_proto", None)
        if proto is not None and (proto.owed or proto.messages):
            # a reply is owed or unread: never hand the connection on
            connection._close()
        if connection.should_reconnect():
            connection._close()
            connection.reset_should_reconnect()
        self._available_connections.append(connection)

    async def release(self, connection: AbstractConnection) -> None:
        """Give ``connection`` back to the pool."""
        self._release(connection)
        await self._event_dispatcher.dispatch_async(
            AsyncAfterConnectionReleasedEvent(connection))

    async def disconnect(self, inuse_connections: bool = True) -> None:
        """Disconnect the idle connections, and the ones in use unless
        ``inuse_connections`` is false."""
        if inuse_connections:
            connections: Iterable[AbstractConnection] = chain(
                self._available_connections, self._in_use_connections)
        else:
            connections = self._available_connections
        resp = await asyncio.gather(*(c.disconnect() for c in list(connections)),
                                    return_exceptions=True)
        exc = next((r for r in resp if isinstance(r, BaseException)), None)
        if exc:
            raise exc

    async def update_active_connections_for_reconnect(self) -> None:
        """Make every connection in use reconnect when it is released."""
        async with self._lock:
            for conn in self._in_use_connections:
                conn.mark_for_reconnect()

    async def aclose(self) -> None:
        """Disconnect every connection."""
        await self.disconnect()

    def set_retry(self, retry: Retry) -> None:
        for conn in chain(self._available_connections, self._in_use_connections):
            conn.retry = retry

    def get_connection_count(self) -> List[Tuple[int, dict]]:
        """``[(idle, attributes), (in use, attributes)]``."""
        base = {"db.client.connection.pool.name": repr(self)}
        return [
            (len(self._available_connections), dict(base, **{"db.client.connection.state": "idle"})),
            (len(self._in_use_connections), dict(base, **{"db.client.connection.state": "used"})),
        ]


class BlockingConnectionPool(ConnectionPool):
    """A pool whose ``get_connection`` waits up to ``timeout`` seconds (None:
    forever) for a free connection once ``max_connections`` exist, then
    raises ConnectionError("No connection available.")."""

    def __init__(self, max_connections: int = 50, timeout: Optional[float] = 20,
                 connection_class: Type[AbstractConnection] = Connection,
                 queue_class: Type[asyncio.Queue] = asyncio.LifoQueue,
                 **connection_kwargs: Any):
        super().__init__(connection_class=connection_class, max_connections=max_connections,
                         **connection_kwargs)
        # futures of the tasks waiting for a connection, oldest first
        self._waiters: "collections.deque[asyncio.Future]" = collections.deque()
        self.timeout = timeout

    def reset(self) -> None:
        super().reset()
        self._waiters = collections.deque()

    async def get_connection(self, command_name: Any = DEFAULT_SENTINEL, *keys: Any,
                             **options: Any) -> AbstractConnection:
        if command_name is not DEFAULT_SENTINEL or options:
            _warn_get_connection_args(command_name, options)
        self._checkpid()
        if self._waiters or not self.can_get_connection():
            await self._wait_for_connection()
        connection = self.get_available_connection()
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def _wait_for_connection(self) -> None:
        loop = _loop()
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    fut = loop.create_future()
                    self._waiters.append(fut)
                    try:
                        await fut
                    finally:
                        try:
                            self._waiters.remove(fut)
                        except ValueError:
                            pass
                    if self.can_get_connection():
                        return
        except asyncio.TimeoutError as err:
            raise ConnectionError("No connection available.") from err
        except BaseException:
            # woken but leaving: pass the turn on
            self._wake_one()
            raise

    def _wake_one(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
                return

    def _release(self, connection: AbstractConnection) -> None:
        super()._release(connection)
        self._wake_one()

    async def release(self, connection: AbstractConnection) -> None:
        """Give ``connection`` back and wake the task that waited longest."""
        self._release(connection)
        await self._event_dispatcher.dispatch_async(
            AsyncAfterConnectionReleasedEvent(connection))


# get_connection's command_name defaults to a marker (redis-py warns when it is given)
show_defaults(ConnectionPool.get_connection, command_name=None)
show_defaults(BlockingConnectionPool.get_connection, command_name=None)
