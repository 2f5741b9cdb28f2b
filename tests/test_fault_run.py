"""Fault run: every reply belongs to its own command, whatever goes wrong.

A TCP proxy sits between the client and a real redis-server.  While several
threads run commands through one client (plain commands, pipelines,
transactions), a fault thread keeps breaking things at random: the proxy resets
every connection (RST), the server is frozen with SIGSTOP (replies arrive late,
after the client timed out), or killed with SIGKILL and restarted.  Meanwhile
a no-op SIGALRM handler fires every few milliseconds, so system calls are
interrupted all the time.

Commands fail (ConnectionError, TimeoutError) and that is fine; what must
never happen is a reply handed to the wrong command, a crash or a hang.  ECHO
with a unique token makes every reply identify its command.
"""
from __future__ import annotations

import faulthandler
import os
import random
import signal
import socket
import struct
import threading
import time
import uuid

import pytest

from servers import RedisServer, free_port

DURATION = 6.0


class ResettingProxy:
    """Forward 127.0.0.1:<port> to a target that can change; reset on demand."""

    def __init__(self, target):
        self.target = target
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.pairs = []
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(self.target, timeout=2)
                s.settimeout(None)
            except OSError:
                self._rst(c)
                continue
            with self.lock:
                self.pairs.append((c, s))
            threading.Thread(target=self._pump, args=(c, s), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def _rst(sock):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass

    def reset_all(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for c, s in pairs:
            self._rst(c)
            self._rst(s)

    def stop(self):
        self.stopped = True
        try:
            self.lsock.close()
        except OSError:
            pass
        self.reset_all()


def _restart(server: RedisServer) -> None:
    server.proc.kill()
    server.proc.wait()
    server.port = free_port(server.host)
    server._spawn()
    server._wait_ready()


def _faults(server, proxy, stop, log):
    rnd = random.Random(1234)
    while not stop.is_set():
        time.sleep(rnd.uniform(0.15, 0.4))
        what = rnd.choice(["reset", "reset", "freeze", "kill"])
        log.append(what)
        if what == "reset":
            proxy.reset_all()
        elif what == "freeze":
            os.kill(server.proc.pid, signal.SIGSTOP)
            time.sleep(rnd.uniform(0.2, 0.8))
            os.kill(server.proc.pid, signal.SIGCONT)
        else:
            _restart(server)
            proxy.target = (server.host, server.port)
            proxy.reset_all()


def _worker(r, errors_ok, stop, stats, wrong, ident):
    rnd = random.Random(ident)
    while not stop.is_set():
        kind = rnd.choice(["echo", "echo", "pipeline", "transaction"])
        tokens = [f"{ident}:{uuid.uuid4().hex}" for _ in range(rnd.randint(1, 20))]
        try:
            if kind == "echo":
                got = [r.echo(tokens[0])]
                want = [tokens[0].encode()]
            else:
                with r.pipeline(transaction=kind == "transaction") as p:
                    for t in tokens:
                        p.echo(t)
                    got = p.execute()
                want = [t.encode() for t in tokens]
        except errors_ok:
            stats["errors"] += 1
            continue
        except Exception as e:          # anything else is a bug in the client
            wrong.append(f"{kind}: unexpected {type(e).__name__}: {e}")
            continue
        if got != want:
            wrong.append(f"{kind}: sent {want[:3]}..., got {got[:3]}...")
        stats["ok"] += 1


@pytest.mark.slow
def test_every_reply_goes_to_its_own_command(impl):
    server = RedisServer()
    proxy = ResettingProxy((server.host, server.port))
    errors_ok = (impl.exceptions.ConnectionError, impl.exceptions.TimeoutError)
    r = impl.Redis(host="127.0.0.1", port=proxy.port, socket_timeout=0.3,
                   socket_connect_timeout=0.5, max_connections=8,
                   retry=impl.retry.Retry(impl.backoff.NoBackoff(), 1),
                   retry_on_error=[impl.exceptions.ConnectionError,
                                   impl.exceptions.TimeoutError])
    stop = threading.Event()
    stats = {"ok": 0, "errors": 0}
    wrong: list = []
    log: list = []
    old = signal.signal(signal.SIGALRM, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 0.007, 0.007)
    faulthandler.dump_traceback_later(DURATION + 60, exit=True)   # a hang kills the run
    threads = [threading.Thread(target=_worker, args=(r, errors_ok, stop, stats, wrong, i),
                                daemon=True) for i in range(3)]
    faults = threading.Thread(target=_faults, args=(server, proxy, stop, log), daemon=True)
    try:
        for t in threads:
            t.start()
        faults.start()
        # the main thread works too: it is where the signal handlers run
        main_stop = threading.Timer(DURATION, stop.set)
        main_stop.start()
        _worker(r, errors_ok, stop, stats, wrong, "main")
        for t in threads + [faults]:
            t.join(30)
            assert not t.is_alive(), "a client thread hung"
    finally:
        stop.set()
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, old)
        faulthandler.cancel_dump_traceback_later()
        proxy.stop()
        try:
            os.kill(server.proc.pid, signal.SIGCONT)
        except (OSError, AttributeError):
            pass
        server.stop()
    assert not wrong, wrong[:5]
    assert stats["ok"] > 20, (stats, log)
    assert stats["errors"] > 0, "no fault reached the client: the run tested nothing"
    # after the storm the client still works normally
