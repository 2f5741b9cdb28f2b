/* redis_native._native: module init and module state.
 *
 * This file only wires things together: it fills rn_state (exception classes
 * taken from redis_native.exceptions, interned names), creates the heap types
 * defined in the other files and exposes a few module functions.
 */
#include "module.h"
#include "reader.h"
#include "packer.h"
#include "connection.h"
#include "pool.h"
#include "client.h"
#include "callbacks.h"
#include "tls.h"
#include "aio.h"
#include "cluster.h"
#include "construct.h"

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

static struct PyModuleDef rn_moduledef;

rn_state *
rn_state_from_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &rn_moduledef);  /* borrowed */
    if (m == NULL)
        return NULL;
    return (rn_state *)PyModule_GetState(m);
}

/* ---------------------------------------------------------------------
 * The stand-in rule (module.h).  Which names each kind covers: the methods
 * redis-py calls on the way of a command, a pipeline or a pub/sub read whose
 * work the C fast paths do without calling them.  (pack_command is not here:
 * redis-py's send_command packs without calling it.)  owns_connection is
 * asked by redis-py's release(); C's release asks it only when it is not the
 * built-in one (SentinelConnectionPool drops connections to a former master).
 */
static const char *const rn_covered_names[RN_KIND_COUNT][9] = {
    /* Pipeline.execute_command's C twin appends to command_stack itself
     * instead of calling pipeline_execute_command */
    [RN_KIND_PIPELINE] = {"pipeline_execute_command", NULL},
    [RN_KIND_CONN] = {"connect", "disconnect", "can_read", "send_command",
                      "send_packed_command", "read_response", "pack_commands", NULL},
    /* what connect() calls on its way (connect.c runs it natively; connect
     * itself is compared with AbstractConnection's, see there) */
    [RN_KIND_CONNECT] = {"_connect_once", "on_connect", "on_connect_check_health",
                         "_handshake_commands", NULL},
    [RN_KIND_POOL] = {"get_connection", "release", "owns_connection", NULL},
    /* redis-py's per-command steps: execute_command -> _execute_command ->
     * _send_command_parse_response -> parse_response, _close_connection
     * between retries (client.c runs them natively) */
    [RN_KIND_CLIENT] = {"parse_response", "_execute_command", "_send_command_parse_response",
                        "_close_connection", NULL},
    /* RedisCluster: the steps of redis-py's per-command path the C router
     * (cluster.c) does itself */
    [RN_KIND_CLUSTER] = {"_internal_execute_command", "_execute_command", "determine_slot",
                         "keyslot", "_get_command_keys", "get_redis_connection", NULL},
};

static PyTypeObject *
kind_base(rn_state *st, int kind)
{
    return kind == RN_KIND_CONN || kind == RN_KIND_CONNECT ? st->ConnectionType
         : kind == RN_KIND_POOL ? st->PoolType
         : kind == RN_KIND_CLIENT || kind == RN_KIND_PIPELINE ? st->ClientType
         : st->ClusterType;
}

static int *
kind_flag(PyObject *obj, int kind)
{
    return kind == RN_KIND_CONN || kind == RN_KIND_CONNECT ? &((rn_conn *)obj)->overridden
         : kind == RN_KIND_POOL ? &((rn_pool *)obj)->overridden
         : kind == RN_KIND_CLIENT || kind == RN_KIND_PIPELINE ? &((rn_client *)obj)->overridden
         : &((rn_cluster *)obj)->overridden;
}

/* `v` is one of the declared built-in implementations of `name`. */
static int
is_builtin_impl(rn_state *st, PyObject *name, PyObject *v)
{
    PyObject *impls = PyDict_GetItemWithError(st->builtins, name);   /* borrowed list */
    if (impls == NULL)
        return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(impls); i++)
        if (PyList_GET_ITEM(impls, i) == v)
            return 1;
    return 0;
}

/* The type-level half of the rule, uncached: `tp` is a subtype of the kind's
 * C base and no class of its MRO defines a covered name with anything but a
 * built-in implementation.  Never leaves an exception set. */
