"""Failover under load, on a cluster of its own (roles change here): a manual
``CLUSTER FAILOVER`` on a replica, then a primary killed, while a thread keeps
writing.  The client follows the new primary; a write during the switch
either succeeds or fails with a clean cluster/connection error within its
socket timeout (none hangs); every write acknowledged by a replica (``WAIT``)
is still there afterwards."""
from __future__ import annotations

import threading
import time

import pytest

from cluster_topology import ClusterTopology, _full_command
from servers import wait_until

SOCKET_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def fo_cluster():
    topo = ClusterTopology()
    try:
        yield topo
    finally:
        topo.stop()


class Writer(threading.Thread):
    """Writes fo:<i> = i, one new key per write, and asks the key's node to
    have it on one replica (WAIT 1); records what was acknowledged and every
    error."""

    def __init__(self, client, lib):
        super().__init__(daemon=True)
        self.client, self.allowed = client, _allowed(lib)
        self.client_error = lib.exceptions.ResponseError
        self.stop = threading.Event()
        self.acked, self.errors, self.unexpected, self.wait_errors = {}, [], [], []
        self.done = 0

    def run(self):
        i = 0
        while not self.stop.is_set():
            key = f"fo:{i}"
            try:
                self.client.set(key, i)
                node = self.client.get_node_from_key(key)
                try:
                    if self.client.execute_command("WAIT", 1, 1000, target_nodes=node) >= 1:
                        self.acked[key] = i
                except self.client_error as e:
                    # a WAIT on a primary turning replica is unblocked with an
                    # error reply: that write is simply not acknowledged
                    self.wait_errors.append(e)
                self.done += 1
            except self.allowed as e:
                self.errors.append(e)
                time.sleep(0.05)
            except Exception as e:  # noqa: BLE001
                self.unexpected.append(e)
            i += 1


def _allowed(lib):
    exc = lib.exceptions
    return (exc.ConnectionError, exc.TimeoutError, exc.ClusterDownError,
            exc.RedisClusterException, exc.SlotNotCoveredError, exc.ClusterError,
            exc.ReadOnlyError)


def _check_acked(client, writer):
    assert writer.acked, "no write was acknowledged"
    missing = {k: v for k, v in writer.acked.items() if client.get(k) != str(v).encode()}
    assert missing == {}


def _run_writer_through(client, lib, action, settle):
    writer = Writer(client, lib)
    writer.start()
    try:
        assert wait_until(lambda: writer.done > 20, timeout=30)
        action()
        settle()
        before = writer.done
        # the client writes on the new topology again
        assert wait_until(lambda: writer.done > before + 50, timeout=60), writer.errors[-3:]
    finally:
        writer.stop.set()
        writer.join(SOCKET_TIMEOUT * 10)
    assert not writer.is_alive(), "a write hung past its timeout"
    assert writer.unexpected == [], [str(e) for e in writer.unexpected]
    return writer


def _replica_of(topo, primary):
    for r in topo.replicas():
        if f"master_port:{primary.port}" in _full_command(r.host, r.port, "INFO", "replication"):
            return r
    raise AssertionError(f"no replica of {primary.port}")


def test_manual_failover_under_writes(fo_cluster, impl):
    client = impl.RedisCluster(host=fo_cluster.host, port=fo_cluster.port,
                               socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=1)
    try:
        primary = fo_cluster.primaries()[0]
        replica = _replica_of(fo_cluster, primary)

        def failover():
            assert replica.command("CLUSTER", "FAILOVER").startswith(b"+OK")

        def settle():
            assert wait_until(lambda: fo_cluster._role(replica) == "master", timeout=30)
            fo_cluster.wait_healthy()

        writer = _run_writer_through(client, impl, failover, settle)
        _check_acked(client, writer)
        # the client's view follows: the old replica serves the old primary's slots
        assert replica.port in {n.port for n in client.get_primaries()}
        print("manual failover: %d writes, %d acknowledged, errors: %r"
              % (writer.done, len(writer.acked), sorted({type(e).__name__ for e in writer.errors})))
    finally:
        client.close()


def test_stalled_primary_under_writes(fo_cluster, impl):
    """A primary that stops answering (SIGSTOP) is a failed node: its
    commands time out, the replica takes over, the client follows."""
    import os
    import signal

    client = impl.RedisCluster(host=fo_cluster.host, port=fo_cluster.port,
                               socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=1)
    primary = fo_cluster.primaries()[0]
    replica = _replica_of(fo_cluster, primary)
    stopped = []
    try:
        def stall():
            os.kill(primary.proc.pid, signal.SIGSTOP)
            stopped.append(primary)

        def settle():
            assert wait_until(lambda: fo_cluster._role(replica) == "master", timeout=60)
            os.kill(primary.proc.pid, signal.SIGCONT)     # it comes back as a replica
            stopped.clear()
            fo_cluster.wait_healthy()

        writer = _run_writer_through(client, impl, stall, settle)
        _check_acked(client, writer)
        print("primary stalled: %d writes, %d acknowledged, errors: %r"
              % (writer.done, len(writer.acked), sorted({type(e).__name__ for e in writer.errors})))
        assert replica.port in {n.port for n in client.get_primaries()}
    finally:
        for node in stopped:
            os.kill(node.proc.pid, signal.SIGCONT)
        client.close()


def test_primary_killed_under_writes(fo_cluster, impl):
    client = impl.RedisCluster(host=fo_cluster.host, port=fo_cluster.port,
                               socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=1)
    try:
        primary = fo_cluster.primaries()[0]
        replica = _replica_of(fo_cluster, primary)

        def kill():
            primary.kill()

        def settle():
            assert wait_until(lambda: fo_cluster._role(replica) == "master", timeout=60)
            fo_cluster.wait_healthy()

        writer = _run_writer_through(client, impl, kill, settle)
        _check_acked(client, writer)
        print("primary killed: %d writes, %d acknowledged, errors: %r"
              % (writer.done, len(writer.acked), sorted({type(e).__name__ for e in writer.errors})))
        assert primary.port not in {n.port for n in client.get_primaries()}
        assert replica.port in {n.port for n in client.get_primaries()}
    finally:
        client.close()
