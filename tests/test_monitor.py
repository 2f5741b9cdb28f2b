"""Monitor against a real redis-server, compared with redis-py's Monitor.

The same commands are sent by one "actor" connection (a redis-py client with a
single connection, so its address and port stay the same) while first the
client under test and then redis-py monitor the server; the parsed dicts must
be equal apart from the timestamp.  The line parser is also checked directly
against redis-py's on hand-made and generated MONITOR lines.
"""
import inspect
import time

import pytest
from hypothesis import given, settings, strategies as st

import redis_native.client
from servers import RedisServer

WAIT = 15.0


@pytest.fixture(scope="module")
def mon_server():
    """A private server: no other client's commands show up in MONITOR."""
    srv = RedisServer()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def actor(redis_py, mon_server):
    c = redis_py.Redis(host=mon_server.host, port=mon_server.port, single_connection_client=True)
    c.ping()  # connect (and send the handshake) before anything is monitored
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def unix_actor(redis_py, mon_server):
    c = redis_py.Redis(unix_socket_path=mon_server.unix_path, single_connection_client=True)
    c.ping()
    try:
        yield c
    finally:
        c.close()


def monitored(module, server, commands, decode=False, **kw):
    """Start ``module``'s Monitor, run ``commands()`` and parse that many lines."""
    client = module.Redis(host=server.host, port=server.port, decode_responses=decode, **kw)
    try:
        with client.monitor() as m:
            count = commands()
            out = [m.next_command() for _ in range(count)]
        return out
    finally:
        client.close()


def both(impl, redis_py, server, commands, decode=False):
    ours = monitored(impl, server, commands, decode)
    theirs = monitored(redis_py, server, commands, decode)
    now = time.time()
    for d in ours + theirs:
        assert isinstance(d["time"], float) and abs(d["time"] - now) < 600
    strip = lambda ds: [{k: v for k, v in d.items() if k != "time"} for d in ds]  # noqa: E731
    assert strip(ours) == strip(theirs)
    return ours


# ------------------------------------------------------------------ API
def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_signatures_match_redis_py(impl, redis_py):
    for name in ("__init__", "__enter__", "__exit__", "next_command", "listen"):
        assert _params(getattr(impl.client.Monitor, name)) == _params(
            getattr(redis_py.client.Monitor, name))


def test_redis_monitor_factory(impl, r):
    m = r.monitor()
    try:
        assert isinstance(m, impl.client.Monitor)
        assert m.connection_pool is r.connection_pool
        assert m.connection is not None  # taken at construction, as redis-py
    finally:
        r.connection_pool.release(m.connection)


# ------------------------------------------------------------------ differential
@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_simple_commands(impl, redis_py, mon_server, actor, decode):
    def commands():
        actor.set("mon-k", "v")
        actor.get("mon-k")
        actor.hset("mon-h", mapping={"f1": "1", "f2": "2"})
        actor.lpush("mon-l", 1, 2.5)
        actor.delete("mon-k", "mon-h", "mon-l")
        return 5

    out = both(impl, redis_py, mon_server, commands, decode)
    assert out[0]["command"] == "SET mon-k v"
    assert out[0]["client_type"] == "tcp" and out[0]["client_address"] == "127.0.0.1"
    assert out[0]["client_port"].isdigit() and out[0]["db"] == 0
    assert out[3]["command"] == "LPUSH mon-l 1 2.5"


@pytest.mark.parametrize("decode", [False, True], ids=["bytes", "decoded"])
def test_awkward_arguments(impl, redis_py, mon_server, actor, decode):
    values = [
        'has "double" quotes',
        "back\\slash",
        "ends with backslash\\",
        'quote at end"',
        "",
        "spaces  and\ttabs",
        "new\nline\r\n",
        b"\x00\xff\xfe binary",
        "\u00e9\u2713 unicode",
        "\\\"",
        "'single'",
    ]

    def commands():
        for i, v in enumerate(values):
            actor.set("mon-a%d" % i, v)
        actor.execute_command("ECHO", 'a "b" c\\')
        return len(values) + 1

    out = both(impl, redis_py, mon_server, commands, decode)
    assert out[0]["command"] == 'SET mon-a0 has "double" quotes'


def test_db_and_lua_and_unix(impl, redis_py, mon_server, redis_py_db1, unix_actor):
    def commands():
        redis_py_db1.set("mon-db", "1")
        redis_py_db1.eval("return redis.call('GET', KEYS[1])", 1, "mon-db")
        unix_actor.get("mon-unix")
        return 4  # SET, EVAL, the GET run by the script, GET over the unix socket

    out = both(impl, redis_py, mon_server, commands)
    assert out[0]["db"] == 1
    assert out[1]["command"].startswith("EVAL")
    assert out[2]["client_type"] == "lua" and out[2]["client_address"] == "lua"
    assert out[2]["client_port"] == "" and out[2]["command"] == "GET mon-db"
    assert out[3]["client_type"] == "unix" and out[3]["client_address"] == "unix"
    assert out[3]["client_port"] == mon_server.unix_path


@pytest.fixture
def redis_py_db1(redis_py, mon_server):
    c = redis_py.Redis(host=mon_server.host, port=mon_server.port, db=1,
                       single_connection_client=True)
    c.ping()
    try:
        yield c
    finally:
        c.close()


