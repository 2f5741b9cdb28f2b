"""Robustness tests through the public API, against real redis-server processes.

Everything here runs against the implementation selected with ``--impl`` (the
``impl`` fixture: redis_native by default, redis-py with ``--impl=redis``), so
the same expectations are checked on both.  Timeouts are generous (shared
2-core machines); elapsed time is only ever checked as a loose "did not hang"
upper bound.
"""
import importlib
import os
import select
import signal
import socket
import threading
import time

import pytest

from servers import unused_port

PASSWORD = "s3cret-Pw!"


# ------------------------------------------------------------------ helpers
@pytest.fixture
def mod(impl):
    """Namespace with the implementation's public sub-modules."""

    class M:
        pass

    m = M()
    m.impl = impl
    m.exc = importlib.import_module(impl.__name__ + ".exceptions")
    m.retry = importlib.import_module(impl.__name__ + ".retry")
    m.backoff = importlib.import_module(impl.__name__ + ".backoff")
    m.Retry = m.retry.Retry
    m.no_retry = lambda: m.Retry(m.backoff.NoBackoff(), 0)
    return m


@pytest.fixture
def closing():
    """``closing(obj)`` registers a client/pool to be closed at teardown."""
    objs = []

    def reg(obj):
        objs.append(obj)
        return obj

    yield reg
    for o in reversed(objs):
        try:
            if hasattr(o, "close"):
                o.close()
            else:
                o.disconnect()
        except Exception:
            pass


def admin(srv, **kw):
    """A redis-py client for out-of-band administration of a private server."""
    import redis

    if srv.password is not None:
        kw.setdefault("password", srv.password)
    return redis.Redis(host=srv.host, port=srv.port, **kw)


def wait_until(pred, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


# ------------------------------------------------------------------ connection refused
def test_connection_refused_no_retry(mod, closing):
    port = unused_port()
    r = closing(mod.impl.Redis(host="127.0.0.1", port=port, retry=mod.no_retry(), socket_connect_timeout=5))
    with pytest.raises(mod.exc.ConnectionError) as ei:
        r.ping()
    assert isinstance(ei.value, mod.impl.ConnectionError)
    assert isinstance(ei.value, mod.exc.RedisError)
    # and again: the client stays usable (raises the same way, does not hang)
    with pytest.raises(mod.exc.ConnectionError):
        r.set("k", "v")


@pytest.mark.slow
def test_connection_refused_default_retry_ends(mod, closing):
    port = unused_port()
    r = closing(mod.impl.Redis(host="127.0.0.1", port=port))
    t0 = time.monotonic()
    with pytest.raises(mod.exc.ConnectionError):
        r.get("k")
    assert time.monotonic() - t0 < 60, "default retry policy did not end"


def test_connection_refused_unix_socket(mod, closing, tmp_path):
    r = closing(mod.impl.Redis(unix_socket_path=str(tmp_path / "nothing.sock"), retry=mod.no_retry()))
    with pytest.raises(mod.exc.ConnectionError):
        r.ping()


# ------------------------------------------------------------------ timeouts / stale replies
def _debug_sleep_in_thread(srv, seconds):
    """Run DEBUG SLEEP on a raw socket in a thread; returns the thread."""
    started = threading.Event()

    def run():
        s = socket.create_connection((srv.host, srv.port), timeout=seconds + 30)
        try:
            cmd = b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$%d\r\n%s\r\n" % (len(str(seconds)), str(seconds).encode())
            s.sendall(cmd)
            started.set()
            s.recv(100)
        finally:
            s.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    started.wait(10)
    time.sleep(0.2)  # let the server start sleeping
    return t


def _make_server_slow(srv, how, seconds):
    """Make ``srv`` stop answering for ``seconds``; returns a join() callable."""
    if how == "debug_sleep":
        t = _debug_sleep_in_thread(srv, seconds)
        return lambda: t.join(seconds + 30)
    a = admin(srv)
    a.client_pause(int(seconds * 1000), all=True)
    a.close()
    deadline = time.monotonic() + seconds
    return lambda: time.sleep(max(0.0, deadline - time.monotonic()) + 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["debug_sleep", "client_pause"])
def test_socket_timeout_slow_server_no_stale_reply(mod, server_factory, closing, how):
    srv = server_factory("--enable-debug-command", "yes")
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, socket_timeout=0.5, retry=mod.no_retry()))
    r.mset({"k1": "v1", "k2": "v2"})
    cid = r.client_id()
    wait = _make_server_slow(srv, how, 2)
    t0 = time.monotonic()
    with pytest.raises(mod.exc.TimeoutError):
        r.get("k1")
    assert time.monotonic() - t0 < 10
    wait()
    # the reply to GET k1 arrives late on the old socket: it must never be served
    assert r.get("k2") == b"v2"
    assert r.echo("fresh") == b"fresh"
    assert r.client_id() != cid  # the timed-out connection was dropped, not reused