static int
type_stands_in(rn_state *st, PyTypeObject *tp, int kind)
{
    if (!PyType_IsSubtype(tp, kind_base(st, kind)))
        return 0;
    PyObject *mro = tp->tp_mro;
    PyObject *names = st->covered[kind];
    if (mro == NULL || names == NULL)
        return 0;
    /* The pipeline kind's C base is ClientBase, and a plain Redis has no
     * pipeline_execute_command: C stands in only for a class that has one
     * (Pipeline's own), never for a method that does not exist. */
    if (kind == RN_KIND_PIPELINE &&
        _PyType_Lookup(tp, PyTuple_GET_ITEM(names, 0)) == NULL)
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyObject *cls = PyTuple_GET_ITEM(mro, i);
        PyObject *dict = ((PyTypeObject *)cls)->tp_dict;
        if (dict == NULL)
            continue;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            PyObject *v = PyDict_GetItemWithError(dict, name);   /* borrowed */
            if (v == NULL) {
                if (PyErr_Occurred()) {
                    PyErr_Clear();
                    return 0;
                }
                continue;
            }
            if (!is_builtin_impl(st, name, v)) {
                PyErr_Clear();
                return 0;
            }
        }
    }
    return 1;
}

/* The cache miss of rn_stands_in (module.h). */
int
rn_stands_in_slow(rn_state *st, PyObject *obj, int kind)
{
    PyTypeObject *tp = Py_TYPE(obj);
    struct rn_stand_in_cache *e =
        &st->stand_in_cache[kind][((uintptr_t)tp >> 6) & 15];
    /* A lookup through the method cache gives the type a version tag; any
     * later change to the type or a base (a patch, a new method) invalidates
     * it, so the cached answer cannot go stale. */
    PyObject *first = PyTuple_GET_ITEM(st->covered[kind], 0);
    (void)_PyType_Lookup(tp, first);
    int ok = type_stands_in(st, tp, kind);
    if (rn_type_tag_valid(tp)) {
        e->type = tp;
        e->tag = tp->tp_version_tag;
        e->ok = ok;
    }
    /* only now is obj known to be an instance of the kind's C base */
    return ok && !*kind_flag(obj, kind);
}

/* A bit of a 64-bit filter, chosen by an interned name's address. */
#define RN_NAME_BIT(name) (1ULL << (((uintptr_t)(name) >> 4) & 63))

/* Is `name` one of the names covered for `kind`? */
static int
is_covered(rn_state *st, PyObject *name, int kind)
{
    PyObject *names = st->covered[kind];
    if (names == NULL || !PyUnicode_Check(name))
        return 0;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
        PyObject *n = PyTuple_GET_ITEM(names, j);
        if (n == name)
            return 1;
    }
    /* The covered names are interned: an interned `name` (every attribute
     * name written in source code) equal to one of them is the same object,
     * so the identity scan above was the whole answer.  Only a str built at
     * run time (setattr(obj, "send_" + "command", f)) needs comparing. */
    if (PyUnicode_CheckExact(name) && PyUnicode_CHECK_INTERNED(name))
        return 0;
    for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
        int eq = PyUnicode_Compare(PyTuple_GET_ITEM(names, j), name);
        if (eq == 0)
            return 1;
        if (eq == -1 && PyErr_Occurred())
            PyErr_Clear();
    }
    return 0;
}

/* The names whose instance replacement sets an object's `overridden` flag:
 * those of its kind, for ClientBase those of RN_KIND_PIPELINE too (a
 * Pipeline shares the client's flag), for Connection those of
 * RN_KIND_CONNECT. */
static int
is_tracked(rn_state *st, PyObject *name, int kind)
{
    /* Every attribute assignment passes here: an interned name (all names
     * written in source code) that is none of the covered ones is the usual
     * case, answered from one 64-bit filter of their addresses (an interned
     * name equal to a covered name is that very object). */
    if (PyUnicode_CheckExact(name) && PyUnicode_CHECK_INTERNED(name) &&
        !(st->covered_bloom & RN_NAME_BIT(name)))
        return 0;
    return is_covered(st, name, kind)
        || (kind == RN_KIND_CLIENT && is_covered(st, name, RN_KIND_PIPELINE))
        || (kind == RN_KIND_CONN && is_covered(st, name, RN_KIND_CONNECT));
}

