"""API surface parity with redis-py 7.4.1: names, module paths and signatures.

``import redis_native as redis`` must never hit an AttributeError or a TypeError
that redis-py would not raise.  This file walks redis-py itself (the oracle):

* the public modules (``redis``, ``redis.client``, ``redis.connection``...) and the
  public names each one defines or re-exports from inside the ``redis`` package
  (names imported from the standard library or third parties are not API);
* every public attribute (class level and, where an instance can be built without
  a server, instance level) of the user-facing classes (``Redis``, ``Pipeline``,
  ``PubSub``, ``Monitor``, ``Lock``, the connection and pool classes, ``Retry``,
  the backoff and credential-provider classes);

and checks that redis_native has the same name at the same module path, of the
same kind (method / classmethod / staticmethod / attribute / class / module), and
for callables the same signature: parameter names, order, kinds and defaults.
Annotations are ignored.  Defaults compare by value; classes and functions by
name (``redis.X`` == ``redis_native.X``); other objects (the ``SENTINEL`` object,
a default ``Retry(...)``, ``JSONEncoder()``) by class name and attributes.

The modules walked are all of redis-py's modules (``pkgutil.walk_packages``), so a
module redis-py adds is noticed.  Every deliberate difference -- a name redis_native
does not have, or has differently -- is listed in :data:`EXCEPTIONS` below, with a
reason; anything else missing is a failure.

With ``--impl=redis`` the suite compares redis-py with itself (sanity check).
"""
from __future__ import annotations

import ast
import enum
import fnmatch
import importlib
import inspect
import re
import types
import typing

import pytest

