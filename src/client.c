/* Command dispatch: ClientBase.execute_command.
 *
 * One command is: parse the keyword options (cmd_parse), take a connection
 * (checkout: the client's own under its reentrant lock, or one from the
 * pool), run attempts until one succeeds or the connection's Retry gives up
 * (run_with_retry; an attempt is send + read + response callback, as redis-py
 * retries its whole _send_command_parse_response), then give the connection
 * back (release_connection).
 *
 * C stands in for the pool's, the connection's and the client's Python
 * methods only under the stand-in rule (module.h): rn_pool_get/rn_pool_release
 * for get_connection/release, rn_conn_command for send_command+read_response,
 * the C read + callback for parse_response.  Otherwise those methods are
 * called, so overrides, patches and test doubles are honoured.
 *
 * Exceptions from anything Python (a pool's release(), a callback, a
 * parse_response override, the backoff, time.sleep) propagate unchanged.
 * When one is raised while the command's own error is in flight (release in
 * redis-py's `finally:`, the retry machinery in its `except` clause), the new
 * one wins and carries the command's error as __context__, as in Python.
 *
 * Retry: the connection's Retry object is read through its attributes
 * _retries, _supported_errors and _backoff (redis_native.retry.Retry), at the
 * first failure of a command.  The backoff's reset() runs on that first
 * failure rather than before every command: nothing uses the backoff in
 * between, so the delays are the same and the common path saves a call.
 */
#include "client.h"
#include "connection.h"
#include "pool.h"

#include <limits.h>
#include <string.h>
#include "structmember.h"

/* "'X' object has no attribute 'name'", as for a deleted plain attribute. */
static void
no_attr(PyObject *self, const char *name)
{
    PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                 Py_TYPE(self)->tp_name, name);
}

/* ---------------- the single-connection lock (client.h) ----------------
 * The lock's state is guarded by the GIL; a thread that finds it taken waits
 * on the rn_wake token (module.h) with the GIL released. */

static int
rlock_init(rn_rlock *l)
{
    if (rn_wake_init(&l->wake) < 0)
        return -1;
    l->fork_gen = rn_fork_generation();
    return 0;
}

static void
rlock_free(rn_rlock *l)
{
    rn_wake_free(&l->wake);
}

/* In a forked child only the forking thread exists: a lock held or waited
 * for by another thread of the parent would never be released. */
static int
rlock_after_fork(rn_rlock *l, unsigned long me)
{
    if (rn_wake_init(&l->wake) < 0)
        return -1;
    if (l->owner != me) {           /* held by a thread that is gone */
        l->owner = 0;
        l->count = 0;
    }
    l->fork_gen = rn_fork_generation();
    return 0;
}

/* Take the lock (GIL held), re-entering it if this thread holds it.  0, or -1
 * with an exception set: a signal handler raised while this thread waited. */
static int
rlock_acquire(rn_rlock *l)
{
    unsigned long me = PyThread_get_thread_ident();
    if (l->fork_gen != rn_fork_generation() && rlock_after_fork(l, me) < 0)
        return -1;
    if (l->count > 0 && l->owner == me) {
        if (l->count == LONG_MAX) {
            PyErr_SetString(PyExc_OverflowError, "single connection lock re-entered too often");
            return -1;
        }
        l->count++;
        return 0;
    }
    while (l->count > 0) {
        if (rn_wake_wait(&l->wake, -1) != PY_LOCK_ACQUIRED
                && PyErr_CheckSignals() < 0)     /* interrupted: run the handlers */
            return -1;
    }
    l->owner = me;
    l->count = 1;
    return 0;
}

static void
rlock_release(rn_rlock *l)
{
    if (l->count <= 0 || --l->count > 0)
        return;
    l->owner = 0;
    rn_wake_post(&l->wake);
}

/* ---------------- one command's arguments ---------------- */

typedef struct rn_cmd {
    PyObject *const *args;         /* args[0] is the command name */
    Py_ssize_t nargs;
    PyObject *kwnames;             /* vectorcall keyword names, NULL if none */
    PyObject *options;             /* every keyword as a dict, built on demand */
    PyObject *cb_kwargs;           /* keywords for the response callback, or NULL */
    PyObject *empty_response;      /* borrowed: EMPTY_RESPONSE's value, or NULL */
    int never_decode;
} rn_cmd;

static inline int
is_name(PyObject *k, PyObject *interned)
{
    /* keyword names from Python calls are interned: identity first */
    return k == interned || PyUnicode_Compare(k, interned) == 0;
}

/* The option-parsing step.  0, or -1 with an exception set. */
static int
cmd_parse(rn_state *st, rn_cmd *cmd, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    memset(cmd, 0, sizeof *cmd);
    cmd->args = args;
    cmd->nargs = PyVectorcall_NARGS(nargsf);
    if (cmd->nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "execute_command() needs a command name");
        return -1;
    }
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nkw == 0)
        return 0;
    cmd->kwnames = kwnames;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i), *v = args[cmd->nargs + i];
        if (is_name(k, st->s_keys))
            continue;                 /* only for client-side caching */
        if (is_name(k, st->s_never_decode)) {
            cmd->never_decode = 1;
            continue;
        }
        if (is_name(k, st->s_empty_response)) {
            cmd->empty_response = v;
            continue;
        }
        if (cmd->cb_kwargs == NULL && (cmd->cb_kwargs = PyDict_New()) == NULL)
            return -1;
        if (PyDict_SetItem(cmd->cb_kwargs, k, v) < 0)
            return -1;
    }
    return 0;
}

static void
cmd_clear(rn_cmd *cmd)
{
    Py_CLEAR(cmd->options);
    Py_CLEAR(cmd->cb_kwargs);
}

/* Every keyword as a dict, for a connection's Python
 * send_command(**options): *out is borrowed, NULL without keywords.  The C
 * path never needs it.  0, or -1 with an exception set. */
static int
cmd_options(rn_cmd *cmd, PyObject **out)
{
    *out = NULL;
    if (cmd->kwnames == NULL)
        return 0;
    if (cmd->options == NULL) {
        PyObject *d = PyDict_New();
        if (d == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(cmd->kwnames); i++) {
            if (PyDict_SetItem(d, PyTuple_GET_ITEM(cmd->kwnames, i), cmd->args[cmd->nargs + i]) < 0) {
                Py_DECREF(d);
                return -1;
            }
        }
        cmd->options = d;
    }
    *out = cmd->options;
    return 0;
}

