"""_native._pipeline_results: a pipeline's per-reply results in C (issue #12).

Pipeline._execute_pipeline and _transaction_result use it in place of a Python call
of ``_command_result`` per reply, while ``_command_result`` is redis_native's own.
These tests hold it to the Python loop it replaces, reply by reply, and check that
anything reachable from Python is validated.
"""
from __future__ import annotations

import pytest

import redis_native
from redis_native import _native
from redis_native.client import Redis, _CallbackMemo
from redis_native.commands.helpers import EMPTY_RESPONSE, NEVER_DECODE
from redis_native.exceptions import (AuthenticationError, BusyLoadingError, ResponseError,
                                     WatchError)


class Recorder:
    def __init__(self):
        self.names = []

    def __call__(self, name):
        self.names.append(name)


def python_loop(replies, commands, callbacks, watch_names, update):
    """Pipeline._execute_pipeline's Python loop (the reference)."""
    client = Redis.__new__(Redis)
    results = []
    for reply, (args, options) in zip(replies, commands):
        try:
            results.append(Redis._command_result(client, reply, args[0], options, callbacks))
        except ResponseError as error:
            results.append(error)
        else:
            if args[0] in watch_names:
                update(args[0])
    return results


def both(replies, commands, table, watch=frozenset({"WATCH", "UNWATCH", "EXEC"})):
    out = []
    for fn in (python_loop, _native._pipeline_results):
        rec = Recorder()
        try:
            res = fn(list(replies), list(commands), _CallbackMemo(table), set(watch), rec)
            out.append(("ok", [r if not isinstance(r, Exception) else (type(r), str(r))
                               for r in res], rec.names))
        except Exception as exc:       # noqa: BLE001 - compared below
            out.append(("raised", type(exc), str(exc), rec.names))
    return out


def upper(reply, **kw):
    return (reply.upper(), sorted(kw.items()))


def raises_response(reply, **kw):
    raise ResponseError("from the callback")


def raises_value(reply, **kw):
    raise ValueError("boom")


TABLE = {"GET": None, "UP": upper, "BADCB": raises_response, "VALCB": raises_value,
         "WATCH": lambda r: r == b"OK", "EXEC": None}


CASES = {
    "plain": ([b"a", b"b", 3], [(("GET", "k"), {}), (("UP", "k"), {}), (("INCR", "x"), {})]),
    "options go to the callback, read options do not": (
        [b"x", b"y"], [(("UP", "k"), {"keys": ["k"], "withscores": True}),
                       (("UP", "k"), {NEVER_DECODE: [], "a": 1})]),
    "error replies stay": ([ResponseError("ERR no"), b"v"],
                           [(("GET", "k"), {}), (("GET", "k"), {})]),
    "EMPTY_RESPONSE for an error": ([ResponseError("ERR no")],
                                    [(("GET", "k"), {EMPTY_RESPONSE: []})]),
    "EMPTY_RESPONSE does not apply to a value": ([b"v"], [(("UP", "k"), {EMPTY_RESPONSE: 0})]),
    "a connection-level error reply raises": (
        [b"v", BusyLoadingError("LOADING")], [(("GET", "k"), {}), (("GET", "k"), {})]),
    "an auth error reply raises": ([AuthenticationError("NOAUTH")], [(("GET", "k"), {})]),
    "a callback's ResponseError is the result": ([b"v", b"w"],
                                                 [(("BADCB", "k"), {}), (("GET", "k"), {})]),
    "a callback's other error propagates": ([b"v"], [(("VALCB", "k"), {})]),
    "watch state follows successful commands": (
        [b"OK", ResponseError("ERR"), b"OK", None],
        [(("WATCH", "a"), {}), (("WATCH", "b"), {}), (("UNWATCH",), {}), (("EXEC",), {})]),
    "unknown names, bytes names": ([b"1", b"2"], [((b"GET", "k"), {}), (("NOPE",), {})]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_as_the_python_loop(case):
    replies, commands = CASES[case]
    py, c = both(replies, commands, TABLE)
    assert c == py


def test_keep_errors_mode():
    errs = [WatchError("x"), ResponseError("ERR y"), BusyLoadingError("z")]
    commands = [(("UP", "k"), {}), (("GET", "k"), {EMPTY_RESPONSE: 1}), (("GET", "k"), {})]
    res = _native._pipeline_results(errs, commands, _CallbackMemo(TABLE), frozenset(), None, True)
    assert res == errs and all(a is b for a, b in zip(res, errs))
    res = _native._pipeline_results([b"a"], [(("UP", "k"), {})], _CallbackMemo(TABLE),
                                    frozenset(), None, True)
    assert res == [(b"A", [])]


def test_memo_is_filled_through_get():
    memo = _CallbackMemo({"UP": upper})
    _native._pipeline_results([b"a", b"b"], [(("UP",), {}), (("GET",), {})], memo,
                              set(), Recorder())
    assert dict(memo) == {"UP": upper, "GET": None}


@pytest.mark.parametrize("args", [
    ([b"a"], [(("GET",), {})], {}, set()),                          # too few
    ((b"a",), [(("GET",), {})], {}, set(), None),                   # not lists
    ([b"a", b"b"], [(("GET",), {})], {}, set(), None),              # lengths differ
    ([b"a"], [(("GET",), {})], [], set(), None),                    # callbacks not a dict
    ([b"a"], [(("GET",), {})], {}, ["GET"], None),                  # names not a set
    ([b"a"], [("GET", {})], {}, set(), None),                       # args not a tuple
    ([b"a"], [((), {})], {}, set(), None),                          # no command name
    ([b"a"], [(("GET",), [])], {}, set(), None),                    # options not a dict
    ([b"a"], [(("GET",), {}, 1)], {}, set(), None),                 # not a pair
    ([b"a"], [None], {}, set(), None),
])
def test_bad_arguments_raise_type_error(args):
    with pytest.raises(TypeError):
        _native._pipeline_results(*args)


def test_a_callback_shrinking_the_lists():
    replies = [b"a", b"b", b"c"]
    commands = [(("CUT",), {}), (("GET",), {}), (("GET",), {})]

    def cut(reply):
        del replies[1:]
        del commands[1:]
        return reply

    with pytest.raises(RuntimeError):
        _native._pipeline_results(replies, commands, {"CUT": cut, "GET": None}, set(), None)


def test_unhashable_name_raises():
    with pytest.raises(TypeError):
        _native._pipeline_results([b"a"], [(([1],), {})], {}, set(), None)


def test_overridden_command_result_is_honoured(redis_server):
    """A Pipeline subclass that overrides _command_result, or a patch of it, keeps
    being called per reply (the C loop is only used for redis_native's own)."""
    from unittest import mock

    from redis_native.client import Pipeline

    seen = []

    class Mine(Pipeline):
        def _command_result(self, reply, command_name, options, callbacks=None):
            seen.append(command_name)
            return super()._command_result(reply, command_name, options, callbacks)

    c = redis_native.Redis(host=redis_server.host, port=redis_server.port)
    try:
        for transaction in (False, True):
            p = Mine(c.connection_pool, c.response_callbacks, transaction, None)
            p.set("pr:a", 1).get("pr:a")
            assert p.execute() == [True, b"1"]
        assert seen == ["SET", "GET", "MULTI", "EXEC", "SET", "GET"]
        with mock.patch.object(Pipeline, "_command_result", autospec=True,
                               side_effect=Pipeline._command_result) as patched:
            p = c.pipeline(transaction=False)
            p.get("pr:a")
            assert p.execute() == [b"1"]
        assert patched.call_count == 1
    finally:
        c.delete("pr:a")
        c.close()
