"""The client classes of ``redis.client``: ``Redis``, ``Pipeline``,
``PubSub``, ``PubSubWorkerThread`` and ``Monitor``, defined here as in redis-py.

``Redis`` is an ordinary Python class (users subclass it and patch its
methods) whose base ``_native.ClientBase`` implements ``execute_command`` in C.
The command methods come from :mod:`redis_native.commands` and only build
argument tuples.

``Pipeline`` buffers commands; with redis_native's own connection classes its
``execute()`` is one call into C that writes every command at once and returns
the raw replies, which the pipeline turns into results with the same method
(``_command_result``) the per-reply Python path uses.

``PubSub``, ``PubSubWorkerThread`` and ``Monitor`` are plain Python: they run
once per message, not once per command.
"""

from __future__ import annotations
import copy
import re
import threading
import time
from enum import Enum
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Set, Tuple, Type, Union

from . import _native
from ._parsers import helpers as _helpers
from ._parsers.helpers import (  # noqa: F401  (bool_ok re-exported, as in redis-py)
    _RedisCallbacks,
    _RedisCallbacksRESP2,
    bool_ok,
)
from .backoff import ExponentialWithJitterBackoff
from .commands import CoreCommands, SentinelCommands
from .commands._stack import StackModuleAccessors
from .commands.core import Script  # noqa: F401  (re-exported, as in redis-py)
from .commands.helpers import EMPTY_RESPONSE, NEVER_DECODE, list_or_args
from .connection import (  # noqa: F401  (several re-exported, as in redis-py)
    SYM_EMPTY,
    AbstractConnection,
    Connection,
    ConnectionPool,
    Encoder,
    SSLConnection,
    UnixDomainSocketConnection,
)
from .credentials import CredentialProvider
from .driver_info import DriverInfo, resolve_driver_info
from .event import (
    AfterPooledConnectionsInstantiationEvent,
    AfterPubSubConnectionInstantiationEvent,
    AfterSingleConnectionInstantiationEvent,
    ClientType,
    EventDispatcher,
    _OwnDispatcher,
)
from .exceptions import (  # noqa: F401  (several re-exported, as in redis-py)
    ConnectionError,
    ExecAbortError,
    PubSubError,
    RedisError,
    ResponseError,
    WatchError,
)
from .lock import Lock
from .retry import Retry, copy_retry
from .utils import (  # noqa: F401  (several re-exported, as in redis-py)
    NOT_PASSED,
    SENTINEL,
    check_protocol_version,
    deprecated_args,
    safe_str,
    str_if_bytes,
    show_defaults,
    truncate_text,
    warn_passed_deprecated,
)

__all__ = ["Redis", "StrictRedis", "CaseInsensitiveDict", "EMPTY_RESPONSE", "NEVER_DECODE",
           "Pipeline", "PubSub", "PubSubWorkerThread", "Monitor"]


# C versions of the callbacks of the most used commands.  Each replaces its
# Python twin in _parsers/helpers.py wherever that one is registered (the
# Python functions stay the reference; the differential tests run through the
# C ones).
def _c_callbacks() -> Dict[str, Callable]:
    h = _helpers
    twins = {
        h.parse_set_result: _native.set_result,
        h._hgetall: _native.pairs_to_dict,
        h._to_set: _native.to_set,
        h.float_or_none: _native.float_or_none,
        h._parse_ping: _native.parse_ping,
        h.parse_zadd: _native.parse_zadd,
        h.zset_score_pairs: _native.zset_score_pairs,
    }
    table = dict(_RedisCallbacks)
    table.update(_RedisCallbacksRESP2)
    return {name: twins[cb] for name, cb in table.items() if cb in twins}


_C_CALLBACKS = _c_callbacks()

# options of execute_command that steer reading a reply, not its callback
_READ_OPTIONS = (NEVER_DECODE, EMPTY_RESPONSE, "keys")


def _callback_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """The options a response callback receives: ``options`` without the
    read-steering ones."""
    if NEVER_DECODE in options or EMPTY_RESPONSE in options or "keys" in options:
        return {k: v for k, v in options.items() if k not in _READ_OPTIONS}
    return options


class PubSubDirection(Enum):
    """Direction of a pub/sub message (sent or received)."""

    PUBLISH = "publish"
    RECEIVE = "receive"


class AbstractRedis:
    """Common base name of client classes, as in redis-py."""


class CaseInsensitiveDict(dict):
    """A dict whose str keys are stored and looked up upper-cased."""

    def __init__(self, data: Mapping) -> None:
        super().__init__()
        for k, v in dict(data).items():
            self[k] = v

    @staticmethod
    def _norm(k: Any) -> Any:
        return k.upper() if isinstance(k, str) else k

    def __contains__(self, k: Any) -> bool:
        return super().__contains__(self._norm(k))

    def __delitem__(self, k: Any) -> None:
        super().__delitem__(self._norm(k))

    def __getitem__(self, k: Any) -> Any:
        return super().__getitem__(self._norm(k))

    def get(self, k: Any, default: Any = None) -> Any:
        return super().get(self._norm(k), default)

    def __setitem__(self, k: Any, v: Any) -> None:
        super().__setitem__(self._norm(k), v)

    def update(self, data: Mapping) -> None:  # type: ignore[override]
        for k, v in dict(data).items():
            self[k] = v

    @classmethod
    def _copy_of(cls, table: Dict[Any, Any]) -> "CaseInsensitiveDict":
        """A new mapping holding ``table``, whose str keys must already be
        upper-case: one C-level dict copy instead of a ``__setitem__`` call
        per entry."""
        new = cls.__new__(cls)
        dict.update(new, table)
        return new


def _normalised_callbacks() -> Dict[Any, Callable]:
    """The RESP2 response-callback table every new client starts from, keyed
    as CaseInsensitiveDict stores keys (built once; each client copies it)."""
    table = CaseInsensitiveDict(_RedisCallbacks)
    table.update(_RedisCallbacksRESP2)
    table.update(_C_CALLBACKS)
    return dict(table)


_CLIENT_CALLBACKS = _normalised_callbacks()
_POOL_INIT = ConnectionPool.__init__
# never handed out: a client reads it until its response_callbacks are asked for
_SHARED_CALLBACKS = CaseInsensitiveDict._copy_of(_CLIENT_CALLBACKS)


