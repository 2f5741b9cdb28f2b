"""Queuing a command on a pipeline: ``Pipeline.execute_command`` (issue #12).

redis_native's ``Pipeline.execute_command`` is C (``_native._pipeline_execute_command``,
src/client.c): it appends ``(args, options)`` to ``command_stack`` itself while
``pipeline_execute_command`` is redis_native's own, and otherwise calls the
methods redis-py's Python would call.  Every test here runs on redis_native and
on redis-py (the ``lib`` fixture) and checks the same outcome on both: the stack
users see, what overrides and patches see, errors, WATCH, hostile arguments and
threads.
"""
from __future__ import annotations

import collections
import threading
from unittest import mock

import pytest


@pytest.fixture
def client(lib, redis_server):
    import redis

    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    admin.flushall()
    admin.close()
    c = lib.Redis(host=redis_server.host, port=redis_server.port)
    try:
        yield c
    finally:
        c.close()


def pipeline_class(client):
    return type(client.pipeline())


# --------------------------------------------------------------------------- the stack
def test_stack_holds_args_and_options(client):
    pipe = client.pipeline()
    assert pipe.set("a", 1, ex=10).get("a").incr("n", 2) is pipe
    pipe.execute_command("SET", "b", b"x", custom=1, NEVER_DECODE=True)
    assert pipe.command_stack == [
        (("SET", "a", 1, "EX", 10), {}),
        (("GET", "a"), {"keys": ["a"]}),
        (("INCRBY", "n", 2), {}),
        (("SET", "b", b"x"), {"custom": 1, "NEVER_DECODE": True}),
    ]
    assert all(type(e) is tuple and type(e[0]) is tuple and type(e[1]) is dict
               for e in pipe.command_stack)
    assert len(pipe) == 4
    pipe.reset()
    assert pipe.command_stack == []


def test_each_command_gets_its_own_options_dict(client):
    pipe = client.pipeline()
    pipe.ping().ping()
    (_, o1), (_, o2) = pipe.command_stack
    assert o1 == o2 == {} and o1 is not o2


def test_results_match_the_stack(client):
    with client.pipeline(transaction=False) as pipe:
        for i in range(300):
            pipe.set(f"k{i}", i).get(f"k{i}")
        res = pipe.execute()
    assert res == [x for i in range(300) for x in (True, str(i).encode())]
    with client.pipeline() as pipe:
        res = pipe.incr("c").incr("c").get("c").execute()
    assert res == [1, 2, b"2"]


def test_no_arguments_is_an_index_error(client):
    pipe = client.pipeline()
    with pytest.raises(IndexError):
        pipe.execute_command()
    assert pipe.command_stack == []


def test_unbound_call_on_a_foreign_object(client):
    cls = pipeline_class(client)
    with pytest.raises((TypeError, AttributeError)):
        cls.execute_command(object(), "GET", "a")
    # a client (not a pipeline) given the attributes execute_command reads: it
    # has no pipeline_execute_command, so the call fails as redis-py's does
    client.watching = False
    client.command_stack = []
    with pytest.raises(AttributeError, match="pipeline_execute_command"):
        cls.execute_command(client, "GET", "a")
    assert client.command_stack == []


# --------------------------------------------------------------------------- overrides
def test_subclass_overriding_execute_command(client):
    seen = []
    base = pipeline_class(client)

    class Recording(base):
        def execute_command(self, *args, **kwargs):
            seen.append(args)
            return super().execute_command(*args, **kwargs)

    pipe = Recording(client.connection_pool, client.response_callbacks, True, None)
    assert pipe.set("a", 1).get("a") is pipe
    assert seen == [("SET", "a", 1), ("GET", "a")]
    assert pipe.execute() == [True, b"1"]


def test_subclass_overriding_pipeline_execute_command(client):
    seen = []
    base = pipeline_class(client)

    class Recording(base):
        def pipeline_execute_command(self, *args, **options):
            seen.append((args, options))
            return super().pipeline_execute_command(*args, **options)

    pipe = Recording(client.connection_pool, client.response_callbacks, False, None)
    assert pipe.set("a", 1).get("a") is pipe
    assert seen == [(("SET", "a", 1), {}), (("GET", "a"), {"keys": ["a"]})]
    assert pipe.execute() == [True, b"1"]

    class Swallowing(base):
        def pipeline_execute_command(self, *args, **options):
            return "swallowed"

    pipe = Swallowing(client.connection_pool, client.response_callbacks, False, None)
    assert pipe.get("a") == "swallowed"
    assert pipe.command_stack == []


