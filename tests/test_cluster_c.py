"""The C half of the cluster client (src/cluster.c): CRC16 slot hashing
against redis-py's, the SlotTable and ClusterBase attributes (every bad input
a clean TypeError/KeyError/ValueError/DataError, never a crash), the
stand-in rule for RedisCluster (a subclass or patch of a routing method is
honoured, and C steps aside), and routing while the topology is refreshed
by another thread."""
from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import redis.crc
from redis._parsers import Encoder as PyEncoder

native = pytest.importorskip("redis_native._native")
from redis_native import crc  # noqa: E402
from redis_native.cluster import SlotsCache  # noqa: E402

_keys = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=32),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    # hash tags in every arrangement
    st.builds(lambda a, b, c: a + "{" + b + "}" + c, st.text(max_size=5), st.text(max_size=5),
              st.text(max_size=5)),
    st.builds(lambda a, b: a + b"{" + b, st.binary(max_size=8), st.binary(max_size=8)),
)


def _encode(key):
    return PyEncoder("utf-8", "strict", False).encode(key)


@settings(max_examples=500, deadline=None)
@given(_keys)
def test_key_slot_equals_redis_py(key):
    data = _encode(key)
    assert crc.key_slot(data) == redis.crc.key_slot(data)
    # the C router's own encoding of the key
    base = native.ClusterBase()
    assert base._keyslot(key) == redis.crc.key_slot(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(min_value=1, max_value=70000))
def test_key_slot_bucket(data, bucket):
    assert crc.key_slot(data, bucket) == redis.crc.key_slot(data, bucket)
    assert crc.key_slot(key=data, bucket=bucket) == redis.crc.key_slot(data, bucket)


@given(st.text(max_size=20))
def test_keyslot_other_encodings(text):
    base = native.ClusterBase()
    base._key_encoding = "utf-16"
    base._key_encoding_errors = "strict"
    expected = redis.crc.key_slot(PyEncoder("utf-16", "strict", False).encode(text))
    assert base._keyslot(text) == expected


def test_known_slots():
    # values from the Redis Cluster specification and redis-cli
    assert crc.key_slot(b"123456789", 65536) == 0x31C3
    assert crc.key_slot(b"foo") == 12182
    assert crc.key_slot(b"{user1000}.following") == crc.key_slot(b"user1000")
    assert crc.key_slot(b"foo{}{bar}") == crc.key_slot(b"foo{}{bar}", 16384)
    assert crc.key_slot(bytearray(b"foo")) == 12182
    assert crc.key_slot(memoryview(b"xfoox")[1:4]) == 12182
    assert crc.REDIS_CLUSTER_HASH_SLOTS == 16384


@pytest.mark.parametrize("bad", ["foo", 5, 1.5, None, object(), ["a"]])
def test_key_slot_takes_encoded_keys_only(bad):
    with pytest.raises(TypeError):
        crc.key_slot(bad)


def test_key_slot_argument_errors():
    with pytest.raises(TypeError):
        crc.key_slot()
    with pytest.raises(TypeError):
        crc.key_slot(b"a", 1, 2)
    with pytest.raises(TypeError):
        crc.key_slot(b"a", nope=1)
    with pytest.raises(TypeError):
        crc.key_slot(b"a", key=b"b")
    with pytest.raises(ZeroDivisionError):
        crc.key_slot(b"a", 0)
    with pytest.raises(TypeError):
        crc.key_slot(b"a", "x")


@pytest.mark.parametrize("bad", [None, True, object(), [1], {"a": 1}])
def test_router_keyslot_bad_types(bad):
    from redis_native.exceptions import DataError

    with pytest.raises(DataError):
        native.ClusterBase()._keyslot(bad)
    with pytest.raises(DataError):
        native.ClusterBase()._partition_keys(["a", bad])


def test_partition_keys():
    base = native.ClusterBase()
    keys = ["{a}1", "b", "{a}2", b"b", 7]
    parts = base._partition_keys(keys)
    expected = {}
    for k in keys:
        expected.setdefault(redis.crc.key_slot(_encode(k)), []).append(k)
    assert parts == expected
    with pytest.raises(TypeError):
        base._partition_keys(5)