class Redis(_native.ClientBase, CoreCommands, SentinelCommands, StackModuleAccessors,
            AbstractRedis):
    """A client for one Redis server, compatible with redis-py's ``redis.Redis``.

    Connections come from ``connection_pool`` (one is built from the keyword
    arguments when none is given).  Every command method sends one command and
    returns its reply after the response callback, exactly as redis-py does with
    RESP2.
    """

    # the client's own EventDispatcher when it is given none, made on first read
    _event_dispatcher = _OwnDispatcher("_event_dispatcher")

    # ClientBase's C method, bound through an instance as a types.MethodType
    # like redis-py's function (tracers that wrap one client's method need
    # the instance behind it); method calls still call it unbound
    execute_command = _native.BindableMethod(_native.ClientBase.execute_command)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> "Redis":
        """Return a client configured from a URL.

        ``redis://[[username]:[password]]@localhost:6379/0``,
        ``unix://[username@]/path/to/socket.sock?db=0[&password=password]``;
        query-string arguments (``socket_timeout``, ``decode_responses``,
        ``health_check_interval``, ``max_connections``, ``client_name``...) and
        keyword arguments configure the pool; keyword arguments win.
        """
        single_connection_client = kwargs.pop("single_connection_client", False)
        pool = ConnectionPool.from_url(url, **kwargs)
        client = cls(connection_pool=pool, single_connection_client=single_connection_client)
        client.auto_close_connection_pool = True
        return client

    @classmethod
    def from_pool(cls, connection_pool: ConnectionPool) -> "Redis":
        """Return a client that owns ``connection_pool`` (closed with the client)."""
        client = cls(connection_pool=connection_pool)
        client.auto_close_connection_pool = True
        return client

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
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
        retry_on_error: Optional[List[Type[Exception]]] = None,
        ssl: bool = False,
        ssl_keyfile: Optional[str] = None,
        ssl_certfile: Optional[str] = None,
        ssl_cert_reqs: Union[str, Any] = "required",
        ssl_include_verify_flags: Optional[List[Any]] = None,
        ssl_exclude_verify_flags: Optional[List[Any]] = None,
        ssl_ca_certs: Optional[str] = None,
        ssl_ca_path: Optional[str] = None,
        ssl_ca_data: Optional[str] = None,
        ssl_check_hostname: bool = True,
        ssl_password: Optional[str] = None,
        ssl_validate_ocsp: bool = False,
        ssl_validate_ocsp_stapled: bool = False,
        ssl_ocsp_context: Optional[Any] = None,
        ssl_ocsp_expected_cert: Optional[str] = None,
        ssl_min_version: Optional[Any] = None,
        ssl_ciphers: Optional[str] = None,
        max_connections: Optional[int] = None,
        single_connection_client: bool = False,
        health_check_interval: int = 0,
        client_name: Optional[str] = None,
        lib_name: Union[str, None, object] = SENTINEL,
        lib_version: Union[str, None, object] = SENTINEL,
        driver_info: Union[DriverInfo, None, object] = SENTINEL,
        username: Optional[str] = None,
        redis_connect_func: Optional[Callable[[], None]] = None,
        credential_provider: Optional[CredentialProvider] = None,
        protocol: Optional[int] = 2,
        cache: Optional[Any] = None,
        cache_config: Optional[Any] = None,
        event_dispatcher: Optional[Any] = None,
        maint_notifications_config: Optional[Any] = None,
        oss_cluster_maint_notifications_handler: Optional[Any] = None,
    ) -> None:
        if lib_name is not SENTINEL or lib_version is not SENTINEL \
                or retry_on_timeout is not NOT_PASSED:
            warn_passed_deprecated(lib_name, lib_version, retry_on_timeout)
        if cache is not None or cache_config is not None:
            raise RedisError("Client caching is only supported with RESP version 3")
        if maint_notifications_config is not None and getattr(
                maint_notifications_config, "enabled", False):
            raise RedisError(
                "Maintenance notifications handlers on connection are only supported "
                "with RESP version 3"
            )
        if event_dispatcher is not None:
            self._event_dispatcher = event_dispatcher
        # else the client's own, made when first read (_OwnDispatcher)
        if not connection_pool:
            connection_class: Any = Connection
            kwargs: Dict[str, Any] = {
                "db": db,
                "username": username,
                "password": password,
                "socket_timeout": socket_timeout,
                "encoding": encoding,
                "encoding_errors": encoding_errors,
                "decode_responses": decode_responses,
                "retry_on_error": list(retry_on_error or []),
                "retry": copy_retry(retry),
                "health_check_interval": health_check_interval,
                "client_name": client_name,
                "driver_info": resolve_driver_info(driver_info, lib_name, lib_version),
                "redis_connect_func": redis_connect_func,
                "credential_provider": credential_provider,
                "protocol": protocol,
            }
            if retry_on_timeout:
                kwargs["retry_on_timeout"] = True
            if unix_socket_path is not None:
                kwargs["path"] = unix_socket_path
                connection_class = UnixDomainSocketConnection
            else:
                kwargs.update(
                    host=host,
                    port=port,
                    socket_connect_timeout=socket_connect_timeout,
                    socket_keepalive=socket_keepalive,
                    socket_keepalive_options=socket_keepalive_options,
                )
                if ssl:
                    connection_class = SSLConnection
                    kwargs.update(
                        ssl_keyfile=ssl_keyfile,
                        ssl_certfile=ssl_certfile,
                        ssl_cert_reqs=ssl_cert_reqs,
                        ssl_include_verify_flags=ssl_include_verify_flags,
                        ssl_exclude_verify_flags=ssl_exclude_verify_flags,
                        ssl_ca_certs=ssl_ca_certs,
                        ssl_ca_data=ssl_ca_data,
                        ssl_check_hostname=ssl_check_hostname,
                        ssl_password=ssl_password,
                        ssl_ca_path=ssl_ca_path,
                        ssl_validate_ocsp_stapled=ssl_validate_ocsp_stapled,
                        ssl_validate_ocsp=ssl_validate_ocsp,
                        ssl_ocsp_context=ssl_ocsp_context,
                        ssl_ocsp_expected_cert=ssl_ocsp_expected_cert,
                        ssl_min_version=ssl_min_version,
                        ssl_ciphers=ssl_ciphers,
                    )
            pool_class = ConnectionPool
            if pool_class.__init__ is _POOL_INIT:
                # the stock pool: its __init__'s work without passing the
                # twenty settings through **connection_kwargs once more
                connection_pool = pool_class.__new__(pool_class)
                connection_pool._setup(connection_class, max_connections, None, None, kwargs)
            else:
                connection_pool = pool_class(connection_class=connection_class,
                                             max_connections=max_connections, **kwargs)
            self.auto_close_connection_pool = True
        else:
            self.auto_close_connection_pool = False
        if event_dispatcher is not None:
            # (a dispatcher of the client's own has no listeners yet)
            event_dispatcher.dispatch(AfterPooledConnectionsInstantiationEvent(
                [connection_pool], ClientType.SYNC, credential_provider))
        self.connection_pool = connection_pool
        self.single_connection_client = single_connection_client
        self.connection = None
        self._single_connection_client = single_connection_client
        if single_connection_client:
            self.connection = self.connection_pool.get_connection()
            # the lock that serialises this connection lives in C (src/client.c)
            if event_dispatcher is not None:
                event_dispatcher.dispatch(AfterSingleConnectionInstantiationEvent(
                    self.connection, ClientType.SYNC,
                    getattr(self, "single_connection_lock", None)))
        # the table built at import, shared until response_callbacks is first
        # read, which gives the client its own copy (redis-py builds the same
        # table entry by entry for every client)
        self._share_callbacks(_SHARED_CALLBACKS)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}({self.connection_pool!r})>"

    def get_encoder(self):
        """The Encoder of this client's connections (encoding, errors, decode flag)."""
        return self.connection_pool.get_encoder()

    def get_connection_kwargs(self) -> Dict[str, Any]:
        """The keyword arguments every connection of the pool is built with."""
        return self.connection_pool.connection_kwargs

    def get_retry(self) -> Optional[Retry]:
        """The Retry policy new connections of this client are built with."""
        return self.get_connection_kwargs().get("retry")

    def set_retry(self, retry: Retry) -> None:
        """Use ``retry`` for new connections and for the pool's existing ones."""
        self.get_connection_kwargs().update({"retry": retry})
        self.connection_pool.set_retry(retry)

    def set_response_callback(self, command: str, callback: Callable) -> None:
        """Use ``callback(response, **options)`` to post-process ``command``'s replies."""
        self.response_callbacks[command] = callback

    # execute_command's steps, as redis-py names them: _execute_command
    # (ClientBase's, in C) retries _send_command_parse_response, which sends
    # and reads through parse_response, and calls _close_connection between
    # attempts.  C runs the chain itself until one of them is replaced (the
    # stand-in rule); then each is called where redis-py calls it.
    def _send_command_parse_response(self, conn: Any, command_name: Any, *args: Any,
                                     **options: Any) -> Any:
        """One attempt of a command: send it on ``conn``, read its result."""
        conn.send_command(*args, **options)
        return self.parse_response(conn, command_name, **options)

    def _close_connection(self, conn: Any, error: Optional[Exception] = None,
                          failure_count: Optional[int] = None,
                          start_time: Optional[float] = None,
                          command_name: Optional[str] = None) -> None:
        """Between two attempts of a command: drop ``conn``'s socket (the next
        attempt reconnects)."""
        conn.disconnect()

    def parse_response(self, connection: Any, command_name: Union[str, bytes], **options: Any) -> Any:
        """Read one reply from ``connection`` and return ``command_name``'s
        result (see :meth:`_command_result`).

        The C dispatcher does this itself unless a subclass or a patch
        replaces this method; it is then called for every command."""
        try:
            if NEVER_DECODE in options:
                reply = connection.read_response(disable_decoding=True)
            else:
                reply = connection.read_response()
        except ResponseError as error:
            reply = error
        return self._command_result(reply, command_name, options)

    def _command_result(self, reply: Any, command_name: Union[str, bytes],
                        options: Dict[str, Any], callbacks: Any = None) -> Any:
        """The result of a command from its raw reply.

        An error reply is raised, unless the command's options hold
        ``EMPTY_RESPONSE``: that value is then the result.  Any other reply
        goes through the command's response callback, with the options that
        are meant for it.  Pipelines turn every reply into a result here, on
        both of their paths.

        ``callbacks`` is where the callback is looked up with ``.get(name)``:
        ``response_callbacks`` unless a pipeline passes its per-execute memo.
        """
        if isinstance(reply, Exception):
            if EMPTY_RESPONSE in options and isinstance(reply, ResponseError):
                return options[EMPTY_RESPONSE]
            raise reply
        if callbacks is None:
            callbacks = self.response_callbacks
        callback = callbacks.get(command_name)
        if callback is None:
            return reply
        if options:
            return callback(reply, **_callback_options(options))
        return callback(reply)

    def get_cache(self) -> None:
        """Client-side caching needs RESP3, which redis_native does not speak
        yet: there is never a cache, so this returns None."""
        return None

    # -- objects built on the client ---------------------------------------
    def pipeline(self, transaction: bool = True, shard_hint: Optional[str] = None) -> "Pipeline":
        """Return a Pipeline: commands are buffered and sent in one round trip
        by ``execute()``; with ``transaction=True`` wrapped in MULTI/EXEC."""
        return Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)

    def transaction(self, func: Callable[["Pipeline"], None], *watches: Any,
                    **kwargs: Any) -> Any:
        """Run ``func(pipe)`` in a WATCH/MULTI/EXEC transaction on ``watches``,
        calling it again whenever a watched key changed (WatchError).

        ``shard_hint``, ``value_from_callable`` and ``watch_delay`` keywords are
        understood as in redis-py."""
        shard_hint = kwargs.pop("shard_hint", None)
        value_from_callable = kwargs.pop("value_from_callable", False)
        watch_delay = kwargs.pop("watch_delay", None)
        with self.pipeline(True, shard_hint) as pipe:
            while True:
                try:
                    if watches:
                        pipe.watch(*watches)
                    func_value = func(pipe)
                    exec_value = pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        time.sleep(watch_delay)
                    continue

    def pubsub(self, **kwargs: Any) -> "PubSub":
        """Return a PubSub object to subscribe to channels and read messages."""
        return PubSub(self.connection_pool, event_dispatcher=self._event_dispatcher, **kwargs)

    def monitor(self) -> "Monitor":
        """Return a Monitor streaming every command the server receives."""
        return Monitor(self.connection_pool)

    def lock(self, name: str, timeout: Optional[float] = None, sleep: float = 0.1,
             blocking: bool = True, blocking_timeout: Optional[float] = None,
             lock_class: Optional[Any] = None, thread_local: bool = True,
             raise_on_release_error: bool = True) -> Any:
        """Return a Lock named ``name`` (see :class:`redis_native.lock.Lock`)."""
        if lock_class is None:
            lock_class = Lock
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)

    def client(self) -> "Redis":
        """A client on the same pool that keeps one connection for its lifetime."""
        return self.__class__(connection_pool=self.connection_pool,
                              single_connection_client=True)

    def load_external_module(self, funcname: str, func: Any) -> None:
        """Attach ``func`` to this client as the method-like attribute ``funcname``."""
        setattr(self, funcname, func)

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    # __del__ is the C base's (tp_finalize, src/client.c): close(), its errors
    # ignored, as in redis-py -- without a Python frame while close is this one

    def close(self) -> None:
        """Give back the single connection (if any); disconnect an owned pool."""
        # getattr: close() also runs from __del__ of a half-built client.
        conn = getattr(self, "connection", None)
        if conn:
            self.connection = None
            self.connection_pool.release(conn)
        if getattr(self, "auto_close_connection_pool", False):
            self.connection_pool.disconnect()


