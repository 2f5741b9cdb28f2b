"""Make ``import redis...`` load redis_native (compatibility runs only).

Used by scripts/compat/run-redis-py-suite to run redis-py's own test suite (and
other libraries' suites) against redis_native: as a pytest plugin
(``-p rn_alias``) or from a ``sitecustomize.py`` (reaches subprocesses too).
Active only when the environment has ``REDIS_ALIAS=1``; it must be imported
before anything imports ``redis``.

``redis.X`` resolves to ``redis_native.X``.  A module redis_native does not
have is not found, except ``redis.auth.*`` (plain interfaces redis-py's test
configuration imports), which is loaded from the real redis-py in
``REDIS_PY_SITE`` (the site-packages directory holding it).
"""
import importlib
import importlib.util
import os
import sys


class _Alias:
    """Loader: the module is the already imported redis_native one."""

    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _RedisToNative:
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "redis" and not fullname.startswith("redis."):
            return None
        native = "redis_native" + fullname[len("redis"):]
        try:
            found = importlib.util.find_spec(native)
        except (ImportError, AttributeError):
            found = None
        if found is not None:
            return importlib.util.spec_from_loader(fullname, _Alias(native))
        site = os.environ.get("REDIS_PY_SITE")
        if site and fullname.startswith("redis.auth"):
            where = os.path.join(site, *fullname.split("."))
            if os.path.isdir(where):
                return importlib.util.spec_from_file_location(
                    fullname, os.path.join(where, "__init__.py"),
                    submodule_search_locations=[where])
            if os.path.exists(where + ".py"):
                return importlib.util.spec_from_file_location(fullname, where + ".py")
        return None


if os.environ.get("REDIS_ALIAS") == "1":
    sys.meta_path.insert(0, _RedisToNative())
    import redis

    assert redis.__name__ == "redis_native", redis.__name__
