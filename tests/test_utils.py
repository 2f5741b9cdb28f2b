"""redis_native.utils and redis_native.typing against redis-py's redis.utils and
redis.typing."""
from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import os
import sys
import types
import warnings
from typing import Any, Callable, List, Tuple

import pytest
import redis.typing as oracle_typing
import redis.utils as oracle_utils

from redis_native import driver_info, exceptions, utils
from redis_native import typing as rn_typing


def _outcome(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[str, Any]:
    try:
        return "ok", func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception is the result
        return "raise", (type(exc).__name__, str(exc))


# ----------------------------------------------------------------------- utils

UTILS_PUBLIC = [
    "from_url", "pipeline", "str_if_bytes", "safe_str", "dict_merge",
    "list_keys_to_dict", "merge_result", "warn_deprecated", "deprecated_function",
    "warn_deprecated_arg_usage", "deprecated_args", "check_protocol_version",
    "get_lib_version", "format_error_message", "compare_versions", "ensure_string",
    "extract_expire_flags", "truncate_text", "dummy_fail", "dummy_fail_async",
    "experimental", "warn_experimental", "experimental_method",
    "warn_experimental_arg_usage", "experimental_args", "SENTINEL",
    "HIREDIS_AVAILABLE", "SSL_AVAILABLE", "CRYPTOGRAPHY_AVAILABLE",
    "_get_filterable_args", "_set_info_logger",
]


def test_utils_defines_every_redis_py_name() -> None:
    theirs = {
        name for name, value in vars(oracle_utils).items()
        if not isinstance(value, types.ModuleType)
        and (getattr(value, "__module__", None) == "redis.utils"
             or name.isupper())
    }
    theirs -= {"C"}
    missing = sorted(n for n in theirs | set(UTILS_PUBLIC) if not hasattr(utils, n))
    assert missing == []


@pytest.mark.parametrize("name", [n for n in UTILS_PUBLIC if callable(getattr(oracle_utils, n, None))])
def test_utils_signatures_match_redis_py(name: str) -> None:
    ours = inspect.signature(getattr(utils, name))
    theirs = inspect.signature(getattr(oracle_utils, name))
    assert list(ours.parameters) == list(theirs.parameters)
    for p in ours.parameters:
        assert ours.parameters[p].default == theirs.parameters[p].default
        assert ours.parameters[p].kind == theirs.parameters[p].kind


def test_availability_flags() -> None:
    assert utils.HIREDIS_AVAILABLE is True
    assert utils.SSL_AVAILABLE == oracle_utils.SSL_AVAILABLE
    assert utils.CRYPTOGRAPHY_AVAILABLE == oracle_utils.CRYPTOGRAPHY_AVAILABLE


@pytest.mark.parametrize(
    "value", [b"abc", "abc", b"\xff\xfe", "é", 5, None, bytearray(b"x")]
)
def test_str_if_bytes_and_safe_str(value: Any) -> None:
    assert utils.str_if_bytes(value) == oracle_utils.str_if_bytes(value)
    assert utils.safe_str(value) == oracle_utils.safe_str(value)


def test_dict_and_list_helpers() -> None:
    dicts = ({"a": 1}, {"b": 2}, {"a": 3})
    assert utils.dict_merge(*dicts) == oracle_utils.dict_merge(*dicts) == {"a": 3, "b": 2}
    assert utils.dict_merge() == {}
    first = {"x": 1}
    assert utils.dict_merge(first) is not first
    assert utils.list_keys_to_dict(["A", "B"], len) == oracle_utils.list_keys_to_dict(["A", "B"], len)
    res = {"n1": [1, 2, 3], "n2": [3, 4], "n3": []}
    assert sorted(utils.merge_result("KEYS", res)) == sorted(oracle_utils.merge_result("KEYS", res))
    assert isinstance(utils.merge_result("KEYS", res), list)


@pytest.mark.parametrize(
    "protocol,expected_version",
    [(None, 3), (3, 3), ("3", 3), (2, 3), ("2", 2), ("x", 3), ("", 3), (3.0, 3), (2, 2)],
)
def test_check_protocol_version(protocol: Any, expected_version: int) -> None:
    assert utils.check_protocol_version(protocol, expected_version) == (
        oracle_utils.check_protocol_version(protocol, expected_version)
    )


@pytest.mark.parametrize(
    "exc",
    [OSError(), OSError("boom"), OSError(111, "Connection refused"),
     OSError(1, 2, 3), ValueError("v")],
)
def test_format_error_message(exc: BaseException) -> None:
    assert utils.format_error_message("localhost:6379", exc) == (
        oracle_utils.format_error_message("localhost:6379", exc)
    )


@pytest.mark.parametrize(
    "v1,v2",
    [("1.0", "1.0"), ("1.0", "1.0.0"), ("7.2.4", "7.2"), ("7.2", "7.10"),
     ("6", "6.0.1"), ("10.0.0", "9.9.9"), ("1.x", "1.0")],
)
def test_compare_versions(v1: str, v2: str) -> None:
    assert _outcome(utils.compare_versions, v1, v2) == _outcome(
        oracle_utils.compare_versions, v1, v2
    )


@pytest.mark.parametrize("key", ["k", b"k", b"\xc3\xa9", 1, None, b"\xff"])
def test_ensure_string(key: Any) -> None:
    assert _outcome(utils.ensure_string, key) == _outcome(oracle_utils.ensure_string, key)


_DT = datetime.datetime(2030, 1, 2, 3, 4, 5, 678000)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"ex": 10}, {"ex": "15"}, {"ex": datetime.timedelta(seconds=90, milliseconds=400)},
     {"ex": "x"}, {"ex": 1.5}, {"ex": True}, {"px": 100}, {"px": datetime.timedelta(seconds=1.5)},
     {"px": "100"}, {"exat": 1700000000}, {"exat": _DT}, {"pxat": 1700000000000},
     {"pxat": _DT}, {"ex": 1, "px": 2}, {"px": 2, "exat": 3}, {"exat": 3, "pxat": 4},
     {"ex": None, "pxat": 9}],
)
def test_extract_expire_flags(kwargs: dict) -> None:
    ours = _outcome(utils.extract_expire_flags, **kwargs)
    theirs = _outcome(oracle_utils.extract_expire_flags, **kwargs)
    assert ours == theirs
    if ours[0] == "raise":
        with pytest.raises(exceptions.DataError):
            utils.extract_expire_flags(**kwargs)