# retry_on_timeout's default is NOT_PASSED (redis-py warns whenever it is given)
show_defaults(Redis.__init__, retry_on_timeout=False)
StrictRedis = Redis


# ------------------------------------------------------------------------ Pipeline
def _pipeline_roundtrip(connection: Any, commands: "CommandStack") -> List[Any]:
    """The C primitive behind a pipeline's fast path (src/connection.c): pack
    every ``(args, options)`` command into one buffer, write it at once, and
    read one reply per command (undecoded where the options hold
    NEVER_DECODE).  Returns the raw replies, error replies as exception
    instances; an I/O or protocol failure closes the connection and raises."""
    return connection._execute_pipeline(commands)


CommandStack = List[Tuple[Tuple[Any, ...], Dict[str, Any]]]


class _CallbackMemo(dict):
    """``callbacks.get(name)`` remembered per command name, for the replies
    of one ``execute()``: the client's case-insensitive mapping costs a
    Python call per lookup, this one a dict lookup.  ``get`` is the dict's
    own subscript, which calls ``__missing__`` on a name's first use."""

    __slots__ = ("callbacks",)

    def __init__(self, callbacks: Any) -> None:
        super().__init__()
        self.callbacks = callbacks

    get = dict.__getitem__

    def __missing__(self, name: Any) -> Any:
        callback = self[name] = self.callbacks.get(name)
        return callback

_NO_NAMES: frozenset = frozenset()
_MULTI = (("MULTI",), {})
_EXEC = (("EXEC",), {})


