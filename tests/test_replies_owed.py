"""Replies owed (DESIGN rule 11): a connection counts the replies the server
still owes it, and one that owes any is never used for another request: it
would read the old reply as the new command's.

``Connection._replies_owed`` (read-only) is that count: every command sent
adds one (send_command: 1; send_packed_command: the commands in the bytes, a
RESP multibulk ``*N`` or an inline line each; a pipeline: one per command),
every complete reply read takes one off (never below 0: pub/sub messages are
never asked for), and disconnect() resets it.  The C request paths replace a
connection that owes replies before sending, and a pool drops one given back
owing replies.

The slow paths are exercised where Python code sits between the send and the
read and may raise: a parse_response override, a mock.patch of
read_response, a Connection subclass.  The check in every case: after the
failure, the next command on the same client gets its own reply (distinct
keys and values, so a stale b"OK"/b"v1" shows), and the first command did
happen.  Each scenario runs against redis-py 7.4.1 too where redis-py gets it
right (its pool checks can_read() when handing out a connection).
"""
from __future__ import annotations

import threading
import time
import uuid
from unittest import mock

import pytest


@pytest.fixture(params=["native", "redis-py"])
def mod(request, impl, redis_py):
    return impl if request.param == "native" else redis_py


def keys():
    tag = uuid.uuid4().hex
    return "owed:%s:1" % tag, "owed:%s:2" % tag


def no_retry(mod):
    return mod.retry.Retry(mod.backoff.NoBackoff(), 0)


@pytest.fixture
def conn(impl, redis_server):
    c = impl.Connection(host=redis_server.host, port=redis_server.port)
    c.connect()
    yield c
    c.disconnect()


# ====================================================================== the count
def test_send_command_and_reads(conn):
    assert conn._replies_owed == 0
    conn.send_command("SET", "owed:a", "1")
    assert conn._replies_owed == 1
    conn.send_command("GET", "owed:a")
    assert conn._replies_owed == 2
    assert conn.read_response() == b"OK"
    assert conn._replies_owed == 1
    assert conn.read_response() == b"1"
    assert conn._replies_owed == 0


def test_read_only_attribute(conn):
    with pytest.raises(AttributeError):
        conn._replies_owed = 0


def test_error_reply_is_a_reply(conn, impl):
    conn.send_command("INCR", "owed:not-a-number:" + uuid.uuid4().hex, "extra")
    with pytest.raises(impl.exceptions.ResponseError):
        conn.read_response()
    assert conn._replies_owed == 0


def test_decode_error_consumes_the_reply(impl, redis_server):
    c = impl.Connection(host=redis_server.host, port=redis_server.port, decode_responses=True)
    try:
        c.send_command("ECHO", b"\xff\xfe")
        with pytest.raises(UnicodeDecodeError):
            c.read_response(disconnect_on_error=False)
        assert c._replies_owed == 0 and c.is_connected
        c.send_command("PING")
        assert c.read_response() == "PONG"
    finally:
        c.disconnect()


