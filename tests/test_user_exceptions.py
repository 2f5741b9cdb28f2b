"""Exceptions raised by user code around a command propagate unchanged
(DESIGN rule 10): a pool's release()/get_connection(), a connection's
connect()/disconnect()/send_command()/read_response(), a response callback,
a parse_response override, a Retry's backoff, a credential provider, a
signal handler during the backoff sleep.

Never a SystemError ("returned a result with an exception set"), never a
swallowed error.  When user code raises while the command's own error is in
flight, the user's exception wins and carries the command's as
``__context__``, as redis-py's ``finally: pool.release(conn)`` and its
``except`` clause in ``Retry.call_with_retry`` do.  Every scenario runs
against redis_native and against redis-py 7.4.1 (the oracle) with the same
expectations, except where the module docstring of a test says otherwise.
"""
from __future__ import annotations

import signal
import threading

import pytest


class Boom(Exception):
    """What the user code in these tests raises."""


@pytest.fixture(params=["native", "redis_py"])
def mod(request, impl, redis_py):
    return impl if request.param == "native" else redis_py


def _client(mod, redis_server, **kw):
    return mod.Redis(host=redis_server.host, port=redis_server.port, **kw)


def _pool(mod, redis_server, cls=None, **kw):
    cls = cls or mod.ConnectionPool
    return cls(host=redis_server.host, port=redis_server.port, **kw)


def _context_chain(exc):
    out = []
    while exc is not None and len(out) < 10:
        out.append(type(exc))
        exc = exc.__context__
    return out


# ------------------------------------------------------------------ the pool's methods
def test_release_raising_reaches_the_caller(mod, redis_server):
    """The issue's reproducer: SystemError before the fix."""
    class BadRelease(mod.ConnectionPool):
        def release(self, connection):
            super().release(connection)
            raise Boom("release")

    r = mod.Redis(connection_pool=_pool(mod, redis_server, BadRelease))
    with pytest.raises(Boom, match="release") as info:
        r.ping()
    assert info.value.__context__ is None
    # the connection did go back before the raise: the client still works
    with pytest.raises(Boom):
        r.set("ue:k", "v")
    assert r.connection_pool._in_use_connections == set()
    r.connection_pool.disconnect()


def test_release_raising_after_a_failed_command_chains_the_command_error(mod, redis_server):
    class BadRelease(mod.ConnectionPool):
        def release(self, connection):
            super().release(connection)
            raise Boom("release")

    r = mod.Redis(connection_pool=_pool(mod, redis_server, BadRelease))
    with pytest.raises(Boom) as info:
        r.execute_command("NO-SUCH-COMMAND-UE")
    assert isinstance(info.value.__context__, mod.ResponseError)
    assert "unknown command" in str(info.value.__context__).lower()
    r.connection_pool.disconnect()


def test_release_raising_replaces_a_successful_result(mod, redis_server):
    calls = []

    class BadRelease(mod.ConnectionPool):
        def release(self, connection):
            super().release(connection)
            calls.append(1)
            if len(calls) == 1:
                raise Boom("release")

    r = mod.Redis(connection_pool=_pool(mod, redis_server, BadRelease))
    with pytest.raises(Boom):
        r.set("ue:set", "1")
    # the command itself ran
    assert r.get("ue:set") == b"1"
    r.connection_pool.disconnect()


def test_get_connection_raising(mod, redis_server):
    class BadGet(mod.ConnectionPool):
        def get_connection(self, *args, **kwargs):
            raise Boom("get")

    r = mod.Redis(connection_pool=_pool(mod, redis_server, BadGet))
    with pytest.raises(Boom, match="get"):
        r.ping()


def test_get_connection_returning_junk(mod, redis_server):
    class JunkGet(mod.ConnectionPool):
        def get_connection(self, *args, **kwargs):
            return None

        def release(self, connection):
            pass

    r = mod.Redis(connection_pool=_pool(mod, redis_server, JunkGet))
    with pytest.raises(AttributeError):
        r.ping()


def test_make_connection_raising(mod, redis_server):
    class BadMake(mod.ConnectionPool):
        def make_connection(self):
            raise Boom("make")

    pool = _pool(mod, redis_server, BadMake)
    r = mod.Redis(connection_pool=pool)
    with pytest.raises(Boom, match="make"):
        r.ping()
    assert pool._in_use_connections == set()


# ------------------------------------------------------------------ the connection's methods
def test_connect_raising_gives_the_connection_back(mod, redis_server):
    class BadConnect(mod.Connection):
        def connect(self, *args, **kwargs):
            raise Boom("connect")

    pool = _pool(mod, redis_server, connection_class=BadConnect)
    r = mod.Redis(connection_pool=pool)
    for _ in range(3):
        with pytest.raises(Boom, match="connect"):
            r.ping()
    assert pool._in_use_connections == set()
    assert len(pool._available_connections) == 1


