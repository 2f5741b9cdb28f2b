/* _native.Connection: socket, timeouts, send/receive with the GIL released.
 *
 * The socket is kept in blocking mode with SO_RCVTIMEO/SO_SNDTIMEO set to
 * socket_timeout, so a request/response costs one send() and usually one
 * recv(): the kernel enforces the timeout (EAGAIN).  A signal interrupts the
 * call (EINTR: Python installs its handlers without SA_RESTART); the handlers
 * run (PyErr_CheckSignals) and, unless one raised, the same socket operation
 * resumes for the time left of its deadline with poll(), as CPython's socket
 * module does (sock_call_ex).  connect() uses a non-blocking socket and
 * poll() against a monotonic deadline.  socket_timeout 0 makes every call
 * non-blocking, as socket.settimeout(0) does.
 *
 * Invariant: a connection on which a command was sent but whose complete reply
 * was not read (timeout, signal, exception, protocol error) is disconnected
 * before control returns to Python, so it can never hand a stale reply to the
 * next command.  `owed` counts the replies still due, for the paths Python
 * drives (send_command, then a read_response that may never come): a request
 * never goes out on a connection that still owes one.
 */
#include "connection.h"
#include "pool.h"               /* rn_err_take / rn_err_give */
#include "callbacks.h"          /* rn_is_ok */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "structmember.h"

/* Output buffer kept by an idle connection; a larger one (a big command) is
 * shrunk back after its write. */
#define RN_WBUF_KEEP (64 * 1024)

double
rn_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------ */
/* timeouts                                                             */

/* A timeout as socket.settimeout() takes it (so as redis-py, which hands
 * its timeouts to settimeout() when it connects): None is -1 (block), a
 * float or an integer (anything with __index__: bool, int subclasses; not
 * str, not Decimal) that CPython's nanosecond clock can hold, and not
 * negative.  0, or -1 with the very exception settimeout() raises. */
static int
parse_socket_timeout(PyObject *v, double *out)
{
    double d;
    if (v == Py_None) {
        *out = -1;
        return 0;
    }
    if (PyFloat_Check(v)) {
        d = PyFloat_AS_DOUBLE(v);
        if (isnan(d)) {
            PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
            return -1;
        }
        double ns = d * 1e9;
        ns = ns >= 0 ? ceil(ns) : floor(ns);      /* rounded away from zero */
        if (!(ns >= -9223372036854775808.0 && ns <= 9223372036854775808.0)) {
            PyErr_SetString(PyExc_OverflowError, "timestamp out of range for platform time_t");
            return -1;
        }
    }
    else {
        int overflow = 0;
        long long s = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (s == -1 && PyErr_Occurred())
            return -1;
        if (overflow || s > LLONG_MAX / 1000000000LL || s < LLONG_MIN / 1000000000LL) {
            PyErr_SetString(PyExc_OverflowError,
                            "timestamp too large to convert to C _PyTime_t");
            return -1;
        }
        d = (double)s;
    }
    if (d < 0) {
        PyErr_SetString(PyExc_ValueError, "Timeout value out of range");
        return -1;
    }
    *out = d;
    return 0;
}

/* Milliseconds for poll() until `deadline` (< 0: none, -1), rounded up so a
 * wait never ends early, at most INT_MAX (about 24.8 days: the caller waits
 * again until the deadline has really passed).  0 once it has passed. */
static int
poll_ms(double deadline)
{
    if (deadline < 0)
        return -1;
    double left = deadline - rn_monotonic();
    if (!(left > 0))
        return 0;
    double ms = ceil(left * 1000.0);
    return ms >= (double)INT_MAX ? INT_MAX : (int)ms;
}

/* One TLS read or write on the non-blocking socket of a TLS connection,
 * waiting with poll() while OpenSSL wants the socket, until `deadline` (< 0:
 * none).  Runs with the GIL released and the caller owning the side it uses.
 * Returns > 0 (bytes moved), 0 at the end of the stream (reads), or -1 with
 * *err: ETIMEDOUT (the deadline passed), EAGAIN (`nonblocking` and nothing
 * could be done), EINTR (a signal: the caller runs the handlers and calls
 * again with the same deadline), another errno value, or RN_ETLS. */
static ssize_t
tls_io(rn_tls *t, int fd, const char *wdata, char *rbuf, size_t n, double deadline,
       int nonblocking, int *err)
{
    for (;;) {
        int want = 0;
        ssize_t r = wdata != NULL ? rn_tls_write(t, wdata, n, &want, err)
                                  : rn_tls_read(t, rbuf, n, &want, err);
        if (r >= 0 || want == 0)
            return r;
        if (nonblocking) {
            *err = EAGAIN;
            return -1;
        }
        int ms = poll_ms(deadline);
        if (ms == 0) {
            *err = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = (short)want};
        if (poll(&p, 1, ms) < 0) {
            *err = errno;
            return -1;
        }
        /* ready, or a wait cut at INT_MAX ms: try again */
    }
}

/* SO_RCVTIMEO/SO_SNDTIMEO value for a timeout: 0 (none) for a blocking or
 * non-blocking socket (<= 0; non-blocking calls pass MSG_DONTWAIT).  Values
 * come from parse_socket_timeout (at most ~9.2e9 s, which time_t holds; the
 * kernel treats anything that long as "for ever"). */
