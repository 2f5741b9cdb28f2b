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
#include <stdint.h>

/* The kinds of objects the stand-in rule (below) knows. */
enum { RN_KIND_CONN = 0, RN_KIND_POOL = 1, RN_KIND_CLIENT = 2, RN_KIND_CLUSTER = 3,
       RN_KIND_PIPELINE = 4, RN_KIND_CONNECT = 5, RN_KIND_COUNT = 6 };
/* RN_KIND_PIPELINE: a Pipeline's queuing step (Pipeline.execute_command's C
 * twin, client.c).  Same C base and `overridden` flag as RN_KIND_CLIENT.
 * RN_KIND_CONNECT: the steps of AbstractConnection's connect chain
 * (connect.c).  Same C base and `overridden` flag as RN_KIND_CONN. */

typedef struct rn_state {
    /* types defined by this module (strong references) */
    PyTypeObject *ConnectionType;   /* _native.Connection (TCP and unix) */
    PyTypeObject *PoolType;         /* _native.ConnectionPool (+blocking) */
    PyTypeObject *ClientType;       /* _native.ClientBase: execute_command */
    PyTypeObject *ReaderType;       /* _native.Reader: byte feeds for tests */
    PyTypeObject *TLSContextType;   /* _native.TLSContext: an SSL_CTX */
    PyTypeObject *AsyncProtocolType;/* _native.AsyncProtocol (aio.c) */
    PyTypeObject *SlotTableType;    /* _native.SlotTable: slot -> nodes (cluster.c) */
    PyTypeObject *ClusterType;      /* _native.ClusterBase: cluster routing (cluster.c) */
    PyTypeObject *BindableType;     /* _native.BindableMethod (bindable.c) */

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
    PyObject *ReadOnlyError;

    /* redis_native.exceptions.parse_error_reply: str -> exception instance */
    PyObject *parse_error_reply;

    /* The stand-in rule (see rn_stands_in below): for each kind of object,
     * the method names C may stand in for, and for each name the set of
     * built-in implementations (C method descriptors of the C bases, plus
     * the Python functions redis_native declares with _declare_builtin). */
    PyObject *covered[RN_KIND_COUNT];           /* tuple of interned names, per kind */
    unsigned long long covered_bloom;            /* module.c: a filter of all of them */
    PyObject *builtins;             /* dict: name -> set of built-in objects */
    struct rn_stand_in_cache {
        PyTypeObject *type;         /* borrowed; valid with tag only */
        unsigned int tag;           /* tp_version_tag when computed */
        int ok;
    } stand_in_cache[RN_KIND_COUNT][16];
    Py_ssize_t overridden_offset[RN_KIND_COUNT]; /* offsetof the `overridden` flag, per kind */

    /* interned strings */
    PyObject *s_connect;
    PyObject *s_disconnect;
    PyObject *s_check_health;
    PyObject *s_get_connection;
    PyObject *s_release;
    PyObject *s_make_connection;
    PyObject *s_owns_connection;
    PyObject *s_send_command;
    PyObject *s_read_response;
    PyObject *s_compute;
    PyObject *s_reset;
    PyObject *s_retries;            /* "_retries" */
    PyObject *s_supported_errors;   /* "_supported_errors" */
    PyObject *s_backoff;            /* "_backoff" */
    PyObject *s_retry;              /* "retry" */
    PyObject *s_never_decode;       /* "NEVER_DECODE" */
    PyObject *s__backoff, *s__retries, *s__supported_errors;   /* Retry state */
    PyObject *s_empty_response;     /* "EMPTY_RESPONSE" */
    PyObject *s_keys;               /* "keys" */
    PyObject *s_disable_decoding;   /* "disable_decoding" */
    PyObject *s_check_health_kw;    /* "check_health" */
    PyObject *s_utf8;               /* "utf-8" */
    PyObject *s_strict;             /* "strict" */
    PyObject *s_upper;              /* "upper" */
    PyObject *s_parse_response;     /* "parse_response" */
    PyObject *s__execute_command;   /* "_execute_command" */
    PyObject *s__send_parse;        /* "_send_command_parse_response" */
    PyObject *s__close_connection;  /* "_close_connection" */
    PyObject *s_sleep;              /* time.sleep */
    PyObject *s_set_result;         /* asyncio futures (aio.c) */
    PyObject *s_set_exception;
    PyObject *s_done;
    PyObject *s_abort;              /* transport methods (aio.c) */
    PyObject *s_close;
    PyObject *s_get_write_buffer_size;
    PyObject *aio_refs;             /* aio.c: the built-ins of the asyncio fast path
                                     * (_aio_setup), or NULL before it ran */
    PyObject *aio_names;            /* aio.c: interned attribute names (tuple) */
    PyObject *s_execute_command;    /* "execute_command" */
    PyObject *s_internal_execute;   /* "_internal_execute_command" */
    PyObject *s_resume_command;     /* "_resume_command" */
    PyObject *s_redis_connection;   /* "redis_connection" */
    PyObject *s_target_nodes;       /* "target_nodes" */
    PyObject *s_nodes_flag;         /* "nodes_flag" */
    PyObject *s_get_node_from_slot; /* "get_node_from_slot" */
    PyObject *s_read_load_balancer; /* "read_load_balancer" */
    PyObject *s_get_server_index;   /* "get_server_index" */
    PyObject *s_primary_to_idx;     /* "primary_to_idx" */
    PyObject *s_start_index;        /* "start_index" */
    PyObject *s_name;               /* "name" */
    PyObject *s_value;              /* "value" */
    PyObject *s_watching;           /* Pipeline queuing (client.c) */
    PyObject *s_explicit_transaction;
    PyObject *s_command_stack;
    PyObject *s_append;
    PyObject *s_WATCH;              /* "WATCH" */
    PyObject *s_immediate_execute;  /* "immediate_execute_command" */
    PyObject *s_pipeline_execute;   /* "pipeline_execute_command" */
    PyObject *connect_refs;         /* connect.c: what _declare_connect_chain gave,
                                     * or NULL before it ran */
    PyObject *connect_names;        /* connect.c: interned attribute names (tuple) */
    PyObject *stock_close;          /* Redis.close (_declare_client_close), or NULL */
    PyObject *s_auto_close;         /* "auto_close_connection_pool" */
} rn_state;

