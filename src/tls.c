/* TLS on OpenSSL: _native.TLSContext and the SSL object of a connection.
 * See tls.h for who calls what with or without the GIL. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The cipher string of Python's ssl.create_default_context() (TLS 1.2 and
 * below; TLS 1.3 suites are OpenSSL's defaults). */
#define RN_DEFAULT_CIPHERS \
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"

/* ssl.TLSVersion values */
#define RN_PROTO_MINIMUM_SUPPORTED (-2)
#define RN_PROTO_MAXIMUM_SUPPORTED (-1)

/* The OpenSSL error code of the last failed TLS call in this thread: set
 * with the GIL released by the thread that then raises with it held. */
static _Thread_local unsigned long tls_last_code;

/* ------------------------------------------------------------------ */
/* error text and exceptions (GIL held)                                 */

static const char *
lib_mnemonic(int lib)
{
    switch (lib) {
    case ERR_LIB_SSL: return "SSL";
    case ERR_LIB_X509: return "X509";
    case ERR_LIB_X509V3: return "X509V3";
    case ERR_LIB_PEM: return "PEM";
    case ERR_LIB_EVP: return "EVP";
    case ERR_LIB_ASN1: return "ASN1";
    case ERR_LIB_BIO: return "BIO";
    case ERR_LIB_PKCS12: return "PKCS12";
    case ERR_LIB_SYS: return "SYS";
#ifdef ERR_LIB_PROV
    case ERR_LIB_PROV: return "PROV";
#endif
#ifdef ERR_LIB_DECODER
    case ERR_LIB_DECODER: return "DECODER";
#endif
    default: return NULL;
    }
}

/* "[LIB: REASON_MNEMONIC] reason" for an OpenSSL error code, as Python's
 * ssl module words its errors (without its source position). */
