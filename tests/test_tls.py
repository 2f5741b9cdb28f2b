"""TLS: ``SSLConnection``, ``Redis(ssl=True)`` and ``rediss://`` against real
TLS redis-servers (see tests/tlsutil.py for the certificates and servers).

Most tests take the ``lib`` fixture and run on the implementation under test,
then on redis-py, with the same expectations: redis-py is the oracle and
``--impl=redis`` checks the tests themselves.  Tests of behaviour over an
established TLS connection (pipelines, pub/sub, threads, fork...) take
``api`` (the implementation under test only); ``test_differential_*``
compare both clients call by call.

What redis-py 7.4.1 raises (OpenSSL 3.0, CPython 3.11), as asserted here.
HOST:PORT is the address given to the client; "(_ssl.c:NNN)" is never asserted.

* certificate verification fails (unknown CA, self-signed, expired, name):
  exactly ``ConnectionError``, "Error 1 connecting to HOST:PORT.
  [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: <reason>
  (_ssl.c:NNN)."; <reason> is OpenSSL's (``X509_verify_cert_error_string``:
  "self-signed certificate", "self-signed certificate in certificate chain"
  (the server sends its CA along), "certificate has expired", "unable to get
  certificate CRL") or CPython's for names: "Hostname mismatch, certificate
  is not valid for 'localhost'." / "IP address mismatch, certificate is not
  valid for '127.0.0.1'.";
* local TLS settings are only used when connecting, so their errors come from
  the first command, as ``ConnectionError`` "Error <n> connecting to
  HOST:PORT. <text>.": missing CA/cert file "No such file or directory",
  wrong key password "[SSL] PEM lib", key not matching the certificate
  "[X509: KEY_VALUES_MISMATCH] key values mismatch", invalid cipher string
  "No cipher can be selected.", bad ``ssl_ca_data`` "... cadata does not
  contain a certificate"; handshake refused by the server: "[SSL:
  TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version" (min version
  above the server's max), "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert
  handshake failure" (no common cipher);
* the client certificate is judged after the TLS 1.3 handshake, so refusal
  shows on the first read: ``ConnectionError`` "Error while reading from
  HOST:PORT : (1, '[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert
  certificate required (_ssl.c:NNN)')" (or "... TLSV1_ALERT_UNKNOWN_CA] tlsv1
  alert unknown ca ..."), or, if the write loses the race against the
  server's close, "Error 8 while writing to socket. EOF occurred in violation
  of protocol (_ssl.c:NNN)." (see ``WRITE_AFTER_ALERT``);
* no ServerHello within ``socket_timeout`` (a silent listener, or
  redis-server's plain port, which takes the ClientHello for an unfinished
  inline command): ``TimeoutError("Timeout connecting to server")``;
* a plain client on the TLS port: ``ConnectionError`` (redis-py: "Error
  while reading from HOST:PORT : (104, 'Connection reset by peer')");
* a read timeout over TLS: ``TimeoutError("Timeout reading from HOST:PORT")``;
* ``ssl_cert_reqs`` not one of "none"/"optional"/"required" (or None or an
  ``ssl.VerifyMode``): ``RedisError("Invalid SSL Certificate Requirements
  Flag: <value>")`` from the constructor;
* ``ssl_validate_ocsp`` and ``ssl_validate_ocsp_stapled`` both true:
  ``RedisError("Either an OCSP staple or pure OCSP connection must be
  validated - not both.")`` when connecting (redis_native refuses every OCSP
  option at construction with a ``RedisError`` naming OCSP).

Only the stable part of each message is asserted (never "_ssl.c:NNN").
Every failing client is built with a no-retry policy, so that a failure
costs one attempt; elapsed times are only checked as loose "did not hang"
bounds.
"""
from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import ssl
import threading
import time

import pytest

import diffutil
from servers import wait_until
from tlsutil import *  # noqa: F401,F403  (fixtures)
from tlsutil import CLIENT_KEY_PASSWORD, TLS12_RSA_KX_CIPHER

#: loose bound for "returned instead of hanging"; never a speed requirement
HANG_BOUND = 20.0

OCSP_BOTH_MESSAGE = "Either an OCSP staple or pure OCSP connection must be validated - not both."


# --------------------------------------------------------------------------- helpers
def mod(lib, name):
    return importlib.import_module("%s.%s" % (lib.__name__, name))


def no_retry(lib):
    return mod(lib, "retry").Retry(mod(lib, "backoff").NoBackoff(), 0)


def is_native(lib) -> bool:
    return lib.__name__ == "redis_native"


def tls_client(lib, closing, srv, host="127.0.0.1", port=None, **kw):
    """A client of ``lib`` on ``srv``'s TLS port: no retries, bounded socket timeout."""
    kw.setdefault("ssl", True)
    kw.setdefault("retry", no_retry(lib))
    kw.setdefault("socket_timeout", 10)
    return closing(lib.Redis(host=host, port=srv.tls_port if port is None else port, **kw))


def ca(srv):
    """Keyword arguments that trust the test CA."""
    return {"ssl_ca_certs": srv.certs.ca.cert}


def client_cert(pair):
    return {"ssl_certfile": pair.cert, "ssl_keyfile": pair.key}


def assert_works(r, key="tls:works"):
    assert r.ping() is True
    assert r.set(key, b"v\x00\xff") is True
    assert r.get(key) == b"v\x00\xff"
    assert r.delete(key) == 1


#: After a TLS 1.3 handshake the server judges the client certificate and, on
#: refusal, sends an alert and closes.  The client's first write may race the
#: close: it then fails with one of these instead of reading the alert (redis-py
#: gives the first about one time in six; the others are the same race seen
#: from the socket layer).
WRITE_AFTER_ALERT = ("EOF occurred in violation of protocol", "Broken pipe", "Connection reset by peer")


def expect_connection_error(lib, r, *phrases, any_of=()):
    """``r.ping()`` must raise exactly ``ConnectionError`` naming every phrase
    and, if given, at least one of ``any_of``."""
    t0 = time.monotonic()
    with pytest.raises(lib.ConnectionError) as ei:
        r.ping()
    assert time.monotonic() - t0 < HANG_BOUND
    assert type(ei.value).__name__ == "ConnectionError", repr(ei.value)
    assert type(ei.value) is mod(lib, "exceptions").ConnectionError
    msg = str(ei.value)
    for p in phrases:
        assert p in msg, "%r not in %r" % (p, msg)
    if any_of:
        assert any(p in msg for p in any_of), "none of %r in %r" % (any_of, msg)
    return msg


