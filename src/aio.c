/* _native.AsyncProtocol (aio.h): one asyncio connection to a Redis server.
 *
 * The FIFO.  Every write that expects replies appends one entry to a queue,
 * in write order; replies are taken off the reader in the same order:
 *
 *   W_ONE   one command, one future: the reply goes through the command's
 *           response callback (or EMPTY_RESPONSE) and completes the future;
 *   W_MANY  a pipeline: N commands in one write, one future that receives
 *           the list of N raw replies (error replies as exception instances);
 *   W_MSG   a command sent without a future (send(), send_packed()): its
 *           reply joins the messages, read with read_reply() like an
 *           unsolicited pub/sub or MONITOR message.
 *
 * Replies arriving while the queue is empty are messages too.
 *
 * Cancellation.  A future cancelled before its reply arrived keeps its entry:
 * the reply is read and dropped when it comes, so no later command can be
 * handed it (the Python layer additionally discards a connection whose
 * command was cancelled: docs/architecture.md, "asyncio").  A cancelled
 * read_reply() future loses nothing: the message stays queued.
 *
 * Connection loss (connection_lost, abort(), a protocol error) fails every
 * waiting future with ConnectionError (InvalidResponse for a protocol
 * error); later commands raise ConnectionError at once.
 *
 * Writing.  Bytes go to the transport's socket with a non-blocking send()
 * when the connection layer allowed it (use_socket(fd): plain TCP and unix
 * sockets, never TLS) and the transport holds nothing unsent; whatever
 * send() does not take (EAGAIN, a partial write, an error) is handed to
 * transport.write(), which buffers it, applies pause_writing() and reports
 * errors through connection_lost() as before.  From then on writes go
 * through the transport until its get_write_buffer_size() is 0 again, so
 * the bytes on the wire keep their order.
 *
 * Re-entrancy: futures never run their callbacks synchronously, but a
 * response callback is user code and may use this protocol again; an entry
 * is taken off the queue before its callback runs, and data_received refuses
 * to run inside itself.
 *
 * Everything here runs on the event loop's thread with the GIL held.
 */
#include "aio.h"
#include "packer.h"
#include "reader.h"

#include "structmember.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

enum { W_ONE = 0, W_MANY = 1, W_MSG = 2 };

typedef struct {
    int kind;
    int decode;             /* W_ONE: decode the reply (else NEVER_DECODE) */
    Py_ssize_t want;        /* replies this entry still takes */
    PyObject *fut;          /* W_ONE, W_MANY: strong */
    PyObject *callback;     /* W_ONE: strong or NULL */
    PyObject *cb_kwargs;    /* W_ONE: dict of callback options or NULL */
    PyObject *empty;        /* W_ONE: EMPTY_RESPONSE value or NULL */
    PyObject *acc;          /* W_MANY: list of the replies so far */
    char *flags;            /* W_MANY: per-reply decode flags (malloc), or NULL: all decoded */
    Py_ssize_t total;       /* W_MANY: replies expected in all */
} rn_waiter;

typedef struct {
    PyObject_HEAD
    PyObject *module;       /* strong: keeps the state alive */
    rn_state *st;
    PyObject *create_future;/* loop.create_future (strong) */
    PyObject *transport;    /* strong, NULL before connection_made / after loss */
    PyObject *write;        /* transport.write (strong) */
    rn_reader *reader;
    rn_buf out;             /* packing buffer, copied into a bytes per write */
    rn_waiter *q;           /* ring buffer of entries */
    size_t qhead, qlen, qcap;
    Py_ssize_t owed;        /* replies the entries still take */
    PyObject *messages;     /* list: replies no future asked for, oldest first */
    Py_ssize_t msg_pos;     /* index of the oldest unread message */
    PyObject *msg_fut;      /* future of read_reply() waiting for a message */
    int msg_decode;
    PyObject *lost;         /* str: why the connection is gone; NULL while open */
    PyObject *lost_type;    /* exception class for `lost` (borrowed from st) */
    char *encoding;         /* malloc'd copies */
    char *errors;
    int decode;             /* decode_responses */
    int paused;             /* the transport asked us to stop writing */
    int fd;                 /* the transport's socket for direct send(), or -1 */
    int tbuffered;          /* bytes were handed to the transport: it may
                             * still hold some, so writes go through it until
                             * its buffer is seen empty */
    PyObject *drain_waiters;/* list of futures of drained(), resolved on resume */
    int dispatching;
    PyObject *weakreflist;
} rn_aproto;

/* ------------------------------------------------------------------ queue */

static void
waiter_clear(rn_waiter *w)
{
    Py_CLEAR(w->fut);
    Py_CLEAR(w->callback);
    Py_CLEAR(w->cb_kwargs);
    Py_CLEAR(w->empty);
    Py_CLEAR(w->acc);
    free(w->flags);
    w->flags = NULL;
}

/* Room for one more entry, so that queue_push cannot fail once a command
 * is on the wire.  0 or -1 with MemoryError. */
static int
queue_reserve(rn_aproto *self)
{
    if (self->qlen == self->qcap) {
        size_t ncap = self->qcap ? self->qcap * 2 : 16;
        rn_waiter *nq = malloc(ncap * sizeof *nq);
        if (nq == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < self->qlen; i++)
            nq[i] = self->q[(self->qhead + i) % self->qcap];
        free(self->q);
        self->q = nq;
        self->qcap = ncap;
        self->qhead = 0;
    }
    return 0;
}

static int
queue_push(rn_aproto *self, const rn_waiter *w)
{
    if (queue_reserve(self) < 0)
        return -1;
    self->q[(self->qhead + self->qlen) % self->qcap] = *w;
    self->qlen++;
    self->owed += w->want;
    return 0;
}

static inline rn_waiter *
queue_head(rn_aproto *self)
{
    return self->qlen ? &self->q[self->qhead] : NULL;
}

/* Take the head entry off the queue; the caller owns its references. */
static void
queue_pop(rn_aproto *self, rn_waiter *out)
{
    *out = self->q[self->qhead];
    self->owed -= out->want;
    self->qhead = (self->qhead + 1) % self->qcap;
    self->qlen--;
}

/* ------------------------------------------------------------------ futures */

/* 1 when fut is done (cancelled, or completed by someone else), 0 if not,
 * -1 with an exception set. */
static int
fut_done(rn_state *st, PyObject *fut)
{
    PyObject *r = PyObject_CallMethodNoArgs(fut, st->s_done);
    if (r == NULL)
        return -1;
    int d = PyObject_IsTrue(r);
    Py_DECREF(r);
    return d;
}