static PyObject *
error_text_for(unsigned long code, const char *fallback)
{
    const char *reason = code ? ERR_reason_error_string(code) : NULL;
    if (reason == NULL)
        return PyUnicode_FromString(fallback);
    char mnem[128];
    size_t i = 0;
    for (; reason[i] && i < sizeof mnem - 1; i++) {
        char ch = reason[i];
        mnem[i] = ch == ' ' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    mnem[i] = '\0';
    const char *lib = lib_mnemonic(ERR_GET_LIB(code));
    if (lib != NULL)
        return PyUnicode_FromFormat("[%s: %s] %s", lib, mnem, reason);
    return PyUnicode_FromFormat("[%s] %s", mnem, reason);
}

PyObject *
rn_tls_error_text(void)
{
    return error_text_for(tls_last_code, "TLS error");
}

/* ssl.<name> (new reference) */
static PyObject *
ssl_attr(const char *name)
{
    PyObject *mod = PyImport_ImportModule("ssl");
    if (mod == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(mod, name);
    Py_DECREF(mod);
    return cls;
}

/* Raise ssl.<cls>(errcode, text) */
static void
raise_ssl(const char *cls_name, int errcode, PyObject *text)
{
    if (text == NULL)
        return;
    PyObject *cls = ssl_attr(cls_name);
    if (cls != NULL) {
        PyObject *exc = PyObject_CallFunction(cls, "iO", errcode, text);
        if (exc != NULL) {
            PyErr_SetObject(cls, exc);
            Py_DECREF(exc);
        }
        Py_DECREF(cls);
    }
    Py_DECREF(text);
}

/* The exception for an OpenSSL failure outside a handshake (loading files,
 * settings): OSError for a system error (a missing file), else ssl.SSLError.
 * Clears OpenSSL's error queue. */
static void
raise_file_error(int sys_errno, const char *fallback, PyObject *filename)
{
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (sys_errno == 0 && code != 0 && ERR_GET_LIB(code) == ERR_LIB_SYS)
        sys_errno = ERR_GET_REASON(code);
    if (sys_errno != 0) {
        errno = sys_errno;
        if (filename != NULL)
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
        else
            PyErr_SetFromErrno(PyExc_OSError);
        return;
    }
    raise_ssl("SSLError", code ? (int)code : 1, error_text_for(code, fallback));
}

static void
raise_from_queue(const char *fallback, PyObject *filename)
{
    raise_file_error(0, fallback, filename);
}

void
rn_tls_raise_handshake(rn_tls *t, int err)
{
    if (err == ETIMEDOUT) {
        PyErr_SetString(PyExc_TimeoutError, "The handshake operation timed out");
        return;
    }
    if (err == 0) {
        raise_ssl("SSLEOFError", 8,
                  PyUnicode_FromString("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred "
                                       "in violation of protocol"));
        return;
    }
    if (err != RN_ETLS) {
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        return;
    }
    if (t != NULL && t->ocsp_error != NULL) {
        /* refused in the status callback: redis-py's exceptions and words */
        PyObject *mod = PyImport_ImportModule("redis_native.exceptions");
        PyObject *cls = mod ? PyObject_GetAttrString(
            mod, t->ocsp_unauthorized ? "AuthorizationError" : "ConnectionError") : NULL;
        if (cls != NULL)
            PyErr_SetString(cls, t->ocsp_error);
        Py_XDECREF(cls);
        Py_XDECREF(mod);
        return;
    }
    unsigned long code = tls_last_code;
    long vr = t != NULL && t->ssl != NULL ? SSL_get_verify_result(t->ssl) : X509_V_OK;
    if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
        ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK) {
        PyObject *vmsg;
        if (vr == X509_V_ERR_HOSTNAME_MISMATCH)
            vmsg = PyUnicode_FromFormat("Hostname mismatch, certificate is not valid for '%s'.",
                                        t->hostname ? t->hostname : "");
        else if (vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
            vmsg = PyUnicode_FromFormat("IP address mismatch, certificate is not valid for '%s'.",
                                        t->hostname ? t->hostname : "");
        else
            vmsg = PyUnicode_FromString(X509_verify_cert_error_string(vr));
        if (vmsg == NULL)
            return;
        PyObject *text = PyUnicode_FromFormat(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %U", vmsg);
        PyObject *cls = text ? ssl_attr("SSLCertVerificationError") : NULL;
        PyObject *exc = cls ? PyObject_CallFunction(cls, "iO", 1, text) : NULL;
        if (exc != NULL) {
            PyObject *vcode = PyLong_FromLong(vr);
            if (vcode == NULL ||
                PyObject_SetAttrString(exc, "verify_code", vcode) < 0 ||
                PyObject_SetAttrString(exc, "verify_message", vmsg) < 0) {
                Py_CLEAR(exc);
            }
            Py_XDECREF(vcode);
        }
        if (exc != NULL) {
            PyErr_SetObject(cls, exc);
            Py_DECREF(exc);
        }
        Py_XDECREF(cls);
        Py_XDECREF(text);
        Py_DECREF(vmsg);
        return;
    }
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
    if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
        ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        rn_tls_raise_handshake(t, 0);
        return;
    }
#endif
    raise_ssl("SSLError", 1, error_text_for(code, "TLS handshake failed"));
}

/* ------------------------------------------------------------------ */
/* the SSL object of a connection                                       */

static int
is_ip_address(const char *host)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* The issuer of `cert`: from the chain the server sent, else from the
 * trust store.  A new reference or NULL. */
static X509 *
find_issuer(SSL *s, X509 *cert)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *c = sk_X509_value(chain, i);
        if (c != cert && X509_check_issued(c, cert) == X509_V_OK) {
            X509_up_ref(c);
            return c;
        }
    }
    X509 *issuer = NULL;
    X509_STORE_CTX *sctx = X509_STORE_CTX_new();
    if (sctx != NULL &&
        X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(s)), cert, chain) == 1 &&
        X509_STORE_CTX_get1_issuer(&issuer, sctx, cert) != 1)
        issuer = NULL;
    X509_STORE_CTX_free(sctx);
    return issuer;
}

/* Check the OCSP response stapled to the handshake (OpenSSL calls this with
 * the handshake in progress: GIL released, rn_tls mutex held).  1 accepts;
 * 0 fails the handshake, t->ocsp_error saying why (redis-py's words where it
 * has them). */