@pytest.mark.parametrize("packed,count", [
    (b"*1\r\n$4\r\nPING\r\n", 1),
    (b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$3\r\na\r\n\r\n", 2),   # bulk payload holds CRLF
    (b"*2\r\n$4\r\nECHO\r\n$6\r\n*1\r\n$4\r\n", 1),                     # payload looks like a command
    (b"PING\r\n", 1),
    (b"PING\r\nPING\r\n", 2),
    (b"PING\nPING\n", 2),
    (b"\r\n", 0),
    (b"   \r\n", 0),
    (b"  PING\r\n", 1),
    (b"*0\r\n", 0),
    (b"*-1\r\n", 0),
    (b"*0\r\nPING\r\n*1\r\n$4\r\nPING\r\n", 2),
])
def test_send_packed_command_counts_commands(conn, packed, count):
    conn.send_packed_command(packed)
    assert conn._replies_owed == count
    for _ in range(count):
        conn.read_response()
    assert conn._replies_owed == 0
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"


def test_packed_command_sent_in_pieces_counts_once(conn):
    whole = b"*3\r\n$3\r\nSET\r\n$6\r\nowed:p\r\n$5\r\nhello\r\n"
    for cut in range(1, len(whole)):
        conn.send_packed_command(whole[:cut])
        assert conn._replies_owed == 1, cut       # half a command is out of step too
        conn.send_packed_command(whole[cut:])
        assert conn._replies_owed == 1, cut
        assert conn.read_response() == b"OK"
        assert conn._replies_owed == 0


def test_pack_commands_and_lists(conn):
    conn.send_packed_command(conn.pack_commands([("SET", "owed:l", "1"), ("GET", "owed:l"),
                                                 ("DEL", "owed:l")]))
    assert conn._replies_owed == 3
    conn.send_packed_command(conn.pack_command("PING") + conn.pack_command("PING"))
    assert conn._replies_owed == 5
    assert [conn.read_response() for _ in range(5)] == [b"OK", b"1", 1, b"PONG", b"PONG"]
    assert conn._replies_owed == 0


def test_disconnect_resets(conn):
    conn.send_command("PING")
    conn.send_command("PING")
    conn.disconnect()
    assert conn._replies_owed == 0


def test_pipeline_counts_back_to_zero(impl, redis_server):
    r = impl.Redis(host=redis_server.host, port=redis_server.port)
    with r.pipeline() as pipe:
        pipe.set("owed:pl", "1").get("owed:pl").incr("owed:pl")
        assert pipe.execute() == [True, b"1", 2]
    conn = r.connection_pool.get_connection()
    assert conn._replies_owed == 0
    r.connection_pool.release(conn)
    r.close()


def test_pubsub_never_goes_below_zero(impl, redis_server):
    r = impl.Redis(host=redis_server.host, port=redis_server.port)
    p = r.pubsub()
    p.subscribe("owed-a", "owed-b", "owed-c")      # one command, three replies
    for _ in range(3):
        assert p.get_message(timeout=5)["type"] == "subscribe"
    assert p.connection._replies_owed == 0
    r.publish("owed-a", "m")
    assert p.get_message(timeout=5)["data"] == b"m"
    assert p.connection._replies_owed == 0
    p.close()
    r.close()


# ====================================================================== stale replies
def test_request_on_a_connection_that_owes_a_reply(impl, redis_server):
    """The C request path itself: a raw send_command left unread, then a
    command through the client on the same pooled connection."""
    k1, k2 = keys()
    r = impl.Redis(host=redis_server.host, port=redis_server.port, max_connections=1)
    c = r.connection_pool.get_connection()
    c.send_command("SET", k1, "v1")
    r.connection_pool.release(c)
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


def test_single_connection_client_that_owes_a_reply(impl, redis_server):
    """No pool involved: the client's own connection."""
    k1, k2 = keys()
    r = impl.Redis(host=redis_server.host, port=redis_server.port,
                   single_connection_client=True)
    r.ping()
    r.connection.send_command("SET", k1, "v1")
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


def test_parse_response_override_raising_before_reading(mod, redis_server):
    k1, k2 = keys()
    state = {"fail": False}

    class Client(mod.Redis):
        def parse_response(self, connection, command_name, **options):
            if state["fail"]:
                state["fail"] = False
                raise ValueError("before reading")
            return super().parse_response(connection, command_name, **options)

    r = Client(host=redis_server.host, port=redis_server.port, retry=no_retry(mod))
    r.ping()
    state["fail"] = True
    with pytest.raises(ValueError):
        r.set(k1, "v1")
    time.sleep(0.1)     # redis-py's can_read() check needs the stale reply to have arrived
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


def test_parse_response_override_raising_keyboard_interrupt(mod, redis_server):
    k1, k2 = keys()
    state = {"fail": False}

    class Client(mod.Redis):
        def parse_response(self, connection, command_name, **options):
            if state["fail"]:
                state["fail"] = False
                raise KeyboardInterrupt
            return super().parse_response(connection, command_name, **options)

    r = Client(host=redis_server.host, port=redis_server.port, retry=no_retry(mod))
    r.ping()
    state["fail"] = True
    with pytest.raises(KeyboardInterrupt):
        r.set(k1, "v1")
    time.sleep(0.1)
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


@pytest.mark.parametrize("exc", [KeyboardInterrupt, ValueError])
def test_read_response_patched_to_raise_once(mod, redis_server, exc):
    k1, k2 = keys()
    r = mod.Redis(host=redis_server.host, port=redis_server.port, retry=no_retry(mod))
    r.ping()
    with mock.patch.object(mod.Connection, "read_response", side_effect=exc):
        with pytest.raises(exc):
            r.set(k1, "v1")
    time.sleep(0.1)
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


def test_read_response_patched_on_the_instance(mod, redis_server):
    k1, k2 = keys()
    r = mod.Redis(host=redis_server.host, port=redis_server.port, retry=no_retry(mod))
    r.ping()
    conn = r.connection_pool.get_connection()
    r.connection_pool.release(conn)
    with mock.patch.object(conn, "read_response", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            r.set(k1, "v1")
    time.sleep(0.1)
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


@pytest.mark.parametrize("when", ["before", "after"])
def test_connection_subclass_whose_read_response_raises(mod, redis_server, when):
    """A subclass stays off the C paths: every command goes through its
    Python send_command/read_response, so only the pool (release() drops a
    connection that owes replies) stands between the failure and a stale
    reply.  'after': the reply was read, the override raises anyway -- the
    connection is in step and may be kept."""
    k1, k2 = keys()
    state = {"fail": True}

    class Conn(mod.Connection):
        def read_response(self, *args, **kwargs):
            if state["fail"] and when == "before":
                state["fail"] = False
                raise ValueError("before reading")
            reply = super().read_response(*args, **kwargs)
            if state["fail"]:
                state["fail"] = False
                raise ValueError("after reading")
            return reply

    pool = mod.ConnectionPool(connection_class=Conn, host=redis_server.host,
                              port=redis_server.port, max_connections=1)
    r = mod.Redis(connection_pool=pool, retry=no_retry(mod))
    state["fail"] = False
    r.ping()
    state["fail"] = True
    with pytest.raises(ValueError):
        r.set(k1, "v1")
    time.sleep(0.1)
    assert r.get(k2) is None
    assert r.get(k1) == b"v1"
    r.close()


def test_pool_release_drops_a_connection_owing_replies(impl, redis_server):
    pool = impl.ConnectionPool(host=redis_server.host, port=redis_server.port)
    conn = pool.get_connection()
    conn.send_command("PING")
    assert conn._replies_owed == 1
    pool.release(conn)
    assert conn._replies_owed == 0 and not conn.is_connected
    again = pool.get_connection()
    assert again is conn
    again.send_command("ECHO", "mine")
    assert again.read_response() == b"mine"
    pool.release(again)
    pool.disconnect()


def test_pool_release_keeps_a_connection_in_step(impl, redis_server):
    pool = impl.ConnectionPool(host=redis_server.host, port=redis_server.port)
    conn = pool.get_connection()
    conn.send_command("PING")
    assert conn.read_response() == b"PONG"
    fd = conn.fileno()
    pool.release(conn)
    assert conn.is_connected and conn.fileno() == fd
    pool.disconnect()


def test_thread_abandoning_a_reply_on_a_shared_client(impl, redis_server):
    """Threads share a client; some abandon their command between send and
    read (an exception from a parse_response override).  Every completed
    command still returns its own value."""
    state = threading.local()

    class Client(impl.Redis):
        def parse_response(self, connection, command_name, **options):
            if getattr(state, "fail", False):
                state.fail = False
                raise ValueError("abandoned")
            return super().parse_response(connection, command_name, **options)

    r = Client(host=redis_server.host, port=redis_server.port, max_connections=3,
               retry=no_retry(impl))
    wrong = []
    stop = time.monotonic() + 2

    def worker(n):
        i = 0
        while time.monotonic() < stop:
            i += 1
            token = "%d-%d" % (n, i)
            state.fail = i % 3 == 0
            try:
                got = r.echo(token)
            except ValueError:
                continue
            except impl.exceptions.MaxConnectionsError:
                continue
            if got != token.encode():
                wrong.append((token, got))

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert wrong == []
    r.close()