/* fut.set_result(value) unless fut is done.  0 or -1. */
static int
fut_result(rn_state *st, PyObject *fut, PyObject *value)
{
    int d = fut_done(st, fut);
    if (d != 0)
        return d < 0 ? -1 : 0;
    PyObject *r = PyObject_CallMethodOneArg(fut, st->s_set_result, value);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int
fut_exception(rn_state *st, PyObject *fut, PyObject *exc)
{
    int d = fut_done(st, fut);
    if (d != 0)
        return d < 0 ? -1 : 0;
    PyObject *r = PyObject_CallMethodOneArg(fut, st->s_set_exception, exc);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Set the current exception (a user callback's, a decode error) on fut and
 * clear it.  StopIteration cannot be a future's exception: it is wrapped in
 * RuntimeError as a coroutine would.  0 or -1. */
static int
fut_current_exception(rn_state *st, PyObject *fut)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL)
        value = Py_NewRef(Py_None);
    if (tb != NULL && PyExceptionInstance_Check(value))
        PyException_SetTraceback(value, tb);
    int rc;
    if (PyErr_GivenExceptionMatches(value, PyExc_StopIteration)) {
        PyObject *wrapped = PyObject_CallFunction(PyExc_RuntimeError, "s",
                                                  "response callback raised StopIteration");
        rc = wrapped == NULL ? -1 : fut_exception(st, fut, wrapped);
        Py_XDECREF(wrapped);
    }
    else {
        rc = fut_exception(st, fut, value);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return rc;
}

static PyObject *
new_future(rn_aproto *self)
{
    return PyObject_CallNoArgs(self->create_future);
}

/* ------------------------------------------------------------------ loss */

static PyObject *
lost_error(rn_aproto *self)
{
    return PyObject_CallOneArg(self->lost_type, self->lost);
}

static int
raise_if_lost(rn_aproto *self)
{
    if (self->lost != NULL) {
        PyErr_SetObject(self->lost_type, self->lost);
        return -1;
    }
    if (self->transport == NULL) {
        PyErr_SetString(self->st->ConnectionError, "not connected");
        return -1;
    }
    return 0;
}

/* The transport is gone: ConnectionError (the recorded reason).  -1. */
static int
not_writable(rn_aproto *self)
{
    if (raise_if_lost(self) == 0)
        PyErr_SetString(self->st->ConnectionError, "not connected");
    return -1;
}

/* Resolve the futures of drained() (writing may go on, or the connection
 * is gone and the commands' own futures say so).  Keeps any pending
 * exception. */
static void
wake_drain_waiters(rn_aproto *self)
{
    PyObject *waiters = self->drain_waiters;
    if (waiters == NULL || PyList_GET_SIZE(waiters) == 0)
        return;
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    self->drain_waiters = PyList_New(0);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(waiters); i++) {
        if (fut_result(self->st, PyList_GET_ITEM(waiters, i), Py_None) < 0)
            PyErr_WriteUnraisable((PyObject *)self);
    }
    Py_DECREF(waiters);
    if (self->drain_waiters == NULL)
        PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(t, v, tb);
}

/* Mark the connection gone (first reason wins), fail every waiting future
 * and forget the transport.  `how`: NULL, or the name of the transport
 * method to call (abort/close).  Keeps any pending exception. */
static int
mark_lost(rn_aproto *self, PyObject *exc_type, PyObject *why, PyObject *how)
{
    PyObject *saved_t, *saved_v, *saved_tb;
    int rc = 0;
    PyErr_Fetch(&saved_t, &saved_v, &saved_tb);
    if (self->lost == NULL) {
        self->lost = Py_NewRef(why);
        self->lost_type = exc_type;
    }
    PyObject *transport = self->transport;
    self->transport = NULL;
    Py_CLEAR(self->write);
    self->fd = -1;
    self->tbuffered = 0;
    rn_reader_reset(self->reader);
    self->paused = 0;
    wake_drain_waiters(self);
    while (self->qlen) {
        rn_waiter w;
        queue_pop(self, &w);
        if (w.fut != NULL) {
            PyObject *e = lost_error(self);
            if (e == NULL || fut_exception(self->st, w.fut, e) < 0) {
                PyErr_WriteUnraisable((PyObject *)self);
                rc = -1;
            }
            Py_XDECREF(e);
        }
        waiter_clear(&w);
    }
    self->owed = 0;
    if (self->msg_fut != NULL) {
        PyObject *f = self->msg_fut;
        self->msg_fut = NULL;
        PyObject *e = lost_error(self);
        if (e == NULL || fut_exception(self->st, f, e) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
            rc = -1;
        }
        Py_XDECREF(e);
        Py_DECREF(f);
    }
    if (transport != NULL) {
        if (how != NULL) {
            PyObject *r = PyObject_CallMethodNoArgs(transport, how);
            if (r == NULL)
                PyErr_WriteUnraisable(transport);
            Py_XDECREF(r);
        }
        Py_DECREF(transport);
    }
    PyErr_Restore(saved_t, saved_v, saved_tb);
    return rc;
}

/* ------------------------------------------------------------------ dispatch */

/* Deliver one complete reply (stolen) to the message list or read waiter. */
static int
deliver_message(rn_aproto *self, PyObject *reply)
{
    if (self->msg_fut != NULL) {
        PyObject *f = self->msg_fut;
        self->msg_fut = NULL;
        int d = fut_done(self->st, f);
        if (d == 0) {
            int rc = fut_result(self->st, f, reply);
            Py_DECREF(f);
            Py_DECREF(reply);
            return rc;
        }
        Py_DECREF(f);
        if (d < 0) {
            Py_DECREF(reply);
            return -1;
        }
        /* the reader gave up (cancelled, timed out): keep the message */
    }
    int rc = PyList_Append(self->messages, reply);
    Py_DECREF(reply);
    return rc;
}

/* The result of a W_ONE entry from its reply (stolen), set on its future. */
static int
finish_one(rn_aproto *self, rn_waiter *w, PyObject *reply)
{
    int rc;
    if (PyExceptionInstance_Check(reply)) {
        if (w->empty != NULL && PyObject_TypeCheck(reply, (PyTypeObject *)self->st->ResponseError))
            rc = fut_result(self->st, w->fut, w->empty);
        else
            rc = fut_exception(self->st, w->fut, reply);
        Py_DECREF(reply);
        return rc;
    }
    if (w->callback == NULL) {
        rc = fut_result(self->st, w->fut, reply);
        Py_DECREF(reply);
        return rc;
    }
    /* a cancelled command's reply is dropped without running user code */
    int d = fut_done(self->st, w->fut);
    if (d != 0) {
        Py_DECREF(reply);
        return d < 0 ? -1 : 0;
    }
    PyObject *result;
    if (w->cb_kwargs == NULL) {
        result = PyObject_CallOneArg(w->callback, reply);
    }
    else {
        PyObject *t = PyTuple_Pack(1, reply);
        result = t == NULL ? NULL : PyObject_Call(w->callback, t, w->cb_kwargs);
        Py_XDECREF(t);
    }
    Py_DECREF(reply);
    if (result == NULL)
        return fut_current_exception(self->st, w->fut);
    rc = fut_result(self->st, w->fut, result);
    Py_DECREF(result);
    return rc;
}

/* Hand out every complete reply in the reader.  0, or -1 with an exception
 * set when the stream is broken (the caller drops the connection). */
static int
dispatch(rn_aproto *self)
{
    for (;;) {
        rn_waiter *w = queue_head(self);
        int decode;
        if (w == NULL)
            decode = self->msg_fut != NULL ? self->msg_decode : self->decode;
        else if (w->kind == W_MANY)
            decode = w->flags ? w->flags[w->total - w->want] : self->decode;
        else if (w->kind == W_ONE)
            decode = w->decode;
        else
            decode = self->msg_fut != NULL ? self->msg_decode : self->decode;

        PyObject *reply = NULL;
        int got = rn_reader_get(self->reader, decode, self->encoding, self->errors, &reply);
        if (got == 0)
            return 0;
        if (got > 0)
            reply = rn_reply_lift_conn_error(self->st, reply);
        if (got < 0) {
            if (!rn_reader_in_sync(self->reader))
                return -1;
            /* a complete reply that could not be built (decode error): it is
             * this entry's reply, delivered as its exception */
            PyObject *t, *v, *tb;
            PyErr_Fetch(&t, &v, &tb);
            PyErr_NormalizeException(&t, &v, &tb);
            if (tb != NULL && v != NULL)
                PyException_SetTraceback(v, tb);
            Py_XDECREF(t);
            Py_XDECREF(tb);
            reply = v != NULL ? v : Py_NewRef(Py_None);
        }

        if (w == NULL) {
            if (deliver_message(self, reply) < 0)
                PyErr_WriteUnraisable((PyObject *)self);
            continue;
        }
        if (w->kind == W_MSG) {
            rn_waiter done;
            queue_pop(self, &done);
            waiter_clear(&done);
            if (deliver_message(self, reply) < 0)
                PyErr_WriteUnraisable((PyObject *)self);
            continue;
        }
        if (w->kind == W_MANY) {
            int rc = PyList_Append(w->acc, reply);
            Py_DECREF(reply);
            if (rc < 0)
                return -1;
            w->want--;
            self->owed--;
            if (w->want > 0)
                continue;
            rn_waiter done;
            queue_pop(self, &done);
            if (fut_result(self->st, done.fut, done.acc) < 0)
                PyErr_WriteUnraisable((PyObject *)self);
            waiter_clear(&done);
            continue;
        }
        rn_waiter done;
        queue_pop(self, &done);
        if (finish_one(self, &done, reply) < 0)
            PyErr_WriteUnraisable((PyObject *)self);
        waiter_clear(&done);
    }
}

/* ------------------------------------------------------------------ protocol methods */

static PyObject *
aproto_connection_made(rn_aproto *self, PyObject *transport)
{
    PyObject *write = PyObject_GetAttrString(transport, "write");
    if (write == NULL)
        return NULL;
    Py_XSETREF(self->write, write);
    Py_XSETREF(self->transport, Py_NewRef(transport));
    self->fd = -1;
    self->tbuffered = 0;
    Py_CLEAR(self->lost);
    rn_reader_reset(self->reader);
    Py_RETURN_NONE;
}

static PyObject *
aproto_data_received(rn_aproto *self, PyObject *data)
{
    Py_buffer view;
    if (self->dispatching) {
        PyErr_SetString(PyExc_RuntimeError, "data_received() called inside itself");
        return NULL;
    }
    if (self->lost != NULL)
        Py_RETURN_NONE;   /* bytes after abort(): nobody waits for them */
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc = rn_reader_feed(self->reader, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    if (rc == 0) {
        self->dispatching = 1;
        rc = dispatch(self);
        self->dispatching = 0;
    }
    if (rc < 0) {
        /* the stream is broken: every waiter gets the reason, the
         * connection is dropped */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyErr_NormalizeException(&t, &v, &tb);
        PyObject *why = v != NULL ? PyObject_Str(v) : NULL;
        PyObject *type = (t != NULL && PyErr_GivenExceptionMatches(t, self->st->InvalidResponse))
                             ? self->st->InvalidResponse : self->st->ConnectionError;
        if (why == NULL) {
            PyErr_Clear();
            why = PyUnicode_FromString("protocol error");
        }
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
        if (why == NULL)
            return NULL;
        mark_lost(self, type, why, self->st->s_abort);
        Py_DECREF(why);
    }
    Py_RETURN_NONE;
}

static PyObject *
aproto_eof_received(rn_aproto *Py_UNUSED(self), PyObject *Py_UNUSED(ignored))
{
    /* returning None lets the transport close itself: connection_lost follows */
    Py_RETURN_NONE;
}

static PyObject *
aproto_connection_lost(rn_aproto *self, PyObject *exc)
{
    PyObject *why;
    if (exc == Py_None)
        why = PyUnicode_FromString("Connection closed by server.");
    else
        why = PyUnicode_FromFormat("Error while reading from socket: %S", exc);
    if (why == NULL)
        return NULL;
    mark_lost(self, self->st->ConnectionError, why, NULL);
    Py_DECREF(why);
    Py_RETURN_NONE;
}

static PyObject *
aproto_pause_writing(rn_aproto *self, PyObject *Py_UNUSED(ignored))
{
    self->paused = 1;
    Py_RETURN_NONE;
}

static PyObject *
aproto_resume_writing(rn_aproto *self, PyObject *Py_UNUSED(ignored))
{
    self->paused = 0;
    wake_drain_waiters(self);
    Py_RETURN_NONE;
}

/* drained() -> future resolved (None) once the transport takes writes
 * again: at once unless it paused us (or when the connection is lost). */
static PyObject *
aproto_drained(rn_aproto *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *fut = new_future(self);
    if (fut == NULL)
        return NULL;
    if (!self->paused || self->lost != NULL || self->drain_waiters == NULL) {
        if (fut_result(self->st, fut, Py_None) < 0) {
            Py_DECREF(fut);
            return NULL;
        }
        return fut;
    }
    if (PyList_Append(self->drain_waiters, fut) < 0) {
        Py_DECREF(fut);
        return NULL;
    }
    return fut;
}

/* use_socket(fd): write with send() on fd, the transport's socket, when
 * the transport holds nothing (the connection layer passes it for plain TCP
 * and unix sockets; -1 stops it).  Forgotten when the connection is lost. */
static PyObject *
aproto_use_socket(rn_aproto *self, PyObject *arg)
{
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred())
        return NULL;
    if (v < -1 || v > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "use_socket() takes a file descriptor or -1");
        return NULL;
    }
    if (v >= 0 && raise_if_lost(self) < 0)
        return NULL;
    self->fd = (int)v;
    self->tbuffered = 1;   /* the transport may hold bytes already: ask it first */
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ writing */

/* Write len bytes at data: a direct send() when allowed (see "Writing"
 * above), the rest through transport.write().  0 or -1. */
static int
write_out(rn_aproto *self, const char *data, size_t len)
{
    if (self->write == NULL) {
        /* user code run while packing (a callbacks mapping, an argument's
         * __repr__) closed the connection */
        return not_writable(self);
    }
    if (len == 0)
        return 0;
    if (self->fd >= 0 && self->tbuffered) {
        PyObject *size = PyObject_CallMethodNoArgs(self->transport, self->st->s_get_write_buffer_size);
        if (size == NULL)
            return -1;
        int empty = PyLong_Check(size) && PyLong_AsSsize_t(size) == 0;
        Py_DECREF(size);
        if (PyErr_Occurred())
            return -1;
        if (empty)
            self->tbuffered = 0;
        if (self->write == NULL)
            return not_writable(self);
    }
    if (self->fd >= 0 && !self->tbuffered && !self->paused) {
        for (;;) {
            ssize_t n = send(self->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                data += n;
                len -= (size_t)n;
                if (len == 0)
                    return 0;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            /* EAGAIN or an error: the transport buffers the rest, or meets
             * the same error and reports it */
            break;
        }
        self->tbuffered = 1;
    }
    else if (self->fd >= 0) {
        self->tbuffered = 1;
    }
    PyObject *bytes = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    if (bytes == NULL)
        return -1;
    PyObject *r = PyObject_CallOneArg(self->write, bytes);
    Py_DECREF(bytes);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Write self->out and empty it.  0 or -1. */
static int
flush_out(rn_aproto *self)
{
    /* emptied first: a transport's write() that re-enters this protocol
     * packs its own command from the start of the buffer (only a real
     * socket's transport, which runs no user code, is asked anything
     * before our bytes are copied or sent) */
    size_t len = self->out.len;
    self->out.len = 0;
    int rc = write_out(self, self->out.data, len);
    rn_buf_trim(&self->out, 64 * 1024);
    return rc;
}

static int
pack_tuple(rn_aproto *self, PyObject *args)
{
    if (!PyTuple_Check(args)) {
        PyErr_Format(PyExc_TypeError, "command arguments must be a tuple, not %.100s",
                     Py_TYPE(args)->tp_name);
        return -1;
    }
    return rn_pack_command(self->st, &self->out, &PyTuple_GET_ITEM(args, 0),
                           PyTuple_GET_SIZE(args), self->encoding, self->errors);
}

/* Read the options of a command: NEVER_DECODE, EMPTY_RESPONSE and keys are
 * for reading; the rest are the callback's keyword arguments (*kwargs: new
 * dict or NULL).  0 or -1. */
static int
read_options(rn_aproto *self, PyObject *options, int *decode, PyObject **empty,
             PyObject **kwargs)
{
    rn_state *st = self->st;
    *decode = self->decode;
    *empty = NULL;
    *kwargs = NULL;
    if (options == NULL || options == Py_None)
        return 0;
    if (!PyDict_Check(options)) {
        PyErr_Format(PyExc_TypeError, "command options must be a dict, not %.100s",
                     Py_TYPE(options)->tp_name);
        return -1;
    }
    if (PyDict_GET_SIZE(options) == 0)
        return 0;
    Py_ssize_t pos = 0, special = 0;
    PyObject *k, *v;
    while (PyDict_Next(options, &pos, &k, &v)) {
        if (!PyUnicode_Check(k))
            continue;
        if (PyUnicode_Compare(k, st->s_never_decode) == 0) {
            *decode = 0;
            special++;
        }
        else if (PyUnicode_Compare(k, st->s_empty_response) == 0) {
            Py_XSETREF(*empty, Py_NewRef(v));
            special++;
        }
        else if (PyUnicode_Compare(k, st->s_keys) == 0) {
            special++;
        }
    }
    if (PyDict_GET_SIZE(options) == special)
        return 0;
    *kwargs = PyDict_Copy(options);
    if (*kwargs == NULL)
        goto error;
    if ((PyDict_DelItem(*kwargs, st->s_never_decode) < 0 && !PyErr_ExceptionMatches(PyExc_KeyError)) ||
        (PyErr_Clear(), 0))
        goto error;
    if ((PyDict_DelItem(*kwargs, st->s_empty_response) < 0 && !PyErr_ExceptionMatches(PyExc_KeyError)) ||
        (PyErr_Clear(), 0))
        goto error;
    if ((PyDict_DelItem(*kwargs, st->s_keys) < 0 && !PyErr_ExceptionMatches(PyExc_KeyError)) ||
        (PyErr_Clear(), 0))
        goto error;
    return 0;
error:
    Py_CLEAR(*empty);
    Py_CLEAR(*kwargs);
    return -1;
}

static int
name_may_have_lower(PyObject *name)
{
    if (!PyUnicode_IS_ASCII(name))
        return 1;
    const char *p = (const char *)PyUnicode_DATA(name);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(name); i < n; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            return 1;
    return 0;
}

/* callbacks[name] (new reference) or NULL when there is none, as redis-py's
 * `name in callbacks` / `callbacks[name]`.  0 or -1. */
static int
lookup_callback(rn_aproto *self, PyObject *callbacks, PyObject *name, PyObject **cb)
{
    *cb = NULL;
    if (callbacks == NULL || callbacks == Py_None)
        return 0;
    if (PyDict_Check(callbacks)) {
        PyObject *found = PyDict_GetItemWithError(callbacks, name);   /* borrowed */
        if (found == NULL && !PyErr_Occurred() && PyUnicode_Check(name) &&
            name_may_have_lower(name)) {
            PyObject *upper = PyObject_CallMethodNoArgs(name, self->st->s_upper);
            if (upper == NULL)
                return -1;
            found = PyDict_GetItemWithError(callbacks, upper);
            Py_DECREF(upper);
        }
        if (found == NULL)
            return PyErr_Occurred() ? -1 : 0;
        *cb = Py_NewRef(found);
        return 0;
    }
    int has = PySequence_Contains(callbacks, name);
    if (has <= 0)
        return has;
    *cb = PyObject_GetItem(callbacks, name);
    return *cb == NULL ? -1 : 0;
}

/* execute(args, options=None, callbacks=None) -> future
 *
 * Pack and write one command; the future gets its result: the reply through
 * callbacks[args[0]] (with the callback options), EMPTY_RESPONSE's value for
 * an error reply when given, or the error reply as its exception. */
static PyObject *
aproto_execute(rn_aproto *self, PyObject *const *argv, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "execute(args, options=None, callbacks=None)");
        return NULL;
    }
    PyObject *args = argv[0];
    PyObject *options = nargs > 1 ? argv[1] : NULL;
    PyObject *callbacks = nargs > 2 ? argv[2] : NULL;
    rn_waiter w = {W_ONE, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, 0};

    if (raise_if_lost(self) < 0)
        return NULL;
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) == 0) {
        PyErr_SetString(PyExc_TypeError, "command arguments must be a non-empty tuple");
        return NULL;
    }
    if (read_options(self, options, &w.decode, &w.empty, &w.cb_kwargs) < 0)
        return NULL;
    if (lookup_callback(self, callbacks, PyTuple_GET_ITEM(args, 0), &w.callback) < 0)
        goto error;
    if (queue_reserve(self) < 0)
        goto error;
    if (pack_tuple(self, args) < 0)
        goto error;
    if ((w.fut = new_future(self)) == NULL) {
        self->out.len = 0;
        goto error;
    }
    if (flush_out(self) < 0)
        goto error;
    if (queue_push(self, &w) < 0)
        goto error;
    return Py_NewRef(w.fut);