# =====================================================================================
# ONE dict of deliberate exceptions: dotted path (redis-py spelling) -> reason.
#
#   "redis.client.Redis.json"            skip the name entirely (presence, kind, signature)
#   "redis.client.Redis.json()"          skip the signature comparison only
#   "redis.client.Redis.json(encoder)"   ignore the default of one parameter only
#   keys containing "*" are fnmatch patterns over the same dotted paths;
#   a class key ("redis.connection.MaintNotificationsAbstractConnection") also covers
#   every attribute that redis-py's walked classes inherit from that class.
#
# Anything not listed must match.  An entry records a decision ("redis_native will
# not have this" / "a subsystem the README lists as not built yet"), never a bug.
# =====================================================================================
EXCEPTIONS = {
    # ------------------------------------------------------ token re-authentication
    "redis.auth": ("token-based re-authentication (streaming credential providers such as "
                   "redis-entraid) is not built yet; static credentials and CredentialProvider work"),
    "redis.connection.TokenInterface": "token re-authentication not built yet (redis.auth)",
    "redis.connection.*Connection.re_auth": "token re-authentication not built yet (redis.auth)",
    "redis.connection.*Connection.set_re_auth_token": "token re-authentication not built yet",
    "redis.connection.*ConnectionPool.re_auth_callback": "token re-authentication not built yet",
    "redis.event.*ReAuth*": ("listeners that re-authenticate connections with a streaming "
                             "provider's tokens: token re-authentication not built yet"),
    # ------------------------------------------------------------ import cost
    **{path + "(_upstream)": (
        "the default is a fresh list per instance, as with redis-py's dataclass "
        "default_factory=list; the marker standing for it in the signature (repr "
        "'<factory>') is redis_native's own: DriverInfo is written without importing "
        "dataclasses (docs/architecture.md, 'What import redis_native loads'); "
        "test_driver_info.py compares the dataclass behaviour with redis-py's)")
       for path in ("redis.DriverInfo", "redis.driver_info.DriverInfo",
                    "redis.driver_info.DriverInfo.__init__")},
    # ----------------------------------------------- internals that live in C here
    "redis.client.Redis.single_connection_lock": ("single_connection_client is serialised by a lock "
                                                  "inside the C dispatcher (src/client.c)"),
    "redis.connection.BlockingConnectionPool.pool": ("the blocking pool waits in C (src/pool.c); there is "
                                                     "no queue object"),
    # ---------------------------------------------------------------- async API
    "redis.asyncio.multidb": "asyncio multi-database client not built yet",
    "redis.asyncio.http": "asyncio HTTP helpers for redis.multidb health checks; multidb not built yet",
    "redis.asyncio.observability": "OpenTelemetry instrumentation is not built",
    "redis.commands.core.async_record_streaming_lag": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.client.record_*": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.connection.record_*": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.cluster.record_*": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.connection.AttributeBuilder": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.connection.DB_CLIENT_CONNECTION_POOL_NAME": "OpenTelemetry attribute name",
    "redis.asyncio.connection.DB_CLIENT_CONNECTION_STATE": "OpenTelemetry attribute name",
    "redis.asyncio.connection.get_pool_name": "OpenTelemetry instrumentation is not built",
    "redis.asyncio.connection.ConnectionState": "OpenTelemetry connection-state attribute values",
    "redis.asyncio.connection.CloseReason": "OpenTelemetry connection-close attribute values",
    "redis.asyncio.client.PubSubDirection": "OpenTelemetry attribute values",
    "redis.asyncio.connection.TokenInterface": "token re-authentication not built yet (redis.auth)",
    "redis.asyncio.connection.*Connection.re_auth": "token re-authentication not built yet",
    "redis.asyncio.connection.*Connection.set_re_auth_token": "token re-authentication not built yet",
    "redis.asyncio.connection.*ConnectionPool.re_auth_callback": "token re-authentication not built yet",
    "redis.asyncio.connection.*ConnectionPool._mock": "token re-authentication not built yet",
    "redis.asyncio.*(parser_class)": (
        "the default is the class standing for the parser: here NativeParser (the C reader)"),
    "redis._parsers.Async*": "redis-py's asyncio parser classes: replies are parsed by the C reader",
    "redis._parsers._Async*": "redis-py's asyncio parser classes: replies are parsed by the C reader",
    "redis.asyncio.connection._AsyncHiredisParser": "replies are parsed by the C reader",
    "redis.asyncio.connection._AsyncRESP2Parser": "replies are parsed by the C reader",
    "redis.asyncio.connection._AsyncRESP3Parser": "RESP3 parser: the C reader is RESP2-only",
    "redis.asyncio.connection.SENTINEL": (
        "a member of the module's private enum _Sentinel (redis_native's own class of the same "
        "name); used only as the default of retry_on_error, which is compared"),
    "redis.commands.AsyncRedisModuleCommands": "see redis.commands.RedisModuleCommands",
    "redis.asyncio.client.AsyncRedisModuleCommands": "see redis.commands.RedisModuleCommands",
    "redis.background": ("asyncio event-loop thread used by redis.multidb and maintenance "
                         "notifications, neither of which is built"),
    # ------------------------------------------------------- parsers: the C reader
    "redis._parsers.base": ("redis-py's parser base classes: replies are parsed by the C reader "
                            "(src/reader.c); only BaseParser exists, compared as redis._parsers.BaseParser"),
    "redis._parsers.resp2": "redis-py's RESP2 parser: replaced by the C reader (src/reader.c)",
    "redis._parsers.resp3": "RESP3 parser: the C reader is RESP2-only (README: 'Not yet')",
    "redis._parsers.hiredis": "redis-py's hiredis-py parser: the C reader (src/reader.c) is hiredis itself",
    "redis._parsers.socket": "redis-py's socket buffer for its parsers: the C connection reads the socket",
    "redis._parsers.PushNotificationsParser": "RESP3 push notifications; the reader is RESP2-only",
    **{"redis._parsers." + name: "redis-py's parser classes: the C reader (src/reader.c) replaces them"
       for name in ("_RESP2Parser", "_RESP3Parser", "_HiredisParser")},
    "redis._parsers.helpers.*_resp3": "RESP3 response callbacks: the reader is RESP2-only",
    "redis.*Connection*(parser_class)": (
        "the default is the class standing for the parser that reads replies: redis-py's "
        "own (_HiredisParser or _RESP2Parser), here NativeParser (the C reader)"),
    "redis.connection.HiredisRespSerializer": "commands are packed in C (no serializer objects)",
    "redis.connection.PythonRespSerializer": "commands are packed in C (no serializer objects)",
    # ------------------------------------------------------- cluster / sentinel
    # ------------------------------------------------------- multi-database client
    "redis.multidb": "multi-database (active-active failover) client not built yet",
    "redis.http": "HTTP client for redis.multidb health checks; multidb not built yet",
    "redis.data_structure": "WeightedList for redis.multidb; multidb not built yet",
    "redis.event.*OnCommandsFailEvent": "event of redis.multidb's command executor; multidb not built yet",
    # ------------------------------------------------------- Redis Stack modules
    "redis.commands.RedisModuleCommands": (
        "Redis Stack module APIs (json/ft/ts/bf/...) are not supported: the accessors are "
        "defined on Redis itself and raise RedisError (see test_module_accessors_raise)"),
    "redis.client.RedisModuleCommands": "see redis.commands.RedisModuleCommands",
    "redis.commands.redismodules": "see redis.commands.RedisModuleCommands",
    **{"redis.commands." + name: "see redis.commands.RedisModuleCommands"
       for name in ("bf", "json", "search", "timeseries", "vectorset")},
    "redis.client.Redis.json(encoder)": "module accessor raises RedisError; no JSONEncoder() default",
    "redis.client.Redis.json(decoder)": "module accessor raises RedisError; no JSONDecoder() default",
    # ------------------------------------------------------- maint notifications
    "redis.maint_notifications": "Redis Enterprise maintenance notifications need RESP3 push messages",
    "redis.connection.MaintNotifications*": "maintenance notifications (RESP3 push)",
    "redis.connection.MaintenanceState": "maintenance notifications (RESP3 push)",
    "redis.connection.OSSMaintNotificationsHandler": "maintenance notifications (RESP3 push)",
    "redis.client.MaintNotificationsConfig": "maintenance notifications (RESP3 push)",
    "redis.client.OSSMaintNotificationsHandler": "maintenance notifications (RESP3 push)",
    # the maintenance-only members redis-py's pools and connections get from the
    # MaintNotifications* mixins (the general ones -- update_connection_kwargs,
    # disconnect_free_connections, get_resolved_ip, getpeername -- are compared)
    **{"redis.connection.*ConnectionPool." + name: "maintenance notifications (RESP3 push)"
       for name in ("maint_notifications_enabled", "update_active_connections_for_reconnect",
                    "update_connection_settings", "update_connections_settings",
                    "update_maint_notifications_config", "set_in_maintenance")},
    **{"redis.connection.*Connection." + name: "maintenance notifications (RESP3 push)"
       for name in ("activate_maint_notifications_handling_if_enabled",
                    "add_maint_start_notification", "add_skipped_end_notification",
                    "get_processed_start_notifications", "get_skipped_end_notifications",
                    "maintenance_state", "mark_for_reconnect", "reset_received_notifications",
                    "reset_should_reconnect", "reset_tmp_settings",
                    "set_maint_notifications_cluster_handler_for_connection",
                    "set_maint_notifications_pool_handler_for_connection", "set_tmp_settings",
                    "update_current_socket_timeout", "update_parser_timeout",
                    "maint_notifications_config", "maintenance_notification_hash")},
    "redis.connection.AbstractConnection*(maint_notifications_*)": "maintenance notifications (RESP3 push)",
    "redis.connection.AbstractConnection*(maintenance_*)": "maintenance notifications (RESP3 push)",
    "redis.connection.AbstractConnection*(orig_*)": "maintenance notifications: saved pre-maintenance settings",
    "redis.connection.AbstractConnection*(oss_cluster_maint_notifications_handler)": (
        "maintenance notifications (RESP3 push)"),
    # ------------------------------------------------------- OpenTelemetry
    "redis.observability": "OpenTelemetry instrumentation is not built",
    "redis.client.record_*": "OpenTelemetry instrumentation is not built",
    "redis.connection.record_*": "OpenTelemetry instrumentation is not built",
    "redis.commands.core.record_*": "OpenTelemetry instrumentation is not built",
    "redis.cluster.record_*": "OpenTelemetry instrumentation is not built",
    "redis.connection.AttributeBuilder": "OpenTelemetry instrumentation is not built",
    "redis.connection.DB_CLIENT_CONNECTION_POOL_NAME": "OpenTelemetry attribute name",
    "redis.connection.DB_CLIENT_CONNECTION_STATE": "OpenTelemetry attribute name",
    "redis.connection.get_pool_name": "OpenTelemetry instrumentation is not built",
    "redis.connection.ConnectionState": "OpenTelemetry connection-state attribute values",
    "redis.connection.CloseReason": "OpenTelemetry connection-close attribute values",
    "redis.connection.CSCReason": "OpenTelemetry client-side-cache attribute values",
    "redis.connection.CSCResult": "OpenTelemetry client-side-cache attribute values",
    "redis.connection.register_csc_items_callback": "OpenTelemetry client-side-cache gauges",
    "redis.connection.init_csc_items": "OpenTelemetry client-side-cache gauges",
    "redis.event.InitializeConnectionCountObservability": "OpenTelemetry instrumentation is not built",
    "redis.event.init_connection_count": "OpenTelemetry instrumentation is not built",
    "redis.event.register_pools_connection_count": "OpenTelemetry instrumentation is not built",
    "redis.commands.core.PubSubDirection": (
        "OpenTelemetry attribute values (redis.observability.attributes); redis_native.client "
        "has the enum, which commands.core, below the client, does not import"),
    # ------------------------------------------------------- client-side caching
    "redis.connection.CacheProxyConnection": (
        "client-side caching needs RESP3 invalidation pushes (README: 'Not yet'); the "
        "redis.cache building blocks exist, Redis(cache_config=...) raises as redis-py does on RESP2"),
    # ------------------------------------------------------- TLS
    "redis.ocsp": ("OCSP checks for TLS are not built (README: 'Not yet'); SSLConnection "
                   "raises a clear error at construction for the OCSP options"),
    # ------------------------------------------------------- environment / identity
    "redis.utils.hiredis_version": (
        "the version of the hiredis *Python* package redis-py reads replies with; redis_native "
        "reads them with the C hiredis library it is built against, whose version the C module "
        "does not expose yet"),
}

