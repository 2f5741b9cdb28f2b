/* _native.ConnectionPool: thread-safe, fork-safe pool of connections.
 *
 * Pool state (the available list, the in-use set, counters) is only touched
 * with the GIL held and without calling back into Python in the middle of an
 * update, so the GIL is the pool's lock: no C mutex is held while waiting for
 * the GIL, and none across connect/AUTH/health checks (they run after the
 * connection has been taken out of the pool).  A blocking pool waits for a
 * released connection on a PyThread lock with the GIL released.
 *
 * Every object field reachable from Python is behind a getter/setter: a
 * field may be NULL (deleted by the user, or cleared by the GC) and every
 * use checks for that.
 */
#ifndef RN_POOL_H
#define RN_POOL_H

#include "module.h"
#include "pythread.h"

typedef struct rn_pool {
    PyObject_HEAD
    PyObject *module;             /* strong */
    rn_state *st;
    PyObject *connection_class;   /* any object; NULL once deleted */
    PyObject *connection_kwargs;  /* users read and change it in place; any
                                   * object (a mapping at make_connection) */
    Py_ssize_t max_connections;
    PyObject *available;          /* list, used LIFO; NULL only after tp_clear */
    PyObject *in_use;             /* set; NULL only after tp_clear */
    Py_ssize_t created;           /* live connections made by this pool */
    unsigned long fork_gen;
    long pid;
    int blocking;                 /* BlockingConnectionPool semantics */
    double timeout;               /* blocking wait; < 0: forever */
    rn_wake wake;                 /* where get_connection waits for a release */
    int overridden;               /* see rn_setattro_tracking */
    PyObject *weakreflist;
} rn_pool;

extern PyType_Spec rn_pool_type_spec;

/* Take a connected connection (GIL held): new reference or NULL. */
PyObject *rn_pool_get(rn_pool *p);
/* Give it back (GIL held, no exception set on entry), as the built-in
 * release() does: 0, or -1 with an exception set (an unhashable object, a
 * failing `pid` or disconnect() of a connection the pool does not keep).
 * The pool's bookkeeping is consistent in both cases.  A connection that
 * still owes replies is disconnected before it becomes available again. */
int rn_pool_release(rn_pool *p, PyObject *conn);

/* ---- exceptions as one object, on 3.11 as on 3.12+ ----
 * The C core handles an exception in flight as one (normalized) instance, the
 * way Python 3.12's PyErr_GetRaisedException does; on 3.11 these wrap
 * PyErr_Fetch/PyErr_Restore, which nothing else in pool.c or client.c calls. */

/* Take the raised exception out of the thread state (new reference, normalized,
 * traceback attached), or NULL when none is set. */
static inline PyObject *
rn_err_take(void)
{
    if (!PyErr_Occurred())
        return NULL;
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {            /* cannot happen after normalization */
        Py_XDECREF(type);
        Py_XDECREF(tb);
        return NULL;
    }
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
        Py_DECREF(tb);
    }
    Py_XDECREF(type);
    return value;
#endif
}

/* Raise `exc` again (steals the reference); NULL does nothing. */
static inline void
rn_err_give(PyObject *exc)
{
    if (exc == NULL)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* `earlier` (stolen, may be NULL) was in flight when the code that just ran
 * started, as in a Python `finally:` block.  If that code raised, its
 * exception stays and `earlier` becomes part of its __context__ chain where
 * Python would have put it (in place of the exception that was being handled
 * around the call, usually at the end); if it did not, `earlier` is raised
 * again. */
void rn_err_chain(PyObject *earlier);

#endif
