"""Threads sharing a client, single-connection clients, and forked children,
against a real redis-server (``--impl`` selects the implementation).
"""
import os
import signal
import threading

import pytest

# ------------------------------------------------------------------ concurrency
def test_threads_share_client(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
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


def test_threads_each_get_their_own_reply(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
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


def test_single_connection_client(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9,
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
def test_fork_child_uses_own_connection(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
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
def test_fork_child_exit_does_not_close_parent_socket(api, redis_server, closing):
    r = closing(api.impl.Redis(host=redis_server.host, port=redis_server.port, db=9))
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
