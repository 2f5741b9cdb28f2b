"""RedisCluster on a real 6-node cluster, differential against redis-py 7.4.1's
RedisCluster on the same cluster: command families, routing (target_nodes,
node flags, per-command defaults), aggregation, cross-slot errors, hash tags,
the nonatomic helpers, replica reads, decode_responses, locks and scripts,
address_remap, URLs, constructor errors; and the C router's own rules (the
stand-in rule, validated attributes, thread safety).

Every differential check runs the same function on a redis_native client and
on a redis-py client, each after a FLUSHALL of every primary, and compares the
results (types included) or the exception classes.
"""
from __future__ import annotations

import threading

import pytest

from diffutil import Raised, compare


def _run(fn, client):
    try:
        return fn(client)
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return Raised(e)


@pytest.fixture
def make(impl, redis_py, cluster):
    """``make(lib, **kw)``: a RedisCluster of ``lib`` on the test cluster,
    closed at teardown."""
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
def pair(make, impl, redis_py, cluster):
    cluster.flushall()
    return make(impl), make(redis_py)


@pytest.fixture
def same(pair, cluster):
    """``same(fn, how=None, msg=True)``: fn(native) and fn(oracle), each after
    a FLUSHALL, must give the same result (or the same exception class)."""
    native, oracle = pair

    def check(fn, how=None, msg=True):
        cluster.flushall()
        a = _run(fn, native)
        cluster.flushall()
        b = _run(fn, oracle)
        compare(a, b, how=how, msg=msg, what=getattr(fn, "__name__", "fn"))
        return a

    return check


# ----------------------------------------------------------------- discovery
def test_discovers_every_node_and_role(pair):
    native, oracle = pair
    assert len(native.get_nodes()) == 6
    assert {n.name for n in native.get_primaries()} == {n.name for n in oracle.get_primaries()}
    assert {n.name for n in native.get_replicas()} == {n.name for n in oracle.get_replicas()}
    assert len(native.get_primaries()) == 3
    assert native.get_default_node().server_type == "primary"
    for node in native.get_nodes():
        assert native.get_node(node.host, node.port) is node
        assert native.get_node(node_name=node.name) is node
        assert node.redis_connection is native.get_redis_connection(node)
    assert native.get_node("127.0.0.1", 1) is None


def test_slot_table_matches_redis_py(pair):
    native, oracle = pair
    ours, theirs = native.nodes_manager.slots_cache, oracle.nodes_manager.slots_cache
    assert len(ours) == len(theirs) == 16384
    for slot in range(0, 16384, 97):
        assert [n.name for n in ours[slot]] == [n.name for n in theirs[slot]]
        assert [n.server_type for n in ours.get(slot)] == ["primary", "replica"]
    assert ours.get(16384) is None and 16384 not in ours and 5 in ours


@pytest.mark.parametrize("key", ["foo", b"foo", "{user1000}.following", "{user1000}.followers",
                                 "a{}b", "{}{x}", "x{y", 12345, 3.25, -7, "ключ", b"\xff\x00"])
def test_keyslot_matches_server_and_redis_py(pair, key):
    native, oracle = pair
    assert native.keyslot(key) == oracle.keyslot(key) == native.cluster_keyslot(key)
    assert native.get_node_from_key(key).name == oracle.get_node_from_key(key).name
    assert native.get_node_from_key(key, replica=True).name == \
        oracle.get_node_from_key(key, replica=True).name


def test_hash_tags_put_keys_on_one_node(pair):
    native, _ = pair
    keys = ["{tag}a", "{tag}b", "x{tag}", "{tag}"]
    assert len({native.keyslot(k) for k in keys}) == 1
    native.mset({"{tag}a": 1, "{tag}b": 2})
    assert native.mget("{tag}a", "{tag}b") == [b"1", b"2"]
    node = native.get_node_from_key("{tag}a").redis_connection
    assert node.mget("{tag}a", "{tag}b") == [b"1", b"2"]