# ------------------------------------------------------------------ SlotTable
def test_slot_table_mapping():
    t = SlotsCache()
    nodes = ["primary", "replica"]
    t[0] = nodes
    t[16383] = ["x"]
    assert t[0] is nodes and len(t) == 2 and list(t) == [0, 16383]
    assert t.get(1) is None and t.get(16384) is None and t.get("0") is None
    assert 0 in t and 1 not in t and "a" not in t
    assert dict(t.items()) == {0: nodes, 16383: ["x"]}
    del t[0]
    assert len(t) == 1
    with pytest.raises(KeyError):
        del t[0]
    with pytest.raises(KeyError):
        t[-1] = []
    with pytest.raises(KeyError):
        t[16384] = []
    with pytest.raises(KeyError):
        t["1"] = []
    with pytest.raises(TypeError):
        t[1] = ("a",)
    with pytest.raises(TypeError):
        t[1] = None
    t.replace({i: nodes for i in range(100)})
    assert len(t) == 100 and t[99] is nodes
    with pytest.raises(TypeError):
        t.replace([1, 2])
    with pytest.raises(KeyError):
        t.replace({1: [], 20000: []})
    with pytest.raises(TypeError):
        t.replace({1: [], 2: "x"})
    assert len(t) == 100, "a refused replace() changes nothing"
    t.clear()
    assert len(t) == 0


def test_slot_table_values_dying_during_replace():
    class Noisy(list):
        def __del__(self):
            # runs while the table releases its old lists: it must be whole
            seen.append(len(table))

    seen = []
    table = SlotsCache()
    table.replace({i: Noisy() for i in range(10)})
    table.replace({i: [] for i in range(5)})
    assert seen and all(n == 5 for n in seen)


# ---------------------------------------------------------------- ClusterBase
def test_cluster_base_attributes_are_validated():
    base = native.ClusterBase()
    with pytest.raises(TypeError):
        base._slot_table = {}
    base._slot_table = SlotsCache()
    base._slot_table = None
    assert base._slot_table is None
    for bad in (None, [], {"GET": (1, 1)}, {"GET": (0, 1, 1)}, {"GET": (1, 1, 0)},
                {"GET": ("1", 1, 1)}, {b"GET": (1, 1, 1)}, {"GET": (1, 1, 1, 1)},
                {"GET": (1, 40000, 1)}, {"GET": (True, 1, 1)}):
        with pytest.raises((TypeError, ValueError)):
            base._key_specs = bad
    for bad in ({"EVAL": (1, 0, 0)}, {"EVAL": (3, 1, 0)}):
        with pytest.raises(ValueError):
            base._key_specs = bad
    base._key_specs = {"GET": (1, 1, 1), "MSET": (1, -1, 2), "EVAL": (3, 0, 0)}
    assert base._key_specs == {"GET": (1, 1, 1), "MSET": (1, -1, 2), "EVAL": (3, 0, 0)}
    with pytest.raises(TypeError):
        base._read_commands = ["GET"]
    base._read_commands = frozenset(["GET"])
    with pytest.raises(TypeError):
        base._key_encoding = b"utf-8"
    with pytest.raises(TypeError):
        del base._key_encoding_errors
    with pytest.raises(AttributeError):
        del base.read_from_replicas

    class Bad:
        def __bool__(self):
            raise ValueError("no truth")

    with pytest.raises(ValueError):
        base.read_from_replicas = Bad()
    assert base.read_from_replicas is False


def test_execute_without_a_cluster_goes_to_python():
    class Client(native.ClusterBase):
        def _internal_execute_command(self, *args, **kwargs):
            return ("python", args, kwargs)

    c = Client()
    assert c.execute_command("GET", "k", x=1) == ("python", ("GET", "k"), {"x": 1})
    many = tuple(range(100))
    assert c.execute_command("DEL", *many) == ("python", ("DEL",) + many, {})


# ------------------------------------------------------- against the cluster
@pytest.fixture
def rc(impl, cluster):
    if impl.__name__ != "redis_native":
        pytest.skip("the C router of redis_native")
    cluster.flushall()
    c = impl.RedisCluster(host=cluster.host, port=cluster.port)
    yield c
    c.close()


def test_router_table_holds_the_common_commands(rc):
    specs = rc._key_specs
    for name in ("GET", "SET", "HGETALL", "LPUSH", "ZADD", "MGET", "MSET", "DEL", "XADD",
                 "INCR", "EXPIRE", "SINTER", "RENAME"):
        assert name in specs, name
    assert specs["EVAL"] == specs["EVALSHA"] == (3, 0, 0)
    for name in ("EVAL_RO", "FCALL", "KEYS", "PING", "ZUNIONSTORE", "XREAD", "SORT",
                 "PUBLISH", "MIGRATE", "CLIENT", "MEMORY", "FLUSHALL", "SCAN"):
        assert name not in specs, name
    assert rc.nodes_manager.slots_cache is rc._slot_table


