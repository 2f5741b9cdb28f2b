"""Small helpers shared by the client code and importable by users.

The names, signatures and observable behaviour (return values, warning classes
and messages) are those of redis-py 7.4's ``redis.utils``.  Differences:

* :data:`HIREDIS_AVAILABLE` is always true: redis_native's reply reader is
  hiredis, compiled into the C extension, whether or not the ``hiredis``
  Python package is installed.
* :func:`get_lib_version` reports redis_native's version, not redis-py's.
"""
from __future__ import annotations

import datetime
import sys
import warnings
from contextlib import contextmanager
from functools import wraps
from types import FunctionType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
)

from redis_native.exceptions import DataError
from redis_native.typing import AbsExpiryT, EncodableT, ExpiryT

if TYPE_CHECKING:
    from redis_native.client import Pipeline, Redis

#: The reply parser is hiredis, built into redis_native's C extension.
HIREDIS_AVAILABLE: bool = True

# SSL_AVAILABLE and CRYPTOGRAPHY_AVAILABLE (whether ``ssl`` / ``cryptography``
# import) are answered on first access by the module ``__getattr__`` below, so
# that ``import redis_native`` loads neither.
_AVAILABILITY = {"SSL_AVAILABLE": "ssl", "CRYPTOGRAPHY_AVAILABLE": "cryptography"}


def __getattr__(name: str) -> Any:
    module = _AVAILABILITY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        __import__(module)
        available = True
    except ImportError:
        available = False
    globals()[name] = available
    return available


_CO_COROUTINE = 0x80    # inspect.CO_COROUTINE


def _iscoroutinefunction(func: Any) -> bool:
    """``inspect.iscoroutinefunction(func)``, without importing ``inspect`` for
    the plain functions the decorators below are applied to at class creation."""
    if type(func) is FunctionType and not hasattr(func, "_is_coroutine_marker"):
        return bool(func.__code__.co_flags & _CO_COROUTINE)
    import inspect

    return inspect.iscoroutinefunction(func)


#: Default value of keyword arguments whose absence must be told apart from
#: an explicit ``None``.  Compare with ``is``.
SENTINEL: Any = object()

C = TypeVar("C", bound=Callable[..., Any])