# -------------------------------------------------------- command families
def _strings(c):
    out = [c.set("s", "v"), c.get("s"), c.append("s", "w"), c.strlen("s"), c.incr("n"),
           c.incrby("n", 5), c.incrbyfloat("f", 1.5), c.getrange("s", 0, 0),
           c.setrange("s", 1, "X"), c.getset("s", "new"), c.getdel("s"), c.get("s"),
           c.set("e", 1, ex=100), c.ttl("e") > 0, c.setnx("e", 2), c.getex("e", px=5000),
           c.set("k", "v", nx=True), c.set("k", "w", xx=True, get=True), c.psetex("p", 5000, 1),
           c.decr("n"), c.lcs("{l}a", "{l}b") if c.set("{l}a", "ohmytext") else None]
    return out


def _lists(c):
    return [c.rpush("l", 1, 2, 3), c.lpush("l", 0), c.lrange("l", 0, -1), c.llen("l"),
            c.lindex("l", 1), c.lpos("l", 2), c.lset("l", 0, "z"), c.linsert("l", "after", "z", "y"),
            c.lrem("l", 1, "y"), c.ltrim("l", 0, 2), c.lpop("l"), c.rpop("l", 1),
            c.rpush("{q}a", 1, 2), c.lmove("{q}a", "{q}b"), c.rpoplpush("{q}a", "{q}b"),
            c.lrange("{q}b", 0, -1), c.blpop(["{q}b"], timeout=1), c.lmpop(2, "{q}x", "{q}b",
                                                                          direction="RIGHT")]


def _hashes(c):
    return [c.hset("h", mapping={"a": 1, "b": 2}), c.hget("h", "a"), c.hgetall("h"),
            c.hkeys("h"), c.hvals("h"), c.hlen("h"), c.hexists("h", "z"), c.hincrby("h", "a", 3),
            c.hincrbyfloat("h", "b", 0.5), c.hmget("h", ["a", "b", "c"]), c.hsetnx("h", "a", 9),
            c.hdel("h", "a"), c.hstrlen("h", "b"), c.hscan("h"), sorted(c.hscan_iter("h"))]


def _sets(c):
    return [c.sadd("{s}1", "a", "b", "c"), c.sadd("{s}2", "b", "c", "d"), c.smembers("{s}1"),
            c.sinter("{s}1", "{s}2"), c.sunion("{s}1", "{s}2"), c.sdiff("{s}1", "{s}2"),
            c.sinterstore("{s}3", ["{s}1", "{s}2"]), c.scard("{s}3"), c.sismember("{s}1", "a"),
            c.smismember("{s}1", ["a", "z"]), c.smove("{s}1", "{s}2", "a"), c.srem("{s}2", "d"),
            sorted(c.sscan_iter("{s}2")), c.sintercard(2, ["{s}1", "{s}2"])]


def _zsets(c):
    return [c.zadd("{z}1", {"a": 1, "b": 2, "c": 3}), c.zrange("{z}1", 0, -1, withscores=True),
            c.zscore("{z}1", "b"), c.zincrby("{z}1", 2, "a"), c.zrank("{z}1", "a"),
            c.zrevrange("{z}1", 0, 1), c.zrangebyscore("{z}1", 1, 3), c.zcount("{z}1", 0, 10),
            c.zadd("{z}2", {"a": 5}), c.zunionstore("{z}3", ["{z}1", "{z}2"]),
            c.zinter(["{z}1", "{z}2"], withscores=True), c.zpopmin("{z}3"), c.zcard("{z}3"),
            c.zrem("{z}1", "a"), c.zmscore("{z}1", ["b", "q"]), c.zrangestore("{z}4", "{z}1", 0, -1)]


def _streams(c):
    return [c.xadd("st", {"f": "v"}, id="1-1"), c.xadd("st", {"f": "w"}, id="2-1"), c.xlen("st"),
            c.xrange("st"), c.xrevrange("st", count=1), c.xgroup_create("st", "g", id="0"),
            c.xreadgroup("g", "c1", {"st": ">"}, count=1), c.xpending("st", "g"),
            c.xack("st", "g", "1-1"), c.xtrim("st", maxlen=1), c.xread({"st": "0"}), c.xdel("st", "2-1")]


