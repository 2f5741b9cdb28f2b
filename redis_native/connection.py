"""Connections and connection pools.

``Connection``, ``UnixDomainSocketConnection``, ``ConnectionPool`` and
``BlockingConnectionPool`` are thin Python classes over the C types of
``redis_native._native``: the C side owns the socket, the reader, packing,
timeouts and the per-command path; this module holds what runs once per
connection (argument handling, the connect handshake, repr, health checks) and
URL parsing.

C stands in for a connection's or pool's methods only while the ones Python
would find are redis_native's own (the stand-in rule, docs/architecture.md):
a subclass override or a ``mock.patch`` of ``send_command``, ``read_response``,
``get_connection``... is honoured, and a subclass that overrides nothing keeps
the fast path.
"""

from __future__ import annotations
import copy
import os
import socket
import time
import weakref
from abc import ABC, ABCMeta
from queue import Empty, Full, LifoQueue  # noqa: F401  (Empty, Full: importable from redis.connection too)
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Type, Union

from . import _native
from ._parsers import DefaultParser
from ._parsers.encoders import Encoder  # noqa: F401  (redis.connection.Encoder too)
from .backoff import NoBackoff
from .credentials import CredentialProvider, UsernamePasswordCredentialProvider
from .driver_info import DriverInfo, resolve_driver_info
from .event import AfterConnectionReleasedEvent, EventDispatcher, _OwnDispatcher  # noqa: F401
from .exceptions import (  # noqa: F401  (several re-exported, as in redis-py)
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    ChildDeadlockedError,
    ConnectionError,
    DataError,
    MaxConnectionsError,
    RedisError,
    ResponseError,
    TimeoutError,
)
from .retry import Retry, copy_retry
from . import utils as _utils
from .utils import (  # noqa: F401  (several re-exported, as in redis-py)
    HIREDIS_AVAILABLE,
    SENTINEL,
    check_protocol_version,
    compare_versions,
    deprecated_args,
    ensure_string,
    warn_passed_deprecated,
    format_error_message,
    get_lib_version,
    str_if_bytes,
)

__all__ = [
    "DefaultParser",
    "Encoder",
    "Connection",
    "UnixDomainSocketConnection",
    "SSLConnection",
    "ConnectionPool",
    "BlockingConnectionPool",
    "parse_url",
    "to_bool",
    "FALSE_STRINGS",
    "URL_QUERY_ARGUMENT_PARSERS",
    "parse_ssl_verify_flags",
]

DEFAULT_RESP_VERSION = 2
DEFAULT_SENTINEL = SENTINEL

# RESP framing bytes, importable from redis.connection (the packing itself is C).
SYM_STAR = b"*"
SYM_DOLLAR = b"$"
SYM_CRLF = b"\r\n"
SYM_EMPTY = b""


# The methods redis-py declares on its interface classes.  Here they are not
# defined on the interfaces themselves: the C core decides whether it may run a
# method natively by looking for it on every class of a connection's MRO, and
# the real ones live on AbstractConnection / ConnectionPool and their C bases.
# dir() of an interface still lists them, so that Mock(spec=ConnectionInterface)
# and similar test doubles offer the same attributes as with redis-py.
_CONNECTION_INTERFACE_METHODS = frozenset({
    "repr_pieces", "register_connect_callback", "deregister_connect_callback",
    "set_parser", "get_protocol", "connect", "on_connect", "disconnect", "check_health",
    "send_packed_command", "send_command", "can_read", "read_response", "pack_command",
    "pack_commands", "handshake_metadata", "set_re_auth_token", "re_auth",
    "mark_for_reconnect", "should_reconnect", "reset_should_reconnect",
})
_POOL_INTERFACE_METHODS = frozenset({
    "get_protocol", "reset", "get_connection", "get_encoder", "release", "disconnect",
    "close", "set_retry", "re_auth_callback", "get_connection_count",
})


class _ConnectionInterfaceType(type):
    def __dir__(cls) -> List[str]:
        return sorted(set(type.__dir__(cls)) | _CONNECTION_INTERFACE_METHODS)


class _PoolInterfaceType(ABCMeta):
    def __dir__(cls) -> List[str]:
        return sorted(set(type.__dir__(cls)) | _POOL_INTERFACE_METHODS)


class ConnectionInterface(metaclass=_ConnectionInterfaceType):
    """Base of every connection class, so that ``isinstance(conn,
    ConnectionInterface)`` holds as with redis-py.  The methods a connection
    provides are those of :class:`AbstractConnection` (``dir()`` lists them)."""


class ConnectionPoolInterface(ABC, metaclass=_PoolInterfaceType):
    """Base of the pool classes (``isinstance`` compatibility; ``dir()`` lists
    the pool methods, which :class:`ConnectionPool` provides)."""


def _check_protocol(protocol: Any) -> int:
    try:
        p = int(protocol)
    except TypeError:
        return DEFAULT_RESP_VERSION
    except ValueError:
        raise ConnectionError("protocol must be an integer")
    if p < 2 or p > 3:
        raise ConnectionError("protocol must be either 2 or 3")
    if p == 3:
        # The Debian hiredis reader is RESP2-only; a RESP3 reader will slot in
        # behind src/reader.h.  Refuse rather than silently speak RESP2.
        raise ConnectionError(
            "redis_native does not support RESP3 (protocol=3) yet; use protocol=2"
        )
    return p


