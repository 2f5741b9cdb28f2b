#!/usr/bin/env python3
"""Side-by-side benchmark: C hiredis floor, redis_native and redis-py (+hiredis).

Three clients run the same workloads against the same throwaway redis-server
(pinned to CPU 0) from CPU 1, in interleaved rounds: in every round each client
runs the same batch of each workload, and the client that goes first rotates
between rounds, so a slow drift of a shared machine hits all of them alike.

- floor: build/floor (benchmarks/floor.c), a blocking C program on libhiredis
  doing the same round trips without building any Python object;
- redis_native: this checkout's in-place build;
- redis-py 7.4.1 with its hiredis parser (checked on a live connection).

Reported per workload and transport (TCP, unix socket): the median over the
rounds of each client's wall and CPU time per unit (per command for pipelines
and MULTI/EXEC), redis_native / floor and redis-py / redis_native, with the
range of the per-round paired ratios.  Written to benchmarks/results.json,
benchmarks/results.md and docs/bench.png (matplotlib; skipped with a message
when it is missing).  Progress goes to stderr.

    make bench                               # full run (about 3 minutes)
    make bench BENCH_ARGS="--quick"          # smoke run (about 20 s)
    make bench BENCH_ARGS="--ops GET_16,PIPELINE_1000_GET --transports tcp"

Run directly, the script restarts itself under scripts/with-redis-server;
under `make bench` it uses the server in REDIS_HOST/REDIS_PORT/REDIS_SOCKET.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from itertools import repeat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPER = os.path.join(ROOT, "scripts", "with-redis-server")
FLOOR = os.path.join(ROOT, "build", "floor")
# The in-place build (make build) of this checkout, ahead of any installed copy.
sys.path.insert(0, ROOT)

SIDES = ("floor", "redis_native", "redis-py")

# Keys and values: benchmarks/floor.c uses the same names.
V16, V1K, V100K, V8M = b"v" * 16, b"v" * 1024, b"v" * (100 * 1024), b"v" * (8 << 20)
MSET_MAP = {f"bench:mset:{i}": V16 for i in range(10)}
MGET_KEYS = [f"bench:mget:{i}" for i in range(100)]
HSET_MAP = {b"field:%03d" % i: b"value:%05d" % i for i in range(100)}
LIST_ITEMS = [b"item:%05d" % i for i in range(1000)]
SET_MEMBERS = [b"member:%03d" % i for i in range(100)]
ZSET_MEMBERS = {b"member:%03d" % i: i * 1.5 for i in range(100)}


def prepare_data(r):
    r.delete("bench:hash", "bench:list", "bench:set", "bench:zset", "bench:hset")
    for key, value in (("bench:v16", V16), ("bench:v1k", V1K), ("bench:v100k", V100K),
                       ("bench:v8m", V8M)):
        r.set(key, value)
    r.set("bench:incr", 0)
    r.mset({k: V16 for k in MGET_KEYS})
    r.hset("bench:hash", mapping=HSET_MAP)
    r.rpush("bench:list", *LIST_ITEMS)
    r.sadd("bench:set", *SET_MEMBERS)
    r.zadd("bench:zset", ZSET_MEMBERS)


class Workload:
    """name, description, commands per call (unit), share of -n calls per batch,
    decode_responses, whether it runs on unix sockets by default, and
    make(r, side_ctx) -> batch(n) for the Python clients."""

    def __init__(self, name, desc, make, unit=1, scale=1.0, decode=False, unix=False,
                 floor=True):
        self.name, self.desc, self.make = name, desc, make
        self.unit, self.scale, self.decode, self.unix = unit, scale, decode, unix
        self.floor = floor

    def calls(self, n):
        return max(2, int(n * self.scale))


def loop(fn, *args):
    def batch(n):
        for _ in repeat(None, n):
            fn(*args)
    return batch


def pipeline_batch(r, size, transaction, add):
    def batch(n):
        for _ in repeat(None, n):
            p = r.pipeline(transaction=transaction)
            for _ in repeat(None, size):
                add(p)
            p.execute()
    return batch


def pubsub_batch(r, ctx):
    channel = f"bench:chan:{ctx['label']}:{ctx['transport']}"
    ps = r.pubsub(ignore_subscribe_messages=True)
    ps.subscribe(channel)
    ps.get_message(timeout=5)           # the subscribe confirmation (ignored: None)
    ctx.setdefault("closers", []).append(ps.close)
    publish, get = r.publish, ps.get_message

    def batch(n):
        for _ in repeat(None, n):
            publish(channel, V16)
            if get(timeout=5) is None:
                raise RuntimeError("PUBSUB: message not received")
    return batch


def connect_batch(r, ctx):
    cls, kw = ctx["cls"], ctx["kw"]

    def batch(n):
        for _ in repeat(None, n):
            c = cls(**kw)
            c.ping()
            c.close()
    return batch


def threads_batch(r, threads):
    def batch(n):
        per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
        def work(k):
            g = r.get
            for _ in repeat(None, k):
                g("bench:v16")
        ts = [threading.Thread(target=work, args=(k,)) for k in per]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return batch


def import_batch(r, ctx):
    """The time of the import statement itself, measured in a fresh interpreter
    (not its start-up); returned to timed() instead of the batch's time."""
    module = {"redis_native": "redis_native", "redis-py": "redis"}[ctx["label"]]
    code = (f"import sys, time; sys.path.insert(0, {ROOT!r}); t = time.perf_counter(); "
            f"import {module}; print(time.perf_counter() - t)")

    # Both packages import from cached bytecode, as after an install (pip writes
    # redis-py's .pyc files; the warm-up batch writes this checkout's), whatever
    # PYTHONDONTWRITEBYTECODE the caller's environment sets.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def batch(n):
        total = 0.0
        for _ in repeat(None, n):
            out = subprocess.run([sys.executable, "-c", code], check=True, env=env,
                                 capture_output=True, text=True).stdout
            total += float(out.split()[-1])
        return total
    return batch