def verify_failed(lib, r, reason):
    """A certificate verification failure with OpenSSL/CPython's ``reason``."""
    return expect_connection_error(lib, r, "certificate verify failed", reason)


# --------------------------------------------------------------------------- names, constructor
def test_sslconnection_top_level_name(lib):
    assert lib.SSLConnection is mod(lib, "connection").SSLConnection
    assert issubclass(lib.SSLConnection, lib.Connection)


def test_invalid_cert_reqs_string(lib):
    with pytest.raises(lib.RedisError) as ei:
        lib.SSLConnection(host="127.0.0.1", port=1, ssl_cert_reqs="bogus")
    assert str(ei.value) == "Invalid SSL Certificate Requirements Flag: bogus"
    assert type(ei.value) is mod(lib, "exceptions").RedisError
    # the strings are case-sensitive, like redis-py's table
    with pytest.raises(lib.RedisError, match="Invalid SSL Certificate Requirements Flag: REQUIRED"):
        lib.SSLConnection(host="127.0.0.1", port=1, ssl_cert_reqs="REQUIRED")


def test_invalid_cert_reqs_through_redis(lib, closing):
    # redis-py builds connections lazily: the error surfaces by the first command
    with pytest.raises(lib.RedisError, match="Invalid SSL Certificate Requirements Flag: sometimes"):
        r = closing(lib.Redis(host="127.0.0.1", port=1, ssl=True, ssl_cert_reqs="sometimes",
                              retry=no_retry(lib)))
        r.ping()


def test_attributes_match_redis_py(impl, redis_py):
    """The settings an SSLConnection keeps, under redis-py's attribute names."""
    flags = [ssl.VerifyFlags.VERIFY_X509_STRICT]
    cases = [
        {},
        {"ssl_cert_reqs": "none"},
        {"ssl_cert_reqs": "optional", "ssl_check_hostname": False},
        {"ssl_cert_reqs": None},
        {"ssl_cert_reqs": ssl.CERT_REQUIRED},
        {"ssl_keyfile": "/k.pem", "ssl_certfile": "/c.pem", "ssl_password": "pw",
         "ssl_ca_certs": "/ca.pem", "ssl_ca_path": "/cadir", "ssl_ca_data": "PEM",
         "ssl_min_version": ssl.TLSVersion.TLSv1_3, "ssl_ciphers": "HIGH",
         "ssl_include_verify_flags": flags, "ssl_exclude_verify_flags": flags},
    ]
    names = ["keyfile", "certfile", "cert_reqs", "ca_certs", "ca_data", "ca_path", "check_hostname",
             "certificate_password", "ssl_min_version", "ssl_ciphers", "ssl_include_verify_flags",
             "ssl_exclude_verify_flags", "host", "port"]
    for kw in cases:
        a = impl.SSLConnection(host="127.0.0.1", port=6390, **kw)
        b = redis_py.SSLConnection(host="127.0.0.1", port=6390, **kw)
        for n in names:
            assert getattr(a, n) == getattr(b, n), (kw, n)
        # "none" switches hostname checking off whatever ssl_check_hostname says
        if kw.get("ssl_cert_reqs", "required") in ("none", None):
            assert a.check_hostname is False


def test_connection_kwargs_match_redis_py(impl, redis_py, closing, tls_certs):
    """``Redis(ssl=True, ...)`` hands the pool the same ssl_* settings as redis-py."""
    kw = dict(host="127.0.0.1", port=6390, ssl=True, ssl_ca_certs=tls_certs.ca.cert,
              ssl_certfile=tls_certs.client.cert, ssl_keyfile=tls_certs.client.key,
              ssl_cert_reqs="optional", ssl_check_hostname=False, ssl_min_version=ssl.TLSVersion.TLSv1_2)
    a = closing(impl.Redis(**kw)).connection_pool.connection_kwargs
    b = closing(redis_py.Redis(**kw)).connection_pool.connection_kwargs
    assert sorted(a) == sorted(b)
    assert {k: v for k, v in a.items() if k.startswith("ssl_")} == {k: v for k, v in b.items() if k.startswith("ssl_")}


def test_repr_hides_ssl_password(lib, closing, tls_server):
    conn = lib.SSLConnection(host="127.0.0.1", port=tls_server.tls_port, ssl_password="secret-pw",
                             ssl_ca_certs=tls_server.certs.ca.cert)
    text = repr(conn)
    assert "secret-pw" not in text
    assert re.fullmatch(r"<%s\.connection\.SSLConnection\(host=127\.0\.0\.1,port=%d,db=0\)>"
                        % (lib.__name__, tls_server.tls_port), text), text
    pool = closing(lib.ConnectionPool(connection_class=lib.SSLConnection, host="127.0.0.1",
                                      port=tls_server.tls_port, ssl_password="secret-pw"))
    for text in (repr(pool), str(pool)):
        assert "secret-pw" not in text
        assert "ssl_password=<REDACTED>" in text
        assert "SSLConnection" in text
    r = closing(lib.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True, ssl_password="secret-pw"))
    assert "secret-pw" not in repr(r)


# --------------------------------------------------------------------------- trust anchors
def test_ssl_true_with_ca_certs(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, **ca(tls_server))
    assert r.connection_pool.connection_class is lib.SSLConnection
    assert_works(r)
    # closed, then reconnected lazily by the next command
    r.close()
    assert_works(r)
    with lib.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True, **ca(tls_server)) as r2:
        assert r2.echo("in context") == b"in context"


def test_socket_options_with_tls(lib, closing, tls_server):
    opts = {socket.TCP_KEEPIDLE: 30, socket.TCP_KEEPINTVL: 5} if hasattr(socket, "TCP_KEEPIDLE") else {}
    r = tls_client(lib, closing, tls_server, socket_keepalive=True, socket_keepalive_options=opts,
                   socket_connect_timeout=5, **ca(tls_server))
    assert_works(r)


def test_password_auth_over_tls(lib, closing, tls_server_factory):
    srv = tls_server_factory(None, "--requirepass", "tls-pw")
    r = tls_client(lib, closing, srv, password="tls-pw", **ca(srv))
    assert_works(r)
    bad = tls_client(lib, closing, srv, password="wrong", **ca(srv))
    with pytest.raises(lib.AuthenticationError):
        bad.ping()
    anon = tls_client(lib, closing, srv, **ca(srv))
    with pytest.raises(lib.AuthenticationError):
        anon.ping()