static void
timeval_from(double seconds, struct timeval *tv)
{
    tv->tv_sec = 0;
    tv->tv_usec = 0;
    if (!(seconds > 0))
        return;
    if (seconds > 1e10)
        seconds = 1e10;
    tv->tv_sec = (time_t)seconds;
    long usec = (long)((seconds - (double)tv->tv_sec) * 1e6);
    tv->tv_usec = usec < 0 ? 0 : usec > 999999 ? 999999 : usec;
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

/* The C value of socket_timeout (which = RN_BAD_SOCKET_TIMEOUT) or
 * socket_connect_timeout, for a connect: a value settimeout() refuses is
 * parsed again so that its exception is raised here, as redis-py raises it
 * from connect.  0 or -1. */
static int
conn_timeout_for_connect(rn_conn *c, int which, double *out)
{
    PyObject *v = which == RN_BAD_SOCKET_TIMEOUT ? c->socket_timeout
                                                 : c->socket_connect_timeout;
    if (c->bad_timeouts & which) {
        double d;
        Py_INCREF(v);       /* __index__ may run code that reassigns it */
        int rc = parse_socket_timeout(v, &d);
        Py_DECREF(v);
        if (rc < 0)
            return -1;
        c->bad_timeouts &= ~which;                  /* fine now, after all */
        if (which == RN_BAD_SOCKET_TIMEOUT)
            c->timeout_c = d;
        else
            c->connect_timeout_c = d;
    }
    *out = which == RN_BAD_SOCKET_TIMEOUT ? c->timeout_c : c->connect_timeout_c;
    return 0;
}

/* Connect fd (a new, blocking socket) to addr within `timeout` seconds (< 0:
 * no limit; 0: do not wait, as a non-blocking socket would not), the GIL
 * released while waiting.  Without a limit the connect() itself blocks (one
 * system call instead of fcntl, connect, poll and getsockopt) and the socket
 * stays blocking; with one the socket is made non-blocking first and
 * *nonblocking says so.  A signal runs the handlers and the wait goes on for
 * the time left (an EINTR used to abandon the address).  Returns 0, an errno
 * value (ETIMEDOUT when the time is up), or -1 with an exception set (a
 * handler raised). */
static int
conn_connect_fd(int fd, const struct sockaddr *addr, socklen_t len, double timeout,
                int *nonblocking)
{
    int err = 0;
    *nonblocking = timeout >= 0;
    Py_BEGIN_ALLOW_THREADS
    if ((timeout >= 0 && set_nonblocking(fd, 1) < 0) || connect(fd, addr, len) < 0)
        err = errno;
    Py_END_ALLOW_THREADS
    if (err == 0)
        return 0;
    if (err == EINTR) {
        /* The connection goes on asynchronously (POSIX); wait for it. */
        if (PyErr_CheckSignals() < 0)
            return -1;
        err = EINPROGRESS;
    }
    if (err != EINPROGRESS || timeout == 0)
        return err;
    double deadline = timeout > 0 ? rn_monotonic() + timeout : -1;
    for (;;) {
        int ms = poll_ms(deadline), rc, e = 0;
        if (ms == 0)
            return ETIMEDOUT;
        Py_BEGIN_ALLOW_THREADS
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        rc = poll(&p, 1, ms);
        if (rc < 0) {
            e = errno;
        }
        else if (rc > 0) {
            socklen_t sl = sizeof e;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
        }
        Py_END_ALLOW_THREADS
        if (rc > 0)
            return e;               /* 0: connected */
        if (rc < 0 && e != EINTR)
            return e;
        if (rc < 0 && PyErr_CheckSignals() < 0)
            return -1;
        /* EINTR or a wait cut at INT_MAX ms: poll on for the time left */
    }
}

/* ------------------------------------------------------------------ */
/* closing, fork, ownership                                             */

static void
scan_reset(rn_cmd_scan *s)
{
    memset(s, 0, sizeof *s);
}

static void
conn_close_deferred(rn_conn *c)
{
    for (int i = 0; i < c->n_deferred; i++) {
        rn_tls_free(c->deferred[i].tls);
        close(c->deferred[i].fd);
    }
    c->n_deferred = 0;
}

/* In a forked child: drop everything the parent (and its other threads,
 * gone here) had going on this connection, without shutdown() -- which would
 * cut the parent's socket too. */
static void
conn_forget_parent(rn_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    rn_tls_free(c->tls);        /* writes nothing: the parent owns the session */
    c->tls = NULL;
    conn_close_deferred(c);
    c->io_active = 0;
    c->connecting = 0;          /* a parent thread's handshake in progress */
    c->reader_thread = c->writer_thread = 0;
    rn_wake_free(&c->write_wake);
    c->owed = 0;
    scan_reset(&c->scan);
    rn_reader_reset(c->reader);
    c->fork_gen = rn_fork_generation();
}

static inline void
conn_check_fork(rn_conn *c)
{
    if (c->fork_gen != rn_fork_generation())
        conn_forget_parent(c);
}

void
rn_conn_close(rn_conn *c)
{
    conn_check_fork(c);
    if (c->fd >= 0) {
        int fd = c->fd;
        rn_tls *tls = c->tls;
        c->fd = -1;
        c->tls = NULL;
        /* Wakes a thread blocked in send/recv/poll on it. */
        shutdown(fd, SHUT_RDWR);
        if (c->io_active > 0) {
            /* Somebody is using the number (and the SSL object): close()
             * and free once they are done. */
            if (c->n_deferred == c->cap_deferred) {
                int cap = c->cap_deferred ? 2 * c->cap_deferred : 4;
                struct rn_deferred *d = PyMem_Realloc(c->deferred, (size_t)cap * sizeof *d);
                if (d != NULL) {
                    c->deferred = d;
                    c->cap_deferred = cap;
                }
            }
            /* Out of memory: leak the descriptor rather than let its number
             * be reused under a blocked call. */
            if (c->n_deferred < c->cap_deferred) {
                c->deferred[c->n_deferred].fd = fd;
                c->deferred[c->n_deferred].tls = tls;
                c->n_deferred++;
            }
        }
        else {
            rn_tls_free(tls);
            close(fd);
        }
    }
    c->owed = 0;
    c->keep_session = 0;
    scan_reset(&c->scan);
    if (c->reader != NULL)
        rn_reader_reset(c->reader);
    rn_buf_trim(&c->wbuf, RN_WBUF_KEEP);
}

/* Close only while `fd` is still the connection's socket: after a GIL-free
 * stretch, another thread may have closed it and opened a new one. */
static void
conn_close_if(rn_conn *c, int fd)
{
    if (c->fd == fd)
        rn_conn_close(c);
}

int
rn_conn_is_live(rn_conn *c)
{
    conn_check_fork(c);
    return c->fd >= 0;
}

static int
raise_in_use(rn_conn *c, int same_thread)
{
    PyErr_SetString(c->st->RedisError, same_thread
                    ? "Connection already in use by this thread (re-entered from a "
                      "signal handler or a callback during its I/O)"
                    : "Connection in use by another thread");
    return -1;
}

/* Wait (GIL released) until the writer gives the connection back, or a
 * signal handler ran.  0, or -1 with an exception set. */
static int
conn_wait_writer(rn_conn *c)
{
    if (c->write_wake.lock == NULL && rn_wake_init(&c->write_wake) < 0)
        return -1;
    if (rn_wake_wait(&c->write_wake, -1) == PY_LOCK_ACQUIRED)
        return 0;
    return PyErr_CheckSignals();    /* PY_LOCK_INTR */
}

/* Take the read side and/or the write side of the connection for the
 * calling thread (GIL held).  A busy read side raises; a busy write side is
 * waited for (writes are short, and a pub/sub health check may race a
 * subscribe from another thread).  0, or -1 with an exception set and
 * nothing taken. */
static int
conn_take(rn_conn *c, int read, int write)
{
    unsigned long me = PyThread_get_thread_ident();
    conn_check_fork(c);
    if (read) {
        if (c->reader_thread != 0)
            return raise_in_use(c, c->reader_thread == me);
        c->reader_thread = me;
    }
    if (write) {
        while (c->writer_thread != 0) {
            if (c->writer_thread == me) {
                raise_in_use(c, 1);
                goto fail;
            }
            if (conn_wait_writer(c) < 0)
                goto fail;
            conn_check_fork(c);     /* a handler may have forked */
        }
        c->writer_thread = me;
    }
    c->io_active += read + write;
    return 0;
fail:
    if (read && c->reader_thread == me)
        c->reader_thread = 0;
    return -1;
}

/* Give back what conn_take took (GIL held). */
static void
conn_give(rn_conn *c, int read, int write)
{
    if (c->fork_gen != rn_fork_generation())
        return;             /* the child already forgot the parent's users */
    if (read)
        c->reader_thread = 0;
    if (write) {
        c->writer_thread = 0;
        rn_wake_post(&c->write_wake);
    }
    c->io_active -= read + write;
    if (c->io_active <= 0) {
        c->io_active = 0;
        conn_close_deferred(c);
    }
}

/* After Python code ran (a signal handler, another thread while the GIL was
 * released): 0 while `fd` is still this connection's socket in this
 * process, else -1 with ConnectionError set. */
static int
conn_still_mine(rn_conn *c, int fd)
{
    if (c->fd == fd && c->fork_gen == rn_fork_generation())
        return 0;
    PyErr_SetString(c->st->ConnectionError,
                    "Connection closed by another thread during I/O");
    return -1;
}

static char *
conn_take_rbuf(rn_conn *c)
{
    char *b = c->rbuf;
    c->rbuf = NULL;
    if (b == NULL && (b = PyMem_Malloc(RN_RBUF_SIZE)) == NULL)
        PyErr_NoMemory();
    return b;
}

static void
conn_give_rbuf(rn_conn *c, char *b)
{
    if (c->rbuf == NULL)
        c->rbuf = b;
    else
        PyMem_Free(b);      /* somebody made one meanwhile */
}

/* The output buffer, out of the struct, emptied. */
static rn_buf
conn_take_wbuf(rn_conn *c)
{
    rn_buf b = c->wbuf;
    rn_buf_init(&c->wbuf);
    b.len = 0;
    return b;
}

static void
conn_give_wbuf(rn_conn *c, rn_buf *b)
{
    b->segs = NULL;                /* the caller's, cleared by the caller */
    b->len = 0;
    rn_buf_trim(b, RN_WBUF_KEEP);
    if (c->wbuf.data == NULL)
        c->wbuf = *b;
    else
        rn_buf_free(b);     /* somebody made one meanwhile */
    rn_buf_init(b);
}

/* ------------------------------------------------------------------ */
/* errors                                                               */

/* "host:port" or the socket path, for error messages (cold path): whatever
 * _host_error() returns, formatted with str(); its exception propagates. */
static PyObject *
conn_host_error(rn_conn *c)
{
    return PyObject_CallMethod((PyObject *)c, "_host_error", NULL);
}

/* Raise the exception for a failed I/O on `fd` (GIL held), after closing the
 * connection when `disconnect`.  err: 0 for EOF, ETIMEDOUT for the timeout,
 * any other errno (EAGAIN: nothing there on a non-blocking socket). */
static void
conn_raise_io(rn_conn *c, int fd, int reading, int err, int disconnect)
{
    rn_state *st = c->st;
    if (disconnect)
        conn_close_if(c, fd);
    if (err == RN_ETLS) {
        PyObject *text = rn_tls_error_text(), *where = NULL;
        if (text != NULL && reading)
            where = conn_host_error(c);
        if (text != NULL && !reading)
            PyErr_Format(st->ConnectionError, "Error 1 while writing to socket. %U.", text);
        else if (where != NULL)
            PyErr_Format(st->ConnectionError, "Error while reading from %S : (1, %R)", where,
                         text);
        Py_XDECREF(text);
        Py_XDECREF(where);
        return;
    }
    if (!reading) {
        if (err == ETIMEDOUT)
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
    if (err == EAGAIN || err == EWOULDBLOCK) {
        /* socket_timeout 0: what redis-py's parsers say about BlockingIOError */
        PyErr_Format(st->ConnectionError, "Error while reading from socket: (%d, '%s')",
                     err, strerror(err));
        return;
    }
    PyObject *where = conn_host_error(c);
    if (where == NULL)
        return;
    if (err == ETIMEDOUT)
        PyErr_Format(st->TimeoutError, "Timeout reading from %S", where);
    else
        PyErr_Format(st->ConnectionError, "Error while reading from %S : (%d, '%s')",
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

/* ------------------------------------------------------------------ */
/* socket I/O (the caller owns the side it uses, see conn_take)         */

/* A socket read cut short by a signal, resumed (GIL held on entry and exit):
 * the handlers run, then poll() waits for the time left before `deadline`
 * (< 0: none) and recv() takes what came, without blocking.  Returns the
 * byte count (> 0), 0 at EOF, -1 with *err set (ETIMEDOUT when the time is
 * up), or -2 with an exception set (a handler raised, or the connection was
 * closed meanwhile). */
static ssize_t
conn_recv_resume(rn_conn *c, int fd, char *buf, size_t size, double deadline, int *err)
{
    for (;;) {
        if (PyErr_CheckSignals() < 0 || conn_still_mine(c, fd) < 0)
            return -2;
        if (c->tls != NULL) {
            rn_tls *t = c->tls;
            ssize_t got;
            int e = 0;
            Py_BEGIN_ALLOW_THREADS
            got = tls_io(t, fd, NULL, buf, size, deadline, 0, &e);
            Py_END_ALLOW_THREADS
            if (conn_still_mine(c, fd) < 0)
                return -2;
            if (got < 0 && e == EINTR)
                continue;
            *err = e;
            return got;
        }
        int ms = poll_ms(deadline), rc, e = 0;
        ssize_t got = -1;
        if (ms == 0) {
            *err = ETIMEDOUT;
            return -1;
        }
        Py_BEGIN_ALLOW_THREADS
        struct pollfd p = {.fd = fd, .events = POLLIN};
        rc = poll(&p, 1, ms);
        if (rc < 0) {
            e = errno;
        }
        else if (rc > 0) {
            got = recv(fd, buf, size, MSG_DONTWAIT);
            if (got < 0)
                e = errno;
        }
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            return -2;
        if (got >= 0)
            return got;
        if (e != 0 && e != EINTR && e != EAGAIN && e != EWOULDBLOCK) {
            *err = e;
            return -1;
        }
        /* EINTR, a spurious wake-up, or a wait cut at INT_MAX ms */
    }
}

/* One socket read, as one sock.recv() in redis-py: blocking up to
 * socket_timeout (the kernel's SO_RCVTIMEO, no extra syscall), or not at
 * all when it is 0.  A signal does not restart the whole timeout: see
 * conn_recv_resume.  Results as conn_recv_resume's (-1 with EAGAIN: nothing
 * there on a non-blocking socket). */
static ssize_t
conn_recv(rn_conn *c, int fd, char *buf, size_t size, int *err)
{
    const double timeout = c->timeout_c;
    double start = -1;
    ssize_t got;
    int e = 0;
    if (c->tls != NULL) {
        rn_tls *t = c->tls;
        double deadline = -1;
        Py_BEGIN_ALLOW_THREADS
        if (timeout > 0)
            deadline = rn_monotonic() + timeout;
        got = tls_io(t, fd, NULL, buf, size, deadline, timeout == 0, &e);
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            return -2;
        if (got < 0 && e == EINTR)
            return conn_recv_resume(c, fd, buf, size, deadline, err);
        *err = e;
        return got;
    }
    Py_BEGIN_ALLOW_THREADS
    if (timeout > 0)
        start = rn_monotonic();
    got = recv(fd, buf, size, timeout == 0 ? MSG_DONTWAIT : 0);
    if (got < 0)
        e = errno;
    Py_END_ALLOW_THREADS
    if (conn_still_mine(c, fd) < 0)
        return -2;
    if (got < 0 && e == EINTR)
        return conn_recv_resume(c, fd, buf, size, timeout > 0 ? start + timeout : -1, err);
    if (got < 0 && timeout > 0 && (e == EAGAIN || e == EWOULDBLOCK))
        e = ETIMEDOUT;              /* SO_RCVTIMEO expired */
    *err = e;
    return got;
}

/* Feed what a read returned to the reader, or raise for EOF / an error /
 * an exception already set.  0, or -1 with an exception set and the
 * connection closed when `disconnect` (always for EOF and errors other than
 * a timeout; a failed feed is a protocol error: always). */
static int
conn_take_bytes(rn_conn *c, int fd, char *buf, ssize_t got, int err, int disconnect)
{
    if (got > 0) {
        if (rn_reader_feed(c->reader, buf, (size_t)got) < 0) {
            conn_close_if(c, fd);
            return -1;
        }
        return 0;
    }
    if (got == -2) {                /* exception set */
        if (disconnect)
            conn_close_if(c, fd);
        return -1;
    }
    conn_raise_io(c, fd, 1, got == 0 ? 0 : err,
                  disconnect || got == 0 ||
                  !(err == ETIMEDOUT || err == EAGAIN || err == EWOULDBLOCK));
    return -1;
}

/* ------------------------------------------------------------------ */
/* writing: a command is a list of pieces (iovecs): the packed buffer, with
 * big arguments spliced in from the caller's memory (rn_seg), so that they
 * are never copied (sendmsg gathers them; TLS writes them in turn). */

/* Skip `n` written bytes of iov[*first..cnt) (adjusted in place). */
static inline void
iov_advance(struct iovec *iov, int cnt, int *first, size_t n)
{
    if (n == iov[*first].iov_len && *first + 1 == cnt) {
        *first = cnt;               /* the usual case: all of one piece */
        return;
    }
    while (*first < cnt && n >= iov[*first].iov_len) {
        n -= iov[*first].iov_len;
        (*first)++;
    }
    if (*first < cnt && n > 0) {
        iov[*first].iov_base = (char *)iov[*first].iov_base + n;
        iov[*first].iov_len -= n;
    }
    while (*first < cnt && iov[*first].iov_len == 0)
        (*first)++;
}

/* One send()/sendmsg() of what is left (GIL released). */
static ssize_t
send_pieces(int fd, struct iovec *iov, int cnt, int first, int flags)
{
    if (cnt - first == 1)
        return send(fd, iov[first].iov_base, iov[first].iov_len, flags);
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov + first;
    m.msg_iovlen = (size_t)(cnt - first < IOV_MAX ? cnt - first : IOV_MAX);
    return sendmsg(fd, &m, flags);
}

/* Write all of iov[0:cnt) to fd (the caller owns the write side; GIL held
 * on entry and exit, released inside; `iov` is consumed).  With `rbuf` (the
 * caller owns the read side too) the first reply bytes are read in the same
 * GIL release and fed to the reader: a request costs one send() and one
 * recv().
 *
 * socket_timeout bounds the whole write, as Python's sendall() does: the
 * first send() runs under SO_SNDTIMEO; after a short send() (a signal can
 * end a blocked send() early with a short count instead of EINTR) or an
 * EINTR, the handlers run and the rest is written with poll() for the time
 * left plus non-blocking send()s.  Returns 0, or -1 with an exception set
 * and the connection closed. */
/* A write cut short (a signal, a short count): run the signal handlers.  0
 * to go on writing, or -1 with an exception set -- a handler raised (the
 * connection is closed: part of a command may be on the wire) or another
 * thread closed the connection meanwhile. */
static int
conn_write_interrupted(rn_conn *c, int fd)
{
    if (PyErr_CheckSignals() < 0) {
        conn_close_if(c, fd);
        return -1;
    }
    return conn_still_mine(c, fd);
}

/* conn_write for a TLS connection: the same contract, with the whole write
 * (then the first read) bounded by socket_timeout through poll(); the pieces
 * go to SSL_write one after the other. */
static int
conn_write_tls(rn_conn *c, int fd, struct iovec *iov, int cnt, char *rbuf)
{
    const double timeout = c->timeout_c;
    const int nonblocking = timeout == 0;
    rn_tls *t = c->tls;
    double deadline = timeout > 0 ? rn_monotonic() + timeout : -1, rdeadline = -1;
    int first = 0;
    iov_advance(iov, cnt, &first, 0);
    for (;;) {
        int werr = 0, rerr = 0;
        ssize_t got = -2;           /* -2: no read made */
        Py_BEGIN_ALLOW_THREADS
        while (first < cnt) {
            ssize_t n = tls_io(t, fd, iov[first].iov_base, NULL, iov[first].iov_len, deadline,
                               nonblocking, &werr);
            if (n < 0)
                break;
            iov_advance(iov, cnt, &first, (size_t)n);
        }
        if (first == cnt && rbuf != NULL) {
            if (timeout > 0)
                rdeadline = rn_monotonic() + timeout;
            got = tls_io(t, fd, NULL, rbuf, RN_RBUF_SIZE, rdeadline, nonblocking, &rerr);
        }
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            return -1;
        if (first == cnt) {
            if (rbuf == NULL)
                return 0;
            if (got < 0 && rerr == EINTR)
                got = conn_recv_resume(c, fd, rbuf, RN_RBUF_SIZE, rdeadline, &rerr);
            return conn_take_bytes(c, fd, rbuf, got, rerr, 1);
        }
        if (werr == ECONNRESET || werr == EPIPE) {
            /* The server may have said why before it closed (a TLS alert:
             * "certificate required", "unknown ca"): report that. */
            char tail[512];
            int rerr2 = 0;
            ssize_t n2;
            Py_BEGIN_ALLOW_THREADS
            n2 = tls_io(t, fd, NULL, tail, sizeof tail, -1, 1, &rerr2);
            Py_END_ALLOW_THREADS
            if (conn_still_mine(c, fd) < 0)
                return -1;
            if (n2 < 0 && rerr2 == RN_ETLS) {
                conn_raise_io(c, fd, 1, RN_ETLS, 1);
                return -1;
            }
        }
        if (werr != EINTR) {
            conn_raise_io(c, fd, 0, werr, 1);
            return -1;
        }
        if (conn_write_interrupted(c, fd) < 0)
            return -1;
    }
}

static int
conn_write(rn_conn *c, int fd, struct iovec *iov, int cnt, char *rbuf)
{
    if (c->tls != NULL)
        return conn_write_tls(c, fd, iov, cnt, rbuf);
    const double timeout = c->timeout_c;
    const int nonblocking = timeout == 0;
    double deadline = timeout > 0 ? rn_monotonic() + timeout : -1;
    int resuming = 0, first = 0;
    for (;;) {
        int werr = 0, rerr = 0, ready = 1;
        ssize_t got = -2;           /* -2: no recv() made */
        double rstart = -1;
        Py_BEGIN_ALLOW_THREADS
        if (resuming) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            ready = poll(&p, 1, poll_ms(deadline));
            if (ready < 0)
                werr = errno;
        }
        if (ready > 0 && first < cnt) {
            ssize_t n = send_pieces(fd, iov, cnt, first,
                                    MSG_NOSIGNAL | (resuming || nonblocking ? MSG_DONTWAIT : 0));
            if (n < 0)
                werr = errno;
            else
                iov_advance(iov, cnt, &first, (size_t)n);
        }
        if (werr == 0 && first == cnt && rbuf != NULL) {
            if (timeout > 0)
                rstart = rn_monotonic();
            got = recv(fd, rbuf, RN_RBUF_SIZE, nonblocking ? MSG_DONTWAIT : 0);
            if (got < 0)
                rerr = errno;
        }
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            return -1;
        if (werr == 0 && first == cnt) {
            if (rbuf == NULL)
                return 0;
            if (got < 0 && rerr == EINTR)
                got = conn_recv_resume(c, fd, rbuf, RN_RBUF_SIZE,
                                       timeout > 0 ? rstart + timeout : -1, &rerr);
            else if (got < 0 && timeout > 0 && (rerr == EAGAIN || rerr == EWOULDBLOCK))
                rerr = ETIMEDOUT;
            return conn_take_bytes(c, fd, rbuf, got, rerr, 1);
        }
        if (werr == EAGAIN || werr == EWOULDBLOCK) {
            if (!resuming) {
                /* the kernel's SO_SNDTIMEO expired (or, non-blocking, the
                 * socket buffer is full: an error, as for sendall()) */
                conn_raise_io(c, fd, 0, nonblocking ? werr : ETIMEDOUT, 1);
                return -1;
            }
            werr = 0;               /* poll() said writable; try again */
        }
        if (werr != 0 && werr != EINTR) {
            conn_raise_io(c, fd, 0, werr, 1);
            return -1;
        }
        /* A short write, EINTR, or poll() woken: run the handlers, then
         * write the rest within what is left of the deadline. */
        if (conn_write_interrupted(c, fd) < 0)
            return -1;
        if (nonblocking)
            continue;               /* as sendall(): send again until EAGAIN */
        if (deadline >= 0 && rn_monotonic() >= deadline) {
            conn_raise_io(c, fd, 0, ETIMEDOUT, 1);
            return -1;
        }
        resuming = 1;
    }
}

/* conn_write of a packed buffer: its bytes with the segments (big
 * arguments, written from the caller's memory) spliced in.  The pieces
 * point into `b` and the segments' exports, both owned by the caller for
 * the whole write. */
static int conn_write_segs(rn_conn *c, int fd, const rn_buf *b, char *rbuf);

static inline int
conn_write_buf(rn_conn *c, int fd, const rn_buf *b, char *rbuf)
{
    if (b->segs == NULL || b->segs->n == 0) {
        struct iovec one = {.iov_base = b->data, .iov_len = b->len};
        return conn_write(c, fd, &one, 1, rbuf);
    }
    return conn_write_segs(c, fd, b, rbuf);
}

static int
conn_write_segs(rn_conn *c, int fd, const rn_buf *b, char *rbuf)
{
    const rn_segs *sg = b->segs;
    struct iovec *iov = PyMem_Malloc((2 * (size_t)sg->n + 1) * sizeof *iov);
    if (iov == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int n = 0;
    size_t prev = 0;
    for (int i = 0; i < sg->n; i++) {
        const rn_seg *s = &sg->items[i];
        if (s->at > prev)
            iov[n++] = (struct iovec){.iov_base = b->data + prev, .iov_len = s->at - prev};
        iov[n++] = (struct iovec){.iov_base = s->view.buf, .iov_len = (size_t)s->view.len};
        prev = s->at;
    }
    if (b->len > prev)
        iov[n++] = (struct iovec){.iov_base = b->data + prev, .iov_len = b->len - prev};
    int rc = conn_write(c, fd, iov, n, rbuf);
    PyMem_Free(iov);
    return rc;
}

/* Read one complete reply (GIL held; released around recv), with the read
 * side owned and `rbuf` taken by the caller; fd may be -1 when only buffered
 * bytes are left.  On a failure the connection is closed when
 * `disconnect_on_error`, which keeps the invariant in the header.  Returns
 * a new reference (an error reply comes back as an exception instance, not
 * raised) or NULL. */
static PyObject *
conn_read_reply(rn_conn *c, int fd, char *rbuf, int decode, int disconnect_on_error)
{
    PyObject *reply = NULL;
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        return NULL;
    for (;;) {
        int rc = rn_reader_get(c->reader, decode, enc, errs, &reply);
        if (rc == 1) {
            if (c->owed > 0)
                c->owed--;          /* pub/sub messages were never asked for */
            return rn_reply_lift_conn_error(c->st, reply);
        }
        if (rc < 0) {
            /* A reply that failed to build (decode error) was consumed and
             * leaves the stream in step: the connection follows
             * disconnect_on_error.  A protocol error always drops it. */
            int in_sync = rn_reader_in_sync(c->reader);
            if (in_sync && c->owed > 0)
                c->owed--;
            if (disconnect_on_error || !in_sync)
                conn_close_if(c, fd);
            return NULL;
        }
        if (fd < 0 || c->fd != fd) {
            /* closed meanwhile (a reply callback's Python code...) */
            PyErr_SetString(c->st->ConnectionError, "Connection closed by server.");
            return NULL;
        }
        int err = 0;
        char *dst;
        size_t want;
        PyObject *hold;
        int direct = rn_reader_direct(c->reader, &dst, &want, &hold);
        if (direct < 0) {
            conn_close_if(c, fd);   /* MemoryError: the reply cannot be read */
            return NULL;
        }
        if (direct > 0) {
            /* The rest of a big bulk string, straight into its bytes object
             * (kept alive by `hold` while the GIL is released). */
            ssize_t got = conn_recv(c, fd, dst, want, &err);
            if (got > 0)
                rn_reader_direct_got(c->reader, hold, (size_t)got);
            Py_DECREF(hold);
            if (got <= 0 && conn_take_bytes(c, fd, NULL, got, err, disconnect_on_error) < 0)
                return NULL;
            continue;
        }
        ssize_t got = conn_recv(c, fd, rbuf, RN_RBUF_SIZE, &err);
        if (conn_take_bytes(c, fd, rbuf, got, err, disconnect_on_error) < 0)
            return NULL;
    }
}

/* The `_on_readonly` hook (connection.h) for an error reply `err`
 * (borrowed): 0 when there is no hook, `err` is not a ReadOnlyError or the
 * hook returned (the error stands); -1 with the hook's exception set.  Called
 * with no I/O side taken: the hook may disconnect. */
static int
conn_readonly_hook(rn_conn *c, PyObject *err)
{
    if (c->on_readonly == NULL ||
        !PyObject_TypeCheck(err, (PyTypeObject *)c->st->ReadOnlyError))
        return 0;
    PyObject *hook = Py_NewRef(c->on_readonly);     /* it may replace itself */
    PyObject *r = PyObject_CallFunctionObjArgs(hook, (PyObject *)c, err, NULL);
    Py_DECREF(hook);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Steals `reply`: an error reply is raised (after the `_on_readonly` hook,
 * whose exception wins), anything else returned. */
static PyObject *
raise_if_error_reply(rn_conn *c, PyObject *reply)
{
    if (PyExceptionInstance_Check(reply)) {
        if (conn_readonly_hook(c, reply) == 0)
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
    if (c->tls != NULL) {
        if (rn_tls_idle_unusable(c->tls))
            rn_conn_close(c);
        return;
    }
    char byte;
    ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;                   /* nothing waiting: healthy */
    rn_conn_close(c);             /* EOF, error, or stale data */
}

/* Make sure the socket is open (calls the Python-level connect(), which does
 * the handshake) and run the health check when it is due.  `probe`: a
 * request that reads its own reply next (not pub/sub, not a raw send):
 * refuse a connection another thread is using, and replace one that still
 * owes replies or holds unread bytes (it would serve them as this
 * request's), or that has been idle and was closed by the server. */
static int
conn_prepare(rn_conn *c, int check_health, int probe)
{
    rn_state *st = c->st;
    if (probe && rn_conn_is_live(c)) {
        if (c->reader_thread != 0 || c->writer_thread != 0)
            return raise_in_use(c, c->reader_thread == PyThread_get_thread_ident() ||
                                   c->writer_thread == PyThread_get_thread_ident());
        if (c->owed > 0 || rn_reader_pending(c->reader) > 0)
            rn_conn_close(c);     /* out of step: a reply nobody will read */
        else if (rn_monotonic() - c->last_io > RN_IDLE_PROBE_SECONDS) {
            int keep = c->keep_session;
            conn_probe_idle(c);
            if (keep && !rn_conn_is_live(c)) {
                PyErr_SetString(st->ConnectionError, "Connection closed by server.");
                return -1;
            }
        }
    }
    if (!rn_conn_is_live(c)) {
        if (rn_conn_connect(c) < 0)
            return -1;
        if (!rn_conn_is_live(c)) {
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
            if (rn_conn_connect(c) < 0)
                return -1;
            if (!rn_conn_is_live(c)) {
                PyErr_SetString(st->ConnectionError, "connect() did not open a socket");
                return -1;
            }
        }
    }
    return 0;
}

/* Write `b` (already packed by the caller) as `ncommands` commands, and with
 * `reply` read one reply: the shared tail of every C send path.  Takes the
 * write side (and the read side with `reply`) for the I/O.  Returns a new
 * reference (the reply, or None without `reply`), or NULL. */
static PyObject *
conn_transfer(rn_conn *c, rn_buf *b, Py_ssize_t ncommands, int reply, int decode)
{
    PyObject *result = NULL;
    char *rbuf = NULL;
    if (conn_take(c, reply, 1) < 0)
        return NULL;
    int fd = c->fd;
    if (fd < 0) {
        /* closed while we waited for another writer */
        PyErr_SetString(c->st->ConnectionError, "Connection closed by another thread during I/O");
        conn_give(c, reply, 1);
        return NULL;
    }
    if (reply && (rbuf = conn_take_rbuf(c)) == NULL) {
        conn_give(c, reply, 1);
        return NULL;
    }
    c->owed += ncommands;
    int rc = conn_write_buf(c, fd, b, rbuf);
    conn_give(c, 0, 1);
    if (rc == 0)
        result = reply ? conn_read_reply(c, fd, rbuf, decode, 1) : Py_NewRef(Py_None);
    if (reply) {
        conn_give_rbuf(c, rbuf);
        conn_give(c, 1, 0);
    }
    return result;
}

/* Connect if needed (and health-check / probe as asked), pack one command
 * into the output buffer, write it and with `reply` read its reply.  A
 * packing error sends nothing, so the connection stays usable.  Returns a
 * new reference (the reply, raised if it is an error reply; None without
 * `reply`) or NULL. */
static PyObject *
conn_request(rn_conn *c, PyObject *const *args, Py_ssize_t nargs, int check_health,
             int probe, int reply, int decode)
{
    const char *enc, *errs;
    if (conn_prepare(c, check_health, probe) < 0 || conn_codec(c, &enc, &errs) < 0)
        return NULL;
    rn_segs segs = {0, 0, NULL};
    rn_buf b = conn_take_wbuf(c);
    b.segs = &segs;
    PyObject *result = NULL;
    if (rn_pack_command(c->st, &b, args, nargs, enc, errs) == 0)
        result = conn_transfer(c, &b, 1, reply, decode);
    conn_give_wbuf(c, &b);
    if (segs.cap > 0)
        rn_segs_clear(&segs);       /* the big arguments' exports */
    if (result != NULL && reply) {
        conn_mark_read(c);
        result = raise_if_error_reply(c, result);
    }
    return result;
}

PyObject *
rn_conn_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs, int decode)
{
    return conn_request(c, args, nargs, 1, 1, 1, decode);
}

int
rn_conn_send(rn_conn *c, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *r = conn_request(c, args, nargs, 1, 1, 0, 0);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* _execute_pipeline(commands): commands is a sequence of (args, options)
 * pairs, as a Pipeline's command stack holds them.  All commands are packed
 * into one buffer and written at once, then one reply per command is read
 * (without decoding for a command whose options hold NEVER_DECODE).  Returns
 * the list of replies; error replies stay in the list as exception
 * instances.  Any I/O or protocol failure closes the connection and raises:
 * a half-read pipeline must never be reused. */
static PyObject *
conn_roundtrip(rn_conn *c, PyObject *commands, int check_health, int raw_errors)
{
    rn_state *st = c->st;
    PyObject *seq = PySequence_Fast(commands, "_execute_pipeline() takes a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = NULL;
    char *raw = NULL;    /* per-command "read without decoding" flags */
    char *rbuf = NULL;
    int owner = 0;
    rn_segs segs = {0, 0, NULL};
    rn_buf b;
    rn_buf_init(&b);
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        goto done;
    if ((raw = PyMem_Calloc((size_t)n + 1, 1)) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (conn_prepare(c, check_health, 1) < 0)
        goto done;
    b = conn_take_wbuf(c);
    b.segs = &segs;
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
        int rc = rn_pack_command(st, &b, PySequence_Fast_ITEMS(argseq),
                                 PySequence_Fast_GET_SIZE(argseq), enc, errs);
        Py_DECREF(argseq);
        if (rc < 0)
            goto done;      /* nothing sent yet: connection still clean */
    }
    if ((result = PyList_New(n)) == NULL || n == 0)
        goto done;
    if (conn_take(c, 1, 1) < 0) {
        Py_CLEAR(result);
        goto done;
    }
    owner = 1;
    int fd = c->fd;
    if (fd < 0) {
        PyErr_SetString(st->ConnectionError, "Connection closed by another thread during I/O");
        conn_give(c, 0, 1);
        Py_CLEAR(result);
        goto done;
    }
    if ((rbuf = conn_take_rbuf(c)) == NULL) {
        conn_give(c, 0, 1);
        Py_CLEAR(result);
        goto done;
    }
    c->owed += n;
    int rc = conn_write_buf(c, fd, &b, rbuf);
    conn_give(c, 0, 1);
    if (rc < 0) {
        Py_CLEAR(result);
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        rn_reader_raw_errors(c->reader, raw_errors);
        PyObject *reply = conn_read_reply(c, fd, rbuf, c->decode_responses && !raw[i], 1);
        rn_reader_raw_errors(c->reader, 0);
        if (reply == NULL) {
            conn_close_if(c, fd);
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, reply);
    }
    conn_mark_read(c);
done:
    if (rbuf != NULL)
        conn_give_rbuf(c, rbuf);
    if (owner)
        conn_give(c, 1, 0);
    PyMem_Free(raw);
    conn_give_wbuf(c, &b);
    rn_segs_clear(&segs);
    Py_DECREF(seq);
    /* All replies are read (the connection is in step): the first READONLY
     * error may now make the hook fail the whole pipeline. */
    if (result != NULL && c->on_readonly != NULL) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(result); i++) {
            PyObject *reply = PyList_GET_ITEM(result, i);
            if (!PyExceptionInstance_Check(reply) ||
                !PyObject_TypeCheck(reply, (PyTypeObject *)st->ReadOnlyError))
                continue;
            Py_INCREF(reply);
            int rc = conn_readonly_hook(c, reply);
            Py_DECREF(reply);
            if (rc < 0)
                Py_CLEAR(result);
            break;
        }
    }
    return result;
}

static PyObject *
conn_execute_pipeline(rn_conn *c, PyObject *commands)
{
    return conn_roundtrip(c, commands, 1, 0);
}

/* _handshake(commands) (rn_conn_handshake): the connect-time commands of a connection that needs
 * no AUTH, as _handshake_commands lists them ((kind, args) pairs, kind one
 * of "setname", "setinfo", "select"), sent in one write without a health
 * check; every reply is read before any is judged, as on_connect does:
 *   - setinfo: any reply is accepted (servers before 7.2 refuse CLIENT
 *     SETINFO), and its error reply never becomes an exception object;
 *   - setname, select: an error reply is raised; anything but OK raises
 *     ConnectionError("Error setting client name"), ConnectionError("Invalid
 *     Database").
 * Returns True; False (nothing sent) when a method of the round trip is
 * replaced (the stand-in rule) or a kind is not one of these: the caller
 * then runs its Python path. */
PyObject *
rn_conn_handshake(rn_conn *c, PyObject *commands)
{
    rn_state *st = c->st;
    if (!PyList_CheckExact(commands) || !rn_stands_in(st, (PyObject *)c, RN_KIND_CONN))
        Py_RETURN_FALSE;
    Py_ssize_t n = PyList_GET_SIZE(commands);
    PyObject *argsl = PyList_New(n);
    if (argsl == NULL)
        return NULL;
    char *kinds = PyMem_Malloc((size_t)n + 1);
    if (kinds == NULL) {
        Py_DECREF(argsl);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(commands, i);
        PyObject *kind;
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyUnicode_Check(kind = PyTuple_GET_ITEM(item, 0)))
            goto python_path;
        if (PyUnicode_CompareWithASCIIString(kind, "setinfo") == 0)
            kinds[i] = 'i';
        else if (PyUnicode_CompareWithASCIIString(kind, "setname") == 0)
            kinds[i] = 'n';
        else if (PyUnicode_CompareWithASCIIString(kind, "select") == 0)
            kinds[i] = 's';
        else
            goto python_path;
        /* as a pipeline's (args, options) entry: no options */
        PyObject *entry = PyTuple_Pack(2, PyTuple_GET_ITEM(item, 1), Py_None);
        if (entry == NULL) {
            Py_DECREF(argsl);
            PyMem_Free(kinds);
            return NULL;
        }
        PyList_SET_ITEM(argsl, i, entry);
    }
    PyObject *replies = conn_roundtrip(c, argsl, 0, 1);
    Py_DECREF(argsl);
    if (replies == NULL) {
        PyMem_Free(kinds);
        return NULL;
    }
    PyObject *result = Py_NewRef(Py_True);
    for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(replies); i++) {
        PyObject *reply = PyList_GET_ITEM(replies, i);
        /* a raw error reply: the 1-tuple (message,) */
        int is_error = PyTuple_CheckExact(reply) && PyTuple_GET_SIZE(reply) == 1;
        if (kinds[i] == 'i')
            continue;
        if (is_error) {
            /* the server's error is raised (as redis-py's read_response does) */
            PyObject *factory = st->parse_error_reply != NULL
                ? st->parse_error_reply : st->ResponseError;
            PyObject *exc = PyObject_CallOneArg(factory, PyTuple_GET_ITEM(reply, 0));
            if (exc != NULL) {
                PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
                Py_DECREF(exc);
            }
            Py_CLEAR(result);
            break;
        }
        if (rn_is_ok(reply) != 1) {
            PyErr_SetString(st->ConnectionError, kinds[i] == 'n' ? "Error setting client name"
                                                                : "Invalid Database");
            Py_CLEAR(result);
            break;
        }
    }
    Py_DECREF(replies);
    PyMem_Free(kinds);
    return result;
python_path:
    Py_DECREF(argsl);
    PyMem_Free(kinds);
    Py_RETURN_FALSE;
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
    c->fork_gen = rn_fork_generation();
    c->pid = rn_getpid();
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
    Py_VISIT(c->on_readonly);
    return rn_reader_traverse(c->reader, visit, arg);
}

static int
conn_clear(rn_conn *c)
{
    Py_CLEAR(c->socket_timeout);
    Py_CLEAR(c->socket_connect_timeout);
    Py_CLEAR(c->health_check_interval);
    Py_CLEAR(c->retry);
    Py_CLEAR(c->on_readonly);
    if (c->reader != NULL)
        rn_reader_reset(c->reader);     /* a half-built reply may be in a cycle */
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
    rn_tls_free(c->tls);
    c->tls = NULL;
    conn_close_deferred(c);
    PyMem_Free(c->deferred);
    rn_wake_free(&c->write_wake);
    rn_reader_free(c->reader);
    c->reader = NULL;
    rn_buf_free(&c->wbuf);
    PyMem_Free(c->rbuf);
    conn_clear(c);
    Py_CLEAR(c->encoding);
    Py_CLEAR(c->encoding_errors);
    Py_CLEAR(c->module);
    tp->tp_free((PyObject *)c);
    Py_DECREF(tp);
}

/* tp_finalize: what redis-py's Connection.__del__ does, disconnect() with
 * its errors ignored -- the C close while disconnect is the built-in one (no
 * Python frame per dropped connection), else the Python method. */
static void
conn_finalize(rn_conn *c)
{
    PyObject *pending = rn_err_take();
    if (rn_stands_in(c->st, (PyObject *)c, RN_KIND_CONN)) {
        rn_conn_close(c);
    }
    else {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)c, c->st->s_disconnect);
        if (r == NULL) {
            if (PyErr_ExceptionMatches(PyExc_Exception))
                PyErr_Clear();
            else
                PyErr_WriteUnraisable((PyObject *)c);
        }
        Py_XDECREF(r);
    }
    rn_err_give(pending);
}

/* --- connect primitives (called by the Python-level _connect) --- */

/* Adopt a connected socket (GIL held; takes ownership of fd): blocking mode
 * with the kernel timeouts of socket_timeout, which is checked here as
 * redis-py's settimeout(socket_timeout) after connect would check it.
 * `fresh`: a socket this file created, blocking unless `nonblocking`, with
 * the kernel's default (no) timeouts -- nothing to undo or set when
 * socket_timeout is None.  A socket from elsewhere (_attach_fd) gets both. */
static int
conn_install_fd(rn_conn *c, int fd, int fresh, int nonblocking)
{
    double timeout;
    if (conn_timeout_for_connect(c, RN_BAD_SOCKET_TIMEOUT, &timeout) < 0) {
        close(fd);
        return -1;
    }
    if (((!fresh || nonblocking) && set_nonblocking(fd, 0) < 0) ||
        ((!fresh || timeout >= 0) && apply_io_timeouts(fd, timeout) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    rn_conn_close(c);
    c->fd = fd;
    c->fd_serial++;
    c->fork_gen = rn_fork_generation();
    c->pid = rn_getpid();
    c->last_io = rn_monotonic();
    c->owed = 0;
    scan_reset(&c->scan);
    rn_reader_reset(c->reader);
    return 0;
}

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
 * OSError / socket.gaierror / TimeoutError like the socket module would, and
 * what settimeout() raises for a timeout value it refuses. */
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
    double timeout;
    if (conn_timeout_for_connect(c, RN_BAD_CONNECT_TIMEOUT, &timeout) < 0) {
        freeaddrinfo(res);
        return NULL;
    }
    int last_err = ECONNREFUSED, fd = -1, nonblocking = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int err;
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            err = errno;
        else
            err = conn_connect_fd(fd, ai->ai_addr, ai->ai_addrlen, timeout, &nonblocking);
        if (err == 0)
            break;
        if (fd >= 0) {
            close(fd);
            fd = -1;
        }
        if (err < 0) {              /* a signal handler raised */
            freeaddrinfo(res);
            return NULL;
        }
        last_err = err;
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
    if (conn_install_fd(c, fd, 1, nonblocking) < 0)
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
    double timeout;
    if (conn_timeout_for_connect(c, RN_BAD_CONNECT_TIMEOUT, &timeout) < 0)
        return NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    int nonblocking;
    int err = conn_connect_fd(fd, (struct sockaddr *)&sa, sizeof sa, timeout, &nonblocking);
    if (err != 0) {
        close(fd);
        return err < 0 ? NULL : raise_connect_error(err);
    }
    if (conn_install_fd(c, fd, 1, nonblocking) < 0)
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
    if (conn_install_fd(c, fd, 0, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _start_tls(context, server_hostname): the TLS client handshake on the
 * connected socket, with the GIL released, bounded by socket_timeout (as
 * redis-py's handshake on its socket), or by socket_connect_timeout when
 * socket_timeout is None.  Raises what Python's ssl module raises
 * (ssl.SSLCertVerificationError, ssl.SSLError, TimeoutError, OSError) and
 * closes the connection; the caller turns them into redis-py's errors. */
static PyObject *
conn_start_tls(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"context", "server_hostname", NULL};
    PyObject *ctx_obj;
    const char *hostname = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!z:_start_tls", kwlist,
                                     c->st->TLSContextType, &ctx_obj, &hostname))
        return NULL;
    if (!rn_conn_is_live(c)) {
        PyErr_SetString(c->st->ConnectionError, "_start_tls() needs a connected socket");
        return NULL;
    }
    if (c->tls != NULL) {
        PyErr_SetString(PyExc_ValueError, "the connection already uses TLS");
        return NULL;
    }
    /* From here on, any failure closes the socket: it must never stay open
     * as a plain-text connection of an SSLConnection. */
    int fd = c->fd;
    rn_tls *t = NULL;
    double timeout;
    if (hostname != NULL && (hostname[0] == '\0' || hostname[0] == '.')) {
        PyErr_SetString(PyExc_ValueError,
                        "server_hostname cannot be an empty string or start with a leading dot.");
        goto error;
    }
    if (conn_timeout_for_connect(c, RN_BAD_SOCKET_TIMEOUT, &timeout) < 0)
        goto error;
    if (c->socket_timeout == Py_None &&
        conn_timeout_for_connect(c, RN_BAD_CONNECT_TIMEOUT, &timeout) < 0)
        goto error;
    if (timeout == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "a TLS handshake needs a blocking socket: socket_timeout is 0");
        goto error;
    }
    if ((t = rn_tls_new((rn_tls_ctx *)ctx_obj, fd, hostname)) == NULL)
        goto error;
    if (set_nonblocking(fd, 1) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    if (conn_take(c, 1, 1) < 0)
        goto error;
    double deadline = timeout > 0 ? rn_monotonic() + timeout : -1;
    for (;;) {
        int rc, err = 0;
        Py_BEGIN_ALLOW_THREADS
        for (;;) {
            int want = 0, ms;
            rc = rn_tls_handshake_step(t, &want, &err);
            if (rc >= 0 || want == 0)
                break;
            if ((ms = poll_ms(deadline)) == 0) {
                err = ETIMEDOUT;
                break;
            }
            struct pollfd p = {.fd = fd, .events = (short)want};
            if (poll(&p, 1, ms) < 0) {
                err = errno;
                break;
            }
        }
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0) {
            conn_give(c, 1, 1);
            goto error;
        }
        if (rc == 1)
            break;
        if (rc < 0 && err == EINTR) {
            if (PyErr_CheckSignals() < 0 || conn_still_mine(c, fd) < 0) {
                conn_give(c, 1, 1);
                goto error;
            }
            continue;
        }
        rn_tls_raise_handshake(t, rc == 0 ? 0 : err);
        conn_give(c, 1, 1);
        goto error;
    }
    c->tls = t;
    c->last_io = rn_monotonic();
    conn_give(c, 1, 1);
    Py_RETURN_NONE;
error:
    rn_tls_free(t);
    conn_close_if(c, fd);
    return NULL;
}

static PyObject *
conn_disconnect(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_conn_close(c);
    Py_RETURN_NONE;
}

/* --- counting the commands of packed bytes --- */

enum {
    SCAN_LINE_START = 0,    /* between commands, at the start of a line */
    SCAN_BLANK,             /* an inline line holding only whitespace so far */
    SCAN_INLINE,            /* an inline command, up to its '\n' */
    SCAN_COUNT,             /* "*<n>\r\n" */
    SCAN_BULK_START,        /* expecting '$' */
    SCAN_BULK_LEN,          /* "$<len>\r\n" */
    SCAN_PAYLOAD,           /* <len> bytes and CRLF */
    SCAN_GARBAGE,           /* bytes the server rejects: up to the next '\n' */
};

#define SCAN_NUM_MAX 1000000000000000LL

static int
scan_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Read a "<digits>\r\n" number one byte at a time.  1 when the '\n' ends it,
 * 0 to go on, -1 for a byte that does not belong. */
static int
scan_number(rn_cmd_scan *s, unsigned char ch)
{
    if (ch >= '0' && ch <= '9') {
        if (s->num < SCAN_NUM_MAX)
            s->num = s->num * 10 + (ch - '0');
        return 0;
    }
    if (ch == '-' && s->num == 0 && !s->neg) {
        s->neg = 1;
        return 0;
    }
    if (ch == '\r')
        return 0;
    return ch == '\n' ? 1 : -1;
}

/* How many commands start in data[0:len], the way the server splits them
 * (multibulk "*N" commands; otherwise inline ones, a line each, none for a
 * blank line or "*0"/"*-1").  The state carries over between calls, so a
 * command sent in pieces counts once.  A command counts from its first
 * byte: a connection with half a command on the wire is out of step too. */
static Py_ssize_t
scan_commands(rn_cmd_scan *s, const char *data, size_t len)
{
    Py_ssize_t started = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char ch = (unsigned char)data[i];
        switch (s->state) {
        case SCAN_LINE_START:
        case SCAN_BLANK:
            i++;
            if (ch == '*' && s->state == SCAN_LINE_START) {
                started++;
                s->num = 0;
                s->neg = 0;
                s->state = SCAN_COUNT;
            }
            else if (ch == '\n') {
                s->state = SCAN_LINE_START;
            }
            else if (scan_space(ch)) {
                s->state = SCAN_BLANK;
            }
            else {
                started++;
                s->state = SCAN_INLINE;
            }
            break;
        case SCAN_INLINE:
        case SCAN_GARBAGE: {
            const char *nl = memchr(data + i, '\n', len - i);
            if (nl == NULL) {
                i = len;
            }
            else {
                i = (size_t)(nl - data) + 1;
                s->state = SCAN_LINE_START;
            }
            break;
        }
        case SCAN_COUNT: {
            int r = scan_number(s, ch);
            i++;
            if (r < 0) {
                s->state = SCAN_GARBAGE;
            }
            else if (r > 0) {
                if (s->neg || s->num == 0) {
                    started--;      /* "*0", "*-1": the server ignores them */
                    s->state = SCAN_LINE_START;
                }
                else {
                    s->args = s->num;
                    s->state = SCAN_BULK_START;
                }
            }
            break;
        }
        case SCAN_BULK_START:
            i++;
            if (ch == '$') {
                s->num = 0;
                s->neg = 0;
                s->state = SCAN_BULK_LEN;
            }
            else {
                s->state = SCAN_GARBAGE;
            }
            break;
        case SCAN_BULK_LEN: {
            int r = scan_number(s, ch);
            i++;
            if (r < 0 || (r > 0 && s->neg)) {
                s->state = SCAN_GARBAGE;
            }
            else if (r > 0) {
                s->skip = s->num + 2;
                s->state = SCAN_PAYLOAD;
            }
            break;
        }
        case SCAN_PAYLOAD: {
            size_t n = len - i;
            if ((unsigned long long)s->skip < (unsigned long long)n)
                n = (size_t)s->skip;
            i += n;
            s->skip -= (long long)n;
            if (s->skip == 0)
                s->state = --s->args > 0 ? SCAN_BULK_START : SCAN_LINE_START;
            break;
        }
        default:
            s->state = SCAN_GARBAGE;
            break;
        }
    }
    return started;
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
    /* The view keeps the bytes alive and a bytearray from resizing. */
    if (PyObject_GetBuffer(joined, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(joined);
        return NULL;
    }
    PyObject *result = NULL;
    if (conn_prepare(c, check_health, 0) == 0 && conn_take(c, 0, 1) == 0) {
        int fd = c->fd;
        if (fd < 0) {
            PyErr_SetString(c->st->ConnectionError,
                            "Connection closed by another thread during I/O");
        }
        else {
            c->owed += scan_commands(&c->scan, view.buf, (size_t)view.len);
            struct iovec one = {.iov_base = view.buf, .iov_len = (size_t)view.len};
            if (conn_write(c, fd, &one, 1, NULL) == 0)
                result = Py_NewRef(Py_None);
        }
        conn_give(c, 0, 1);
    }
    PyBuffer_Release(&view);
    Py_DECREF(joined);
    return result;
}

static PyObject *conn_pack_command(rn_conn *c, PyObject *const *args, Py_ssize_t nargs);

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
    if (!rn_stands_in(c->st, (PyObject *)c, RN_KIND_CONN)) {
        /* Something is overridden: send through send_packed_command, as
         * redis-py's send_command does, so that an override of it is
         * honoured (the stand-in rule). */
        PyObject *r = NULL, *meth = NULL, *kw = NULL;
        PyObject *packed = conn_pack_command(c, args, npos);
        PyObject *pargs = packed != NULL ? PyTuple_Pack(1, packed) : NULL;
        if (pargs != NULL)
            kw = Py_BuildValue("{s:O}", "check_health", check_health ? Py_True : Py_False);
        if (kw != NULL)
            meth = PyObject_GetAttrString((PyObject *)c, "send_packed_command");
        if (meth != NULL)
            r = PyObject_Call(meth, pargs, kw);
        Py_XDECREF(meth);
        Py_XDECREF(kw);
        Py_XDECREF(pargs);
        Py_XDECREF(packed);
        return r;
    }
    /* no probe: pub/sub sends (un)subscribe with messages still unread, and
     * Python-driven pipelines send several commands before reading */
    return conn_request(c, args, npos, check_health, 0, 0, 0);
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
    if (!rn_conn_is_live(c) && rn_reader_pending(c->reader) == 0) {
        PyErr_SetString(c->st->ConnectionError, "Connection closed by server.");
        return NULL;
    }
    if (conn_take(c, 1, 0) < 0)
        return NULL;
    PyObject *reply = NULL;
    char *rbuf = conn_take_rbuf(c);
    if (rbuf != NULL) {
        reply = conn_read_reply(c, c->fd, rbuf, c->decode_responses && !disable_decoding,
                                disconnect_on_error);
        conn_give_rbuf(c, rbuf);
    }
    conn_give(c, 1, 0);
    if (reply == NULL)
        return NULL;
    conn_mark_read(c);
    return raise_if_error_reply(c, reply);
}

/* can_read(timeout=0): True when a reply (or part of one) is waiting;
 * waits up to `timeout` seconds (None: for ever), which is taken as
 * socket.settimeout() takes it (redis-py sets it on the socket). */
static PyObject *
conn_can_read(rn_conn *c, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:can_read", kwlist, &timeout_obj))
        return NULL;
    if (!rn_conn_is_live(c)) {
        if (rn_reader_pending(c->reader) > 0)
            Py_RETURN_TRUE;
        if (rn_conn_connect(c) < 0)
            return NULL;
        if (!rn_conn_is_live(c)) {
            /* a connect() that opened nothing: never wait on descriptor -1 */
            PyErr_SetString(c->st->ConnectionError, "Connection closed by server.");
            return NULL;
        }
    }
    if (rn_reader_pending(c->reader) > 0)
        Py_RETURN_TRUE;
    double timeout = 0;
    if (timeout_obj != NULL && parse_socket_timeout(timeout_obj, &timeout) < 0)
        return NULL;
    if (conn_take(c, 1, 0) < 0)
        return NULL;
    PyObject *result = NULL;
    int fd = c->fd;
    char *rbuf = conn_take_rbuf(c);
    if (rbuf == NULL)
        goto done;
    double deadline = timeout < 0 ? -1 : rn_monotonic() + timeout;
    while (c->tls != NULL) {
        /* Bytes inside OpenSSL count; a record that is not application data
         * (a session ticket) is consumed and the wait goes on. */
        rn_tls *t = c->tls;
        int err = 0;
        ssize_t got;
        Py_BEGIN_ALLOW_THREADS
        got = tls_io(t, fd, NULL, rbuf, RN_RBUF_SIZE, deadline, 0, &err);
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            goto done;
        if (got < 0 && err == EINTR) {
            if (PyErr_CheckSignals() < 0 || conn_still_mine(c, fd) < 0)
                goto done;
            continue;
        }
        if (got < 0 && err == ETIMEDOUT) {
            result = Py_NewRef(Py_False);
            goto done;
        }
        if (conn_take_bytes(c, fd, rbuf, got, err, 1) == 0)
            result = Py_NewRef(Py_True);
        goto done;
    }
    for (;;) {
        int ms = poll_ms(deadline), rc, err = 0;
        ssize_t got = -2;
        Py_BEGIN_ALLOW_THREADS
        struct pollfd p = {.fd = fd, .events = POLLIN};
        rc = poll(&p, 1, ms);
        if (rc < 0) {
            err = errno;
        }
        else if (rc > 0) {
            got = recv(fd, rbuf, RN_RBUF_SIZE, MSG_DONTWAIT);
            if (got < 0)
                err = errno;
        }
        Py_END_ALLOW_THREADS
        if (conn_still_mine(c, fd) < 0)
            goto done;
        if (err == EINTR || (rc == 0 && ms != 0)) {
            /* DESIGN rule 3: run the handlers, then wait the time left (a
             * wait cut at INT_MAX ms goes on too) */
            if (PyErr_CheckSignals() < 0 || conn_still_mine(c, fd) < 0)
                goto done;
            continue;
        }
        if (rc < 0) {
            conn_raise_io(c, fd, 1, err, 1);   /* ConnectionError, as redis-py */
            goto done;
        }
        if (rc == 0 || (got < 0 && (err == EAGAIN || err == EWOULDBLOCK))) {
            result = Py_NewRef(Py_False);
            goto done;
        }
        if (conn_take_bytes(c, fd, rbuf, got, err, 1) == 0)
            result = Py_NewRef(Py_True);
        goto done;
    }
done:
    if (rbuf != NULL)
        conn_give_rbuf(c, rbuf);
    conn_give(c, 1, 0);
    return result;
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
    return PyLong_FromLong(rn_conn_is_live(c) ? c->fd : -1);
}

static PyMethodDef conn_methods[] = {
    {"_connect_tcp", (PyCFunction)(void (*)(void))conn_connect_tcp, METH_VARARGS | METH_KEYWORDS,
     "Open the TCP socket (no handshake)."},
    {"_connect_unix", (PyCFunction)conn_connect_unix, METH_O,
     "Open the unix domain socket (no handshake)."},
    {"_attach_fd", (PyCFunction)conn_attach_fd, METH_O,
     "Adopt an already connected socket file descriptor."},
    {"_start_tls", (PyCFunction)(void (*)(void))conn_start_tls, METH_VARARGS | METH_KEYWORDS,
     "_start_tls(self, context, server_hostname)\n--\n\nTLS client handshake on the open socket."},
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
    {"_handshake", (PyCFunction)rn_conn_handshake, METH_O,
     "_handshake(commands)\n--\n\nThe connect-time CLIENT SETNAME/SETINFO and SELECT "
     "in one round trip; False when the Python path must run."},
    {NULL, NULL, 0, NULL}
};

/* --- attributes mirrored in C ---
 *
 * Every setter leaves the C mirror consistent or raises and changes nothing.
 * Deleting an attribute C needs raises AttributeError. */

static int
refuse_delete(rn_conn *c, const char *name)
{
    PyErr_Format(PyExc_AttributeError, "cannot delete attribute '%s' of '%s' object",
                 name, Py_TYPE(c)->tp_name);
    return -1;
}

/* socket_timeout / socket_connect_timeout: stored as given, as redis-py
 * stores them; a value socket.settimeout() refuses raises (its exception)
 * when the connection connects, as in redis-py.  A valid new socket_timeout
 * applies to an open socket at once. */
static int
set_timeout_attr(rn_conn *c, PyObject *v, int which, const char *name)
{
    if (v == NULL) {
        PyErr_Format(PyExc_AttributeError, "property '%s' of '%s' object has no deleter",
                     name, Py_TYPE(c)->tp_name);
        return -1;
    }
    double d = -1;
    int bad = 0;
    if (parse_socket_timeout(v, &d) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError) &&
            !PyErr_ExceptionMatches(PyExc_ValueError) &&
            !PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;      /* from user code (__index__): propagate */
        PyErr_Clear();
        bad = 1;
    }
    if (which == RN_BAD_SOCKET_TIMEOUT && !bad && rn_conn_is_live(c) &&
        apply_io_timeouts(c->fd, d) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    Py_INCREF(v);
    if (which == RN_BAD_SOCKET_TIMEOUT) {
        Py_XSETREF(c->socket_timeout, v);
        if (!bad)
            c->timeout_c = d;   /* bad: the open socket keeps its timeout */
    }
    else {
        Py_XSETREF(c->socket_connect_timeout, v);
        if (!bad)
            c->connect_timeout_c = d;
    }
    c->bad_timeouts = bad ? (c->bad_timeouts | which) : (c->bad_timeouts & ~which);
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
    return set_timeout_attr(c, v, RN_BAD_SOCKET_TIMEOUT, "socket_timeout");
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
    return set_timeout_attr(c, v, RN_BAD_CONNECT_TIMEOUT, "socket_connect_timeout");
}

static PyObject *
get_hc_interval(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->health_check_interval);
}

