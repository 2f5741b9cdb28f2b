"""Slots moving between primaries while clients use them: MOVED after a
finished migration (slot table patched, or fully refreshed every
``reinitialize_steps``), ASK while a slot's keys are half moved (ASKING on the
target), and a resharding under load from 8 threads where no error reaches
the caller and every value read is the last one written.

Each test moves slots with CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE and
SETSLOT NODE (tests/cluster_topology.py: SlotMigration) and puts them back
where they were before it ends.
"""
from __future__ import annotations

import threading
import time

import pytest

from cluster_topology import SlotMigration, owner_of, wait_slot_agreed
from diffutil import compare
from servers import wait_until


def _tag_for_slot_owner_change(client, cluster, n=1):
    """Hash tags of ``n`` distinct slots, all on the same primary."""
    tags, slots, owner = [], [], None
    i = 0
    while len(tags) < n:
        tag = f"mv{i}"
        i += 1
        slot = client.keyslot(tag)
        node = owner_of(cluster, slot)
        if owner is None:
            owner = node
        if node is owner and slot not in slots:
            tags.append(tag)
            slots.append(slot)
    return tags, slots, owner


def _other_primary(cluster, node):
    return next(p for p in cluster.primaries() if p is not node)


@pytest.fixture
def clients(impl, redis_py, cluster):
    cluster.flushall()
    made = []

    def build(lib, **kw):
        c = lib.RedisCluster(host=cluster.host, port=cluster.port, **kw)
        made.append(c)
        return c

    yield build
    for c in made:
        c.close()


def _move(cluster, slot, src, dst, batch=100):
    SlotMigration(cluster, slot, src, dst).run(batch)
    wait_slot_agreed(cluster, slot, dst.port)


@pytest.mark.parametrize("steps", [0, 1], ids=["patch", "refresh"])
def test_moved_after_migration(clients, impl, redis_py, cluster, steps):
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = clients(lib, reinitialize_steps=steps)
        (tag,), (slot,), src = _tag_for_slot_owner_change(c, cluster)
        dst = _other_primary(cluster, src)
        keys = [f"{{{tag}}}:{i}" for i in range(20)]
        for i, k in enumerate(keys):
            c.set(k, i)
        calls = {"move_slot": 0, "initialize": 0}
        nm = c.nodes_manager
        for name in calls:
            original = getattr(nm, name)

            def counted(*a, _name=name, _orig=original, **kw):
                calls[_name] += 1
                return _orig(*a, **kw)

            setattr(nm, name, counted)
        _move(cluster, slot, src, dst)
        try:
            values = [c.get(k) for k in keys]
            owner_after = nm.slots_cache[slot][0].port
            c.set(keys[0], "new")
            values.append(c.get(keys[0]))
        finally:
            _move(cluster, slot, dst, src)
        # and back again: the client follows the slot home
        values.append(c.get(keys[1]))
        assert owner_after == dst.port
        if steps == 0:
            assert calls["move_slot"] >= 1 and calls["initialize"] == 0
        else:
            assert calls["initialize"] >= 1
        outcomes.append(values)
    compare(outcomes[0], outcomes[1])
    assert outcomes[0][:20] == [str(i).encode() for i in range(20)]


def test_ask_while_keys_are_half_moved(clients, impl, redis_py, cluster):
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = clients(lib)
        (tag,), (slot,), src = _tag_for_slot_owner_change(c, cluster)
        dst = _other_primary(cluster, src)
        keys = [f"{{{tag}}}:{i}" for i in range(10)]
        for i, k in enumerate(keys):
            c.set(k, i)
        m = SlotMigration(cluster, slot, src, dst)
        m.begin()
        try:
            m.move_keys([k.encode() for k in keys[:5]])
            # moved keys answer ASK from the source; the rest are still there
            values = [c.get(k) for k in keys]
            # a multi-key command of the moved keys only: ASK as a whole
            # (with keys on both sides the source would answer TRYAGAIN)
            moved = c.mget_nonatomic(keys[:5])
            # a new key of the slot goes to the target (ASK), an update of a
            # moved key too
            c.set(keys[0], "updated")
            c.set(f"{{{tag}}}:new", "n")
            values += [c.get(keys[0]), c.get(f"{{{tag}}}:new"), c.exists(f"{{{tag}}}:new")]
            # the slot table still names the source: ASK is not MOVED
            values.append(c.nodes_manager.slots_cache[slot][0].port == src.port)
            values.append(moved)
            m.move_all_keys()
            m.finish()
            wait_slot_agreed(cluster, slot, dst.port)
            values.append(c.get(keys[9]))
        finally:
            if owner_of(cluster, slot) is not src:
                _move(cluster, slot, dst, src)
        outcomes.append(values)
    compare(outcomes[0], outcomes[1])
    assert outcomes[0][:10] == [str(i).encode() for i in range(10)]
    assert outcomes[0][10:13] == [b"updated", b"n", 1]
    assert outcomes[0][14] == [str(i).encode() for i in range(5)]


