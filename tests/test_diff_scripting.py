"""Differential tests: Lua scripting and functions (redis_native vs redis-py).

EVAL/EVALSHA/EVAL_RO/EVALSHA_RO with every Lua reply type, SCRIPT LOAD/EXISTS/
FLUSH/KILL, ``register_script`` (incl. NOSCRIPT recovery after SCRIPT FLUSH and
the ``client=`` override), FUNCTION LOAD/LIST/DUMP/RESTORE/DELETE/FLUSH/STATS/KILL,
FCALL and FCALL_RO.

The script cache and function libraries are server-global: plain calls run in
lock step (both sides see the same cache); multi-step function scenarios run as a
whole sequence on one side, then on the other (``diffutil.check``), each starting
with FUNCTION FLUSH.
"""
import threading
import time

import pytest

from diffutil import Raised, check, compare, run_call

NON_UTF8 = b"\xff\xfe"
UNICODE = "l\u00faa \u263e"

LUA_TYPES = [
    "return 1",
    "return -42",
    "return 3.99",  # Lua number -> integer reply (truncated)
    "return 'str'",
    "return ''",
    "return true",  # -> 1
    "return false",  # -> nil
    "return nil",
    "return {}",
    "return {1, 'two', {3, {4, 'five'}}, false, 6}",  # false -> nil, stops? (no: nil inside)
    "return {1, nil, 3}",  # array truncated at nil
    "return redis.status_reply('FINE')",
    "return {ok='STATUS'}",
    "return redis.error_reply('MY ERROR message')",
    "return {err='ERR custom'}",
    "return redis.call('PING')",
    "return redis.call('ECHO', ARGV[1])",
    "return ARGV",
    "return KEYS",
    "return #KEYS + #ARGV",
    "return redis.call('NOSUCHCMD')",
    "error('raw lua error')",
    "return redis.pcall('INCR', KEYS[1])",
    "return {redis.pcall('INCR', KEYS[1])}",
    "return 1/0",
    "return tostring(0.1 + 0.2)",
    "return string.rep('x', 100000)",
    "return '\\255\\254'",
    "this is not lua",
]


def exc_values(x):
    """Error replies nested in arrays come back as exception *instances*; compare
    them by class, class hierarchy and message."""
    if isinstance(x, BaseException):
        return ("exception", type(x).__name__,
                tuple(c.__name__ for c in type(x).__mro__), str(x))
    if isinstance(x, list):
        return [exc_values(v) for v in x]
    if isinstance(x, tuple):
        return tuple(exc_values(v) for v in x)
    return x


@pytest.mark.parametrize("script", LUA_TYPES)
def test_eval_reply_types(diff, script):
    diff("set", "strkey", "text")
    diff.cmp(exc_values, "eval", script, 1, "strkey", "arg1", b"arg2", 3, 4.5, UNICODE)
    diff.cmp(exc_values, "eval", script, 0)
    diff.cmp(exc_values, "eval_ro", script, 1, "strkey", "a")


def test_eval_keys_and_args(diff):
    diff("eval", "return redis.call('SET', KEYS[1], ARGV[1])", 1, "k", "v")
    diff("get", "k")
    diff("eval", "return redis.call('MSET', KEYS[1], ARGV[1], KEYS[2], ARGV[2])", 2,
         "a", "b", 1, NON_UTF8)
    diff("mget", "a", "b")
    diff("eval", "return {KEYS[1], ARGV[1]}", 1, NON_UTF8, NON_UTF8)
    diff("eval", "return 1", -1)  # negative numkeys
    diff("eval", "return 1", 5, "only-one")  # numkeys > args
    diff("eval", "return 1", "x")  # numkeys not a number
    diff("eval", "return 1", 0, None)  # DataError
    diff("eval", "return redis.call('INCR', KEYS[1])", 1, "k")  # wrong value type
    diff("eval", "return redis.call('LPUSH', KEYS[1], 'x')", 1, "k")  # WRONGTYPE
    diff("eval", b"return 'bytes script'", 0)