/* A number (None: 0, no health checks).  NaN, negative: no health checks. */
static int
set_hc_interval(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL)
        return refuse_delete(c, "health_check_interval");
    double d = 0;
    if (v != Py_None) {
        d = PyFloat_AsDouble(v);
        if (d == -1 && PyErr_Occurred())
            return -1;
    }
    c->hc_interval_c = d;
    Py_INCREF(v);
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

/* A str (an unknown codec raises LookupError when used, as in redis-py). */
static int
set_encoding(rn_conn *c, PyObject *v, void *closure)
{
    const char *name = closure ? "encoding_errors" : "encoding";
    if (v == NULL)
        return refuse_delete(c, name);
    if (!PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", name,
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    if (PyUnicode_AsUTF8(v) == NULL)    /* a lone surrogate: not a codec name */
        return -1;
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
    if (v == NULL)
        return refuse_delete(c, "decode_responses");
    int t = PyObject_IsTrue(v);
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
get_fd(rn_conn *c, void *closure)
{
    (void)closure;
    if (!rn_conn_is_live(c))
        Py_RETURN_NONE;
    return PyLong_FromLong(c->fd);
}

static PyObject *
get_fd_serial(rn_conn *c, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLong(c->fd_serial);
}

static PyObject *
get_is_connected(rn_conn *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(rn_conn_is_live(c));
}

static PyObject *
get_keep_session(rn_conn *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(c->keep_session);
}

static int
set_keep_session(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL)
        return refuse_delete(c, "_keep_session");
    int b = PyObject_IsTrue(v);
    if (b < 0)
        return -1;
    c->keep_session = b && rn_conn_is_live(c);
    return 0;
}

static PyObject *
get_uses_tls(rn_conn *c, void *closure)
{
    (void)closure;
    return PyBool_FromLong(rn_conn_is_live(c) && c->tls != NULL);
}

static PyObject *
get_retry(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->retry);
}

