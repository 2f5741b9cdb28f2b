"""Sentinel with TLS data nodes: ``master_for(..., ssl=True)`` builds
``SentinelManagedSSLConnection``s, which discover the master through a sentinel and
then run the TLS handshake against it.

The topology is small and private to this module: one TLS master and one sentinel
(quorum 1) that monitors the master's TLS port and talks TLS to it
(``tls-replication yes``).  Each test runs on redis_native and on redis-py.
"""
from __future__ import annotations

import pytest

from sentinel_topology import SERVICE, SentinelProcess
from tlsutil import *  # noqa: F401,F403  (fixtures)


@pytest.fixture(scope="module")
def tls_sentinel(tls_certs):
    from tlsutil import TLSRedisServer
    c = tls_certs
    master = TLSRedisServer(c.server.cert, c.server.key, c.ca.cert)
    sentinel = None
    try:
        sentinel = SentinelProcess(master.tls_port, quorum=1, extra_conf=(
            f"tls-cert-file {c.server.cert}", f"tls-key-file {c.server.key}",
            f"tls-ca-cert-file {c.ca.cert}", "tls-replication yes"))
        sentinel.start()
        yield master, sentinel
    finally:
        if sentinel is not None:
            sentinel.destroy()
        master.stop()


def test_master_for_over_tls(lib, tls_sentinel, tls_certs):
    master, sentinel = tls_sentinel
    s = lib.sentinel.Sentinel([(sentinel.host, sentinel.port)], socket_timeout=5)
    assert s.discover_master(SERVICE) == ("127.0.0.1", master.tls_port)
    m = s.master_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.ca.cert, socket_timeout=5)
    try:
        assert m.set("sentinel-tls", "yes") is True
        assert m.get("sentinel-tls") == b"yes"
        conn = m.connection_pool.get_connection()
        try:
            assert type(conn).__name__ == "SentinelManagedSSLConnection"
            assert isinstance(conn, lib.connection.SSLConnection)
        finally:
            m.connection_pool.release(conn)
        # a replica-less service falls back to the master for slave_for
        r = s.slave_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.ca.cert, socket_timeout=5)
        assert r.get("sentinel-tls") == b"yes"
        r.close()
    finally:
        m.close()


def test_master_for_over_tls_verifies_the_master(lib, tls_sentinel, tls_certs):
    """The certificate check applies to the discovered master: an unknown CA fails."""
    master, sentinel = tls_sentinel
    s = lib.sentinel.Sentinel([(sentinel.host, sentinel.port)], socket_timeout=5)
    m = s.master_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.unknown_ca.cert, socket_timeout=5,
                     retry=lib.retry.Retry(lib.backoff.NoBackoff(), 0))
    try:
        with pytest.raises(lib.exceptions.ConnectionError, match="certificate verify failed"):
            m.ping()
    finally:
        m.close()


def test_asyncio_master_for_over_tls(lib, tls_sentinel, tls_certs):
    """The asyncio Sentinel's SentinelManagedSSLConnection: discovery, then TLS
    to the master (through the event loop's TLS transport)."""
    import asyncio
    import importlib
    sm = importlib.import_module(lib.__name__ + ".asyncio.sentinel")
    aio_retry = importlib.import_module(lib.__name__ + ".asyncio.retry")
    master, sentinel = tls_sentinel

    async def main():
        s = sm.Sentinel([(sentinel.host, sentinel.port)], socket_timeout=5)
        assert await s.discover_master(SERVICE) == ("127.0.0.1", master.tls_port)
        m = s.master_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.ca.cert, socket_timeout=5)
        r = s.slave_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.ca.cert, socket_timeout=5)
        bad = s.master_for(SERVICE, ssl=True, ssl_ca_certs=tls_certs.unknown_ca.cert,
                           socket_timeout=5, retry=aio_retry.Retry(lib.backoff.NoBackoff(), 0))
        try:
            assert await m.set("asentinel-tls", "yes") is True
            assert await m.get("asentinel-tls") == b"yes"
            conn = await m.connection_pool.get_connection()
            try:
                assert type(conn) is sm.SentinelManagedSSLConnection
            finally:
                await m.connection_pool.release(conn)
            # a replica-less service falls back to the master for slave_for
            assert await r.get("asentinel-tls") == b"yes"
            with pytest.raises(lib.exceptions.ConnectionError,
                               match="certificate verify failed"):
                await bad.ping()
        finally:
            for c in (m, r, bad, *s.sentinels):
                await c.aclose()

    asyncio.run(main())
