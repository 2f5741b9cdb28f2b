/* Command dispatch: ClientBase.execute_command.
 *
 * Fast path: when the pool and the connection are instances of exactly the
 * classes redis_native ships (registered with _register_fast_types), the
 * whole command runs in C: pool checkout without a syscall, packing into the
 * connection's buffer, one send()+recv() with the GIL released, the reply built
 * by the hiredis reader callbacks.  Any other class (a user subclass that may
 * override get_connection, send_command, read_response...) is driven through
 * its Python methods, so overrides are honoured.
 *
 * Retry: the connection's Retry object is read through its attributes
 * _retries, _supported_errors and _backoff (redis_native.retry.Retry).  The
 * backoff's reset() runs on the first failure of a command rather than before
 * every command: nothing uses the backoff in between, so the delays are the
 * same and the common path saves a Python call.
 */
#include "client.h"
#include "connection.h"
#include "pool.h"

#include "structmember.h"

/* C may stand in for the pool's or connection's methods (module.h). */
static inline int
pool_is_fast(rn_state *st, PyObject *pool)
{
    return rn_stands_in(st, pool, RN_KIND_POOL);
}

static inline int
conn_is_fast(rn_state *st, PyObject *conn)
{
    return rn_stands_in(st, conn, RN_KIND_CONN);
}

static PyObject *
get_connection(rn_client *self, PyObject *pool)
{
    if (pool_is_fast(self->st, pool))
        return rn_pool_get((rn_pool *)pool);
    return PyObject_CallMethodNoArgs(pool, self->st->s_get_connection);
}

static void
release_connection(rn_client *self, PyObject *pool, PyObject *conn)
{
    if (pool_is_fast(self->st, pool)) {
        rn_pool_release((rn_pool *)pool, conn);
        return;
    }
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    PyObject *r = PyObject_CallMethodOneArg(pool, self->st->s_release, conn);
    if (r == NULL) {
        if (et != NULL)
            PyErr_WriteUnraisable(pool);   /* keep the command's own error */
        else
            return;                        /* report the release failure */
    }
    Py_XDECREF(r);
    PyErr_Restore(et, ev, etb);
}

/* Send through the connection's Python send_command(*args, **options), for
 * connection classes off the fast path.  0 or -1. */