def _geo_hll_bits(c):
    return [c.geoadd("g", [13.36, 38.11, "Palermo", 15.08, 37.50, "Catania"]),
            c.geodist("g", "Palermo", "Catania", unit="km"), c.geopos("g", "Palermo"),
            c.geosearch("g", member="Palermo", radius=200, unit="km"),
            c.pfadd("{h}1", "a", "b"), c.pfadd("{h}2", "c"), c.pfcount("{h}1", "{h}2"),
            c.pfmerge("{h}3", "{h}1", "{h}2"), c.setbit("b", 7, 1), c.getbit("b", 7),
            c.bitcount("b"), c.bitpos("b", 1), c.bitop("OR", "{b}d", "{b}s"),
            c.bitfield("bf").incrby("u8", 0, 5).get("u8", 0).execute()]


def _keys(c):
    return [c.set("{k}a", 1), c.expire("{k}a", 100), c.ttl("{k}a"), c.persist("{k}a"),
            c.type("{k}a"), c.rename("{k}a", "{k}b"), c.renamenx("{k}b", "{k}c"),
            c.copy("{k}c", "{k}d"), c.exists("{k}c", "{k}d", "nokey"), c.touch("{k}c", "x"),
            c.dump("{k}c") is not None, c.object("encoding", "{k}c"), c.pexpire("{k}c", 50000),
            c.pttl("{k}c") > 0, c.unlink("{k}c"), c.delete("{k}d", "other"), c.exists("{k}d")]


def _scripting(c):
    sha = c.script_load("return {KEYS[1], ARGV[1]}")
    return [c.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "ek", "ev"),
            c.eval("return redis.call('get', KEYS[1])", 1, "ek"),
            c.evalsha(sha, 1, "k1", "a1"), c.script_exists(sha, "0" * 40),
            c.eval("return 7", 0), c.evalsha_ro(sha, 1, "k2", "a2")]


def _pubsub_and_server(c):
    return [c.publish("chan", "m"), c.spublish("schan", "m"), c.pubsub_channels(),
            c.pubsub_numsub("chan"), c.pubsub_numpat(), c.pubsub_shardchannels(),
            c.config_set("slowlog-max-len", 128), c.config_get("slowlog-max-len"),
            c.slowlog_len() >= 0, sorted(c.time(target_nodes=c.PRIMARIES)) and None,
            c.lastsave(target_nodes=c.PRIMARIES) and None, c.memory_usage("nokey"),
            c.object("refcount", "nokey"), c.function_list(), c.command_count() > 100,
            c.client_getname(), c.client_setname("cl") and c.client_getname(target_nodes=c.DEFAULT_NODE)]


_LIBRARY = ("#!lua name=clib\n"
            "redis.register_function('cget', function(keys, args) "
            "return redis.call('get', keys[1]) end)\n"
            "redis.register_function{function_name='cnokey', callback=function(keys, args) "
            "return args[1] end, flags={'no-writes'}}")


def _movable_keys_and_functions(c):
    # commands whose keys COMMAND cannot place (movablekeys): found with
    # COMMAND GETKEYS, in Python, as redis-py does
    out = [c.rpush("{m}l", 3, 1, 2), c.sort("{m}l"), c.sort("{m}l", store="{m}dst"),
           c.lrange("{m}dst", 0, -1), c.zadd("{m}z", {"a": 1}),
           c.zunion(["{m}z", "{m}z"]), c.zdiffstore("{m}zd", ["{m}z", "{m}none"]),
           c.xadd("{m}s", {"f": 1}, id="1-0"), c.xread({"{m}s": "0"}, count=1),
           c.sort_ro("{m}l"), c.object("encoding", "{m}l"), c.memory_usage("{m}l") > 0,
           c.xinfo_stream("{m}s")["length"]]
    out += [c.function_load(_LIBRARY, replace=True), c.set("fk", "fv"),
            c.fcall("cget", 1, "fk"), c.fcall_ro("cnokey", 0, "x"),
            c.function_delete("clib")]
    return out


