"""Every redis-py module without a redis_native counterpart fails to import
with a ModuleNotFoundError that says why, and the table of such modules lists
exactly the ones that really are missing."""
import importlib
import importlib.machinery
import pkgutil
import subprocess
import sys

import pytest

import redis_native
from redis_native import _missing


def _redis_py_modules():
    import redis
    return sorted(m.name for m in pkgutil.walk_packages(redis.__path__, "redis."))


def _exists(name):
    """Found by the normal machinery (not by the missing-module finder)."""
    parent, _, leaf = name.rpartition(".")
    try:
        pkg = importlib.import_module(parent)
    except ImportError:
        return False
    path = getattr(pkg, "__path__", None)
    return path is not None and importlib.machinery.PathFinder.find_spec(name, path) is not None


@pytest.mark.parametrize("redis_name", _redis_py_modules())
def test_redis_py_module_imports_or_says_why(redis_name):
    name = "redis_native" + redis_name[len("redis"):]
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as e:
        reason = _missing.reason_for(name)
        assert reason is not None, f"{name} is missing but not in _missing.MISSING"
        assert reason in str(e)
        # a submodule of a missing package fails at the package itself
        assert name == e.name or name.startswith(e.name + "."), (name, e.name)
        assert "redis" + e.name[len("redis_native"):] in str(e)
    else:
        assert _missing.reason_for(name) is None, f"{name} exists: remove it from MISSING"


@pytest.mark.parametrize("name", sorted(_missing.MISSING))
def test_every_listed_module_is_really_missing(name):
    assert not _exists(name), f"{name} exists now: remove it from _missing.MISSING"


def test_import_error_fallbacks_keep_working():
    try:
        from redis_native.multidb.client import MultiDBClient  # noqa: F401
    except ImportError as e:
        assert "multi-database" in str(e)
    else:
        pytest.fail("redis_native.multidb imported")


def test_unrelated_imports_are_untouched():
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("redis_native.no_such_module")
    assert "has no redis_native counterpart" not in str(info.value)
    code = "import redis_native, sys; import json; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