/* ---------------- the callback step ---------------- */

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

/* response_callbacks' entry for `name`: *cb is a new reference, or NULL when
 * there is none.  As redis-py's `name in callbacks` and `callbacks[name]`:
 * a deleted attribute is AttributeError, a non-container TypeError.
 * 0, or -1 with an exception set. */
static int
lookup_callback(rn_client *self, PyObject *name, PyObject **cb)
{
    *cb = NULL;
    if (self->response_callbacks == NULL) {
        no_attr((PyObject *)self, "response_callbacks");
        return -1;
    }
    /* held: a user __contains__/__eq__ may replace the attribute */
    PyObject *cbs = Py_NewRef(self->response_callbacks);
    int rc = 0;
    if (PyDict_Check(cbs)) {
        PyObject *found = PyDict_GetItemWithError(cbs, name);   /* borrowed */
        if (found == NULL && !PyErr_Occurred() && PyUnicode_Check(name) &&
            may_have_lower(name)) {
            PyObject *upper = PyObject_CallMethodNoArgs(name, self->st->s_upper);
            if (upper != NULL) {
                found = PyDict_GetItemWithError(cbs, upper);
                Py_DECREF(upper);
            }
        }
        *cb = Py_XNewRef(found);
        rc = PyErr_Occurred() ? -1 : 0;
    }
    else {
        int has = PySequence_Contains(cbs, name);
        if (has < 0)
            rc = -1;
        else if (has > 0 && (*cb = PyObject_GetItem(cbs, name)) == NULL)
            rc = -1;
    }
    Py_DECREF(cbs);
    if (rc < 0)
        Py_CLEAR(*cb);
    return rc;
}

/* response_callbacks[args[0]](reply, **options), or the reply itself when no
 * callback is registered.  Steals `reply`. */
static PyObject *
apply_callback(rn_client *self, const rn_cmd *cmd, PyObject *reply)
{
    PyObject *cb, *result = NULL;
    if (lookup_callback(self, cmd->args[0], &cb) < 0) {
        Py_DECREF(reply);
        return NULL;
    }
    if (cb == NULL)
        return reply;
    if (cmd->cb_kwargs == NULL) {
        result = PyObject_CallOneArg(cb, reply);
    }
    else {
        PyObject *t = PyTuple_Pack(1, reply);
        if (t != NULL)
            result = PyObject_Call(cb, t, cmd->cb_kwargs);
        Py_XDECREF(t);
    }
    Py_DECREF(cb);
    Py_DECREF(reply);
    return result;
}

/* ---------------- one attempt ---------------- */

static inline int
pool_is_fast(rn_state *st, PyObject *pool)
{
    return rn_stands_in(st, pool, RN_KIND_POOL);
}

/* The read failed (exception set): with EMPTY_RESPONSE, an error reply
 * becomes that value (no callback), as in redis-py's parse_response. */
static PyObject *
read_failed(rn_state *st, const rn_cmd *cmd)
{
    if (cmd->empty_response != NULL && PyErr_ExceptionMatches(st->ResponseError)) {
        PyErr_Clear();
        return Py_NewRef(cmd->empty_response);
    }
    return NULL;
}

/* Send through the connection's Python send_command(*args, **options), for
 * connection classes C does not stand in for.  0 or -1. */
