/* _native.ConnectionPool: thread-safe, fork-safe pool of connections.
 *
 * Pool state (the available list, the in-use set, counters) is only touched
 * with the GIL held and without calling back into Python in the middle of an
 * update, so the GIL is the pool's lock: no C mutex is held while waiting for
 * the GIL, and none across connect/AUTH/health checks (they run after the
 * connection has been taken out of the pool).  A blocking pool waits for a
 * released connection on a PyThread lock with the GIL released.
 */
#ifndef RN_POOL_H
#define RN_POOL_H

#include "module.h"
#include "pythread.h"

typedef struct rn_pool {
    PyObject_HEAD
    PyObject *module;             /* strong */
    rn_state *st;
    PyObject *connection_class;
    PyObject *connection_kwargs;  /* dict, users read and change it in place */
    Py_ssize_t max_connections;
    PyObject *available;          /* list, used LIFO */
    PyObject *in_use;             /* set */
    Py_ssize_t created;           /* live connections made by this pool */
    unsigned long fork_gen;
    long pid;
    int blocking;                 /* BlockingConnectionPool semantics */
    double timeout;               /* blocking wait; < 0: forever */
    PyThread_type_lock wake;      /* released to wake one waiter */
    int waiters;
    int wake_pending;             /* `wake` is currently released */
    int overridden;               /* see rn_setattro_tracking */
    PyObject *weakreflist;
} rn_pool;

extern PyType_Spec rn_pool_type_spec;

/* Take a connected connection (GIL held): new reference or NULL. */
PyObject *rn_pool_get(rn_pool *p);
/* Give it back; never fails (errors are reported as unraisable). */
void rn_pool_release(rn_pool *p, PyObject *conn);

#endif
