"""ClusterPubSub on the real 6-node cluster, differential against redis-py
7.4.1's ClusterPubSub where behaviours meet: the node chosen (given, by
host/port, by the first channel's slot), subscribe/psubscribe and published
messages, sharded pub/sub (``ssubscribe`` on the slot's primary, one
connection per node, ``get_sharded_message``, ``spublish``) with channels in
every slot range, ``sunsubscribe``, ``run_in_thread``; then what redis_native
adds: subscriptions made again after their connection dies, after the server
drops a shard channel whose slot moved, and through a primary's failover (on
a cluster of its own).
"""
from __future__ import annotations

import threading
import time

import pytest

from cluster_topology import ClusterTopology, SlotMigration, owner_of, wait_slot_agreed
from diffutil import compare
from servers import wait_until


@pytest.fixture
def make(cluster):
    made = []

    def build(lib, topo=None, **kw):
        topo = topo or cluster
        kw.setdefault("host", topo.host)
        kw.setdefault("port", topo.port)
        c = lib.RedisCluster(**kw)
        made.append(c)
        return c

    yield build
    for c in made:
        c.close()


def collect(read, count, wait=10.0, **kw):
    """Messages from ``read(timeout=...)`` until ``count`` arrived or ``wait``
    seconds passed (a bound on waiting, not an assertion)."""
    out, end = [], time.monotonic() + wait
    while len(out) < count and time.monotonic() < end:
        m = read(timeout=0.2, **kw)
        if m is not None:
            out.append(m)
    return out


def channel_on(client, node_port, cluster, prefix, start=0):
    i = start
    while True:
        name = f"{prefix}{i}"
        if client.get_node_from_key(name).port == node_port:
            return name
        i += 1


def _by_channel(messages):
    return sorted((m["type"], m["channel"], m["data"]) for m in messages)


# ---------------------------------------------------------------- the node
def test_node_choice(make, impl, redis_py, cluster):
    outcomes = []
    for lib in (impl, redis_py):
        c = make(lib)
        p = c.pubsub()
        assert type(p).__name__ == "ClusterPubSub"
        before = p.get_pubsub_node()
        p.subscribe("news")
        node = p.get_pubsub_node()
        assert node == c.get_node_from_key("news")
        assert p.get_redis_connection() is node.redis_connection
        p.close()
        primary = c.get_primaries()[1]
        given = c.pubsub(node=primary).get_pubsub_node()
        by_address = c.pubsub(host=primary.host, port=primary.port).get_pubsub_node()
        errors = []
        for kw in ({"host": primary.host}, {"port": primary.port},
                   {"host": "127.0.0.1", "port": 1},
                   {"node": lib.cluster.ClusterNode("127.0.0.1", 2)}):
            try:
                c.pubsub(**kw)
                errors.append(None)
            except Exception as e:  # noqa: BLE001
                errors.append((type(e).__name__, str(e)))
        outcomes.append((before, node.name, given.name, by_address.name, errors))
    compare(outcomes[0], outcomes[1])
    assert outcomes[0][4][0][0] == "DataError"
    assert outcomes[0][4][2][0] == "RedisClusterException"


def test_subscribe_psubscribe_publish(make, impl, redis_py):
    outcomes = []
    for lib in (impl, redis_py):
        c = make(lib)
        p = c.pubsub()
        p.subscribe("ps:a", "ps:b")
        p.psubscribe("ps:p*")
        got = collect(p.get_message, 3)
        for ch in ("ps:a", "ps:b", "ps:pz", "other"):
            c.publish(ch, f"to {ch}")
        got += collect(p.get_message, 3)
        p.unsubscribe("ps:a")
        got += collect(p.get_message, 1)
        c.publish("ps:a", "lost")
        c.publish("ps:b", "kept")
        got += collect(p.get_message, 1)
        p.close()
        outcomes.append(got)
    compare(outcomes[0], outcomes[1])
    assert [(m["type"], m["data"]) for m in outcomes[0][3:6]] == [
        ("message", b"to ps:a"), ("message", b"to ps:b"), ("pmessage", b"to ps:pz")]
    assert outcomes[0][6]["type"] == "unsubscribe"
    assert outcomes[0][-1]["data"] == b"kept"


def test_pubsub_decode_responses_and_handlers(make, impl):
    c = make(impl, decode_responses=True)
    p = c.pubsub(ignore_subscribe_messages=True)
    seen = []
    p.subscribe(**{"ph:x": seen.append})
    p.subscribe("ph:y")
    collect(p.get_message, 2, wait=0.5)
    c.publish("ph:x", "é")
    c.publish("ph:y", "plain")
    got = collect(p.get_message, 1)
    assert got == [{"type": "message", "pattern": None, "channel": "ph:y", "data": "plain"}]
    assert wait_until(lambda: seen or p.get_message(timeout=0.1) or seen, timeout=5)
    assert seen[0]["data"] == "é"
    p.close()