@pytest.mark.parametrize("family", [_strings, _lists, _hashes, _sets, _zsets, _streams,
                                    _geo_hll_bits, _keys, _scripting, _pubsub_and_server,
                                    _movable_keys_and_functions],
                         ids=lambda f: f.__name__.strip("_"))
def test_command_families(same, family):
    result = same(family)
    assert not isinstance(result, Raised), result.exc


def test_decode_responses(make, impl, redis_py, cluster):
    cluster.flushall()
    native, oracle = make(impl, decode_responses=True), make(redis_py, decode_responses=True)

    def fn(c):
        c.set("d", "é")
        c.hset("{d}h", mapping={"k": "v"})
        return [c.get("d"), c.hgetall("{d}h"), sorted(c.keys(target_nodes=c.PRIMARIES)),
                c.mget_nonatomic(["d", "x"]), c.cluster_keyslot("d"), c.type("d")]

    a = _run(fn, native)
    cluster.flushall()
    b = _run(fn, oracle)
    compare(a, b)
    assert a[0] == "é"


# ------------------------------------------------------ routing and aggregation
def test_default_routing_and_aggregation(same):
    def fn(c):
        for i in range(30):
            c.set(f"key:{i}", i)
        return {
            "ping": c.ping(),
            "ping_all": c.ping(target_nodes=c.ALL_NODES),
            "dbsize_default": c.dbsize(),
            "dbsize_primaries": c.dbsize(target_nodes=c.PRIMARIES),
            "keys_primaries": sorted(c.keys(target_nodes=c.PRIMARIES)),
            "keys_default": sorted(c.keys()),
            "scan_iter": sorted(c.scan_iter(match="key:*")),
            "scan_iter_count": sorted(c.scan_iter(count=2)),
            "info_keys": sorted(c.info(target_nodes=c.PRIMARIES)),
            "info_default": "redis_version" in c.info(),
            "cluster_info": c.cluster_info()["cluster_state"],
            "config_get": c.config_get("maxmemory"),
            "script_flush": c.script_flush(),
            "randomkey": c.randomkey() is not None,
            "flushall": c.flushall(),
            "after_flush": c.dbsize(target_nodes=c.PRIMARIES),
            "exists_split": c.exists("a", "b"),
        }

    result = same(fn)
    assert not isinstance(result, Raised), result.exc
    assert result["dbsize_primaries"] == 30 and result["after_flush"] == 0
    assert len(result["keys_primaries"]) == 30


@pytest.mark.parametrize("flag", ["PRIMARIES", "REPLICAS", "ALL_NODES", "DEFAULT_NODE"])
def test_node_flags(same, flag):
    def fn(c):
        res = c.cluster_info(target_nodes=getattr(c, flag))
        if isinstance(res, dict) and "cluster_state" not in res:
            return sorted((name, info["cluster_state"]) for name, info in res.items())
        return res["cluster_state"]

    same(fn)


def test_random_flag_reaches_one_node(pair):
    native, _ = pair
    for _ in range(5):
        assert native.ping(target_nodes=native.RANDOM) is True


def test_explicit_target_nodes(same):
    def fn(c):
        primaries = sorted(c.get_primaries(), key=lambda n: n.name)
        one = primaries[0]
        return [c.dbsize(target_nodes=one),
                c.ping(target_nodes=primaries),
                sorted(c.info("server", target_nodes={"x": one, "y": primaries[1]})),
                c.execute_command("CLUSTER MYID", target_nodes=one) is not None]

    same(fn)


def test_bad_target_nodes_type(same):
    same(lambda c: c.ping(target_nodes=42))


