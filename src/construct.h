/* Construction helpers (construct.c): per-client and per-connection work on
 * the connect path, not per command. */
#ifndef RN_CONSTRUCT_H
#define RN_CONSTRUCT_H

#include <Python.h>

PyObject *rn_copy_plain_retry(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* _declare_connect_chain(AbstractConnection.connect, Retry,
 * Retry.call_with_retry) (connect.c). */
PyObject *rn_declare_connect_chain(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
