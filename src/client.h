/* _native.ClientBase: the C base of redis_native.Redis.  It owns the
 * per-command path: take a connection, pack, send, read, retry, release,
 * apply the response callback. */
#ifndef RN_CLIENT_H
#define RN_CLIENT_H

#include "module.h"
#include "pythread.h"

/* The lock of a single_connection_client, reentrant per thread like the
 * threading.RLock redis-py uses (a signal handler running during a command
 * may use the same client).  Its state is only touched with the GIL held, so
 * taking a free lock costs no syscall; a thread that must wait does so on
 * `wake` with the GIL released, interruptibly (Ctrl-C, signal handlers). */
typedef struct rn_rlock {
    unsigned long owner;           /* thread ident of the holder, if count > 0 */
    long count;                    /* recursion depth; 0: free */
    unsigned long fork_gen;        /* rn_fork_generation() the state belongs to */
    rn_wake wake;                  /* where threads wait for a release */
} rn_rlock;

typedef struct rn_client {
    PyObject_HEAD
    PyObject *module;              /* strong */
    rn_state *st;
    /* Attributes Python reads and writes (typed getters/setters; any object
     * may be set, as on redis-py's plain attributes).  NULL once deleted:
     * a command then raises AttributeError, as redis-py would. */
    PyObject *connection_pool;
    PyObject *connection;          /* None unless single_connection_client */
    PyObject *response_callbacks;  /* dict-like: command name -> callable */
    int callbacks_shared;          /* response_callbacks is a table shared by
                                    * clients (_share_callbacks): reading the
                                    * attribute first gives the client its copy */
    rn_rlock single_lock;          /* serialises use of `connection` */
    int overridden;                /* see rn_setattro_tracking */
    PyObject *weakreflist;
} rn_client;

extern PyType_Spec rn_client_type_spec;

/* Pipeline.execute_command's C twin (client.c), exposed as the method
 * descriptor _native._pipeline_execute_command of ClientBase. */
extern PyMethodDef rn_pipeline_execute_command_def;

/* _native._pipeline_results(replies, commands, callbacks, watch_names,
 * update_watch_state): a pipeline's per-reply results in one C loop (see
 * client.c).  METH_FASTCALL module function. */
PyObject *rn_pipeline_results(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* Pipeline.execute()'s scans for the rare case (client.c): METH_FASTCALL
 * module functions _first_instance, _without_option and _tx_gaps. */
PyObject *rn_first_instance(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *rn_without_option(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *rn_tx_gaps(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* After a failed attempt on `conn` (exception set), what redis-py's
 * Retry.call_with_retry does with its `retry` policy: 1 to try again (the
 * error cleared, the connection disconnected -- natively when `fast` --,
 * the backoff slept), 0 to give up with the error to report.  `*retry` is
 * the policy, read at the first failure (a new reference for the caller to
 * drop); `*failures` counts. */
/* _declare_client_close(Redis.close): module function (client.c). */
PyObject *rn_declare_client_close(PyObject *module, PyObject *close);

int rn_should_retry(rn_state *st, PyObject *conn, int fast, PyObject **retry, int *failures);

#endif
