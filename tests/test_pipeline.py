"""Pipelines and transactions: redis_native vs redis-py, against a real server.

Most tests run the same function on a redis_native client and on a redis-py
client and compare the results (exceptions included, with their annotated
messages).  ``--impl=redis`` runs everything against redis-py itself.
"""
import time

import pytest

import diffutil


# --------------------------------------------------------------------------- helpers
def norm(x):
    """Make exception instances inside results comparable (class + message)."""
    if isinstance(x, BaseException):
        return ("exception", type(x).__name__, str(x))
    if isinstance(x, list):
        return [norm(v) for v in x]
    if isinstance(x, tuple):
        return tuple(norm(v) for v in x)
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    return x


def run_both(native, oracle, fn, msg=True):
    """``fn(client)`` on each side after a FLUSHDB; compare; return oracle result."""
    return diffutil.check(native, oracle, [(fn,)], how=norm, msg=msg)[0]


def pipeline_class(client):
    return type(client.pipeline())


def kill_connection(admin, conn):
    """CLIENT KILL the server side of ``conn`` (a connection object)."""
    conn.send_command("CLIENT", "ID")
    cid = int(conn.read_response())
    admin.client_kill_filter(_id=cid)


def in_use(client):
    return len(client.connection_pool._in_use_connections)


