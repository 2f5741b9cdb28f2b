#!/usr/bin/env python3
"""redis_native demo: a small web-app workload through redis_native and redis-py.

Five realistic workloads (page-view counters, a session store with expiry, a leaderboard,
user profiles in hashes, an activity feed in a list) run through both clients against
the same throwaway redis-server.  The demo checks that both clients return exactly the
same results (values and Python types), then times each workload side by side in
interleaved rounds and prints the speedup ratio redis-py / redis_native.

    make demo                                 # starts and stops its own redis-server
    python demo/demo.py --a=redis --b=redis   # harness check without redis_native
"""
import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRAPPER = os.path.join(ROOT, "scripts", "with-redis-server")
# The in-place build (make build) of this checkout, ahead of any installed copy.
sys.path.insert(0, ROOT)

PAGES = ["/", "/pricing", "/docs", "/blog/launch", "/about"]
PLAYERS = [f"player{i:03d}" for i in range(50)]


def page_views(r, ns):
    """Count page views per page and per day, read the counters back."""
    out = []
    for i in range(200):
        page = PAGES[i % len(PAGES)]
        out.append(r.incr(f"{ns}views:{page}"))
        r.incrby(f"{ns}views:day:2024-06-01", 1)
    out.append([r.get(f"{ns}views:{p}") for p in PAGES])
    out.append(r.mget([f"{ns}views:{p}" for p in PAGES]))
    out.append(r.get(f"{ns}views:day:2024-06-01"))
    return out


def sessions(r, ns):
    """A session store: JSON blobs with a 30-minute expiry, looked up, refreshed, dropped."""
    out = []
    for i in range(50):
        sid = f"{ns}session:{i:04x}"
        blob = json.dumps({"user": i, "cart": list(range(i % 7)), "csrf": "x" * 32})
        out.append(r.set(sid, blob, ex=1800))
    for i in range(50):
        sid = f"{ns}session:{i:04x}"
        raw = r.get(sid)
        data = json.loads(raw)
        out.append(data["user"])
        out.append(0 < r.ttl(sid) <= 1800)
        out.append(r.expire(sid, 3600))
    out.append(r.set(f"{ns}session:0000", "taken", nx=True))     # None: exists already
    out.append(r.exists(*[f"{ns}session:{i:04x}" for i in range(60)]))
    out.append(r.delete(*[f"{ns}session:{i:04x}" for i in range(0, 50, 2)]))
    out.append(r.get(f"{ns}session:0000"))
    return out


def leaderboard(r, ns):
    """Scores in a sorted set: bulk load, increments, top ten with scores, ranks."""
    key = f"{ns}leaderboard"
    out = [r.zadd(key, {p: (i * 37) % 101 for i, p in enumerate(PLAYERS)})]
    for i in range(100):
        out.append(r.zincrby(key, 1.5, PLAYERS[(i * 7) % len(PLAYERS)]))
    out.append(r.zrevrange(key, 0, 9, withscores=True))
    out.append(r.zrange(key, 0, 4, withscores=True))
    out.append([r.zrevrank(key, p) for p in PLAYERS[:10]])
    out.append(r.zscore(key, PLAYERS[3]))
    out.append(r.zcard(key))
    return out


def profiles(r, ns):
    """User profiles as hashes: write, read whole, bump a counter field, read one field."""
    out = []
    for i in range(40):
        key = f"{ns}user:{i}"
        out.append(r.hset(key, mapping={"name": f"user{i}", "email": f"user{i}@example.com",
                                        "plan": "pro" if i % 3 == 0 else "free",
                                        "logins": 0}))
    for i in range(40):
        key = f"{ns}user:{i}"
        out.append(r.hincrby(key, "logins", i % 5))
        out.append(r.hgetall(key))
        out.append(r.hget(key, "plan"))
    out.append(r.hmget(f"{ns}user:7", ["name", "missing", "logins"]))
    return out


def activity_feed(r, ns):
    """A capped activity feed: LPUSH + LTRIM per event, read the latest page."""
    key = f"{ns}feed"
    out = []
    for i in range(150):
        out.append(r.lpush(key, f"event {i}: user{i % 9} did something"))
        r.ltrim(key, 0, 99)
    out.append(r.llen(key))
    out.append(r.lrange(key, 0, 19))
    out.append(r.lrange(key, 0, -1))
    out.append(r.lindex(key, 5))
    return out


WORKLOADS = [
    ("page views (INCR/GET/MGET)", page_views),
    ("sessions (SET EX/GET/TTL/EXPIRE)", sessions),
    ("leaderboard (ZADD/ZINCRBY/ZRANGE)", leaderboard),
    ("profiles (HSET/HGETALL/HINCRBY)", profiles),
    ("activity feed (LPUSH/LTRIM/LRANGE)", activity_feed),
]


