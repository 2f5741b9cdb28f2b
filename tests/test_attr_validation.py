"""Anything reachable from Python is validated (DESIGN rule 10): whatever a
user sets, deletes or passes, the C core answers with a Python exception or a
normal result, never a crash, a hang or a SystemError (the sign of a C path
that continued with an exception set, or returned NULL without one).

Systematic: for each user-facing class over a C type (Connection,
UnixDomainSocketConnection, ConnectionPool, BlockingConnectionPool, Redis,
Redis with single_connection_client, Pipeline, PubSub) every attribute its
redis_native classes and C base define is set to None, object(), "x", -1,
1e300, or deleted, on a fresh object; then the object is used the way
applications use it (connect, send/read, get_connection/release, commands,
pipelines, pub/sub).  Separately every method of the C bases, and the ones
redis_native's classes put on top that drive the C core, is called with
wrong-typed, missing and extra arguments.  The _native module functions too.

The cases run in child processes (this file is also the child's script), so
a segfault or abort is seen as an exit status and blamed on the case that
was running; a case that stops making progress is a hang (each call gets a
SIGALRM after a second that raises, so a blocking call that honours signals
is not one).  A crashed or hung child is replaced by a new one that resumes
after the failing group of calls.
"""
from __future__ import annotations

import gc
import os
import queue
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MUTATIONS = ["None", "object()", "'x'", "-1", "1e300", "del"]
CALL_ALARM = 1.0        # seconds before SIGALRM interrupts a call in the child
SILENCE = 20.0          # seconds without progress before the parent calls it a hang

TARGETS = ["Connection", "UnixDomainSocketConnection", "ConnectionPool",
           "BlockingConnectionPool", "Redis", "Redis-single", "Pipeline", "PubSub"]

# Crashes found in files this suite's owner does not maintain, still open:
# {(target, case substring): reason}.  Matching failures are xfail, not fail.
KNOWN_PENDING: dict = {}


# ============================================================ child side
class CallTimeout(Exception):
    pass