def test_subclass_that_overrides_nothing(client):
    class Plain(pipeline_class(client)):
        pass

    pipe = Plain(client.connection_pool, client.response_callbacks, False, None)
    assert pipe.set("a", 1).get("a") is pipe
    assert pipe.execute() == [True, b"1"]


def test_instance_patch_of_pipeline_execute_command(client):
    pipe = client.pipeline(transaction=False)
    calls = []
    with mock.patch.object(pipe, "pipeline_execute_command",
                           side_effect=lambda *a, **k: calls.append(a) or "patched"):
        assert pipe.get("a") == "patched"
    assert calls == [("GET", "a")]
    assert pipe.command_stack == []
    # restored: queued again
    assert pipe.get("a") is pipe
    assert pipe.command_stack == [(("GET", "a"), {"keys": ["a"]})]


def test_class_patch_of_pipeline_execute_command(client):
    cls = pipeline_class(client)
    pipe = client.pipeline(transaction=False)
    calls = []
    original = cls.pipeline_execute_command

    def spy(self, *args, **options):
        calls.append(args)
        return original(self, *args, **options)

    with mock.patch.object(cls, "pipeline_execute_command", spy):
        pipe.set("a", 1).get("a")
    assert calls == [("SET", "a", 1), ("GET", "a")]
    pipe.get("a")
    assert calls == [("SET", "a", 1), ("GET", "a")]
    assert pipe.execute() == [True, b"1", b"1"]


def test_class_patch_of_execute_command(client):
    cls = pipeline_class(client)
    pipe = client.pipeline()
    with mock.patch.object(cls, "execute_command", return_value="patched") as m:
        assert pipe.get("a") == "patched"
    m.assert_called_once_with("GET", "a", keys=["a"])
    assert pipe.command_stack == []


def test_patched_immediate_execute_command(client):
    pipe = client.pipeline()
    with mock.patch.object(pipe, "immediate_execute_command", return_value="now") as m:
        assert pipe.watch("a") == "now"
        m.assert_called_once_with("WATCH", "a")
        pipe.watching = True
        assert pipe.get("a") == "now"
        pipe.multi()
        # inside MULTI: queued, not run
        assert pipe.get("a") is pipe
    assert m.call_count == 2
    assert pipe.command_stack == [(("GET", "a"), {"keys": ["a"]})]
    pipe.watching = False
    pipe.reset()


# --------------------------------------------------------------------------- attributes
def test_deleted_or_odd_attributes(client):
    pipe = client.pipeline()
    del pipe.command_stack
    with pytest.raises(AttributeError):
        pipe.get("a")
    pipe.command_stack = None
    with pytest.raises(AttributeError):
        pipe.get("a")
    pipe.command_stack = collections.deque()
    assert pipe.get("a") is pipe
    assert list(pipe.command_stack) == [(("GET", "a"), {"keys": ["a"]})]

    class Stack(list):
        def append(self, item):
            raise RuntimeError("refused: %r" % (item,))

    pipe.command_stack = Stack()
    with pytest.raises(RuntimeError, match="refused"):
        pipe.get("a")
    pipe.command_stack = []

    del pipe.watching
    with pytest.raises(AttributeError):
        pipe.get("a")
    pipe.watching = False
    del pipe.explicit_transaction
    assert pipe.get("a") is pipe          # not read unless WATCHing
    with pytest.raises(AttributeError):
        pipe.execute_command("WATCH", "a")
    pipe.explicit_transaction = False
    pipe.command_stack = []


def test_truth_of_watching_that_raises(client):
    class Bad:
        def __bool__(self):
            raise ValueError("no truth")

    pipe = client.pipeline()
    pipe.watching = Bad()
    with pytest.raises(ValueError, match="no truth"):
        pipe.get("a")
    pipe.watching = False
    pipe.explicit_transaction = Bad()
    with pytest.raises(ValueError, match="no truth"):
        pipe.execute_command("WATCH", "a")
    pipe.explicit_transaction = False
    assert pipe.command_stack == []