int
rn_setattro_tracking(PyObject *self, rn_state *st, PyObject *name, PyObject *value,
                     int *overridden, int kind)
{
    if (PyObject_GenericSetAttr(self, name, value) < 0)
        return -1;
    if (st == NULL)
        st = rn_state_from_type(Py_TYPE(self));
    if (st == NULL) {
        PyErr_Clear();
        *overridden = 1;            /* cannot tell: the slow path is safe */
        return 0;
    }
    if (!is_tracked(st, name, kind))
        return 0;
    if (value != NULL) {
        *overridden = 1;
        return 0;
    }
    /* A replacement was deleted (mock.patch restoring): any other left? */
    PyObject *dict = PyObject_GenericGetDict(self, NULL);
    if (dict == NULL) {
        PyErr_Clear();              /* keep the flag: the slow path is safe */
        return 0;
    }
    int any = 0;
    Py_ssize_t pos = 0;
    PyObject *key, *val;
    while (!any && PyDict_Next(dict, &pos, &key, &val))
        any = is_tracked(st, key, kind);
    Py_DECREF(dict);
    *overridden = any;
    return 0;
}

/* Add the C base's own method descriptors for the covered names to the
 * built-in implementations, and build the covered-name tuples. */
static int
init_stand_in(rn_state *st)
{
    st->overridden_offset[RN_KIND_CONN] = offsetof(rn_conn, overridden);
    st->overridden_offset[RN_KIND_POOL] = offsetof(rn_pool, overridden);
    st->overridden_offset[RN_KIND_CLIENT] = offsetof(rn_client, overridden);
    st->overridden_offset[RN_KIND_CLUSTER] = offsetof(rn_cluster, overridden);
    st->overridden_offset[RN_KIND_PIPELINE] = offsetof(rn_client, overridden);
    st->overridden_offset[RN_KIND_CONNECT] = offsetof(rn_conn, overridden);
    if ((st->builtins = PyDict_New()) == NULL)
        return -1;
    for (int kind = 0; kind < RN_KIND_COUNT; kind++) {
        Py_ssize_t n = 0;
        while (rn_covered_names[kind][n] != NULL)
            n++;
        PyObject *names = PyTuple_New(n);
        if (names == NULL)
            return -1;
        st->covered[kind] = names;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *name = PyUnicode_InternFromString(rn_covered_names[kind][i]);
            if (name == NULL)
                return -1;
            PyTuple_SET_ITEM(names, i, name);
            st->covered_bloom |= RN_NAME_BIT(name);
            /* a name covered for two kinds (_execute_command: the client's
             * and the cluster's) has one list of implementations */
            PyObject *impls = PyDict_GetItemWithError(st->builtins, name);
            if (impls == NULL) {
                if (PyErr_Occurred())
                    return -1;
                impls = PyList_New(0);
                if (impls == NULL || PyDict_SetItem(st->builtins, name, impls) < 0) {
                    Py_XDECREF(impls);
                    return -1;
                }
                Py_DECREF(impls);
            }
            PyObject *v = PyDict_GetItemWithError(kind_base(st, kind)->tp_dict, name);
            if (v != NULL && PyList_Append(impls, v) < 0)
                return -1;
            if (v == NULL && PyErr_Occurred())
                return -1;
        }
    }
    return 0;
}

PyObject *
rn_module_from_type(PyTypeObject *tp)
{
    return PyType_GetModuleByDef(tp, &rn_moduledef);
}

/* ---------------------------------------------------------------------
 * Fork detection without a syscall per use: a child handler bumps a
 * process-wide generation counter; pools and connections remember the
 * generation they were created/connected in.  A plain C integer, not Python
 * state, so a global is the right tool here.
 */
static volatile unsigned long rn_fork_generation_value = 0;
/* this process's pid, read again in every forked child (getpid() is a
 * system call, and connections record the pid that made them) */
static volatile long rn_pid_value = 0;

static void
rn_after_fork_child(void)
{
    rn_fork_generation_value++;
    rn_pid_value = (long)getpid();
}

unsigned long
rn_fork_generation(void)
{
    return rn_fork_generation_value;
}

