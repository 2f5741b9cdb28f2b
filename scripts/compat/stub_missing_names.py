"""Rewrite ``from redis.X import a, b`` in test files so that names
redis_native does not have become placeholder classes: the file still
collects, and only the tests using those names fail (compatibility runs only).

    REDIS_ALIAS=1 python stub_missing_names.py tests/*.py ...

Prints what it replaced: module and names.
"""
import ast
import importlib
import sys

import rn_alias  # noqa: F401  (REDIS_ALIAS=1 makes redis.X resolve to redis_native.X)


def _has(module, name):
    if module is None:
        return False
    if hasattr(module, name):
        return True
    try:
        importlib.import_module(module.__name__ + "." + name)
        return True
    except Exception:
        return False


def rewrite(path):
    src = open(path).read()
    lines = src.splitlines(keepends=True)
    edits = []
    for node in ast.parse(src).body:
        if not (isinstance(node, ast.ImportFrom) and node.module
                and (node.module == "redis" or node.module.startswith("redis."))):
            continue
        try:
            module = importlib.import_module(node.module)
        except Exception:
            module = None
        kept = [a for a in node.names if _has(module, a.name)]
        gone = [a for a in node.names if not _has(module, a.name)]
        if not gone:
            continue
        print(path, node.module, [a.name for a in gone])
        text = ""
        if kept:
            text += "from %s import %s\n" % (node.module, ", ".join(
                a.name + (" as " + a.asname if a.asname else "") for a in kept))
        for a in gone:
            text += "%s = type(%r, (), {})  # not in redis_native\n" % (a.asname or a.name, a.name)
        edits.append((node.lineno, node.end_lineno, text))
    for first, last, text in reversed(edits):
        lines[first - 1:last] = [text]
    with open(path, "w") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        rewrite(p)