/* Any object, as in redis-py: it is only ever read through its attributes
 * (a wrong one fails there with AttributeError, never in C). */
static int
set_retry(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL)
        return refuse_delete(c, "retry");
    Py_INCREF(v);
    Py_XSETREF(c->retry, v);
    return 0;
}

static PyObject *
get_on_readonly(rn_conn *c, void *closure)
{
    (void)closure;
    return Py_NewRef(c->on_readonly != NULL ? c->on_readonly : Py_None);
}

/* None (or del) removes the hook; anything else must be callable. */
static int
set_on_readonly(rn_conn *c, PyObject *v, void *closure)
{
    (void)closure;
    if (v == NULL || v == Py_None) {
        Py_CLEAR(c->on_readonly);
        return 0;
    }
    if (!PyCallable_Check(v)) {
        PyErr_Format(PyExc_TypeError, "_on_readonly must be None or a callable, not %.100s",
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    Py_INCREF(v);
    Py_XSETREF(c->on_readonly, v);
    return 0;
}

static PyObject *
get_replies_owed(rn_conn *c, void *closure)
{
    (void)closure;
    rn_conn_is_live(c);         /* a forked child owes nothing */
    return PyLong_FromSsize_t(c->owed);
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
    {"_fd", (getter)get_fd, NULL, "the socket's file descriptor, or None", NULL},
    {"_fd_serial", (getter)get_fd_serial, NULL,
     "how many sockets the connection has installed (tells a reconnect on the same "
     "descriptor number apart)", NULL},
    {"is_connected", (getter)get_is_connected, NULL, "True while the socket is open", NULL},
    {"_uses_tls", (getter)get_uses_tls, NULL, "True while the open socket runs TLS", NULL},
    {"_keep_session", (getter)get_keep_session, (setter)set_keep_session,
     "True while the server holds state for this socket (a WATCH): a socket found closed "
     "before a request raises ConnectionError instead of being silently replaced", NULL},
    {"_on_readonly", (getter)get_on_readonly, (setter)set_on_readonly,
     "None, or hook(connection, error) called when a reply is a READONLY error, before it "
     "is raised or returned in a pipeline's replies; an exception it raises replaces the "
     "error (Sentinel: a demoted master)", NULL},
    {"_replies_owed", (getter)get_replies_owed, NULL,
     "replies the server still owes: commands sent whose replies were not read yet "
     "(a request never goes out while this is not 0; pools drop such connections)", NULL},
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
    return rn_setattro_tracking((PyObject *)self, self->st, name, value, &self->overridden,
                                RN_KIND_CONN);
}

static PyType_Slot conn_slots[] = {
    {Py_tp_setattro, conn_setattro},
    {Py_tp_new, conn_new},
    {Py_tp_dealloc, conn_dealloc},
    {Py_tp_finalize, conn_finalize},
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

/* ------------------------------------------------------------------ */
/* Several connections at once (cluster pipelines, src/cluster_pipe.c)  */


/* One connection's share of rn_conn_roundtrip_many. */
typedef struct {
    rn_conn *c;             /* strong: Python code run meanwhile (a connect
                             * callback) may drop the caller's list */
    Py_ssize_t n;           /* commands */
    Py_ssize_t nread;       /* replies read so far */
    char *raw;              /* per-command "read without decoding" flags */
    rn_buf b;               /* the packed commands (the connection's wbuf, taken) */
    size_t off;             /* bytes of b already sent */
    char *rbuf;             /* the connection's input buffer, taken */
    int fd;
    rn_tls *tls;            /* the connection's SSL object (TLS), or NULL */
    int active;             /* sides taken, I/O in progress */
    int reading_err;        /* the failed operation was a read */
    double deadline;        /* < 0: none; reset by every progress */
    ssize_t got;            /* last recv(): > 0 bytes, 0 EOF, -1 error, -2 none */
    int err;
    PyObject *out;          /* list of replies, or the exception instance */
} rn_many;

static void
many_deadline(rn_many *m, double now)
{
    double t = m->c->timeout_c;
    m->deadline = t < 0 ? -1 : now + t;
}

/* The node is done: give back buffers and sides; on failure (exception set)
 * close the connection and keep the exception as the node's outcome. */
static void
many_finish(rn_many *m, int failed)
{
    rn_conn *c = m->c;
    if (failed) {
        if (m->active)
            conn_close_if(c, m->fd);
        PyObject *e = rn_err_take();
        if (e == NULL) {            /* every failing path sets one; never leave None */
            PyErr_SetString(c->st->ConnectionError, "Connection failed during a pipeline");
            e = rn_err_take();
        }
        Py_XSETREF(m->out, e);
    }
    else if (m->active) {
        conn_mark_read(c);
    }
    if (m->rbuf != NULL) {
        conn_give_rbuf(c, m->rbuf);
        m->rbuf = NULL;
    }
    conn_give_wbuf(c, &m->b);
    if (m->active) {
        conn_give(c, 1, 1);
        m->active = 0;
    }
}

/* Take every complete reply the reader holds (GIL held).  1 when all replies
 * are in, 0 when more bytes are needed, -1 with an exception set. */
static int
many_collect(rn_many *m)
{
    rn_conn *c = m->c;
    const char *enc, *errs;
    if (conn_codec(c, &enc, &errs) < 0)
        return -1;
    while (m->nread < m->n) {
        PyObject *reply = NULL;
        int rc = rn_reader_get(c->reader, c->decode_responses && !m->raw[m->nread], enc, errs,
                               &reply);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return -1;      /* the caller closes the connection */
        if (c->owed > 0)
            c->owed--;
        PyList_SET_ITEM(m->out, m->nread, rn_reply_lift_conn_error(c->st, reply));
        m->nread++;
    }
    return 1;
}

/* Pack a node's commands (into the connection's output buffer, taken).  -1
 * with an exception set when a command cannot be packed: nothing was sent
 * anywhere nor any connection taken yet, and the caller raises it. */
static int
many_begin(rn_state *st, rn_many *m, PyObject *commands)
{
    rn_conn *c = m->c;
    const char *enc, *errs;
    if (!PyList_Check(commands) && !PyTuple_Check(commands)) {
        PyErr_SetString(PyExc_TypeError, "the commands of a node must be a list");
        return -1;
    }
    PyObject *seq = PySequence_Tuple(commands);      /* ours: see the caller */
    if (seq == NULL)
        return -1;
    m->n = PyTuple_GET_SIZE(seq);
    if ((m->raw = PyMem_Calloc((size_t)m->n + 1, 1)) == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    if (conn_codec(c, &enc, &errs) < 0)
        goto error;
    m->b = conn_take_wbuf(c);
    for (Py_ssize_t i = 0; i < m->n; i++) {
        PyObject *item = PyTuple_GET_ITEM(seq, i);
        PyObject *args = item, *options = NULL;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
            args = PyTuple_GET_ITEM(item, 0);
            options = PyTuple_GET_ITEM(item, 1);
        }
        if (options != NULL && PyDict_Check(options)) {
            int has = PyDict_Contains(options, st->s_never_decode);
            if (has < 0)
                goto error;
            m->raw[i] = (char)has;
        }
        /* a tuple (what pipelines queue) as is, anything else copied: packing
         * may run Python code that must not resize what is being packed */
        PyObject *argseq = PyTuple_Check(args) ? Py_NewRef(args)
            : PyList_Check(args) ? PySequence_Tuple(args) : NULL;
        if (argseq == NULL) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError,
                                "each command's arguments must be a tuple or a list");
            goto error;
        }
        int rc = rn_pack_command(st, &m->b, &PyTuple_GET_ITEM(argseq, 0),
                                 PyTuple_GET_SIZE(argseq), enc, errs);
        Py_DECREF(argseq);
        if (rc < 0)
            goto error;
    }
    Py_DECREF(seq);
    if ((m->out = PyList_New(m->n)) == NULL)
        return -1;
    return 0;

error:
    Py_DECREF(seq);
    return -1;
}

/* Connect the node's connection if needed and take it for the I/O.  A
 * failure belongs to this node only: m->out then holds the exception. */
static void
many_take(rn_state *st, rn_many *m)
{
    rn_conn *c = m->c;
    if (conn_prepare(c, 1, 1) < 0 || conn_take(c, 1, 1) < 0) {
        many_finish(m, 1);
        return;
    }
    m->active = 1;
    m->fd = c->fd;
    m->tls = c->tls;
    if (m->fd < 0) {
        PyErr_SetString(st->ConnectionError, "Connection closed by another thread during I/O");
        many_finish(m, 1);
        return;
    }
    if ((m->rbuf = conn_take_rbuf(c)) == NULL) {
        many_finish(m, 1);
        return;
    }
    c->owed += m->n;
    m->got = -2;
}

/* One non-blocking step of a TLS node (GIL released): write what is left,
 * then read what OpenSSL can give.  Returns the poll() events the node waits
 * for, or 0 when it has something to hand to Python (m->got set). */
static short
many_tls_step(rn_many *m, double now)
{
    int want = 0, err = 0;
    short events = 0;
    while (m->off < m->b.len) {
        ssize_t n = rn_tls_write(m->tls, m->b.data + m->off, m->b.len - m->off, &want, &err);
        if (n > 0) {
            m->off += (size_t)n;
            many_deadline(m, now);
            continue;
        }
        if (want == 0) {
            m->got = -1;
            m->err = err;
            m->reading_err = 0;
            return 0;
        }
        events |= (short)want;
        break;
    }
    /* read even while writing: the server may be blocked sending replies */
    ssize_t n = rn_tls_read(m->tls, m->rbuf, RN_RBUF_SIZE, &want, &err);
    if (n >= 0) {
        m->got = n;
        many_deadline(m, now);
        return 0;
    }
    if (want == 0) {
        m->got = -1;
        m->err = err;
        m->reading_err = 1;
        return 0;
    }
    return (short)(events | want);
}

/* The GIL-free part: poll every active node's socket, write what is left to
 * write, and read once from each readable socket; return as soon as some
 * node has bytes (or an error, or a passed deadline) to hand to Python.
 * A TLS node tries its SSL write and read first (bytes inside OpenSSL are
 * invisible to poll()) and waits for what OpenSSL wants.  Returns 0, or
 * errno of a failed poll() (EINTR: the caller runs the signal handlers). */
static int
many_io(rn_many *ms, Py_ssize_t count, struct pollfd *pfds, Py_ssize_t *map)
{
    for (;;) {
        double now = rn_monotonic(), wait_until = -1;
        nfds_t k = 0;
        int handed = 0;
        for (Py_ssize_t i = 0; i < count; i++) {
            rn_many *m = &ms[i];
            if (!m->active || m->got != -2)
                continue;
            short events = (short)(POLLIN | (m->off < m->b.len ? POLLOUT : 0));
            if (m->tls != NULL && (events = many_tls_step(m, now)) == 0) {
                handed = 1;
                continue;
            }
            if (m->deadline >= 0 && now >= m->deadline) {
                m->got = -1;
                m->err = m->c->timeout_c == 0 ? EAGAIN : ETIMEDOUT;
                m->reading_err = m->off == m->b.len;
                handed = 1;
                continue;
            }
            if (m->deadline >= 0 && (wait_until < 0 || m->deadline < wait_until))
                wait_until = m->deadline;
            pfds[k].fd = m->fd;
            pfds[k].events = events;
            pfds[k].revents = 0;
            map[k++] = i;
        }
        if (handed || k == 0)
            return 0;
        int rc = poll(pfds, k, poll_ms(wait_until));
        if (rc < 0)
            return errno;
        now = rn_monotonic();
        for (nfds_t j = 0; j < k; j++) {
            rn_many *m = &ms[map[j]];
            short re = pfds[j].revents;
            if (re == 0 || m->tls != NULL)
                continue;               /* TLS: the next step tries again */
            if (re & POLLNVAL) {
                m->got = -1;            /* not an open descriptor any more */
                m->err = EBADF;
                m->reading_err = m->off == m->b.len;
                handed = 1;
                continue;
            }
            if ((re & POLLOUT) && m->off < m->b.len) {
                ssize_t n = send(m->fd, m->b.data + m->off, m->b.len - m->off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                    m->off += (size_t)n;
                    many_deadline(m, now);
                }
                else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    m->got = -1;
                    m->err = errno;
                    m->reading_err = 0;
                    handed = 1;
                    continue;
                }
            }
            if (re & (POLLIN | POLLERR | POLLHUP)) {
                ssize_t n = recv(m->fd, m->rbuf, RN_RBUF_SIZE, MSG_DONTWAIT);
                if (n >= 0) {
                    m->got = n;
                    many_deadline(m, now);
                    handed = 1;
                }
                else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    m->got = -1;
                    m->err = errno;
                    m->reading_err = 1;
                    handed = 1;
                }
            }
        }
        if (handed)
            return 0;
    }
}