# The sentinel modules' connection and pool classes inherit these members from
# the connection modules': the same decisions apply to them.
EXCEPTIONS.update({
    key.replace("redis.connection.*ConnectionPool.", "redis.sentinel.*ConnectionPool.")
       .replace("redis.connection.*Connection.", "redis.sentinel.SentinelManaged*Connection."): reason
    for key, reason in list(EXCEPTIONS.items())
    if key.startswith(("redis.connection.*Connection.", "redis.connection.*ConnectionPool."))
})
EXCEPTIONS.update({
    key.replace("redis.asyncio.connection.*ConnectionPool.",
                "redis.asyncio.sentinel.*ConnectionPool.")
       .replace("redis.asyncio.connection.*Connection.",
                "redis.asyncio.sentinel.SentinelManaged*Connection."): reason
    for key, reason in list(EXCEPTIONS.items())
    if key.startswith(("redis.asyncio.connection.*Connection.",
                       "redis.asyncio.connection.*ConnectionPool."))
})

ORACLE = "redis"

def _oracle_modules() -> list:
    """Every module of redis-py that imports (``redis.ocsp`` needs the optional
    ``cryptography`` package and is excepted by name)."""
    import pkgutil

    import redis

    found = {"redis"}
    for info in pkgutil.walk_packages(redis.__path__, "redis.", onerror=lambda name: None):
        try:
            importlib.import_module(info.name)
        except ImportError:
            continue
        found.add(info.name)
    return sorted(found)


# Modules whose public names are compared: all of redis-py's, less the excepted ones
# (a module under an excepted one, redis.asyncio.client, is excepted with it).
ALL_ORACLE_MODULES = _oracle_modules()


def _module_exception(modpath: str):
    """Reason if ``modpath`` or a package above it is excepted."""
    parts = modpath.split(".")
    for i in range(2, len(parts) + 1):
        reason = exception_for(".".join(parts[:i]))
        if reason:
            return reason
    return None


def _module_excepted(modpath: str) -> bool:
    return _module_exception(modpath) is not None


# Classes whose attributes (class level + instance level) are compared.
CLASSES = [
    "redis.client.Redis",
    "redis.client.Pipeline",
    "redis.client.PubSub",
    "redis.client.PubSubWorkerThread",
    "redis.client.Monitor",
    "redis.lock.Lock",
    "redis.connection.AbstractConnection",
    "redis.connection.Connection",
    "redis.connection.UnixDomainSocketConnection",
    "redis.connection.SSLConnection",
    "redis.connection.ConnectionPool",
    "redis.connection.BlockingConnectionPool",
    "redis.retry.Retry",
    "redis.credentials.CredentialProvider",
    "redis.credentials.StreamingCredentialProvider",
    "redis.credentials.UsernamePasswordCredentialProvider",
    "redis.driver_info.DriverInfo",
    "redis.commands.core.Script",
    "redis.asyncio.client.Redis",
    "redis.asyncio.client.Pipeline",
    "redis.asyncio.client.PubSub",
    "redis.asyncio.client.Monitor",
    "redis.asyncio.lock.Lock",
    "redis.asyncio.connection.AbstractConnection",
    "redis.asyncio.connection.Connection",
    "redis.asyncio.connection.UnixDomainSocketConnection",
    "redis.asyncio.connection.SSLConnection",
    "redis.asyncio.connection.ConnectionPool",
    "redis.asyncio.connection.BlockingConnectionPool",
    "redis.asyncio.retry.Retry",
    "redis.commands.core.AsyncScript",
    "redis.asyncio.cluster.RedisCluster",
    "redis.asyncio.cluster.ClusterNode",
    "redis.asyncio.cluster.NodesManager",
    "redis.asyncio.cluster.ClusterPipeline",
    "redis.sentinel.Sentinel",
    "redis.sentinel.SentinelConnectionPool",
    "redis.sentinel.SentinelConnectionPoolProxy",
    "redis.sentinel.SentinelManagedConnection",
    "redis.sentinel.SentinelManagedSSLConnection",
    "redis.asyncio.sentinel.Sentinel",
    "redis.asyncio.sentinel.SentinelConnectionPool",
    "redis.asyncio.sentinel.SentinelManagedConnection",
    "redis.asyncio.sentinel.SentinelManagedSSLConnection",
]
_backoff = importlib.import_module("redis.backoff")
CLASSES += sorted(
    "redis.backoff." + n for n, v in vars(_backoff).items()
    if isinstance(v, type) and issubclass(v, _backoff.AbstractBackoff) and v.__module__ == "redis.backoff"
)
# every class redis.event and redis.cache define
for _modname in ("redis.event", "redis.cache"):
    _mod = importlib.import_module(_modname)
    CLASSES += sorted(
        "%s.%s" % (_modname, n) for n, v in vars(_mod).items()
        if isinstance(v, type) and v.__module__ == _modname and not issubclass(v, enum.Enum)
    )

