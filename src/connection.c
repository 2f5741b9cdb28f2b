/* _native.Connection: socket, timeouts, send/receive with the GIL released.
 *
 * The socket is kept in blocking mode with SO_RCVTIMEO/SO_SNDTIMEO set to
 * socket_timeout, so a request/response costs one send() and usually one
 * recv(): the kernel enforces the timeout (EAGAIN) and a signal interrupts the
 * call (EINTR, Python installs its handlers without SA_RESTART), after which we
 * run PyErr_CheckSignals() and resume or give up.  Only connect() uses a
 * non-blocking socket plus poll(), against a monotonic deadline.
 *
 * Invariant: a connection on which a command was sent but whose complete reply
 * was not read (timeout, signal, exception, protocol error) is disconnected
 * before control returns to Python, so it can never hand a stale reply to the
 * next command.
 */
#include "connection.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "structmember.h"

double
rn_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* socket helpers, all callable without the GIL                        */

static void
timeval_from(double seconds, struct timeval *tv)
{
    if (seconds <= 0) {           /* <0: none (block forever); 0 handled by caller */
        tv->tv_sec = 0;
        tv->tv_usec = 0;
        return;
    }
    tv->tv_sec = (time_t)seconds;
    tv->tv_usec = (suseconds_t)((seconds - (double)tv->tv_sec) * 1e6);
    if (tv->tv_sec == 0 && tv->tv_usec == 0)
        tv->tv_usec = 1;
}

static int
apply_io_timeouts(int fd, double timeout)
{
    struct timeval tv;
    timeval_from(timeout, &tv);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
        return -1;
    return 0;
}

static int
set_nonblocking(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0)
        return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

/* Non-blocking connect against a deadline (timeout < 0: none).
 * Returns 0, or an errno value (ETIMEDOUT for the deadline, EINTR for a
 * signal: the caller checks signals and gives up). */