def _child_main(argv):
    import redis_native as R
    from redis_native import _native

    host, port, unix_path, start = argv[0], int(argv[1]), argv[2], int(argv[3])

    def on_alarm(signum, frame):
        raise CallTimeout("call took more than %ss" % CALL_ALARM)

    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout

    # ---------------------------------------------------------- factories
    def conn(**kw):
        return R.Connection(host=host, port=port, socket_timeout=0.3, socket_connect_timeout=2, **kw)

    def unix_conn():
        return R.UnixDomainSocketConnection(path=unix_path, socket_timeout=0.3)

    def pool():
        return R.ConnectionPool(host=host, port=port, socket_timeout=0.3)

    def bpool():
        return R.BlockingConnectionPool(host=host, port=port, socket_timeout=0.3,
                                        max_connections=4, timeout=0.3)

    def client(**kw):
        return R.Redis(host=host, port=port, socket_timeout=0.3, **kw)

    factories = {
        "Connection": conn,
        "UnixDomainSocketConnection": unix_conn,
        "ConnectionPool": pool,
        "BlockingConnectionPool": bpool,
        "Redis": client,
        "Redis-single": lambda: client(single_connection_client=True),
        "Pipeline": lambda: client().pipeline(),
        "PubSub": lambda: client().pubsub(),
    }

    # ------------------------------------------------------- how objects get used
    def pool_with(c):
        """A pool that hands out exactly `c`."""
        p = R.ConnectionPool(host=host, port=port, socket_timeout=0.3)
        p._available_connections.append(c)
        return p

    def send_read(c):
        c.send_command("PING")
        return c.read_response()

    def packed(c):
        c.send_packed_command(c.pack_command("ECHO", "x"))
        return c.read_response()

    conn_uses = [
        ("connect", lambda c: c.connect()),
        ("send_read", send_read),
        ("can_read", lambda c: c.can_read(0)),
        ("pack_command", lambda c: c.pack_command("SET", "k", "v")),
        ("pack_commands", lambda c: c.pack_commands([("GET", "k"), ("PING",)])),
        ("send_packed", packed),
        ("_execute_pipeline", lambda c: c._execute_pipeline([(("PING",), {}), (("ECHO", "x"), {})])),
        ("check_health", lambda c: c.check_health()),
        ("client_ping", lambda c: R.Redis(connection_pool=pool_with(c)).ping()),
        ("client_pipeline", lambda c: R.Redis(connection_pool=pool_with(c)).pipeline()
         .ping().echo("x").execute()),
        ("client_single", lambda c: _single_with(R, c)),
        ("repr", repr),
        ("disconnect", lambda c: c.disconnect()),
    ]

    def get_release(p):
        c = p.get_connection()
        p.release(c)
        return c

    def pool_pubsub(p):
        ps = R.Redis(connection_pool=p).pubsub()
        try:
            ps.subscribe("attr-chan")
            return ps.get_message(timeout=0.05)
        finally:
            ps.close()

    pool_uses = [
        ("get_release", get_release),
        ("make_connection", lambda p: p.make_connection()),
        ("owns_connection", lambda p: p.owns_connection(get_release(p))),
        ("client_ping", lambda p: R.Redis(connection_pool=p).ping()),
        ("client_get", lambda p: R.Redis(connection_pool=p).get("attr-k")),
        ("client_pipeline", lambda p: R.Redis(connection_pool=p).pipeline().ping().execute()),
        ("pubsub", pool_pubsub),
        ("repr", repr),
        ("reduce", lambda p: p.__reduce__()),
        ("disconnect", lambda p: p.disconnect()),
        ("reset", lambda p: p.reset()),
        ("_checkpid", lambda p: p._checkpid()),
    ]

    def client_pubsub(r):
        ps = r.pubsub()
        try:
            ps.subscribe("attr-chan")
            return ps.get_message(timeout=0.05)
        finally:
            ps.close()

    client_uses = [
        ("ping", lambda r: r.ping()),
        ("set_get", lambda r: (r.set("attr-k", "v"), r.get("attr-k"))),
        ("execute_command", lambda r: r.execute_command("ECHO", "x")),
        ("never_decode", lambda r: r.execute_command("GET", "attr-k", NEVER_DECODE=True)),
        ("empty_response", lambda r: r.execute_command("HGET", "attr-k", "f", EMPTY_RESPONSE=0)),
        ("callback_kwargs", lambda r: r.execute_command("ZRANGE", "attr-z", 0, -1, withscores=True)),
        ("pipeline", lambda r: r.pipeline().set("attr-a", 1).get("attr-a").execute()),
        ("transaction", lambda r: r.pipeline(transaction=True).incr("attr-n").execute()),
        ("pubsub", client_pubsub),
        ("repr", repr),
        ("close", lambda r: r.close()),
    ]

    def pipe_watch(p):
        p.watch("attr-w")
        p.multi()
        p.get("attr-w")
        return p.execute()

    pipeline_uses = [
        ("ping_execute", lambda p: p.ping().execute()),
        ("set_get", lambda p: p.set("attr-k", "v").get("attr-k").execute()),
        ("error_reply", lambda p: p.execute_command("NO-SUCH").execute(raise_on_error=False)),
        ("watch_multi", pipe_watch),
        ("len", len),
        ("reset", lambda p: p.reset()),
    ]

    def ps_cycle(ps):
        ps.subscribe("attr-chan")
        msg = ps.get_message(timeout=0.05)
        ps.ping()
        ps.unsubscribe("attr-chan")
        return msg, ps.get_message(timeout=0.05)

    pubsub_uses = [
        ("subscribe_cycle", ps_cycle),
        ("psubscribe", lambda ps: (ps.psubscribe("attr-*"), ps.get_message(timeout=0.05))),
        ("get_message", lambda ps: ps.get_message(timeout=0.05)),
        ("close", lambda ps: ps.close()),
    ]

    uses = {
        "Connection": conn_uses,
        "UnixDomainSocketConnection": conn_uses,
        "ConnectionPool": pool_uses,
        "BlockingConnectionPool": pool_uses,
        "Redis": client_uses,
        "Redis-single": client_uses,
        "Pipeline": pipeline_uses,
        "PubSub": pubsub_uses,
    }

    # ------------------------------------------------------- wrong arguments
    fuzz_methods = {
        "Connection": None,      # None: every callable the classes define
        "UnixDomainSocketConnection": ["_connect_unix", "connect", "send_command",
                                       "read_response", "_execute_pipeline"],
        "ConnectionPool": None,
        "BlockingConnectionPool": ["get_connection", "release", "make_connection",
                                   "disconnect", "owns_connection"],
        "Redis": ["execute_command", "parse_response", "ping", "pipeline", "pubsub",
                  "set_response_callback", "get", "set", "close"],
        "Redis-single": ["execute_command", "parse_response", "ping", "close"],
        "Pipeline": ["execute_command", "execute", "watch", "multi", "reset",
                     "_execute_pipeline", "pipeline_execute_command", "immediate_execute_command"],
        "PubSub": ["subscribe", "psubscribe", "unsubscribe", "get_message", "ping",
                   "execute_command", "parse_response", "handle_message", "listen", "close"],
    }
    # Never: adopting or connecting arbitrary descriptors of the child itself.
    fd_safe = {"_attach_fd": [None, object(), "x", -1, 1e300, 2 ** 70]}
    variants = [
        ((), {}), ((None,), {}), ((object(),), {}), (("x",), {}), ((-1,), {}),
        ((1e300,), {}), ((float("nan"),), {}), ((2 ** 70,), {}), ((b"PING",), {}),
        ((None, None, None), {}), (("GET", object()), {}), ((), {"bogus": object()}),
        ((), {"timeout": "x"}), ((), {"disable_decoding": object()}),
        (([None],), {}), (([(None,)],), {}), (([((), {})],), {}),
        (([(("PING",), None)],), {}), (([(("PING",), {"x": 1}, 3)],), {}),
        (([("PING", "x")],), {}), (([[object()]],), {}), ((iter([1, 2]),), {}),
        (([("ECHO", 1e300, -1, None)],), {}),
    ]

    def attr_names(obj):
        names = set()
        for cls in type(obj).__mro__:
            mod = getattr(cls, "__module__", "") or ""
            if cls is object or not mod.startswith("redis_native") or \
                    mod.startswith("redis_native.commands"):
                continue
            names.update(n for n in vars(cls) if not n.startswith("__"))
        names.update(n for n in getattr(obj, "__dict__", {}) if not n.startswith("__"))
        return sorted(names)

    # ------------------------------------------------------- the case list
    groups = []      # (group id, factory, prepare(obj), [(call id, fn(obj))])
    for target in TARGETS:
        probe = factories[target]()
        names = attr_names(probe)
        for name in names:
            for mut in MUTATIONS:
                def prepare(obj, name=name, mut=mut):
                    if mut == "del":
                        delattr(obj, name)
                    else:
                        setattr(obj, name, eval(mut))
                groups.append(("%s|mutate|%s=%s" % (target, name, mut), factories[target],
                               prepare, uses[target]))
        wanted = fuzz_methods[target]
        if wanted is None:
            wanted = [n for n in names if callable(getattr(probe, n, None))
                      and not isinstance(getattr(probe, n, None), type)]
        for meth in wanted:
            if not callable(getattr(probe, meth, None)):
                continue
            if meth in fd_safe:
                calls = [("%r" % (v,), lambda o, m=meth, v=v: getattr(o, m)(v)) for v in fd_safe[meth]]
            else:
                calls = [("%r %r" % (a, k), lambda o, m=meth, a=a, k=k: getattr(o, m)(*a, **k))
                         for a, k in variants]
            groups.append(("%s|args|%s" % (target, meth), factories[target],
                           lambda obj: None, calls))
        del probe
    mod_calls = [("%r %r" % (a, k), lambda o, a=a, k=k, f=f: getattr(_native, f)(*a, **k))
                 for f in sorted(n for n in dir(_native) if not n.startswith("_") or
                                 n in ("_stands_in",))
                 if callable(getattr(_native, f)) and not isinstance(getattr(_native, f), type)
                 for a, k in variants]
    groups.append(("module|args|_native", lambda: None, lambda obj: None, mod_calls))

    out.write("N %d\n" % len(groups))
    out.flush()

    def guarded(fn, *args):
        signal.setitimer(signal.ITIMER_REAL, CALL_ALARM)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    for gi in range(start, len(groups)):
        gid, factory, prepare, calls = groups[gi]
        out.write("S %d setup %s\n" % (gi, gid))
        out.flush()
        try:
            obj = guarded(factory)
            guarded(prepare, obj)
        except SystemError as e:
            out.write("X %d setup SystemError: %s\n" % (gi, e))
            continue
        except BaseException:
            continue        # e.g. a read-only attribute: nothing to exercise
        for ci, (cid, fn) in enumerate(calls):
            out.write("S %d %d %s\n" % (gi, ci, cid))
            out.flush()
            try:
                guarded(fn, obj)
            except SystemError as e:
                out.write("X %d %d SystemError: %s\n" % (gi, ci, str(e)[:200]))
            except RecursionError as e:
                out.write("X %d %d RecursionError: %s\n" % (gi, ci, str(e)[:200]))
            except BaseException:
                pass
        out.write("E %d\n" % gi)
        out.flush()
        try:
            guarded(_cleanup, obj)
        except BaseException:
            pass
        del obj
        if gi % 50 == 0:
            gc.collect()
    out.write("DONE\n")
    out.flush()


