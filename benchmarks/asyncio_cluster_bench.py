#!/usr/bin/env python3
"""asyncio RedisCluster side by side: redis_native.asyncio against redis.asyncio.

Starts a throwaway 6-node cluster (3 primaries, 3 replicas; the test suite's
tests/cluster_topology.py) and runs both clients in this process, in
interleaved rounds (the client that goes first alternates), each round on a
fresh event loop (uvloop with --uvloop):

* get-seq:    GET of one key, one task, awaited one after the other
* get-tasks:  GET of distinct keys from 50 tasks at once
* pipeline:   a ClusterPipeline of 1000 SETs over all slots
* mget:       mget_nonatomic of 1000 keys spread over all slots

Reported: the median wall and client-CPU time per operation and the ratio
redis-py / redis_native (> 1: redis_native is faster).  Only ratios measured
in one run mean anything on a shared machine.

    python benchmarks/asyncio_cluster_bench.py            # ~1 minute
    python benchmarks/asyncio_cluster_bench.py --rounds 9 --uvloop
"""
import argparse
import asyncio
import gc
import importlib
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from cluster_topology import ClusterTopology  # noqa: E402

KEYS = [f"bench:{i}" for i in range(1000)]
TASKS = 50


def load(name):
    if name == "redis":
        import redis
        import redis.utils
        mod = importlib.import_module("redis.asyncio.cluster")
        parser = "hiredis" if redis.utils.HIREDIS_AVAILABLE else "pure-Python parser"
        return "redis-py", mod, f"redis-py {redis.__version__} ({parser})"
    import redis_native
    mod = importlib.import_module("redis_native.asyncio.cluster")
    return "redis_native", mod, f"redis_native {redis_native.NATIVE_VERSION}"


async def one_round(mod, topo, n):
    """{workload: (wall, cpu, operations)} for one client."""
    rc = mod.RedisCluster(host=topo.host, port=topo.port)
    out = {}
    try:
        await rc.mset_nonatomic({k: "v" for k in KEYS})
        # warm up: a connection per task to every node
        await asyncio.gather(*(rc.get(KEYS[i]) for i in range(TASKS * 3)))

        async def timed(name, coro_fn, ops):
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            await coro_fn()
            out[name] = (time.perf_counter() - w0, time.process_time() - c0, ops)

        async def seq():
            for _ in range(n):
                await rc.get(KEYS[0])

        async def tasks():
            per = n // TASKS

            async def worker(t):
                for i in range(per):
                    await rc.get(KEYS[(t * per + i) % len(KEYS)])

            await asyncio.gather(*(worker(t) for t in range(TASKS)))

        async def pipeline():
            for _ in range(n // 1000):
                pipe = rc.pipeline()
                for k in KEYS:
                    pipe.set(k, "v")
                await pipe.execute()

        async def mget():
            for _ in range(n // 1000):
                await rc.mget_nonatomic(KEYS)

        await timed("get-seq", seq, n)
        await timed("get-tasks", tasks, (n // TASKS) * TASKS)
        await timed("pipeline", pipeline, (n // 1000) * 1000)
        await timed("mget", mget, (n // 1000) * 1000)
    finally:
        await rc.aclose()
    return out


def new_loop(use_uvloop):
    if use_uvloop:
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-n", "--number", type=int, default=5000, help="operations per workload")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = ap.parse_args()

    clients = [load("redis_native"), load("redis")]
    topo = ClusterTopology()
    results = {label: {} for label, _, _ in clients}
    try:
        for r in range(args.rounds):
            order = clients if r % 2 == 0 else clients[::-1]
            for label, mod, _ in order:
                loop = new_loop(args.uvloop)
                try:
                    got = loop.run_until_complete(one_round(mod, topo, args.number))
                finally:
                    loop.close()
                for name, sample in got.items():
                    results[label].setdefault(name, []).append(sample)
    finally:
        topo.stop()

    print("loop: %s; %s" % ("uvloop" if args.uvloop else "asyncio",
                            ", ".join(desc for _, _, desc in clients)))
    print("%-10s %16s %16s %14s %14s %7s %7s" % (
        "workload", "native us/op", "redis-py us/op", "native cpu", "redis-py cpu",
        "wall x", "cpu x"))
    for name in results["redis_native"]:
        row = []
        for label in ("redis_native", "redis-py"):
            samples = results[label][name]
            row.append(statistics.median(w / ops * 1e6 for w, _, ops in samples))
            row.append(statistics.median(c / ops * 1e6 for _, c, ops in samples))
        print("%-10s %16.2f %16.2f %14.2f %14.2f %7.2f %7.2f" % (
            name, row[0], row[2], row[1], row[3], row[2] / row[0], row[3] / row[1]))


if __name__ == "__main__":
    main()
