"""Parsing of ``redis://``, ``rediss://`` and ``unix://`` connection URLs.

:func:`parse_url` returns the keyword arguments a connection pool gets from a
URL, exactly as redis-py 7.4's ``redis.connection.parse_url`` does, except for
the connection class: this module sits below the connection layer, so it names
the class with a string marker (:data:`SSL_CONNECTION` or
:data:`UNIX_CONNECTION`) that the caller maps to the real class.

Rules (all from redis-py):

* the scheme must be one of the three above, otherwise ``ValueError``;
* query options: only the first value of a repeated key counts, empty values
  are skipped, values are percent-decoded (once more after the query-string
  decoding), known keys are converted by :data:`URL_QUERY_ARGUMENT_PARSERS`
  (a failed conversion raises ``ValueError("Invalid value for '<key>' in
  connection URL.")``) and unknown keys are passed through as strings;
* ``username`` and ``password`` come from the userinfo, percent-decoded;
* ``unix://``: ``path`` from the URL path;
* ``redis://`` / ``rediss://``: ``host``, ``port`` (an invalid port raises
  the ``ValueError`` of :mod:`urllib.parse`), and ``db`` from the path
  (``/3``) unless the query gives ``db``; a non-numeric path is ignored.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional
from urllib.parse import parse_qs, unquote, urlparse

__all__ = [
    "FALSE_STRINGS",
    "SSL_CONNECTION",
    "UNIX_CONNECTION",
    "URL_QUERY_ARGUMENT_PARSERS",
    "parse_ssl_verify_flags",
    "parse_url",
    "to_bool",
]

#: Marker returned under ``"connection_class"`` for ``rediss://`` URLs.
SSL_CONNECTION = "SSLConnection"
#: Marker returned under ``"connection_class"`` for ``unix://`` URLs.
UNIX_CONNECTION = "UnixDomainSocketConnection"

#: Strings (compared case-insensitively) that :func:`to_bool` reads as false.
FALSE_STRINGS = ("0", "F", "FALSE", "N", "NO")

_SCHEMES = ("redis://", "rediss://", "unix://")


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


def parse_ssl_verify_flags(value: str) -> List[Any]:
    """Read a list of :class:`ssl.VerifyFlags` names, e.g. ``[VERIFY_X509_STRICT]``.

    Brackets are optional and names are separated by commas.  An unknown name
    raises ``ValueError``.
    """
    try:
        from ssl import VerifyFlags
    except ImportError:  # pragma: no cover - Python built without ssl
        VerifyFlags = None  # type: ignore[assignment,misc]

    names = value.replace("[", "").replace("]", "")
    flags: List[Any] = []
    for raw in names.split(","):
        flag = raw.strip()
        if not hasattr(VerifyFlags, flag):
            raise ValueError(f"Invalid ssl verify flag: {flag}")
        flags.append(getattr(VerifyFlags, flag))
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
    """Turn a Redis URL into connection keyword arguments (see the module docstring)."""
    if not url.startswith(_SCHEMES):
        raise ValueError(
            "Redis URL must specify one of the following "
            "schemes (redis://, rediss://, unix://)"
        )

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
        kwargs["connection_class"] = UNIX_CONNECTION
        return kwargs

    # redis:// or rediss://
    if parts.hostname:
        kwargs["host"] = unquote(parts.hostname)
    port = parts.port  # raises ValueError for a malformed or out-of-range port
    if port:
        kwargs["port"] = int(port)

    # The path selects the database unless the query string already did.
    if parts.path and "db" not in kwargs:
        try:
            kwargs["db"] = int(unquote(parts.path).replace("/", ""))
        except (AttributeError, ValueError):
            pass

    if parts.scheme == "rediss":
        kwargs["connection_class"] = SSL_CONNECTION
    return kwargs