# Module constants whose *value* must match (others: type only, e.g. VERSION,
# HIREDIS_AVAILABLE, loggers).
VALUE_CONSTANTS = {
    "redis.client.EMPTY_RESPONSE",
    "redis.client.NEVER_DECODE",
    "redis.client.SYM_EMPTY",
    "redis.connection.SYM_CRLF",
    "redis.connection.SYM_DOLLAR",
    "redis.connection.SYM_EMPTY",
    "redis.connection.SYM_STAR",
    "redis.connection.DEFAULT_RESP_VERSION",
    "redis.connection.FALSE_STRINGS",
    "redis.connection.URL_QUERY_ARGUMENT_PARSERS",
    "redis.backoff.DEFAULT_BASE",
    "redis.backoff.DEFAULT_CAP",
}


# ------------------------------------------------------------------ exceptions lookup
def _match(key: str, path: str) -> bool:
    if "*" in key:
        return fnmatch.fnmatchcase(path, key)
    return key == path


def exception_for(path: str, what: str = "all"):
    """Reason if ``path`` is excepted.  ``what``: "all", "sig", or "param:<name>"."""
    candidates = [path]
    if what == "sig":
        candidates.append(path + "()")
    elif what.startswith("param:"):
        candidates += [path + "()", "%s(%s)" % (path, what[6:])]
    for cand in candidates:
        for key, reason in EXCEPTIONS.items():
            if _match(key, cand):
                return reason
    return None


def exception_for_obj(obj):
    """Reason if redis-py's class/function ``obj`` is excepted under any path
    (a key may name a re-export: ``redis.client.CacheConfig`` is ``redis.cache.CacheConfig``)."""
    if not isinstance(obj, (type, types.FunctionType)):
        return None
    reason = exception_for("%s.%s" % (obj.__module__, obj.__qualname__))
    if reason:
        return reason
    return _EXCEPTED_OBJECTS.get(id(obj))


def _excepted_objects():
    out = {}
    for key, reason in EXCEPTIONS.items():
        if "*" in key or "(" in key:
            continue
        obj = resolve(key)
        if isinstance(obj, (type, types.FunctionType)):
            out[id(obj)] = reason
    return out


# ------------------------------------------------------------------ name resolution
_MISSING = object()


def native_path(path: str, impl_name: str) -> str:
    assert path == ORACLE or path.startswith(ORACLE + ".")
    return impl_name + path[len(ORACLE):]


