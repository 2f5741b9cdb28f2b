"""Instruction counts of the hot paths against a committed baseline (issue #12).

Not wall time: a shared machine makes timings move by tens of percent, while the
number of instructions a command costs the client is repeatable to a fraction of a
percent under callgrind (valgrind).  One fresh interpreter (``python -S``,
PYTHONHASHSEED=0) runs under ``valgrind --tool=callgrind``, warms up, then runs each
workload inside its own ``exec()``: callgrind collects only inside ``builtin_exec``
and dumps the counts when it returns (``--toggle-collect``/``--dump-after``; the
imports' own exec() calls come before, in nested pairs, and leave collection off),
so each workload's count has no start-up in it.  Per command:

- ``GET``: ``r.get(key)`` of a 100-byte value (the small-command fast path);
- ``PIPELINE_1000_GET``: a ``pipeline(transaction=False)`` of 1000 GETs, per command;
- ``CONNECT``: a new ``Redis(host, port)``, its first command (``ping()``: connect,
  handshake, PING) and ``close()``, per client.

(Big values are not counted here: a few hundred of them cost too few instructions
next to the run-to-run noise of the socket loops; tests/test_big_values.py checks
with tracemalloc and the peak RSS that they are not copied.)

A count above the baseline by more than MARGIN fails: something made the hot path
more expensive.  When a change is meant to cost more (or made things cheaper and
you want the check to hold the gain), regenerate the baseline and commit it:

    scripts/with-redis-server -- .venv/bin/python tests/test_perf_regression.py --update

The counts depend on the CPython build: the baseline records the Python version it
was made with, and the test skips on another one.  It also skips, with the reason,
where valgrind is missing (``make valgrind-test`` installs it: scripts/deps.sh
valgrind), or when ``perf stat`` cannot count instructions instead (as in most VMs).
"""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "perf_baseline.json")
MARGIN = 1.25

# workload -> (operations in the measured run, commands per operation)
WORKLOADS = {
    "GET": (2000, 1),
    "PIPELINE_1000_GET": (4, 1000),
    "CONNECT": (200, 1),
}

CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import redis_native
which, n = sys.argv[2], int(sys.argv[3])
r = redis_native.Redis(host=sys.argv[4], port=int(sys.argv[5]))
r.set("perf:small", b"v" * 100)

def get(k):
    g = r.get
    for _ in range(k):
        g("perf:small")

def pipe(k):
    for _ in range(k):
        p = r.pipeline(transaction=False)
        for _ in range(1000):
            p.get("perf:small")
        p.execute()

def connect(k):
    for _ in range(k):
        c = redis_native.Redis(host=sys.argv[4], port=int(sys.argv[5]))
        c.ping()
        c.close()

run = {"GET": get, "PIPELINE_1000_GET": pipe, "CONNECT": connect}
for fn in run.values():          # warm-up (not counted: outside exec)
    fn(2)
if which == "ALL":               # callgrind: one exec() per workload, in WORKLOADS order
    for name, (count, _) in json.loads(sys.argv[6]).items():
        exec(f"run[{name!r}]({count})")
elif which != "BASE":
    run[which](n)
r.close()
"""


def _cmd(which, n, server):
    return [sys.executable, "-S", "-c", CHILD, ROOT, which, str(n), server.host,
            str(server.port), json.dumps(WORKLOADS)]


def _callgrind_all(server):
    """{workload: instructions per command}, one run (see the module docstring)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                               "--toggle-collect=builtin_exec", "--dump-after=builtin_exec",
                               "--callgrind-out-file=" + out] + _cmd("ALL", 0, server),
                              capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, PYTHONHASHSEED="0"))
        if proc.returncode != 0:
            raise AssertionError(f"callgrind run failed:\n{proc.stderr[-3000:]}")
        parts = sorted((f for f in os.listdir(d) if re.fullmatch(r"cg\.out\.\d+", f)),
                       key=lambda f: int(f.rsplit(".", 1)[1]))
        totals = []
        for name in parts[-len(WORKLOADS):]:
            with open(os.path.join(d, name)) as f:
                totals.append(next(int(line.split()[1]) for line in f
                                   if line.startswith(("summary:", "totals:"))))
    if len(totals) != len(WORKLOADS):
        raise AssertionError(f"expected {len(WORKLOADS)} callgrind dumps, got {parts}")
    return {name: round(total / (n * per))
            for (name, (n, per)), total in zip(WORKLOADS.items(), totals)}