def test_hostile_objects_in_args(client, lib):
    class EqRaises:
        def __eq__(self, other):
            raise ValueError("no compare")

        __hash__ = object.__hash__

    class EqWatch(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    pipe = client.pipeline(transaction=False)
    with pytest.raises(ValueError, match="no compare"):
        pipe.execute_command(EqRaises(), "a")
    # only args[0] is looked at when queuing; anything else waits for execute()
    odd = object()
    assert pipe.execute_command("GET", odd) is pipe
    assert pipe.command_stack[0][0][1] is odd
    with pytest.raises(lib.exceptions.DataError):
        pipe.execute()
    pipe.reset()
    # a name equal to "WATCH" runs at once, as redis-py's comparison says
    with mock.patch.object(pipe, "immediate_execute_command", return_value="now") as m:
        assert pipe.execute_command(EqWatch("GET"), "a") == "now"
    assert m.call_count == 1
    pipe.reset()


# --------------------------------------------------------------------------- execution
def test_errors_mid_pipeline(client, lib):
    client.set("s", "v")
    for transaction in (False, True):
        pipe = client.pipeline(transaction=transaction)
        pipe.set("a", 1).lpush("s", 1).incr("a").hget("s", "f").get("a")
        res = pipe.execute(raise_on_error=False)
        assert res[0] is True and res[2] == 2 and res[4] == b"2"
        assert isinstance(res[1], lib.exceptions.ResponseError)
        assert isinstance(res[3], lib.exceptions.ResponseError)
        pipe.set("a", 1).lpush("s", 1).incr("a")
        with pytest.raises(lib.exceptions.ResponseError, match=r"^Command # 2 \(LPUSH s 1\)"):
            pipe.execute()
        assert pipe.command_stack == []


def test_watch_flow(client, lib):
    client.set("w", 1)
    with client.pipeline() as pipe:
        assert pipe.watch("w") is True
        assert pipe.get("w") == b"1"               # immediate while watching
        pipe.multi()
        assert pipe.set("w", 2).get("w") is pipe   # queued after MULTI
        assert pipe.execute() == [True, b"2"]
    with client.pipeline() as pipe:
        pipe.watch("w")
        client.set("w", 3)
        pipe.multi()
        pipe.set("w", 4)
        with pytest.raises(lib.exceptions.WatchError):
            pipe.execute()
    assert client.get("w") == b"3"
    with client.pipeline() as pipe:
        # WATCH by name through execute_command is immediate too
        assert pipe.execute_command("WATCH", "w") is True
        assert pipe.watching
        assert pipe.command_stack == []
    with client.pipeline() as pipe:
        # a name built at run time (not the interned constant) is compared by value
        name = "".join(["WAT", "CH"])
        assert pipe.execute_command(name, "w") is True
        assert pipe.watching
        pipe.multi()
        assert pipe.execute_command("".join(["GE", "T"]), "w") is pipe
        assert pipe.execute() == [b"3"]


def test_transaction_false_with_empty_response(client):
    pipe = client.pipeline(transaction=False)
    pipe.execute_command("GET", "missing", EMPTY_RESPONSE="dflt")
    pipe.execute_command("GET", "missing")
    assert pipe.execute() == [None, None]


# --------------------------------------------------------------------------- threads
def test_threads_sharing_a_pipeline(client):
    pipe = client.pipeline(transaction=False)
    n, per = 6, 2000
    start = threading.Barrier(n + 1)
    errors = []

    def queue(t):
        try:
            start.wait()
            for i in range(per):
                pipe.set(f"t{t}", i)
                if i % 500 == 0:
                    pipe.command_stack = pipe.command_stack   # swaps under the others
        except Exception as e:    # pragma: no cover - reported below
            errors.append(e)

    def swap():
        start.wait()
        for _ in range(200):
            pipe.watching = False
            stack = pipe.command_stack
            pipe.command_stack = stack

    threads = [threading.Thread(target=queue, args=(t,)) for t in range(n - 1)]
    threads.append(threading.Thread(target=swap))
    for t in threads:
        t.start()
    start.wait()
    for t in threads:
        t.join()
    assert errors == []
    assert len(pipe.command_stack) == (n - 1) * per
    res = pipe.execute()
    assert len(res) == (n - 1) * per and all(r is True for r in res)


def test_transaction_with_empty_response_and_queue_errors(client, lib):
    pipe = client.pipeline()
    pipe.execute_command("GET", "missing", EMPTY_RESPONSE="dflt")
    pipe.set("a", 1)
    pipe.execute_command("GET", "missing2", EMPTY_RESPONSE="other")
    pipe.get("a")
    assert pipe.execute() == ["dflt", True, "other", b"1"]   # answered without the server
    pipe.set("a", 2)
    pipe.execute_command("NOSUCHCOMMAND", "x")
    # (before the refused command, redis-py would raise its value instead)
    pipe.execute_command("GET", "missing", EMPTY_RESPONSE="dflt")
    with pytest.raises(lib.exceptions.ResponseError,
                       match=r"^Command # 2 \(NOSUCHCOMMAND x\) of pipeline caused error: "):
        pipe.execute()
    assert client.get("a") == b"1"


def test_raise_first_error_any_sequence(client, lib):
    pipe = client.pipeline()
    commands = [(("GET", "a"), {}), (("LPUSH", "b", 1), {}), (("GET", "c"), {})]
    err1, err2 = lib.exceptions.ResponseError("one"), lib.exceptions.ResponseError("two")
    for response in ([b"x", err1, err2], (b"x", err1, err2), iter([b"x", err1, err2])):
        err1.args = ("one",)
        with pytest.raises(lib.exceptions.ResponseError) as info:
            pipe.raise_first_error(commands, response)
        assert info.value is err1
        assert str(err1) == "Command # 2 (LPUSH b 1) of pipeline caused error: one"
    assert pipe.raise_first_error(commands, [b"x", None, 3]) is None
    assert pipe.raise_first_error(commands, []) is None


# --------------------------------------------------------------------------- C scans
def test_scan_helpers_with_hostile_input(impl):
    native = impl._native if hasattr(impl, "_native") else pytest.skip("redis_native only")
    items = [1, 2, 3]

    class Shrinking:
        @property
        def __class__(self):
            items.clear()
            return int

    items[:] = [Shrinking(), 2, ValueError()]
    assert native._first_instance(items, ValueError) == -1
    assert native._first_instance([0, KeyError(), ValueError()], LookupError) == 1

    class Disguised:
        __class__ = ValueError          # isinstance() believes __class__

    assert native._first_instance([b"x", "s", 1, None, [], Disguised()], ValueError) == 5
    assert native._first_instance(["s", b"x"], bytes) == 1     # not an exception class
    assert native._tx_gaps([(("A",), {}), (("B",), {})], [b"QUEUED", Disguised()], "E",
                           Exception) == [(1, 1)]
    with pytest.raises(TypeError):
        native._first_instance((1, 2), int)
    with pytest.raises(TypeError):
        native._first_instance([1], 5)

    assert native._without_option([(("GET",), {"E": 1}), (("SET",), {}), [("X",), {}]],
                                  "E") == [(("SET",), {}), [("X",), {}]]
    assert native._without_option(iter([(("A",), {})]), "E") == [(("A",), {})]
    with pytest.raises(TypeError):
        native._without_option([(("A",), None)], "E")
    with pytest.raises(IndexError):
        native._without_option([(("A",),)], "E")
    with pytest.raises(TypeError):
        native._without_option(5, "E")

    cmds = [(("A",), {}), (("B",), {"E": 0}), (("C",), {}), (("D",), {})]
    assert native._tx_gaps(cmds, [b"QUEUED", ValueError(), b"QUEUED"], "E", Exception) \
        == [(1, -1), (2, 1)]
    assert native._tx_gaps(cmds, [b"QUEUED"], "E", Exception) is None
    assert native._tx_gaps([(("A",), {}), ["B", {}]], [1, 2], "E", Exception) is None
    with pytest.raises(TypeError):
        native._tx_gaps([(("A",), None)], [1], "E", Exception)
    with pytest.raises(TypeError):
        native._tx_gaps((), [], "E", Exception)
