"""Differential harness: run the same calls through redis_native and redis-py.

Two ways to use it:

1. The ``diff`` fixture (see conftest.py) gives a :class:`Diff` whose native side
   is a client of the implementation under test on db 1 and whose oracle side is
   a redis-py client on db 2 of the same server (both dbs flushed first).  Every
   call runs on both sides, in step, and the results must be identical::

       def test_x(diff):
           diff.call("zadd", "z", {"a": 1})
           diff("zrange", "z", 0, -1, withscores=True)      # __call__ == call
           diff.shape("time")                                # compare shapes only
           diff.apply(lambda c: list(c.scan_iter()), compare=sorted_compare)
           diff.seq([("set", ("k", "v"), {}), ("get", ("k",), {})])

   At teardown the whole keyspaces of db 1 and db 2 are compared (type, value,
   whether a TTL is set), which catches write commands that sent wrong arguments.

2. :func:`check` with any two clients: the sequence runs on one side after a
   FLUSHDB, then on the other after a FLUSHDB, and the results are compared.

"Identical" is strict: same types at every level (bytes vs str, int vs float vs
bool, list vs tuple, dict, set, None), same values, and for exceptions the same
exception class name; for ``ResponseError`` and ``DataError`` (and subclasses)
the message must be the same too unless ``msg=False``.
"""
from __future__ import annotations

import math
import os
import re
import sys
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

__all__ = [
    "Raised",
    "Diff",
    "check",
    "compare",
    "first_difference",
    "shape",
    "run_call",
]

_VERBOSE = bool(os.environ.get("DIFF_VERBOSE"))
_BUILTIN_CONTAINERS = (list, tuple, dict, set, frozenset)
_SCALARS = (bytes, str, int, float, bool, type(None), bytearray)


class Raised:
    """An exception captured as a comparable value."""

    __slots__ = ("exc", "name", "chain", "message")

    def __init__(self, exc: BaseException):
        self.exc = exc
        self.name = type(exc).__name__
        self.chain = tuple(
            c.__name__ for c in type(exc).__mro__ if c not in (object, BaseException)
        )
        self.message = str(exc)

    def __repr__(self) -> str:
        return "Raised(%s(%r))" % (self.name, self.message)

    @property
    def compares_message(self) -> bool:
        return "ResponseError" in self.chain or "DataError" in self.chain


# redis-py's pure-Python Encoder, whose wording redis_native's packer follows
_ENCODER_MESSAGE = re.compile(
    r"^Invalid input of type: '[^']+'\. Convert to a bytes, string, int or float first\.$")
# hiredis.pack_command, which redis-py packs with when hiredis is installed
_HIREDIS_PACK_MESSAGE = re.compile(r"^A tuple item must be str, int, float or bytes\.$")


def _same_encoder_error(native: "Raised", oracle: "Raised") -> bool:
    """An argument-encoding DataError worded as redis-py's Encoder words it, where
    the oracle, packing with hiredis, words it as hiredis does (a deliberate
    difference, docs/architecture.md)."""
    if native.name != "DataError" or not _ENCODER_MESSAGE.match(native.message):
        return False
    import redis.utils

    return bool(redis.utils.HIREDIS_AVAILABLE and _HIREDIS_PACK_MESSAGE.match(oracle.message))