def _single_with(R, c):
    r = R.Redis(connection_pool=R.ConnectionPool())
    r.connection = c
    return r.ping()


def _cleanup(obj):
    for name in ("disconnect", "close"):
        f = getattr(obj, name, None)
        if callable(f):
            f()


if __name__ == "__main__":
    _child_main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(0)


# ============================================================ parent side
import pytest  # noqa: E402


def _run_children(redis_server):
    """Run all groups, restarting after crashes and hangs.  Returns
    ({group id: [failure text]}, [every group id])."""
    failures: dict = {}
    names: dict = {}
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONFAULTHANDLER="1")
    start, total = 0, None
    deadline = time.monotonic() + 600
    while total is None or start < total:
        assert time.monotonic() < deadline, "the attribute matrix did not finish"
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), redis_server.host,
             str(redis_server.port), redis_server.unix_path, str(start)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: "queue.Queue" = queue.Queue()
        errs: list = []

        def pump(stream, sink):
            for line in stream:
                sink(line)
            sink(None)

        threading.Thread(target=pump, args=(proc.stdout, lines.put), daemon=True).start()
        threading.Thread(target=pump, args=(proc.stderr, errs.append), daemon=True).start()
        last = None          # (group, call) running
        finished = False
        hung = False
        while True:
            try:
                line = lines.get(timeout=SILENCE)
            except queue.Empty:
                hung = True
                proc.kill()
                break
            if line is None:
                break
            parts = line.rstrip("\n").split(" ", 3)
            if parts[0] == "N":
                total = int(parts[1])
            elif parts[0] == "S":
                last = (int(parts[1]), parts[2] + " " + (parts[3].strip() if len(parts) > 3 else ""))
                if parts[2] == "setup":
                    names[last[0]] = parts[3].strip()
            elif parts[0] == "E":
                last = None
            elif parts[0] == "X":
                failures.setdefault(names[int(parts[1])], []).append("call %s: %s" % (
                    last[1] if last else parts[2], parts[3] if len(parts) > 3 else ""))
            elif parts[0] == "DONE":
                finished = True
        rc = proc.wait()
        if finished and rc == 0:
            break
        if last is None:
            pytest.fail("child died outside any case (exit %s): %s" % (rc, "".join(
                e for e in errs if e)[-3000:]))
        gi, call = last
        what = "hang" if hung else "crash (exit %s)" % rc
        tail = "".join(e for e in errs if e)[-1500:]
        failures.setdefault(names.get(gi, str(gi)), []).append(
            "call %s: %s\n%s" % (call, what, tail))
        start = gi + 1
    return failures, [names[i] for i in sorted(names)]


