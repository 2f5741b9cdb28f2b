#!/usr/bin/env python3
"""Side-by-side benchmark of redis_native against redis-py (+hiredis).

Both clients talk to the same throwaway redis-server (pinned to CPU 0) from one process
pinned to CPU 1, in interleaved rounds: in every round each client runs the same batch of
operations, and the client that goes first alternates.  The machine is shared and noisy, so
only ratios measured side by side in one run mean anything; absolute numbers are context.

Reported per command: median wall time and median client CPU time per operation of each
client over the rounds, the ratio A/B of those medians (> 1 means B is faster), and the
range of the per-round (paired) ratios.

    make bench                                  # redis-py (A) vs redis_native (B)
    make bench BENCH_ARGS="--rounds 20 -n 5000"
    python benchmarks/bench.py --a=redis --b=redis   # harness self-check: ratios ~1.0

Run directly, the script starts its own server through scripts/with-redis-server;
under `make bench` it uses the one in REDIS_HOST/REDIS_PORT.
"""
import argparse
import datetime
import gc
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from itertools import repeat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPER = os.path.join(ROOT, "scripts", "with-redis-server")
# The in-place build (make build) of this checkout, ahead of any installed copy.
sys.path.insert(0, ROOT)

VALUE = b"v" * 100
K_GET, K_SET, K_INCR = "bench:get", "bench:set", "bench:incr"
K_LIST, K_HASH = "bench:list", "bench:hash"
LIST_ITEMS = [b"item:%05d" % i for i in range(100)]
HASH_FIELDS = {b"field:%03d" % i: b"value:%05d" % i for i in range(100)}

# name -> (description, factory(client, client_class, connect_kwargs) -> (callable, args))
OPS = {
    "GET": ("GET of a 100-byte value", lambda r, cls, kw: (r.get, (K_GET,))),
    "SET": ("SET of a 100-byte value", lambda r, cls, kw: (r.set, (K_SET, VALUE))),
    "INCR": ("INCR of one counter", lambda r, cls, kw: (r.incr, (K_INCR,))),
    "LRANGE_100": ("LRANGE 0 99 of a 100-element list",
                   lambda r, cls, kw: (r.lrange, (K_LIST, 0, 99))),
    "HGETALL_100": ("HGETALL of a 100-field hash", lambda r, cls, kw: (r.hgetall, (K_HASH,))),
    "CONNECT": ("new client + PING + close",
                lambda r, cls, kw: (connect_ping_close, (cls, kw))),
}


def connect_ping_close(cls, kw):
    client = cls(**kw)
    client.ping()
    client.close()


# ---------------------------------------------------------------------------- clients

def load_client(name):
    """Return (label, Redis class, version text) for 'redis' or 'native'."""
    if name == "redis":
        import hiredis
        import redis
        import redis.utils
        if not redis.utils.HIREDIS_AVAILABLE:
            sys.exit("bench: redis-py does not see hiredis (redis.utils.HIREDIS_AVAILABLE "
                     "is False); install the hiredis package")
        return ("redis-py", redis.Redis,
                f"redis-py {redis.__version__} + hiredis-py {hiredis.__version__}")
    if name == "native":
        try:
            import redis_native
            cls = redis_native.Redis
        except (ImportError, AttributeError) as exc:
            sys.exit(f"bench: redis_native is not usable yet ({exc!r}); build it with "
                     "`make build`, or check the harness with --a=redis --b=redis")
        version = getattr(redis_native, "__version__", "?")
        return "redis_native", cls, f"redis_native {version}"
    sys.exit(f"bench: unknown client {name!r} (redis or native)")


def check_parser(client):
    """redis-py must really be using its hiredis parser, or the comparison is unfair."""
    pool = getattr(client, "connection_pool", None)
    if pool is None or not type(client).__module__.startswith("redis."):
        return None
    conn = pool.get_connection()
    try:
        name = type(conn._parser).__name__
    finally:
        pool.release(conn)
    if "Hiredis" not in name:
        sys.exit(f"bench: redis-py uses {name}, not its hiredis parser")
    return name


# ---------------------------------------------------------------------------- timing