PyObject *
rn_conn_roundtrip_many(rn_state *st, PyObject *pairs)
{
    /* a tuple of our own: Python code run meanwhile (a float subclass's
     * __repr__ while packing, a connect callback) cannot change it */
    if (!PyList_Check(pairs) && !PyTuple_Check(pairs)) {
        PyErr_SetString(PyExc_TypeError, "_roundtrip_many() takes a list of pairs");
        return NULL;
    }
    PyObject *seq = PySequence_Tuple(pairs);
    if (seq == NULL)
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    PyObject *result = NULL;
    rn_many *ms = PyMem_Calloc((size_t)count + 1, sizeof(rn_many));
    struct pollfd *pfds = PyMem_Calloc((size_t)count + 1, sizeof(struct pollfd));
    Py_ssize_t *map = PyMem_Calloc((size_t)count + 1, sizeof(Py_ssize_t));
    Py_ssize_t begun = 0;
    if (ms == NULL || pfds == NULL || map == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PyTuple_GET_ITEM(seq, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
            !PyObject_TypeCheck(PyTuple_GET_ITEM(pair, 0), st->ConnectionType)) {
            PyErr_SetString(PyExc_TypeError,
                            "_roundtrip_many() takes (Connection, commands) tuples");
            goto done;
        }
        rn_many *m = &ms[i];
        m->c = (rn_conn *)Py_NewRef(PyTuple_GET_ITEM(pair, 0));
        m->fd = -1;
        rn_buf_init(&m->b);
        for (Py_ssize_t j = 0; j < i; j++)
            if (ms[j].c == m->c) {
                PyErr_SetString(PyExc_ValueError,
                                "_roundtrip_many(): a connection appears twice");
                goto done;
            }
    }
    /* pack everything first: an argument error sends nothing anywhere */
    for (; begun < count; begun++) {
        PyObject *pair = PyTuple_GET_ITEM(seq, begun);
        if (many_begin(st, &ms[begun], PyTuple_GET_ITEM(pair, 1)) < 0) {
            begun++;
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < count; i++)
        many_take(st, &ms[i]);
    double now = rn_monotonic();
    for (Py_ssize_t i = 0; i < count; i++)
        if (ms[i].active) {
            many_deadline(&ms[i], now);
            if (ms[i].n == 0)
                many_finish(&ms[i], 0);
        }

    for (;;) {
        int left = 0, perr;
        for (Py_ssize_t i = 0; i < count; i++)
            left += ms[i].active;
        if (!left)
            break;
        Py_BEGIN_ALLOW_THREADS
        perr = many_io(ms, count, pfds, map);
        Py_END_ALLOW_THREADS
        if (perr != 0 && perr != EINTR) {
            errno = perr;
            PyErr_SetFromErrno(st->ConnectionError);
            goto done;
        }
        if (perr == EINTR && PyErr_CheckSignals() < 0)
            goto done;
        for (Py_ssize_t i = 0; i < count; i++) {
            rn_many *m = &ms[i];
            if (!m->active)
                continue;
            if (conn_still_mine(m->c, m->fd) < 0) {
                many_finish(m, 1);
                continue;
            }
            if (m->got == -2)
                continue;
            ssize_t got = m->got;
            m->got = -2;
            if (got > 0) {
                if (rn_reader_feed(m->c->reader, m->rbuf, (size_t)got) < 0) {
                    many_finish(m, 1);
                    continue;
                }
                int rc = many_collect(m);
                if (rc != 0)
                    many_finish(m, rc < 0);
                else if (m->off == m->b.len && m->nread == m->n)
                    many_finish(m, 0);
                continue;
            }
            conn_raise_io(m->c, m->fd, m->reading_err || got == 0, got == 0 ? 0 : m->err, 1);
            many_finish(m, 1);
        }
    }
    if ((result = PyList_New(count)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyList_SET_ITEM(result, i, ms[i].out != NULL ? ms[i].out : Py_NewRef(Py_None));
        ms[i].out = NULL;
    }

done:
    if (ms != NULL) {
        /* an exception ends the call: every connection still in the middle
         * of its exchange is closed (replies owed), the exception kept */
        PyObject *exc = result == NULL ? rn_err_take() : NULL;
        for (Py_ssize_t i = 0; i < begun; i++) {
            rn_many *m = &ms[i];
            if (m->active) {
                conn_close_if(m->c, m->fd);
                many_finish(m, 0);
            }
            else {
                if (m->rbuf != NULL)
                    conn_give_rbuf(m->c, m->rbuf);
                conn_give_wbuf(m->c, &m->b);
            }
            Py_CLEAR(m->out);
            PyMem_Free(m->raw);
        }
        for (Py_ssize_t i = begun; i < count; i++)
            PyMem_Free(ms[i].raw);
        for (Py_ssize_t i = 0; i < count; i++)
            Py_XDECREF(ms[i].c);
        rn_err_give(exc);
    }
    PyMem_Free(ms);
    PyMem_Free(pfds);
    PyMem_Free(map);
    Py_DECREF(seq);
    return result;
}
