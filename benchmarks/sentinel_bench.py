#!/usr/bin/env python3
"""Commands through Sentinel-made clients, side by side with redis-py.

Starts the test suite's Sentinel topology (tests/sentinel_topology.py: a
master, two replicas, three sentinels on free ports), then runs interleaved
rounds of sequential GETs (100-byte value) on ``master_for`` clients and, as
the reference, on a plain client of the same master: sync (``redis.sentinel``)
and asyncio (``redis.asyncio.sentinel``), redis_native and redis-py each.
The first client of a round alternates.  Reported: the median µs per GET of
each, and the ratios redis-py ÷ redis_native through Sentinel and
Sentinel ÷ plain for redis_native (what going through a managed connection
costs).

    .venv/bin/python benchmarks/sentinel_bench.py [--rounds 7] [-n 3000]
"""
import argparse
import asyncio
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import redis  # noqa: E402
import redis.asyncio  # noqa: E402
import redis.asyncio.sentinel  # noqa: E402
import redis.sentinel  # noqa: E402

import redis_native  # noqa: E402
import redis_native.asyncio  # noqa: E402
import redis_native.asyncio.sentinel  # noqa: E402
import redis_native.sentinel  # noqa: E402
from sentinel_topology import SERVICE, Topology  # noqa: E402

LIBS = {"redis_native": redis_native, "redis-py": redis}


def sync_clients(lib, topo):
    s = lib.sentinel.Sentinel(topo.sentinel_addresses)
    return {"sentinel": s.master_for(SERVICE),
            "plain": lib.Redis(host="127.0.0.1", port=topo.master_port())}


def time_sync(client, n):
    get = client.get
    t = time.perf_counter()
    for _ in range(n):
        get("bench:k")
    return (time.perf_counter() - t) / n * 1e6


async def time_async(client, n):
    get = client.get
    t = time.perf_counter()
    for _ in range(n):
        await get("bench:k")
    return (time.perf_counter() - t) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("-n", type=int, default=3000)
    opts = ap.parse_args()
    topo = Topology()
    try:
        topo.wait_healthy()
        times = {}      # (mode, lib, kind) -> [µs per GET per round]
        clients = {name: sync_clients(lib, topo) for name, lib in LIBS.items()}
        clients["redis_native"]["sentinel"].set("bench:k", "x" * 100)
        order = list(LIBS)
        for r in range(opts.rounds):
            for name in (order if r % 2 == 0 else order[::-1]):
                for kind, c in clients[name].items():
                    time_sync(c, opts.n // 10)      # warm up
                    times.setdefault(("sync", name, kind), []).append(time_sync(c, opts.n))
            print(f"sync round {r + 1}/{opts.rounds}", file=sys.stderr)

        async def run_async():
            aclients = {}
            for name, lib in LIBS.items():
                s = lib.asyncio.sentinel.Sentinel(topo.sentinel_addresses)
                aclients[name] = {"sentinel": s.master_for(SERVICE),
                                  "plain": lib.asyncio.Redis(host="127.0.0.1",
                                                             port=topo.master_port())}
            for r in range(opts.rounds):
                for name in (order if r % 2 == 0 else order[::-1]):
                    for kind, c in aclients[name].items():
                        await time_async(c, opts.n // 10)
                        times.setdefault(("asyncio", name, kind), []).append(
                            await time_async(c, opts.n))
                print(f"asyncio round {r + 1}/{opts.rounds}", file=sys.stderr)
            for pair in aclients.values():
                for c in pair.values():
                    await c.aclose()

        asyncio.run(run_async())
    finally:
        topo.close()

    med = {k: statistics.median(v) for k, v in times.items()}
    print("| client | GET via master_for µs | GET, plain client µs |"
          " redis-py ÷ redis_native (master_for) | redis_native master_for ÷ plain |")
    print("|---|---:|---:|---:|---:|")
    for mode in ("sync", "asyncio"):
        for name in LIBS:
            row = [f"{mode} {name}", f"{med[(mode, name, 'sentinel')]:.1f}",
                   f"{med[(mode, name, 'plain')]:.1f}"]
            if name == "redis_native":
                ratio = med[(mode, "redis-py", "sentinel")] / med[(mode, name, "sentinel")]
                own = med[(mode, name, "sentinel")] / med[(mode, name, "plain")]
                row += [f"**{ratio:.2f}×**", f"{own:.2f}×"]
            else:
                row += ["", ""]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
