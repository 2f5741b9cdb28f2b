"""Docstrings of redis_native.Redis: every public method has one, and every method
that maps to a Redis command links to its page on https://redis.io/commands/.

"Maps to a Redis command" is decided from two sources, so that neither redis-py's
gaps nor a server that lacks newer commands hide a missing link:

* redis-py 7.4.1's docstring of the same method links to redis.io/commands, or
* the method comes from one of redis-py's command mixins (``redis.commands.*``)
  and its name, read as ``COMMAND_SUB_...``, names a command or a subcommand that
  the test server lists in ``COMMAND`` (``client_kill_filter`` -> CLIENT KILL,
  ``bitfield_ro`` -> BITFIELD_RO, ``hscan_iter`` -> HSCAN) or a newer command.

``sentinel_*`` methods are not required to link: redis.io documents SENTINEL on the
Sentinel page, not under /commands/.

These are properties of redis_native only: with ``--impl=redis`` the tests skip.
"""
import inspect

import pytest

LINK = "https://redis.io/commands/"

# Method names that differ from the command they send.
ALIASES = {"delete": "DEL"}

# Commands newer than the test server (redis-py's docstrings lack their links).
EXTRA_COMMANDS = {"XACKDEL", "XDELEX", "XCFGSET", "HOTKEYS"}

# Mapped methods for which redis.io has no command page (SENTINEL subcommands are
# documented on the Sentinel page; DEBUG SEGFAULT is undocumented).
NO_COMMAND_PAGE = {"debug_segfault"}


def _native_public_methods():
    import redis_native

    out = []
    for name in sorted(dir(redis_native.Redis)):
        if name.startswith("_"):
            continue
        attr = inspect.getattr_static(redis_native.Redis, name)
        if isinstance(attr, (staticmethod, classmethod)) or callable(attr):
            out.append(name)
    return out


METHODS = _native_public_methods()


@pytest.fixture(scope="module")
def server_commands(redis_server):
    """Upper-case command names and "CMD SUB" subcommand names the server knows."""
    import redis

    c = redis.Redis(host=redis_server.host, port=redis_server.port)
    try:
        table = c.command()
    finally:
        c.close()
    names = set(EXTRA_COMMANDS)
    for name, info in table.items():
        names.add(name.upper())
        for sub in info.get("subcommands") or []:
            full = sub[0].decode() if isinstance(sub[0], bytes) else sub[0]
            names.add(full.replace("|", " ").upper())
    return names


@pytest.fixture(autouse=True)
def _native_only(impl_name):
    if impl_name != "redis_native":
        pytest.skip("docstring rules are redis_native's own (redis-py lacks some links)")


def _oracle_owner_module(name):
    import redis

    for klass in inspect.getmro(redis.Redis):
        if name in vars(klass):
            return klass.__module__
    return None


def command_for(name, server_commands):
    """The Redis command ``name`` maps to, or None."""
    import redis

    oracle = getattr(redis.Redis, name, None)
    if oracle is not None and LINK in (inspect.getdoc(oracle) or ""):
        return "(redis-py links it)"
    owner = _oracle_owner_module(name)
    if owner is None or not owner.startswith("redis.commands."):
        return None
    if name in ALIASES:
        return ALIASES[name]
    base = name[: -len("_iter")] if name.endswith("_iter") else name
    parts = base.upper().split("_")
    for k in range(len(parts), 0, -1):
        for cand in (" ".join(parts[:k]), "_".join(parts[:k])):
            if cand in server_commands:
                return cand
    return None


@pytest.mark.parametrize("name", METHODS)
def test_has_docstring(name):
    import redis_native

    doc = inspect.getdoc(getattr(redis_native.Redis, name))
    assert doc and doc.strip(), "redis_native.Redis.%s has no docstring" % name


@pytest.mark.parametrize("name", METHODS)
def test_command_link(name, server_commands):
    import redis_native

    cmd = command_for(name, server_commands)
    if cmd is None:
        pytest.skip("%s does not map to a Redis command" % name)
    if name in NO_COMMAND_PAGE:
        pytest.skip("redis.io has no command page for %s" % name)
    doc = inspect.getdoc(getattr(redis_native.Redis, name)) or ""
    assert LINK in doc, "redis_native.Redis.%s (-> %s) has no %s... link in its docstring" % (
        name, cmd, LINK)


def test_the_rule_finds_commands(server_commands):
    """Self-check of command_for (guards against a rule that maps nothing)."""
    assert command_for("client_kill_filter", server_commands) == "CLIENT KILL"
    assert command_for("bitfield_ro", server_commands) is not None
    assert command_for("hscan_iter", server_commands) is not None
    assert command_for("pipeline", server_commands) is None
    assert command_for("from_url", server_commands) is None
    assert len([m for m in METHODS if command_for(m, server_commands)]) > 300
