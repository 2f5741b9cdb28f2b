/* Connecting natively.
 *
 * AbstractConnection.connect (redis_native/connection.py) is the reference:
 *
 *     connect()        -> self.retry.call_with_retry(_connect_once, disconnect)
 *     _connect_once()  -> _connect() opens the socket (TCP, unix, TLS, or a
 *                         subclass's own), on_connect() ->
 *                         on_connect_check_health() -> _handshake_commands()
 *                         sent in one round trip (_handshake), then the
 *                         connect callbacks.
 *
 * rn_conn_connect runs that chain in C -- only _connect is called in Python
 * -- while nothing replaces a step: the class's connect is
 * AbstractConnection's, the other steps are the built-in ones for this object
 * (stand-in kinds RN_KIND_CONN and RN_KIND_CONNECT: neither a subclass nor an
 * instance attribute replaces them), its retry is a plain Retry whose
 * call_with_retry nobody replaced, and neither credentials nor a
 * redis_connect_func are set (AUTH and custom handshakes stay in Python).
 * Otherwise it calls connect().  Building a client and sending its first
 * command then runs no Python frame of the chain. */
#include "module.h"
#include "connection.h"
#include "client.h"
#include "pool.h"

enum {
    N__connect, N__attach_fd, N_detach, N__error_message, N_redis_connect_func,
    N_credential_provider, N_username, N_password, N_client_name, N_driver_info,
    N_formatted_name, N_lib_version, N_db, N__connect_callbacks, N_call_with_retry,
    N_setname, N_setinfo, N_select, N_CLIENT, N_SETNAME, N_SETINFO, N_LIB_NAME, N_LIB_VER,
    N_SELECT, N_COUNT
};
static const char *const connect_names[N_COUNT] = {
    "_connect", "_attach_fd", "detach", "_error_message", "redis_connect_func",
    "credential_provider", "username", "password", "client_name", "driver_info",
    "formatted_name", "lib_version", "db", "_connect_callbacks", "call_with_retry",
    "setname", "setinfo", "select", "CLIENT", "SETNAME", "SETINFO", "LIB-NAME", "LIB-VER",
    "SELECT",
};
#define NAME(st, i) PyTuple_GET_ITEM((st)->connect_names, (i))

/* connect_refs, as _declare_connect_chain received them */
enum { R_CONNECT, R_RETRY, R_CALL_WITH_RETRY, R_COUNT };
#define REF(st, i) PyTuple_GET_ITEM((st)->connect_refs, (i))

/* _declare_connect_chain(AbstractConnection.connect, Retry,
 * Retry.call_with_retry): what "nothing replaced" is compared with.  Called
 * once by redis_native.connection at import. */
PyObject *
rn_declare_connect_chain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != R_COUNT || !PyType_Check(args[R_RETRY])) {
        PyErr_SetString(PyExc_TypeError,
                        "_declare_connect_chain(connect, Retry, call_with_retry)");
        return NULL;
    }
    if (st->connect_names == NULL) {
        PyObject *names = PyTuple_New(N_COUNT);
        if (names == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < N_COUNT; i++) {
            PyObject *s = PyUnicode_InternFromString(connect_names[i]);
            if (s == NULL) {
                Py_DECREF(names);
                return NULL;
            }
            PyTuple_SET_ITEM(names, i, s);
        }
        st->connect_names = names;
    }
    PyObject *refs = PyTuple_New(nargs);
    if (refs == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++)
        PyTuple_SET_ITEM(refs, i, Py_NewRef(args[i]));
    Py_XSETREF(st->connect_refs, refs);
    Py_RETURN_NONE;
}

/* getattr(c, name) (new reference) */
static PyObject *
attr(rn_conn *c, int i)
{
    return PyObject_GetAttr((PyObject *)c, NAME(c->st, i));
}

