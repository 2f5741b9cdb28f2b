"""socket_timeout bounds a whole command write, as Python's socket.sendall()
(and so redis-py) does: a large command to a peer that stopped reading fails
with TimeoutError after about the timeout, not after the timeout once per
partial send()."""
import socket
import threading
import time

import pytest


@pytest.fixture
def silent_peer():
    """A listener that accepts connections and never reads from them."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            held.append(conn)

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    for c in held:
        c.close()
    srv.close()


@pytest.mark.slow
@pytest.mark.parametrize("which", ["impl", "redis_py"])
def test_large_write_to_stalled_peer_times_out_in_about_the_timeout(which, request, silent_peer):
    module = request.getfixturevalue(which)
    r = module.Redis(port=silent_peer, socket_timeout=1.5, driver_info=None,
                     retry=module.retry.Retry(module.backoff.NoBackoff(), 0))
    started = time.monotonic()
    with pytest.raises(module.TimeoutError):
        r.set("big", b"x" * (32 * 1024 * 1024))
    elapsed = time.monotonic() - started
    # about one timeout (measured: 1.6 s); timing each send() separately
    # instead takes at least twice as long (measured: 3.1 s)
    assert elapsed < 1.5 * 1.6, elapsed
    r.close()