static int
connect_with_timeout(int fd, const struct sockaddr *addr, socklen_t len, double timeout)
{
    if (set_nonblocking(fd, 1) < 0)
        return errno;
    if (connect(fd, addr, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return errno;
    double deadline = timeout < 0 ? 0 : rn_monotonic() + timeout;
    for (;;) {
        int ms = -1;
        if (timeout >= 0) {
            double left = deadline - rn_monotonic();
            if (left <= 0)
                return ETIMEDOUT;
            ms = (int)(left * 1000.0) + 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, ms);
        if (rc < 0)
            return errno;   /* EINTR included */
        if (rc == 0)
            continue;       /* re-check the deadline */
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return errno;
        return soerr;
    }
}

/* ------------------------------------------------------------------ */

static int
conn_install_fd(rn_conn *c, int fd)
{
    /* GIL held.  Takes ownership of fd. */
    if (set_nonblocking(fd, 0) < 0 || apply_io_timeouts(fd, c->timeout_c) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    rn_conn_close(c);
    c->fd = fd;
    c->fork_gen = rn_fork_generation();
    c->pid = (long)getpid();
    c->last_io = rn_monotonic();
    rn_reader_reset(c->reader);
    return 0;
}

void
rn_conn_close(rn_conn *c)
{
    if (c->fd >= 0) {
        int fd = c->fd;
        c->fd = -1;
        /* shutdown() would also cut the socket for the parent process: only
         * the process that opened the socket may do it.  It also wakes a
         * thread blocked in send/recv on it. */
        if (c->fork_gen == rn_fork_generation())
            shutdown(fd, SHUT_RDWR);
        if (c->io_active > 0 && c->n_deferred < (int)(sizeof c->deferred_fds / sizeof(int)))
            c->deferred_fds[c->n_deferred++] = fd;   /* closed by io_end() */
        else
            close(fd);
    }
    if (c->reader != NULL)
        rn_reader_reset(c->reader);
    rn_buf_trim(&c->wbuf, 64 * 1024);
}

/* Bracket every stretch of I/O done without the GIL (call both with the GIL
 * held).  io_end() returns -1 with ConnectionError set when the connection
 * was closed by another thread meanwhile: the bytes moved belong to nobody. */
static inline void
io_begin(rn_conn *c)
{
    c->io_active++;
}

static int
io_end(rn_conn *c, int fd)
{
    if (--c->io_active == 0) {
        for (int i = 0; i < c->n_deferred; i++)
            close(c->deferred_fds[i]);
        c->n_deferred = 0;
    }
    if (c->fd != fd) {
        PyErr_SetString(c->st->ConnectionError,
                        "Connection closed by another thread during I/O");
        return -1;
    }
    return 0;
}

int
rn_conn_is_live(rn_conn *c)
{
    if (c->fd < 0)
        return 0;
    if (c->fork_gen != rn_fork_generation()) {
        /* Inherited from the parent: never read or write it here. */
        close(c->fd);
        c->fd = -1;
        rn_reader_reset(c->reader);
        return 0;
    }
    return 1;
}

/* "host:port" or the socket path, for error messages (cold path). */
static PyObject *
conn_host_error(rn_conn *c)
{
    PyObject *r = PyObject_CallMethod((PyObject *)c, "_host_error", NULL);
    if (r == NULL) {
        PyErr_Clear();
        r = PyUnicode_FromString("connection");
    }
    return r;
}

/* Raise the exception for a failed I/O after disconnecting (GIL held). */
static void
conn_raise_io(rn_conn *c, int reading, int err, int disconnect)
{
    rn_state *st = c->st;
    PyObject *where = NULL;
    if (disconnect)
        rn_conn_close(c);
    if (!reading) {
        if (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT)
            PyErr_SetString(st->TimeoutError, "Timeout writing to socket");
        else
            PyErr_Format(st->ConnectionError, "Error %d while writing to socket. %s.",
                         err, strerror(err));
        return;
    }
    if (err == 0) {
        PyErr_SetString(st->ConnectionError, "Connection closed by server.");
        return;
    }
    where = conn_host_error(c);
    if (where == NULL)
        return;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT)
        PyErr_Format(st->TimeoutError, "Timeout reading from %U", where);
    else
        PyErr_Format(st->ConnectionError, "Error while reading from %U : (%d, '%s')",
                     where, err, strerror(err));
    Py_DECREF(where);
}

/* The connection's encoding and error handler as C strings (UTF-8 cached
 * inside the str objects, so this is cheap).  0 or -1. */
static int
conn_codec(rn_conn *c, const char **enc, const char **errs)
{
    *enc = PyUnicode_AsUTF8(c->encoding);
    *errs = PyUnicode_AsUTF8(c->encoding_errors);
    return *enc != NULL && *errs != NULL ? 0 : -1;
}

static int
conn_ensure_rbuf(rn_conn *c)
{
    if (c->rbuf == NULL) {
        c->rbuf = PyMem_Malloc(RN_RBUF_SIZE);
        if (c->rbuf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

/* Write all of data[0:len] (GIL held on entry and exit; released inside).
 * If `then_recv`, also wait for the first reply bytes in the same release and
 * feed them to the reader.  Returns 0 or -1 with an exception set; on -1 the
 * connection has been closed. */
/* socket_timeout bounds a whole write, as Python's sendall() does (since
 * 3.5), not each send(): after a short send the kernel timeout is re-armed
 * with the time left, and restored once the write is over.  A write that
 * completes in one send() (the usual case) costs nothing extra. */
static int
conn_rearm_send_timeout(int fd, double deadline)
{
    double left = deadline - rn_monotonic();
    if (left <= 0)
        return -1;
    struct timeval tv;
    timeval_from(left, &tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return 0;
}

static void
conn_restore_send_timeout(rn_conn *c, int fd)
{
    struct timeval tv;
    timeval_from(c->timeout_c, &tv);
    if (c->fd == fd)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int conn_write_loop(rn_conn *c, const char *data, size_t len, int then_recv,
                           double deadline, int *rearmed);

static int
conn_write(rn_conn *c, const char *data, size_t len, int then_recv)
{
    int rearmed = 0;
    double deadline = c->timeout_c > 0 ? rn_monotonic() + c->timeout_c : -1;
    int fd = c->fd;
    int rc = conn_write_loop(c, data, len, then_recv, deadline, &rearmed);
    if (rearmed)
        conn_restore_send_timeout(c, fd);
    return rc;
}

static int
conn_write_loop(rn_conn *c, const char *data, size_t len, int then_recv,
                double deadline, int *rearmed)
{
    size_t off = 0;
    int fd = c->fd;
    char *rbuf = c->rbuf;
    for (;;) {
        int werr = 0, rerr = 0;
        ssize_t got = -2;    /* -2: recv not attempted */
        io_begin(c);
        Py_BEGIN_ALLOW_THREADS
        /* One send() per release: a signal can end a blocked send() early
         * with a short count (not EINTR), and its handler must run before
         * we block again -- as CPython's sendall() does. */
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n < 0)
            werr = errno;
        else
            off += (size_t)n;
        if (werr == 0 && off == len && then_recv) {
            got = recv(fd, rbuf, RN_RBUF_SIZE, 0);
            if (got < 0)
                rerr = errno;
        }
        Py_END_ALLOW_THREADS
        if (io_end(c, fd) < 0)
            return -1;
        if (werr == EINTR || (werr == 0 && off < len) || rerr == EINTR) {
            if (PyErr_CheckSignals() < 0) {
                rn_conn_close(c);    /* a partial command may be on the wire */
                return -1;
            }
            if (off < len) {
                /* resume the write within what is left of the deadline */
                if (deadline >= 0) {
                    if (conn_rearm_send_timeout(fd, deadline) < 0) {
                        conn_raise_io(c, 0, ETIMEDOUT, 1);
                        return -1;
                    }
                    *rearmed = 1;
                }
                continue;
            }
            return 0;                /* write done; the read loop will recv */
        }
        if (werr != 0) {
            conn_raise_io(c, 0, werr, 1);
            return -1;
        }
        if (got == -2)
            return 0;
        if (got <= 0) {
            conn_raise_io(c, 1, got == 0 ? 0 : rerr, 1);
            return -1;
        }
        if (rn_reader_feed(c->reader, rbuf, (size_t)got) < 0) {
            rn_conn_close(c);
            return -1;
        }
        return 0;
    }
}

/* Read one complete reply (GIL held; released around recv).  On a failure the
 * connection is closed when `disconnect_on_error`, which keeps the invariant
 * in the header.  Returns a new reference (an error reply comes back as an
 * exception instance, not raised) or NULL. */
static PyObject *
conn_read_reply(rn_conn *c, int decode, int disconnect_on_error)
{
    PyObject *reply = NULL;
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        return NULL;
    if (conn_ensure_rbuf(c) < 0)
        return NULL;
    for (;;) {
        int rc = rn_reader_get(c->reader, decode, enc, errs, &reply);
        if (rc == 1)
            return reply;
        if (rc < 0) {
            /* A reply that failed to build (decode error) leaves the stream
             * in step: the connection follows disconnect_on_error.  A
             * protocol error always drops it. */
            if (disconnect_on_error || !rn_reader_in_sync(c->reader))
                rn_conn_close(c);
            return NULL;
        }
        if (c->fd < 0) {
            PyErr_SetString(c->st->ConnectionError, "Connection closed by server.");
            return NULL;
        }
        int fd = c->fd, err = 0;
        ssize_t got;
        char *rbuf = c->rbuf;
        io_begin(c);
        Py_BEGIN_ALLOW_THREADS
        got = recv(fd, rbuf, RN_RBUF_SIZE, 0);
        if (got < 0)
            err = errno;
        Py_END_ALLOW_THREADS
        if (io_end(c, fd) < 0)
            return NULL;
        if (got > 0) {
            if (rn_reader_feed(c->reader, rbuf, (size_t)got) < 0) {
                rn_conn_close(c);
                return NULL;
            }
            continue;
        }
        if (got < 0 && err == EINTR) {
            if (PyErr_CheckSignals() < 0) {
                /* Bytes read so far stay in the reader, so the stream is
                 * still in step: like redis-py, keep the connection when the
                 * caller asked (pub/sub), drop it otherwise. */
                if (disconnect_on_error)
                    rn_conn_close(c);
                return NULL;
            }
            continue;
        }
        conn_raise_io(c, 1, got == 0 ? 0 : err,
                      disconnect_on_error || got == 0 ||
                      !(err == EAGAIN || err == EWOULDBLOCK));
        return NULL;
    }
}

static PyObject *
raise_if_error_reply(PyObject *reply)
{
    if (PyExceptionInstance_Check(reply)) {
        PyErr_SetObject((PyObject *)Py_TYPE(reply), reply);
        Py_DECREF(reply);
        return NULL;
    }
    return reply;
}

static inline void
conn_mark_read(rn_conn *c)
{
    double now = rn_monotonic();
    c->last_io = now;
    if (c->hc_interval_c > 0)
        c->next_health_check = now + c->hc_interval_c;
}

/* Peek at an idle socket without blocking (GIL held, no Python calls).  A
 * socket the server closed (EOF, reset) or one holding unexpected bytes
 * cannot serve a command: close it so the caller reconnects. */
static void
conn_probe_idle(rn_conn *c)
{
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;                   /* nothing waiting: healthy */
    rn_conn_close(c);             /* EOF, error, or stale data */
}

/* Make sure the socket is open (calls the Python-level connect(), which does
 * the handshake) and run the health check when it is due. */
static int
conn_prepare(rn_conn *c, int check_health, int probe)
{
    rn_state *st = c->st;
    /* Only request/reply paths probe: a pub/sub or MONITOR connection has
     * unread messages waiting by design. */
    if (probe && c->fd >= 0) {
        if (rn_reader_pending(c->reader) > 0)
            rn_conn_close(c);     /* bytes nobody asked for: out of step */
        else if (rn_monotonic() - c->last_io > RN_IDLE_PROBE_SECONDS)
            conn_probe_idle(c);
    }
    if (!rn_conn_is_live(c)) {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)c, st->s_connect);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        if (c->fd < 0) {
            PyErr_SetString(st->ConnectionError, "connect() did not open a socket");
            return -1;
        }
    }
    if (check_health && c->hc_interval_c > 0 && rn_monotonic() > c->next_health_check) {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)c, st->s_check_health);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        if (!rn_conn_is_live(c)) {   /* the check reconnects on its own failure */
            r = PyObject_CallMethodNoArgs((PyObject *)c, st->s_connect);
            if (r == NULL)
                return -1;
            Py_DECREF(r);
        }
    }
    return 0;
}

/* Connect if needed (and health-check / probe as asked), pack one command
 * into the reused output buffer and write it; with `then_recv` the first
 * reply bytes are read in the same GIL release.  A packing error sends
 * nothing, so the connection stays usable.  0 or -1. */
static int
conn_send_one(rn_conn *c, PyObject *const *args, Py_ssize_t nargs, int check_health,
              int probe, int then_recv)
{
    const char *enc, *errs;
    if (conn_prepare(c, check_health, probe) < 0 || conn_codec(c, &enc, &errs) < 0)
        return -1;
    c->wbuf.len = 0;
    if (rn_pack_command(c->st, &c->wbuf, args, nargs, enc, errs) < 0)
        return -1;
    if (then_recv && conn_ensure_rbuf(c) < 0)
        return -1;
    return conn_write(c, c->wbuf.data, c->wbuf.len, then_recv);
}

PyObject *
rn_conn_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs, int decode)
{
    if (conn_send_one(c, args, nargs, 1, 1, 1) < 0)
        return NULL;
    PyObject *reply = conn_read_reply(c, decode, 1);
    if (reply == NULL)
        return NULL;
    conn_mark_read(c);
    return raise_if_error_reply(reply);
}

/* _execute_pipeline(commands): commands is a sequence of (args, options)
 * pairs, as a Pipeline's command stack holds them.  All commands are packed
 * into one buffer and written at once, then one reply per command is read
 * (without decoding for a command whose options hold NEVER_DECODE).  Returns
 * the list of replies; error replies stay in the list as exception
 * instances.  Any I/O or protocol failure closes the connection and raises:
 * a half-read pipeline must never be reused. */
static PyObject *
conn_execute_pipeline(rn_conn *c, PyObject *commands)
{
    rn_state *st = c->st;
    PyObject *seq = PySequence_Fast(commands, "_execute_pipeline() takes a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = NULL;
    char *raw = NULL;    /* per-command "read without decoding" flags */
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        goto done;
    if ((raw = PyMem_Calloc((size_t)n + 1, 1)) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (conn_prepare(c, 1, 1) < 0)
        goto done;
    c->wbuf.len = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *args, *options = NULL;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
            args = PyTuple_GET_ITEM(item, 0);
            options = PyTuple_GET_ITEM(item, 1);
        }
        else {
            args = item;
        }
        if (options != NULL && PyDict_Check(options)) {
            int has = PyDict_Contains(options, st->s_never_decode);
            if (has < 0)
                goto done;
            raw[i] = (char)has;
        }
        PyObject *argseq = PySequence_Fast(args, "each command's arguments must be a sequence");
        if (argseq == NULL)
            goto done;
        int rc = rn_pack_command(st, &c->wbuf, PySequence_Fast_ITEMS(argseq),
                                 PySequence_Fast_GET_SIZE(argseq), enc, errs);
        Py_DECREF(argseq);
        if (rc < 0)
            goto done;      /* nothing sent yet: connection still clean */
    }
    if ((result = PyList_New(n)) == NULL)
        goto done;
    if (n == 0)
        goto done;
    if (conn_ensure_rbuf(c) < 0 || conn_write(c, c->wbuf.data, c->wbuf.len, 1) < 0) {
        Py_CLEAR(result);
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *reply = conn_read_reply(c, c->decode_responses && !raw[i], 1);
        if (reply == NULL) {
            rn_conn_close(c);
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, reply);
    }
    conn_mark_read(c);
done:
    PyMem_Free(raw);
    rn_buf_trim(&c->wbuf, 1 << 20);
    Py_DECREF(seq);
    return result;
}

int
rn_conn_send(rn_conn *c, PyObject *const *args, Py_ssize_t nargs)
{
    return conn_send_one(c, args, nargs, 1, 1, 0);
}

/* ------------------------------------------------------------------ */
/* Python type                                                          */

static PyObject *
conn_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    rn_conn *c = (rn_conn *)type->tp_alloc(type, 0);
    if (c == NULL)
        return NULL;
    c->module = Py_NewRef(rn_module_from_type(type));
    c->st = st;
    c->fd = -1;
    c->pid = (long)getpid();
    rn_buf_init(&c->wbuf);
    c->timeout_c = -1;
    c->connect_timeout_c = -1;
    c->socket_timeout = Py_NewRef(Py_None);
    c->socket_connect_timeout = Py_NewRef(Py_None);
    c->health_check_interval = PyLong_FromLong(0);
    c->encoding = Py_NewRef(st->s_utf8);
    c->encoding_errors = Py_NewRef(st->s_strict);
    c->retry = Py_NewRef(Py_None);
    c->reader = rn_reader_new(st);
    if (c->reader == NULL || c->health_check_interval == NULL) {
        Py_DECREF(c);
        return NULL;
    }
    return (PyObject *)c;
}