def _perf(which, n, server):
    proc = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "--"]
                          + _cmd(which, n, server), capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONHASHSEED="0"))
    m = re.search(r"^(\d+),[^,]*,instructions:u", proc.stderr, re.M)
    if proc.returncode != 0 or m is None:
        return None
    return int(m.group(1))


def _perf_works():
    if shutil.which("perf") is None:
        return False
    proc = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "true"],
                          capture_output=True, text=True)
    return proc.returncode == 0 and re.search(r"^\d+,", proc.stderr, re.M) is not None


def _tool():
    if shutil.which("valgrind"):
        return "callgrind", None
    if _perf_works():
        return "perf", _perf
    return None, None


def measure(server, count):
    """{workload: instructions per command}: with callgrind in one run; with perf
    (`count`: one whole run each) as the difference from a run without workload."""
    if count is None:
        return _callgrind_all(server)
    base = count("BASE", 0, server)
    out = {}
    for name, (n, per) in WORKLOADS.items():
        out[name] = round((count(name, n, server) - base) / (n * per))
    return out


def _python():
    return f"{platform.python_implementation()} {platform.python_version()}"


def _minor(python):
    """'CPython 3.11.7' -> 'CPython 3.11'."""
    impl, version = python.split()
    return impl + " " + ".".join(version.split(".")[:2])


@pytest.fixture(scope="module")
def counts(redis_server):
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("an ASan build's instruction counts mean nothing (and valgrind cannot "
                    "run under libasan)")
    tool, count = _tool()
    if tool is None:
        pytest.skip("neither valgrind nor a working `perf stat -e instructions:u` here "
                    "(scripts/deps.sh valgrind installs valgrind)")
    with open(BASELINE) as f:
        baseline = json.load(f)
    entry = baseline.get(tool)
    if entry is None:
        pytest.skip(f"no {tool} baseline in tests/perf_baseline.json (run this file with "
                    f"--update where {tool} works)")
    if _minor(entry["python"]) != _minor(_python()):
        pytest.skip(f"baseline made with {entry['python']}, this is {_python()}")
    return entry["per_command"], measure(redis_server, count)


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_instructions_per_command(counts, workload):
    baseline, measured = counts
    limit = baseline[workload] * MARGIN
    assert measured[workload] <= limit, (
        f"{workload}: {measured[workload]:,} instructions per command, baseline "
        f"{baseline[workload]:,} (+{MARGIN - 1:.0%} allowed: {limit:,.0f}); all: {measured}")


def main():
    """--update: measure with the available tool and rewrite the baseline."""
    if "--update" not in sys.argv:
        sys.exit("usage: scripts/with-redis-server -- python tests/test_perf_regression.py --update")

    class Server:
        host = os.environ["REDIS_HOST"]
        port = int(os.environ["REDIS_PORT"])

    tool, count = _tool()
    if tool is None:
        sys.exit("neither valgrind nor perf stat can count instructions here")
    try:
        with open(BASELINE) as f:
            baseline = json.load(f)
    except FileNotFoundError:
        baseline = {}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    baseline[tool] = {"python": _python(), "commit": commit,
                      "per_command": measure(Server, count)}
    with open(BASELINE, "w") as f:
        json.dump(baseline, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(baseline[tool], indent=1))


if __name__ == "__main__":
    main()