long
rn_getpid(void)
{
    long pid = rn_pid_value;
    if (pid == 0)
        rn_pid_value = pid = (long)getpid();
    return pid;
}

int
rn_wake_init(rn_wake *w)
{
    PyThread_type_lock fresh = PyThread_allocate_lock();
    if (fresh == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyThread_acquire_lock(fresh, WAIT_LOCK);     /* held: no token yet */
    if (w->lock != NULL)
        PyThread_free_lock(w->lock);
    w->lock = fresh;
    w->waiters = 0;
    w->pending = 0;
    return 0;
}

void
rn_wake_free(rn_wake *w)
{
    if (w->lock == NULL)
        return;
    if (!w->pending)
        PyThread_release_lock(w->lock);
    PyThread_free_lock(w->lock);
    w->lock = NULL;
    w->waiters = 0;
    w->pending = 0;
}

void
rn_wake_post(rn_wake *w)
{
    if (w->waiters > 0 && !w->pending && w->lock != NULL) {
        w->pending = 1;
        PyThread_release_lock(w->lock);
    }
}

PyLockStatus
rn_wake_wait(rn_wake *w, PY_TIMEOUT_T us)
{
    PyThread_type_lock lock = w->lock;
    PyLockStatus st;
    w->waiters++;
    Py_BEGIN_ALLOW_THREADS
    st = PyThread_acquire_lock_timed(lock, us, 1);
    Py_END_ALLOW_THREADS
    w->waiters--;
    if (st == PY_LOCK_ACQUIRED)
        w->pending = 0;
    return st;
}

/* --------------------------------------------------------------------- */

static PyObject *
mod_pack_command(PyObject *module, PyObject *args, PyObject *kwargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    const char *encoding = "utf-8", *errors = "strict";
    if (kwargs != NULL) {
        PyObject *enc = PyDict_GetItemString(kwargs, "encoding");   /* borrowed */
        PyObject *err = PyDict_GetItemString(kwargs, "errors");
        Py_ssize_t known = (enc != NULL) + (err != NULL);
        if (PyDict_GET_SIZE(kwargs) != known) {
            PyErr_SetString(PyExc_TypeError,
                            "pack_command() takes only 'encoding' and 'errors' keywords");
            return NULL;
        }
        if (enc != NULL && (encoding = PyUnicode_AsUTF8(enc)) == NULL)
            return NULL;
        if (err != NULL && (errors = PyUnicode_AsUTF8(err)) == NULL)
            return NULL;
    }
    if (PyTuple_GET_SIZE(args) == 0) {
        PyErr_SetString(PyExc_TypeError, "pack_command() needs at least one argument");
        return NULL;
    }
    return rn_pack_to_bytes(st, &PyTuple_GET_ITEM(args, 0), PyTuple_GET_SIZE(args),
                            encoding, errors);
}

/* _declare_builtin(cls): the covered methods that `cls` (a redis_native
 * class over one of the C bases) defines in its own body are built-in
 * implementations: C may stand in for them.  Called by redis_native's own
 * modules at import, never by users. */
static PyObject *
mod_declare_builtin(PyObject *module, PyObject *cls)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (!PyType_Check(cls)) {
        PyErr_SetString(PyExc_TypeError, "_declare_builtin() takes a class");
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)cls;
    int found = 0;
    for (int kind = 0; kind < RN_KIND_COUNT; kind++) {
        if (!PyType_IsSubtype(tp, kind_base(st, kind)))
            continue;
        found = 1;
        PyObject *names = st->covered[kind];
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            PyObject *v = PyDict_GetItemWithError(tp->tp_dict, name);
            if (v == NULL) {
                if (PyErr_Occurred())
                    return NULL;
                continue;
            }
            PyObject *impls = PyDict_GetItemWithError(st->builtins, name);
            if (impls == NULL)
                return PyErr_Occurred() ? NULL : PyErr_Format(PyExc_KeyError, "%R", name);
            if (PyList_Append(impls, v) < 0)
                return NULL;
        }
    }
    if (!found) {
        PyErr_SetString(PyExc_TypeError,
                        "_declare_builtin() takes a subclass of a _native base type");
        return NULL;
    }
    /* answers cached before this declaration may be wrong now */
    memset(st->stand_in_cache, 0, sizeof st->stand_in_cache);
    Py_RETURN_NONE;
}

