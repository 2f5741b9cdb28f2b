/* Module state shared by every C file of redis_native._native.
 *
 * There are no global PyObject pointers: every type, exception class and
 * interned name lives in one rn_state owned by the module object.  Objects
 * created by the module keep a strong reference to the module (and so to
 * their state) so that the state cannot vanish under them.
 */
#ifndef RN_MODULE_H
#define RN_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct rn_state {
    /* types defined by this module (strong references) */
    PyTypeObject *ConnectionType;   /* _native.Connection (TCP and unix) */
    PyTypeObject *PoolType;         /* _native.ConnectionPool (+blocking) */
    PyTypeObject *ClientType;       /* _native.ClientBase: execute_command */
    PyTypeObject *ReaderType;       /* _native.Reader: byte feeds for tests */

    /* exception classes, from redis_native.exceptions (strong references) */
    PyObject *RedisError;
    PyObject *ConnectionError;
    PyObject *TimeoutError;
    PyObject *ResponseError;
    PyObject *DataError;
    PyObject *InvalidResponse;
    PyObject *AuthenticationError;
    PyObject *MaxConnectionsError;
    PyObject *ChildDeadlockedError;

    /* redis_native.exceptions.parse_error_reply: str -> exception instance */
    PyObject *parse_error_reply;

    /* Exact Python classes that may take the C fast path.  Set once by
     * redis_native.connection through _native._register_fast_types(). */
    PyObject *fast_conn_types;      /* tuple of types */
    PyObject *fast_pool_types;      /* tuple of types */
    /* redis_native.client.Redis.parse_response (registered by client.py):
     * a client whose type resolves parse_response to anything else (a
     * subclass override, a mock.patch) has its replies read through it. */
    PyObject *default_parse_response;

    /* interned strings */
    PyObject *s_connect;
    PyObject *s_disconnect;
    PyObject *s_check_health;
    PyObject *s_get_connection;
    PyObject *s_release;
    PyObject *s_make_connection;
    PyObject *s_send_command;
    PyObject *s_read_response;
    PyObject *s_compute;
    PyObject *s_reset;
    PyObject *s_retries;            /* "_retries" */
    PyObject *s_supported_errors;   /* "_supported_errors" */
    PyObject *s_backoff;            /* "_backoff" */
    PyObject *s_retry;              /* "retry" */
    PyObject *s_never_decode;       /* "NEVER_DECODE" */
    PyObject *s_empty_response;     /* "EMPTY_RESPONSE" */
    PyObject *s_keys;               /* "keys" */
    PyObject *s_disable_decoding;   /* "disable_decoding" */
    PyObject *s_check_health_kw;    /* "check_health" */
    PyObject *s_utf8;               /* "utf-8" */
    PyObject *s_strict;             /* "strict" */
    PyObject *s_upper;              /* "upper" */
    PyObject *s_parse_response;     /* "parse_response" */
    PyObject *s_sleep;              /* time.sleep */
} rn_state;

/* State of the module that defined `tp` (or one of its bases). */
rn_state *rn_state_from_type(PyTypeObject *tp);
/* The module object itself (borrowed); never NULL once rn_state_from_type
 * succeeded for the same type. */
PyObject *rn_module_from_type(PyTypeObject *tp);

/* Process-wide counter bumped in every forked child (pthread_atfork).  A pool
 * or connection created under another generation belongs to the parent. */
unsigned long rn_fork_generation(void);

/* tp_setattro of the C bases (Connection, ConnectionPool, ClientBase):
 * PyObject_GenericSetAttr, and *overridden kept equal to "an instance
 * attribute shadows a method of the class" (r.parse_response = f,
 * mock.patch.object(pool, "get_connection"), ...).  The fast paths run only
 * when it is 0, so such per-instance replacements are honoured as redis-py
 * honours them.  Attributes stored straight into __dict__ are not seen. */
int rn_setattro_tracking(PyObject *self, PyObject *name, PyObject *value, int *overridden);

#define RN_UNUSED(x) (void)(x)

#endif