def test_hostname_localhost(lib, closing, tls_server):
    # the certificate names DNS:localhost; localhost may resolve to ::1 first
    r = tls_client(lib, closing, tls_server, host="localhost", **ca(tls_server))
    assert_works(r)


def test_ssl_ca_path_hashed_directory(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl_ca_path=tls_server.certs.ca_dir)
    assert_works(r)


def test_ssl_ca_path_needs_hash_links(lib, closing, tls_server, tmp_path):
    # a CA directory is searched by subject hash, not read file by file
    d = tmp_path / "no-hash-links"
    d.mkdir()
    (d / "ca.pem").write_text(tls_server.certs.ca_pem)
    r = tls_client(lib, closing, tls_server, ssl_ca_path=str(d))
    verify_failed(lib, r, "self-signed certificate in certificate chain")


def test_ssl_ca_data_pem_string(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl_ca_data=tls_server.certs.ca_pem)
    assert_works(r)


def test_ssl_ca_data_der_bytes(lib, closing, tls_server):
    der = ssl.PEM_cert_to_DER_cert(tls_server.certs.ca_pem)
    r = tls_client(lib, closing, tls_server, ssl_ca_data=der)
    assert_works(r)


@pytest.mark.parametrize("data", ["not a certificate", b"\x00\x01 not DER"], ids=["str", "bytes"])
def test_ssl_ca_data_invalid(lib, closing, tls_server, data):
    # redis-py: "Error 0 connecting to HOST:PORT. no start line: cadata does not
    # contain a certificate (_ssl.c:NNN)." ("not enough data: ..." for bytes)
    r = tls_client(lib, closing, tls_server, ssl_ca_data=data)
    expect_connection_error(lib, r, "connecting to 127.0.0.1:%d" % tls_server.tls_port)


def test_no_ca_given_uses_system_store(lib, closing, tls_server):
    # the default trust store does not know the test CA
    r = tls_client(lib, closing, tls_server)
    verify_failed(lib, r, "self-signed certificate in certificate chain")


def test_client_trusts_unknown_ca(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl_ca_certs=tls_server.certs.unknown_ca.cert)
    verify_failed(lib, r, "self-signed certificate in certificate chain")


def test_missing_ca_file(lib, closing, tls_server, tmp_path):
    r = tls_client(lib, closing, tls_server, ssl_ca_certs=str(tmp_path / "nothing.pem"))
    expect_connection_error(lib, r, "No such file or directory",
                            "connecting to 127.0.0.1:%d" % tls_server.tls_port)


def test_leaf_as_trust_anchor_needs_partial_chain(lib, closing, tls_server):
    leaf = {"ssl_ca_certs": tls_server.certs.server.cert}
    partial = [ssl.VerifyFlags.VERIFY_X509_PARTIAL_CHAIN]
    r = tls_client(lib, closing, tls_server, **leaf)
    verify_failed(lib, r, "self-signed certificate in certificate chain")
    r = tls_client(lib, closing, tls_server, ssl_include_verify_flags=partial, **leaf)
    assert_works(r)
    # exclusions are applied after inclusions
    r = tls_client(lib, closing, tls_server, ssl_include_verify_flags=partial,
                   ssl_exclude_verify_flags=partial, **leaf)
    verify_failed(lib, r, "self-signed certificate in certificate chain")


def test_verify_flags_strict_and_crl(lib, closing, tls_server):
    F = ssl.VerifyFlags
    r = tls_client(lib, closing, tls_server, ssl_include_verify_flags=[F.VERIFY_X509_STRICT], **ca(tls_server))
    assert_works(r)
    r = tls_client(lib, closing, tls_server, ssl_include_verify_flags=[F.VERIFY_CRL_CHECK_LEAF], **ca(tls_server))
    verify_failed(lib, r, "unable to get certificate CRL")
    r = tls_client(lib, closing, tls_server, ssl_include_verify_flags=[F.VERIFY_X509_STRICT, F.VERIFY_CRL_CHECK_LEAF],
                   ssl_exclude_verify_flags=[F.VERIFY_CRL_CHECK_LEAF], **ca(tls_server))
    assert_works(r)


# --------------------------------------------------------------------------- verification failures
def test_self_signed_server_default_settings_fail(lib, closing, tls_selfsigned_server):
    srv = tls_selfsigned_server
    verify_failed(lib, tls_client(lib, closing, srv), "self-signed certificate")
    verify_failed(lib, tls_client(lib, closing, srv, **ca(srv)), "self-signed certificate")


@pytest.mark.parametrize("reqs", ["none", None, ssl.CERT_NONE], ids=["str-none", "None", "CERT_NONE"])
def test_cert_reqs_none_accepts_anything(lib, closing, tls_selfsigned_server, tls_wronghost_server,
                                         tls_expired_server, reqs):
    for srv in (tls_selfsigned_server, tls_wronghost_server, tls_expired_server):
        # hostname checking is switched off by "none", even if asked for
        r = tls_client(lib, closing, srv, ssl_cert_reqs=reqs, ssl_check_hostname=True)
        assert_works(r)


def test_cert_reqs_optional_still_verifies(lib, closing, tls_server, tls_selfsigned_server):
    # in a client, CERT_OPTIONAL means the same as CERT_REQUIRED
    r = tls_client(lib, closing, tls_server, ssl_cert_reqs="optional", **ca(tls_server))
    assert_works(r)
    r = tls_client(lib, closing, tls_selfsigned_server, ssl_cert_reqs="optional")
    verify_failed(lib, r, "self-signed certificate")
    r = tls_client(lib, closing, tls_selfsigned_server, ssl_cert_reqs=ssl.CERT_OPTIONAL)
    verify_failed(lib, r, "self-signed certificate")


@pytest.mark.parametrize("reqs", ["required", ssl.CERT_REQUIRED], ids=["str-required", "CERT_REQUIRED"])
def test_cert_reqs_required(lib, closing, tls_server, tls_selfsigned_server, reqs):
    r = tls_client(lib, closing, tls_server, ssl_cert_reqs=reqs, **ca(tls_server))
    assert_works(r)
    r = tls_client(lib, closing, tls_selfsigned_server, ssl_cert_reqs=reqs)
    verify_failed(lib, r, "self-signed certificate")