def _queue_gaps(pipe: Any, commands: Any, queued: List[Any]) -> List[Tuple[int, Any]]:
    """(position, value) for each command of a transaction whose result EXEC's
    reply will not hold: a command answered without the server (its
    EMPTY_RESPONSE option) and one the server refused to queue (its error,
    annotated by ``pipe.annotate_exception``).  A queuing reply that is an
    error but no ResponseError (a lost connection) is raised.  ``queued`` holds
    the queuing replies of the commands that were sent, in order."""
    # found by one C scan (client.c) of the usual stacks; the same walk in
    # Python for any other sequence of (args, options) pairs
    gaps = None
    if type(commands) is list and type(queued) is list:
        gaps = _native._tx_gaps(commands, queued, EMPTY_RESPONSE, Exception)
    if gaps is None:
        gaps, j = [], 0
        for i, (_, options) in enumerate(commands):
            if EMPTY_RESPONSE in options:
                gaps.append((i, -1))
                continue
            if isinstance(queued[j], Exception):
                gaps.append((i, j))
            j += 1
    found: List[Tuple[int, Any]] = []
    for i, j in gaps:
        args, options = commands[i]
        if j < 0:
            found.append((i, options[EMPTY_RESPONSE]))
            continue
        ack = queued[j]
        if not isinstance(ack, ResponseError):
            raise ack
        pipe.annotate_exception(ack, i + 1, args)
        found.append((i, ack))
    return found


