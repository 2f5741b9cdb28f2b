"""ClusterPipeline and cluster transactions on the real 6-node cluster,
differential against redis-py 7.4.1's ClusterPipeline on the same cluster:
queued commands of every family across the slots, results in order, error
replies (``raise_on_error``), explicit ``target_nodes``, the commands a
cluster pipeline refuses, ``send_cluster_commands``; a 100,000-command
pipeline over all slots; a pipeline while a slot migrates (ASK inside the
pipeline, then MOVED) with every result checked; transactions (WATCH/MULTI/
EXEC on one slot, cross-slot errors, a WATCH conflict from another client,
``RedisCluster.transaction``); the Python path taken when a connection method
is patched; and the C primitives' argument checks.
"""
from __future__ import annotations

import threading
import time
from unittest import mock

import pytest

from cluster_topology import SlotMigration, _full_command, owner_of, wait_slot_agreed
from diffutil import Raised, compare


def _run(fn, client):
    try:
        return fn(client)
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return Raised(e)


def plain(x):
    """Results with exception instances replaced by (class name, message),
    so lists holding errors compare across the two libraries."""
    if isinstance(x, BaseException):
        return ("error", type(x).__name__, str(x))
    if isinstance(x, (list, tuple)):
        return type(x)(plain(v) for v in x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x


@pytest.fixture
def make(cluster):
    made = []

    def build(lib, **kw):
        kw.setdefault("host", cluster.host)
        kw.setdefault("port", cluster.port)
        c = lib.RedisCluster(**kw)
        made.append(c)
        return c

    yield build
    for c in made:
        c.close()


@pytest.fixture
def same(make, impl, redis_py, cluster):
    """``same(fn, **client_kw)``: fn(native cluster client) and fn(redis-py's),
    each after a FLUSHALL, give the same result or exception class."""

    def check(fn, how=plain, **kw):
        native, oracle = make(impl, **kw), make(redis_py, **kw)
        cluster.flushall()
        a = _run(fn, native)
        cluster.flushall()
        b = _run(fn, oracle)
        compare(a, b, how=how, what=getattr(fn, "__name__", "fn"))
        return a

    return check


def _keys_on_every_primary(client, cluster, per_node=2):
    """Keys whose slots are spread over every primary (per_node each)."""
    want = {p.port: per_node for p in cluster.primaries()}
    keys, i = [], 0
    while any(want.values()):
        key = f"key:{i}"
        i += 1
        port = owner_of(cluster, client.keyslot(key)).port
        if want.get(port):
            want[port] -= 1
            keys.append(key)
    return keys


# ------------------------------------------------------------------- basics
def test_pipeline_type_and_queueing(make, impl):
    c = make(impl)
    pipe = c.pipeline()
    assert type(pipe).__name__ == "ClusterPipeline"
    assert isinstance(pipe, impl.RedisCluster)
    assert impl.cluster.ClusterPipeline is type(pipe)
    assert pipe.set("a", 1) is pipe
    assert len(pipe) == 1 and bool(pipe)
    pipe.reset()
    assert len(pipe) == 0 and bool(pipe)
    assert pipe.execute() == []


def test_command_families_in_order(same, make, impl, cluster):
    keys = _keys_on_every_primary(make(impl), cluster, per_node=3)

    def fn(c):
        p = c.pipeline()
        for i, k in enumerate(keys):
            p.set(k, i)
        for k in keys:
            p.get(k)
        p.incr(keys[0]).incrbyfloat(keys[1], 1.5).getset(keys[2], "x")
        p.hset("h", mapping={"a": 1, "b": 2}).hgetall("h").hincrby("h", "a", 5).hmget("h", "a", "b")
        p.rpush("l", 1, 2, 3).lrange("l", 0, -1).lpop("l").llen("l")
        p.sadd("s", "a", "b").smembers("s").sismember("s", "a").scard("s")
        p.zadd("z", {"a": 1, "b": 2}).zrange("z", 0, -1, withscores=True).zscore("z", "b")
        p.zincrby("z", 2, "a").zrangebyscore("z", 0, 10)
        p.expire(keys[3], 100).ttl(keys[3]).persist(keys[3]).exists(keys[4]).type(keys[5])
        p.setnx(keys[6], 1).strlen(keys[0]).append(keys[7], "zz").getrange(keys[7], 0, 1)
        p.xadd("st", {"f": "v"}, id="1-1").xlen("st").xrange("st")
        p.pfadd("hll", "a", "b").geoadd("geo", [13.36, 38.11, "palermo"]).geopos("geo", "palermo")
        p.delete(keys[8])
        p.unlink(keys[7])
        p.get(keys[8])
        return p.execute()

    result = same(fn)
    assert result[: len(keys)] == [True] * len(keys)
    assert result[len(keys): 2 * len(keys)] == [str(i).encode() for i in range(len(keys))]


def test_decode_responses(same, make, impl, cluster):
    keys = _keys_on_every_primary(make(impl), cluster)

    def fn(c):
        p = c.pipeline()
        for k in keys:
            p.set(k, "é" + k).get(k)
        p.hset("h", "f", "v").hgetall("h")
        return p.execute()

    assert same(fn, decode_responses=True)[1] == "é" + keys[0]


def test_error_replies(same, make, impl, cluster):
    keys = _keys_on_every_primary(make(impl), cluster)

    def raising(c):
        p = c.pipeline()
        p.set(keys[0], "x").lpush(keys[0], 1).set(keys[1], 1).incr(keys[0]).get(keys[1])
        return p.execute()

    def not_raising(c):
        p = c.pipeline()
        p.set(keys[0], "x").lpush(keys[0], 1).set(keys[1], 1).incr(keys[0]).get(keys[1])
        return p.execute(raise_on_error=False)

    def raised_message(c):
        try:
            raising(c)
        except Exception as e:  # noqa: BLE001
            return str(e)

    def pipeline_usable_after(c):
        p = c.pipeline()
        p.set(keys[0], "x").lpush(keys[0], 1)
        try:
            p.execute()
        except Exception:  # noqa: BLE001
            pass
        return p.set(keys[2], 5).get(keys[2]).execute()

    same(raising)
    out = same(not_raising)
    assert out[0] is True and isinstance(out[1], Exception) and out[4] == b"1"
    msg = same(raised_message)
    assert msg.startswith("Command # 2 (LPUSH ") and "WRONGTYPE" in msg
    assert same(pipeline_usable_after) == [True, b"5"]


def test_target_nodes_and_keyless_routing(same, make, impl):
    def fn(c):
        node = c.get_node_from_key("tn")
        p = c.pipeline()
        p.set("tn", 1)
        p.execute_command("GET", "tn", target_nodes=node)
        p.execute_command("DBSIZE", target_nodes=node)
        p.execute_command("EXISTS", "tn", target_nodes=[node])
        p.get("tn")
        return p.execute()

    assert same(fn) == [True, b"1", 1, 1, b"1"]

    def too_many(c):
        p = c.pipeline()
        p.execute_command("GET", "tn", target_nodes=c.get_primaries())
        return p.execute()

    same(too_many)


REFUSED = ["bgsave", "bitop", "config_get", "dbsize", "echo", "flushall", "info", "keys",
           "mget", "mset", "msetnx", "move", "pfcount", "pfmerge", "ping", "publish",
           "randomkey", "rename", "renamenx", "rpoplpush", "scan", "script_load", "sdiff",
           "sinter", "smove", "sort", "sunion", "time", "brpoplpush", "evalsha",
           "script_exists", "readonly", "shutdown", "slowlog_get"]


@pytest.mark.parametrize("name", REFUSED)
def test_refused_commands(make, impl, redis_py, name):
    for lib in (impl, redis_py):
        p = make(lib).pipeline()
        with pytest.raises(lib.exceptions.RedisClusterException) as info:
            getattr(p, name)("a", "b")
        assert str(info.value) == (f"ERROR: Calling pipelined function {name} is blocked "
                                   f"when running redis in cluster mode...")


def test_refused_outside_transaction(same):
    for fn in (lambda c: c.pipeline().multi(), lambda c: c.pipeline().watch("a"),
               lambda c: c.pipeline().unwatch(), lambda c: c.pipeline().discard(),
               lambda c: c.pipeline().delete("a", "b"), lambda c: c.pipeline().unlink("a", "b"),
               lambda c: c.pipeline().eval(), lambda c: c.pipeline(shard_hint="x"),
               lambda c: c.pipeline().script_load_for_pipeline("return 1")):
        same(fn)


def test_send_cluster_commands(same, make, impl):
    def fn(c):
        mod = type(c).__module__
        PipelineCommand = __import__(mod, fromlist=["PipelineCommand"]).PipelineCommand
        p = c.pipeline()
        stack = [PipelineCommand(("SET", "sc", "1"), {}, 0),
                 PipelineCommand(("LPUSH", "sc", "1"), {}, 1),
                 PipelineCommand(("GET", "sc"), {}, 2)]
        out = p.send_cluster_commands(stack, raise_on_error=False)
        return out, [c.result for c in stack]

    out, results = same(fn)
    assert out[2] == b"1" and results[2] == b"1"


def test_scripts_run_in_a_pipeline(make, impl, cluster):
    c = make(impl)
    cluster.flushall()
    script = c.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    c.script_flush()                    # every primary must load it again
    keys = _keys_on_every_primary(c, cluster)
    p = c.pipeline()
    if impl.__name__ != "redis_native":
        # redis-py 7.4.1 refuses the EVALSHA a Script sends (a deliberate
        # difference: redis_native loads the script on every primary)
        with pytest.raises(impl.exceptions.RedisClusterException):
            script(keys=[keys[0]], args=[1], client=p)
        return
    for i, k in enumerate(keys):
        script(keys=[k], args=[i + 1], client=p)
    p.get(keys[0])
    assert p.execute() == [i + 1 for i in range(len(keys))] + [b"1"]
    # a bare EVALSHA stays refused, as in redis-py
    with pytest.raises(impl.exceptions.RedisClusterException):
        c.pipeline().evalsha("0" * 40, 0)


# -------------------------------------------------------------- big and moving
def test_100000_commands_across_all_slots(make, impl, cluster):
    cluster.flushall()
    c = make(impl)
    n = 100_000
    p = c.pipeline()
    for i in range(n):
        p.set(f"big:{i}", i)
    assert p.execute() == [True] * n
    for i in range(n):
        p.get(f"big:{i}")
    values = p.execute()
    assert values == [str(i).encode() for i in range(n)]
    # every slot owner got its share
    slots = {c.keyslot(f"big:{i}") for i in range(n)}
    assert len(slots) > 16_000
    assert len({owner_of(cluster, s).port for s in sorted(slots)[::500]}) == 3
    cluster.flushall()


def _tag_on(client, cluster, node):
    i = 0
    while True:
        tag = f"mig{i}"
        if owner_of(cluster, client.keyslot(tag)) is node:
            return tag
        i += 1


def test_pipeline_during_slot_migration(make, impl, cluster):
    """ASK inside a pipeline while a slot's keys are half moved, then MOVED
    once the slot has moved: every result is checked."""
    cluster.flushall()
    c = make(impl)
    src = cluster.primaries()[0]
    dst = cluster.primaries()[1]
    tag = _tag_on(c, cluster, src)
    slot = c.keyslot(tag)
    moving = [f"{{{tag}}}:{i}" for i in range(40)]
    others = _keys_on_every_primary(c, cluster, per_node=5)
    p = c.pipeline()
    for i, k in enumerate(moving + others):
        p.set(k, i)
    assert p.execute() == [True] * (len(moving) + len(others))

    m = SlotMigration(cluster, slot, src, dst)
    m.begin()
    try:
        m.move_keys([k.encode() for k in moving[:20]])
        # half moved: the first 20 answer ASK on the source
        for k in moving + others:
            p.get(k)
        for k in moving:
            p.incr(k)
        p.set(f"{{{tag}}}:new", "n").get(f"{{{tag}}}:new")
        out = p.execute()
        allk = moving + others
        assert out[: len(allk)] == [str(i).encode() for i in range(len(allk))]
        assert out[len(allk): len(allk) + len(moving)] == [i + 1 for i in range(len(moving))]
        assert out[-2:] == [True, b"n"]
        # the slot table still names the source (ASK is not MOVED)
        assert c.nodes_manager.slots_cache[slot][0].port == src.port
        m.move_all_keys()
        m.finish()
        wait_slot_agreed(cluster, slot, dst.port)
        # the slot moved: MOVED inside the pipeline, then the table follows
        for k in moving:
            p.get(k)
        for k in others:
            p.get(k)
        out = p.execute()
        assert out[: len(moving)] == [str(i + 1).encode() for i in range(len(moving))]
        assert out[len(moving):] == [str(len(moving) + i).encode() for i in range(len(others))]
        assert c.nodes_manager.slots_cache[slot][0].port == dst.port
    finally:
        if owner_of(cluster, slot) is not src:
            SlotMigration(cluster, slot, dst, src).run()
            wait_slot_agreed(cluster, slot, src.port)
    cluster.flushall()


def test_pipeline_during_migration_matches_redis_py(make, impl, redis_py, cluster):
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = make(lib)
        src, dst = cluster.primaries()[0], cluster.primaries()[2]
        tag = _tag_on(c, cluster, src)
        slot = c.keyslot(tag)
        keys = [f"{{{tag}}}:{i}" for i in range(10)]
        for i, k in enumerate(keys):
            c.set(k, i)
        m = SlotMigration(cluster, slot, src, dst)
        m.begin()
        try:
            m.move_keys([k.encode() for k in keys[:5]])
            p = c.pipeline()
            for k in keys:
                p.get(k).lpush(k, 1)
            # keys on both sides of the migration: TRYAGAIN, run again until
            # the TTL runs out, as redis-py does
            p.execute_command("MGET", keys[0], keys[9])
            outcomes.append(p.execute(raise_on_error=False))
            # without redirections, ASK stays the result of the moved keys' commands
            stack = [lib.cluster.PipelineCommand(("GET", k), {}, i) for i, k in enumerate(keys)]
            outcomes.append(p.send_cluster_commands(stack, raise_on_error=False,
                                                    allow_redirections=False))
            # a transaction on the half-moved slot: ASK inside MULTI aborts EXEC
            tx = c.pipeline(transaction=True)
            tx.get(keys[0]).get(keys[9])
            outcomes.append(_run(lambda _: tx.execute(), None))
        finally:
            m.move_all_keys()
            m.finish()
            wait_slot_agreed(cluster, slot, dst.port)
            SlotMigration(cluster, slot, dst, src).run()
            wait_slot_agreed(cluster, slot, src.port)
    compare(plain(outcomes[0:3]), plain(outcomes[3:6]))
    assert [type(r).__name__ for r in outcomes[1][:5]] == ["AskError"] * 5
    assert outcomes[1][5:] == [str(i).encode() for i in range(5, 10)]
    cluster.flushall()


def test_transaction_after_slot_moved(make, impl, redis_py, cluster):
    """A transaction on a slot whose owner changed since the client looked:
    MOVED, the slot table is updated and the transaction runs on the new
    owner (as redis-py does)."""
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = make(lib)
        src, dst = cluster.primaries()[0], cluster.primaries()[1]
        tag = _tag_on(c, cluster, src)
        slot = c.keyslot(tag)
        c.set(f"{{{tag}}}:a", 1)
        SlotMigration(cluster, slot, src, dst).run()
        wait_slot_agreed(cluster, slot, dst.port)
        try:
            tx = c.pipeline(transaction=True)
            tx.incr(f"{{{tag}}}:a").get(f"{{{tag}}}:a")
            first = _run(lambda _: tx.execute(), None)
            tx = c.pipeline(transaction=True)
            tx.incr(f"{{{tag}}}:a").get(f"{{{tag}}}:a")
            outcomes.append((first, _run(lambda _: tx.execute(), None), c.get(f"{{{tag}}}:a")))
        finally:
            SlotMigration(cluster, slot, dst, src).run()
            wait_slot_agreed(cluster, slot, src.port)
    compare(plain(outcomes[0]), plain(outcomes[1]))
    cluster.flushall()


# --------------------------------------------------------- the Python path
def test_patched_connection_takes_the_python_path(make, impl, cluster):
    if impl.__name__ != "redis_native":
        pytest.skip("checks redis_native's C/Python path choice")
    cluster.flushall()
    c = make(impl)
    keys = _keys_on_every_primary(c, cluster)
    warm = c.pipeline()
    for k in keys:
        warm.get(k)
    warm.execute()                      # every node's pool has a connection
    calls = []
    original = impl.connection.Connection.send_packed_command

    def recording(self, *a, **kw):
        calls.append(self.port)
        return original(self, *a, **kw)

    with mock.patch.object(impl.connection.Connection, "send_packed_command", recording):
        p = c.pipeline()
        for i, k in enumerate(keys):
            p.set(k, i).get(k)
        out = p.execute()
    assert out == [x for i in range(len(keys)) for x in (True, str(i).encode())]
    # one packed write per node
    assert sorted(calls) == sorted(p.port for p in cluster.primaries())
    # and the C path again once unpatched
    calls.clear()
    p.set(keys[0], 1).get(keys[0])
    assert p.execute() == [True, b"1"] and calls == []


def test_node_failure_inside_pipeline_is_retried(make, impl, cluster):
    """A node's connections killed between queueing and execute: its
    commands are run again through the cluster client and succeed."""
    cluster.flushall()
    c = make(impl)
    keys = _keys_on_every_primary(c, cluster, per_node=3)
    p = c.pipeline()
    for k in keys:
        p.set(k, k)
    p.execute()
    victim = owner_of(cluster, c.keyslot(keys[0]))
    # a pooled connection that the server closes without the client knowing
    conn = c.get_node_from_key(keys[0]).redis_connection.connection_pool.get_connection()
    c.get_node_from_key(keys[0]).redis_connection.connection_pool.release(conn)
    victim.command("CLIENT", "KILL", "TYPE", "normal")
    for k in keys:
        p.get(k)
    assert p.execute() == [k.encode() for k in keys]


# -------------------------------------------------------------- transactions
def test_transaction_basics(same):
    def fn(c):
        p = c.pipeline(transaction=True)
        p.set("{t}a", 1).incr("{t}a").get("{t}a").hset("{t}h", "f", "v").hgetall("{t}h")
        p.lpush("{t}a", 1)
        return p.execute(raise_on_error=False)

    out = same(fn)
    assert out[:5] == [b"OK", 2, b"2", 1, [b"f", b"v"]] and isinstance(out[5], Exception)

    def raising(c):
        p = c.pipeline(transaction=True)
        p.set("{t}a", 1).lpush("{t}a", 1).get("{t}a")
        return p.execute()

    same(raising)


def test_transaction_cross_slot_errors(same):
    def commands(c):
        p = c.pipeline(transaction=True)
        p.set("{a}1", 1).set("{b}1", 1)
        return p.execute()

    def watches(c):
        p = c.pipeline(transaction=True)
        p.watch("{a}1")
        p.watch("{b}1")

    def keyless(c):
        p = c.pipeline(transaction=True)
        p.execute_command("PING")
        return p.execute()

    def no_key_exec(c):
        p = c.pipeline(transaction=True)
        p.multi()
        return p.execute()

    for fn in (commands, watches, keyless, no_key_exec):
        same(fn)


def test_transaction_state_errors(same):
    def nested(c):
        p = c.pipeline(transaction=True)
        p.multi()
        p.multi()

    def watch_after_multi(c):
        p = c.pipeline(transaction=True)
        p.multi()
        p.watch("{a}1")

    def multi_after_commands(c):
        p = c.pipeline(transaction=True)
        p.set("{a}1", 1)
        p.multi()

    def send_cluster_commands(c):
        return c.pipeline(transaction=True).send_cluster_commands([])

    def discard(c):
        p = c.pipeline(transaction=True)
        p.set("{a}1", 1)
        p.discard()
        return len(p), p.set("{a}2", 2).execute()

    for fn in (nested, watch_after_multi, multi_after_commands, send_cluster_commands, discard):
        same(fn)


def test_watch_conflict_from_another_client(make, impl, redis_py, cluster):
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c, other = make(lib), make(lib)
        c.set("{w}k", 1)
        p = c.pipeline(transaction=True)
        p.watch("{w}k")
        value = int(p.get("{w}k"))
        other.set("{w}k", 100)          # another client changes the watched key
        p.multi()
        p.set("{w}k", value + 1)
        with pytest.raises(lib.exceptions.WatchError):
            p.execute()
        after = c.get("{w}k")
        # unwatched: the same block goes through
        p.watch("{w}k")
        p.multi()
        p.incr("{w}k")
        outcomes.append((after, p.execute(), c.get("{w}k")))
        p.reset()
    compare(outcomes[0], outcomes[1])
    assert outcomes[0] == (b"100", [101], b"101")


def test_transaction_helper_retries_on_conflict(make, impl, cluster):
    cluster.flushall()
    c, other = make(impl), make(impl)
    c.set("{x}n", 0)
    tries = []

    def incr(pipe):
        value = int(pipe.get("{x}n"))
        tries.append(value)
        if len(tries) < 3:
            other.incr("{x}n")          # a conflict on the first two tries
        pipe.multi()
        pipe.set("{x}n", value + 10)
        return value

    assert c.transaction(incr, "{x}n", value_from_callable=True) == 2
    assert c.get("{x}n") == b"12"
    assert tries == [0, 1, 2]
    assert c.transaction(lambda p: (p.multi(), p.incr("{x}n")), "{x}n") == [13]


def test_transactions_from_threads_are_atomic(make, impl, cluster):
    cluster.flushall()
    c = make(impl)
    c.set("{cnt}", 0)
    errors = []

    def worker():
        try:
            for _ in range(25):
                c.transaction(lambda p: (lambda v: (p.multi(), p.set("{cnt}", v + 1)))(
                    int(p.get("{cnt}"))), "{cnt}")
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert c.get("{cnt}") == b"100"


# ---------------------------------------------------------- C argument checks
def test_c_primitives_validate_arguments(make, impl):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's C primitives")
    native = impl._native
    c = make(impl)
    with pytest.raises(TypeError):
        native._roundtrip_many(None)
    with pytest.raises(TypeError):
        native._roundtrip_many([("not a connection", [])])
    with pytest.raises(TypeError):
        native._roundtrip_many([(1, 2, 3)])
    conn = c.get_default_node().redis_connection.connection_pool.get_connection()
    try:
        with pytest.raises(ValueError):
            native._roundtrip_many([(conn, [(("PING",), {})]), (conn, [(("PING",), {})])])
        with pytest.raises(TypeError):
            native._roundtrip_many([(conn, 5)])
        with pytest.raises(impl.exceptions.DataError):
            native._roundtrip_many([(conn, [(("SET", "a", None), {})])])
        # nothing was sent: the connection is still in step
        assert native._roundtrip_many([(conn, [(("PING",), {}), ["ECHO", "x"]])]) == \
            [[b"PONG", b"x"]]
        assert native._roundtrip_many([(conn, [])]) == [[]]
        assert native._roundtrip_many([]) == []
    finally:
        c.get_default_node().redis_connection.connection_pool.release(conn)
    # an argument error on one node: nothing sent anywhere, no connection dropped
    pools = [n.redis_connection.connection_pool for n in c.get_primaries()[:2]]
    conns = [pool.get_connection() for pool in pools]
    try:
        with pytest.raises(impl.exceptions.DataError):
            native._roundtrip_many([(conns[0], [(("PING",), {})]),
                                    (conns[1], [(("GET", 1.5), {}), (("GET", {}), {})])])
        assert all(x.is_connected and x._replies_owed == 0 for x in conns)
        assert native._roundtrip_many([(x, [(("PING",), {})]) for x in conns]) == \
            [[b"PONG"], [b"PONG"]]
    finally:
        for pool, x in zip(pools, conns):
            pool.release(x)
    with pytest.raises(TypeError):
        native._route_stack(object(), [])
    with pytest.raises(TypeError):
        native._route_stack(c, ())
    with pytest.raises(TypeError):
        native._route_stack(c)
    groups, unrouted = native._route_stack(c, [(("GET", "a"), {}), "junk", (("GET",), {}),
                                               (("GET", "a"), {"target_nodes": None})])
    assert unrouted == [1, 2, 3]
    assert [g[1] for g in groups] == [[0]] and groups[0][0] is c.get_node_from_key("a")
    with pytest.raises(impl.exceptions.DataError):
        native._route_stack(c, [(("GET", None), {})])
    with pytest.raises(TypeError):
        native._share_router(c, 1)

    # Python code run while packing (a float subclass's __repr__) empties
    # the caller's lists: the primitives work on their own copies
    victims = []

    class Sneaky(float):
        def __repr__(self):
            for v in victims:
                del v[:]
            return "1.5"

    stack = [(("SET", "sn", Sneaky(1.5)), {}), (("GET", "sn"), {})] + \
        [(("GET", f"sn{i}"), {}) for i in range(50)]
    routed = [(("GET", Sneaky(2.5)), {})] + [(("GET", f"sn{i}"), {}) for i in range(50)]
    victims.append(routed)              # the key's encoding empties it
    groups, unrouted = native._route_stack(c, routed)
    assert routed == [] and sum(len(g[1]) for g in groups) + len(unrouted) == 51
    victims.clear()
    victims.append(stack)
    node_conn = c.get_node_from_key("sn").redis_connection.connection_pool.get_connection()
    try:
        pairs = [(node_conn, stack)]
        victims.append(pairs)
        out = native._roundtrip_many(pairs)
        assert out[0][:2] == [b"OK", b"1.5"] and len(out[0]) == 52
        # the same with the arguments in a list that the value's repr empties
        args = ["SET", "sn", Sneaky(1.5)]
        victims[:] = [args]
        assert native._roundtrip_many([(node_conn, [(args, {})])]) == [[b"OK"]]
        with pytest.raises(TypeError):
            native._roundtrip_many([(node_conn, [("SET sn 1", {})])])
    finally:
        c.get_node_from_key("sn").redis_connection.connection_pool.release(node_conn)


# ------------------------------------------------- a stalled node, a signal
def _paused(cluster, node, ms):
    """CLIENT PAUSE ``ms`` WRITE on ``node``: its writes wait, reads answer."""
    assert node.command("CLIENT", "PAUSE", str(ms), "WRITE").startswith(b"+OK")


def _unpause(cluster):
    for n in cluster.primaries():
        n.command("CLIENT", "UNPAUSE")


def test_stalled_node_times_out_alone(make, impl, cluster):
    """One node stalls past socket_timeout: only its commands fail the
    concurrent round trip (TimeoutError) and are run again one by one; the
    other nodes' results arrive."""
    cluster.flushall()
    c = make(impl, socket_timeout=0.2)
    keys = _keys_on_every_primary(c, cluster, per_node=3)
    stalled = owner_of(cluster, c.keyslot(keys[0]))
    on_stalled = {k for k in keys if owner_of(cluster, c.keyslot(k)) is stalled}
    p = c.pipeline()
    for k in keys:
        p.get(k)
    p.execute()                          # connections open
    retried = []
    original = p.parent_execute_command

    def recording(*args, **kw):
        retried.append(args[1])
        return original(*args, **kw)

    p.parent_execute_command = recording
    _paused(cluster, stalled, 2000)
    try:
        for k in keys:
            p.set(k, "v")
        out = p.execute(raise_on_error=False)
    finally:
        _unpause(cluster)
    assert sorted(retried) == sorted(on_stalled)
    for k, r in zip(keys, out):
        if k in on_stalled:
            assert r is True or isinstance(r, impl.exceptions.TimeoutError), r
        else:
            assert r is True
    # nothing stale is left on any connection
    for k in keys:
        p.set(k, k).get(k)
    assert p.execute() == [x for k in keys for x in (True, k.encode())]


def test_signal_during_round_trip(make, impl, cluster):
    """A signal handler raising while the round trip waits: the exception
    comes out of execute(), and no connection keeps an unread reply."""
    import signal

    class Interrupted(Exception):
        pass

    cluster.flushall()
    c = make(impl)                        # no socket_timeout: waits for ever
    keys = _keys_on_every_primary(c, cluster, per_node=2)
    stalled = owner_of(cluster, c.keyslot(keys[0]))

    def handler(signum, frame):
        raise Interrupted()

    previous = signal.signal(signal.SIGALRM, handler)
    _paused(cluster, stalled, 3000)
    try:
        p = c.pipeline()
        for k in keys:
            p.set(k, "v")
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(Interrupted):
            p.execute()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _unpause(cluster)
    for k in keys:
        p.set(k, k).get(k)
    assert p.execute() == [x for k in keys for x in (True, k.encode())]


def _cmdstat(node, name):
    for line in _full_command(node.host, node.port, "INFO", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{name}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def test_replica_reads_in_a_pipeline(make, impl, cluster):
    """read_from_replicas: reads are routed in Python to the slot's replica
    (READONLY on its connection), writes to the primary, results in order."""
    cluster.flushall()
    c = make(impl, read_from_replicas=True)
    keys = _keys_on_every_primary(c, cluster, per_node=4)
    p = c.pipeline()
    for k in keys:
        p.set(k, k)
    assert p.execute() == [True] * len(keys)
    for prim in c.get_primaries():
        c.execute_command("WAIT", 1, 5000, target_nodes=prim)
    def reads():
        return sum(_cmdstat(n, "get") + _cmdstat(n, "exists") for n in cluster.replicas())

    before = reads()
    for k in keys:
        p.get(k).exists(k)
    out = p.execute()
    assert out == [x for k in keys for x in (k.encode(), 1)]
    # round robin over primary and replica, per slot's primary
    assert reads() - before == len(keys)


def test_patched_routing_method_is_called(make, impl, redis_py, cluster):
    """A routing method patched on ClusterPipeline (keyslot) is called for
    every keyed command, as redis-py calls it: C does not route around it."""
    counts = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = make(lib)
        seen = []
        original = lib.cluster.ClusterPipeline.keyslot

        def recording(self, key, _orig=original, _seen=seen):
            _seen.append(key)
            return _orig(self, key)

        with mock.patch.object(lib.cluster.ClusterPipeline, "keyslot", recording):
            p = c.pipeline()
            for i in range(20):
                p.set(f"pk:{i}", i)
            p.get("pk:3")
            out = p.execute()
        assert out == [True] * 20 + [b"3"]
        counts.append(sorted(seen))
        # unpatched again: nothing recorded
        seen.clear()
        p.get("pk:4")
        assert p.execute() == [b"4"] and seen == []
    assert counts[0] == counts[1] and len(counts[0]) >= 21


def test_pipelines_from_many_threads(make, impl, cluster):
    """One cluster client, 6 threads each running pipelines over all slots:
    every result is its own thread's."""
    cluster.flushall()
    c = make(impl)
    errors = []

    def worker(n):
        try:
            p = c.pipeline()
            for r in range(15):
                keys = [f"th:{n}:{r}:{i}" for i in range(200)]
                for k in keys:
                    p.set(k, k)
                for k in keys:
                    p.get(k)
                out = p.execute()
                if out != [True] * 200 + [k.encode() for k in keys]:
                    errors.append((n, r))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    cluster.flushall()


def test_argument_error_sends_nothing(make, impl, cluster):
    """A value that cannot be encoded: DataError from execute(), as in
    redis-py; redis_native packs every node's commands before writing any,
    so no command of the pipeline ran and no connection was dropped."""
    cluster.flushall()
    c = make(impl)
    keys = _keys_on_every_primary(c, cluster)
    p = c.pipeline()
    for k in keys:
        p.get(k)
    p.execute()
    conns = {n.name: n.redis_connection.connection_pool._available_connections[:]
             for n in c.get_primaries()} if impl.__name__ == "redis_native" else {}
    for k in keys:
        p.set(k, 1)
    p.set(keys[-1], None)
    with pytest.raises(impl.exceptions.DataError):
        p.execute()
    if impl.__name__ == "redis_native":
        assert [c.get(k) for k in keys] == [None] * len(keys)
        for n in c.get_primaries():
            assert all(x.is_connected for x in conns[n.name])
    assert p.set(keys[0], 2).get(keys[0]).execute() == [True, b"2"]


def test_round_trip_with_hostile_and_silent_servers(impl):
    """_roundtrip_many against fake servers: one answers garbage, one a huge
    length, one nothing (socket_timeout), one hangs up, one correctly: each
    bad node gets its own exception and a closed connection, the good node
    its replies; nothing crashes."""
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's C primitive")
    from servers import RecordingServer

    def answering(data):
        def reply(args):
            if args and args[0].upper() == b"GET":
                return data
            return b"+OK\r\n"
        return reply

    good = RecordingServer(answering(b"$1\r\nx\r\n"))
    garbage = RecordingServer(answering(b"?garbage\r\n"))
    huge = RecordingServer(answering(b"$99999999999999\r\n"))
    silent = RecordingServer(answering(b""))
    hangup = RecordingServer(answering(b"$10\r\nabc"))
    servers = [good, garbage, huge, silent, hangup]
    conns = [impl.Connection(host=s.host, port=s.port, socket_timeout=0.5) for s in servers]
    try:
        for conn in conns:
            conn.connect()
        cmds = [(("GET", "k"), {}), (("GET", "k"), {})]
        out = impl._native._roundtrip_many([(c, cmds) for c in conns[:4]])
        assert out[0] == [b"x", b"x"]
        assert isinstance(out[1], (impl.exceptions.InvalidResponse,
                                   impl.exceptions.ConnectionError)), out[1]
        # a length nobody will send: refused, or waited for until the timeout
        assert isinstance(out[2], (impl.exceptions.InvalidResponse,
                                   impl.exceptions.ConnectionError,
                                   impl.exceptions.TimeoutError)), out[2]
        assert isinstance(out[3], impl.exceptions.TimeoutError), out[3]
        assert conns[0].is_connected and conns[0]._replies_owed == 0
        assert not any(c.is_connected for c in conns[1:4])
        # a partial reply, then the server goes away
        def close_soon():
            time.sleep(0.1)
            for s in hangup._conns:
                s.close()
        threading.Thread(target=close_soon).start()
        conns[4].socket_timeout = None
        out = impl._native._roundtrip_many([(conns[4], cmds), (conns[0], cmds)])
        assert isinstance(out[0], impl.exceptions.ConnectionError), out[0]
        assert out[1] == [b"x", b"x"]
    finally:
        for c in conns:
            c.disconnect()
        for s in servers:
            s.close()
