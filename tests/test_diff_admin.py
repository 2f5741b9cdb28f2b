"""Differential tests: server administration commands (redis_native vs redis-py).

client_*, acl_*, config_*, debug_object, memory_*, latency_*, slowlog_*, module_*,
command_*, info, lolwut, role, time, lastsave, dbsize, swapdb, wait, object.

Server-global state (ACL users, config, slowlog, client names) is shared by the two
sides, so multi-step scenarios run as whole sequences on one side and then on the
other (``diffutil.check``), each starting from the same state.  Nondeterministic
values (ids, addresses, times, counters) are compared by shape.

Commands redis-server 7.0.15 lacks (CLIENT NO-TOUCH, CLIENT SETINFO, WAITAOF,
HOTKEYS ...) are tested at the wire level: both clients talk to
:class:`RecordingServer`, a tiny fake server that records the RESP commands it
receives, and the recorded commands must be identical.  ``RecordingServer`` and
:func:`recorded` are also used by the other test_diff_* files of this family.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest

import diffutil
from diffutil import Raised, check, compare, shape

NON_UTF8 = b"\xff\xfe"
UNICODE = "\u00e4dm\u00efn \u2603"


# =====================================================================================
# RecordingServer: a fake server that records raw RESP commands
# =====================================================================================
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


MARKER = b"__recording_marker__"


def recorded(module, server: RecordingServer, fn, **client_kw):
    """Run ``fn(client)`` with a ``module.Redis`` client on ``server``.

    Returns ``(commands, outcome)``: the commands sent after a marker ECHO (so the
    connection handshake is left out), and the result or :class:`Raised`."""
    client = module.Redis(host=server.host, port=server.port, socket_timeout=10,
                          socket_connect_timeout=10, **client_kw)
    try:
        client.echo(MARKER)
        outcome = diffutil.run_call(client, fn)
    finally:
        client.close()
    time.sleep(0.05)  # the server thread records before replying; just be safe
    cmds = server.take()
    for i, c in enumerate(cmds):
        if c and c[0].upper() == b"ECHO" and c[1:] == (MARKER,):
            cmds = cmds[i + 1:]
            break
    else:
        raise AssertionError("marker not seen by the recording server: %r" % (cmds,))
    return cmds, outcome


def assert_same_wire(impl, redis_py, fn, compare_outcome=False, **client_kw):
    """``fn(client)`` sends the same commands with redis_native as with redis-py.

    Client-side validation errors (DataError...) must also match.  Replies from the
    fake server (``+OK``) are meaningless, so outcomes are not compared unless asked."""
    srv = RecordingServer()
    try:
        cn, on = recorded(impl, srv, fn, **client_kw)
        co, oo = recorded(redis_py, srv, fn, **client_kw)
    finally:
        srv.close()
    assert cn == co, "commands sent differ:\n  native=%r\n  oracle=%r" % (cn, co)
    if compare_outcome or not co:
        compare(on, oo, what="outcome of %s" % getattr(fn, "__name__", fn))
    return co


@pytest.fixture
def wire(impl, redis_py):
    """``wire(fn)``: assert ``fn(client)`` sends identical commands on both clients."""

    def run(fn, **kw):
        return assert_same_wire(impl, redis_py, fn, **kw)

    return run


def test_recording_server_self_test(redis_py):
    srv = RecordingServer()
    try:
        cmds, out = recorded(redis_py, srv, lambda c: c.set("k", b"v\r\n", ex=5))
    finally:
        srv.close()
    assert cmds == [(b"SET", b"k", b"v\r\n", b"EX", b"5")]
    assert out is True
