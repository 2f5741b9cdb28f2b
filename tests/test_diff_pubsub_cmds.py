"""Differential tests: pub/sub *commands* (redis_native vs redis-py).

PUBLISH, SPUBLISH, PUBSUB CHANNELS/NUMPAT/NUMSUB/SHARDCHANNELS/SHARDNUMSUB.
(The PubSub object itself is tested elsewhere.)  Subscribers are raw sockets, so
they depend on neither client; what they receive from a PUBLISH of each client
is compared byte for byte.  Channel state is server-global, so channel names are
unique to this file and calls run in lock step.
"""
import socket
import time

import pytest

from diffutil import sorted_list

NON_UTF8 = b"\xff\xfe"
UNICODE = "p\u00fcb \u2709"
P = "rn-pubsub-cmds:"


def _pack(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawSubscriber:
    """A raw-socket subscriber: SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE and read raw bytes."""

    def __init__(self, server):
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        self.buf = b""

    def send(self, *args, replies=1):
        self.sock.sendall(_pack(*args))
        self._read_frames(replies)

    @staticmethod
    def _count_frames(buf):
        """Number of complete top-level RESP frames at the start of ``buf``."""

        def parse(i):
            if i >= len(buf):
                return None
            end = buf.find(b"\r\n", i)
            if end < 0:
                return None
            kind, head = buf[i:i + 1], buf[i + 1:end]
            if kind in (b"+", b"-", b":"):
                return end + 2
            if kind == b"$":
                n = int(head)
                stop = end + 2 + max(n, 0) + (2 if n >= 0 else 0)
                return stop if stop <= len(buf) else None
            if kind == b"*":
                j = end + 2
                for _ in range(max(int(head), 0)):
                    j = parse(j)
                    if j is None:
                        return None
                return j
            raise AssertionError("unexpected RESP: %r" % buf[i:i + 20])

        count, i = 0, 0
        while True:
            j = parse(i)
            if j is None:
                return count
            count, i = count + 1, j

    def _read_frames(self, n):
        deadline = time.monotonic() + 10
        while self._count_frames(self.buf) < n and time.monotonic() < deadline:
            self.buf += self.sock.recv(65536)

    def drain(self, expect=1, settle=0.05):
        """Everything received so far (waiting for ``expect`` frames)."""
        self._read_frames(expect)
        time.sleep(settle)
        self.sock.settimeout(0.05)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (socket.timeout, BlockingIOError):
            pass
        finally:
            self.sock.settimeout(10)
        out, self.buf = self.buf, b""
        return out

    def close(self):
        self.sock.close()


@pytest.fixture
def subscribers(redis_server):
    subs = []

    def make(*commands):
        s = RawSubscriber(redis_server)
        for cmd, *args in commands:
            s.send(cmd, *args, replies=len(args))
        s.drain(expect=0)
        subs.append(s)
        return s

    yield make
    for s in subs:
        s.close()
    time.sleep(0.05)  # let the server drop the subscriptions


def test_publish_counts(diff, subscribers):
    subscribers(("SUBSCRIBE", P + "a", P + "b"))
    subscribers(("SUBSCRIBE", P + "a"), ("PSUBSCRIBE", P + "*"))
    diff("publish", P + "a", "hello")  # 2 channel subscribers + 1 pattern
    diff("publish", P + "b", "hello")
    diff("publish", P + "nobody-here", "x")  # pattern only
    diff("publish", "rn-elsewhere", "x")  # 0
    diff("publish", P + "a", None)  # DataError
    diff("publish", P + "a")  # TypeError: missing argument
    diff("publish", None, "x")  # DataError


@pytest.mark.parametrize("message", [
    "text", b"bytes", 42, -1.5, 0, "", UNICODE, NON_UTF8, b"x" * 100000, b"\r\n*3\r\n",
], ids=repr)
def test_publish_payload_on_the_wire(diff, subscribers, message):
    """Subscribers receive the same bytes whichever client published."""
    sub = subscribers(("SUBSCRIBE", P + "wire"), ("PSUBSCRIBE", P + "w*"))

    def publish_and_receive(c):
        n = c.publish(P + "wire", message)
        return n, sub.drain(expect=2)

    diff.apply(publish_and_receive)


def test_publish_channel_names(diff, subscribers):
    sub = subscribers(("PSUBSCRIBE", P + "*"))

    def run(c, channel):
        return c.publish(channel, "m"), sub.drain(expect=1)

    for channel in (P + UNICODE, (P).encode() + NON_UTF8, P + "sp ace", P + "42"):
        diff.apply(lambda c, ch=channel: run(c, ch))


def test_spublish(diff, subscribers):
    sub = subscribers(("SSUBSCRIBE", P + "shard"))
    diff("spublish", P + "shard", "m1")
    diff("spublish", P + "noshard", "m2")
    diff("spublish", P + "shard", NON_UTF8)
    diff("spublish", P + "shard", None)  # DataError
    sub.drain(expect=2)  # the two messages delivered so far
    diff.apply(lambda c: (c.spublish(P + "shard", 7), sub.drain(expect=1)))


def test_pubsub_channels(diff, subscribers):
    diff("pubsub_channels", P + "*")
    subscribers(("SUBSCRIBE", P + "c1", P + "c2", P + UNICODE))
    subscribers(("SUBSCRIBE", P + "c1"))
    subscribers(("SUBSCRIBE", (P).encode() + NON_UTF8))
    diff.cmp(sorted_list, "pubsub_channels", P + "*")
    diff.cmp(sorted_list, "pubsub_channels", P + "c?")
    diff.cmp(sorted_list, "pubsub_channels", pattern=P + "c1")
    diff("pubsub_channels", "rn-nothing-*")
    diff.apply(lambda c: type(c.pubsub_channels()).__name__)


def test_pubsub_numpat_numsub(diff, subscribers):
    diff.shape("pubsub_numpat")
    base = diff.apply(lambda c: c.pubsub_numpat())
    subscribers(("PSUBSCRIBE", P + "x*", P + "y*"))
    subscribers(("PSUBSCRIBE", P + "x*"), ("SUBSCRIBE", P + "n1"))
    diff.apply(lambda c: c.pubsub_numpat() - base)
    diff("pubsub_numsub")
    diff("pubsub_numsub", P + "n1")
    diff("pubsub_numsub", P + "n1", P + "none", P + "n1")
    subscribers(("SUBSCRIBE", P + "n1", P + UNICODE))
    diff("pubsub_numsub", P + "n1", P + UNICODE)
    subscribers(("SUBSCRIBE", (P).encode() + NON_UTF8))
    diff("pubsub_numsub", (P).encode() + NON_UTF8)
    diff("pubsub_numsub", None)  # DataError


def test_pubsub_shard_commands(diff, subscribers):
    diff("pubsub_shardchannels", P + "*")
    diff("pubsub_shardnumsub")
    subscribers(("SSUBSCRIBE", P + "s1"))
    subscribers(("SSUBSCRIBE", P + "s1"))
    subscribers(("SSUBSCRIBE", P + UNICODE))
    diff.cmp(sorted_list, "pubsub_shardchannels", P + "*")
    diff.cmp(sorted_list, "pubsub_shardchannels", pattern=P + "s*")
    diff("pubsub_shardchannels", "rn-nothing-*")
    diff("pubsub_shardnumsub", P + "s1", P + "none", P + UNICODE)
    diff.apply(lambda c: type(c.pubsub_shardchannels()).__name__)


def test_pubsub_commands_wire(wire):
    wire(lambda c: c.publish("ch", 1.5))
    wire(lambda c: c.spublish("ch", b"m"))
    wire(lambda c: c.pubsub_channels())
    wire(lambda c: c.pubsub_channels("p*"))
    wire(lambda c: c.pubsub_numpat())
    wire(lambda c: c.pubsub_numsub("a", "b"))
    wire(lambda c: c.pubsub_shardchannels())
    wire(lambda c: c.pubsub_shardnumsub("a"))


def test_python_level_argument_errors(diff):
    """Wrong argument *types* fail the same way (exception class) as in redis-py."""
    diff("publish", ["ch"], "m")
    diff("publish", "ch", ["m"])
    diff("publish", "ch", {"m": 1})
    diff("publish", "ch", True)
    diff("spublish", "ch", None)
    diff("pubsub_channels", None)
    diff("pubsub_channels", 5)
    diff("pubsub_numsub", ["a", "b"])
    diff("pubsub_shardnumsub", None)
    diff("pubsub_shardchannels", ["x"])


@pytest.mark.parametrize("transaction", [False, True], ids=["pipeline", "multi"])
def test_pubsub_commands_in_pipeline(diff, subscribers, transaction):
    subscribers(("SUBSCRIBE", P + "pp1", P + "pp2"))

    def run(c):
        p = c.pipeline(transaction=transaction)
        p.publish(P + "pp1", "m")
        p.pubsub_channels(P + "pp1")
        p.pubsub_numsub(P + "pp1", P + "pp2", P + "none")
        p.pubsub_shardnumsub(P + "none")
        p.spublish(P + "none", "m")
        return p.execute()

    diff.apply(run)
