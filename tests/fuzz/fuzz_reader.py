"""Standalone mutation fuzzer for the C reply reader (redis_native._native.Reader).

Not collected by pytest (the byte-level and hypothesis tests live in
tests/test_reader.py); this runs for as long as you let it, ideally against the
ASan build.  Each iteration is derived from (seed, iteration number) only, so a
failure is replayed with ``--seed S --start N --iterations 1``.

Per iteration: generate a random valid reply stream, maybe mutate it (bit
flips, inserted/deleted bytes, huge or negative lengths, splices), feed it in
random chunks to a Reader with a random codec, and check that

* valid (unmutated) streams give exactly the expected replies;
* anything else ends in replies, "need more data", InvalidResponse or (with a
  strict codec) UnicodeDecodeError -- never another exception or a crash;
* after reset() the reader works again.
"""
import argparse
import faulthandler
import os
import random
import sys
import time

# Import the redis_native of this tree (built in place), wherever we run from.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from redis_native import _native
from redis_native import exceptions as exc

MAX_DEPTH = 8
CODECS = [(None, None), ("utf-8", "strict"), ("utf-8", "replace"), ("latin-1", "strict")]
NUMBERS = [b"-1", b"-2", b"0", b"2147483647", b"2147483648", b"-2147483649",
           b"9223372036854775807", b"9223372036854775808", b"99999999999999999999",
           b"", b"+1", b"1 ", b"0x10"]


def gen_tree(rng, depth):
    # hiredis counts "*0" and "*-1" as a nesting level too
    kind = rng.choice(["bulk", "status", "int", "nil", "error"]
                      + (["array"] * 3 + ["nilarray"] if depth <= MAX_DEPTH else []))
    if kind == "bulk":
        return (kind, rng.randbytes(rng.choice([0, 1, 5, 40, 300])))
    if kind in ("status", "error"):
        text = bytes(b for b in rng.randbytes(rng.randint(0, 20)) if b not in b"\r\n")
        if kind == "error" and rng.random() < 0.5:
            text = rng.choice([b"MOVED 1 h:2", b"MOVED x", b"ASK 3 [::1]:7", b"ERR x",
                               b"NOSCRIPT y", b"WRONGTYPE z"])
        return (kind, text)
    if kind == "int":
        return (kind, rng.randint(-(2**63), 2**63 - 1))
    if kind in ("nil", "nilarray"):
        return (kind,)
    return (kind, [gen_tree(rng, depth + 1) for _ in range(rng.randint(0, 5))])


def encode(node):
    kind = node[0]
    if kind == "bulk":
        return b"$%d\r\n%s\r\n" % (len(node[1]), node[1])
    if kind == "status":
        return b"+" + node[1] + b"\r\n"
    if kind == "error":
        return b"-" + node[1] + b"\r\n"
    if kind == "int":
        return b":%d\r\n" % node[1]
    if kind == "nil":
        return b"$-1\r\n"
    if kind == "nilarray":
        return b"*-1\r\n"
    return b"*%d\r\n" % len(node[1]) + b"".join(encode(c) for c in node[1])


def expected(node, encoding, errors):
    kind = node[0]
    if kind in ("bulk", "status"):
        return node[1] if encoding is None else node[1].decode(encoding, errors)
    if kind == "int":
        return node[1]
    if kind in ("nil", "nilarray"):
        return None
    if kind == "error":
        e = exc.parse_error_reply(node[1].decode("utf-8", "replace"))
        return ("exception", type(e), e.args)
    return [expected(c, encoding, errors) for c in node[1]]


def normalize(value):
    if isinstance(value, BaseException):
        return ("exception", type(value), value.args)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = rng.choice([b"*", b"$", b":", b"+", b"-", b"\r\n", b"?", b"\x00"])
        elif op == 2 and data:
            del data[pos:pos + rng.randint(1, 8)]
        elif op == 3:
            data[pos:pos] = rng.choice(b"*$:") .to_bytes(1, "big") + rng.choice(NUMBERS) + b"\r\n"
        elif op == 4:
            data[pos:pos] = b"*1\r\n" * rng.randint(1, 12)
        elif op == 5 and data:
            i = rng.randrange(len(data))
            data[pos:pos] = data[i:i + rng.randint(1, 32)]
    return bytes(data)


def run_one(rng):
    encoding, errors = rng.choice(CODECS)
    replies = [gen_tree(rng, 1) for _ in range(rng.randint(1, 4))]
    wire = b"".join(encode(r) for r in replies)
    mutated = rng.random() < 0.7
    if mutated:
        wire = mutate(rng, wire)
    reader = _native.Reader(encoding=encoding, errors=errors)
    got, broken, pos = [], False, 0
    while pos < len(wire) and not broken:
        step = rng.choice([1, 2, 3, 7, 64, 4096])
        reader.feed(wire[pos:pos + step])
        pos += step
        while True:
            try:
                reply = reader.gets()
            except exc.InvalidResponse:
                broken = True
                break
            except UnicodeDecodeError:
                if errors != "strict":
                    raise
                got.append("decode-error")
                continue
            if reply is False:
                break
            got.append(normalize(reply))
    if not mutated:
        want = []
        for r in replies:
            try:
                want.append(normalize(expected(r, encoding, errors)))
            except UnicodeDecodeError:
                want.append("decode-error")
        if broken or got != want:
            raise AssertionError(f"valid stream misread:\n{wire!r}\n{got!r}\n{want!r}")
    if broken:
        try:
            reader.gets()
        except exc.InvalidResponse:
            pass
        else:
            raise AssertionError("reader usable after a protocol error without reset")
    reader.reset()
    reader.feed(b"+ok\r\n")
    if reader.gets() not in (b"ok", "ok"):
        raise AssertionError("reader not usable after reset")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=0, help="0: until --seconds")
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    faulthandler.enable()
    print(f"fuzz_reader: seed {seed}", flush=True)
    deadline = time.monotonic() + args.seconds
    i = args.start
    while True:
        if args.iterations and i >= args.start + args.iterations:
            break
        if not args.iterations and time.monotonic() > deadline:
            break
        rng = random.Random(seed * 1_000_003 + i)
        try:
            run_one(rng)
        except Exception:
            print(f"fuzz_reader: FAILED at iteration {i}; replay with "
                  f"--seed {seed} --start {i} --iterations 1", flush=True)
            raise
        i += 1
    print(f"fuzz_reader: {i - args.start} iterations, no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