static int
conn_traverse(rn_conn *c, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(c));
    Py_VISIT(c->module);
    Py_VISIT(c->socket_timeout);
    Py_VISIT(c->socket_connect_timeout);
    Py_VISIT(c->health_check_interval);
    Py_VISIT(c->encoding);
    Py_VISIT(c->encoding_errors);
    Py_VISIT(c->retry);
    return 0;
}

static int
conn_clear(rn_conn *c)
{
    Py_CLEAR(c->socket_timeout);
    Py_CLEAR(c->socket_connect_timeout);
    Py_CLEAR(c->health_check_interval);
    Py_CLEAR(c->retry);
    /* module, encoding and errors are needed until dealloc */
    return 0;
}

static void
conn_dealloc(rn_conn *c)
{
    PyTypeObject *tp = Py_TYPE(c);
    PyObject_GC_UnTrack(c);
    if (c->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)c);
    if (c->fd >= 0) {
        close(c->fd);      /* no shutdown: another process may share it */
        c->fd = -1;
    }
    if (c->reader != NULL)
        rn_reader_free(c->reader);
    rn_buf_free(&c->wbuf);
    PyMem_Free(c->rbuf);
    conn_clear(c);
    Py_CLEAR(c->encoding);
    Py_CLEAR(c->encoding_errors);
    Py_CLEAR(c->module);
    tp->tp_free((PyObject *)c);
    Py_DECREF(tp);
}