def test_hostname_mismatch(lib, closing, tls_wronghost_server):
    srv = tls_wronghost_server
    r = tls_client(lib, closing, srv, host="localhost", **ca(srv))
    verify_failed(lib, r, "Hostname mismatch, certificate is not valid for 'localhost'")
    r = tls_client(lib, closing, srv, host="127.0.0.1", **ca(srv))
    verify_failed(lib, r, "IP address mismatch, certificate is not valid for '127.0.0.1'")


def test_check_hostname_false_accepts_wrong_host(lib, closing, tls_wronghost_server):
    srv = tls_wronghost_server
    for host in ("localhost", "127.0.0.1"):
        r = tls_client(lib, closing, srv, host=host, ssl_check_hostname=False, **ca(srv))
        assert_works(r)


def test_check_hostname_false_still_verifies_chain(lib, closing, tls_selfsigned_server, tls_expired_server):
    r = tls_client(lib, closing, tls_selfsigned_server, ssl_check_hostname=False)
    verify_failed(lib, r, "self-signed certificate")
    r = tls_client(lib, closing, tls_expired_server, ssl_check_hostname=False, **ca(tls_expired_server))
    verify_failed(lib, r, "certificate has expired")


def test_expired_certificate(lib, closing, tls_expired_server):
    r = tls_client(lib, closing, tls_expired_server, **ca(tls_expired_server))
    msg = verify_failed(lib, r, "certificate has expired")
    assert "Error 1 connecting to 127.0.0.1:%d." % tls_expired_server.tls_port in msg
    # the client stays usable: the next command fails the same way
    verify_failed(lib, r, "certificate has expired")


# --------------------------------------------------------------------------- mutual TLS
def test_mtls_without_client_cert_fails(lib, closing, tls_mtls_server):
    r = tls_client(lib, closing, tls_mtls_server, **ca(tls_mtls_server))
    expect_connection_error(lib, r, any_of=("certificate required",) + WRITE_AFTER_ALERT)


def test_mtls_with_client_cert(lib, closing, tls_mtls_server):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, **ca(srv), **client_cert(srv.certs.client))
    assert_works(r)


def test_mtls_cert_and_key_in_one_file(lib, closing, tls_mtls_server, tmp_path):
    srv = tls_mtls_server
    both = tmp_path / "client-both.pem"
    with open(srv.certs.client.cert) as c, open(srv.certs.client.key) as k:
        both.write_text(c.read() + k.read())
    r = tls_client(lib, closing, srv, ssl_certfile=str(both), **ca(srv))
    assert_works(r)


@pytest.mark.parametrize("password", [CLIENT_KEY_PASSWORD, CLIENT_KEY_PASSWORD.encode()], ids=["str", "bytes"])
def test_mtls_encrypted_key_with_password(lib, closing, tls_mtls_server, password):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, ssl_password=password, **ca(srv),
                   **client_cert(srv.certs.client_enc))
    assert_works(r)


def test_mtls_encrypted_key_wrong_password(lib, closing, tls_mtls_server):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, ssl_password="not-the-password", **ca(srv),
                   **client_cert(srv.certs.client_enc))
    expect_connection_error(lib, r, "PEM lib", "connecting to 127.0.0.1:%d" % srv.tls_port)


def test_missing_client_cert_file(lib, closing, tls_mtls_server, tmp_path):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, ssl_certfile=str(tmp_path / "none.crt"),
                   ssl_keyfile=srv.certs.client.key, **ca(srv))
    expect_connection_error(lib, r, "No such file or directory", "connecting to 127.0.0.1:%d" % srv.tls_port)


def test_mtls_client_cert_from_unknown_ca(lib, closing, tls_mtls_server):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, **ca(srv), **client_cert(srv.certs.unknown_client))
    expect_connection_error(lib, r, any_of=("unknown ca",) + WRITE_AFTER_ALERT)


def test_mtls_key_does_not_match_cert(lib, closing, tls_mtls_server):
    srv = tls_mtls_server
    r = tls_client(lib, closing, srv, ssl_certfile=srv.certs.client.cert,
                   ssl_keyfile=srv.certs.server.key, **ca(srv))
    expect_connection_error(lib, r, "key values mismatch")


def test_client_cert_on_server_not_asking_for_one(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, **ca(tls_server), **client_cert(tls_server.certs.client))
    assert_works(r)


# --------------------------------------------------------------------------- versions and ciphers
def test_min_version_tls13(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl_min_version=ssl.TLSVersion.TLSv1_3, **ca(tls_server))
    assert_works(r)


def test_min_version_above_server_max_fails(lib, closing, tls12_server):
    r = tls_client(lib, closing, tls12_server, ssl_min_version=ssl.TLSVersion.TLSv1_2, **ca(tls12_server))
    assert_works(r)
    r = tls_client(lib, closing, tls12_server, ssl_min_version=ssl.TLSVersion.TLSv1_3, **ca(tls12_server))
    expect_connection_error(lib, r, "protocol version")


def test_ciphers_tls12(lib, closing, tls12_server):
    srv = tls12_server
    r = tls_client(lib, closing, srv, ssl_ciphers="ECDHE-RSA-AES128-GCM-SHA256", **ca(srv))
    assert_works(r)
    # a valid cipher the server does not accept: the handshake fails
    r = tls_client(lib, closing, srv, ssl_ciphers="ECDHE-RSA-CHACHA20-POLY1305", **ca(srv))
    expect_connection_error(lib, r, "handshake failure")


def test_ciphers_do_not_restrict_tls13(lib, closing, tls_server):
    # ssl_ciphers is the TLS <= 1.2 cipher list (SSL_CTX_set_cipher_list);
    # TLS 1.3 suites stay available
    r = tls_client(lib, closing, tls_server, ssl_ciphers="ECDHE-RSA-CHACHA20-POLY1305", **ca(tls_server))
    assert_works(r)


def test_default_ciphers_are_cpythons(lib, closing, tls12_rsakx_server):
    # without ssl_ciphers the client offers CPython's default list, which has
    # no RSA key exchange: a server that only speaks AES128-GCM-SHA256 refuses
    srv = tls12_rsakx_server
    expect_connection_error(lib, tls_client(lib, closing, srv, **ca(srv)), "handshake failure")
    r = tls_client(lib, closing, srv, ssl_ciphers=TLS12_RSA_KX_CIPHER, **ca(srv))
    assert_works(r)