@pytest.mark.slow
def test_retry_rides_out_transient_timeout(mod, server_factory, closing):
    srv = server_factory("--enable-debug-command", "yes")
    # TimeoutError is retried (it is in the default supported errors) with a backoff
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, socket_timeout=0.5,
                               retry=mod.Retry(mod.backoff.ConstantBackoff(0.5), 10)))
    r.mset({"k1": "v1", "k2": "v2"})
    wait = _make_server_slow(srv, "debug_sleep", 1)
    assert r.get("k1") == b"v1"
    wait()
    assert r.get("k2") == b"v2"
    assert r.echo("x") == b"x"


@pytest.mark.slow
def test_timeout_during_blocking_command_no_stale_reply(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9,
                               socket_timeout=0.3, retry=mod.no_retry()))
    r.delete("empty-list")
    with pytest.raises(mod.exc.TimeoutError):
        r.blpop("empty-list", timeout=1)  # server answers nil after 1 s
    time.sleep(1.5)  # the late nil reply has now arrived on the old socket
    assert r.echo("mine") == b"mine"
    assert r.rpush("q", "x") == 1
    assert r.lrange("q", 0, -1) == [b"x"]
    r.delete("q")


def test_socket_timeout_is_timeout_error_subclass_tree(mod):
    assert issubclass(mod.exc.TimeoutError, mod.exc.RedisError)
    assert issubclass(mod.exc.MaxConnectionsError, mod.exc.ConnectionError)
    assert issubclass(mod.exc.AuthenticationError, mod.exc.ConnectionError)


class _Interrupt(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", [_Interrupt, KeyboardInterrupt], ids=["exception", "KeyboardInterrupt"])
def test_signal_interrupt_mid_command_no_stale_reply(mod, redis_server, closing, exc_type):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9, retry=mod.no_retry()))
    r.delete("never-filled")
    assert r.ping()

    def handler(signum, frame):
        raise exc_type("interrupted")

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with pytest.raises(exc_type):
            r.blpop("never-filled", timeout=10)
        elapsed = time.monotonic() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert elapsed < 8, "the signal did not interrupt the blocking read"
    # the interrupted connection must not serve the BLPOP reply later
    r.lpush("never-filled", "late")
    assert r.echo("after") == b"after"
    assert r.lpop("never-filled") == b"late"


# ------------------------------------------------------------------ crash and restart
@pytest.mark.slow
def test_server_killed_then_restarted(mod, server_factory, closing):
    srv = server_factory()
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, retry=mod.no_retry(), socket_connect_timeout=5))
    assert r.set("k", "v")
    srv.kill()
    with pytest.raises(mod.exc.ConnectionError):
        r.get("k")
    with pytest.raises(mod.exc.ConnectionError):
        r.get("k")
    srv.restart()
    # same client object recovers on the next call (data is gone: no persistence)
    assert r.ping() is True
    assert r.get("k") is None
    assert r.set("k", "v2") and r.get("k") == b"v2"