/* --- connect primitives (called by the Python-level _connect) --- */

static PyObject *
raise_connect_error(int err)
{
    if (err == ETIMEDOUT) {
        PyErr_SetString(PyExc_TimeoutError, "timed out");
        return NULL;
    }
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
}

static PyObject *
raise_gai_error(int code)
{
    PyObject *socket_mod = PyImport_ImportModule("socket");
    if (socket_mod == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(socket_mod, "gaierror");
    Py_DECREF(socket_mod);
    if (cls == NULL)
        return NULL;
    PyObject *val = Py_BuildValue("(is)", code, gai_strerror(code));
    if (val != NULL)
        PyErr_SetObject(cls, val);
    Py_XDECREF(val);
    Py_DECREF(cls);
    return NULL;
}

static int
apply_keepalive(int fd, PyObject *options)
{
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (options == NULL || options == Py_None)
        return 0;
    PyObject *items = PyMapping_Items(options);
    if (items == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        int opt, val;
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyArg_ParseTuple(pair, "ii;socket_keepalive_options must map ints to ints",
                              &opt, &val)) {
            Py_DECREF(items);
            return -1;
        }
        if (setsockopt(fd, IPPROTO_TCP, opt, &val, sizeof val) < 0) {
            Py_DECREF(items);
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
    }
    Py_DECREF(items);
    return 0;
}

/* _connect_tcp(host, port, family=0, keepalive=False, keepalive_options=None)
 * Resolves and connects with socket_connect_timeout, the GIL released; raises
 * OSError / socket.gaierror / TimeoutError like the socket module would. */
static PyObject *
conn_connect_tcp(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"host", "port", "family", "keepalive", "keepalive_options", NULL};
    const char *host;
    PyObject *port_obj, *ka_opts = Py_None, *port_str = NULL;
    int family = 0, keepalive = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO|ipO:_connect_tcp", kwlist, &host,
                                     &port_obj, &family, &keepalive, &ka_opts))
        return NULL;
    port_str = PyObject_Str(port_obj);
    if (port_str == NULL)
        return NULL;
    const char *port = PyUnicode_AsUTF8(port_str);
    if (port == NULL) {
        Py_DECREF(port_str);
        return NULL;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    int gai;
    Py_BEGIN_ALLOW_THREADS
    gai = getaddrinfo(host, port, &hints, &res);
    Py_END_ALLOW_THREADS
    Py_DECREF(port_str);
    if (gai != 0) {
        if (gai == EAI_SYSTEM)
            return PyErr_SetFromErrno(PyExc_OSError);
        return raise_gai_error(gai);
    }
    int last_err = ECONNREFUSED, fd = -1;
    double timeout = c->connect_timeout_c;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int err;
        Py_BEGIN_ALLOW_THREADS
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            err = errno;
        else
            err = connect_with_timeout(fd, ai->ai_addr, ai->ai_addrlen, timeout);
        if (err != 0 && fd >= 0) {
            close(fd);
            fd = -1;
        }
        Py_END_ALLOW_THREADS
        if (err == 0)
            break;
        last_err = err;
        if (err == EINTR && PyErr_CheckSignals() < 0) {
            freeaddrinfo(res);
            return NULL;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return raise_connect_error(last_err);
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        close(fd);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (keepalive && apply_keepalive(fd, ka_opts) < 0) {
        close(fd);
        return NULL;
    }
    if (conn_install_fd(c, fd) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _connect_unix(path) */
static PyObject *
conn_connect_unix(rn_conn *c, PyObject *arg)
{
    PyObject *bytes_path = NULL;
    if (!PyUnicode_FSConverter(arg, &bytes_path))
        return NULL;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    Py_ssize_t n = PyBytes_GET_SIZE(bytes_path);
    if (n >= (Py_ssize_t)sizeof sa.sun_path) {
        Py_DECREF(bytes_path);
        errno = ENAMETOOLONG;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    memcpy(sa.sun_path, PyBytes_AS_STRING(bytes_path), (size_t)n);
    Py_DECREF(bytes_path);
    int fd, err;
    double timeout = c->connect_timeout_c;
    Py_BEGIN_ALLOW_THREADS
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        err = errno;
    else
        err = connect_with_timeout(fd, (struct sockaddr *)&sa, sizeof sa, timeout);
    if (err != 0 && fd >= 0) {
        close(fd);
        fd = -1;
    }
    Py_END_ALLOW_THREADS
    if (err != 0) {
        if (err == EINTR && PyErr_CheckSignals() < 0)
            return NULL;
        return raise_connect_error(err);
    }
    if (conn_install_fd(c, fd) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _attach_fd(fd): adopt a connected socket (from a user's _connect()). */
static PyObject *
conn_attach_fd(rn_conn *c, PyObject *arg)
{
    int fd = PyObject_AsFileDescriptor(arg);
    if (fd < 0)
        return NULL;
    if (conn_install_fd(c, fd) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
conn_disconnect(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_conn_close(c);
    Py_RETURN_NONE;
}

/* send_packed_command(command, check_health=True) */
static PyObject *
conn_send_packed_command(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"command", "check_health", NULL};
    PyObject *command, *joined = NULL;
    int check_health = 1;
    Py_buffer view;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p:send_packed_command", kwlist,
                                     &command, &check_health))
        return NULL;
    if (PyUnicode_Check(command)) {
        const char *enc, *errs;
        if (conn_codec(c, &enc, &errs) < 0)
            return NULL;
        joined = PyUnicode_AsEncodedString(command, enc, errs);
    }
    else if (PyList_Check(command) || PyTuple_Check(command)) {
        PyObject *empty = PyBytes_FromStringAndSize(NULL, 0);
        if (empty == NULL)
            return NULL;
        joined = PyObject_CallMethod(empty, "join", "O", command);
        Py_DECREF(empty);
    }
    else {
        joined = Py_NewRef(command);
    }
    if (joined == NULL)
        return NULL;
    if (PyObject_GetBuffer(joined, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(joined);
        return NULL;
    }
    PyObject *result = NULL;
    if (conn_prepare(c, check_health, 0) == 0 &&
        conn_write(c, view.buf, (size_t)view.len, 0) == 0)
        result = Py_NewRef(Py_None);
    PyBuffer_Release(&view);
    Py_DECREF(joined);
    return result;
}

/* send_command(*args, **kwargs): only check_health is looked at, as redis-py. */
static PyObject *
conn_send_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int check_health = 1;
    Py_ssize_t npos = PyVectorcall_NARGS(nargs);
    if (kwnames != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, i);
            if (PyUnicode_Check(name) &&
                PyUnicode_CompareWithASCIIString(name, "check_health") == 0) {
                check_health = PyObject_IsTrue(args[npos + i]);
                if (check_health < 0)
                    return NULL;
            }
        }
    }
    if (npos == 0) {
        PyErr_SetString(PyExc_TypeError, "send_command() needs a command");
        return NULL;
    }
    /* no probe: pub/sub sends (un)subscribe with messages still unread */
    if (conn_send_one(c, args, npos, check_health, 0, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* read_response(disable_decoding=False, *, disconnect_on_error=True,
 *               push_request=False) */
static PyObject *
conn_read_response(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"disable_decoding", "disconnect_on_error", "push_request", NULL};
    int disable_decoding = 0, disconnect_on_error = 1, push_request = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p$pp:read_response", kwlist,
                                     &disable_decoding, &disconnect_on_error, &push_request))
        return NULL;
    if (!rn_conn_is_live(c) && (c->reader == NULL || rn_reader_pending(c->reader) == 0)) {
        PyErr_SetString(c->st->ConnectionError, "Connection closed by server.");
        return NULL;
    }
    PyObject *reply = conn_read_reply(c, c->decode_responses && !disable_decoding,
                                      disconnect_on_error);
    if (reply == NULL)
        return NULL;
    conn_mark_read(c);
    return raise_if_error_reply(reply);
}

/* can_read(timeout=0): True when a reply (or part of one) is waiting. */
static PyObject *
conn_can_read(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:can_read", kwlist, &timeout_obj))
        return NULL;
    double timeout = 0;
    if (timeout_obj != NULL && timeout_obj != Py_None) {
        timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred())
            return NULL;
    }
    else if (timeout_obj == Py_None)
        timeout = -1;
    if (rn_reader_pending(c->reader) > 0)
        Py_RETURN_TRUE;
    if (!rn_conn_is_live(c)) {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)c, c->st->s_connect);
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    if (conn_ensure_rbuf(c) < 0)
        return NULL;
    int fd = c->fd, err = 0, rc;
    ssize_t got = -2;
    char *rbuf = c->rbuf;
    double deadline = timeout < 0 ? -1 : rn_monotonic() + timeout;
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            double left = deadline - rn_monotonic();
            ms = left <= 0 ? 0 : (int)(left * 1000.0 + 0.999);
        }
        err = 0;
        got = -2;
        io_begin(c);
        Py_BEGIN_ALLOW_THREADS
        struct pollfd p = {.fd = fd, .events = POLLIN};
        rc = poll(&p, 1, ms);
        if (rc < 0)
            err = errno;
        else if (rc > 0) {
            got = recv(fd, rbuf, RN_RBUF_SIZE, MSG_DONTWAIT);
            if (got < 0)
                err = errno;
        }
        Py_END_ALLOW_THREADS
        if (io_end(c, fd) < 0)
            return NULL;
        if ((rc < 0 && err == EINTR) || (got < 0 && err == EINTR)) {
            /* DESIGN rule 3: run the handlers, then wait the time left */
            if (PyErr_CheckSignals() < 0)
                return NULL;
            continue;
        }
        break;
    }
    if (rc < 0) {
        conn_raise_io(c, 1, err, 1);   /* ConnectionError, as redis-py */
        return NULL;
    }
    if (rc == 0)
        Py_RETURN_FALSE;
    if (got > 0) {
        if (rn_reader_feed(c->reader, rbuf, (size_t)got) < 0) {
            rn_conn_close(c);
            return NULL;
        }
        Py_RETURN_TRUE;
    }
    if (got < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
        Py_RETURN_FALSE;
    conn_raise_io(c, 1, got == 0 ? 0 : err, 1);
    return NULL;
}

/* pack_command(*args) -> [bytes] */
static PyObject *
conn_pack_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs)
{
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        return NULL;
    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "pack_command() needs a command");
        return NULL;
    }
    PyObject *b = rn_pack_to_bytes(c->st, args, nargs, enc, errs);
    if (b == NULL)
        return NULL;
    PyObject *lst = PyList_New(1);
    if (lst == NULL) {
        Py_DECREF(b);
        return NULL;
    }
    PyList_SET_ITEM(lst, 0, b);
    return lst;
}

