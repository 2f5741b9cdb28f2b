/* _native.ConnectionPool (non-blocking and blocking flavours).
 * See pool.h for the locking rules. */
#include "pool.h"
#include "connection.h"

#include <math.h>
#include <unistd.h>
#include "structmember.h"

/* ---------------- exceptions in flight (pool.h) ---------------- */

/* Does following __context__ from `from` reach `target` (within a bound:
 * users can build cycles by hand)? */
static int
context_chain_contains(PyObject *from, PyObject *target)
{
    PyObject *o = from;
    for (int depth = 0; o != NULL && depth < 1000; depth++) {
        if (o == target)
            return 1;
        PyObject *ctx = PyException_GetContext(o);
        Py_XDECREF(ctx);                /* still owned by `o` */
        o = ctx;
    }
    return o != NULL;                   /* too deep: treat as present */
}

void
rn_err_chain(PyObject *earlier)
{
    if (earlier == NULL)
        return;
    PyObject *exc = rn_err_take();
    if (exc == NULL) {
        rn_err_give(earlier);
        return;
    }
    /* Python links an exception raised in a `finally:` block to the one in
     * flight: every exception raised during the block that would have had
     * the exception handled around the call (`outer`, usually none) as its
     * __context__ has `earlier` instead, and `earlier` keeps its own. */
    PyObject *outer = PyErr_GetHandledException();   /* new reference or NULL */
    PyObject *link = NULL;                           /* borrowed */
    PyObject *o = exc;
    for (int depth = 0; o != NULL && o != earlier && depth < 1000; depth++) {
        PyObject *ctx = PyException_GetContext(o);
        Py_XDECREF(ctx);                /* still owned by `o` */
        if (ctx == NULL || ctx == outer) {
            link = o;
            break;
        }
        o = ctx;
    }
    Py_XDECREF(outer);
    if (link != NULL && !context_chain_contains(earlier, link))
        PyException_SetContext(link, earlier);      /* steals */
    else
        Py_DECREF(earlier);             /* already part of the chain */
    rn_err_give(exc);
}

/* ---------------- pool state ---------------- */

static int
pool_reset_state(rn_pool *p)
{
    PyObject *avail = PyList_New(0);
    PyObject *in_use = PySet_New(NULL);
    if (avail == NULL || in_use == NULL) {
        Py_XDECREF(avail);
        Py_XDECREF(in_use);
        return -1;
    }
    /* Connections dropped here may belong to the parent process: their
     * dealloc only close()s the descriptor, which leaves the parent's socket
     * alone. */
    Py_XSETREF(p->available, avail);
    Py_XSETREF(p->in_use, in_use);
    p->created = 0;
    p->fork_gen = rn_fork_generation();
    p->pid = rn_getpid();
    return 0;
}

/* Before any use of the pool's state: reset it in a forked child, and
 * recreate the lists if the GC cleared them (tp_clear) while something still
 * holds the pool.  0, or -1 with an exception set. */
static inline int
pool_check_fork(rn_pool *p)
{
    if (p->available == NULL || p->in_use == NULL)
        return pool_reset_state(p);
    if (p->fork_gen != rn_fork_generation()) {
        /* A child process: the waiter lock may have been held by a parent
         * thread at fork time, so it is recreated too. */
        if (rn_wake_init(&p->wake) < 0)
            return -1;
        return pool_reset_state(p);
    }
    return 0;
}