@pytest.mark.slow
def test_server_restarted_between_calls_default_retry(mod, server_factory, closing):
    srv = server_factory()
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port))
    assert r.set("k", "v")
    srv.kill()
    srv.restart()
    # the pooled socket is dead; the client reconnects on its own
    assert r.get("k") is None
    assert r.incr("n") == 1


def test_server_restarted_quickly_no_retry(mod, server_factory, closing):
    # redis-py checks a pooled connection on checkout (readable socket = stale) and
    # reconnects, so even without retries the next call works at once
    srv = server_factory()
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, retry=mod.no_retry()))
    assert r.set("k", "v")
    srv.kill()
    srv.restart()
    assert r.get("k") is None


def test_connection_killed_by_server_no_retry(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9, retry=mod.no_retry()))
    cid = r.client_id()
    a = admin(redis_server)
    assert a.client_kill_filter(_id=cid) == 1
    a.close()
    time.sleep(0.1)  # let the FIN arrive
    assert r.echo("after-kill") == b"after-kill"
    assert r.client_id() != cid


@pytest.mark.slow
def test_server_killed_unix_socket(mod, server_factory, closing):
    srv = server_factory()
    r = closing(mod.impl.Redis(unix_socket_path=srv.unix_path, retry=mod.no_retry()))
    assert r.ping()
    srv.kill()
    with pytest.raises(mod.exc.ConnectionError):
        r.ping()
    srv.restart()
    assert r.ping()