def test_eval_ro_rejects_writes(diff):
    diff("eval_ro", "return redis.call('SET', KEYS[1], 'v')", 1, "k")
    diff("exists", "k")
    diff("eval_ro", "return redis.call('GET', KEYS[1])", 1, "k")
    diff("set", "k", "v")
    diff("eval_ro", "return redis.call('GET', KEYS[1])", 1, "k")


def test_script_load_exists_evalsha(diff):
    s1 = "return {KEYS[1], ARGV[1]}"
    s2 = "return redis.call('GET', KEYS[1])"
    diff("script_flush")
    sha1 = diff("script_load", s1)
    sha2 = diff("script_load", s2)
    diff("script_load", s1)  # same sha again
    diff("script_exists", sha1)
    diff("script_exists", sha1, sha2, "0" * 40)
    diff("script_exists", "0" * 40)
    diff("script_exists")  # wrong number of args
    diff("evalsha", sha1, 1, "k", "a")
    diff("evalsha", sha1.upper(), 1, "k", "a")
    diff("evalsha", "0" * 40, 0)  # NoScriptError
    diff("evalsha", "short", 0)
    diff("evalsha_ro", sha2, 1, "k")
    diff("evalsha_ro", sha1, 1, "k", NON_UTF8)
    diff("script_load", "syntax error here")
    diff("script_load", b"return 'bytes'")
    diff("script_load", NON_UTF8)  # not lua: error


def test_script_flush_modes(diff):
    sha = diff("script_load", "return 7")
    diff("script_flush", "SYNC")
    diff("script_exists", sha)
    diff("script_load", "return 7")
    diff("script_flush", "ASYNC")
    diff("script_exists", sha)
    diff("script_flush", None)
    diff("script_flush", "async")  # DataError: case-sensitive in redis-py
    diff("script_flush", "LATER")  # DataError


def test_script_kill_not_busy(diff):
    diff("script_kill")  # NOTBUSY error
    diff("function_kill")  # NOTBUSY error


def test_script_debug(diff):
    diff("script_debug", "NO")  # NotImplementedError in redis-py


def test_register_script(diff):
    src = "redis.call('INCRBY', KEYS[1], ARGV[1]); return {KEYS[1], redis.call('GET', KEYS[1])}"

    def run(c):
        s = c.register_script(src)
        out = [type(s).__name__, s.script, s.sha, s.registered_client is c]
        out.append(s(keys=["cnt"], args=[5]))
        out.append(s(["cnt"], [2]))
        out.append(s(keys=["other"], args=[1]))
        out.append(c.script_exists(s.sha))
        return out

    diff.apply(run)


def test_register_script_noscript_recovery(diff):
    def run(c):
        s = c.register_script("return {ARGV[1], #KEYS}")
        c.script_flush()
        first = s(args=["a"])  # EVALSHA -> NOSCRIPT -> SCRIPT LOAD -> EVALSHA
        c.script_flush()
        second = s(keys=["k1", "k2"], args=[NON_UTF8])
        return [first, second, s.sha, c.script_exists(s.sha)]

    diff.apply(run)


def test_register_script_defaults_and_errors(diff):
    diff.apply(lambda c: c.register_script("return 42")())
    diff.apply(lambda c: c.register_script(b"return 'b'")(keys=[], args=[]))
    diff.apply(lambda c: c.register_script("return redis.error_reply('boom')")())
    diff.apply(lambda c: c.register_script("syntax !")())
    diff.apply(lambda c: c.register_script(UNICODE + " = 1")())
    diff.apply(lambda c: c.register_script("return ARGV[1]").sha)
    diff.apply(lambda c: c.register_script("return '%s'" % UNICODE).sha)


def test_register_script_other_client(diff, impl, redis_py, redis_server):
    """``script(client=other)`` runs on the other client (here: another db)."""

    def run(c):
        module = impl if c is diff.native else redis_py
        other = module.Redis(host=redis_server.host, port=redis_server.port, db=5,
                             decode_responses=diff.decode_responses)
        try:
            other.delete("k")
            s = c.register_script("return redis.call('INCR', KEYS[1])")
            return [s(keys=["k"], client=other), s(keys=["k"], client=other), other.get("k")]
        finally:
            other.delete("k")
            other.close()

    diff.apply(run)