@pytest.mark.parametrize("numkeys", [0, 1, 2, "1", 5])
def test_eval_routing_by_key_count(rc, numkeys, redis_py, cluster):
    """EVAL's keys follow its key count: C routes int counts of keys in
    range, Python the rest, with redis-py's outcome either way."""
    oracle = redis_py.RedisCluster(host=cluster.host, port=cluster.port)
    try:
        outcomes = []
        for c in (rc, oracle):
            try:
                outcomes.append(c.eval("return #KEYS", numkeys, "{e}a", "{e}b"))
            except Exception as e:  # noqa: BLE001 - compared
                outcomes.append(type(e).__name__)
        assert outcomes[0] == outcomes[1]
    finally:
        oracle.close()


def test_subclass_overriding_a_routing_method_is_honoured(impl, cluster):
    calls = []

    class Recording(impl.RedisCluster):
        def _execute_command(self, target_node, *args, **kwargs):
            calls.append(args)
            return super()._execute_command(target_node, *args, **kwargs)

    c = Recording(host=cluster.host, port=cluster.port)
    try:
        c.set("sub", 1)
        assert c.get("sub") == b"1"
        assert ("GET", "sub") in calls and ("SET", "sub", 1) in calls
    finally:
        c.close()


def test_instance_patch_is_honoured(rc):
    seen = []
    original = rc.keyslot

    def keyslot(key):
        seen.append(key)
        return original(key)

    rc.keyslot = keyslot
    assert rc._overridden
    rc.set("patched", 1)
    assert "patched" in seen
    del rc.keyslot
    assert not rc._overridden
    seen.clear()
    rc.get("patched")
    assert seen == []


def test_class_patch_is_honoured(rc, monkeypatch, impl):
    seen = []
    original = impl.RedisCluster.determine_slot

    def determine_slot(self, *args):
        seen.append(args)
        return original(self, *args)

    monkeypatch.setattr(impl.RedisCluster, "determine_slot", determine_slot)
    rc.set("cp", 1)
    assert ("SET", "cp", 1) in seen


def test_routing_while_the_topology_refreshes(rc):
    errors = []
    stop = threading.Event()

    def refresher():
        while not stop.is_set():
            try:
                rc.nodes_manager.initialize()
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    def worker(n):
        try:
            for i in range(300):
                key = f"t{n}:{i}"
                rc.set(key, i)
                assert rc.get(key) == str(i).encode()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ref = threading.Thread(target=refresher)
    ref.start()
    workers = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    ref.join()
    assert errors == []
    assert len(rc.nodes_manager.slots_cache) == 16384


def _get_calls(node):
    return node.redis_connection.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


@pytest.mark.parametrize("mode", ["read_from_replicas", "ROUND_ROBIN", "ROUND_ROBIN_REPLICAS"])
def test_replica_round_robin_in_c(impl, cluster, mode):
    if impl.__name__ != "redis_native":
        pytest.skip("the C router of redis_native")
    from redis_native.cluster import LoadBalancingStrategy

    kw = {"read_from_replicas": True} if mode == "read_from_replicas" else \
        {"load_balancing_strategy": getattr(LoadBalancingStrategy, mode)}
    c = impl.RedisCluster(host=cluster.host, port=cluster.port, **kw)
    try:
        assert c._lb_mode == (2 if mode == "ROUND_ROBIN_REPLICAS" else 1)
        c.set("rrc", "v")
        primary, replica = c.get_node_from_key("rrc"), c.get_node_from_key("rrc", replica=True)
        primary.redis_connection.wait(1, 2000)
        turns = c.nodes_manager.read_load_balancer.primary_to_idx
        before = (_get_calls(primary), _get_calls(replica))
        results = [c.get("rrc") for _ in range(6)]
        # the Python path takes its turn from the same balancer
        chosen = c.nodes_manager.get_node_from_slot(c.keyslot("rrc"), True, kw.get(
            "load_balancing_strategy"))
        results.append(c.get("rrc"))
        after = (_get_calls(primary), _get_calls(replica))
        assert results == [b"v"] * 7
        on_primary, on_replica = after[0] - before[0], after[1] - before[1]
        if mode == "ROUND_ROBIN_REPLICAS":
            assert (on_primary, on_replica) == (0, 7) and chosen is replica
        else:
            # [primary, replica] alternately: 6 C reads split evenly, then the
            # Python choice took the primary's turn and the 7th read the replica's
            assert (on_primary, on_replica) == (3, 4) and chosen is primary
        assert turns[primary.name] in (0, 1)
    finally:
        c.close()