# ------------------------------------------------------------------ concurrency
def test_threads_share_client(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    r.delete("counter")
    errors = []

    def work():
        try:
            for _ in range(500):
                r.incr("counter")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert errors == []
    assert int(r.get("counter")) == 20 * 500
    r.delete("counter")


def test_threads_each_get_their_own_reply(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    bad = []

    def work(n):
        for i in range(200):
            msg = "t%d-%d" % (n, i)
            got = r.echo(msg)
            if got != msg.encode():
                bad.append((msg, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert bad == []


def test_single_connection_client(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9,
                               single_connection_client=True))
    cid = r.client_id()
    assert r.connection is not None
    assert r.set("sc", "1")
    assert r.client_id() == cid
    errors = []

    def work():
        try:
            for _ in range(200):
                r.incr("sc")
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert r.get("sc") == b"801"
    assert r.client_id() == cid
    r.delete("sc")
    r.close()
    assert r.connection is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_uses_own_connection(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    r.delete("fork:parent", "fork:child")
    parent_id = r.client_id()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        status = 1
        try:
            os.close(rfd)
            child_id = r.client_id()
            ok = child_id != parent_id
            for i in range(200):
                msg = "child-%d" % i
                if r.echo(msg) != msg.encode():
                    ok = False
                r.incr("fork:child")
            os.write(wfd, b"%d %d\n" % (child_id, int(ok)))
            status = 0 if ok else 2
        except BaseException as e:  # report anything to the parent
            try:
                os.write(wfd, ("ERR %r\n" % (e,)).encode())
            except Exception:
                pass
        finally:
            os._exit(status)
    os.close(wfd)
    try:
        for i in range(200):
            msg = "parent-%d" % i
            assert r.echo(msg) == msg.encode()
            r.incr("fork:parent")
        _, status = os.waitpid(pid, 0)
        with os.fdopen(rfd, "rb") as f:
            out = f.read().decode()
    except BaseException:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        raise
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "child failed: %r" % out
    child_id = int(out.split()[0])
    assert child_id != parent_id
    # the parent's connection survived the child (the child did not shut it down)
    assert r.client_id() == parent_id
    assert r.get("fork:parent") == b"200"
    assert r.get("fork:child") == b"200"
    r.delete("fork:parent", "fork:child")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_exit_does_not_close_parent_socket(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    parent_id = r.client_id()
    pid = os.fork()
    if pid == 0:
        try:
            # drop the inherited client and pool explicitly: must not touch the parent's socket
            r.close()
            r.connection_pool.disconnect()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert r.client_id() == parent_id
    assert r.echo("still") == b"still"


# ------------------------------------------------------------------ pools
def test_connection_pool_max_connections(mod, redis_server, closing):
    pool = closing(mod.impl.ConnectionPool(host=redis_server.host, port=redis_server.port, max_connections=2))
    c1 = pool.get_connection()
    c2 = pool.get_connection()
    assert c1 is not c2
    with pytest.raises(mod.exc.MaxConnectionsError) as ei:
        pool.get_connection()
    assert isinstance(ei.value, mod.exc.ConnectionError)
    pool.release(c1)
    c3 = pool.get_connection()
    assert c3 is c1
    pool.release(c2)
    pool.release(c3)


def test_connection_pool_max_connections_via_client(mod, redis_server, closing):
    pool = closing(mod.impl.ConnectionPool(host=redis_server.host, port=redis_server.port, max_connections=1))
    r = mod.impl.Redis(connection_pool=pool)
    held = pool.get_connection()
    try:
        with pytest.raises(mod.exc.ConnectionError):
            r.ping()
    finally:
        pool.release(held)
    assert r.ping() is True


def test_blocking_pool_times_out(mod, redis_server, closing):
    pool = closing(mod.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   max_connections=1, timeout=0.2))
    c1 = pool.get_connection()
    t0 = time.monotonic()
    with pytest.raises(mod.exc.ConnectionError) as ei:
        pool.get_connection()
    assert time.monotonic() - t0 < 10
    assert str(ei.value) == "No connection available."
    pool.release(c1)
    c2 = pool.get_connection()
    assert c2 is c1
    pool.release(c2)


def test_blocking_pool_waiter_wakes_on_release(mod, redis_server, closing):
    pool = closing(mod.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   max_connections=1, timeout=20))
    c1 = pool.get_connection()
    got = []
    waiting = threading.Event()

    def waiter():
        waiting.set()
        got.append(pool.get_connection())

    t = threading.Thread(target=waiter)
    t.start()
    waiting.wait(10)
    time.sleep(0.3)
    assert got == []  # still blocked
    pool.release(c1)
    t.join(15)
    assert not t.is_alive(), "waiter did not wake up"
    assert got == [c1]
    pool.release(got[0])


def test_blocking_pool_shared_by_threads(mod, redis_server, closing):
    pool = closing(mod.impl.BlockingConnectionPool(host=redis_server.host, port=redis_server.port,
                                                   db=9, max_connections=2, timeout=30))
    r = mod.impl.Redis(connection_pool=pool)
    r.delete("bp")
    errors = []

    def work():
        try:
            for _ in range(100):
                r.incr("bp")
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert r.get("bp") == b"600"
    r.delete("bp")


# ------------------------------------------------------------------ unix socket, urls, db
def test_unix_socket(mod, redis_server, closing):
    r = closing(mod.impl.Redis(unix_socket_path=redis_server.unix_path, db=9))
    assert r.ping() is True
    assert r.set("unix", "yes")
    assert r.get("unix") == b"yes"
    assert r.connection_pool.connection_class.__name__ == "UnixDomainSocketConnection"
    info = r.client_info()
    assert info["db"] == 9
    r.delete("unix")


def test_from_url_tcp(mod, redis_server, closing):
    url = "redis://%s:%d" % (redis_server.host, redis_server.port)
    r = closing(mod.impl.from_url(url))
    assert isinstance(r, mod.impl.Redis)
    assert r.ping() is True
    r2 = closing(mod.impl.Redis.from_url(url + "/4"))
    r2.set("url-db", "4")
    assert admin(redis_server, db=4).get("url-db") == b"4"
    assert r2.client_info()["db"] == 4
    r3 = closing(mod.impl.Redis.from_url(url + "?db=5"))
    assert r3.client_info()["db"] == 5
    r2.delete("url-db")


def test_from_url_query_options(mod, redis_server, closing):
    url = ("redis://%s:%d/6?socket_timeout=2.5&decode_responses=True&max_connections=3"
           "&client_name=url-client" % (redis_server.host, redis_server.port))
    r = closing(mod.impl.Redis.from_url(url))
    kw = r.connection_pool.connection_kwargs
    assert kw["socket_timeout"] == 2.5
    assert kw["db"] == 6
    # redis-py keeps unparsed query values as strings (decode_responses='True' is truthy)
    import redis as redis_py

    o = redis_py.Redis.from_url(url)
    assert kw == o.connection_pool.connection_kwargs
    o.close()
    assert r.connection_pool.max_connections == 3
    r.set("s", "v")
    assert r.get("s") == "v"
    assert r.client_getname() == "url-client"
    names = [c.get("name") for c in admin(redis_server).client_list()]
    assert "url-client" in names
    r.delete("s")


def test_from_url_unix(mod, redis_server, closing):
    r = closing(mod.impl.from_url("unix://%s?db=2" % redis_server.unix_path))
    assert r.connection_pool.connection_class.__name__ == "UnixDomainSocketConnection"
    r.set("unix-url", "x")
    assert admin(redis_server, db=2).get("unix-url") == b"x"
    assert r.client_info()["db"] == 2
    r.delete("unix-url")


def test_from_url_password(mod, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    from urllib.parse import quote

    good = closing(mod.impl.from_url("redis://:%s@%s:%d/0" % (quote(PASSWORD), srv.host, srv.port)))
    assert good.ping() is True
    bad = closing(mod.impl.from_url("redis://:wrong@%s:%d/0" % (srv.host, srv.port), retry=mod.no_retry()))
    with pytest.raises(mod.exc.AuthenticationError):
        bad.ping()
    assert PASSWORD not in repr(good.connection_pool)
    assert quote(PASSWORD) not in repr(good.connection_pool)


def test_db_selection(mod, redis_server, closing):
    r3 = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=3))
    r3.set("dbsel", "three")
    assert admin(redis_server, db=3).get("dbsel") == b"three"
    assert admin(redis_server, db=0).get("dbsel") is None
    r4 = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db="4"))
    assert r4.get("dbsel") is None
    assert r4.client_info()["db"] == 4
    r3.delete("dbsel")