def test_listen(impl, mon_server, actor):
    client = impl.Redis(host=mon_server.host, port=mon_server.port)
    try:
        with client.monitor() as m:
            actor.set("mon-listen", "1")
            actor.get("mon-listen")
            stream = m.listen()
            got = [next(stream)["command"], next(stream)["command"]]
        assert got == ["SET mon-listen 1", "GET mon-listen"]
    finally:
        client.close()


def test_exit_closes_the_monitoring_connection(impl, redis_py, mon_server):
    client = impl.Redis(host=mon_server.host, port=mon_server.port)
    admin = redis_py.Redis(host=mon_server.host, port=mon_server.port)
    try:
        with client.monitor() as m:
            conn = m.connection
            assert any("O" in c["flags"] for c in admin.client_list())
        if impl.__name__ == "redis_native":
            assert not conn.is_connected

        def no_monitor():
            return not any("O" in c["flags"] for c in admin.client_list())

        deadline = time.monotonic() + WAIT
        while not no_monitor() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert no_monitor()
        # the released connection serves ordinary commands again
        assert client.set("mon-after", "1") is True
        assert client.get("mon-after") == b"1"
    finally:
        client.close()
        admin.close()


def test_monitor_failure_raises(impl, redis_py):
    """MONITOR refused (here: by an ACL user without the permission)."""
    srv = RedisServer()
    admin = redis_py.Redis(host=srv.host, port=srv.port)
    try:
        admin.acl_setuser("nomon", enabled=True, passwords=["+pw"], commands=["+ping"],
                          keys=["*"])
        results = []
        for module in (impl, redis_py):
            client = module.Redis(host=srv.host, port=srv.port, username="nomon", password="pw")
            try:
                with pytest.raises(module.exceptions.RedisError) as info:
                    with client.monitor():
                        pass
                results.append((type(info.value).__name__, str(info.value)))
            finally:
                client.close()
        assert results[0] == results[1]
    finally:
        admin.close()
        srv.stop()


# ------------------------------------------------------------------ the line parser
class _FakeEncoder:
    def __init__(self, decode):
        self.decode_responses = decode

    def decode(self, value, force=False):
        if (self.decode_responses or force) and isinstance(value, bytes):
            return value.decode("utf-8")
        return value


class _FakeConnection:
    def __init__(self, lines, decode):
        self.lines = list(lines)
        self.encoder = _FakeEncoder(decode)

    def read_response(self, *args, **kwargs):
        return self.lines.pop(0)


class _FakePool:
    def __init__(self, lines, decode=False):
        self.conn = _FakeConnection(lines, decode)

    def get_connection(self, *args, **kwargs):
        return self.conn


def parse_with(module, line):
    m = module.client.Monitor(_FakePool([line]))
    return m.next_command()


LINES = [
    '1700000000.123456 [0 127.0.0.1:6379] "SET" "k" "v"',
    '1700000000.5 [15 [::1]:51234] "GET" "x"',
    '1700000000 [0 ::1:51234] "GET" "x"',
    '1700000000.000001 [3 lua] "get" "k"',
    '1700000000.1 [0 unix:/tmp/redis.sock] "PING"',
    '1700000000.1 [0 ] "PING"',
    '1700000000.1 [0 10.0.0.1:1] "SET" "a \\"q\\" b" "c\\\\"',
    '1700000000.1 [0 10.0.0.1:1] "SET" "\\xff\\x00" ""',
    '1700000000.1 [0 10.0.0.1:1] "ECHO" "a] b" "[0 x] y"',
    '1700000000.1 [0 10.0.0.1:1] "unterminated',
    '1700000000.1 [0 10.0.0.1:1] ',
    '1700000000.1 [0 10.0.0.1:1] no quotes at all',
    '1700000000.1 [0 10.0.0.1:1] "a"b"c" "d\\"',
    '1700000000.1 [12345 h:1] with] bracket] "x"',
]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_parser_matches_redis_py(impl, redis_py, line, as_bytes):
    raw = line.encode() if as_bytes else line
    assert parse_with(impl, raw) == parse_with(redis_py, raw)


def test_parser_none_reply(impl):
    assert impl.client.Monitor(_FakePool([None])).next_command() is None


_arg_text = st.text(alphabet='ab "\\]x[:\n', max_size=12)
_client = st.sampled_from(["127.0.0.1:6379", "::1:5", "[::1]:5", "lua", "unix:/s.sock", "",
                           "unixy", "h:1:2"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_arg_text, max_size=5), _client, st.integers(0, 10**6),
       st.sampled_from(["", " ", '"', "\\", "x"]))
def test_parser_fuzz_matches_redis_py(impl, redis_py, args, client, db, tail):
    quoted = " ".join('"%s"' % a for a in args) + tail
    line = "1700000000.25 [%d %s] %s" % (db, client, quoted)
    ours = parse_with(impl, line)
    assert ours == parse_with(redis_py, line)


def test_line_patterns_are_redis_pys(impl, redis_py):
    for name in ("monitor_re", "command_re"):
        mine, theirs = getattr(impl.client.Monitor, name), getattr(redis_py.client.Monitor, name)
        assert (mine.pattern, mine.flags) == (theirs.pattern, theirs.flags), name


def test_line_patterns_are_used(impl, redis_py):
    """A subclass that changes the patterns changes the parsing, in both."""
    import re

    line = '1700000000.5 [0 127.0.0.1:1] "SET" \'k\' "v"'

    def parse(module):
        class SingleQuotes(module.client.Monitor):
            command_re = re.compile(r"'(.*?)'")

        return SingleQuotes(_FakePool([line])).next_command()["command"]

    assert parse(impl) == parse(redis_py) == "k"