error:
    waiter_clear(&w);
    return NULL;
}

/* pipeline(commands) -> future of the list of raw replies
 *
 * commands: a sequence of (args, options) pairs, written in one go.  Each
 * reply is decoded unless its options hold NEVER_DECODE; error replies are
 * exception instances in the list. */
static PyObject *
aproto_pipeline(rn_aproto *self, PyObject *commands)
{
    rn_waiter w = {W_MANY, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    PyObject *seq = NULL;

    if (raise_if_lost(self) < 0)
        return NULL;
    seq = PySequence_Fast(commands, "pipeline() takes a sequence of (args, options)");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if ((w.fut = new_future(self)) == NULL)
        goto error;
    if ((w.acc = PyList_New(0)) == NULL)
        goto error;
    if (n == 0) {
        if (fut_result(self->st, w.fut, w.acc) < 0)
            goto error;
        PyObject *f = Py_NewRef(w.fut);
        waiter_clear(&w);
        Py_DECREF(seq);
        return f;
    }
    if ((w.flags = malloc((size_t)n)) == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "pipeline() items must be (args, options) tuples");
            goto error_packed;
        }
        PyObject *empty, *kw;
        int decode;
        if (read_options(self, PyTuple_GET_ITEM(item, 1), &decode, &empty, &kw) < 0)
            goto error_packed;
        Py_XDECREF(empty);
        Py_XDECREF(kw);
        w.flags[i] = (char)decode;
        if (pack_tuple(self, PyTuple_GET_ITEM(item, 0)) < 0)
            goto error_packed;
    }
    w.want = w.total = n;
    if (queue_reserve(self) < 0)
        goto error_packed;
    if (flush_out(self) < 0)
        goto error;
    if (queue_push(self, &w) < 0)
        goto error;
    Py_DECREF(seq);
    return Py_NewRef(w.fut);
