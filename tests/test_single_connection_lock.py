"""The lock of ``Redis(single_connection_client=True)`` (src/client.c).

It is reentrant per thread, like the ``threading.RLock`` redis-py uses: a
signal handler or a response callback running during a command may use the
same client without deadlocking.  A thread waiting for it waits with the GIL
released and can be interrupted (Ctrl-C, a raising signal handler).  In a
forked child, a lock held by a parent thread that does not exist there is
not waited for.

A hang must fail the test rather than the whole run, so the scenarios that
could hang run in a subprocess with a timeout; a crash shows up there as a
negative return code.
"""
from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60          # generous: a hang, not slowness, is what fails

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")


def run_script(impl_name, redis_server, body):
    """Run `body` in a fresh interpreter with `R` (the module under test),
    HOST and PORT defined; return the dict it prints last."""
    code = "import sys\nR = __import__(sys.argv[1])\nHOST, PORT = sys.argv[2], int(sys.argv[3])\n"
    code += textwrap.dedent(body)
    env = dict(os.environ, PYTHONPATH=ROOT)
    try:
        out = subprocess.run([sys.executable, "-c", code, impl_name, redis_server.host,
                              str(redis_server.port)],
                             env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail("hung (killed after %ss); output so far: %r %r" % (TIMEOUT, e.stdout, e.stderr))
    assert out.returncode == 0, "exit %s\n%s" % (out.returncode, out.stderr[-3000:])
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_signal_handler_uses_the_client_during_a_command(impl_name, redis_server):
    """SIGALRM during BLPOP on a single-connection client; the handler sends
    PING through the same client.  No self-deadlock."""
    if impl_name == "redis":
        pytest.skip("redis-py 7.4.1 hangs here (its socket read never returns)")
    res = run_script(impl_name, redis_server, """
        import signal
        r = R.Redis(host=HOST, port=PORT, single_connection_client=True)
        r.delete("scl:k")
        out = {}
        def handler(signum, frame):
            try:
                out["ping"] = r.ping()
            except R.RedisError as e:
                out["ping"] = type(e).__name__
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            out["blpop"] = r.blpop("scl:k", 1)
        except R.RedisError as e:
            out["blpop"] = type(e).__name__
        out["after"] = r.echo("after")
        print(out)
    """)
    assert "ping" in res                      # the handler ran and returned
    assert res["after"] == b"after"


def test_signal_handler_use_never_serves_a_stale_reply(impl_name, redis_server):
    """Same scenario: the handler's PING must not read BLPOP's reply, nor the
    BLPOP the PONG.  Either may fail with a RedisError instead."""
    if impl_name == "redis":
        pytest.skip("redis-py 7.4.1 hangs here (its socket read never returns)")
    res = run_script(impl_name, redis_server, """
        import signal
        r = R.Redis(host=HOST, port=PORT, single_connection_client=True)
        r.delete("scl:k2")
        out = {}
        def handler(signum, frame):
            try:
                out["ping"] = r.ping()
            except R.RedisError as e:
                out["ping"] = type(e).__name__
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            out["blpop"] = r.blpop("scl:k2", 1)
        except R.RedisError as e:
            out["blpop"] = type(e).__name__
        print(out)
    """)
    assert res["ping"] is True or isinstance(res["ping"], str), res
    assert res["blpop"] is None or isinstance(res["blpop"], str), res


def test_callback_reenters_the_client(impl_name, redis_server):
    """A response callback runs while the command holds the lock (inside
    parse_response in redis-py); using the client from it must work."""
    res = run_script(impl_name, redis_server, """
        r = R.Redis(host=HOST, port=PORT, single_connection_client=True)
        r.set("scl:cb", "v")
        r.set_response_callback("GET", lambda resp, **kw: (resp, r.ping(), r.echo("in")))
        out = {"get": r.get("scl:cb"), "after": r.echo("after")}
        print(out)
    """)
    assert res == {"get": (b"v", True, b"in"), "after": b"after"}


def test_waiting_thread_is_interrupted_by_a_raising_signal_handler(impl_name, redis_server):
    """A worker thread holds the lock in BLPOP 0 (forever); the main thread
    waits for the lock in PING; SIGALRM's handler raises: the exception
    propagates out of ping() while the worker still blocks.  Then the worker
    is released and the client keeps working."""
    res = run_script(impl_name, redis_server, """
        import signal, threading, time
        class Interrupted(Exception):
            pass
        r = R.Redis(host=HOST, port=PORT, single_connection_client=True)
        other = R.Redis(host=HOST, port=PORT)
        other.delete("scl:w")
        out = {}
        def worker():
            out["worker"] = r.blpop("scl:w", 0)
        t = threading.Thread(target=worker)
        t.start()
        # wait until the worker's BLPOP is on the server (it holds the lock)
        deadline = time.monotonic() + 30
        while not any(c.get("cmd") == "blpop" for c in other.client_list()):
            assert time.monotonic() < deadline, "worker never blocked"
            time.sleep(0.01)
        armed = {"on": False, "done": False}
        def handler(signum, frame):
            if armed["on"] and not armed["done"]:
                armed["done"] = True
                raise Interrupted("alarm")
        signal.signal(signal.SIGALRM, handler)
        main = threading.main_thread().ident
        stop = threading.Event()
        def kicker():
            # aimed at the main thread; repeated in case one lands early
            while not stop.wait(0.2):
                signal.pthread_kill(main, signal.SIGALRM)
        k = threading.Thread(target=kicker, daemon=True)
        k.start()
        try:
            armed["on"] = True
            out["ping"] = r.ping()
        except Interrupted:
            out["ping"] = "Interrupted"
        armed["on"] = False
        stop.set()
        k.join()
        out["worker_alive"] = t.is_alive()
        other.rpush("scl:w", "x")
        t.join(30)
        out["after"] = r.echo("after")
        print(out)
    """)
    assert res == {"ping": "Interrupted", "worker_alive": True,
                   "worker": (b"scl:w", b"x"), "after": b"after"}


def test_forked_child_does_not_wait_for_a_parent_thread(impl_name, redis_server):
    """fork() while another thread holds the lock (BLPOP 0): in the child that
    thread does not exist; its commands on the client must not deadlock."""
    if not hasattr(os, "fork"):
        pytest.skip("needs fork")
    if impl_name == "redis":
        pytest.skip("redis-py 7.4.1 deadlocks here (threading.RLock held by a parent thread)")
    res = run_script(impl_name, redis_server, """
        import os, threading, time
        r = R.Redis(host=HOST, port=PORT, single_connection_client=True)
        other = R.Redis(host=HOST, port=PORT)
        other.delete("scl:f")
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("worker", r.blpop("scl:f", 0)))
        t.start()
        deadline = time.monotonic() + 30
        while not any(c.get("cmd") == "blpop" for c in other.client_list()):
            assert time.monotonic() < deadline, "worker never blocked"
            time.sleep(0.01)
        pid = os.fork()
        if pid == 0:
            try:
                ok = r.ping() is True
            except BaseException:
                ok = False
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        out["child"] = os.waitstatus_to_exitcode(status)
        other.rpush("scl:f", "x")
        t.join(30)
        out["after"] = r.echo("after")
        print(out)
    """)
    assert res == {"child": 0, "worker": (b"scl:f", b"x"), "after": b"after"}


def test_threads_share_a_single_connection_client(impl, redis_server):
    """The lock serialises commands: every thread reads its own replies."""
    r = impl.Redis(host=redis_server.host, port=redis_server.port,
                   single_connection_client=True)
    errors = []

    def work(n):
        try:
            for i in range(200):
                v = "%d-%d" % (n, i)
                got = r.echo(v)
                if got != v.encode():
                    errors.append((v, got))
        except Exception as e:      # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert r.ping() is True
    r.close()