W = Workload
WORKLOADS = [
    W("PING", "PING", lambda r, c: loop(r.ping), unix=True),
    W("GET_16", "GET of a 16-byte value", lambda r, c: loop(r.get, "bench:v16"), unix=True),
    W("SET_16", "SET of a 16-byte value", lambda r, c: loop(r.set, "bench:set:16", V16),
      unix=True),
    W("GET_1K", "GET of a 1 KiB value", lambda r, c: loop(r.get, "bench:v1k"), unix=True),
    W("SET_1K", "SET of a 1 KiB value", lambda r, c: loop(r.set, "bench:set:1k", V1K)),
    W("GET_100K", "GET of a 100 KiB value", lambda r, c: loop(r.get, "bench:v100k"),
      scale=0.1, unix=True),
    W("SET_100K", "SET of a 100 KiB value", lambda r, c: loop(r.set, "bench:set:100k", V100K),
      scale=0.1),
    W("GET_8M", "GET of an 8 MiB value", lambda r, c: loop(r.get, "bench:v8m"), scale=0.005,
      unix=True),
    W("SET_8M", "SET of an 8 MiB value", lambda r, c: loop(r.set, "bench:set:8m", V8M),
      scale=0.005, unix=True),
    W("INCR", "INCR of one counter", lambda r, c: loop(r.incr, "bench:incr")),
    W("MSET_10", "MSET of 10 keys (16-byte values)", lambda r, c: loop(r.mset, MSET_MAP),
      scale=0.5),
    W("MGET_100", "MGET of 100 keys", lambda r, c: loop(r.mget, MGET_KEYS), scale=0.5),
    W("HSET_100", "HSET of 100 fields (mapping=)",
      lambda r, c: loop(lambda: r.hset("bench:hset", mapping=HSET_MAP)), scale=0.5),
    W("HGETALL_100", "HGETALL of a 100-field hash", lambda r, c: loop(r.hgetall, "bench:hash"),
      scale=0.5, unix=True),
    W("LRANGE_100", "LRANGE 0 99 of a list", lambda r, c: loop(r.lrange, "bench:list", 0, 99),
      scale=0.5),
    W("LRANGE_1000", "LRANGE 0 999 of a list",
      lambda r, c: loop(r.lrange, "bench:list", 0, 999), scale=0.1, unix=True),
    W("SMEMBERS_100", "SMEMBERS of a 100-member set",
      lambda r, c: loop(r.smembers, "bench:set"), scale=0.5),
    W("ZRANGE_100_WITHSCORES", "ZRANGE 0 99 WITHSCORES",
      lambda r, c: loop(lambda: r.zrange("bench:zset", 0, 99, withscores=True)), scale=0.5),
    W("PIPELINE_100_SET", "pipeline of 100 SETs (per command)",
      lambda r, c: pipeline_batch(r, 100, False, lambda p: p.set("bench:pset", V16)),
      unit=100, scale=0.05),
    W("PIPELINE_1000_GET", "pipeline of 1000 GETs (per command)",
      lambda r, c: pipeline_batch(r, 1000, False, lambda p: p.get("bench:v16")),
      unit=1000, scale=0.01, unix=True),
    W("MULTI_EXEC_10_INCR", "MULTI/EXEC of 10 INCRs (per command)",
      lambda r, c: pipeline_batch(r, 10, True, lambda p: p.incr("bench:tx")),
      unit=10, scale=0.2, unix=True),
    W("PUBSUB", "PUBLISH, then the message received by a subscriber",
      pubsub_batch, scale=0.5, unix=True),
    W("CONNECT", "new client + handshake + PING + close", connect_batch, scale=0.1,
      unix=True),
    W("THREADS_4", "4 threads sharing one client, GETs (per GET, aggregate)",
      lambda r, c: threads_batch(r, 4)),
    W("THREADS_16", "16 threads sharing one client, GETs (per GET, aggregate)",
      lambda r, c: threads_batch(r, 16)),
    W("GET_16_DECODE", "GET_16 with decode_responses=True",
      lambda r, c: loop(r.get, "bench:v16"), decode=True),
    W("HGETALL_100_DECODE", "HGETALL_100 with decode_responses=True",
      lambda r, c: loop(r.hgetall, "bench:hash"), scale=0.5, decode=True),
    W("LRANGE_100_DECODE", "LRANGE_100 with decode_responses=True",
      lambda r, c: loop(r.lrange, "bench:list", 0, 99), scale=0.5, decode=True),
    W("IMPORT", "the `import` statement in a fresh interpreter (redis vs redis_native; no floor)",
      import_batch, scale=0.005, floor=False),
]
BY_NAME = {w.name: w for w in WORKLOADS}