/* _stands_in(obj): the stand-in rule for obj (for the Python pipeline). */
static PyObject *
mod_stands_in(PyObject *module, PyObject *obj)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    for (int kind = 0; kind < RN_KIND_COUNT; kind++)
        if (PyObject_TypeCheck(obj, kind_base(st, kind)))
            return PyBool_FromLong(rn_stands_in(st, obj, kind));
    Py_RETURN_FALSE;
}

static PyMethodDef rn_module_methods[] = {
    {"pack_command", (PyCFunction)(void (*)(void))mod_pack_command,
     METH_VARARGS | METH_KEYWORDS,
     "pack_command(*args, encoding='utf-8', errors='strict') -> bytes\n\n"
     "RESP encoding of one command, with redis-py's argument encoding rules."},
    {"_declare_builtin", mod_declare_builtin, METH_O,
     "Declare the covered methods a redis_native class defines as built-in."},
    {"_stands_in", mod_stands_in, METH_O,
     "True when C may stand in for the covered methods of obj (the stand-in rule)."},
    {"_pipeline_results", (PyCFunction)(void (*)(void))rn_pipeline_results, METH_FASTCALL,
     "_pipeline_results(replies, commands, callbacks, watch_names, update_watch_state, "
     "keep_errors=False)\n--\n\n"
     "A pipeline's results from its raw replies, as Pipeline._command_result per reply."},
    RN_AIO_METHODS
    {"_first_instance", (PyCFunction)(void (*)(void))rn_first_instance, METH_FASTCALL,
     "_first_instance(items, cls)\n--\n\n"
     "Index of the first item of the list that is an instance of cls, or -1."},
    {"_without_option", (PyCFunction)(void (*)(void))rn_without_option, METH_FASTCALL,
     "_without_option(commands, key)\n--\n\n"
     "[c for c in commands if key not in c[1]]"},
    {"_tx_gaps", (PyCFunction)(void (*)(void))rn_tx_gaps, METH_FASTCALL,
     "_tx_gaps(commands, queued, key, cls)\n--\n\n"
     "(i, -1) for the commands whose options hold key, (i, j) for those whose queuing "
     "reply queued[j] is an instance of cls; None for an entry that is not a pair."},
    {"_copy_plain_retry", (PyCFunction)(void (*)(void))rn_copy_plain_retry, METH_FASTCALL,
     "_copy_plain_retry(retry, retry_cls, backoff_types, atomic_types)\n--\n\n"
     "A field-by-field copy of a plain Retry (what copy.deepcopy gives), or None "
     "when retry is not one."},
    {"_declare_client_close", rn_declare_client_close, METH_O,
     "_declare_client_close(Redis.close)\n--\n\n"
     "The close() a client's finalizer runs natively while the client's is this one."},
    {"_declare_connect_chain", (PyCFunction)(void (*)(void))rn_declare_connect_chain,
     METH_FASTCALL,
     "_declare_connect_chain(connect, Retry, call_with_retry)\n--\n\n"
     "The connect chain C runs natively while nothing replaces these."},
    {NULL, NULL, 0, NULL}
};

static int
add_type(PyObject *module, PyType_Spec *spec, PyObject *base, PyTypeObject **slot)
{
    PyObject *tp = PyType_FromModuleAndSpec(module, spec, base);
    if (tp == NULL)
        return -1;
    *slot = (PyTypeObject *)tp;   /* state keeps the strong reference */
    if (PyModule_AddObjectRef(module, strrchr(spec->name, '.') + 1, tp) < 0)
        return -1;
    return 0;
}

#define INTERN(field, text)                                       \
    do {                                                          \
        if ((st->field = PyUnicode_InternFromString(text)) == NULL) \
            return -1;                                            \
    } while (0)