def run_call(client, name, args=(), kwargs=None):
    """Call ``client.<name>(*args, **kwargs)`` (or ``name(client)`` if callable)."""
    kwargs = kwargs or {}
    try:
        if callable(name):
            return name(client)
        return getattr(client, name)(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - exceptions are values here
        return Raised(e)


def _fmt(v: Any, limit: int = 300) -> str:
    s = repr(v)
    if len(s) > limit:
        s = s[:limit] + "...(%d chars)" % len(s)
    return s


def first_difference(a: Any, b: Any, path: str = "result", msg: bool = True) -> Optional[str]:
    """Return a description of the first difference between native ``a`` and oracle ``b``."""
    if isinstance(a, Raised) or isinstance(b, Raised):
        if not (isinstance(a, Raised) and isinstance(b, Raised)):
            return "%s: native=%s oracle=%s" % (path, _fmt(a), _fmt(b))
        if a.name != b.name:
            return "%s: exception class native=%s oracle=%s" % (path, _fmt(a), _fmt(b))
        if a.chain != b.chain:
            return "%s: exception hierarchy native=%s oracle=%s" % (path, a.chain, b.chain)
        if msg and b.compares_message and a.message != b.message and not _same_encoder_error(a, b):
            return "%s: exception message native=%r oracle=%r" % (path, a.message, b.message)
        return None
    ta, tb = type(a), type(b)
    if ta is not tb:
        builtin = ta.__module__ == "builtins" or tb.__module__ == "builtins"
        if builtin or ta.__qualname__ != tb.__qualname__:
            return "%s: type native=%s oracle=%s (native=%s oracle=%s)" % (
                path, ta.__qualname__, tb.__qualname__, _fmt(a), _fmt(b))
    if isinstance(b, float):
        if math.isnan(a) and math.isnan(b):
            return None
        if a != b:
            return "%s: native=%r oracle=%r" % (path, a, b)
        return None
    if isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return "%s: length native=%d oracle=%d (native=%s oracle=%s)" % (
                path, len(a), len(b), _fmt(a), _fmt(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, "%s[%d]" % (path, i), msg)
            if d:
                return d
        return None
    if isinstance(b, dict):
        ka, kb = list(a.keys()), list(b.keys())
        if set(ka) != set(kb):
            return "%s: dict keys native-only=%s oracle-only=%s" % (
                path, _fmt(sorted(map(repr, set(ka) - set(kb)))), _fmt(sorted(map(repr, set(kb) - set(ka)))))
        for k in kb:
            # key types must match too (bytes vs str)
            kk = [x for x in ka if x == k][0]
            if type(kk) is not type(k):
                return "%s: key type native=%s oracle=%s for %r" % (
                    path, type(kk).__name__, type(k).__name__, k)
            d = first_difference(a[k], b[k], "%s[%r]" % (path, k), msg)
            if d:
                return d
        return None
    if isinstance(b, (set, frozenset)):
        if a != b:
            return "%s: native=%s oracle=%s" % (path, _fmt(a), _fmt(b))
        ta_ = sorted(type(x).__name__ for x in a)
        tb_ = sorted(type(x).__name__ for x in b)
        if ta_ != tb_:
            return "%s: element types native=%s oracle=%s" % (path, ta_, tb_)
        return None
    if isinstance(b, _SCALARS):
        if a != b:
            return "%s: native=%s oracle=%s" % (path, _fmt(a), _fmt(b))
        return None
    # non-builtin objects with the same class name: compare their attributes
    if hasattr(b, "__dict__") and hasattr(a, "__dict__"):
        return first_difference(vars(a), vars(b), path + ".__dict__", msg)
    if a != b:
        return "%s: native=%s oracle=%s" % (path, _fmt(a), _fmt(b))
    return None


def shape(x: Any, loose_numbers: bool = False, dict_keys: bool = True) -> Any:
    """Type skeleton of a value (for nondeterministic results like TIME or INFO)."""
    if isinstance(x, Raised):
        return ("raised", x.name)
    if isinstance(x, dict):
        if dict_keys:
            return ("dict", tuple(sorted(
                ((type(k).__name__, repr(k)), shape(v, loose_numbers, dict_keys)) for k, v in x.items()
            )))
        return ("dict", tuple(sorted({(type(k).__name__,) for k in x})))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(shape(v, loose_numbers, dict_keys) for v in x))
    if isinstance(x, (set, frozenset)):
        return (type(x).__name__, tuple(sorted({shape(v, loose_numbers, dict_keys) for v in x}, key=repr)))
    if loose_numbers and type(x) in (int, float):
        return "number"
    return type(x).__name__


def compare(a: Any, b: Any, how: Optional[Callable] = None, msg: bool = True, what: str = "") -> None:
    """Assert native result ``a`` equals oracle result ``b``.

    ``how`` is an optional normaliser applied to both results first (errors are
    passed through untouched).
    """
    if how is not None:
        if not isinstance(a, Raised):
            a = how(a)
        if not isinstance(b, Raised):
            b = how(b)
    d = first_difference(a, b, msg=msg)
    if d:
        raise AssertionError("%s\n  %s\n  native=%s\n  oracle=%s" % (what, d, _fmt(a, 600), _fmt(b, 600)))


def _describe(name, args, kwargs) -> str:
    if callable(name):
        return getattr(name, "__name__", repr(name)) + "(client)"
    parts = [_fmt(a, 60) for a in args] + ["%s=%s" % (k, _fmt(v, 60)) for k, v in (kwargs or {}).items()]
    return "%s(%s)" % (name, ", ".join(parts))


# ---------------------------------------------------------------------- normalisers
def sorted_list(x):
    """Order-insensitive comparison for lists (scan results, smembers as list...)."""
    if isinstance(x, (list, tuple)):
        return type(x)(sorted(x, key=repr))
    return x


def scan_normal(x):
    """SCAN-like reply ``(cursor, [items])``: keep cursor type, sort items."""
    if isinstance(x, (list, tuple)) and len(x) == 2:
        cur, items = x
        if isinstance(items, dict):
            return (type(cur).__name__, items)
        return (type(cur).__name__, sorted_list(items))
    return x


def shape_of(**kw):
    return lambda x: shape(x, **kw)


# ---------------------------------------------------------------------- keyspace snapshot
def snapshot(client) -> dict:
    """Logical content of the current db of a redis-py client (decode_responses=False)."""
    out = {}
    for key in client.scan_iter(count=1000):
        t = client.type(key)
        if t == b"string":
            v = client.get(key)
        elif t == b"list":
            v = client.lrange(key, 0, -1)
        elif t == b"set":
            v = sorted(client.smembers(key))
        elif t == b"zset":
            v = client.zrange(key, 0, -1, withscores=True)
        elif t == b"hash":
            v = sorted(client.hgetall(key).items())
        elif t == b"stream":
            # entry IDs are time based and differ between the two sides
            v = [fields for _id, fields in client.xrange(key)]
        elif t == b"none":
            continue  # expired meanwhile
        else:
            v = client.dump(key)
        ttl = client.pttl(key)
        out[key] = (t, v, "ttl" if ttl >= 0 else ttl)
    return out


class Diff:
    """Run each call on the native client (db 1) and on the oracle (db 2)."""

    def __init__(self, native, oracle, native_admin, oracle_admin, decode_responses: bool = False):
        self.native = native
        self.oracle = oracle
        self.native_admin = native_admin  # redis-py, decode=False, same db as native
        self.oracle_admin = oracle_admin  # redis-py, decode=False, same db as oracle
        self.decode_responses = decode_responses
        self.check_state = True
        self.log: List[str] = []

    @classmethod
    def connect(cls, impl, redis_py, server, decode_responses=False, native_db=1, oracle_db=2, **kw):
        host, port = server.host, server.port
        native = impl.Redis(host=host, port=port, db=native_db, decode_responses=decode_responses, **kw)
        oracle = redis_py.Redis(host=host, port=port, db=oracle_db, decode_responses=decode_responses, **kw)
        na = redis_py.Redis(host=host, port=port, db=native_db)
        oa = redis_py.Redis(host=host, port=port, db=oracle_db)
        na.flushdb()
        oa.flushdb()
        return cls(native, oracle, na, oa, decode_responses)

    # the two clients, for tests that need them directly
    @property
    def clients(self) -> Tuple[Any, Any]:
        return self.native, self.oracle

    def __repr__(self) -> str:
        return "<Diff decode_responses=%s>" % self.decode_responses

    def _run(self, name, args, kwargs, how=None, msg=True):
        what = _describe(name, args, kwargs)
        self.log.append(what)
        a = run_call(self.native, name, args, kwargs)
        b = run_call(self.oracle, name, args, kwargs)
        ctx = "call #%d %s [decode_responses=%s]" % (len(self.log), what, self.decode_responses)
        if _VERBOSE:
            sys.stderr.write("DIFF %s -> %s\n" % (ctx, _fmt(b, 200)))
        compare(a, b, how=how, msg=msg, what=ctx)
        return b.exc if isinstance(b, Raised) else b

    def call(self, name: str, *args, **kwargs):
        """Run ``client.name(*args, **kwargs)`` on both; assert identical; return oracle's result.

        If the call raised (identically on both sides) the oracle's exception is
        returned, not raised.
        """
        return self._run(name, args, kwargs)

    __call__ = call

    def nomsg(self, name: str, *args, **kwargs):
        """Like call, but only exception classes are compared, not messages."""
        return self._run(name, args, kwargs, msg=False)

    def cmp(self, how: Callable, name: str, *args, **kwargs):
        """Like call, with a normaliser applied to both results before comparing."""
        return self._run(name, args, kwargs, how=how)

    def shape(self, name: str, *args, **kwargs):
        """Compare only the type skeleton of the results (time, client_id, info...)."""
        return self._run(name, args, kwargs, how=shape)

    def loose_shape(self, name: str, *args, **kwargs):
        """Shape comparison where int and float count as the same (info values)."""
        return self._run(name, args, kwargs, how=shape_of(loose_numbers=True, dict_keys=False))

    def apply(self, fn: Callable, how: Optional[Callable] = None, msg: bool = True):
        """Run ``fn(client)`` on both sides (multi-step operations, iterators, pipelines)."""
        return self._run(fn, (), None, how=how, msg=msg)

    def seq(self, calls: Iterable[Sequence]):
        """Run a list of ``(name, args[, kwargs])`` tuples; returns the oracle results."""
        out = []
        for c in calls:
            name, args = c[0], tuple(c[1]) if len(c) > 1 else ()
            kwargs = c[2] if len(c) > 2 else {}
            out.append(self._run(name, args, kwargs))
        return out

    def both(self, name: str, *args, **kwargs):
        """Run on both sides without comparing (setup that may differ, e.g. sleeps)."""
        return (run_call(self.native, name, args, kwargs), run_call(self.oracle, name, args, kwargs))

    def setup(self, fn: Callable):
        """Prepare both keyspaces with the oracle library (so native bugs don't affect setup)."""
        fn(self.native_admin)
        fn(self.oracle_admin)

    def assert_same_state(self):
        sa = snapshot(self.native_admin)
        sb = snapshot(self.oracle_admin)
        compare(sa, sb, what="keyspace after %d calls (native db vs oracle db)" % len(self.log))

    def finish(self, test_failed: bool = False):
        if self.check_state and not test_failed:
            self.assert_same_state()

    def close(self):
        for c in (self.native, self.oracle, self.native_admin, self.oracle_admin):
            try:
                c.close()
            except Exception:
                pass


def check(native, oracle, calls: Iterable[Sequence], how: Optional[Callable] = None, msg: bool = True,
          flush: bool = True) -> List[Any]:
    """Run ``calls`` on ``native`` then on ``oracle`` (each after FLUSHDB) and compare.

    ``calls`` is a list of ``(name, args[, kwargs])`` tuples, ``name`` may also be a
    callable taking the client.  Both clients may share one db: the sequences do
    not overlap in time.  Returns the oracle results.
    """
    calls = [tuple(c) for c in calls]

    def run(client):
        if flush:
            client.flushdb()
        res = []
        for c in calls:
            name = c[0]
            args = tuple(c[1]) if len(c) > 1 else ()
            kwargs = c[2] if len(c) > 2 else {}
            res.append(run_call(client, name, args, kwargs))
        return res

    ra = run(native)
    rb = run(oracle)
    for i, (c, a, b) in enumerate(zip(calls, ra, rb)):
        what = "call #%d %s" % (i + 1, _describe(c[0], c[1] if len(c) > 1 else (), c[2] if len(c) > 2 else {}))
        compare(a, b, how=how, msg=msg, what=what)
    if flush:
        oracle.flushdb()
    return [b.exc if isinstance(b, Raised) else b for b in rb]


# ------------------------------------------------------------------ wire-level comparison
MARKER = b"__recording_marker__"


def recorded(module, server, fn, **client_kw):
    """Run ``fn(client)`` with a ``module.Redis`` client on ``server``.

    Returns ``(commands, outcome)``: the commands sent after a marker ECHO (so the
    connection handshake is left out), and the result or :class:`Raised`."""
    client = module.Redis(host=server.host, port=server.port, socket_timeout=10,
                          socket_connect_timeout=10, **client_kw)
    try:
        client.echo(MARKER)
        outcome = run_call(client, fn)
    finally:
        client.close()
    cmds = server.take()
    for i, c in enumerate(cmds):
        if c and c[0].upper() == b"ECHO" and c[1:] == (MARKER,):
            cmds = cmds[i + 1:]
            break
    else:
        raise AssertionError("marker not seen by the recording server: %r" % (cmds,))
    return cmds, outcome


def assert_same_wire(impl, redis_py, fn, compare_outcome=False, server=None, **client_kw):
    """``fn(client)`` sends the same commands with redis_native as with redis-py.

    Client-side validation errors (DataError...) must also match.  Replies from the
    fake server (``+OK``) are meaningless, so outcomes are not compared unless asked
    (or unless nothing was sent at all)."""
    if server is None:
        from servers import RecordingServer

        srv = RecordingServer()
    else:
        srv = server
    try:
        cn, on = recorded(impl, srv, fn, **client_kw)
        co, oo = recorded(redis_py, srv, fn, **client_kw)
    finally:
        if server is None:
            srv.close()
    assert cn == co, "commands sent differ:\n  native=%r\n  oracle=%r" % (cn, co)
    if compare_outcome or not co:
        compare(on, oo, what="outcome of %s" % getattr(fn, "__name__", fn))
    return co