error_packed:
    self->out.len = 0;
error:
    waiter_clear(&w);
    Py_XDECREF(seq);
    return NULL;
}

/* send(args): pack and write one command whose reply is read with
 * read_reply() (pub/sub, MONITOR, the connect handshake). */
static PyObject *
aproto_send(rn_aproto *self, PyObject *args)
{
    rn_waiter w = {W_MSG, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, 0};
    if (raise_if_lost(self) < 0)
        return NULL;
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) == 0) {
        PyErr_SetString(PyExc_TypeError, "command arguments must be a non-empty tuple");
        return NULL;
    }
    if (queue_reserve(self) < 0)
        return NULL;
    if (pack_tuple(self, args) < 0)
        return NULL;
    if (flush_out(self) < 0)
        return NULL;
    if (queue_push(self, &w) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Number of RESP commands in packed bytes (multibulk requests; an inline
 * request counts one per line).  Never fails. */
static Py_ssize_t
count_commands(const char *p, size_t n)
{
    Py_ssize_t count = 0;
    size_t i = 0;
    while (i < n) {
        if (p[i] == '*') {
            long long items = 0;
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9' && items < (1LL << 40))
                items = items * 10 + (p[j++] - '0');
            if (j + 1 >= n || p[j] != '\r' || p[j + 1] != '\n')
                return count + 1;
            j += 2;
            for (long long k = 0; k < items; k++) {
                if (j >= n || p[j] != '$')
                    return count + 1;
                long long len = 0;
                j++;
                while (j < n && p[j] >= '0' && p[j] <= '9' && len < (1LL << 40))
                    len = len * 10 + (p[j++] - '0');
                if (j + 1 >= n || p[j] != '\r')
                    return count + 1;
                j += 2 + (size_t)len + 2;
            }
            count++;
            i = j;
        }
        else {
            const char *nl = memchr(p + i, '\n', n - i);
            count++;
            if (nl == NULL)
                break;
            i = (size_t)(nl - p) + 1;
        }
    }
    return count;
}

/* send_packed(data): write already packed bytes (bytes-like, or a list of
 * them); their replies are read with read_reply().  Returns the number of
 * replies now owed for them. */
static PyObject *
aproto_send_packed(rn_aproto *self, PyObject *data)
{
    PyObject *items = NULL, *joined = NULL;
    Py_buffer view;
    if (raise_if_lost(self) < 0)
        return NULL;
    if (PyList_Check(data) || PyTuple_Check(data)) {
        PyObject *empty = PyBytes_FromStringAndSize(NULL, 0);
        if (empty == NULL)
            return NULL;
        joined = _PyBytes_Join(empty, data);
        Py_DECREF(empty);
        if (joined == NULL)
            return NULL;
        items = joined;
    }
    else {
        items = Py_NewRef(data);
    }
    if (PyObject_GetBuffer(items, &view, PyBUF_SIMPLE) < 0) {
        Py_DECREF(items);
        return NULL;
    }
    Py_ssize_t n = count_commands(view.buf, (size_t)view.len);
    /* write from a private copy: the buffer is the caller's (a bytearray
     * could be resized by code the write runs) */
    PyObject *bytes = PyBytes_FromStringAndSize(view.buf, view.len);
    PyBuffer_Release(&view);
    Py_DECREF(items);
    if (bytes == NULL)
        return NULL;
    int wrc = write_out(self, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    if (wrc < 0)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        rn_waiter w = {W_MSG, 0, 1, NULL, NULL, NULL, NULL, NULL, NULL, 0};
        if (queue_push(self, &w) < 0) {
            /* the commands are on the wire but their replies could not be
             * accounted for: the connection cannot stay in step */
            PyObject *why = PyUnicode_FromString("out of memory");
            if (why != NULL) {
                mark_lost(self, self->st->ConnectionError, why, self->st->s_abort);
                Py_DECREF(why);
            }
            return NULL;
        }
    }
    return PyLong_FromSsize_t(n);
}

/* read_reply(decode=None) -> future of the next message: a reply of send()
 * or send_packed(), or one the server pushed (pub/sub, MONITOR).  An error
 * reply is the future's *result* (an exception instance): the caller
 * decides.  decode: None for the protocol's decode_responses. */
static PyObject *
aproto_read_reply(rn_aproto *self, PyObject *const *argv, Py_ssize_t nargs)
{
    int decode = self->decode;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "read_reply(decode=None)");
        return NULL;
    }
    if (nargs == 1 && argv[0] != Py_None) {
        int d = PyObject_IsTrue(argv[0]);
        if (d < 0)
            return NULL;
        decode = d;
    }
    PyObject *fut = new_future(self);
    if (fut == NULL)
        return NULL;
    if (self->msg_pos < PyList_GET_SIZE(self->messages)) {
        PyObject *m = PyList_GET_ITEM(self->messages, self->msg_pos);   /* borrowed */
        Py_INCREF(m);
        self->msg_pos++;
        if (self->msg_pos == PyList_GET_SIZE(self->messages)) {
            if (PyList_SetSlice(self->messages, 0, self->msg_pos, NULL) < 0) {
                Py_DECREF(m);
                Py_DECREF(fut);
                return NULL;
            }
            self->msg_pos = 0;
        }
        int rc = fut_result(self->st, fut, m);
        Py_DECREF(m);
        if (rc < 0) {
            Py_DECREF(fut);
            return NULL;
        }
        return fut;
    }
    if (raise_if_lost(self) < 0) {
        Py_DECREF(fut);
        return NULL;
    }
    if (self->msg_fut != NULL) {
        int d = fut_done(self->st, self->msg_fut);
        if (d < 0) {
            Py_DECREF(fut);
            return NULL;
        }
        if (!d) {
            Py_DECREF(fut);
            PyErr_SetString(self->st->RedisError,
                            "another task is already reading from this connection");
            return NULL;
        }
        Py_CLEAR(self->msg_fut);
    }
    self->msg_fut = Py_NewRef(fut);
    self->msg_decode = decode;
    return fut;
}