def test_resharding_under_load(clients, impl, cluster):
    c = clients(impl, socket_timeout=10)
    tags, slots, src = _tag_for_slot_owner_change(c, cluster, n=4)
    dst = _other_primary(cluster, src)
    stop = threading.Event()
    errors, reads, counts = [], [], [0] * 8
    seen = {"ask": 0, "moved": 0}
    native = impl.__name__ == "redis_native"
    if native:
        # count the redirections the client followed
        asking, move_slot, initialize = (c._execute_asking, c.nodes_manager.move_slot,
                                         c.nodes_manager.initialize)

        def counting(kind, fn):
            def wrapper(*a, **kw):
                seen[kind] += 1
                return fn(*a, **kw)
            return wrapper

        c._execute_asking = counting("ask", asking)
        c.nodes_manager.move_slot = counting("moved", move_slot)
        c.nodes_manager.initialize = counting("moved", initialize)

    def worker(n):
        keys = [f"{{{tag}}}:w{n}:{j}" for tag in tags for j in range(3)]
        last = {}
        i = 0
        try:
            while not stop.is_set():
                for k in keys:
                    c.set(k, i)
                    last[k] = i
                    got = c.get(k)
                    reads.append(1)
                    if got != str(last[k]).encode():
                        errors.append(("stale", k, got, last[k]))
                i += 1
                counts[n] += 1
        except Exception as e:  # noqa: BLE001 - every error is a failure here
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        # every worker under way (or one already failed: reported below)
        wait_until(lambda: sum(counts) >= 8 or errors, timeout=60)
        for slot in slots:              # away, a few keys at a time (ASK windows)
            _move(cluster, slot, src, dst, batch=2)
        for slot in slots:              # and home again
            _move(cluster, slot, dst, src, batch=2)
    finally:
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join(60)
    assert errors == []
    assert all(n > 1 for n in counts), counts
    if native:
        assert seen["ask"] > 0 and seen["moved"] > 0, seen
    for slot in slots:
        assert c.nodes_manager.slots_cache[slot][0].port == src.port


def test_tryagain_until_the_migration_ends(clients, impl, redis_py, cluster, monkeypatch):
    """A multi-key command whose keys are split between source and target
    while the slot migrates gets TRYAGAIN; the client waits and tries again
    (redis-py's TTL loop) and succeeds once the migration ends.  The
    migration is finished from the client's own TRYAGAIN wait (time.sleep),
    so the test does not depend on timing."""
    real_sleep = time.sleep
    outcomes = []
    for lib in (impl, redis_py):
        cluster.flushall()
        c = clients(lib)
        (tag,), (slot,), src = _tag_for_slot_owner_change(c, cluster)
        dst = _other_primary(cluster, src)
        k1, k2 = f"{{{tag}}}:1", f"{{{tag}}}:2"
        c.set(k1, "one")
        c.set(k2, "two")
        m = SlotMigration(cluster, slot, src, dst)
        m.begin()
        m.move_keys([k1.encode()])
        finished = []

        def sleep_and_finish(seconds, _m=m):
            if not finished:
                finished.append(seconds)
                _m.move_all_keys()
                _m.finish()
                monkeypatch.setattr(time, "sleep", real_sleep)
                wait_slot_agreed(cluster, slot, dst.port)
            real_sleep(seconds)

        monkeypatch.setattr(time, "sleep", sleep_and_finish)
        try:
            outcomes.append(c.mget(k1, k2))
        finally:
            monkeypatch.setattr(time, "sleep", real_sleep)
            if not finished:
                m.move_all_keys()
                m.finish()
            wait_slot_agreed(cluster, slot, dst.port)
            _move(cluster, slot, dst, src)
        assert finished == [0.05], "TRYAGAIN was not seen"
    compare(outcomes[0], outcomes[1])
    assert outcomes[0] == [b"one", b"two"]
