"""The package's modules are honest: every class lives in the module its
``__module__`` names (so ``inspect.getsource`` finds it), each module imports on
its own in a fresh interpreter, and the module-level import graph has no cycle.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from typing import Dict, List, Set, Tuple

import pytest

import redis_native

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(redis_native.__file__)))
PACKAGE_DIR = os.path.dirname(os.path.abspath(redis_native.__file__))


def _modules() -> List[str]:
    names = ["redis_native"]
    for info in pkgutil.walk_packages(redis_native.__path__, "redis_native."):
        names.append(info.name)
    return sorted(names)


MODULES = _modules()

# Imports done inside a function, on purpose: (importing module, imported module).
DEFERRED_IMPORTS = {
    # redis.utils.from_url builds a client; the client module imports utils
    ("redis_native.utils", "redis_native.client"),
    # the same for redis.asyncio.utils.from_url and the asyncio client
    ("redis_native.asyncio.utils", "redis_native.asyncio.client"),
    # the cluster mixins (RedisClusterCommands, READ_COMMANDS) load on first use
    # (PEP 562 __getattr__), so that ``import redis_native`` does not load them;
    # commands.cluster itself never imports the commands package's __init__ names
    ("redis_native.commands", "redis_native.commands.cluster"),
    # the redis.cache names that client and connection re-export load on first
    # access (client-side caching needs RESP3; a bare import does not load them)
    ("redis_native.client", "redis_native.cache"),
    ("redis_native.connection", "redis_native.cache"),
    ("redis_native.cluster", "redis_native.cache"),
}


def _public_classes() -> List[Tuple[str, str, type]]:
    out = []
    for modname in MODULES:
        mod = importlib.import_module(modname)
        for name, value in sorted(vars(mod).items()):
            if name.startswith("_") or not isinstance(value, type):
                continue
            if not (value.__module__ or "").startswith("redis_native"):
                continue  # stdlib or typing names a module re-exports
            if value.__module__ == "redis_native._native":
                continue  # C types have no Python source
            out.append((modname, name, value))
    return out


@pytest.mark.parametrize("modname,name,cls",
                         [pytest.param(m, n, c, id=f"{m}.{n}") for m, n, c in _public_classes()])
def test_getsource_of_every_public_class(modname, name, cls):
    source = inspect.getsource(cls)
    assert source.lstrip().startswith(("class ", "@")), source[:80]
    # the module the class claims is the file the source came from
    defined_in = importlib.import_module(cls.__module__)
    assert inspect.getsourcefile(cls) == inspect.getsourcefile(defined_in)


@pytest.mark.parametrize("modname", MODULES)
def test_module_imports_alone_in_a_fresh_interpreter(modname):
    code = f"import importlib; importlib.import_module({modname!r}); print('ok')"
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -- the import graph --------------------------------------------------------------
def _module_file(modname: str) -> str:
    spec = importlib.util.find_spec(modname)
    return spec.origin if spec is not None else ""


def _resolve(modname: str, node: ast.ImportFrom) -> List[str]:
    """The redis_native modules an ``from ... import ...`` statement loads."""
    is_package = _module_file(modname).endswith("__init__.py")
    if node.level:
        base = modname.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("redis_native"):
        return []
    out = [target]
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if importlib.util.find_spec(target) is not None and _is_module(sub):
            out.append(sub)
    return out


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _with_parents(target: str) -> List[str]:
    """Importing a.b.c runs a.b's __init__ too (the top package's aside: it only
    gathers names, every module of it is imported through it)."""
    parts = target.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts) + 1)]


def _imports(modname: str) -> Tuple[Set[str], Set[str]]:
    """(module-level imports, imports inside functions) of redis_native modules."""
    path = _module_file(modname)
    if not path.endswith(".py"):
        return set(), set()
    tree = ast.parse(open(path, encoding="utf-8").read())
    top: Set[str] = set()
    deferred: Set[str] = set()

    # a package is being initialised while its own modules load
    own_packages = set(_with_parents(modname))

    def targets(node) -> List[str]:
        if isinstance(node, ast.ImportFrom):
            found = _resolve(modname, node)
        else:
            found = [a.name for a in node.names if a.name.startswith("redis_native")]
        return [p for t in found for p in _with_parents(t)
                if p == t or p not in own_packages]

    def visit(body, into):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                into.update(targets(node))
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                visit(node.body, set() if test.endswith("TYPE_CHECKING") else into)
                visit(node.orelse, into)
            elif isinstance(node, ast.Try):
                for part in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                    visit(part, into)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        deferred.update(targets(sub))

    visit(tree.body, top)
    top.discard(modname)
    deferred.discard(modname)
    return top, deferred


GRAPH: Dict[str, Set[str]] = {}
DEFERRED: Dict[str, Set[str]] = {}
for _m in MODULES:
    GRAPH[_m], DEFERRED[_m] = _imports(_m)


def test_module_level_imports_have_no_cycle():
    state: Dict[str, int] = {}   # 1: on the current path, 2: done
    path: List[str] = []

    def walk(m: str) -> None:
        state[m] = 1
        path.append(m)
        for dep in sorted(GRAPH.get(m, ())):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(dep) is None:
                walk(dep)
        path.pop()
        state[m] = 2

    for m in MODULES:
        if m != "redis_native" and m not in state:
            walk(m)


def test_deferred_imports_are_the_listed_ones():
    """A function-level import of another redis_native module hides a cycle from
    the test above; the only ones allowed are listed, with their reason."""
    found = {(m, d) for m, deps in DEFERRED.items() for d in deps if d != "redis_native"}
    assert found == DEFERRED_IMPORTS


def test_the_graph_is_seen():
    """Guards the test above: the walker does find the known edges."""
    assert "redis_native.connection" in GRAPH["redis_native.client"]
    assert "redis_native.commands.core" in GRAPH["redis_native.client"]
    assert "redis_native.exceptions" in GRAPH["redis_native._parsers.encoders"]
    assert "redis_native.client" in DEFERRED["redis_native.utils"]


def test_client_classes_live_in_client():
    """Where redis-py has them: repr, pickling by reference and mock.patch paths
    name redis_native.client."""
    from redis_native import client

    for name in ("Redis", "Pipeline", "PubSub", "PubSubWorkerThread", "Monitor"):
        assert getattr(client, name).__module__ == "redis_native.client", name


def test_support_modules_never_import_redis():
    """The modules below the client never need redis-py (the oracle is a test
    dependency only)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'redis' or name.startswith('redis.'):\n"
        "            raise ImportError('redis must not be imported: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib\n"
        "for m in ('retry', 'backoff', 'credentials', 'utils', 'typing', 'driver_info', 'event',\n"
        "          'cache', 'client', 'connection', 'lock'):\n"
        "    importlib.import_module('redis_native.' + m)\n"
        "assert not any(n == 'redis' or n.startswith('redis.') for n in sys.modules)\n"
        "print('clean')\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"