@pytest.mark.parametrize(
    "text,width",
    [("short", 100), ("word " * 50, 100), ("a" * 300, 20), ("x  y\n z", 100), ("one two three", 8)],
)
def test_truncate_text(text: str, width: int) -> None:
    assert utils.truncate_text(text, width) == oracle_utils.truncate_text(text, width)


def test_dummy_fail() -> None:
    assert utils.dummy_fail() is None
    assert asyncio.run(utils.dummy_fail_async()) is None


def _warnings_of(call: Callable[[], Any]) -> List[Tuple[type, str, str, int]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message), os.path.basename(w.filename), w.lineno) for w in caught]


def _decorated_pair(make: Callable[[Any], Callable]) -> Tuple[Callable, Callable]:
    return make(utils), make(oracle_utils)


def test_deprecated_function_warning_matches() -> None:
    def make(mod: Any) -> Callable:
        @mod.deprecated_function(reason="use other", version="1.2")
        def old(x: int) -> int:
            return x + 1

        return old

    ours, theirs = _decorated_pair(make)
    assert ours.__name__ == "old"
    assert _warnings_of(lambda: ours(1)) == _warnings_of(lambda: theirs(1))
    [(category, message, filename, _)] = _warnings_of(lambda: ours(1))
    assert category is DeprecationWarning
    assert message == "Call to deprecated old. (use other) -- Deprecated since version 1.2."
    assert filename == "test_utils.py"

    named_ours = utils.deprecated_function(name="other")(lambda: 0)
    named_theirs = oracle_utils.deprecated_function(name="other")(lambda: 0)
    assert [w[1] for w in _warnings_of(named_ours)] == [w[1] for w in _warnings_of(named_theirs)]


def test_deprecated_function_async() -> None:
    @utils.deprecated_function(reason="r")
    async def old_async() -> int:
        return 7

    assert inspect.iscoroutinefunction(old_async)
    with pytest.warns(DeprecationWarning, match="Call to deprecated old_async"):
        assert asyncio.run(old_async()) == 7


def _call_via_helper(func: Callable, *args: Any, **kwargs: Any) -> Any:
    # deprecated_args attributes its warning to the caller's caller.
    return func(*args, **kwargs)


