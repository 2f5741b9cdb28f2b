"""redis-py's sync ``Redis.execute_command`` runs in named steps:
``_execute_command`` retries ``_send_command_parse_response`` (send, then
``parse_response``) and calls ``_close_connection`` between attempts.  A
subclass, a class patch or an instance attribute replacing any of them is
called where redis-py calls it, with the same arguments; run on redis_native
and on redis-py alike against a real server."""
import importlib
from unittest import mock

import pytest


def _client(lib, redis_server, **kw):
    return lib.Redis(host=redis_server.host, port=redis_server.port, **kw)


def _tracing_subclass(lib, seen):
    class Traced(lib.Redis):
        def _execute_command(self, *args, **options):
            seen.append(("execute", args[0], sorted(options)))
            return super()._execute_command(*args, **options)

        def _send_command_parse_response(self, conn, command_name, *args, **options):
            seen.append(("send_parse", command_name, args[1:], sorted(options)))
            return super()._send_command_parse_response(conn, command_name, *args, **options)

        def _close_connection(self, conn, error=None, failure_count=None, start_time=None,
                              command_name=None):
            seen.append(("close", type(error).__name__, failure_count, command_name))
            return super()._close_connection(conn, error, failure_count, start_time,
                                             command_name)

    return Traced


@pytest.mark.parametrize("single", [False, True])
def test_steps_run_in_order_with_their_arguments(lib, redis_server, single):
    seen = []
    r = _tracing_subclass(lib, seen)(host=redis_server.host, port=redis_server.port,
                                     single_connection_client=single)
    try:
        r.delete("steps:k")
        assert r.set("steps:k", "v") is True
        assert r.get("steps:k") == b"v"
        assert r.exists("steps:k") == 1
        assert r.hgetall("steps:nothing") == {}
        with pytest.raises(lib.exceptions.ResponseError):
            r.incr("steps:k")
    finally:
        r.close()
    assert seen == [
        ("execute", "DEL", []), ("send_parse", "DEL", ("steps:k",), []),
        ("execute", "SET", []), ("send_parse", "SET", ("steps:k", "v"), []),
        ("execute", "GET", ["keys"]), ("send_parse", "GET", ("steps:k",), ["keys"]),
        ("execute", "EXISTS", ["keys"]), ("send_parse", "EXISTS", ("steps:k",), ["keys"]),
        ("execute", "HGETALL", ["keys"]), ("send_parse", "HGETALL", ("steps:nothing",), ["keys"]),
        ("execute", "INCRBY", []), ("send_parse", "INCRBY", ("steps:k", 1), []),
    ]


def test_close_connection_between_attempts(lib, redis_server):
    """A command that times out twice with one retry allowed: the hook sees
    each failure with its count and the command name, then the error
    propagates."""
    retry = importlib.import_module(lib.__name__ + ".retry")
    backoff = importlib.import_module(lib.__name__ + ".backoff")
    seen = []
    r = _tracing_subclass(lib, seen)(host=redis_server.host, port=redis_server.port,
                                     socket_timeout=0.15,
                                     retry=retry.Retry(backoff.NoBackoff(), 1))
    try:
        with pytest.raises(lib.exceptions.TimeoutError):
            r.execute_command("BLPOP", "steps:none", "1")
    finally:
        r.close()
    assert [s for s in seen if s[0] == "close"] == [
        ("close", "TimeoutError", 1, "BLPOP"), ("close", "TimeoutError", 2, "BLPOP")]
    assert [s[0] for s in seen] == ["execute", "send_parse", "close", "send_parse", "close"]


def test_replacement_that_answers_itself(lib, redis_server):
    """A _send_command_parse_response that never touches the connection is
    the command's whole attempt; its value is the result."""
    class Canned(lib.Redis):
        def _send_command_parse_response(self, conn, command_name, *args, **options):
            return ("canned", command_name, args)

    r = Canned(host=redis_server.host, port=redis_server.port)
    try:
        assert r.get("x") == ("canned", "GET", ("GET", "x"))
        assert r.execute_command("PING") == ("canned", "PING", ("PING",))
    finally:
        r.close()


def test_instance_attribute_and_class_patch(lib, redis_server):
    seen = []
    r = _client(lib, redis_server)
    try:
        assert r.ping() is True
        real = r._send_command_parse_response

        def on_instance(conn, command_name, *args, **options):
            seen.append(("instance", command_name))
            return real(conn, command_name, *args, **options)

        r._send_command_parse_response = on_instance
        assert r.set("steps:i", 1) is True
        del r._send_command_parse_response
        assert r.get("steps:i") == b"1"

        original = lib.Redis._execute_command

        def on_class(self, *args, **options):
            seen.append(("class", args[0]))
            return original(self, *args, **options)

        with mock.patch.object(lib.Redis, "_execute_command", on_class):
            assert r.incr("steps:i") == 2
        assert r.get("steps:i") == b"2"
    finally:
        r.close()
    assert seen == [("instance", "SET"), ("class", "INCRBY")]


def test_plain_client_calls_are_direct(lib, redis_server):
    """Calling the steps directly on a plain client works as in redis-py."""
    r = _client(lib, redis_server)
    try:
        assert r._execute_command("SET", "steps:d", "1") is True
        conn = r.connection_pool.get_connection()
        try:
            assert r._send_command_parse_response(conn, "GET", "GET", "steps:d") == b"1"
            r._close_connection(conn)
            assert r._send_command_parse_response(conn, "INCR", "INCR", "steps:d") == 2
        finally:
            r.connection_pool.release(conn)
    finally:
        r.close()


def test_execute_command_binds_like_a_function(lib, redis_server):
    """Read through an instance, execute_command is a types.MethodType whose
    __self__ is the client (tracers wrapping one client's method take the
    instance from it), on clients and pipelines, as redis-py's functions."""
    import inspect

    r = _client(lib, redis_server)
    try:
        for obj in (r, r.pipeline()):
            bound = obj.execute_command
            assert inspect.ismethod(bound)
            assert bound.__self__ is obj
            assert bound.__name__ == "execute_command"
        # a per-instance wrapper built the way wrapt builds one
        seen = []
        bound = r.execute_command

        def wrapper(*args, **options):
            seen.append((type(bound.__self__).__name__, args[0]))
            return bound.__func__(bound.__self__, *args, **options)

        r.execute_command = wrapper
        assert r.set("steps:b", 1) is True
        assert r.get("steps:b") == b"1"
        del r.execute_command
        assert r.get("steps:b") == b"1"
        assert seen == [("Redis", "SET"), ("Redis", "GET")]
        assert "(self, *args, **options)" in str(inspect.signature(lib.Redis.execute_command))
    finally:
        r.close()