static int
generic_send(rn_state *st, PyObject *conn, PyObject *const *args, Py_ssize_t nargs,
             PyObject *options)
{
    PyObject *argtuple = PyTuple_New(nargs);
    if (argtuple == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < nargs; i++)
        PyTuple_SET_ITEM(argtuple, i, Py_NewRef(args[i]));
    PyObject *send = PyObject_GetAttr(conn, st->s_send_command);
    PyObject *r = send != NULL ? PyObject_Call(send, argtuple, options) : NULL;
    Py_XDECREF(send);
    Py_DECREF(argtuple);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* One attempt through the connection's Python methods (generic path). */
static PyObject *
generic_attempt(rn_state *st, PyObject *conn, PyObject *const *args, Py_ssize_t nargs,
                PyObject *options, int never_decode)
{
    if (generic_send(st, conn, args, nargs, options) < 0)
        return NULL;
    PyObject *read = PyObject_GetAttr(conn, st->s_read_response);
    if (read == NULL)
        return NULL;
    PyObject *r;
    if (never_decode) {
        PyObject *kw = Py_BuildValue("{O:O}", st->s_disable_decoding, Py_True);
        if (kw == NULL) {
            Py_DECREF(read);
            return NULL;
        }
        PyObject *empty = PyTuple_New(0);
        r = empty ? PyObject_Call(read, empty, kw) : NULL;
        Py_XDECREF(empty);
        Py_DECREF(kw);
    }
    else {
        r = PyObject_CallNoArgs(read);
    }
    Py_DECREF(read);
    return r;
}

/* One attempt when the client's parse_response is not redis_native's own:
 * send, then let parse_response(conn, command_name, **options) read the
 * reply and apply callbacks, as redis-py does. */
static PyObject *
custom_parse_attempt(rn_client *self, PyObject *conn, int fast,
                     PyObject *const *args, Py_ssize_t nargs, PyObject *options)
{
    rn_state *st = self->st;
    if (fast ? rn_conn_send((rn_conn *)conn, args, nargs)
             : generic_send(st, conn, args, nargs, options) < 0)
        return NULL;
    /* Bound through the descriptor protocol: parse_response may be a
     * function, a mock, or any callable class attribute. */
    PyObject *bound = PyObject_GetAttr((PyObject *)self, st->s_parse_response);
    if (bound == NULL)
        return NULL;
    PyObject *pargs = PyTuple_Pack(2, conn, args[0]);
    /* a copy: parse_response pops entries, and a retry needs them again */
    PyObject *opts = options != NULL ? PyDict_Copy(options) : NULL;
    PyObject *r = NULL;
    if (pargs != NULL && (options == NULL || opts != NULL))
        r = PyObject_Call(bound, pargs, opts);
    Py_XDECREF(pargs);
    Py_XDECREF(opts);
    Py_DECREF(bound);
    return r;
}

static int
conn_disconnect_any(rn_state *st, PyObject *conn, int fast)
{
    if (fast) {
        rn_conn_close((rn_conn *)conn);
        return 0;
    }
    PyObject *r = PyObject_CallMethodNoArgs(conn, st->s_disconnect);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* After a failed attempt (exception set): decide whether to retry.
 * Returns 1 to retry (exception cleared, backoff slept), 0 to give up
 * (exception still set). */
static int
should_retry(rn_state *st, PyObject *conn, int fast, PyObject *retry, int *failures)
{
    if (retry == NULL || retry == Py_None)
        return 0;
    /* Take the error out first: no Python API may run with it pending. */
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    PyObject *supported = PyObject_GetAttr(retry, st->s_supported_errors);
    if (supported == NULL) {
        PyErr_Clear();
        PyErr_Restore(et, ev, etb);
        return 0;
    }
    int match = PyErr_GivenExceptionMatches(et, supported);
    Py_DECREF(supported);
    if (!match) {
        PyErr_Restore(et, ev, etb);
        return 0;
    }

    (*failures)++;
    if (conn_disconnect_any(st, conn, fast) < 0)
        goto fail_new_error;

    PyObject *retries_obj = PyObject_GetAttr(retry, st->s_retries);
    if (retries_obj == NULL)
        goto fail_new_error;
    long retries = PyLong_AsLong(retries_obj);
    Py_DECREF(retries_obj);
    if (retries == -1 && PyErr_Occurred())
        goto fail_new_error;
    if (retries >= 0 && *failures > retries) {
        PyErr_Restore(et, ev, etb);
        return 0;
    }

    PyObject *backoff = PyObject_GetAttr(retry, st->s_backoff);
    if (backoff == NULL)
        goto fail_new_error;
    if (*failures == 1) {
        PyObject *r = PyObject_CallMethodNoArgs(backoff, st->s_reset);
        if (r == NULL) {
            Py_DECREF(backoff);
            goto fail_new_error;
        }
        Py_DECREF(r);
    }
    PyObject *n = PyLong_FromLong(*failures);
    PyObject *delay = n ? PyObject_CallMethodOneArg(backoff, st->s_compute, n) : NULL;
    Py_XDECREF(n);
    Py_DECREF(backoff);
    if (delay == NULL)
        goto fail_new_error;
    double seconds = PyFloat_AsDouble(delay);
    if (seconds == -1 && PyErr_Occurred()) {
        Py_DECREF(delay);
        goto fail_new_error;
    }
    if (seconds > 0) {
        PyObject *r = PyObject_CallOneArg(st->s_sleep, delay);   /* releases the GIL */
        if (r == NULL) {
            Py_DECREF(delay);
            goto fail_new_error;
        }
        Py_DECREF(r);
    }
    Py_DECREF(delay);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(etb);
    return 1;

fail_new_error:
    /* a failure inside the retry machinery (or KeyboardInterrupt during the
     * sleep) replaces the original error, chained to it */
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(etb);
    return 0;
}

/* Could str.upper() change `name`?  Command methods pass upper-case names,
 * so for a command without a callback (GET, LRANGE...) this spares an
 * upper() call and a second lookup on every call. */
static int
may_have_lower(PyObject *name)
{
    if (!PyUnicode_IS_ASCII(name))
        return 1;
    const char *p = (const char *)PyUnicode_DATA(name);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(name); i < n; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            return 1;
    return 0;
}

static PyObject *
lookup_callback(rn_client *self, PyObject *name)
{
    PyObject *cbs = self->response_callbacks;
    if (cbs == NULL || cbs == Py_None)
        return NULL;
    if (PyDict_Check(cbs)) {
        PyObject *cb = PyDict_GetItemWithError(cbs, name);   /* borrowed */
        if (cb != NULL || PyErr_Occurred())
            return Py_XNewRef(cb);
        if (!PyUnicode_Check(name) || !may_have_lower(name))
            return NULL;          /* already upper-case: the miss is final */
        PyObject *upper = PyObject_CallMethodNoArgs(name, self->st->s_upper);
        if (upper == NULL)
            return NULL;
        cb = PyDict_GetItemWithError(cbs, upper);
        Py_DECREF(upper);
        return Py_XNewRef(cb);
    }
    int has = PySequence_Contains(cbs, name);
    if (has <= 0)
        return NULL;
    return PyObject_GetItem(cbs, name);
}

/* {name: value} of vectorcall keywords; new reference or NULL. */
static PyObject *
kwargs_dict(PyObject *kwnames, PyObject *const *values)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        if (PyDict_SetItem(d, PyTuple_GET_ITEM(kwnames, i), values[i]) < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

/* execute_command(*args, **options) */
static PyObject *
client_execute_command(rn_client *self, PyObject *const *args, size_t nargsf,
                       PyObject *kwnames)
{
    rn_state *st = self->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *options = NULL;        /* every keyword, for send_command (generic) */
    PyObject *cb_kwargs = NULL;      /* keywords meant for the callback */
    PyObject *empty_response = NULL; /* borrowed */
    int never_decode = 0;
    PyObject *conn = NULL, *pool = NULL, *reply = NULL, *result = NULL;
    int locked = 0;

    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "execute_command() needs a command name");
        return NULL;
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i), *v = args[nargs + i];
        /* keyword names from Python calls are interned: identity first */
        if (k == st->s_keys || PyUnicode_Compare(k, st->s_keys) == 0)
            continue;                 /* only for client-side caching */
        if (k == st->s_never_decode || PyUnicode_Compare(k, st->s_never_decode) == 0) {
            never_decode = 1;
            continue;
        }
        if (k == st->s_empty_response || PyUnicode_Compare(k, st->s_empty_response) == 0) {
            empty_response = v;
            continue;
        }
        if (cb_kwargs == NULL && (cb_kwargs = PyDict_New()) == NULL)
            goto done;
        if (PyDict_SetItem(cb_kwargs, k, v) < 0)
            goto done;
    }

    if (self->connection != NULL && self->connection != Py_None) {
        conn = Py_NewRef(self->connection);
        if (!PyThread_acquire_lock(self->single_lock, NOWAIT_LOCK)) {
            Py_BEGIN_ALLOW_THREADS
            PyThread_acquire_lock(self->single_lock, WAIT_LOCK);
            Py_END_ALLOW_THREADS
        }
        locked = 1;
    }
    else {
        pool = Py_XNewRef(self->connection_pool);
        if (pool == NULL || pool == Py_None) {
            PyErr_SetString(st->ConnectionError, "client has no connection pool");
            goto done;
        }
        conn = get_connection(self, pool);
        if (conn == NULL)
            goto done;
    }

    int fast = conn_is_fast(st, conn);
    /* parse_response replaced anywhere Python would look: read through it */
    int custom_parse = !rn_stands_in(st, (PyObject *)self, RN_KIND_CLIENT);
    PyObject *retry = NULL;
    if (fast)
        retry = Py_NewRef(((rn_conn *)conn)->retry);
    else {
        retry = PyObject_GetAttr(conn, st->s_retry);
        if (retry == NULL)
            PyErr_Clear();
    }
    /* send_command(**options) / parse_response(**options) see every keyword;
     * the C path does not need the dict.  On failure no attempt runs and the
     * connection goes back below with the error set. */
    int failures = 0;
    if (nkw > 0 && (!fast || custom_parse) &&
        (options = kwargs_dict(kwnames, args + nargs)) == NULL)
        reply = NULL;
    else for (;;) {
        if (custom_parse) {
            reply = custom_parse_attempt(self, conn, fast, args, nargs, options);
        }
        else if (fast) {
            rn_conn *c = (rn_conn *)conn;
            reply = rn_conn_command(c, args, nargs, c->decode_responses && !never_decode);
        }
        else {
            reply = generic_attempt(st, conn, args, nargs, options, never_decode);
        }
        if (reply != NULL || !should_retry(st, conn, fast, retry, &failures))
            break;
    }
    Py_XDECREF(retry);

    if (locked) {
        PyThread_release_lock(self->single_lock);
        locked = 0;
    }
    if (pool != NULL)
        release_connection(self, pool, conn);

    if (reply != NULL && custom_parse) {
        result = reply;          /* parse_response applied the callbacks */
        reply = NULL;
        goto done;
    }
    if (reply == NULL) {
        if (empty_response != NULL && !custom_parse &&
            PyErr_ExceptionMatches(st->ResponseError)) {
            PyErr_Clear();
            result = Py_NewRef(empty_response);
        }
        goto done;
    }

    PyObject *cb = lookup_callback(self, args[0]);
    if (cb == NULL) {
        if (PyErr_Occurred())
            goto done;
        result = reply;
        reply = NULL;
        goto done;
    }
    if (cb_kwargs == NULL) {
        result = PyObject_CallOneArg(cb, reply);
    }
    else {
        PyObject *t = PyTuple_Pack(1, reply);
        if (t != NULL)
            result = PyObject_Call(cb, t, cb_kwargs);
        Py_XDECREF(t);
    }
    Py_DECREF(cb);

done:
    if (locked)
        PyThread_release_lock(self->single_lock);
    Py_XDECREF(reply);
    Py_XDECREF(conn);
    Py_XDECREF(pool);
    Py_XDECREF(options);
    Py_XDECREF(cb_kwargs);
    return result;
}