class _SocketView:
    """What a connection's ``_sock`` is: the connected socket, seen from Python.

    redis-py's ``_sock`` is the ``socket.socket`` itself; here the socket is
    driven by the C core, so Python gets a view of it instead.  Event loops
    and pollers that watch a connection's socket (kombu, Celery's Redis
    transport, ``select``/``selectors``) work with it: it has ``fileno()``,
    and it is the same object for as long as the connection keeps that socket
    (a new one after a reconnect).  Once the connection closes that socket,
    ``fileno()`` returns -1, as a closed ``socket.socket``'s does.

    Reading the socket's state and options works (``getpeername``,
    ``getsockname``, ``getsockopt``, ``setsockopt``, ``family``, ``type``,
    ``proto``, ``gettimeout``).  What would take the socket away from the C
    core (``recv``, ``send``, ``close``, ``settimeout``, ``setblocking``...)
    raises AttributeError saying so: ``disconnect()`` closes the connection.
    """

    __slots__ = ("_conn", "_fd", "_serial")

    def __init__(self, conn: "AbstractConnection", fd: int, serial: int) -> None:
        self._conn = weakref.ref(conn)
        self._fd = fd
        self._serial = serial

    def fileno(self) -> int:
        """The descriptor, or -1 once the connection no longer has this socket."""
        conn = self._conn()
        if conn is None or conn._fd != self._fd or conn._fd_serial != self._serial:
            return -1
        return self._fd

    def _dup(self) -> socket.socket:
        fd = self.fileno()
        if fd < 0:
            raise OSError(9, "Bad file descriptor")
        # a socket object over a duplicate descriptor: closing it leaves the
        # connection's own descriptor alone, and options are the socket's
        return socket.socket(fileno=os.dup(fd))

    def getpeername(self) -> Any:
        with self._dup() as sock:
            return sock.getpeername()

    def getsockname(self) -> Any:
        with self._dup() as sock:
            return sock.getsockname()

    def getsockopt(self, *args: Any) -> Any:
        with self._dup() as sock:
            return sock.getsockopt(*args)

    def setsockopt(self, *args: Any) -> None:
        with self._dup() as sock:
            sock.setsockopt(*args)

    @property
    def family(self) -> Any:
        with self._dup() as sock:
            return sock.family

    @property
    def type(self) -> Any:
        with self._dup() as sock:
            return sock.type

    @property
    def proto(self) -> int:
        with self._dup() as sock:
            return sock.proto

    def gettimeout(self) -> Optional[float]:
        """The connection's ``socket_timeout`` (what redis-py sets on its socket)."""
        conn = self._conn()
        return None if conn is None else conn.socket_timeout

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}: a redis_native "
            "connection's socket is driven by its C core, and _sock only shows it "
            "(fileno, getpeername, getsockname, getsockopt, setsockopt, family, type, "
            "proto, gettimeout); use the connection's own methods (disconnect() to close)")

    def __repr__(self) -> str:
        fd = self.fileno()
        if fd < 0:
            return "<redis_native socket view [closed] fd=-1>"
        return f"<redis_native socket view fd={fd}>"


