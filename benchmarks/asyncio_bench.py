#!/usr/bin/env python3
"""redis_native.asyncio against redis-py's redis.asyncio (+hiredis), side by side.

Starts a throwaway redis-server (``--pin``: on CPU 0, this process on CPU 1),
then runs interleaved rounds: in each round both
clients run the same batch, the one going first alternating.  Reported per
event loop (asyncio's default loop, uvloop): the median per-operation wall
time of each client and the ratio redis-py / redis_native (> 1: redis_native
is faster), with the min-max of the per-round ratios.

Workloads:
  GET seq        one task awaiting GET of a 100-byte value, one after another
  GET x100       100 tasks doing GETs concurrently (time per GET: 1/throughput)
  pipeline 1000  a 1000-GET pipeline (time per command)
  pub->recv      PUBLISH on one client, awaited get_message() on a subscriber

and, as references, the floor of a sequential GET on that loop: a bare
asyncio.Protocol writing prepacked bytes and resolving a future with the raw
reply -- no client can await one round trip faster on that loop, which bounds
the ratio a sequential GET can reach; and, measured in the same rounds, what a
sequential GET costs at all on this machine: build/floor (benchmarks/floor.c,
a blocking C client on libhiredis, no event loop; ``make build/floor``),
skipped when it is not built.

    .venv/bin/python benchmarks/asyncio_bench.py [--rounds 9] [-n 2000] [--loops asyncio,uvloop] [--pin]
"""
import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(d, pin):
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
           "--dir", d]
    if pin and shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        cmd = ["taskset", "-c", "0"] + cmd
    proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


FLOOR = os.path.join(ROOT, "build", "floor")


