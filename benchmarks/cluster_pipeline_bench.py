"""A 10,000-command ClusterPipeline over 3 primaries: redis_native against
redis-py 7.4.1 + hiredis on the same cluster, and redis_native's cluster
pipeline against its own single-node pipeline of the same size.

    .venv/bin/python benchmarks/cluster_pipeline_bench.py [--rounds 15] [-n 10000]

Starts a private cluster (3 primaries, no replicas: tests/cluster_topology.py)
and one private redis-server for the single-node pipeline.  Each round runs,
for each side and each workload, one pipeline of N commands -- queueing the
commands (the command method calls) plus ``execute()``, what a user pays --
in an order that rotates between rounds, so slow drifts of the shared
machine hit every side alike.  Workloads: ``SET`` of N keys (100-byte
values) and ``GET`` of the same N keys; the keys spread over all slots.

Reported per workload: the median over rounds of each side's time per
command (wall and process CPU), and the ratios of the medians:
``redis-py / native cluster`` (target >= 3) and ``native cluster / native
single node`` (target <= 1.5), with the min-max of the per-round ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
sys.path.insert(0, os.path.join(HERE, ".."))

import redis  # noqa: E402
import redis_native  # noqa: E402
from cluster_topology import ClusterTopology  # noqa: E402
from servers import RedisServer  # noqa: E402


def run_pipeline(client_pipe, op, keys, value):
    p = client_pipe()
    if op == "SET":
        for k in keys:
            p.set(k, value)
    else:
        for k in keys:
            p.get(k)
    return p.execute()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("-n", type=int, default=10_000)
    args = ap.parse_args()
    assert redis.utils.HIREDIS_AVAILABLE, "redis-py must use hiredis for this comparison"

    topo = ClusterTopology(primaries=3, replicas=0)
    single = RedisServer()
    try:
        py_cluster = redis.RedisCluster(host=topo.host, port=topo.port)
        rn_cluster = redis_native.RedisCluster(host=topo.host, port=topo.port)
        rn_single = redis_native.Redis(host=single.host, port=single.port)
        parser = type(py_cluster.get_default_node().redis_connection.connection_pool
                      .get_connection()._parser).__name__
        assert "Hiredis" in parser, parser
        sides = {
            "redis-py cluster": lambda: py_cluster.pipeline(),
            "native cluster": lambda: rn_cluster.pipeline(),
            "native single": lambda: rn_single.pipeline(transaction=False),
        }
        keys = [f"bench:{i}" for i in range(args.n)]
        value = b"v" * 100
        # same replies, and warm-up (connections, script caches)
        for op in ("SET", "GET"):
            outs = {name: run_pipeline(make, op, keys, value) for name, make in sides.items()}
            first = outs["redis-py cluster"]
            assert all(o == first for o in outs.values()), op
        shards = {rn_cluster.get_node_from_key(k).name for k in keys}
        assert len(shards) == 3, shards

        wall = {(s, op): [] for s in sides for op in ("SET", "GET")}
        cpu = {(s, op): [] for s in sides for op in ("SET", "GET")}
        names = list(sides)
        for r in range(args.rounds):
            order = names[r % 3:] + names[:r % 3]
            for op in ("SET", "GET"):
                for name in order:
                    c0, t0 = time.process_time(), time.perf_counter()
                    run_pipeline(sides[name], op, keys, value)
                    t1, c1 = time.perf_counter(), time.process_time()
                    wall[(name, op)].append((t1 - t0) / args.n)
                    cpu[(name, op)].append((c1 - c0) / args.n)

        print(f"# ClusterPipeline of {args.n} commands, {args.rounds} interleaved rounds")
        print(f"# redis-py {redis.__version__} ({parser}), redis_native {redis_native.NATIVE_VERSION}")
        print("# cluster: 3 primaries, no replicas; single node: one redis-server; "
              f"{os.cpu_count()} CPUs shared with other work")
        print()
        print("| workload | side | wall µs/cmd | cpu µs/cmd |")
        print("|---|---|---|---|")
        for op in ("SET", "GET"):
            for name in names:
                print(f"| {op} | {name} | {statistics.median(wall[(name, op)]) * 1e6:.3f} | "
                      f"{statistics.median(cpu[(name, op)]) * 1e6:.3f} |")
        print()
        print("| workload | ratio | wall (min–max per round) | cpu |")
        print("|---|---|---|---|")
        for op in ("SET", "GET"):
            for label, a, b in (("redis-py / native cluster (target ≥ 3)", "redis-py cluster",
                                 "native cluster"),
                                ("native cluster / native single (target ≤ 1.5)",
                                 "native cluster", "native single")):
                wa, wb = wall[(a, op)], wall[(b, op)]
                ratio = statistics.median(wa) / statistics.median(wb)
                per = [x / y for x, y in zip(wa, wb)]
                cr = statistics.median(cpu[(a, op)]) / statistics.median(cpu[(b, op)])
                print(f"| {op} | {label} | {ratio:.2f} ({min(per):.2f}–{max(per):.2f}) | "
                      f"{cr:.2f} |")
        py_cluster.close()
        rn_cluster.close()
        rn_single.close()
    finally:
        single.stop()
        topo.stop()


if __name__ == "__main__":
    main()