/* pack_commands(commands) -> [bytes]: all commands in one buffer. */
static PyObject *
conn_pack_commands(rn_conn *c, PyObject *commands)
{
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(commands, "pack_commands() takes a sequence of commands");
    if (seq == NULL)
        return NULL;
    rn_buf b;
    rn_buf_init(&b);
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *cmd = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i),
                                        "each command must be a sequence of arguments");
        if (cmd == NULL)
            goto done;
        int rc = rn_pack_command(c->st, &b, PySequence_Fast_ITEMS(cmd),
                                 PySequence_Fast_GET_SIZE(cmd), enc, errs);
        Py_DECREF(cmd);
        if (rc < 0)
            goto done;
    }
    PyObject *bytes = PyBytes_FromStringAndSize(b.data ? b.data : "", (Py_ssize_t)b.len);
    if (bytes == NULL)
        goto done;
    result = PyList_New(1);
    if (result == NULL) {
        Py_DECREF(bytes);
        goto done;
    }
    PyList_SET_ITEM(result, 0, bytes);
done:
    rn_buf_free(&b);
    Py_DECREF(seq);
    return result;
}

static PyObject *
conn_fileno(rn_conn *c, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLong(c->fd);
}

static PyMethodDef conn_methods[] = {
    {"_connect_tcp", (PyCFunction)(void (*)(void))conn_connect_tcp, METH_VARARGS | METH_KEYWORDS,
     "Open the TCP socket (no handshake)."},
    {"_connect_unix", (PyCFunction)conn_connect_unix, METH_O,
     "Open the unix domain socket (no handshake)."},
    {"_attach_fd", (PyCFunction)conn_attach_fd, METH_O,
     "Adopt an already connected socket file descriptor."},
    {"disconnect", (PyCFunction)(void (*)(void))conn_disconnect, METH_VARARGS | METH_KEYWORDS,
     "disconnect(self, *args, **kwargs)\n--\n\nClose the socket (a forked child never shuts down its parent's socket)."},
    {"send_packed_command", (PyCFunction)(void (*)(void))conn_send_packed_command,
     METH_VARARGS | METH_KEYWORDS, "send_packed_command(self, command, check_health=True)\n--\n\nSend already packed command bytes."},
    {"send_command", (PyCFunction)(void (*)(void))conn_send_command,
     METH_FASTCALL | METH_KEYWORDS, "send_command(self, *args, **kwargs)\n--\n\nPack and send one command."},
    {"read_response", (PyCFunction)(void (*)(void))conn_read_response,
     METH_VARARGS | METH_KEYWORDS, "read_response(self, disable_decoding=False, *, disconnect_on_error=True, push_request=False)\n--\n\nRead one reply; an error reply is raised."},
    {"can_read", (PyCFunction)(void (*)(void))conn_can_read, METH_VARARGS | METH_KEYWORDS,
     "can_read(self, timeout=0)\n--\n\nTrue when reply bytes are waiting (waits up to timeout seconds)."},
    {"pack_command", (PyCFunction)(void (*)(void))conn_pack_command, METH_FASTCALL,
     "pack_command(self, *args)\n--\n\nPack one command into a list of bytes."},
    {"pack_commands", (PyCFunction)conn_pack_commands, METH_O,
     "pack_commands(self, commands)\n--\n\nPack several commands into a list of bytes."},
    {"fileno", (PyCFunction)conn_fileno, METH_NOARGS, "Socket file descriptor or -1."},
    {"_execute_pipeline", (PyCFunction)conn_execute_pipeline, METH_O,
     "Send (args, options) commands in one write; return their raw replies."},
    {NULL, NULL, 0, NULL}
};