def test_script_kill_busy(server_factory, impl, redis_py):
    """A busy script is killed with SCRIPT KILL; the blocked caller gets the error."""
    srv = server_factory("--busy-reply-threshold", "50")

    def scenario(module):
        runner = module.Redis(host=srv.host, port=srv.port, socket_timeout=60)
        killer = module.Redis(host=srv.host, port=srv.port, socket_timeout=60)
        box = {}

        def run():
            box["result"] = run_call(runner, "eval", ("while true do end", 0))

        t = threading.Thread(target=run)
        t.start()
        try:
            busy = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                busy = run_call(killer, "ping")
                if isinstance(busy, Raised):
                    break
                time.sleep(0.02)
            killed = run_call(killer, "script_kill")
            t.join(30)
            assert not t.is_alive()
            after = run_call(killer, "ping")
            return [busy, killed, box["result"], after]
        finally:
            runner.close()
            killer.close()

    a = scenario(impl)
    b = scenario(redis_py)
    compare(a, b, what="script kill scenario")


# ----------------------------------------------------------------------------- functions
LIB = """#!lua name=mylib
redis.register_function('echo_args', function(keys, args) return {keys, args} end)
redis.register_function('incr_key', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)
redis.register_function{function_name='ro_get', callback=function(keys, args)
  return redis.call('GET', keys[1]) end, flags={'no-writes'}}
redis.register_function('err', function(keys, args) return redis.error_reply('LIB ERR') end)
"""
LIB2 = """#!lua name=otherlib
redis.register_function('hello', function(keys, args) return 'hello ' .. (args[1] or '') end)
"""
LIB_V2 = LIB.replace("return {keys, args}", "return {args, keys}")


def _fresh(c):
    return c.function_flush()


def _run_check(diff, calls, how=None):
    """Run the sequence on the native side, then on the oracle (shared server state)."""
    out = check(diff.native, diff.oracle, [("function_flush", ())] + calls, how=how)
    diff.native_admin.flushdb()  # check() leaves the native db as the sequence left it
    return out


def test_function_load_fcall(diff):
    _run_check(diff, [
        ("function_load", (LIB,)),
        ("function_load", (LIB,)),  # already exists
        ("function_load", (LIB_V2,), {"replace": True}),
        ("function_load", (LIB2,)),
        ("function_load", ("not a library",)),
        ("function_load", ("#!lua name=bad\nsyntax error",)),
        ("fcall", ("echo_args", 2, "k1", "k2", "a1", b"a2", 3)),
        ("fcall", ("incr_key", 1, "cnt", 5)),
        ("fcall", ("incr_key", 1, "cnt", 5)),
        ("fcall", ("hello", 0, UNICODE)),
        ("fcall", ("hello", 0)),
        ("fcall", ("err", 0)),
        ("fcall", ("nosuchfunc", 0)),
        ("fcall", ("echo_args", -1)),
        ("fcall", ("echo_args", 0, NON_UTF8)),
        ("fcall_ro", ("ro_get", 1, "cnt")),
        ("fcall_ro", ("incr_key", 1, "cnt", 1)),  # not a read-only function
        ("fcall_ro", ("ro_get", 1, "nope")),
    ])


def test_function_list(diff):
    _run_check(diff, [
        ("function_list", ()),
        ("function_load", (LIB,)),
        ("function_load", (LIB2,)),
        ("function_list", ()),
        ("function_list", ("my*",)),
        ("function_list", (), {"library": "nomatch*"}),
        ("function_list", ("otherlib",), {"withcode": True}),
        ("function_list", (), {"withcode": True}),
    ])


def test_function_delete_flush(diff):
    _run_check(diff, [
        ("function_load", (LIB,)),
        ("function_load", (LIB2,)),
        ("function_delete", ("mylib",)),
        ("function_delete", ("mylib",)),  # no such library
        ("function_list", ()),
        ("function_flush", ("ASYNC",)),
        ("function_list", ()),
        ("function_load", (LIB,)),
        ("function_flush", ("SYNC",)),
        ("function_flush", ("LATER",)),  # server error
        ("function_flush", ("async",)),
        ("function_list", ()),
    ])


