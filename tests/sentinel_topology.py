"""A real Redis Sentinel topology for the tests: one master, two replicas and
three sentinels, all private processes on free ports of 127.0.0.1.

Data nodes are :class:`servers.RedisServer` processes (replicas started with
``--replicaof``).  Each sentinel is ``redis-server <conf> --sentinel`` with a
config file in a temporary directory of its own, because sentinels rewrite
their config (discovered replicas and peers, epochs).  Status is read with
redis-py (the oracle), never with the client under test.

Nodes may be stopped and restarted by tests; :meth:`Topology.wait_healthy`
waits until every running sentinel agrees on one master that is up, sees both
replicas up and linked to it, and sees the other running sentinels.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import List, Optional, Tuple

from servers import REDIS_SERVER, RedisServer, free_port, raw_command

SERVICE = "mymaster"


class SentinelProcess:
    """One ``redis-server --sentinel`` process with its own directory."""

    def __init__(self, master_port: int, *, quorum: int = 2, auth_pass: Optional[str] = None,
                 requirepass: Optional[str] = None, down_after_ms: int = 1000,
                 failover_timeout_ms: int = 4000, extra_conf: Tuple[str, ...] = ()):
        self.host = "127.0.0.1"
        self.port = 0
        self.password = requirepass
        self.tmpdir = tempfile.mkdtemp(prefix="rn-sentinel-")
        self.conf = os.path.join(self.tmpdir, "sentinel.conf")
        self.logfile = os.path.join(self.tmpdir, "sentinel.log")
        self.proc: Optional[subprocess.Popen] = None
        self.owner_pid = os.getpid()
        self._settings = dict(master_port=master_port, quorum=quorum, auth_pass=auth_pass,
                              requirepass=requirepass, down_after_ms=down_after_ms,
                              failover_timeout_ms=failover_timeout_ms,
                              extra_conf=tuple(extra_conf))

    def _write_conf(self) -> None:
        s = self._settings
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            "protected-mode no",
            "daemonize no",
            f'dir "{self.tmpdir}"',
            f'logfile "{self.logfile}"',
            "sentinel announce-ip 127.0.0.1",
            f"sentinel monitor {SERVICE} 127.0.0.1 {s['master_port']} {s['quorum']}",
            f"sentinel down-after-milliseconds {SERVICE} {s['down_after_ms']}",
            f"sentinel failover-timeout {SERVICE} {s['failover_timeout_ms']}",
            f"sentinel parallel-syncs {SERVICE} 2",
        ]
        if s["auth_pass"] is not None:
            lines.append(f"sentinel auth-pass {SERVICE} {s['auth_pass']}")
        if s["requirepass"] is not None:
            # sentinels talk to each other with sentinel-pass
            lines += [f"requirepass {s['requirepass']}",
                      f"sentinel sentinel-pass {s['requirepass']}"]
        lines += list(s["extra_conf"])     # e.g. TLS towards the data nodes
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, self.conf, "--sentinel"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start(self) -> "SentinelProcess":
        for _ in range(8):
            self.port = free_port()
            self._write_conf()
            self._spawn()
            if self._wait_ready():
                return self
            self._terminate()
        raise RuntimeError("sentinel failed to start:\n" + self.log_tail())

    def restart(self) -> "SentinelProcess":
        """Start again on the same port with the config it rewrote."""
        if self.is_running():
            return self
        for _ in range(50):
            self._spawn()
            if self._wait_ready():
                return self
            self._terminate()
            time.sleep(0.1)
        raise RuntimeError("sentinel failed to restart:\n" + self.log_tail())

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                reply = raw_command(self.host, self.port, "PING", password=self.password,
                                    timeout=1.0)
                if reply.startswith(b"+PONG"):
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _terminate(self) -> None:
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        else:
            p.wait()

    def stop(self) -> None:
        """Stop the process, keeping its directory (restart() needs it)."""
        if os.getpid() == self.owner_pid:
            self._terminate()

    def destroy(self) -> None:
        if os.getpid() != self.owner_pid:
            return
        self._terminate()
        self.proc = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def __del__(self):  # pragma: no cover - best effort
        try:
            if os.getpid() == self.owner_pid and self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
        except Exception:
            pass


def _admin(host: str, port: int, password: Optional[str]):
    """A redis-py client for status checks: no retries (a stopped node
    answers at once with an error), str replies."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    return redis.Redis(host, port, password=password, socket_timeout=2,
                       decode_responses=True, retry=Retry(NoBackoff(), 0))