# ---------------------------------------------------------------- sharded
def _channels_in_every_range(client, cluster):
    """Two shard channels per primary, in different slots of its range."""
    chans = []
    for primary in sorted(cluster.primaries(), key=lambda n: n.port):
        chans.append(channel_on(client, primary.port, cluster, "sa"))
        chans.append(channel_on(client, primary.port, cluster, "sz", start=5000))
    return chans


def test_sharded_messages_from_every_slot_range(make, impl, redis_py, cluster):
    outcomes = []
    for lib in (impl, redis_py):
        c = make(lib)
        chans = _channels_in_every_range(c, cluster)
        p = c.pubsub()
        p.ssubscribe(*chans)
        assert len(p.node_pubsub_mapping) == 3          # one connection per node
        assert set(p.node_pubsub_mapping) == {n.name for n in c.get_primaries()}
        confirmations = collect(p.get_sharded_message, len(chans))
        for ch in chans:
            assert c.spublish(ch, f"m:{ch}") == 1
        messages = collect(p.get_sharded_message, len(chans))
        # per node in order
        p.sunsubscribe(chans[0])
        gone = collect(p.get_sharded_message, 1)
        c.spublish(chans[0], "after")
        c.spublish(chans[1], "still")
        tail = collect(p.get_sharded_message, 1)
        subscribed = p.subscribed
        p.sunsubscribe()
        rest = collect(p.get_sharded_message, len(chans) - 1)
        outcomes.append((_by_channel(confirmations), _by_channel(messages), _by_channel(gone),
                         _by_channel(tail), subscribed, _by_channel(rest), p.subscribed,
                         sorted(p.shard_channels)))
        p.close()
    compare(outcomes[0], outcomes[1])
    assert len(outcomes[0][1]) == 6 and all(t == "smessage" for t, _, _ in outcomes[0][1])
    assert outcomes[0][3] == [("smessage", outcomes[0][3][0][1], b"still")]
    assert outcomes[0][6] is False


def test_sharded_target_node_and_spublish_routing(make, impl, cluster):
    c = make(impl)
    primary = c.get_primaries()[0]
    ch = channel_on(c, primary.port, cluster, "tn")
    p = c.pubsub()
    p.ssubscribe(ch)
    assert collect(lambda timeout: p.get_sharded_message(timeout=timeout, target_node=primary),
                   1)[0]["type"] == "ssubscribe"
    c.spublish(ch, "hello")
    got = collect(lambda timeout: p.get_sharded_message(timeout=timeout, target_node=primary), 1)
    assert got[0]["data"] == b"hello"
    # PUBSUB SHARDNUMSUB on the owner counts our one subscriber
    assert c.pubsub_shardnumsub(ch, target_nodes=primary) == [(ch.encode(), 1)]
    p.close()


def test_run_in_thread(make, impl):
    c = make(impl)
    got, sgot = [], []
    p, sp = c.pubsub(), c.pubsub()
    p.subscribe(**{"rt:chan": got.append})
    sp.ssubscribe(**{"rt:shard": sgot.append})
    worker = p.run_in_thread(sleep_time=0.05, daemon=True)
    sworker = sp.run_in_thread(sleep_time=0.05, daemon=True, sharded_pubsub=True)
    try:
        node = p.get_pubsub_node()
        assert wait_until(
            lambda: c.pubsub_numsub("rt:chan", target_nodes=node)[0][1] == 1, timeout=10)
        for i in range(5):
            c.publish("rt:chan", i)
            c.spublish("rt:shard", i)
        assert wait_until(lambda: len(got) == 5 and len(sgot) == 5, timeout=10)
    finally:
        worker.stop()
        sworker.stop()
        worker.join(10)
        sworker.join(10)
    assert [m["data"] for m in got] == [str(i).encode() for i in range(5)]
    assert [m["data"] for m in sgot] == [str(i).encode() for i in range(5)]
    assert not worker.is_alive() and not sworker.is_alive()


def test_run_in_thread_needs_handlers(make, impl, redis_py):
    for lib in (impl, redis_py):
        p = make(lib).pubsub()
        p.subscribe("nh")
        with pytest.raises(lib.exceptions.PubSubError):
            p.run_in_thread()
        p.close()


# ------------------------------------------------------------- resubscription
def _native_only(impl):
    if impl.__name__ != "redis_native":
        pytest.skip("redis-py 7.4.1 does not move subscriptions off a failed node")


def _read_through_errors(read, count, wait=30.0):
    """Messages from ``read`` while errors of the failure are raised."""
    out, errors, end = [], [], time.monotonic() + wait
    while len(out) < count and time.monotonic() < end:
        try:
            m = read(timeout=0.2)
        except Exception as e:  # noqa: BLE001 - the failure's errors are expected
            errors.append(e)
            time.sleep(0.1)
            continue
        if m is not None and m["type"] in ("message", "smessage"):
            out.append(m)
    return out, errors