def resolve(path: str):
    """Import the longest module prefix of ``path`` and getattr the rest."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        modname = ".".join(parts[:i])
        try:
            obj = importlib.import_module(modname)
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj
    return _MISSING


def _top(modname: str) -> str:
    return (modname or "").split(".")[0]


def _is_project(obj) -> bool:
    return _top(getattr(obj, "__module__", None) or "") in ("redis", "redis_native")


_EXCEPTED_OBJECTS = {}  # filled once resolve() exists (below)


# ------------------------------------------------------------------ default normalisation
def _qualname(obj) -> tuple:
    mod = getattr(obj, "__module__", None) or ""
    where = "project" if _top(mod) in ("redis", "redis_native") else mod
    return (where, getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj))))


def norm_default(v, depth: int = 0):
    """Comparable form of a parameter default (see module docstring)."""
    if v is inspect.Parameter.empty:
        return "<no default>"
    if v is None or isinstance(v, (bool, int, float, str, bytes)):
        return (type(v).__name__, v)
    if depth > 4:
        return ("deep", type(v).__name__)
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, tuple(norm_default(x, depth + 1) for x in v))
    if isinstance(v, (set, frozenset)):
        return (type(v).__name__, tuple(sorted((norm_default(x, depth + 1) for x in v), key=repr)))
    if isinstance(v, dict):
        return ("dict", tuple(sorted(((repr(k), norm_default(x, depth + 1)) for k, x in v.items()))))
    if isinstance(v, enum.Enum):
        return ("enum", _qualname(type(v)), v.name)
    if isinstance(v, type):
        return ("class", _qualname(v))
    if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, functools_partial)):
        return ("function", _qualname(v))
    # any other object: class name + public-ish attributes (leading "_" stripped so
    # that private attribute spelling does not matter)
    attrs = {}
    if hasattr(v, "__dict__"):
        attrs = {k.lstrip("_"): x for k, x in vars(v).items()}
    else:
        for k in getattr(type(v), "__slots__", ()):
            if hasattr(v, k):
                attrs[k.lstrip("_")] = getattr(v, k)
    return ("object", _qualname(type(v)),
            tuple(sorted((k, norm_default(x, depth + 1)) for k, x in attrs.items())))


import functools  # noqa: E402

functools_partial = functools.partial


# ------------------------------------------------------------------ signatures
def signature_of(obj):
    """List of (name, kind, default) or None when inspect cannot produce one."""
    try:
        sig = inspect.signature(obj)
    except (ValueError, TypeError):
        return None
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def _fmt_sig(sig) -> str:
    if sig is None:
        return "<no signature: inspect.signature() raises>"
    out = []
    for name, kind, default in sig:
        s = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}.get(kind, "") + name
        if kind == inspect.Parameter.KEYWORD_ONLY:
            s = "kw:" + s
        if kind == inspect.Parameter.POSITIONAL_ONLY:
            s = "pos:" + s
        if default is not inspect.Parameter.empty:
            s += "=" + _short(default)
        out.append(s)
    return "(" + ", ".join(out) + ")"


def _short(v) -> str:
    if v is inspect.Parameter.empty:
        return "<required>"
    r = repr(v)
    return r if len(r) < 60 else r[:57] + "..."


_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def compare_signatures(path: str, oracle_obj, native_obj) -> list:
    """Differences between two callables' signatures, as readable strings.

    The names of ``*args``/``**kwargs`` do not matter to callers and are not
    compared.  A redis-py parameter with an EXCEPTIONS entry ``path(param)`` may be
    absent natively if the native callable takes ``**kwargs``."""
    if exception_for(path, "sig"):
        return []
    so, sn = signature_of(oracle_obj), signature_of(native_obj)
    if so is None and sn is None:
        return []
    if so is None or sn is None:
        return ["signature: redis-py %s, native %s" % (_fmt_sig(so), _fmt_sig(sn))]
    native_names = {n for n, _k, _d in sn}
    native_varkw = any(k == inspect.Parameter.VAR_KEYWORD for _n, k, _d in sn)
    kept = [(n, k, d) for n, k, d in so
            if n in native_names or not native_varkw or not exception_for(path, "param:" + n)]
    if len(kept) != len(so):
        # the excepted parameters are taken by the native **kwargs
        if not any(k == inspect.Parameter.VAR_KEYWORD for _n, k, _d in kept):
            sn = [p for p in sn if p[1] != inspect.Parameter.VAR_KEYWORD]
        so = kept
    problems = []
    shape_o = [("*" if k in _VAR_KINDS else n, k) for n, k, _ in so]
    shape_n = [("*" if k in _VAR_KINDS else n, k) for n, k, _ in sn]
    if shape_o != shape_n:
        problems.append("parameters: redis-py %s, native %s" % (_fmt_sig(so), _fmt_sig(sn)))
        return problems
    for (name, _kind, do), (_n, _k, dn) in zip(so, sn):
        if norm_default(do) != norm_default(dn) and not exception_for(path, "param:" + name):
            problems.append("default of %r: redis-py %s, native %s" % (name, _short(do), _short(dn)))
    return problems


def _is_protocol_class(cls) -> bool:
    return any(getattr(b, "_is_protocol", False) for b in inspect.getmro(cls))


# ------------------------------------------------------------------ kinds
def _static_lookup(cls, name):
    for k in inspect.getmro(cls):
        if name in vars(k):
            return k, vars(k)[name]
    return None, _MISSING


def attr_kind(cls, name, instance=None) -> str:
    owner, raw = _static_lookup(cls, name)
    if raw is _MISSING:
        if instance is not None and hasattr(instance, name):
            v = getattr(instance, name)
            return "method" if isinstance(v, types.MethodType) else "attribute"
        return "missing"
    if isinstance(raw, (classmethod, types.ClassMethodDescriptorType)):
        return "classmethod"
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, type):
        return "class"
    if isinstance(raw, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return "attribute"
    if hasattr(type(raw), "__set__") and hasattr(type(raw), "__get__"):
        return "attribute"  # other data descriptors
    if callable(raw):
        return "method"
    return "attribute"


def obj_kind(obj) -> str:
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, type):
        return "class"
    if isinstance(obj, (typing.TypeVar,)) or type(obj).__module__ == "typing":
        return "typing"
    if callable(obj):
        return "callable"
    return "constant"


def _typing_repr(obj) -> str:
    r = repr(obj)
    return re.sub(r"\bredis_native\b", "redis", r)


# ------------------------------------------------------------------ collecting names
def module_public_names(modname: str) -> list:
    """Public names ``modname`` defines, or imports from inside the redis package.

    Names bound by ``import x`` / ``from stdlib import y`` are not redis-py API."""
    mod = importlib.import_module(modname)
    tree = ast.parse(inspect.getsource(mod))
    names = {}

    def visit(body):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names[node.name] = True
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            names[n.id] = True
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names[node.target.id] = True
            elif isinstance(node, ast.ImportFrom):
                if node.level or _top(node.module) == "redis":
                    for a in node.names:
                        if a.name != "*":
                            names[a.asname or a.name] = True
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                for h in getattr(node, "handlers", []):
                    visit(h.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))

    visit(tree.body)
    out = []
    for n in sorted(names):
        if n.startswith("_") or n == "TYPE_CHECKING" or not hasattr(mod, n):
            continue
        v = getattr(mod, n)
        if isinstance(v, types.ModuleType) and _top(v.__name__) != "redis":
            continue  # e.g. "ssl = None" fallbacks, stdlib modules
        out.append(n)
    return out


def package_submodules() -> list:
    """Public submodules reachable as attributes of the ``redis`` package."""
    import redis

    return sorted(
        "redis." + n for n, v in vars(redis).items()
        if isinstance(v, types.ModuleType) and not n.startswith("_") and v.__name__ == "redis." + n
    )


def _instance_factories():
    """Build instances without a server (ports/paths nothing listens on)."""

    def redis_(m):
        return m.Redis(host="127.0.0.1", port=1)

    def sentinel_(m):
        return m.sentinel.Sentinel([("127.0.0.1", 1)])

    def aio_cluster(m):
        return importlib.import_module(m.__name__ + ".asyncio.cluster")

    def sentinel_pool(m):
        return m.sentinel.SentinelConnectionPool("sig-service", sentinel_(m))

    def aio_sentinel(m):
        return importlib.import_module(m.__name__ + ".asyncio.sentinel")

    def aio_sentinel_pool(m):
        mod = aio_sentinel(m)
        return mod.SentinelConnectionPool("sig-service", mod.Sentinel([("127.0.0.1", 1)]))

    return {
        "redis.sentinel.Sentinel": sentinel_,
        "redis.sentinel.SentinelConnectionPool": sentinel_pool,
        "redis.sentinel.SentinelConnectionPoolProxy": lambda m: sentinel_pool(m).proxy,
        "redis.sentinel.SentinelManagedConnection": lambda m: m.sentinel.SentinelManagedConnection(
            connection_pool=sentinel_pool(m).proxy, host="127.0.0.1", port=1),
        "redis.asyncio.sentinel.Sentinel": lambda m: aio_sentinel(m).Sentinel([("127.0.0.1", 1)]),
        "redis.asyncio.sentinel.SentinelConnectionPool": aio_sentinel_pool,
        "redis.asyncio.sentinel.SentinelManagedConnection":
            lambda m: aio_sentinel(m).SentinelManagedConnection(
                connection_pool=aio_sentinel_pool(m), host="127.0.0.1", port=1),
        "redis.client.Redis": redis_,
        "redis.client.Pipeline": lambda m: redis_(m).pipeline(),
        "redis.client.PubSub": lambda m: redis_(m).pubsub(),
        "redis.lock.Lock": lambda m: importlib.import_module(m.__name__ + ".lock").Lock(redis_(m), "sig-lock"),
        # (registers the class-level scripts, as redis.lock.Lock's factory does)
        "redis.asyncio.lock.Lock": lambda m: importlib.import_module(m.__name__ + ".asyncio.lock").Lock(
            importlib.import_module(m.__name__ + ".asyncio").Redis(host="127.0.0.1", port=1),
            "sig-lock"),
        "redis.asyncio.cluster.RedisCluster": lambda m: aio_cluster(m).RedisCluster(
            host="127.0.0.1", port=1),
        "redis.asyncio.cluster.ClusterNode": lambda m: aio_cluster(m).ClusterNode("127.0.0.1", 1),
        "redis.asyncio.cluster.NodesManager": lambda m: aio_cluster(m).NodesManager([], True, {}),
        "redis.asyncio.cluster.ClusterPipeline": lambda m: aio_cluster(m).RedisCluster(
            host="127.0.0.1", port=1).pipeline(),
        "redis.connection.Connection": lambda m: m.connection.Connection(host="127.0.0.1", port=1),
        "redis.connection.UnixDomainSocketConnection":
            lambda m: m.connection.UnixDomainSocketConnection(path="/nonexistent/redis.sock"),
        "redis.connection.ConnectionPool": lambda m: m.connection.ConnectionPool(host="127.0.0.1", port=1),
        "redis.connection.BlockingConnectionPool":
            lambda m: m.connection.BlockingConnectionPool(host="127.0.0.1", port=1),
        "redis.retry.Retry": lambda m: importlib.import_module(m.__name__ + ".retry").Retry(
            importlib.import_module(m.__name__ + ".backoff").NoBackoff(), 1),
        "redis.credentials.UsernamePasswordCredentialProvider":
            lambda m: importlib.import_module(m.__name__ + ".credentials").UsernamePasswordCredentialProvider(
                "u", "p"),
    }


INSTANCE_FACTORIES = _instance_factories()
_EXCEPTED_OBJECTS.update(_excepted_objects())


# Classes walked for their own (not inherited) attributes only: what they inherit
# is covered by their walked base (SSLConnection -> Connection).
OWN_ONLY = {"redis.connection.SSLConnection", "redis.sentinel.SentinelManagedSSLConnection",
            "redis.asyncio.sentinel.SentinelManagedSSLConnection"}


def class_attribute_names(clspath: str) -> list:
    import redis

    cls = resolve(clspath)
    if clspath in OWN_ONLY:
        return sorted({n for n in vars(cls) if not n.startswith("_")} | {"__init__"})
    names = {n for n in dir(cls) if not n.startswith("_")}
    factory = INSTANCE_FACTORIES.get(clspath)
    if factory is not None:
        inst = factory(redis)
        names |= {n for n in dir(inst) if not n.startswith("_")}
    names.add("__init__")
    return sorted(names)


# Dunders that are not protocol behaviour users rely on: interpreter/typing/abc
# bookkeeping, pickle's cache, and __del__ (cleanup may live in a C type's dealloc).
_DUNDER_SKIP = {
    "__init__", "__dict__", "__weakref__", "__module__", "__doc__", "__annotations__",
    "__parameters__", "__orig_bases__", "__abstractmethods__", "__slots__", "__protocol_attrs__",
    "__subclasshook__", "__init_subclass__", "__class_getitem__", "__non_callable_proto_members__",
    "__firstlineno__", "__static_attributes__", "__qualname__", "__new__", "__slotnames__",
    "__del__",
}


def class_protocol_dunders(clspath: str) -> list:
    """Dunders (``__enter__``, ``__getitem__``, ``__eq__``...) that redis-py's own
    classes define for ``clspath``: ``with r:``, ``r["k"]``, ``retry == other``."""
    cls = resolve(clspath)
    out = []
    for n in dir(cls):
        if not (n.startswith("__") and n.endswith("__")) or n in _DUNDER_SKIP:
            continue
        owner, _raw = _static_lookup(cls, n)
        if owner is None or owner is object or not _is_project(owner):
            continue
        out.append(n)
    return sorted(out)


def _params():
    mods = sorted(set(ALL_ORACLE_MODULES) | set(package_submodules()))
    module_params = [pytest.param(m, id=m) for m in mods]
    walked = [m for m in ALL_ORACLE_MODULES if not _module_excepted(m)]
    name_params = []
    for m in walked:
        for n in module_public_names(m):
            name_params.append(pytest.param(m, n, id="%s.%s" % (m, n)))
    attr_params = []
    for c in CLASSES:
        for n in class_attribute_names(c):
            attr_params.append(pytest.param(c, n, id="%s.%s" % (c, n)))
    dunder_params = []
    for c in CLASSES:
        if c in OWN_ONLY:
            continue
        for n in class_protocol_dunders(c):
            dunder_params.append(pytest.param(c, n, id="%s.%s" % (c, n)))
    all_params = []
    for m in walked:
        mod = importlib.import_module(m)
        if hasattr(mod, "__all__"):
            all_params.append(pytest.param(m, id=m))
    return module_params, name_params, attr_params, dunder_params, all_params


MODULE_PARAMS, NAME_PARAMS, ATTR_PARAMS, DUNDER_PARAMS, ALL_PARAMS = _params()


# ------------------------------------------------------------------ helpers for tests
def _skip_if_excepted(path: str):
    reason = exception_for(path)
    if reason:
        pytest.skip("deliberate exception: %s" % reason)


def _inherited_exception(clspath: str, name: str):
    """Reason if redis-py's class gets ``name`` from an excepted base class."""
    cls = resolve(clspath)
    owner, _raw = _static_lookup(cls, name)
    if owner is not None and owner is not cls:
        return exception_for_obj(owner)
    return None