def test_invalid_cipher_string(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl_ciphers="NOT-A-CIPHER:ALSO-NOT", **ca(tls_server))
    expect_connection_error(lib, r, "No cipher can be selected")


# --------------------------------------------------------------------------- URLs
def test_from_url_rediss_no_verification(lib, closing, tls_selfsigned_server):
    srv = tls_selfsigned_server
    r = closing(lib.from_url("rediss://localhost:%d/0?ssl_cert_reqs=none&ssl_check_hostname=false"
                             % srv.tls_port))
    assert r.connection_pool.connection_class is lib.SSLConnection
    assert_works(r)
    r = closing(lib.Redis.from_url("rediss://127.0.0.1:%d" % srv.tls_port, retry=no_retry(lib)))
    verify_failed(lib, r, "self-signed certificate")


def test_from_url_rediss_ca_certs_and_db(lib, closing, tls_server, redis_py):
    url = "rediss://127.0.0.1:%d/3?ssl_ca_certs=%s&socket_timeout=5" % (tls_server.tls_port,
                                                                       tls_server.certs.ca.cert)
    r = closing(lib.from_url(url))
    assert_works(r)
    assert r.client_info()["db"] == 3
    o = closing(redis_py.from_url(url))
    assert r.connection_pool.connection_kwargs == o.connection_pool.connection_kwargs


def test_connection_pool_from_url_mtls(lib, closing, tls_mtls_server):
    srv = tls_mtls_server
    url = ("rediss://localhost:%d?ssl_ca_certs=%s&ssl_certfile=%s&ssl_keyfile=%s&ssl_cert_reqs=required"
           % (srv.tls_port, srv.certs.ca.cert, srv.certs.client.cert, srv.certs.client.key))
    pool = closing(lib.ConnectionPool.from_url(url))
    assert pool.connection_class is lib.SSLConnection
    r = closing(lib.Redis(connection_pool=pool))
    assert_works(r)
    # without the client certificate the same server refuses
    pool2 = closing(lib.ConnectionPool.from_url(
        "rediss://localhost:%d?ssl_ca_certs=%s" % (srv.tls_port, srv.certs.ca.cert), retry=no_retry(lib)))
    expect_connection_error(lib, closing(lib.Redis(connection_pool=pool2)),
                            any_of=("certificate required",) + WRITE_AFTER_ALERT)


def test_from_url_verify_flags(lib, closing, tls_server):
    base = "rediss://127.0.0.1:%d?ssl_ca_certs=%s" % (tls_server.tls_port, tls_server.certs.ca.cert)
    pool = closing(lib.ConnectionPool.from_url(base + "&ssl_include_verify_flags=VERIFY_CRL_CHECK_LEAF",
                                               retry=no_retry(lib)))
    assert pool.connection_kwargs["ssl_include_verify_flags"] == [ssl.VerifyFlags.VERIFY_CRL_CHECK_LEAF]
    verify_failed(lib, closing(lib.Redis(connection_pool=pool)), "unable to get certificate CRL")
    pool = closing(lib.ConnectionPool.from_url(
        base + "&ssl_include_verify_flags=[VERIFY_X509_STRICT,VERIFY_CRL_CHECK_LEAF]"
        "&ssl_exclude_verify_flags=VERIFY_CRL_CHECK_LEAF"))
    assert_works(closing(lib.Redis(connection_pool=pool)))