static int
ocsp_status_cb(SSL *s, void *arg)
{
    (void)arg;
    rn_tls *t = SSL_get_app_data(s);
    const unsigned char *p = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(s, &p);
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *bs = NULL;
    OCSP_CERTID *id = NULL;
    X509 *issuer = NULL;
    int ok = 0;
    X509 *leaf = SSL_get0_peer_certificate(s);
    if (t == NULL)
        return 0;
    if (p == NULL || len <= 0) {
        t->ocsp_error = "no ocsp response present";
        goto done;
    }
    if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL) {
        t->ocsp_error = "the stapled ocsp response cannot be parsed";
        goto done;
    }
    int status = OCSP_response_status(resp);
    if (status == OCSP_RESPONSE_STATUS_UNAUTHORIZED) {
        t->ocsp_unauthorized = 1;
        t->ocsp_error = "you are not authorized to view this ocsp certificate";
        goto done;
    }
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
        (bs = OCSP_response_get1_basic(resp)) == NULL) {
        t->ocsp_error = "failed to retrieve a successful response from the ocsp responder";
        goto done;
    }
    if (leaf == NULL) {
        t->ocsp_error = "the server sent no certificate";
        goto done;
    }
    if (t->ocsp_expected != NULL && X509_cmp(leaf, t->ocsp_expected) != 0) {
        t->ocsp_error = "received and expected certificates do not match";
        goto done;
    }
    if ((issuer = find_issuer(s, leaf)) == NULL) {
        t->ocsp_error = "no matching issuer cert found in certificate chain";
        goto done;
    }
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s);
    STACK_OF(X509) *signers = sk_X509_new_null();
    if (signers == NULL) {
        t->ocsp_error = "out of memory";
        goto done;
    }
    sk_X509_push(signers, issuer);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++)
        sk_X509_push(signers, sk_X509_value(chain, i));
    int verified = OCSP_basic_verify(bs, signers, SSL_CTX_get_cert_store(SSL_get_SSL_CTX(s)),
                                     0);
    sk_X509_free(signers);
    if (verified <= 0) {
        t->ocsp_error = "failed to validate the ocsp response (signature or responder)";
        goto done;
    }
    int cert_status, reason;
    ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
    if ((id = OCSP_cert_to_id(NULL, leaf, issuer)) == NULL ||
        !OCSP_resp_find_status(bs, id, &cert_status, &reason, &rev, &thisupd, &nextupd)) {
        t->ocsp_error = "the ocsp response has no status for the server certificate";
        goto done;
    }
    if (cert_status == V_OCSP_CERTSTATUS_REVOKED) {
        t->ocsp_error = "Received an REVOKED ocsp certificate status";
        goto done;
    }
    if (cert_status != V_OCSP_CERTSTATUS_GOOD) {
        t->ocsp_error = "Received an UNKNOWN ocsp certificate status";
        goto done;
    }
    if (!OCSP_check_validity(thisupd, nextupd, 300, -1)) {
        t->ocsp_error = "ocsp certificate has invalid update - outside its validity period";
        goto done;
    }
    ok = 1;
done:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    X509_free(issuer);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
    return ok;
}

