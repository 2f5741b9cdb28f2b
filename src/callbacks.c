/* C response callbacks for hot commands; see callbacks.h. */
#include "callbacks.h"

int
rn_is_ok(PyObject *r)
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
    int ok = rn_is_ok(r);
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


/* Find keyword `name` among vectorcall keywords; borrowed value or NULL. */
static PyObject *
kw_get(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *name)
{
    if (kwnames == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), name) == 0)
            return args[nargs + i];
    return NULL;
}

static int
one_positional(Py_ssize_t nargs, const char *fname)
{
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes one positional argument", fname);
        return -1;
    }
    return 0;
}

/* to_set(response): set(response), or an empty set for a falsy reply. */
static PyObject *
cb_to_set(PyObject *module, PyObject *r)
{
    (void)module;
    int truth = PyObject_IsTrue(r);
    if (truth < 0)
        return NULL;
    return PySet_New(truth ? r : NULL);
}

/* float_or_none(response): None stays None, anything else float(). */
static PyObject *
cb_float_or_none(PyObject *module, PyObject *r)
{
    (void)module;
    if (r == Py_None)
        Py_RETURN_NONE;
    return PyNumber_Float(r);
}

/* parse_ping(response): True when the reply is PONG (bytes or str). */
static PyObject *
cb_parse_ping(PyObject *module, PyObject *r)
{
    (void)module;
    if (PyBytes_Check(r))
        return PyBool_FromLong(PyBytes_GET_SIZE(r) == 4 &&
                               memcmp(PyBytes_AS_STRING(r), "PONG", 4) == 0);
    if (PyUnicode_Check(r))
        return PyBool_FromLong(PyUnicode_CompareWithASCIIString(r, "PONG") == 0);
    Py_RETURN_FALSE;
}

/* parse_zadd(response, **options): None stays None; with as_score the new
 * score as float, else the integer count. */
static PyObject *
cb_parse_zadd(PyObject *module, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    (void)module;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (one_positional(nargs, "parse_zadd") < 0)
        return NULL;
    PyObject *r = args[0];
    if (r == Py_None)
        Py_RETURN_NONE;
    PyObject *as_score = kw_get(args, nargs, kwnames, "as_score");
    if (as_score != NULL) {
        int t = PyObject_IsTrue(as_score);
        if (t < 0)
            return NULL;
        if (t)
            return PyNumber_Float(r);
    }
    if (PyLong_CheckExact(r))
        return Py_NewRef(r);
    return PyNumber_Long(r);
}

/* zset_score_pairs(response, **options): with withscores, [m1, s1, ...]
 * becomes [(m1, cast(s1)), ...] with cast = score_cast_func (float by
 * default); otherwise the reply is returned unchanged. */
static PyObject *
cb_zset_score_pairs(PyObject *module, PyObject *const *args, Py_ssize_t nargsf,
                    PyObject *kwnames)
{
    (void)module;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (one_positional(nargs, "zset_score_pairs") < 0)
        return NULL;
    PyObject *r = args[0];
    PyObject *withscores = kw_get(args, nargs, kwnames, "withscores");
    int truth = PyObject_IsTrue(r);
    if (truth < 0)
        return NULL;
    int ws = withscores == NULL ? 0 : PyObject_IsTrue(withscores);
    if (ws < 0)
        return NULL;
    if (!truth || !ws)
        return Py_NewRef(r);
    PyObject *cast = kw_get(args, nargs, kwnames, "score_cast_func");
    int use_float = cast == NULL || cast == (PyObject *)&PyFloat_Type;
    PyObject *seq = PySequence_Fast(r, "zset_score_pairs() expects a list reply");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq) / 2;
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *member = PySequence_Fast_GET_ITEM(seq, 2 * i);
        PyObject *raw = PySequence_Fast_GET_ITEM(seq, 2 * i + 1);
        PyObject *score = use_float ? PyNumber_Float(raw) : PyObject_CallOneArg(cast, raw);
        if (score == NULL)
            goto error;
        PyObject *pair = PyTuple_Pack(2, member, score);
        Py_DECREF(score);
        if (pair == NULL)
            goto error;
        PyList_SET_ITEM(out, i, pair);
    }
    Py_DECREF(seq);
    return out;
error:
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

PyMethodDef rn_callback_methods[] = {
    {"set_result", (PyCFunction)(void (*)(void))cb_set_result, METH_FASTCALL | METH_KEYWORDS,
     "SET's response callback (C version of parse_set_result)."},
    {"pairs_to_dict", (PyCFunction)cb_pairs_to_dict, METH_O,
     "HGETALL's response callback: flat pairs to a dict ({} for an empty reply)."},
    {"to_set", (PyCFunction)cb_to_set, METH_O,
     "SMEMBERS-style callback: set(response), empty set for a falsy reply."},
    {"float_or_none", (PyCFunction)cb_float_or_none, METH_O,
     "ZSCORE-style callback: float(response), None stays None."},
    {"parse_ping", (PyCFunction)cb_parse_ping, METH_O,
     "PING's callback: True when the reply is PONG."},
    {"parse_zadd", (PyCFunction)(void (*)(void))cb_parse_zadd, METH_FASTCALL | METH_KEYWORDS,
     "ZADD's callback: float score with as_score, else int."},
    {"zset_score_pairs", (PyCFunction)(void (*)(void))cb_zset_score_pairs,
     METH_FASTCALL | METH_KEYWORDS,
     "Sorted-set range callback: (member, score) pairs when withscores."},
    {NULL, NULL, 0, NULL}
};