def test_client_name_in_client_list(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, client_name="robust-name"))
    assert r.ping()
    names = [c.get("name") for c in admin(redis_server).client_list()]
    assert "robust-name" in names
    assert r.client_getname() == "robust-name"  # redis-py returns str here even without decoding
    assert r.client_info()["name"] == "robust-name"


# ------------------------------------------------------------------ authentication
def test_password_auth(mod, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    good = closing(mod.impl.Redis(host=srv.host, port=srv.port, password=PASSWORD))
    assert good.ping() is True
    assert good.set("a", 1) and good.get("a") == b"1"
    wrong = closing(mod.impl.Redis(host=srv.host, port=srv.port, password="wrong", retry=mod.no_retry()))
    with pytest.raises(mod.exc.AuthenticationError):
        wrong.ping()
    none = closing(mod.impl.Redis(host=srv.host, port=srv.port, retry=mod.no_retry()))
    with pytest.raises(mod.exc.AuthenticationError):
        none.get("a")
    # good client unaffected
    assert good.get("a") == b"1"


def test_password_on_server_without_password(mod, redis_server, closing):
    # redis-py 7.4: AUTH with a password on a server without requirepass is an error
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, password="whatever",
                               retry=mod.no_retry()))
    import redis as redis_py

    o = redis_py.Redis(host=redis_server.host, port=redis_server.port, password="whatever",
                       retry=redis_py.retry.Retry(redis_py.backoff.NoBackoff(), 0))
    try:
        try:
            expected = ("ok", o.ping())
        except Exception as e:
            expected = ("raised", type(e).__name__)
    finally:
        o.close()
    try:
        got = ("ok", r.ping())
    except Exception as e:
        got = ("raised", type(e).__name__)
    assert got == expected