/* --- attributes mirrored in C --- */

static int
timeout_from_object(PyObject *v, double *out, const char *name)
{
    if (v == Py_None) {
        *out = -1;
        return 0;
    }
    double d = PyFloat_AsDouble(v);
    if (d == -1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "%s must be None or a number", name);
        return -1;
    }
    if (d < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be None or >= 0", name);
        return -1;
    }
    *out = d;
    return 0;
}

static PyObject *
get_socket_timeout(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->socket_timeout);
}

static int
set_socket_timeout(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    double d;
    if (v == NULL)
        v = Py_None;
    if (timeout_from_object(v, &d, "socket_timeout") < 0)
        return -1;
    c->timeout_c = d;
    Py_INCREF(v);
    Py_XSETREF(c->socket_timeout, v);
    if (c->fd >= 0 && apply_io_timeouts(c->fd, d) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

static PyObject *
get_connect_timeout(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->socket_connect_timeout);
}

static int
set_connect_timeout(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    double d;
    if (v == NULL)
        v = Py_None;
    if (timeout_from_object(v, &d, "socket_connect_timeout") < 0)
        return -1;
    c->connect_timeout_c = d;
    Py_INCREF(v);
    Py_XSETREF(c->socket_connect_timeout, v);
    return 0;
}

static PyObject *
get_hc_interval(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->health_check_interval);
}

