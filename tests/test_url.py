"""Differential tests of redis_native._url against redis-py's redis.connection.parse_url.

redis-py (the oracle) returns connection classes where redis_native returns
string markers; everything else must be identical, including the type and the
text of the exceptions.
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import pytest
import redis.connection as oracle

from redis_native import _url

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

_MARKERS = {
    oracle.SSLConnection: _url.SSL_CONNECTION,
    oracle.UnixDomainSocketConnection: _url.UNIX_CONNECTION,
}


def _run(func: Any, url: Any) -> Tuple[str, Any]:
    try:
        return "ok", func(url)
    except Exception as exc:  # noqa: BLE001 - the exception is the result
        return "raise", exc


def _normalise_oracle(result: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(result)
    if "connection_class" in out:
        out["connection_class"] = _MARKERS[out["connection_class"]]
    return out


@pytest.mark.parametrize("url", URLS)
def test_parse_url_matches_redis_py(url: str) -> None:
    expected_kind, expected = _run(oracle.parse_url, url)
    kind, got = _run(_url.parse_url, url)
    assert kind == expected_kind, (got, expected)
    if kind == "ok":
        assert got == _normalise_oracle(expected)
        # Same key order, too: callers may display or iterate over it.
        assert list(got) == list(expected)
        for key, value in got.items():
            assert type(value) is type(_normalise_oracle(expected)[key]), key
    else:
        assert type(got) is type(expected)
        assert str(got) == str(expected)


@pytest.mark.parametrize("url", [b"redis://localhost", None, 6379])
def test_non_string_url_raises_like_redis_py(url: Any) -> None:
    expected_kind, expected = _run(oracle.parse_url, url)
    kind, got = _run(_url.parse_url, url)
    assert kind == expected_kind == "raise"
    assert type(got) is type(expected)


def test_scheme_error_message() -> None:
    with pytest.raises(ValueError) as info:
        _url.parse_url("http://localhost")
    assert str(info.value) == (
        "Redis URL must specify one of the following schemes "
        "(redis://, rediss://, unix://)"
    )


def test_markers() -> None:
    assert _url.parse_url("rediss://h")["connection_class"] == "SSLConnection"
    assert _url.parse_url("unix:///s")["connection_class"] == (
        "UnixDomainSocketConnection"
    )
    assert "connection_class" not in _url.parse_url("redis://h")


@pytest.mark.parametrize(
    "value",
    [None, "", "0", "1", "f", "F", "false", "FALSE", "False", "n", "no", "NO",
     "yes", "true", "x", " ", 0, 1, 2, False, True, [], [0]],
)
def test_to_bool_matches_redis_py(value: Any) -> None:
    assert _url.to_bool(value) == oracle.to_bool(value)
    assert type(_url.to_bool(value)) is type(oracle.to_bool(value))


def test_query_parsers_cover_redis_py() -> None:
    assert set(_url.URL_QUERY_ARGUMENT_PARSERS) == set(oracle.URL_QUERY_ARGUMENT_PARSERS)
    assert _url.FALSE_STRINGS == oracle.FALSE_STRINGS


@pytest.mark.parametrize(
    "value",
    ["VERIFY_X509_STRICT", "[VERIFY_X509_STRICT, VERIFY_X509_PARTIAL_CHAIN]",
     "VERIFY_DEFAULT,", "NOPE"],
)
def test_parse_ssl_verify_flags_matches_redis_py(value: str) -> None:
    expected_kind, expected = _run(oracle.parse_ssl_verify_flags, value)
    kind, got = _run(_url.parse_ssl_verify_flags, value)
    assert kind == expected_kind
    if kind == "ok":
        assert got == expected
    else:
        assert type(got) is type(expected) and str(got) == str(expected)