def test_set_default_node(pair):
    native, _ = pair
    replica = native.get_replicas()[0]
    assert native.set_default_node(replica) is True
    assert native.get_default_node() is replica
    assert native.set_default_node(None) is False
    other = type(replica)("127.0.0.1", 1)
    assert native.set_default_node(other) is False
    native.replace_default_node()
    assert native.get_default_node().server_type == "primary"


# ------------------------------------------------------------- errors
def test_cross_slot_errors(same):
    same(lambda c: c.mget("a", "b"))
    same(lambda c: c.execute_command("MSET", "a", 1, "b", 2))
    same(lambda c: c.sinter("a", "b"))
    same(lambda c: c.rename("a", "b"))
    same(lambda c: c.eval("return 1", 2, "a", "b"))


def test_server_cross_slot_error_with_target(same):
    def fn(c):
        node = c.get_node_from_key("a")
        return c.execute_command("MGET", "a", "b", target_nodes=node)

    result = same(fn)
    assert isinstance(result, Raised) and result.name == "ClusterCrossSlotError"


def test_keyless_command_without_target_is_refused(same):
    same(lambda c: c.execute_command("GET"))
    same(lambda c: c.execute_command("NOSUCHCOMMAND", "x"))
    same(lambda c: c.echo("hi"))


def test_wrong_type_and_bad_arguments(same):
    same(lambda c: (c.set("w", 1), c.lpush("w", 1)))
    same(lambda c: c.get(None))
    same(lambda c: c.set("k", True))
    same(lambda c: c.execute_command("GET", object()), msg=False)
    same(lambda c: c.keyslot(None))
    same(lambda c: c.mget_nonatomic(["a", None]))


def test_refused_in_cluster_mode(same):
    same(lambda c: c.swapdb(0, 1))
    same(lambda c: c.replicaof("h", 1))
    same(lambda c: c.cluster_flushslots())
    same(lambda c: c.cluster_setslot(c.get_default_node(), "id", 1, "STABLE"))
    same(lambda c: c.cluster_failover(c.get_default_node(), "BAD"))


def test_constructor_errors(impl, redis_py, cluster):
    from servers import unused_port

    for lib in (impl, redis_py):
        with pytest.raises(lib.RedisClusterException, match="'db' is not possible"):
            lib.RedisCluster(host=cluster.host, port=cluster.port, db=1)
        with pytest.raises(lib.RedisClusterException, match="at least one node"):
            lib.RedisCluster(host=None)
        with pytest.raises(lib.RedisClusterException, match="Unix Domain Socket"):
            lib.RedisCluster.from_url("unix:///tmp/x.sock")
        with pytest.raises(lib.RedisClusterException, match="can only be 0"):
            lib.RedisCluster.from_url(f"redis://{cluster.host}:{cluster.port}/1")
        with pytest.raises(lib.RedisClusterException, match="cannot be connected"):
            lib.RedisCluster(host="127.0.0.1", port=unused_port())


def test_from_url(impl, redis_py, cluster):
    for lib in (impl, redis_py):
        c = lib.RedisCluster.from_url(f"redis://{cluster.host}:{cluster.port}/0",
                                      decode_responses=True)
        try:
            c.set("u", "v")
            assert c.get("u") == "v"
            assert len(c.get_nodes()) == 6
        finally:
            c.close()


# ------------------------------------------------------------- helpers
def test_nonatomic_helpers(same):
    def fn(c):
        data = {f"nk:{i}": i for i in range(200)}
        return [c.mset_nonatomic(data),
                c.mget_nonatomic(list(data) + ["missing"]),
                c.mget_nonatomic("nk:1", "nk:2"),
                c.exists(*data), c.touch(*list(data)[:50]),
                c.delete(*list(data)[:100], "missing"), c.unlink(*list(data)[100:150]),
                c.exists(*data)]

    result = same(fn)
    assert result[3] == 200 and result[-1] == 50


def test_lock(same):
    def fn(c):
        lock = c.lock("mylock", timeout=10)
        first = lock.acquire(blocking=False)
        other = c.lock("mylock", timeout=10).acquire(blocking=False)
        locked = lock.locked()
        owned = lock.owned()
        extended = lock.extend(5)
        lock.release()
        return [first, other, locked, owned, extended, lock.locked()]

    assert same(fn) == [True, False, True, True, True, False]