static int
set_hc_interval(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL || v == Py_None)
        v = PyLong_FromLong(0);
    else
        Py_INCREF(v);
    if (v == NULL)
        return -1;
    double d = PyFloat_AsDouble(v);
    if (d == -1 && PyErr_Occurred()) {
        Py_DECREF(v);
        return -1;
    }
    c->hc_interval_c = d;
    Py_XSETREF(c->health_check_interval, v);
    return 0;
}

static PyObject *
get_next_hc(rn_conn *c, void *closure)
{
    (void)closure;
    return PyFloat_FromDouble(c->next_health_check);
}

static int
set_next_hc(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    double d = v == NULL ? 0 : PyFloat_AsDouble(v);
    if (d == -1 && PyErr_Occurred())
        return -1;
    c->next_health_check = d;
    return 0;
}

static PyObject *
get_encoding(rn_conn *c, void *closure)
{
    return Py_NewRef(closure ? c->encoding_errors : c->encoding);
}

static int
set_encoding(rn_conn *c, PyObject *v, void *closure)
{
    if (v == NULL || !PyUnicode_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "encoding and encoding_errors must be str");
        return -1;
    }
    Py_INCREF(v);
    if (closure)
        Py_SETREF(c->encoding_errors, v);
    else
        Py_SETREF(c->encoding, v);
    return 0;
}