def _native_or_fail(path: str, impl_name: str):
    obj = resolve(native_path(path, impl_name))
    if obj is _MISSING:
        pytest.fail("%s is missing (redis-py has %s)" % (native_path(path, impl_name), path))
    return obj


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("modpath", MODULE_PARAMS)
def test_module_importable(impl_name, modpath):
    if _module_excepted(modpath):
        pytest.skip("deliberate exception: %s" % _module_exception(modpath))
    target = native_path(modpath, impl_name)
    try:
        importlib.import_module(target)
    except ImportError as e:
        pytest.fail("import %s failed: %s" % (target, e))
    # also reachable as an attribute of the package, as after ``import redis``
    pkg = importlib.import_module(impl_name)
    if modpath != ORACLE:
        assert getattr(pkg, modpath.split(".", 1)[1].split(".")[0], None) is not None, (
            "%s.%s is not an attribute of the package after import" % (impl_name, modpath))


@pytest.mark.parametrize("modpath,name", NAME_PARAMS)
def test_module_name(impl_name, modpath, name):
    path = "%s.%s" % (modpath, name)
    _skip_if_excepted(path)
    oracle_obj = resolve(path)
    reason = exception_for_obj(oracle_obj)
    if reason:
        pytest.skip("deliberate exception: %s" % reason)
    native_mod = importlib.import_module(native_path(modpath, impl_name)) if resolve(
        native_path(modpath, impl_name)) is not _MISSING else None
    if native_mod is None:
        pytest.fail("module %s is missing" % native_path(modpath, impl_name))
    native_obj = getattr(native_mod, name, _MISSING)
    if native_obj is _MISSING:
        pytest.fail("%s.%s is missing (redis-py: %s %r)" % (
            native_mod.__name__, name, obj_kind(oracle_obj), _short(oracle_obj)))
    ko, kn = obj_kind(oracle_obj), obj_kind(native_obj)
    assert ko == kn, "%s: kind redis-py=%s native=%s (%r)" % (path, ko, kn, _short(native_obj))
    problems = []
    if ko == "callable" or (ko == "class" and not _is_protocol_class(oracle_obj)):
        # a class's signature is its constructor's; for the typing.Protocol based
        # command mixins (never instantiated directly) it is an artefact of Protocol
        canonical = path
        if ko == "class" and _is_project(oracle_obj):
            canonical = "%s.%s" % (oracle_obj.__module__, oracle_obj.__qualname__)
        problems += compare_signatures(canonical, oracle_obj, native_obj)
    if ko == "class" and issubclass(oracle_obj, BaseException):
        # the exception hierarchy decides which ``except`` clauses catch it
        mo = [_qualname(c) for c in inspect.getmro(oracle_obj)]
        mn = [_qualname(c) for c in inspect.getmro(native_obj)]
        if mo != mn:
            problems.append("exception MRO: redis-py %s, native %s" % (
                [q[1] for q in mo], [q[1] for q in mn]))
    if ko == "class" and not issubclass(oracle_obj, BaseException):
        # isinstance()/issubclass() with redis-py's public bases must keep working
        names_n = {c.__name__ for c in inspect.getmro(native_obj)}
        for base in inspect.getmro(oracle_obj)[1:]:
            if not _is_project(base) or base.__name__.startswith("_"):
                continue
            if getattr(base, "_is_protocol", False):
                continue  # typing.Protocol classes: structural, not nominal
            if exception_for_obj(base):
                continue
            if base.__name__ not in names_n:
                problems.append("base class %s of redis-py's %s is not a base of native's" % (
                    base.__name__, name))
    if ko == "typing":
        if _typing_repr(oracle_obj) != _typing_repr(native_obj):
            problems.append("typing alias: redis-py %s, native %s" % (
                _typing_repr(oracle_obj), _typing_repr(native_obj)))
    if ko == "constant":
        if type(oracle_obj) is not type(native_obj):
            problems.append("type: redis-py %s, native %s" % (
                type(oracle_obj).__name__, type(native_obj).__name__))
        elif path in VALUE_CONSTANTS and norm_default(oracle_obj) != norm_default(native_obj):
            problems.append("value: redis-py %r, native %r" % (oracle_obj, native_obj))
    assert not problems, "%s:\n  " % path + "\n  ".join(problems)


