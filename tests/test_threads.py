"""Cross-thread use of one connection: a disconnect() from another thread must
wake a thread blocked in I/O on it (ConnectionError, never a hang), and the
connection must then be usable again, for redis_native as for redis-py."""
import threading
import time

import pytest


@pytest.mark.parametrize("which", ["impl", "redis_py"])
def test_disconnect_wakes_blocked_reader(which, request, redis_server):
    module = request.getfixturevalue(which)
    from importlib import import_module

    retry_mod = import_module(module.__name__ + ".retry")
    backoff_mod = import_module(module.__name__ + ".backoff")
    conn = module.Connection(host=redis_server.host, port=redis_server.port,
                             retry=retry_mod.Retry(backoff_mod.NoBackoff(), 0))
    conn.connect()
    conn.send_command("BLPOP", "rn-threads-never", 0)
    errors = []

    def reader():
        try:
            conn.read_response()
        except Exception as e:  # noqa: BLE001 - the class is asserted below
            errors.append(e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(0.3)
    conn.disconnect()
    t.join(10)
    assert not t.is_alive(), "blocked reader was not woken by disconnect()"
    assert len(errors) == 1 and isinstance(errors[0], module.ConnectionError), errors
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    conn.disconnect()


def test_many_threads_closing_and_using_one_pool(impl, redis_server):
    """Threads hammer one client while another keeps disconnecting the pool:
    every command either succeeds with its own reply or raises
    ConnectionError; none ever gets another command's reply."""
    r = impl.Redis(host=redis_server.host, port=redis_server.port, max_connections=4,
                   retry=impl.retry.Retry(impl.backoff.NoBackoff(), 3)
                   if hasattr(impl, "retry") else None)
    stop = time.monotonic() + 3
    bad = []

    def worker(n):
        i = 0
        while time.monotonic() < stop:
            i += 1
            token = f"{n}-{i}"
            try:
                got = r.echo(token)
            except (impl.ConnectionError, impl.exceptions.MaxConnectionsError):
                continue
            if got != token.encode():
                bad.append((token, got))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    while time.monotonic() < stop:
        r.connection_pool.disconnect()
        time.sleep(0.01)
    for t in threads:
        t.join(10)
    r.close()
    assert not bad, bad[:5]
