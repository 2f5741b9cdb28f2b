"""How the reader hands bytes to hiredis (reader.c, "Feeding hiredis", issue #12).

A feed larger than 4 KiB is given to hiredis a chunk at a time; the rest waits in
the reader.  Whatever the split of the bytes, the replies, their order and the count
of bytes not yet consumed must be those of one byte-at-a-time parse.
"""
from __future__ import annotations

import random

import pytest

from redis_native import _native


def stream():
    parts, replies = [], []
    for i in range(3000):
        kind = i % 6
        if kind == 0:
            v = b"v%05d" % i
            parts.append(b"$%d\r\n%s\r\n" % (len(v), v))
            replies.append(v)
        elif kind == 1:
            parts.append(b":%d\r\n" % i)
            replies.append(i)
        elif kind == 2:
            items = [b"a" * (i % 50), b"b"]
            parts.append(b"*2\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in items))
            replies.append(items)
        elif kind == 3:
            parts.append(b"$-1\r\n")
            replies.append(None)
        elif kind == 4:
            v = b"x" * (5000 + i)             # longer than one 4 KiB chunk
            parts.append(b"$%d\r\n%s\r\n" % (len(v), v))
            replies.append(v)
        else:
            parts.append(b"+OK\r\n")
            replies.append(b"OK")
    return parts, replies


def read_all(reader):
    out = []
    while True:
        r = reader.gets()
        if r is False:
            return out
        out.append(r)


@pytest.mark.parametrize("split", ["one feed", "64 KiB", "random", "per reply"])
def test_replies_whatever_the_split(split):
    parts, expected = stream()
    data = b"".join(parts)
    rd = _native.Reader()
    got = []
    if split == "one feed":
        chunks = [data]
    elif split == "64 KiB":
        chunks = [data[i:i + 65536] for i in range(0, len(data), 65536)]
    elif split == "per reply":
        chunks = parts
    else:
        rng = random.Random(12)
        chunks, i = [], 0
        while i < len(data):
            n = rng.choice([1, 7, 100, 4095, 4096, 4097, 20000, 70000])
            chunks.append(data[i:i + n])
            i += n
    for c in chunks:
        rd.feed(c)
        got += read_all(rd)
    assert got == expected
    assert rd.pending() == 0 and not rd.has_data()


def test_pending_counts_the_waiting_bytes():
    """Bytes still waiting to be given to hiredis count as pending: a connection
    holding them is out of step (conn_prepare closes it) and can_read() is True."""
    rd = _native.Reader()
    one = b"$3\r\nabc\r\n"
    rd.feed(one * 2000)                      # 18 KB: most of it waits
    assert rd.gets() == b"abc"
    assert rd.pending() == len(one) * 1999 and rd.has_data()
    for _ in range(1999):
        assert rd.gets() == b"abc"
    assert rd.gets() is False and rd.pending() == 0


def test_reset_drops_the_waiting_bytes():
    rd = _native.Reader()
    rd.feed(b"+OK\r\n" * 5000)
    assert rd.gets() == b"OK"
    rd.reset()
    assert rd.pending() == 0 and rd.gets() is False
    rd.feed(b":1\r\n")
    assert rd.gets() == 1


def test_protocol_error_after_waiting_bytes():
    rd = _native.Reader()
    rd.feed(b"+OK\r\n" * 2000 + b"!garbage\r\n")
    for _ in range(2000):
        assert rd.gets() == b"OK"
    with pytest.raises(Exception) as info:
        rd.gets()
    assert "Protocol error" in str(info.value)