class AbstractConnection(_native.Connection, ConnectionInterface):
    """Settings and handshake shared by every connection class."""

    # the connection's own EventDispatcher (under both names) when it is
    # given none, made on first read
    _event_dispatcher = _OwnDispatcher("_event_dispatcher", "event_dispatcher")
    event_dispatcher = _OwnDispatcher("_event_dispatcher", "event_dispatcher")

    def __init__(
        self,
        db: int = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        retry_on_timeout: bool = False,
        retry_on_error: Union[Iterable[Type[Exception]], object] = SENTINEL,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        parser_class: Any = DefaultParser,
        socket_read_size: int = 65536,
        health_check_interval: int = 0,
        client_name: Optional[str] = None,
        lib_name: Union[str, None, object] = SENTINEL,
        lib_version: Union[str, None, object] = SENTINEL,
        driver_info: Union[DriverInfo, None, object] = SENTINEL,
        username: Optional[str] = None,
        retry: Optional[Retry] = None,
        redis_connect_func: Optional[Any] = None,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        command_packer: Optional[Any] = None,
        event_dispatcher: Optional[Any] = None,
        **unsupported: Any,
    ):
        if lib_name is not SENTINEL or lib_version is not SENTINEL:
            warn_passed_deprecated(lib_name, lib_version)
        if (username or password) and credential_provider is not None:
            raise DataError(
                "'username' and 'password' cannot be passed along with "
                "'credential_provider'. Please provide only one of the following "
                "arguments: \n1. 'password' and (optional) 'username'\n"
                "2. 'credential_provider'"
            )
        if unsupported:
            _reject_unsupported(type(self).__name__, unsupported)
        if command_packer is not None:
            raise RedisError("redis_native packs commands in C; command_packer is not supported")
        # self.pid: set by the C base when the object was made
        self.db = db
        self.client_name = client_name
        if driver_info is SENTINEL or (driver_info is not None
                                       and type(driver_info) is not DriverInfo):
            driver_info = resolve_driver_info(driver_info, lib_name, lib_version)
        self.driver_info = driver_info      # (a pool passes its DriverInfo)
        self.credential_provider = credential_provider
        self.password = password
        self.username = username
        self.socket_timeout = socket_timeout
        self.socket_connect_timeout = (
            socket_connect_timeout if socket_connect_timeout is not None else socket_timeout
        )
        self.retry_on_timeout = retry_on_timeout
        errors = [] if retry_on_error is SENTINEL else list(retry_on_error)
        if retry_on_timeout:
            errors.append(TimeoutError)
        self.retry_on_error = errors
        if retry or errors:
            self.retry = Retry(NoBackoff(), 1) if retry is None else copy_retry(retry)
            if errors:
                self.retry.update_supported_errors(errors)
        else:
            self.retry = Retry(NoBackoff(), 0)
        self.health_check_interval = health_check_interval
        self.next_health_check = 0
        self.redis_connect_func = redis_connect_func
        self.encoding = encoding
        self.encoding_errors = encoding_errors
        self.decode_responses = decode_responses
        self.encoder = Encoder(encoding, encoding_errors, decode_responses)
        self._handshake_metadata = None
        self.socket_read_size = socket_read_size
        self._connect_callbacks: List[weakref.WeakMethod] = []
        self.protocol = 2 if protocol == 2 and type(protocol) is int else _check_protocol(protocol)
        if event_dispatcher is not None:
            self._event_dispatcher = event_dispatcher
            self.event_dispatcher = event_dispatcher
        # else the connection's own, made when first read (_OwnDispatcher)

    # -- description --------------------------------------------------------
    def repr_pieces(self) -> List[Tuple[str, Any]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.repr_pieces())
        return f"<{type(self).__module__}.{type(self).__name__}({args})>"

    def _host_error(self) -> str:
        raise NotImplementedError

    def _error_message(self, exception: BaseException) -> str:
        return format_error_message(self._host_error(), exception)

    def get_protocol(self) -> int:
        return self.protocol

    def set_parser(self, parser_class: Any) -> None:
        """Accepted for compatibility: replies are always read by the C reader."""

    @property
    def handshake_metadata(self) -> Any:
        """What the server said about itself at connect time (HELLO's reply
        with RESP3); None here: the RESP2 handshake does not ask."""
        return self._handshake_metadata

    @handshake_metadata.setter
    def handshake_metadata(self, value: Any) -> None:
        self._handshake_metadata = value

    @property
    def host(self) -> Optional[str]:
        """The server's host name (None for a unix socket connection)."""
        return self.__dict__.get("_host")

    @host.setter
    def host(self, value: str) -> None:
        self._host = value

    @property
    def _sock(self) -> Optional[_SocketView]:
        """The connected socket as a :class:`_SocketView` (None when not
        connected): the same object while the connection keeps that socket."""
        fd = self._fd
        if fd is None:
            return None
        serial = self._fd_serial
        view = self.__dict__.get("_sock_view")
        if view is None or view._serial != serial or view._fd != fd:
            view = self.__dict__["_sock_view"] = _SocketView(self, fd, serial)
        return view

    # -- the peer --------------------------------------------------------------
    def _peer_address(self) -> Any:
        """``getpeername()`` of the connected socket (a ``(host, port, ...)``
        tuple, or a path for a unix socket), or None when not connected."""
        sock = self._sock
        if sock is None:
            return None
        try:
            return sock.getpeername()
        except OSError:
            return None

    def getpeername(self) -> Optional[str]:
        """The address of the server this connection is connected to (the IP
        for TCP, the socket path for a unix socket), or None when not
        connected."""
        peer = self._peer_address()
        if isinstance(peer, tuple):
            return peer[0]
        return peer or None

    def get_resolved_ip(self) -> Optional[str]:
        """The server's IP address: the connected peer's when connected, else
        the first address ``host`` resolves to; None when neither is known."""
        peer = self.getpeername()
        if peer is not None:
            return peer
        host = getattr(self, "host", None)
        if not host:
            return None
        try:
            infos = socket.getaddrinfo(host, getattr(self, "port", 6379),
                                       socket.AF_UNSPEC, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        return str(infos[0][4][0]) if infos else None

    # -- connect callbacks (pubsub resubscription etc.) ----------------------
    def register_connect_callback(self, callback: Any) -> None:
        ref = weakref.WeakMethod(callback)
        if ref not in self._connect_callbacks:
            self._connect_callbacks.append(ref)

    def deregister_connect_callback(self, callback: Any) -> None:
        try:
            self._connect_callbacks.remove(weakref.WeakMethod(callback))
        except ValueError:
            pass

    # -- connecting ------------------------------------------------------------
    def connect(self) -> None:
        """Open the socket and run the handshake, retried per ``self.retry``."""
        if self.is_connected:
            return
        self.retry.call_with_retry(self._connect_once, lambda error: self.disconnect(error))

    def connect_check_health(self, check_health: bool = True,
                             retry_socket_connect: bool = True) -> None:
        if self.is_connected:
            return
        if retry_socket_connect:
            self.connect()
        else:
            self._connect_once()

    def _connect_once(self) -> None:
        if self.is_connected:
            return
        try:
            sock = self._connect()
            detach = getattr(sock, "detach", None) if sock is not None else None
            if detach is not None:
                # A subclass returned its own socket object: adopt its descriptor.
                # (Anything else -- a test's mocked _connect returning True --
                # is no socket: there is nothing to adopt, as redis-py only
                # stores it.)
                self._attach_fd(detach())
            if self._fd is None:
                # nothing installed a socket: a handshake would only try to
                # connect again (the same check as in src/connect.c)
                raise ConnectionError(
                    f"{type(self).__name__}._connect() opened no socket (it returned {sock!r})")
        except socket.timeout:
            raise TimeoutError("Timeout connecting to server")
        except OSError as e:
            raise ConnectionError(self._error_message(e))
        try:
            if self.redis_connect_func is None:
                self.on_connect()
            else:
                self.redis_connect_func(self)
        except RedisError:
            self.disconnect()
            raise
        self._connect_callbacks = [ref for ref in self._connect_callbacks if ref()]
        for ref in self._connect_callbacks:
            callback = ref()
            if callback:
                callback(self)

    def _connect(self) -> Any:
        raise NotImplementedError

    def on_connect(self) -> None:
        self.on_connect_check_health(check_health=True)

    def _handshake_commands(self, auth_args: Optional[Tuple]) -> List[Tuple[str, tuple]]:
        commands: List[Tuple[str, tuple]] = []
        if auth_args:
            commands.append(("auth", ("AUTH", *auth_args)))
        if self.client_name:
            commands.append(("setname", ("CLIENT", "SETNAME", self.client_name)))
        info = self.driver_info
        if info is not None:
            name = info.formatted_name
            if name:
                commands.append(("setinfo", ("CLIENT", "SETINFO", "LIB-NAME", name)))
            version = info.lib_version
            if version:
                commands.append(("setinfo", ("CLIENT", "SETINFO", "LIB-VER", version)))
        if self.db:
            commands.append(("select", ("SELECT", self.db)))
        return commands

    def on_connect_check_health(self, check_health: bool = True) -> None:
        """AUTH, CLIENT SETNAME, CLIENT SETINFO and SELECT in one round trip."""
        auth_args = None
        if self.credential_provider or self.username or self.password:
            provider = self.credential_provider or UsernamePasswordCredentialProvider(
                self.username, self.password
            )
            auth_args = provider.get_credentials()
        commands = self._handshake_commands(auth_args)
        if not commands:
            return
        if auth_args is None and self._handshake(commands):
            return      # done in C, judged as below (src/connection.c)
        self.send_packed_command(
            self.pack_commands([args for _, args in commands]), check_health=False
        )
        replies: List[Any] = []
        for _ in commands:
            try:
                replies.append(self.read_response())
            except ResponseError as e:  # read them all before judging any
                # without its traceback: its frames (this one holds `replies`)
                # would make a cycle keeping the caller's frames, and the first
                # command's arguments, alive until the next garbage collection
                replies.append(e.with_traceback(None))
        for (kind, args), reply in zip(commands, replies):
            if kind == "auth":
                if isinstance(reply, AuthenticationWrongNumberOfArgsError):
                    # A pre-6.0 server takes only the password: retry with it
                    # (rest of the handshake failed with NOAUTH, so redo it).
                    self.send_command("AUTH", auth_args[-1], check_health=False)
                    if str_if_bytes(self.read_response()) != "OK":
                        raise AuthenticationError("Invalid Username or Password")
                    self._redo_after_auth(commands[1:])
                    return
                if isinstance(reply, Exception):
                    raise reply
                if str_if_bytes(reply) != "OK":
                    raise AuthenticationError("Invalid Username or Password")
            elif kind == "setname":
                if isinstance(reply, Exception):
                    raise reply
                if str_if_bytes(reply) != "OK":
                    raise ConnectionError("Error setting client name")
            elif kind == "select":
                if isinstance(reply, Exception):
                    raise reply
                if str_if_bytes(reply) != "OK":
                    raise ConnectionError("Invalid Database")
            # CLIENT SETINFO errors (servers before 7.2) are ignored.

    def _redo_after_auth(self, commands: List[Tuple[str, tuple]]) -> None:
        for kind, args in commands:
            self.send_command(*args, check_health=False)
            try:
                reply = self.read_response()
            except ResponseError:
                if kind == "setinfo":
                    continue
                raise
            if kind == "setname" and str_if_bytes(reply) != "OK":
                raise ConnectionError("Error setting client name")
            if kind == "select" and str_if_bytes(reply) != "OK":
                raise ConnectionError("Invalid Database")

    # -- health ----------------------------------------------------------------
    def _send_ping(self) -> None:
        self.send_command("PING", check_health=False)
        if str_if_bytes(self.read_response()) != "PONG":
            raise ConnectionError("Bad response from PING health check")

    def _ping_failed(self, error: Exception) -> None:
        self.disconnect()

    def check_health(self) -> None:
        if self.health_check_interval and time.monotonic() > self.next_health_check:
            self.retry.call_with_retry(self._send_ping, self._ping_failed)

    def should_reconnect(self) -> bool:
        return False

    # __del__ is the C base's (tp_finalize, src/connection.c): disconnect(),
    # its errors ignored, as in redis-py


class Connection(AbstractConnection):
    """A TCP connection to a Redis server."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        socket_keepalive: bool = False,
        socket_keepalive_options: Optional[Dict[int, int]] = None,
        socket_type: int = 0,
        *,
        # AbstractConnection's parameters, by name (see _SETTINGS_PARAMS_NOTE)
        db: int = 0,
        password: Optional[str] = None,
        socket_timeout: Optional[float] = None,
        socket_connect_timeout: Optional[float] = None,
        retry_on_timeout: bool = False,
        retry_on_error: Union[Iterable[Type[Exception]], object] = SENTINEL,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        parser_class: Any = DefaultParser,
        socket_read_size: int = 65536,
        health_check_interval: int = 0,
        client_name: Optional[str] = None,
        lib_name: Union[str, None, object] = SENTINEL,
        lib_version: Union[str, None, object] = SENTINEL,
        driver_info: Union[DriverInfo, None, object] = SENTINEL,
        username: Optional[str] = None,
        retry: Optional[Retry] = None,
        redis_connect_func: Optional[Any] = None,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        command_packer: Optional[Any] = None,
        event_dispatcher: Optional[Any] = None,
        **kwargs: Any,
    ):
        self.host = host
        self.port = int(port)
        self.socket_keepalive = socket_keepalive
        self.socket_keepalive_options = socket_keepalive_options or {}
        self.socket_type = socket_type
        if kwargs:
            # what AbstractConnection.__init__ does with settings it does not
            # know (passing them on would make every call build a dict)
            _reject_unsupported(type(self).__name__, kwargs)
        super().__init__(
            db=db, password=password, socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout, retry_on_timeout=retry_on_timeout,
            retry_on_error=retry_on_error, encoding=encoding, encoding_errors=encoding_errors,
            decode_responses=decode_responses, parser_class=parser_class,
            socket_read_size=socket_read_size, health_check_interval=health_check_interval,
            client_name=client_name, lib_name=lib_name, lib_version=lib_version,
            driver_info=driver_info, username=username, retry=retry,
            redis_connect_func=redis_connect_func, credential_provider=credential_provider,
            protocol=protocol, command_packer=command_packer,
            event_dispatcher=event_dispatcher)

    def repr_pieces(self) -> List[Tuple[str, Any]]:
        pieces = [("host", self.host), ("port", self.port), ("db", self.db)]
        if self.client_name:
            pieces.append(("client_name", self.client_name))
        return pieces

    def _connect(self) -> None:
        self._connect_tcp(self.host, self.port, self.socket_type,
                          bool(self.socket_keepalive), self.socket_keepalive_options)

    def _host_error(self) -> str:
        return f"{self.host}:{self.port}"


class UnixDomainSocketConnection(AbstractConnection):
    """A connection over a unix domain socket."""

    def __init__(
        self,
        path: str = "",
        socket_timeout: Optional[float] = None,
        *,
        # AbstractConnection's other parameters, by name (see _SETTINGS_PARAMS_NOTE)
        db: int = 0,
        password: Optional[str] = None,
        socket_connect_timeout: Optional[float] = None,
        retry_on_timeout: bool = False,
        retry_on_error: Union[Iterable[Type[Exception]], object] = SENTINEL,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        decode_responses: bool = False,
        parser_class: Any = DefaultParser,
        socket_read_size: int = 65536,
        health_check_interval: int = 0,
        client_name: Optional[str] = None,
        lib_name: Union[str, None, object] = SENTINEL,
        lib_version: Union[str, None, object] = SENTINEL,
        driver_info: Union[DriverInfo, None, object] = SENTINEL,
        username: Optional[str] = None,
        retry: Optional[Retry] = None,
        redis_connect_func: Optional[Any] = None,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        command_packer: Optional[Any] = None,
        event_dispatcher: Optional[Any] = None,
        **kwargs: Any,
    ):
        self.path = path
        if kwargs:
            # what AbstractConnection.__init__ does with settings it does not
            # know (passing them on would make every call build a dict)
            _reject_unsupported(type(self).__name__, kwargs)
        super().__init__(
            db=db, password=password, socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout, retry_on_timeout=retry_on_timeout,
            retry_on_error=retry_on_error, encoding=encoding, encoding_errors=encoding_errors,
            decode_responses=decode_responses, parser_class=parser_class,
            socket_read_size=socket_read_size, health_check_interval=health_check_interval,
            client_name=client_name, lib_name=lib_name, lib_version=lib_version,
            driver_info=driver_info, username=username, retry=retry,
            redis_connect_func=redis_connect_func, credential_provider=credential_provider,
            protocol=protocol, command_packer=command_packer,
            event_dispatcher=event_dispatcher)

    def repr_pieces(self) -> List[Tuple[str, Any]]:
        pieces = [("path", self.path), ("db", self.db)]
        if self.client_name:
            pieces.append(("client_name", self.client_name))
        return pieces

    def _connect(self) -> None:
        self._connect_unix(self.path)

    def _host_error(self) -> str:
        return self.path


# _SETTINGS_PARAMS_NOTE.  Connection.__init__ and UnixDomainSocketConnection.__init__
# name AbstractConnection's parameters (keyword-only) where redis-py collects
# them in **kwargs.  A pool builds every connection with about twenty keyword
# arguments; CPython compares each keyword that ends up in **kwargs with every
# named parameter, string by string, so naming them makes building a
# connection markedly cheaper.  The calls accepted are the same.  What
# inspect.signature() and help() show stays redis-py's signature: each
# __init__'s __wrapped__ is a function with that signature.
def _connection_signature(self, host: str = "localhost", port: int = 6379,
                          socket_keepalive: bool = False,
                          socket_keepalive_options: Optional[Dict[int, int]] = None,
                          socket_type: int = 0, **kwargs: Any) -> None:
    """Connection(host, port, socket_keepalive, socket_keepalive_options,
    socket_type, **kwargs): kwargs are AbstractConnection's settings."""
    raise TypeError("a signature, not a callable")


def _unix_connection_signature(self, path: str = "", socket_timeout: Optional[float] = None,
                               **kwargs: Any) -> None:
    """UnixDomainSocketConnection(path, socket_timeout, **kwargs): kwargs are
    AbstractConnection's settings."""
    raise TypeError("a signature, not a callable")


Connection.__init__.__wrapped__ = _connection_signature  # type: ignore[attr-defined]
UnixDomainSocketConnection.__init__.__wrapped__ = _unix_connection_signature  # type: ignore[attr-defined]


_CERT_REQS = {"none": "CERT_NONE", "optional": "CERT_OPTIONAL", "required": "CERT_REQUIRED"}

# TLS contexts (OpenSSL SSL_CTX objects) by their settings: loading the system
# CA store and the certificate files costs milliseconds, so connections with
# the same settings share one context.  The key holds each file's size and
# modification time, so a certificate rotated on disk is read again, as
# redis-py, which builds a context per connect, would read it.
_TLS_CONTEXTS: Dict[tuple, Any] = {}
_TLS_CONTEXTS_MAX = 64


def _file_stamp(path: Any) -> Any:
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return (path, None)        # the load reports the problem
    return (path, st.st_mtime_ns, st.st_size, st.st_ino)


_PY_DEFAULT_VERIFY_FLAGS: List[int] = []


def _python_default_verify_flags() -> int:
    """The verify flags of this Python's ``ssl.create_default_context()``
    (3.13 added VERIFY_X509_STRICT and VERIFY_X509_PARTIAL_CHAIN), read once."""
    if not _PY_DEFAULT_VERIFY_FLAGS:
        import ssl

        _PY_DEFAULT_VERIFY_FLAGS.append(int(ssl.create_default_context().verify_flags))
    return _PY_DEFAULT_VERIFY_FLAGS[0]


def _flag_bits(flags: Optional[Iterable[Any]]) -> int:
    bits = 0
    for flag in flags or ():
        bits |= int(flag)
    return bits


def _check_ocsp_options(ssl_validate_ocsp: Any, ssl_validate_ocsp_stapled: Any,
                        ssl_ocsp_context: Any, ssl_ocsp_expected_cert: Any) -> None:
    """Refuse the OCSP settings redis_native cannot honour (RedisError), so that
    a connection is never made without a check its user asked for.  Called by
    SSLConnection and, for the same settings, by a pool of SSLConnections when
    it is created (before any connection is)."""
    if ssl_validate_ocsp and ssl_validate_ocsp_stapled:
        raise RedisError(
            "Either an OCSP staple or pure OCSP connection must be validated - not both."
        )
    if ssl_validate_ocsp:
        raise RedisError("redis_native does not support OCSP validation against the "
                         "responder (ssl_validate_ocsp=True) yet; "
                         "ssl_validate_ocsp_stapled=True checks a stapled response")
    if ssl_ocsp_context is not None:
        raise RedisError("redis_native checks the stapled OCSP response inside its own "
                         "TLS handshake: 'ssl_ocsp_context' (a pyOpenSSL context) "
                         "cannot be used")
    if ssl_ocsp_expected_cert is not None and not ssl_validate_ocsp_stapled:
        raise RedisError("'ssl_ocsp_expected_cert' (the certificate a stapled OCSP response "
                         "must be for) is only used with ssl_validate_ocsp_stapled=True")


class SSLConnection(Connection):
    """A TCP connection wrapped in TLS by the C core (OpenSSL).

    The handshake, reads and writes run in C with the GIL released, under the
    same timeouts as a plain connection.  The options are redis-py's and mean
    what they mean for ``ssl.create_default_context()``, whose defaults the
    TLS context reproduces (system CA store, TLS 1.2 or later, hostname
    checking).  ``ssl_validate_ocsp_stapled=True`` makes the handshake fail
    unless the server staples a good OCSP response for its certificate, signed
    by its issuer or a delegated responder (checked by OpenSSL inside the
    handshake; redis-py opens a second connection with pyOpenSSL for it).
    Checking against the OCSP responder itself (``ssl_validate_ocsp=True``) is
    not available: asking for it raises :class:`RedisError` here rather than
    connecting unchecked.
    """

    def __init__(
        self,
        ssl_keyfile: Optional[str] = None,
        ssl_certfile: Optional[str] = None,
        ssl_cert_reqs: Any = "required",
        ssl_include_verify_flags: Optional[List["VerifyFlags"]] = None,
        ssl_exclude_verify_flags: Optional[List["VerifyFlags"]] = None,
        ssl_ca_certs: Optional[str] = None,
        ssl_ca_data: Optional[Any] = None,
        ssl_check_hostname: bool = True,
        ssl_ca_path: Optional[str] = None,
        ssl_password: Optional[Any] = None,
        ssl_validate_ocsp: bool = False,
        ssl_validate_ocsp_stapled: bool = False,
        ssl_ocsp_context: Optional[Any] = None,
        ssl_ocsp_expected_cert: Optional[str] = None,
        ssl_min_version: "Optional[ssl.TLSVersion]" = None,  # noqa: F821
        ssl_ciphers: Optional[str] = None,
        **kwargs: Any,
    ):
        import ssl  # loaded by the first SSLConnection, not by import redis_native

        if ssl_cert_reqs is None:
            ssl_cert_reqs = ssl.CERT_NONE
        elif isinstance(ssl_cert_reqs, str):
            if ssl_cert_reqs not in _CERT_REQS:
                raise RedisError(f"Invalid SSL Certificate Requirements Flag: {ssl_cert_reqs}")
            ssl_cert_reqs = getattr(ssl, _CERT_REQS[ssl_cert_reqs])
        _check_ocsp_options(ssl_validate_ocsp, ssl_validate_ocsp_stapled, ssl_ocsp_context,
                            ssl_ocsp_expected_cert)
        self.keyfile = ssl_keyfile
        self.certfile = ssl_certfile
        self.cert_reqs = ssl_cert_reqs
        self.ssl_include_verify_flags = ssl_include_verify_flags
        self.ssl_exclude_verify_flags = ssl_exclude_verify_flags
        self.ca_certs = ssl_ca_certs
        self.ca_data = ssl_ca_data
        self.ca_path = ssl_ca_path
        self.check_hostname = ssl_check_hostname if self.cert_reqs != ssl.CERT_NONE else False
        self.certificate_password = ssl_password
        self.ssl_validate_ocsp = ssl_validate_ocsp
        self.ssl_validate_ocsp_stapled = ssl_validate_ocsp_stapled
        self.ssl_ocsp_context = ssl_ocsp_context
        self.ssl_ocsp_expected_cert = ssl_ocsp_expected_cert
        self.ssl_min_version = ssl_min_version
        self.ssl_ciphers = ssl_ciphers
        super().__init__(**kwargs)

    def _connect(self) -> None:
        super()._connect()
        try:
            host = self.host
            if isinstance(host, str):
                host = host.encode("idna").decode("ascii")
            self._start_tls(self._tls_context(), host)
        except BaseException:
            # never leave the socket open without TLS
            self.disconnect()
            raise

    def _tls_context(self) -> Any:
        """The TLS context for the current settings (shared by connections
        with equal settings and unchanged certificate files)."""
        password = self.certificate_password
        cacheable = not callable(password)
        key = (
            int(self.cert_reqs), bool(self.check_hostname),
            _flag_bits(self.ssl_include_verify_flags), _flag_bits(self.ssl_exclude_verify_flags),
            _file_stamp(self.certfile), _file_stamp(self.keyfile), password,
            _file_stamp(self.ca_certs), _file_stamp(self.ca_path), self.ca_data,
            None if self.ssl_min_version is None else int(self.ssl_min_version),
            self.ssl_ciphers, bool(self.ssl_validate_ocsp_stapled), self.ssl_ocsp_expected_cert,
        ) if cacheable else None
        if key is not None:
            try:
                context = _TLS_CONTEXTS.get(key)
            except TypeError:           # an unhashable value: build it every time
                key, context = None, None
            if context is not None:
                return context
        context = self._build_tls_context()
        if key is not None:
            if len(_TLS_CONTEXTS) >= _TLS_CONTEXTS_MAX:
                _TLS_CONTEXTS.clear()
            _TLS_CONTEXTS[key] = context
        return context

    def _build_tls_context(self) -> Any:
        context = _native.TLSContext(int(self.cert_reqs), bool(self.check_hostname))
        context.load_default_certs()
        # Python's default flags, then the include list, then the exclude list
        current = int(context.verify_flags)
        flags = _python_default_verify_flags() | _flag_bits(self.ssl_include_verify_flags)
        flags &= ~_flag_bits(self.ssl_exclude_verify_flags)
        if flags != current:
            context.set_verify_flags(flags & ~current, current & ~flags)
        if self.certfile or self.keyfile:
            context.load_cert_chain(self.certfile, self.keyfile, self.certificate_password)
        if self.ca_certs is not None or self.ca_path is not None or self.ca_data is not None:
            context.load_verify_locations(self.ca_certs, self.ca_path, self.ca_data)
        if self.ssl_min_version is not None:
            context.set_minimum_version(int(self.ssl_min_version))
        if self.ssl_ciphers:
            context.set_ciphers(self.ssl_ciphers)
        if self.ssl_validate_ocsp_stapled:
            context.require_ocsp_staple(self.ssl_ocsp_expected_cert)
        return context


_UNSUPPORTED_OK = {
    # accepted and meaningless here, as long as they carry no value
    "maint_notifications_config", "maint_notifications_pool_handler",
    "maintenance_state", "maintenance_notification_hash", "orig_host_address",
    "orig_socket_timeout", "orig_socket_connect_timeout",
    "oss_cluster_maint_notifications_handler", "cache", "cache_config",
}


def _reject_unsupported(where: str, extra: Dict[str, Any]) -> None:
    for name, value in extra.items():
        if name in _UNSUPPORTED_OK and (value is None or name == "maintenance_state"):
            continue
        if name in _UNSUPPORTED_OK:
            raise RedisError(f"{where}: '{name}' is not supported by redis_native yet")
        # Python's own message for the parameter redis-py's
        # AbstractConnection.__init__ does not have
        raise TypeError(f"AbstractConnection.__init__() got an unexpected keyword "
                        f"argument '{name}'")


# ---------------------------------------------------------------------------- URLs
#: Strings (compared case-insensitively) that :func:`to_bool` reads as false.
FALSE_STRINGS = ("0", "F", "FALSE", "N", "NO")

_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def to_bool(value: Any) -> Optional[bool]:
    """Read a URL option as a boolean.

    ``None`` and ``""`` give ``None``; one of :data:`FALSE_STRINGS` (any case)
    gives ``False``; anything else gives its truth value, so every other
    non-empty string is ``True``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.upper() in FALSE_STRINGS:
        return False
    return bool(value)


def parse_ssl_verify_flags(value: str) -> "List[VerifyFlags]":
    """Read a list of :class:`ssl.VerifyFlags` names, e.g. ``[VERIFY_X509_STRICT]``.

    Brackets are optional and names are separated by commas.  An unknown name
    raises ``ValueError``.
    """
    from ssl import VerifyFlags

    flags: List[VerifyFlags] = []
    for raw in value.replace("[", "").replace("]", "").split(","):
        name = raw.strip()
        if not hasattr(VerifyFlags, name):
            raise ValueError(f"Invalid ssl verify flag: {name}")
        flags.append(getattr(VerifyFlags, name))
    return flags


#: Converters applied to known query-string options.
URL_QUERY_ARGUMENT_PARSERS: Dict[str, Callable[[str], Any]] = {
    "db": int,
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "socket_keepalive": to_bool,
    "retry_on_timeout": to_bool,
    "retry_on_error": list,
    "max_connections": int,
    "health_check_interval": int,
    "ssl_check_hostname": to_bool,
    "ssl_include_verify_flags": parse_ssl_verify_flags,
    "ssl_exclude_verify_flags": parse_ssl_verify_flags,
    "timeout": float,
}


def parse_url(url: str) -> Dict[str, Any]:
    """Turn a ``redis://``, ``rediss://`` or ``unix://`` URL into the keyword
    arguments of a connection pool.

    * Any other scheme raises ``ValueError``.
    * Query options: only the first value of a repeated key counts, empty
      values are skipped, values are percent-decoded once more after the
      query-string decoding, known keys are converted by
      :data:`URL_QUERY_ARGUMENT_PARSERS` (a failed conversion raises
      ``ValueError("Invalid value for '<key>' in connection URL.")``) and
      unknown keys are passed on as strings.
    * ``username`` and ``password`` come from the userinfo, percent-decoded.
    * ``unix://``: ``path`` from the URL path and ``connection_class``
      :class:`UnixDomainSocketConnection`.
    * ``redis://`` / ``rediss://``: ``host``, ``port`` (an invalid port
      raises the ``ValueError`` of :mod:`urllib.parse`) and ``db`` from the
      path (``/3``) unless the query gives ``db``; a path that is not a
      number is ignored.  ``rediss://`` adds ``connection_class``
      :class:`SSLConnection`.
    """
    if not url.startswith(_URL_SCHEMES):
        raise ValueError(
            "Redis URL must specify one of the following "
            "schemes (redis://, rediss://, unix://)"
        )
    from urllib.parse import parse_qs, unquote, urlparse

    parts = urlparse(url)
    kwargs: Dict[str, Any] = {}

    for name, values in parse_qs(parts.query).items():
        if not values:
            continue
        value = unquote(values[0])
        convert = URL_QUERY_ARGUMENT_PARSERS.get(name)
        if convert is None:
            kwargs[name] = value
            continue
        try:
            kwargs[name] = convert(value)
        except (TypeError, ValueError):
            raise ValueError(f"Invalid value for '{name}' in connection URL.")

    if parts.username:
        kwargs["username"] = unquote(parts.username)
    if parts.password:
        kwargs["password"] = unquote(parts.password)

    if parts.scheme == "unix":
        if parts.path:
            kwargs["path"] = unquote(parts.path)
        kwargs["connection_class"] = UnixDomainSocketConnection
        return kwargs

    if parts.hostname:
        kwargs["host"] = unquote(parts.hostname)
    port = parts.port  # raises ValueError for a malformed or out-of-range port
    if port:
        kwargs["port"] = int(port)
    # the path selects the database unless the query string already did
    if parts.path and "db" not in kwargs:
        try:
            kwargs["db"] = int(unquote(parts.path).replace("/", ""))
        except (AttributeError, ValueError):
            pass
    if parts.scheme == "rediss":
        kwargs["connection_class"] = SSLConnection
    return kwargs


# ---------------------------------------------------------------------------- pools
class ConnectionPool(_native.ConnectionPool, ConnectionPoolInterface):
    """A thread-safe, fork-safe pool of connections, in C.

    ``max_connections`` caps the connections the pool creates; asking for one
    more raises :class:`~redis_native.exceptions.MaxConnectionsError`.
    """

    SENSITIVE_REPR_KEYS = frozenset({"password", "username", "ssl_password", "credential_provider"})

    # the pool's own EventDispatcher when its connection_kwargs give none,
    # made on first read
    _event_dispatcher = _OwnDispatcher("_event_dispatcher")

    # whether release() tells an event_dispatcher given to the pool (redis-py:
    # ConnectionPool does, BlockingConnectionPool does not)
    _ANNOUNCES_RELEASES = True

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "ConnectionPool":
        """Build a pool from a ``redis://``, ``rediss://`` or ``unix://`` URL.

        Keyword arguments override what the URL says.
        """
        url_options = parse_url(url)
        if "connection_class" in kwargs:
            url_options["connection_class"] = kwargs["connection_class"]
        kwargs.update(url_options)
        return cls(**kwargs)

    def __init__(
        self,
        connection_class: Type[AbstractConnection] = Connection,
        max_connections: Optional[int] = None,
        cache_factory: Any = None,
        maint_notifications_config: Any = None,
        **connection_kwargs: Any,
    ):
        self._setup(connection_class, max_connections, cache_factory,
                    maint_notifications_config, connection_kwargs)

    def _setup(self, connection_class: Type[AbstractConnection], max_connections: Optional[int],
               cache_factory: Any, maint_notifications_config: Any,
               connection_kwargs: Dict[str, Any]) -> None:
        """__init__'s work, with the connection settings as a dict (which the
        pool keeps as its connection_kwargs)."""
        if cache_factory is not None or connection_kwargs.get("cache") is not None \
                or connection_kwargs.get("cache_config") is not None:
            raise RedisError("Client caching is only supported with RESP version 3")
        max_connections = 2 ** 31 if max_connections is None else max_connections
        if not isinstance(max_connections, int) or max_connections < 0:
            raise ValueError('"max_connections" must be a positive integer')
        connection_kwargs.pop("cache", None)
        connection_kwargs.pop("cache_config", None)
        if isinstance(connection_class, type) and issubclass(connection_class, SSLConnection):
            _check_ocsp_options(*(connection_kwargs.get(name) for name in (
                "ssl_validate_ocsp", "ssl_validate_ocsp_stapled", "ssl_ocsp_context",
                "ssl_ocsp_expected_cert")))
        self.connection_class = connection_class
        self.connection_kwargs = connection_kwargs
        self.max_connections = max_connections
        self._maint_notifications_config = maint_notifications_config
        dispatcher = connection_kwargs.get("event_dispatcher")
        if dispatcher is not None:
            self._event_dispatcher = dispatcher
        # else the pool's own, made when first read (_OwnDispatcher)
        if dispatcher is not None and self._ANNOUNCES_RELEASES:
            # A pool given a dispatcher announces every release to it
            # (AfterConnectionReleasedEvent).  C releases connections without
            # calling Python, so this pool's release is replaced on the
            # instance: C then steps aside for it (the stand-in rule).  Pools
            # without a dispatcher of their own have nobody to tell.
            self.release = self._release_and_announce

    def __repr__(self) -> str:
        args = ",".join(
            f"{k}={'<REDACTED>' if k in self.SENSITIVE_REPR_KEYS else v}"
            for k, v in self.connection_kwargs.items()
        )
        return (f"<{type(self).__module__}.{type(self).__name__}"
                f"(<{self.connection_class.__module__}.{self.connection_class.__name__}"
                f"({args})>)>")

    def __reduce__(self):
        # Pools are handed to child processes (multiprocessing) by their settings.
        return (_rebuild_pool, (type(self), self._init_settings()))

    def _init_settings(self) -> Dict[str, Any]:
        settings = dict(self.connection_kwargs)
        settings["connection_class"] = self.connection_class
        settings["max_connections"] = self.max_connections
        return settings

    def get_protocol(self) -> int:
        return self.connection_kwargs.get("protocol", DEFAULT_RESP_VERSION) or 2

    def get_encoder(self) -> Encoder:
        kw = self.connection_kwargs
        return Encoder(kw.get("encoding", "utf-8"), kw.get("encoding_errors", "strict"),
                       kw.get("decode_responses", False))

    def can_get_connection(self) -> bool:
        return bool(self._available_connections) or \
            self._created_connections < self.max_connections

    def close(self) -> None:
        self.disconnect()

    def _release_and_announce(self, connection: AbstractConnection) -> None:
        """``release()``, then AfterConnectionReleasedEvent if the pool kept
        the connection (not for a connection of another pool)."""
        owned = connection in self._in_use_connections
        type(self).release(self, connection)
        if owned and connection in self._available_connections:
            self._event_dispatcher.dispatch(AfterConnectionReleasedEvent(connection))

    def update_connection_kwargs(self, **kwargs: Any) -> None:
        """Use these keyword arguments (on top of the current ones) for the
        connections made from now on; existing connections keep theirs."""
        self.connection_kwargs.update(kwargs)

    def disconnect_free_connections(self, moving_address_src: Optional[str] = None) -> None:
        """Disconnect the idle connections (only those connected to
        ``moving_address_src`` when it is given); they reconnect when next
        used."""
        for conn in list(self._available_connections):
            if moving_address_src is None or conn.getpeername() == moving_address_src:
                conn.disconnect()

    def get_connection_count(self) -> List[Tuple[int, Dict[str, Any]]]:
        """``[(idle, attributes), (in_use, attributes)]``: the number of idle
        and of in-use connections, each with the OpenTelemetry attributes that
        describe it (pool name ``host:port_id``, state ``idle``/``used``)."""
        kw = self.connection_kwargs
        pool_id = self.__dict__.get("_pool_id")
        if pool_id is None:
            # identifies the pool in these attributes (as secrets.token_hex(4))
            pool_id = self._pool_id = os.urandom(4).hex()
        base = {
            "db.system": "redis",
            "redis.client.library": f"redis_native:v{get_lib_version()}",
            "db.client.connection.pool.name":
                f"{kw.get('host', 'unknown')}:{kw.get('port', 6379)}_{pool_id}",
        }
        return [
            (len(self._available_connections), {**base, "db.client.connection.state": "idle"}),
            (len(self._in_use_connections), {**base, "db.client.connection.state": "used"}),
        ]

    def set_retry(self, retry: Retry) -> None:
        self.connection_kwargs.update({"retry": retry})
        for conn in list(self._available_connections) + list(self._in_use_connections):
            conn.retry = retry

    @property
    def cache(self) -> None:
        return None


class BlockingConnectionPool(ConnectionPool):
    """A pool that waits (up to ``timeout`` seconds, None = forever) for a free
    connection instead of raising when all ``max_connections`` are in use."""

    _ANNOUNCES_RELEASES = False

    def __init__(
        self,
        max_connections: int = 50,
        timeout: Optional[float] = 20,
        connection_class: Type[AbstractConnection] = Connection,
        queue_class: type = LifoQueue,
        **connection_kwargs: Any,
    ):
        # Accepted for signature compatibility: the waiting is done in C (see
        # src/pool.c), there is no queue object.
        self.queue_class = queue_class
        super().__init__(connection_class=connection_class,
                         max_connections=max_connections, **connection_kwargs)
        self.timeout = timeout
        self._blocking = True

    def _init_settings(self) -> Dict[str, Any]:
        settings = super()._init_settings()
        settings["timeout"] = self.timeout
        return settings

    @property
    def _connections(self) -> List[AbstractConnection]:
        """Every connection the pool holds, idle and in use (redis-py keeps
        this list; here it is made from the C pool's two lists on each read)."""
        return [*self._available_connections, *self._in_use_connections]


def _rebuild_pool(cls: type, settings: Dict[str, Any]) -> ConnectionPool:
    return cls(**settings)


# connect() here is redis_native's own: the pool may skip calling it for a
# live connection (the stand-in rule, docs/architecture.md).
_native._declare_builtin(AbstractConnection)
# C runs connect()'s chain itself while nothing replaces these (src/connect.c)
_native._declare_connect_chain(AbstractConnection.connect, Retry, Retry.call_with_retry)


# Names redis-py's redis.connection has that come from modules a plain
# ``import redis_native`` does not load (ssl, cryptography, redis_native.cache):
# resolved on first access (PEP 562), then kept in the module.
_FROM_CACHE = ("CacheEntry", "CacheEntryStatus", "CacheFactory", "CacheFactoryInterface",
               "CacheInterface", "CacheKey", "CacheProxy")


def __getattr__(name: str) -> Any:
    if name in _FROM_CACHE:
        from . import cache

        value = getattr(cache, name)
    elif name == "VerifyFlags":
        from ssl import VerifyFlags as value
    elif name in ("SSL_AVAILABLE", "CRYPTOGRAPHY_AVAILABLE"):
        value = getattr(_utils, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value