@pytest.mark.parametrize(
    "args_to_warn,allowed,call_args,call_kwargs",
    [
        (None, None, (1,), {}),
        (None, None, (), {}),
        (["b"], None, (1,), {"b": 2}),
        (["b"], None, (1,), {}),
        (["*"], ["a"], (1,), {}),
        (["*"], ["a"], (1, 2), {}),
        (["a", "b"], None, (), {"a": 1, "b": 2}),
    ],
)
def test_deprecated_args_warning_matches(
    args_to_warn: Any, allowed: Any, call_args: tuple, call_kwargs: dict
) -> None:
    def make(mod: Any) -> Callable:
        class K:
            @mod.deprecated_args(args_to_warn=args_to_warn, allowed_args=allowed,
                                 reason="why", version="5.3.0")
            def method(self, a: int = 0, b: int = 0) -> int:
                return a + b

        return K().method

    ours, theirs = _decorated_pair(make)
    # Both calls on one line, so the attributed line numbers are comparable.
    got, expected = _warnings_of(lambda: _call_via_helper(ours, *call_args, **call_kwargs)), _warnings_of(lambda: _call_via_helper(theirs, *call_args, **call_kwargs))  # noqa: E501
    assert got == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours(*call_args, **call_kwargs) == sum(call_args) + sum(call_kwargs.values())


def test_experimental_helpers_match() -> None:
    def make_cls(mod: Any) -> type:
        @mod.experimental
        class Thing:
            def __init__(self, v: int) -> None:
                self.v = v

        return Thing

    ours_cls, theirs_cls = _decorated_pair(make_cls)
    assert _warnings_of(lambda: ours_cls(1)) == _warnings_of(lambda: theirs_cls(1))
    with pytest.warns(UserWarning):
        assert ours_cls(5).v == 5

    def make_method(mod: Any) -> Callable:
        @mod.experimental_method()
        def shiny(x: int) -> int:
            return x

        return shiny

    ours_m, theirs_m = _decorated_pair(make_method)
    got = [w[:3] for w in _warnings_of(lambda: ours_m(1))]
    assert got == [w[:3] for w in _warnings_of(lambda: theirs_m(1))]
    assert got and got[0][0] is UserWarning

    def make_args(mod: Any) -> Callable:
        @mod.experimental_args(["flag"])
        def f(x: int, flag: bool = False) -> int:
            return x

        return f

    ours_a, theirs_a = _decorated_pair(make_args)
    assert _warnings_of(lambda: ours_a(1, flag=True)) == _warnings_of(lambda: theirs_a(1, flag=True))
    assert _warnings_of(lambda: ours_a(1)) == []

    def make_star(mod: Any) -> Callable:
        @mod.experimental_args()
        def g(x: int = 0) -> int:
            return x

        return g

    ours_s, theirs_s = _decorated_pair(make_star)
    assert _warnings_of(lambda: ours_s(1)) == _warnings_of(lambda: theirs_s(1))
    assert _warnings_of(lambda: ours_s()) == _warnings_of(lambda: theirs_s()) == []


def test_warn_helpers_match() -> None:
    for call in (
        lambda m: m.warn_deprecated("x"),
        lambda m: m.warn_deprecated("x", "r", "1"),
        lambda m: m.warn_deprecated_arg_usage(["a", "b"], "f", "r", "2"),
        lambda m: m.warn_experimental("m"),
        lambda m: m.warn_experimental_arg_usage("a", "f"),
    ):
        assert [w[:2] for w in _warnings_of(lambda: call(utils))] == [
            w[:2] for w in _warnings_of(lambda: call(oracle_utils))
        ]


def test_get_filterable_args() -> None:
    def f(self: Any, a: int, b: int = 0, *rest: Any, **kw: Any) -> None:
        pass

    for args, kwargs, allowed in [
        ((None, 1), {}, None), ((None, 1, 2, 3), {"z": 1}, ["b"]), ((None,), {"a": 1}, ["a"]),
    ]:
        assert utils._get_filterable_args(f, args, kwargs, allowed) == (
            oracle_utils._get_filterable_args(f, args, kwargs, allowed)
        )


def test_set_info_logger() -> None:
    logging.root.manager.loggerDict.pop("push_response", None)
    utils._set_info_logger()
    push_logger = logging.getLogger("push_response")
    try:
        assert push_logger.level == logging.INFO
        assert len(push_logger.handlers) == 1
        utils._set_info_logger()
        assert len(push_logger.handlers) == 1
    finally:
        push_logger.handlers.clear()
        logging.root.manager.loggerDict.pop("push_response", None)