# --------------------------------------------------------------------------- wrong ports, timeouts
def test_handshake_timeout(lib, closing, silent_server):
    r = tls_client(lib, closing, silent_server, port=silent_server.port, socket_timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(lib.TimeoutError) as ei:
        r.ping()
    assert time.monotonic() - t0 < HANG_BOUND
    assert str(ei.value) == "Timeout connecting to server"
    assert type(ei.value) is mod(lib, "exceptions").TimeoutError
    assert silent_server.accepted >= 1


def test_tls_client_to_plain_port(lib, closing, tls_server):
    # redis-server reads the ClientHello as an inline command and looks for
    # its newline with strchr(), which stops at the NUL bytes of the TLS
    # headers: the "command" never ends, the server never answers and the
    # handshake ends with the socket timeout, deterministically
    r = tls_client(lib, closing, tls_server, port=tls_server.port, socket_timeout=1, **ca(tls_server))
    t0 = time.monotonic()
    with pytest.raises(lib.TimeoutError) as ei:
        r.ping()
    assert time.monotonic() - t0 < HANG_BOUND
    assert str(ei.value) == "Timeout connecting to server"


def test_plain_client_to_tls_port(lib, closing, tls_server):
    r = tls_client(lib, closing, tls_server, ssl=False, socket_timeout=5)
    expect_connection_error(lib, r)


def test_read_timeout_over_tls_then_no_stale_reply(api, closing, tls_server):
    lib = api.impl
    r = tls_client(lib, closing, tls_server, socket_timeout=0.5, **ca(tls_server))
    r.delete("tls:blk")
    t0 = time.monotonic()
    with pytest.raises(lib.TimeoutError) as ei:
        r.blpop(["tls:blk"], timeout=2)
    assert time.monotonic() - t0 < HANG_BOUND
    assert str(ei.value) == "Timeout reading from 127.0.0.1:%d" % tls_server.tls_port
    # let the BLPOP reply (nil) arrive: a connection kept after the timeout would hand it out
    time.sleep(max(0.0, t0 + 2.3 - time.monotonic()))
    assert r.set("tls:after", "x") is True
    assert r.get("tls:after") == b"x"
    r.delete("tls:after")


# --------------------------------------------------------------------------- OCSP
def test_ocsp_both_kinds_rejected(lib, tls_server):
    kw = dict(host="127.0.0.1", port=tls_server.tls_port, ssl_ca_certs=tls_server.certs.ca.cert,
              ssl_validate_ocsp=True, ssl_validate_ocsp_stapled=True)
    with pytest.raises(lib.RedisError) as ei:
        conn = lib.SSLConnection(**kw)
        # redis-py accepts the settings and refuses when it connects
        conn.connect()
    assert not isinstance(ei.value, (lib.ConnectionError, lib.TimeoutError))
    if is_native(lib):
        assert "OCSP" in str(ei.value)
    else:
        assert str(ei.value) == OCSP_BOTH_MESSAGE


@pytest.mark.parametrize("kw", [
    {"ssl_validate_ocsp": True},
    {"ssl_ocsp_context": object()},
    {"ssl_ocsp_expected_cert": "-----BEGIN CERTIFICATE-----"},
], ids=["validate_ocsp", "ocsp_context", "ocsp_expected_cert_without_stapling"])
def test_native_ocsp_options_refused_at_construction(impl, impl_name, kw):
    """What redis_native cannot check is refused; stapled OCSP is checked
    (tests/test_tls_ocsp.py)."""
    if impl_name == "redis":
        pytest.skip("redis_native only: redis-py implements OCSP (with pyOpenSSL)")
    with pytest.raises(impl.RedisError, match="OCSP"):
        impl.SSLConnection(host="127.0.0.1", port=1, **kw)
    # the defaults are accepted
    impl.SSLConnection(host="127.0.0.1", port=1, ssl_validate_ocsp=False, ssl_validate_ocsp_stapled=False,
                       ssl_ocsp_context=None, ssl_ocsp_expected_cert=None)


def test_native_ocsp_through_redis(impl, impl_name, closing):
    if impl_name == "redis":
        pytest.skip("redis_native only: redis-py implements OCSP (with pyOpenSSL)")
    with pytest.raises(impl.RedisError, match="OCSP"):
        r = closing(impl.Redis(host="127.0.0.1", port=1, ssl=True, ssl_validate_ocsp=True,
                               retry=no_retry(impl)))
        r.ping()


# --------------------------------------------------------------------------- subclass hooks
def _counting_ssl_class(lib, calls, hook):
    class CountingSSL(lib.SSLConnection):
        def _connect(self):
            calls.append("_connect")
            return super()._connect()

    def counted(self, *args, **kwargs):
        calls.append(hook)
        return getattr(super(CountingSSL, self), hook)(*args, **kwargs)

    setattr(CountingSSL, hook, counted)
    return CountingSSL


def test_subclass_hooks_honoured(lib, closing, tls_server):
    # redis-py 7.4's connect() runs _connect() then on_connect_check_health()
    calls = []
    cls = _counting_ssl_class(lib, calls, "on_connect_check_health")
    pool = closing(lib.ConnectionPool(connection_class=cls, host="127.0.0.1",
                                      port=tls_server.tls_port, ssl_ca_certs=tls_server.certs.ca.cert,
                                      retry=no_retry(lib)))
    r = closing(lib.Redis(connection_pool=pool))
    assert_works(r)
    assert calls == ["_connect", "on_connect_check_health"]
    pool.disconnect()
    assert r.ping() is True
    assert calls == ["_connect", "on_connect_check_health"] * 2


def test_native_subclass_on_connect_honoured(impl, impl_name, closing, tls_server):
    if impl_name == "redis":
        pytest.skip("redis_native only: redis-py 7.4's connect() calls on_connect_check_health(), "
                    "not on_connect()")
    calls = []
    cls = _counting_ssl_class(impl, calls, "on_connect")
    pool = closing(impl.ConnectionPool(connection_class=cls, host="127.0.0.1",
                                       port=tls_server.tls_port, ssl_ca_certs=tls_server.certs.ca.cert))
    r = closing(impl.Redis(connection_pool=pool))
    assert_works(r)
    assert calls == ["_connect", "on_connect"]


def test_subclass_connect_failure_propagates(lib, closing, tls_server):
    class Refusing(lib.SSLConnection):
        def on_connect_check_health(self, *args, **kwargs):
            raise lib.AuthenticationError("refused by subclass")

    pool = closing(lib.ConnectionPool(connection_class=Refusing, host="127.0.0.1",
                                      port=tls_server.tls_port, ssl_ca_certs=tls_server.certs.ca.cert,
                                      retry=no_retry(lib)))
    with pytest.raises(lib.AuthenticationError, match="refused by subclass"):
        closing(lib.Redis(connection_pool=pool)).ping()


# --------------------------------------------------------------------------- over an established TLS connection
@pytest.fixture
def tr(api, closing, tls_server):
    """A client of the implementation under test on the TLS server (default retry)."""
    r = closing(api.impl.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True,
                               ssl_ca_certs=tls_server.certs.ca.cert, socket_timeout=30))
    r.flushdb()
    return r


def test_commands_over_tls(api, tr):
    assert tr.set("a", "1") is True
    assert tr.get("a") == b"1"
    assert tr.incr("a") == 2
    assert tr.mset({"b": "x", "c": "y"}) is True
    assert tr.mget("a", "b", "c", "missing") == [b"2", b"x", b"y", None]
    assert tr.rpush("l", *range(100)) == 100
    assert tr.lrange("l", 0, 2) == [b"0", b"1", b"2"]
    with pytest.raises(api.exc.ResponseError):
        tr.incr("l")


def test_pipeline_over_tls(tr):
    p = tr.pipeline(transaction=False)
    for i in range(2000):
        p.set("p:%d" % i, "v%d" % i)
        p.get("p:%d" % i)
    out = p.execute()
    assert out == [x for i in range(2000) for x in (True, b"v%d" % i)]


def test_transaction_and_watch_conflict(api, tr, closing, tls_server):
    with tr.pipeline() as p:
        p.multi()
        p.set("t", "1")
        p.incr("t")
        assert p.execute() == [True, 2]
    other = tls_client(api.impl, closing, tls_server, **ca(tls_server))
    with tr.pipeline() as p:
        p.watch("t")
        assert p.get("t") == b"2"
        other.set("t", "changed")
        p.multi()
        p.set("t", "mine")
        with pytest.raises(api.exc.WatchError):
            p.execute()
    assert tr.get("t") == b"changed"


def test_transaction_helper(tr):
    tr.set("cnt", 5)

    def double(pipe):
        v = int(pipe.get("cnt"))
        pipe.multi()
        pipe.set("cnt", v * 2)

    assert tr.transaction(double, "cnt") == [True]
    assert tr.get("cnt") == b"10"