/* abort(): drop the connection now (transport.abort()): waiting futures get
 * ConnectionError.  Idempotent. */
static PyObject *
aproto_abort(rn_aproto *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *why = PyUnicode_FromString("Connection closed by the client.");
    if (why == NULL)
        return NULL;
    mark_lost(self, self->st->ConnectionError, why, self->st->s_abort);
    Py_DECREF(why);
    Py_RETURN_NONE;
}

/* close(): as abort(), but the transport flushes what it buffered first. */
static PyObject *
aproto_close(rn_aproto *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *why = PyUnicode_FromString("Connection closed by the client.");
    if (why == NULL)
        return NULL;
    mark_lost(self, self->st->ConnectionError, why, self->st->s_close);
    Py_DECREF(why);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ fast path
 *
 * redis_native.asyncio.Redis.execute_command's common case in one C call:
 * _aio_take(client, args, options) checks what the Python code checked
 * (docs/architecture.md, "asyncio"): no dedicated connection, the pool's
 * get_connection/release are the built-in ones and no listener waits for
 * the release event, the pool's newest idle connection is connected on this
 * loop and process with nothing to read, no socket_timeout or health check,
 * and nothing replaced on the client, the connection or its retry policy
 * (looked up as Python would: the type's attribute, then the instance
 * dict).  When all hold it takes that connection off the free list, writes
 * the command and returns (pool, conn, protocol, future); otherwise None and
 * nothing changed, and the caller takes the general path.
 * _aio_release(pool, conn) gives it back as ConnectionPool._release does
 * (calling that method when it or should_reconnect was replaced). */

enum {
    R_POOL_GET_CONNECTION,  /* tuple of the built-in get_connection functions */
    R_POOL_RELEASE,         /* tuple of the built-in release functions */
    R_EVENT_DISPATCHER,     /* the EventDispatcher class */
    R_SEND_COMMAND,         /* AbstractConnection's methods */
    R_READ_RESPONSE,
    R_SEND_PACKED,
    R_CONNECT,
    R_PARSE_RESPONSE,       /* Redis.parse_response */
    R_SEND_PARSE,           /* Redis._send_command_parse_response */
    R_CALL_WITH_RETRY,      /* Retry.call_with_retry */
    R_POOL__RELEASE,        /* ConnectionPool._release */
    R_SHOULD_RECONNECT,     /* AbstractConnection.should_reconnect */
    R_GET_RUNNING_LOOP,     /* asyncio._get_running_loop */
    R_INITIALIZE,           /* Redis.initialize */
    R_COUNT
};

enum {
    N_connection, N_single_connection_client, N_connection_pool, N_get_connection, N_release,
    N_event_dispatcher, N_event_listeners_mapping, N_available_connections, N_waiters,
    N_proto, N_pid, N_loop, N_socket_timeout, N_health_check_interval, N_parse_response,
    N_send_parse, N_send_command, N_read_response, N_send_packed_command, N_connect,
    N_retry, N_call_with_retry, N_in_use_connections, N_response_callbacks, N__release,
    N_should_reconnect, N__should_reconnect, N__close, N_reset_should_reconnect, N_initialize,
    N_COUNT
};

static const char *const aio_name_text[N_COUNT] = {
    "connection", "single_connection_client", "connection_pool", "get_connection", "release",
    "_event_dispatcher", "_event_listeners_mapping", "_available_connections", "_waiters",
    "_proto", "_pid", "_loop", "socket_timeout", "health_check_interval", "parse_response",
    "_send_command_parse_response", "send_command", "read_response", "send_packed_command",
    "connect", "retry", "call_with_retry", "_in_use_connections", "response_callbacks",
    "_release", "should_reconnect", "_should_reconnect", "_close", "reset_should_reconnect",
    "initialize",
};

#define AIO_NAME(st, i) PyTuple_GET_ITEM((st)->aio_names, (i))
#define AIO_REF(st, i) PyTuple_GET_ITEM((st)->aio_refs, (i))

/* _aio_setup(*builtins), in the order of R_*: run once by
 * redis_native.asyncio.client at import. */
PyObject *
rn_aio_setup(PyObject *module, PyObject *const *argv, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != R_COUNT) {
        PyErr_Format(PyExc_TypeError, "_aio_setup() takes %d arguments", (int)R_COUNT);
        return NULL;
    }
    if (!PyTuple_Check(argv[R_POOL_GET_CONNECTION]) || !PyTuple_Check(argv[R_POOL_RELEASE]) ||
        !PyType_Check(argv[R_EVENT_DISPATCHER]) || !PyCallable_Check(argv[R_GET_RUNNING_LOOP])) {
        PyErr_SetString(PyExc_TypeError, "_aio_setup(): unexpected built-ins");
        return NULL;
    }
    PyObject *names = PyTuple_New(N_COUNT);
    if (names == NULL)
        return NULL;
    for (int i = 0; i < N_COUNT; i++) {
        PyObject *n = PyUnicode_InternFromString(aio_name_text[i]);
        if (n == NULL) {
            Py_DECREF(names);
            return NULL;
        }
        PyTuple_SET_ITEM(names, i, n);
    }
    PyObject *refs = PyTuple_New(nargs);
    if (refs == NULL) {
        Py_DECREF(names);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        PyTuple_SET_ITEM(refs, i, Py_NewRef(argv[i]));
    Py_XSETREF(st->aio_names, names);
    Py_XSETREF(st->aio_refs, refs);
    Py_RETURN_NONE;
}

/* type(obj)'s attribute `name` (found through the MRO, as Python finds it)
 * is `builtin`, or one of them when `builtin` is a tuple. */
static int
type_attr_is(PyTypeObject *tp, PyObject *name, PyObject *builtin)
{
    PyObject *v = _PyType_Lookup(tp, name);   /* borrowed, no exception */
    if (v == NULL)
        return 0;
    if (PyTuple_CheckExact(builtin)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(builtin); i++)
            if (PyTuple_GET_ITEM(builtin, i) == v)
                return 1;
        return 0;
    }
    return v == builtin;
}