class Topology:
    """One master, two replicas, three sentinels.

    ``password``: requirepass/masterauth on the data nodes (and auth-pass in
    the sentinels); ``sentinel_password``: requirepass on the sentinels.
    """

    def __init__(self, *, password: Optional[str] = None,
                 sentinel_password: Optional[str] = None):
        self.password = password
        self.sentinel_password = sentinel_password
        self.nodes: List[RedisServer] = []
        self.sentinels: List[SentinelProcess] = []
        auth = ["--masterauth", password] if password is not None else []
        try:
            master = RedisServer(*auth, password=password)
            self.nodes.append(master)
            for _ in range(2):
                self.nodes.append(RedisServer("--replicaof", "127.0.0.1", str(master.port),
                                              "--replica-announce-ip", "127.0.0.1",
                                              *auth, password=password))
            for _ in range(3):
                self.sentinels.append(SentinelProcess(
                    master.port, auth_pass=password, requirepass=sentinel_password).start())
            self.wait_healthy(timeout=60)
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ addresses
    @property
    def sentinel_addresses(self) -> List[Tuple[str, int]]:
        return [(s.host, s.port) for s in self.sentinels]

    def node(self, port: int) -> RedisServer:
        return next(n for n in self.nodes if n.port == port)

    def admin_sentinel(self, s: SentinelProcess):
        return _admin(s.host, s.port, self.sentinel_password)

    def admin_node(self, node: RedisServer):
        return _admin(node.host, node.port, self.password)

    def master_port(self) -> int:
        """The master's port according to the first running sentinel."""
        for s in self.sentinels:
            if s.is_running():
                with self.admin_sentinel(s) as c:
                    host, port = c.sentinel_get_master_addr_by_name(SERVICE)
                    return int(port)
        raise RuntimeError("no sentinel is running")

    def master(self) -> RedisServer:
        return self.node(self.master_port())

    def replicas(self) -> List[RedisServer]:
        port = self.master_port()
        return [n for n in self.nodes if n.port != port]

    # ------------------------------------------------------------------ health
    def _healthy(self) -> Optional[str]:
        """None when healthy, else what is not yet."""
        running = [s for s in self.sentinels if s.is_running()]
        seen = set()
        for s in running:
            try:
                with self.admin_sentinel(s) as c:
                    m = c.sentinel_master(SERVICE)
                    if not m["is_master"] or m["is_sdown"] or m["is_odown"] \
                            or "failover" in m["flags"]:
                        return f"sentinel {s.port}: master flags {m['flags']}"
                    seen.add((m["ip"], m["port"]))
                    if m["num-other-sentinels"] != len(running) - 1:
                        return f"sentinel {s.port}: sees {m['num-other-sentinels']} others"
                    replicas = c.sentinel_slaves(SERVICE)
                    up = [r for r in replicas
                          if not (r["is_sdown"] or r["is_odown"])
                          and r.get("master-link-status") == "ok"
                          and r.get("master-port") == m["port"]]
                    if len(up) != 2:
                        return f"sentinel {s.port}: {len(up)} replicas up"
            except Exception as e:  # a node restarting, a sentinel busy
                return f"sentinel {s.port}: {e!r}"
        if len(seen) != 1:
            return f"sentinels disagree on the master: {seen}"
        port = next(iter(seen))[1]
        if any(not n.is_running() for n in self.nodes):
            return "a data node is stopped"
        with self.admin_node(self.node(port)) as c:
            if c.info("replication")["connected_slaves"] != 2:
                return "master has not 2 connected replicas"
        return None

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        why = "?"
        while time.monotonic() < deadline:
            why = self._healthy()
            if why is None:
                return
            time.sleep(0.1)
        logs = "\n".join(s.log_tail(10) for s in self.sentinels)
        raise RuntimeError(f"sentinel topology not healthy after {timeout}s: {why}\n{logs}")

    def wait_replica_state(self, node: RedisServer, down: bool, timeout: float = 15.0) -> None:
        """Until every running sentinel flags ``node`` s_down (or not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for s in self.sentinels:
                if not s.is_running():
                    continue
                try:
                    with self.admin_sentinel(s) as c:
                        for r in c.sentinel_slaves(SERVICE):
                            if r["port"] == node.port:
                                states.append(bool(r["is_sdown"]))
                except Exception:
                    states.append(None)
            if states and all(st is down for st in states):
                return
            time.sleep(0.05)
        raise RuntimeError(f"sentinels did not flag {node.port} down={down} in {timeout}s")

    # ------------------------------------------------------------------ teardown
    def close(self) -> None:
        for s in self.sentinels:
            s.destroy()
        for n in self.nodes:
            n.stop()