def test_pubsub_get_message_over_tls(api, tr, closing, tls_server):
    p = tr.pubsub()
    try:
        p.subscribe("tls:ch")
        m = p.get_message(timeout=5)
        assert m == {"type": "subscribe", "pattern": None, "channel": b"tls:ch", "data": 1}
        t0 = time.monotonic()
        assert p.get_message(timeout=0.3) is None
        assert time.monotonic() - t0 < HANG_BOUND
        pub = tls_client(api.impl, closing, tls_server, **ca(tls_server))
        # several messages arrive together: once the first is read, the others
        # sit in the reader or decrypted in the TLS layer (SSL_pending) while
        # the socket itself may have nothing left to read
        payloads = [b"m%d:" % i + b"x" * n for i, n in enumerate((0, 5000, 20000, 70000, 3, 17000))]
        for data in payloads:
            assert pub.publish("tls:ch", data) == 1
        time.sleep(0.2)  # everything is on the client's side before the first read
        got = []
        for _ in payloads:
            m = p.get_message(timeout=5)
            assert m is not None, [len(x) for x in got]
            got.append(m["data"])
        assert got == payloads
        assert p.get_message(timeout=0.1) is None
    finally:
        p.close()


def test_pubsub_run_in_thread_with_health_check(api, closing, tls_server):
    r = closing(api.impl.Redis(host="127.0.0.1", port=tls_server.tls_port, ssl=True,
                               ssl_ca_certs=tls_server.certs.ca.cert, health_check_interval=1))
    pub = tls_client(api.impl, closing, tls_server, **ca(tls_server))
    got = []
    p = r.pubsub()
    p.subscribe(**{"tls:thr": lambda m: got.append(m["data"])})
    th = p.run_in_thread(sleep_time=0.05, daemon=True)
    try:
        assert wait_until(lambda: pub.pubsub_numsub("tls:thr")[0][1] == 1, timeout=10)
        assert pub.publish("tls:thr", "one") == 1
        assert wait_until(lambda: got == [b"one"], timeout=10), got
        time.sleep(1.5)  # past health_check_interval: a PING goes out while subscribed
        assert pub.publish("tls:thr", "two") == 1
        assert wait_until(lambda: got == [b"one", b"two"], timeout=10), got
    finally:
        th.stop()
        th.join(10)
        p.close()
    assert not th.is_alive()
    assert got == [b"one", b"two"]


def test_lock_over_tls(api, tr):
    lock = tr.lock("tls:lock", timeout=10, blocking_timeout=1)
    assert lock.acquire() is True
    assert lock.locked() is True
    assert lock.owned() is True
    other = tr.lock("tls:lock", blocking_timeout=0.2)
    assert other.acquire() is False
    lock.release()
    assert tr.exists("tls:lock") == 0
    with tr.lock("tls:lock2", timeout=5):
        assert tr.exists("tls:lock2") == 1


def test_scripts_over_tls(api, tr):
    s = tr.register_script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}")
    assert s(keys=["tls:sc"], args=["x"]) == [b"tls:sc", b"x", 1]
    tr.script_flush()
    # NOSCRIPT: the Script object loads itself again
    assert s(keys=["tls:sc"], args=["y"]) == [b"tls:sc", b"y", 2]
    sha = tr.script_load("return 42")
    assert tr.evalsha(sha, 0) == 42
    with pytest.raises(api.exc.NoScriptError):
        tr.evalsha("0" * 40, 0)


def test_server_restart_reconnects(api, closing, tls_server_factory):
    lib = api.impl
    srv = tls_server_factory()
    kw = dict(host="127.0.0.1", port=srv.tls_port, ssl=True, ssl_ca_certs=srv.certs.ca.cert, socket_timeout=10)
    retry_once = lambda: api.Retry(api.backoff.NoBackoff(), 1)  # noqa: E731
    pooled = closing(lib.Redis(retry=api.no_retry(), **kw))
    pooled_retry = closing(lib.Redis(retry=retry_once(), **kw))
    single = closing(lib.Redis(retry=api.no_retry(), single_connection_client=True, **kw))
    single_retry = closing(lib.Redis(retry=retry_once(), single_connection_client=True, **kw))
    for r in (pooled, pooled_retry, single, single_retry):
        assert r.set("k", "before") is True
    srv.stop()
    srv.restart()
    # the empty keyspace proves each answer comes from the new server.
    # A pool notices that the server closed an idle connection and reconnects
    # before sending: no error even without retries (redis-py's behaviour).
    assert pooled.get("k") is None
    assert pooled_retry.get("k") is None
    # A single-connection client finds out by its command: one retry hides it...
    assert single_retry.get("k") is None
    # ...without retries redis-py's command fails (ConnectionError("Connection
    # closed by server.")) and the next one reconnects; redis_native probes an
    # idle connection before every request (docs/architecture.md, deliberate
    # differences) and reconnects before sending
    if lib.__name__ == "redis_native":
        assert single.get("k") is None
    else:
        with pytest.raises(lib.ConnectionError):
            single.get("k")
    assert single.get("k") is None
    assert single.set("k", "after") is True
    assert pooled.get("k") == b"after"


def test_server_killed_mid_use_then_back(api, closing, tls_server_factory):
    lib = api.impl
    srv = tls_server_factory()
    r = closing(lib.Redis(host="127.0.0.1", port=srv.tls_port, ssl=True, ssl_ca_certs=srv.certs.ca.cert,
                          retry=api.no_retry(), socket_timeout=5))
    assert r.ping() is True
    srv.kill()
    with pytest.raises(lib.ConnectionError):
        r.ping()
    srv.restart()
    assert r.ping() is True


class _Interrupted(Exception):
    """Raised by the SIGALRM handler of the signal tests."""


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handler_raising_during_tls_read(api, tr, closing, tls_server):
    other = tls_client(api.impl, closing, tls_server, **ca(tls_server))

    def handler(signum, frame):
        raise _Interrupted()

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with pytest.raises(_Interrupted):
            tr.blpop(["tls:sig"], timeout=8)
        assert time.monotonic() - t0 < 6, "the exception waited for the reply"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    # the interrupted connection was dropped, so the server forgot its BLPOP;
    # had it been kept, the push below would complete that BLPOP and its reply
    # would reach the next command as a stale answer
    assert wait_until(lambda: other.info("clients")["blocked_clients"] == 0, timeout=10)
    assert other.rpush("tls:sig", "x") == 1
    assert tr.lpop("tls:sig") == b"x"
    assert tr.ping() is True


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs setitimer")
def test_signal_handler_not_raising_is_invisible_over_tls(tr):
    fired = []
    old = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
        assert tr.blpop(["tls:nothing"], timeout=1) is None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert len(fired) >= 3
    assert tr.echo("after signals") == b"after signals"