def run_batch(fn, args, n):
    """n calls of fn(*args); returns (wall seconds, process CPU seconds)."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in repeat(None, n):
        fn(*args)
    w1, c1 = time.perf_counter(), time.process_time()
    return w1 - w0, c1 - c0


def prepare_data(r):
    r.delete(K_LIST, K_HASH)
    r.set(K_GET, VALUE)
    r.set(K_INCR, 0)
    r.rpush(K_LIST, *LIST_ITEMS)
    r.hset(K_HASH, mapping=HASH_FIELDS)


def normalise(value):
    return value if not isinstance(value, dict) else sorted(value.items())


def bench(args, clients, kw):
    """clients: [(label, cls, instance)] for A and B.  Returns {op: stats}."""
    ops = [o for o in OPS if o in args.ops]
    calls = {}
    for op in ops:
        calls[op] = []
        for label, cls, r in clients:
            calls[op].append(OPS[op][1](r, cls, kw))
        # Same answers from both clients (INCR moves on, so compare its type only).
        if op not in ("CONNECT",):
            (fa, aa), (fb, ab) = calls[op]
            ra, rb = fa(*aa), fb(*ab)
            if op == "INCR":
                ra, rb = type(ra), type(rb)
            if normalise(ra) != normalise(rb):
                sys.exit(f"bench: {op}: clients disagree: {ra!r:.80} != {rb!r:.80}")

    samples = {op: {"wall": ([], []), "cpu": ([], [])} for op in ops}
    # Warm-up: one short untimed batch of everything on both sides.
    for op in ops:
        n = max(10, (args.connect_number if op == "CONNECT" else args.number) // 10)
        for fn, fargs in calls[op]:
            run_batch(fn, fargs, n)

    for rnd in range(args.rounds):
        order = (0, 1) if rnd % 2 == 0 else (1, 0)
        for op in ops:
            n = args.connect_number if op == "CONNECT" else args.number
            for side in order:
                fn, fargs = calls[op][side]
                wall, cpu = run_batch(fn, fargs, n)
                samples[op]["wall"][side].append(wall / n)
                samples[op]["cpu"][side].append(cpu / n)
        if not args.quiet:
            print(f"  round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    stats = {}
    for op in ops:
        st = stats[op] = {}
        for kind in ("wall", "cpu"):
            a, b = samples[op][kind]
            paired = [x / y for x, y in zip(a, b) if y > 0]
            ma, mb = statistics.median(a), statistics.median(b)
            st[kind] = {
                "a": ma, "b": mb, "ratio": ma / mb if mb else float("nan"),
                "lo": min(paired) if paired else float("nan"),
                "hi": max(paired) if paired else float("nan"),
            }
    return stats


# ---------------------------------------------------------------------------- reference

def redis_benchmark(host, port, n, cpu):
    """Reference point: redis-benchmark (a C client), one connection, no pipelining."""
    exe = shutil.which("redis-benchmark")
    if not exe:
        return None
    cmd = [exe, "-h", host, "-p", str(port), "-n", str(n), "-c", "1", "-P", "1",
           "-d", "100", "-t", "get,set,incr,lrange_100", "--csv"]
    if cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(cpu)] + cmd
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"bench: redis-benchmark failed: {exc}", file=sys.stderr)
        return None
    rows = []
    for line in out.splitlines():
        cells = [c.strip('"') for c in line.split(",")]
        if len(cells) >= 2 and cells[0] != "test":
            try:
                rows.append((cells[0], float(cells[1])))
            except ValueError:
                pass
    return {"cmd": " ".join(shlex.quote(c) for c in cmd), "rows": rows}


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
    return [
        ("date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("git commit", commit or "?"),
        ("CPU", f"{cpu_model or platform.processor() or '?'}, {os.cpu_count()} logical CPUs"),
        ("OS", f"{distro or platform.system()}, kernel {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("redis-server", f"{server_info.get('redis_version', '?')} on CPU {server_cpus}"),
        ("client process", f"CPU {client_cpu}" if client_cpu is not None else "not pinned"),
        ("libhiredis (pkg-config)", sh(["pkg-config", "--modversion", "hiredis"]) or "?"),
        ("load average at start", " ".join(f"{x:.2f}" for x in os.getloadavg())),
    ]


def fmt_us(seconds):
    us = seconds * 1e6
    return f"{us:.1f}" if us >= 10 else f"{us:.2f}"


def table(stats, la, lb):
    lines = [
        f"| command | {la} wall µs/op | {lb} wall µs/op | wall {la}/{lb} "
        f"| {la} CPU µs/op | {lb} CPU µs/op | CPU {la}/{lb} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for op, st in stats.items():
        w, c = st["wall"], st["cpu"]
        lines.append(
            f"| {op} | {fmt_us(w['a'])} | {fmt_us(w['b'])} "
            f"| **{w['ratio']:.2f}×** ({w['lo']:.2f}–{w['hi']:.2f}) "
            f"| {fmt_us(c['a'])} | {fmt_us(c['b'])} "
            f"| **{c['ratio']:.2f}×** ({c['lo']:.2f}–{c['hi']:.2f}) |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--a", default="redis", choices=("redis", "native"),
                   help="baseline client (default: redis = redis-py + hiredis)")
    p.add_argument("--b", default="native", choices=("redis", "native"),
                   help="client under test (default: native = redis_native)")
    p.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    p.add_argument("-n", "--number", type=int, default=2000,
                   help="operations per client per round for each command (default 2000)")
    p.add_argument("--connect-number", type=int, default=200,
                   help="operations per client per round for CONNECT (default 200)")
    p.add_argument("--ops", default=",".join(OPS),
                   help=f"comma-separated subset of {','.join(OPS)}")
    p.add_argument("--client-cpu", type=int, default=1,
                   help="pin this process to that CPU (-1: do not pin; default 1)")
    p.add_argument("--reference-n", type=int, default=20000,
                   help="requests per redis-benchmark reference test (0: skip; default 20000)")
    p.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results.md"),
                   help="markdown report to write (default benchmarks/results.md)")
    p.add_argument("--no-write", action="store_true", help="print only, write no report")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    args = p.parse_args()
    args.ops = [o.strip().upper() for o in args.ops.split(",") if o.strip()]
    for o in args.ops:
        if o not in OPS:
            p.error(f"unknown op {o}; choose from {','.join(OPS)}")

    if "REDIS_PORT" not in os.environ:
        # Standalone run: restart under a throwaway server pinned to CPU 0.
        os.execv(WRAPPER, [WRAPPER, "--cpu", "0", "--", sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:])
    host, port = os.environ.get("REDIS_HOST", "127.0.0.1"), int(os.environ["REDIS_PORT"])

    client_cpu = None
    if args.client_cpu >= 0 and hasattr(os, "sched_setaffinity"):
        if args.client_cpu in os.sched_getaffinity(0):
            os.sched_setaffinity(0, {args.client_cpu})
            client_cpu = args.client_cpu
        else:
            print(f"bench: CPU {args.client_cpu} not available, client not pinned",
                  file=sys.stderr)

    kw = {"host": host, "port": port}
    clients, versions = [], []
    for name in (args.a, args.b):
        label, cls, version = load_client(name)
        clients.append((label, cls, cls(**kw)))
        versions.append(version)
    la, lb = clients[0][0], clients[1][0]
    if la == lb:
        la, lb = la + " (A)", lb + " (B)"
    parsers = [check_parser(c[2]) for c in clients]

    ref = clients[0][2]
    ref.flushdb()
    prepare_data(ref)
    server_info = ref.info("server")
    info = machine_info(server_info, os.environ.get("REDIS_SERVER_PID"), client_cpu)

    print(f"bench: A = {versions[0]}, B = {versions[1]}; {args.rounds} rounds × "
          f"{args.number} ops ({args.connect_number} for CONNECT)", file=sys.stderr)
    t0 = time.perf_counter()
    stats = bench(args, clients, kw)
    elapsed = time.perf_counter() - t0

    reference = None
    if args.reference_n > 0:
        reference = redis_benchmark(host, port, args.reference_n, client_cpu)
    for _, _, c in clients:
        c.close()

    tbl = table(stats, la, lb)
    report = [
        "# redis_native benchmark results",
        "",
        f"A = {versions[0]}" + (f" ({parsers[0]})" if parsers[0] else "") + ", "
        f"B = {versions[1]}" + (f" ({parsers[1]})" if parsers[1] else "") + ".",
        f"{args.rounds} interleaved rounds (first client alternates) × {args.number} "
        f"operations per client per command ({args.connect_number} for CONNECT), one "
        f"connection each, TCP to 127.0.0.1. Times are medians over the rounds per "
        f"operation; the ratio is A/B of those medians (> 1: B is faster), with the "
        f"range of the per-round paired ratios in parentheses. CPU is the client "
        f"process's CPU time (`time.process_time`).",
        "",
        tbl,
        "",
    ]
    if reference and reference["rows"]:
        report += [
            "Reference point: the C client `redis-benchmark` with one connection and no "
            "pipelining, same server, same client CPU (its event loop adds an epoll call per "
            "request, so a blocking client can come out slightly faster):",
            "",
            "| test | requests/s | µs/op |",
            "|---|---:|---:|",
        ]
        report += [f"| {t} | {rps:,.0f} | {1e6 / rps:.1f} |" for t, rps in reference["rows"]]
        report += ["", f"`{reference['cmd']}`", ""]
    # Flags that only change the output are left out of the reproduction command.
    shown, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a in ("--quiet", "--no-write"):
            pass
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            shown.append(a)
    argv = " ".join(shlex.quote(a) for a in shown)
    report += [
        "Reproduce with:",
        "",
        "```",
        f"make bench" + (f" BENCH_ARGS={shlex.quote(argv)}" if argv else ""),
        "```",
        "",
        "Machine (shared and noisy: only the side-by-side ratios are meaningful):",
        "",
    ]
    report += [f"- {k}: {v}" for k, v in info]
    report += [f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
               f"- benchmark duration: {elapsed:.0f} s", ""]
    text = "\n".join(report)
    print(text)
    if not args.no_write:
        with open(args.out, "w") as f:
            f.write(text)
        print(f"bench: wrote {os.path.relpath(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