@pytest.mark.parametrize("clspath,name", ATTR_PARAMS)
def test_class_attribute(impl, impl_name, clspath, name):
    path = "%s.%s" % (clspath, name)
    _skip_if_excepted(clspath)
    _skip_if_excepted(path)
    inherited = _inherited_exception(clspath, name)
    if inherited:
        pytest.skip("deliberate exception (inherited): %s" % inherited)
    import redis

    ocls = resolve(clspath)
    ncls = _native_or_fail(clspath, impl_name)

    factory = INSTANCE_FACTORIES.get(clspath)
    oinst = ninst = None
    if factory is not None:
        oinst = factory(redis)
        try:
            ninst = factory(impl)
        except Exception as e:  # noqa: BLE001
            pytest.fail("cannot build a %s the way redis-py can: %s: %s" % (clspath, type(e).__name__, e))

    ko = attr_kind(ocls, name, oinst)
    kn = attr_kind(ncls, name, ninst)
    if kn == "missing":
        pytest.fail("%s: missing (redis-py: %s)" % (native_path(path, impl_name), ko))
    assert ko == kn, "%s: kind redis-py=%s native=%s" % (path, ko, kn)
    if ko in ("method", "classmethod", "staticmethod"):
        oobj = getattr(ocls, name) if _static_lookup(ocls, name)[0] else getattr(oinst, name)
        nobj = getattr(ncls, name) if _static_lookup(ncls, name)[0] else getattr(ninst, name)
        problems = compare_signatures(path, oobj, nobj)
        assert not problems, "%s:\n  " % path + "\n  ".join(problems)