def test_username_password_acl(mod, server_factory, closing):
    srv = server_factory()
    a = admin(srv)
    a.acl_setuser("alice", enabled=True, passwords=["+alicepw"], keys=["*"], commands=["+@all"])
    a.close()
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, username="alice", password="alicepw",
                               decode_responses=True))
    assert r.acl_whoami() == "alice"
    assert r.set("x", 1) and r.get("x") == "1"
    bad = closing(mod.impl.Redis(host=srv.host, port=srv.port, username="alice", password="nope",
                                 retry=mod.no_retry()))
    with pytest.raises(mod.exc.AuthenticationError):
        bad.ping()
    nouser = closing(mod.impl.Redis(host=srv.host, port=srv.port, username="bob", password="alicepw",
                                    retry=mod.no_retry()))
    with pytest.raises(mod.exc.AuthenticationError):
        nouser.ping()
    url = closing(mod.impl.from_url("redis://alice:alicepw@%s:%d" % (srv.host, srv.port)))
    assert url.acl_whoami() == "alice"
    assert "alicepw" not in repr(url.connection_pool)


def test_repr_hides_password(mod, server_factory, closing):
    srv = server_factory(password=PASSWORD)
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, password=PASSWORD))
    assert r.ping()
    texts = [repr(r), repr(r.connection_pool), str(r.connection_pool)]
    conn = r.connection_pool.get_connection()
    try:
        texts += [repr(conn), str(conn)]
    finally:
        r.connection_pool.release(conn)
    bp = closing(mod.impl.BlockingConnectionPool(host=srv.host, port=srv.port, password=PASSWORD))
    texts.append(repr(bp))
    up = closing(mod.impl.ConnectionPool(path=srv.unix_path, password=PASSWORD,
                                         connection_class=mod.impl.UnixDomainSocketConnection))
    texts.append(repr(up))
    uc = up.get_connection()
    try:
        texts.append(repr(uc))
    finally:
        up.release(uc)
    for t in texts:
        assert PASSWORD not in t, t


# ------------------------------------------------------------------ idle disconnects
@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [
    {"health_check_interval": 1},
    {"health_check_interval": 1, "retry": "none"},
    {},
], ids=["health_check", "health_check_no_retry", "default_retry"])
def test_idle_connection_closed_by_server(mod, server_factory, closing, kwargs):
    srv = server_factory()
    kwargs = dict(kwargs)
    if kwargs.get("retry") == "none":
        kwargs["retry"] = mod.no_retry()
    r = closing(mod.impl.Redis(host=srv.host, port=srv.port, **kwargs))
    assert r.set("k", "v")
    old_id = r.client_id()
    a = admin(srv)
    a.config_set("timeout", 1)
    # wait until the server has dropped our idle connection
    assert wait_until(lambda: all(c["id"] != str(old_id) and c["id"] != old_id for c in a.client_list()),
                      timeout=20)
    a.close()
    assert r.get("k") == b"v"
    assert r.client_id() != old_id


# ------------------------------------------------------------------ misc public-API robustness
def test_close_and_reuse(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port))
    assert r.ping()
    r.close()
    # a closed client reconnects lazily, like redis-py
    assert r.ping()


def test_context_manager(mod, redis_server):
    with mod.impl.Redis(host=redis_server.host, port=redis_server.port) as r:
        assert r.ping()


def test_large_value_roundtrip(mod, redis_server, closing):
    r = closing(mod.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
    big = os.urandom(8 * 1024 * 1024)
    assert r.set("big", big)
    assert r.get("big") == big
    r.delete("big")


def test_many_pending_clients_closed(mod, redis_server):
    # open and close many clients: no leak of server connections
    a = admin(redis_server)
    before = len(a.client_list())
    for _ in range(50):
        c = mod.impl.Redis(host=redis_server.host, port=redis_server.port)
        c.ping()
        c.close()
    assert wait_until(lambda: len(a.client_list()) <= before + 2, timeout=15)
    a.close()