def test_register_script(same):
    def fn(c):
        script = c.register_script("redis.call('set', KEYS[1], ARGV[1]); "
                                   "return redis.call('get', KEYS[1])")
        return [script(keys=["sk"], args=["v1"]), script(keys=["{sk}2"], args=[2]),
                c.get("sk"), c.script_exists(script.sha)]

    same(fn)


def test_address_remap(make, impl, cluster):
    seen = []

    def remap(address):
        seen.append(address)
        return address

    c = make(impl, address_remap=remap)
    assert {f"{h}:{p}" for h, p in seen} == {n.name for n in c.get_nodes()}
    c.set("remapped", 1)
    assert c.get("remapped") == b"1"


def test_address_remap_to_another_address(make, impl, cluster):
    # every node is announced as 127.0.0.1; the remap sends the client to
    # "localhost" instead, which ClusterNode resolves to the same address
    c = make(impl, address_remap=lambda a: ("localhost", a[1]))
    c.set("lh", 1)
    assert c.get("lh") == b"1"


def test_read_from_replicas(make, impl, cluster):
    from redis_native.cluster import LoadBalancingStrategy as Native

    strategy = Native.ROUND_ROBIN_REPLICAS if impl.__name__ == "redis_native" \
        else impl.cluster.LoadBalancingStrategy.ROUND_ROBIN_REPLICAS
    c = make(impl, load_balancing_strategy=strategy)
    c.set("rr", "v")
    primary = c.get_node_from_key("rr")
    replica = c.get_node_from_key("rr", replica=True)
    primary.redis_connection.wait(1, 2000)
    before = replica.redis_connection.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
    assert [c.get("rr") for _ in range(4)] == [b"v"] * 4
    after = replica.redis_connection.info("commandstats").get("cmdstat_get", {}).get("calls", 0)
    assert after - before == 4
    assert c.set("rr", "w") is True          # writes still go to the primary


def test_readonly_and_readwrite(make, impl, redis_py, cluster):
    results = []
    for lib in (impl, redis_py):
        c = make(lib)
        replicas = {n.name for n in c.get_replicas()}
        ro = c.readonly(target_nodes=c.REPLICAS)
        assert c.read_from_replicas is True
        c.set("ro", 1)
        c.get_node_from_key("ro").redis_connection.wait(1, 2000)
        got = c.get("ro")
        rw = c.readwrite(target_nodes=c.REPLICAS)
        assert c.read_from_replicas is False
        assert set(ro) == set(rw) == replicas
        results.append((sorted(ro.values()), got, sorted(rw.values())))
    compare(results[0], results[1])
    assert results[0] == ([True] * 3, b"1", [True] * 3)


def test_set_response_callback(same):
    def fn(c):
        c.set_response_callback("GET", lambda r, **kw: ("cb", r))
        c.set("cbk", 1)
        return c.get("cbk")

    assert same(fn) == ("cb", b"1")


# ------------------------------------------------- failed and hostile startup nodes
class _FakeNode:
    """A TCP server on a free port that answers every request with garbage
    (``mode="garbage"``) or accepts and never answers (``mode="stall"``)."""

    def __init__(self, mode):
        import socket

        self.mode = mode
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.mode == "garbage":
                threading.Thread(target=self._garbage, args=(conn,), daemon=True).start()

    @staticmethod
    def _garbage(conn):
        try:
            while conn.recv(65536):
                conn.sendall(b"\x00\xffnot RESP at all\r\n")
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("mode", ["garbage", "stall"])
def test_hostile_startup_node_is_skipped_like_a_failed_one(impl, redis_py, cluster, mode):
    fake = _FakeNode(mode)
    try:
        for lib in (impl, redis_py):
            c = lib.RedisCluster(startup_nodes=[lib.cluster.ClusterNode("127.0.0.1", fake.port),
                                                lib.cluster.ClusterNode(cluster.host, cluster.port)],
                                 socket_timeout=1)
            try:
                assert len(c.get_nodes()) == 6
                assert f"127.0.0.1:{fake.port}" not in {n.name for n in c.get_nodes()}
                c.set("hostile", mode)
                assert c.get("hostile") == mode.encode()
            finally:
                c.close()
            # alone, it makes discovery fail with redis-py's error
            with pytest.raises(lib.RedisClusterException, match="cannot be connected"):
                lib.RedisCluster(host="127.0.0.1", port=fake.port, socket_timeout=1)
    finally:
        fake.close()