# ---------------------------------------------------------------------------- clients

def load_classes():
    import hiredis
    import redis
    import redis.utils
    if not redis.utils.HIREDIS_AVAILABLE:
        sys.exit("bench: redis-py does not see hiredis (redis.utils.HIREDIS_AVAILABLE is "
                 "False); install the hiredis package")
    try:
        import redis_native
        native = redis_native.Redis
    except (ImportError, AttributeError) as exc:
        sys.exit(f"bench: redis_native is not usable ({exc!r}); build it with `make build`")
    return {
        "redis_native": (native, f"redis_native {redis_native.NATIVE_VERSION}"),
        "redis-py": (redis.Redis,
                     f"redis-py {redis.__version__} + hiredis-py {hiredis.__version__}"),
    }


def check_parser(client):
    """redis-py must really be using its hiredis parser, or the comparison is unfair."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        name = type(conn._parser).__name__
    finally:
        pool.release(conn)
    if "Hiredis" not in name:
        sys.exit(f"bench: redis-py uses {name}, not its hiredis parser")
    return name


class Floor:
    """build/floor as a child process: one request line in, one JSON line out."""

    def __init__(self, transport, env):
        if transport == "tcp":
            where = ["--host", env["REDIS_HOST"], "--port", env["REDIS_PORT"]]
        else:
            where = ["--unix", env["REDIS_SOCKET"]]
        self.proc = subprocess.Popen([FLOOR] + where + ["--channel", f"bench:chan:floor:{transport}"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        if json.loads(self.proc.stdout.readline() or "{}").get("ready") is not True:
            sys.exit("bench: build/floor did not start")

    def run(self, op, n):
        self.proc.stdin.write(f"{op} {n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"bench: build/floor died during {op}")
        out = json.loads(line)
        if "error" in out:
            sys.exit(f"bench: build/floor: {op}: {out['error']}")
        return out["wall_us"] / 1e6, out["cpu_us"] / 1e6

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def timed(batch, n, unit):
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    inner = batch(n)
    w1, c1 = time.perf_counter(), time.process_time()
    if inner is not None:           # IMPORT: measured inside the child processes
        return inner / (n * unit), inner / (n * unit)
    return (w1 - w0) / (n * unit), (c1 - c0) / (n * unit)


def normalise(value):
    if isinstance(value, dict):
        return sorted(value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value


def agree(workloads, clients):
    """Before timing: both Python clients must return the same reply."""
    probes = {
        "GET_16": lambda r: r.get("bench:v16"), "GET_8M": lambda r: r.get("bench:v8m"),
        "MGET_100": lambda r: r.mget(MGET_KEYS), "HGETALL_100": lambda r: r.hgetall("bench:hash"),
        "LRANGE_1000": lambda r: r.lrange("bench:list", 0, 999),
        "SMEMBERS_100": lambda r: r.smembers("bench:set"),
        "ZRANGE_100_WITHSCORES": lambda r: r.zrange("bench:zset", 0, 99, withscores=True),
    }
    for w in workloads:
        if w.name in probes:
            a, b = (normalise(probes[w.name](clients[s])) for s in ("redis_native", "redis-py"))
            if a != b:
                sys.exit(f"bench: {w.name}: clients disagree: {a!r:.80} != {b!r:.80}")


def bench(args, workloads, transports, env, classes):
    """Returns {(transport, op): {side: {"wall": [...], "cpu": [...]}}}."""
    samples = {}
    batches = {}              # (transport, op, side) -> batch(n)
    floors, contexts = {}, []
    for transport in transports:
        if transport == "tcp":
            kw = {"host": env["REDIS_HOST"], "port": int(env["REDIS_PORT"])}
        else:
            kw = {"unix_socket_path": env["REDIS_SOCKET"]}
        clients = {}
        for decode in (False, True):
            for side in ("redis_native", "redis-py"):
                cls = classes[side][0]
                ckw = dict(kw, decode_responses=decode)
                clients[side, decode] = cls(**ckw)
                if side == "redis-py":
                    check_parser(clients[side, decode])
        agree(workloads, {s: clients[s, False] for s in ("redis_native", "redis-py")})
        if not args.no_floor:
            floors[transport] = Floor(transport, env)
        for w in workloads:
            if transport == "unix" and not (w.unix or args.unix_all):
                continue
            if w.name == "IMPORT" and transport != "tcp":
                continue
            samples[transport, w.name] = {s: {"wall": [], "cpu": []} for s in SIDES}
            for side in ("redis_native", "redis-py"):
                ctx = {"label": side, "transport": transport, "cls": classes[side][0],
                       "kw": dict(kw, decode_responses=w.decode)}
                contexts.append(ctx)
                batches[transport, w.name, side] = w.make(clients[side, w.decode], ctx)
    keys = list(samples)
    total = len(keys) * args.rounds
    # Warm-up: one short untimed batch of everything on every side.
    print(f"bench: warm-up ({len(keys)} workload × transport pairs)", file=sys.stderr)
    for transport, op in keys:
        w = BY_NAME[op]
        n = max(1, w.calls(args.number) // 10)
        for side in ("redis_native", "redis-py"):
            batches[transport, op, side](n)
        if transport in floors and w.floor:
            floors[transport].run(op, n)
    done = 0
    for rnd in range(args.rounds):
        order = SIDES[rnd % 3:] + SIDES[:rnd % 3]
        for transport, op in keys:
            w = BY_NAME[op]
            n = w.calls(args.number)
            for side in order:
                if side == "floor":
                    if transport not in floors or not w.floor:
                        continue
                    wall, cpu = floors[transport].run(op, n)
                else:
                    wall, cpu = timed(batches[transport, op, side], n, w.unit)
                samples[transport, op][side]["wall"].append(wall)
                samples[transport, op][side]["cpu"].append(cpu)
            done += 1
        print(f"  round {rnd + 1}/{args.rounds} done ({done}/{total} batches of each client)",
              file=sys.stderr, flush=True)
    for ctx in contexts:
        for close in ctx.get("closers", ()):
            close()
    for f in floors.values():
        f.close()
    return samples


# ---------------------------------------------------------------------------- report

def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                              cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(server_info, server_pid, client_cpu):
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    distro = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    server_cpus = "?"
    if server_pid:
        try:
            server_cpus = ",".join(map(str, sorted(os.sched_getaffinity(int(server_pid)))))
        except (OSError, ValueError):
            pass
    commit = sh(["git", "rev-parse", "--short", "HEAD"])
    if commit and sh(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    return {
        "date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "git commit": commit or "?",
        "CPU": f"{cpu_model or platform.processor() or '?'}, {os.cpu_count()} logical CPUs",
        "OS": f"{distro or platform.system()}, kernel {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "redis-server": f"{server_info.get('redis_version', '?')} on CPU {server_cpus}",
        "client processes": f"CPU {client_cpu}" if client_cpu is not None else "not pinned",
        "libhiredis (pkg-config)": sh(["pkg-config", "--modversion", "hiredis"]) or "?",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def summarise(samples):
    rows = []
    for (transport, op), per in samples.items():
        w = BY_NAME[op]
        row = {"workload": op, "transport": transport, "description": w.desc,
               "unit": "command" if w.unit > 1 else ("GET" if op.startswith("THREADS") else "call")}
        for side in SIDES:
            s = per[side]
            row[side] = ({"wall_us": statistics.median(s["wall"]) * 1e6,
                          "cpu_us": statistics.median(s["cpu"]) * 1e6, "rounds": len(s["wall"])}
                         if s["wall"] else None)

        def ratio(a, b, kind):
            if row[a] is None or row[b] is None:
                return None
            pa, pb = per[a][kind], per[b][kind]
            paired = [x / y for x, y in zip(pa, pb) if y > 0]
            return {"median": row[a][kind + "_us"] / row[b][kind + "_us"],
                    "lo": min(paired), "hi": max(paired)}

        row["native_over_floor"] = ratio("redis_native", "floor", "wall")
        row["redispy_over_native"] = ratio("redis-py", "redis_native", "wall")
        row["native_over_floor_cpu"] = ratio("redis_native", "floor", "cpu")
        row["redispy_over_native_cpu"] = ratio("redis-py", "redis_native", "cpu")
        rows.append(row)
    return rows


def fmt_us(us):
    if us is None:
        return "–"
    return f"{us:.1f}" if us >= 10 else f"{us:.2f}"


def fmt_ratio(r):
    if r is None:
        return "–"
    return f"**{r['median']:.2f}×** ({r['lo']:.2f}–{r['hi']:.2f})"


def markdown(rows, info, args, versions, label, argv_shown, elapsed):
    out = ["# redis_native benchmark results", ""]
    if label:
        out += [f"> **{label}**", ""]
    out += [
        f"Clients: floor = `build/floor` (benchmarks/floor.c, blocking C on libhiredis "
        f"{info['libhiredis (pkg-config)']}, no Python objects); {versions['redis_native']}; "
        f"{versions['redis-py']} (_HiredisParser).",
        f"{args.rounds} interleaved rounds (the first client rotates), -n {args.number} "
        "(each workload runs its share of it per batch, see bench.py). Times are the median "
        "over the rounds of wall-clock µs per unit (per command for pipelines and MULTI/EXEC, "
        "per GET summed over all threads for THREADS_*). Ratios are of those medians, with "
        "the range of the per-round paired ratios in parentheses: **native ÷ floor** (1.00 = "
        "as fast as C; lower is better) and **redis-py ÷ native** (how many times faster "
        "redis_native is). The floor decodes nothing: for the _DECODE workloads it runs the "
        "same command as without.",
        "",
    ]
    for transport in dict.fromkeys(r["transport"] for r in rows):
        out += [f"## {'TCP (127.0.0.1)' if transport == 'tcp' else 'unix socket'}", "",
                "| workload | unit | floor µs | redis_native µs | redis-py µs | native ÷ floor "
                "| redis-py ÷ native | native CPU µs |",
                "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            if r["transport"] != transport:
                continue
            g = lambda side: r[side]["wall_us"] if r[side] else None
            out.append(f"| {r['workload']} | {r['unit']} | {fmt_us(g('floor'))} "
                       f"| {fmt_us(g('redis_native'))} | {fmt_us(g('redis-py'))} "
                       f"| {fmt_ratio(r['native_over_floor'])} "
                       f"| {fmt_ratio(r['redispy_over_native'])} "
                       f"| {fmt_us(r['redis_native']['cpu_us'])} |")
        out.append("")
    out += ["Workloads:", ""]
    out += [f"- `{w.name}`: {w.desc}" for w in WORKLOADS if any(r["workload"] == w.name for r in rows)]
    out += ["", "Reproduce with:", "", "```",
            "make bench" + (f" BENCH_ARGS={shlex.quote(argv_shown)}" if argv_shown else ""),
            "```", "", "Machine (only the side-by-side ratios are meaningful on a shared machine):", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += [f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            f"- benchmark duration: {elapsed:.0f} s", ""]
    return "\n".join(out)


def chart(rows, path, label, info, command):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is not installed (make bench installs it): no chart",
              file=sys.stderr)
        return False
    tcp = [r for r in rows if r["transport"] == "tcp" and r["floor"] and r["redis_native"]]
    if not tcp:
        return False
    names = [r["workload"] for r in tcp][::-1]
    native = [r["redis_native"]["wall_us"] / r["floor"]["wall_us"] for r in tcp][::-1]
    redispy = [r["redis-py"]["wall_us"] / r["floor"]["wall_us"] for r in tcp][::-1]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(names) + 1.8))
    ys = range(len(names))
    h = 0.38
    ax.barh([y + h / 2 for y in ys], native, h, label="redis_native", color="#2b7bba")
    ax.barh([y - h / 2 for y in ys], redispy, h, label="redis-py 7.4.1 + hiredis",
            color="#c0c0c0")
    for y, v in zip(ys, native):
        ax.text(v, y + h / 2, f" {v:.2f}×", va="center", fontsize=7)
    for y, v in zip(ys, redispy):
        ax.text(v, y - h / 2, f" {v:.2f}×", va="center", fontsize=7, color="#555555")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(list(ys))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("wall time per operation ÷ C hiredis floor (1.0 = as fast as C; lower is better)")
    ax.set_xlim(0, max(max(redispy), max(native)) * 1.15)
    title = "redis_native vs redis-py, relative to a blocking C hiredis client (TCP)"
    sub = f"{info['date (UTC)']} UTC, commit {info['git commit']}: {command}"
    if label:
        sub = "\n".join(textwrap.wrap(label, 100)) + "\n" + sub
    ax.set_title(title + "\n" + sub, fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    p.add_argument("-n", "--number", type=int, default=2000,
                   help="base number of calls per batch; each workload runs its share "
                        "(default 2000)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 2 rounds, -n 100 (numbers not meaningful)")
    p.add_argument("--ops", default="", help="comma-separated subset of: "
                   + ",".join(BY_NAME))
    p.add_argument("--transports", default="tcp,unix", help="tcp,unix (default both)")
    p.add_argument("--unix-all", action="store_true",
                   help="every workload on the unix socket too (default: a subset)")
    p.add_argument("--no-floor", action="store_true", help="do not run build/floor")
    p.add_argument("--client-cpu", type=int, default=1,
                   help="pin this process (and the floor) to that CPU (-1: do not pin)")
    p.add_argument("--label", default="",
                   help="a note printed at the top of the report and the chart "
                        "(e.g. where and how it was measured)")
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"),
                   help="report path without extension: .md and .json (default "
                        "benchmarks/results)")
    p.add_argument("--chart", default=os.path.join(ROOT, "docs", "bench.png"),
                   help="chart path (default docs/bench.png)")
    p.add_argument("--no-write", action="store_true", help="print only, write no files")
    p.add_argument("--replot", metavar="RESULTS_JSON",
                   help="only redraw the chart from a results.json (no benchmark)")
    args = p.parse_args()
    if args.replot:
        with open(args.replot) as f:
            data = json.load(f)
        if not chart(data["results"], args.chart, data["label"], data["machine"],
                     data["command"]):
            sys.exit("bench: no chart drawn")
        print(f"bench: wrote {os.path.relpath(args.chart)}", file=sys.stderr)
        return
    if args.quick:
        args.rounds, args.number = 2, 100
    names = [o.strip().upper() for o in args.ops.split(",") if o.strip()] or list(BY_NAME)
    for o in names:
        if o not in BY_NAME:
            p.error(f"unknown workload {o}; choose from {','.join(BY_NAME)}")
    workloads = [BY_NAME[o] for o in names]
    transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    for t in transports:
        if t not in ("tcp", "unix"):
            p.error(f"unknown transport {t}")

    if "REDIS_PORT" not in os.environ:
        os.execv(WRAPPER, [WRAPPER, "--cpu", "0", "--", sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:])
    env = dict(os.environ)
    if "unix" in transports and not env.get("REDIS_SOCKET"):
        print("bench: no REDIS_SOCKET: TCP only", file=sys.stderr)
        transports = [t for t in transports if t != "unix"]
    if not args.no_floor and not os.access(FLOOR, os.X_OK):
        sys.exit("bench: build/floor is missing: run `make build/floor` (or use --no-floor)")

    client_cpu = None
    if args.client_cpu >= 0 and hasattr(os, "sched_setaffinity"):
        if args.client_cpu in os.sched_getaffinity(0):
            os.sched_setaffinity(0, {args.client_cpu})   # inherited by build/floor
            client_cpu = args.client_cpu
        else:
            print(f"bench: CPU {args.client_cpu} not available, clients not pinned",
                  file=sys.stderr)

    classes = load_classes()
    versions = {k: v[1] for k, v in classes.items()}
    ref = classes["redis-py"][0](host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]))
    ref.flushdb()
    prepare_data(ref)
    info = machine_info(ref.info("server"), env.get("REDIS_SERVER_PID"), client_cpu)
    ref.close()

    print(f"bench: {len(workloads)} workloads on {'+'.join(transports)}, {args.rounds} rounds, "
          f"-n {args.number}; clients: floor, {versions['redis_native']}, "
          f"{versions['redis-py']}", file=sys.stderr)
    t0 = time.perf_counter()
    samples = bench(args, workloads, transports, env, classes)
    elapsed = time.perf_counter() - t0
    rows = summarise(samples)

    shown, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a in ("--no-write",):
            pass
        elif a in ("--out", "--chart", "--label"):
            skip = True
        elif not a.startswith(("--out=", "--chart=", "--label=")):
            shown.append(a)
    argv_shown = " ".join(shlex.quote(a) for a in shown)
    label = args.label or ("quick smoke run: too few operations for meaningful numbers"
                           if args.quick else "")
    text = markdown(rows, info, args, versions, label, argv_shown, elapsed)
    print(text)
    if args.no_write:
        return
    for path in (args.out, args.chart):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(args.out + ".md", "w") as f:
        f.write(text)
    with open(args.out + ".json", "w") as f:
        json.dump({"label": label, "machine": info, "versions": versions,
                   "rounds": args.rounds, "number": args.number,
                   "command": "make bench" + (f" BENCH_ARGS={shlex.quote(argv_shown)}"
                                              if argv_shown else ""),
                   "results": rows}, f, indent=1)
        f.write("\n")
    wrote = [args.out + ".md", args.out + ".json"]
    command = "make bench" + (f" BENCH_ARGS={shlex.quote(argv_shown)}" if argv_shown else "")
    if chart(rows, args.chart, label, info, command):
        wrote.append(args.chart)
    print("bench: wrote " + ", ".join(os.path.relpath(w) for w in wrote), file=sys.stderr)


if __name__ == "__main__":
    main()
