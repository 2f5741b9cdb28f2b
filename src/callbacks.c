/* C response callbacks for hot commands; see callbacks.h. */
#include "callbacks.h"

static int
is_ok(PyObject *r)
{
    if (PyBytes_CheckExact(r))
        return PyBytes_GET_SIZE(r) == 2 && memcmp(PyBytes_AS_STRING(r), "OK", 2) == 0;
    if (PyUnicode_CheckExact(r))
        return PyUnicode_CompareWithASCIIString(r, "OK") == 0;
    return -1;   /* not a plain reply: let the caller use generic rules */
}

/* set_result(response, **options): SET's callback.  With get=True the reply
 * (old value) is returned as is; otherwise a falsy reply is returned
 * unchanged and any other reply becomes "is it OK". */
static PyObject *
cb_set_result(PyObject *module, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    (void)module;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "set_result() takes one positional argument");
        return NULL;
    }
    PyObject *r = args[0];
    if (kwnames != NULL) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
            if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "get") == 0) {
                int t = PyObject_IsTrue(args[nargs + i]);
                if (t < 0)
                    return NULL;
                if (t)
                    return Py_NewRef(r);
            }
        }
    }
    int truth = PyObject_IsTrue(r);
    if (truth < 0)
        return NULL;
    if (!truth)
        return Py_NewRef(r);
    int ok = is_ok(r);
    if (ok < 0) {
        PyObject *s = PyObject_Str(r);
        if (s == NULL)
            return NULL;
        ok = PyUnicode_CompareWithASCIIString(s, "OK") == 0;
        Py_DECREF(s);
    }
    return PyBool_FromLong(ok);
}

/* pairs_to_dict(response): [k1, v1, k2, v2...] -> {k1: v1, ...}; a falsy
 * reply gives {} (HGETALL on a missing key). */
static PyObject *
cb_pairs_to_dict(PyObject *module, PyObject *r)
{
    (void)module;
    if (r == Py_None)
        return PyDict_New();
    if (!PyList_CheckExact(r)) {
        PyErr_SetString(PyExc_TypeError, "pairs_to_dict() expects a list reply");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(r);
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
        if (PyDict_SetItem(d, PyList_GET_ITEM(r, i), PyList_GET_ITEM(r, i + 1)) < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

PyMethodDef rn_callback_methods[] = {
    {"set_result", (PyCFunction)(void (*)(void))cb_set_result, METH_FASTCALL | METH_KEYWORDS,
     "SET's response callback (C version of parse_set_result)."},
    {"pairs_to_dict", (PyCFunction)cb_pairs_to_dict, METH_O,
     "HGETALL's response callback: flat pairs to a dict ({} for an empty reply)."},
    {NULL, NULL, 0, NULL}
};
