"""A real Redis Cluster for the tests: six ``redis-server --cluster-enabled yes``
processes (3 primaries, 3 replicas) on free ports, each in its own temporary
directory with its own ``nodes.conf``, joined with ``redis-cli --cluster
create ... --cluster-replicas 1 --cluster-yes``.

Like :mod:`servers`, this module uses no client library: readiness and
agreement are checked with raw sockets, so a broken client under test cannot
break the fixture.  Processes are stopped at ``stop()`` and, failing that, at
interpreter exit (each node is a :class:`servers.RedisServer`).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Dict, List, Optional, Tuple

from servers import RedisServer, _port_in_use, raw_command, wait_until

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
BUS_PORT_OFFSET = 10000


def _bindable(port: int, host: str = "127.0.0.1") -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def cluster_port(host: str = "127.0.0.1", taken: Tuple[int, ...] = ()) -> int:
    """A free port whose cluster bus port (port + 10000) is free too; never
    6379 (nor 16379)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((host, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        bus = port + BUS_PORT_OFFSET
        if port in (6379, 16379) or bus > 65535 or port in taken or bus in taken:
            continue
        if _port_in_use(port, host) or _port_in_use(bus, host) or not _bindable(bus, host):
            continue
        return port
    raise RuntimeError("no free port pair (port, port+10000) found")


class ClusterNodeServer(RedisServer):
    """One cluster-enabled redis-server.  Its port is chosen with its bus port
    free as well; ``nodes.conf`` lives in the server's own directory."""

    def __init__(self, taken: Tuple[int, ...] = ()):
        self._taken = taken
        super().__init__(
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "2000",
            "--cluster-require-full-coverage", "yes",
            # a replica may serve reads (READONLY) and takes over quickly
            "--cluster-replica-validity-factor", "0",
            "--appendonly", "no",
            start=False,
        )
        self.start()

    def start(self, attempts: int = 8) -> "ClusterNodeServer":
        last = None
        for _ in range(attempts):
            self.port = cluster_port(self.host, self._taken)
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last = e
                self._terminate()
        raise RuntimeError("cluster node failed to start: %s\n%s" % (last, self.log_tail()))

    def info_field(self, section: str, field: str) -> Optional[str]:
        data = self.command(*section.split())
        for line in _bulk_text(data).splitlines():
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
        return None

    def cluster_nodes(self) -> str:
        return _bulk_text(self.command("CLUSTER", "NODES"))

    def node_id(self) -> str:
        return _bulk_text(self.command("CLUSTER", "MYID")).strip()


def _bulk_text(reply: bytes) -> str:
    """The text of a raw bulk-string reply (``$n\\r\\n...``), read completely."""
    if not reply.startswith(b"$"):
        return reply.decode(errors="replace")
    head, _, rest = reply.partition(b"\r\n")
    return rest[: int(head[1:])].decode(errors="replace")


def _parse_resp(data: bytes, pos: int = 0):
    """One RESP2 reply from ``data`` at ``pos``: (value, next position)."""
    kind, end = data[pos:pos + 1], data.index(b"\r\n", pos)
    head = data[pos + 1:end]
    pos = end + 2
    if kind in (b"+", b"-"):
        return head, pos
    if kind == b":":
        return int(head), pos
    if kind == b"$":
        n = int(head)
        return (None, pos) if n < 0 else (data[pos:pos + n], pos + n + 2)
    if kind == b"*":
        items = []
        for _ in range(max(int(head), 0)):
            item, pos = _parse_resp(data, pos)
            items.append(item)
        return items, pos
    raise ValueError("not RESP: %r" % data[:40])


def raw_reply(host: str, port: int, *args, timeout: float = 5.0):
    """Send one command, read and parse one complete reply."""
    from servers import _pack

    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(_pack(args))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("connection closed")
            data += chunk
            try:
                return _parse_resp(data)[0]
            except (ValueError, IndexError):
                continue


def _full_command(host: str, port: int, *args, timeout: float = 5.0) -> str:
    """A command whose bulk reply may span several reads (CLUSTER NODES, INFO)."""
    from servers import _pack

    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(_pack(args))
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if data.startswith(b"$"):
                head, _, rest = data.partition(b"\r\n")
                if head and len(rest) >= int(head[1:]) + 2:
                    break
            elif data.endswith(b"\r\n"):
                break
        return _bulk_text(data)


class ClusterTopology:
    """Six nodes, three primaries with one replica each.

    ``nodes``: every :class:`ClusterNodeServer`; ``primaries()``/``replicas()``
    read the current roles from the servers (they change after a failover).
    """

    def __init__(self, primaries: int = 3, replicas: int = 1):
        self.nodes: List[ClusterNodeServer] = []
        taken: Tuple[int, ...] = ()
        try:
            for _ in range(primaries * (1 + replicas)):
                node = ClusterNodeServer(taken)
                taken += (node.port, node.port + BUS_PORT_OFFSET)
                self.nodes.append(node)
            self._create(replicas)
            self.wait_healthy(announced=False)
            self._seed_replicas()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise

    # ------------------------------------------------------------ creation
    def _create(self, replicas: int) -> None:
        addrs = ["%s:%d" % (n.host, n.port) for n in self.nodes]
        out = subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addrs, "--cluster-replicas", str(replicas),
             "--cluster-yes"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
        )
        if out.returncode != 0 or "[OK] All 16384 slots covered" not in out.stdout:
            raise RuntimeError("redis-cli --cluster create failed:\n%s\n%s" % (out.stdout, out.stderr))

    def _seed_replicas(self) -> None:
        """Write once to every primary, so that every replica has received
        data (until then CLUSTER SLOTS does not announce it)."""
        for n in self.primaries():
            for i in range(1000):
                if raw_command(n.host, n.port, "SET", "seed:%d" % i, "1").startswith(b"+OK"):
                    break           # a key of this primary's slots (others answer MOVED)

    # ------------------------------------------------------------- queries
    @property
    def host(self) -> str:
        return self.nodes[0].host

    @property
    def port(self) -> int:
        return self.nodes[0].port

    def running(self) -> List[ClusterNodeServer]:
        return [n for n in self.nodes if n.is_running()]

    def node_by_port(self, port: int) -> ClusterNodeServer:
        for n in self.nodes:
            if n.port == port:
                return n
        raise KeyError(port)

    def _role(self, node: ClusterNodeServer) -> Optional[str]:
        try:
            text = _full_command(node.host, node.port, "INFO", "replication")
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith("role:"):
                return line.split(":", 1)[1].strip()
        return None

    def primaries(self) -> List[ClusterNodeServer]:
        return [n for n in self.running() if self._role(n) == "master"]

    def replicas(self) -> List[ClusterNodeServer]:
        return [n for n in self.running() if self._role(n) == "slave"]

    def slot_owners(self, node: Optional[ClusterNodeServer] = None) -> Dict[int, int]:
        """slot range start -> primary port, as ``node`` (default: the first
        running node) sees it in CLUSTER NODES."""
        node = node or self.running()[0]
        text = _full_command(node.host, node.port, "CLUSTER", "NODES")
        owners = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) < 8 or "master" not in parts[2] or "fail" in parts[2].split(","):
                continue
            port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
            for spec in parts[8:]:
                if spec.startswith("["):
                    continue          # a migration in progress, not ownership
                start = int(spec.split("-")[0])
                owners[start] = port
        return owners

    def _state_ok(self, node: ClusterNodeServer) -> bool:
        try:
            text = _full_command(node.host, node.port, "CLUSTER", "INFO")
        except OSError:
            return False
        return "cluster_state:ok" in text and "cluster_slots_assigned:16384" in text

    def _replicas_known(self, node: ClusterNodeServer) -> int:
        """How many live replicas ``node`` knows of (CLUSTER NODES)."""
        text = _full_command(node.host, node.port, "CLUSTER", "NODES")
        return sum(1 for line in text.splitlines()
                   if len(line.split()) > 2 and "slave" in line.split()[2]
                   and "fail" not in line.split()[2])

    def _replicas_announced(self, node: ClusterNodeServer) -> int:
        """How many replicas ``node`` lists in CLUSTER SLOTS (Redis 7 leaves
        out a replica that has not received any data yet)."""
        return sum(len(entry) - 3 for entry in raw_reply(node.host, node.port, "CLUSTER", "SLOTS"))

    def _replica_in_sync(self, node: ClusterNodeServer) -> bool:
        text = _full_command(node.host, node.port, "INFO", "replication")
        return "role:master" in text or "master_link_status:up" in text

    def healthy(self, replicas: Optional[int] = None, announced: bool = True) -> bool:
        """Every running node: cluster_state:ok, the same slot owners, every
        replica in sync and (``replicas``) known to all nodes, and with
        ``announced`` listed in their CLUSTER SLOTS."""
        nodes = self.running()
        if not nodes or not all(self._state_ok(n) for n in nodes):
            return False
        try:
            if not all(self._replica_in_sync(n) for n in nodes):
                return False
            if replicas is not None and any(
                    self._replicas_known(n) != replicas
                    or (announced and self._replicas_announced(n) != replicas) for n in nodes):
                return False
        except OSError:
            return False
        views = []
        for n in nodes:
            try:
                views.append(self.slot_owners(n))
            except OSError:
                return False
        return all(v == views[0] for v in views) and len(views[0]) > 0

    def wait_healthy(self, timeout: float = 60.0, announced: bool = True) -> None:
        """Until every running node says cluster_state:ok and all agree on
        the owners of every slot range, every replica is in sync and known to
        every node (and, with ``announced``, listed in CLUSTER SLOTS)."""
        def check() -> bool:
            try:
                replicas = len(self.running()) - len(set(self.slot_owners().values()))
            except (OSError, IndexError):
                return False
            return self.healthy(replicas, announced)

        if not wait_until(check, timeout=timeout, interval=0.1):
            raise RuntimeError("cluster not healthy after %ss:\n%s" % (
                timeout, "\n".join(self._describe())))

    def _describe(self) -> List[str]:
        out = []
        for n in self.nodes:
            try:
                out.append("%d: %s" % (n.port, _full_command(n.host, n.port, "CLUSTER", "INFO")[:200]))
            except OSError as e:
                out.append("%d: %r" % (n.port, e))
        return out

    def flushall(self) -> None:
        for n in self.primaries():
            raw_command(n.host, n.port, "FLUSHALL")

    def stop(self) -> None:
        for n in self.nodes:
            try:
                n.stop()
            except Exception:
                pass