/* 1 when obj's instance dict holds none of the n names (or obj has none),
 * 0 when it holds one, -1 with an exception set. */
static int
dict_lacks(PyObject *obj, PyObject *const *names, int n)
{
    PyObject **dp = _PyObject_GetDictPtr(obj);
    if (dp == NULL) {
        if (PyErr_Occurred())
            return -1;
        return Py_TYPE(obj)->tp_dictoffset == 0 ? 1 : 0;
    }
    PyObject *d = *dp;
    if (d == NULL)
        return 1;
    if (!PyDict_Check(d))
        return 0;
    for (int i = 0; i < n; i++) {
        int has = PyDict_Contains(d, names[i]);
        if (has != 0)
            return has < 0 ? -1 : 0;
    }
    return 1;
}

/* getattr(obj, name, <missing>) without building an AttributeError when
 * the attribute is missing: 1 (*out: new reference), 0 (missing), -1. */
static int
lookup_attr(PyObject *obj, PyObject *name, PyObject **out)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyObject_GetOptionalAttr(obj, name, out);
#else
    return _PyObject_LookupAttr(obj, name, out);
#endif
}

/* Borrowed-name attribute, new reference or NULL with an exception. */
#define GETA(obj, i) PyObject_GetAttr((obj), AIO_NAME(st, (i)))

