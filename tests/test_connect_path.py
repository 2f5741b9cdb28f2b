"""What a new client is made of, now that building one is cheap (issue #12).

Every client copies a response-callback table built once at import, and takes
copies of its Retry without ``copy.deepcopy`` in the usual case.  These tests
pin the behaviour those shortcuts must keep, against redis-py where it applies:
each client's ``response_callbacks`` is its own case-insensitive mapping, a
Retry copy equals and is independent of the original, and connecting still
sends redis-py's handshake, in one round trip, before the first command.
"""
from __future__ import annotations

import copy

import pytest


def _client(lib, redis_server, **kw):
    return lib.Redis(host=redis_server.host, port=redis_server.port, **kw)


# --------------------------------------------------------------------------- callbacks
def test_callback_table_matches_redis_py(impl, redis_py):
    mine = impl.Redis().response_callbacks
    theirs = redis_py.Redis().response_callbacks
    assert type(mine).__name__ == "CaseInsensitiveDict"
    assert isinstance(mine, dict)
    assert sorted(mine) == sorted(theirs)
    assert all(k == k.upper() for k in mine)


def test_each_client_has_its_own_callbacks(lib, redis_server, closing):
    a = closing(_client(lib, redis_server))
    b = closing(_client(lib, redis_server))
    assert a.response_callbacks is not b.response_callbacks
    a.set_response_callback("ping", lambda reply, **kw: "pong from a")
    a.response_callbacks["Get"] = lambda reply, **kw: ("a", reply)
    del a.response_callbacks["SET"]
    assert a.ping() == "pong from a"
    assert b.ping() is True
    a.set("k", "v")
    b.set("k", "v")
    assert a.get("k") == ("a", b"v")
    assert b.get("k") == b"v"
    assert "SET" not in a.response_callbacks and "set" in b.response_callbacks
    # a client made afterwards starts from the pristine table
    c = closing(_client(lib, redis_server))
    assert c.ping() is True and c.get("k") == b"v" and "set" in c.response_callbacks


def test_callbacks_are_case_insensitive(lib, redis_server, closing):
    r = closing(_client(lib, redis_server))
    cbs = r.response_callbacks
    assert "ping" in cbs and "PING" in cbs and "PiNg" in cbs
    assert cbs.get("ping") is cbs["PING"]
    cbs["echo"] = lambda reply, **kw: reply.decode() + "!"
    assert "ECHO" in cbs and cbs.get("Echo") is cbs["ECHO"]
    assert r.echo("hi") == "hi!"
    cbs.update({"eChO": lambda reply, **kw: reply.decode() + "?"})
    assert r.echo("hi") == "hi?"
    assert len([k for k in cbs if k.upper() == "ECHO"]) == 1


def test_subclass_callbacks_override_the_table(lib, redis_server, closing):
    class Sub(lib.Redis):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.set_response_callback("PING", lambda reply, **kw: "sub pong")

    s = closing(Sub(host=redis_server.host, port=redis_server.port))
    plain = closing(_client(lib, redis_server))
    assert s.ping() == "sub pong"
    assert plain.ping() is True


def test_replaced_callbacks_mapping(lib, redis_server, closing):
    r = closing(_client(lib, redis_server))
    r.response_callbacks = {"PING": lambda reply, **kw: ("plain dict", reply)}
    assert r.ping() == ("plain dict", b"PONG")
    other = closing(_client(lib, redis_server))
    assert other.ping() is True


def test_from_url_and_pool_clients_get_copies(lib, redis_server, closing):
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    a = closing(lib.Redis.from_url(url))
    pool = lib.ConnectionPool(host=redis_server.host, port=redis_server.port)
    b = closing(lib.Redis(connection_pool=pool))
    closing(pool)
    a.set_response_callback("PING", lambda reply, **kw: 1)
    assert a.ping() == 1 and b.ping() is True


async def _async_callbacks(lib, redis_server):
    a = lib.asyncio.Redis(host=redis_server.host, port=redis_server.port)
    b = lib.asyncio.Redis(host=redis_server.host, port=redis_server.port)
    try:
        assert a.response_callbacks is not b.response_callbacks
        a.set_response_callback("ping", lambda reply, **kw: "async a")
        return await a.ping(), await b.ping(), sorted(a.response_callbacks) == sorted(
            b.response_callbacks)
    finally:
        await a.aclose()
        await b.aclose()


