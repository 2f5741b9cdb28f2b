#!/usr/bin/env python3
"""RedisCluster side by side: redis_native against redis-py (+hiredis).

Starts a throwaway 6-node cluster (3 primaries, 3 replicas; the test suite's
tests/cluster_topology.py) with every redis-server pinned to CPU 0, and runs
both clients from this process pinned to CPU 1, in interleaved rounds (the
client that goes first alternates): GET and SET of one key, mget_nonatomic
of 1000 keys spread over all slots, and client construction (topology
discovery with CLUSTER SLOTS and COMMAND, then close).  Reported: the median
wall and client-CPU time per operation of each client and the ratio
redis-py / redis_native (> 1: redis_native is faster).  Only ratios measured
in one run mean anything on a shared machine.

    python benchmarks/cluster_bench.py                 # ~1 minute
    python benchmarks/cluster_bench.py --rounds 15 -n 5000
"""
import argparse
import gc
import os
import statistics
import sys
import time
from itertools import repeat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from cluster_topology import ClusterTopology  # noqa: E402

VALUE = b"v" * 100
MGET_KEYS = [f"bench:m:{i}" for i in range(1000)]


def load(name):
    if name == "redis":
        import hiredis
        import redis
        import redis.utils
        if not redis.utils.HIREDIS_AVAILABLE:
            sys.exit("cluster_bench: redis-py does not see hiredis")
        return "redis-py", redis, f"redis-py {redis.__version__} + hiredis-py {hiredis.__version__}"
    import redis_native
    return "redis_native", redis_native, f"redis_native {redis_native.NATIVE_VERSION}"


def run_batch(fn, n):
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in repeat(None, n):
        fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("-n", "--number", type=int, default=3000, help="GET/SET per round")
    ap.add_argument("--mget-number", type=int, default=30, help="mget_nonatomic calls per round")
    ap.add_argument("--construct-number", type=int, default=10, help="constructions per round")
    ap.add_argument("--client-cpu", type=int, default=1)
    ap.add_argument("--server-cpu", type=int, default=0)
    args = ap.parse_args()

    topo = ClusterTopology()
    try:
        if hasattr(os, "sched_setaffinity"):        # a negative CPU: not pinned
            for node in topo.nodes:
                if args.server_cpu >= 0:
                    try:
                        os.sched_setaffinity(node.proc.pid, {args.server_cpu})
                    except OSError:
                        pass
            if args.client_cpu >= 0:
                try:
                    os.sched_setaffinity(0, {args.client_cpu})
                except OSError:
                    pass
        sides = [load("redis"), load("native")]
        kw = {"host": topo.host, "port": topo.port}
        clients = [mod.RedisCluster(**kw) for _, mod, _ in sides]
        clients[1].mset_nonatomic({k: VALUE for k in MGET_KEYS})
        clients[1].set("bench:get", VALUE)
        for c in clients:
            assert c.get("bench:get") == VALUE
            assert c.mget_nonatomic(MGET_KEYS) == [VALUE] * len(MGET_KEYS)

        def construct(mod):
            def run():
                mod.RedisCluster(**kw).close()
            return run

        ops = {
            "GET": ("GET of a 100-byte value", args.number,
                    [lambda c=c: c.get("bench:get") for c in clients]),
            "SET": ("SET of a 100-byte value", args.number,
                    [lambda c=c: c.set("bench:set", VALUE) for c in clients]),
            "MGET_NONATOMIC_1000": ("mget_nonatomic of 1000 keys (all slots)", args.mget_number,
                                    [lambda c=c: c.mget_nonatomic(MGET_KEYS) for c in clients]),
            "CONSTRUCT": ("RedisCluster(...) (discovery) + close()", args.construct_number,
                          [construct(mod) for _, mod, _ in sides]),
        }
        samples = {op: {"wall": ([], []), "cpu": ([], [])} for op in ops}
        for op, (_, n, fns) in ops.items():           # warm-up
            for fn in fns:
                run_batch(fn, max(1, n // 10))
        for rnd in range(args.rounds):
            order = (0, 1) if rnd % 2 == 0 else (1, 0)
            for op, (_, n, fns) in ops.items():
                for side in order:
                    wall, cpu = run_batch(fns[side], n)
                    samples[op]["wall"][side].append(wall / n)
                    samples[op]["cpu"][side].append(cpu / n)
            print(f"  round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        for c in clients:
            c.close()
    finally:
        topo.stop()

    print(f"A = {sides[0][2]}\nB = {sides[1][2]}")
    where = lambda cpu: f"CPU {cpu}" if cpu >= 0 else "any CPU"  # noqa: E731
    print(f"cluster: 6 redis-server on {where(args.server_cpu)}, client on "
          f"{where(args.client_cpu)}; {args.rounds} interleaved rounds; medians per operation\n")
    print("| operation | A wall | B wall | A/B wall | A cpu | B cpu | A/B cpu |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for op, (desc, _, _) in ops.items():
        row = [op]
        for kind in ("wall", "cpu"):
            a, b = (statistics.median(x) for x in samples[op][kind])
            row += [f"{a * 1e6:.1f} µs", f"{b * 1e6:.1f} µs", f"{a / b:.2f}×"]
        print("| " + " | ".join(row) + " |")
    print("\n" + "\n".join(f"- {op}: {desc}" for op, (desc, _, _) in ops.items()))


if __name__ == "__main__":
    main()