/* bool(getattr(c, name)): 1, 0, or -1 with an exception set */
static int
attr_true(rn_conn *c, int i)
{
    PyObject *v = attr(c, i);
    if (v == NULL)
        return -1;
    int t = PyObject_IsTrue(v);
    Py_DECREF(v);
    return t;
}

/* Does nothing replace a step of the chain for `c`?  1, 0, or -1. */
static int
chain_is_stock(rn_conn *c)
{
    rn_state *st = c->st;
    if (st->connect_refs == NULL)
        return 0;
    if (!rn_stands_in(st, (PyObject *)c, RN_KIND_CONN) ||
        !rn_stands_in(st, (PyObject *)c, RN_KIND_CONNECT) ||
        _PyType_Lookup(Py_TYPE(c), st->s_connect) != REF(st, R_CONNECT))
        return 0;
    PyObject *retry = c->retry;
    if (retry == NULL || (PyObject *)Py_TYPE(retry) != REF(st, R_RETRY) ||
        _PyType_Lookup(Py_TYPE(retry), NAME(st, N_call_with_retry)) !=
            REF(st, R_CALL_WITH_RETRY))
        return 0;
    /* an instance attribute replacing the Retry's call_with_retry */
    PyObject *state = PyObject_GenericGetDict(retry, NULL);
    if (state == NULL)
        return -1;
    int patched = PyDict_Contains(state, NAME(st, N_call_with_retry));
    Py_DECREF(state);
    if (patched != 0)
        return patched < 0 ? -1 : 0;
    /* AUTH (on_connect_check_health's credentials) and a custom handshake
     * function are Python's */
    PyObject *func = attr(c, N_redis_connect_func);
    if (func == NULL)
        return -1;
    int custom = func != Py_None;
    Py_DECREF(func);
    if (custom)
        return 0;
    static const int credentials[] = {N_credential_provider, N_username, N_password};
    for (size_t i = 0; i < sizeof credentials / sizeof credentials[0]; i++) {
        int t = attr_true(c, credentials[i]);
        if (t != 0)
            return t < 0 ? -1 : 0;
    }
    return 1;
}

/* The exception being raised gets `handled` (stolen) as its __context__, as
 * when Python raises inside `except`. */
static void
raised_while_handling(PyObject *handled)
{
    PyObject *exc = rn_err_take();
    if (exc == NULL) {
        Py_XDECREF(handled);
        return;
    }
    if (handled != NULL && handled != exc)
        PyException_SetContext(exc, handled);     /* steals */
    else
        Py_XDECREF(handled);
    rn_err_give(exc);
}

/* _connect_once's socket part:
 *     sock = self._connect(); if it has detach(): self._attach_fd(sock.detach())
 * (a return value without detach(), a mocked _connect's True, is no socket)
 * with socket.timeout as TimeoutError("Timeout connecting to server") and any
 * other OSError as ConnectionError(self._error_message(e)). */