static PyObject *
get_decode(rn_conn *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(c->decode_responses);
}

static int
set_decode(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    int t = v == NULL ? 0 : PyObject_IsTrue(v);
    if (t < 0)
        return -1;
    c->decode_responses = t;
    return 0;
}

static PyObject *
get_pid(rn_conn *c, void *closure)
{
    (void)closure;
    return PyLong_FromLong(c->pid);
}

static int
set_pid(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    long p = v == NULL ? 0 : PyLong_AsLong(v);
    if (p == -1 && PyErr_Occurred())
        return -1;
    c->pid = p;
    return 0;
}

static PyObject *
get_sock(rn_conn *c, void *closure)
{
    (void)closure;
    if (!rn_conn_is_live(c))
        Py_RETURN_NONE;
    return PyLong_FromLong(c->fd);
}

static PyObject *
get_is_connected(rn_conn *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(rn_conn_is_live(c));
}

static PyObject *
get_retry(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->retry);
}

static int
set_retry(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL)
        v = Py_None;
    Py_INCREF(v);
    Py_XSETREF(c->retry, v);
    return 0;
}

static PyGetSetDef conn_getset[] = {
    {"socket_timeout", (getter)get_socket_timeout, (setter)set_socket_timeout, NULL, NULL},
    {"socket_connect_timeout", (getter)get_connect_timeout, (setter)set_connect_timeout,
     NULL, NULL},
    {"health_check_interval", (getter)get_hc_interval, (setter)set_hc_interval, NULL, NULL},
    {"next_health_check", (getter)get_next_hc, (setter)set_next_hc, NULL, NULL},
    {"encoding", (getter)get_encoding, (setter)set_encoding, NULL, NULL},
    {"encoding_errors", (getter)get_encoding, (setter)set_encoding, NULL, (void *)1},
    {"decode_responses", (getter)get_decode, (setter)set_decode, NULL, NULL},
    {"pid", (getter)get_pid, (setter)set_pid, NULL, NULL},
    {"retry", (getter)get_retry, (setter)set_retry, NULL, NULL},
    {"_sock", (getter)get_sock, NULL, "the socket's file descriptor, or None", NULL},
    {"is_connected", (getter)get_is_connected, NULL, "True while the socket is open", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef conn_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_conn, weakreflist), READONLY, NULL},
    {"_overridden", T_INT, offsetof(rn_conn, overridden), READONLY,
     "an instance attribute replaces a method: callers go through Python"},
    {NULL, 0, 0, 0, NULL}
};

static int
conn_setattro(rn_conn *self, PyObject *name, PyObject *value)
{
    return rn_setattro_tracking((PyObject *)self, name, value, &self->overridden,
                                RN_KIND_CONN);
}

static PyType_Slot conn_slots[] = {
    {Py_tp_setattro, conn_setattro},
    {Py_tp_new, conn_new},
    {Py_tp_dealloc, conn_dealloc},
    {Py_tp_traverse, conn_traverse},
    {Py_tp_clear, conn_clear},
    {Py_tp_methods, conn_methods},
    {Py_tp_getset, conn_getset},
    {Py_tp_members, conn_members},
    {Py_tp_doc, "C core of a connection to one Redis server (TCP or unix socket)."},
    {0, NULL}
};

PyType_Spec rn_connection_type_spec = {
    .name = "redis_native._native.Connection",
    .basicsize = sizeof(rn_conn),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = conn_slots,
};