class Pipeline(Redis):
    """Queue commands and send them together with :meth:`execute`.

    With ``transaction=True`` (what ``Redis.pipeline()`` gives by default) the
    queued commands are wrapped in MULTI/EXEC, so the server runs them
    atomically.  Before that, :meth:`watch` switches the pipeline to immediate
    mode: commands run at once on the pipeline's own connection (to read the
    watched values) until :meth:`multi` starts buffering again; ``execute()``
    then raises :class:`~redis_native.exceptions.WatchError` if a watched key
    was changed meanwhile.

    An error reply does not stop the other commands.  ``execute()`` raises the
    first error, its message prefixed with the command's position and text;
    ``execute(raise_on_error=False)`` returns the exception instances in place
    of the failed commands' results instead.

    Every queuing command method returns the pipeline itself, so calls chain:
    ``pipe.set("a", 1).incr("a").execute()``.

    How ``execute()`` talks to the server: while C may stand in for the
    connection's methods and for :meth:`parse_response` (redis_native's own
    classes, nothing patched: the stand-in rule), one C call writes the whole
    block and returns the raw replies.  Otherwise the block is written with
    ``send_packed_command`` and each reply read through ``parse_response``, so
    every override is honoured.  Either way each reply becomes a result in
    :meth:`_command_result`.
    """

    # commands whose success ends the WATCH state (WATCH starts it)
    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}

    def __init__(self, connection_pool: Any, response_callbacks: Any, transaction: bool,
                 shard_hint: Any) -> None:
        # Redis.__init__ is not called: the pipeline borrows its client's pool
        # and callbacks instead of building its own.
        self.connection_pool = connection_pool
        self.connection = None
        self.response_callbacks = response_callbacks
        self.transaction = transaction
        self.shard_hint = shard_hint
        self.watching = False
        self.command_stack: CommandStack = []
        self.scripts: Set[Any] = set()
        self.explicit_transaction = False

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.reset()

    def __del__(self) -> None:
        try:
            self.reset()
        except Exception:
            pass

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        """A pipeline is true even when no command is queued."""
        return True

    # -- state -----------------------------------------------------------------
    def reset(self) -> None:
        """Forget the queued commands and scripts, end any WATCH and give the
        connection back to the pool."""
        self.command_stack = []
        self.scripts = set()
        conn = self.connection
        if self.watching and conn:
            # sent by hand: unwatch() and immediate_execute_command() may
            # themselves call reset()
            try:
                conn.send_command("UNWATCH")
                conn.read_response()
            except ConnectionError:
                # a closed connection has no WATCH left on the server either
                conn.disconnect()
        self.watching = False
        self.explicit_transaction = False
        # no WATCH is active any more: the connection may serve others
        if self.connection:
            conn = self.connection
            if isinstance(conn, _native.Connection):
                conn._keep_session = False
            self.connection = None
            self.connection_pool.release(conn)

    def close(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    def multi(self) -> None:
        """Start buffering the transaction's commands after :meth:`watch`
        (the block is sent, wrapped in MULTI/EXEC, by :meth:`execute`)."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    # -- queuing / immediate execution -------------------------------------------
    # execute_command(*args, **kwargs): queue the command, or run it at once
    # while WATCHing before MULTI.  In C (client.c), as this Python would:
    #
    #     if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
    #         return self.immediate_execute_command(*args, **kwargs)
    #     return self.pipeline_execute_command(*args, **kwargs)
    #
    # with pipeline_execute_command's append done in place while that method
    # is the one below (the stand-in rule): a queued command costs its
    # command method's frame and no other.
    execute_command = _native.BindableMethod(_native._pipeline_execute_command)

    def pipeline_execute_command(self, *args: Any, **options: Any) -> "Pipeline":
        """Append the command to the stack sent by :meth:`execute`; returns
        the pipeline so that calls can be chained."""
        self.command_stack.append((args, options))
        return self

    def _disconnect_reset_raise_on_watching(self, conn: Any, error: Exception,
                                            failure_count: Optional[int] = None,
                                            start_time: Optional[float] = None,
                                            command_name: Optional[str] = None) -> None:
        """Retry hook of :meth:`immediate_execute_command`: drop the connection;
        if keys were being watched the WATCH died with it, so reset the
        pipeline and raise WatchError (the caller should start over)."""
        conn.disconnect()
        if self.watching:
            self.reset()
            raise WatchError(
                f"A {type(error).__name__} occurred while watching one or more keys"
            )

    def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command now on the pipeline's connection (WATCH, and the
        reads between WATCH and MULTI).  Connection errors are retried per
        the connection's ``retry``, except while watching: the WATCH is lost
        with the connection, so WatchError is raised instead."""
        command_name = args[0]
        conn = self.connection
        if not conn:
            conn = self.connection_pool.get_connection()
            self.connection = conn

        def failure(error: Exception, failure_count: int) -> None:
            self._disconnect_reset_raise_on_watching(conn, error, failure_count, None,
                                                     command_name)

        return conn.retry.call_with_retry(
            lambda: self._send_command_parse_response(conn, command_name, *args, **options),
            failure,
            with_failure_count=True,
        )

    # -- replies -------------------------------------------------------------------
    def parse_response(self, connection: Any, command_name: Any, **options: Any) -> Any:
        """Read one reply and return the command's result (as
        ``Redis.parse_response``), keeping the WATCH state."""
        result = Redis.parse_response(self, connection, command_name, **options)
        self._update_watch_state(command_name)
        return result

    def _update_watch_state(self, command_name: Any) -> None:
        """After ``command_name`` succeeded: WATCH starts watching, one of
        :attr:`UNWATCH_COMMANDS` ends it."""
        if command_name in self.UNWATCH_COMMANDS:
            self.watching = False
        elif command_name == "WATCH":
            self.watching = True
        else:
            return
        conn = self.connection
        if conn is not None and isinstance(conn, _native.Connection):
            # a server that dropped the connection meanwhile must surface as
            # WatchError, not be replaced by a fresh connection unwatched
            conn._keep_session = self.watching

    def _use_fast_path(self, connection: Any) -> bool:
        # the C primitive stands in for the per-reply parse_response calls,
        # so it is only used when nothing along that path was replaced
        return _native._stands_in(connection) and _native._stands_in(self)

    def _parse_or_error(self, connection: Any, command_name: Any,
                        options: Dict[str, Any]) -> Any:
        """``parse_response``'s result, or the ResponseError it raised."""
        try:
            return self.parse_response(connection, command_name, **options)
        except ResponseError as error:
            return error

    def annotate_exception(self, exception: Exception, number: int, command: Any) -> None:
        """Prefix ``exception``'s message with the command's position (1-based)
        and its (shortened) text."""
        cmd = truncate_text(" ".join(map(safe_str, command)))
        msg = f"Command # {number} ({cmd}) of pipeline caused error: {exception.args[0]}"
        exception.args = (msg,) + exception.args[1:]

    def raise_first_error(self, commands: CommandStack, response: List[Any]) -> None:
        """Annotate and raise the first ResponseError found in ``response``."""
        if type(response) is list:
            # the same scan in C: no Python iteration per command
            i = _native._first_instance(response, ResponseError)
            if i >= 0:
                r = response[i]
                self.annotate_exception(r, i + 1, commands[i][0])
                raise r
            return
        for i, r in enumerate(response):
            if isinstance(r, ResponseError):
                self.annotate_exception(r, i + 1, commands[i][0])
                raise r

    def _execute_pipeline(self, connection: Any, commands: CommandStack,
                          raise_on_error: bool) -> List[Any]:
        """Send the commands in one write; one result (or ResponseError) per
        command."""
        if self._use_fast_path(connection):
            replies = _pipeline_roundtrip(connection, commands)
            result = self._command_result
            update_watch_state = self._update_watch_state
            callbacks = _CallbackMemo(self.response_callbacks)
            # what parse_response does per reply, minus the reading
            watch_names = {"WATCH", *self.UNWATCH_COMMANDS}
            if getattr(result, "__func__", None) is Redis._command_result \
                    and type(replies) is list and type(commands) is list:
                # the same per reply, in one C loop (client.c)
                results = _native._pipeline_results(replies, commands, callbacks,
                                                     watch_names, update_watch_state)
                if raise_on_error:
                    self.raise_first_error(commands, results)
                return results
            results = []
            append = results.append
            for reply, (args, options) in zip(replies, commands):
                try:
                    append(result(reply, args[0], options, callbacks))
                except ResponseError as error:
                    append(error)
                else:
                    # the call is skipped, not the rule: only these names change state
                    if args[0] in watch_names:
                        update_watch_state(args[0])
        else:
            connection.send_packed_command(
                connection.pack_commands([args for args, _ in commands]))
            try:
                results = [self._parse_or_error(connection, args[0], options)
                           for args, options in commands]
            except BaseException:
                # replies may be left unread: never hand the connection on
                connection.disconnect()
                raise
        if raise_on_error:
            self.raise_first_error(commands, results)
        return results

    def _execute_transaction(self, connection: Any, commands: CommandStack,
                             raise_on_error: bool) -> List[Any]:
        """Send MULTI, the commands and EXEC in one write and return the
        commands' results, taken from EXEC's reply."""
        # commands answered without asking the server (EMPTY_RESPONSE) are not sent
        sent = _native._without_option(commands, EMPTY_RESPONSE)
        block = [_MULTI, *sent, _EXEC]
        if self._use_fast_path(connection):
            replies = _pipeline_roundtrip(connection, block)
            multi = self._result_or_error(replies[0], "MULTI")
            queued = replies[1:-1]
            exec_reply = self._result_or_error(replies[-1], "EXEC")
        else:
            connection.send_packed_command(
                connection.pack_commands([args for args, _ in block]))
            try:
                multi = self._parse_or_error(connection, "MULTI", {})
                # "QUEUED", or the reason the server refused to queue the
                # command: not a reply of the command itself, so no callback
                queued = [self._read_queued(connection) for _ in sent]
                exec_reply = self._parse_or_error(connection, "EXEC", {})
            except BaseException:
                connection.disconnect()
                raise
        return self._transaction_result(connection, commands, multi, queued, exec_reply,
                                        raise_on_error)

    def _result_or_error(self, reply: Any, command_name: str) -> Any:
        """What ``_parse_or_error`` gives for an already read reply."""
        try:
            result = self._command_result(reply, command_name, {})
        except ResponseError as error:
            return error
        self._update_watch_state(command_name)
        return result

    @staticmethod
    def _read_queued(connection: Any) -> Any:
        try:
            return connection.read_response()
        except ResponseError as error:
            return error

    def _transaction_result(self, connection: Any, commands: CommandStack, multi: Any,
                            queued: List[Any], exec_reply: Any,
                            raise_on_error: bool) -> List[Any]:
        """Interpret the replies to MULTI, to the queuing of each sent command
        and to EXEC (MULTI's and EXEC's already through _command_result)."""
        # (position, value) pairs that EXEC's reply does not hold
        missing: List[Tuple[int, Any]] = []
        if isinstance(multi, ResponseError):
            missing.append((0, multi))
        missing.extend(_queue_gaps(self, commands, queued))

        if isinstance(exec_reply, ResponseError):
            if isinstance(exec_reply, ExecAbortError):
                # the server refused the whole block: report why (the first
                # command it did not queue) rather than the bare EXECABORT
                for _, value in missing:
                    if isinstance(value, Exception):
                        raise value
            raise exec_reply
        if exec_reply is None:
            raise WatchError("Watched variable changed.")

        if not isinstance(exec_reply, list):
            # EXEC answers an array: this server is out of step with us
            connection.disconnect()
            raise ResponseError("Wrong number of response items from pipeline execution")
        response = list(exec_reply)
        for i, value in missing:
            response.insert(i, value)
        if len(response) != len(commands):
            connection.disconnect()
            raise ResponseError("Wrong number of response items from pipeline execution")

        if raise_on_error:
            self.raise_first_error(commands, response)
        # errors inside EXEC's reply are results already; the rest go
        # through the command's callback
        result = self._command_result
        callbacks = _CallbackMemo(self.response_callbacks)
        if getattr(result, "__func__", None) is Redis._command_result \
                and type(commands) is list:
            # the same in one C loop (client.c); no WATCH state changes here
            return _native._pipeline_results(response, commands, callbacks, _NO_NAMES,
                                             None, True)
        return [r if isinstance(r, Exception) else result(r, args[0], options, callbacks)
                for r, (args, options) in zip(response, commands)]

    def load_scripts(self) -> None:
        """Make sure the server knows every script queued on this pipeline
        (SCRIPT EXISTS, then SCRIPT LOAD for the missing ones)."""
        scripts = list(self.scripts)
        immediate = self.immediate_execute_command
        shas = [s.sha for s in scripts]
        # immediate: the script_* command methods would only be queued
        exists = immediate("SCRIPT EXISTS", *shas)
        if not all(exists):
            for s, exist in zip(scripts, exists):
                if not exist:
                    s.sha = immediate("SCRIPT LOAD", s.script)

    def _disconnect_raise_on_watching(self, conn: Any, error: Exception,
                                      failure_count: Optional[int] = None,
                                      start_time: Optional[float] = None,
                                      command_name: Optional[str] = None) -> None:
        """Retry hook of :meth:`execute`: drop the connection; raise WatchError
        if keys were being watched (the WATCH died with the connection)."""
        conn.disconnect()
        if self.watching:
            raise WatchError(
                f"A {type(error).__name__} occurred while watching one or more keys"
            )

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send the queued commands and return their results, in order.

        The connection goes back to the pool afterwards and the pipeline is
        empty again (reusable).  Connection errors are retried per the
        connection's ``retry`` (the whole block is sent again), except while
        watching, where WatchError is raised.
        """
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        if self.scripts:
            self.load_scripts()
        if self.transaction or self.explicit_transaction:
            execute: Callable[[Any, CommandStack, bool], List[Any]] = self._execute_transaction
        else:
            execute = self._execute_pipeline

        conn = self.connection
        if not conn:
            conn = self.connection_pool.get_connection()
            # reset() gives it back to the pool
            self.connection = conn

        def failure(error: Exception, failure_count: int) -> None:
            self._disconnect_raise_on_watching(conn, error, failure_count)

        try:
            return conn.retry.call_with_retry(
                lambda: execute(conn, stack, raise_on_error),
                failure,
                with_failure_count=True,
            )
        finally:
            self.reset()

    def discard(self) -> None:
        """Drop the commands of the transaction (DISCARD).

        For more information, see https://redis.io/commands/discard
        """
        self.execute_command("DISCARD")

    def watch(self, *names: Any) -> Any:
        """WATCH ``names``: a later EXEC fails if any of them changes first."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return self.execute_command("WATCH", *names)

    def unwatch(self) -> bool:
        """Stop watching all keys (UNWATCH, only sent while watching)."""
        return self.watching and self.execute_command("UNWATCH") or True


# -------------------------------------------------------------------------- PubSub
# Differences from redis-py 7.4, all in cases where redis-py fails oddly:
#
# * get_message(timeout=None) called before anything is subscribed waits for a
#   subscription and then for a message (redis-py raises TypeError once the
#   subscription arrives).
# * A plain PONG/message reply (PING sent outside subscribed mode) is presented
#   as a "pong" message with decode_responses=True too, as it is without
#   decoding (redis-py indexes into the str).
# * Monitor.next_command raises RedisError for a line it cannot parse, and a
#   client field without a port gives client_port="" (redis-py fails with
#   AttributeError/ValueError).
# * No OpenTelemetry hooks; push_handler_func is stored, and only matters with
#   RESP3, which redis_native does not speak yet.
_NO_CONNECTION = (
    "pubsub connection not set: did you forget to call subscribe() or psubscribe()?"
)


class PubSub:
    """Subscribe to channels, patterns and shard channels and read what arrives.

    Messages are dicts with the keys ``type``, ``pattern``, ``channel`` and
    ``data``.  A channel (or pattern) subscribed with a handler -- given as a
    keyword argument, ``subscribe(news=callback)`` -- has its messages passed
    to the handler instead of being returned by :meth:`get_message` or
    :meth:`listen`.

    The connection is taken from the pool at the first command and kept until
    :meth:`reset`/:meth:`close`.  Whenever it reconnects, every current
    subscription is sent again.
    """

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"

    # unsubscribe confirmation type -> (subscriptions dict, pending-removal set)
    _UNSUBSCRIBE_BOOKS = {
        "unsubscribe": ("channels", "pending_unsubscribe_channels"),
        "punsubscribe": ("patterns", "pending_unsubscribe_patterns"),
        "sunsubscribe": ("shard_channels", "pending_unsubscribe_shard_channels"),
    }

    def __init__(
        self,
        connection_pool: Any,
        shard_hint: Optional[str] = None,
        ignore_subscribe_messages: bool = False,
        encoder: Optional[Any] = None,
        push_handler_func: Union[None, Callable[[str], None]] = None,
        event_dispatcher: Optional[Any] = None,
    ):
        self.connection_pool = connection_pool
        self.shard_hint = shard_hint
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection = None
        self.subscribed_event = threading.Event()
        # Channel names are stored the way replies come back (bytes, or str
        # with decode_responses), so the encoder is needed to normalize them.
        self.encoder = encoder if encoder is not None else connection_pool.get_encoder()
        # Push messages only exist with RESP3; kept for API compatibility.
        self.push_handler_func = push_handler_func
        self._event_dispatcher = event_dispatcher if event_dispatcher is not None \
            else EventDispatcher()
        self._lock = threading.RLock()
        self.health_check_response_b = self.encoder.encode(self.HEALTH_CHECK_MESSAGE)
        if self.encoder.decode_responses:
            self.health_check_response = ["pong", self.HEALTH_CHECK_MESSAGE]
        else:
            self.health_check_response = [b"pong", self.health_check_response_b]
        self.reset()

    # -- life cycle ----------------------------------------------------------------
    def __enter__(self) -> "PubSub":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.reset()

    def __del__(self) -> None:
        # A PubSub dropped while subscribed must not hand a subscribed
        # connection back to the pool: reset() disconnects it first.
        try:
            self.reset()
        except Exception:
            pass

    def reset(self) -> None:
        """Drop every subscription: disconnect and give the connection back."""
        conn = getattr(self, "connection", None)
        if conn:
            conn.disconnect()
            conn.deregister_connect_callback(self.on_connect)
            self.connection_pool.release(conn)
            self.connection = None
        self.health_check_response_counter = 0
        self.channels: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_channels: Set[Any] = set()
        self.shard_channels: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_shard_channels: Set[Any] = set()
        self.patterns: Dict[Any, Optional[Callable]] = {}
        self.pending_unsubscribe_patterns: Set[Any] = set()
        self.subscribed_event.clear()

    def close(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    def on_connect(self, connection: Any) -> None:
        """Connect callback: subscribe again to everything we were subscribed to.

        Names that have a handler are passed as keyword arguments, which must
        be ``str``; names without one are passed positionally as stored, so
        binary names that do not decode survive a reconnect.
        """
        self.pending_unsubscribe_channels.clear()
        self.pending_unsubscribe_patterns.clear()
        self.pending_unsubscribe_shard_channels.clear()
        for book, method in (
            (self.channels, self.subscribe),
            (self.patterns, self.psubscribe),
            (self.shard_channels, self.ssubscribe),
        ):
            if not book:
                continue
            plain: List[Any] = []
            handled: Dict[str, Callable] = {}
            for name, handler in book.items():
                if handler is None:
                    plain.append(name)
                else:
                    handled[self.encoder.decode(name, force=True)] = handler
            method(*plain, **handled)

    @property
    def subscribed(self) -> bool:
        """True while there is at least one subscription."""
        return self.subscribed_event.is_set()

    # -- sending -------------------------------------------------------------------
    def execute_command(self, *args: Any) -> None:
        """Send a pub/sub command.  Its reply is read later, like a message.

        The first call takes a connection from the pool and registers
        :meth:`on_connect` on it.
        """
        if self.connection is None:
            conn = self.connection_pool.get_connection()
            self.connection = conn
            conn.register_connect_callback(self.on_connect)
            parser = getattr(conn, "_parser", None)
            if self.push_handler_func is not None and parser is not None:
                setter = getattr(parser, "set_pubsub_push_handler", None)
                if setter is not None:
                    setter(self.push_handler_func)
            self._event_dispatcher.dispatch(AfterPubSubConnectionInstantiationEvent(
                conn, self.connection_pool, ClientType.SYNC, self._lock))
        conn = self.connection
        subscribed = self.subscribed
        # A connection in subscribed mode cannot answer a plain health-check
        # PING in band, so the connection's own check only runs before that.
        if not subscribed:
            self.clean_health_check_responses()
        with self._lock:
            self._execute(conn, conn.send_command, *args, check_health=not subscribed)

    def clean_health_check_responses(self) -> None:
        """Read and drop the replies of health-check PINGs still in flight."""
        conn = self.connection
        attempts = 10
        while conn and self.health_check_response_counter > 0 and attempts > 0:
            if self._execute(conn, conn.can_read, timeout=conn.socket_timeout):
                reply = self._execute(conn, conn.read_response)
                if not self.is_health_check_response(reply):
                    raise PubSubError(
                        "A non health check response was cleaned by "
                        "execute_command: {}".format(reply)
                    )
                self.health_check_response_counter -= 1
            attempts -= 1

    def _reconnect(
        self,
        conn: Any,
        error: Optional[Exception] = None,
        failure_count: Optional[int] = None,
        start_time: Optional[float] = None,
        command_name: Optional[str] = None,
    ) -> None:
        """Failure callback of the retry loop: open a fresh socket.

        Reconnecting runs :meth:`on_connect`, which restores the subscriptions.
        """
        conn.disconnect()
        conn.connect()

    def _execute(self, conn: Any, command: Callable, *args: Any, **kwargs: Any) -> Any:
        """Call ``command(*args, **kwargs)`` under the connection's retry policy,
        reconnecting (and so resubscribing) after each retried failure."""
        if conn.should_reconnect():
            self._reconnect(conn)

        def on_failure(error: Exception, failures: int) -> None:
            self._reconnect(conn, error, failures)

        return conn.retry.call_with_retry(
            lambda: command(*args, **kwargs), on_failure, with_failure_count=True
        )

    # -- reading -------------------------------------------------------------------
    def parse_response(self, block: bool = True, timeout: Optional[float] = 0) -> Any:
        """Read one raw reply from the pub/sub connection.

        With ``block`` false, waits at most ``timeout`` seconds and returns
        ``None`` when nothing arrived.  Replies to our own health checks are
        swallowed (``None``).
        """
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        self.check_health()

        def read_one() -> Any:
            if block:
                conn.connect()
            elif not conn.can_read(timeout=timeout):
                return None
            return conn.read_response(disconnect_on_error=False, push_request=True)

        reply = self._execute(conn, read_one)
        if self.is_health_check_response(reply):
            self.health_check_response_counter -= 1
            return None
        return reply

    def is_health_check_response(self, response: Any) -> bool:
        """True for the reply to a health-check PING.

        Subscribed, the server answers ``["pong", message]``; otherwise it
        answers with the bare message.
        """
        if self.encoder.decode_responses:
            candidates = (self.health_check_response, self.HEALTH_CHECK_MESSAGE)
        else:
            candidates = (self.health_check_response, self.health_check_response_b)
        return response in candidates

    def check_health(self) -> None:
        """Send a health-check PING when the connection's interval has elapsed.

        Its reply arrives in the message stream and is dropped there.  Sent
        under the same lock as (un)subscribe commands, so a worker thread's
        health check and the main thread's subscribe() never interleave, and
        the counter of health-check replies in flight stays exact.
        """
        conn = self.connection
        if conn is None:
            raise RuntimeError(_NO_CONNECTION)
        if conn.health_check_interval and time.monotonic() > conn.next_health_check:
            with self._lock:
                conn.send_command("PING", self.HEALTH_CHECK_MESSAGE, check_health=False)
                self.health_check_response_counter += 1

    def _normalize_keys(self, data: Dict[Any, Any]) -> Dict[Any, Any]:
        """Re-key ``data`` by names in reply form (bytes, or str when decoding)."""
        encoder = self.encoder
        return {encoder.decode(encoder.encode(name)): value for name, value in data.items()}

    # -- subscribing ---------------------------------------------------------------
    def _subscribe(self, command: str, book: str, pending: str,
                   args: tuple, kwargs: Dict[str, Callable]) -> None:
        if args:
            args = tuple(list_or_args(args[0], args[1:]))
        wanted: Dict[Any, Optional[Callable]] = dict.fromkeys(args)
        wanted.update(kwargs)
        result = self.execute_command(command, *wanted.keys())
        # Recorded only once the command is out: a reconnect during the send
        # must not subscribe to the new names twice.
        wanted = self._normalize_keys(wanted)
        getattr(self, book).update(wanted)
        if not self.subscribed:
            self.subscribed_event.set()
            self.health_check_response_counter = 0
        getattr(self, pending).difference_update(wanted)
        return result

    def _unsubscribe(self, command: str, book: str, pending: str, args: tuple) -> None:
        if args:
            args = tuple(list_or_args(args[0], args[1:]))
            names: Any = self._normalize_keys(dict.fromkeys(args))
        else:
            names = getattr(self, book)
        getattr(self, pending).update(names)
        return self.execute_command(command, *args)

    def psubscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to glob-style channel patterns.

        ``psubscribe("news.*", alerts_*=handler)``: a pattern given as a
        keyword has its messages passed to the handler.
        """
        return self._subscribe("PSUBSCRIBE", "patterns", "pending_unsubscribe_patterns",
                               args, kwargs)

    def punsubscribe(self, *args: Any) -> None:
        """Unsubscribe from the given patterns, or from all of them."""
        return self._unsubscribe("PUNSUBSCRIBE", "patterns", "pending_unsubscribe_patterns",
                                 args)

    def subscribe(self, *args: Any, **kwargs: Callable) -> None:
        """Subscribe to channels; a channel given as a keyword argument has its
        messages passed to the handler instead of being returned."""
        return self._subscribe("SUBSCRIBE", "channels", "pending_unsubscribe_channels",
                               args, kwargs)

    def unsubscribe(self, *args: Any) -> None:
        """Unsubscribe from the given channels, or from all of them."""
        return self._unsubscribe("UNSUBSCRIBE", "channels", "pending_unsubscribe_channels",
                                 args)

    def ssubscribe(self, *args: Any, target_node: Any = None, **kwargs: Callable) -> None:
        """Subscribe to shard channels (``SSUBSCRIBE``, Redis 7+); handlers as
        for :meth:`subscribe`.  ``target_node`` is for cluster clients."""
        return self._subscribe("SSUBSCRIBE", "shard_channels",
                               "pending_unsubscribe_shard_channels", args, kwargs)

    def sunsubscribe(self, *args: Any, target_node: Any = None) -> None:
        """Unsubscribe from the given shard channels, or from all of them."""
        return self._unsubscribe("SUNSUBSCRIBE", "shard_channels",
                                 "pending_unsubscribe_shard_channels", args)

    # -- messages ------------------------------------------------------------------
    def listen(self) -> Iterator[Dict[str, Any]]:
        """Yield messages, blocking for each, while anything is subscribed."""
        while self.subscribed:
            message = self.handle_message(self.parse_response(block=True))
            if message is not None:
                yield message

    def get_message(self, ignore_subscribe_messages: bool = False,
                    timeout: Optional[float] = 0.0) -> Optional[Dict[str, Any]]:
        """Return the next message, or ``None`` if none arrives within ``timeout``
        seconds (``None`` waits without limit).

        Without any subscription, waits up to ``timeout`` for another thread
        to subscribe, and returns ``None`` if none does.
        """
        if not self.subscribed:
            started = time.monotonic()
            if not self.subscribed_event.wait(timeout):
                return None
            if timeout is not None:
                timeout = max(0.0, timeout - (time.monotonic() - started))
        reply = self.parse_response(block=timeout is None, timeout=timeout)
        if not reply:
            return None
        return self.handle_message(reply, ignore_subscribe_messages)

    get_sharded_message = get_message

    def ping(self, message: Union[str, None] = None) -> None:
        """Send PING (with ``message``); the answer arrives as a ``pong`` message."""
        if message is None:
            return self.execute_command("PING")
        return self.execute_command("PING", message)

    def handle_message(self, response: Any,
                       ignore_subscribe_messages: bool = False) -> Optional[Dict[str, Any]]:
        """Turn a raw reply into a message dict, and keep the bookkeeping.

        Returns ``None`` when a handler consumed the message or when it is a
        (un)subscribe confirmation that is to be ignored.
        """
        if response is None:
            return None
        if isinstance(response, (bytes, str)):
            # A PING sent outside subscribed mode is answered with a plain
            # reply: present it like the subscribed-mode answer.
            if isinstance(response, bytes):
                response = [b"pong", b"" if response == b"PONG" else response]
            else:
                response = ["pong", "" if response == "PONG" else response]

        kind = str_if_bytes(response[0])
        if kind == "pmessage":
            message = {"type": kind, "pattern": response[1],
                       "channel": response[2], "data": response[3]}
        elif kind == "pong":
            message = {"type": kind, "pattern": None, "channel": None, "data": response[1]}
        else:
            message = {"type": kind, "pattern": None,
                       "channel": response[1], "data": response[2]}

        books = self._UNSUBSCRIBE_BOOKS.get(kind)
        if books is not None:
            book, pending_name = books
            name = response[1]
            pending = getattr(self, pending_name)
            if name in pending:
                pending.remove(name)
                getattr(self, book).pop(name, None)
            if not (self.channels or self.patterns or self.shard_channels):
                self.subscribed_event.clear()

        if kind in self.PUBLISH_MESSAGE_TYPES:
            if kind == "pmessage":
                handler = self.patterns.get(message["pattern"])
            elif kind == "smessage":
                handler = self.shard_channels.get(message["channel"])
            else:
                handler = self.channels.get(message["channel"])
            if handler:
                handler(message)
                return None
        elif kind != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
        return message

    def run_in_thread(
        self,
        sleep_time: float = 0.0,
        daemon: bool = False,
        exception_handler: Optional[Callable] = None,
        pubsub: Optional["PubSub"] = None,
        sharded_pubsub: bool = False,
    ) -> "PubSubWorkerThread":
        """Start a thread that reads messages and dispatches them to handlers.

        Every subscription must have a handler (:class:`PubSubError`
        otherwise).  Stop it with :meth:`PubSubWorkerThread.stop`.
        """
        for label, book in (
            ("Channel", self.channels),
            ("Pattern", self.patterns),
            ("Shard Channel", self.shard_channels),
        ):
            for name, handler in book.items():
                if handler is None:
                    raise PubSubError(f"{label}: '{name}' has no handler registered")
        worker = PubSubWorkerThread(
            self if pubsub is None else pubsub,
            sleep_time,
            daemon=daemon,
            exception_handler=exception_handler,
            sharded_pubsub=sharded_pubsub,
        )
        worker.start()
        return worker


class PubSubWorkerThread(threading.Thread):
    """Background reader for a :class:`PubSub` whose subscriptions all have
    handlers.  ``stop()`` ends the loop; the thread then closes the PubSub.

    ``exception_handler(error, pubsub, thread)``, if given, is called with any
    exception raised while reading instead of letting it end the thread.
    """

    def __init__(
        self,
        pubsub: PubSub,
        sleep_time: float,
        daemon: bool = False,
        exception_handler: Union[Callable[[Exception, PubSub, "PubSubWorkerThread"], None],
                                 None] = None,
        sharded_pubsub: bool = False,
    ):
        super().__init__()
        self.daemon = daemon
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self.sharded_pubsub = sharded_pubsub
        self._running = threading.Event()

    def run(self) -> None:
        if self._running.is_set():
            return
        self._running.set()
        pubsub = self.pubsub
        read = pubsub.get_sharded_message if self.sharded_pubsub else pubsub.get_message
        while self._running.is_set():
            try:
                read(ignore_subscribe_messages=True, timeout=self.sleep_time)
            except BaseException as error:
                if self.exception_handler is None:
                    raise
                self.exception_handler(error, pubsub, self)
        pubsub.close()

    def stop(self) -> None:
        """Ask the loop to end (after the current read, at most ``sleep_time``
        later); the thread then closes the PubSub and its connection."""
        self._running.clear()


# ------------------------------------------------------------------------- Monitor
def _monitor_client(client: str) -> Tuple[str, str, str]:
    """Client field of a MONITOR line -> (client_address, client_port, client_type)."""
    if client == "lua":
        return "lua", "", "lua"
    if client.startswith("unix"):
        return "unix", client[5:], "unix"
    if not client:
        return "", "", "unknown"
    # the port follows the last colon (IPv6 addresses contain colons too)
    address, _, port = client.rpartition(":")
    return address, port, "tcp"


class Monitor:
    """The ``MONITOR`` stream of a server, one command at a time.

    Use it as a context manager: entering sends ``MONITOR``, leaving closes
    the connection.  :meth:`next_command` returns a dict with ``time``,
    ``db``, ``client_address``, ``client_port``, ``client_type`` and
    ``command``; :meth:`listen` yields them forever.

    A line is ``<time> [<db> <client>] "arg" "arg"...``: :attr:`monitor_re`
    splits what follows the time, :attr:`command_re` finds the quoted
    arguments (a quote preceded by a backslash does not end one).
    """

    monitor_re = re.compile(r"\[(\d+) (.*?)\] (.*)")
    command_re = re.compile(r'"(.*?)(?<!\\)"')

    def __init__(self, connection_pool: Any):
        self.connection_pool = connection_pool
        self.connection = connection_pool.get_connection()

    def __enter__(self) -> "Monitor":
        self._start_monitor()
        return self

    def __exit__(self, *args: Any) -> None:
        # A monitoring connection cannot serve commands again: close it first.
        self.connection.disconnect()
        self.connection_pool.release(self.connection)

    def _start_monitor(self) -> None:
        self.connection.send_command("MONITOR")
        reply = self.connection.read_response()
        if str_if_bytes(reply) != "OK":
            raise RedisError(f"MONITOR failed: {reply}")

    def next_command(self) -> Optional[Dict[str, Any]]:
        """Block for the next command the server executes and describe it."""
        line = self.connection.read_response()
        if line is None:
            return None
        if isinstance(line, bytes):
            line = self.connection.encoder.decode(line, force=True)
        stamp, _, data = line.partition(" ")
        match = self.monitor_re.match(data)
        if match is None:
            raise RedisError(f"Cannot parse MONITOR output: {line!r}")
        db, client, rest = match.groups()
        command = " ".join(self.command_re.findall(rest))
        # inside the quotes the server escapes '"' as '\"'; undo only that
        command = command.replace('\\"', '"')
        address, port, client_type = _monitor_client(client)
        return {
            "time": float(stamp),
            "db": int(db),
            "client_address": address,
            "client_port": port,
            "client_type": client_type,
            "command": command,
        }

    def listen(self) -> Iterator[Optional[Dict[str, Any]]]:
        """Yield :meth:`next_command` results forever."""
        while True:
            yield self.next_command()


# The C dispatcher reads replies itself unless a client's type resolves
# parse_response to something else (a subclass override, a mock.patch): the
# stand-in rule, docs/architecture.md.
_native._declare_builtin(Redis)
_native._declare_client_close(Redis.close)
# Pipeline.parse_response too: the pipeline's C path stands in for it
_native._declare_builtin(Pipeline)


# CacheConfig and CacheInterface are importable from here as in redis-py; the
# cache module (client-side caching needs RESP3) loads on first access (PEP 562).
def __getattr__(name: str) -> Any:
    if name in ("CacheConfig", "CacheInterface"):
        from . import cache

        value = globals()[name] = getattr(cache, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
