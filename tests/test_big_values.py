"""Big values without copies (issue #12).

Arguments of at least RN_ZEROCOPY_MIN (1 MiB) bytes are written from the caller's
memory (sendmsg over an iovec; SSL_write piece by piece under TLS) instead of being
copied into the connection's output buffer, and bulk strings of that size in replies
are received straight into their bytes object.  These tests check the round trips
(bytes, memoryview, a memoryview of a bytearray; TCP, unix socket, TLS, pipelines,
decoding), that a bytearray cannot be resized while the write uses its memory, and
the memory: no second copy of a 64 MiB value while it is sent or received, and the
buffers shrink back afterwards (compared with redis-py in the same conditions).

Memory is measured in fresh interpreters (subprocess), so that what earlier tests
left in the allocator does not count.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

import redis_native
from servers import free_port

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def rn(redis_server):
    c = redis_native.Redis(host=redis_server.host, port=redis_server.port)
    try:
        yield c
    finally:
        c.delete("big:a", "big:b", "big:c")
        c.close()


def _value(n, seed=1):
    # cheap, not constant (a lost or repeated chunk would show)
    chunk = bytes((seed * 7 + i) % 251 for i in range(4093))
    return (chunk * (n // len(chunk) + 1))[:n]


# ------------------------------------------------------------------ round trips

@pytest.mark.parametrize("kind", ["bytes", "memoryview", "bytearray"])
def test_64mib_round_trip(rn, kind):
    v = _value(64 * MIB)
    arg = {"bytes": v, "memoryview": memoryview(v),
           "bytearray": memoryview(bytearray(v))}[kind]
    assert rn.set("big:a", arg) is True
    got = rn.get("big:a")
    assert type(got) is bytes and len(got) == len(v) and got == v
    # the connection goes on in step
    assert rn.set("big:b", b"small") and rn.get("big:b") == b"small"
    assert rn.strlen("big:a") == 64 * MIB


def test_sizes_around_the_threshold(rn):
    for n in (MIB - 1, MIB, MIB + 1, 3 * MIB + 7):
        v = _value(n, seed=n)
        assert rn.set("big:a", v)
        assert rn.get("big:a") == v


def test_memoryview_slices_and_formats(rn):
    base = bytearray(_value(4 * MIB))
    view = memoryview(base)[MIB // 2: MIB // 2 + 2 * MIB]
    assert rn.set("big:a", view)
    assert rn.get("big:a") == bytes(view)
    ints = memoryview(bytearray(_value(2 * MIB))).cast("I")     # format "I", same bytes
    assert rn.set("big:a", ints)
    assert rn.get("big:a") == ints.tobytes()


def test_several_big_arguments_in_a_pipeline(rn):
    vals = [_value(2 * MIB + i, seed=i) for i in range(5)]
    p = rn.pipeline(transaction=False)
    for i, v in enumerate(vals):
        p.set(f"big:p{i}", memoryview(v) if i % 2 else v)
    p.mget([f"big:p{i}" for i in range(5)])
    p.get("big:p3")
    p.get("big:missing")
    res = p.execute()
    assert res[:5] == [True] * 5
    assert res[5] == vals
    assert res[6] == vals[3]
    assert res[7] is None
    rn.delete(*[f"big:p{i}" for i in range(5)])


def test_big_argument_in_a_transaction_and_mset(rn):
    a, b = _value(3 * MIB, seed=3), _value(2 * MIB, seed=4)
    assert rn.mset({"big:a": a, "big:b": b, "big:c": b"x"})
    p = rn.pipeline()
    p.set("big:c", a)
    p.get("big:c")
    p.append("big:c", b)
    assert p.execute() == [True, a, len(a) + len(b)]
    assert rn.get("big:c") == a + b


def test_decoded_big_reply(redis_server):
    c = redis_native.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    try:
        text = "é" * (3 * MIB)
        assert c.set("big:a", text)
        assert c.get("big:a") == text
        c.set("big:b", b"\xff" * (2 * MIB))
        with pytest.raises(UnicodeDecodeError):
            c.get("big:b")
        assert c.get("big:a") == text       # the stream stayed in step
    finally:
        c.delete("big:a", "big:b")
        c.close()


def test_unix_socket(redis_server):
    c = redis_native.Redis(unix_socket_path=redis_server.unix_path)
    try:
        v = _value(16 * MIB)
        assert c.set("big:a", memoryview(v))
        assert c.get("big:a") == v
    finally:
        c.delete("big:a")
        c.close()


def test_big_reply_arriving_through_can_read(rn):
    """can_read() feeds what it reads to the reader: a big bulk string that starts
    there goes on in place."""
    v = _value(8 * MIB)
    rn.set("big:a", v)
    conn = rn.connection_pool.get_connection()
    try:
        conn.send_command("GET", "big:a")
        assert conn.can_read(timeout=5)
        assert conn.read_response() == v
        conn.send_command("PING")
        assert conn.read_response() in (b"PONG", "PONG", True)
    finally:
        rn.connection_pool.release(conn)


# ------------------------------------------------------------------ buffer exports

def test_bytearray_export_released_after_the_write(rn):
    ba = bytearray(_value(2 * MIB))
    assert rn.set("big:a", memoryview(ba))
    ba.extend(b"more")          # BufferError if the export leaked
    assert rn.get("big:a") == bytes(ba[:-4])
    bad = bytearray(_value(2 * MIB))
    with pytest.raises(redis_native.DataError):
        rn.set("big:a", memoryview(bad), ex=object())    # packing fails after the big arg
    bad.extend(b"x")            # its export was released on the error path too


def test_first_command_arguments_not_kept(redis_server):
    """The command that connects (and runs the handshake, whose CLIENT SETINFO a
    Redis before 7.2 refuses) keeps nothing of its arguments once it returns: the
    refused replies used to carry tracebacks in a reference cycle with the frames
    below, so a big first value stayed alive (and exported) until a collection."""
    import gc

    c = redis_native.Redis(host=redis_server.host, port=redis_server.port)
    ba = bytearray(_value(2 * MIB))
    gc.disable()
    try:
        assert c.set("big:a", memoryview(ba))
        ba.extend(b"x")             # BufferError while anything holds the view
    finally:
        gc.enable()
        c.delete("big:a")
        c.close()


@pytest.fixture
def silent_peer():
    """A server that accepts and never reads: writes fill the socket buffers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    conns = []

    def accept():
        try:
            c, _ = srv.accept()
            conns.append(c)
        except OSError:
            pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        srv.close()
        for c in conns:
            c.close()


