"""Stapled OCSP (``ssl_validate_ocsp_stapled=True``), checked inside the TLS handshake.

redis-server 7.0 does not staple OCSP responses, so the server here is
``openssl s_server -status_file``, which staples a fixed DER response (made with
``cryptography``) to every handshake.  The tests run the TCP + TLS part of a
connect (``SSLConnection._connect()``): the Redis handshake that follows has no
Redis on the other end.

redis-py checks the staple through a second connection made with pyOpenSSL (not a
test dependency), so these tests are redis_native's own; the messages of the
refusals are redis-py's where it has one.
"""
from __future__ import annotations

import datetime
import os
import shutil
import socket
import subprocess
import time

import pytest

from servers import free_port

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509 import ocsp  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject_key, subject, issuer_key, issuer, ca=False, sans=None):
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - datetime.timedelta(hours=1))
         .not_valid_after(NOW + datetime.timedelta(days=2))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("ocsp")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert(ca_key, _name("OCSP test CA"), ca_key, _name("OCSP test CA"), ca=True)
    srv_key = ec.generate_private_key(ec.SECP256R1())
    srv = _cert(srv_key, _name("localhost"), ca_key, ca.subject,
                sans=[x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress")
                                                                .ip_address("127.0.0.1"))])
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert(other_key, _name("someone else"), ca_key, ca.subject)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    rogue = _cert(rogue_key, _name("OCSP test CA"), rogue_key, _name("OCSP test CA"), ca=True)
    (d / "ca.crt").write_bytes(_pem(ca))
    (d / "server.crt").write_bytes(_pem(srv))
    (d / "server.key").write_bytes(srv_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return dict(dir=d, ca=ca, ca_key=ca_key, srv=srv, other=other, rogue_key=rogue_key,
                rogue=rogue)


def _response(pki, status="good", rogue=False, next_update=None, unauthorized=False):
    if unauthorized:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED).public_bytes(serialization.Encoding.DER)
    cert_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED,
                   "unknown": ocsp.OCSPCertStatus.UNKNOWN}[status]
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=pki["srv"], issuer=pki["ca"], algorithm=hashes.SHA1(), cert_status=cert_status,
        this_update=NOW - datetime.timedelta(minutes=30),
        next_update=next_update or NOW + datetime.timedelta(hours=2),
        revocation_time=NOW - datetime.timedelta(minutes=40) if status == "revoked" else None,
        revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, pki["rogue" if rogue else "ca"])
    return b.sign(pki["rogue_key" if rogue else "ca_key"], hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


class StaplingServer:
    """openssl s_server stapling `response` (DER bytes, or None: no staple)."""

    def __init__(self, pki, response):
        d = pki["dir"]
        self.port = free_port()
        cmd = ["openssl", "s_server", "-quiet", "-accept", f"127.0.0.1:{self.port}",
               "-cert", str(d / "server.crt"), "-key", str(d / "server.key")]
        if response is not None:
            path = d / f"resp-{self.port}.der"
            path.write_bytes(response)
            cmd += ["-status_file", str(path)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("openssl s_server did not start")

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def stapling(pki):
    servers = []

    def start(response):
        srv = StaplingServer(pki, response)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def _conn(impl, pki, port, **kw):
    args = dict(host="localhost", port=port, ssl_ca_certs=str(pki["dir"] / "ca.crt"),
                ssl_validate_ocsp_stapled=True, socket_timeout=5)
    args.update(kw)
    return impl.connection.SSLConnection(**args)


@pytest.fixture
def native(impl_name):
    if impl_name != "redis_native":
        pytest.skip("redis-py checks staples with pyOpenSSL, not installed here")
    import redis_native
    return redis_native


def test_good_staple_accepted(native, pki, stapling):
    srv = stapling(_response(pki))
    c = _conn(native, pki, srv.port)
    try:
        c._connect()
        assert c._uses_tls
    finally:
        c.disconnect()


def test_expected_cert_matches(native, pki, stapling):
    srv = stapling(_response(pki))
    c = _conn(native, pki, srv.port, ssl_ocsp_expected_cert=_pem(pki["srv"]))
    try:
        c._connect()
    finally:
        c.disconnect()


@pytest.mark.parametrize("case, message, exc_name", [
    ("missing", "no ocsp response present", "ConnectionError"),
    ("revoked", "Received an REVOKED ocsp certificate status", "ConnectionError"),
    ("unknown", "Received an UNKNOWN ocsp certificate status", "ConnectionError"),
    ("rogue signer", "failed to validate the ocsp response", "ConnectionError"),
    ("stale", "ocsp certificate has invalid update", "ConnectionError"),
    ("unauthorized", "you are not authorized to view this ocsp certificate",
     "AuthorizationError"),
    ("other expected cert", "received and expected certificates do not match",
     "ConnectionError"),
])
def test_bad_staple_refused(native, pki, stapling, case, message, exc_name):
    kw = {}
    if case == "missing":
        resp = None
    elif case in ("revoked", "unknown"):
        resp = _response(pki, status=case)
    elif case == "rogue signer":
        resp = _response(pki, rogue=True)
    elif case == "stale":
        resp = _response(pki, next_update=NOW - datetime.timedelta(minutes=10))
    elif case == "unauthorized":
        resp = _response(pki, unauthorized=True)
    else:
        resp = _response(pki)
        kw["ssl_ocsp_expected_cert"] = _pem(pki["other"]).decode()
    srv = stapling(resp)
    c = _conn(native, pki, srv.port, **kw)
    with pytest.raises(getattr(native.exceptions, exc_name)) as info:
        c._connect()
    assert message in str(info.value)
    assert not c.is_connected


def test_without_the_option_no_staple_is_needed(native, pki, stapling):
    srv = stapling(None)
    c = _conn(native, pki, srv.port, ssl_validate_ocsp_stapled=False)
    try:
        c._connect()
    finally:
        c.disconnect()


def test_full_connect_reports_the_refusal(native, pki, stapling):
    """Through Redis(): the refusal surfaces from the first command, no retry loop hang."""
    srv = stapling(_response(pki, status="revoked"))
    r = native.Redis(host="localhost", port=srv.port, ssl=True, socket_timeout=5,
                     ssl_ca_certs=str(pki["dir"] / "ca.crt"), ssl_validate_ocsp_stapled=True,
                     retry=native.retry.Retry(native.backoff.NoBackoff(), 0))
    with pytest.raises(native.exceptions.ConnectionError, match="REVOKED"):
        r.ping()
    r.close()


@pytest.mark.parametrize("kw, message", [
    (dict(ssl_validate_ocsp=True), "ssl_validate_ocsp"),
    (dict(ssl_ocsp_context=object(), ssl_validate_ocsp_stapled=True), "ssl_ocsp_context"),
    (dict(ssl_ocsp_expected_cert="x"), "ssl_validate_ocsp_stapled"),
    (dict(ssl_validate_ocsp=True, ssl_validate_ocsp_stapled=True), "not both"),
])
def test_unsupported_ocsp_options_refused_at_construction(native, kw, message):
    with pytest.raises(native.exceptions.RedisError, match=message):
        native.connection.SSLConnection(host="localhost", port=1, **kw)
    with pytest.raises(native.exceptions.RedisError, match=message):
        native.Redis(host="localhost", port=1, ssl=True, **kw)