/* Give conn back to pool, as ConnectionPool._release.  0 or -1. */
static int
aio_release(rn_state *st, PyObject *pool, PyObject *conn)
{
    PyObject *names[2];
    PyObject *in_use = NULL, *proto = NULL, *flag = NULL, *free_list = NULL;
    int rc = -1, ok;

    names[0] = AIO_NAME(st, N__release);
    ok = type_attr_is(Py_TYPE(pool), names[0], AIO_REF(st, R_POOL__RELEASE));
    if (ok)
        ok = dict_lacks(pool, names, 1);
    if (ok > 0) {
        names[0] = AIO_NAME(st, N_should_reconnect);
        ok = type_attr_is(Py_TYPE(conn), names[0], AIO_REF(st, R_SHOULD_RECONNECT));
        if (ok)
            ok = dict_lacks(conn, names, 1);
    }
    if (ok < 0)
        return -1;
    if (ok) {
        if ((in_use = GETA(pool, N_in_use_connections)) == NULL)
            return -1;
        if (!PySet_CheckExact(in_use))
            ok = 0;
    }
    if (ok) {
        int found = lookup_attr(conn, AIO_NAME(st, N_proto), &proto);
        if (found < 0)
            goto done;
        if (found == 0)
            proto = Py_NewRef(Py_None);
        if (proto != Py_None && Py_TYPE(proto) != st->AsyncProtocolType)
            ok = 0;
    }
    if (ok) {
        int found = PySet_Discard(in_use, conn);
        if (found < 0)
            goto done;
        if (found == 0)
            ok = 0;   /* not in use: the method says what that means */
    }
    if (!ok) {
        PyObject *r = PyObject_CallMethodOneArg(pool, AIO_NAME(st, N__release), conn);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
        goto done;
    }
    if (proto != Py_None) {
        rn_aproto *p = (rn_aproto *)proto;
        if (p->owed || PyList_GET_SIZE(p->messages) > p->msg_pos) {
            /* a reply is owed or unread: never hand the connection on */
            PyObject *r = PyObject_CallMethodNoArgs(conn, AIO_NAME(st, N__close));
            if (r == NULL)
                goto done;
            Py_DECREF(r);
        }
    }
    if ((flag = GETA(conn, N__should_reconnect)) == NULL)
        goto done;
    int again = PyObject_IsTrue(flag);
    if (again < 0)
        goto done;
    if (again) {
        PyObject *r = PyObject_CallMethodNoArgs(conn, AIO_NAME(st, N__close));
        if (r == NULL)
            goto done;
        Py_DECREF(r);
        r = PyObject_CallMethodNoArgs(conn, AIO_NAME(st, N_reset_should_reconnect));
        if (r == NULL)
            goto done;
        Py_DECREF(r);
    }
    if ((free_list = GETA(pool, N_available_connections)) == NULL)
        goto done;
    if (PyList_CheckExact(free_list))
        rc = PyList_Append(free_list, conn);
    else {
        PyObject *r = PyObject_CallMethod(free_list, "append", "O", conn);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
done:
    Py_XDECREF(in_use);
    Py_XDECREF(proto);
    Py_XDECREF(flag);
    Py_XDECREF(free_list);
    return rc;
}

PyObject *
rn_aio_release(PyObject *module, PyObject *const *argv, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_aio_release(pool, conn)");
        return NULL;
    }
    if (st->aio_refs == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_aio_setup() has not run");
        return NULL;
    }
    if (aio_release(st, argv[0], argv[1]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Truth of an attribute: 1, 0, or -1 with an exception. */
static int
attr_true(rn_state *st, PyObject *obj, int name)
{
    PyObject *v = GETA(obj, name);
    if (v == NULL)
        return -1;
    int t = PyObject_IsTrue(v);
    Py_DECREF(v);
    return t;
}

PyObject *
rn_aio_take(PyObject *module, PyObject *const *argv, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    PyObject *pool = NULL, *v = NULL, *free_list = NULL, *conn = NULL, *proto = NULL;
    PyObject *in_use = NULL, *callbacks = NULL, *fut = NULL, *out = NULL;
    PyObject *names[4];
    int ok, t;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "_aio_take(client, args, options)");
        return NULL;
    }
    if (st->aio_refs == NULL)
        Py_RETURN_NONE;
    PyObject *client = argv[0], *args = argv[1], *options = argv[2];

    /* the client: no dedicated connection */
    if ((pool = GETA(client, N_connection_pool)) == NULL)
        return NULL;
    if ((v = GETA(client, N_connection)) == NULL)
        goto error;
    ok = v == Py_None;
    Py_CLEAR(v);
    if (!ok)
        goto none;
    if ((t = attr_true(st, client, N_single_connection_client)) != 0)
        goto check;
    /* the pool: nothing replaced, nobody listening for the release */
    if (!type_attr_is(Py_TYPE(pool), AIO_NAME(st, N_get_connection),
                      AIO_REF(st, R_POOL_GET_CONNECTION)) ||
        !type_attr_is(Py_TYPE(pool), AIO_NAME(st, N_release), AIO_REF(st, R_POOL_RELEASE)))
        goto none;
    names[0] = AIO_NAME(st, N_get_connection);
    names[1] = AIO_NAME(st, N_release);
    if ((t = dict_lacks(pool, names, 2)) != 1)
        goto check_lacks;
    if ((v = GETA(pool, N_event_dispatcher)) == NULL)
        goto error;
    if ((PyObject *)Py_TYPE(v) != AIO_REF(st, R_EVENT_DISPATCHER)) {
        Py_CLEAR(v);
        goto none;
    }
    t = attr_true(st, v, N_event_listeners_mapping);
    Py_CLEAR(v);
    if (t != 0)
        goto check;
    /* its newest idle connection: connected, nothing to read, this loop */
    if ((free_list = GETA(pool, N_available_connections)) == NULL)
        goto error;
    if (!PyList_CheckExact(free_list) || PyList_GET_SIZE(free_list) == 0)
        goto none;
    if ((t = lookup_attr(pool, AIO_NAME(st, N_waiters), &v)) < 0)
        goto error;
    if (t > 0) {
        t = PyObject_IsTrue(v);
        Py_CLEAR(v);
        if (t != 0)
            goto check;
    }
    conn = Py_NewRef(PyList_GET_ITEM(free_list, PyList_GET_SIZE(free_list) - 1));
    if ((proto = GETA(conn, N_proto)) == NULL)
        goto error;
    if (Py_TYPE(proto) != st->AsyncProtocolType)
        goto none;
    rn_aproto *p = (rn_aproto *)proto;
    if (p->lost != NULL || p->transport == NULL || p->owed ||
        PyList_GET_SIZE(p->messages) > p->msg_pos || rn_reader_pending(p->reader))
        goto none;
    {
        PyObject *cpid = GETA(conn, N_pid);
        if (cpid == NULL)
            goto error;
        PyObject *ppid = GETA(pool, N_pid);
        if (ppid == NULL) {
            Py_DECREF(cpid);
            goto error;
        }
        t = PyObject_RichCompareBool(cpid, ppid, Py_EQ);
        Py_DECREF(cpid);
        Py_DECREF(ppid);
        if (t != 1)
            goto check;
    }
    {
        PyObject *cloop = GETA(conn, N_loop);
        if (cloop == NULL)
            goto error;
        PyObject *running = PyObject_CallNoArgs(AIO_REF(st, R_GET_RUNNING_LOOP));
        if (running == NULL) {
            Py_DECREF(cloop);
            goto error;
        }
        ok = cloop == running;
        Py_DECREF(cloop);
        Py_DECREF(running);
        if (!ok)
            goto none;
    }
    /* no timeout to arm, no health check */
    if ((v = GETA(conn, N_socket_timeout)) == NULL)
        goto error;
    ok = v == Py_None;
    Py_CLEAR(v);
    if (!ok)
        goto none;
    if ((t = attr_true(st, conn, N_health_check_interval)) != 0)
        goto check;
    /* nothing replaced: the client's reply parsing and its initialize()
     * (redis-py awaits that before every command, so a replacement must run
     * then: the general path does it), the connection's I/O methods, the
     * retry policy's loop */
    if (!type_attr_is(Py_TYPE(client), AIO_NAME(st, N_parse_response),
                      AIO_REF(st, R_PARSE_RESPONSE)) ||
        !type_attr_is(Py_TYPE(client), AIO_NAME(st, N_send_parse), AIO_REF(st, R_SEND_PARSE)) ||
        !type_attr_is(Py_TYPE(client), AIO_NAME(st, N_initialize), AIO_REF(st, R_INITIALIZE)))
        goto none;
    names[0] = AIO_NAME(st, N_parse_response);
    names[1] = AIO_NAME(st, N_initialize);
    if ((t = dict_lacks(client, names, 2)) != 1)
        goto check_lacks;
    if (!type_attr_is(Py_TYPE(conn), AIO_NAME(st, N_send_command), AIO_REF(st, R_SEND_COMMAND)) ||
        !type_attr_is(Py_TYPE(conn), AIO_NAME(st, N_read_response), AIO_REF(st, R_READ_RESPONSE)) ||
        !type_attr_is(Py_TYPE(conn), AIO_NAME(st, N_send_packed_command),
                      AIO_REF(st, R_SEND_PACKED)) ||
        !type_attr_is(Py_TYPE(conn), AIO_NAME(st, N_connect), AIO_REF(st, R_CONNECT)))
        goto none;
    names[0] = AIO_NAME(st, N_send_command);
    names[1] = AIO_NAME(st, N_read_response);
    names[2] = AIO_NAME(st, N_send_packed_command);
    names[3] = AIO_NAME(st, N_connect);
    if ((t = dict_lacks(conn, names, 4)) != 1)
        goto check_lacks;
    if ((v = GETA(conn, N_retry)) == NULL)
        goto error;
    ok = type_attr_is(Py_TYPE(v), AIO_NAME(st, N_call_with_retry), AIO_REF(st, R_CALL_WITH_RETRY));
    Py_CLEAR(v);
    if (!ok)
        goto none;
    if ((in_use = GETA(pool, N_in_use_connections)) == NULL)
        goto error;
    if (!PySet_CheckExact(in_use))
        goto none;
    /* the attribute reads above may have run code: is conn still the
     * newest idle connection, still ready? */
    Py_ssize_t n = PyList_GET_SIZE(free_list);
    if (n == 0 || PyList_GET_ITEM(free_list, n - 1) != conn || p->lost != NULL ||
        p->transport == NULL || p->owed)
        goto none;

    /* take it */
    if (PyList_SetSlice(free_list, n - 1, n, NULL) < 0)
        goto error;
    if (PySet_Add(in_use, conn) < 0) {
        PyObject *t0, *v0, *tb0;
        PyErr_Fetch(&t0, &v0, &tb0);
        if (PyList_Append(free_list, conn) < 0)
            PyErr_WriteUnraisable(conn);
        PyErr_Restore(t0, v0, tb0);
        goto error;
    }
    callbacks = GETA(client, N_response_callbacks);
    if (callbacks != NULL) {
        PyObject *eargs[3] = {args, options, callbacks};
        fut = aproto_execute(p, eargs, 3);
    }
    if (fut == NULL) {
        /* as the Python code's finally: the connection goes back */
        PyObject *t0, *v0, *tb0;
        PyErr_Fetch(&t0, &v0, &tb0);
        if (aio_release(st, pool, conn) < 0)
            PyErr_WriteUnraisable(conn);
        PyErr_Restore(t0, v0, tb0);
        goto error;
    }
    out = PyTuple_Pack(4, pool, conn, proto, fut);
    if (out == NULL) {
        /* the command is on the wire: its reply stays owed, and the release
         * closes the connection */
        PyObject *t0, *v0, *tb0;
        PyErr_Fetch(&t0, &v0, &tb0);
        if (aio_release(st, pool, conn) < 0)
            PyErr_WriteUnraisable(conn);
        PyErr_Restore(t0, v0, tb0);
    }
    goto done;

check_lacks:
check:
    /* t: 1 means "not the fast path", -1 an exception */
    if (t < 0)
        goto error;
none:
    out = Py_NewRef(Py_None);
    goto done;
error:
    out = NULL;
done:
    Py_XDECREF(pool);
    Py_XDECREF(free_list);
    Py_XDECREF(conn);
    Py_XDECREF(proto);
    Py_XDECREF(in_use);
    Py_XDECREF(callbacks);
    Py_XDECREF(fut);
    return out;
}

#undef GETA

/* ------------------------------------------------------------------ type */

static PyObject *
aproto_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"loop", "encoding", "errors", "decode_responses", NULL};
    PyObject *loop;
    const char *encoding = "utf-8", *errors = "strict";
    int decode = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|ssp:AsyncProtocol", kwlist,
                                     &loop, &encoding, &errors, &decode))
        return NULL;
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    PyObject *create_future = PyObject_GetAttrString(loop, "create_future");
    if (create_future == NULL)
        return NULL;
    if (!PyCallable_Check(create_future)) {
        Py_DECREF(create_future);
        PyErr_SetString(PyExc_TypeError, "loop.create_future is not callable");
        return NULL;
    }
    rn_aproto *self = (rn_aproto *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(create_future);
        return NULL;
    }
    self->module = Py_NewRef(rn_module_from_type(type));
    self->st = st;
    self->create_future = create_future;
    self->decode = decode;
    self->lost_type = st->ConnectionError;
    self->fd = -1;
    rn_buf_init(&self->out);
    self->encoding = strdup(encoding);
    self->errors = strdup(errors);
    self->messages = PyList_New(0);
    self->drain_waiters = PyList_New(0);
    if (self->encoding == NULL || self->errors == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    if (self->messages == NULL || self->drain_waiters == NULL)
        goto error;
    if ((self->reader = rn_reader_new(st)) == NULL)
        goto error;
    return (PyObject *)self;
error:
    Py_DECREF(self);
    return NULL;
}