@pytest.fixture(scope="module")
def matrix(redis_server):
    if not hasattr(signal, "setitimer"):
        pytest.skip("needs setitimer")
    return _run_children(redis_server)


def _check(matrix, target, kind):
    failures, names = matrix
    assert any(n.startswith(target + "|" + kind + "|") for n in names), "no cases generated"
    mine = {gid: texts for gid, texts in failures.items()
            if gid.startswith(target + "|" + kind + "|")}
    pending = {gid: texts for gid, texts in mine.items()
               if any(key[0] == target and key[1] in gid for key in KNOWN_PENDING)}
    real = {gid: texts for gid, texts in mine.items() if gid not in pending}
    assert not real, "\n".join("%s: %s" % (gid, "; ".join(t)) for gid, t in sorted(real.items()))
    if pending:
        pytest.xfail("pending in files owned elsewhere: " + ", ".join(sorted(pending)))


@pytest.mark.parametrize("target", TARGETS)
def test_attribute_set_or_deleted_then_used(matrix, target):
    _check(matrix, target, "mutate")


@pytest.mark.parametrize("target", TARGETS)
def test_methods_with_wrong_arguments(matrix, target):
    _check(matrix, target, "args")


def test_native_module_functions_with_wrong_arguments(matrix):
    _check(matrix, "module", "args")