class Counting:
    """Counts the commands a workload sends (only used once, untimed)."""

    def __init__(self, client):
        self._client, self.count = client, 0

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            self.count += 1
            return attr(*args, **kwargs)
        return call


def load(name):
    if name == "redis":
        import redis
        import redis.utils
        note = " + hiredis" if redis.utils.HIREDIS_AVAILABLE else " (pure-Python parser)"
        return "redis-py", redis, f"redis-py {redis.__version__}{note}"
    try:
        import redis_native
        redis_native.Redis
    except (ImportError, AttributeError) as exc:
        sys.exit(f"demo: redis_native is not usable yet ({exc!r}); build it with `make build`")
    return ("redis_native", redis_native,
            f"redis_native {getattr(redis_native, '__version__', '?')}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--a", default="redis", choices=("redis", "native"))
    p.add_argument("--b", default="native", choices=("redis", "native"))
    p.add_argument("--rounds", type=int, default=7, help="timed rounds per workload")
    args = p.parse_args()

    if "REDIS_URL" not in os.environ:
        os.execv(WRAPPER, [WRAPPER, "--", sys.executable, os.path.abspath(__file__)]
                 + sys.argv[1:])
    url = os.environ["REDIS_URL"]

    (la, ma, va), (lb, mb, vb) = load(args.a), load(args.b)
    if la == lb:
        la, lb = la + " A", lb + " B"
    print(f"redis_native demo against a throwaway redis-server at {url}")
    print(f"  A = {va}\n  B = {vb}\n")

    # The usual ways of making a client, on both sides.
    a = ma.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), db=0)
    b = mb.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]), db=0)
    a_str = ma.from_url(url, decode_responses=True)
    b_str = mb.Redis.from_url(url, decode_responses=True)
    a.flushdb()

    # 1. Same answers, as bytes and as str.
    failures = 0
    commands = {}
    for label, fn in WORKLOADS:
        for suffix, ca, cb in (("", a, b), (" [decode_responses]", a_str, b_str)):
            counted = Counting(ca)
            ra = fn(counted, "demo:a:")
            rb = fn(cb, "demo:b:")
            commands.setdefault(label, counted.count)
            if ra != rb or [type(x) for x in ra] != [type(x) for x in rb]:
                failures += 1
                print(f"MISMATCH in {label}{suffix}:")
                for i, (x, y) in enumerate(zip(ra, rb)):
                    if x != y or type(x) is not type(y):
                        print(f"  result #{i}: {la}: {x!r:.200}\n  {' ' * (len(str(i)) + 10)}"
                              f"{lb}: {y!r:.200}")
                        break
                else:
                    print(f"  {len(ra)} results vs {len(rb)}")
            a.flushdb()
    if failures:
        sys.exit(f"demo: {failures} workload(s) gave different results")
    print(f"Same results from both clients in all {len(WORKLOADS)} workloads "
          f"(bytes and decode_responses=True).\n")

    # 2. Side-by-side timing: interleaved rounds, the first client alternates.
    times = {label: ([], []) for label, _ in WORKLOADS}
    for rnd in range(args.rounds):
        for label, fn in WORKLOADS:
            sides = ((0, a, "demo:a:"), (1, b, "demo:b:"))
            for side, client, ns in (sides if rnd % 2 == 0 else sides[::-1]):
                t0 = time.perf_counter()
                fn(client, ns)
                times[label][side].append(time.perf_counter() - t0)
            a.flushdb()

    w = max(len(label) for label, _ in WORKLOADS)
    head = f"{'workload':<{w}}  {'cmds':>5}  {la + ' ms':>14}  {lb + ' ms':>16}  speedup"
    print(head)
    print("-" * len(head))
    tot_a = tot_b = 0.0
    for label, _ in WORKLOADS:
        ta, tb = (statistics.median(x) for x in times[label])
        tot_a, tot_b = tot_a + ta, tot_b + tb
        print(f"{label:<{w}}  {commands[label]:>5}  {ta * 1e3:>14.2f}  {tb * 1e3:>16.2f}  "
              f"{ta / tb:>6.2f}x")
    print("-" * len(head))
    print(f"{'all workloads':<{w}}  {sum(commands.values()):>5}  {tot_a * 1e3:>14.2f}  "
          f"{tot_b * 1e3:>16.2f}  {tot_a / tot_b:>6.2f}x")
    print(f"\nspeedup = {la} time / {lb} time, median of {args.rounds} interleaved rounds "
          f"on a shared machine; see `make bench` for per-command numbers.")
    for c in (a, b, a_str, b_str):
        c.close()


if __name__ == "__main__":
    main()
