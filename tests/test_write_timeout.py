"""socket_timeout bounds a whole command write, as Python's socket.sendall()
(and so redis-py) does: the timeout is a deadline for the write, not a limit
per send() call that every bit of progress starts again.

The peer reads in bursts (4 MiB every half second), so send() makes progress
well within the timeout, and the whole 64 MiB command would go through in
about 8 s.  With a deadline the write fails with TimeoutError after about the
timeout; with a timeout per send() it would succeed.  The outcome, not a
measured time, tells the two apart; the time bound only stops a hang.
"""
import socket
import threading
import time

import pytest

TIMEOUT = 1.0
BOUND = 60.0
BURST = 4 << 20
PAUSE = 0.5


@pytest.fixture
def bursty_peer():
    """A listener whose connections read BURST bytes every PAUSE seconds."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()
    threads = []

    def drain(conn):
        conn.settimeout(0.05)
        while not stop.is_set():
            got = 0
            while got < BURST and not stop.is_set():
                try:
                    chunk = conn.recv(min(1 << 20, BURST - got))
                except socket.timeout:
                    break
                except OSError:
                    conn.close()
                    return
                if not chunk:
                    conn.close()
                    return
                got += len(chunk)
            stop.wait(PAUSE)
        conn.close()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            t = threading.Thread(target=drain, args=(conn,), daemon=True)
            t.start()
            threads.append(t)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield srv.getsockname()[1]
    stop.set()
    acceptor.join(5)
    for t in threads:
        t.join(5)
    srv.close()


@pytest.mark.slow
def test_large_write_to_a_slow_reader_times_out(lib, bursty_peer):
    r = lib.Redis(port=bursty_peer, socket_timeout=TIMEOUT, driver_info=None,
                  retry=lib.retry.Retry(lib.backoff.NoBackoff(), 0))
    outcome = []

    def write():
        started = time.monotonic()
        try:
            r.set("big", b"x" * (64 << 20))
            outcome.append(("returned", time.monotonic() - started))
        except Exception as e:  # noqa: BLE001 - the class is asserted below
            outcome.append((e, time.monotonic() - started))

    # a thread, so that the wrong behaviour fails the test instead of hanging it
    t = threading.Thread(target=write, daemon=True)
    t.start()
    t.join(BOUND)
    assert outcome, "the write was still going after %.0f s (socket_timeout %.0f s)" % (
        BOUND, TIMEOUT)
    error, elapsed = outcome[0]
    # a timeout per send() lets the write through (about 8 s at the peer's pace)
    assert isinstance(error, lib.TimeoutError), (error, elapsed)
    assert elapsed >= TIMEOUT * 0.9, elapsed
    r.close()