def test_bytearray_cannot_be_resized_during_the_write(silent_peer):
    """The write holds a buffer export of the bytearray for its whole duration:
    resizing it from another thread meanwhile raises BufferError (the memory the
    GIL-free send uses cannot move), and the write ends with its timeout."""
    ba = bytearray(_value(32 * MIB))
    conn = redis_native.Connection(host="127.0.0.1", port=silent_peer, socket_timeout=1.0)
    conn._connect_tcp("127.0.0.1", silent_peer)     # the socket only, no handshake
    started, outcome = threading.Event(), {}

    def writer():
        started.set()
        try:
            conn.send_command("SET", "big:a", memoryview(ba))
        except Exception as exc:        # noqa: BLE001 - reported below
            outcome["exc"] = exc

    t = threading.Thread(target=writer)
    t.start()
    started.wait()
    resized = []
    while t.is_alive():
        try:
            ba.extend(b"x")
            resized.append(True)
            break
        except BufferError:
            pass
        t.join(0.01)
    t.join()
    assert isinstance(outcome.get("exc"), redis_native.TimeoutError)
    # Resizes can only have happened before the export or after the write.
    if resized:
        assert len(ba) == 32 * MIB + 1
    ba.extend(b"y")             # released now
    conn.disconnect()


# ------------------------------------------------------------------ TLS

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from servers import RedisServer

    d = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    port = free_port()
    try:
        srv = RedisServer("--tls-port", str(port), "--tls-cert-file", str(d / "cert.pem"),
                          "--tls-key-file", str(d / "key.pem"), "--tls-ca-cert-file",
                          str(d / "cert.pem"), "--tls-auth-clients", "no")
    except Exception as exc:        # noqa: BLE001 - a redis-server built without TLS
        pytest.skip(f"redis-server with TLS did not start: {exc}")
    try:
        yield port, str(d / "cert.pem")
    finally:
        srv.stop()


