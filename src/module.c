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

#include <pthread.h>

static struct PyModuleDef rn_moduledef;

rn_state *
rn_state_from_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &rn_moduledef);  /* borrowed */
    if (m == NULL)
        return NULL;
    return (rn_state *)PyModule_GetState(m);
}

/* `name` is found on the type as a non-data descriptor: a function, a C
 * method, a classmethod or staticmethod (not a property or a plain value). */
static int
shadows_method(PyTypeObject *tp, PyObject *name)
{
    if (!PyUnicode_Check(name))
        return 0;
    PyObject *attr = _PyType_Lookup(tp, name);     /* borrowed */
    return attr != NULL && Py_TYPE(attr)->tp_descr_get != NULL
        && Py_TYPE(attr)->tp_descr_set == NULL;
}

int
rn_setattro_tracking(PyObject *self, PyObject *name, PyObject *value, int *overridden)
{
    if (PyObject_GenericSetAttr(self, name, value) < 0)
        return -1;
    if (!shadows_method(Py_TYPE(self), name))
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
        any = shadows_method(Py_TYPE(self), key);
    Py_DECREF(dict);
    *overridden = any;
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

static void
rn_after_fork_child(void)
{
    rn_fork_generation_value++;
}

unsigned long
rn_fork_generation(void)
{
    return rn_fork_generation_value;
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

/* _register_fast_types(connection_types, pool_types): the exact Python
 * classes that redis_native ships on top of the C types.  Instances of exactly
 * these classes take the C fast path; any other class (a user subclass that may
 * override methods) is driven through its Python methods. */
static PyObject *
mod_register_fast_types(PyObject *module, PyObject *args)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    PyObject *conns, *pools;
    if (!PyArg_ParseTuple(args, "O!O!:_register_fast_types", &PyTuple_Type, &conns,
                          &PyTuple_Type, &pools))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(conns); i++) {
        PyObject *t = PyTuple_GET_ITEM(conns, i);
        if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, st->ConnectionType)) {
            PyErr_SetString(PyExc_TypeError, "connection types must subclass _native.Connection");
            return NULL;
        }
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(pools); i++) {
        PyObject *t = PyTuple_GET_ITEM(pools, i);
        if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, st->PoolType)) {
            PyErr_SetString(PyExc_TypeError, "pool types must subclass _native.ConnectionPool");
            return NULL;
        }
    }
    Py_INCREF(conns);
    Py_XSETREF(st->fast_conn_types, conns);
    Py_INCREF(pools);
    Py_XSETREF(st->fast_pool_types, pools);
    Py_RETURN_NONE;
}

/* _register_parse_response(func): the default Redis.parse_response. */
static PyObject *
mod_register_parse_response(PyObject *module, PyObject *func)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    Py_INCREF(func);
    Py_XSETREF(st->default_parse_response, func);
    Py_RETURN_NONE;
}