# ---------------------------------------------------------------- resharding
class SlotMigration:
    """Move one slot from primary ``src`` to primary ``dst`` the way
    ``redis-cli --cluster reshard`` does: ``SETSLOT IMPORTING`` on the target,
    ``SETSLOT MIGRATING`` on the source, ``MIGRATE`` of its keys, then
    ``SETSLOT NODE`` on every primary.  The steps are separate so tests can
    act between them (ASK is answered while keys are half moved)."""

    def __init__(self, topology: ClusterTopology, slot: int, src: ClusterNodeServer,
                 dst: ClusterNodeServer):
        self.topology, self.slot, self.src, self.dst = topology, slot, src, dst
        self.src_id, self.dst_id = src.node_id(), dst.node_id()

    def begin(self) -> None:
        _ok(raw_reply(self.dst.host, self.dst.port, "CLUSTER", "SETSLOT", self.slot,
                      "IMPORTING", self.src_id))
        _ok(raw_reply(self.src.host, self.src.port, "CLUSTER", "SETSLOT", self.slot,
                      "MIGRATING", self.dst_id))

    def keys_left(self, count: int = 1000) -> list:
        return raw_reply(self.src.host, self.src.port, "CLUSTER", "GETKEYSINSLOT", self.slot, count)

    def move_keys(self, keys) -> None:
        if keys:
            _ok(raw_reply(self.src.host, self.src.port, "MIGRATE", self.dst.host, self.dst.port,
                          "", 0, 10000, "KEYS", *keys))

    def move_all_keys(self, batch: int = 100) -> None:
        while True:
            keys = self.keys_left(batch)
            if not keys:
                return
            self.move_keys(keys)

    def finish(self) -> None:
        # the target first, then the source, then everyone else
        for node in [self.dst, self.src] + [n for n in self.topology.primaries()
                                           if n not in (self.src, self.dst)]:
            _ok(raw_reply(node.host, node.port, "CLUSTER", "SETSLOT", self.slot, "NODE",
                          self.dst_id))

    def run(self, batch: int = 100) -> None:
        self.begin()
        self.move_all_keys(batch)
        self.finish()


def _ok(reply) -> None:
    if reply not in (b"OK", b"NOKEY"):
        raise RuntimeError("cluster admin command failed: %r" % (reply,))


def owner_of(topology: ClusterTopology, slot: int) -> ClusterNodeServer:
    """The primary serving ``slot`` (CLUSTER SLOTS of a running node)."""
    node = topology.running()[0]
    for entry in raw_reply(node.host, node.port, "CLUSTER", "SLOTS"):
        if entry[0] <= slot <= entry[1]:
            return topology.node_by_port(entry[2][1])
    raise KeyError(slot)


def wait_slot_agreed(topology: ClusterTopology, slot: int, port: int, timeout: float = 30) -> None:
    """Until every running node says ``slot`` belongs to the primary on ``port``."""
    def agreed() -> bool:
        for n in topology.running():
            try:
                entries = raw_reply(n.host, n.port, "CLUSTER", "SLOTS")
            except OSError:
                return False
            if not any(e[0] <= slot <= e[1] and e[2][1] == port for e in entries):
                return False
        return True

    if not wait_until(agreed, timeout=timeout, interval=0.05):
        raise RuntimeError("nodes do not agree that slot %d is on %d" % (slot, port))