def test_connect_and_release_raising(mod, redis_server):
    """get_connection's own release of a connection that failed to connect
    raises: that error propagates, with the connect error as context."""
    class BadConnect(mod.Connection):
        def connect(self, *args, **kwargs):
            raise Boom("connect")

    class BadRelease(mod.ConnectionPool):
        def release(self, connection):
            super().release(connection)
            raise KeyError("release")

    pool = _pool(mod, redis_server, BadRelease, connection_class=BadConnect)
    r = mod.Redis(connection_pool=pool)
    with pytest.raises(KeyError) as info:
        r.ping()
    assert _context_chain(info.value)[:2] == [KeyError, Boom]


def test_send_command_raising(mod, redis_server):
    class BadSend(mod.Connection):
        def send_command(self, *args, **kwargs):
            raise Boom("send")

    pool = _pool(mod, redis_server, connection_class=BadSend)
    r = mod.Redis(connection_pool=pool)
    with pytest.raises(Boom, match="send"):
        r.ping()
    assert pool._in_use_connections == set()


def test_read_response_raising(mod, redis_server):
    class BadRead(mod.Connection):
        def read_response(self, *args, **kwargs):
            super().read_response(*args, **kwargs)
            raise Boom("read")

    pool = _pool(mod, redis_server, connection_class=BadRead)
    r = mod.Redis(connection_pool=pool)
    with pytest.raises(Boom, match="read"):
        r.get("ue:x")
    assert pool._in_use_connections == set()


def test_credential_provider_raising(mod, redis_server):
    class BadCredentials(mod.credentials.CredentialProvider):
        def get_credentials(self):
            raise Boom("credentials")

    r = _client(mod, redis_server, credential_provider=BadCredentials())
    with pytest.raises(Boom, match="credentials"):
        r.ping()
    assert r.connection_pool._in_use_connections == set()


# ------------------------------------------------------------------ callbacks and parse_response
def test_response_callback_raising(mod, redis_server):
    r = _client(mod, redis_server)

    def bad(response, **options):
        raise Boom("callback")

    r.set_response_callback("PING", bad)
    with pytest.raises(Boom, match="callback"):
        r.ping()
    assert r.connection_pool._in_use_connections == set()
    # the connection stays in step: the next command gets its own reply
    r.set("ue:after", "v")
    assert r.get("ue:after") == b"v"
    r.close()


def test_response_callback_and_release_raising(mod, redis_server):
    """The callback runs before the connection is released (inside
    parse_response in redis-py): release's error wins, the callback's is its
    context."""
    class BadRelease(mod.ConnectionPool):
        def release(self, connection):
            super().release(connection)
            raise KeyError("release")

    r = mod.Redis(connection_pool=_pool(mod, redis_server, BadRelease))

    def bad(response, **options):
        raise Boom("callback")

    r.set_response_callback("PING", bad)
    with pytest.raises(KeyError) as info:
        r.ping()
    assert _context_chain(info.value)[:2] == [KeyError, Boom]


def test_response_callback_not_callable(mod, redis_server):
    r = _client(mod, redis_server)
    r.set_response_callback("PING", 42)
    with pytest.raises(TypeError):
        r.ping()
    r.close()


def test_response_callbacks_container_raising(mod, redis_server):
    """parse_response asks `name in response_callbacks`: a container whose
    __contains__ raises propagates."""
    class Hostile(dict):
        def __contains__(self, key):
            raise Boom("contains")

    r = _client(mod, redis_server)
    cbs = Hostile()
    r.response_callbacks = cbs
    try:
        r.ping()
    except Boom:
        pass            # redis-py; also redis_native for non-dict containers
    # never anything else; the connection went back
    assert r.connection_pool._in_use_connections == set()
    r.close()


def test_parse_response_override_raising(mod, redis_server):
    class BadParse(mod.Redis):
        def parse_response(self, connection, command_name, **options):
            connection.read_response()
            raise Boom("parse")

    r = BadParse(host=redis_server.host, port=redis_server.port)
    with pytest.raises(Boom, match="parse"):
        r.ping()
    assert r.connection_pool._in_use_connections == set()
    r.close()


# ------------------------------------------------------------------ the retry machinery
def _failing_connection(mod, times):
    """A connection class whose first `times` sends raise ConnectionError."""
    state = {"left": times}

    class Flaky(mod.Connection):
        def send_command(self, *args, **kwargs):
            if state["left"] > 0:
                state["left"] -= 1
                raise mod.ConnectionError("flaky")
            return super().send_command(*args, **kwargs)

    return Flaky