def test_tls_round_trip(tls_server):
    port, ca = tls_server
    c = redis_native.Redis(host="localhost", port=port, ssl=True, ssl_ca_certs=ca)
    try:
        for kind, v in (("bytes", _value(24 * MIB)), ("view", memoryview(bytearray(_value(5 * MIB))))):
            assert c.set("big:a", v), kind
            assert c.get("big:a") == bytes(v), kind
        p = c.pipeline(transaction=False)
        p.set("big:b", _value(3 * MIB, seed=5))
        p.get("big:b")
        p.ping()
        assert p.execute() == [True, _value(3 * MIB, seed=5), True]
        conn = c.connection_pool.get_connection()
        try:
            assert conn._uses_tls
        finally:
            c.connection_pool.release(conn)
    finally:
        c.delete("big:a", "big:b")
        c.close()


# ------------------------------------------------------------------ memory

MEMORY_CHILD = textwrap.dedent(r"""
    import gc, json, os, sys, tracemalloc
    sys.path.insert(0, sys.argv[1])
    which, host, port, what = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if which == "native":
        import redis_native as redis
    else:
        import redis
    MIB = 1 << 20

    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

    def reset_peak():
        # Linux: writing 5 resets VmHWM (the peak RSS) to the current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")

    def peak():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024

    r = redis.Redis(host=host, port=port)
    r.ping()
    out = {}
    if what == "after":
        gc.collect()
        base = rss()                    # before the value exists
        v = os.urandom(64 * MIB)
        r.set("big:mem", v)
        got = r.get("big:mem")
        assert got == v
        del v, got
        gc.collect()
        out["kept"] = rss() - base
    elif what == "set_peak":
        v = os.urandom(64 * MIB)
        r.set("big:mem", b"x")          # connection and buffers warm
        gc.collect()
        tracemalloc.start()
        r.set("big:mem", v)
        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    elif what == "get_peak":
        v = os.urandom(64 * MIB)
        r.set("big:mem", v)
        del v
        gc.collect()
        base = rss()
        reset_peak()
        got = r.get("big:mem")
        out["peak_over_base"] = peak() - base
        assert len(got) == 64 * MIB
    r.delete("big:mem")
    print(json.dumps(out))
""")


# Under ASan (make asan-test preloads libasan, PYTHONMALLOC=malloc) freed memory sits
# in ASan's quarantine: RSS says nothing about what the code gives back.
needs_plain_malloc = pytest.mark.skipif(
    "asan" in os.environ.get("LD_PRELOAD", "") or os.environ.get("PYTHONMALLOC") == "malloc",
    reason="RSS and allocator measurements are meaningless under ASan / PYTHONMALLOC=malloc")


def _child(which, server, what):
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, ROOT, which, server.host, str(server.port), what],
        capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        if "clear_refs" in proc.stderr:
            pytest.skip("cannot reset the peak RSS (/proc/self/clear_refs)")
        raise AssertionError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


@needs_plain_malloc
def test_buffers_shrink_back_after_64mib(redis_server):
    """After a 64 MiB SET and GET and the values dropped, the process keeps no more
    than redis-py does (generous margin): the output buffer never grew, the reader's
    buffer is given back after the reply."""
    native = _child("native", redis_server, "after")["kept"]
    redis_py = _child("redis", redis_server, "after")["kept"]
    assert native <= max(redis_py, 0) + 8 * MIB, (native, redis_py)
    assert native < 16 * MIB, native


@needs_plain_malloc
def test_no_second_copy_while_sending_64mib(redis_server):
    """The 64 MiB argument is sent from the caller's bytes: nothing close to its
    size is allocated while SET runs (the output buffer used to grow to 64+ MiB)."""
    peak = _child("native", redis_server, "set_peak")["traced_peak"]
    assert peak < 8 * MIB, peak


@needs_plain_malloc
def test_one_copy_while_receiving_64mib(redis_server):
    """GET of 64 MiB raises the peak RSS by about the value itself: the payload goes
    from the socket into the bytes object, not through a 64 MiB reader buffer
    first (which made the peak twice the value)."""
    peak = _child("native", redis_server, "get_peak")["peak_over_base"]
    assert peak < 64 * MIB + 24 * MIB, peak
