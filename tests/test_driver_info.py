"""redis_native.driver_info (CLIENT SETINFO library identification) against
redis-py's redis.driver_info."""
from __future__ import annotations

from typing import Any, Callable, Tuple

import pytest
import redis.driver_info as oracle_driver_info
import redis.utils as oracle_utils

from redis_native import driver_info, utils


def _outcome(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Tuple[str, Any]:
    try:
        return "ok", func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the exception is the result
        return "raise", (type(exc).__name__, str(exc))


# ----------------------------------------------------------------- driver_info


def test_driver_info_defaults() -> None:
    info = driver_info.DriverInfo()
    assert info.name == "redis_native"
    assert info.lib_version == utils.get_lib_version()
    assert info.formatted_name == "redis_native"
    assert info.upstream_drivers == []


def test_driver_info_upstream() -> None:
    info = driver_info.DriverInfo(name="lib", lib_version="1.0")
    assert info.add_upstream_driver("django-redis", "5.4.0") is info
    info.add_upstream_driver("celery", "5.3")
    assert info.formatted_name == "lib(celery_v5.3;django-redis_v5.4.0)"
    assert info.upstream_drivers == ["celery_v5.3", "django-redis_v5.4.0"]
    info.upstream_drivers.append("x")
    assert len(info.upstream_drivers) == 2


@pytest.mark.parametrize(
    "name,lib_version",
    [("n", "1"), (None, "1"), ("", "1"), ("n", None), (None, None), ("redis-py", "7.4.1")],
)
def test_driver_info_explicit_values_match_redis_py(name: Any, lib_version: Any) -> None:
    ours = driver_info.DriverInfo(name=name, lib_version=lib_version)
    theirs = oracle_driver_info.DriverInfo(name=name, lib_version=lib_version)
    assert (ours.name, ours.lib_version, ours.formatted_name) == (
        theirs.name, theirs.lib_version, theirs.formatted_name
    )
    ours.add_upstream_driver("rq", "1.0")
    theirs.add_upstream_driver("rq", "1.0")
    assert ours.formatted_name == theirs.formatted_name


@pytest.mark.parametrize(
    "drv_name,drv_version",
    [("django-redis", "5.4.0"), ("Django", "1"), ("1abc", "1"), ("a b", "1"),
     ("a(b)", "1"), ("ok", "1 0"), ("ok", "1{0}"), ("ok", "é"), (None, "1"), ("ok", None),
     ("", "1"), ("ok", ""), ("a_b-c9", "1.0-rc1+x"), ("a.b", "1")],
)
def test_add_upstream_driver_validation_matches_redis_py(drv_name: Any, drv_version: Any) -> None:
    ours = driver_info.DriverInfo(name="x", lib_version="1")
    theirs = oracle_driver_info.DriverInfo(name="x", lib_version="1")
    assert _outcome(ours.add_upstream_driver, drv_name, drv_version)[0] == (
        _outcome(theirs.add_upstream_driver, drv_name, drv_version)[0]
    )
    o = _outcome(ours.add_upstream_driver, drv_name, drv_version)
    t = _outcome(theirs.add_upstream_driver, drv_name, drv_version)
    if o[0] == "raise":
        assert o == t
    assert ours.formatted_name == theirs.formatted_name


_S = object()  # stands for "argument left out"


@pytest.mark.parametrize(
    "info,lib_name,lib_version",
    [(_S, _S, _S), (_S, None, None), (_S, "n", _S), (_S, _S, "2"), (_S, None, _S),
     (_S, _S, None), (_S, "n", "2"), (None, "n", "2"), ("bad", _S, _S), (42, None, None)],
)
def test_resolve_driver_info_matches_redis_py(info: Any, lib_name: Any, lib_version: Any) -> None:
    def call(mod: Any) -> Tuple[str, Any]:
        kwargs = {k: v for k, v in
                  (("driver_info", info), ("lib_name", lib_name), ("lib_version", lib_version))
                  if v is not _S}
        kind, value = _outcome(mod.resolve_driver_info, **kwargs)
        if kind == "ok" and value is not None:
            value = (value.name, value.lib_version, value.formatted_name)
        return kind, value

    ours, theirs = call(driver_info), call(oracle_driver_info)
    default_name = {"redis-py": "redis_native"}
    default_version = {oracle_utils.get_lib_version(): utils.get_lib_version()}
    if theirs[0] == "ok" and theirs[1] is not None:
        name, version, formatted = theirs[1]
        theirs = ("ok", (default_name.get(name, name), default_version.get(version, version),
                         default_name.get(formatted, formatted)))
    assert ours == theirs


def test_resolve_driver_info_passes_instance_through() -> None:
    info = driver_info.DriverInfo(name="a", lib_version="1")
    assert driver_info.resolve_driver_info(info, "ignored", "ignored") is info
    assert driver_info.resolve_driver_info(None) is None


# ----------------------------------------------- DriverInfo is a dataclass, as redis-py's
# (written without the dataclasses module, whose metadata is built on first access)


def _dataclass_view(cls: Any) -> Any:
    import dataclasses

    info = cls(name="lib", lib_version="1.0")
    info.add_upstream_driver("celery", "5.3")
    replaced = dataclasses.replace(info, name="other")
    return (
        dataclasses.is_dataclass(cls), dataclasses.is_dataclass(info),
        [(f.name, f.type, f.init, f.repr, f.compare, f.default_factory is list)
         for f in dataclasses.fields(cls)],
        repr(cls.__dataclass_params__),
        dataclasses.asdict(info),
        repr(info).replace(cls.__module__ + ".", ""),
        repr(replaced), replaced._upstream == info._upstream, replaced._upstream is info._upstream,
        info == cls(name="lib", lib_version="1.0", _upstream=["celery_v5.3"]), info == object(),
        cls.__hash__, cls.__match_args__,
        cls().upstream_drivers, cls()._upstream is not cls()._upstream,
    )


def test_driver_info_dataclass_behaviour_matches_redis_py() -> None:
    ours = _dataclass_view(driver_info.DriverInfo)
    theirs = _dataclass_view(oracle_driver_info.DriverInfo)
    assert ours == theirs


def test_driver_info_dataclass_subclass() -> None:
    import dataclasses

    def make(base: Any) -> Any:
        @dataclasses.dataclass
        class Extended(base):
            extra: int = 0

        value = Extended(name="x", lib_version="2", extra=3)
        return ([f.name for f in dataclasses.fields(Extended)], value.extra, value.formatted_name,
                repr(value).split("(", 1)[1])

    assert make(driver_info.DriverInfo) == make(oracle_driver_info.DriverInfo)

    class Plain(driver_info.DriverInfo):
        pass

    assert [f.name for f in dataclasses.fields(Plain())] == ["name", "lib_version", "_upstream"]


def test_driver_info_match_statement() -> None:
    match driver_info.DriverInfo(name="a", lib_version="1"):
        case driver_info.DriverInfo("a", "1", []):
            matched = True
        case _:
            matched = False
    assert matched
