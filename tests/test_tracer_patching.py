"""What a tracer sees when it patches the sync cluster client's classes, the
way opentelemetry-instrumentation-redis, sentry-sdk and ddtrace do (wrappers
put on ``Redis.execute_command``, ``RedisCluster.execute_command`` and
``ClusterPipeline.execute``), differential against redis-py 7.4.1 on the
same cluster:

- the node clients a RedisCluster talks through are no callers of
  ``Redis.execute_command``: a command routed to a node shows up once, on
  the cluster client (redis-py reaches nodes with send_command and
  parse_response);
- ``mget_nonatomic``/``mset_nonatomic`` and the multi-slot key commands run
  through ``pipeline()`` and ``ClusterPipeline.execute`` once those are
  replaced;
- the entries of ``ClusterPipeline._execution_strategy.command_queue`` have
  ``args`` and ``options``, as redis-py's ``PipelineCommand`` has.
"""
from __future__ import annotations

import functools

import pytest


def _record(events, label, original):
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        if label == "pipeline":
            queue = self._execution_strategy.command_queue
            events.append((label, type(self).__name__,
                           [tuple(c.args) for c in queue], [_options(c.options) for c in queue]))
        else:
            events.append((label, type(self).__name__, args))
        return original(self, *args, **kwargs)
    return wrapper


def _options(options):
    """A queued command's options, nodes by name (the two libraries' node
    objects do not compare equal)."""
    return {k: [n.name for n in v] if k == "target_nodes" else v for k, v in options.items()}


def _traced_run(lib, cluster, workload, monkeypatch):
    events = []
    for cls, name, label in (
        (lib.Redis, "execute_command", "node"),
        (lib.cluster.RedisCluster, "execute_command", "cluster"),
        (lib.cluster.ClusterPipeline, "execute", "pipeline"),
    ):
        monkeypatch.setattr(cls, name, _record(events, label, getattr(cls, name)))
    client = lib.cluster.RedisCluster(host=cluster.host, port=cluster.port)
    try:
        del events[:]      # the start-up exchange is not what is compared
        try:
            result = workload(client)
        except Exception as e:  # noqa: BLE001 - the outcome is compared
            result = (type(e).__name__, str(e))
    finally:
        client.close()
        monkeypatch.undo()
    return result, events


def _workload(c):
    out = [
        c.set("tp:a{1}", 1),
        c.get("tp:a{1}"),
        c.mget("tp:a{1}", "tp:b{1}"),
        c.incr("tp:n"),
        c.mset_nonatomic({"tp:x": 1, "tp:y": 2, "tp:z": 3}),
        c.mget_nonatomic("tp:x", "tp:y", "tp:z", "tp:missing"),
        c.exists("tp:x", "tp:y", "tp:nope"),
        c.delete("tp:x", "tp:y"),
        c.dbsize() >= 0,
        c.ping(),
    ]
    try:
        c.lpush("tp:a{1}", 1)
    except Exception as e:  # noqa: BLE001
        out.append((type(e).__name__, str(e)))
    p = c.pipeline()
    p.set("tp:p1", 1).get("tp:p1").set("tp:p2", 2).incr("tp:p3", 5)
    out.append(p.execute())
    return out


@pytest.mark.parametrize("workload", [_workload], ids=["commands"])
def test_patched_classes_see_what_redis_py_shows(impl, redis_py, cluster, workload, monkeypatch):
    flush = redis_py.cluster.RedisCluster(host=cluster.host, port=cluster.port)
    try:
        flush.flushall(target_nodes="primaries")
        want = _traced_run(redis_py, cluster, workload, monkeypatch)
        flush.flushall(target_nodes="primaries")
        got = _traced_run(impl, cluster, workload, monkeypatch)
    finally:
        flush.close()
    assert got[0] == want[0]
    assert got[1] == want[1]
    # no command reached a node client's execute_command
    assert not [e for e in got[1] if e[0] == "node"]


def test_unpatched_by_slot_commands_unchanged(impl, cluster):
    c = impl.cluster.RedisCluster(host=cluster.host, port=cluster.port)
    try:
        c.mset_nonatomic({"tq:x": 1, "tq:y": 2})
        assert c.mget_nonatomic("tq:x", "tq:y", "tq:none") == [b"1", b"2", None]
        assert c.delete("tq:x", "tq:y", "tq:none") == 2
    finally:
        c.close()


def test_command_queue_entries_have_args_and_options(impl, cluster):
    c = impl.cluster.RedisCluster(host=cluster.host, port=cluster.port)
    try:
        for transaction in (False, True):
            p = c.pipeline(transaction=transaction)
            p.set("tq:a{t}", 1).get("tq:a{t}")
            queue = p._execution_strategy.command_queue
            assert [q.args for q in queue] == [("SET", "tq:a{t}", 1), ("GET", "tq:a{t}")]
            assert [q.options for q in queue] == [{}, {"keys": ["tq:a{t}"]}]
            assert p.execute()[1] == b"1"
    finally:
        c.close()