def test_get_lib_version() -> None:
    from importlib import metadata

    import redis_native

    version = utils.get_lib_version()
    assert isinstance(version, str)
    package_version = getattr(redis_native, "NATIVE_VERSION", None)
    if package_version:
        assert version == package_version
    else:
        try:
            assert version == metadata.version("redis_native")
        except metadata.PackageNotFoundError:
            assert version == "99.99.99"


def test_get_lib_version_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    fake = types.ModuleType("redis_native")
    monkeypatch.setitem(sys.modules, "redis_native", fake)
    fake.NATIVE_VERSION = "1.2.3"  # type: ignore[attr-defined]
    assert utils.get_lib_version() == "1.2.3"
    del fake.NATIVE_VERSION  # type: ignore[attr-defined]
    monkeypatch.setattr(metadata, "version", lambda name: "4.5.6")
    assert utils.get_lib_version() == "4.5.6"

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert utils.get_lib_version() == "99.99.99"


def test_from_url_imports_client_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: List[Any] = []

    class FakeRedis:
        @classmethod
        def from_url(cls, url: str, **kwargs: Any) -> str:
            calls.append((url, kwargs))
            return "client"

    fake = types.ModuleType("redis_native.client")
    fake.Redis = FakeRedis  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "redis_native.client", fake)
    import redis_native

    monkeypatch.setattr(redis_native, "client", fake, raising=False)
    assert utils.from_url("redis://h/1", decode_responses=True) == "client"
    assert calls == [("redis://h/1", {"decode_responses": True})]


def test_pipeline_context_manager() -> None:
    events: List[str] = []

    class Pipe:
        def execute(self) -> None:
            events.append("execute")

    class Client:
        def pipeline(self) -> Pipe:
            events.append("pipeline")
            return Pipe()

    with utils.pipeline(Client()) as p:
        assert isinstance(p, Pipe)
        events.append("body")
    assert events == ["pipeline", "body", "execute"]


def test_sentinel_is_unique() -> None:
    assert utils.SENTINEL is utils.SENTINEL
    assert utils.SENTINEL is not None
    assert driver_info.SENTINEL is utils.SENTINEL  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- typing


def test_typing_defines_every_redis_py_name() -> None:
    theirs = {
        name for name in vars(oracle_typing)
        if not name.startswith("__") and name not in dir(__import__("typing"))
        and name not in {"datetime", "timedelta", "TYPE_CHECKING"}
    }
    missing = sorted(n for n in theirs if not hasattr(rn_typing, n))
    assert missing == []
    assert rn_typing.KeyT == oracle_typing.KeyT
    assert rn_typing.EncodableT == oracle_typing.EncodableT
    assert rn_typing.AnyKeyT.__constraints__ == oracle_typing.AnyKeyT.__constraints__


def test_iscoroutinefunction_helper_agrees_with_inspect() -> None:
    """The decorators tell coroutine functions apart without importing inspect
    for plain functions; anything else goes to inspect, so both always agree."""
    import functools
    import inspect as std_inspect

    async def coro(a: int) -> int:
        return a

    def plain(a: int) -> int:
        return a

    async def agen():
        yield 1

    class Holder:
        async def method(self) -> None:
            pass

    objects = [coro, plain, agen, lambda: None, functools.partial(coro, 1),
               functools.partial(plain, 1), Holder().method, Holder.method, len, Holder, 42]
    if hasattr(std_inspect, "markcoroutinefunction"):
        def marked() -> None:
            pass

        objects.append(std_inspect.markcoroutinefunction(marked))
    for obj in objects:
        assert utils._iscoroutinefunction(obj) == std_inspect.iscoroutinefunction(obj), obj


def test_version_is_redis_py_api_level(impl, redis_py):
    """``__version__`` and ``VERSION`` say what redis-py 7.4.1 says (libraries
    gate features on them); the own release is NATIVE_VERSION."""
    assert impl.__version__ == redis_py.__version__ == "7.4.1"
    assert impl.VERSION == redis_py.VERSION
    import redis_native

    assert isinstance(redis_native.NATIVE_VERSION, str) and redis_native.NATIVE_VERSION
    assert utils.get_lib_version() == redis_native.NATIVE_VERSION