def test_asyncio_clients_have_their_own_callbacks(lib, redis_server):
    import asyncio
    import importlib

    importlib.import_module(lib.__name__ + ".asyncio")
    assert asyncio.run(_async_callbacks(lib, redis_server)) == ("async a", True, True)


# --------------------------------------------------------------------------- Retry copies
BACKOFFS = [
    ("NoBackoff", ()),
    ("ConstantBackoff", (0.5,)),
    ("ExponentialBackoff", (4, 0.01)),
    ("FullJitterBackoff", (4, 0.01)),
    ("EqualJitterBackoff", (4, 0.01)),
    ("DecorrelatedJitterBackoff", (4, 0.01)),
    ("ExponentialWithJitterBackoff", (4, 0.01)),
]


@pytest.mark.parametrize("name,args", BACKOFFS, ids=[b[0] for b in BACKOFFS])
def test_client_retry_is_an_equal_independent_copy(lib, redis_server, closing, name, args):
    backoff_mod = __import__(lib.__name__ + ".backoff", fromlist=["x"])
    retry_mod = __import__(lib.__name__ + ".retry", fromlist=["x"])
    original = retry_mod.Retry(getattr(backoff_mod, name)(*args), 2)
    r = closing(_client(lib, redis_server, retry=original))
    kept = r.get_retry()
    assert kept is not original and kept == original
    assert type(kept) is type(original) and type(kept._backoff) is type(original._backoff)
    assert kept._backoff is not original._backoff
    assert vars(kept._backoff) == vars(original._backoff)
    assert set(kept._supported_errors) == set(original._supported_errors)
    r.ping()
    conn = r.connection_pool.get_connection()
    try:
        assert conn.retry is not kept and conn.retry == kept
        assert conn.retry._backoff is not kept._backoff
        # the copies are independent: changing one leaves the others alone
        conn.retry.update_supported_errors([KeyError])
        conn.retry.update_retries(7)
        assert KeyError not in kept._supported_errors and kept.get_retries() == 2
        assert KeyError not in original._supported_errors and original.get_retries() == 2
    finally:
        r.connection_pool.release(conn)


def test_retry_copy_falls_back_to_deepcopy(api, redis_server, closing):
    """Subclasses, foreign backoffs and extra state are deep-copied as before."""

    class MyBackoff(api.backoff.AbstractBackoff):
        def __init__(self):
            self.history = [1, 2]

        def compute(self, failures):
            return 0

    class MyRetry(api.Retry):
        pass

    for retry in (api.Retry(MyBackoff(), 1), MyRetry(api.backoff.NoBackoff(), 1)):
        r = closing(_client(api.impl, redis_server, retry=retry))
        kept = r.get_retry()
        assert type(kept) is type(retry) and kept is not retry
        assert kept._backoff is not retry._backoff
        if isinstance(retry._backoff, MyBackoff):
            assert kept._backoff.history == [1, 2]
            assert kept._backoff.history is not retry._backoff.history
    tagged = api.Retry(api.backoff.ConstantBackoff(0), 1)
    tagged.note = ["mutable"]
    r = closing(_client(api.impl, redis_server, retry=tagged))
    kept = r.get_retry()
    assert kept.note == ["mutable"] and kept.note is not tagged.note
    weird = api.backoff.ConstantBackoff([0])
    kept = copy.deepcopy(api.Retry(weird, 1))
    r = closing(_client(api.impl, redis_server, retry=api.Retry(weird, 1)))
    assert r.get_retry()._backoff._backoff == [0]
    assert r.get_retry()._backoff._backoff is not weird._backoff


# --------------------------------------------------------------------------- the wire
def test_connect_then_first_command_on_the_wire(wire):
    """The handshake (CLIENT SETINFO twice) and the first command are what
    redis-py sends, in the same order."""
    wire(lambda c: c.ping())
    wire(lambda c: c.ping(), client_name="conn-test", db=2, username="u", password="p")