def test_replica_reads_with_a_replaced_balancer_go_through_python(impl, cluster):
    if impl.__name__ != "redis_native":
        pytest.skip("the C router of redis_native")
    from redis_native.cluster import LoadBalancer

    calls = []

    class Counting(LoadBalancer):
        def get_server_index(self, primary, list_size, load_balancing_strategy=None):
            calls.append(primary)
            return 0

    c = impl.RedisCluster(host=cluster.host, port=cluster.port, read_from_replicas=True)
    try:
        c.set("rb", 1)
        c.nodes_manager.read_load_balancer = Counting()
        assert [c.get("rb") for _ in range(3)] == [b"1"] * 3
        assert len(calls) == 3
        with pytest.raises(TypeError):
            c._replica_router = (1, 2)
    finally:
        c.close()


def test_key_encoding_that_runs_python_cannot_pull_the_table_away(rc):
    """A key whose encoding runs Python code (an int subclass's __repr__) may
    change the client under the router: it must re-read what it needs."""

    class Sneaky(int):
        def __repr__(self):
            rc._slot_table = None           # the router's table goes away
            return "7"

    assert rc.set(Sneaky(7), "x") is True   # then Python routes it
    rc._slot_table = rc.nodes_manager.slots_cache
    assert rc.get("7") == b"x"


def test_partition_keys_survives_a_key_that_empties_the_list():
    keys = []

    class Sneaky(int):
        def __repr__(self):
            keys.clear()                    # drops every key, itself included
            return "5"

    keys.extend(["a", Sneaky(5), "b"])
    parts = native.ClusterBase()._partition_keys(keys)
    assert sum(len(v) for v in parts.values()) == 2 and keys == []


@pytest.mark.parametrize("error, refresh", [("ClusterDownError", 1), ("TimeoutError", 1),
                                            ("ConnectionError", 1)])
def test_retryable_node_errors_refresh_and_retry(rc, impl, error, refresh):
    """After CLUSTERDOWN or a connection error on the node the C router
    chose, the topology is refreshed and the command tried again (the
    client's Retry allows 3 more attempts); with no retries the error
    reaches the caller."""
    exc = getattr(impl.exceptions, error)
    rc.set("cd", "v")
    node_client = rc.get_node_from_key("cd").redis_connection
    failures = [exc(f"{error.upper()} simulated")]
    # the failure comes from the node client's parse_response (what redis-py
    # reads a node's reply with), once the real reply is read
    real = node_client.parse_response

    def flaky(connection, command_name, **options):
        reply = real(connection, command_name, **options)
        if failures:
            raise failures.pop()
        return reply

    node_client.parse_response = flaky
    refreshes = []
    initialize = rc.nodes_manager.initialize
    rc.nodes_manager.initialize = lambda *a, **kw: (refreshes.append(a), initialize(*a, **kw))[1]
    try:
        assert rc.get("cd") == b"v"
        assert len(refreshes) == refresh and failures == []
        rc.retry = impl.retry.Retry(impl.backoff.NoBackoff(), 0)
        failures.append(exc("again"))
        with pytest.raises(exc):
            rc.get("cd")
    finally:
        del node_client.parse_response
        del rc.nodes_manager.initialize


def test_masterdown_refreshes_but_is_not_retried(rc, impl):
    """redis-py retries only the exact classes of ERRORS_ALLOW_RETRY: a
    MASTERDOWN (a ClusterDownError subclass) refreshes the topology and is
    raised."""
    rc.set("md", "v")
    node_client = rc.get_node_from_key("md").redis_connection
    failures = [impl.exceptions.MasterDownError("MASTERDOWN simulated")]
    real = node_client.parse_response

    def flaky(connection, command_name, **options):
        reply = real(connection, command_name, **options)
        if failures:
            raise failures.pop()
        return reply

    node_client.parse_response = flaky
    refreshes = []
    initialize = rc.nodes_manager.initialize
    rc.nodes_manager.initialize = lambda *a, **kw: (refreshes.append(a), initialize(*a, **kw))[1]
    try:
        with pytest.raises(impl.exceptions.MasterDownError):
            rc.get("md")
        assert len(refreshes) == 1
        assert rc.get("md") == b"v"
    finally:
        del node_client.parse_response
        del rc.nodes_manager.initialize