class CFloor:
    """build/floor as a child process (as benchmarks/bench.py runs it): one
    request line in, one JSON line out."""

    def __init__(self, port):
        self.proc = subprocess.Popen([FLOOR, "--host", "127.0.0.1", "--port", str(port),
                                      "--channel", "bench:chan:floor"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        if json.loads(self.proc.stdout.readline() or "{}").get("ready") is not True:
            raise SystemExit("build/floor did not start")

    def get_seq(self, n):
        """Seconds per sequential GET of bench:v16 (16 bytes)."""
        self.proc.stdin.write(f"GET_16 {n}\n")
        self.proc.stdin.flush()
        out = json.loads(self.proc.stdout.readline() or "{}")
        if "wall_us" not in out:
            raise SystemExit(f"build/floor: GET_16: {out.get('error', 'died')}")
        return out["wall_us"] / 1e6          # floor.c reports it per command

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def workloads(lib, port, n):
    value = b"v" * 100

    async def setup():
        r = lib.Redis(port=port)
        await r.set("bench:get", value)
        return r

    async def get_seq(r):
        t = time.perf_counter()
        for _ in range(n):
            await r.get("bench:get")
        return (time.perf_counter() - t) / n

    async def get_x100(r):
        per = max(1, n // 100)

        async def worker():
            for _ in range(per):
                await r.get("bench:get")

        t = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(100)))
        return (time.perf_counter() - t) / (per * 100)

    async def pipeline(r):
        p = r.pipeline(transaction=False)
        for _ in range(1000):
            p.get("bench:get")
        t = time.perf_counter()
        out = await p.execute()
        elapsed = time.perf_counter() - t
        assert len(out) == 1000 and out[0] == value
        return elapsed / 1000

    async def pubsub(r):
        p = r.pubsub(ignore_subscribe_messages=True)
        await p.subscribe("bench:ch")
        await p.get_message(timeout=1)
        m = max(1, n // 4)
        t = time.perf_counter()
        for _ in range(m):
            await r.publish("bench:ch", value)
            msg = None
            while msg is None:
                msg = await p.get_message(timeout=1)
        elapsed = time.perf_counter() - t
        await p.aclose()
        return elapsed / m

    return setup, {"GET seq": get_seq, "GET x100": get_x100, "pipeline 1000": pipeline,
                   "pub->recv": pubsub}


class _BareProtocol(asyncio.Protocol):
    """The least a client can do per GET on a loop: write prepacked bytes,
    resolve a future with the raw bytes of the reply (no parsing)."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.fut.set_result(data)


async def floor_seq(port, n):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(_BareProtocol, "127.0.0.1", port)
    cmd = b"*2\r\n$3\r\nGET\r\n$9\r\nbench:get\r\n"
    t = time.perf_counter()
    for _ in range(n):
        proto.fut = loop.create_future()
        transport.write(cmd)
        await proto.fut
    elapsed = time.perf_counter() - t
    transport.close()
    return elapsed / n


def run_loop(loop_name, libs, port, rounds, n, cfloor=None, cfloor_times=None):
    if loop_name == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        sides = {}
        for label, lib in libs.items():
            setup, loads = workloads(lib, port, n)
            client = loop.run_until_complete(setup())
            for f in loads.values():        # warm-up
                loop.run_until_complete(f(client))
            sides[label] = (client, loads)
        names = list(next(iter(sides.values()))[1])
        times = {label: {w: [] for w in names} for label in libs}
        labels = list(libs)
        floor = []
        for rnd in range(rounds):
            order = labels if rnd % 2 == 0 else labels[::-1]
            for w in names:
                for label in order:
                    client, loads = sides[label]
                    times[label][w].append(loop.run_until_complete(loads[w](client)))
                if w == "GET seq":      # next to the sequential GETs it bounds
                    floor.append(loop.run_until_complete(floor_seq(port, n)))
                    if cfloor is not None:
                        cfloor_times.append(cfloor.get_seq(n))
        for client, _ in sides.values():
            loop.run_until_complete(client.aclose())
        return names, times, statistics.median(floor)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--loops", default="asyncio,uvloop")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--pin", action="store_true",
                    help="pin the server to CPU 0 and this process to CPU 1 (on a shared "
                         "machine the wake-ups across CPUs can dominate: off by default)")
    args = ap.parse_args()

    import redis
    import redis.asyncio as redis_asyncio
    import redis_native.asyncio as native_asyncio

    if not redis.utils.HIREDIS_AVAILABLE:
        raise SystemExit("redis-py must have hiredis installed for this comparison")
    if args.pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    libs = {"redis-py": redis_asyncio, "redis_native": native_asyncio}
    d = tempfile.mkdtemp(prefix="rn-aio-bench-")
    proc, port = start_server(d, args.pin)
    lines = []
    cfloor, cfloor_times = None, []
    try:
        if os.path.exists(FLOOR):
            import redis as sync_redis
            c = sync_redis.Redis(port=port)
            c.set("bench:v16", b"v" * 16)
            c.close()
            cfloor = CFloor(port)
        else:
            print("(build/floor is not built: `make build/floor` adds the C floor row)",
                  file=sys.stderr)
        lines.append(f"redis-py {redis.__version__} (hiredis) vs redis_native, "
                     f"{args.rounds} interleaved rounds, n={args.n}, Python "
                     f"{sys.version.split()[0]}")
        lines.append("")
        lines.append("| loop | workload | redis-py µs/op | redis_native µs/op | ratio | "
                     "round ratios min-max |")
        lines.append("|---|---|---|---|---|---|")
        for loop_name in args.loops.split(","):
            names, times, floor = run_loop(loop_name, libs, port, args.rounds, args.n,
                                           cfloor, cfloor_times)
            for w in names:
                a, b = times["redis-py"][w], times["redis_native"][w]
                ratios = [x / y for x, y in zip(a, b)]
                ma, mb = statistics.median(a), statistics.median(b)
                lines.append(f"| {loop_name} | {w} | {ma * 1e6:.1f} | {mb * 1e6:.1f} | "
                             f"{ma / mb:.2f} | {min(ratios):.2f}-{max(ratios):.2f} |")
                print(lines[-1], flush=True)
            lines.append(f"| {loop_name} | (floor: bare asyncio.Protocol, prepacked GET, no "
                         f"parsing, sequential) | | {floor * 1e6:.1f} | | |")
            print(lines[-1], flush=True)
        if cfloor_times:
            lines.append(f"| (none) | (floor: build/floor, blocking C hiredis client, sequential "
                         f"GET of 16 bytes, same rounds) | | "
                         f"{statistics.median(cfloor_times) * 1e6:.1f} | | |")
            print(lines[-1], flush=True)
    finally:
        if cfloor is not None:
            cfloor.close()
        proc.kill()
        proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    print("\n".join(lines[:2]))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