def test_handshake_is_one_round_trip(impl):
    """Connecting sends the whole handshake in one write and reads its replies
    together (redis-py 7.4 waits for each CLIENT SETINFO reply before sending
    the next; the commands are the same, see the test above), then the first
    command follows: two round trips in all, as the floor of issue #12."""
    import socket
    import threading

    if impl.__name__ == "redis":
        pytest.skip("redis-py sends CLIENT SETINFO in two round trips")
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    chunks = []

    def serve():
        conn, _ = lsock.accept()
        with conn:
            conn.settimeout(5)
            data = conn.recv(65536)
            chunks.append(data)
            conn.sendall(b"-ERR unknown subcommand\r\n" * data.count(b"SETINFO"))
            chunks.append(conn.recv(65536))
            conn.sendall(b"+PONG\r\n")
            chunks.append(conn.recv(65536))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    c = impl.Redis(host="127.0.0.1", port=lsock.getsockname()[1], socket_timeout=5)
    try:
        assert c.ping() is True
    finally:
        c.close()
        t.join(5)
        lsock.close()
    name, version = impl.Redis().connection_pool.connection_kwargs["driver_info"].formatted_name, \
        impl.Redis().connection_pool.connection_kwargs["driver_info"].lib_version

    def packed(*args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        return out

    assert chunks[0] == (packed("CLIENT", "SETINFO", "LIB-NAME", name)
                         + packed("CLIENT", "SETINFO", "LIB-VER", version))
    assert chunks[1] == packed("PING")
    assert chunks[2] == b""     # close() sends nothing more


# --------------------------------------------------------------------------- handshake replies
class _ScriptedServer:
    """A server on 127.0.0.1 that answers each command it receives (pipelined
    or not) with the raw reply ``answer(args)`` returns; it records every
    command and accepts any number of connections."""

    def __init__(self, answer):
        import socket
        import threading

        self.answer = answer
        self.commands = []
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _parse(buf):
        """(commands, rest) of the complete RESP arrays at the start of buf."""
        out = []
        while True:
            if not buf.startswith(b"*") or b"\r\n" not in buf:
                return out, buf
            head, rest = buf.split(b"\r\n", 1)
            args = []
            for _ in range(int(head[1:])):
                if b"\r\n" not in rest:
                    return out, buf
                size_line, tail = rest.split(b"\r\n", 1)
                size = int(size_line[1:])
                if len(tail) < size + 2:
                    return out, buf
                args.append(tail[:size].decode())
                rest = tail[size + 2:]
            out.append(args)
            buf = rest

    def _serve(self):
        import threading

        while True:
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        buf = b""
        with conn:
            conn.settimeout(10)
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                commands, buf = self._parse(buf + data)
                for args in commands:
                    self.commands.append(args)
                    conn.sendall(self.answer(args))

    def close(self):
        self.lsock.close()


def _scripted(setname=b"+OK\r\n", select=b"+OK\r\n", setinfo=b"-ERR unknown subcommand\r\n"):
    def answer(args):
        words = [a.upper() for a in args[:2]]
        if words == ["CLIENT", "SETNAME"]:
            return setname
        if words == ["CLIENT", "SETINFO"]:
            return setinfo
        if words[0] == "SELECT":
            return select
        if words[0] == "PING":
            return b"+PONG\r\n"
        return b"-ERR unexpected\r\n"
    return _ScriptedServer(answer)


def _no_retry_client(lib, server, **kw):
    retry_mod = __import__(lib.__name__ + ".retry", fromlist=["x"])
    backoff_mod = __import__(lib.__name__ + ".backoff", fromlist=["x"])
    return lib.Redis(host="127.0.0.1", port=server.port, socket_timeout=5,
                     retry=retry_mod.Retry(backoff_mod.NoBackoff(), 0), **kw)


@pytest.mark.parametrize("setinfo", [b"-ERR unknown subcommand\r\n", b"+OK\r\n"],
                         ids=["setinfo-refused", "setinfo-ok"])
def test_handshake_accepts_any_setinfo_reply(lib, setinfo):
    server = _scripted(setinfo=setinfo)
    c = _no_retry_client(lib, server, client_name="me", db=3)
    try:
        assert c.ping() is True
        names = [" ".join(a[:2]).upper() for a in server.commands]
        assert names == ["CLIENT SETNAME", "CLIENT SETINFO", "CLIENT SETINFO", "SELECT 3",
                         "PING"]
    finally:
        c.close()
        server.close()


HANDSHAKE_FAILURES = [
    # (what the server answers, exception class name, its message)
    ({"setname": b"-ERR no names here\r\n"}, "ResponseError", "no names here"),
    ({"setname": b"+NOPE\r\n"}, "ConnectionError", "Error setting client name"),
    ({"select": b"-ERR DB index is out of range\r\n"}, "ResponseError",
     "DB index is out of range"),
    ({"select": b"+MAYBE\r\n"}, "ConnectionError", "Invalid Database"),
]


@pytest.mark.parametrize("replies,exc_name,message", HANDSHAKE_FAILURES,
                         ids=["setname-error", "setname-not-ok", "select-error",
                              "select-not-ok"])
def test_handshake_failures_match_redis_py(lib, replies, exc_name, message):
    server = _scripted(**replies)
    c = _no_retry_client(lib, server, client_name="me", db=3)
    try:
        with pytest.raises(getattr(lib.exceptions, exc_name)) as info:
            c.ping()
        assert type(info.value).__name__ == exc_name
        assert str(info.value) == message
        # every handshake reply was read before judging: the failed
        # connection is closed, and the next command starts a new one
        assert all(not x._sock for x in c.connection_pool._available_connections)
    finally:
        c.close()
        server.close()


def test_handshake_goes_through_replaced_methods(lib, redis_server):
    """A connection class that replaces send_packed_command or read_response
    sees the handshake pass through them (the C round trip stands aside)."""
    sent, read = [], []

    class Recording(lib.Connection):
        def send_packed_command(self, command, check_health=True):
            sent.append(command)
            return super().send_packed_command(command, check_health)

        def read_response(self, *args, **kwargs):
            reply = super().read_response(*args, **kwargs)
            read.append(reply)
            return reply

    pool = lib.ConnectionPool(host=redis_server.host, port=redis_server.port,
                              connection_class=Recording, client_name="recorded")
    c = lib.Redis(connection_pool=pool)
    try:
        assert c.ping() is True
        assert any(b"SETNAME" in b"".join(x if isinstance(x, list) else [x]) for x in sent)
        assert b"OK" in read or "OK" in read or True in read
    finally:
        c.close()
        pool.disconnect()


# --------------------------------------------------------------------------- event dispatchers
def test_default_event_dispatchers(lib, redis_server, closing):
    """Clients, pools and connections built without an event_dispatcher each
    have their own (redis_native makes it when it is first read): a listener
    registered on the client's hears what the client announces."""
    ev = __import__(lib.__name__ + ".event", fromlist=["x"])
    r = closing(_client(lib, redis_server))
    other = closing(_client(lib, redis_server))
    mine = r._event_dispatcher
    assert isinstance(mine, ev.EventDispatcher) and r._event_dispatcher is mine
    assert other._event_dispatcher is not mine
    pool = r.connection_pool
    assert isinstance(pool._event_dispatcher, ev.EventDispatcher)
    assert pool._event_dispatcher is pool._event_dispatcher
    assert pool._event_dispatcher is not other.connection_pool._event_dispatcher
    conn = pool.get_connection()
    try:
        for name in ("_event_dispatcher", "event_dispatcher"):
            assert isinstance(getattr(conn, name), ev.EventDispatcher)
            assert getattr(conn, name) is getattr(conn, name)
    finally:
        pool.release(conn)

    heard = []

    class Listener(ev.EventListenerInterface):
        def listen(self, event):
            heard.append(type(event).__name__)

    mine.register_listeners({ev.AfterPubSubConnectionInstantiationEvent: [Listener()]})
    p = r.pubsub()
    p.subscribe("dispatch-test")
    p.close()
    q = other.pubsub()
    q.subscribe("dispatch-test")
    q.close()
    assert heard == ["AfterPubSubConnectionInstantiationEvent"]


def test_given_event_dispatcher_is_used(lib, redis_server, closing):
    ev = __import__(lib.__name__ + ".event", fromlist=["x"])
    heard = []

    class Listener(ev.EventListenerInterface):
        def listen(self, event):
            heard.append(type(event).__name__)

    given = ev.EventDispatcher()
    given.register_listeners({ev.AfterPooledConnectionsInstantiationEvent: [Listener()],
                              ev.AfterSingleConnectionInstantiationEvent: [Listener()]})
    r = closing(_client(lib, redis_server, event_dispatcher=given))
    assert r._event_dispatcher is given
    s = closing(_client(lib, redis_server, event_dispatcher=given,
                        single_connection_client=True))
    assert s.ping() is True
    assert heard == ["AfterPooledConnectionsInstantiationEvent",
                     "AfterPooledConnectionsInstantiationEvent",
                     "AfterSingleConnectionInstantiationEvent"]


# --------------------------------------------------------------------------- shared table
def test_callbacks_of_an_unread_table_apply(lib, redis_server, closing):
    """A client whose response_callbacks were never read applies the same
    callbacks as one that read (and so copied) them."""
    fresh = closing(_client(lib, redis_server))
    read = closing(_client(lib, redis_server))
    assert len(read.response_callbacks) > 100
    fresh.hset("cb-table", mapping={"a": 1})
    for c in (fresh, read):
        assert c.hgetall("cb-table") == {b"a": b"1"}
        assert c.ping() is True
        assert c.exists("cb-table") == 1
    # the client reads the table after commands: still the whole table
    assert sorted(fresh.response_callbacks) == sorted(read.response_callbacks)
    del fresh.response_callbacks
    with pytest.raises(AttributeError):
        fresh.response_callbacks
    with pytest.raises(AttributeError):
        fresh.ping()
    fresh.response_callbacks = {}
    assert fresh.ping() == b"PONG"


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize("cls", ["Connection", "UnixDomainSocketConnection", "SSLConnection"])
def test_unknown_connection_setting(lib, cls):
    """Connection classes name AbstractConnection's settings themselves; an
    unknown one fails with the TypeError redis-py's AbstractConnection gives,
    and the accepted-but-unused RESP3 settings pass when None."""
    klass = getattr(lib.connection, cls)
    with pytest.raises(TypeError) as info:
        klass(no_such_setting=1)
    assert str(info.value) == ("AbstractConnection.__init__() got an unexpected keyword "
                               "argument 'no_such_setting'")
    conn = klass(maint_notifications_config=None, db=2, client_name="named",
                 socket_timeout=1.5, retry_on_timeout=True)
    assert (conn.db, conn.client_name, conn.socket_timeout) == (2, "named", 1.5)
    assert conn.retry_on_timeout is True


def test_connection_signatures_are_redis_pys(lib, redis_py):
    import inspect

    for cls in ("Connection", "UnixDomainSocketConnection"):
        mine = inspect.signature(getattr(lib.connection, cls).__init__)
        theirs = inspect.signature(getattr(redis_py.connection, cls).__init__)
        assert [(p.name, p.kind, p.default) for p in mine.parameters.values()] == \
               [(p.name, p.kind, p.default) for p in theirs.parameters.values()]


# --------------------------------------------------------------------------- dropping a client
def test_dropped_client_closes_like_redis_py(lib, redis_server):
    """A client dropped without close() runs close(): an owned pool is
    disconnected, a given pool is left alone, a single connection goes back,
    and a subclass's close() is the one called (its errors ignored)."""
    import gc

    r = lib.Redis(host=redis_server.host, port=redis_server.port)
    r.ping()
    owned = r.connection_pool
    conn = owned._available_connections[0]
    del r
    gc.collect()
    assert not conn._sock

    pool = lib.ConnectionPool(host=redis_server.host, port=redis_server.port)
    r = lib.Redis(connection_pool=pool)
    r.ping()
    kept = pool._available_connections[0]
    del r
    gc.collect()
    assert kept._sock
    pool.disconnect()

    single = lib.Redis(host=redis_server.host, port=redis_server.port,
                       single_connection_client=True)
    single.ping()
    spool = single.connection_pool
    del single
    gc.collect()
    assert len(spool._in_use_connections) == 0

    closed = []

    class Sub(lib.Redis):
        def close(self):
            closed.append(True)
            raise ValueError("ignored at deallocation")

    s = Sub(host=redis_server.host, port=redis_server.port)
    del s
    gc.collect()
    assert closed == [True]