static PyMethodDef rn_module_methods[] = {
    {"pack_command", (PyCFunction)(void (*)(void))mod_pack_command,
     METH_VARARGS | METH_KEYWORDS,
     "pack_command(*args, encoding='utf-8', errors='strict') -> bytes\n\n"
     "RESP encoding of one command, with redis-py's argument encoding rules."},
    {"_register_fast_types", mod_register_fast_types, METH_VARARGS,
     "Declare the exact connection and pool classes allowed on the C fast path."},
    {"_register_parse_response", mod_register_parse_response, METH_O,
     "Declare Redis.parse_response; other resolutions of it are called."},
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
    INTERN(s_send_command, "send_command");
    INTERN(s_read_response, "read_response");
    INTERN(s_compute, "compute");
    INTERN(s_reset, "reset");
    INTERN(s_retries, "_retries");
    INTERN(s_supported_errors, "_supported_errors");
    INTERN(s_backoff, "_backoff");
    INTERN(s_retry, "retry");
    INTERN(s_never_decode, "NEVER_DECODE");
    INTERN(s_empty_response, "EMPTY_RESPONSE");
    INTERN(s_keys, "keys");
    INTERN(s_disable_decoding, "disable_decoding");
    INTERN(s_check_health_kw, "check_health");
    INTERN(s_utf8, "utf-8");
    INTERN(s_strict, "strict");
    INTERN(s_upper, "upper");
    INTERN(s_parse_response, "parse_response");

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
    if ((st->parse_error_reply = PyObject_GetAttrString(exc_mod, "parse_error_reply")) == NULL)
        goto error;
    Py_CLEAR(exc_mod);

    if ((time_mod = PyImport_ImportModule("time")) == NULL)
        goto error;
    if ((st->s_sleep = PyObject_GetAttrString(time_mod, "sleep")) == NULL)
        goto error;
    Py_CLEAR(time_mod);

    if ((st->fast_conn_types = PyTuple_New(0)) == NULL)
        goto error;
    if ((st->fast_pool_types = PyTuple_New(0)) == NULL)
        goto error;

    if (add_type(module, &rn_reader_type_spec, NULL, &st->ReaderType) < 0)
        goto error;
    if (add_type(module, &rn_connection_type_spec, NULL, &st->ConnectionType) < 0)
        goto error;
    if (add_type(module, &rn_pool_type_spec, NULL, &st->PoolType) < 0)
        goto error;
    if (add_type(module, &rn_client_type_spec, NULL, &st->ClientType) < 0)
        goto error;
    if (PyModule_AddFunctions(module, rn_callback_methods) < 0)
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
    Py_VISIT(st->RedisError);
    Py_VISIT(st->ConnectionError);
    Py_VISIT(st->TimeoutError);
    Py_VISIT(st->ResponseError);
    Py_VISIT(st->DataError);
    Py_VISIT(st->InvalidResponse);
    Py_VISIT(st->AuthenticationError);
    Py_VISIT(st->MaxConnectionsError);
    Py_VISIT(st->ChildDeadlockedError);
    Py_VISIT(st->parse_error_reply);
    Py_VISIT(st->fast_conn_types);
    Py_VISIT(st->fast_pool_types);
    Py_VISIT(st->default_parse_response);
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
    Py_CLEAR(st->RedisError);
    Py_CLEAR(st->ConnectionError);
    Py_CLEAR(st->TimeoutError);
    Py_CLEAR(st->ResponseError);
    Py_CLEAR(st->DataError);
    Py_CLEAR(st->InvalidResponse);
    Py_CLEAR(st->AuthenticationError);
    Py_CLEAR(st->MaxConnectionsError);
    Py_CLEAR(st->ChildDeadlockedError);
    Py_CLEAR(st->parse_error_reply);
    Py_CLEAR(st->fast_conn_types);
    Py_CLEAR(st->fast_pool_types);
    Py_CLEAR(st->default_parse_response);
    Py_CLEAR(st->s_sleep);
    Py_CLEAR(st->s_connect);
    Py_CLEAR(st->s_disconnect);
    Py_CLEAR(st->s_check_health);
    Py_CLEAR(st->s_get_connection);
    Py_CLEAR(st->s_release);
    Py_CLEAR(st->s_make_connection);
    Py_CLEAR(st->s_send_command);
    Py_CLEAR(st->s_read_response);
    Py_CLEAR(st->s_compute);
    Py_CLEAR(st->s_reset);
    Py_CLEAR(st->s_retries);
    Py_CLEAR(st->s_supported_errors);
    Py_CLEAR(st->s_backoff);
    Py_CLEAR(st->s_retry);
    Py_CLEAR(st->s_never_decode);
    Py_CLEAR(st->s_empty_response);
    Py_CLEAR(st->s_keys);
    Py_CLEAR(st->s_disable_decoding);
    Py_CLEAR(st->s_check_health_kw);
    Py_CLEAR(st->s_utf8);
    Py_CLEAR(st->s_strict);
    Py_CLEAR(st->s_upper);
    Py_CLEAR(st->s_parse_response);
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
