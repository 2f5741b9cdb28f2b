#!/usr/bin/env python3
"""Compare two builds of redis_native side by side: is a change slower?

Each build is a checkout with its in-place extension built (`make build`, or
`python setup.py build_ext --inplace` there).  Rounds alternate between the two
builds, each round in a fresh process pinned to the same CPU, against one
redis-server; the report gives the median per-operation wall and client CPU
time of each build and their ratio (> 1: the second build is faster).

    git worktree add /tmp/before <commit> && (cd /tmp/before && make build)
    scripts/with-redis-server --cpu 0 -- .venv/bin/python benchmarks/compare_builds.py \\
        /tmp/before . --rounds 10

With --callgrind the workload runs under `valgrind --tool=callgrind` with n
and 2n operations per build, and the instruction counts of the extra n
operations are compared instead: repeatable on a noisy machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, sys.argv[1])
import redis_native
assert os.path.dirname(redis_native.__file__) == os.path.join(sys.argv[1], "redis_native"), redis_native.__file__
n = int(sys.argv[2])
r = redis_native.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]))
r.set("cmp:get", b"v" * 100)
def get():
    g = r.get
    for _ in range(n):
        g("cmp:get")
def pipe():
    for _ in range(n // 100):
        p = r.pipeline(transaction=False)
        for _ in range(100):
            p.get("cmp:get")
        p.execute()
def tx():
    for _ in range(n // 10):
        p = r.pipeline()
        for _ in range(10):
            p.incr("cmp:incr")
        p.execute()
out = {}
only = sys.argv[3] if len(sys.argv) > 3 else ""
for name, fn, ops in (("GET", get, n), ("PIPELINE_100_GET", pipe, n // 100 * 100),
                      ("MULTI_EXEC_10_INCR", tx, n // 10 * 10)):
    if only and name != only:
        continue
    fn()                               # warm up
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    out[name] = ((time.perf_counter() - w0) / ops * 1e6, (time.process_time() - c0) / ops * 1e6)
print(json.dumps(out))
"""


def run_child(root, n, cpu, prefix=(), only=""):
    cmd = list(prefix) + [sys.executable, "-S", "-c", CHILD, os.path.abspath(root), str(n), only]
    if cpu is not None and not prefix:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    env = dict(os.environ, PYTHONHASHSEED="0")      # same dict layouts every run
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{root}: the benchmark child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def callgrind(root, n, only=""):
    with tempfile.TemporaryDirectory() as d:
        outfile = os.path.join(d, "cg.out")
        run_child(root, n, None, prefix=("valgrind", "--tool=callgrind",
                                          "--callgrind-out-file=" + outfile), only=only)
        with open(outfile) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("no callgrind summary")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", help="checkout of the first build (e.g. before a change)")
    p.add_argument("b", help="checkout of the second build (e.g. after)")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("-n", type=int, default=20000, help="operations per workload and round")
    p.add_argument("--cpu", type=int, default=1, help="client CPU (taskset)")
    p.add_argument("--callgrind", action="store_true",
                   help="compare instruction counts of one run each instead of time")
    args = p.parse_args()
    if args.callgrind:
        # runs with n and 2n operations: the difference is the cost of n
        # operations of each workload, without start-up and imports
        print("| workload | A instructions/op | B instructions/op | B/A |")
        print("|---|---:|---:|---:|")
        for w in ("GET", "PIPELINE_100_GET", "MULTI_EXEC_10_INCR"):
            # each run does the workload twice (warm-up + measured): 4n - 2n ops
            ia = (callgrind(args.a, 2 * args.n, w) - callgrind(args.a, args.n, w)) / (2 * args.n)
            ib = (callgrind(args.b, 2 * args.n, w) - callgrind(args.b, args.n, w)) / (2 * args.n)
            print(f"| {w} | {ia:,.0f} | {ib:,.0f} | {ib / ia:.3f} |", flush=True)
        return
    res = {"A": [], "B": []}
    for i in range(args.rounds):
        order = ("A", "B") if i % 2 == 0 else ("B", "A")
        for which in order:
            res[which].append(run_child(args.a if which == "A" else args.b, args.n, args.cpu))
        print(f"round {i + 1}/{args.rounds}", file=sys.stderr)
    print(f"A = {args.a}\nB = {args.b}\n")
    print("| workload | A wall µs/op | B wall µs/op | A/B wall | A cpu µs/op | B cpu µs/op | A/B cpu |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in res["A"][0]:
        aw = statistics.median(r[name][0] for r in res["A"])
        bw = statistics.median(r[name][0] for r in res["B"])
        ac = statistics.median(r[name][1] for r in res["A"])
        bc = statistics.median(r[name][1] for r in res["B"])
        print(f"| {name} | {aw:.2f} | {bw:.2f} | {aw / bw:.3f} | {ac:.2f} | {bc:.2f} | {ac / bc:.3f} |")


if __name__ == "__main__":
    main()