/* conn.<name>() for its result's truth: 1, 0, or -1 with an exception set. */
static int
call_truth(PyObject *conn, PyObject *name)
{
    PyObject *r = PyObject_CallMethodNoArgs(conn, name);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* conn.can_read() (slow path only: the name is not in the module state). */
static int
call_can_read(PyObject *conn)
{
    PyObject *r = PyObject_CallMethod(conn, "can_read", NULL);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* Ensure the connection is connected and ready for a request.
 *
 * When C stands in for the connection's methods (module.h), only a closed
 * socket is (re)connected, through connect() (redis_native's own Python
 * connect: the handshake); a connection left idle is probed by
 * rn_conn_command itself, so a connection in use pays no syscall here.
 * Otherwise this is redis-py's get_connection: connect(), then can_read();
 * a connection with unread data (or whose check raises ConnectionError,
 * TimeoutError or OSError) is disconnected and connected again, and raises
 * ConnectionError if it still has data. */
static int
pool_connect(rn_pool *p, PyObject *conn)
{
    rn_state *st = p->st;
    int fast = rn_stands_in(st, conn, RN_KIND_CONN);
    if (fast && rn_conn_is_live((rn_conn *)conn))
        return 0;
    if (PyObject_TypeCheck(conn, st->ConnectionType)
        ? rn_conn_connect((rn_conn *)conn) < 0 : call_truth(conn, st->s_connect) < 0)
        return -1;
    if (fast)
        return 0;       /* just connected by our own connect(): nothing unread */
    int has = call_can_read(conn);
    if (has == 0)
        return 0;
    if (has < 0) {
        if (!PyErr_ExceptionMatches(st->ConnectionError) &&
            !PyErr_ExceptionMatches(st->TimeoutError) &&
            !PyErr_ExceptionMatches(PyExc_OSError))
            return -1;
        PyErr_Clear();
    }
    if (call_truth(conn, st->s_disconnect) < 0 || call_truth(conn, st->s_connect) < 0)
        return -1;
    if ((has = call_can_read(conn)) < 0)
        return -1;
    if (has) {
        PyErr_SetString(st->ConnectionError, "Connection not ready");
        return -1;
    }
    return 0;
}

static void
pool_wake_one(rn_pool *p)
{
    if (p->blocking)
        rn_wake_post(&p->wake);
}

/* Wait (GIL released) until woken or the deadline passes.  1 woken, 0 timed
 * out, -1 exception (signal). */
static int
pool_wait(rn_pool *p, double deadline)
{
    for (;;) {
        PY_TIMEOUT_T us = -1;
        if (deadline >= 0) {
            double left = (deadline - rn_monotonic()) * 1e6;
            if (!(left > 0))
                return 0;
            /* compared as doubles: an infinite or huge timeout must not
             * overflow the conversion */
            us = left >= (double)PY_TIMEOUT_MAX ? PY_TIMEOUT_MAX : (PY_TIMEOUT_T)left;
        }
        PyLockStatus st = rn_wake_wait(&p->wake, us);
        if (st == PY_LOCK_ACQUIRED)
            return 1;
        if (st == PY_LOCK_INTR) {
            if (PyErr_CheckSignals() < 0)
                return -1;
            continue;
        }
        return 0;   /* timeout */
    }
}

/* Give back a connection whose connect() failed, through the pool's own
 * release() when a subclass or an instance attribute replaces it (as
 * redis-py's get_connection calls self.release).  The connect error stays in
 * flight unless release raises, then it becomes that error's __context__. */
static void
pool_give_back(rn_pool *p, PyObject *conn)
{
    PyObject *err = rn_err_take();
    int rc;
    if (rn_stands_in(p->st, (PyObject *)p, RN_KIND_POOL)) {
        rc = rn_pool_release(p, conn);
    }
    else {
        PyObject *r = PyObject_CallMethodOneArg((PyObject *)p, p->st->s_release, conn);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
    if (rc < 0)
        rn_err_chain(err);
    else
        rn_err_give(err);
}

PyObject *
rn_pool_get(rn_pool *p)
{
    rn_state *st = p->st;
    PyObject *conn = NULL;
    int made = 0;
    double deadline = -1;
    if (pool_check_fork(p) < 0)
        return NULL;
    if (p->blocking && p->timeout >= 0)
        deadline = rn_monotonic() + p->timeout;
    for (;;) {
        Py_ssize_t n = PyList_GET_SIZE(p->available);
        if (n > 0) {
            conn = Py_NewRef(PyList_GET_ITEM(p->available, n - 1));
            if (PyList_SetSlice(p->available, n - 1, n, NULL) < 0) {
                Py_DECREF(conn);
                return NULL;
            }
            break;
        }
        if (p->created < p->max_connections) {
            p->created++;
            conn = PyObject_CallMethodNoArgs((PyObject *)p, st->s_make_connection);
            if (conn == NULL) {
                p->created--;
                pool_wake_one(p);
                return NULL;
            }
            made = 1;
            /* make_connection() is Python: it may have reset the pool */
            if (pool_check_fork(p) < 0) {
                Py_DECREF(conn);
                return NULL;
            }
            break;
        }
        if (!p->blocking) {
            PyErr_SetString(st->MaxConnectionsError, "Too many connections");
            return NULL;
        }
        int w = pool_wait(p, deadline);
        if (w < 0)
            return NULL;
        if (w == 0) {
            PyErr_SetString(st->ConnectionError, "No connection available.");
            return NULL;
        }
        if (pool_check_fork(p) < 0)
            return NULL;
    }
    if (PySet_Add(p->in_use, conn) < 0) {     /* an unhashable connection */
        if (made && p->created > 0)
            p->created--;
        pool_wake_one(p);
        Py_DECREF(conn);
        return NULL;
    }
    /* More connections may be free for other waiters. */
    if (PyList_GET_SIZE(p->available) > 0)
        pool_wake_one(p);
    if (pool_connect(p, conn) < 0) {
        pool_give_back(p, conn);
        Py_DECREF(conn);
        return NULL;
    }
    return conn;
}

/* 1 if `conn` was opened by this process (the pool keeps it), 0 if not, -1
 * with an exception set (its `pid` failed, as owns_connection() would). */
static int
pool_owns(rn_pool *p, PyObject *conn)
{
    if (PyObject_TypeCheck(conn, p->st->ConnectionType))
        return ((rn_conn *)conn)->fork_gen == p->fork_gen ||
               ((rn_conn *)conn)->fd < 0;
    PyObject *pid = PyObject_GetAttrString(conn, "pid");
    if (pid == NULL)
        return -1;
    PyObject *mine = PyLong_FromLong(p->pid);
    int eq = mine != NULL ? PyObject_RichCompareBool(pid, mine, Py_EQ) : -1;
    Py_XDECREF(mine);
    Py_DECREF(pid);
    return eq;
}

/* self.owns_connection(conn) through Python (the stand-in rule said no):
 * 1, 0, or -1 with an exception set. */
static int
call_owns(rn_pool *p, PyObject *conn)
{
    PyObject *r = PyObject_CallMethodOneArg((PyObject *)p, p->st->s_owns_connection, conn);
    if (r == NULL)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

int
rn_pool_release(rn_pool *p, PyObject *conn)
{
    if (p->fork_gen != rn_fork_generation())
        return 0;       /* a child returning a connection of the parent's pool */
    if (pool_check_fork(p) < 0)
        return -1;
    int had = PySet_Discard(p->in_use, conn);   /* may run conn's __hash__/__eq__ */
    if (had <= 0)
        return had;     /* -1: unhashable; 0: not ours (reset pool, a stranger) */
    /* owns_connection() is covered by the stand-in rule: a subclass that
     * overrides it (SentinelConnectionPool drops connections to a former
     * master) is asked, as redis-py's release() asks it. */
    int owned = rn_stands_in(p->st, (PyObject *)p, RN_KIND_POOL)
        ? pool_owns(p, conn) : call_owns(p, conn);
    if (owned > 0) {
        /* Replies still owed (sent, never read): the next user would read
         * them as its own.  Drop the socket; the connection reconnects. */
        if (PyObject_TypeCheck(conn, p->st->ConnectionType) && ((rn_conn *)conn)->owed > 0)
            rn_conn_close((rn_conn *)conn);
        if (PyList_Append(p->available, conn) == 0) {
            pool_wake_one(p);
            return 0;
        }
        owned = -1;     /* out of memory: the connection is dropped */
    }
    /* Not kept: its slot is free again.  The bookkeeping is done before
     * calling Python. */
    if (p->created > 0)
        p->created--;
    pool_wake_one(p);
    if (owned < 0)
        return -1;
    PyObject *r = PyObject_CallMethodNoArgs(conn, p->st->s_disconnect);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* ---------------- Python type ---------------- */

static PyObject *
pool_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    /* tp_alloc zero-fills: every field dealloc looks at starts NULL/0, so a
     * failure below can simply drop the half-built object. */
    rn_pool *p = (rn_pool *)type->tp_alloc(type, 0);
    if (p == NULL)
        return NULL;
    p->module = Py_XNewRef(rn_module_from_type(type));
    p->st = st;
    p->max_connections = PY_SSIZE_T_MAX;
    p->timeout = -1;
    if (rn_wake_init(&p->wake) < 0)
        goto error;
    p->connection_class = Py_NewRef(Py_None);
    if ((p->connection_kwargs = PyDict_New()) == NULL || pool_reset_state(p) < 0)
        goto error;
    return (PyObject *)p;

error:
    Py_DECREF(p);
    return NULL;
}

static int
pool_traverse(rn_pool *p, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(p));
    Py_VISIT(p->module);
    Py_VISIT(p->connection_class);
    Py_VISIT(p->connection_kwargs);
    Py_VISIT(p->available);
    Py_VISIT(p->in_use);
    return 0;
}

static int
pool_clear(rn_pool *p)
{
    Py_CLEAR(p->connection_class);
    Py_CLEAR(p->connection_kwargs);
    Py_CLEAR(p->available);
    Py_CLEAR(p->in_use);
    return 0;
}

static void
pool_dealloc(rn_pool *p)
{
    PyTypeObject *tp = Py_TYPE(p);
    PyObject_GC_UnTrack(p);
    if (p->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)p);
    pool_clear(p);
    rn_wake_free(&p->wake);
    Py_CLEAR(p->module);
    tp->tp_free((PyObject *)p);
    Py_DECREF(tp);
}

/* get_connection(command_name=None, *keys, **options): arguments accepted
 * and ignored, as redis-py 7.x, which warns that they are deprecated: the
 * names passed (command_name when positional, then the keywords), reported
 * against the caller's caller as redis-py's decorator does. */
static PyObject *
pool_get_connection(rn_pool *p, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    (void)args;
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs > 0 || nkw > 0) {
        PyObject *names = PyList_New(0);
        if (names == NULL)
            return NULL;
        int rc = 0;
        if (nargs > 0) {
            PyObject *cn = PyUnicode_FromString("command_name");
            rc = cn != NULL ? PyList_Append(names, cn) : -1;
            Py_XDECREF(cn);
        }
        for (Py_ssize_t i = 0; rc == 0 && i < nkw; i++)
            rc = PyList_Append(names, PyTuple_GET_ITEM(kwnames, i));
        if (rc == 0)
            rc = PyErr_WarnFormat(PyExc_DeprecationWarning, 2,
                                  "Call to 'get_connection' function with deprecated usage of "
                                  "input argument/s '%R'. (Use get_connection() without args "
                                  "instead) -- Deprecated since version 5.3.0.", names);
        Py_DECREF(names);
        if (rc < 0)
            return NULL;
    }
    return rn_pool_get(p);
}

static PyObject *
pool_release_meth(rn_pool *p, PyObject *conn)
{
    if (rn_pool_release(p, conn) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* "'X' object has no attribute 'name'", as for a deleted plain attribute. */
static void
pool_no_attr(rn_pool *p, const char *name)
{
    PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                 Py_TYPE(p)->tp_name, name);
}

/* connection_class(**connection_kwargs).  Both are read once and held for the
 * call: the constructor is Python and may replace either attribute. */
static PyObject *
pool_make_connection(rn_pool *p, PyObject *unused)
{
    (void)unused;
    PyObject *cls = NULL, *kw = NULL, *empty = NULL, *conn = NULL;
    if (p->connection_class == NULL) {
        pool_no_attr(p, "connection_class");
        return NULL;
    }
    if (p->connection_kwargs == NULL) {
        pool_no_attr(p, "connection_kwargs");
        return NULL;
    }
    cls = Py_NewRef(p->connection_class);
    if (PyDict_CheckExact(p->connection_kwargs)) {
        kw = Py_NewRef(p->connection_kwargs);
    }
    else {
        /* any mapping, copied as `**kwargs` would; anything else is the
         * TypeError Python gives for `**` of a non-mapping */
        PyObject *src = p->connection_kwargs;
        int mapping = PyDict_Check(src);
        if (!mapping && (mapping = PyObject_HasAttrString(src, "keys")) == 0) {
            PyErr_Format(PyExc_TypeError,
                         "connection_class() argument after ** must be a mapping, not %.100s",
                         Py_TYPE(src)->tp_name);
            goto done;
        }
        Py_INCREF(src);
        kw = PyDict_New();
        int rc = kw != NULL ? PyDict_Merge(kw, src, 1) : -1;
        Py_DECREF(src);
        if (rc < 0)
            goto done;
    }
    if ((empty = PyTuple_New(0)) == NULL)
        goto done;
    conn = PyObject_Call(cls, empty, kw);
done:
    Py_XDECREF(empty);
    Py_XDECREF(kw);
    Py_XDECREF(cls);
    return conn;
}

static int
disconnect_all(rn_state *st, PyObject *iterable)
{
    PyObject *items = PySequence_List(iterable);   /* snapshot */
    if (items == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *r = PyObject_CallMethodNoArgs(PyList_GET_ITEM(items, i), st->s_disconnect);
        if (r == NULL) {
            Py_DECREF(items);
            return -1;
        }
        Py_DECREF(r);
    }
    Py_DECREF(items);
    return 0;
}

/* disconnect(inuse_connections=True) */
static PyObject *
pool_disconnect(rn_pool *p, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"inuse_connections", NULL};
    int inuse = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p:disconnect", kwlist, &inuse))
        return NULL;
    if (pool_check_fork(p) < 0)
        return NULL;
    if (disconnect_all(p->st, p->available) < 0)
        return NULL;
    if (inuse && disconnect_all(p->st, p->in_use) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
pool_reset(rn_pool *p, PyObject *unused)
{
    (void)unused;
    if (pool_reset_state(p) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
pool_checkpid(rn_pool *p, PyObject *unused)
{
    (void)unused;
    if (pool_check_fork(p) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
pool_owns_connection(rn_pool *p, PyObject *conn)
{
    int owned = pool_owns(p, conn);
    if (owned < 0)
        return NULL;
    return PyBool_FromLong(owned);
}

static PyMethodDef pool_methods[] = {
    {"get_connection", (PyCFunction)(void (*)(void))pool_get_connection,
     METH_FASTCALL | METH_KEYWORDS, "get_connection(self, command_name=None, *keys, **options)\n--\n\nTake a connected connection from the pool."},
    {"release", (PyCFunction)pool_release_meth, METH_O, "release(self, connection)\n--\n\nGive a connection back."},
    {"make_connection", (PyCFunction)pool_make_connection, METH_NOARGS,
     "make_connection(self)\n--\n\nCreate a new connection from connection_class(**connection_kwargs)."},
    {"disconnect", (PyCFunction)(void (*)(void))pool_disconnect, METH_VARARGS | METH_KEYWORDS,
     "disconnect(self, inuse_connections=True)\n--\n\nDisconnect idle (and, by default, in-use) connections."},
    {"reset", (PyCFunction)pool_reset, METH_NOARGS, "reset(self)\n--\n\nForget every connection."},
    {"_checkpid", (PyCFunction)pool_checkpid, METH_NOARGS,
     "Reset the pool if this process is a fork of the one that created it."},
    {"owns_connection", (PyCFunction)pool_owns_connection, METH_O,
     "owns_connection(self, connection)\n--\n\nTrue if the connection was opened by this process."},
    {NULL, NULL, 0, NULL}
};

static PyObject *
get_max(rn_pool *p, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(p->max_connections);
}

/* Deleting a typed setting: refused, as for a property without a deleter
 * (the C fields have no "unset" state). */
static int
pool_no_delete(rn_pool *p, const char *name)
{
    PyErr_Format(PyExc_AttributeError, "property '%s' of '%.100s' object has no deleter",
                 name, Py_TYPE(p)->tp_name);
    return -1;
}

static int
set_max(rn_pool *p, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL)
        return pool_no_delete(p, "max_connections");
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_SetString(PyExc_ValueError, "\"max_connections\" must be a positive integer");
        return -1;
    }
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (overflow > 0 || n > PY_SSIZE_T_MAX)
        n = PY_SSIZE_T_MAX;
    if (overflow < 0 || n < 0) {
        PyErr_SetString(PyExc_ValueError, "\"max_connections\" must be a positive integer");
        return -1;
    }
    p->max_connections = (Py_ssize_t)n;
    pool_wake_one(p);
    return 0;
}

static PyObject *
get_timeout(rn_pool *p, void *c)
{
    (void)c;
    if (p->timeout < 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(p->timeout);
}

static int
set_timeout(rn_pool *p, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL)
        return pool_no_delete(p, "timeout");
    if (v == Py_None) {
        p->timeout = -1;
        return 0;
    }
    double d = PyFloat_AsDouble(v);
    if (d == -1 && PyErr_Occurred())
        return -1;
    if (isnan(d)) {
        PyErr_SetString(PyExc_ValueError, "timeout must be a number or None, not NaN");
        return -1;
    }
    p->timeout = d < 0 ? 0 : d;
    return 0;
}

static PyObject *
get_blocking(rn_pool *p, void *c)
{
    (void)c;
    return PyBool_FromLong(p->blocking);
}

static int
set_blocking(rn_pool *p, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL)
        return pool_no_delete(p, "_blocking");
    int t = PyObject_IsTrue(v);
    if (t < 0)
        return -1;
    p->blocking = t;
    return 0;
}

static PyObject *
get_pid(rn_pool *p, void *c)
{
    (void)c;
    return PyLong_FromLong(p->pid);
}

static PyObject *
get_created(rn_pool *p, void *c)
{
    (void)c;
    return PyLong_FromSsize_t(p->created);
}

/* connection_class: any object may be set, as on redis-py's plain attribute;
 * once deleted, reading it or making a connection raises AttributeError. */
static PyObject *
get_connection_class(rn_pool *p, void *c)
{
    (void)c;
    if (p->connection_class == NULL) {
        pool_no_attr(p, "connection_class");
        return NULL;
    }
    return Py_NewRef(p->connection_class);
}

static int
set_connection_class(rn_pool *p, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL && p->connection_class == NULL) {
        pool_no_attr(p, "connection_class");
        return -1;
    }
    Py_XSETREF(p->connection_class, Py_XNewRef(v));
    return 0;
}

/* connection_kwargs: a property in redis-py 7.4 (any value, no deleter);
 * a non-mapping fails at make_connection with TypeError. */
static PyObject *
get_connection_kwargs(rn_pool *p, void *c)
{
    (void)c;
    if (p->connection_kwargs == NULL) {      /* only after the GC cleared the pool */
        pool_no_attr(p, "connection_kwargs");
        return NULL;
    }
    return Py_NewRef(p->connection_kwargs);
}

static int
set_connection_kwargs(rn_pool *p, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL)
        return pool_no_delete(p, "connection_kwargs");
    Py_XSETREF(p->connection_kwargs, Py_NewRef(v));
    return 0;
}

/* The idle list and in-use set themselves (read-only attributes): users may
 * call list/set methods on them; C only uses them through the list and set
 * APIs, with their real types. */
static PyObject *
get_available(rn_pool *p, void *c)
{
    (void)c;
    if (p->available == NULL && pool_reset_state(p) < 0)
        return NULL;
    return Py_NewRef(p->available);
}

static PyObject *
get_in_use(rn_pool *p, void *c)
{
    (void)c;
    if (p->in_use == NULL && pool_reset_state(p) < 0)
        return NULL;
    return Py_NewRef(p->in_use);
}

static PyGetSetDef pool_getset[] = {
    {"connection_class", (getter)get_connection_class, (setter)set_connection_class, NULL, NULL},
    {"connection_kwargs", (getter)get_connection_kwargs, (setter)set_connection_kwargs, NULL,
     NULL},
    {"_available_connections", (getter)get_available, NULL, NULL, NULL},
    {"_in_use_connections", (getter)get_in_use, NULL, NULL, NULL},
    {"max_connections", (getter)get_max, (setter)set_max, NULL, NULL},
    {"timeout", (getter)get_timeout, (setter)set_timeout, NULL, NULL},
    {"_blocking", (getter)get_blocking, (setter)set_blocking, NULL, NULL},
    {"pid", (getter)get_pid, NULL, NULL, NULL},
    {"_created_connections", (getter)get_created, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef pool_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_pool, weakreflist), READONLY, NULL},
    {"_overridden", T_INT, offsetof(rn_pool, overridden), READONLY,
     "an instance attribute replaces a method: callers go through Python"},
    {NULL, 0, 0, 0, NULL}
};

static int
pool_setattro(rn_pool *self, PyObject *name, PyObject *value)
{
    return rn_setattro_tracking((PyObject *)self, self->st, name, value, &self->overridden,
                                RN_KIND_POOL);
}

static PyType_Slot pool_slots[] = {
    {Py_tp_setattro, pool_setattro},
    {Py_tp_new, pool_new},
    {Py_tp_dealloc, pool_dealloc},
    {Py_tp_traverse, pool_traverse},
    {Py_tp_clear, pool_clear},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {Py_tp_members, pool_members},
    {Py_tp_doc, "C core of a connection pool."},
    {0, NULL}
};

PyType_Spec rn_pool_type_spec = {
    .name = "redis_native._native.ConnectionPool",
    .basicsize = sizeof(rn_pool),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = pool_slots,
};