def _retry(mod, backoff, retries=2):
    return mod.retry.Retry(backoff, retries, supported_errors=(mod.ConnectionError,))


def test_retry_recovers(mod, redis_server):
    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 1)
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, mod.backoff.NoBackoff())
    assert r.ping() is True
    r.close()


def test_backoff_compute_raising_chains_the_command_error(mod, redis_server):
    class BadBackoff(mod.backoff.NoBackoff):
        def compute(self, failures):
            raise Boom("compute")

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 5)
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, BadBackoff())
    with pytest.raises(Boom, match="compute") as info:
        r.ping()
    assert isinstance(info.value.__context__, mod.ConnectionError)
    assert r.connection_pool._in_use_connections == set()
    r.close()


def test_backoff_returning_junk(mod, redis_server):
    class JunkBackoff(mod.backoff.NoBackoff):
        def compute(self, failures):
            return "soon"

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 5)
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, JunkBackoff())
    with pytest.raises(TypeError) as info:
        r.ping()
    assert isinstance(info.value.__context__, mod.ConnectionError)
    r.close()


def test_backoff_reset_raising(mod, redis_server):
    """redis-py resets the backoff before every command, redis_native at a
    command's first failure (docs/architecture.md): both raise the reset
    error once a command fails, never a SystemError."""
    class BadReset(mod.backoff.NoBackoff):
        def reset(self):
            raise Boom("reset")

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 5)
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, BadReset())
    with pytest.raises(Boom, match="reset"):
        r.ping()
    r.close()


def test_disconnect_raising_during_retry(mod, redis_server):
    base = _failing_connection(mod, 5)

    class BadDisconnect(base):
        def disconnect(self, *args, **kwargs):
            super().disconnect(*args, **kwargs)
            raise Boom("disconnect")

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = BadDisconnect
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, mod.backoff.NoBackoff())
    with pytest.raises(Boom, match="disconnect") as info:
        r.ping()
    assert isinstance(info.value.__context__, mod.ConnectionError)


def test_retry_supported_errors_raising(mod, redis_server):
    """A Retry whose attributes raise: that error, not a SystemError."""
    class Weird(mod.retry.Retry):
        @property
        def _supported_errors(self):
            raise Boom("supported")

        @_supported_errors.setter
        def _supported_errors(self, value):
            pass

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 5)
    r.connection_pool.connection_kwargs["retry"] = Weird(mod.backoff.NoBackoff(), 2)
    with pytest.raises(Boom, match="supported"):
        r.ping()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_during_backoff_sleep(mod, redis_server):
    """Ctrl-C (here: a raising SIGALRM handler) during the retry sleep: the
    handler's exception, with the command's error as context."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")

    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted("alarm")

    r = _client(mod, redis_server)
    r.connection_pool.connection_class = _failing_connection(mod, 5)
    r.connection_pool.connection_kwargs["retry"] = _retry(mod, mod.backoff.ConstantBackoff(30))
    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted) as info:
            r.ping()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert isinstance(info.value.__context__, mod.ConnectionError)
    assert r.connection_pool._in_use_connections == set()


# ------------------------------------------------------------------ single connection client
def test_single_connection_read_raising_keeps_the_client_usable(mod, redis_server):
    class BadRead(mod.Connection):
        fail = False

        def read_response(self, *args, **kwargs):
            if BadRead.fail:
                BadRead.fail = False
                raise Boom("read")
            return super().read_response(*args, **kwargs)

    pool = _pool(mod, redis_server, connection_class=BadRead)
    r = mod.Redis(connection_pool=pool, single_connection_client=True)
    BadRead.fail = True       # after the connect handshake
    with pytest.raises(Boom):
        r.ping()
    # the lock was released: the next command does not hang; the abandoned
    # PONG is not served to it
    r.connection.disconnect()
    assert r.echo("fresh") == b"fresh"
    r.close()


# ------------------------------------------------------------------ replies owed (rule 11)
def test_released_connection_with_a_reply_owed_is_not_reused_as_is(impl, redis_server):
    """User code sends a command and gives the connection back without
    reading the reply: the pool disconnects it, so the next user does not
    read that reply as its own.  Needs the connection to count what it owes
    (rn_conn.owed, maintained by connection.c)."""
    pool = _pool(impl, redis_server)
    conn = pool.get_connection()
    conn.send_command("ECHO", "stale")
    pool.release(conn)
    again = pool.get_connection()
    assert again is conn
    again.send_command("ECHO", "fresh")
    assert again.read_response() == b"fresh"
    pool.release(again)
    pool.disconnect()
