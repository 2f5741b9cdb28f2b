"""TLS fixtures: certificates made with ``cryptography``, and TLS redis-servers.

Everything here is made once per test session, lazily (a server starts the
first time a test asks for it) and removed at the end of the session.

Certificates (:class:`Certs`, fixture ``tls_certs``), all RSA-2048/SHA-256 and
compliant with ``VERIFY_X509_STRICT`` (key identifiers, key usage, critical
basic constraints):

* ``ca``            the test CA (``ca.crt``); ``ca_pem`` is its PEM text and
                    ``ca_dir`` a directory holding it under ``openssl rehash``
                    hash links (for ``ssl_ca_path``)
* ``server``        DNS:localhost + IP:127.0.0.1, signed by the CA
* ``client``        a client certificate (clientAuth) signed by the CA
* ``client_enc``    another client certificate whose key file is encrypted
                    with ``CLIENT_KEY_PASSWORD``
* ``wronghost``     DNS:wrong.example only, signed by the CA
* ``expired``       DNS:localhost + IP:127.0.0.1, signed by the CA, expired
* ``selfsigned``    DNS:localhost + IP:127.0.0.1, self-signed (no CA)
* ``unknown_ca``    a second CA that no server trusts
* ``unknown_client`` a client certificate signed by ``unknown_ca``

Each leaf is a :class:`Pair` with ``cert`` and ``key`` paths.

Servers (:class:`TLSRedisServer`): a redis-server that listens for TLS on
``tls_port`` and for plain TCP on ``port`` at once (the plain port serves the
readiness probe, out-of-band administration and the "plain client to TLS
port" / "TLS client to plain port" tests).  Session fixtures:

* ``tls_server``           server certificate, clients need no certificate
* ``tls_mtls_server``      server certificate, client certificates required
                           (``--tls-auth-clients yes``)
* ``tls_wronghost_server`` serves the wrong-host certificate
* ``tls_expired_server``   serves the expired certificate
* ``tls_selfsigned_server`` serves the self-signed certificate
* ``tls12_server``         TLSv1.2 only, ciphers limited to :data:`TLS12_SERVER_CIPHERS`
* ``tls12_rsakx_server``   TLSv1.2 only, with just :data:`TLS12_RSA_KX_CIPHER`

Every server also has ``certs`` (the session's :class:`Certs`) and
``tls_url``.  Plus ``tls_server_factory`` (function scope, for tests that stop
or restart a server, or need other arguments such as ``--requirepass``) and ``silent_server`` (accepts TCP connections and never answers:
a TLS handshake to it can only time out).

Use ``from tlsutil import *`` in a test module to get the fixtures.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from typing import List, Optional

import pytest

from servers import RedisServer, free_port

__all__ = [
    "CLIENT_KEY_PASSWORD",
    "TLS12_RSA_KX_CIPHER",
    "TLS12_SERVER_CIPHERS",
    "Certs",
    "Pair",
    "SilentServer",
    "TLSRedisServer",
    "make_certs",
    "silent_server",
    "tls12_rsakx_server",
    "tls12_server",
    "tls_certs",
    "tls_expired_server",
    "tls_mtls_server",
    "tls_selfsigned_server",
    "tls_server",
    "tls_server_factory",
    "tls_wronghost_server",
]

#: Password of ``Certs.client_enc.key``.
CLIENT_KEY_PASSWORD = "tls-key-pass"

#: The TLSv1.2 ciphers ``tls12_server`` accepts; a client limited to any other
#: cipher cannot complete a handshake with it.
TLS12_SERVER_CIPHERS = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"

#: The only cipher ``tls12_rsakx_server`` accepts: RSA key exchange, which
#: CPython's default client cipher list (``ssl.create_default_context()``)
#: leaves out, while OpenSSL's own default list has it.
TLS12_RSA_KX_CIPHER = "AES128-GCM-SHA256"

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


# --------------------------------------------------------------------------- certificates
class Pair:
    """A certificate file and its private key file (paths)."""

    def __init__(self, cert: str, key: str):
        self.cert = cert
        self.key = key

    def __repr__(self) -> str:
        return "<Pair %s>" % os.path.basename(self.cert)


class Certs:
    """Paths of every certificate made by :func:`make_certs` (see module docstring)."""

    dir: str
    ca: Pair
    ca_pem: str
    ca_dir: str
    server: Pair
    client: Pair
    client_enc: Pair
    wronghost: Pair
    expired: Pair
    selfsigned: Pair
    unknown_ca: Pair
    unknown_client: Pair


def make_certs(directory: str) -> Certs:
    """Write the test PKI into ``directory`` and return its :class:`Certs`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    serial = [1000]

    def new_key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def name(cn):
        return x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "redis_native tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])

    def write_key(key, path, password: Optional[str] = None):
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8, enc))
        os.chmod(path, 0o600)

    def write_cert(cert, path):
        with open(path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))

    def build(subject_cn, key, issuer_cert, issuer_key, *, is_ca=False, dns=(), ips=(),
              usage=None, not_before=None, not_after=None):
        serial[0] += 1
        issuer_name = issuer_cert.subject if issuer_cert is not None else name(subject_cn)
        b = (x509.CertificateBuilder()
             .subject_name(name(subject_cn))
             .issuer_name(issuer_name)
             .public_key(key.public_key())
             .serial_number(serial[0] + int(now.timestamp()) * 1000)
             .not_valid_before(not_before or now - datetime.timedelta(days=1))
             .not_valid_after(not_after or now + datetime.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        signer_pub = issuer_key.public_key() if issuer_key is not None else key.public_key()
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_pub), critical=False)
        if is_ca:
            b = b.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=True,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            b = b.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())

    certs = Certs()
    certs.dir = directory

    def leaf(label, cn, issuer, *, password=None, **kw):
        key = new_key()
        cert = build(cn, key, issuer[0], issuer[1], **kw)
        pair = Pair(os.path.join(directory, label + ".crt"), os.path.join(directory, label + ".key"))
        write_cert(cert, pair.cert)
        write_key(key, pair.key, password)
        return pair

    def ca(label, cn):
        key = new_key()
        cert = build(cn, key, None, None, is_ca=True)
        pair = Pair(os.path.join(directory, label + ".crt"), os.path.join(directory, label + ".key"))
        write_cert(cert, pair.cert)
        write_key(key, pair.key)
        return pair, (cert, key)

    server_names = dict(dns=("localhost",), ips=("127.0.0.1",))
    server_auth = [ExtendedKeyUsageOID.SERVER_AUTH]
    client_auth = [ExtendedKeyUsageOID.CLIENT_AUTH]

    certs.ca, issuer = ca("ca", "redis_native test CA")
    certs.unknown_ca, unknown_issuer = ca("unknown-ca", "redis_native unknown CA")
    certs.server = leaf("server", "localhost", issuer, usage=server_auth, **server_names)
    certs.client = leaf("client", "test client", issuer, usage=client_auth)
    certs.client_enc = leaf("client-enc", "test client (encrypted key)", issuer, usage=client_auth,
                            password=CLIENT_KEY_PASSWORD)
    certs.wronghost = leaf("wronghost", "wrong.example", issuer, usage=server_auth, dns=("wrong.example",))
    certs.expired = leaf("expired", "localhost", issuer, usage=server_auth,
                         not_before=now - datetime.timedelta(days=30),
                         not_after=now - datetime.timedelta(days=2), **server_names)
    certs.unknown_client = leaf("unknown-client", "client of the unknown CA", unknown_issuer,
                                usage=client_auth)
    # self-signed: its own issuer, not a CA, no other trust anchor
    key = new_key()
    cert = build("localhost", key, None, None, usage=server_auth, **server_names)
    certs.selfsigned = Pair(os.path.join(directory, "selfsigned.crt"), os.path.join(directory, "selfsigned.key"))
    write_cert(cert, certs.selfsigned.cert)
    write_key(key, certs.selfsigned.key)

    with open(certs.ca.cert) as f:
        certs.ca_pem = f.read()
    # ssl_ca_path wants a directory of <subject-hash>.0 links, made by `openssl rehash`
    certs.ca_dir = os.path.join(directory, "ca-dir")
    os.mkdir(certs.ca_dir)
    shutil.copy(certs.ca.cert, os.path.join(certs.ca_dir, "ca.pem"))
    subprocess.run([OPENSSL, "rehash", certs.ca_dir], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if not any(n.endswith(".0") for n in os.listdir(certs.ca_dir)):
        raise RuntimeError("openssl rehash made no hash link in %s" % certs.ca_dir)
    return certs


# --------------------------------------------------------------------------- servers
class TLSRedisServer(RedisServer):
    """A redis-server with TLS on ``tls_port`` and plain TCP on ``port``.

    ``cert``/``key`` is the server's certificate, ``ca`` the CA file it uses to
    check client certificates, ``auth_clients`` the value of
    ``--tls-auth-clients`` (``"no"``, ``"yes"`` or ``"optional"``); ``extra``
    are further redis-server arguments.  Readiness is probed on the plain port
    (redis-server opens every listener before it serves any), then confirmed
    with a TLS handshake when no client certificate is required.
    """

    def __init__(self, cert: str, key: str, ca: str, *extra: str, auth_clients: str = "no",
                 start: bool = True, **kw):
        self.tls_port = 0
        self.cert = cert
        self.key = key
        self.ca = ca
        self.auth_clients = auth_clients
        super().__init__(*extra, start=start, **kw)

    def _cmdline(self) -> List[str]:
        return super()._cmdline() + [
            "--tls-port", str(self.tls_port),
            "--tls-cert-file", self.cert,
            "--tls-key-file", self.key,
            "--tls-ca-cert-file", self.ca,
            "--tls-auth-clients", self.auth_clients,
        ]

    def start(self, attempts: int = 8) -> "TLSRedisServer":
        last = None
        for _ in range(attempts):
            self.port = free_port(self.host)
            self.tls_port = free_port(self.host)
            if self.tls_port == self.port:
                continue
            self._spawn()
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last = e
                self._terminate()
        raise RuntimeError("TLS redis-server failed to start: %s\n%s" % (last, self.log_tail()))

    def _wait_ready(self) -> None:
        super()._wait_ready()
        if self.auth_clients == "no":
            deadline = time.monotonic() + self.startup_timeout
            while not self.tls_handshake_ok():
                if time.monotonic() > deadline or not self.is_running():
                    raise RuntimeError("TLS port %d does not complete a handshake" % self.tls_port)
                time.sleep(0.02)

    def tls_handshake_ok(self) -> bool:
        """True if a handshake on ``tls_port`` completes (certificate not checked)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # whatever --tls-ciphers the server was given
        try:
            with socket.create_connection((self.host, self.tls_port), timeout=2) as s:
                with ctx.wrap_socket(s):
                    return True
        except OSError:
            return False

    @property
    def tls_url(self) -> str:
        return "rediss://%s:%d" % (self.host, self.tls_port)

    def __repr__(self) -> str:
        return "<TLSRedisServer %s:%s tls=%s pid=%s>" % (
            self.host, self.port, self.tls_port, self.proc.pid if self.proc else None)


class SilentServer:
    """Accepts TCP connections on a free port and never sends a byte.

    Accepted sockets stay open until :meth:`close`, so a client's TLS
    handshake waits for a ServerHello that never comes.
    """

    def __init__(self):
        self.host = "127.0.0.1"
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.accepted = 0
        self._conns: List[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="silent-server")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self._conns.append(conn)
            self.accepted += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for c in self._conns + [self._sock]:
            try:
                c.close()
            except OSError:
                pass


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def tls_certs():
    d = tempfile.mkdtemp(prefix="rn-tls-")
    try:
        yield make_certs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _session_server(certs: Certs, pair: Pair, *extra: str, auth_clients: str = "no"):
    srv = TLSRedisServer(pair.cert, pair.key, certs.ca.cert, *extra, auth_clients=auth_clients, start=False)
    srv.certs = certs
    try:
        srv.start()
    except BaseException:
        srv.stop()  # removes its temporary directory
        raise
    return srv


@pytest.fixture(scope="session")
def tls_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.server)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls_mtls_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.server, auth_clients="yes")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls_wronghost_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.wronghost)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls_expired_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.expired)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls_selfsigned_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.selfsigned)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls12_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.server, "--tls-protocols", "TLSv1.2",
                          "--tls-ciphers", TLS12_SERVER_CIPHERS)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def tls12_rsakx_server(tls_certs):
    srv = _session_server(tls_certs, tls_certs.server, "--tls-protocols", "TLSv1.2",
                          "--tls-ciphers", TLS12_RSA_KX_CIPHER)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tls_server_factory(tls_certs):
    """``tls_server_factory(pair=None, *extra, auth_clients="no")``: a private TLS
    server (default: the good server certificate), stopped at teardown."""
    started = []

    def factory(pair: Optional[Pair] = None, *extra: str, auth_clients: str = "no"):
        srv = _session_server(tls_certs, pair or tls_certs.server, *extra, auth_clients=auth_clients)
        started.append(srv)
        return srv

    try:
        yield factory
    finally:
        for srv in started:
            try:
                srv.stop()
            except Exception:
                pass


@pytest.fixture
def silent_server():
    srv = SilentServer()
    try:
        yield srv
    finally:
        srv.close()
