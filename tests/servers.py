"""Servers for the test suite: private ``redis-server`` processes, and
:class:`RecordingServer`, a fake server that records the commands it receives.

Every server listens on a free TCP port on 127.0.0.1 (never 6379, never a port
something else already listens on) and on a unix socket in its own temporary
directory.  Readiness is checked with a raw socket PING, so this module does
not depend on any client library (neither redis-py nor redis_native).

Processes are cleaned up at interpreter exit (``atexit``) even when a test
session aborts; fixtures additionally stop them in their finalizers.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from typing import List, Optional, Sequence

REDIS_SERVER = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server") or "/usr/bin/redis-server"

_live: "weakref.WeakSet[RedisServer]" = weakref.WeakSet()
_live_lock = threading.Lock()


def _cleanup_all() -> None:
    with _live_lock:
        servers = [s for s in _live if s.owner_pid == os.getpid()]
    for srv in servers:
        try:
            srv.stop()
        except Exception:
            pass


atexit.register(_cleanup_all)


def _port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.2)
    try:
        return s.connect_ex((host, port)) == 0
    except OSError:
        return False
    finally:
        s.close()


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now (bind to port 0)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port != 6379 and not _port_in_use(port, host):
            return port
    raise RuntimeError("could not find a free TCP port")


def wait_until(pred, timeout: float = 15.0, interval: float = 0.02) -> bool:
    """Poll ``pred()`` until it is true or ``timeout`` seconds have passed;
    return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def unused_port(host: str = "127.0.0.1") -> int:
    """A port on which nothing listens (for connection-refused tests)."""
    return free_port(host)


def raw_command(host: Optional[str], port: Optional[int], *args, unix_path: Optional[str] = None,
                password: Optional[str] = None, timeout: float = 2.0) -> bytes:
    """Send one command with a raw socket; return the raw first reply line(s).

    Only used for readiness checks and for out-of-band administration that
    must not depend on the client under test.
    """
    if unix_path:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        addr = unix_path
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        addr = (host, port)
    s.settimeout(timeout)
    try:
        s.connect(addr)
        payload = b""
        if password is not None:
            payload += _pack(("AUTH", password))
        payload += _pack(args)
        s.sendall(payload)
        data = b""
        expected = 2 if password is not None else 1
        deadline = time.monotonic() + timeout
        while data.count(b"\r\n") < expected and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if password is not None:
            first, _, data = data.partition(b"\r\n")
        return data
    finally:
        s.close()


