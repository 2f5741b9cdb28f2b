"""Differential tests: connection and server basics (redis_native vs redis-py).

Nondeterministic results (TIME, client ids, INFO values...) are compared by shape.
Also holds self-tests of the differential harness itself (tests/diffutil.py).
"""
import datetime

import pytest

import diffutil
from diffutil import Raised, first_difference, shape

NON_UTF8 = b"\xff\xfe"
UNICODE = "s\u00e9rv\u00e9r \u2601"


# ------------------------------------------------------------------ connection
def test_ping_echo(diff):
    diff("ping")
    diff("echo", "hello")
    diff("echo", b"bytes")
    diff("echo", UNICODE)
    diff("echo", "")
    diff("echo", 42)
    diff("echo", 1.5)
    diff("echo", NON_UTF8)  # UnicodeDecodeError with decode_responses
    diff("echo", b"x" * (1024 * 1024))
    diff("echo", None)  # DataError


def test_client_setname_getname(diff):
    diff("client_getname")
    diff("client_setname", "my-client")
    diff("client_getname")
    diff("client_setname", UNICODE)
    diff("client_getname")
    diff("client_setname", "has space")  # server error
    diff("client_setname", "")
    diff("client_getname")


def test_client_id_info_list(diff):
    diff.shape("client_id")
    diff.apply(lambda c: c.client_id() > 0)
    diff.shape("client_info")
    diff.apply(lambda c: c.client_info()["id"] == c.client_id())
    # each side runs on its own db (native 1, oracle 2)
    diff.apply(lambda c: c.client_info()["db"] == c.connection_pool.connection_kwargs["db"])
    diff.apply(lambda c: shape(c.client_list(client_id=[c.client_id()])))
    diff.apply(lambda c: len(c.client_list(client_id=[c.client_id()])))
    diff.apply(lambda c: shape(c.client_list()[0]))
    diff.apply(lambda c: type(c.client_list(_type="normal")).__name__)
    diff("client_list", _type="bogus")  # DataError
    diff("client_list", client_id="notalist")  # DataError
    diff.apply(lambda c: c.client_list(client_id=[999999999]))


def test_client_name_in_list(diff):
    diff("client_setname", "listed-name")
    diff.apply(lambda c: [e["name"] for e in c.client_list(client_id=[c.client_id()])])
    diff.apply(lambda c: c.client_info()["name"])


def test_execute_command_raw(diff):
    # response callbacks are found case-insensitively by command name
    diff("execute_command", "SET", "k", "v")
    diff("execute_command", "set", "k2", "v2")
    diff("execute_command", "GET", "k")
    diff("execute_command", "PING")
    diff("execute_command", "ping")
    diff("execute_command", "HSET", "h", "f", "v", "g", 1)
    diff("execute_command", "HGETALL", "h")
    diff("execute_command", "hgetall", "h")
    diff("execute_command", "RPUSH", "l", 1, 2.5, b"x", UNICODE)
    diff("execute_command", "LRANGE", "l", 0, -1)
    diff("execute_command", "SMEMBERS", "nope")
    diff("execute_command", "INCRBYFLOAT", "f", 1.5)
    diff("execute_command", "NOSUCHCOMMAND", "x")
    diff("execute_command", "GET")
    diff("execute_command", "SET", "k", None)  # DataError
    diff("execute_command", "SET", "k", True)  # DataError
    diff("execute_command", "EXISTS", "k", "k2", "nope")
    diff("execute_command", "TYPE", "h")
    diff("execute_command", "OBJECT", "ENCODING", "h")
    diff.shape("execute_command", "TIME")


# ------------------------------------------------------------------ server
def test_dbsize_flushdb(diff):
    diff("dbsize")
    diff("mset", {"a": 1, "b": 2, "c": 3})
    diff("dbsize")
    diff("flushdb")
    diff("dbsize")
    diff("set", "a", 1)
    diff("flushdb", asynchronous=True)
    diff("dbsize")
    diff("set", "a", 1)
    diff("flushdb", True)
    diff("dbsize")


def test_flushall(diff):
    # both sides share one server: flushall on one side empties the other's db too,
    # but every step runs on both sides in turn, so results stay comparable
    diff("set", "a", 1)
    diff("flushall")
    diff("dbsize")
    diff("set", "a", 1)
    diff("flushall", asynchronous=True)
    diff("dbsize")


def test_time_lastsave(diff):
    diff.shape("time")
    diff.apply(lambda c: (len(c.time()), c.time()[0] > 1600000000, 0 <= c.time()[1] < 1000000))
    diff.shape("lastsave")
    diff.apply(lambda c: isinstance(c.lastsave(), datetime.datetime))


def _info_shape(x):
    return shape(x, loose_numbers=True, dict_keys=True)


@pytest.mark.parametrize("section", ["server", "clients", "memory", "persistence", "stats",
                                     "replication", "cpu", "keyspace", "errorstats", "modules"])
def test_info_sections(diff, section):
    diff.setup(lambda c: c.set("k", "v"))
    if section in ("stats", "cpu", "memory", "persistence", "errorstats", "clients"):
        # value types and key sets may legitimately move between the two calls
        diff.loose_shape("info", section)
    else:
        diff.cmp(_info_shape, "info", section)
    diff.apply(lambda c: type(c.info(section)).__name__)


