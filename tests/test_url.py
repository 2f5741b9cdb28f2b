"""Differential tests of redis_native.connection's URL parsing against redis-py's
redis.connection (parse_url, to_bool, parse_ssl_verify_flags).

Results must be identical -- the connection classes being each library's own
class of the same name -- and so must the type and text of the exceptions.
"""
from __future__ import annotations

from typing import Any, Tuple

import pytest
import redis.connection as oracle

from redis_native import connection as native

URLS = [
    # plain TCP
    "redis://localhost",
    "redis://localhost:6379",
    "redis://localhost:6379/0",
    "redis://localhost/3",
    "redis://127.0.0.1:7000/15",
    "redis://localhost/",
    "redis://localhost:6379/abc",
    "redis://localhost/1/2",
    "redis://localhost/%31",
    "redis://localhost:0",
    "redis://",
    "redis://localhost#fragment",
    "redis://[::1]:6379/1",
    "redis://[::1]",
    "redis://%6Cocalhost",
    # credentials
    "redis://:secret@localhost",
    "redis://user@localhost",
    "redis://user:@localhost",
    "redis://us%40er:p%3Ass%2Fw@localhost:6380/2",
    "redis://user:p%2540ss@localhost",
    # db from the query string
    "redis://localhost?db=5",
    "redis://localhost/2?db=5",
    "redis://localhost/2?db=",
    # typed options
    "redis://localhost?socket_timeout=1.5&socket_connect_timeout=2",
    "redis://localhost?socket_keepalive=false&retry_on_timeout=True",
    "redis://localhost?socket_keepalive=No&retry_on_timeout=0",
    "redis://localhost?socket_keepalive=f&retry_on_timeout=yes",
    "redis://localhost?socket_keepalive=n&retry_on_timeout=anything",
    "redis://localhost?retry_on_error=ConnectionError",
    "redis://localhost?max_connections=10&health_check_interval=30",
    "redis://localhost?ssl_check_hostname=false&timeout=3",
    "redis://localhost?timeout=inf",
    "redis://localhost?protocol=3",
    "rediss://localhost?ssl_include_verify_flags=VERIFY_X509_STRICT,VERIFY_X509_PARTIAL_CHAIN",
    "rediss://localhost?ssl_exclude_verify_flags=[VERIFY_X509_STRICT]",
    # pass-through and decoding of unknown options
    "redis://localhost?client_name=my%2520client&decode_responses=True",
    "redis://localhost?foo=a+b&foo=second",
    "redis://localhost?empty=&other=1",
    "redis://localhost?a=1&&b=2",
    # TLS
    "rediss://localhost",
    "rediss://user:pw@localhost:6390/4?ssl_cert_reqs=none",
    # unix sockets
    "unix:///tmp/redis.sock",
    "unix:///tmp/redis.sock?db=2",
    "unix:///tmp/redis.sock/3",
    "unix://user:pw@/tmp/redis.sock",
    "unix://",
    "unix:///tmp/re%20dis.sock?socket_timeout=0.5",
    # invalid values
    "redis://localhost?db=abc",
    "redis://localhost?socket_timeout=abc",
    "redis://localhost?max_connections=1.5",
    "redis://localhost?health_check_interval=x",
    "rediss://localhost?ssl_include_verify_flags=BOGUS",
    "redis://localhost:65536",
    "redis://localhost:abc",
    "redis://localhost:-1",
    # invalid schemes
    "http://localhost",
    "REDIS://localhost",
    "localhost:6379",
    "",
    "redis:/localhost",
    " redis://localhost",
]

def _run(func: Any, url: Any) -> Tuple[str, Any]:
    try:
        return "ok", func(url)
    except Exception as exc:  # noqa: BLE001 - the exception is the result
        return "raise", exc


def _same_value(got: Any, expected: Any) -> bool:
    """Equal values, where a class of redis-py matches the class of the same
    qualified name in redis_native (``redis.connection.SSLConnection`` and
    ``redis_native.connection.SSLConnection``)."""
    if isinstance(expected, type):
        return isinstance(got, type) and (
            got.__module__.replace("redis_native", "redis", 1), got.__qualname__
        ) == (expected.__module__, expected.__qualname__)
    return type(got) is type(expected) and got == expected


@pytest.mark.parametrize("url", URLS)
def test_parse_url_matches_redis_py(url: str) -> None:
    expected_kind, expected = _run(oracle.parse_url, url)
    kind, got = _run(native.parse_url, url)
    assert kind == expected_kind, (got, expected)
    if kind == "ok":
        # same keys in the same order: callers may display or iterate over them
        assert list(got) == list(expected)
        for key, value in got.items():
            assert _same_value(value, expected[key]), (key, value, expected[key])
    else:
        assert type(got) is type(expected)
        assert str(got) == str(expected)


@pytest.mark.parametrize("url", [b"redis://localhost", None, 6379])
def test_non_string_url_raises_like_redis_py(url: Any) -> None:
    expected_kind, expected = _run(oracle.parse_url, url)
    kind, got = _run(native.parse_url, url)
    assert kind == expected_kind == "raise"
    assert type(got) is type(expected)


def test_scheme_error_message() -> None:
    with pytest.raises(ValueError) as info:
        native.parse_url("http://localhost")
    assert str(info.value) == (
        "Redis URL must specify one of the following schemes "
        "(redis://, rediss://, unix://)"
    )


def test_connection_classes() -> None:
    assert native.parse_url("rediss://h")["connection_class"] is native.SSLConnection
    assert native.parse_url("unix:///s")["connection_class"] is (
        native.UnixDomainSocketConnection)
    assert "connection_class" not in native.parse_url("redis://h")


@pytest.mark.parametrize(
    "value",
    [None, "", "0", "1", "f", "F", "false", "FALSE", "False", "n", "no", "NO",
     "yes", "true", "x", " ", 0, 1, 2, False, True, [], [0]],
)
def test_to_bool_matches_redis_py(value: Any) -> None:
    assert native.to_bool(value) == oracle.to_bool(value)
    assert type(native.to_bool(value)) is type(oracle.to_bool(value))


def test_query_parsers_cover_redis_py() -> None:
    assert set(native.URL_QUERY_ARGUMENT_PARSERS) == set(oracle.URL_QUERY_ARGUMENT_PARSERS)
    assert native.FALSE_STRINGS == oracle.FALSE_STRINGS


@pytest.mark.parametrize(
    "value",
    ["VERIFY_X509_STRICT", "[VERIFY_X509_STRICT, VERIFY_X509_PARTIAL_CHAIN]",
     "VERIFY_DEFAULT,", "NOPE"],
)
def test_parse_ssl_verify_flags_matches_redis_py(value: str) -> None:
    expected_kind, expected = _run(oracle.parse_ssl_verify_flags, value)
    kind, got = _run(native.parse_ssl_verify_flags, value)
    assert kind == expected_kind
    if kind == "ok":
        assert got == expected
    else:
        assert type(got) is type(expected) and str(got) == str(expected)