#define EXC(field)                                                    \
    do {                                                              \
        if ((st->field = PyObject_GetAttrString(exc_mod, #field)) == NULL) \
            goto error;                                               \
    } while (0)

static int
rn_exec(PyObject *module)
{
    static int atfork_done = 0;
    rn_state *st = (rn_state *)PyModule_GetState(module);
    PyObject *exc_mod = NULL, *time_mod = NULL;

    if (!atfork_done) {
        if (pthread_atfork(NULL, NULL, rn_after_fork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "pthread_atfork failed");
            return -1;
        }
        atfork_done = 1;
    }

    INTERN(s_connect, "connect");
    INTERN(s_disconnect, "disconnect");
    INTERN(s_check_health, "check_health");
    INTERN(s_get_connection, "get_connection");
    INTERN(s_release, "release");
    INTERN(s_make_connection, "make_connection");
    INTERN(s_owns_connection, "owns_connection");
    INTERN(s_send_command, "send_command");
    INTERN(s_read_response, "read_response");
    INTERN(s_compute, "compute");
    INTERN(s_reset, "reset");
    INTERN(s_retries, "_retries");
    INTERN(s_supported_errors, "_supported_errors");
    INTERN(s_backoff, "_backoff");
    INTERN(s_retry, "retry");
    INTERN(s_never_decode, "NEVER_DECODE");
    INTERN(s__backoff, "_backoff");
    INTERN(s_auto_close, "auto_close_connection_pool");
    INTERN(s__retries, "_retries");
    INTERN(s__supported_errors, "_supported_errors");
    INTERN(s_empty_response, "EMPTY_RESPONSE");
    INTERN(s_keys, "keys");
    INTERN(s_disable_decoding, "disable_decoding");
    INTERN(s_check_health_kw, "check_health");
    INTERN(s_utf8, "utf-8");
    INTERN(s_strict, "strict");
    INTERN(s_upper, "upper");
    INTERN(s_parse_response, "parse_response");
    INTERN(s__execute_command, "_execute_command");
    INTERN(s__send_parse, "_send_command_parse_response");
    INTERN(s__close_connection, "_close_connection");
    INTERN(s_set_result, "set_result");
    INTERN(s_set_exception, "set_exception");
    INTERN(s_done, "done");
    INTERN(s_abort, "abort");
    INTERN(s_close, "close");
    INTERN(s_get_write_buffer_size, "get_write_buffer_size");
    INTERN(s_execute_command, "execute_command");
    INTERN(s_internal_execute, "_internal_execute_command");
    INTERN(s_resume_command, "_resume_command");
    INTERN(s_redis_connection, "redis_connection");
    INTERN(s_target_nodes, "target_nodes");
    INTERN(s_nodes_flag, "nodes_flag");
    INTERN(s_get_node_from_slot, "get_node_from_slot");
    INTERN(s_read_load_balancer, "read_load_balancer");
    INTERN(s_get_server_index, "get_server_index");
    INTERN(s_primary_to_idx, "primary_to_idx");
    INTERN(s_start_index, "start_index");
    INTERN(s_name, "name");
    INTERN(s_value, "value");
    INTERN(s_watching, "watching");
    INTERN(s_explicit_transaction, "explicit_transaction");
    INTERN(s_command_stack, "command_stack");
    INTERN(s_append, "append");
    INTERN(s_WATCH, "WATCH");
    INTERN(s_immediate_execute, "immediate_execute_command");
    INTERN(s_pipeline_execute, "pipeline_execute_command");

    if ((exc_mod = PyImport_ImportModule("redis_native.exceptions")) == NULL)
        goto error;
    EXC(RedisError);
    EXC(ConnectionError);
    EXC(TimeoutError);
    EXC(ResponseError);
    EXC(DataError);
    EXC(InvalidResponse);
    EXC(AuthenticationError);
    EXC(MaxConnectionsError);
    EXC(ChildDeadlockedError);
    EXC(ReadOnlyError);
    if ((st->parse_error_reply = PyObject_GetAttrString(exc_mod, "parse_error_reply")) == NULL)
        goto error;
    Py_CLEAR(exc_mod);

    if ((time_mod = PyImport_ImportModule("time")) == NULL)
        goto error;
    if ((st->s_sleep = PyObject_GetAttrString(time_mod, "sleep")) == NULL)
        goto error;
    Py_CLEAR(time_mod);


    if (add_type(module, &rn_reader_type_spec, NULL, &st->ReaderType) < 0)
        goto error;
    if (add_type(module, &rn_connection_type_spec, NULL, &st->ConnectionType) < 0)
        goto error;
    if (add_type(module, &rn_pool_type_spec, NULL, &st->PoolType) < 0)
        goto error;
    if (add_type(module, &rn_client_type_spec, NULL, &st->ClientType) < 0)
        goto error;
    if (add_type(module, &rn_tls_context_type_spec, NULL, &st->TLSContextType) < 0)
        goto error;
    if (add_type(module, &rn_aproto_type_spec, NULL, &st->AsyncProtocolType) < 0)
        goto error;
    if (add_type(module, &rn_slot_table_type_spec, NULL, &st->SlotTableType) < 0)
        goto error;
    if (add_type(module, &rn_cluster_type_spec, NULL, &st->ClusterType) < 0)
        goto error;
    if (add_type(module, &rn_bindable_type_spec, NULL, &st->BindableType) < 0)
        goto error;
    if (init_stand_in(st) < 0)
        goto error;
    {
        PyObject *d = PyDescr_NewMethod(st->ClientType, &rn_pipeline_execute_command_def);
        if (d == NULL || PyModule_AddObject(module, "_pipeline_execute_command", d) < 0) {
            Py_XDECREF(d);
            goto error;
        }
    }
    if (PyModule_AddFunctions(module, rn_callback_methods) < 0)
        goto error;
    if (PyModule_AddFunctions(module, rn_cluster_methods) < 0)
        goto error;
    if (PyModule_AddFunctions(module, rn_cluster_pipe_methods) < 0)
        goto error;
    if (PyModule_AddIntConstant(module, "REDIS_CLUSTER_HASH_SLOTS", RN_CLUSTER_SLOTS) < 0)
        goto error;
    return 0;

error:
    Py_XDECREF(exc_mod);
    Py_XDECREF(time_mod);
    return -1;
}

static int
rn_traverse(PyObject *module, visitproc visit, void *arg)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (st == NULL)
        return 0;
    Py_VISIT(st->ConnectionType);
    Py_VISIT(st->PoolType);
    Py_VISIT(st->ClientType);
    Py_VISIT(st->ReaderType);
    Py_VISIT(st->TLSContextType);
    Py_VISIT(st->AsyncProtocolType);
    Py_VISIT(st->aio_refs);
    Py_VISIT(st->aio_names);
    Py_VISIT(st->connect_refs);
    Py_VISIT(st->connect_names);
    Py_VISIT(st->stock_close);
    Py_VISIT(st->SlotTableType);
    Py_VISIT(st->ClusterType);
    Py_VISIT(st->BindableType);
    Py_VISIT(st->RedisError);
    Py_VISIT(st->ConnectionError);
    Py_VISIT(st->TimeoutError);
    Py_VISIT(st->ResponseError);
    Py_VISIT(st->DataError);
    Py_VISIT(st->InvalidResponse);
    Py_VISIT(st->AuthenticationError);
    Py_VISIT(st->MaxConnectionsError);
    Py_VISIT(st->ChildDeadlockedError);
    Py_VISIT(st->ReadOnlyError);
    Py_VISIT(st->parse_error_reply);
    for (int k = 0; k < RN_KIND_COUNT; k++)
        Py_VISIT(st->covered[k]);
    Py_VISIT(st->builtins);
    Py_VISIT(st->s_sleep);
    return 0;
}

static int
rn_clear(PyObject *module)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (st == NULL)
        return 0;
    Py_CLEAR(st->ConnectionType);
    Py_CLEAR(st->PoolType);
    Py_CLEAR(st->ClientType);
    Py_CLEAR(st->ReaderType);
    Py_CLEAR(st->TLSContextType);
    Py_CLEAR(st->AsyncProtocolType);
    Py_CLEAR(st->aio_refs);
    Py_CLEAR(st->aio_names);
    Py_CLEAR(st->connect_refs);
    Py_CLEAR(st->connect_names);
    Py_CLEAR(st->stock_close);
    Py_CLEAR(st->s_auto_close);
    Py_CLEAR(st->SlotTableType);
    Py_CLEAR(st->ClusterType);
    Py_CLEAR(st->BindableType);
    Py_CLEAR(st->RedisError);
    Py_CLEAR(st->ConnectionError);
    Py_CLEAR(st->TimeoutError);
    Py_CLEAR(st->ResponseError);
    Py_CLEAR(st->DataError);
    Py_CLEAR(st->InvalidResponse);
    Py_CLEAR(st->AuthenticationError);
    Py_CLEAR(st->MaxConnectionsError);
    Py_CLEAR(st->ChildDeadlockedError);
    Py_CLEAR(st->ReadOnlyError);
    Py_CLEAR(st->parse_error_reply);
    for (int k = 0; k < RN_KIND_COUNT; k++)
        Py_CLEAR(st->covered[k]);
    Py_CLEAR(st->builtins);
    Py_CLEAR(st->s_sleep);
    Py_CLEAR(st->s_connect);
    Py_CLEAR(st->s_disconnect);
    Py_CLEAR(st->s_check_health);
    Py_CLEAR(st->s_get_connection);
    Py_CLEAR(st->s_release);
    Py_CLEAR(st->s_make_connection);
    Py_CLEAR(st->s_owns_connection);
    Py_CLEAR(st->s_send_command);
    Py_CLEAR(st->s_read_response);
    Py_CLEAR(st->s_compute);
    Py_CLEAR(st->s_reset);
    Py_CLEAR(st->s_retries);
    Py_CLEAR(st->s_supported_errors);
    Py_CLEAR(st->s_backoff);
    Py_CLEAR(st->s_retry);
    Py_CLEAR(st->s_never_decode);
    Py_CLEAR(st->s__backoff);
    Py_CLEAR(st->s__retries);
    Py_CLEAR(st->s__supported_errors);
    Py_CLEAR(st->s_empty_response);
    Py_CLEAR(st->s_keys);
    Py_CLEAR(st->s_disable_decoding);
    Py_CLEAR(st->s_check_health_kw);
    Py_CLEAR(st->s_utf8);
    Py_CLEAR(st->s_strict);
    Py_CLEAR(st->s_upper);
    Py_CLEAR(st->s_parse_response);
    Py_CLEAR(st->s__execute_command);
    Py_CLEAR(st->s__send_parse);
    Py_CLEAR(st->s__close_connection);
    Py_CLEAR(st->s_set_result);
    Py_CLEAR(st->s_set_exception);
    Py_CLEAR(st->s_done);
    Py_CLEAR(st->s_abort);
    Py_CLEAR(st->s_close);
    Py_CLEAR(st->s_get_write_buffer_size);
    Py_CLEAR(st->s_execute_command);
    Py_CLEAR(st->s_internal_execute);
    Py_CLEAR(st->s_resume_command);
    Py_CLEAR(st->s_redis_connection);
    Py_CLEAR(st->s_target_nodes);
    Py_CLEAR(st->s_nodes_flag);
    Py_CLEAR(st->s_get_node_from_slot);
    Py_CLEAR(st->s_read_load_balancer);
    Py_CLEAR(st->s_get_server_index);
    Py_CLEAR(st->s_primary_to_idx);
    Py_CLEAR(st->s_start_index);
    Py_CLEAR(st->s_name);
    Py_CLEAR(st->s_value);
    Py_CLEAR(st->s_watching);
    Py_CLEAR(st->s_explicit_transaction);
    Py_CLEAR(st->s_command_stack);
    Py_CLEAR(st->s_append);
    Py_CLEAR(st->s_WATCH);
    Py_CLEAR(st->s_immediate_execute);
    Py_CLEAR(st->s_pipeline_execute);
    return 0;
}

static void
rn_free(void *module)
{
    rn_clear((PyObject *)module);
}

static PyModuleDef_Slot rn_slots[] = {
    {Py_mod_exec, rn_exec},
    {0, NULL}
};

static struct PyModuleDef rn_moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "redis_native._native",
    .m_doc = "C core of redis_native: connection, pool, packer, reader, dispatch.",
    .m_size = sizeof(rn_state),
    .m_methods = rn_module_methods,
    .m_slots = rn_slots,
    .m_traverse = rn_traverse,
    .m_clear = rn_clear,
    .m_free = rn_free,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModuleDef_Init(&rn_moduledef);
}