static int
generic_send(rn_state *st, PyObject *conn, rn_cmd *cmd)
{
    PyObject *options;
    if (cmd_options(cmd, &options) < 0)
        return -1;
    PyObject *argtuple = PyTuple_New(cmd->nargs);
    if (argtuple == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < cmd->nargs; i++)
        PyTuple_SET_ITEM(argtuple, i, Py_NewRef(cmd->args[i]));
    PyObject *send = PyObject_GetAttr(conn, st->s_send_command);
    PyObject *r = send != NULL ? PyObject_Call(send, argtuple, options) : NULL;
    Py_XDECREF(send);
    Py_DECREF(argtuple);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Send and read through the connection's Python methods.  The raw reply, or
 * NULL. */
static PyObject *
generic_send_read(rn_state *st, PyObject *conn, rn_cmd *cmd)
{
    if (generic_send(st, conn, cmd) < 0)
        return NULL;
    PyObject *read = PyObject_GetAttr(conn, st->s_read_response);
    if (read == NULL)
        return NULL;
    PyObject *r;
    if (cmd->never_decode) {
        PyObject *kw = Py_BuildValue("{O:O}", st->s_disable_decoding, Py_True);
        PyObject *empty = kw != NULL ? PyTuple_New(0) : NULL;
        r = empty != NULL ? PyObject_Call(read, empty, kw) : NULL;
        Py_XDECREF(empty);
        Py_XDECREF(kw);
    }
    else {
        r = PyObject_CallNoArgs(read);
    }
    Py_DECREF(read);
    return r;
}

/* One attempt when one of the client's per-command steps is not
 * redis_native's own (parse_response, _send_command_parse_response or
 * _close_connection replaced): self._send_command_parse_response(conn,
 * command_name, *args, **options), as redis-py's retried unit.  Its base
 * version (client.py) sends with conn.send_command and reads through
 * self.parse_response. */
static PyObject *
hooked_attempt(rn_client *self, PyObject *conn, rn_cmd *cmd)
{
    Py_ssize_t nkw = cmd->kwnames != NULL ? PyTuple_GET_SIZE(cmd->kwnames) : 0;
    Py_ssize_t total = 3 + cmd->nargs + nkw;
    PyObject **stack = PyMem_New(PyObject *, total);
    if (stack == NULL)
        return PyErr_NoMemory();
    stack[0] = (PyObject *)self;
    stack[1] = conn;
    stack[2] = cmd->args[0];
    for (Py_ssize_t i = 0; i < cmd->nargs + nkw; i++)
        stack[3 + i] = cmd->args[i];
    /* keyword values travel as vectorcall keywords: the callee gets a new
     * dict per attempt, so what it pops is back for a retry */
    PyObject *r = PyObject_VectorcallMethod(self->st->s__send_parse, stack,
                                            (size_t)(3 + cmd->nargs), cmd->kwnames);
    PyMem_Free(stack);
    return r;
}

/* One attempt: send, read, apply the response callback.  New reference or
 * NULL. */
static PyObject *
attempt(rn_client *self, PyObject *conn, int fast, int hooked, rn_cmd *cmd)
{
    PyObject *reply;
    if (hooked)
        return hooked_attempt(self, conn, cmd);
    if (fast) {
        rn_conn *c = (rn_conn *)conn;
        reply = rn_conn_command(c, cmd->args, cmd->nargs, c->decode_responses && !cmd->never_decode);
    }
    else {
        reply = generic_send_read(self->st, conn, cmd);
    }
    if (reply == NULL)
        return read_failed(self->st, cmd);   /* EMPTY_RESPONSE: no callback */
    return apply_callback(self, cmd, reply);
}

/* ---------------- the retry loop ---------------- */

/* The connection's Retry (new reference); None when it has none. */
static PyObject *
conn_retry(rn_state *st, PyObject *conn, int fast)
{
    if (fast) {
        PyObject *r = ((rn_conn *)conn)->retry;
        return Py_NewRef(r != NULL ? r : Py_None);
    }
    PyObject *r = PyObject_GetAttr(conn, st->s_retry);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();              /* a test double without one: no retries */
        r = Py_NewRef(Py_None);
    }
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

/* 1 when `retries >= 0 and failures > retries`, 0 if not, -1 on error. */
static int
retries_exhausted(PyObject *retries, int failures)
{
    if (PyLong_CheckExact(retries)) {
        int overflow;
        long n = PyLong_AsLongAndOverflow(retries, &overflow);
        if (overflow == 0 && !(n == -1 && PyErr_Occurred()))
            return n >= 0 && failures > n;
        if (overflow != 0)
            return 0;                   /* huge (never exhausted) or hugely negative */
        return -1;
    }
    PyObject *zero = PyLong_FromLong(0), *count = PyLong_FromLong(failures);
    int rc = -1;
    if (zero != NULL && count != NULL) {
        rc = PyObject_RichCompareBool(retries, zero, Py_GE);
        if (rc > 0)
            rc = PyObject_RichCompareBool(count, retries, Py_GT);
    }
    Py_XDECREF(zero);
    Py_XDECREF(count);
    return rc;
}

/* After a failed attempt (exception set): decide whether to retry, as
 * redis-py's Retry.call_with_retry does.  1: retry (the error is cleared, the
 * connection disconnected, the backoff slept).  0: give up, with either the
 * attempt's error or, if the retry machinery itself raised (a failing
 * disconnect, backoff or Retry attribute, KeyboardInterrupt in the sleep),
 * that error with the attempt's as __context__. */
static int
should_retry(rn_state *st, PyObject *conn, int fast, PyObject **retry, int *failures,
             PyObject *client, PyObject *command_name);

int
rn_should_retry(rn_state *st, PyObject *conn, int fast, PyObject **retry, int *failures)
{
    return should_retry(st, conn, fast, retry, failures, NULL, NULL);
}

/* client._close_connection(conn, error, failure_count, None, command_name):
 * what a client whose steps are replaced does between attempts (the
 * start time, redis-py's metrics input, is not kept).  0 or -1. */
static int
close_through_client(rn_state *st, PyObject *client, PyObject *conn, PyObject *err,
                     int failures, PyObject *command_name)
{
    PyObject *count = PyLong_FromLong(failures);
    if (count == NULL)
        return -1;
    PyObject *stack[6] = {client, conn, err != NULL ? err : Py_None, count, Py_None,
                          command_name};
    PyObject *r = PyObject_VectorcallMethod(st->s__close_connection, stack, 6, NULL);
    Py_DECREF(count);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* rn_should_retry; with `client` set, the disconnect between attempts is
 * client._close_connection(...) instead. */
static int
should_retry(rn_state *st, PyObject *conn, int fast, PyObject **retry, int *failures,
             PyObject *client, PyObject *command_name)
{
    PyObject *err = rn_err_take();   /* no Python API may run with it pending */
    PyObject *supported = NULL, *backoff = NULL, *delay = NULL;

    if (*retry == NULL && (*retry = conn_retry(st, conn, fast)) == NULL)
        goto failed;
    if (*retry == Py_None)
        goto give_up;
    if ((supported = PyObject_GetAttr(*retry, st->s_supported_errors)) == NULL)
        goto failed;
    if (!PyErr_GivenExceptionMatches(err, supported))
        goto give_up;

    (*failures)++;
    if (client != NULL ? close_through_client(st, client, conn, err, *failures, command_name) < 0
                       : conn_disconnect_any(st, conn, fast) < 0)
        goto failed;

    /* `retries >= 0 and failures > retries`, compared as Python does */
    PyObject *retries = PyObject_GetAttr(*retry, st->s_retries);
    if (retries == NULL)
        goto failed;
    int exhausted = retries_exhausted(retries, *failures);
    Py_DECREF(retries);
    if (exhausted < 0)
        goto failed;
    if (exhausted)
        goto give_up;

    if ((backoff = PyObject_GetAttr(*retry, st->s_backoff)) == NULL)
        goto failed;
    if (*failures == 1) {
        PyObject *r = PyObject_CallMethodNoArgs(backoff, st->s_reset);
        if (r == NULL)
            goto failed;
        Py_DECREF(r);
    }
    PyObject *n = PyLong_FromLong(*failures);
    if (n == NULL)
        goto failed;
    delay = PyObject_CallMethodOneArg(backoff, st->s_compute, n);
    Py_DECREF(n);
    if (delay == NULL)
        goto failed;
    double seconds = PyFloat_AsDouble(delay);
    if (seconds == -1 && PyErr_Occurred())
        goto failed;
    if (seconds > 0) {
        PyObject *r = PyObject_CallOneArg(st->s_sleep, delay);   /* releases the GIL */
        if (r == NULL)
            goto failed;
        Py_DECREF(r);
    }
    Py_XDECREF(supported);
    Py_XDECREF(backoff);
    Py_XDECREF(delay);
    Py_XDECREF(err);
    return 1;

give_up:
    Py_XDECREF(supported);
    Py_XDECREF(backoff);
    Py_XDECREF(delay);
    rn_err_give(err);
    return 0;

failed:
    Py_XDECREF(supported);
    Py_XDECREF(backoff);
    Py_XDECREF(delay);
    rn_err_chain(err);
    return 0;
}

/* Attempts until one succeeds or the retry policy gives up.  The result, or
 * NULL with the error to report. */
static PyObject *
run_with_retry(rn_client *self, PyObject *conn, int fast, int hooked, rn_cmd *cmd)
{
    PyObject *retry = NULL;          /* read at the first failure */
    int failures = 0;
    PyObject *result;
    for (;;) {
        result = attempt(self, conn, fast, hooked, cmd);
        if (result != NULL ||
            !should_retry(self->st, conn, fast, &retry, &failures,
                          hooked ? (PyObject *)self : NULL, cmd->args[0]))
            break;
    }
    Py_XDECREF(retry);
    return result;
}

/* ---------------- taking and giving back the connection ---------------- */

/* The connection for one command: the client's own (single_connection_client)
 * under its lock (*locked set), or one from the pool (*pool set: give it back
 * with release_connection).  As in redis-py, connection_pool is read first
 * and `connection or pool.get_connection()` decides.  0, or -1 with an
 * exception set. */
static int
checkout(rn_client *self, PyObject **pool, PyObject **conn, int *locked)
{
    rn_state *st = self->st;
    if (self->connection_pool == NULL) {
        no_attr((PyObject *)self, "connection_pool");
        return -1;
    }
    if (self->connection == NULL) {
        no_attr((PyObject *)self, "connection");
        return -1;
    }
    if (self->connection != Py_None) {
        PyObject *own = Py_NewRef(self->connection);
        int use = PyObject_TypeCheck(own, st->ConnectionType) ? 1 : PyObject_IsTrue(own);
        if (use > 0 && rlock_acquire(&self->single_lock) == 0) {
            *locked = 1;
            *conn = own;
            return 0;
        }
        Py_DECREF(own);
        if (use != 0)
            return -1;                /* __bool__ failed, or interrupted while waiting */
        if (self->connection_pool == NULL) {    /* __bool__ is Python */
            no_attr((PyObject *)self, "connection_pool");
            return -1;
        }
    }
    PyObject *p = Py_NewRef(self->connection_pool);
    PyObject *c = pool_is_fast(st, p) ? rn_pool_get((rn_pool *)p)
                                      : PyObject_CallMethodNoArgs(p, st->s_get_connection);
    if (c == NULL) {
        Py_DECREF(p);
        return -1;
    }
    *pool = p;
    *conn = c;
    return 0;
}

/* Give the connection back, as redis-py's `finally: pool.release(conn)`: the
 * command's error (if any) stays in flight unless release raises; then the
 * release error propagates with the command's as its __context__.  0, or -1
 * when release itself failed (its exception set). */
static int
release_connection(rn_client *self, PyObject *pool, PyObject *conn)
{
    PyObject *err = rn_err_take();
    int rc;
    if (pool_is_fast(self->st, pool)) {
        rc = rn_pool_release((rn_pool *)pool, conn);
    }
    else {
        PyObject *r = PyObject_CallMethodOneArg(pool, self->st->s_release, conn);
        rc = r != NULL ? 0 : -1;
        Py_XDECREF(r);
    }
    if (rc < 0) {
        rn_err_chain(err);
        return -1;
    }
    rn_err_give(err);
    return 0;
}

/* One command: take a connection, run the attempts, give it back.
 * `hooked`: the client's per-command steps are not all redis_native's own,
 * so each attempt is self._send_command_parse_response(...) and the
 * disconnect between attempts self._close_connection(...). */
static PyObject *
execute_core(rn_client *self, PyObject *const *args, size_t nargsf, PyObject *kwnames,
             int hooked)
{
    rn_state *st = self->st;
    rn_cmd cmd;
    PyObject *pool = NULL, *conn = NULL, *result = NULL;
    int locked = 0;

    if (cmd_parse(st, &cmd, args, nargsf, kwnames) < 0)
        goto done;
    if (checkout(self, &pool, &conn, &locked) < 0)
        goto done;

    int fast = rn_stands_in(st, conn, RN_KIND_CONN);
    result = run_with_retry(self, conn, fast, hooked, &cmd);

    if (locked) {
        rlock_release(&self->single_lock);
        locked = 0;
    }
    if (pool != NULL && release_connection(self, pool, conn) < 0)
        Py_CLEAR(result);

done:
    if (locked)
        rlock_release(&self->single_lock);
    Py_XDECREF(conn);
    Py_XDECREF(pool);
    cmd_clear(&cmd);
    return result;
}

static PyObject *call_method_with(PyObject *self, PyObject *name, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames);

/* execute_command(*args, **options): redis-py's execute_command calls
 * self._execute_command, which sends through _send_command_parse_response,
 * reads through parse_response and closes through _close_connection.  While
 * none of them is replaced (the stand-in rule) C does all of that itself;
 * otherwise the chain runs through Python's lookups, from _execute_command. */
static PyObject *
client_execute_command(rn_client *self, PyObject *const *args, size_t nargsf,
                       PyObject *kwnames)
{
    if (rn_stands_in(self->st, (PyObject *)self, RN_KIND_CLIENT))
        return execute_core(self, args, nargsf, kwnames, 0);
    return call_method_with((PyObject *)self, self->st->s__execute_command, args,
                            PyVectorcall_NARGS(nargsf), kwnames);
}

/* _execute_command(*args, **options): the command with its steps looked up
 * on the client (what a replacement's super()._execute_command() reaches). */
static PyObject *
client__execute_command(rn_client *self, PyObject *const *args, size_t nargsf,
                        PyObject *kwnames)
{
    return execute_core(self, args, nargsf, kwnames,
                        !rn_stands_in(self->st, (PyObject *)self, RN_KIND_CLIENT));
}

/* ---------------- Pipeline.execute_command ----------------
 *
 * Installed as redis_native.client.Pipeline.execute_command (a method
 * descriptor of ClientBase, _native._pipeline_execute_command), it does what
 * this Python would do, step for step:
 *
 *     if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
 *         return self.immediate_execute_command(*args, **kwargs)
 *     return self.pipeline_execute_command(*args, **kwargs)
 *
 * except that while pipeline_execute_command is redis_native's own (the
 * stand-in rule, kind RN_KIND_PIPELINE) it does that method's work itself:
 * self.command_stack.append((args, options)); return self.  The attributes
 * are read with ordinary attribute lookups, so properties, deleted
 * attributes and a command_stack that is not a list behave as in Python.
 * It never looks into the arguments beyond args[0] == "WATCH": they are
 * packed at execute(). */

/* self.<name>(*args, **kwnames), args being the vectorcall arguments. */
static PyObject *
call_method_with(PyObject *self, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
                 PyObject *kwnames)
{
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *small[9], **stack = small;
    if (nargs + nkw + 1 > (Py_ssize_t)(sizeof small / sizeof small[0])) {
        stack = PyMem_New(PyObject *, nargs + nkw + 1);
        if (stack == NULL)
            return PyErr_NoMemory();
    }
    stack[0] = self;
    for (Py_ssize_t i = 0; i < nargs + nkw; i++)
        stack[i + 1] = args[i];
    PyObject *r = PyObject_VectorcallMethod(name, stack, (size_t)(nargs + 1), kwnames);
    if (stack != small)
        PyMem_Free(stack);
    return r;
}

/* The truth of self.<name>: 1, 0, or -1 with an exception set. */
static int
attr_true(PyObject *self, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(self, name);
    if (v == NULL)
        return -1;
    int r = v == Py_False ? 0 : v == Py_True ? 1 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* args[0] == "WATCH", as Python evaluates it: 1, 0, or -1. */
static int
is_watch(rn_state *st, PyObject *name)
{
    if (name == st->s_WATCH)
        return 1;
    if (PyUnicode_CheckExact(name))
        /* two different interned strings differ (command methods pass
         * their names as interned constants) */
        return !PyUnicode_CHECK_INTERNED(name) && PyUnicode_Compare(name, st->s_WATCH) == 0;
    PyObject *eq = PyObject_RichCompare(name, st->s_WATCH, Py_EQ);
    if (eq == NULL)
        return -1;
    int r = PyObject_IsTrue(eq);
    Py_DECREF(eq);
    return r;
}

static PyObject *
pipeline_execute_command(PyObject *self, PyObject *const *args, size_t nargsf,
                         PyObject *kwnames)
{
    rn_state *st = ((rn_client *)self)->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;

    int immediate = attr_true(self, st->s_watching);
    if (immediate < 0)
        return NULL;
    if (!immediate) {
        if (nargs == 0) {
            PyErr_SetString(PyExc_IndexError, "tuple index out of range");
            return NULL;
        }
        if ((immediate = is_watch(st, args[0])) < 0)
            return NULL;
    }
    if (immediate) {
        int explicit = attr_true(self, st->s_explicit_transaction);
        if (explicit < 0)
            return NULL;
        if (!explicit)
            return call_method_with(self, st->s_immediate_execute, args, nargs, kwnames);
    }
    if (!rn_stands_in(st, self, RN_KIND_PIPELINE))
        return call_method_with(self, st->s_pipeline_execute, args, nargs, kwnames);

    /* pipeline_execute_command's own work: append (args, options) */
    PyObject *tuple = NULL, *options = NULL, *entry = NULL, *stack = NULL;
    if ((tuple = PyTuple_New(nargs)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < nargs; i++)
        PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
    if ((options = PyDict_New()) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < nkw; i++)
        if (PyDict_SetItem(options, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0)
            goto error;
    if ((entry = PyTuple_Pack(2, tuple, options)) == NULL)
        goto error;
    Py_CLEAR(tuple);
    Py_CLEAR(options);
    if ((stack = PyObject_GetAttr(self, st->s_command_stack)) == NULL)
        goto error;
    if (PyList_CheckExact(stack)) {
        if (PyList_Append(stack, entry) < 0)
            goto error;
    }
    else {
        PyObject *r = PyObject_CallMethodOneArg(stack, st->s_append, entry);
        if (r == NULL)
            goto error;
        Py_DECREF(r);
    }
    Py_DECREF(stack);
    Py_DECREF(entry);
    return Py_NewRef(self);

error:
    Py_XDECREF(tuple);
    Py_XDECREF(options);
    Py_XDECREF(entry);
    Py_XDECREF(stack);
    return NULL;
}

PyMethodDef rn_pipeline_execute_command_def = {
    "execute_command", (PyCFunction)(void (*)(void))pipeline_execute_command,
    METH_FASTCALL | METH_KEYWORDS,
    "execute_command(self, *args, **kwargs)\n--\n\n"
    "Queue the command, or run it at once while WATCHing before MULTI."
};

/* ---------------- type ---------------- */

static PyObject *
client_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)args;
    (void)kwargs;
    rn_state *st = rn_state_from_type(type);
    if (st == NULL)
        return NULL;
    /* zero-filled: dealloc is safe at every step below */
    rn_client *self = (rn_client *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->module = Py_XNewRef(rn_module_from_type(type));
    self->st = st;
    self->connection_pool = Py_NewRef(Py_None);
    self->connection = Py_NewRef(Py_None);
    if ((self->response_callbacks = PyDict_New()) == NULL ||
        rlock_init(&self->single_lock) < 0) {
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
    rlock_free(&self->single_lock);
    Py_CLEAR(self->module);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* Redis.close's three lines, for client_finalize:
 *     conn = getattr(self, "connection", None)
 *     if conn: self.connection = None; self.connection_pool.release(conn)
 *     if getattr(self, "auto_close_connection_pool", False):
 *         self.connection_pool.disconnect()
 * 0, or -1 with an exception set. */
static int
close_natively(rn_client *self)
{
    rn_state *st = self->st;
    PyObject *conn = self->connection;
    if (conn != NULL) {
        int truth = PyObject_IsTrue(conn);
        if (truth < 0)
            return -1;
        if (truth) {
            conn = Py_NewRef(conn);
            Py_XSETREF(self->connection, Py_NewRef(Py_None));
            PyObject *r = NULL;
            if (self->connection_pool == NULL)
                no_attr((PyObject *)self, "connection_pool");
            else
                r = PyObject_CallMethodOneArg(self->connection_pool, st->s_release, conn);
            Py_DECREF(conn);
            if (r == NULL)
                return -1;
            Py_DECREF(r);
        }
    }
    PyObject *owned = PyObject_GetAttr((PyObject *)self, st->s_auto_close);
    if (owned == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    int truth = PyObject_IsTrue(owned);
    Py_DECREF(owned);
    if (truth <= 0)
        return truth;
    if (self->connection_pool == NULL) {
        no_attr((PyObject *)self, "connection_pool");
        return -1;
    }
    PyObject *r = PyObject_CallMethodNoArgs(self->connection_pool, st->s_disconnect);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* tp_finalize: what redis-py's Redis.__del__ does, self.close() with its
 * errors ignored -- natively while the client's close is Redis.close itself
 * (not replaced by a subclass or an instance attribute). */
static void
client_finalize(rn_client *self)
{
    rn_state *st = self->st;
    PyObject *pending = rn_err_take();
    int rc = -1;
    PyObject *close = PyObject_GetAttr((PyObject *)self, st->s_close);
    if (close != NULL) {
        if (st->stock_close != NULL && PyMethod_Check(close) &&
            PyMethod_GET_FUNCTION(close) == st->stock_close &&
            PyMethod_GET_SELF(close) == (PyObject *)self) {
            rc = close_natively(self);
        }
        else {
            PyObject *r = PyObject_CallNoArgs(close);
            rc = r != NULL ? 0 : -1;
            Py_XDECREF(r);
        }
        Py_DECREF(close);
    }
    if (rc < 0) {
        if (PyErr_ExceptionMatches(PyExc_Exception))
            PyErr_Clear();
        else
            PyErr_WriteUnraisable((PyObject *)self);
    }
    rn_err_give(pending);
}

PyObject *
rn_declare_client_close(PyObject *module, PyObject *close)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    Py_XSETREF(st->stock_close, Py_NewRef(close));
    Py_RETURN_NONE;
}

static PyObject *client_share_callbacks(rn_client *self, PyObject *table);

static PyMethodDef client_methods[] = {
    {"_share_callbacks", (PyCFunction)client_share_callbacks, METH_O,
     "_share_callbacks(table)\n--\n\nUse the shared dict `table` as response_callbacks "
     "until the attribute is first read (which makes the client's own copy)."},
    {"execute_command", (PyCFunction)(void (*)(void))client_execute_command,
     METH_FASTCALL | METH_KEYWORDS,
     "execute_command(self, *args, **options)\n--\n\nSend one command and return its reply, "
     "after the response callback registered for args[0]."},
    {"_execute_command", (PyCFunction)(void (*)(void))client__execute_command,
     METH_FASTCALL | METH_KEYWORDS,
     "_execute_command(self, *args, **options)\n--\n\nWhat execute_command runs: take a "
     "connection, send and parse (retried per the connection's Retry), give it back."},
    {NULL, NULL, 0, NULL}
};

/* connection_pool, connection, response_callbacks: any object may be set (as
 * on redis-py's plain attributes) and is checked where it is used; deleting
 * makes reading them, and commands, raise AttributeError. */
/* The client's own copy of the shared callback table (same class, same
 * entries, made without calling its __init__ or __setitem__). */
static int
own_callbacks(rn_client *self)
{
    PyObject *table = self->response_callbacks;
    PyTypeObject *tp = Py_TYPE(table);
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL)
        return -1;
    PyObject *copy = tp->tp_new(tp, empty, NULL);
    Py_DECREF(empty);
    if (copy == NULL)
        return -1;
    if (!PyDict_Check(copy) || PyDict_Update(copy, table) < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "response callback table is not a dict");
        Py_DECREF(copy);
        return -1;
    }
    /* the slot may have been replaced while PyDict_Update ran key code */
    if (self->callbacks_shared) {
        self->callbacks_shared = 0;
        Py_XSETREF(self->response_callbacks, copy);
    }
    else {
        Py_DECREF(copy);
    }
    return 0;
}

/* _share_callbacks(table): use the dict `table`, shared with other clients,
 * until Python first reads response_callbacks, which then gets the client's
 * own copy of it.  C's per-command lookups only read the table. */
static PyObject *
client_share_callbacks(rn_client *self, PyObject *table)
{
    if (!PyDict_Check(table)) {
        PyErr_SetString(PyExc_TypeError, "_share_callbacks() takes a dict");
        return NULL;
    }
    Py_XSETREF(self->response_callbacks, Py_NewRef(table));
    self->callbacks_shared = 1;
    Py_RETURN_NONE;
}

static PyObject *
client_get_field(rn_client *self, void *closure)
{
    size_t off = (size_t)closure;
    if (off == offsetof(rn_client, response_callbacks) && self->callbacks_shared &&
        self->response_callbacks != NULL && own_callbacks(self) < 0)
        return NULL;
    PyObject *v = *(PyObject **)((char *)self + off);
    if (v == NULL) {
        no_attr((PyObject *)self,
                off == offsetof(rn_client, connection_pool) ? "connection_pool"
                : off == offsetof(rn_client, connection) ? "connection" : "response_callbacks");
        return NULL;
    }
    return Py_NewRef(v);
}

static int
client_set_field(rn_client *self, PyObject *value, void *closure)
{
    size_t off = (size_t)closure;
    PyObject **slot = (PyObject **)((char *)self + off);
    if (value == NULL && *slot == NULL) {
        PyObject *dummy = client_get_field(self, closure);   /* sets AttributeError */
        Py_XDECREF(dummy);
        return -1;
    }
    Py_XSETREF(*slot, Py_XNewRef(value));
    if (off == offsetof(rn_client, response_callbacks))
        self->callbacks_shared = 0;
    return 0;
}

static PyGetSetDef client_getset[] = {
    {"connection_pool", (getter)client_get_field, (setter)client_set_field, NULL,
     (void *)offsetof(rn_client, connection_pool)},
    {"connection", (getter)client_get_field, (setter)client_set_field, NULL,
     (void *)offsetof(rn_client, connection)},
    {"response_callbacks", (getter)client_get_field, (setter)client_set_field, NULL,
     (void *)offsetof(rn_client, response_callbacks)},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(rn_client, weakreflist), READONLY, NULL},
    {"_overridden", T_INT, offsetof(rn_client, overridden), READONLY,
     "an instance attribute replaces a method: dispatch goes through Python"},
    {NULL, 0, 0, 0, NULL}
};

static int
client_setattro(rn_client *self, PyObject *name, PyObject *value)
{
    return rn_setattro_tracking((PyObject *)self, self->st, name, value, &self->overridden,
                                RN_KIND_CLIENT);
}

static PyType_Slot client_slots[] = {
    {Py_tp_setattro, client_setattro},
    {Py_tp_new, client_new},
    {Py_tp_dealloc, client_dealloc},
    {Py_tp_finalize, client_finalize},
    {Py_tp_traverse, client_traverse},
    {Py_tp_clear, client_clear},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
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

/* ---------------- pipeline results ----------------
 *
 * _pipeline_results(replies, commands, callbacks, watch_names, update_watch_state,
 *                   keep_errors=False)
 *
 * What Pipeline._execute_pipeline does per reply on its fast path, in one C
 * loop instead of a Python call of _command_result per command (the caller
 * only comes here while _command_result is redis_native's own):
 *
 *   an error reply: EMPTY_RESPONSE's value when the options hold it and the
 *     error is a ResponseError; else a ResponseError stays in the results;
 *     any other error (AuthenticationError, BusyLoadingError...) is raised;
 *   otherwise callbacks.get(name) (a _CallbackMemo: a dict subclass whose
 *     get() fills it) applied as callback(reply, **options without the read
 *     options), or the reply when there is none; a ResponseError raised by
 *     the callback is kept as the result, anything else propagates;
 *   a command whose result is not an error and whose name is in watch_names
 *     calls update_watch_state(name).
 * With keep_errors (the results inside EXEC's reply), every exception
 * instance is the command's result as it is, as _transaction_result's
 * `r if isinstance(r, Exception) else _command_result(...)`.
 *
 * replies: list; commands: list of (args tuple, options dict), as long. */

/* options without NEVER_DECODE, EMPTY_RESPONSE and "keys" (new reference;
 * `options` itself when it holds none of them). */
static PyObject *
callback_options(rn_state *st, PyObject *options)
{
    PyObject *read_opts[3] = {st->s_never_decode, st->s_empty_response, st->s_keys};
    int any = 0;
    for (int i = 0; i < 3 && !any; i++) {
        int has = PyDict_Contains(options, read_opts[i]);
        if (has < 0)
            return NULL;
        any = has;
    }
    if (!any)
        return Py_NewRef(options);
    PyObject *kw = PyDict_Copy(options);
    if (kw == NULL)
        return NULL;
    for (int i = 0; i < 3; i++) {
        if (PyDict_DelItem(kw, read_opts[i]) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
                Py_DECREF(kw);
                return NULL;
            }
            PyErr_Clear();
        }
    }
    return kw;
}

/* The result of one command (new reference), with *ok = 0 when it is an
 * error kept as the result; NULL with an exception to propagate. */
static PyObject *
pipeline_result(rn_state *st, PyObject *reply, PyObject *name, PyObject *options,
                PyObject *callbacks, int keep_errors, int *ok)
{
    *ok = 1;
    if (keep_errors && PyExceptionInstance_Check(reply)) {
        *ok = 0;
        return Py_NewRef(reply);
    }
    if (PyExceptionInstance_Check(reply)) {
        int is_response = PyObject_IsInstance(reply, st->ResponseError);
        if (is_response < 0)
            return NULL;
        if (is_response && PyDict_GET_SIZE(options) > 0) {
            PyObject *v = PyDict_GetItemWithError(options, st->s_empty_response);
            if (v != NULL)
                return Py_NewRef(v);
            if (PyErr_Occurred())
                return NULL;
        }
        if (is_response) {
            *ok = 0;
            return Py_NewRef(reply);
        }
        PyErr_SetObject((PyObject *)Py_TYPE(reply), reply);
        return NULL;
    }
    PyObject *cb = PyDict_GetItemWithError(callbacks, name);      /* borrowed */
    if (cb != NULL)
        Py_INCREF(cb);
    else if (PyErr_Occurred())
        return NULL;
    else if ((cb = PyObject_CallMethod(callbacks, "get", "O", name)) == NULL)
        return NULL;
    if (cb == Py_None) {
        Py_DECREF(cb);
        return Py_NewRef(reply);
    }
    PyObject *result = NULL;
    if (PyDict_GET_SIZE(options) == 0) {
        result = PyObject_CallOneArg(cb, reply);
    }
    else {
        PyObject *kw = callback_options(st, options);
        PyObject *t = kw != NULL ? PyTuple_Pack(1, reply) : NULL;
        if (t != NULL)
            result = PyObject_Call(cb, t, kw);
        Py_XDECREF(t);
        Py_XDECREF(kw);
    }
    Py_DECREF(cb);
    if (result == NULL && PyErr_ExceptionMatches(st->ResponseError)) {
        /* as `except ResponseError as error: append(error)` */
        PyObject *exc = rn_err_take();
        *ok = 0;
        return exc;
    }
    return result;
}

PyObject *
rn_pipeline_results(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != 5 && nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "_pipeline_results() takes 5 or 6 arguments");
        return NULL;
    }
    int keep_errors = nargs == 6 ? PyObject_IsTrue(args[5]) : 0;
    if (keep_errors < 0)
        return NULL;
    PyObject *replies = args[0], *commands = args[1], *callbacks = args[2];
    PyObject *watch_names = args[3], *update = args[4];
    if (!PyList_Check(replies) || !PyList_Check(commands) ||
        PyList_GET_SIZE(replies) != PyList_GET_SIZE(commands)) {
        PyErr_SetString(PyExc_TypeError,
                        "_pipeline_results() takes two lists of the same length");
        return NULL;
    }
    if (!PyDict_Check(callbacks) || !PyAnySet_Check(watch_names)) {
        PyErr_SetString(PyExc_TypeError,
                        "_pipeline_results() takes a dict of callbacks and a set of names");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(replies);
    PyObject *results = PyList_New(0);
    if (results == NULL)
        return NULL;
    /* Python code (callbacks) may change the lists: index them afresh each
     * time and hold what is used. */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i >= PyList_GET_SIZE(replies) || i >= PyList_GET_SIZE(commands)) {
            PyErr_SetString(PyExc_RuntimeError, "pipeline replies changed during execute()");
            goto error;
        }
        PyObject *reply = Py_NewRef(PyList_GET_ITEM(replies, i));
        PyObject *item = Py_NewRef(PyList_GET_ITEM(commands, i));
        PyObject *cargs, *options;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2 ||
            !PyTuple_Check(cargs = PyTuple_GET_ITEM(item, 0)) || PyTuple_GET_SIZE(cargs) == 0 ||
            !PyDict_Check(options = PyTuple_GET_ITEM(item, 1))) {
            PyErr_SetString(PyExc_TypeError,
                            "each pipeline command must be an (args tuple, options dict) pair");
            Py_DECREF(reply);
            Py_DECREF(item);
            goto error;
        }
        PyObject *name = PyTuple_GET_ITEM(cargs, 0);
        int ok;
        PyObject *value = pipeline_result(st, reply, name, options, callbacks, keep_errors,
                                          &ok);
        Py_DECREF(reply);
        if (value == NULL) {
            Py_DECREF(item);
            goto error;
        }
        int rc = PyList_Append(results, value);
        Py_DECREF(value);
        if (rc == 0 && ok) {
            int watched = PySet_Contains(watch_names, name);
            if (watched < 0) {
                rc = -1;
            }
            else if (watched) {
                PyObject *r = PyObject_CallOneArg(update, name);
                if (r == NULL)
                    rc = -1;
                Py_XDECREF(r);
            }
        }
        Py_DECREF(item);
        if (rc < 0)
            goto error;
    }
    return results;
error:
    Py_DECREF(results);
    return NULL;
}