/* ---------------- type ---------------- */

static PyObject *
client_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    rn_client *self = (rn_client *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->module = Py_NewRef(rn_module_from_type(type));
    self->st = st;
    self->connection_pool = Py_NewRef(Py_None);
    self->connection = Py_NewRef(Py_None);
    self->response_callbacks = PyDict_New();
    self->single_lock = PyThread_allocate_lock();
    if (self->response_callbacks == NULL || self->single_lock == NULL) {
        if (self->single_lock == NULL)
            PyErr_NoMemory();
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
client_traverse(rn_client *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->connection_pool);
    Py_VISIT(self->connection);
    Py_VISIT(self->response_callbacks);
    return 0;
}

static int
client_clear(rn_client *self)
{
    Py_CLEAR(self->connection_pool);
    Py_CLEAR(self->connection);
    Py_CLEAR(self->response_callbacks);
    return 0;
}

static void
client_dealloc(rn_client *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    client_clear(self);
    if (self->single_lock != NULL)
        PyThread_free_lock(self->single_lock);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef client_methods[] = {
    {"execute_command", (PyCFunction)(void (*)(void))client_execute_command,
     METH_FASTCALL | METH_KEYWORDS,
     "execute_command(self, *args, **options)\n--\n\nSend one command and return its reply, "
     "after the response callback registered for args[0]."},
    {NULL, NULL, 0, NULL}
};

static PyMemberDef client_members[] = {
    {"connection_pool", T_OBJECT, offsetof(rn_client, connection_pool), 0, NULL},
    {"connection", T_OBJECT, offsetof(rn_client, connection), 0, NULL},
    {"response_callbacks", T_OBJECT, offsetof(rn_client, response_callbacks), 0, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_client, weakreflist), READONLY, NULL},
    {"_overridden", T_INT, offsetof(rn_client, overridden), READONLY,
     "an instance attribute replaces a method: dispatch goes through Python"},
    {NULL, 0, 0, 0, NULL}
};

static int
client_setattro(rn_client *self, PyObject *name, PyObject *value)
{
    return rn_setattro_tracking((PyObject *)self, name, value, &self->overridden,
                                RN_KIND_CLIENT);
}

static PyType_Slot client_slots[] = {
    {Py_tp_setattro, client_setattro},
    {Py_tp_new, client_new},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_methods, client_methods},
    {Py_tp_members, client_members},
    {Py_tp_doc, "C base of redis_native.Redis: command dispatch."},
    {0, NULL}
};

PyType_Spec rn_client_type_spec = {
    .name = "redis_native._native.ClientBase",
    .basicsize = sizeof(rn_client),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = client_slots,
};
