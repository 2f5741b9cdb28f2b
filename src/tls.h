/* TLS on OpenSSL for _native.Connection.
 *
 * _native.TLSContext wraps one SSL_CTX built from SSLConnection's options
 * (verify mode, hostname check, CA and client certificates, minimum version,
 * ciphers, verify flags), with the defaults of Python's
 * ssl.create_default_context(), which redis-py uses.  A connection that
 * started TLS owns one rn_tls: the SSL object on its socket.
 *
 * The socket of a TLS connection is non-blocking: every SSL_read/SSL_write
 * returns at once, and the connection waits with poll() for the time left of
 * its deadline (connection.c), so a pub/sub reader blocked waiting for data
 * never holds the SSL object while a subscribing thread writes.  Each SSL call
 * runs under the rn_tls mutex: OpenSSL does not allow one SSL object in two
 * threads at once, and the connection allows one reader and one writer.
 *
 * The rn_tls_* I/O functions below run with the GIL released; they touch no
 * Python object.
 */
#ifndef RN_TLS_H
#define RN_TLS_H

#include "module.h"

#include <pthread.h>
#include <sys/types.h>
#include <openssl/ssl.h>

typedef struct rn_tls_ctx {
    PyObject_HEAD
    SSL_CTX *ctx;
    int verify_mode;             /* 0 none, 1 optional, 2 required (ssl.VerifyMode) */
    int check_hostname;
    int ocsp_stapled;            /* the server must staple a good OCSP response */
    X509 *ocsp_expected;         /* and its certificate must be this one (or NULL) */
} rn_tls_ctx;

extern PyType_Spec rn_tls_context_type_spec;

typedef struct rn_tls {
    SSL *ssl;
    pthread_mutex_t mu;
    int check_hostname;
    char *hostname;              /* as given, for verification messages */
    int ocsp_stapled;            /* copied from the context at creation */
    X509 *ocsp_expected;         /* a reference of our own, or NULL */
    const char *ocsp_error;      /* why the stapled response was refused */
    int ocsp_unauthorized;       /* the responder said "unauthorized" */
} rn_tls;

/* errno-style value for "OpenSSL reported an error": its queue's code is
 * kept in the calling thread (rn_tls_last_error) for the message. */
#define RN_ETLS 0x7fff0101

/* A new SSL object on `fd` for a client handshake (GIL held): SNI with
 * `hostname` unless it is an IP address; with the context's check_hostname
 * the certificate must match it.  NULL with an exception set. */
rn_tls *rn_tls_new(rn_tls_ctx *ctx, int fd, const char *hostname);

/* Free without writing anything to the socket (no close_notify: redis-py
 * closes TLS sockets without one, and a forked child must never write). */
void rn_tls_free(rn_tls *t);

/* One non-blocking step (GIL released).  Return > 0 (bytes moved, or 1 for
 * a finished handshake), 0 at a clean end of stream (reads), or -1: *want
 * is POLLIN/POLLOUT when the step would block, else 0 and *err is an errno
 * value or RN_ETLS. */
int rn_tls_handshake_step(rn_tls *t, int *want, int *err);
ssize_t rn_tls_read(rn_tls *t, char *buf, size_t n, int *want, int *err);
ssize_t rn_tls_write(rn_tls *t, const char *buf, size_t n, int *want, int *err);

/* Bytes already inside OpenSSL (decrypted or read ahead) that poll() on the
 * socket cannot see. */
int rn_tls_has_pending(rn_tls *t);

/* An idle connection's check (GIL held, non-blocking): 0 when nothing is
 * waiting (post-handshake messages such as session tickets are consumed),
 * 1 when application data, an end of stream or an error is there. */
int rn_tls_idle_unusable(rn_tls *t);

/* Raise the exception for a failed handshake (GIL held), as Python's ssl
 * module would: ssl.SSLCertVerificationError for a rejected certificate,
 * ssl.SSLEOFError, ssl.SSLError with "[LIB: REASON] reason", or OSError. */
void rn_tls_raise_handshake(rn_tls *t, int err);

/* "[SSL: REASON] reason text" for the last TLS error of this thread (new
 * reference), or NULL with an exception set. */
PyObject *rn_tls_error_text(void);

#endif