/* ---------------- pipeline scans ----------------
 * Per-command loops of Pipeline.execute() that only look for the rare case
 * (an error, an EMPTY_RESPONSE option), in C so that a pipeline without one
 * costs no Python iteration per command.  The caller handles what they find
 * in Python, where it calls the overridable methods (annotate_exception). */

/* isinstance(item, cls) for an exception class cls of metaclass type: 0 at
 * once for the reply types a pipeline returns most (their __class__ cannot
 * be changed and none derives from BaseException), so the common result
 * costs no attribute lookup of __class__; PyObject_IsInstance otherwise. */
static int
is_exc_instance(PyObject *item, PyObject *cls, int cls_is_plain_exc)
{
    if (cls_is_plain_exc) {
        PyTypeObject *t = Py_TYPE(item);
        if (t == &PyBytes_Type || t == &PyUnicode_Type || t == &PyLong_Type ||
            t == &PyList_Type || item == Py_None || t == &PyBool_Type ||
            t == &PyFloat_Type || t == &PyDict_Type || t == &PyTuple_Type ||
            t == &PySet_Type)
            return 0;
    }
    return PyObject_IsInstance(item, cls);
}

static int
plain_exception_class(PyObject *cls)
{
    return PyType_Check(cls) && Py_IS_TYPE(cls, &PyType_Type) && PyExceptionClass_Check(cls);
}