static int
open_socket(rn_conn *c)
{
    rn_state *st = c->st;
    PyObject *sock = PyObject_CallMethodNoArgs((PyObject *)c, NAME(st, N__connect));
    PyObject *returned = Py_XNewRef(sock);     /* for the message below */
    if (sock != NULL && sock != Py_None) {
        PyObject *detach = PyObject_GetAttr(sock, NAME(st, N_detach));
        PyObject *r;
        if (detach == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            r = Py_NewRef(Py_None);         /* no socket: nothing to adopt */
        }
        else {
            PyObject *fd = detach != NULL ? PyObject_CallNoArgs(detach) : NULL;
            r = fd != NULL
                ? PyObject_CallMethodOneArg((PyObject *)c, NAME(st, N__attach_fd), fd) : NULL;
            Py_XDECREF(fd);
        }
        Py_XDECREF(detach);
        Py_DECREF(sock);
        sock = r;
    }
    if (sock != NULL) {
        Py_DECREF(sock);
        if (!rn_conn_is_live(c)) {
            /* nothing installed a socket (_connect_tcp, _attach_fd): a
             * handshake now would only try to connect again, forever */
            PyErr_Format(st->ConnectionError, "%s._connect() opened no socket (it returned %R)",
                         Py_TYPE(c)->tp_name, returned);
            Py_DECREF(returned);
            return -1;
        }
        Py_DECREF(returned);
        return 0;
    }
    Py_XDECREF(returned);
    if (PyErr_ExceptionMatches(PyExc_TimeoutError)) {
        PyObject *e = rn_err_take();
        PyErr_SetString(st->TimeoutError, "Timeout connecting to server");
        raised_while_handling(e);
    }
    else if (PyErr_ExceptionMatches(PyExc_OSError)) {
        PyObject *e = rn_err_take();
        PyObject *msg = PyObject_CallMethodOneArg((PyObject *)c, NAME(st, N__error_message), e);
        PyObject *err = msg != NULL ? PyObject_CallOneArg(st->ConnectionError, msg) : NULL;
        Py_XDECREF(msg);
        if (err != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(err), err);
            Py_DECREF(err);
        }
        raised_while_handling(e);
    }
    return -1;
}

/* Append (kind, args) to `commands`; `args` is a new reference (or NULL
 * after a failure), released here.  0 or -1. */
static int
add_command(PyObject *commands, PyObject *kind, PyObject *args)
{
    if (args == NULL)
        return -1;
    PyObject *entry = PyTuple_Pack(2, kind, args);
    Py_DECREF(args);
    if (entry == NULL)
        return -1;
    int rc = PyList_Append(commands, entry);
    Py_DECREF(entry);
    return rc;
}

/* on_connect() -> on_connect_check_health(): the commands of
 * _handshake_commands(None) -- CLIENT SETNAME, CLIENT SETINFO LIB-NAME and
 * LIB-VER, SELECT -- in one round trip, judged by rn_conn_handshake. */
static int
handshake(rn_conn *c)
{
    rn_state *st = c->st;
    int rc = -1;
    PyObject *commands = PyList_New(0), *v = NULL, *info = NULL;
    if (commands == NULL)
        return -1;
    if ((v = attr(c, N_client_name)) == NULL)
        goto done;
    int t = PyObject_IsTrue(v);
    if (t < 0 || (t && add_command(commands, NAME(st, N_setname),
                                   PyTuple_Pack(3, NAME(st, N_CLIENT), NAME(st, N_SETNAME), v)) < 0))
        goto done;
    Py_CLEAR(v);
    if ((info = attr(c, N_driver_info)) == NULL)
        goto done;
    if (info != Py_None) {
        static const int field[2] = {N_formatted_name, N_lib_version};
        static const int word[2] = {N_LIB_NAME, N_LIB_VER};
        for (int i = 0; i < 2; i++) {
            if ((v = PyObject_GetAttr(info, NAME(st, field[i]))) == NULL ||
                (t = PyObject_IsTrue(v)) < 0)
                goto done;
            if (t && add_command(commands, NAME(st, N_setinfo),
                                 PyTuple_Pack(4, NAME(st, N_CLIENT), NAME(st, N_SETINFO),
                                              NAME(st, word[i]), v)) < 0)
                goto done;
            Py_CLEAR(v);
        }
    }
    if ((v = attr(c, N_db)) == NULL || (t = PyObject_IsTrue(v)) < 0)
        goto done;
    if (t && add_command(commands, NAME(st, N_select),
                         PyTuple_Pack(2, NAME(st, N_SELECT), v)) < 0)
        goto done;
    if (PyList_GET_SIZE(commands) == 0) {
        rc = 0;
        goto done;
    }
    PyObject *r = rn_conn_handshake(c, commands);
    if (r == NULL)
        goto done;
    int sent = r == Py_True;
    Py_DECREF(r);
    if (!sent) {
        /* a step C cannot stand in for after all: the Python one */
        PyObject *py = PyObject_CallMethod((PyObject *)c, "on_connect", NULL);
        if (py == NULL)
            goto done;
        Py_DECREF(py);
    }
    rc = 0;
done:
    Py_XDECREF(v);
    Py_XDECREF(info);
    Py_DECREF(commands);
    return rc;
}