def test_forked_child_uses_the_cluster(make, impl, cluster):
    import os

    c = make(impl)
    c.set("fork", "parent")
    pid = os.fork()
    if pid == 0:                      # child: its own connections, same topology
        code = 1
        try:
            c.set("fork", "child")
            code = 0 if c.get("fork") == b"child" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert c.get("fork") == b"child"


def test_cluster_slots_shards_and_nodes_parsed_as_redis_py(same):
    def fn(c):
        shards = c.cluster_shards()
        return {
            "slots": c.cluster_slots(),
            "shards": sorted((tuple(s["slots"]), tuple(sorted(n[b"id"] for n in s["nodes"])))
                             for s in shards),
            "myshardid": type(c.cluster_myshardid()),
            "nodes": sorted(c.cluster_nodes()),
            "myid": c.cluster_myid(c.get_default_node()),
            "countkeys": c.cluster_countkeysinslot(c.keyslot("x")),
            "getkeys": c.set("x", 1) and c.cluster_get_keys_in_slot(c.keyslot("x"), 10),
        }

    same(fn)


def test_assigning_slots_cache_fills_the_routers_table(pair, impl):
    if impl.__name__ != "redis_native":
        pytest.skip("redis_native's slot table (redis-py's is a plain dict)")
    native, _ = pair
    nm = native.nodes_manager
    table = nm.slots_cache
    snapshot = dict(table.items())
    primary = native.get_node_from_key("assigned")
    other = next(n for n in native.get_primaries() if n is not primary)
    slot = native.keyslot("assigned")
    nm.slots_cache = {**snapshot, slot: [other]}
    assert nm.slots_cache is table and native._slot_table is table
    assert table[slot] == [other]
    # the router now sends the key to `other`, which answers MOVED: followed
    native.set("assigned", 1)
    assert native.get("assigned") == b"1"
    assert table[slot][0] is primary or table[slot][0].name == primary.name


@pytest.mark.parametrize("mode", ["garbage", "stall"])
def test_hostile_replica_fails_reads_like_redis_py(impl, redis_py, cluster, mode):
    """A replica that answers garbage or never answers (reached through
    address_remap) fails the reads sent to it as it does in redis-py, and
    the client keeps working for everything else."""
    fake = _FakeNode(mode)
    try:
        outcomes = []
        for lib in (impl, redis_py):
            probe = lib.RedisCluster(host=cluster.host, port=cluster.port)
            replica = probe.get_node_from_key("hr", replica=True)
            probe.set("hr", "v")
            probe.close()
            remap = {replica.port: fake.port}
            c = lib.RedisCluster(
                host=cluster.host, port=cluster.port, socket_timeout=1,
                load_balancing_strategy=lib.cluster.LoadBalancingStrategy.ROUND_ROBIN_REPLICAS,
                address_remap=lambda a: (a[0], remap.get(a[1], a[1])))
            try:
                try:
                    got = c.get("hr")
                except Exception as e:  # noqa: BLE001 - compared
                    got = type(e).__name__
                outcomes.append((got, c.set("hr", "v2"), c.get_node_from_key("hr").port))
            finally:
                c.close()
        compare(outcomes[0], outcomes[1])
        assert outcomes[0][0] in ("InvalidResponse", "TimeoutError", "ConnectionError"), outcomes
        assert outcomes[0][1] is True
    finally:
        fake.close()