class _NotPassed:
    """Default of a flag whose *passing* redis-py reports (with a deprecation
    warning, even for the default value): falsy, so the flag reads as False
    when it was not given.  :func:`show_defaults` puts redis-py's ``False``
    back into the signature."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "False"


#: ``retry_on_timeout``'s default in the clients: ``is NOT_PASSED`` when the
#: caller did not give it.
NOT_PASSED: Any = _NotPassed()


def show_defaults(func: FunctionType, **defaults: Any) -> None:
    """Make ``inspect.signature(func)`` show ``defaults`` for the named
    parameters (redis-py's values) while ``func`` keeps its own markers: its
    ``__wrapped__`` becomes a twin of ``func`` (same code) with those defaults.
    """
    code = func.__code__
    positional = code.co_varnames[: code.co_argcount]
    pos_defaults = list(func.__defaults__ or ())
    first = len(positional) - len(pos_defaults)
    kw_defaults = dict(func.__kwdefaults__ or {})
    for name, value in defaults.items():
        if name in kw_defaults:
            kw_defaults[name] = value
        elif name in positional[first:]:
            pos_defaults[positional.index(name) - first] = value
        else:
            raise TypeError(f"{func.__qualname__} has no parameter {name!r} with a default")
    twin = FunctionType(code, func.__globals__, func.__name__, tuple(pos_defaults),
                        func.__closure__)
    twin.__kwdefaults__ = kw_defaults or None
    twin.__qualname__ = func.__qualname__
    twin.__annotations__ = func.__annotations__
    twin.__doc__ = func.__doc__
    func.__wrapped__ = twin  # type: ignore[attr-defined]


_LIB_ARGS_REASON = ("Use 'driver_info' parameter instead. "
                    "lib_name and lib_version will be removed in a future version.")
_RETRY_ON_TIMEOUT_REASON = "TimeoutError is included by default."


def warn_passed_deprecated(lib_name: Any, lib_version: Any,
                           retry_on_timeout: Any = NOT_PASSED) -> None:
    """redis-py's DeprecationWarnings for the deprecated arguments of the
    clients' and connections' ``__init__`` that were passed: ``retry_on_timeout``
    (clients only), then ``lib_name``, then ``lib_version``.  Call it from that
    ``__init__`` itself: the warning names the frame two levels above it, as
    redis-py's decorators do."""
    if retry_on_timeout is not NOT_PASSED:
        warn_deprecated_arg_usage("retry_on_timeout", "__init__", _RETRY_ON_TIMEOUT_REASON,
                                  "6.0.0", stacklevel=5)
    if lib_name is not SENTINEL:
        warn_deprecated_arg_usage("lib_name", "__init__", _LIB_ARGS_REASON, stacklevel=5)
    if lib_version is not SENTINEL:
        warn_deprecated_arg_usage("lib_version", "__init__", _LIB_ARGS_REASON, stacklevel=5)

_DISTRIBUTION = "redis_native"
_UNKNOWN_VERSION = "99.99.99"


def from_url(url: str, **kwargs: Any) -> "Redis":
    """Build a :class:`redis_native.Redis` client from a ``redis://``-style URL.

    The database number may come from the URL path (``/3``) when it is not
    given otherwise.  See :meth:`redis_native.Redis.from_url`.
    """
    from redis_native.client import Redis

    return Redis.from_url(url, **kwargs)


@contextmanager
def pipeline(redis_obj: "Redis") -> Iterator["Pipeline"]:
    """Yield a pipeline of ``redis_obj`` and execute it when the block exits normally."""
    pipe = redis_obj.pipeline()
    yield pipe
    pipe.execute()


def str_if_bytes(value: Union[str, bytes]) -> str:
    """Decode ``bytes`` as UTF-8 (invalid sequences replaced); return anything else unchanged."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def safe_str(value: Any) -> str:
    """Return ``str(value)``, decoding ``bytes`` as UTF-8 first."""
    return str(str_if_bytes(value))


def dict_merge(*dicts: Mapping[str, Any]) -> Dict[str, Any]:
    """Return a new dict with the items of all ``dicts``; later ones win on clashes."""
    merged: Dict[str, Any] = {}
    for mapping in dicts:
        merged.update(mapping)
    return merged


def list_keys_to_dict(key_list: Iterable[Any], callback: Any) -> Dict[Any, Any]:
    """Map every key of ``key_list`` to the same ``callback``."""
    return dict.fromkeys(key_list, callback)


def merge_result(command: Any, res: Mapping[Any, Iterable[Any]]) -> List[Any]:
    """Flatten per-node result lists (the values of ``res``) into one list of distinct items.

    The order of the returned list is unspecified.  ``command`` is unused; it is
    kept for the callback signature.
    """
    distinct = set()
    for node_values in res.values():
        distinct.update(node_values)
    return list(distinct)


def warn_deprecated(
    name: str, reason: str = "", version: str = "", stacklevel: int = 2
) -> None:
    """Emit a :class:`DeprecationWarning` saying that ``name`` is deprecated."""
    parts = [f"Call to deprecated {name}."]
    if reason:
        parts.append(f" ({reason})")
    if version:
        parts.append(f" -- Deprecated since version {version}.")
    warnings.warn("".join(parts), category=DeprecationWarning, stacklevel=stacklevel)


def deprecated_function(
    reason: str = "", version: str = "", name: Optional[str] = None
) -> Callable[[C], C]:
    """Decorator: calling the function (sync or async) emits a deprecation warning.

    ``name`` overrides the function name shown in the message.
    """

    def decorator(func: C) -> C:
        label = name or func.__name__
        if _iscoroutinefunction(func):

            @wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                # stacklevel 3: warn_deprecated -> wrapper -> caller.
                warn_deprecated(label, reason, version, stacklevel=3)
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            warn_deprecated(label, reason, version, stacklevel=3)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def warn_deprecated_arg_usage(
    arg_name: Union[list, str],
    function_name: str,
    reason: str = "",
    version: str = "",
    stacklevel: int = 2,
) -> None:
    """Emit a :class:`DeprecationWarning` about deprecated argument(s) of a function."""
    parts = [
        f"Call to '{function_name}' function with deprecated"
        f" usage of input argument/s '{arg_name}'."
    ]
    if reason:
        parts.append(f" ({reason})")
    if version:
        parts.append(f" -- Deprecated since version {version}.")
    warnings.warn("".join(parts), category=DeprecationWarning, stacklevel=stacklevel)


def _get_filterable_args(
    func: Callable[..., Any],
    args: tuple,
    kwargs: dict,
    allowed_args: Optional[List[str]] = None,
) -> dict:
    """Name the arguments of one call of ``func``, minus ``self`` and ``allowed_args``.

    Positional arguments are named after ``func``'s positional parameters;
    extra positional arguments (``*args``) are not included.
    """
    code = func.__code__
    positional_names = code.co_varnames[: code.co_argcount]
    named = dict(zip(positional_names, args))
    named.update(kwargs)
    named.pop("self", None)
    for allowed in allowed_args or ():
        named.pop(allowed, None)
    return named


def deprecated_args(
    args_to_warn: Optional[List[str]] = None,
    allowed_args: Optional[List[str]] = None,
    reason: str = "",
    version: str = "",
) -> Callable[[C], C]:
    """Decorator: warn when the listed arguments are passed to the function.

    ``"*"`` in ``args_to_warn`` (the default) means any argument not in
    ``allowed_args``.
    """
    to_warn = ["*"] if args_to_warn is None else args_to_warn
    allowed = [] if allowed_args is None else allowed_args

    def _check_deprecated_args(func: Callable[..., Any], passed: dict) -> None:
        # stacklevel 5: warn_deprecated_arg_usage -> this -> wrapper -> caller
        # -> the caller's caller (same attribution as redis-py).
        for arg in to_warn:
            if arg == "*" and len(passed) > 0:
                warn_deprecated_arg_usage(
                    list(passed.keys()), func.__name__, reason, version, stacklevel=5
                )
            elif arg in passed:
                warn_deprecated_arg_usage(
                    arg, func.__name__, reason, version, stacklevel=5
                )

    def decorator(func: C) -> C:
        if _iscoroutinefunction(func):

            @wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                passed = _get_filterable_args(func, args, kwargs, allowed)
                _check_deprecated_args(func, passed)
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            passed = _get_filterable_args(func, args, kwargs, allowed)
            _check_deprecated_args(func, passed)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _set_info_logger() -> None:
    """Make the ``push_response`` logger print INFO records to stderr, once."""
    import logging

    if "push_response" in logging.root.manager.loggerDict:
        return
    push_logger = logging.getLogger("push_response")
    push_logger.setLevel(logging.INFO)
    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO)
    push_logger.addHandler(handler)


def check_protocol_version(
    protocol: Optional[Union[str, int]], expected_version: int = 3
) -> bool:
    """Tell whether ``protocol`` (an int, a numeric string or None) equals ``expected_version``."""
    if protocol is None:
        return False
    if isinstance(protocol, str):
        try:
            protocol = int(protocol)
        except ValueError:
            return False
    return protocol == expected_version


def get_lib_version() -> str:
    """Return redis_native's version (the LIB-VER sent to the server by default).

    The running package's ``NATIVE_VERSION`` is preferred, so that a source
    tree reports its own version rather than that of some installed copy; then
    the installed distribution's metadata; ``"99.99.99"`` when neither is known.
    (``redis_native.__version__`` is the redis-py API level, ``"7.4.1"``.)
    """
    package = sys.modules.get(_DISTRIBUTION)
    version = getattr(package, "NATIVE_VERSION", None)
    if isinstance(version, str) and version:
        return version
    from importlib import metadata

    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return _UNKNOWN_VERSION


def format_error_message(host_error: str, exception: BaseException) -> str:
    """Build the text of a connection error from the failing endpoint and the OS error."""
    args = exception.args
    if not args:
        return f"Error connecting to {host_error}."
    if len(args) == 1:
        return f"Error {args[0]} connecting to {host_error}."
    return f"Error {args[0]} connecting to {host_error}. {args[1]}."


def compare_versions(version1: str, version2: str) -> int:
    """Compare dotted numeric versions; missing components count as 0.

    Returns ``-1`` if ``version1`` is newer, ``1`` if ``version2`` is newer,
    ``0`` if they are equal.
    """
    left = [int(part) for part in version1.split(".")]
    right = [int(part) for part in version2.split(".")]
    width = max(len(left), len(right))
    left += [0] * (width - len(left))
    right += [0] * (width - len(right))
    for a, b in zip(left, right):
        if a > b:
            return -1
        if a < b:
            return 1
    return 0


def ensure_string(key: Union[str, bytes]) -> str:
    """Return ``key`` as ``str`` (UTF-8 decoding bytes); reject other types with TypeError."""
    if isinstance(key, bytes):
        return key.decode("utf-8")
    if isinstance(key, str):
        return key
    raise TypeError("Key must be either a string or bytes")


def extract_expire_flags(
    ex: Optional[ExpiryT] = None,
    px: Optional[ExpiryT] = None,
    exat: Optional[AbsExpiryT] = None,
    pxat: Optional[AbsExpiryT] = None,
) -> List[EncodableT]:
    """Translate the first given expiry option into its command arguments.

    Precedence is ``ex``, ``px``, ``exat``, ``pxat``; the others are ignored.
    ``timedelta`` and ``datetime`` values are converted to whole seconds or
    milliseconds.  Invalid ``ex``/``px`` values raise :class:`DataError`.
    """
    if ex is not None:
        if isinstance(ex, datetime.timedelta):
            return ["EX", int(ex.total_seconds())]
        if isinstance(ex, int):
            return ["EX", ex]
        if isinstance(ex, str) and ex.isdigit():
            return ["EX", int(ex)]
        raise DataError("ex must be datetime.timedelta or int")
    if px is not None:
        if isinstance(px, datetime.timedelta):
            return ["PX", int(px.total_seconds() * 1000)]
        if isinstance(px, int):
            return ["PX", px]
        raise DataError("px must be datetime.timedelta or int")
    if exat is not None:
        if isinstance(exat, datetime.datetime):
            exat = int(exat.timestamp())
        return ["EXAT", exat]
    if pxat is not None:
        if isinstance(pxat, datetime.datetime):
            pxat = int(pxat.timestamp() * 1000)
        return ["PXAT", pxat]
    return []


def truncate_text(txt: str, max_length: int = 100) -> str:
    """Collapse whitespace and shorten ``txt`` to ``max_length`` characters, ending in ``...``."""
    import textwrap

    return textwrap.shorten(
        text=txt, width=max_length, placeholder="...", break_long_words=True
    )


def dummy_fail() -> None:
    """No-op failure handler for :meth:`Retry.call_with_retry`."""


async def dummy_fail_async() -> None:
    """No-op failure handler for asynchronous retries."""


def experimental(cls: type) -> type:
    """Class decorator: instantiating the class emits a :class:`UserWarning`."""
    original_init = cls.__init__

    @wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{cls.__name__} is an experimental and may change or be removed "
            "in future versions.",
            category=UserWarning,
            stacklevel=2,
        )
        original_init(self, *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def warn_experimental(name: str, stacklevel: int = 2) -> None:
    """Emit a :class:`UserWarning` saying that method ``name`` is experimental."""
    warnings.warn(
        f"Call to experimental method {name}. "
        "Be aware that the function arguments can "
        "change or be removed in future versions.",
        category=UserWarning,
        stacklevel=stacklevel,
    )


def experimental_method() -> Callable[[C], C]:
    """Decorator factory: calling the function (sync or async) warns that it is experimental."""

    def decorator(func: C) -> C:
        if _iscoroutinefunction(func):

            @wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                warn_experimental(func.__name__, stacklevel=2)
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            warn_experimental(func.__name__, stacklevel=2)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def warn_experimental_arg_usage(
    arg_name: Union[list, str],
    function_name: str,
    stacklevel: int = 2,
) -> None:
    """Emit a :class:`UserWarning` about experimental argument(s) of a method."""
    warnings.warn(
        f"Call to '{function_name}' method with experimental"
        f" usage of input argument/s '{arg_name}'.",
        category=UserWarning,
        stacklevel=stacklevel,
    )


def experimental_args(args_to_warn: Optional[List[str]] = None) -> Callable[[C], C]:
    """Decorator: warn when the listed arguments (``"*"``: any) are passed."""
    to_warn = ["*"] if args_to_warn is None else args_to_warn

    def _check_experimental_args(func: Callable[..., Any], passed: dict) -> None:
        # stacklevel 4: warn_experimental_arg_usage -> this -> wrapper -> caller.
        for arg in to_warn:
            if arg == "*" and len(passed) > 0:
                warn_experimental_arg_usage(
                    list(passed.keys()), func.__name__, stacklevel=4
                )
            elif arg in passed:
                warn_experimental_arg_usage(arg, func.__name__, stacklevel=4)

    def decorator(func: C) -> C:
        if _iscoroutinefunction(func):

            @wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                passed = _get_filterable_args(func, args, kwargs)
                if passed:
                    _check_experimental_args(func, passed)
                return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            passed = _get_filterable_args(func, args, kwargs)
            if passed:
                _check_experimental_args(func, passed)
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def lazy_module_logger(namespace: dict) -> Tuple[Callable[[], Any], Callable[[str], Any]]:
    """``(logger_getter, module___getattr__)`` for a module whose ``logger``
    attribute is made on first use: ``logging`` is imported by the first
    message, not by ``import redis_native``. ``namespace`` is the module's
    ``globals()``; a logger assigned to ``module.logger`` is the one used."""

    def get_logger() -> Any:
        log = namespace.get("logger")
        if log is None:
            import logging

            log = namespace["logger"] = logging.getLogger(namespace["__name__"])
        return log

    def module_getattr(name: str) -> Any:
        if name == "logger":
            return get_logger()
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return get_logger, module_getattr