def test_threads_share_one_client(tr):
    errors = []

    def work(t):
        try:
            for i in range(100):
                key = "th:%d:%d" % (t, i)
                val = ("%d-%d-" % (t, i)).encode() * (1 + i % 7)
                assert tr.set(key, val) is True
                got = tr.get(key)
                if got != val:
                    errors.append((key, got, val))
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    assert tr.dbsize() == 1600


def test_threads_share_blocking_pool(api, closing, tls_server):
    lib = api.impl
    pool = closing(lib.BlockingConnectionPool(connection_class=lib.SSLConnection, host="127.0.0.1",
                                              port=tls_server.tls_port, ssl_ca_certs=tls_server.certs.ca.cert,
                                              max_connections=3, timeout=60))
    r = closing(lib.Redis(connection_pool=pool))
    errors = []

    def work(t):
        try:
            for i in range(50):
                key = "bp:%d:%d" % (t, i)
                with r.pipeline(transaction=False) as p:
                    p.set(key, key)
                    p.get(key)
                    out = p.execute()
                if out != [True, key.encode()]:
                    errors.append(out)
        except Exception as e:  # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads)
    assert errors == []
    r.delete(*["bp:%d:%d" % (t, i) for t in range(16) for i in range(50)])


def test_64mib_value_each_way(tr):
    big = os.urandom(1024) * (64 * 1024)
    assert len(big) == 64 * 1024 * 1024
    assert tr.set("tls:big", big) is True
    assert tr.strlen("tls:big") == len(big)
    got = tr.get("tls:big")
    assert len(got) == len(big)
    assert got == big
    del got
    assert tr.delete("tls:big") == 1
    assert tr.ping() is True


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_uses_parents_client(tr):
    assert tr.set("fork:parent", "p") is True
    parent_id = tr.client_id()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            ok = tr.get("fork:parent") == b"p" and tr.set("fork:child", "c") is True
            ok = ok and tr.client_id() != parent_id
            tr.close()
            code = 0 if ok else 2
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("forked child hung")
        time.sleep(0.02)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    # the parent's own TLS session survived the child (no close_notify, no shared state)
    assert tr.client_id() == parent_id
    assert tr.get("fork:child") == b"c"
    assert tr.ping() is True


# --------------------------------------------------------------------------- differential
def test_differential_commands(impl, redis_py, closing, tls_server):
    kw = dict(host="127.0.0.1", port=tls_server.tls_port, ssl=True,
              ssl_ca_certs=tls_server.certs.ca.cert, socket_timeout=10)
    for dec in (False, True):
        native = closing(impl.Redis(db=5, decode_responses=dec, **kw))
        oracle = closing(redis_py.Redis(db=5, decode_responses=dec, **kw))
        diffutil.check(native, oracle, [
            ("set", ("k", "v")),
            ("get", ("k",)),
            ("set", ("n", 10), {"ex": 100}),
            ("incrby", ("n", 5)),
            ("hset", ("h",), {"mapping": {"a": "1", "b": "2"}}),
            ("hgetall", ("h",)),
            ("lpush", ("l", "x", "y")),
            ("incr", ("l",)),                       # ResponseError, same message
            ("zadd", ("z", {"a": 1.5, "b": 2})),
            ("zrange", ("z", 0, -1), {"withscores": True}),
            ("get", ("missing",)),
            ("execute_command", ("NOSUCHCOMMAND",)),
            (lambda c: c.pipeline().set("pk", 1).incr("pk").get("pk").execute(),),
            (lambda c: c.register_script("return ARGV[1]")(args=["a"]),),
        ])


def _reason(msg):
    """The OpenSSL / CPython reason in a connection error message."""
    # which of the two a refused client certificate gives is a race (see WRITE_AFTER_ALERT)
    if any(p in msg for p in ("certificate required", "unknown ca") + WRITE_AFTER_ALERT):
        return "server refused the client certificate"
    # CPython ends its ssl messages with its source position, redis_native does not
    m = re.search(r"\] (.*?)(?: \(_ssl\.c:\d+\))?\.?$", msg)
    return m.group(1) if m else msg


def test_differential_failures(impl, redis_py, tls_certs, tls_server, tls_mtls_server, tls_wronghost_server,
                               tls_expired_server, tls_selfsigned_server, tls12_server, silent_server):
    """Each failure raises the same exception class with the same reason in both clients."""
    c = tls_certs
    cases = [
        (tls_server, {}),
        (tls_server, {"ssl_ca_certs": c.unknown_ca.cert}),
        (tls_server, {"ssl_ca_certs": c.ca.cert, "ssl_ciphers": "NOT-A-CIPHER"}),
        (tls_server, {"ssl_ca_certs": c.ca.cert,
                      "ssl_include_verify_flags": [ssl.VerifyFlags.VERIFY_CRL_CHECK_LEAF]}),
        (tls_wronghost_server, {"ssl_ca_certs": c.ca.cert}),
        (tls_expired_server, {"ssl_ca_certs": c.ca.cert}),
        (tls_selfsigned_server, {}),
        (tls_mtls_server, {"ssl_ca_certs": c.ca.cert}),
        (tls_mtls_server, {"ssl_ca_certs": c.ca.cert, "ssl_certfile": c.unknown_client.cert,
                           "ssl_keyfile": c.unknown_client.key}),
        (tls12_server, {"ssl_ca_certs": c.ca.cert, "ssl_min_version": ssl.TLSVersion.TLSv1_3}),
        (silent_server, {"socket_timeout": 0.5}),
    ]
    for srv, kw in cases:
        port = srv.port if srv is silent_server else srv.tls_port
        outcomes = []
        for lib in (impl, redis_py):
            kw2 = dict(kw)
            kw2.setdefault("socket_timeout", 10)
            r = lib.Redis(host="127.0.0.1", port=port, ssl=True, retry=no_retry(lib), **kw2)
            try:
                r.ping()
                outcomes.append(("no error", ""))
            except Exception as e:
                outcomes.append((type(e).__name__, _reason(str(e)).replace(str(port), "PORT")))
            finally:
                r.close()
        assert outcomes[0] == outcomes[1], (srv, kw, outcomes)
        assert outcomes[1][0] in ("ConnectionError", "TimeoutError"), outcomes
