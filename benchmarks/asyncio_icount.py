#!/usr/bin/env python3
"""One client's awaited GETs, for instruction counts under callgrind.

    asyncio_icount.py PORT {asyncio,uvloop} {seq,x100} N {native,redis-py,floor}

Runs 200 warm-up GETs, then N GETs of ``bench:get`` (100 bytes) against the
redis-server on 127.0.0.1:PORT: ``seq`` one after another, ``x100`` from 100
concurrent tasks.  ``floor`` is a bare asyncio.Protocol writing a prepacked GET
(as the floor row of asyncio_bench.py).  Per-GET instructions are the
difference of two runs, which cancels start-up and import:

    for n in 1000 3000; do
      valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python benchmarks/asyncio_icount.py PORT uvloop seq $n native 2>&1 | grep Collected
    done    # (collected(3000) - collected(1000)) / 2000
"""
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Bare(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.fut.set_result(data)


async def floor(port, n):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_connection(_Bare, "127.0.0.1", port)
    cmd = b"*2\r\n$3\r\nGET\r\n$9\r\nbench:get\r\n"
    for _ in range(200 + n):
        proto.fut = loop.create_future()
        transport.write(cmd)
        await proto.fut
    transport.close()


async def client(lib, port, workload, n):
    r = lib.Redis(port=port)
    await r.set("bench:get", b"v" * 100)
    for _ in range(200):
        await r.get("bench:get")
    if workload == "seq":
        for _ in range(n):
            await r.get("bench:get")
    else:
        per = n // 100

        async def worker():
            for _ in range(per):
                await r.get("bench:get")
        await asyncio.gather(*(worker() for _ in range(100)))
    await r.aclose()


def main():
    port, loop_name, workload, n, side = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                          int(sys.argv[4]), sys.argv[5])
    if side == "floor":
        coro = floor(port, n)
    else:
        if side == "native":
            import redis_native.asyncio as lib
        else:
            import redis.asyncio as lib
        coro = client(lib, port, workload, n)
    t = time.perf_counter()
    if loop_name == "uvloop":
        import uvloop
        uvloop.run(coro)
    else:
        asyncio.run(coro)
    print(f"{(time.perf_counter() - t) / n * 1e6:.1f} us/op (wall, incl. start)", file=sys.stderr)


if __name__ == "__main__":
    main()