def test_resubscribe_after_connections_killed(make, impl, cluster):
    _native_only(impl)
    c = make(impl)
    p = c.pubsub()
    p.subscribe("rk:a")
    p.ssubscribe("rk:s")
    collect(p.get_message, 1)
    collect(p.get_sharded_message, 1)
    for node in cluster.primaries() + cluster.replicas():
        node.command("CLIENT", "KILL", "TYPE", "pubsub")

    def publish_and_read(read, publish, channel):
        def attempt(timeout):
            publish(channel, "again")
            return read(timeout=timeout)
        return _read_through_errors(attempt, 1)

    got, errors = publish_and_read(p.get_message, c.publish, "rk:a")
    assert [m["data"] for m in got] == [b"again"]
    sgot, serrors = publish_and_read(p.get_sharded_message, c.spublish, "rk:s")
    assert [m["data"] for m in sgot] == [b"again"]
    assert all(isinstance(e, impl.exceptions.ConnectionError) for e in errors + serrors)
    assert set(p.channels) == {b"rk:a"} and set(p.shard_channels) == {b"rk:s"}
    p.close()


def test_shard_channel_follows_its_slot(make, impl, cluster):
    """The server drops a shard channel whose slot moves (an sunsubscribe
    nobody asked for): it is subscribed again on the new owner."""
    _native_only(impl)
    cluster.flushall()
    c = make(impl)
    src, dst = cluster.primaries()[0], cluster.primaries()[1]
    ch = channel_on(c, src.port, cluster, "mv")
    slot = c.keyslot(ch)
    p = c.pubsub()
    p.ssubscribe(ch)
    collect(p.get_sharded_message, 1)
    try:
        SlotMigration(cluster, slot, src, dst).run()
        wait_slot_agreed(cluster, slot, dst.port)
        dropped = collect(p.get_sharded_message, 1)
        assert dropped and dropped[0]["type"] == "sunsubscribe"
        assert p.subscribed
        # the next read subscribes on the new owner
        again = collect(p.get_sharded_message, 1)
        assert again[0]["type"] == "ssubscribe"
        assert dst.port in {int(name.rsplit(":", 1)[1]) for name in p.node_pubsub_mapping}
        c.spublish(ch, "moved")
        assert [m["data"] for m in collect(p.get_sharded_message, 1)] == [b"moved"]
    finally:
        if owner_of(cluster, slot) is not src:
            SlotMigration(cluster, slot, dst, src).run()
            wait_slot_agreed(cluster, slot, src.port)
        p.close()


@pytest.fixture(scope="module")
def fo_cluster():
    topo = ClusterTopology()
    try:
        yield topo
    finally:
        topo.stop()


def test_subscriptions_survive_a_primary_failure(make, impl, fo_cluster):
    """A primary is killed: its replica takes over; the channel subscription
    held on it and the shard channels of every slot range (two per primary)
    all receive messages published after the failover."""
    _native_only(impl)
    c = make(impl, topo=fo_cluster, socket_timeout=2, socket_connect_timeout=1)
    victim = fo_cluster.primaries()[0]
    ch = channel_on(c, victim.port, fo_cluster, "fo")
    shards = _channels_in_every_range(c, fo_cluster)
    p = c.pubsub()
    p.subscribe(ch)                      # its node: the victim (the channel's slot)
    p.ssubscribe(*shards)
    collect(p.get_message, 1)
    collect(p.get_sharded_message, len(shards))
    assert p.get_pubsub_node().port == victim.port
    victim.kill()

    def attempt(read, method, channels):
        def one(timeout):
            for name in channels:
                try:
                    getattr(c, method)(name, "after failover")
                except Exception:  # noqa: BLE001 - the cluster is still switching
                    pass
            return read(timeout=timeout)
        return one

    got, _ = _read_through_errors(attempt(p.get_message, "publish", [ch]), 1, wait=60)
    assert [m["data"] for m in got] == [b"after failover"]
    # every shard channel hears again (messages published while its node was
    # switching may be lost: pub/sub is at most once)
    heard = set()
    end = time.monotonic() + 60
    while heard != set(shards) and time.monotonic() < end:
        more, _ = _read_through_errors(
            attempt(p.get_sharded_message, "spublish",
                    [s for s in shards if s.encode() not in heard]), 1, wait=5)
        heard |= {m["channel"].decode() for m in more}
    assert heard == set(shards)
    assert p.get_pubsub_node().port != victim.port
    assert victim.port not in {int(n.rsplit(":", 1)[1]) for n in p.node_pubsub_mapping}
    assert set(p.shard_channels) == {s.encode() for s in shards}
    p.close()


def test_sharded_read_without_shard_channels(make, impl, redis_py):
    outcomes = []
    for lib in (impl, redis_py):
        p = make(lib).pubsub()
        outcomes.append((p.get_sharded_message(timeout=None), p.get_sharded_message(timeout=0.1),
                         p.node_pubsub_mapping, p.subscribed))
        p.close()
    compare(outcomes[0], outcomes[1])
    assert outcomes[0] == (None, None, {}, False)