# A pipeline exercising many command families and response callbacks.
def many_commands(pipe):
    pipe.set("s", "v").get("s").set("s", "w", get=True).setnx("s", "x")
    pipe.mset({"m1": 1, "m2": "two", "m3": b"\xff"}).mget("m1", "m2", "m3", "nope")
    pipe.incr("n").incrby("n", 10).incrbyfloat("n", 1.5).decr("c").append("s", "zz")
    pipe.strlen("s").getrange("s", 0, 1).setrange("s", 1, "Q").getset("s", "g").getdel("s")
    pipe.exists("m1", "m2", "zz").type("m1").delete("m3").expire("m1", 1000).ttl("m1")
    pipe.persist("m1").ttl("m1").rename("m2", "m2b").setbit("b", 7, 1).getbit("b", 7).bitcount("b")
    pipe.hset("h", mapping={"a": 1, "b": "x", "c": 2.5}).hget("h", "a").hgetall("h")
    pipe.hmget("h", ["a", "b", "zz"]).hkeys("h").hvals("h").hlen("h").hincrby("h", "a", 5)
    pipe.hincrbyfloat("h", "c", 0.25).hexists("h", "a").hdel("h", "b").hsetnx("h", "a", 0)
    pipe.rpush("l", 1, 2, 3, 2).lpush("l", "z").lrange("l", 0, -1).llen("l").lpop("l")
    pipe.rpop("l", 2).lindex("l", 0).lset("l", 0, "first").linsert("l", "BEFORE", "first", "pre")
    pipe.lrem("l", 0, "nothing").ltrim("l", 0, 10).lpos("l", "first")
    pipe.sadd("st", "a", "b", "c").smembers("st").scard("st").sismember("st", "a")
    pipe.smismember("st", ["a", "q"]).srem("st", "c").sadd("st2", "b", "x")
    pipe.sinter("st", "st2").sunion("st", "st2").sdiff("st", "st2")
    pipe.zadd("z", {"a": 1, "b": 2.5, "c": -3}).zrange("z", 0, -1, withscores=True)
    pipe.zrevrange("z", 0, 1).zscore("z", "b").zincrby("z", 2, "a").zrank("z", "a")
    pipe.zcard("z").zcount("z", 0, 10).zrangebyscore("z", "-inf", "+inf", withscores=True)
    pipe.zrange("z", 0, -1, withscores=True, score_cast_func=lambda s: ("cast", s)).zpopmin("z").zrem("z", "c")
    pipe.geoadd("g", (13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"))
    pipe.geodist("g", "Palermo", "Catania", unit="km").geopos("g", "Palermo", "nope")
    pipe.pfadd("hll", "a", "b", "c").pfcount("hll")
    pipe.xadd("x", {"f": "v"}, id="1-0").xadd("x", {"g": "w"}, id="2-0").xlen("x")
    pipe.xrange("x").xrevrange("x", count=1)
    pipe.ping().echo("hello").dbsize().sort("l", alpha=True).object("encoding", "l")
    pipe.dump("b")
    return pipe.execute()


# --------------------------------------------------------------------------- basics
@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_many_command_types(diff, transaction):
    # (transaction + decode_responses: both raise UnicodeDecodeError, since
    # the whole EXEC reply is decoded, DUMP's binary payload included)
    diff.apply(lambda c: many_commands(c.pipeline(transaction)), how=norm)


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_many_command_types_without_dump(diff, transaction):
    def fn(c):
        pipe = c.pipeline(transaction)
        pipe.set("a", "\u00e9t\u00e9").get("a").hset("h", "k", b"v").hgetall("h")
        pipe.zadd("z", {"m": 1}).zrange("z", 0, -1, withscores=True).zscore("z", "m")
        pipe.slowlog_len()
        return pipe.execute()

    diff.apply(fn, how=norm)


def test_chaining_returns_the_pipeline(r):
    pipe = r.pipeline()
    assert pipe.set("a", 1) is pipe
    assert pipe.set("b", 2).get("a").incr("b") is pipe
    assert len(pipe) == 4
    assert pipe.execute() == [True, True, b"1", 3]


def test_commands_are_buffered_until_execute(r, oracle):
    for transaction in (True, False):
        oracle.flushdb()
        pipe = r.pipeline(transaction)
        pipe.set("a", 1)
        assert oracle.get("a") is None
        assert pipe.execute() == [True]
        assert oracle.get("a") == b"1"


def test_len_bool_repr(r):
    pipe = r.pipeline()
    assert len(pipe) == 0
    assert bool(pipe) is True
    pipe.set("a", 1).get("a")
    assert len(pipe) == 2
    text = repr(pipe)
    assert text.startswith("<") and ".Pipeline(<" in text and "ConnectionPool" in text
    pipe.reset()
    assert len(pipe) == 0


def test_attributes(r, oracle):
    for client in (r, oracle):
        pipe = client.pipeline(transaction=False, shard_hint="hint")
        assert pipe.transaction is False
        assert pipe.shard_hint == "hint"
        assert pipe.watching is False
        assert pipe.explicit_transaction is False
        assert pipe.command_stack == []
        assert pipe.scripts == set()
        assert pipe.connection is None
        assert pipe.connection_pool is client.connection_pool
        assert pipe.response_callbacks is client.response_callbacks
        pipe.set("a", 1, ex=5)
        assert pipe.command_stack == [(("SET", "a", 1, "EX", 5), {})]
        assert isinstance(pipe, type(client))


def test_empty_execute(r, oracle):
    for client in (r, oracle):
        for transaction in (True, False):
            pipe = client.pipeline(transaction)
            assert pipe.execute() == []
            assert pipe.connection is None
            assert in_use(client) == 0


def test_pipeline_is_reusable(r):
    pipe = r.pipeline()
    assert pipe.set("a", 1).execute() == [True]
    assert pipe.get("a").incr("a").execute() == [b"1", 2]
    assert pipe.execute() == []


def test_context_manager(r, oracle):
    def fn(c):
        with c.pipeline() as pipe:
            pipe.set("a", 1).incr("a")
            out = pipe.execute()
            pipe.get("a")
        return out, len(pipe), pipe.connection is None, in_use(c)

    run_both(r, oracle, fn)


def test_context_manager_unwatches(r, oracle):
    for client in (r, oracle):
        client.set("w", 1)
        with client.pipeline() as pipe:
            pipe.watch("w")
            assert pipe.watching is True
            assert pipe.connection is not None
        assert pipe.watching is False
        assert pipe.connection is None
        assert in_use(client) == 0
        # the released connection carries no WATCH any more: a transaction on it succeeds
        with client.pipeline() as pipe:
            client.set("w", 2)
            assert pipe.set("w", 3).execute() == [True]


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_decoded_results(diff_dec, transaction):
    def fn(c):
        return c.pipeline(transaction).set("k", "v\u00e9").get("k").hset("h", "a", "b").hgetall(
            "h").keys("k*").execute()

    diff_dec.apply(fn, how=norm)


# --------------------------------------------------------------------------- errors
def _error_pipeline(c, transaction, raise_on_error):
    pipe = c.pipeline(transaction)
    pipe.set("a", "1").lpush("a", "x").incr("a").hget("a", "f").get("a").incr("a")
    pipe.evalsha("0" * 40, 0).set("b", 2)
    return pipe.execute(raise_on_error=raise_on_error)


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
@pytest.mark.parametrize("raise_on_error", [True, False], ids=["raise", "noraise"])
def test_errors_mid_pipeline(diff, transaction, raise_on_error):
    result = diff.apply(lambda c: _error_pipeline(c, transaction, raise_on_error), how=norm)
    if raise_on_error:
        assert isinstance(result, Exception)
        assert str(result).startswith("Command # 2 (LPUSH a x) of pipeline caused error: WRONGTYPE")
    else:
        assert isinstance(result[1], Exception)
        assert str(result[1]).startswith("WRONGTYPE")  # not annotated


def test_error_classes_in_place(r, oracle):
    def fn(c):
        res = _error_pipeline(c, False, False)
        return [type(x).__name__ for x in res], [type(x).__mro__[1].__name__ for x in res]

    out = run_both(r, oracle, fn)
    assert out[0][6] == "NoScriptError"


def test_first_error_raised_is_the_earliest(r, oracle):
    def fn(c):
        pipe = c.pipeline(False)
        pipe.set("a", 1).hget("a", "x").lpush("a", 1)
        try:
            pipe.execute()
        except Exception as e:
            return type(e).__name__, str(e), e.args
        return None

    out = run_both(r, oracle, fn)
    assert out[1].startswith("Command # 2 (HGET a x)")


def test_annotation_truncates_long_commands(r, oracle):
    def fn(c):
        pipe = c.pipeline(False)
        pipe.set("k", "v").lpush("k", *["value-%d" % i for i in range(60)])
        pipe.lpush(b"k", b"\xff\xfe bytes", 1.5, 7)
        try:
            pipe.execute()
        except Exception as e:
            return str(e)

    out = run_both(r, oracle, fn)
    assert "..." in out

    def fn2(c):
        pipe = c.pipeline(False)
        pipe.set("k", "v").lpush(b"k", b"\xff\xfe bytes", 1.5, 7)
        return [str(e) for e in _raise_each(pipe)]

    run_both(r, oracle, fn2)


def _raise_each(pipe):
    try:
        pipe.execute()
    except Exception as e:
        return [e]
    return []


def test_connection_usable_after_errors(r):
    for transaction in (True, False):
        pipe = r.pipeline(transaction)
        pipe.set("a", 1).lpush("a", 1).set("b", 2)
        with pytest.raises(Exception):
            pipe.execute()
        assert in_use(r) == 0
        assert r.get("b") == b"2"
        assert r.pipeline(transaction).get("a").get("b").execute() == [b"1", b"2"]


@pytest.mark.parametrize("raise_on_error", [True, False], ids=["raise", "noraise"])
def test_execabort(diff, raise_on_error):
    def fn(c):
        pipe = c.pipeline()
        pipe.set("a", 1).execute_command("SET", "b").execute_command("NOSUCHCOMMAND", 1).set("c", 3)
        try:
            return pipe.execute(raise_on_error=raise_on_error)
        except Exception as e:
            return ("raised", type(e).__name__, str(e), pipe.watching, len(pipe))

    out = diff.apply(fn, how=norm)
    assert out[0] == "raised" and out[1] == "ResponseError"
    assert out[2].startswith("Command # 2 (SET b) of pipeline caused error: ")


def test_execabort_after_watch(r, oracle):
    def fn(c):
        c.set("w", 1)
        pipe = c.pipeline()
        pipe.watch("w")
        pipe.multi()
        pipe.execute_command("SET", "x")
        try:
            pipe.execute()
        except Exception as e:
            return type(e).__name__, str(e), pipe.watching, in_use(c)

    run_both(r, oracle, fn)


def test_data_error_while_packing(r, oracle):
    def fn(c):
        out = []
        for transaction in (True, False):
            pipe = c.pipeline(transaction)
            pipe.set("a", 1).set("b", {"not": "encodable"})
            try:
                pipe.execute()
            except Exception as e:
                out.append(type(e).__name__)
            out.append((len(pipe), in_use(c), c.get("a"), c.set("c", 1)))
        return out

    run_both(r, oracle, fn, msg=False)


def test_runtime_errors_in_transaction_do_not_abort(r, oracle):
    def fn(c):
        pipe = c.pipeline()
        pipe.set("a", "x").incr("a").set("b", 1)
        res = pipe.execute(raise_on_error=False)
        return res, c.get("b")

    out = run_both(r, oracle, fn)
    assert out[1] == b"1"


# --------------------------------------------------------------------------- WATCH / MULTI
def test_watch_then_concurrent_change_raises_watch_error(r, oracle):
    def fn(c):
        c.set("w", 1)
        other = c.__class__(connection_pool=c.connection_pool.__class__(
            **c.connection_pool.connection_kwargs))
        pipe = c.pipeline()
        assert pipe.watch("w") is True
        value = pipe.get("w")          # immediate while watching
        pipe.multi()
        queued = pipe.set("w", int(value) + 1)
        other.set("w", 100)
        other.close()
        try:
            pipe.execute()
        except Exception as e:
            err = (type(e).__name__, str(e))
        return value, queued is pipe, err, pipe.watching, in_use(c), c.get("w")

    out = run_both(r, oracle, fn)
    assert out[2] == ("WatchError", "Watched variable changed.")
    assert out[5] == b"100"


def test_watch_without_change_succeeds(r, oracle):
    def fn(c):
        c.set("w", 1)
        pipe = c.pipeline()
        pipe.watch("w", "other")
        v = int(pipe.get("w"))
        pipe.multi()
        pipe.set("w", v + 1).get("w")
        return pipe.execute(), pipe.watching, in_use(c)

    assert run_both(r, oracle, fn)[0] == [True, b"2"]


def test_watch_with_empty_stack_executes(r, oracle):
    def fn(c):
        c.set("w", 1)
        pipe = c.pipeline()
        pipe.watch("w")
        first = pipe.execute()
        pipe.watch("w")
        c.set("w", 2)
        try:
            pipe.execute()
        except Exception as e:
            return first, type(e).__name__, in_use(c)

    assert run_both(r, oracle, fn)[0] == []


def test_watch_in_non_transaction_pipeline(r, oracle):
    def fn(c):
        c.set("w", 1)
        pipe = c.pipeline(transaction=False)
        pipe.watch("w")
        v = pipe.get("w")
        pipe.multi()
        pipe.incr("w")
        return v, pipe.execute()

    run_both(r, oracle, fn)


def test_multi_misuse(r, oracle):
    def fn(c):
        out = []
        pipe = c.pipeline()
        pipe.multi()
        for call in (pipe.multi, lambda: pipe.watch("a")):
            try:
                call()
            except Exception as e:
                out.append((type(e).__name__, str(e)))
        pipe.reset()
        pipe.set("a", 1)
        try:
            pipe.multi()
        except Exception as e:
            out.append((type(e).__name__, str(e)))
        pipe.reset()
        return out

    assert len(run_both(r, oracle, fn)) == 3


def test_explicit_multi_buffers_after_watch(r, oracle):
    def fn(c):
        pipe = c.pipeline()
        pipe.watch("a")
        pipe.multi()
        assert pipe.get("a") is pipe
        return pipe.explicit_transaction, pipe.execute()

    run_both(r, oracle, fn)


def test_unwatch_and_discard(r, oracle):
    def fn(c):
        out = []
        pipe = c.pipeline()
        out.append(pipe.unwatch())          # not watching: nothing sent
        pipe.watch("a")
        out.append(pipe.unwatch())
        out.append(pipe.watching)
        # DISCARD while watching runs immediately, outside MULTI: an error
        pipe.watch("a")
        try:
            pipe.discard()
        except Exception as e:
            out.append((type(e).__name__, str(e)))
        out.append(pipe.watching)
        pipe.reset()
        # DISCARD queued inside the MULTI block: EXEC then has no MULTI
        pipe.set("key", "someval")
        pipe.discard()
        try:
            pipe.execute()
        except Exception as e:
            out.append((type(e).__name__, str(e)))
        out.append((c.get("key"), in_use(c)))
        return out

    run_both(r, oracle, fn)


def test_redis_transaction_retries_on_watch_error(r, oracle):
    def fn(c):
        c.set("k", 1)
        calls = []

        def body(pipe):
            v = int(pipe.get("k"))
            if not calls:
                oracle.incr("k")        # concurrent change on the first attempt only
            calls.append(v)
            pipe.multi()
            pipe.set("k", v + 100)
            return "value-%d" % len(calls)

        res = c.transaction(body, "k")
        res2 = c.transaction(body, "k", value_from_callable=True)
        return res, res2, calls, c.get("k"), in_use(c)

    out = run_both(r, oracle, fn)
    assert out[2] == [1, 2, 102]
    assert out[3] == b"202"


def test_redis_transaction_watch_delay_and_shard_hint(r):
    r.set("k", 1)
    attempts = []

    def body(pipe):
        attempts.append(1)
        if len(attempts) == 1:
            r.incr("k")
        pipe.multi()
        pipe.incr("k")

    t0 = time.monotonic()
    assert r.transaction(body, "k", shard_hint="x", watch_delay=0.05) == [3]
    assert time.monotonic() - t0 >= 0.05
    assert len(attempts) == 2


# --------------------------------------------------------------------------- options
@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_empty_response_option(diff, transaction):
    # MGET without keys: redis-py sends it (pipeline) or skips it (transaction)
    # and returns [] in its place
    diff.apply(lambda c: c.pipeline(transaction).set("a", 1).mget([]).get("a").execute(), how=norm)


def test_never_decode_in_plain_pipeline(diff_dec):
    def fn(c):
        c.set("a", "x")
        return c.pipeline(False).get("a").dump("a").get("a").execute()

    out = diff_dec.apply(fn, how=norm)
    assert isinstance(out[1], bytes) and out[0] == "x"


# --------------------------------------------------------------------------- scripts
def test_scripts_in_pipeline(r, oracle):
    def fn(c):
        c.script_flush()
        incr = c.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        echo = c.register_script("return ARGV[1]")
        out = []
        for transaction in (True, False):
            pipe = c.pipeline(transaction)
            assert incr(keys=["x"], args=[5], client=pipe) is pipe
            echo(args=["hi"], client=pipe)
            incr(keys=["x"], args=[2], client=pipe)
            out.append(len(pipe.scripts))
            out.append(pipe.execute())
            out.append(pipe.scripts)
        out.append(c.script_exists(incr.sha, echo.sha))
        return out

    assert run_both(r, oracle, fn)[1] == [5, b"hi", 7]


def test_load_scripts_directly(r):
    r.script_flush()
    s = r.register_script("return 1")
    pipe = r.pipeline()
    pipe.scripts.add(s)
    pipe.load_scripts()
    assert r.script_exists(s.sha) == [True]
    pipe.reset()
    assert in_use(r) == 0


# --------------------------------------------------------------------------- sizes
@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_large_pipeline(diff_bytes, transaction):
    def fn(c):
        pipe = c.pipeline(transaction)
        for i in range(5000):
            pipe.set("key:%d" % (i % 300), "v" * (i % 50))
        for i in range(0, 5000, 2):
            pipe.get("key:%d" % (i % 300))
            pipe.incr("counter")
        return pipe.execute()

    out = diff_bytes.apply(fn)
    assert len(out) == 10000


def test_large_values(r, oracle):
    big = b"x" * (3 * 1024 * 1024)

    def fn(c):
        return c.pipeline().set("a", big).get("a").strlen("a").execute()

    assert run_both(r, oracle, fn)[1] == big


# --------------------------------------------------------------------------- connections
def _client(module, server, retries, **kw):
    return module.Redis(host=server.host, port=server.port,
                        retry=module.retry.Retry(module.backoff.NoBackoff(), retries), **kw)


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_killed_connection_is_retried(impl, redis_py, redis_server, oracle, transaction):
    results = []
    for module in (impl, redis_py):
        c = _client(module, redis_server, 3)
        try:
            c.flushdb()
            pipe = c.pipeline(transaction)
            pipe.connection = c.connection_pool.get_connection()
            kill_connection(oracle, pipe.connection)
            pipe.set("a", 1).incr("a").get("a")
            results.append((pipe.execute(), in_use(c), c.get("a")))
        finally:
            c.close()
    diffutil.compare(results[0], results[1])
    assert results[1][0] == [True, 2, b"2"]


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_killed_connection_without_retries_raises(impl, redis_py, redis_server, oracle, transaction):
    """redis-py sends on the dead socket and raises.  redis_native probes a
    connection idle for more than 2 ms before every request (docs/architecture.md,
    deliberate differences) and sends on a fresh one instead: nothing had been
    sent on the dead one, and no WATCH was held (see the next test)."""
    results = []
    for module in (impl, redis_py):
        c = _client(module, redis_server, 0)
        try:
            c.flushdb()
            pipe = c.pipeline(transaction)
            pipe.connection = c.connection_pool.get_connection()
            kill_connection(oracle, pipe.connection)
            time.sleep(0.02)            # longer than the idle probe's 2 ms
            pipe.set("a", 1)
            if module is redis_py:
                with pytest.raises(module.exceptions.ConnectionError):
                    pipe.execute()
            else:
                assert pipe.execute() == [True]
                assert c.get("a") == b"1"
            results.append((in_use(c), pipe.connection, len(pipe), c.set("b", 1)))
        finally:
            c.close()
    diffutil.compare(results[0], results[1])


@pytest.mark.parametrize("idle", [0, 0.02], ids=["busy", "idle"])
def test_killed_connection_while_watching(impl, redis_py, redis_server, oracle, idle):
    """With `idle` the client waits before the next command, long enough for
    redis_native's idle probe to find the closed socket: it must still raise
    WatchError, never reconnect unwatched."""
    results = []
    for module in (impl, redis_py):
        c = _client(module, redis_server, 3)
        try:
            c.flushdb()
            c.set("w", 1)
            # killed before EXEC
            pipe = c.pipeline()
            pipe.watch("w")
            kill_connection(oracle, pipe.connection)
            time.sleep(idle)
            pipe.multi()
            pipe.set("w", 2)
            try:
                pipe.execute()
            except Exception as e:
                results.append((type(e).__name__, str(e)))
            results.append((pipe.watching, pipe.connection, in_use(c)))
            # killed before an immediate command
            pipe.watch("w")
            kill_connection(oracle, pipe.connection)
            time.sleep(idle)
            try:
                pipe.get("w")
            except Exception as e:
                results.append((type(e).__name__, str(e)))
            results.append((pipe.watching, pipe.connection, in_use(c), c.get("w")))
        finally:
            c.close()
    half = len(results) // 2
    diffutil.compare(results[:half], results[half:])
    assert results[0] == ("WatchError", "A ConnectionError occurred while watching one or more keys")


def test_connection_returned_to_pool(r):
    pool = r.connection_pool
    for transaction in (True, False):
        pipe = r.pipeline(transaction)
        pipe.set("a", 1).get("a")
        pipe.execute()
        assert pipe.connection is None
        assert len(pool._in_use_connections) == 0
    # while watching the pipeline keeps its connection
    pipe = r.pipeline()
    pipe.watch("a")
    assert len(pool._in_use_connections) == 1
    pipe.multi()
    pipe.get("a")
    pipe.execute()
    assert len(pool._in_use_connections) == 0
    # one connection serves every pipeline in turn
    assert len(pool._available_connections) == 1


def test_unix_socket_pipeline(impl, redis_server):
    c = impl.Redis(unix_socket_path=redis_server.unix_path)
    try:
        c.flushdb()
        for transaction in (True, False):
            assert c.pipeline(transaction).set("u", 1).incr("u").get("u").execute()[1:] in (
                [2, b"2"], [4, b"4"])
    finally:
        c.close()


@pytest.mark.parametrize("transaction", [True, False], ids=["multi", "plain"])
def test_subclassed_connection_takes_python_methods(impl, redis_server, oracle, transaction):
    reads = []

    class CountingConnection(impl.Connection):
        def read_response(self, *args, **kwargs):
            reads.append(1)
            return super().read_response(*args, **kwargs)

    pool = impl.ConnectionPool(host=redis_server.host, port=redis_server.port,
                               connection_class=CountingConnection)
    c = impl.Redis(connection_pool=pool)
    try:
        run_both(c, oracle, lambda cl: _error_pipeline(cl, transaction, False))
        del reads[:]
        _error_pipeline(c, transaction, False)
        assert len(reads) == 8 + (2 if transaction else 0)
    finally:
        c.close()
        pool.disconnect()


def test_pipeline_subclass_parse_response_is_honoured(r):
    calls = []
    base = pipeline_class(r)

    class MyPipeline(base):
        def parse_response(self, connection, command_name, **options):
            calls.append(command_name)
            return super().parse_response(connection, command_name, **options)

    pipe = MyPipeline(r.connection_pool, r.response_callbacks, False, None)
    assert pipe.set("a", 1).get("a").execute() == [True, b"1"]
    assert calls == ["SET", "GET"]
    del calls[:]
    pipe = MyPipeline(r.connection_pool, r.response_callbacks, True, None)
    assert pipe.set("a", 2).get("a").execute() == [True, b"2"]
    if type(r).__module__.startswith("redis_native"):
        # a transaction reads the replies of MULTI and EXEC through
        # parse_response, under their names; the "QUEUED" acknowledgements are
        # no command's result (docs/architecture.md, deliberate differences)
        assert calls == ["MULTI", "EXEC"]
    else:
        # redis-py reads all four replies under the placeholder name "_"
        assert calls == ["_", "_", "_", "_"]


def test_custom_response_callback(r, oracle):
    def fn(c):
        c.set_response_callback("GET", lambda resp, **kw: ("wrapped", resp))
        try:
            return c.pipeline(False).set("a", 1).get("a").execute(), c.pipeline().get("a").execute()
        finally:
            del c.response_callbacks["GET"]

    run_both(r, oracle, fn)


def test_pipeline_from_pipeline_and_del(r):
    pipe = r.pipeline()
    pipe.watch("a")
    assert in_use(r) == 1
    del pipe
    import gc

    gc.collect()
    assert in_use(r) == 0


def test_close_is_reset(r):
    pipe = r.pipeline()
    pipe.watch("a")
    pipe.set("b", 1)   # immediate while watching
    pipe.close()
    assert pipe.connection is None and pipe.watching is False and in_use(r) == 0
    assert r.get("b") == b"1"


def test_fast_path_is_taken_for_builtin_connections(impl, r, monkeypatch):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's C pipeline primitive")
    calls = []
    original = impl.Connection._execute_pipeline

    def spy(self, commands):
        calls.append(len(commands))
        return original(self, commands)

    monkeypatch.setattr(impl.Connection, "_execute_pipeline", spy)
    assert r.pipeline(False).set("a", 1).get("a").execute() == [True, b"1"]
    assert r.pipeline(True).set("a", 2).get("a").execute() == [True, b"2"]
    assert calls == [2, 4]      # the transaction adds MULTI and EXEC

    class Sub(impl.Connection):
        pass

    pool = impl.ConnectionPool(host=r.connection_pool.connection_kwargs["host"],
                               port=r.connection_pool.connection_kwargs["port"],
                               connection_class=Sub)
    c = impl.Redis(connection_pool=pool)
    try:
        assert c.pipeline().set("a", 3).get("a").execute() == [True, b"3"]
        # a subclass that overrides nothing keeps the C primitive (the stand-in rule)
        assert calls == [2, 4, 4]
    finally:
        pool.disconnect()
