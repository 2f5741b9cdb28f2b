"""Connection failures through the public API, against real redis-server
processes: refused connections, timeouts (no stale reply afterwards), signals
during a command, servers killed and restarted, idle connections the server
closed.

Everything runs against the implementation selected with ``--impl``, so the
same expectations are checked on redis-py.  Elapsed time is only ever checked
as a loose "did not hang" bound that holds on a loaded 2-core machine.
"""
import signal
import socket
import threading
import time

import pytest

from servers import unused_port, wait_until

# ------------------------------------------------------------------ connection refused
def test_connection_refused_no_retry(api, closing):
    port = unused_port()
    r = closing(api.impl.Redis(host="127.0.0.1", port=port, retry=api.no_retry(), socket_connect_timeout=5))
    with pytest.raises(api.exc.ConnectionError) as ei:
        r.ping()
    assert isinstance(ei.value, api.impl.ConnectionError)
    assert isinstance(ei.value, api.exc.RedisError)
    # and again: the client stays usable (raises the same way, does not hang)
    with pytest.raises(api.exc.ConnectionError):
        r.set("k", "v")


@pytest.mark.slow
def test_connection_refused_default_retry_ends(api, closing):
    port = unused_port()
    r = closing(api.impl.Redis(host="127.0.0.1", port=port))
    t0 = time.monotonic()
    with pytest.raises(api.exc.ConnectionError):
        r.get("k")
    assert time.monotonic() - t0 < 60, "default retry policy did not end"


def test_connection_refused_unix_socket(api, closing, tmp_path):
    r = closing(api.impl.Redis(unix_socket_path=str(tmp_path / "nothing.sock"), retry=api.no_retry()))
    with pytest.raises(api.exc.ConnectionError):
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


def _make_server_slow(admin, srv, how, seconds):
    """Make ``srv`` stop answering for ``seconds``; returns a join() callable."""
    if how == "debug_sleep":
        t = _debug_sleep_in_thread(srv, seconds)
        return lambda: t.join(seconds + 30)
    admin(srv).client_pause(int(seconds * 1000), all=True)
    deadline = time.monotonic() + seconds
    return lambda: time.sleep(max(0.0, deadline - time.monotonic()) + 0.3)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["debug_sleep", "client_pause"])
def test_socket_timeout_slow_server_no_stale_reply(api, server_factory, closing, admin, how):
    srv = server_factory("--enable-debug-command", "yes")
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, socket_timeout=0.5, retry=api.no_retry()))
    r.mset({"k1": "v1", "k2": "v2"})
    cid = r.client_id()
    wait = _make_server_slow(admin, srv, how, 2)
    t0 = time.monotonic()
    with pytest.raises(api.exc.TimeoutError):
        r.get("k1")
    assert time.monotonic() - t0 < 10
    wait()
    # the reply to GET k1 arrives late on the old socket: it must never be served
    assert r.get("k2") == b"v2"
    assert r.echo("fresh") == b"fresh"
    assert r.client_id() != cid  # the timed-out connection was dropped, not reused


@pytest.mark.slow
def test_retry_rides_out_transient_timeout(api, server_factory, closing, admin):
    srv = server_factory("--enable-debug-command", "yes")
    # TimeoutError is retried (it is in the default supported errors) with a backoff
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, socket_timeout=0.5,
                               retry=api.Retry(api.backoff.ConstantBackoff(0.5), 10)))
    r.mset({"k1": "v1", "k2": "v2"})
    wait = _make_server_slow(admin, srv, "debug_sleep", 1)
    assert r.get("k1") == b"v1"
    wait()
    assert r.get("k2") == b"v2"
    assert r.echo("x") == b"x"


@pytest.mark.slow
def test_timeout_during_blocking_command_no_stale_reply(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9,
                               socket_timeout=0.3, retry=api.no_retry()))
    r.delete("empty-list")
    with pytest.raises(api.exc.TimeoutError):
        r.blpop("empty-list", timeout=1)  # server answers nil after 1 s
    time.sleep(1.5)  # the late nil reply has now arrived on the old socket
    assert r.echo("mine") == b"mine"
    assert r.rpush("q", "x") == 1
    assert r.lrange("q", 0, -1) == [b"x"]
    r.delete("q")


def test_socket_timeout_is_timeout_error_subclass_tree(api):
    assert issubclass(api.exc.TimeoutError, api.exc.RedisError)
    assert issubclass(api.exc.MaxConnectionsError, api.exc.ConnectionError)
    assert issubclass(api.exc.AuthenticationError, api.exc.ConnectionError)


class _Interrupt(Exception):
    pass


@pytest.mark.slow
@pytest.mark.parametrize("exc_type", [_Interrupt, KeyboardInterrupt], ids=["exception", "KeyboardInterrupt"])
def test_signal_interrupt_mid_command_no_stale_reply(api, redis_server, closing, exc_type):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals need the main thread")
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9, retry=api.no_retry()))
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
def test_server_killed_then_restarted(api, server_factory, closing):
    srv = server_factory()
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, retry=api.no_retry(), socket_connect_timeout=5))
    assert r.set("k", "v")
    srv.kill()
    with pytest.raises(api.exc.ConnectionError):
        r.get("k")
    with pytest.raises(api.exc.ConnectionError):
        r.get("k")
    srv.restart()
    # same client object recovers on the next call (data is gone: no persistence)
    assert r.ping() is True
    assert r.get("k") is None
    assert r.set("k", "v2") and r.get("k") == b"v2"


@pytest.mark.slow
def test_server_restarted_between_calls_default_retry(api, server_factory, closing):
    srv = server_factory()
    r = closing(api.impl.Redis(host=srv.host, port=srv.port))
    assert r.set("k", "v")
    srv.kill()
    srv.restart()
    # the pooled socket is dead; the client reconnects on its own
    assert r.get("k") is None
    assert r.incr("n") == 1


def test_server_restarted_quickly_no_retry(api, server_factory, closing):
    # redis-py checks a pooled connection on checkout (readable socket = stale) and
    # reconnects, so even without retries the next call works at once
    srv = server_factory()
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, retry=api.no_retry()))
    assert r.set("k", "v")
    srv.kill()
    srv.restart()
    assert r.get("k") is None


def test_connection_killed_by_server_no_retry(api, redis_server, closing, admin):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9, retry=api.no_retry()))
    cid = r.client_id()
    a = admin(redis_server)
    assert a.client_kill_filter(_id=cid) == 1
    a.close()
    time.sleep(0.1)  # let the FIN arrive
    assert r.echo("after-kill") == b"after-kill"
    assert r.client_id() != cid


@pytest.mark.slow
def test_server_killed_unix_socket(api, server_factory, closing):
    srv = server_factory()
    r = closing(api.impl.Redis(unix_socket_path=srv.unix_path, retry=api.no_retry()))
    assert r.ping()
    srv.kill()
    with pytest.raises(api.exc.ConnectionError):
        r.ping()
    srv.restart()
    assert r.ping()


# ------------------------------------------------------------------ idle disconnects
@pytest.mark.slow
@pytest.mark.parametrize("kwargs", [
    {"health_check_interval": 1},
    {"health_check_interval": 1, "retry": "none"},
    {},
], ids=["health_check", "health_check_no_retry", "default_retry"])
def test_idle_connection_closed_by_server(api, server_factory, closing, kwargs, admin):
    srv = server_factory()
    kwargs = dict(kwargs)
    if kwargs.get("retry") == "none":
        kwargs["retry"] = api.no_retry()
    r = closing(api.impl.Redis(host=srv.host, port=srv.port, **kwargs))
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