/* State of the module that defined `tp` (or one of its bases). */
rn_state *rn_state_from_type(PyTypeObject *tp);
/* The module object itself (borrowed); never NULL once rn_state_from_type
 * succeeded for the same type. */
PyObject *rn_module_from_type(PyTypeObject *tp);

/* Process-wide counter bumped in every forked child (pthread_atfork).  A pool
 * or connection created under another generation belongs to the parent. */
unsigned long rn_fork_generation(void);
/* getpid() without a system call: read once, and again after each fork */
long rn_getpid(void);

/* A wake-up token for threads that wait, with the GIL released, for state the
 * GIL guards (a blocking pool's free slots, the single-connection lock, a
 * connection's write side).  `lock` stays held while nobody is being woken;
 * rn_wake_post releases it for one waiter, which takes it back.  Nobody waits
 * on it while holding the GIL, so a waiter holding the token while it waits
 * for the GIL blocks no one.  Every field is touched with the GIL held. */
typedef struct rn_wake {
    PyThread_type_lock lock;     /* NULL until rn_wake_init */
    int waiters;                 /* threads inside rn_wake_wait */
    int pending;                 /* released by a post, not yet taken */
} rn_wake;

/* A fresh held lock and no waiters; an old lock is dropped (a forked child
 * replaces what a parent thread may have held).  0, or -1 MemoryError. */
int rn_wake_init(rn_wake *w);
void rn_wake_free(rn_wake *w);
/* Wake one waiter, if there is one and none is being woken already. */
void rn_wake_post(rn_wake *w);
/* Wait up to `us` microseconds (-1: forever) for a post, interruptibly
 * (PY_LOCK_INTR: the caller runs the signal handlers).  GIL held on entry and
 * return, released while waiting.  The lock must exist. */
PyLockStatus rn_wake_wait(rn_wake *w, PY_TIMEOUT_T us);

/* The stand-in rule.  C may run a covered method natively (send_command,
 * read_response, get_connection, release, parse_response, ...) only while
 * the attribute Python would find for every covered name is a built-in
 * implementation: no instance attribute replaces it (the object's
 * `overridden` flag, kept by rn_setattro_tracking) and no class of the
 * type's MRO defines it with anything else.  The per-type answer is cached
 * under the type's version tag, so a class-level patch (mock.patch.object on
 * the class or a base), a subclass override and an instance patch are all
 * honoured, and a subclass that overrides nothing keeps the fast path.
 * Never fails: 0 when in doubt.  GIL held. */
int rn_stands_in_slow(rn_state *st, PyObject *obj, int kind);

static inline int
rn_type_tag_valid(PyTypeObject *tp)
{
#ifdef Py_TPFLAGS_VALID_VERSION_TAG
    return PyType_HasFeature(tp, Py_TPFLAGS_VALID_VERSION_TAG) && tp->tp_version_tag != 0;
#else
    return tp->tp_version_tag != 0;
#endif
}

/* The hot path: one cache probe, inlined at every call site. */
static inline int
rn_stands_in(rn_state *st, PyObject *obj, int kind)
{
    PyTypeObject *tp = Py_TYPE(obj);
    const struct rn_stand_in_cache *e =
        &st->stand_in_cache[kind][((uintptr_t)tp >> 6) & 15];
    if (e->type == tp && e->tag == tp->tp_version_tag && rn_type_tag_valid(tp))
        /* a hit means obj is an instance of the kind's C base: the flag exists */
        return e->ok && !*(int *)((char *)obj + st->overridden_offset[kind]);
    return rn_stands_in_slow(st, obj, kind);
}

/* tp_setattro of the C bases (Connection, ConnectionPool, ClientBase):
 * PyObject_GenericSetAttr, and *overridden kept equal to "an instance
 * attribute replaces a covered method of `kind`" (r.parse_response = f,
 * mock.patch.object(pool, "get_connection"), ...).  The fast paths run only
 * when it is 0, so such per-instance replacements are honoured as redis-py
 * honours them.  Attributes stored straight into __dict__ are not seen.
 * `st` is the object's module state (NULL: found from its type). */
int rn_setattro_tracking(PyObject *self, rn_state *st, PyObject *name, PyObject *value,
                         int *overridden, int kind);

/* Arguments of at least this many bytes (bytes, or memoryview: the caller's
 * own memory) are not copied into a connection's output buffer: they are
 * written from where they are (scatter-gather, see rn_seg), and bulk strings
 * of at least this size in replies are received straight into their bytes
 * object (reader.c).  Below it, copying is cheaper than one more iovec. */
#define RN_ZEROCOPY_MIN (1024 * 1024)

#define RN_UNUSED(x) (void)(x)

/* _native.BindableMethod (bindable.c): a C method that binds as a types.MethodType */
extern PyType_Spec rn_bindable_type_spec;

#endif