/* _first_instance(items, cls) -> index of the first item that is an
 * instance of cls (isinstance), or -1.  items: a list. */
PyObject *
rn_first_instance(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "_first_instance() takes a list and a class");
        return NULL;
    }
    PyObject *items = args[0], *cls = args[1];
    int plain = plain_exception_class(cls);
    /* isinstance may run Python code (__class__, __instancecheck__) that
     * changes the list: its size is read afresh and the item held */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(items, i));
        int r = is_exc_instance(item, cls, plain);
        Py_DECREF(item);
        if (r < 0)
            return NULL;
        if (r)
            return PyLong_FromSsize_t(i);
    }
    return PyLong_FromLong(-1);
}

/* _without_option(commands, key) -> [c for c in commands if key not in c[1]]
 * (any iterable of subscriptable commands, as that comprehension). */
PyObject *
rn_without_option(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_without_option() takes 2 arguments");
        return NULL;
    }
    PyObject *it = PyObject_GetIter(args[0]), *out = NULL, *c;
    PyObject *one = PyLong_FromLong(1);     /* c[1] for a command that is no tuple */
    if (it == NULL || one == NULL) {
        Py_XDECREF(it);
        Py_XDECREF(one);
        return NULL;
    }
    if ((out = PyList_New(0)) == NULL)
        goto error;
    while ((c = PyIter_Next(it)) != NULL) {
        PyObject *options = PyTuple_CheckExact(c) && PyTuple_GET_SIZE(c) > 1
            ? Py_NewRef(PyTuple_GET_ITEM(c, 1)) : PyObject_GetItem(c, one);
        int has = -1;
        if (options != NULL) {
            has = PySequence_Contains(options, args[1]);
            Py_DECREF(options);
        }
        if (has < 0 || (!has && PyList_Append(out, c) < 0)) {
            Py_DECREF(c);
            goto error;
        }
        Py_DECREF(c);
    }
    if (PyErr_Occurred())
        goto error;
    Py_DECREF(it);
    Py_DECREF(one);
    return out;