def test_function_dump_restore(diff):
    def dump_restore(c):
        c.function_flush()
        c.function_load(LIB)
        c.function_load(LIB2)
        payload = c.function_dump()
        out = [type(payload).__name__, len(payload) > 10]
        out.append(run_call(c, "function_restore", (payload,)))  # APPEND: libs exist -> error
        out.append(run_call(c, "function_restore", (payload, "REPLACE")))
        c.function_flush()
        out.append(run_call(c, "function_restore", (payload,)))
        out.append(sorted(lib["library_name"] for lib in c.function_list()))
        out.append(run_call(c, "function_restore", (payload, "FLUSH")))
        out.append(run_call(c, "function_restore", (payload, "BOGUS")))
        out.append(run_call(c, "function_restore", (b"garbage",)))
        out.append(run_call(c, "fcall", ("hello", 0, "x")))
        c.function_flush()
        out.append(c.function_dump() is not None)
        return out

    diff.apply(dump_restore)


def test_function_dump_is_never_decoded(diff):
    # the payload is binary: even with decode_responses it must come back as bytes
    diff.apply(lambda c: (c.function_flush(), c.function_load(LIB),
                          type(c.function_dump()).__name__)[2])


def test_function_stats(diff):
    _run_check(diff, [
        ("function_load", (LIB,)),
        ("function_stats", ()),
    ], how=lambda x: x)
    diff.shape("function_stats")


def test_scripting_wire(wire):
    wire(lambda c: c.eval("return 1", 2, "k1", "k2", "a", 1, 2.5))
    wire(lambda c: c.evalsha("a" * 40, 1, "k", "a"))
    wire(lambda c: c.eval_ro("return 1", 0))
    wire(lambda c: c.evalsha_ro("a" * 40, 0, "x"))
    wire(lambda c: c.script_exists("a" * 40, "b" * 40))
    wire(lambda c: c.script_flush("ASYNC"))
    wire(lambda c: c.script_flush())
    wire(lambda c: c.script_load("return 1"))
    wire(lambda c: c.script_kill())
    wire(lambda c: c.function_load("#!lua name=x\n", replace=True))
    wire(lambda c: c.function_list("lib*", withcode=True))
    wire(lambda c: c.function_restore(b"\x00\x01", "REPLACE"))
    wire(lambda c: c.function_delete("x"))
    wire(lambda c: c.function_flush("ASYNC"))
    wire(lambda c: c.function_stats())
    wire(lambda c: c.function_kill())
    wire(lambda c: c.fcall("f", 1, "k", "a"))
    wire(lambda c: c.fcall_ro("f", 0, "a"))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff("eval", None, 0)
    diff("eval", "return 1", None)
    diff("eval", "return 1", 1.5, "k")
    diff("eval", "return 1", 1, ["k"])
    diff("evalsha", None, 0)
    diff("script_exists", ["a" * 40])
    diff("script_load", None)
    diff("script_flush", sync_type=1)
    diff("fcall", None, 0)
    diff("fcall", "f", "x")
    diff("function_load", None)
    diff("function_list", library=None)
    diff("function_restore", None)
    diff("function_delete", None)
    diff.apply(lambda c: c.register_script(None))
    diff.apply(lambda c: c.register_script(5))
    diff.apply(lambda c: c.register_script("return 1")(keys="k"))
    diff.apply(lambda c: c.register_script("return #KEYS")(keys=("a", "b")))
    diff.apply(lambda c: c.register_script("return ARGV[1]")(args=5))


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_register_script_in_pipeline(diff, transaction):
    """A Script called with ``client=pipeline`` is loaded by the pipeline first,
    even after SCRIPT FLUSH (redis-py's Pipeline.load_scripts)."""

    def run(c):
        s = c.register_script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
        c.script_flush()
        p = c.pipeline(transaction=transaction)
        s(keys=["cnt"], args=["a"], client=p)
        p.eval("return ARGV[1]", 0, NON_UTF8)
        s(keys=["cnt"], args=[b"b"], client=p)
        res = p.execute()
        return [res, c.script_exists(s.sha)]

    diff.apply(run)
