"""Deeply nested replies from a real server, through redis_native and redis-py.

One hiredis 0.14 reader (the system library redis_native links) holds 8 levels
of arrays; src/reader.c chains readers for deeper replies ("Deep replies").
These are real replies that go past 8 levels: raw COMMAND DOCS, Lua tables,
and either of them inside MULTI/EXEC, which adds one more level.  The byte-level
cases (every hand-over point, random splits, errors inside deep parts, the
512-level bound) are in test_reader.py.
"""
import pytest


def unordered(value):
    """A canonical form that ignores the order of list items at every level
    (COMMAND DOCS lists commands and subcommands in hash-table order, which
    can change between two calls); exception instances become their class
    name and message."""
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value))
    if isinstance(value, list):
        return ("list", tuple(sorted((unordered(v) for v in value), key=repr)))
    return value


def depth(value):
    return 1 + max(map(depth, value), default=0) if isinstance(value, list) else 0


def lua_nested(depth, leaf="'x'"):
    return "return " + "{" * depth + leaf + "}" * depth


def deep_table_with_siblings(depth):
    # {1, {2, {... {'leaf', 'nil-stop'} ...}, 'b'}, 'a'}: siblings around the chain
    script = "'leaf'"
    for level in range(depth, 0, -1):
        script = "{%d, %s, 'v%d'}" % (level, script, level)
    return "return " + script


@pytest.mark.parametrize("depth", [7, 8, 9, 16, 17, 60, 150])
def test_eval_nested_tables(diff, depth):
    diff("eval", lua_nested(depth), 0)
    diff("eval", deep_table_with_siblings(depth), 0)


def test_eval_nested_error_reply_deep_inside(diff):
    # redis.error_reply nested in tables: an exception instance in the list
    script = "return {{{{{{{{{{redis.error_reply('ERR deep'), 'ok'}}}}}}}}}}"
    diff.cmp(unordered, "eval", script, 0)


def test_raw_command_docs(diff):
    # COMMAND DOCS nests argument blocks about 10 levels deep.  redis-py's
    # command_docs() refuses to run it, so go through a connection directly.
    def raw(client):
        pool = client.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_command("COMMAND", "DOCS")
            docs = conn.read_response()
        finally:
            pool.release(conn)
        assert depth(docs) > 8, "no longer a deep reply: pick another"
        return docs
    diff.apply(raw, how=unordered)


@pytest.mark.parametrize("transaction", [True, False])
def test_deep_replies_in_pipeline(diff, transaction):
    def run(client):
        with client.pipeline(transaction=transaction) as pipe:
            pipe.set("k", "v")
            pipe.eval(lua_nested(12), 0)
            pipe.execute_command("COMMAND", "DOCS", "GEORADIUS")
            pipe.eval(deep_table_with_siblings(20), 0)
            pipe.get("k")
            return pipe.execute()
    diff.apply(run, how=unordered)


def test_connection_stays_usable_after_deep_replies(r):
    conn = r.connection_pool.get_connection()
    r.connection_pool.release(conn)
    for n in (9, 30, 9):
        assert depth(r.eval(lua_nested(n, "7"), 0)) == n
        assert r.ping() is True
    # the same connection served them all: none was dropped as broken
    assert r.connection_pool.get_connection() is conn
