#!/usr/bin/env python3
"""redis_native against redis-py (+hiredis) over TLS, side by side in one run.

Starts its own TLS redis-server (certificates made with the openssl CLI in a temp
dir, the server pinned to CPU 0, this process to CPU 1 when there are two), then
runs interleaved rounds: in each round both clients run the same batch, the one
going first alternating.  Reported: the median per-operation wall time and
client CPU time of each client and the ratios redis-py / redis_native (> 1:
redis_native is faster).  On a loaded machine the CPU ratio (the client's own
work, server excluded) is the steadier of the two.

Workloads: the same GET round trip over a bare Python ssl socket with prepacked
bytes (the floor: server and TLS cost, no client library), GET and SET of 100
bytes, a 1000-GET pipeline (per command), and a
new client + TLS handshake + PING + close; the same connect over plain TCP shows
what the handshake costs.

    .venv/bin/python benchmarks/tls_bench.py [--rounds 7] [-n 2000] [--markdown FILE]
"""
import argparse
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


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=bench CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")


def start_server(d):
    tls_port, plain_port = free_port(), free_port()
    cmd = ["redis-server", "--port", str(plain_port), "--tls-port", str(tls_port),
           "--tls-cert-file", "server.crt", "--tls-key-file", "server.key",
           "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no",
           "--save", "", "--appendonly", "no", "--dir", d]
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() >= 2:
        cmd = ["taskset", "-c", "0"] + cmd
    proc = subprocess.Popen(cmd, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", plain_port), 0.2).close()
            return proc, tls_port, plain_port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def bare_floor(kw, n):
    """The round trip of a GET with nothing but a Python ssl socket and
    prepacked bytes: what the server and the TLS layers cost.  The same for
    both columns (it uses no client library)."""
    import ssl
    ctx = ssl.create_default_context(cafile=kw["ssl_ca_certs"])
    sock = socket.create_connection((kw["host"], kw["port"]))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    tls = ctx.wrap_socket(sock, server_hostname=kw["host"])
    req = b"*2\r\n$3\r\nGET\r\n$9\r\nbench:get\r\n"
    expected = len(b"$100\r\n") + 100 + 2         # the reply to that GET

    def run():
        for _ in range(n):
            tls.sendall(req)
            got = 0
            while got < expected:
                got += len(tls.recv(65536))
    return run


def workloads(lib, kw, plain_kw, n):
    r = lib.Redis(**kw)
    r.set("bench:get", b"v" * 100)
    value = b"v" * 100

    def get():
        for _ in range(n):
            r.get("bench:get")

    def set_():
        for _ in range(n):
            r.set("bench:set", value)

    def pipe():
        p = r.pipeline(transaction=False)
        for _ in range(1000):
            p.get("bench:get")
        p.execute()

    def connect(which):
        def run():
            for _ in range(max(1, n // 40)):
                c = lib.Redis(**which)
                c.ping()
                c.close()
        return run

    return r, {
        "GET (bare ssl socket floor)": (bare_floor(kw, n), n),
        "GET": (get, n),
        "SET": (set_, n),
        "PIPELINE_1000_GET (per command)": (pipe, 1000),
        "CONNECT+TLS+PING": (connect(kw), max(1, n // 40)),
        "CONNECT+PING (plain TCP)": (connect(plain_kw), max(1, n // 40)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()
    import redis
    import redis_native
    if shutil.which("taskset") and os.cpu_count() and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {1})
    d = tempfile.mkdtemp(prefix="rn-tls-bench-")
    make_certs(d)
    proc, tls_port, plain_port = start_server(d)
    try:
        kw = dict(host="localhost", port=tls_port, ssl=True,
                  ssl_ca_certs=os.path.join(d, "ca.crt"))
        plain_kw = dict(host="localhost", port=plain_port)
        clients = {name: workloads(lib, kw, plain_kw, args.n)
                   for name, lib in (("redis-py", redis), ("redis_native", redis_native))}
        names = list(clients["redis-py"][1])
        times = {(c, w): [] for c in clients for w in names}
        cpu = {(c, w): [] for c in clients for w in names}
        for rnd in range(args.rounds):
            order = ["redis-py", "redis_native"] if rnd % 2 == 0 else ["redis_native", "redis-py"]
            for w in names:
                for c in order:
                    fn, ops = clients[c][1][w]
                    t, t_cpu = time.perf_counter(), time.process_time()
                    fn()
                    times[(c, w)].append((time.perf_counter() - t) / ops * 1e6)
                    cpu[(c, w)].append((time.process_time() - t_cpu) / ops * 1e6)
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr)
        lines = ["| workload (TLS unless noted) | redis-py+hiredis µs | redis_native µs | "
                 "wall ratio | redis-py CPU µs | redis_native CPU µs | CPU ratio |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for w in names:
            a = statistics.median(times[("redis-py", w)])
            b = statistics.median(times[("redis_native", w)])
            ca = statistics.median(cpu[("redis-py", w)])
            cb = statistics.median(cpu[("redis_native", w)])
            lines.append(f"| {w} | {a:.1f} | {b:.1f} | {a / b:.2f}× | {ca:.1f} | {cb:.1f} | "
                         f"{ca / cb:.2f}× |")
        hs_a = statistics.median(times[("redis_native", "CONNECT+TLS+PING")])
        hs_b = statistics.median(times[("redis_native", "CONNECT+PING (plain TCP)")])
        lines.append("")
        lines.append(f"redis_native: a TLS connect + PING costs {hs_a / hs_b:.1f}× a plain one "
                     f"({hs_a - hs_b:.0f} µs more: the handshake).")
        text = "\n".join(lines)
        print(text)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(f"Command: `.venv/bin/python benchmarks/tls_bench.py --rounds "
                        f"{args.rounds} -n {args.n}`\n\n{text}\n")
        for r, _ in clients.values():
            r.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