/* self._connect_callbacks = [ref for ref in self._connect_callbacks if ref()]
 * then callback(self) for every ref still alive, as _connect_once does. */
static int
run_connect_callbacks(rn_conn *c)
{
    rn_state *st = c->st;
    PyObject *refs = attr(c, N__connect_callbacks);
    if (refs == NULL)
        return -1;
    if (PyList_CheckExact(refs) && PyList_GET_SIZE(refs) == 0) {
        Py_DECREF(refs);        /* the usual case: nobody registered one */
        return 0;
    }
    PyObject *it = PyObject_GetIter(refs), *kept = NULL, *ref;
    Py_DECREF(refs);
    if (it == NULL || (kept = PyList_New(0)) == NULL)
        goto fail;
    while ((ref = PyIter_Next(it)) != NULL) {
        PyObject *target = PyObject_CallNoArgs(ref);
        int alive = target != NULL ? PyObject_IsTrue(target) : -1;
        Py_XDECREF(target);
        if (alive < 0 || (alive && PyList_Append(kept, ref) < 0)) {
            Py_DECREF(ref);
            goto fail;
        }
        Py_DECREF(ref);
    }
    if (PyErr_Occurred())
        goto fail;
    Py_CLEAR(it);
    if (PyObject_SetAttr((PyObject *)c, NAME(st, N__connect_callbacks), kept) < 0)
        goto fail;
    /* a callback may register another: the loop sees the list grow */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kept); i++) {
        ref = Py_NewRef(PyList_GET_ITEM(kept, i));
        PyObject *callback = PyObject_CallNoArgs(ref);
        Py_DECREF(ref);
        if (callback == NULL)
            goto fail;
        int alive = PyObject_IsTrue(callback);
        PyObject *r = alive > 0 ? PyObject_CallOneArg(callback, (PyObject *)c) : NULL;
        Py_DECREF(callback);
        if (alive < 0 || (alive && r == NULL))
            goto fail;
        Py_XDECREF(r);
    }
    Py_DECREF(kept);
    return 0;
fail:
    Py_XDECREF(kept);
    Py_XDECREF(it);
    return -1;
}

/* _connect_once(), natively */
static int
connect_once(rn_conn *c)
{
    if (rn_conn_is_live(c))
        return 0;
    if (c->connecting) {
        /* the socket opened by an outer connect_once was lost before its
         * handshake finished: connecting again from inside would recurse */
        PyErr_SetString(c->st->ConnectionError,
                        "Connection lost during its connect handshake");
        return -1;
    }
    if (open_socket(c) < 0)
        return -1;
    c->connecting = 1;
    int hs = handshake(c);
    c->connecting = 0;
    if (hs < 0) {
        /* except RedisError: self.disconnect(); raise */
        if (PyErr_ExceptionMatches(c->st->RedisError)) {
            PyObject *e = rn_err_take();
            rn_conn_close(c);
            rn_err_give(e);
        }
        return -1;
    }
    return run_connect_callbacks(c);
}

int
rn_conn_connect(rn_conn *c)
{
    int stock = chain_is_stock(c);
    if (stock < 0)
        return -1;
    if (!stock) {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)c, c->st->s_connect);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    /* call_with_retry(_connect_once, disconnect), as the command path's
     * retries: the backoff is reset at the first failure */
    PyObject *retry = NULL;
    int failures = 0, rc;
    for (;;) {
        if ((rc = connect_once(c)) == 0)
            break;
        if (!rn_should_retry(c->st, (PyObject *)c, 1, &retry, &failures))
            break;
    }
    Py_XDECREF(retry);
    return rc;
}