rn_tls *
rn_tls_new(rn_tls_ctx *ctx, int fd, const char *hostname)
{
    rn_tls *t = PyMem_Calloc(1, sizeof *t);
    if (t == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->check_hostname = ctx->check_hostname;
    if (hostname != NULL) {
        size_t n = strlen(hostname);
        t->hostname = PyMem_Malloc(n + 1);
        if (t->hostname == NULL) {
            PyErr_NoMemory();
            goto error;
        }
        memcpy(t->hostname, hostname, n + 1);
    }
    ERR_clear_error();
    t->ssl = SSL_new(ctx->ctx);
    if (t->ssl == NULL || !SSL_set_fd(t->ssl, fd)) {
        raise_from_queue("SSL_new failed", NULL);
        goto error;
    }
    if (hostname != NULL) {
        int ip = is_ip_address(hostname);
        if (!ip && !SSL_set_tlsext_host_name(t->ssl, hostname)) {
            raise_from_queue("invalid server name", NULL);
            goto error;
        }
        if (ctx->check_hostname) {
            X509_VERIFY_PARAM *p = SSL_get0_param(t->ssl);
            X509_VERIFY_PARAM_set_hostflags(p, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(p, hostname)
                        : X509_VERIFY_PARAM_set1_host(p, hostname, 0);
            if (!ok) {
                raise_from_queue("invalid server name", NULL);
                goto error;
            }
        }
    }
    else if (ctx->check_hostname) {
        PyErr_SetString(PyExc_ValueError, "check_hostname requires server_hostname");
        goto error;
    }
    if (ctx->ocsp_stapled) {
        t->ocsp_stapled = 1;
        if (ctx->ocsp_expected != NULL) {
            X509_up_ref(ctx->ocsp_expected);
            t->ocsp_expected = ctx->ocsp_expected;
        }
        SSL_set_app_data(t->ssl, t);
        if (!SSL_set_tlsext_status_type(t->ssl, TLSEXT_STATUSTYPE_ocsp)) {
            raise_from_queue("cannot request an OCSP staple", NULL);
            goto error;
        }
    }
    SSL_set_connect_state(t->ssl);
    return t;
error:
    rn_tls_free(t);
    return NULL;
}

void
rn_tls_free(rn_tls *t)
{
    if (t == NULL)
        return;
    if (t->ssl != NULL) {
        /* Marks the session as shut down so that SSL_free sends nothing and
         * never caches it for a resumption. */
        SSL_set_quiet_shutdown(t->ssl, 1);
        SSL_free(t->ssl);
    }
    X509_free(t->ocsp_expected);
    PyMem_Free(t->hostname);
    /* The mutex is not destroyed: in a forked child it may have been held
     * by a thread that no longer exists; its memory is simply released. */
    PyMem_Free(t);
}

/* Classify the result `r` of an SSL call (mutex held). */
static int
classify(rn_tls *t, int r, int *want, int *err)
{
    int e = SSL_get_error(t->ssl, r);
    int saved = errno;
    *want = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = POLLIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = POLLOUT;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        tls_last_code = ERR_peek_last_error();
        ERR_clear_error();
        if (tls_last_code != 0) {
            *err = RN_ETLS;
            return -1;
        }
        if (saved == 0)
            return 0;               /* end of stream without close_notify */
        if (saved == EAGAIN || saved == EWOULDBLOCK) {
            *want = POLLIN;
            return -1;
        }
        *err = saved;
        return -1;
    default:
        tls_last_code = ERR_peek_last_error();
        ERR_clear_error();
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        if (ERR_GET_LIB(tls_last_code) == ERR_LIB_SSL &&
            ERR_GET_REASON(tls_last_code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            return 0;
#endif
        *err = RN_ETLS;
        return -1;
    }
}

int
rn_tls_handshake_step(rn_tls *t, int *want, int *err)
{
    pthread_mutex_lock(&t->mu);
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    int rc = r == 1 ? 1 : classify(t, r, want, err);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

ssize_t
rn_tls_read(rn_tls *t, char *buf, size_t n, int *want, int *err)
{
    size_t got = 0;
    pthread_mutex_lock(&t->mu);
    ERR_clear_error();
    errno = 0;
    int r = SSL_read_ex(t->ssl, buf, n, &got);
    ssize_t rc = r == 1 ? (ssize_t)got : classify(t, 0, want, err);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

ssize_t
rn_tls_write(rn_tls *t, const char *buf, size_t n, int *want, int *err)
{
    size_t done = 0;
    pthread_mutex_lock(&t->mu);
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(t->ssl, buf, n, &done);
    ssize_t rc;
    if (r == 1) {
        rc = (ssize_t)done;
    }
    else {
        rc = classify(t, 0, want, err);
        if (rc == 0) {              /* no "end of stream" for a write */
            *err = EPIPE;
            rc = -1;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int
rn_tls_has_pending(rn_tls *t)
{
    pthread_mutex_lock(&t->mu);
    int r = SSL_has_pending(t->ssl);
    pthread_mutex_unlock(&t->mu);
    return r;
}

int
rn_tls_idle_unusable(rn_tls *t)
{
    char byte;
    size_t got = 0;
    int want = 0, err = 0;
    pthread_mutex_lock(&t->mu);
    ERR_clear_error();
    errno = 0;
    int r = SSL_peek_ex(t->ssl, &byte, 1, &got);
    int rc = r == 1 ? 1 : classify(t, 0, &want, &err) == -1 && want != 0 ? 0 : 1;
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* ------------------------------------------------------------------ */
/* _native.TLSContext                                                   */

static int
no_password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return 0;               /* never prompt on a terminal: no password given */
}

static int
password_cb(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    PyObject *pw = userdata;            /* bytes, kept alive by the caller */
    Py_ssize_t n = PyBytes_GET_SIZE(pw);
    if (n > size)
        return 0;
    memcpy(buf, PyBytes_AS_STRING(pw), (size_t)n);
    return (int)n;
}

static PyObject *
tlsctx_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"verify_mode", "check_hostname", NULL};
    int verify_mode = 2, check_hostname = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|ip:TLSContext", kwlist, &verify_mode,
                                     &check_hostname))
        return NULL;
    if (verify_mode < 0 || verify_mode > 2) {
        PyErr_SetString(PyExc_ValueError, "invalid value for verify_mode");
        return NULL;
    }
    if (verify_mode == 0 && check_hostname) {
        PyErr_SetString(PyExc_ValueError,
                        "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
        return NULL;
    }
    rn_tls_ctx *self = (rn_tls_ctx *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->verify_mode = verify_mode;
    self->check_hostname = check_hostname;
    ERR_clear_error();
    self->ctx = SSL_CTX_new(TLS_client_method());
    if (self->ctx == NULL) {
        raise_from_queue("SSL_CTX_new failed", NULL);
        Py_DECREF(self);
        return NULL;
    }
    SSL_CTX *ctx = self->ctx;
    /* the settings of Python's ssl.create_default_context() */
    SSL_CTX_set_options(ctx, (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) |
                             SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION |
                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_DH_USE |
                             SSL_OP_SINGLE_ECDH_USE);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* a server closing without close_notify ends the stream, as Python's
     * sockets (suppress_ragged_eofs) report it */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_read_ahead(ctx, 1);     /* one recv() takes every record there */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        !SSL_CTX_set_cipher_list(ctx, RN_DEFAULT_CIPHERS)) {
        raise_from_queue("cannot apply the default TLS settings", NULL);
        Py_DECREF(self);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, verify_mode == 0 ? SSL_VERIFY_NONE
                          : verify_mode == 1 ? SSL_VERIFY_PEER
                          : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return (PyObject *)self;
}

static void
tlsctx_dealloc(rn_tls_ctx *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->ctx != NULL)
        SSL_CTX_free(self->ctx);
    X509_free(self->ocsp_expected);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
tlsctx_load_default_certs(rn_tls_ctx *self, PyObject *unused)
{
    (void)unused;
    ERR_clear_error();
    if (!SSL_CTX_set_default_verify_paths(self->ctx)) {
        raise_from_queue("cannot load the default CA certificates", NULL);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A password as bytes: str (UTF-8), bytes-like, or a callable returning one
 * (as SSLContext.load_cert_chain takes it).  New reference or NULL. */
static PyObject *
password_bytes(PyObject *pw)
{
    PyObject *v = NULL;
    if (PyCallable_Check(pw)) {
        v = PyObject_CallNoArgs(pw);
        if (v == NULL)
            return NULL;
    }
    else {
        v = Py_NewRef(pw);
    }
    PyObject *b = NULL;
    if (PyUnicode_Check(v))
        b = PyUnicode_AsUTF8String(v);
    else if (PyObject_CheckBuffer(v))
        b = PyBytes_FromObject(v);
    else
        PyErr_SetString(PyExc_TypeError, "password should be a string or bytes");
    Py_DECREF(v);
    if (b != NULL && PyBytes_GET_SIZE(b) > 1024) {
        PyErr_SetString(PyExc_ValueError, "password cannot be longer than 1024 bytes");
        Py_CLEAR(b);
    }
    return b;
}

static PyObject *
tlsctx_load_cert_chain(rn_tls_ctx *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"certfile", "keyfile", "password", NULL};
    PyObject *certfile = NULL, *keyfile = Py_None, *password = Py_None;
    PyObject *cert_b = NULL, *key_b = NULL, *pw = NULL, *result = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|OO:load_cert_chain", kwlist, &certfile,
                                     &keyfile, &password))
        return NULL;
    if (!PyUnicode_FSConverter(certfile, &cert_b))
        return NULL;
    if (keyfile != Py_None && !PyUnicode_FSConverter(keyfile, &key_b))
        goto done;
    if (password != Py_None && (pw = password_bytes(password)) == NULL)
        goto done;
    SSL_CTX *ctx = self->ctx;
    if (pw != NULL) {
        SSL_CTX_set_default_passwd_cb(ctx, password_cb);
        SSL_CTX_set_default_passwd_cb_userdata(ctx, pw);
    }
    ERR_clear_error();
    const char *cert_path = PyBytes_AS_STRING(cert_b);
    const char *key_path = key_b ? PyBytes_AS_STRING(key_b) : cert_path;
    int ok, e = 0;
    Py_BEGIN_ALLOW_THREADS
    errno = 0;
    ok = SSL_CTX_use_certificate_chain_file(ctx, cert_path);
    e = errno;
    Py_END_ALLOW_THREADS
    if (!ok) {
        raise_file_error(e, "PEM lib", certfile);
        goto restore;
    }
    Py_BEGIN_ALLOW_THREADS
    errno = 0;
    ok = SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM);
    e = errno;
    Py_END_ALLOW_THREADS
    if (!ok) {
        raise_file_error(e, "PEM lib", key_b ? keyfile : certfile);
        goto restore;
    }
    if (!SSL_CTX_check_private_key(ctx)) {
        raise_from_queue("key values mismatch", NULL);
        goto restore;
    }
    result = Py_NewRef(Py_None);
restore:
    SSL_CTX_set_default_passwd_cb(ctx, no_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
done:
    Py_XDECREF(cert_b);
    Py_XDECREF(key_b);
    Py_XDECREF(pw);
    return result;
}

/* Certificates given as data: PEM text (str) or DER (bytes-like), added to
 * the trust store, as SSLContext.load_verify_locations(cadata=...). */
static int
load_cadata(SSL_CTX *ctx, PyObject *cadata)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int pem = PyUnicode_Check(cadata), count = 0;
    Py_buffer view = {0};
    const char *data;
    Py_ssize_t len;
    if (pem) {
        data = PyUnicode_AsUTF8AndSize(cadata, &len);
        if (data == NULL)
            return -1;
    }
    else {
        if (PyObject_GetBuffer(cadata, &view, PyBUF_SIMPLE) < 0) {
            PyErr_SetString(PyExc_TypeError, "cadata should be an ASCII string or a bytes-like object");
            return -1;
        }
        data = view.buf;
        len = view.len;
    }
    int rc = -1;
    BIO *bio = NULL;
    if (len > INT_MAX) {            /* a BIO length is an int */
        PyErr_SetString(PyExc_ValueError, "cadata is too large");
        goto done;
    }
    ERR_clear_error();
    bio = BIO_new_mem_buf(data, (int)len);
    if (bio == NULL) {
        raise_from_queue("cannot read cadata", NULL);
        goto done;
    }
    for (;;) {
        X509 *cert = pem ? PEM_read_bio_X509(bio, NULL, NULL, NULL)
                         : d2i_X509_bio(bio, NULL);
        if (cert == NULL)
            break;
        int ok = X509_STORE_add_cert(store, cert);
        X509_free(cert);
        if (!ok) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_LIB(e) != ERR_LIB_X509 ||
                ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
                raise_from_queue("cannot add a CA certificate", NULL);
                goto done;
            }
            ERR_clear_error();
        }
        count++;
    }
    if (count == 0) {
        raise_from_queue(pem ? "no start line: cadata does not contain a certificate"
                             : "not enough data: cadata does not contain a certificate", NULL);
        goto done;
    }
    ERR_clear_error();      /* the end of the data is reported as an error */
    rc = 0;
done:
    if (bio != NULL)
        BIO_free(bio);
    if (!pem)
        PyBuffer_Release(&view);
    return rc;
}

static PyObject *
tlsctx_load_verify_locations(rn_tls_ctx *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"cafile", "capath", "cadata", NULL};
    PyObject *cafile = Py_None, *capath = Py_None, *cadata = Py_None;
    PyObject *file_b = NULL, *path_b = NULL, *result = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOO:load_verify_locations", kwlist,
                                     &cafile, &capath, &cadata))
        return NULL;
    if (cafile == Py_None && capath == Py_None && cadata == Py_None) {
        PyErr_SetString(PyExc_TypeError, "cafile, capath and cadata cannot be all omitted");
        return NULL;
    }
    if (cafile != Py_None && !PyUnicode_FSConverter(cafile, &file_b))
        goto done;
    if (capath != Py_None && !PyUnicode_FSConverter(capath, &path_b))
        goto done;
    if (cadata != Py_None && load_cadata(self->ctx, cadata) < 0)
        goto done;
    if (file_b != NULL || path_b != NULL) {
        int ok, e = 0;
        ERR_clear_error();
        const char *f = file_b ? PyBytes_AS_STRING(file_b) : NULL;
        const char *p = path_b ? PyBytes_AS_STRING(path_b) : NULL;
        Py_BEGIN_ALLOW_THREADS
        errno = 0;
        ok = SSL_CTX_load_verify_locations(self->ctx, f, p);
        e = errno;
        Py_END_ALLOW_THREADS
        if (!ok) {
            raise_file_error(e, "cannot load the CA certificates", file_b ? cafile : capath);
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(file_b);
    Py_XDECREF(path_b);
    return result;
}

static PyObject *
tlsctx_set_ciphers(rn_tls_ctx *self, PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    if (s == NULL)
        return NULL;
    ERR_clear_error();
    if (!SSL_CTX_set_cipher_list(self->ctx, s)) {
        ERR_clear_error();
        PyObject *cls = ssl_attr("SSLError");       /* one argument, as Python's */
        if (cls != NULL) {
            PyErr_SetString(cls, "No cipher can be selected.");
            Py_DECREF(cls);
        }
        return NULL;
    }
    Py_RETURN_NONE;
}

/* set_minimum_version(v): an ssl.TLSVersion value (an int). */
static PyObject *
tlsctx_set_minimum_version(rn_tls_ctx *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    int proto;
    if (v == RN_PROTO_MINIMUM_SUPPORTED)
        proto = 0;
    else if (v == RN_PROTO_MAXIMUM_SUPPORTED)
        proto = TLS1_3_VERSION;
    else if (v == SSL3_VERSION || v == TLS1_VERSION || v == TLS1_1_VERSION ||
             v == TLS1_2_VERSION || v == TLS1_3_VERSION)
        proto = (int)v;
    else {
        PyErr_Format(PyExc_ValueError, "Unsupported TLS/SSL version 0x%lx", v);
        return NULL;
    }
    ERR_clear_error();
    if (!SSL_CTX_set_min_proto_version(self->ctx, proto)) {
        ERR_clear_error();
        PyErr_Format(PyExc_ValueError, "Unsupported protocol version 0x%x", proto);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* set_verify_flags(add, remove): X509 verification flags, as ssl.VerifyFlags
 * values (which are OpenSSL's X509_V_FLAG_* bits). */
static PyObject *
tlsctx_set_verify_flags(rn_tls_ctx *self, PyObject *args)
{
    unsigned long add, remove;
    if (!PyArg_ParseTuple(args, "kk:set_verify_flags", &add, &remove))
        return NULL;
    X509_VERIFY_PARAM *p = SSL_CTX_get0_param(self->ctx);
    if ((add && !X509_VERIFY_PARAM_set_flags(p, add)) ||
        (remove && !X509_VERIFY_PARAM_clear_flags(p, remove))) {
        raise_from_queue("cannot set the verify flags", NULL);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* require_ocsp_staple(expected_cert=None): the server must staple a good
 * OCSP response for its certificate (checked during the handshake), and its
 * certificate must be expected_cert (PEM text or bytes) when given. */
static PyObject *
tlsctx_require_ocsp_staple(rn_tls_ctx *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"expected_cert", NULL};
    PyObject *expected = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:require_ocsp_staple", kwlist, &expected))
        return NULL;
    X509 *cert = NULL;
    if (expected != Py_None) {
        Py_buffer view;
        const char *data;
        Py_ssize_t len;
        int is_str = PyUnicode_Check(expected);
        if (is_str) {
            if ((data = PyUnicode_AsUTF8AndSize(expected, &len)) == NULL)
                return NULL;
        }
        else if (PyObject_GetBuffer(expected, &view, PyBUF_SIMPLE) == 0) {
            data = view.buf;
            len = view.len;
        }
        else {
            PyErr_SetString(PyExc_TypeError,
                            "ssl_ocsp_expected_cert must be a PEM certificate (str or bytes)");
            return NULL;
        }
        ERR_clear_error();
        BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
        if (bio != NULL) {
            cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
            BIO_free(bio);
        }
        if (!is_str)
            PyBuffer_Release(&view);
        if (cert == NULL) {
            ERR_clear_error();
            PyErr_SetString(PyExc_ValueError,
                            "ssl_ocsp_expected_cert is not a PEM certificate");
            return NULL;
        }
    }
    X509_free(self->ocsp_expected);
    self->ocsp_expected = cert;
    self->ocsp_stapled = 1;
    SSL_CTX_set_tlsext_status_cb(self->ctx, ocsp_status_cb);
    Py_RETURN_NONE;
}

static PyObject *
tlsctx_get_verify_flags(rn_tls_ctx *self, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(self->ctx)));
}

static PyObject *
tlsctx_get_verify_mode(rn_tls_ctx *self, void *closure)
{
    (void)closure;
    return PyLong_FromLong(self->verify_mode);
}

static PyObject *
tlsctx_get_check_hostname(rn_tls_ctx *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->check_hostname);
}

static PyMethodDef tlsctx_methods[] = {
    {"load_default_certs", (PyCFunction)tlsctx_load_default_certs, METH_NOARGS,
     "Trust the system's default CA certificates."},
    {"load_cert_chain", (PyCFunction)(void (*)(void))tlsctx_load_cert_chain,
     METH_VARARGS | METH_KEYWORDS,
     "load_cert_chain(certfile, keyfile=None, password=None)\n--\n\n"
     "The client certificate (PEM) and its private key; password unlocks an encrypted key."},
    {"load_verify_locations", (PyCFunction)(void (*)(void))tlsctx_load_verify_locations,
     METH_VARARGS | METH_KEYWORDS,
     "load_verify_locations(cafile=None, capath=None, cadata=None)\n--\n\n"
     "Trust these CA certificates (a PEM file, a hashed directory, PEM text or DER bytes)."},
    {"set_ciphers", (PyCFunction)tlsctx_set_ciphers, METH_O,
     "Restrict the TLS 1.2 and older cipher suites (an OpenSSL cipher string)."},
    {"set_minimum_version", (PyCFunction)tlsctx_set_minimum_version, METH_O,
     "The lowest protocol version, an ssl.TLSVersion."},
    {"require_ocsp_staple", (PyCFunction)(void (*)(void))tlsctx_require_ocsp_staple,
     METH_VARARGS | METH_KEYWORDS,
     "require_ocsp_staple(expected_cert=None)\n--\n\n"
     "Fail the handshake unless the server staples a good, verified OCSP response."},
    {"set_verify_flags", (PyCFunction)tlsctx_set_verify_flags, METH_VARARGS,
     "set_verify_flags(add, remove)\n--\n\nSet and clear ssl.VerifyFlags bits."},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef tlsctx_getset[] = {
    {"verify_flags", (getter)tlsctx_get_verify_flags, NULL, "the X509 verify flags", NULL},
    {"verify_mode", (getter)tlsctx_get_verify_mode, NULL, "0 none, 1 optional, 2 required", NULL},
    {"check_hostname", (getter)tlsctx_get_check_hostname, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot tlsctx_slots[] = {
    {Py_tp_new, tlsctx_new},
    {Py_tp_dealloc, tlsctx_dealloc},
    {Py_tp_methods, tlsctx_methods},
    {Py_tp_getset, tlsctx_getset},
    {Py_tp_doc, "TLSContext(verify_mode=2, check_hostname=True)\n--\n\n"
                "OpenSSL client settings shared by TLS connections."},
    {0, NULL}
};

PyType_Spec rn_tls_context_type_spec = {
    .name = "redis_native._native.TLSContext",
    .basicsize = sizeof(rn_tls_ctx),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = tlsctx_slots,
};