error:
    Py_DECREF(it);
    Py_DECREF(one);
    Py_XDECREF(out);
    return NULL;
}

/* _tx_gaps(commands, queued, key, cls) -> list of (i, j) or None.
 * What _transaction_result's loop over the commands finds, without acting
 * on it: for each command i (an (args, options) pair), (i, -1) when key is
 * in its options (answered without the server), else it took the next
 * queuing reply j, and (i, j) is listed when queued[j] is an instance of
 * cls.  None when an entry is not a 2-tuple or `queued` runs short: the
 * caller then runs its Python loop, which reports those cases its own way.
 * commands and queued: lists. */
PyObject *
rn_tx_gaps(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4 || !PyList_Check(args[0]) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "_tx_gaps() takes two lists, an option name and a class");
        return NULL;
    }
    PyObject *commands = args[0], *queued = args[1], *key = args[2], *cls = args[3];
    PyObject *gaps = PyList_New(0);
    if (gaps == NULL)
        return NULL;
    Py_ssize_t j = 0;
    int plain = plain_exception_class(cls);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(commands); i++) {
        PyObject *c = Py_NewRef(PyList_GET_ITEM(commands, i));
        if (!PyTuple_Check(c) || PyTuple_GET_SIZE(c) != 2) {
            Py_DECREF(c);
            Py_DECREF(gaps);
            Py_RETURN_NONE;
        }
        int has = PySequence_Contains(PyTuple_GET_ITEM(c, 1), key);
        Py_DECREF(c);
        if (has < 0)
            goto error;
        Py_ssize_t at = -1;
        if (!has) {
            if (j >= PyList_GET_SIZE(queued)) {
                Py_DECREF(gaps);
                Py_RETURN_NONE;
            }
            PyObject *ack = Py_NewRef(PyList_GET_ITEM(queued, j));
            int r = is_exc_instance(ack, cls, plain);
            Py_DECREF(ack);
            if (r < 0)
                goto error;
            if (!r) {
                j++;
                continue;
            }
            at = j++;
        }
        PyObject *pair = Py_BuildValue("(nn)", i, at);
        if (pair == NULL || PyList_Append(gaps, pair) < 0) {
            Py_XDECREF(pair);
            goto error;
        }
        Py_DECREF(pair);
    }
    return gaps;
error:
    Py_DECREF(gaps);
    return NULL;
}