def _reproducer_outcomes(mod, host, port):
    """The issue's two reproducers and their neighbours: the exception type
    name of each step (None: no exception)."""
    steps = []

    def step(fn):
        try:
            fn()
            steps.append(None)
        except Exception as e:
            steps.append(type(e).__name__)

    p = mod.ConnectionPool(host=host, port=port)
    step(lambda: delattr(p, "connection_class"))
    step(p.get_connection)
    step(lambda: p.connection_class)
    step(lambda: delattr(p, "connection_class"))
    p = mod.ConnectionPool(host=host, port=port)
    step(lambda: setattr(p, "connection_kwargs", None))
    step(p.get_connection)
    step(p.make_connection)
    step(lambda: delattr(p, "connection_kwargs"))
    bp = mod.BlockingConnectionPool(host=host, port=port)
    step(lambda: setattr(bp, "connection_kwargs", None))
    step(bp.make_connection)
    step(lambda: setattr(bp, "connection_kwargs", [("port", port)]))
    step(bp.make_connection)
    return steps


def test_reproducers_match_redis_py(redis_py, redis_server):
    """`del pool.connection_class` then get_connection() segfaulted;
    `pool.connection_kwargs = None` connected to localhost:6379.  Run in a
    child process (a crash must not take the test run down), compared with
    redis-py's exception types."""
    code = ("import sys; sys.path.insert(0, %r)\n"
            "import redis_native, test_attr_validation as t\n"
            "print(t._reproducer_outcomes(redis_native, %r, %d))\n"
            % (os.path.dirname(os.path.abspath(__file__)), redis_server.host, redis_server.port))
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=ROOT),
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    native = eval(out.stdout.strip().splitlines()[-1])
    expected = _reproducer_outcomes(redis_py, redis_server.host, redis_server.port)
    assert expected == [None, "AttributeError", "AttributeError", "AttributeError",
                        None, "TypeError", "TypeError", "AttributeError",
                        None, "TypeError", None, "TypeError"]
    assert native == expected


def test_connection_kwargs_changed_in_place_and_reassigned(impl, redis_server):
    p = impl.ConnectionPool(host="127.0.0.1", port=1)
    p.connection_kwargs["port"] = redis_server.port
    p.connection_kwargs["host"] = redis_server.host
    r = impl.Redis(connection_pool=p)
    assert r.ping() is True
    p.disconnect()
    p.reset()
    p.connection_kwargs = {"host": redis_server.host, "port": redis_server.port, "db": 2}
    assert r.ping() is True
    assert p.get_connection().db == 2
    # any mapping works as `**` would take it
    p.reset()

    class Mapping:
        def __init__(self, d):
            self.d = d

        def keys(self):
            return self.d.keys()

        def __getitem__(self, k):
            return self.d[k]

    p.connection_kwargs = Mapping({"host": redis_server.host, "port": redis_server.port})
    assert r.ping() is True
    p.disconnect()


def test_constructor_replacing_pool_attributes_mid_call(impl, redis_server):
    """connection_class(**connection_kwargs) may replace both attributes
    while it runs: C holds its own references."""
    p = impl.ConnectionPool(host=redis_server.host, port=redis_server.port)

    class Sneaky(impl.Connection):
        def __init__(self, **kw):
            p.connection_kwargs = {"junk": object()}
            p.connection_class = None
            super().__init__(**kw)

    p.connection_class = Sneaky
    conn = p.make_connection()
    assert isinstance(conn, Sneaky)
    conn.disconnect()


def test_client_attributes_deleted_then_used(impl, redis_py, redis_server):
    for mod in (impl, redis_py):
        for name in ("connection_pool", "connection"):
            r = mod.Redis(host=redis_server.host, port=redis_server.port)
            delattr(r, name)
            with pytest.raises(AttributeError):
                r.ping()
        r = mod.Redis(host=redis_server.host, port=redis_server.port)
        r.connection_pool = None
        with pytest.raises(AttributeError):
            r.ping()
    r = impl.Redis(host=redis_server.host, port=redis_server.port)
    del r.response_callbacks
    with pytest.raises(AttributeError):
        r.ping()
    with pytest.raises(AttributeError):
        del r.response_callbacks
    r.response_callbacks = None
    with pytest.raises(TypeError):
        r.ping()           # `name in None`, as redis-py's parse_response
    r.response_callbacks = {}
    assert r.ping() == b"PONG"
    r.close()