def _pack(args: Sequence) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RedisServer:
    """A private redis-server process.

    Attributes: ``host``, ``port``, ``unix_path``, ``url``, ``password``,
    ``proc`` (the Popen object), ``args`` (extra config args).
    """

    def __init__(self, *extra_args: str, password: Optional[str] = None, start: bool = True,
                 startup_timeout: float = 20.0):
        self.host = "127.0.0.1"
        self.port: int = 0
        self.password = password
        self.tmpdir = tempfile.mkdtemp(prefix="rn-redis-")
        self.unix_path = os.path.join(self.tmpdir, "redis.sock")
        self.logfile = os.path.join(self.tmpdir, "redis.log")
        self.args: List[str] = list(extra_args)
        if password is not None:
            self.args += ["--requirepass", password]
        elif "--requirepass" in self.args[:-1]:
            self.password = self.args[self.args.index("--requirepass") + 1]
        self.startup_timeout = startup_timeout
        self.proc: Optional[subprocess.Popen] = None
        # a forked test child must never stop the parent's servers
        self.owner_pid = os.getpid()
        with _live_lock:
            _live.add(self)
        if start:
            self.start()

    # ------------------------------------------------------------------ info
    @property
    def url(self) -> str:
        if self.password is not None:
            return "redis://:%s@%s:%d" % (self.password, self.host, self.port)
        return "redis://%s:%d" % (self.host, self.port)

    @property
    def unix_url(self) -> str:
        return "unix://%s" % self.unix_path

    def __repr__(self) -> str:
        return "<RedisServer %s:%s pid=%s>" % (self.host, self.port, self.proc.pid if self.proc else None)

    # ------------------------------------------------------------- lifecycle
    def _cmdline(self) -> List[str]:
        return [
            REDIS_SERVER,
            "--port", str(self.port),
            "--bind", self.host,
            "--unixsocket", self.unix_path,
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", self.tmpdir,
            "--logfile", self.logfile,
            "--protected-mode", "no",
            *self.args,
        ]

    def _spawn(self) -> None:
        if os.path.exists(self.unix_path):
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass
        self.proc = subprocess.Popen(
            self._cmdline(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start(self, attempts: int = 8) -> "RedisServer":
        """Start on a fresh free port (retried if another process grabs it)."""
        last = None
        for _ in range(attempts):
            self.port = free_port(self.host)
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last = e
                self._terminate()
        raise RuntimeError("redis-server failed to start: %s\n%s" % (last, self.log_tail()))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %s" % (self.proc.returncode if self.proc else None))
            if self.ping():
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING within %ss" % self.startup_timeout)

    def ping(self) -> bool:
        """True if this server answers PING (with the configured password)."""
        try:
            reply = raw_command(self.host, self.port, "PING", password=self.password, timeout=1.0)
        except OSError:
            return False
        # NOAUTH/WRONGPASS still proves the server is up and answering
        return reply.startswith((b"+PONG", b"-NOAUTH", b"-WRONGPASS", b"-ERR"))

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.logfile, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _terminate(self, sig: int = signal.SIGTERM, wait: float = 10.0) -> None:
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                try:
                    p.kill()
                except ProcessLookupError:
                    pass
                p.wait(10)
        else:
            p.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if the server does not exit; remove tmp files."""
        if os.getpid() != self.owner_pid:
            return
        self._terminate(signal.SIGTERM)
        self.proc = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        with _live_lock:
            _live.discard(self)

    def kill(self) -> None:
        """SIGKILL the server (crash simulation). ``restart()`` brings it back."""
        p = self.proc
        if p is not None and p.poll() is None:
            p.kill()
            p.wait(10)

    def restart(self, attempts: int = 50) -> "RedisServer":
        """Start again on the same port and unix socket (after stop or kill)."""
        if self.is_running():
            self._terminate(signal.SIGTERM)
        os.makedirs(self.tmpdir, exist_ok=True)
        last = None
        for _ in range(attempts):
            self._spawn()
            try:
                self._wait_ready()
                with _live_lock:
                    _live.add(self)
                return self
            except RuntimeError as e:
                # port may still be in TIME_WAIT/bound briefly; try again
                last = e
                self._terminate()
                time.sleep(0.1)
        raise RuntimeError("redis-server failed to restart on port %d: %s\n%s"
                           % (self.port, last, self.log_tail()))

    # --------------------------------------------------------------- helpers
    def command(self, *args) -> bytes:
        """Run one command out-of-band over a raw socket; return the raw reply."""
        return raw_command(self.host, self.port, *args, password=self.password)

    def __enter__(self) -> "RedisServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # pragma: no cover - best effort
        try:
            if os.getpid() == self.owner_pid and self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
        except Exception:
            pass


# --------------------------------------------------------------------------- fakes
class RecordingServer:
    """Listen on a free port; record every RESP command; reply with ``reply(args)``.

    ``reply`` is a bytes object (sent for every command) or a callable
    ``args -> bytes``.  The default answers ``+OK``; ``ECHO x`` and ``PING`` get
    their real replies so that markers and health checks work.
    """

    def __init__(self, reply=None):
        self.reply = reply
        self.commands = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.host, self.port = self._sock.getsockname()
        self._stop = threading.Event()
        self._conns = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- server side
    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _parse(buf: bytes):
        """One RESP array of bulk strings from ``buf`` -> (args, rest) or (None, buf)."""
        if not buf:
            return None, buf
        if buf[:1] != b"*":  # inline command
            if b"\r\n" not in buf:
                return None, buf
            line, rest = buf.split(b"\r\n", 1)
            return line.split(), rest
        if b"\r\n" not in buf:
            return None, buf
        head, rest = buf.split(b"\r\n", 1)
        n = int(head[1:])
        args = []
        for _ in range(n):
            if b"\r\n" not in rest:
                return None, buf
            h, rest2 = rest.split(b"\r\n", 1)
            assert h[:1] == b"$", h
            ln = int(h[1:])
            if len(rest2) < ln + 2:
                return None, buf
            args.append(rest2[:ln])
            rest = rest2[ln + 2:]
        return args, rest

    def _answer(self, args) -> bytes:
        name = args[0].upper() if args else b""
        if name == b"ECHO" and len(args) == 2:
            return b"$%d\r\n%s\r\n" % (len(args[1]), args[1])
        if name == b"PING":
            return b"+PONG\r\n"
        if self.reply is None:
            return b"+OK\r\n"
        if callable(self.reply):
            return self.reply(args)
        return self.reply

    def _serve(self, conn):
        buf = b""
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            buf += data
            while True:
                args, buf = self._parse(buf)
                if args is None:
                    break
                with self._lock:
                    self.commands.append(tuple(args))
                try:
                    conn.sendall(self._answer(args))
                except OSError:
                    return
        try:
            conn.close()
        except OSError:
            pass

    # ----------------------------------------------------------------- client side
    def take(self):
        with self._lock:
            out, self.commands = self.commands, []
        return out

    def close(self):
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(5)