def test_info_default_all_multi(diff):
    diff.loose_shape("info")
    diff.loose_shape("info", "all")
    diff.loose_shape("info", "everything")
    diff.loose_shape("info", "server", "clients")
    diff.apply(lambda c: sorted(k for k in c.info("server") if k.startswith("redis_")))
    diff.apply(lambda c: c.info("server")["redis_version"])
    diff.apply(lambda c: c.info("server")["tcp_port"])
    diff.apply(lambda c: type(c.info("commandstats")).__name__)
    diff.apply(lambda c: sorted(c.info("commandstats").get("cmdstat_info", {})))
    diff("info", "nosuchsection")


def test_info_keyspace_values(diff):
    diff.setup(lambda c: c.mset({"a": 1, "b": 2}))
    diff.setup(lambda c: c.expire("a", 1000))
    diff.apply(lambda c: {k: sorted(v) for k, v in c.info("keyspace").items()})
    diff.apply(lambda c: c.info("keyspace")["db1"]["keys"])


def test_config_get(diff):
    diff("config_get", "maxmemory")
    diff("config_get", "maxmemory-policy")
    diff("config_get", "*max-*-entries*")
    diff("config_get", "maxmemory", "timeout")  # several patterns (redis >= 7)
    diff("config_get", "nosuchparam")
    diff.cmp(lambda d: sorted(d) if isinstance(d, dict) else d, "config_get")
    diff.apply(lambda c: type(c.config_get()).__name__)


def test_config_set(diff):
    orig = diff.oracle_admin.config_get("maxmemory-samples")["maxmemory-samples"]
    try:
        diff("config_set", "maxmemory-samples", 7)
        diff("config_get", "maxmemory-samples")
        diff("config_set", "maxmemory-samples", "6")
        diff("config_get", "maxmemory-samples")
        diff("config_set", "maxmemory-samples", 8, "hz", 10)  # multiple pairs (redis >= 7)
        diff("config_get", "maxmemory-samples", "hz")
        diff("config_set", "maxmemory-samples", "notanumber")
        diff("config_set", "nosuchparam", "1")
        diff("config_set", "maxmemory-samples", None)  # DataError
    finally:
        diff.oracle_admin.config_set("maxmemory-samples", orig, "hz", 10)


def test_select_is_per_connection(diff):
    diff("execute_command", "SELECT", 99999)  # invalid db: server error


def test_server_error_messages(diff):
    diff("execute_command", "SET")
    diff("execute_command", "GET", "a", "b")
    diff("execute_command", "INCR", "x", "y")
    diff("execute_command", "EXPIRE", "x", "notanumber")
    diff("execute_command", "CONFIG", "BOGUS")


# ------------------------------------------------------------------ harness self-tests
@pytest.mark.parametrize("a,b", [
    ([1], (1,)),
    (b"x", "x"),
    (1, True),
    (1, 1.0),
    ({"a": 1}, {b"a": 1}),
    ({"a": 1}, {"a": 1, "b": 2}),
    ([b"x", [1, 2]], [b"x", [1, "2"]]),
    ({1, 2}, {1, 3}),
    (None, 0),
    (None, b""),
    ([(b"a", 1.0)], [[b"a", 1.0]]),
])
def test_harness_detects_difference(a, b):
    assert first_difference(a, b) is not None
    assert first_difference(b, a) is not None
    with pytest.raises(AssertionError):
        diffutil.compare(a, b)


@pytest.mark.parametrize("v", [1, 1.5, float("nan"), b"x", "x", None, True, [1, (2, b"3")],
                               {b"k": [1.0, None]}, {1, 2}, ()])
def test_harness_accepts_equal(v):
    assert first_difference(v, v) is None


def test_harness_exceptions():
    from redis.exceptions import DataError, ResponseError

    class ResponseErrorLookalike(Exception):
        pass

    ResponseErrorLookalike.__name__ = "ResponseError"
    assert first_difference(Raised(ResponseError("a")), Raised(ResponseError("a"))) is None
    assert first_difference(Raised(ResponseError("a")), Raised(ResponseError("b"))) is not None
    assert first_difference(Raised(ResponseError("a")), Raised(ResponseError("b")), msg=False) is None
    assert first_difference(Raised(DataError("a")), Raised(DataError("b"))) is not None
    assert first_difference(Raised(ValueError("a")), Raised(ValueError("b"))) is None
    assert first_difference(Raised(DataError("a")), Raised(ResponseError("a"))) is not None
    # same name, wrong hierarchy
    assert first_difference(Raised(ResponseErrorLookalike("a")), Raised(ResponseError("a"))) is not None
    assert first_difference(Raised(ValueError("a")), None) is not None
    assert first_difference(None, Raised(ValueError("a"))) is not None


def test_harness_check_sequential(r, oracle):
    res = diffutil.check(r, oracle, [("set", ("k", "v")), ("get", ("k",)), ("incr", ("k",))])
    assert res[0] is True and res[1] == b"v"
    assert isinstance(res[2], Exception)


def test_harness_state_check_catches_divergence(diff_bytes):
    d = diff_bytes
    d.native_admin.set("only-native", 1)
    with pytest.raises(AssertionError):
        d.assert_same_state()
    d.native_admin.delete("only-native")
    d.native_admin.set("k", 1, ex=100)
    d.oracle_admin.set("k", 1)
    with pytest.raises(AssertionError):
        d.assert_same_state()
    d.oracle_admin.expire("k", 50)
    d.assert_same_state()
