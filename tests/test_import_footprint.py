"""What a bare ``import redis_native`` loads (issue #12).

The Cluster and Sentinel clients, the asyncio client, ssl, importlib.metadata,
inspect and a few other heavy modules load on first use (PEP 562 module
``__getattr__``, or an import inside the function that needs them), not on
``import redis_native``.  These tests check that structurally, in fresh
interpreters: which modules are in ``sys.modules`` after the import, and that
every lazily provided name still resolves to the same object as an explicit
import from its module.  No timing is asserted here; benchmarks/bench.py has the
IMPORT workload for that.
"""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

import redis_native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(redis_native.__file__)))

# Modules a bare ``import redis_native`` must not load.
HEAVY = [
    "redis_native.cluster",
    "redis_native.sentinel",
    "redis_native.asyncio",
    "redis_native.commands.cluster",
    "asyncio",
    "ssl",
    "importlib.metadata",
    "importlib.abc",
    "importlib.resources",
    "email",
    "zipfile",
    "urllib.parse",
    "hashlib",
    "uuid",
    "secrets",
    "dataclasses",
    "inspect",
    "logging",
    "redis_native.cache",
]


def _run(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _modules_after(statement: str) -> set:
    code = (f"import sys, json\n{statement}\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    return set(json.loads(_run(code).splitlines()[-1]))


@pytest.fixture(scope="module")
def bare_import_modules() -> set:
    return _modules_after("import redis_native")


@pytest.mark.parametrize("module", HEAVY)
def test_bare_import_does_not_load(bare_import_modules, module):
    assert module not in bare_import_modules


def test_first_command_does_not_load_them_either(redis_server):
    """The cost is not just moved to the first command: a client's first
    round trip (connect, handshake, PING) loads none of the heavy modules."""
    mods = _modules_after(
        "import redis_native\n"
        f"assert redis_native.Redis(port={redis_server.port}).ping() is True\n"
    )
    loaded = [m for m in HEAVY if m in mods]
    assert not loaded


def test_bare_import_loads_the_single_node_client(bare_import_modules):
    # the guard for the test above: the client really was imported
    for module in ("redis_native.client", "redis_native.connection",
                   "redis_native.commands.core", "redis_native._native"):
        assert module in bare_import_modules


LAZY_TOP = {
    "RedisCluster": "redis_native.cluster",
    "Sentinel": "redis_native.sentinel",
    "SentinelConnectionPool": "redis_native.sentinel",
    "SentinelManagedConnection": "redis_native.sentinel",
    "SentinelManagedSSLConnection": "redis_native.sentinel",
}


@pytest.mark.parametrize("name,module", sorted(LAZY_TOP.items()))
def test_lazy_top_level_name_resolves(name, module):
    """``redis_native.X`` after a bare import is the class of the module that
    defines it, loaded by that access."""
    code = (
        "import sys, importlib\n"
        "import redis_native\n"
        f"assert {module!r} not in sys.modules\n"
        f"value = getattr(redis_native, {name!r})\n"
        f"assert value is getattr(importlib.import_module({module!r}), {name!r})\n"
        f"assert {name!r} in vars(redis_native)\n"   # cached after the first access
        f"from redis_native import {name} as again\n"
        "assert again is value\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


@pytest.mark.parametrize("submodule", ["cluster", "sentinel", "asyncio", "client",
                                       "connection", "commands", "exceptions", "lock",
                                       "retry", "backoff", "utils", "crc", "cache",
                                       "event", "credentials", "driver_info", "typing",
                                       "_parsers"])
def test_submodules_are_attributes_after_a_bare_import(submodule):
    """As with redis-py, whose ``import redis`` loads them all:
    ``redis_native.cluster.RedisCluster`` works after ``import redis_native``."""
    code = (
        "import sys, types\n"
        "import redis_native\n"
        f"mod = getattr(redis_native, {submodule!r})\n"
        "assert isinstance(mod, types.ModuleType)\n"
        f"assert mod is sys.modules['redis_native.' + {submodule!r}]\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


def test_every_name_of_all_and_dir_resolves():
    code = (
        "import redis_native\n"
        "missing = [n for n in redis_native.__all__ if getattr(redis_native, n, None) is None]\n"
        "assert not missing, missing\n"
        "listed = dir(redis_native)\n"
        "assert set(redis_native.__all__) <= set(listed)\n"
        "for name in ('cluster', 'sentinel', 'asyncio', 'RedisCluster', 'Sentinel'):\n"
        "    assert name in listed, name\n"
        "from redis_native import *  # noqa: F403\n"
        "assert RedisCluster is redis_native.cluster.RedisCluster  # noqa: F405\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        redis_native.no_such_name  # noqa: B018
    assert not hasattr(redis_native, "no_such_name")
    # a redis-py module redis_native lacks is not an attribute either (importing
    # it raises the explanatory ModuleNotFoundError, test_missing_modules.py)
    assert not hasattr(redis_native, "multidb")
    with pytest.raises(AttributeError):
        redis_native.commands.no_such_name  # noqa: B018


def test_lazy_names_in_submodules():
    """Names that submodules provide on first access, as redis-py's modules do."""
    code = (
        "import sys, ssl\n"
        "import redis_native.connection as c, redis_native.utils as u\n"
        "import redis_native.commands as cmds, redis_native.commands.core as core\n"
        "assert c.VerifyFlags is ssl.VerifyFlags\n"
        "assert u.SSL_AVAILABLE is True and c.SSL_AVAILABLE is True\n"
        "assert isinstance(u.CRYPTOGRAPHY_AVAILABLE, bool)\n"
        "assert c.CRYPTOGRAPHY_AVAILABLE is u.CRYPTOGRAPHY_AVAILABLE\n"
        "assert isinstance(core.HAS_XXHASH, bool)\n"
        "from redis_native.commands.cluster import READ_COMMANDS, RedisClusterCommands\n"
        "assert cmds.READ_COMMANDS is READ_COMMANDS\n"
        "assert cmds.RedisClusterCommands is RedisClusterCommands\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


def test_lazily_loaded_classes_pickle_subclass_and_isinstance():
    code = (
        "import pickle\n"
        "import redis_native\n"
        "from redis_native import RedisCluster, Sentinel, RedisClusterException\n"
        "from redis_native.cluster import RedisCluster as Direct\n"
        "assert RedisCluster is Direct\n"
        "class Mine(redis_native.RedisCluster):\n"
        "    pass\n"
        "assert issubclass(Mine, Direct)\n"
        "err = pickle.loads(pickle.dumps(RedisClusterException('boom')))\n"
        "assert isinstance(err, redis_native.RedisClusterException) and err.args == ('boom',)\n"
        "assert pickle.loads(pickle.dumps(RedisCluster)) is RedisCluster\n"
        "assert pickle.loads(pickle.dumps(Sentinel)) is redis_native.sentinel.Sentinel\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


def test_pickle_by_reference_loads_a_lazy_module():
    """Unpickling a class of a lazily loaded module in a fresh interpreter
    (``import redis_native`` only) imports that module."""
    data = pickle.dumps(redis_native.cluster.ClusterNode)
    code = (
        "import pickle, sys\n"
        "import redis_native\n"
        f"cls = pickle.loads({data!r})\n"
        "assert cls.__module__ == 'redis_native.cluster', cls\n"
        "print('ok')\n"
    )
    assert _run(code).strip() == "ok"


def test_lazy_modules_load_on_first_use():
    """The deferred stdlib modules do load when the feature is used."""
    mods = _modules_after(
        "import redis_native\n"
        "redis_native.SSLConnection(host='localhost')\n"
        "redis_native.connection.parse_url('redis://localhost:1/0')\n"
        "redis_native.commands.core.Script(None, b'return 1')\n"
    )
    for module in ("ssl", "urllib.parse", "hashlib"):
        assert module in mods, module
    assert "redis_native.cluster" not in mods