@pytest.mark.parametrize("clspath,name", DUNDER_PARAMS)
def test_class_protocol_method(impl_name, clspath, name):
    """``with r:``, ``r[key]``, ``key in r``, ``len(pipe)``, ``retry == other``..."""
    path = "%s.%s" % (clspath, name)
    _skip_if_excepted(clspath)
    _skip_if_excepted(path)
    ocls = resolve(clspath)
    ncls = _native_or_fail(clspath, impl_name)
    owner, raw = _static_lookup(ncls, name)
    if owner is None or owner is object:
        pytest.fail("%s does not define %s (redis-py does)" % (native_path(clspath, impl_name), name))
    if name == "__hash__":
        # __hash__ = None (unhashable) must match too
        oh = _static_lookup(ocls, name)[1] is None
        nh = raw is None
        assert oh == nh, "%s: hashable redis-py=%s native=%s" % (path, not oh, not nh)
        return
    problems = compare_signatures(path, getattr(ocls, name), getattr(ncls, name))
    assert not problems, "%s:\n  " % path + "\n  ".join(problems)


@pytest.mark.parametrize("modpath", ALL_PARAMS)
def test_module_all(impl_name, modpath):
    """``from redis.x import *`` exports the same names (less deliberate exceptions)."""
    _skip_if_excepted(modpath)
    oracle_all = set(importlib.import_module(modpath).__all__)
    target = native_path(modpath, impl_name)
    native_mod = importlib.import_module(target)
    native_all = set(getattr(native_mod, "__all__", ()) or ())
    missing = sorted(n for n in oracle_all - native_all if not exception_for("%s.%s" % (modpath, n)))
    assert not missing, "%s.__all__ lacks %s" % (target, missing)
    broken = sorted(n for n in native_all if not hasattr(native_mod, n))
    assert not broken, "%s.__all__ names that do not exist: %s" % (target, broken)


def test_redis_is_strictredis_alias(impl):
    assert impl.StrictRedis is impl.Redis


@pytest.mark.parametrize("accessor", ["json", "ft", "ts", "bf", "cf", "cms", "topk", "tdigest", "vset"])
def test_module_accessors_raise(impl, impl_name, accessor):
    """Redis Stack accessors (a deliberate exception) exist and fail clearly."""
    if impl_name == ORACLE:
        pytest.skip("redis-py implements the module APIs")
    r = impl.Redis(host="127.0.0.1", port=1)
    with pytest.raises(impl.RedisError, match=accessor):
        getattr(r, accessor)()
    with pytest.raises(impl.RedisError, match=accessor):
        getattr(r.pipeline(), accessor)()


@pytest.mark.parametrize("accessor", ["json", "ft", "ts", "bf", "cf", "cms", "topk", "tdigest", "vset"])
def test_module_accessors_raise_on_other_clients(impl, impl_name, accessor):
    """The asyncio client and the cluster client have the same accessors,
    failing the same way (no AttributeError)."""
    if impl_name == ORACLE:
        pytest.skip("redis-py implements the module APIs")
    import importlib
    aio = importlib.import_module(impl.__name__ + ".asyncio")
    cluster = importlib.import_module(impl.__name__ + ".cluster")
    aio_cluster = importlib.import_module(impl.__name__ + ".asyncio.cluster")
    for cls in (aio.Redis, cluster.RedisCluster, cluster.ClusterPipeline, aio_cluster.RedisCluster,
                aio_cluster.ClusterPipeline):
        method = getattr(cls, accessor)
        with pytest.raises(impl.RedisError, match=accessor):
            method(cls.__new__(cls))


def _instance_has(path: str) -> bool:
    """True when ``path`` names an attribute set on instances (not on the class)
    of a redis-py class that can be built without a server."""
    parent, _, name = path.rpartition(".")
    cls = resolve(parent)
    if not isinstance(cls, type):
        return False
    try:
        obj = cls()
    except Exception:
        return False
    try:
        return hasattr(obj, name)
    finally:
        close = getattr(obj, "close", None)
        if callable(close):
            close()


def test_exceptions_dict_is_live():
    """Every exact (non-pattern) key names something redis-py really has."""
    import importlib.util

    stale = []
    for key in EXCEPTIONS:
        if "*" in key:
            continue
        path = key.split("(", 1)[0]
        if resolve(path) is not _MISSING or _instance_has(path):
            continue
        try:
            # a module that needs an optional package (redis.ocsp: cryptography)
            if importlib.util.find_spec(path) is not None:
                continue
        except ImportError:
            pass
        stale.append(key)
    assert not stale, "EXCEPTIONS keys that redis-py 7.4.1 does not have: %s" % stale
