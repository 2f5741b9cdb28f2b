/* Construction helpers: work done once per client or connection (not per
 * command) that is still on the path of "connect, first command, close".
 *
 * _copy_plain_retry(retry, retry_cls, backoff_types, atomic_types) copies a
 * plain Retry (the exact class `retry_cls`, a backoff of one of
 * `backoff_types` whose state holds only values of `atomic_types`, an int
 * budget and a tuple of exception classes) field by field: a new Retry and a
 * new backoff, the numbers and the tuple shared since they are immutable --
 * the result copy.deepcopy gives for such an object.  It returns None for
 * anything else; the caller then falls back to copy.deepcopy. */
#include "module.h"
#include "construct.h"

/* A new instance of `tp` (created as object.__new__(tp) would) whose
 * attribute dict holds the entries of `state`. */
static PyObject *
new_with_state(PyTypeObject *tp, PyObject *state)
{
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL)
        return NULL;
    PyObject *obj = PyBaseObject_Type.tp_new(tp, empty, NULL);
    Py_DECREF(empty);
    if (obj == NULL)
        return NULL;
    PyObject *dict = PyObject_GenericGetDict(obj, NULL);
    if (dict == NULL || PyDict_Update(dict, state) < 0) {
        Py_XDECREF(dict);
        Py_DECREF(obj);
        return NULL;
    }
    Py_DECREF(dict);
    return obj;
}

/* The instance dict of obj (new reference), or NULL without an exception
 * when it has none. */
static PyObject *
dict_of(PyObject *obj)
{
    if (Py_TYPE(obj)->tp_dictoffset == 0)
        return NULL;
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (d == NULL || !PyDict_CheckExact(d)) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

/* dict[key] as a new reference; NULL when missing (or with an exception) */
static PyObject *
get_strong(PyObject *dict, PyObject *key)
{
    PyObject *v = PyDict_GetItemWithError(dict, key);
    Py_XINCREF(v);
    return v;
}

PyObject *
rn_copy_plain_retry(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    rn_state *st = (rn_state *)PyModule_GetState(module);
    if (nargs != 4 || !PyType_Check(args[1]) || !PyAnySet_Check(args[2]) ||
        !PyAnySet_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "_copy_plain_retry(retry, retry_cls, backoff_types, atomic_types)");
        return NULL;
    }
    PyObject *retry = args[0];
    PyTypeObject *retry_cls = (PyTypeObject *)args[1];
    PyObject *backoff_types = args[2], *atomic_types = args[3];
    if (Py_TYPE(retry) != retry_cls)
        Py_RETURN_NONE;
    PyObject *state = dict_of(retry);
    PyObject *backoff_state = NULL, *result = NULL, *new_backoff = NULL;
    PyObject *backoff = NULL, *budget = NULL, *errors = NULL;
    if (state == NULL || PyDict_GET_SIZE(state) != 3)
        goto plain_no;
    /* strong references: a lookup may compare an odd key of the dict,
     * which runs Python code that could change it */
    if ((backoff = get_strong(state, st->s__backoff)) == NULL ||
        (budget = get_strong(state, st->s__retries)) == NULL ||
        (errors = get_strong(state, st->s__supported_errors)) == NULL) {
        if (PyErr_Occurred())
            goto done;
        goto plain_no;
    }
    if (!PyLong_CheckExact(budget) || !PyTuple_CheckExact(errors))
        goto plain_no;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(errors); i++)
        if (Py_TYPE(PyTuple_GET_ITEM(errors, i)) != &PyType_Type)
            goto plain_no;
    int known = PySet_Contains(backoff_types, (PyObject *)Py_TYPE(backoff));
    if (known < 0)
        goto done;
    if (!known || (backoff_state = dict_of(backoff)) == NULL)
        goto plain_no;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(backoff_state, &pos, &key, &value)) {
        int atomic = PySet_Contains(atomic_types, (PyObject *)Py_TYPE(value));
        if (atomic < 0)
            goto done;
        if (!atomic)
            goto plain_no;
    }
    if ((new_backoff = new_with_state(Py_TYPE(backoff), backoff_state)) == NULL)
        goto done;
    if ((result = new_with_state(retry_cls, state)) == NULL)
        goto done;
    if (PyObject_SetAttr(result, st->s__backoff, new_backoff) < 0)
        Py_CLEAR(result);
    goto done;
plain_no:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(backoff);
    Py_XDECREF(budget);
    Py_XDECREF(errors);
    Py_XDECREF(new_backoff);
    Py_XDECREF(backoff_state);
    Py_XDECREF(state);
    return result;
}
