#!/usr/bin/env python3
"""Memory checks for redis_native, side by side with redis-py 7.4.1.

Three measurements, each in fresh child processes so one client's allocations
never show in the other's numbers:

1. **idle connections**: open N connected connections from one pool (each has
   sent PING once), drop nothing, and report the RSS growth per connection;
2. **after a large value**: SET and GET a 64 MiB value on a pooled connection,
   drop the value, and report what the process still holds over its RSS
   before the large round trip (the connection's buffers must shrink back);
3. **steady state**: 10 million mixed commands (single commands, pipelines,
   MULTI/EXEC, values from 16 B to 64 KiB, hashes, lists, sorted sets, a
   decode_responses client) on one client, sampling RSS every 250,000
   commands; reported: the spread of the samples after the first 10% (the
   warm-up) relative to their mean. The issue's bar is ±2%.

    make bench-deps && scripts/with-redis-server -- .venv/bin/python benchmarks/memory_check.py
    .venv/bin/python benchmarks/memory_check.py             # starts its own server
    .venv/bin/python benchmarks/memory_check.py --commands 1000000   # shorter run

Results go to stdout as markdown (benchmarks/results-memory.md holds the last
committed run) and, with --json FILE, as JSON.  Progress goes to stderr.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPER = os.path.join(ROOT, "scripts", "with-redis-server")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def load(lib: str):
    if lib == "redis_native":
        sys.path.insert(0, ROOT)
        import redis_native as mod
    else:
        import redis as mod
    return mod


def server_kwargs() -> dict:
    return {"host": os.environ["REDIS_HOST"], "port": int(os.environ["REDIS_PORT"])}


# -- the child-process measurements ----------------------------------------------------

def child_idle(lib: str, n: int) -> dict:
    mod = load(lib)
    pool = mod.ConnectionPool(max_connections=n + 10, **server_kwargs())
    # one connection first, so the import-time and first-use costs are out of the delta
    warm = pool.get_connection()
    warm.send_command("PING")
    warm.read_response()
    pool.release(warm)
    gc.collect()
    before = rss_bytes()
    conns = []
    for _ in range(n):
        c = pool.get_connection()
        c.send_command("PING")
        c.read_response()
        conns.append(c)
    for c in conns:
        pool.release(c)
    gc.collect()
    after = rss_bytes()
    pool.disconnect()
    return {"connections": n, "rss_before": before, "rss_after": after,
            "per_connection": (after - before) / n}


def child_large(lib: str, mib: int) -> dict:
    mod = load(lib)
    r = mod.Redis(**server_kwargs())
    r.set("memcheck:small", b"x")
    r.get("memcheck:small")
    gc.collect()
    before = rss_bytes()
    value = b"v" * (mib << 20)
    r.set("memcheck:big", value)
    got = r.get("memcheck:big")
    assert got == value
    peak = rss_bytes()
    del value, got
    r.get("memcheck:small")          # the connection goes on with small commands
    r.delete("memcheck:big")
    gc.collect()
    after = rss_bytes()
    r.close()
    return {"mib": mib, "rss_before": before, "rss_peak": peak, "rss_after": after,
            "kept": after - before}


def child_steady(lib: str, total: int, sample_every: int) -> dict:
    mod = load(lib)
    kw = server_kwargs()
    r = mod.Redis(**kw)
    rd = mod.Redis(decode_responses=True, **kw)
    sizes = [16, 100, 1024, 8192, 65536]
    values = [b"v" * s for s in sizes]
    r.delete("mc:h", "mc:l", "mc:z", "mc:c")
    r.hset("mc:h", mapping={f"f{i}": i for i in range(50)})
    r.rpush("mc:l", *range(200))
    r.zadd("mc:z", {f"m{i}": i * 0.5 for i in range(100)})
    done = 0
    samples = []
    next_sample = sample_every
    i = 0
    t0 = time.monotonic()
    while done < total:
        v = values[i % len(values)]
        k = f"mc:k{i % 1000}"
        # 12 single commands
        r.set(k, v)
        r.get(k)
        r.incr("mc:c")
        r.hgetall("mc:h")
        r.lrange("mc:l", 0, 99)
        r.zrange("mc:z", 0, 49, withscores=True)
        rd.get(k if i % len(values) == 0 else "mc:c")
        rd.hgetall("mc:h")
        r.mget([f"mc:k{j}" for j in range(10)])
        r.exists(k)
        r.expire(k, 3600)
        r.ttl(k)
        done += 12
        # a pipeline of 200 commands
        p = r.pipeline(transaction=False)
        for j in range(50):
            kk = f"mc:p{(i + j) % 1000}"
            p.set(kk, values[j % len(values)])
            p.get(kk)
            p.incr("mc:c")
            p.hget("mc:h", f"f{j}")
        p.execute()
        done += 200
        # MULTI/EXEC of 10 commands (+MULTI/EXEC themselves)
        with r.pipeline() as t:
            for j in range(10):
                t.incr("mc:c")
            t.execute()
        done += 12
        i += 1
        if done >= next_sample:
            samples.append((done, rss_bytes()))
            next_sample += sample_every
            if len(samples) % 8 == 0:
                print(f"  {lib}: {done:,} commands, RSS {samples[-1][1] / 2**20:.1f} MiB, "
                      f"{time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    r.close()
    rd.close()
    warm = max(1, len(samples) // 10)
    steady = [s for _, s in samples[warm:]]
    mean = sum(steady) / len(steady)
    return {"commands": done, "samples": samples,
            "rss_first_after_warmup": steady[0], "rss_last": steady[-1],
            "rss_min": min(steady), "rss_max": max(steady), "rss_mean": mean,
            "spread_pct": 100.0 * (max(steady) - min(steady)) / mean,
            "drift_pct": 100.0 * (steady[-1] - steady[0]) / mean,
            "seconds": time.monotonic() - t0}


def run_child(what: str, lib: str, arg: int, extra: int = 0) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, lib, str(arg), str(extra)],
                         check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


# -- the report -------------------------------------------------------------------------

def mib(b: float) -> str:
    return f"{b / 2**20:.2f} MiB"


def kib(b: float) -> str:
    return f"{b / 1024:.1f} KiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--large-mib", type=int, default=64)
    ap.add_argument("--commands", type=int, default=10_000_000)
    ap.add_argument("--sample-every", type=int, default=250_000)
    ap.add_argument("--libs", default="redis_native,redis-py")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        what, lib, a, b = args.child
        fn = {"idle": lambda: child_idle(lib, int(a)),
              "large": lambda: child_large(lib, int(a)),
              "steady": lambda: child_steady(lib, int(a), int(b))}[what]
        print(json.dumps(fn()))
        return
    if "REDIS_PORT" not in os.environ:
        os.execv(WRAPPER, [WRAPPER, "--", sys.executable, os.path.abspath(__file__)]
                 + sys.argv[1:])
    libs = args.libs.split(",")
    results = {"idle": {}, "large": {}, "steady": {}}
    for lib in libs:
        print(f"memory_check: {lib}: idle connections", file=sys.stderr, flush=True)
        results["idle"][lib] = run_child("idle", lib, args.connections)
        print(f"memory_check: {lib}: {args.large_mib} MiB value", file=sys.stderr, flush=True)
        results["large"][lib] = run_child("large", lib, args.large_mib)
    for lib in libs:
        print(f"memory_check: {lib}: {args.commands:,} mixed commands", file=sys.stderr,
              flush=True)
        results["steady"][lib] = run_child("steady", lib, args.commands, args.sample_every)

    lines = ["# Memory checks: redis_native vs redis-py 7.4.1", "",
             "Command: `.venv/bin/python benchmarks/memory_check.py"
             + (f" --commands {args.commands}" if args.commands != 10_000_000 else "") + "` "
             "(starts its own throwaway redis-server; every measurement runs in a fresh "
             "child process). RSS from /proc/self/statm.", "",
             f"## Idle connections ({args.connections} connected, each has sent one PING)", "",
             "| client | RSS growth per idle connection |", "|---|---:|"]
    for lib in libs:
        lines.append(f"| {lib} | {kib(results['idle'][lib]['per_connection'])} |")
    lines += ["", f"## After one {args.large_mib} MiB SET + GET on a pooled connection", "",
              "| client | RSS peak over before | RSS kept afterwards |", "|---|---:|---:|"]
    for lib in libs:
        d = results["large"][lib]
        lines.append(f"| {lib} | {mib(d['rss_peak'] - d['rss_before'])} | {mib(d['kept'])} |")
    lines += ["", f"## {args.commands:,} mixed commands on one client", "",
              "Single commands, 200-command pipelines and MULTI/EXEC of 10, values of 16 B to "
              f"64 KiB, one decode_responses client; RSS sampled every {args.sample_every:,} "
              "commands, the first 10% of samples dropped as warm-up.", "",
              "| client | RSS after warm-up | RSS at the end | min–max | spread ÷ mean | "
              "end − start ÷ mean | time |", "|---|---:|---:|---:|---:|---:|---:|"]
    for lib in libs:
        d = results["steady"][lib]
        lines.append(f"| {lib} | {mib(d['rss_first_after_warmup'])} | {mib(d['rss_last'])} | "
                     f"{mib(d['rss_min'])}–{mib(d['rss_max'])} | {d['spread_pct']:.2f}% | "
                     f"{d['drift_pct']:+.2f}% | {d['seconds']:.0f} s |")
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