static int
aproto_traverse(rn_aproto *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->create_future);
    Py_VISIT(self->transport);
    Py_VISIT(self->write);
    Py_VISIT(self->messages);
    Py_VISIT(self->drain_waiters);
    Py_VISIT(self->msg_fut);
    Py_VISIT(self->lost);
    for (size_t i = 0; i < self->qlen; i++) {
        rn_waiter *w = &self->q[(self->qhead + i) % self->qcap];
        Py_VISIT(w->fut);
        Py_VISIT(w->callback);
        Py_VISIT(w->cb_kwargs);
        Py_VISIT(w->empty);
        Py_VISIT(w->acc);
    }
    return rn_reader_traverse(self->reader, visit, arg);
}

static int
aproto_clear(rn_aproto *self)
{
    while (self->qlen) {
        rn_waiter w;
        queue_pop(self, &w);
        waiter_clear(&w);
    }
    Py_CLEAR(self->create_future);
    Py_CLEAR(self->transport);
    Py_CLEAR(self->write);
    Py_CLEAR(self->messages);
    Py_CLEAR(self->drain_waiters);
    Py_CLEAR(self->msg_fut);
    Py_CLEAR(self->lost);
    if (self->reader != NULL)
        rn_reader_reset(self->reader);
    return 0;
}

static void
aproto_dealloc(rn_aproto *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    aproto_clear(self);
    free(self->q);
    rn_reader_free(self->reader);
    rn_buf_free(&self->out);
    free(self->encoding);
    free(self->errors);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
aproto_get_owed(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyLong_FromSsize_t(self->owed);
}

static PyObject *
aproto_get_closed(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->lost != NULL || self->transport == NULL);
}

static PyObject *
aproto_get_messages(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyLong_FromSsize_t(PyList_GET_SIZE(self->messages) - self->msg_pos);
}

static PyObject *
aproto_get_buffered(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyLong_FromSize_t(rn_reader_pending(self->reader));
}

static PyObject *
aproto_get_paused(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->paused);
}

static PyObject *
aproto_get_transport(rn_aproto *self, void *Py_UNUSED(c))
{
    return Py_NewRef(self->transport ? self->transport : Py_None);
}

static PyObject *
aproto_get_decode(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->decode);
}

static PyObject *
aproto_get_direct(rn_aproto *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(self->fd >= 0);
}

static PyGetSetDef aproto_getset[] = {
    {"direct", (getter)aproto_get_direct, NULL, "writes may go straight to the socket", NULL},
    {"owed", (getter)aproto_get_owed, NULL, "replies the written commands still owe", NULL},
    {"closed", (getter)aproto_get_closed, NULL, "True when not (or no longer) connected", NULL},
    {"messages", (getter)aproto_get_messages, NULL, "messages waiting for read_reply()", NULL},
    {"buffered", (getter)aproto_get_buffered, NULL, "bytes received, not yet a complete reply", NULL},
    {"paused", (getter)aproto_get_paused, NULL, "the transport asked to pause writing", NULL},
    {"transport", (getter)aproto_get_transport, NULL, "the transport, or None", NULL},
    {"decode_responses", (getter)aproto_get_decode, NULL, "replies are decoded to str", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMethodDef aproto_methods[] = {
    {"connection_made", (PyCFunction)aproto_connection_made, METH_O, NULL},
    {"data_received", (PyCFunction)aproto_data_received, METH_O, NULL},
    {"eof_received", (PyCFunction)aproto_eof_received, METH_NOARGS, NULL},
    {"connection_lost", (PyCFunction)aproto_connection_lost, METH_O, NULL},
    {"pause_writing", (PyCFunction)aproto_pause_writing, METH_NOARGS, NULL},
    {"resume_writing", (PyCFunction)aproto_resume_writing, METH_NOARGS, NULL},
    {"use_socket", (PyCFunction)aproto_use_socket, METH_O,
     "use_socket(fd): send() on the transport's socket while the transport holds nothing"},
    {"drained", (PyCFunction)aproto_drained, METH_NOARGS,
     "drained() -> future resolved when the transport takes writes again"},
    {"execute", (PyCFunction)(void (*)(void))aproto_execute, METH_FASTCALL,
     "execute(args, options=None, callbacks=None) -> future of the command's result"},
    {"pipeline", (PyCFunction)aproto_pipeline, METH_O,
     "pipeline([(args, options), ...]) -> future of the list of raw replies"},
    {"send", (PyCFunction)aproto_send, METH_O,
     "send(args): write a command whose reply is read with read_reply()"},
    {"send_packed", (PyCFunction)aproto_send_packed, METH_O,
     "send_packed(data) -> replies owed: write packed commands"},
    {"read_reply", (PyCFunction)(void (*)(void))aproto_read_reply, METH_FASTCALL,
     "read_reply(decode=None) -> future of the next message"},
    {"abort", (PyCFunction)aproto_abort, METH_NOARGS, "drop the connection now"},
    {"close", (PyCFunction)aproto_close, METH_NOARGS, "close after flushing writes"},
    {NULL, NULL, 0, NULL}
};

static PyMemberDef aproto_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_aproto, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL}
};

static PyType_Slot aproto_slots[] = {
    {Py_tp_new, aproto_new},
    {Py_tp_dealloc, aproto_dealloc},
    {Py_tp_traverse, aproto_traverse},
    {Py_tp_clear, aproto_clear},
    {Py_tp_methods, aproto_methods},
    {Py_tp_getset, aproto_getset},
    {Py_tp_members, aproto_members},
    {Py_tp_doc, "AsyncProtocol(loop, encoding='utf-8', errors='strict', decode_responses=False)\n\n"
                "asyncio protocol of one Redis connection: packs commands, parses "
                "replies in C and completes the waiting futures in order."},
    {0, NULL}
};

PyType_Spec rn_aproto_type_spec = {
    .name = "redis_native._native.AsyncProtocol",
    .basicsize = sizeof(rn_aproto),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = aproto_slots,
};

