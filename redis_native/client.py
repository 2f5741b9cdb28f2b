"""The Redis client class.

``Redis`` is an ordinary Python class (users subclass it and patch its methods)
whose base ``_native.ClientBase`` implements ``execute_command`` in C.  The
command methods come from :mod:`redis_native.commands` and only build argument
tuples.
"""
import copy
import time
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Type, Union

from . import _native
from ._parsers.helpers import _RedisCallbacks, _RedisCallbacksRESP2
from .backoff import ExponentialWithJitterBackoff
from ._parsers.helpers import bool_ok  # noqa: F401  (re-exported, as in redis-py)
from .commands import CoreCommands, SentinelCommands
from .commands.helpers import EMPTY_RESPONSE, NEVER_DECODE, list_or_args  # noqa: F401
from .commands.scripting import Script  # noqa: F401
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
from .exceptions import (  # noqa: F401  (several re-exported, as in redis-py)
    ConnectionError,
    ExecAbortError,
    PubSubError,
    RedisError,
    ResponseError,
    WatchError,
)
from .retry import Retry
from .utils import (  # noqa: F401  (several re-exported, as in redis-py)
    SENTINEL,
    check_protocol_version,
    deprecated_args,
    safe_str,
    str_if_bytes,
    truncate_text,
)

__all__ = ["Redis", "StrictRedis", "CaseInsensitiveDict", "EMPTY_RESPONSE", "NEVER_DECODE",
           "Pipeline", "PubSub", "PubSubWorkerThread", "Monitor"]


# C versions of the callbacks of the most used commands.  Each replaces its
# Python twin in _parsers/helpers.py wherever that one is registered (the
# Python functions stay the reference; the differential tests run through the
# C ones).
def _c_callbacks() -> Dict[str, Callable]:
    from ._parsers import helpers as h

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


class ClientType(Enum):
    """Whether a client is synchronous or asyncio-based."""

    SYNC = ("sync",)
    ASYNC = ("async",)


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


class Redis(_native.ClientBase, CoreCommands, SentinelCommands, AbstractRedis):
    """A client for one Redis server, compatible with redis-py's ``redis.Redis``.

    Connections come from ``connection_pool`` (one is built from the keyword
    arguments when none is given).  Every command method sends one command and
    returns its reply after the response callback, exactly as redis-py does with
    RESP2.
    """

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
        retry_on_timeout: bool = False,
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
        if cache is not None or cache_config is not None:
            raise RedisError("Client caching is only supported with RESP version 3")
        if maint_notifications_config is not None and getattr(
                maint_notifications_config, "enabled", False):
            raise RedisError(
                "Maintenance notifications handlers on connection are only supported "
                "with RESP version 3"
            )
        self._event_dispatcher = event_dispatcher
        if not connection_pool:
            if ssl:
                raise RedisError("redis_native does not support TLS (rediss://, ssl=True) yet")
            kwargs: Dict[str, Any] = {
                "db": db,
                "username": username,
                "password": password,
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
                "credential_provider": credential_provider,
                "protocol": protocol,
            }
            if retry_on_timeout:
                kwargs["retry_on_timeout"] = True
            if unix_socket_path is not None:
                kwargs.update(path=unix_socket_path, connection_class=UnixDomainSocketConnection)
            else:
                kwargs.update(
                    host=host,
                    port=port,
                    socket_connect_timeout=socket_connect_timeout,
                    socket_keepalive=socket_keepalive,
                    socket_keepalive_options=socket_keepalive_options,
                )
            connection_pool = ConnectionPool(**kwargs)
            self.auto_close_connection_pool = True
        else:
            self.auto_close_connection_pool = False
        self.connection_pool = connection_pool
        self.single_connection_client = single_connection_client
        self.connection = None
        self._single_connection_client = single_connection_client
        if single_connection_client:
            self.connection = self.connection_pool.get_connection()
        callbacks = CaseInsensitiveDict(_RedisCallbacks)
        callbacks.update(_RedisCallbacksRESP2)
        callbacks.update(_C_CALLBACKS)
        self.response_callbacks = callbacks

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

    def parse_response(self, connection: Any, command_name: Union[str, bytes], **options: Any) -> Any:
        """Read one reply from ``connection`` and apply the command's callback."""
        try:
            if NEVER_DECODE in options:
                response = connection.read_response(disable_decoding=True)
                options.pop(NEVER_DECODE)
            else:
                response = connection.read_response()
        except ResponseError:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        options.pop(EMPTY_RESPONSE, None)
        options.pop("keys", None)
        if command_name in self.response_callbacks:
            return self.response_callbacks[command_name](response, **options)
        return response

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
        return PubSub(self.connection_pool, **kwargs)

    def monitor(self) -> "Monitor":
        """Return a Monitor streaming every command the server receives."""
        return Monitor(self.connection_pool)

    def lock(self, name: str, timeout: Optional[float] = None, sleep: float = 0.1,
             blocking: bool = True, blocking_timeout: Optional[float] = None,
             lock_class: Optional[Any] = None, thread_local: bool = True,
             raise_on_release_error: bool = True) -> Any:
        """Return a Lock named ``name`` (see :class:`redis_native.lock.Lock`)."""
        if lock_class is None:
            from .lock import Lock as lock_class
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

    # Redis Stack module accessors: not part of redis_native yet.
    def _module_unsupported(self, name: str) -> Any:
        raise RedisError(
            f"redis_native does not support the Redis Stack module API '{name}()' yet"
        )

    def json(self, encoder: Any = None, decoder: Any = None) -> Any:
        """RedisJSON commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("json")

    def ft(self, index_name: str = "idx") -> Any:
        """RediSearch commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("ft")

    def ts(self) -> Any:
        """RedisTimeSeries commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("ts")

    def bf(self) -> Any:
        """Bloom filter commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("bf")

    def cf(self) -> Any:
        """Cuckoo filter commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("cf")

    def cms(self) -> Any:
        """Count-min sketch commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("cms")

    def topk(self) -> Any:
        """Top-K commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("topk")

    def tdigest(self) -> Any:
        """T-digest commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("tdigest")

    def vset(self) -> Any:
        """Vector set commands: not supported by redis_native yet (raises RedisError)."""
        return self._module_unsupported("vset")

    def __enter__(self) -> "Redis":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def close(self) -> None:
        """Give back the single connection (if any); disconnect an owned pool."""
        # getattr: close() also runs from __del__ of a half-built client.
        conn = getattr(self, "connection", None)
        if conn:
            self.connection = None
            self.connection_pool.release(conn)
        if getattr(self, "auto_close_connection_pool", False):
            self.connection_pool.disconnect()


StrictRedis = Redis

# The C dispatcher reads replies itself unless a client's type resolves
# parse_response to something else (a subclass override, a mock.patch).
_native._declare_builtin(Redis)



# Defined in its own module, which imports Redis from here (Pipeline subclasses
# it); imported last so that Redis exists by then.  __module__ makes repr() and
# pickling name it where users import it from.
from ._pipeline import Pipeline  # noqa: E402

Pipeline.__module__ = __name__

from ._pubsub import Monitor, PubSub, PubSubWorkerThread  # noqa: E402
from .lock import Lock  # noqa: E402,F401  (re-exported, as in redis-py)

for _cls in (Monitor, PubSub, PubSubWorkerThread):
    _cls.__module__ = __name__
del _cls
